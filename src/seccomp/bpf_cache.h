/* Compiled BPF programs kept on disk, so a start-up does not pay
 * libseccomp's compilation again: the seccomp profile's cache and the
 * supervisor's notify filter share this one file format. */
#ifndef WARD_SECCOMP_BPF_CACHE_H
#define WARD_SECCOMP_BPF_CACHE_H

#include "common/error.h"

#include <linux/filter.h>
#include <stddef.h>

/* File: an 8-byte magic naming the producer and its format, the 64 hex
 * digits of the caller's key (a digest of every input of the program), the
 * 64 hex digits of the SHA-256 of the body, then the body: the
 * sock_filter instructions. */
#define WARD_BPF_CACHE_HEADER (8 + 64 + 64)

/* 1 and *insns (malloc'd; *n instructions) when path holds a sound program
 * for magic and key; 0 when it is absent, with *why NULL, or unusable, with
 * *why saying why (not ours or writable by others, a bad size, a header or
 * digest mismatch): a cache entry is never trusted beyond those checks. */
int ward_bpf_cache_read(const char *path, const char magic[8], const char *key, struct sock_filter **insns, size_t *n,
                        const char **why);

/* Writes the program atomically (mode 0600, dir created 0700). A failure
 * only costs the next start-up its compilation: callers log it at most. */
int ward_bpf_cache_write(const char *dir, const char *path, const char magic[8], const char *key,
                         const struct sock_filter *insns, size_t n, ward_error_t *err);

#endif
