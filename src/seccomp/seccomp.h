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
#include <stddef.h>
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
 * run in the container's init after clone. *listener gets the notify fd or -1.
 * Returns 0 or -errno; err is only touched on failure, and that formatting
 * allocates, so a child of a multi-threaded parent passes err = NULL and
 * reports the -errno itself (ward_seccomp_load_strerror). */
int ward_seccomp_load(const struct ward_seccomp_prog *p, int *listener, ward_error_t *err);
/* A static explanation of a ward_seccomp_load() failure; never allocates. */
const char *ward_seccomp_load_strerror(int rc);

/* ---- Resolution of Docker profiles and the default ---------------------- */

/* What a conditional profile is resolved for. Zero fields mean "this
 * machine": arch 0 is the native libseccomp arch token, kernel 0.0 the
 * running kernel. caps: bit N = capability N (Docker resolves against the
 * bounding set). */
struct ward_seccomp_target {
  uint64_t caps;
  uint32_t arch;
  unsigned kernel_major, kernel_minor;
};

/* "SCMP_ARCH_AARCH64" or Docker's "arm64" -> libseccomp token. */
int ward_seccomp_arch_from_name(const char *name, uint32_t *token, ward_error_t *err);
/* "major.minor" -> the target's kernel fields. */
int ward_seccomp_parse_kernel(const char *version, struct ward_seccomp_target *t, ward_error_t *err);

/* Docker's 14 default capabilities, as a bit set. */
uint64_t ward_seccomp_docker_default_caps(void);
/* "CAP_SYS_ADMIN,CAP_NET_RAW", "default", "all" or "none" (or ""). Names are
 * case-insensitive and the CAP_ prefix is optional. */
int ward_seccomp_parse_caps(const char *list, uint64_t *out, ward_error_t *err);

/* Reads a Docker/moby or containers-common profile (a superset of the OCI
 * form) and resolves includes/excludes for `t` (NULL: this machine, Docker's
 * default caps). */
int ward_seccomp_parse_docker(json_t *doc, const char *path, const struct ward_seccomp_target *t,
                              struct ward_seccomp **out, ward_error_t *err);
int ward_seccomp_read_file(const char *path, const struct ward_seccomp_target *t,
                           struct ward_seccomp **out, ward_error_t *err);
/* The default for an explicit target (tests, `ward seccomp convert --default`). */
int ward_seccomp_default_for(const struct ward_seccomp_target *t, struct ward_seccomp **out, ward_error_t *err);

/* ---- Inspection ---------------------------------------------------------- */

/* The OCI linux.seccomp form of a resolved profile (what `convert` prints). */
int ward_seccomp_to_oci(const struct ward_seccomp *s, json_t **out, ward_error_t *err);
size_t ward_seccomp_rule_count(const struct ward_seccomp *s);
bool ward_seccomp_has_notify(const struct ward_seccomp *s);
/* The cache key of a profile on this machine (64 hex digits + NUL). */
int ward_seccomp_cache_key(const struct ward_seccomp *s, char key[65], ward_error_t *err);

/* The compiled program: its instructions, whether the cache supplied it,
 * and its cache key. */
const void *ward_seccomp_prog_insns(const struct ward_seccomp_prog *p, size_t *count);
bool ward_seccomp_prog_from_cache(const struct ward_seccomp_prog *p);
const char *ward_seccomp_prog_key(const struct ward_seccomp_prog *p);

#endif
