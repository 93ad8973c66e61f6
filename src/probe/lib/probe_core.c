/* libward-probe.so core: mapping the ring and control page, resolving the
 * real functions, the pid/tid and cwd caches, and turning a finished call
 * into a ring record. */
#include "probe/lib/probe.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- control page and ring ------------------------------------------------ */

/* All-zero stand-in: with no control file every group reads as off. */
static const struct ward_control zero_ctl __attribute__((aligned(4096)));
HIDDEN const struct ward_control *volatile probe_ctl = &zero_ctl;
static struct ward_ring_prod ring;
HIDDEN char probe_dir[256] = WARD_PROBE_DIR;          /* ring.slots == NULL: not mapped */
static uintptr_t ring_lo, ring_hi, ctl_lo, ctl_hi;

HIDDEN __thread int probe_busy __attribute__((tls_model("initial-exec")));

static const char *const real_names[WARD_CALL_COUNT] = {
#define X(name) [WARD_CALL_##name] = #name,
  WARD_PROBE_CALLS(X)
#undef X
};
HIDDEN void *probe_real_tbl[WARD_CALL_COUNT];

HIDDEN void *probe_resolve(unsigned call)
{
  /* dlsym may allocate or take loader locks; if it ever lands back in a
   * wrapper on this thread, that inner call fails with ENOSYS instead of
   * recursing forever. */
  if (call == WARD_CALL_NONE || call >= WARD_CALL_COUNT || probe_busy)
    return NULL;
  probe_busy = 1;
  void *p = dlsym(RTLD_NEXT, real_names[call]);
  probe_busy = 0;
  if (p)
    __atomic_store_n(&probe_real_tbl[call], p, __ATOMIC_RELAXED);
  return p;
}

static int raw_open(const char *path, int flags)
{
  return (int) syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, 0);
}

static void *map_file(const char *path, int writable, size_t min, size_t *len_out)
{
  int fd = raw_open(path, writable ? O_RDWR : O_RDONLY);
  if (fd < 0)
    return NULL;
  struct stat st;
  void *m = NULL;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t) st.st_size >= min
      && (uint64_t) st.st_size <= (1ull << 32)) {
    /* The control page is read on every call: populated with the map. Of
     * the ring, the header (read just below) and the prefilled slots after
     * it (fault-around): one system call instead of a page fault, which on
     * a virtual machine costs ten times more, in every probed process. */
    m = (void *) syscall(SYS_mmap, NULL, (size_t) st.st_size, writable ? PROT_READ | PROT_WRITE : PROT_READ,
                         writable || st.st_size > 65536 ? MAP_SHARED : MAP_SHARED | MAP_POPULATE, fd, 0);
    if (m == MAP_FAILED)
      m = NULL;
    else if (writable)
      syscall(SYS_madvise, m, (size_t) 4096, 22 /* MADV_POPULATE_READ */);
    *len_out = (size_t) st.st_size;
  }
  syscall(SYS_close, fd);
  return m;
}

static size_t path_join(char *dst, size_t cap, const char *dir, const char *name)
{
  size_t a = strlen(dir), b = strlen(name);
  if (a + 1 + b + 1 > cap)
    return 0;
  memcpy(dst, dir, a);
  dst[a] = '/';
  memcpy(dst + a + 1, name, b + 1);
  return a + 1 + b;
}

static void map_ring(const char *dir)
{
  char path[PATH_MAX];
  size_t len = 0;
  if (!path_join(path, sizeof(path), dir, WARD_PROBE_RING))
    return;
  uint8_t *m = map_file(path, 1, WARD_RING_HDR_SIZE + 2 * WARD_RING_SLOT_MIN, &len);
  if (m == NULL)
    return;
  /* validate once and keep a private copy: the header is shared with every
   * other process of the container */
  struct ward_ring_hdr h;
  memcpy(&h, m, sizeof(h));
  int ok = h.magic == WARD_RING_MAGIC && h.version == WARD_RING_VERSION && h.hdr_size == WARD_RING_HDR_SIZE
           && h.slot_size >= WARD_RING_SLOT_MIN && h.slot_size <= WARD_RING_SLOT_MAX
           && (h.slot_size & (h.slot_size - 1)) == 0
           && h.nslots >= 2 && h.nslots <= WARD_RING_NSLOTS_MAX && (h.nslots & (h.nslots - 1)) == 0
           && WARD_RING_HDR_SIZE + (uint64_t) h.nslots * h.slot_size <= len;
  if (!ok) {
    syscall(SYS_munmap, m, len);
    return;
  }
  ring.hdr = (struct ward_ring_hdr *) (void *) m;
  /* this probe wakes a sleeping consumer (ring_wake.h): the consumer may
   * now sleep instead of polling */
  if (!(h.caps & WARD_RING_CAP_WAKE))
    __atomic_fetch_or(&ring.hdr->caps, WARD_RING_CAP_WAKE, __ATOMIC_RELEASE);
  ring.mask = h.nslots - 1;
  ring.slot_size = h.slot_size;
  ring_lo = (uintptr_t) m;
  ring_hi = ring_lo + len;
  __atomic_store_n(&ring.slots, m + WARD_RING_HDR_SIZE, __ATOMIC_RELEASE);
}

static void map_control(const char *dir)
{
  char path[PATH_MAX];
  size_t len = 0;
  if (!path_join(path, sizeof(path), dir, WARD_PROBE_CONTROL))
    return;
  struct ward_control *c = map_file(path, 0, WARD_CTL_SIZE, &len);
  if (c == NULL)
    return;
  if (c->magic != WARD_CTL_MAGIC || (c->version != 1 && c->version != WARD_CTL_VERSION)) {
    syscall(SYS_munmap, c, len);
    return;
  }
  ctl_lo = (uintptr_t) c;
  ctl_hi = ctl_lo + len;
  probe_ctl = c;
}

HIDDEN void probe_guard_range(const void *addr, size_t len)
{
  uintptr_t a = (uintptr_t) addr, b = a + len;
  if (b < a)
    b = UINTPTR_MAX;
  if (ring_hi && a < ring_hi && b > ring_lo)
    __atomic_store_n(&ring.slots, NULL, __ATOMIC_SEQ_CST);
  if (ctl_hi && a < ctl_hi && b > ctl_lo)
    probe_ctl = &zero_ctl;
}

/* ---- pid / tid -------------------------------------------------------------- */

/* getpid() is a system call since glibc 2.25, so the ids are cached: pid per
 * process, tid per thread, both invalidated in a fork child (pthread_atfork,
 * and the clone wrapper for children without CLONE_VM). */
static pid_t cached_pid;
static unsigned fork_gen = 1;
static __thread pid_t cached_tid __attribute__((tls_model("initial-exec")));
static __thread unsigned tid_gen __attribute__((tls_model("initial-exec")));

HIDDEN void probe_after_fork_child(void)
{
  cached_pid = 0;
  __atomic_add_fetch(&fork_gen, 1, __ATOMIC_RELAXED);
  probe_clock_after_fork_child();
  probe_enforce_after_fork();
}

/* This process's pid from the cache (a vfork child sees its parent's). */
HIDDEN pid_t probe_pid(void)
{
  pid_t p = cached_pid;
  if (UNLIKELY(p == 0))
    cached_pid = p = (pid_t) syscall(SYS_getpid);
  return p;
}

static inline void ids(uint32_t *pid, uint32_t *tid, int fresh)
{
  if (UNLIKELY(fresh)) {
    /* vfork children share the parent's memory and TLS: ask the kernel and
     * leave the caches alone */
    *pid = (uint32_t) syscall(SYS_getpid);
    *tid = (uint32_t) syscall(SYS_gettid);
    return;
  }
  pid_t p = cached_pid;
  if (UNLIKELY(p == 0))
    cached_pid = p = (pid_t) syscall(SYS_getpid);
  unsigned g = __atomic_load_n(&fork_gen, __ATOMIC_RELAXED);
  if (UNLIKELY(cached_tid == 0 || tid_gen != g)) {
    cached_tid = (pid_t) syscall(SYS_gettid);
    tid_gen = g;
  }
  *pid = (uint32_t) p;
  *tid = (uint32_t) cached_tid;
}

/* ---- cwd cache ---------------------------------------------------------------- */

/* Relative paths are recorded resolved against a cached cwd, refreshed by the
 * chdir/fchdir wrappers with getcwd (rare calls, so their system call does
 * not matter). Readers copy under a seqlock and never wait. */
static char cwd_buf[PATH_MAX];
static uint32_t cwd_len;     /* 0: unknown */
static uint32_t cwd_seq;     /* odd while a writer copies */

static void cwd_refresh(void)
{
  char tmp[PATH_MAX];
  long n = syscall(SYS_getcwd, tmp, sizeof(tmp));
  uint32_t s = __atomic_load_n(&cwd_seq, __ATOMIC_RELAXED);
  /* one writer at a time; a writer that loses (another thread, or a signal
   * handler interrupting a writer) just leaves the cache unknown */
  if ((s & 1) || !__atomic_compare_exchange_n(&cwd_seq, &s, s + 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
    __atomic_store_n(&cwd_len, 0, __ATOMIC_RELAXED);
    return;
  }
  /* the kernel's getcwd returns the length including the NUL, and paths
   * that are unreachable start with "(unreachable)" */
  if (n > 1 && tmp[0] == '/') {
    memcpy(cwd_buf, tmp, (size_t) n - 1);
    __atomic_store_n(&cwd_len, (uint32_t) (n - 1), __ATOMIC_RELAXED);
  } else {
    __atomic_store_n(&cwd_len, 0, __ATOMIC_RELAXED);
  }
  __atomic_store_n(&cwd_seq, s + 2, __ATOMIC_RELEASE);
}

HIDDEN size_t probe_cwd(char *dst, size_t cap)
{
  for (int tries = 0; tries < 4; tries++) {
    uint32_t s = __atomic_load_n(&cwd_seq, __ATOMIC_ACQUIRE);
    if (s & 1)
      continue;
    size_t n = __atomic_load_n(&cwd_len, __ATOMIC_RELAXED);
    if (n == 0 || n > cap)
      return 0;
    memcpy(dst, cwd_buf, n);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&cwd_seq, __ATOMIC_RELAXED) == s)
      return n;
  }
  return 0;
}

EXPORT int chdir(const char *path)
{
  GET_REAL(fn, chdir, -1);
  int r = fn(path);
  if (r == 0) {
    int e = errno;
    cwd_refresh();
    errno = e;
  }
  return r;
}

EXPORT int fchdir(int fd)
{
  GET_REAL(fn, fchdir, -1);
  int r = fn(fd);
  if (r == 0) {
    int e = errno;
    cwd_refresh();
    errno = e;
  }
  return r;
}

/* ---- safe reads --------------------------------------------------------------- */

HIDDEN size_t probe_safe_read(void *dst, const void *src, size_t n)
{
  struct iovec l = {dst, n}, r = {(void *) (uintptr_t) src, n};
  long got = syscall(SYS_process_vm_readv, (pid_t) syscall(SYS_getpid), &l, 1UL, &r, 1UL, 0UL);
  return got > 0 ? (size_t) got : 0;
}

HIDDEN size_t probe_fd_target(int fd, char *dst, size_t cap)
{
  /* formatted by hand: no snprintf in a wrapper that may run in a signal
   * handler */
  char link[32] = "/proc/self/fd/";
  char num[12];
  int k = 0;
  unsigned v = (unsigned) fd;
  do { num[k++] = (char) ('0' + v % 10); v /= 10; } while (v && k < 11);
  size_t l = strlen(link);
  while (k)
    link[l++] = num[--k];
  link[l] = 0;
  long n = syscall(SYS_readlinkat, AT_FDCWD, link, dst, cap - 1);
  n = n > 0 ? n : 0;
  dst[n] = 0;
  return (size_t) n;
}

HIDDEN size_t probe_safe_str(char *dst, size_t cap, const char *src)
{
  size_t n = 0;
  if (src == NULL || cap == 0)
    return 0;
  while (n + 1 < cap) {
    /* stop at page ends: a string may end right before an unmapped page */
    uintptr_t a = (uintptr_t) src + n;
    size_t chunk = 4096 - (a & 4095);
    if (chunk > cap - 1 - n)
      chunk = cap - 1 - n;
    size_t got = probe_safe_read(dst + n, (const void *) a, chunk);
    if (got == 0)
      break;
    void *z = memchr(dst + n, 0, got);
    if (z) {
      n = (size_t) ((char *) z - dst);
      dst[n] = 0;
      return n;
    }
    n += got;
    if (got < chunk)
      break;
  }
  dst[n] = 0;
  return n;
}

/* ---- records ------------------------------------------------------------------ */

/* The hot path of a record (docs/probes.md "Inside a process"): one frame
 * after the wrapper's, no errno traffic unless the call failed (nothing on
 * it sets errno; the rare paths that make a system call save and restore
 * it), one strnlen and one memcpy per string, every record field stored
 * once straight into the slot. Relative paths (the cwd join needs a
 * slot-sized buffer), stack capture, perf-only records, denials and exec
 * records take write_event_slow, which builds the same record. */

/* The optional parts of a record, gathered before the slot is claimed. */
struct rec_parts {
  struct ward_rec_str s1, s2;
  const struct ward_rec_addr *addr;
  const uint64_t *stack;
  unsigned nstack;
  uint16_t flags;
};

/* Where relative paths are joined: a buffer for one cwd copy (shared by
 * both strings), or none on the fast path, which then hands the record to
 * the slow one. */
struct cwd_buf {
  char *buf;
  size_t cap;
  size_t len;     /* SIZE_MAX: not read yet */
};

/* The cached cwd joined in front of relative path s (string pieces 0 and
 * 1: cwd, "/"); the cwd is read at most once per record. Returns 0 when it
 * is unknown. */
static __attribute__((noinline, cold)) int join_cwd(struct ward_rec_str *s, struct cwd_buf *c)
{
  if (c->len == SIZE_MAX)
    c->len = probe_cwd(c->buf, c->cap);
  if (c->len == 0)
    return 0;
  s->part[2] = s->part[0];
  s->len[2] = s->len[0];
  s->part[0] = c->buf;
  s->len[0] = c->len;
  s->part[1] = "/";
  s->len[1] = 1;
  return 1;
}

/* Sets string s from p (at most max bytes; max > the slot's string room
 * unless p's own bound is shorter): absolute as is, relative joined to the
 * cached cwd or marked relative. Returns 0 when a join is needed and c has
 * no buffer (the fast path). */
static inline __attribute__((always_inline)) int put_path(struct ward_rec_str *s, uint16_t *flags, uint16_t relflag,
                                                          const char *p, size_t max, int dirfd, struct cwd_buf *c)
{
  s->part[0] = p;
  s->len[0] = strnlen(p, max);
  if (LIKELY(p[0] == '/') || dirfd == PROBE_VERBATIM)
    return 1;
  if (dirfd == AT_FDCWD) {
    if (c->buf == NULL)
      return 0;
    if (join_cwd(s, c))
      return 1;
  }
  *flags |= relflag;
  return 1;
}

/* Fills the address block from e->sa, and string 1 from a unix socket's
 * name (read only within the address: it need not be NUL-terminated).
 * Returns 0 as put_path does. */
static inline __attribute__((always_inline)) int put_addr(const struct probe_ev *e, struct rec_parts *rp,
                                                          struct ward_rec_addr *a, char *ubuf, size_t ucap,
                                                          struct cwd_buf *c)
{
  const struct sockaddr *sa = e->sa;
  socklen_t len = e->salen;
  if (len < sizeof(sa_family_t))
    return 1;
  sa_family_t fam = sa->sa_family;
  __builtin_memset(a, 0, sizeof(*a));
  a->family = fam;
  if (fam == AF_UNIX) {
    rp->addr = a;
    const char *sp = (const char *) sa + 2;
    size_t max = len > 2 ? (size_t) len - 2 : 0;
    if (max > 108)
      max = 108;
    if (max == 0)
      return 1;  /* unnamed */
    if (LIKELY(sp[0] != 0))
      return put_path(&rp->s1, &rp->flags, WARD_REC_F_REL1, sp, max, AT_FDCWD, c);
    /* abstract: shown as '@' + name, NULs as '@' like ss(8) does */
    size_t n = max < ucap ? max : ucap;
    for (size_t i = 0; i < n; i++)
      ubuf[i] = sp[i] ? sp[i] : '@';
    rp->s1.part[0] = ubuf;
    rp->s1.len[0] = n;
    return 1;
  }
  const uint8_t *b = (const uint8_t *) sa;
  if (fam == AF_INET && len >= 16) {
    a->port = (uint16_t) (b[2] << 8 | b[3]);
    __builtin_memcpy(a->addr, b + 4, 4);
    rp->addr = a;
  } else if (fam == AF_INET6 && len >= 24) {
    a->port = (uint16_t) (b[2] << 8 | b[3]);
    __builtin_memcpy(a->addr, b + 8, 16);
    rp->addr = a;
  }
  return 1;
}

/* Strings and address of e into rp; 0 as put_path. */
static inline __attribute__((always_inline)) int put_parts(const struct probe_ev *e, struct rec_parts *rp,
                                                           uint32_t slot_size, struct ward_rec_addr *addr,
                                                           char *ubuf, size_t ucap, struct cwd_buf *c)
{
  rp->flags = e->in.flags;
  rp->addr = NULL;
  rp->stack = NULL;
  rp->nstack = 0;
  /* a piece's pointer is only read when its length is not 0 */
  rp->s1.len[0] = rp->s1.len[1] = rp->s1.len[2] = 0;
  rp->s2.len[0] = rp->s2.len[1] = rp->s2.len[2] = 0;
  if (e->sa) {
    if (!put_addr(e, rp, addr, ubuf, ucap, c))
      return 0;
  } else if (e->p1 && !put_path(&rp->s1, &rp->flags, WARD_REC_F_REL1, e->p1, slot_size, e->dirfd1, c)) {
    return 0;
  }
  if (e->p2 && !put_path(&rp->s2, &rp->flags, WARD_REC_F_REL2, e->p2, slot_size, e->dirfd2, c))
    return 0;
  return 1;
}

/* Walks frame pointers with safe reads (a frame chain through code built
 * without frame pointers just ends early or yields junk addresses, never a
 * fault). Only runs for event types named in the control page's stack mask;
 * its system calls may set errno, which the caller must not see. */
static __attribute__((noinline, cold)) unsigned capture_stack(uint64_t *out, unsigned depth, void *fp)
{
  int saved = errno;
  unsigned n = 0;
  uintptr_t f = (uintptr_t) fp;
  while (n < depth && f && (f & 7) == 0) {
    uintptr_t fr[2];
    if (probe_safe_read(fr, (void *) f, sizeof(fr)) != sizeof(fr) || fr[1] == 0)
      break;
    out[n++] = fr[1];
    if (fr[0] <= f || fr[0] - f > (1u << 20))
      break;
    f = fr[0];
  }
  errno = saved;
  return n;
}

/* The producer's view of the mapped ring, or slots == NULL. */
static inline __attribute__((always_inline)) struct ward_ring_prod ring_now(void)
{
  struct ward_ring_prod p;
  p.slots = __atomic_load_n(&ring.slots, __ATOMIC_ACQUIRE);
  p.hdr = ring.hdr;
  p.mask = ring.mask;
  p.slot_size = ring.slot_size;
  return p;
}

static inline uint32_t call_ns_of(uint32_t want, uint64_t t0, uint64_t t1)
{
  if (!(want & (1u << WARD_GROUP_PERF)) || t1 <= t0)
    return 0;
  return t1 - t0 > UINT32_MAX ? UINT32_MAX : (uint32_t) (t1 - t0);
}

/* Claims a slot and writes the record into it; a full ring drops it. */
static inline __attribute__((always_inline)) void emit(const struct ward_ring_prod *p, const struct probe_ev *e,
                                                       const struct rec_parts *rp, uint32_t pid, uint32_t tid,
                                                       uint64_t t0, uint32_t call_ns, int64_t ret)
{
  uint64_t ticket;
  struct ward_rec *r = ward_ring_claim(p, &ticket);
  if (r == NULL)
    return;
  ward_rec_fill(r, p->slot_size, rp->flags, rp->addr, rp->stack, rp->nstack, &rp->s1, &rp->s2);
  r->type = e->in.type;
  r->call = e->in.call;
  r->pid = pid;
  r->tid = tid;
  r->ts_ns = t0;
  r->ret = ret;
  r->a_flags = e->in.a_flags;
  r->a_mode = e->in.a_mode;
  r->arg = e->in.arg;
  r->call_ns = call_ns;
  ward_ring_commit(p, r, ticket);
}

/* Every kind of record, the rare cases included. */
static __attribute__((noinline)) void write_event_slow(const struct probe_ev *e, unsigned group, uint32_t want,
                                                       uint64_t t0, uint64_t t1, int64_t ret)
{
  struct ward_ring_prod p = ring_now();
  if (p.slots == NULL)
    return;
  uint32_t call_ns = call_ns_of(want, t0, t1);
  uint32_t pid, tid;
  ids(&pid, &tid, e->exec_like);
  if (!(want & (1u << group))) {
    /* only perf is on: a bare timing record */
    struct ward_rec_in t = {.type = WARD_EV_CALL_TIME, .call = e->in.call, .pid = pid, .tid = tid,
                            .flags = (uint16_t) (e->in.flags & (WARD_REC_F_PERF | WARD_REC_F_TIMED)),
                            .ts_ns = t0, .ret = ret, .call_ns = call_ns};
    ward_ring_write(&p, &t);
    return;
  }
  /* cwd copies never need more than a slot holds: sized by the slot (512
   * bytes by default) rather than PATH_MAX */
  char cwd[p.slot_size];
  struct cwd_buf c = {cwd, sizeof(cwd), SIZE_MAX};
  struct rec_parts rp;
  struct ward_rec_addr addr;
  char ubuf[112];
  put_parts(e, &rp, p.slot_size, &addr, ubuf, sizeof(ubuf), &c);
  uint64_t stack[WARD_EVENT_STACK_MAX];
  const struct ward_control *ctl = probe_ctl;
  uint64_t smask = __atomic_load_n(&ctl->stack_mask, __ATOMIC_RELAXED);
  if (smask & (1ull << (e->in.type & 63))) {
    unsigned d = __atomic_load_n(&ctl->stack_depth, __ATOMIC_RELAXED);
    rp.nstack = capture_stack(stack, d > WARD_EVENT_STACK_MAX ? WARD_EVENT_STACK_MAX : d, e->fp);
    rp.stack = stack;
  }
  emit(&p, e, &rp, pid, tid, t0, call_ns, ret);
}

/* The common record, inline in probe_finish: its group on, no stack
 * capture, no cwd join; anything else goes to write_event_slow before a
 * slot is claimed. */
static inline __attribute__((always_inline)) void write_event(const struct probe_ev *e, unsigned group, uint32_t want,
                                                              uint64_t t0, uint64_t t1, int64_t ret)
{
  struct ward_ring_prod p = ring_now();
  if (UNLIKELY(p.slots == NULL))
    return;
  const struct ward_control *ctl = probe_ctl;
  uint64_t smask = __atomic_load_n(&ctl->stack_mask, __ATOMIC_RELAXED);
  if (UNLIKELY(!(want & (1u << group)) || e->exec_like || (smask & (1ull << (e->in.type & 63)))))
    goto slow;
  struct rec_parts rp;
  struct ward_rec_addr addr;
  char ubuf[112];
  struct cwd_buf none = {NULL, 0, 0};
  if (UNLIKELY(!put_parts(e, &rp, p.slot_size, &addr, ubuf, sizeof(ubuf), &none)))
    goto slow;
  uint32_t pid, tid;
  ids(&pid, &tid, 0);
  emit(&p, e, &rp, pid, tid, t0, call_ns_of(want, t0, t1), ret);
  return;
slow:
  write_event_slow(e, group, want, t0, t1, ret);
}

/* Whether perf times this call: one in 2^perf_sample_shift, picked by a
 * per-thread xorshift rather than a counter, so that a loop alternating two
 * calls does not time the same one on every lap. The second timestamp is
 * the perf group's main cost (a 12 ns rdtsc on some virtual machines); the
 * record, and so the call's count, is written either way. */
static __thread uint32_t perf_rng __attribute__((tls_model("initial-exec")));

static inline int perf_pick(uint64_t t0)
{
  uint32_t shift = __atomic_load_n(&probe_ctl->perf_sample_shift, __ATOMIC_RELAXED);
  if (shift == 0)
    return 1;
  uint32_t x = perf_rng;
  if (UNLIKELY(x == 0))
    x = (uint32_t) (t0 >> 4) | 1;   /* threads start at different times */
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  perf_rng = x;
  return (x & ((1u << (shift & 31)) - 1)) == 0;
}

HIDDEN void probe_finish(struct probe_ev *e, unsigned group, uint32_t want, uint64_t t0, int64_t ret)
{
  uint64_t t1 = t0;
  if (want & (1u << WARD_GROUP_PERF)) {
    e->in.flags |= WARD_REC_F_PERF;
    if (perf_pick(t0)) {
      t1 = probe_now();
      e->in.flags |= WARD_REC_F_TIMED;
    }
  }
  if (ret == -1)
    ret = -(int64_t) errno;
  if (UNLIKELY(ret == -EFAULT)) {
    /* the kernel refused a pointer: do not touch it either */
    e->p1 = e->p2 = NULL;
    e->sa = NULL;
  }
  write_event(e, group, want, t0, t1, ret);
}

HIDDEN void probe_deny(struct probe_ev *e, unsigned group, uint32_t want, int err)
{
  uint64_t t = probe_now();
  e->in.flags |= WARD_REC_F_DENIED;
  write_event_slow(e, group, want | (1u << group), t, t, -(int64_t) err);
  errno = err;
}

HIDDEN void probe_emit_now(struct probe_ev *e, unsigned group, uint32_t want, int64_t ret)
{
  uint64_t t = probe_now();
  write_event_slow(e, group, want, t, t, ret);
}

/* ---- start-up ---------------------------------------------------------------- */

static void atfork_child(void) { probe_after_fork_child(); }

__attribute__((constructor)) static void probe_init(void)
{
  int saved = errno;
  for (unsigned i = 1; i < WARD_CALL_COUNT; i++)
    if (probe_real_tbl[i] == NULL)
      probe_resolve(i);
  /* $WARD_PROBE_DIR can only point this process (and its children) at
   * another ring, i.e. blind itself: the host reads the one it mounted. */
  const char *dir = getenv("WARD_PROBE_DIR");
  if (dir == NULL || dir[0] != '/')
    dir = WARD_PROBE_DIR;
  if (strlen(dir) < sizeof(probe_dir))
    memcpy(probe_dir, dir, strlen(dir) + 1);
  map_ring(dir);
  map_control(dir);
  cwd_refresh();
  pthread_atfork(NULL, NULL, atfork_child);
  errno = saved;
}
