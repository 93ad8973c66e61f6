/* The seccomp area's shared model: a resolved profile in the OCI form, the
 * name tables (actions, architectures, operators, flags, errno, syscalls)
 * and the builder both readers and the default use. Not for other areas. */
#ifndef WARD_SECCOMP_INTERNAL_H
#define WARD_SECCOMP_INTERNAL_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "seccomp/seccomp.h"

/* Bumped whenever the compiled output of the same profile could change
 * (compiler logic, cache file layout): it is part of the cache key. */
#define WARD_SECCOMP_FORMAT 2

enum ward_scmp_action {
  WARD_SCMP_KILL_THREAD, WARD_SCMP_KILL_PROCESS, WARD_SCMP_TRAP, WARD_SCMP_ERRNO,
  WARD_SCMP_TRACE, WARD_SCMP_LOG, WARD_SCMP_ALLOW, WARD_SCMP_NOTIFY,
};

struct ward_seccomp_arg {
  unsigned index;          /* 0..5 */
  uint64_t value, value_two;
  enum scmp_compare op;
};

struct ward_seccomp_rule {
  char **names;            /* NULL-terminated */
  enum ward_scmp_action action;
  bool has_errno_ret;
  uint32_t errno_ret;      /* errno for ERRNO, message for TRACE */
  struct ward_seccomp_arg *args;
  size_t n_args;
};

struct ward_seccomp {
  enum ward_scmp_action default_action;
  bool has_default_errno;
  uint32_t default_errno;
  uint32_t *arches;        /* libseccomp tokens; 0 marks one this libseccomp lacks */
  char **arch_names;       /* as written, SCMP_ARCH_* (kept for the OCI form) */
  size_t n_arches;
  unsigned flags;          /* SECCOMP_FILTER_FLAG_* */
  char *listener_path, *listener_metadata;
  struct ward_seccomp_rule *rules;
  size_t n_rules;
};

/* ---- names.c ------------------------------------------------------------ */
int ward_scmp_action_from_name(const char *name, enum ward_scmp_action *out);
const char *ward_scmp_action_name(enum ward_scmp_action a);
/* SCMP_ARCH_* name -> token (0 if libseccomp here lacks it); -1 unknown. */
int ward_scmp_arch_from_name(const char *name, uint32_t *token);
const char *ward_scmp_arch_name(uint32_t token);
/* A Docker/Go architecture name ("amd64", "x86", "arm64") known at all? */
bool ward_scmp_arch_short_known(const char *name);
/* SCMP_ARCH_* or Docker/Go name -> token; -1 unknown. */
int ward_scmp_arch_any_name(const char *name, uint32_t *token);
/* Does the Docker/Go architecture name denote `token`? */
bool ward_scmp_arch_short_matches(const char *name, uint32_t token);
int ward_scmp_op_from_name(const char *name, enum scmp_compare *out);
const char *ward_scmp_op_name(enum scmp_compare op);
int ward_scmp_flag_from_name(const char *name, unsigned *flag);
const char *ward_scmp_flag_name(unsigned flag);
/* "EPERM" -> 1; -1 when unknown. */
int ward_scmp_errno_from_name(const char *name);

/* A syscall name as libseccomp knows it, or from ward's table of syscalls
 * newer than this libseccomp. Returns false when neither knows the name. */
bool ward_scmp_syscall_known(const char *name);
/* The number to hand libseccomp (may be a negative pseudo-number it
 * translates per arch); false when it cannot be expressed for `arches`. */
bool ward_scmp_syscall_resolve(const char *name, const uint32_t *arches, size_t n_arches, int *nr);

/* ---- profile.c: building and freeing ----------------------------------- */
struct ward_seccomp *ward_scmp_new(enum ward_scmp_action def, bool has_errno, uint32_t errno_ret);
int ward_scmp_add_arch(struct ward_seccomp *s, const char *name, ward_error_t *err);
/* Appends a rule; names and args are copied. */
int ward_scmp_add_rule(struct ward_seccomp *s, char *const *names, enum ward_scmp_action action,
                       bool has_errno, uint32_t errno_ret,
                       const struct ward_seccomp_arg *args, size_t n_args, ward_error_t *err);

/* How a rule object is read: the OCI form is strict about Docker-only
 * fields, the Docker form resolves them. */
enum ward_scmp_dialect { WARD_SCMP_OCI, WARD_SCMP_DOCKER };
/* Reads the fields common to both forms of one syscalls[] entry (names,
 * action, errnoRet/errno, args) and appends the rule. */
int ward_scmp_parse_rule(struct ward_seccomp *s, json_t *rule, const char *path,
                         enum ward_scmp_dialect dialect, ward_error_t *err);
/* Reads defaultErrnoRet/defaultErrno, flags and the listener fields. */
int ward_scmp_parse_common(struct ward_seccomp *s, json_t *doc, const char *path,
                           enum ward_scmp_dialect dialect, ward_error_t *err);

/* Limits from the kernel ABI. */
#define WARD_SCMP_MAX_ERRNO 4095u
#define WARD_SCMP_MAX_TRACE 65535u
#define WARD_SCMP_MAX_ARGS 6u

/* "base.fmt", or just "fmt" at the top level (base ""); NULL on ENOMEM. */
char *ward_scmp_path(const char *base, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define DOT(p) (*(p) ? "." : "")

/* The target with zeros replaced by this machine's values. */
void ward_scmp_target_fill(const struct ward_seccomp_target *in, struct ward_seccomp_target *out);

static inline void ward_seccomp_freep(struct ward_seccomp **s) { if (*s) ward_seccomp_free(*s); }
#define _cleanup_seccomp_ __attribute__((cleanup(ward_seccomp_freep)))

#endif
