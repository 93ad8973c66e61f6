/* Seccomp: the OCI linux.seccomp section, Docker/moby JSON profiles, ward's
 * built-in Docker-equivalent default, compilation with libseccomp and a
 * content-addressed cache of compiled BPF.
 *
 * Lifecycle in the runtime: parse (config load, reports field errors) ->
 * compile in the parent before clone (cached by content hash) -> load in the
 * container's init right before exec. */
#ifndef WARD_SECCOMP_H
#define WARD_SECCOMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

struct ward_seccomp;       /* a parsed profile (OCI form) */
struct ward_seccomp_prog;  /* a compiled BPF program, ready to load */

/* Parses an OCI linux.seccomp object; `path` names it in errors. Unknown
 * syscall names, actions, architectures and operators are errors. */
int ward_seccomp_parse_oci(json_t *section, const char *path, struct ward_seccomp **out, ward_error_t *err);
/* ward's built-in Docker-equivalent default, resolved for the effective
 * capability set `caps` (bit N = capability N). */
int ward_seccomp_default(uint64_t caps, struct ward_seccomp **out, ward_error_t *err);
void ward_seccomp_free(struct ward_seccomp *s);

/* Compiles for the native architecture (plus the profile's architectures),
 * reusing cache_dir/<sha256>.bpf when present; cache_dir NULL: no cache. */
int ward_seccomp_compile(const struct ward_seccomp *s, const char *cache_dir,
                         struct ward_seccomp_prog **out, ward_error_t *err);
void ward_seccomp_prog_free(struct ward_seccomp_prog *p);
/* True when the profile has SCMP_ACT_NOTIFY rules: loading returns a listener. */
bool ward_seccomp_prog_wants_listener(const struct ward_seccomp_prog *p);
/* Installs the filter in the calling thread (and with TSYNC on all threads
 * when the profile's flags ask). Async-signal-safe: no allocation, so it may
 * run in the container's init after clone. *listener gets the notify fd or -1. */
int ward_seccomp_load(const struct ward_seccomp_prog *p, int *listener, ward_error_t *err);

#endif
