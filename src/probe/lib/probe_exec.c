/* exec group: execve family, posix_spawn, system, fork, vfork, clone.
 *
 * exec-like calls do not return on success, so they are recorded before the
 * call (ret 0: attempted) and again if they fail (ret -errno). Their strings
 * are read with probe_safe_str (a bad pointer must give EFAULT from the
 * kernel, not a fault in the probe) and their ids come from the kernel (a
 * vfork child shares its parent's caches): these are the probe's only
 * system calls on a recording path, and exec dwarfs them. */
#include "probe/lib/probe.h"

#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>


#define ARGV_MAX 64        /* execl* argument count we convert on the stack */
#define ARGV_SUMMARY 1024  /* bytes of "argv[0] argv[1] ..." recorded */

/* argv joined by spaces, read safely, bounded */
static void argv_summary(char *dst, size_t cap, char *const argv[])
{
  size_t n = 0;
  dst[0] = 0;
  for (int i = 0; argv && i < ARGV_MAX && n + 2 < cap; i++) {
    char *a;
    if (probe_safe_read(&a, &argv[i], sizeof(a)) != sizeof(a) || a == NULL)
      break;
    if (i)
      dst[n++] = ' ';
    n += probe_safe_str(dst + n, cap - n, a);
  }
  dst[n] = 0;
}


static void exec_record(unsigned call, int dirfd, const char *path, int fd, char *const argv[], int flags,
                        uint32_t want, int64_t ret, char *pbuf, char *abuf, int denied)
{
  if (ret == 0 || denied) {
    /* first record: read the strings once, keep them for a failure record */
    pbuf[0] = 0;
    if (path && !(fd >= 0 && path[0] == 0))
      probe_safe_str(pbuf, PATH_MAX, path);
    else if (fd >= 0)
      probe_fd_target(fd, pbuf, PATH_MAX);  /* names memfd and deleted-file executables */
    argv_summary(abuf, ARGV_SUMMARY, argv);
  }
  if (dirfd == PROBE_SEARCH)
    dirfd = strchr(pbuf, '/') ? AT_FDCWD : PROBE_VERBATIM;
  struct probe_ev e = {.in = {.type = WARD_EV_EXEC, .call = (uint16_t) call, .a_flags = (uint32_t) flags,
                              .arg = dirfd >= 0 ? dirfd : -1},
                       .exec_like = 1, .dirfd1 = dirfd, .dirfd2 = PROBE_VERBATIM, .fp = __builtin_frame_address(0)};
  if (fd >= 0 && (path == NULL || path[0] == 0))
    e.dirfd1 = PROBE_VERBATIM;
  else if (dirfd >= 0 && ret != 0 && !denied) {
    e.dirfd1 = PROBE_VERBATIM;  /* joined by the first record */
  } else if (dirfd >= 0 && pbuf[0] != '/') {
    /* relative to a directory fd: name the directory (exec is slow anyway) */
    char dir[PATH_MAX];
    probe_fd_target(dirfd, dir, sizeof(dir));
    size_t a = strlen(dir), b = strlen(pbuf);
    if (dir[0] == '/' && a + 1 + b < PATH_MAX) {
      memmove(pbuf + a + 1, pbuf, b + 1);
      memcpy(pbuf, dir, a);
      pbuf[a] = '/';
    }
    e.dirfd1 = PROBE_VERBATIM;
  }
  e.p1 = pbuf;
  e.p2 = abuf;
  if (denied)
    probe_deny(&e, WARD_GROUP_EXEC, want, (int) -ret);
  else
    probe_emit_now(&e, WARD_GROUP_EXEC, want, ret);
}

/* In a mode, probe_enf_exec decides first; a denied exec gives one record
 * (denied, ret -errno) and no call. */
#define EXEC_WRAP(call, dirfd, path, fd, argv, flags, invoke) do { \
    uint32_t want = probe_want_enf(WARD_GROUP_EXEC); \
    if (LIKELY(!want)) return invoke; \
    char pbuf[PATH_MAX], abuf[ARGV_SUMMARY]; \
    if (UNLIKELY(want & PROBE_ENF)) { \
      int v_ = probe_enf_exec(dirfd, path, fd); \
      if (v_) { \
        exec_record(call, dirfd, path, fd, argv, flags, want, -(int64_t) v_, pbuf, abuf, 1); \
        return -1; \
      } \
      want &= ~PROBE_ENF; \
      if (!want) return invoke; \
    } \
    exec_record(call, dirfd, path, fd, argv, flags, want, 0, pbuf, abuf, 0); \
    int r = invoke; \
    exec_record(call, dirfd, path, fd, argv, flags, want, -(int64_t) errno, pbuf, abuf, 0); \
    return r; } while (0)

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
  GET_REAL(fn, execve, -1);
  EXEC_WRAP(WARD_CALL_execve, AT_FDCWD, path, -1, argv, 0, fn(path, argv, envp));
}

EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
  GET_REAL(fn, execveat, -1);
  EXEC_WRAP(WARD_CALL_execveat, dirfd, path, (flags & AT_EMPTY_PATH) ? dirfd : -1, argv, flags,
            fn(dirfd, path, argv, envp, flags));
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
  GET_REAL(fn, fexecve, -1);
  EXEC_WRAP(WARD_CALL_fexecve, AT_FDCWD, NULL, fd, argv, 0, fn(fd, argv, envp));
}

EXPORT int execv(const char *path, char *const argv[])
{
  GET_REAL(fn, execv, -1);
  EXEC_WRAP(WARD_CALL_execv, AT_FDCWD, path, -1, argv, 0, fn(path, argv));
}

/* execvp searches $PATH: a name without '/' is recorded as given */
EXPORT int execvp(const char *file, char *const argv[])
{
  GET_REAL(fn, execvp, -1);
  EXEC_WRAP(WARD_CALL_execvp, PROBE_SEARCH, file, -1, argv, 0,
            fn(file, argv));
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
  GET_REAL(fn, execvpe, -1);
  EXEC_WRAP(WARD_CALL_execvpe, PROBE_SEARCH, file, -1, argv, 0,
            fn(file, argv, envp));
}

/* execl*: gather the variadic list into an argv on the stack, then go
 * through the real execv/execvp/execve (glibc's execl calls its internal
 * __execve, so it has to be wrapped itself). */
#define GATHER(argv, arg0, ap) \
  char *argv[ARGV_MAX + 1]; \
  int argc_ = 0; \
  char *a0_ = (char *) (arg0); /* nonnull in the prototype, not in practice */ \
  __asm__("" : "+r"(a0_)); \
  argv[argc_++] = a0_; \
  if (a0_) { \
    char *a_; \
    while ((a_ = va_arg(ap, char *)) != NULL) { \
      if (argc_ == ARGV_MAX) { va_end(ap); errno = E2BIG; return -1; } \
      argv[argc_++] = a_; \
    } \
  } \
  argv[argc_] = NULL

EXPORT int execl(const char *path, const char *arg, ...)
{
  va_list ap;
  va_start(ap, arg);
  GATHER(argv, arg, ap);
  va_end(ap);
  GET_REAL(fn, execv, -1);
  EXEC_WRAP(WARD_CALL_execl, AT_FDCWD, path, -1, argv, 0, fn(path, argv));
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
  va_list ap;
  va_start(ap, arg);
  GATHER(argv, arg, ap);
  va_end(ap);
  GET_REAL(fn, execvp, -1);
  EXEC_WRAP(WARD_CALL_execlp, PROBE_SEARCH, file, -1, argv, 0,
            fn(file, argv));
}

EXPORT int execle(const char *path, const char *arg, ...)
{
  va_list ap;
  va_start(ap, arg);
  GATHER(argv, arg, ap);
  char *const *envp = va_arg(ap, char *const *);
  va_end(ap);
  GET_REAL(fn, execve, -1);
  EXEC_WRAP(WARD_CALL_execle, AT_FDCWD, path, -1, argv, 0, fn(path, argv, envp));
}

static int spawn_common(unsigned call, int (*fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                                                 const posix_spawnattr_t *, char *const[], char *const[]),
                        pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[], int search)
{
  uint32_t want = probe_want_enf(WARD_GROUP_EXEC);
  if (LIKELY(!want))
    return fn(pid, path, fa, attr, argv, envp);
  if (UNLIKELY(want & PROBE_ENF)) {
    int v = probe_enf_exec(search ? PROBE_SEARCH : AT_FDCWD, path, -1);
    if (v) {
      char abuf[ARGV_SUMMARY];
      argv_summary(abuf, sizeof(abuf), argv);
      struct probe_ev e = {.in = {.type = WARD_EV_SPAWN, .call = (uint16_t) call}, .p1 = path,
                           .dirfd1 = search && !strchr(path ? path : "", '/') ? PROBE_VERBATIM : AT_FDCWD,
                           .p2 = abuf, .dirfd2 = PROBE_VERBATIM, .fp = __builtin_frame_address(0)};
      int saved = errno;
      probe_deny(&e, WARD_GROUP_EXEC, want, v);
      errno = saved;
      return v;  /* posix_spawn reports the error number itself */
    }
    want &= ~PROBE_ENF;
    if (!want)
      return fn(pid, path, fa, attr, argv, envp);
  }
  pid_t child = 0;
  uint64_t t0 = probe_now();
  int r = fn(&child, path, fa, attr, argv, envp);
  if (pid && r == 0)
    *pid = child;
  char abuf[ARGV_SUMMARY];
  argv_summary(abuf, sizeof(abuf), argv);
  struct probe_ev e = {.in = {.type = WARD_EV_SPAWN, .call = (uint16_t) call},
                       .p1 = r == EFAULT ? NULL : path,
                       .dirfd1 = search && r != EFAULT && !strchr(path ? path : "", '/') ? PROBE_VERBATIM : AT_FDCWD,
                       .p2 = abuf, .dirfd2 = PROBE_VERBATIM, .fp = __builtin_frame_address(0)};
  /* posix_spawn returns an error number, not -1/errno */
  probe_finish(&e, WARD_GROUP_EXEC, want, t0, r == 0 ? (int64_t) child : -(int64_t) r);
  return r;
}

EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
  GET_REAL(fn, posix_spawn, ENOSYS);
  return spawn_common(WARD_CALL_posix_spawn, fn, pid, path, fa, attr, argv, envp, 0);
}

EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
  GET_REAL(fn, posix_spawnp, ENOSYS);
  return spawn_common(WARD_CALL_posix_spawnp, fn, pid, file, fa, attr, argv, envp, 1);
}

/* Recorded before the command runs (its own events come from the shell it
 * starts, which is probed too); ret is 0: the status is the caller's. */
EXPORT int system(const char *command)
{
  GET_REAL(fn, system, -1);
  uint32_t want = probe_want_enf(WARD_GROUP_EXEC);
  if (LIKELY(!want) || command == NULL)
    return fn(command);
  struct probe_ev e = {.in = {.type = WARD_EV_SYSTEM, .call = WARD_CALL_system},
                       .p1 = command, .dirfd1 = PROBE_VERBATIM, .fp = __builtin_frame_address(0)};
  if (UNLIKELY(want & PROBE_ENF)) {
    /* system() runs /bin/sh: that is the exec to judge */
    int v = probe_enf_exec(AT_FDCWD, "/bin/sh", -1);
    if (v) {
      probe_deny(&e, WARD_GROUP_EXEC, want, v);
      return -1;
    }
    want &= ~PROBE_ENF;
    if (!want)
      return fn(command);
  }
  probe_emit_now(&e, WARD_GROUP_EXEC, want, 0);
  return fn(command);
}

EXPORT pid_t fork(void)
{
  GET_REAL(fn, fork, -1);
  uint32_t want = probe_want(WARD_GROUP_EXEC);
  if (LIKELY(!want))
    return fn();
  uint64_t t0 = probe_now();
  pid_t r = fn();
  if (r == 0)
    return 0;  /* the child's caches were reset by the atfork handler */
  struct probe_ev e = {.in = {.type = WARD_EV_FORK, .call = WARD_CALL_fork}, .fp = __builtin_frame_address(0)};
  probe_finish(&e, WARD_GROUP_EXEC, want, t0, r);
  return r;
}

/* clone: a child without CLONE_VM has its own copy of memory, so it starts
 * in a trampoline that resets the id caches, with fn/arg read from a copy of
 * the wrapper's frame. CLONE_VM children share the caches (threads refresh
 * by tid; a CLONE_VM process without CLONE_THREAD reports its parent's pid,
 * see docs/probes.md). */
struct clone_tramp { int (*fn)(void *); void *arg; };

static int clone_trampoline(void *p)
{
  struct clone_tramp t = *(struct clone_tramp *) p;
  probe_after_fork_child();
  return t.fn(t.arg);
}

EXPORT int clone(int (*cfn)(void *), void *stack, int flags, void *arg, ...)
{
  va_list ap;
  va_start(ap, arg);
  pid_t *ptid = va_arg(ap, pid_t *);
  void *tls = va_arg(ap, void *);
  pid_t *ctid = va_arg(ap, pid_t *);
  va_end(ap);
  GET_REAL(fn, clone, -1);
  struct clone_tramp t = {cfn, arg};
  int own_mem = !(flags & CLONE_VM);
  if (!own_mem && !(flags & CLONE_THREAD))
    (void) probe_pid();  /* as for vfork: the child must not fill our cache */
  uint32_t want = probe_want(WARD_GROUP_EXEC);
  if (LIKELY(!want))
    return own_mem ? fn(clone_trampoline, stack, flags, &t, ptid, tls, ctid)
                   : fn(cfn, stack, flags, arg, ptid, tls, ctid);
  uint64_t t0 = probe_now();
  int r = own_mem ? fn(clone_trampoline, stack, flags, &t, ptid, tls, ctid)
                  : fn(cfn, stack, flags, arg, ptid, tls, ctid);
  struct probe_ev e = {.in = {.type = WARD_EV_CLONE, .call = WARD_CALL_clone, .a_flags = (uint32_t) flags},
                       .fp = __builtin_frame_address(0)};
  probe_finish(&e, WARD_GROUP_EXEC, want, t0, r);
  return r;
}

/* vfork: the child borrows the parent's stack, so a C wrapper that returns
 * twice would corrupt it. probe_vfork.S records from a helper, then jumps to
 * the real vfork with the caller's own frame (ret 0: the child's pid is not
 * known at that point). Architectures without the stub use fork semantics. */
static pid_t vfork_failed(void)
{
  errno = ENOSYS;
  return -1;
}

HIDDEN void *probe_vfork_pre(void)
{
  int saved = errno;
  /* fill the pid cache now, in the parent: a vfork child that filled it
   * would leave its own pid there for the parent (shared memory) */
  (void) probe_pid();
  uint32_t want = probe_want(WARD_GROUP_EXEC);
  if (UNLIKELY(want)) {
    struct probe_ev e = {.in = {.type = WARD_EV_FORK, .call = WARD_CALL_vfork,
                                .a_flags = CLONE_VM | CLONE_VFORK}};
    probe_emit_now(&e, WARD_GROUP_EXEC, want, 0);
  }
  errno = saved;
  void *p = probe_real(WARD_CALL_vfork);
  if (p == NULL)
    p = probe_real(WARD_CALL_fork);
  return p ? p : (void *) vfork_failed;
}

#if !defined(__x86_64__) && !defined(__aarch64__)
EXPORT pid_t vfork(void)
{
  pid_t (*fn)(void) = probe_vfork_pre();
  (void) fn;
  pid_t (*fk)(void) = (pid_t (*)(void)) probe_real(WARD_CALL_fork);
  return fk ? fk() : vfork_failed();
}
#endif
