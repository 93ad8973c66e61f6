/* Enforcement inside the probe (control page version 2): the decisions the
 * wrappers ask for when the host has set a mode. Reached only through the
 * slow path (WARD_CTL_GROUP_ENFORCE set in `groups`), so none of this costs
 * anything while the mode is 0.
 *
 * The tables are read in place on the read-only control page under its
 * seqlock (retry while `generation` is odd or moved): no copy, no lock.
 * Paths are resolved the way events resolve them (cwd cache, /proc/self/fd
 * for dirfds) and then normalised lexically, as the host does before
 * hashing; symlinks are not followed (see docs/probes.md, Limits).
 *
 * Restrict also adds a kernel layer: the first time a process sees the
 * RESTRICT bit, at one of these calls, it installs a seccomp filter on all
 * its threads (SECCOMP_FILTER_FLAG_TSYNC) refusing execve, execveat and
 * ptrace, so a raw system call cannot get round the interposer. */
#include "probe/lib/probe.h"

#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- reading the page ------------------------------------------------------ */

#define SEQ_TRIES 256

static inline int deny_errno(const struct ward_control *c)
{
  uint32_t e = __atomic_load_n(&c->deny_errno, __ATOMIC_RELAXED);
  return e == EPERM ? EPERM : EACCES;
}

static int path_hash_listed(const struct ward_control *c, uint64_t h)
{
  int found = 0;
  for (int tries = 0; tries < SEQ_TRIES; tries++) {
    uint32_t g = __atomic_load_n(&c->generation, __ATOMIC_ACQUIRE);
    if (g & 1)
      continue;
    uint32_t n = __atomic_load_n(&c->n_deny_paths, __ATOMIC_RELAXED);
    if (n > WARD_CTL_DENY_PATHS)
      n = WARD_CTL_DENY_PATHS;
    uint32_t lo = 0, hi = n;
    found = 0;
    while (lo < hi) {
      uint32_t mid = lo + (hi - lo) / 2;
      uint64_t v = __atomic_load_n(&c->deny_path_hash[mid], __ATOMIC_RELAXED);
      if (v == h) {
        found = 1;
        break;
      }
      if (v < h)
        lo = mid + 1;
      else
        hi = mid;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&c->generation, __ATOMIC_RELAXED) == g)
      return found;
  }
  return found;  /* a writer that never finishes: best effort */
}

/* ---- paths ------------------------------------------------------------------ */

/* a dirfd's path; sockets, pipes and anon inodes have none */
static size_t fd_link(int fd, char *dst, size_t cap)
{
  size_t n = probe_fd_target(fd, dst, cap);
  if (n == 0 || dst[0] != '/')
    return 0;
  return n;
}

/* (dirfd, path) -> normalised absolute path in out; 0 if it cannot be
 * named. An empty path stands for dirfd itself (AT_EMPTY_PATH). The join
 * is built in out and normalised in place (ward_ctl_path_norm allows it):
 * one PATH_MAX buffer on the stack, not two. */
static size_t resolve(int dirfd, const char *path, char *out, size_t cap)
{
  size_t n = strnlen(path, PATH_MAX);
  if (n >= PATH_MAX)
    return 0;
  if (path[0] == '/')
    return ward_ctl_path_norm(out, cap, path, n);
  size_t d = 0;
  if (dirfd == AT_FDCWD) {
    d = probe_cwd(out, cap);
    if (d == 0) {
      long r = syscall(SYS_getcwd, out, cap);
      d = r > 1 && out[0] == '/' ? (size_t) r - 1 : 0;
    }
  } else if (dirfd >= 0) {
    d = fd_link(dirfd, out, cap);
  }
  if (d == 0 || d + 1 + n + 1 > cap)
    return 0;
  out[d] = '/';
  memcpy(out + d + 1, path, n);
  return ward_ctl_path_norm(out, cap, out, d + 1 + n);
}

static int has_prefix(const char *s, size_t n, const char *p)
{
  size_t k = strlen(p);
  return n >= k && memcmp(s, p, k) == 0;
}

static int has_suffix(const char *s, size_t n, const char *p)
{
  size_t k = strlen(p);
  return n >= k && memcmp(s + n - k, p, k) == 0;
}

/* Quarantine: where writes stay allowed. /tmp, and the devices shells and
 * daemons write to all the time (redirections to /dev/null, terminals). */
static int write_allowed(const char *p, size_t n)
{
  static const char *const exact[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/ptmx",
                                      "/dev/stdout", "/dev/stderr"};
  for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
    if (strlen(exact[i]) == n && memcmp(p, exact[i], n) == 0)
      return 1;
  return has_prefix(p, n, "/tmp/") || has_prefix(p, n, "/dev/pts/") || has_prefix(p, n, "/dev/fd/")
         || has_prefix(p, n, "/proc/self/fd/");
}

/* Honeypot: reads served from the probe directory's decoys/ (prepare.c
 * writes the same names). */
static const char *decoy_for(const char *p, size_t n)
{
  static const struct { const char *path; const char *decoy; } exact[] = {
    {"/etc/shadow", "shadow"}, {"/etc/shadow-", "shadow"}, {"/etc/gshadow", "gshadow"},
    {"/etc/gshadow-", "gshadow"},
    {"/var/run/secrets/kubernetes.io/serviceaccount/token", "k8s_token"},
    {"/run/secrets/kubernetes.io/serviceaccount/token", "k8s_token"},
  };
  static const struct { const char *suffix; const char *decoy; } suffix[] = {
    {"/.ssh/id_rsa", "id_rsa"}, {"/.ssh/id_ed25519", "id_ed25519"}, {"/.ssh/id_ecdsa", "id_ecdsa"},
    {"/.aws/credentials", "aws_credentials"}, {"/.docker/config.json", "docker_config.json"},
    {"/.kube/config", "kube_config"}, {"/.netrc", "netrc"}, {"/.git-credentials", "git-credentials"},
  };
  for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
    if (strlen(exact[i].path) == n && memcmp(p, exact[i].path, n) == 0)
      return exact[i].decoy;
  for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++)
    if (has_suffix(p, n, suffix[i].suffix))
      return suffix[i].decoy;
  return NULL;
}

/* ---- restrict: the in-process kernel layer ---------------------------------- */

/* Own definitions: the musl build has no linux/ headers. */
struct probe_sock_filter { uint16_t code; uint8_t jt, jf; uint32_t k; };
struct probe_sock_fprog { unsigned short len; struct probe_sock_filter *filter; };
#define BPF_LD_W_ABS 0x20
#define BPF_JEQ_K 0x15
#define BPF_JGE_K 0x35
#define BPF_RET_K 0x06
#define SECCOMP_RET_ALLOW_ 0x7fff0000u
#define SECCOMP_RET_ERRNO_ 0x00050000u
#define SECCOMP_SET_MODE_FILTER_ 1
#define SECCOMP_FILTER_FLAG_TSYNC_ 1u
#if defined(__x86_64__)
#define PROBE_AUDIT_ARCH 0xc000003eu   /* AUDIT_ARCH_X86_64 */
#define PROBE_X32_BIT 0x40000000u
#elif defined(__aarch64__)
#define PROBE_AUDIT_ARCH 0xc00000b7u   /* AUDIT_ARCH_AARCH64 */
#endif

/* Which process is known to carry the filter: its pid, taken from the
 * kernel when it was installed. Compared with the cached pid, not a flag: a
 * vfork child shares this memory, so a flag it set would convince its
 * parent too; with the owner's pid the parent sees someone else's and
 * installs its own. A fork child inherits the filter: the atfork hook
 * moves ownership to it. */
static pid_t restrict_owner;
static int restrict_busy;     /* one installer at a time per process */

HIDDEN void probe_enforce_after_fork(void)
{
  __atomic_store_n(&restrict_busy, 0, __ATOMIC_RELAXED);
  pid_t o = __atomic_load_n(&restrict_owner, __ATOMIC_RELAXED);
  if (o && o == (pid_t) syscall(SYS_getppid))
    __atomic_store_n(&restrict_owner, (pid_t) syscall(SYS_getpid), __ATOMIC_RELAXED);
}

static void restrict_record(long r)
{
  struct probe_ev e = {.in = {.type = WARD_EV_PRCTL, .call = WARD_CALL_prctl, .a_flags = PR_SET_SECCOMP,
                              .arg = 2 /* SECCOMP_MODE_FILTER */}};
  uint32_t want = 1u << WARD_GROUP_IDENTITY;
  e.p1 = "ward restrict: seccomp filter on all threads (execve, execveat, ptrace)";
  e.dirfd1 = PROBE_VERBATIM;
  probe_emit_now(&e, WARD_GROUP_IDENTITY, want, r);
}

static void restrict_install(const struct ward_control *c)
{
  int s = 0;
  if (!__atomic_compare_exchange_n(&restrict_busy, &s, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
    return;  /* another thread (or an interrupted caller) is at it */
  pid_t self = (pid_t) syscall(SYS_getpid);
  if (__atomic_load_n(&restrict_owner, __ATOMIC_ACQUIRE) == self) {
    __atomic_store_n(&restrict_busy, 0, __ATOMIC_RELEASE);
    return;  /* installed while we waited */
  }
  int saved = errno;
#ifdef PROBE_AUDIT_ARCH
  uint32_t deny = SECCOMP_RET_ERRNO_ | (uint32_t) deny_errno(c);
  struct probe_sock_filter f[] = {
    {BPF_LD_W_ABS, 0, 0, 4},                         /* arch */
    {BPF_JEQ_K, 1, 0, PROBE_AUDIT_ARCH},
    {BPF_RET_K, 0, 0, deny},                         /* another ABI from this process: refused */
    {BPF_LD_W_ABS, 0, 0, 0},                         /* nr */
#ifdef PROBE_X32_BIT
    {BPF_JGE_K, 3, 0, PROBE_X32_BIT},
#else
    {BPF_JEQ_K, 3, 0, 0xffffffffu},
#endif
    {BPF_JEQ_K, 2, 0, SYS_execve},
    {BPF_JEQ_K, 1, 0, SYS_execveat},
    {BPF_JEQ_K, 0, 1, SYS_ptrace},
    {BPF_RET_K, 0, 0, deny},
    {BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW_},
  };
  struct probe_sock_fprog prog = {(unsigned short) (sizeof(f) / sizeof(f[0])), f};
  /* seccomp needs no_new_privs (or CAP_SYS_ADMIN); exec is refused from
   * now on anyway, so it takes nothing else away */
  long r = syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L);
  if (r == 0) {
    r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER_, SECCOMP_FILTER_FLAG_TSYNC_, &prog);
    if (r > 0) {
      /* thread r has a filter of its own we cannot sync with: still cover
       * this thread (and what it forks); the record says it was partial */
      long one = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER_, 0, &prog);
      r = one == 0 ? -ESRCH : -errno;
    } else if (r < 0) {
      r = -errno;
    }
  } else {
    r = -errno;
  }
#else
  long r = -ENOSYS;
  (void) c;
#endif
  restrict_record(r);
  /* also after a failure: one attempt per process, recorded, not one per call */
  __atomic_store_n(&restrict_owner, self, __ATOMIC_RELEASE);
  __atomic_store_n(&restrict_busy, 0, __ATOMIC_RELEASE);
  errno = saved;
}

static inline uint32_t enf_mode(const struct ward_control *c)
{
  uint32_t m = __atomic_load_n(&c->mode, __ATOMIC_ACQUIRE);
  if (UNLIKELY((m & WARD_CTL_MODE_RESTRICT) && __atomic_load_n(&restrict_owner, __ATOMIC_ACQUIRE) != probe_pid()))
    restrict_install(c);
  return m;
}

/* ---- decisions --------------------------------------------------------------- */

HIDDEN int probe_enf_path(int op, int dirfd, const char *path, char *red, size_t rcap)
{
  const struct ward_control *c = probe_ctl;
  uint32_t mode = enf_mode(c);
  if (path == NULL || dirfd == PROBE_VERBATIM || !(mode & (WARD_CTL_MODE_PROTECT | WARD_CTL_MODE_RESTRICT
                                                           | WARD_CTL_MODE_QUARANTINE | WARD_CTL_MODE_HONEYPOT)))
    return 0;
  char norm[PATH_MAX];
  size_t n = resolve(dirfd, path, norm, sizeof(norm));
  if ((mode & (WARD_CTL_MODE_PROTECT | WARD_CTL_MODE_RESTRICT)) && n
      && path_hash_listed(c, ward_ctl_path_hash(norm, n)))
    return deny_errno(c);
  /* a write the probe cannot place is refused: quarantine fails closed */
  if ((mode & WARD_CTL_MODE_QUARANTINE) && op == PROBE_OP_WRITE && (n == 0 || !write_allowed(norm, n)))
    return deny_errno(c);
  if ((mode & WARD_CTL_MODE_HONEYPOT) && op == PROBE_OP_READ && red && n) {
    const char *d = decoy_for(norm, n);
    size_t dl = strlen(probe_dir);
    if (d && dl + sizeof("/decoys/") + strlen(d) <= rcap) {
      memcpy(red, probe_dir, dl);
      memcpy(red + dl, "/decoys/", 8);
      memcpy(red + dl + 8, d, strlen(d) + 1);
      return PROBE_REDIRECT;
    }
  }
  return 0;
}

/* execvp's search: the first executable candidate on $PATH */
static size_t search_path(const char *name, char *out, size_t cap)
{
  const char *path = getenv("PATH");
  if (path == NULL)
    path = "/bin:/usr/bin";
  size_t nl = strnlen(name, NAME_MAX + 1);
  if (nl == 0 || nl > NAME_MAX)
    return 0;
  while (*path) {
    const char *e = strchr(path, ':');
    size_t dl = e ? (size_t) (e - path) : strlen(path);
    char cand[PATH_MAX];
    if (dl == 0) {
      cand[0] = '.';
      dl = 1;
    } else if (dl + 1 + nl + 1 <= sizeof(cand)) {
      memcpy(cand, path, dl);
    } else {
      dl = 0;
    }
    if (dl && dl + 1 + nl + 1 <= sizeof(cand)) {
      cand[dl] = '/';
      memcpy(cand + dl + 1, name, nl + 1);
      if (syscall(SYS_faccessat, AT_FDCWD, cand, X_OK, 0) == 0)
        return resolve(AT_FDCWD, cand, out, cap);
    }
    if (e == NULL)
      break;
    path = e + 1;
  }
  return 0;
}

HIDDEN int probe_enf_exec(int dirfd, const char *path, int fd)
{
  const struct ward_control *c = probe_ctl;
  uint32_t mode = enf_mode(c);
  if (mode & WARD_CTL_MODE_RESTRICT)
    return deny_errno(c);  /* no exec at all (the seccomp layer agrees) */
  if (!(mode & WARD_CTL_MODE_PROTECT))
    return 0;
  char norm[PATH_MAX];
  size_t n = 0;
  if (fd >= 0 && (path == NULL || path[0] == 0))
    n = resolve(fd, "", norm, sizeof(norm));
  else if (path && dirfd == PROBE_SEARCH)
    n = strchr(path, '/') ? resolve(AT_FDCWD, path, norm, sizeof(norm)) : search_path(path, norm, sizeof(norm));
  else if (path)
    n = resolve(dirfd, path, norm, sizeof(norm));
  return n && path_hash_listed(c, ward_ctl_path_hash(norm, n)) ? deny_errno(c) : 0;
}

/* ---- network -------------------------------------------------------------------- */

struct dest {
  int family;          /* AF_INET (also for v4-mapped IPv6) or AF_INET6 */
  uint16_t port;
  uint8_t addr[16];
};

static int parse_dest(const struct sockaddr *sa, socklen_t len, struct dest *d)
{
  const uint8_t *b = (const uint8_t *) sa;
  if (sa == NULL || len < (socklen_t) sizeof(sa_family_t))
    return 0;
  memset(d, 0, sizeof(*d));
  if (sa->sa_family == AF_INET && len >= (socklen_t) sizeof(struct sockaddr_in)) {
    d->family = AF_INET;
    d->port = (uint16_t) (b[2] << 8 | b[3]);
    memcpy(d->addr, b + 4, 4);
    return 1;
  }
  if (sa->sa_family == AF_INET6 && len >= (socklen_t) sizeof(struct sockaddr_in6)) {
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    d->port = (uint16_t) (b[2] << 8 | b[3]);
    if (memcmp(b + 8, mapped, 12) == 0) {
      d->family = AF_INET;
      memcpy(d->addr, b + 20, 4);
    } else {
      d->family = AF_INET6;
      memcpy(d->addr, b + 8, 16);
    }
    return 1;
  }
  return 0;  /* unix, netlink, ...: not network destinations here */
}

/* 127/8, 0.0.0.0, ::1 and :: all stay on this host */
static int is_loopback(const struct dest *d)
{
  static const uint8_t zero[16], one[16] = {[15] = 1};
  if (d->family == AF_INET)
    return d->addr[0] == 127 || memcmp(d->addr, zero, 4) == 0;
  return memcmp(d->addr, one, 16) == 0 || memcmp(d->addr, zero, 16) == 0;
}

static int prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
  unsigned full = bits / 8, rest = bits % 8;
  if (memcmp(a, b, full) != 0)
    return 0;
  if (rest == 0)
    return 1;
  uint8_t m = (uint8_t) (0xff << (8 - rest));
  return (a[full] & m) == (b[full] & m);
}

/* Protect/restrict tables: deny_addr entries, then the port allow-list.
 * One pass under the seqlock; returns 1 to deny. */
static int table_denies(const struct ward_control *c, const struct dest *d)
{
  int deny = 0;
  for (int tries = 0; tries < SEQ_TRIES; tries++) {
    uint32_t g = __atomic_load_n(&c->generation, __ATOMIC_ACQUIRE);
    if (g & 1)
      continue;
    deny = 0;
    uint32_t n = __atomic_load_n(&c->n_deny_addrs, __ATOMIC_RELAXED);
    if (n > WARD_CTL_DENY_ADDRS)
      n = WARD_CTL_DENY_ADDRS;
    for (uint32_t i = 0; i < n && !deny; i++) {
      struct ward_ctl_addr a;
      memcpy(&a, (const void *) &c->deny_addr[i], sizeof(a));
      unsigned max = a.family == AF_INET ? 32 : 128;
      if (a.port && a.port != d->port)
        continue;
      if (a.family == 0)
        deny = 1;
      else if (a.family == d->family)
        deny = prefix_match(a.addr, d->addr, a.prefix > max ? max : a.prefix);
    }
    if (!deny && (__atomic_load_n(&c->policy_flags, __ATOMIC_RELAXED) & WARD_CTL_POL_CONNECT_ALLOWLIST)) {
      uint32_t np = __atomic_load_n(&c->n_connect_ports, __ATOMIC_RELAXED);
      if (np > WARD_CTL_CONNECT_PORTS)
        np = WARD_CTL_CONNECT_PORTS;
      int listed = 0;
      for (uint32_t i = 0; i < np && !listed; i++)
        listed = __atomic_load_n(&c->connect_port[i], __ATOMIC_RELAXED) == d->port;
      deny = !listed;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&c->generation, __ATOMIC_RELAXED) == g)
      return deny;
  }
  return deny;
}

static int read_sink(const struct ward_control *c, struct ward_ctl_addr *s)
{
  for (int tries = 0; tries < SEQ_TRIES; tries++) {
    uint32_t g = __atomic_load_n(&c->generation, __ATOMIC_ACQUIRE);
    if (g & 1)
      continue;
    memcpy(s, (const void *) &c->honeypot_sink, sizeof(*s));
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&c->generation, __ATOMIC_RELAXED) == g)
      break;
  }
  return s->family == AF_INET || s->family == AF_INET6;
}

static size_t put_u(char *p, unsigned v)
{
  char t[12];
  size_t k = 0, n = 0;
  do { t[k++] = (char) ('0' + v % 10); v /= 10; } while (v);
  while (k)
    p[n++] = t[--k];
  return n;
}

/* "a.b.c.d:port" or "[v6]:port" (v6 in full hex groups: no libc formatter
 * that is async-signal-safe) */
static void sink_text(const struct ward_ctl_addr *s, char *out, size_t cap)
{
  char b[80];
  size_t n = 0;
  if (s->family == AF_INET) {
    for (int i = 0; i < 4; i++) {
      n += put_u(b + n, s->addr[i]);
      b[n++] = i < 3 ? '.' : ':';
    }
  } else {
    static const char hex[] = "0123456789abcdef";
    b[n++] = '[';
    for (int i = 0; i < 16; i += 2) {
      unsigned w = (unsigned) s->addr[i] << 8 | s->addr[i + 1];
      for (int sh = 12; sh >= 0; sh -= 4)
        b[n++] = hex[(w >> sh) & 0xf];
      b[n++] = i < 14 ? ':' : ']';
    }
    b[n++] = ':';
  }
  n += put_u(b + n, s->port);
  if (n >= cap)
    n = cap - 1;
  memcpy(out, b, n);
  out[n] = 0;
}

HIDDEN int probe_enf_connect(const struct sockaddr *sa, socklen_t len, struct sockaddr_storage *red,
                             socklen_t *redlen, char *rtext, size_t tcap)
{
  const struct ward_control *c = probe_ctl;
  uint32_t mode = enf_mode(c);
  struct dest d;
  if (!parse_dest(sa, len, &d))
    return 0;
  int local = is_loopback(&d) && !(mode & WARD_CTL_MODE_NO_LOOPBACK);
  if ((mode & WARD_CTL_MODE_QUARANTINE) && !local)
    return deny_errno(c);
  if ((mode & (WARD_CTL_MODE_PROTECT | WARD_CTL_MODE_RESTRICT)) && table_denies(c, &d))
    return deny_errno(c);
  if (!(mode & WARD_CTL_MODE_HONEYPOT) || local)
    return 0;
  struct ward_ctl_addr s;
  if (!read_sink(c, &s))
    return ECONNREFUSED;  /* no sink: the outside looks closed */
  memset(red, 0, sizeof(*red));
  if (sa->sa_family == AF_INET && s.family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *) red;
    in->sin_family = AF_INET;
    in->sin_port = htons(s.port);
    memcpy(&in->sin_addr, s.addr, 4);
    *redlen = sizeof(*in);
  } else if (sa->sa_family == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) red;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(s.port);
    if (s.family == AF_INET) {
      in6->sin6_addr.s6_addr[10] = in6->sin6_addr.s6_addr[11] = 0xff;
      memcpy(in6->sin6_addr.s6_addr + 12, s.addr, 4);
    } else {
      memcpy(in6->sin6_addr.s6_addr, s.addr, 16);
    }
    *redlen = sizeof(*in6);
  } else {
    return ENETUNREACH;  /* an IPv4 socket cannot reach an IPv6 sink */
  }
  sink_text(&s, rtext, tcap);
  return PROBE_REDIRECT;
}
