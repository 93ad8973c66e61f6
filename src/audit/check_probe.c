/* Syscall reachability probes and the Landlock inference for ward check.
 *
 * Each probe calls a dangerous syscall with arguments the kernel rejects
 * before doing anything (an unknown operation, a NULL pointer it must copy
 * from, an out-of-range count), in a forked child so a filter that kills
 * (SECCOMP_RET_KILL/TRAP) cannot take ward down. EPERM/EACCES means a filter
 * or missing capability stopped it; EINVAL/EFAULT/EBADF/ESRCH/EOPNOTSUPP
 * mean it reached the kernel's argument checks, i.e. it is reachable. */
#include "audit/check.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

/* Every probe: why it cannot have an effect is next to it. */
static long p_keyctl(void) { return syscall(SYS_keyctl, 0x7fffffffL, 0L, 0L, 0L, 0L); }       /* unknown op: EOPNOTSUPP */
static long p_bpf(void) { return syscall(SYS_bpf, 0x7fffffffL, NULL, 0L); }                   /* unknown cmd: EINVAL */
static long p_perf(void) { return syscall(SYS_perf_event_open, NULL, 0L, -1L, -1L, 0L); }     /* NULL attr: EFAULT */
static long p_mount(void) { return syscall(SYS_mount, NULL, NULL, NULL, 0L, NULL); }          /* NULL target: EFAULT */
static long p_fsopen(void) { return syscall(SYS_fsopen, NULL, 0L); }                           /* NULL name: EFAULT */
static long p_init_module(void) { return syscall(SYS_init_module, NULL, 0L, ""); }             /* empty image: ENOEXEC */
static long p_finit_module(void) { return syscall(SYS_finit_module, -1L, "", 0L); }            /* fd -1: EBADF */
static long p_obha(void) { return syscall(SYS_open_by_handle_at, -1L, NULL, (long) O_RDONLY); } /* NULL handle: EFAULT */
/* UFFD_USER_MODE_ONLY passes the sysctl gate; the unknown high bit is then
 * refused before any fd exists. */
static long p_uffd(void) { return syscall(SYS_userfaultfd, (long) (UFFD_USER_MODE_ONLY | 0x40000000)); }
static long p_io_uring(void) { return syscall(SYS_io_uring_setup, 0L, NULL); }                /* NULL params: EFAULT */
static long p_clock_settime(void) { return syscall(SYS_clock_settime, (long) CLOCK_REALTIME, NULL); } /* NULL time: EFAULT */
/* Magic numbers are checked before any command: 0 never reboots. Raw
 * syscall, because glibc's reboot() would supply the magic. */
static long p_reboot(void) { return syscall(SYS_reboot, 0L, 0L, 0L, NULL); }
/* 17 segments exceed KEXEC_SEGMENT_MAX and 0x4000 is no valid flag; note a
 * zero-segment call would unload the crash kernel, so never use 0. */
static long p_kexec(void) { return syscall(SYS_kexec_load, 0L, 17L, NULL, 0x4000L); }
static long p_ptrace(void) { return syscall(SYS_ptrace, 0x7fffL, 0L, 0L, 0L); }               /* pid 0 never exists: ESRCH */
static long p_unshare(void) { return syscall(SYS_unshare, 0x1L); }                             /* CSIGNAL bits: EINVAL */
static long p_setns(void) { return syscall(SYS_setns, -1L, 0L); }                               /* fd -1: EBADF */
static long p_swapon(void) { return syscall(SYS_swapon, NULL, 0L); }                            /* NULL path: EFAULT */
static long p_syslog(void) { return syscall(SYS_syslog, 10L, NULL, 0L); }                       /* SIZE_BUFFER reads a number */
static long p_add_key(void) { return syscall(SYS_add_key, NULL, NULL, NULL, 0L, 0L); }          /* NULL type: EFAULT */
static long p_pivot_root(void) { return syscall(SYS_pivot_root, NULL, NULL); }                  /* NULL paths: EFAULT */
#if defined(__x86_64__) || defined(__i386__)
static long p_iopl(void) { return syscall(SYS_iopl, 99L); }                                     /* level > 3: EINVAL */
static long p_ioperm(void) { return syscall(SYS_ioperm, 0L, 0L, 0L); }                          /* empty range: EINVAL */
#endif

static const struct { const char *name; long (*fn)(void); } probes[] = {
  {"keyctl", p_keyctl}, {"add_key", p_add_key}, {"bpf", p_bpf}, {"perf_event_open", p_perf},
  {"mount", p_mount}, {"fsopen", p_fsopen}, {"pivot_root", p_pivot_root}, {"init_module", p_init_module},
  {"finit_module", p_finit_module}, {"open_by_handle_at", p_obha}, {"userfaultfd", p_uffd},
  {"io_uring_setup", p_io_uring}, {"clock_settime", p_clock_settime}, {"reboot", p_reboot},
  {"kexec_load", p_kexec}, {"ptrace", p_ptrace}, {"unshare", p_unshare}, {"setns", p_setns},
  {"swapon", p_swapon}, {"syslog", p_syslog},
#if defined(__x86_64__) || defined(__i386__)
  {"iopl", p_iopl}, {"ioperm", p_ioperm},
#endif
};

const char *ward_probe_verdict_name(enum ward_probe_verdict v)
{
  switch (v) {
  case WARD_PROBE_REACHABLE: return "reachable";
  case WARD_PROBE_BLOCKED: return "blocked";
  case WARD_PROBE_KILLED: return "killed";
  default: return "unavailable";
  }
}

/* Runs fn in a child; the child's exit code carries errno (0: success). */
static void run_child(long (*fn)(void), int *err, int *sig)
{
  *err = 0;
  *sig = 0;
  pid_t pid = fork();
  if (pid < 0) {
    *err = -errno;
    return;
  }
  if (pid == 0) {
    long rc = fn();
    _exit(rc < 0 ? (errno & 0xff) : 0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFSIGNALED(status))
    *sig = WTERMSIG(status);
  else
    *err = WEXITSTATUS(status);
}

void ward_check_probe_syscalls(struct ward_check_report *r)
{
  for (size_t i = 0; i < ARRAY_SIZE(probes) && r->nprobes < WARD_CHECK_MAX_PROBES; i++) {
    struct ward_check_probe *p = &r->probes[r->nprobes++];
    p->name = probes[i].name;
    run_child(probes[i].fn, &p->err, &p->sig);
    if (p->sig)
      p->verdict = WARD_PROBE_KILLED;
    else if (p->err == EPERM || p->err == EACCES)
      p->verdict = WARD_PROBE_BLOCKED;
    else if (p->err == ENOSYS)
      /* A filter returning ENOSYS (crun's and podman's default action)
       * looks like a kernel without the syscall; under seccomp, assume the
       * filter. */
      p->verdict = r->seccomp_mode == 2 ? WARD_PROBE_BLOCKED : WARD_PROBE_UNAVAILABLE;
    else
      p->verdict = WARD_PROBE_REACHABLE;
  }
}

const struct ward_check_probe *ward_check_find_probe(const struct ward_check_report *r, const char *name)
{
  for (size_t i = 0; i < r->nprobes; i++)
    if (strcmp(r->probes[i].name, name) == 0)
      return &r->probes[i];
  return NULL;
}

/* The child's new user namespace dies with it. */
static long p_userns(void) { return syscall(SYS_unshare, (long) CLONE_NEWUSER); }

static bool dac_allows(const struct stat *st, const struct ward_check_report *r, int want)
{
  if (r->cap_eff & (1ULL << 1)) /* CAP_DAC_OVERRIDE */
    return true;
  mode_t m = st->st_mode;
  if (st->st_uid == r->euid)
    return (m & (want == R_OK ? S_IRUSR : S_IWUSR)) != 0;
  return (m & (want == R_OK ? S_IROTH : S_IWOTH)) != 0;
}

/* Landlock has no "am I sandboxed" query. What is observable: an open that
 * file permissions allow but that fails with EACCES. Landlock is the
 * usual cause inside containers; another LSM (AppArmor, SELinux) is the
 * other, and the report shows the LSM label next to it. A domain that
 * allows every path tried here stays invisible. */
void ward_check_probe_landlock(struct ward_check_report *r)
{
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0L, (long) LANDLOCK_CREATE_RULESET_VERSION);
  r->landlock_abi = abi < 0 ? -errno : (int) abi;
  int e, sig;
  run_child(p_userns, &e, &sig);
  r->userns_create = e == 0 && sig == 0;
  r->userns_create_err = sig ? -sig : e;

  static const struct { const char *path; int flags; int want; } tries[] = {
    {"/", O_RDONLY | O_DIRECTORY, R_OK}, {"/etc", O_RDONLY | O_DIRECTORY, R_OK},
    {"/proc/self/status", O_RDONLY, R_OK}, {"/etc/passwd", O_RDONLY, R_OK},
    {"/tmp", O_RDONLY | O_DIRECTORY, R_OK}, {"/dev/null", O_WRONLY, W_OK},
    {"/usr", O_RDONLY | O_DIRECTORY, R_OK},
  };
  r->landlock_domain = 0;
  for (size_t i = 0; i < ARRAY_SIZE(tries); i++) {
    struct stat st;
    if (stat(tries[i].path, &st) < 0 || !dac_allows(&st, r, tries[i].want))
      continue;
    int fd = open(tries[i].path, tries[i].flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd >= 0) {
      close(fd);
      continue;
    }
    if (errno == EACCES) {
      size_t used = strlen(r->landlock_evidence);
      snprintf(r->landlock_evidence + used, sizeof(r->landlock_evidence) - used, "%s%s", used ? ", " : "open: EACCES on ",
               tries[i].path);
      r->landlock_domain = r->landlock_abi > 0 ? 1 : 0;
    }
  }
}
