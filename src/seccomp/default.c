/* ward's built-in default profile: the policy of Docker's default seccomp
 * profile (moby 25 and later), kept as a table of groups with the same
 * conditions a Docker profile has (capabilities, architecture, kernel) and
 * resolved for a target into the OCI form.
 *
 * Design: deny by default with EPERM; allow what an unprivileged process
 * needs; open the capability-gated groups only when the container holds the
 * capability, since seccomp would otherwise be the only thing standing
 * between, say, a CAP_SYS_ADMIN container and mount(2) — and a container
 * with the capability may use it anyway. */
#include "seccomp/internal.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>
#include <sched.h>
#include <linux/capability.h>
#include <linux/personality.h>
#include <sys/socket.h>

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Everything an ordinary process uses. Not here, so denied with EPERM unless
 * a group below opens them: keyctl, add_key, request_key, bpf,
 * perf_event_open, kexec_load, kexec_file_load, open_by_handle_at, the
 * module calls, mount/umount2 and the new mount API, unshare, setns, clone
 * with namespace flags, userfaultfd, clock_settime, settimeofday, reboot,
 * swapon, swapoff, io_uring_*, acct, quotactl, lookup_dcookie, vm86,
 * nfsservctl, uselib, ustat, sysfs, pivot_root, chroot, ptrace before 4.8. */
static const char *const allow_base[] = {
  "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
  "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
  "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
  "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
  "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
  "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
  "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
  "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
  "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
  "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
  "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
  "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
  "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
  "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
  "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
  "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area",
  "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch",
  "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy",
  "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set",
  "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
  "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
  "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
  "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret",
  "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
  "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
  "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
  "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
  "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2",
  "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
  "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
  "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
  "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom",
  "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
  "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
  "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
  "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
  "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
  "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
  "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
  "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
  "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid",
  "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
  "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
  "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
  "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
  "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4",
  "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
  "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo",
  "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
  "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
  "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate",
  "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
  "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
  "writev", NULL,
};

#define CLONE_NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
                        CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)

struct group {
  const char *const *names;
  enum ward_scmp_action action;
  uint32_t errno_ret;            /* ERRNO only */
  struct ward_seccomp_arg arg;   /* used when has_arg */
  bool has_arg;
  int cap;                       /* CAP(n): applies only with capability n */
  int not_cap;                   /* NOT_CAP(n): applies only without it */
  const char *arches;            /* Docker arch names, space-separated; NULL: all */
  const char *not_arches;
  unsigned min_kernel;           /* major << 8 | minor */
};

/* capabilities are stored plus one so that an omitted field means "none" */
#define CAP(n) .cap = (n) + 1
#define NOT_CAP(n) .not_cap = (n) + 1
#define ALLOW(n, ...) {.names = (n), .action = WARD_SCMP_ALLOW, __VA_ARGS__}
#define ARG(i, op_, v) .has_arg = true, .arg = {.index = (i), .value = (v), .op = (op_)}

static const struct group groups[] = {
  ALLOW(allow_base),
  /* AF_VSOCK reaches the host's hypervisor services */
  ALLOW(NAMES("socket"), ARG(0, SCMP_CMP_NE, AF_VSOCK)),
  /* personality(2) only for the harmless personas and the query */
  ALLOW(NAMES("personality"), ARG(0, SCMP_CMP_EQ, PER_LINUX)),
  ALLOW(NAMES("personality"), ARG(0, SCMP_CMP_EQ, PER_LINUX32)),
  ALLOW(NAMES("personality"), ARG(0, SCMP_CMP_EQ, UNAME26)),
  ALLOW(NAMES("personality"), ARG(0, SCMP_CMP_EQ, UNAME26 | PER_LINUX32)),
  ALLOW(NAMES("personality"), ARG(0, SCMP_CMP_EQ, 0xffffffffu)),
  /* since 4.8 seccomp is re-checked after a ptracer changes a syscall */
  ALLOW(NAMES("process_vm_readv", "process_vm_writev", "ptrace"), .min_kernel = 4 << 8 | 8),
  ALLOW(NAMES("sync_file_range2", "swapcontext"), .arches = "ppc64le"),
  ALLOW(NAMES("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
              "cacheflush", "set_tls"), .arches = "arm arm64"),
  ALLOW(NAMES("arch_prctl"), .arches = "amd64 x32"),
  ALLOW(NAMES("modify_ldt"), .arches = "amd64 x32 x86"),
  ALLOW(NAMES("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"), .arches = "s390 s390x"),
  ALLOW(NAMES("riscv_flush_icache"), .arches = "riscv64"),
  ALLOW(NAMES("open_by_handle_at"), CAP(CAP_DAC_READ_SEARCH)),
  ALLOW(NAMES("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
              "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
              "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
              "umount2", "unshare"), CAP(CAP_SYS_ADMIN)),
  /* clone without namespace flags; s390 swaps the first two arguments */
  ALLOW(NAMES("clone"), ARG(0, SCMP_CMP_MASKED_EQ, CLONE_NS_FLAGS), NOT_CAP(CAP_SYS_ADMIN),
        .not_arches = "s390 s390x"),
  ALLOW(NAMES("clone"), ARG(1, SCMP_CMP_MASKED_EQ, CLONE_NS_FLAGS), NOT_CAP(CAP_SYS_ADMIN),
        .arches = "s390 s390x"),
  /* clone3 passes its flags in memory seccomp cannot read: ENOSYS makes
   * glibc fall back to clone, whose flags the rule above checks. */
  {.names = NAMES("clone3"), .action = WARD_SCMP_ERRNO, .errno_ret = ENOSYS,
   NOT_CAP(CAP_SYS_ADMIN)},
  ALLOW(NAMES("reboot"), CAP(CAP_SYS_BOOT)),
  ALLOW(NAMES("chroot"), CAP(CAP_SYS_CHROOT)),
  ALLOW(NAMES("delete_module", "init_module", "finit_module"), CAP(CAP_SYS_MODULE)),
  ALLOW(NAMES("acct"), CAP(CAP_SYS_PACCT)),
  ALLOW(NAMES("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev",
              "ptrace"), CAP(CAP_SYS_PTRACE)),
  ALLOW(NAMES("iopl", "ioperm"), CAP(CAP_SYS_RAWIO)),
  ALLOW(NAMES("settimeofday", "stime", "clock_settime", "clock_settime64"), CAP(CAP_SYS_TIME)),
  ALLOW(NAMES("vhangup"), CAP(CAP_SYS_TTY_CONFIG)),
  ALLOW(NAMES("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"), CAP(CAP_SYS_NICE)),
  ALLOW(NAMES("syslog"), CAP(CAP_SYSLOG)),
  ALLOW(NAMES("bpf"), CAP(CAP_BPF)),
  ALLOW(NAMES("perf_event_open"), CAP(CAP_PERFMON)),
  /* ward's addition: syscalls newer than Docker's list fail with ENOSYS,
   * not EPERM, so libc treats them as absent and falls back (runc patches
   * its filters to the same end). */
  {.names = NAMES("statmount", "listmount", "lsm_get_self_attr", "lsm_set_self_attr",
                  "lsm_list_modules", "mseal", "setxattrat", "getxattrat", "listxattrat",
                  "removexattrat", "open_tree_attr", "file_getattr", "file_setattr"),
   .action = WARD_SCMP_ERRNO, .errno_ret = ENOSYS},
};

/* Docker's archMap: the compat ABIs each native architecture can run. */
static const struct {
  const char *native;
  const char *subs[3];
} arch_map[] = {
  {"SCMP_ARCH_X86_64", {"SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
  {"SCMP_ARCH_AARCH64", {"SCMP_ARCH_ARM"}},
  {"SCMP_ARCH_MIPS64", {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"}},
  {"SCMP_ARCH_MIPS64N32", {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"}},
  {"SCMP_ARCH_MIPSEL64", {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"}},
  {"SCMP_ARCH_MIPSEL64N32", {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"}},
  {"SCMP_ARCH_S390X", {"SCMP_ARCH_S390"}},
  {"SCMP_ARCH_RISCV64", {NULL}},
};

static bool arch_listed(const char *list, uint32_t arch)
{
  char buf[64];
  for (const char *p = list; *p;) {
    size_t n = strcspn(p, " ");
    if (n < sizeof(buf)) {
      memcpy(buf, p, n);
      buf[n] = '\0';
      if (ward_scmp_arch_short_matches(buf, arch))
        return true;
    }
    p += n;
    p += strspn(p, " ");
  }
  return false;
}

static bool group_applies(const struct group *g, const struct ward_seccomp_target *t)
{
  if (g->cap && !((t->caps >> (g->cap - 1)) & 1))
    return false;
  if (g->not_cap && ((t->caps >> (g->not_cap - 1)) & 1))
    return false;
  if (g->arches && !arch_listed(g->arches, t->arch))
    return false;
  if (g->not_arches && arch_listed(g->not_arches, t->arch))
    return false;
  return (t->kernel_major << 8 | t->kernel_minor) >= g->min_kernel;
}

int ward_seccomp_default_for(const struct ward_seccomp_target *target, struct ward_seccomp **out,
                             ward_error_t *err)
{
  struct ward_seccomp_target t;
  ward_scmp_target_fill(target, &t);
  _cleanup_seccomp_ struct ward_seccomp *s = ward_scmp_new(WARD_SCMP_ERRNO, true, EPERM);
  if (s == NULL)
    return ward_error(err, ENOMEM, "seccomp default");
  const char *native = ward_scmp_arch_name(t.arch);
  for (size_t i = 0; native && i < ARRAY_SIZE(arch_map); i++) {
    if (strcmp(arch_map[i].native, native) != 0)
      continue;
    if (ward_scmp_add_arch(s, native, err) < 0)
      return -1;
    for (size_t j = 0; j < ARRAY_SIZE(arch_map[i].subs) && arch_map[i].subs[j]; j++)
      if (ward_scmp_add_arch(s, arch_map[i].subs[j], err) < 0)
        return -1;
  }
  for (size_t i = 0; i < ARRAY_SIZE(groups); i++) {
    const struct group *g = &groups[i];
    if (!group_applies(g, &t))
      continue;
    /* The table names syscalls a libseccomp older than ours may not know;
     * keep only what can be expressed, so the OCI form reads back. */
    _cleanup_strv_ char **names = NULL;
    for (size_t j = 0; g->names[j]; j++)
      if (ward_scmp_syscall_known(g->names[j]) && ward_strv_append(&names, g->names[j]) < 0)
        return ward_error(err, ENOMEM, "seccomp default");
    if (names == NULL)
      continue;
    bool has_errno = g->action == WARD_SCMP_ERRNO;
    if (ward_scmp_add_rule(s, names, g->action, has_errno, g->errno_ret, &g->arg, g->has_arg ? 1 : 0, err) < 0)
      return -1;
  }
  *out = steal_pointer(&s);
  return 0;
}

int ward_seccomp_default(uint64_t caps, struct ward_seccomp **out, ward_error_t *err)
{
  struct ward_seccomp_target t = {.caps = caps};
  return ward_seccomp_default_for(&t, out, err);
}
