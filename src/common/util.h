/* Small helpers shared by every layer: files, fds, strings, signals. */
#ifndef WARD_UTIL_H
#define WARD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* Reads a whole file, refusing more than max_bytes (0: 64 MiB). The buffer
 * is NUL-terminated. */
int ward_read_file(const char *path, size_t max_bytes, char **buf, size_t *len, ward_error_t *err);
int ward_read_file_at(int dirfd, const char *path, size_t max_bytes, char **buf, size_t *len, ward_error_t *err);
/* Writes data to an existing file (cgroup knobs, /proc files): one write. */
int ward_write_file_at(int dirfd, const char *path, const char *data, size_t len, ward_error_t *err);
int ward_write_string_at(int dirfd, const char *path, const char *s, ward_error_t *err);
/* Atomically replaces path with data (write to a temp file, fsync, rename). */
int ward_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode, ward_error_t *err);
int ward_mkdir_p(const char *path, mode_t mode, ward_error_t *err);
/* rm -rf without crossing mount points or following symlinks. */
int ward_remove_tree(const char *path, ward_error_t *err);

/* FNV-1a of len bytes from h (WARD_FNV1A_BASIS, or it mixed with a
 * discriminator): the agent's small in-memory tables. Their keys come from
 * the workload, so every table compares the full key: a collision costs a
 * look-up, never a wrong answer. */
#define WARD_FNV1A_BASIS 1469598103934665603ull
static inline uint64_t ward_fnv1a(const void *data, size_t len, uint64_t h)
{
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

/* Writes head (at most one page) at the start of a freshly truncated file,
 * then zeros up to WARD_PREFILL_PAGES pages in all (never past file_len),
 * in one pwritev, for files that are then shared through mappings (the
 * probe ring, the flight recorder). On a disk file system the first store
 * into a hole of a shared mapping costs a few hundred microseconds, paid
 * on a container's start-up path; pages already in the page cache fault in
 * cheaply. Not more pages: each one written is faulted around into every
 * process that maps the file, and an agent maps hundreds. On tmpfs only
 * the head is written. -1 with errno (EIO for a short write). */
#define WARD_PREFILL_PAGES 8
int ward_prefill_file(int fd, const void *head, size_t head_len, size_t file_len);

/* Maps the first page of a shared file mapping now, in one system call
 * instead of a page fault (on a virtual machine a fault can cost ten times
 * a system call): for reading, with the prefilled pages after it (the
 * kernel's fault-around); for writing, that page alone. Best effort:
 * kernels before 5.14 fault as before. */
void ward_populate_head(const void *map, size_t len, bool write);

/* openat2 of path under root_fd as if root_fd were "/" (RESOLVE_IN_ROOT,
 * plus the extra RESOLVE_* bits in resolve), with O_CLOEXEC: how ward opens
 * anything inside a container's tree, whose symlinks the workload owns.
 * -1 with errno. */
int ward_open_in_root(int root_fd, const char *path, int flags, uint64_t resolve);

/* From the text of /proc/PID/status: the number `depth` entries into the
 * line that starts with key ("\nTgid:"; "\nNSpid:" holds one per pid
 * namespace, outermost first), 0 meaning the last (innermost) one. -1 when
 * the line or a number is missing. */
int ward_status_ns_id(const char *status, const char *key, int depth, uint32_t *out);

/* Zeroed memory whose untouched pages cost no RSS (anonymous mmap): the
 * per-container tables a node agent holds hundreds of and that most
 * containers leave nearly empty. calloc would clear (touch) them when it
 * reuses heap memory. NULL on failure; free with the same size. */
void *ward_zalloc_lazy(size_t size);
void ward_free_lazy(void *p, size_t size);
/* From now on this process only tears down and exits: ward_free_lazy, and
 * the closes of a ring, a flight recorder and the engine's control pages,
 * leave their mappings to the exit. Each munmap frees page tables, which
 * takes a TLB shootdown on every CPU the process ran on, lazy ones
 * included: 60-100 us of every `ward run` on a 2-vCPU VM, where exit tears
 * the whole address space down at once. ward_mappings_left says whether it
 * was called. */
void ward_leave_mappings(void);
bool ward_mappings_left(void);

size_t ward_strv_len(char *const *v);
void ward_strv_free(char **v);
char **ward_strv_dup(char *const *v);
/* Appends a copy of s; returns -1 on allocation failure. */
int ward_strv_append(char ***v, const char *s);
bool ward_strv_contains(char *const *v, const char *s);

bool ward_has_prefix(const char *s, const char *prefix);
bool ward_has_suffix(const char *s, const char *suffix);

/* "SIGKILL", "KILL", "kill" or "9"; returns -1 when unknown. */
int ward_parse_signal(const char *s);
/* In a forked child before execve: every signal unblocked, SIGPIPE and
 * SIGTTOU back to their defaults (ward ignores them while it serves an
 * engine, and execve keeps an ignored disposition and the mask). */
void ward_child_reset_signals(void);
const char *ward_signal_name(int sig);

/* Marks every fd >= from close-on-exec (the
 * CVE-2024-21626 class: nothing of the runtime may reach the workload). */
int ward_cloexec_from(int from, ward_error_t *err);

/* Size suffixes k, m, g (powers of 1024). */
int ward_parse_size(const char *s, uint64_t *out);

/* Valid container id: [A-Za-z0-9][A-Za-z0-9_.+-]{0,127}; never a path. */
bool ward_valid_id(const char *id);

/* lowercase hex SHA-256 of a buffer or an open fd (read from offset 0). */
void ward_sha256_hex(const void *data, size_t len, char out[65]);
/* A SHA-256 digest (hashed elsewhere, step by step) as 64 hex digits. */
void ward_sha256_digest_hex(const uint8_t digest[32], char out[65]);
int ward_sha256_fd(int fd, uint64_t max_bytes, char out[65], ward_error_t *err);

uint64_t ward_now_ns(void);        /* CLOCK_MONOTONIC */
uint64_t ward_realtime_ns(void);   /* CLOCK_REALTIME */

/* The current UTC time as RFC 3339 with `digits` (0 or 9) fractional
 * digits, e.g. 2026-12-02T14:35:01Z. Formatted by hand: strftime loads
 * /etc/localtime (tzset) on every call, which a runtime command pays for in
 * start-up time. Returns buf. */
#define WARD_RFC3339_MAX 40
char *ward_rfc3339_now(char buf[WARD_RFC3339_MAX], int digits);
/* The same, allocated (NULL when out of memory). The caller frees. */
char *ward_rfc3339_dup(int digits);

#endif
