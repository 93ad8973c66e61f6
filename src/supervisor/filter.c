/* Filter side: compile the notify filter in the parent, install it in the
 * container's init. */
#include "supervisor/supervisor.h"
#include "supervisor/table.h"
#include "seccomp/bpf_cache.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/filter.h>
#include <nettle/sha2.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

struct ward_supervisor_prog {
  struct sock_fprog fprog;
  struct sock_filter insns[];
};

/* Calls made constantly by ordinary programs: notifying any of them would
 * put a round trip into every loop iteration, so the builder refuses them.
 * Files are the probe's and Landlock's business, not the supervisor's. */
static const char *const hot_syscalls[] = {
  "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
  "preadv2", "pwritev2", "open", "openat", "openat2", "close", "close_range",
  "stat", "fstat", "lstat", "newfstatat", "statx", "lseek", "access", "faccessat",
  "faccessat2", "getdents64", "readlink", "readlinkat", "fcntl", "ioctl", "dup",
  "dup2", "dup3", "futex", "futex_waitv", "poll", "ppoll", "select", "pselect6",
  "epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl", "recvfrom", "sendto",
  "recvmsg", "sendmsg", "recvmmsg", "sendmmsg", "accept", "accept4", "socket",
  "mmap", "munmap", "mprotect", "madvise", "brk", "mremap", "clock_gettime",
  "gettimeofday", "time", "nanosleep", "clock_nanosleep", "sched_yield",
  "getpid", "gettid", "getuid", "geteuid", "getgid", "getegid", "rt_sigaction",
  "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "io_uring_enter",
  "io_getevents", "io_submit", "exit", "exit_group", "wait4", "waitid",
  "restart_syscall", "rseq", "sched_getaffinity", "getrandom", "pipe", "pipe2",
  "eventfd2", "timerfd_settime", "splice", "sendfile", "fsync", "fdatasync",
  "set_robust_list", "clone3", "fork", "vfork", "kill", "tgkill",
  NULL,
};

bool ward_supervisor_is_hot(const char *name)
{
  for (const char *const *p = hot_syscalls; *p; p++)
    if (strcmp(*p, name) == 0)
      return true;
  return false;
}

static const char *default_names[128];
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void)
{
  unsigned k = 0;
  for (unsigned i = 0; i < sv_table_len && k + 1 < ARRAY_SIZE(default_names); i++)
    if (sv_table[i].dflt)
      default_names[k++] = sv_table[i].name;
  default_names[k] = NULL;
}

const char *const *ward_supervisor_default_syscalls(void)
{
  pthread_once(&default_once, default_init);
  return default_names;
}

static bool in_list(const char *const *v, const char *name)
{
  for (; v && *v; v++)
    if (strcmp(*v, name) == 0)
      return true;
  return false;
}

static void ctx_release(scmp_filter_ctx *c) { if (*c) seccomp_release(*c); }

/* clone is fork and pthread_create: only the namespace-creating forms are
 * worth a round trip, so one rule per CLONE_NEW* bit. clone3 passes its
 * flags in memory, which BPF cannot see, and is not watched. */
static int add_clone_rules(scmp_filter_ctx ctx, ward_error_t *err)
{
  static const unsigned long ns_flags[] = {
    CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWUTS,
    CLONE_NEWIPC, CLONE_NEWCGROUP, 0x00000080 /* CLONE_NEWTIME */,
  };
  for (size_t i = 0; i < ARRAY_SIZE(ns_flags); i++) {
    int r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(clone), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
    if (r < 0)
      return ward_error(err, -r, "supervisor: clone rule");
  }
  return 0;
}

static int add_name(scmp_filter_ctx ctx, const char *name, ward_error_t *err)
{
  if (ward_supervisor_is_hot(name))
    return ward_error(err, 0, "supervisor: refusing to watch hot syscall \"%s\"", name);
  if (strcmp(name, "clone") == 0)
    return add_clone_rules(ctx, err);
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR)
    return ward_error(err, 0, "supervisor: unknown syscall \"%s\"", name);
  int r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
  if (r < 0)
    return ward_error(err, -r, "supervisor: rule for \"%s\"", name);
  /* i386 spells the 32-bit-id calls differently; watch both spellings. */
  for (unsigned i = 0; i < sv_table_len; i++) {
    if (!sv_table[i].native || strcmp(sv_table[i].native, name) != 0)
      continue;
    r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name(sv_table[i].name), 0);
    if (r < 0)
      return ward_error(err, -r, "supervisor: rule for \"%s\"", sv_table[i].name);
  }
  return 0;
}

/* libseccomp 2.5 exports BPF only to an fd; a memfd keeps it in memory. */
static int export_bpf(scmp_filter_ctx ctx, struct ward_supervisor_prog **out, ward_error_t *err)
{
  _cleanup_close_ int fd = memfd_create("ward-supervisor-bpf", MFD_CLOEXEC);
  if (fd < 0)
    return ward_error_sys(err, "supervisor: memfd_create");
  int r = seccomp_export_bpf(ctx, fd);
  if (r < 0)
    return ward_error(err, -r, "supervisor: exporting BPF");
  struct stat st;
  if (fstat(fd, &st) < 0)
    return ward_error_sys(err, "supervisor: fstat");
  size_t n = (size_t)st.st_size / sizeof(struct sock_filter);
  if (n == 0 || n > BPF_MAXINSNS || (size_t)st.st_size % sizeof(struct sock_filter))
    return ward_error(err, 0, "supervisor: compiled filter has a bad size (%lld bytes)",
                      (long long)st.st_size);
  _cleanup_free_ struct ward_supervisor_prog *p =
    calloc(1, sizeof(*p) + n * sizeof(struct sock_filter));
  if (!p)
    return ward_error(err, ENOMEM, "supervisor: filter");
  if (pread(fd, p->insns, n * sizeof(struct sock_filter), 0) != (ssize_t)(n * sizeof(struct sock_filter)))
    return ward_error_sys(err, "supervisor: reading the compiled filter");
  p->fprog.len = (unsigned short)n;
  p->fprog.filter = p->insns;
  *out = steal_pointer(&p);
  return 0;
}

int ward_supervisor_build(const struct ward_supervisor_config *cfg,
                          struct ward_supervisor_prog **out, ward_error_t *err)
{
  static const struct ward_supervisor_config none;
  if (!cfg)
    cfg = &none;
  _cleanup_(ctx_release) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx)
    return ward_error(err, ENOMEM, "supervisor: seccomp_init");
  /* This filter only observes: arch policy belongs to the main filter. */
  int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
  if (r == 0)
    /* Binary search over the syscall number keeps unwatched (hot) calls at
     * a handful of BPF instructions however long the watched list gets. */
    r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (r < 0)
    return ward_error(err, -r, "supervisor: filter attributes");
#if defined(__x86_64__)
  if (!cfg->native_only) {
    if ((r = seccomp_arch_add(ctx, SCMP_ARCH_X86)) < 0 || (r = seccomp_arch_add(ctx, SCMP_ARCH_X32)) < 0)
      return ward_error(err, -r, "supervisor: adding compat architectures");
  }
#endif
  const char *const *base = cfg->syscalls ? cfg->syscalls : ward_supervisor_default_syscalls();
  unsigned watched = 0;
  for (const char *const *p = base; *p; p++) {
    if (in_list(cfg->remove, *p))
      continue;
    if (add_name(ctx, *p, err) < 0)
      return -1;
    watched++;
  }
  for (const char *const *p = cfg->add; p && *p; p++) {
    if (in_list(base, *p) || in_list(cfg->remove, *p))
      continue;
    if (add_name(ctx, *p, err) < 0)
      return -1;
    watched++;
  }
  if (!watched)
    return ward_error(err, 0, "supervisor: the watched syscall set is empty");
  return export_bpf(ctx, out, err);
}

/* The cache (ward_supervisor_build_cached). Bump WARD_SUPERVISOR_FORMAT
 * whenever what a name compiles to changes (add_name, add_clone_rules,
 * export_bpf): the key covers the names, the i386 spellings, the
 * architectures and libseccomp's version, not this file's code. */
#define WARD_SUPERVISOR_FORMAT 2
#define SV_CACHE_MAGIC "WARDSV01"

/* a field of the key: its tag and value, each with its NUL, so that no two
 * different lists hash the same bytes */
static void key_add(struct sha256_ctx *c, const char *tag, const char *value)
{
  sha256_update(c, strlen(tag) + 1, (const uint8_t *) tag);
  sha256_update(c, strlen(value) + 1, (const uint8_t *) value);
}

/* Every input of ward_supervisor_build, in the order it uses them, hashed
 * as it comes: formatting them first (a memory stream, a printf per name)
 * took 20-30 us of every supervised start-up, more than the cache saves
 * over a second build. */
static int cache_key(const struct ward_supervisor_config *cfg, char key[65])
{
  struct sha256_ctx c;
  sha256_init(&c);
  const struct scmp_version *v = seccomp_version();
  const uint32_t head[] = {WARD_SUPERVISOR_FORMAT, v->major, v->minor, v->micro, seccomp_arch_native(), cfg->native_only};
  sha256_update(&c, sizeof(head), (const uint8_t *) head);
  const char *const *base = cfg->syscalls ? cfg->syscalls : ward_supervisor_default_syscalls();
  for (const char *const *n = base; *n; n++)
    key_add(&c, "base", *n);
  for (const char *const *n = cfg->add; n && *n; n++)
    key_add(&c, "add", *n);
  for (const char *const *n = cfg->remove; n && *n; n++)
    key_add(&c, "remove", *n);
  for (unsigned i = 0; i < sv_table_len; i++)
    if (sv_table[i].native) {
      key_add(&c, "alias", sv_table[i].name);
      key_add(&c, "of", sv_table[i].native);
    }
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&c, sizeof(digest), digest);
  ward_sha256_digest_hex(digest, key);
  return 0;
}

/* 1 and *out set when path holds a sound program for key; else 0. */
static int cache_read(const char *path, const char *key, struct ward_supervisor_prog **out)
{
  _cleanup_free_ struct sock_filter *insns = NULL;
  size_t n = 0;
  const char *why = NULL;
  if (ward_bpf_cache_read(path, SV_CACHE_MAGIC, key, &insns, &n, &why) != 1)
    return 0;
  struct ward_supervisor_prog *p = calloc(1, sizeof(*p) + n * sizeof(struct sock_filter));
  if (p == NULL)
    return 0;
  memcpy(p->insns, insns, n * sizeof(struct sock_filter));
  p->fprog.len = (unsigned short) n;
  p->fprog.filter = p->insns;
  *out = p;
  return 1;
}

/* A cache that cannot be written only costs the next start-up time. */
static void cache_write(const char *dir, const char *path, const char *key, const struct ward_supervisor_prog *p)
{
  _cleanup_error_ ward_error_t err = NULL;
  (void) ward_bpf_cache_write(dir, path, SV_CACHE_MAGIC, key, p->insns, p->fprog.len, &err);
}

int ward_supervisor_build_cached(const struct ward_supervisor_config *cfg, const char *cache_dir,
                                 struct ward_supervisor_prog **out, ward_error_t *err)
{
  static const struct ward_supervisor_config none;
  char key[65];
  _cleanup_free_ char *path = NULL;
  if (cache_dir && cache_key(cfg ? cfg : &none, key) == 0 && asprintf(&path, "%s/supervisor-%s.bpf", cache_dir, key) < 0)
    path = NULL;
  if (path && cache_read(path, key, out) == 1)
    return 0;
  if (ward_supervisor_build(cfg, out, err) < 0)
    return -1;
  if (path)
    cache_write(cache_dir, path, key, *out);
  return 0;
}

void ward_supervisor_prog_free(struct ward_supervisor_prog *p) { free(p); }

size_t ward_supervisor_prog_len(const struct ward_supervisor_prog *p) { return p ? p->fprog.len : 0; }

int ward_supervisor_install(const struct ward_supervisor_prog *p, int *listener, ward_error_t *err)
{
  *listener = -1;
  /* WAIT_KILLABLE_RECV: once the supervisor has received a notification,
   * only a fatal signal interrupts the waiting call. Without it every
   * non-fatal signal (Go's preemption SIGURG, timers) aborts the pending
   * call, which restarts and is notified again: a restart storm that can
   * starve the workload. Kernels before 5.19 reject the flag (EINVAL). */
  unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p->fprog);
  if (fd < 0 && errno == EINVAL)
    fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &p->fprog);
  if (fd < 0) {
    int e = errno;
    if (e == EACCES)
      return ward_error(err, e, "supervisor: installing the notify filter needs no_new_privs or CAP_SYS_ADMIN");
    if (e == EBUSY)
      return ward_error(err, e, "supervisor: this thread already has a notify listener filter");
    return ward_error(err, e, "supervisor: installing the notify filter");
  }
  /* The kernel creates the listener close-on-exec; nothing to add. */
  *listener = (int)fd;
  return 0;
}
