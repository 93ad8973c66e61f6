/* Syscall reachability probes and the Landlock inference for ward check.
 *
 * "Reachable" means this process can use the call: no filter stops it and,
 * for a call the kernel gates on a capability or sysctl, the gate lets it
 * through. So each probe uses arguments that pass the permission checks
 * and are refused only after them, inside the call's body, with an errno
 * that nothing earlier returns (its `reach` list): a probe whose bad
 * argument is caught before the capability check would call a process
 * without the capability "reachable". Every probe runs in a forked child,
 * so a filter that kills (SECCOMP_RET_KILL/TRAP) cannot take ward down, and
 * nothing a probe reaches acts beyond that child (see each one).
 *
 * Blocked: EPERM/EACCES (a filter, a missing capability or a sysctl; the
 * same for this process), ENOSYS under a filter (crun's and podman's
 * default action), or the errno the filter returns for a syscall number no
 * kernel has (learnt first: a profile whose default is, say, ENOLINK). */
#include "audit/check.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/landlock.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

/* A probe that could not set itself up (no /proc, say): exit code 255,
 * above every errno, and the verdict "unavailable". */
#define NO_PROBE 255
/* No kernel has this syscall; a filter answers it with its default action. */
#define NO_SUCH_SYSCALL 0x7ffeL

/* Capability-free calls: the filter alone decides. */
static long p_keyctl(void) { return syscall(SYS_keyctl, 0x7fffffffL, 0L, 0L, 0L, 0L); }       /* unknown op: EOPNOTSUPP */
static long p_add_key(void) { return syscall(SYS_add_key, NULL, NULL, NULL, 0L, 0L); }          /* NULL type: EFAULT */
/* UFFD_USER_MODE_ONLY passes the sysctl gate; the unknown high bit is then
 * refused before any fd exists. */
static long p_uffd(void) { return syscall(SYS_userfaultfd, (long) (UFFD_USER_MODE_ONLY | 0x40000000)); }
/* kernel.io_uring_disabled is checked first (EPERM); NULL params: EFAULT. */
static long p_io_uring(void) { return syscall(SYS_io_uring_setup, 0L, NULL); }
/* A process may trace its own children without a capability, so the call
 * itself is what is probed: no task has pid 0 (ESRCH). Tracing others needs
 * CAP_SYS_PTRACE (and Yama), which the battery's ptrace_host measures. */
static long p_ptrace(void) { return syscall(SYS_ptrace, 0x7fffL, 0L, 0L, 0L); }
/* CSIGNAL bits are invalid: EINVAL. Creating a user namespace is the
 * dangerous form and is probed on its own (user_namespace_creation). */
static long p_unshare(void) { return syscall(SYS_unshare, 0x1L); }

/* Calls whose capability (or sysctl) check comes before the bad argument. */
static long p_fsopen(void) { return syscall(SYS_fsopen, NULL, 0L); }                 /* CAP_SYS_ADMIN, then NULL name: EFAULT */
static long p_pivot_root(void) { return syscall(SYS_pivot_root, NULL, NULL); }       /* may_mount, then EFAULT */
static long p_init_module(void) { return syscall(SYS_init_module, NULL, 0L, ""); }   /* CAP_SYS_MODULE, then a 0-byte image: ENOEXEC */
static long p_finit_module(void) { return syscall(SYS_finit_module, -1L, "", 0L); }  /* CAP_SYS_MODULE, then fd -1: EBADF */
/* CAP_SYS_BOOT first, then the magic numbers (raw syscall: glibc's reboot()
 * would supply them); 0 never reboots. */
static long p_reboot(void) { return syscall(SYS_reboot, 0L, 0L, 0L, NULL); }
/* CAP_SYS_BOOT first; 17 segments exceed KEXEC_SEGMENT_MAX and 0x4000 is no
 * valid flag. Never 0 segments: that would unload the crash kernel. */
static long p_kexec(void) { return syscall(SYS_kexec_load, 0L, 17L, NULL, 0x4000L); }
static long p_swapon(void) { return syscall(SYS_swapon, NULL, 0L); }                 /* CAP_SYS_ADMIN, then EFAULT */
static long p_syslog(void) { return syscall(SYS_syslog, 10L, NULL, 0L); }            /* dmesg_restrict gate; SIZE_BUFFER reads a number */
/* The path is looked up, then may_mount() (CAP_SYS_ADMIN over the mount
 * namespace); a new mount without a file-system type is refused first
 * thing after: EINVAL. (A NULL target faults before the capability check.) */
static long p_mount(void) { return syscall(SYS_mount, NULL, "/", NULL, 0L, NULL); }
/* BPF_PROG_LOAD checks kernel.unprivileged_bpf_disabled against CAP_BPF
 * before the instruction count, and zero instructions are E2BIG. (An unknown
 * command is EINVAL for everyone.) With the sysctl off, E2BIG without the
 * capability is right: unprivileged socket filters are reachable. */
static long p_bpf(void)
{
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  return syscall(SYS_bpf, (long) BPF_PROG_LOAD, &a, (long) sizeof(a));
}
/* A software counter on this thread that counts kernel time: the
 * perf_event_paranoid / CAP_PERFMON check (EACCES) comes before the sample
 * period, whose top bit is refused (EINVAL) before any event exists. */
static long p_perf(void)
{
  struct perf_event_attr a;
  memset(&a, 0, sizeof(a));
  a.size = sizeof(a);
  a.type = PERF_TYPE_SOFTWARE;
  a.config = PERF_COUNT_SW_CPU_CLOCK;
  a.sample_period = 1ULL << 63;
  return syscall(SYS_perf_event_open, &a, 0L, -1L, -1L, 0L);
}
/* Joining the UTS namespace this process is already in: the install checks
 * CAP_SYS_ADMIN and then changes nothing. (A bad fd is EBADF for everyone.) */
static long p_setns(void)
{
  int fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    _exit(NO_PROBE);
  return syscall(SYS_setns, (long) fd, (long) CLONE_NEWUTS);
}
/* A well-formed handle (8 bytes, FILEID_INO32_GEN) for inode 0 generation 0
 * on the working directory's file system (AT_FDCWD: no open, which Landlock
 * could refuse): CAP_DAC_READ_SEARCH is checked, then the file system finds
 * no such inode (ESTALE; EOPNOTSUPP where it cannot decode handles). A NULL
 * handle or a bad fd fails before the capability check. */
static long p_obha(void)
{
  struct { unsigned int bytes; int type; unsigned char h[8]; } fh = {8, 1, {0}};
  return syscall(SYS_open_by_handle_at, (long) AT_FDCWD, &fh, (long) O_RDONLY);
}
/* clock_settime copies and checks the time before CAP_SYS_TIME, so a bad
 * time says only that no filter stopped it. The capability is then probed
 * with settimeofday(NULL, timezone 24 h west): CAP_SYS_TIME, then the zone
 * is refused (EINVAL) before anything is set. */
static long p_clock_settime(void)
{
  if (syscall(SYS_clock_settime, (long) CLOCK_REALTIME, NULL) == 0 || errno != EFAULT)
    return -1;
  struct timezone tz = {.tz_minuteswest = 24 * 60 + 1};
  return syscall(SYS_settimeofday, NULL, &tz);
}
#if defined(__x86_64__) || defined(__i386__)
/* Raising the I/O privilege level needs CAP_SYS_RAWIO (EPERM); with it the
 * child holds port access and exits without an I/O instruction. (Level 99
 * is EINVAL before the capability check.) */
static long p_iopl(void) { return syscall(SYS_iopl, 3L); }
/* Turning one port on (0x80, the POST port) needs CAP_SYS_RAWIO; as for
 * iopl the child exits without touching it. */
static long p_ioperm(void) { return syscall(SYS_ioperm, 0x80L, 1L, 1L); }
#endif

#define REACH(...) {__VA_ARGS__, -1}
static const struct {
  const char *name;
  long (*fn)(void);
  int reach[4];  /* errnos (0: success) that only the call's body returns; -1 ends */
} probes[] = {
  {"keyctl", p_keyctl, REACH(EOPNOTSUPP)}, {"add_key", p_add_key, REACH(EFAULT)},
  {"bpf", p_bpf, REACH(E2BIG)}, {"perf_event_open", p_perf, REACH(EINVAL)},
  {"mount", p_mount, REACH(EINVAL)}, {"fsopen", p_fsopen, REACH(EFAULT)},
  {"pivot_root", p_pivot_root, REACH(EFAULT)}, {"init_module", p_init_module, REACH(ENOEXEC)},
  {"finit_module", p_finit_module, REACH(EBADF)}, {"open_by_handle_at", p_obha, REACH(ESTALE, EOPNOTSUPP)},
  {"userfaultfd", p_uffd, REACH(EINVAL)}, {"io_uring_setup", p_io_uring, REACH(EFAULT)},
  {"clock_settime", p_clock_settime, REACH(EINVAL)}, {"reboot", p_reboot, REACH(EINVAL)},
  {"kexec_load", p_kexec, REACH(EINVAL)}, {"ptrace", p_ptrace, REACH(ESRCH)},
  {"unshare", p_unshare, REACH(EINVAL)}, {"setns", p_setns, REACH(0)},
  {"swapon", p_swapon, REACH(EFAULT)}, {"syslog", p_syslog, REACH(0)},
#if defined(__x86_64__) || defined(__i386__)
  {"iopl", p_iopl, REACH(0)}, {"ioperm", p_ioperm, REACH(0)},
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

static long p_no_such_syscall(void) { return syscall(NO_SUCH_SYSCALL, 0L, 0L, 0L, 0L, 0L); }

static bool reaches(const int *reach, int err)
{
  for (size_t i = 0; i < 4 && reach[i] >= 0; i++)
    if (reach[i] == err)
      return true;
  return false;
}

void ward_check_probe_syscalls(struct ward_check_report *r)
{
  /* What the filter answers for a call it cannot know: without a filter (or
   * one that allows by default) the kernel's ENOSYS. */
  int filter_errno = 0, filter_sig = 0;
  if (r->seccomp_mode == 2)
    run_child(p_no_such_syscall, &filter_errno, &filter_sig);
  for (size_t i = 0; i < ARRAY_SIZE(probes) && r->nprobes < WARD_CHECK_MAX_PROBES; i++) {
    struct ward_check_probe *p = &r->probes[r->nprobes++];
    p->name = probes[i].name;
    run_child(probes[i].fn, &p->err, &p->sig);
    if (p->sig)
      p->verdict = WARD_PROBE_KILLED;
    else if (p->err == NO_PROBE)
      p->verdict = WARD_PROBE_UNAVAILABLE;
    else if (reaches(probes[i].reach, p->err))
      p->verdict = WARD_PROBE_REACHABLE;
    else if (p->err == EPERM || p->err == EACCES)
      p->verdict = WARD_PROBE_BLOCKED;
    else if (p->err == ENOSYS)
      /* A filter returning ENOSYS looks like a kernel without the syscall;
       * under seccomp, assume the filter. */
      p->verdict = r->seccomp_mode == 2 ? WARD_PROBE_BLOCKED : WARD_PROBE_UNAVAILABLE;
    else if (r->seccomp_mode == 2 && filter_errno > 0 && p->err == filter_errno)
      p->verdict = WARD_PROBE_BLOCKED;
    else
      /* An errno neither the body nor a gate explains: the call was not
       * stopped by anything recognised, so err on the side of exposure. */
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
