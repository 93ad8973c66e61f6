/* Internals of libward-probe.so, the in-container interposer. Built for
 * glibc and for musl, without sanitizers, against nothing but libc (and
 * libdl). Everything is hidden except the interposed entry points.
 *
 * Shape of every wrapper: load the real function, load the group mask from
 * the control page (a static zero page when none could be mapped) and, when
 * neither the call's group nor perf is on, tail-call the real function: one
 * well-predicted branch. Otherwise time the call, build a record on the
 * stack and write it into the ring: no allocation, no lock, no system call
 * (exec, vfork, stack capture and the one record that wakes a sleeping
 * engine aside, see docs/probes.md). */
#ifndef WARD_PROBE_LIB_H
#define WARD_PROBE_LIB_H

/* The wrappers define both open and open64 etc.; with 64-bit file offsets
 * forced (meson's default) the headers would rename open to open64. */
#undef _FILE_OFFSET_BITS

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "probe/calls.h"
#include "probe/control_format.h"
#include "probe/event.h"
#include "probe/ring_write.h"

#define HIDDEN __attribute__((visibility("hidden")))
#define EXPORT __attribute__((visibility("default")))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* dirfd meaning "this string is not a path to resolve" (symlink targets,
 * library names, memfd names). */
#define PROBE_VERBATIM (-0x7fff)
/* dirfd for execvp-style names: resolved only when they contain a slash */
#define PROBE_SEARCH (-0x7ffe)

extern HIDDEN const struct ward_control *volatile probe_ctl;
extern HIDDEN void *probe_real_tbl[WARD_CALL_COUNT];
HIDDEN void *probe_resolve(unsigned call);

static inline void *probe_real(unsigned call)
{
  void *p = __atomic_load_n(&probe_real_tbl[call], __ATOMIC_RELAXED);
  if (UNLIKELY(p == NULL))
    p = probe_resolve(call);
  return p;
}

/* fn = the next definition of name; fails the call with ENOSYS if there is
 * none (only possible for a symbol this libc lacks). */
#define GET_REAL(fn, name, fail) \
  __typeof__(&name) fn = (__typeof__(&name)) probe_real(WARD_CALL_##name); \
  if (UNLIKELY(fn == NULL)) { errno = ENOSYS; return fail; }

/* The groups relevant to a call: its own and perf. Zero on the fast path. */
static inline uint32_t probe_want(unsigned group)
{
  return __atomic_load_n(&probe_ctl->groups, __ATOMIC_RELAXED)
         & ((1u << group) | (1u << WARD_GROUP_PERF));
}

/* The same for calls that can be denied or redirected: the host sets
 * WARD_CTL_GROUP_ENFORCE in the same word whenever a mode is on, so the
 * fast path stays one load and one branch. */
#define PROBE_ENF WARD_CTL_GROUP_ENFORCE
static inline uint32_t probe_want_enf(unsigned group)
{
  return __atomic_load_n(&probe_ctl->groups, __ATOMIC_RELAXED)
         & ((1u << group) | (1u << WARD_GROUP_PERF) | PROBE_ENF);
}

static inline uint64_t probe_vdso_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);   /* vDSO: no system call */
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* CLOCK_MONOTONIC in ns, from the TSC where it is invariant (probe_clock.c
 * explains the anchoring, its error bound and the fallbacks). */
#if defined(__x86_64__)
#define PROBE_CLK_TSC 1
#define PROBE_CLK_WINDOW_NS 1000000u
struct probe_clock {
  uint32_t seq;                 /* seqlock: odd while a writer updates */
  uint64_t tsc, ns;             /* the anchor */
  uint64_t mult;                /* ns per tick, 32.32 fixed point */
  uint64_t window;              /* ticks an anchor stays valid; 0: use the vDSO */
} __attribute__((aligned(64)));
extern HIDDEN struct probe_clock probe_clk;
HIDDEN uint64_t probe_clock_slow(void);

static inline uint64_t probe_now(void)
{
  uint32_t s = __atomic_load_n(&probe_clk.seq, __ATOMIC_ACQUIRE);
  uint64_t t = __builtin_ia32_rdtsc();
  uint64_t d = t - __atomic_load_n(&probe_clk.tsc, __ATOMIC_RELAXED);
  uint64_t ns = __atomic_load_n(&probe_clk.ns, __ATOMIC_RELAXED);
  uint64_t mult = __atomic_load_n(&probe_clk.mult, __ATOMIC_RELAXED);
  uint64_t window = __atomic_load_n(&probe_clk.window, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  if (LIKELY(d < window && !(s & 1) && __atomic_load_n(&probe_clk.seq, __ATOMIC_RELAXED) == s))
    return ns + (uint64_t) (((unsigned __int128) d * mult) >> 32);
  return probe_clock_slow();
}
#else
#define PROBE_CLK_TSC 0
static inline uint64_t probe_now(void) { return probe_vdso_now(); }
#endif
HIDDEN void probe_clock_after_fork_child(void);

/* What a wrapper knows about its call; the record is built from it straight
 * into the ring slot (probe_core.c). Small on purpose: wrappers initialise it
 * whole on every recorded call. */
struct probe_ev {
  struct {
    uint16_t type, call, flags;
    uint32_t a_flags, a_mode;
    int64_t arg;
  } in;                         /* the record's fields of the same names */
  const char *p1, *p2;          /* paths (or verbatim strings) */
  int dirfd1, dirfd2;           /* AT_FDCWD, a dirfd, or PROBE_VERBATIM */
  const struct sockaddr *sa;    /* net group address; a unix socket's name is string 1 (p1 unused) */
  socklen_t salen;
  void *fp;                     /* the wrapper's frame, for stack capture */
  int exec_like;                /* ids by system call; strings read safely */
};

/* Finishes an event after the real call: records ret (or -errno when ret ==
 * -1), writes the record (or only a call_time record when just perf is on),
 * and leaves errno as the call left it. */
HIDDEN void probe_finish(struct probe_ev *e, unsigned group, uint32_t want, uint64_t t0, int64_t ret);
/* Writes a record now (exec-like calls that may not return). */
HIDDEN void probe_emit_now(struct probe_ev *e, unsigned group, uint32_t want, int64_t ret);

/* Records a call the probe refused (never made): the record carries the
 * denied flag and ret = -err, whether or not the group is on; errno = err. */
HIDDEN void probe_deny(struct probe_ev *e, unsigned group, uint32_t want, int err);
/* Records a call whose destination the probe replaced (honeypot): string 2
 * names the replacement, the record carries the redirected flag. */
#define PROBE_REDIR_MAX 160

/* ---- enforcement (probe_enforce.c; docs/probes.md "Enforcement") ---- */
#define PROBE_REDIRECT (-1)
enum probe_op { PROBE_OP_READ, PROBE_OP_WRITE };
/* open flags -> whether the open writes */
static inline int probe_open_op(uint32_t flags)
{
  return ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC))) ? PROBE_OP_WRITE : PROBE_OP_READ;
}
/* A path call: 0 allow, an errno to deny, or PROBE_REDIRECT with the decoy
 * path written to red (honeypot reads; red may be NULL for other calls). */
HIDDEN int probe_enf_path(int op, int dirfd, const char *path, char *red, size_t rcap);
/* exec of (dirfd, path) or of fd (>= 0): 0 or an errno. dirfd may be
 * PROBE_SEARCH (a $PATH lookup, done here the way execvp does). */
HIDDEN int probe_enf_exec(int dirfd, const char *path, int fd);
/* connect/sendto/sendmsg destination: 0, an errno, or PROBE_REDIRECT with
 * the sink in *red / *redlen and its text in rtext. */
HIDDEN int probe_enf_connect(const struct sockaddr *sa, socklen_t len, struct sockaddr_storage *red,
                             socklen_t *redlen, char *rtext, size_t tcap);

/* The directory the probe's files are in (WARD_PROBE_DIR or $WARD_PROBE_DIR). */
extern HIDDEN char probe_dir[256];
/* The cached cwd (seqlock copy); 0 when unknown. */
HIDDEN size_t probe_cwd(char *dst, size_t cap);

/* Reads memory that may be unmapped without faulting (process_vm_readv on
 * ourselves); returns bytes read. Exec paths and stack walking use it. */
HIDDEN size_t probe_safe_read(void *dst, const void *src, size_t n);
/* Copies a NUL-terminated string safely; returns its length (< cap). */
HIDDEN size_t probe_safe_str(char *dst, size_t cap, const char *src);
/* The target of /proc/self/fd/FD into dst (NUL-terminated, "" on failure);
 * returns its length. Not always a path: "socket:[N]", "anon_inode:...". */
HIDDEN size_t probe_fd_target(int fd, char *dst, size_t cap);

/* Mapping guards: a process that unmaps or remaps over the ring or control
 * page turns its own probe off first instead of faulting on the next call. */
HIDDEN void probe_guard_range(const void *addr, size_t len);

/* pid/tid cache, refreshed after fork; see probe_core.c */
HIDDEN void probe_after_fork_child(void);
HIDDEN pid_t probe_pid(void);
/* restrict's bookkeeping in a fork child (probe_enforce.c) */
HIDDEN void probe_enforce_after_fork(void);

/* Shared by exec and net: the per-thread "inside the probe" marker that
 * stops recursion (a wrapper's own libc use never records itself). */
extern HIDDEN __thread int probe_busy __attribute__((tls_model("initial-exec")));

#endif
