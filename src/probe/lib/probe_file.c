/* file group: open/openat/creat/fopen families, unlink, rename, chmod,
 * chown, mkdir, symlink, link, truncate.
 *
 * glibc's own callers use internal aliases (fopen reaches __open, not open),
 * so every public entry is wrapped itself and one call gives one record. The
 * _FORTIFY_SOURCE variants (__open_2 ...) are what fortified programs call
 * when the flags are not a compile-time constant. */
#include "probe/lib/probe.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define NEEDS_MODE(f) (((f) & O_CREAT) || ((f) & O_TMPFILE) == O_TMPFILE)

static inline __attribute__((always_inline)) int open_common(unsigned call, int dirfd, const char *path, int flags, mode_t mode, int r,
                              uint32_t want, uint64_t t0, const char *red)
{
  struct probe_ev e = {.in = {.type = WARD_EV_OPEN, .call = (uint16_t) call, .a_flags = (uint32_t) flags,
                              .a_mode = NEEDS_MODE(flags) ? (uint32_t) mode : 0},
                       .p1 = path, .dirfd1 = dirfd, .fp = __builtin_frame_address(0)};
  if (red && red[0]) {
    e.in.flags = WARD_REC_F_REDIRECT;
    e.p2 = red;
    e.dirfd2 = PROBE_VERBATIM;
  }
  probe_finish(&e, WARD_GROUP_FILE, want, t0, r);
  return r;
}

static __attribute__((noinline)) int open_denied(unsigned call, int dirfd, const char *path, int flags, mode_t mode,
                                                 uint32_t want, int err)
{
  struct probe_ev e = {.in = {.type = WARD_EV_OPEN, .call = (uint16_t) call, .a_flags = (uint32_t) flags,
                              .a_mode = NEEDS_MODE(flags) ? (uint32_t) mode : 0},
                       .p1 = path, .dirfd1 = dirfd, .fp = __builtin_frame_address(0)};
  probe_deny(&e, WARD_GROUP_FILE, want, err);
  return -1;
}

/* In a mode (PROBE_ENF): ask probe_enforce.c first. A denial records and
 * returns without the call; a honeypot decoy replaces `path` (the wrapper's
 * own parameter, which the call expression names) and is recorded beside
 * the original. */
#define ENF_OPEN(call, dirfd, path, flags, mode, red, plain_call) \
  if (UNLIKELY(want & PROBE_ENF)) { \
    int v_ = probe_enf_path(probe_open_op((uint32_t) (flags)), dirfd, path, red, sizeof(red)); \
    if (v_ > 0) \
      return open_denied(call, dirfd, path, flags, mode, want, v_); \
    want &= ~PROBE_ENF; \
    if (v_ == PROBE_REDIRECT) { \
      want |= 1u << WARD_GROUP_FILE; \
      path = red; \
    } else if (!want) { \
      return plain_call; \
    } \
  }

#define OPEN_BODY(call, fn, dirfd, path, flags, mode, ...) do { \
    uint32_t want = probe_want_enf(WARD_GROUP_FILE); \
    if (LIKELY(!want)) return fn(__VA_ARGS__); \
    const char *orig_ = path; \
    char red_[PROBE_REDIR_MAX]; \
    red_[0] = 0; \
    ENF_OPEN(call, dirfd, path, flags, mode, red_, fn(__VA_ARGS__)) \
    uint64_t t0 = probe_now(); \
    int r = fn(__VA_ARGS__); \
    return open_common(call, dirfd, orig_, flags, mode, r, want, t0, red_); } while (0)

#define GET_MODE(flags, last) \
  mode_t mode = 0; \
  if (NEEDS_MODE(flags)) { va_list ap; va_start(ap, last); mode = (mode_t) va_arg(ap, int); va_end(ap); }

EXPORT int open(const char *path, int flags, ...)
{
  GET_MODE(flags, flags);
  GET_REAL(fn, open, -1);
  OPEN_BODY(WARD_CALL_open, fn, AT_FDCWD, path, flags, mode, path, flags, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
  GET_MODE(flags, flags);
  GET_REAL(fn, openat, -1);
  OPEN_BODY(WARD_CALL_openat, fn, dirfd, path, flags, mode, dirfd, path, flags, mode);
}

EXPORT int creat(const char *path, mode_t mode)
{
  GET_REAL(fn, creat, -1);
  OPEN_BODY(WARD_CALL_creat, fn, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode, path, mode);
}

#ifdef __GLIBC__
/* musl defines the *64 names as macros for the plain ones */
EXPORT int open64(const char *path, int flags, ...)
{
  GET_MODE(flags, flags);
  GET_REAL(fn, open64, -1);
  OPEN_BODY(WARD_CALL_open64, fn, AT_FDCWD, path, flags, mode, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
  GET_MODE(flags, flags);
  GET_REAL(fn, openat64, -1);
  OPEN_BODY(WARD_CALL_openat64, fn, dirfd, path, flags, mode, dirfd, path, flags, mode);
}

EXPORT int creat64(const char *path, mode_t mode)
{
  GET_REAL(fn, creat64, -1);
  OPEN_BODY(WARD_CALL_creat64, fn, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode, path, mode);
}

int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

EXPORT int __open_2(const char *path, int flags)
{
  GET_REAL(fn, __open_2, -1);
  OPEN_BODY(WARD_CALL___open_2, fn, AT_FDCWD, path, flags, 0, path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
  GET_REAL(fn, __open64_2, -1);
  OPEN_BODY(WARD_CALL___open64_2, fn, AT_FDCWD, path, flags, 0, path, flags);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
  GET_REAL(fn, __openat_2, -1);
  OPEN_BODY(WARD_CALL___openat_2, fn, dirfd, path, flags, 0, dirfd, path, flags);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
  GET_REAL(fn, __openat64_2, -1);
  OPEN_BODY(WARD_CALL___openat64_2, fn, dirfd, path, flags, 0, dirfd, path, flags);
}
#endif

/* fopen's mode string as the open(2) flags it stands for */
static uint32_t fmode_flags(const char *m)
{
  uint32_t f = 0;
  if (m == NULL)
    return 0;
  switch (m[0]) {
  case 'r': f = O_RDONLY; break;
  case 'w': f = O_WRONLY | O_CREAT | O_TRUNC; break;
  case 'a': f = O_WRONLY | O_CREAT | O_APPEND; break;
  default: return 0;
  }
  for (int i = 1; i < 8 && m[i] && m[i] != ','; i++) {
    if (m[i] == '+')
      f = (f & ~(uint32_t) O_ACCMODE) | O_RDWR;
    else if (m[i] == 'e')
      f |= O_CLOEXEC;
    else if (m[i] == 'x')
      f |= O_EXCL;
  }
  return f;
}

static inline __attribute__((always_inline)) FILE *fopen_finish(unsigned call, const char *path, const char *mode, FILE *f, uint32_t want, uint64_t t0,
                                                                const char *red)
{
  int64_t ret = f ? (int64_t) fileno(f) : -1;
  struct probe_ev e = {.in = {.type = WARD_EV_OPEN, .call = (uint16_t) call, .a_flags = f || errno != EFAULT ? fmode_flags(mode) : 0,
                              .a_mode = 0666},
                       .p1 = path, .dirfd1 = AT_FDCWD, .fp = __builtin_frame_address(0)};
  if (red && red[0]) {
    e.in.flags = WARD_REC_F_REDIRECT;
    e.p2 = red;
    e.dirfd2 = PROBE_VERBATIM;
  }
  probe_finish(&e, WARD_GROUP_FILE, want, t0, ret);
  return f;
}

static __attribute__((noinline)) FILE *fopen_denied(unsigned call, const char *path, const char *mode, uint32_t want, int err)
{
  struct probe_ev e = {.in = {.type = WARD_EV_OPEN, .call = (uint16_t) call, .a_flags = fmode_flags(mode), .a_mode = 0666},
                       .p1 = path, .dirfd1 = AT_FDCWD, .fp = __builtin_frame_address(0)};
  probe_deny(&e, WARD_GROUP_FILE, want, err);
  return NULL;
}

#define FOPEN_BODY(call, fn, path, mode, ...) do { \
    uint32_t want = probe_want_enf(WARD_GROUP_FILE); \
    if (LIKELY(!want)) return fn(__VA_ARGS__); \
    const char *orig_ = path; \
    char red_[PROBE_REDIR_MAX]; \
    red_[0] = 0; \
    if (UNLIKELY(want & PROBE_ENF)) { \
      int v_ = path ? probe_enf_path(probe_open_op(fmode_flags(mode)), AT_FDCWD, path, red_, sizeof(red_)) : 0; \
      if (v_ > 0) \
        return fopen_denied(call, path, mode, want, v_); \
      want &= ~PROBE_ENF; \
      if (v_ == PROBE_REDIRECT) { \
        want |= 1u << WARD_GROUP_FILE; \
        path = red_; \
      } else if (!want) { \
        return fn(__VA_ARGS__); \
      } \
    } \
    uint64_t t0 = probe_now(); \
    FILE *f = fn(__VA_ARGS__); \
    return fopen_finish(call, orig_, mode, f, want, t0, red_); } while (0)

EXPORT FILE *fopen(const char *path, const char *mode)
{
  GET_REAL(fn, fopen, NULL);
  FOPEN_BODY(WARD_CALL_fopen, fn, path, mode, path, mode);
}

EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
  GET_REAL(fn, freopen, NULL);
  FOPEN_BODY(WARD_CALL_freopen, fn, path, mode, path, mode, stream);
}

#ifdef __GLIBC__
EXPORT FILE *fopen64(const char *path, const char *mode)
{
  GET_REAL(fn, fopen64, NULL);
  FOPEN_BODY(WARD_CALL_fopen64, fn, path, mode, path, mode);
}

EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
  GET_REAL(fn, freopen64, NULL);
  FOPEN_BODY(WARD_CALL_freopen64, fn, path, mode, path, mode, stream);
}
#endif

/* The path-taking calls below share one shape: p1/p2 with their dirfds and
 * three numbers. */
#define PATH_CALL(type_, cl, p1_, d1, p2_, d2, fl, md, ar, invoke) do { \
    uint32_t want = probe_want_enf(WARD_GROUP_FILE); \
    if (LIKELY(!want)) return invoke; \
    struct probe_ev e = {.in = {.type = type_, .call = cl, .a_flags = (uint32_t) (fl), \
                                .a_mode = (uint32_t) (md), .arg = (int64_t) (ar)}, \
                         .p1 = p1_, .dirfd1 = d1, .p2 = p2_, .dirfd2 = d2, .fp = __builtin_frame_address(0)}; \
    if (UNLIKELY(want & PROBE_ENF)) { \
      /* every call here changes the file system: both paths must pass */ \
      int v_ = probe_enf_path(PROBE_OP_WRITE, d1, p1_, NULL, 0); \
      if (v_ <= 0) \
        v_ = probe_enf_path(PROBE_OP_WRITE, d2, p2_, NULL, 0); \
      if (v_ > 0) { \
        probe_deny(&e, WARD_GROUP_FILE, want, v_); \
        return -1; \
      } \
      want &= ~PROBE_ENF; \
      if (!want) \
        return invoke; \
    } \
    uint64_t t0 = probe_now(); \
    int r = invoke; \
    probe_finish(&e, WARD_GROUP_FILE, want, t0, r); \
    return r; } while (0)

EXPORT int unlink(const char *path)
{
  GET_REAL(fn, unlink, -1);
  PATH_CALL(WARD_EV_UNLINK, WARD_CALL_unlink, path, AT_FDCWD, NULL, 0, 0, 0, 0, fn(path));
}

EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
  GET_REAL(fn, unlinkat, -1);
  PATH_CALL(WARD_EV_UNLINK, WARD_CALL_unlinkat, path, dirfd, NULL, 0, flags, 0, 0, fn(dirfd, path, flags));
}

EXPORT int rename(const char *oldp, const char *newp)
{
  GET_REAL(fn, rename, -1);
  PATH_CALL(WARD_EV_RENAME, WARD_CALL_rename, oldp, AT_FDCWD, newp, AT_FDCWD, 0, 0, 0, fn(oldp, newp));
}

EXPORT int renameat(int od, const char *oldp, int nd, const char *newp)
{
  GET_REAL(fn, renameat, -1);
  PATH_CALL(WARD_EV_RENAME, WARD_CALL_renameat, oldp, od, newp, nd, 0, 0, 0, fn(od, oldp, nd, newp));
}

#ifdef __GLIBC__
EXPORT int renameat2(int od, const char *oldp, int nd, const char *newp, unsigned flags)
{
  GET_REAL(fn, renameat2, -1);
  PATH_CALL(WARD_EV_RENAME, WARD_CALL_renameat2, oldp, od, newp, nd, flags, 0, 0, fn(od, oldp, nd, newp, flags));
}
#endif

EXPORT int chmod(const char *path, mode_t mode)
{
  GET_REAL(fn, chmod, -1);
  PATH_CALL(WARD_EV_CHMOD, WARD_CALL_chmod, path, AT_FDCWD, NULL, 0, 0, mode, 0, fn(path, mode));
}

EXPORT int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
  GET_REAL(fn, fchmodat, -1);
  PATH_CALL(WARD_EV_CHMOD, WARD_CALL_fchmodat, path, dirfd, NULL, 0, flags, mode, 0, fn(dirfd, path, mode, flags));
}

/* chown: arg = uid, mode = gid */
EXPORT int chown(const char *path, uid_t uid, gid_t gid)
{
  GET_REAL(fn, chown, -1);
  PATH_CALL(WARD_EV_CHOWN, WARD_CALL_chown, path, AT_FDCWD, NULL, 0, 0, gid, uid, fn(path, uid, gid));
}

EXPORT int lchown(const char *path, uid_t uid, gid_t gid)
{
  GET_REAL(fn, lchown, -1);
  PATH_CALL(WARD_EV_CHOWN, WARD_CALL_lchown, path, AT_FDCWD, NULL, 0, AT_SYMLINK_NOFOLLOW, gid, uid,
            fn(path, uid, gid));
}

EXPORT int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
  GET_REAL(fn, fchownat, -1);
  PATH_CALL(WARD_EV_CHOWN, WARD_CALL_fchownat, path, dirfd, NULL, 0, flags, gid, uid,
            fn(dirfd, path, uid, gid, flags));
}

EXPORT int mkdir(const char *path, mode_t mode)
{
  GET_REAL(fn, mkdir, -1);
  PATH_CALL(WARD_EV_MKDIR, WARD_CALL_mkdir, path, AT_FDCWD, NULL, 0, 0, mode, 0, fn(path, mode));
}

EXPORT int mkdirat(int dirfd, const char *path, mode_t mode)
{
  GET_REAL(fn, mkdirat, -1);
  PATH_CALL(WARD_EV_MKDIR, WARD_CALL_mkdirat, path, dirfd, NULL, 0, 0, mode, 0, fn(dirfd, path, mode));
}

/* symlink: path = the target text (verbatim), path2 = the link created */
EXPORT int symlink(const char *target, const char *linkpath)
{
  GET_REAL(fn, symlink, -1);
  PATH_CALL(WARD_EV_SYMLINK, WARD_CALL_symlink, target, PROBE_VERBATIM, linkpath, AT_FDCWD, 0, 0, 0,
            fn(target, linkpath));
}

EXPORT int symlinkat(const char *target, int dirfd, const char *linkpath)
{
  GET_REAL(fn, symlinkat, -1);
  PATH_CALL(WARD_EV_SYMLINK, WARD_CALL_symlinkat, target, PROBE_VERBATIM, linkpath, dirfd, 0, 0, 0,
            fn(target, dirfd, linkpath));
}

EXPORT int link(const char *oldp, const char *newp)
{
  GET_REAL(fn, link, -1);
  PATH_CALL(WARD_EV_LINK, WARD_CALL_link, oldp, AT_FDCWD, newp, AT_FDCWD, 0, 0, 0, fn(oldp, newp));
}

EXPORT int linkat(int od, const char *oldp, int nd, const char *newp, int flags)
{
  GET_REAL(fn, linkat, -1);
  PATH_CALL(WARD_EV_LINK, WARD_CALL_linkat, oldp, od, newp, nd, flags, 0, 0, fn(od, oldp, nd, newp, flags));
}

/* truncate: arg = the new length */
EXPORT int truncate(const char *path, off_t len)
{
  GET_REAL(fn, truncate, -1);
  PATH_CALL(WARD_EV_TRUNCATE, WARD_CALL_truncate, path, AT_FDCWD, NULL, 0, 0, 0, len, fn(path, len));
}

#ifdef __GLIBC__
EXPORT int truncate64(const char *path, off64_t len)
{
  GET_REAL(fn, truncate64, -1);
  PATH_CALL(WARD_EV_TRUNCATE, WARD_CALL_truncate64, path, AT_FDCWD, NULL, 0, 0, 0, len, fn(path, len));
}
#endif
