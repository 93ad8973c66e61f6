/* The breakout battery (issue 7, section 3): tries container escape
 * techniques from inside a container and prints one JSON line per
 * technique:
 *
 *   {"technique": "core_pattern", "exposed": false, "detail": "EROFS ..."}
 *
 * Every probe is harmless: files that act on write are opened for write and
 * closed without writing; syscalls that could act get arguments the kernel
 * rejects after its permission check (so EPERM and EINVAL tell "blocked"
 * from "reachable"); anything mounted is unmounted; nodes made are removed;
 * ptrace attaches to a process the test started and detaches. Each
 * technique runs in its own forked child, so a seccomp KILL, an unshare or
 * a chroot affects only that child. See docs/breakout.md.
 *
 * Build static (the test rootfs is busybox only):
 *   gcc -static -O2 -o escape tests/breakout/escape.c
 *
 * Options (all optional; a technique without its input reports so):
 *   --marker TOKEN      a host process has argv[0] "ward-bo-TOKEN"; a host
 *                       abstract unix socket "@ward-bo-TOKEN" listens
 *   --marker-file PATH  a host file (host path) that contains TOKEN
 *   --host-pid PID      the host pid of the marker process
 *   --disk MAJ:MIN      the host's root block device
 *   --port PORT         a host TCP listener on 127.0.0.1:PORT
 *   --disk-host-errno E what the host's own root gets opening the disk
 *                       (e.g. EPERM on a VM that guards it), if not "ok"
 *   --only NAME[,NAME]  run only these techniques
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timex.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DETAIL_MAX 900

struct result {
  int exposed;
  int unavailable; /* this kernel lacks the interface: nothing to expose */
  char detail[DETAIL_MAX];
};

static struct {
  const char *marker;
  const char *marker_file;
  pid_t host_pid;
  bool have_disk;
  dev_t disk;
  int port;
  const char *only;
  const char *disk_host_errno; /* what the host's root gets opening the disk */
} opt;

/* fds >= 3 found before anything else was opened */
static char leaked[DETAIL_MAX];
static int n_leaked;

static void note(struct result *r, const char *fmt, ...)
{
  size_t len = strlen(r->detail);
  if (len >= sizeof(r->detail) - 1)
    return;
  if (len > 0 && len < sizeof(r->detail) - 3) {
    strcat(r->detail, "; ");
    len += 2;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->detail + len, sizeof(r->detail) - len, fmt, ap);
  va_end(ap);
}

static const char *ename(int e)
{
  const char *n = strerrorname_np(e);
  return n ? n : "E?";
}

/* EPERM/EACCES: a missing capability or a filter; ENOSYS: a filter (or a
 * kernel without the call). Everything else means the kernel got past its
 * permission checks. */
static bool errno_blocks(int e)
{
  return e == EPERM || e == EACCES || e == ENOSYS;
}

/* ---------- helpers ---------- */

static bool mount_fstype(const char *dir, char *type, size_t n)
{
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f)
    return false;
  char line[4096];
  bool found = false;
  while (fgets(line, sizeof(line), f)) {
    char mp[PATH_MAX], fst[64];
    /* id parent maj:min root mountpoint options ... - fstype source super */
    if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
      continue;
    char *dash = strstr(line, " - ");
    if (!dash || sscanf(dash + 3, "%63s", fst) != 1)
      continue;
    if (strcmp(mp, dir) == 0) { /* the last one wins: it is on top */
      snprintf(type, n, "%s", fst);
      found = true;
    }
  }
  fclose(f);
  return found;
}

/* A scratch directory we can create things in; with want_dev, one where
 * device nodes work (no nodev) and that is not the host's devtmpfs. */
static bool scratch_dir(char *out, size_t n, bool want_dev, struct result *r)
{
  static const char *const cands[] = {"/tmp", "/dev/shm", "/run", "/dev", "/", NULL};
  for (int i = 0; cands[i]; i++) {
    struct statvfs sv;
    if (statvfs(cands[i], &sv) < 0 || (sv.f_flag & ST_RDONLY))
      continue;
    if (want_dev) {
      char t[64] = "";
      if (sv.f_flag & ST_NODEV)
        continue;
      if (mount_fstype(cands[i], t, sizeof(t)) && strcmp(t, "devtmpfs") == 0)
        continue; /* the host's /dev: never create nodes there */
    }
    snprintf(out, n, "%s%sward-bo.%d", cands[i], strcmp(cands[i], "/") ? "/" : "", getpid());
    if (mkdir(out, 0700) == 0)
      return true;
  }
  if (r)
    note(r, "no writable%s scratch directory", want_dev ? " dev-capable" : "");
  return false;
}

static bool read_file(const char *path, char *buf, size_t n)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t k = read(fd, buf, n - 1);
  close(fd);
  if (k < 0)
    return false;
  buf[k] = 0;
  return true;
}

/* The pid of the host's marker process, if this container can see it. */
static pid_t find_marker_pid(int *n_procs, bool *kthreadd)
{
  char want[256];
  snprintf(want, sizeof(want), "ward-bo-%s", opt.marker ? opt.marker : "");
  DIR *d = opendir("/proc");
  pid_t found = 0;
  if (n_procs)
    *n_procs = 0;
  if (kthreadd)
    *kthreadd = false;
  if (!d)
    return 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    if (n_procs)
      (*n_procs)++;
    char path[300], buf[512];
    snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
    if (opt.marker && read_file(path, buf, sizeof(buf)) && strcmp(buf, want) == 0)
      found = atoi(e->d_name);
    snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
    if (kthreadd && strcmp(e->d_name, "2") == 0 && read_file(path, buf, sizeof(buf)) && strncmp(buf, "kthreadd", 8) == 0)
      *kthreadd = true;
  }
  closedir(d);
  return found;
}

static void open_for_write(struct result *r, const char *path)
{
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd >= 0) {
    r->exposed = 1;
    note(r, "%s opened O_WRONLY (closed, nothing written)", path);
    close(fd);
  } else {
    if (errno == ENOENT)
      r->unavailable = 1;
    note(r, "%s: %s", path, ename(errno));
  }
}

/* Reads the first 4 KiB of a block device and names what it found. */
static void read_disk(struct result *r, const char *path)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    note(r, "open %s: %s", path, ename(e));
    if (opt.disk_host_errno && strcmp(opt.disk_host_errno, ename(e)) == 0) {
      /* nothing of the container's stopped it: the host refuses the disk
       * to its own root too (a VM guard); the node is the exposure */
      r->exposed = 1;
      note(r, "the host's own root gets %s too: this host refuses the disk to everyone", opt.disk_host_errno);
    }
    return;
  }
  unsigned char buf[4096];
  ssize_t k = pread(fd, buf, sizeof(buf), 0);
  int e = errno;
  close(fd);
  if (k < 0) {
    note(r, "read %s: %s", path, ename(e));
    return;
  }
  r->exposed = 1;
  const char *what = "data";
  if (k >= 1082 && buf[1080] == 0x53 && buf[1081] == 0xEF)
    what = "an ext2/3/4 superblock (magic 0xEF53)";
  else if (k >= 512 && buf[510] == 0x55 && buf[511] == 0xAA)
    what = "a partition table (0x55AA)";
  note(r, "read %zd bytes of %s: %s", k, path, what);
}

static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t len)
{
  int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  if (connect(fd, sa, len) == 0)
    return 0;
  if (errno != EINPROGRESS)
    return -1;
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  if (poll(&p, 1, 1500) <= 0) {
    errno = ETIMEDOUT;
    return -1;
  }
  int err = 0;
  socklen_t el = sizeof(err);
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
  if (err) {
    errno = err;
    return -1;
  }
  return 0;
}

/* ---------- techniques ---------- */

static void t_core_pattern(struct result *r) { open_for_write(r, "/proc/sys/kernel/core_pattern"); }
static void t_sysrq_trigger(struct result *r) { open_for_write(r, "/proc/sysrq-trigger"); }
/* usermode-helper paths the kernel runs as host root */
static void t_proc_sys_write(struct result *r)
{
  static const char *const cands[] = {"/proc/sys/kernel/modprobe", "/proc/sys/kernel/poweroff_cmd", "/proc/sys/kernel/hotplug", NULL};
  for (int i = 0; cands[i]; i++)
    if (access(cands[i], F_OK) == 0) {
      open_for_write(r, cands[i]);
      return;
    }
  r->unavailable = 1;
  note(r, "no usermode-helper sysctl in /proc/sys/kernel");
}

static const char *const cg_controllers[] = {"memory", "pids", "devices", "cpuset", NULL};

/* Mounts a cgroup v1 hierarchy on dir; returns the controller or NULL. */
static const char *mount_cgroup_v1(struct result *r, const char *dir)
{
  for (int i = 0; cg_controllers[i]; i++) {
    if (mount("cgroup", dir, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, cg_controllers[i]) == 0)
      return cg_controllers[i];
    note(r, "mount -t cgroup -o %s: %s", cg_controllers[i], ename(errno));
    if (errno_blocks(errno))
      break; /* the same answer for every controller */
  }
  return NULL;
}

static void t_cgroup_v1_mount(struct result *r)
{
  char dir[PATH_MAX];
  if (!scratch_dir(dir, sizeof(dir), false, r))
    return;
  const char *c = mount_cgroup_v1(r, dir);
  if (c) {
    r->exposed = 1;
    note(r, "mounted the cgroup v1 %s hierarchy (unmounted)", c);
    umount2(dir, MNT_DETACH);
  }
  rmdir(dir);
}

static void t_release_agent(struct result *r)
{
  char dir[PATH_MAX], path[PATH_MAX + 32];
  if (scratch_dir(dir, sizeof(dir), false, r)) {
    const char *c = mount_cgroup_v1(r, dir);
    if (c) {
      snprintf(path, sizeof(path), "%s/release_agent", dir);
      if (access(path, F_OK) == 0)
        open_for_write(r, path);
      else
        note(r, "mounted %s but no release_agent at its root (a cgroup namespace)", c);
      umount2(dir, MNT_DETACH);
    }
    rmdir(dir);
  }
  if (r->exposed)
    return;
  /* an existing cgroup v1 mount in the container */
  DIR *d = opendir("/sys/fs/cgroup");
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir(d)) && !r->exposed) {
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/release_agent", e->d_name);
    if (access(path, F_OK) == 0)
      open_for_write(r, path);
  }
  closedir(d);
}

static void t_mknod_disk_read(struct result *r)
{
  if (!opt.have_disk) {
    note(r, "no --disk given");
    return;
  }
  char dir[PATH_MAX], node[PATH_MAX + 16];
  if (!scratch_dir(dir, sizeof(dir), true, r))
    return;
  snprintf(node, sizeof(node), "%s/disk", dir);
  if (mknod(node, S_IFBLK | 0600, opt.disk) < 0)
    note(r, "mknod b %u:%u: %s", major(opt.disk), minor(opt.disk), ename(errno));
  else {
    note(r, "mknod b %u:%u in %s", major(opt.disk), minor(opt.disk), dir);
    read_disk(r, node);
    unlink(node);
  }
  rmdir(dir);
}

/* Any block device: does the device cgroup let a created node open? loop0
 * unbound: opening it does nothing. */
static void t_mknod_block_device(struct result *r)
{
  char dir[PATH_MAX], node[PATH_MAX + 16];
  if (!scratch_dir(dir, sizeof(dir), true, r))
    return;
  snprintf(node, sizeof(node), "%s/loop0", dir);
  if (mknod(node, S_IFBLK | 0600, makedev(7, 0)) < 0) {
    note(r, "mknod b 7:0: %s", ename(errno));
  } else {
    int fd = open(node, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      r->exposed = 1;
      note(r, "mknod b 7:0 (loop0) in %s and opened it (device cgroup allows it; closed)", dir);
      close(fd);
    } else {
      note(r, "mknod b 7:0 in %s; open: %s (device cgroup)", dir, ename(errno));
    }
    unlink(node);
  }
  rmdir(dir);
}

static void t_host_disk_node(struct result *r)
{
  if (!opt.have_disk) {
    note(r, "no --disk given");
    return;
  }
  static const char *const dirs[] = {"/dev", "/dev/block", NULL};
  for (int i = 0; dirs[i]; i++) {
    DIR *d = opendir(dirs[i]);
    if (!d)
      continue;
    struct dirent *e;
    while ((e = readdir(d))) {
      char p[PATH_MAX];
      struct stat st;
      snprintf(p, sizeof(p), "%s/%s", dirs[i], e->d_name);
      if (stat(p, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == opt.disk) {
        closedir(d);
        read_disk(r, p);
        return;
      }
    }
    closedir(d);
  }
  note(r, "no block node %u:%u in /dev", major(opt.disk), minor(opt.disk));
}

static void t_open_by_handle_at(struct result *r)
{
  struct {
    struct file_handle h;
    unsigned char bytes[MAX_HANDLE_SZ];
  } fh;
  int mnt_id;
  fh.h.handle_bytes = MAX_HANDLE_SZ;
  if (name_to_handle_at(AT_FDCWD, "/", &fh.h, &mnt_id, 0) < 0)
    note(r, "name_to_handle_at /: %s", ename(errno));
  else
    note(r, "handle of / has type %d", fh.h.handle_type);
  /* shocker: guess inode 2 (an ext* root directory), generation 0 */
  fh.h.handle_bytes = 8;
  fh.h.handle_type = 1; /* FILEID_INO32_GEN */
  unsigned char *hb = (unsigned char *) &fh + offsetof(struct file_handle, f_handle);
  memset(hb, 0, 8);
  hb[0] = 2;
  int mfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int fd = open_by_handle_at(mfd, &fh.h, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    note(r, "open_by_handle_at(inode 2): %s", ename(errno));
    close(mfd);
    return;
  }
  struct stat root, got;
  stat("/", &root);
  fstat(fd, &got);
  if (got.st_dev == root.st_dev && got.st_ino == root.st_ino) {
    note(r, "open_by_handle_at opened inode 2, which is this container's own root");
  } else {
    r->exposed = 1;
    note(r, "opened inode 2 outside the container's root:");
    DIR *d = fdopendir(fd);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) && n < 8)
      if (e->d_name[0] != '.') {
        note(r, "%s", e->d_name);
        n++;
      }
    if (d)
      closedir(d);
    fd = -1;
  }
  if (fd >= 0)
    close(fd);
  close(mfd);
}

static void t_host_pid_visible(struct result *r)
{
  int n;
  bool kt;
  pid_t p = find_marker_pid(&n, &kt);
  note(r, "%d processes visible%s", n, kt ? ", kthreadd is pid 2 (host pid namespace)" : "");
  if (!opt.marker) {
    note(r, "no --marker given");
    return;
  }
  if (p) {
    r->exposed = 1;
    note(r, "the host marker process is visible as pid %d", p);
  } else {
    note(r, "the host marker process is not visible");
  }
}

static void t_ptrace_host(struct result *r)
{
  pid_t p = find_marker_pid(NULL, NULL);
  if (!p) {
    note(r, "host process not visible (host pid %d)", opt.host_pid);
    if (opt.host_pid > 0 && kill(opt.host_pid, 0) < 0)
      note(r, "kill(%d, 0): %s", opt.host_pid, ename(errno));
    return;
  }
  if (ptrace(PTRACE_ATTACH, p, 0, 0) < 0) {
    note(r, "PTRACE_ATTACH %d: %s", p, ename(errno));
    return;
  }
  int st;
  waitpid(p, &st, __WALL);
  r->exposed = 1;
  note(r, "attached to host process %d (detached)", p);
  ptrace(PTRACE_DETACH, p, 0, 0);
}

static void t_host_root_via_proc(struct result *r)
{
  if (!opt.marker || !opt.marker_file) {
    note(r, "no --marker/--marker-file given");
    return;
  }
  pid_t p = find_marker_pid(NULL, NULL);
  if (!p) {
    note(r, "no host process visible to go through");
    return;
  }
  char path[PATH_MAX + 64], buf[256];
  snprintf(path, sizeof(path), "/proc/%d/root%s", p, opt.marker_file);
  if (!read_file(path, buf, sizeof(buf))) {
    note(r, "%s: %s", path, ename(errno));
    return;
  }
  if (strstr(buf, opt.marker)) {
    r->exposed = 1;
    note(r, "read the host file %s through /proc/%d/root", opt.marker_file, p);
  } else {
    note(r, "%s readable but without the marker", path);
  }
}

static void t_setns_host(struct result *r)
{
  pid_t p = find_marker_pid(NULL, NULL);
  if (!p) {
    note(r, "no host process visible to join");
    return;
  }
  static const struct { const char *name; int type; } ns[] = {
    {"mnt", CLONE_NEWNS}, {"net", CLONE_NEWNET}, {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC}};
  for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/%s", p, ns[i].name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      note(r, "open %s: %s", path, ename(errno));
      continue;
    }
    if (setns(fd, ns[i].type) == 0) {
      r->exposed = 1;
      note(r, "joined the host's %s namespace", ns[i].name);
    } else {
      note(r, "setns %s: %s", ns[i].name, ename(errno));
    }
    close(fd);
  }
}

static int seccomp_mode(void)
{
  FILE *f = fopen("/proc/self/status", "re");
  char line[256];
  int mode = -1;
  while (f && fgets(line, sizeof(line), f))
    if (sscanf(line, "Seccomp: %d", &mode) == 1)
      break;
  if (f)
    fclose(f);
  return mode;
}

static void syscall_verdict(struct result *r, const char *what, long rc, int e, bool fd_result)
{
  if (rc < 0 && e == ENOSYS && seccomp_mode() == 0) {
    r->unavailable = 1;
    note(r, "%s: ENOSYS without a seccomp filter: not in this kernel", what);
    return;
  }
  if (rc >= 0) {
    r->exposed = 1;
    note(r, "%s succeeded%s", what, fd_result ? " (fd closed)" : "");
    if (fd_result)
      close((int) rc);
  } else if (errno_blocks(e)) {
    note(r, "%s: %s", what, ename(e));
  } else {
    r->exposed = 1;
    note(r, "%s: %s (past the permission check)", what, ename(e));
  }
}

static void t_finit_module(struct result *r)
{
  long rc = syscall(SYS_finit_module, -1, "", 0);
  syscall_verdict(r, "finit_module(-1)", rc, errno, false);
}

static void t_init_module(struct result *r)
{
  long rc = syscall(SYS_init_module, NULL, 0UL, "");
  syscall_verdict(r, "init_module(NULL, 0)", rc, errno, false);
}

static void t_kexec_load(struct result *r)
{
  /* 17 segments > KEXEC_SEGMENT_MAX and an unknown flag: EINVAL after the
   * CAP_SYS_BOOT check; never 0 segments (that unloads the crash kernel) */
  long rc = syscall(SYS_kexec_load, 0UL, 17UL, NULL, 0x4000UL);
  syscall_verdict(r, "kexec_load(17 segments, bad flag)", rc, errno, false);
}

static void write_map(const char *path, const char *text)
{
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (write(fd, text, strlen(text)) < 0) {
    }
    close(fd);
  }
}

static void t_unshare_userns_mount(struct result *r)
{
  uid_t uid = geteuid();
  gid_t gid = getegid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
    note(r, "unshare(CLONE_NEWUSER|CLONE_NEWNS): %s", ename(errno));
    return;
  }
  note(r, "unshare(CLONE_NEWUSER|CLONE_NEWNS) succeeded");
  char map[64];
  snprintf(map, sizeof(map), "0 %u 1", uid);
  write_map("/proc/self/uid_map", map);
  write_map("/proc/self/setgroups", "deny");
  snprintf(map, sizeof(map), "0 %u 1", gid);
  write_map("/proc/self/gid_map", map);
  /* a fresh mount namespace owned by the new user namespace: nothing
   * mounted here propagates out */
  mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  if (mount("ward-bo", "/tmp", "tmpfs", 0, "size=4k") == 0) {
    r->exposed = 1;
    note(r, "mounted tmpfs in it");
  } else {
    note(r, "mount tmpfs: %s", ename(errno));
  }
  if (unshare(CLONE_NEWCGROUP) == 0 && mount("cgroup", "/tmp", "cgroup", 0, "memory") == 0)
    note(r, "and a cgroup v1 hierarchy (CVE-2022-0492 shape)");
  else
    note(r, "cgroup v1 mount: %s", ename(errno));
}

static void t_keyctl(struct result *r)
{
  long rc = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
  int e = errno;
  if (rc >= 0) {
    r->exposed = 1;
    note(r, "session keyring id %ld", rc);
  } else
    syscall_verdict(r, "keyctl(GET_KEYRING_ID)", rc, e, false);
}

static void t_add_key(struct result *r)
{
  long rc = syscall(SYS_add_key, NULL, NULL, NULL, 0UL, 0);
  syscall_verdict(r, "add_key(NULL)", rc, errno, false);
}

static void t_bpf(struct result *r)
{
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.map_type = BPF_MAP_TYPE_ARRAY;
  a.key_size = 4;
  a.value_size = 4;
  a.max_entries = 1;
  long rc = syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
  syscall_verdict(r, "bpf(BPF_MAP_CREATE, 1-entry array)", rc, errno, true);
}

static void t_perf_event_open(struct result *r)
{
  struct perf_event_attr a;
  memset(&a, 0, sizeof(a));
  a.size = sizeof(a);
  a.type = PERF_TYPE_SOFTWARE;
  a.config = PERF_COUNT_SW_CPU_CLOCK;
  a.disabled = 1;
  /* system-wide on cpu 0: needs CAP_PERFMON (kernel.perf_event_paranoid) */
  long rc = syscall(SYS_perf_event_open, &a, -1, 0, -1, 0UL);
  syscall_verdict(r, "perf_event_open(system-wide cpu-clock)", rc, errno, true);
}

static void t_userfaultfd(struct result *r)
{
  /* kernel-mode faults too (no UFFD_USER_MODE_ONLY): the exploit form */
  long rc = syscall(SYS_userfaultfd, O_CLOEXEC);
  syscall_verdict(r, "userfaultfd(O_CLOEXEC)", rc, errno, true);
}

static void t_io_uring(struct result *r)
{
  struct io_uring_params p;
  memset(&p, 0, sizeof(p));
  long rc = syscall(SYS_io_uring_setup, 1, &p);
  syscall_verdict(r, "io_uring_setup(1)", rc, errno, true);
}

static void t_clock_settime(struct result *r)
{
  /* clock_settime(NULL) faults on the copy before anything: tells a filter.
   * clock_adjtime(ADJ_TICK, tick=1) checks CAP_SYS_TIME, then refuses the
   * absurd tick with EINVAL: tells the capability. Nothing is set. */
  long a = syscall(SYS_clock_settime, CLOCK_REALTIME, NULL);
  int ea = errno;
  struct timex tx;
  memset(&tx, 0, sizeof(tx));
  tx.modes = ADJ_TICK;
  tx.tick = 1;
  long b = syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
  int eb = errno;
  note(r, "clock_settime(NULL): %s", a < 0 ? ename(ea) : "0");
  note(r, "clock_adjtime(ADJ_TICK, 1): %s", b < 0 ? ename(eb) : "0");
  if (a < 0 && ea == EFAULT && b < 0 && eb == EINVAL)
    r->exposed = 1;
}

static void t_reboot(struct result *r)
{
  /* raw syscall, no magic: CAP_SYS_BOOT is checked first, then EINVAL */
  long rc = syscall(SYS_reboot, 0, 0, 0, NULL);
  syscall_verdict(r, "reboot(no magic)", rc, errno, false);
}

static void t_leaked_fds(struct result *r)
{
  if (n_leaked) {
    r->exposed = 1;
    note(r, "%s", leaked);
  } else {
    note(r, "no fd above 2 at start");
  }
}

static void t_runtime_exe(struct result *r)
{
  DIR *d = opendir("/proc");
  if (!d) {
    note(r, "/proc: %s", ename(errno));
    return;
  }
  struct dirent *e;
  int foreign = 0, shown = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9' || atoi(e->d_name) == getpid())
      continue;
    char p[300], link[PATH_MAX];
    snprintf(p, sizeof(p), "/proc/%s/exe", e->d_name);
    ssize_t k = readlink(p, link, sizeof(link) - 1);
    if (k <= 0)
      continue;
    link[k] = 0;
    struct stat a, b;
    if (stat(p, &a) < 0)
      continue;
    if (stat(link, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
      continue; /* a program of this container */
    foreign++;
    bool runtime = strstr(link, "ward") || strstr(link, "crun") || strstr(link, "runc");
    if (!runtime)
      continue; /* counted, never opened: only runtimes are the target */
    int rfd = open(p, O_RDONLY | O_CLOEXEC);
    int re = errno;
    int wfd = open(p, O_WRONLY | O_CLOEXEC);
    int we = errno;
    if (rfd >= 0 || wfd >= 0)
      r->exposed = 1;
    if (shown++ < 6)
      note(r, "runtime pid %s exe %s: O_RDONLY %s, O_WRONLY %s", e->d_name, link, rfd >= 0 ? "ok" : ename(re),
           wfd >= 0 ? "ok" : ename(we));
    if (rfd >= 0)
      close(rfd);
    if (wfd >= 0)
      close(wfd);
  }
  closedir(d);
  note(r, "%d processes run a program from outside the container; %d of them a runtime", foreign, shown);
}

static void t_host_net_interfaces(struct result *r)
{
  FILE *f = fopen("/proc/net/dev", "re");
  if (!f) {
    note(r, "/proc/net/dev: %s", ename(errno));
    return;
  }
  char line[512];
  int n = 0;
  while (fgets(line, sizeof(line), f)) {
    char *c = strchr(line, ':');
    if (!c)
      continue;
    *c = 0;
    char *name = line + strspn(line, " ");
    n++;
    if (strcmp(name, "lo") != 0) {
      r->exposed = 1;
      note(r, "%s", name);
    }
  }
  fclose(f);
  if (!r->exposed)
    note(r, "%d interface(s), only lo", n);
}

static void t_host_loopback_connect(struct result *r)
{
  if (!opt.port) {
    note(r, "no --port given");
    return;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    note(r, "socket: %s", ename(errno));
    return;
  }
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(opt.port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (connect_timeout(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0) {
    r->exposed = 1;
    note(r, "connected to the host's 127.0.0.1:%d", opt.port);
  } else {
    note(r, "connect 127.0.0.1:%d: %s", opt.port, ename(errno));
  }
  close(fd);
}

static void t_abstract_socket(struct result *r)
{
  if (!opt.marker) {
    note(r, "no --marker given");
    return;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  int n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "ward-bo-%s", opt.marker);
  if (connect_timeout(fd, (struct sockaddr *) &sa, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + n)) == 0) {
    r->exposed = 1;
    note(r, "connected to the host's abstract socket @ward-bo-%s", opt.marker);
  } else {
    note(r, "connect @ward-bo-%s: %s", opt.marker, ename(errno));
  }
  close(fd);
}

static void try_socket(struct result *r, const char *path)
{
  struct stat st;
  if (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
    return;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
  if (connect_timeout(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0) {
    r->exposed = 1;
    note(r, "connected to %s (nothing sent)", path);
  } else {
    note(r, "%s is a socket; connect: %s", path, ename(errno));
  }
  close(fd);
}

static void t_runtime_sockets(struct result *r)
{
  static const char *const known[] = {
    "/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock", "/run/containerd/containerd.sock.ttrpc", "/run/crio/crio.sock",
    "/var/run/crio/crio.sock", "/run/podman/podman.sock", "/var/run/cri-dockerd.sock",
    "/run/buildkit/buildkitd.sock", "/run/ward/agent.sock", "/var/run/ward/agent.sock", "/run/ward/ward.sock",
    "/var/run/dockershim.sock", "/var/lib/kubelet/pod-resources/kubelet.sock", NULL};
  for (int i = 0; known[i]; i++)
    try_socket(r, known[i]);
  /* sockets bind-mounted anywhere */
  FILE *f = fopen("/proc/self/mountinfo", "re");
  char line[4096];
  while (f && fgets(line, sizeof(line), f)) {
    char mp[PATH_MAX];
    if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
      continue;
    size_t n = strlen(mp);
    if (n > 5 && strcmp(mp + n - 5, ".sock") == 0) {
      bool dup = false;
      for (int i = 0; known[i]; i++)
        dup |= strcmp(known[i], mp) == 0;
      if (!dup)
        try_socket(r, mp);
    }
  }
  if (f)
    fclose(f);
  if (!r->detail[0])
    note(r, "no runtime socket found");
}

static void t_sys_write(struct result *r)
{
  static const char *const cands[] = {"/sys/kernel/uevent_helper", "/sys/power/state", "/sys/kernel/mm/transparent_hugepage/enabled", NULL};
  for (int i = 0; cands[i]; i++)
    if (access(cands[i], F_OK) == 0) {
      open_for_write(r, cands[i]);
      return;
    }
  note(r, "none of the candidate /sys files exists");
}

static void t_proc_kcore(struct result *r)
{
  int fd = open("/proc/kcore", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      r->unavailable = 1; /* CONFIG_PROC_KCORE=n */
    note(r, "/proc/kcore: %s", ename(errno));
    return;
  }
  unsigned char b[4] = {0};
  ssize_t k = read(fd, b, sizeof(b));
  close(fd);
  if (k == 4 && memcmp(b, "\177ELF", 4) == 0) {
    r->exposed = 1;
    note(r, "read the ELF header of /proc/kcore");
  } else {
    note(r, "/proc/kcore read %zd bytes (masked)", k);
  }
}

static void t_kernel_log(struct result *r)
{
  char buf[256];
  int k = klogctl(3 /* SYSLOG_ACTION_READ_ALL: non-destructive */, buf, sizeof(buf));
  if (k > 0) {
    r->exposed = 1;
    note(r, "syslog(READ_ALL) returned %d bytes", k);
  } else {
    note(r, "syslog(READ_ALL): %s", k < 0 ? ename(errno) : "empty");
  }
  int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    note(r, "/dev/kmsg: %s", ename(errno));
    return;
  }
  char rec[1024];
  ssize_t n = read(fd, rec, sizeof(rec));
  if (n > 0) {
    r->exposed = 1;
    note(r, "read a /dev/kmsg record");
  } else {
    note(r, "/dev/kmsg read: %s", n < 0 ? ename(errno) : "empty");
  }
  close(fd);
}

static void t_dev_mem(struct result *r)
{
  const char *path = "/dev/mem";
  char dir[PATH_MAX] = "", node[PATH_MAX + 16];
  struct stat st;
  if (stat(path, &st) < 0 || !S_ISCHR(st.st_mode)) {
    if (!scratch_dir(dir, sizeof(dir), true, r))
      return;
    snprintf(node, sizeof(node), "%s/mem", dir);
    if (mknod(node, S_IFCHR | 0600, makedev(1, 1)) < 0) {
      note(r, "no /dev/mem; mknod c 1:1: %s", ename(errno));
      rmdir(dir);
      return;
    }
    path = node;
  }
  /* open_port() checks CAP_SYS_RAWIO at open; nothing is read */
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    r->exposed = 1;
    note(r, "opened %s (nothing read)", path);
    close(fd);
  } else {
    if (errno == ENXIO || errno == ENODEV)
      r->unavailable = 1; /* CONFIG_DEVMEM=n */
    note(r, "%s: %s", path, ename(errno));
  }
  if (dir[0]) {
    unlink(node);
    rmdir(dir);
  }
}

static void t_mount_tmpfs(struct result *r)
{
  char dir[PATH_MAX];
  if (!scratch_dir(dir, sizeof(dir), false, r))
    return;
  if (mount("ward-bo", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k") == 0) {
    r->exposed = 1;
    note(r, "mounted a tmpfs (unmounted)");
    umount2(dir, MNT_DETACH);
  } else {
    note(r, "mount tmpfs: %s", ename(errno));
  }
  rmdir(dir);
}

static void t_chroot_escape(struct result *r)
{
  struct stat before, after;
  stat("/", &before);
  int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (chroot("/bin") < 0) {
    note(r, "chroot: %s", ename(errno));
    return;
  }
  if (fchdir(fd) < 0) {
    note(r, "fchdir: %s", ename(errno));
    return;
  }
  for (int i = 0; i < 64; i++)
    if (chdir("..") < 0)
      break;
  if (chroot(".") < 0) {
    note(r, "chroot(.): %s", ename(errno));
    return;
  }
  stat("/", &after);
  if (after.st_dev == before.st_dev && after.st_ino == before.st_ino) {
    note(r, "chroot+fchdir ends at the container's own root (pivot_root)");
    return;
  }
  r->exposed = 1;
  note(r, "escaped to a root above the container's (dev %u:%u ino %lu)", major(after.st_dev), minor(after.st_dev),
       (unsigned long) after.st_ino);
  char buf[256];
  if (opt.marker_file && read_file(opt.marker_file, buf, sizeof(buf)) && opt.marker && strstr(buf, opt.marker))
    note(r, "and read the host file %s", opt.marker_file);
}

static void t_personality(struct result *r)
{
  int rc = personality(ADDR_NO_RANDOMIZE);
  int e = errno;
  if (rc < 0) {
    note(r, "personality(ADDR_NO_RANDOMIZE): %s", ename(e));
    return;
  }
  int now = personality(0xffffffff);
  if (now >= 0 && (now & ADDR_NO_RANDOMIZE)) {
    r->exposed = 1;
    note(r, "ASLR disabled for this process (ADDR_NO_RANDOMIZE set)");
  } else {
    note(r, "personality accepted but ADDR_NO_RANDOMIZE not set (filtered)");
  }
}

static void t_ioperm(struct result *r)
{
  long rc = syscall(SYS_ioperm, 0x80UL, 1UL, 1);
  syscall_verdict(r, "ioperm(0x80, 1, on) (no port I/O done)", rc, errno, false);
}

/* ---------- driver ---------- */

static const struct technique {
  const char *name;
  void (*fn)(struct result *);
} techniques[] = {
  {"core_pattern", t_core_pattern},
  {"sysrq_trigger", t_sysrq_trigger},
  {"proc_sys_write", t_proc_sys_write},
  {"cgroup_v1_mount", t_cgroup_v1_mount},
  {"release_agent", t_release_agent},
  {"mknod_disk", t_mknod_disk_read},
  {"mknod_block_device", t_mknod_block_device},
  {"host_disk_node", t_host_disk_node},
  {"open_by_handle_at", t_open_by_handle_at},
  {"host_pid_visible", t_host_pid_visible},
  {"ptrace_host", t_ptrace_host},
  {"host_root_via_proc", t_host_root_via_proc},
  {"setns_host", t_setns_host},
  {"finit_module", t_finit_module},
  {"init_module", t_init_module},
  {"kexec_load", t_kexec_load},
  {"unshare_userns_mount", t_unshare_userns_mount},
  {"keyctl", t_keyctl},
  {"add_key", t_add_key},
  {"bpf", t_bpf},
  {"perf_event_open", t_perf_event_open},
  {"userfaultfd", t_userfaultfd},
  {"io_uring", t_io_uring},
  {"clock_settime", t_clock_settime},
  {"reboot", t_reboot},
  {"leaked_fds", t_leaked_fds},
  {"runtime_exe", t_runtime_exe},
  {"host_net_interfaces", t_host_net_interfaces},
  {"host_loopback_connect", t_host_loopback_connect},
  {"abstract_socket", t_abstract_socket},
  {"runtime_sockets", t_runtime_sockets},
  {"sys_write", t_sys_write},
  {"proc_kcore", t_proc_kcore},
  {"kernel_log", t_kernel_log},
  {"dev_mem", t_dev_mem},
  {"mount_tmpfs", t_mount_tmpfs},
  {"chroot_escape", t_chroot_escape},
  {"personality", t_personality},
  {"ioperm", t_ioperm},
};

static void json_str(const char *s)
{
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char) *s;
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20 || c >= 0x7f)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

static bool selected(const char *name)
{
  if (!opt.only)
    return true;
  size_t n = strlen(name);
  for (const char *p = opt.only; *p;) {
    const char *c = strchr(p, ',');
    size_t len = c ? (size_t) (c - p) : strlen(p);
    if (len == n && strncmp(p, name, n) == 0)
      return true;
    if (!c)
      break;
    p = c + 1;
  }
  return false;
}

static void run_one(const struct technique *t)
{
  struct result res;
  memset(&res, 0, sizeof(res));
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) {
    snprintf(res.detail, sizeof(res.detail), "pipe: %s", ename(errno));
    goto print;
  }
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    close(p[0]);
    alarm(10);
    t->fn(&res);
    if (write(p[1], &res, sizeof(res)) != (ssize_t) sizeof(res))
      _exit(1);
    _exit(0);
  }
  close(p[1]);
  ssize_t got = 0, k;
  while (got < (ssize_t) sizeof(res) && (k = read(p[0], (char *) &res + got, sizeof(res) - got)) > 0)
    got += k;
  close(p[0]);
  int st = 0;
  waitpid(c, &st, 0);
  if (got != (ssize_t) sizeof(res)) {
    memset(&res, 0, sizeof(res));
    if (WIFSIGNALED(st))
      snprintf(res.detail, sizeof(res.detail), "probe killed by signal %d (%s)", WTERMSIG(st),
               WTERMSIG(st) == SIGSYS ? "seccomp" : sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
    else
      snprintf(res.detail, sizeof(res.detail), "probe exited %d without a result", WEXITSTATUS(st));
  }
print:
  printf("{\"technique\": ");
  json_str(t->name);
  printf(", \"exposed\": %s, ", res.exposed ? "true" : "false");
  if (res.unavailable)
    printf("\"available\": false, ");
  printf("\"detail\": ");
  json_str(res.detail);
  printf("}\n");
  fflush(stdout);
}

/* fds above stdio present at start, and whether each points outside. */
static void scan_fds(void)
{
  int fds[64], n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (!d) {
    snprintf(leaked, sizeof(leaked), "/proc/self/fd: %s", ename(errno));
    return;
  }
  int own = dirfd(d);
  struct dirent *e;
  while ((e = readdir(d)) && n < 64) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] != '.' && fd > 2 && fd != own)
      fds[n++] = fd;
  }
  closedir(d);
  struct result r = {0};
  for (int i = 0; i < n; i++) {
    char p[64], link[PATH_MAX] = "?";
    snprintf(p, sizeof(p), "/proc/self/fd/%d", fds[i]);
    ssize_t k = readlink(p, link, sizeof(link) - 1);
    if (k > 0)
      link[k] = 0;
    struct stat a, b;
    bool outside = true;
    if (link[0] == '/' && fstat(fds[i], &a) == 0 && stat(link, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
      outside = false;
    note(&r, "fd %d -> %s%s", fds[i], link, outside ? " (not in this container's tree)" : "");
    n_leaked++;
  }
  snprintf(leaked, sizeof(leaked), "%s", r.detail);
}

int main(int argc, char **argv)
{
  scan_fds(); /* before this program opens anything */
  static const struct option lo[] = {
    {"marker", required_argument, NULL, 'm'}, {"marker-file", required_argument, NULL, 'f'},
    {"host-pid", required_argument, NULL, 'p'}, {"disk", required_argument, NULL, 'd'},
    {"port", required_argument, NULL, 'P'}, {"only", required_argument, NULL, 'o'},
    {"disk-host-errno", required_argument, NULL, 'e'}, {"list", no_argument, NULL, 'l'}, {NULL, 0, NULL, 0}};
  int c;
  unsigned maj, min;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch (c) {
    case 'm': opt.marker = optarg; break;
    case 'f': opt.marker_file = optarg; break;
    case 'p': opt.host_pid = atoi(optarg); break;
    case 'd':
      if (sscanf(optarg, "%u:%u", &maj, &min) != 2) {
        fprintf(stderr, "escape: --disk MAJ:MIN\n");
        return 2;
      }
      opt.disk = makedev(maj, min);
      opt.have_disk = true;
      break;
    case 'P': opt.port = atoi(optarg); break;
    case 'o': opt.only = optarg; break;
    case 'e': opt.disk_host_errno = optarg; break;
    case 'l':
      for (size_t i = 0; i < sizeof(techniques) / sizeof(techniques[0]); i++)
        puts(techniques[i].name);
      return 0;
    default:
      fprintf(stderr, "usage: escape [--marker T] [--marker-file P] [--host-pid N] [--disk MAJ:MIN] [--port N] [--only A,B] [--list]\n");
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  for (size_t i = 0; i < sizeof(techniques) / sizeof(techniques[0]); i++)
    if (selected(techniques[i].name))
      run_one(&techniques[i]);
  return 0;
}
