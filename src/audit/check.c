/* ward check, the /proc side: identity, namespaces, capabilities, seccomp
 * status, masked and writable paths, runtime sockets. */
#include "audit/check.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <linux/magic.h>
#include <unistd.h>

static int read_small(const char *path, char *buf, size_t len)
{
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, buf, len - 1);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  return 0;
}

static void status_fields(struct ward_check_report *r)
{
  _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
  char line[512];
  r->seccomp_mode = r->seccomp_filters = -1;
  while (f && fgets(line, sizeof(line), f)) {
    unsigned long long v;
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    if (sscanf(line, "CapInh: %llx", &v) == 1) r->cap_inh = v;
    else if (sscanf(line, "CapPrm: %llx", &v) == 1) r->cap_prm = v;
    else if (sscanf(line, "CapEff: %llx", &v) == 1) r->cap_eff = v;
    else if (sscanf(line, "CapBnd: %llx", &v) == 1) r->cap_bnd = v;
    else if (sscanf(line, "CapAmb: %llx", &v) == 1) r->cap_amb = v;
    else if (sscanf(line, "Seccomp: %llu", &v) == 1) r->seccomp_mode = (int) v;
    else if (sscanf(line, "Seccomp_filters: %llu", &v) == 1) r->seccomp_filters = (int) v;
    else if (strncmp(line, "NSpid:", 6) == 0) {
      const char *p = line + 6;
      while (*p == ' ' || *p == '\t')
        p++;
      size_t n = strlen(p);
      if (n >= sizeof(r->nspid))
        n = sizeof(r->nspid) - 1;
      memcpy(r->nspid, p, n);
      r->nspid[n] = '\0';
    }
  }
  r->no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
}

/* Initial namespaces have fixed inode numbers (include/linux/proc_ns.h);
 * dynamically allocated ones start at 0xF0000000. Mount and network gained
 * fixed ones only recently, so on older kernels their host-ness is unknown. */
static void namespaces(struct ward_check_report *r)
{
  static const struct { const char *name; unsigned long init; bool always_fixed; } ns[] = {
    {"cgroup", 0xEFFFFFFBUL, true}, {"ipc", 0xEFFFFFFFUL, true}, {"mnt", 0xEFFFFFF8UL, false},
    {"net", 0xEFFFFFF9UL, false},   {"pid", 0xEFFFFFFCUL, true}, {"time", 0xEFFFFFFAUL, true},
    {"user", 0xEFFFFFFDUL, true},   {"uts", 0xEFFFFFFEUL, true},
  };
  bool new_kernel = false;
  struct utsname u;
  int maj = 0, min = 0;
  if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &maj, &min) == 2)
    new_kernel = maj > 6 || (maj == 6 && min >= 18);
  for (size_t i = 0; i < 8; i++) {
    struct ward_check_ns *n = &r->ns[r->nns++];
    char path[64];
    struct stat st, st1;
    n->name = ns[i].name;
    snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i].name);
    if (stat(path, &st) < 0) {
      n->state = WARD_NS_UNKNOWN;
      n->same_as_pid1 = -1;
      continue;
    }
    n->ino = (unsigned long) st.st_ino;
    if (n->ino == ns[i].init)
      n->state = WARD_NS_HOST;
    else if (n->ino >= 0xF0000000UL && !ns[i].always_fixed && !new_kernel)
      n->state = WARD_NS_UNKNOWN;
    else
      n->state = WARD_NS_PRIVATE;
    snprintf(path, sizeof(path), "/proc/1/ns/%s", ns[i].name);
    n->same_as_pid1 = stat(path, &st1) < 0 ? -1 : st1.st_ino == st.st_ino;
  }
  char buf[256];
  r->kthreadd_visible = read_small("/proc/2/status", buf, sizeof(buf)) == 0 && strstr(buf, "kthreadd") != NULL;
}

static void id_maps(struct ward_check_report *r)
{
  r->uid = getuid();
  r->euid = geteuid();
  r->gid = getgid();
  if (read_small("/proc/self/uid_map", r->uid_map, sizeof(r->uid_map)) < 0)
    snprintf(r->uid_map, sizeof(r->uid_map), "unreadable");
  if (read_small("/proc/self/gid_map", r->gid_map, sizeof(r->gid_map)) < 0)
    snprintf(r->gid_map, sizeof(r->gid_map), "unreadable");
  unsigned long a, b, c;
  r->uid_map_identity = sscanf(r->uid_map, "%lu %lu %lu", &a, &b, &c) == 3 && a == 0 && b == 0 && c == 4294967295UL &&
                        strchr(r->uid_map, '\n') == strrchr(r->uid_map, '\n');
  char lsm[128];
  if (read_small("/proc/self/attr/current", lsm, sizeof(lsm)) == 0) {
    lsm[strcspn(lsm, "\n")] = '\0';
    snprintf(r->lsm_label, sizeof(r->lsm_label), "%s", lsm);
  }
}

static const char *masked_state(const char *path)
{
  struct stat st;
  if (lstat(path, &st) < 0)
    return errno == ENOENT ? "absent" : "unknown";
  if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
    return "masked";      /* bind-mounted /dev/null */
  if (S_ISDIR(st.st_mode)) {
    struct statfs sf;
    if (statfs(path, &sf) == 0 && (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC))
      return "masked";    /* an empty read-only tmpfs over it */
  }
  /* Opening (never reading) tells whether the content is reachable;
   * /proc/kcore refuses the open itself without CAP_SYS_RAWIO. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return "exposed-unreadable";
  close(fd);
  return "exposed";
}

static void masked_paths(struct ward_check_report *r)
{
  static const char *const paths[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
                                      "/proc/latency_stats", "/proc/acpi", "/proc/scsi", "/proc/asound",
                                      "/sys/firmware", "/sys/devices/virtual/powercap"};
  for (size_t i = 0; i < ARRAY_SIZE(paths) && r->nmasked < WARD_CHECK_MAX_PATHS; i++)
    r->masked[r->nmasked++] = (struct ward_check_path){paths[i], masked_state(paths[i])};
}

/* Files are opened for writing and closed without a write: for these proc
 * and sysfs files the effect happens on write, never on open. Directories
 * are judged by access(W_OK) and the mount's read-only flag. */
static const char *writable_state(const char *path)
{
  struct stat st;
  if (stat(path, &st) < 0)
    return errno == ENOENT ? "absent" : "unknown";
  if (S_ISDIR(st.st_mode)) {
    struct statvfs sv;
    if (statvfs(path, &sv) == 0 && (sv.f_flag & ST_RDONLY))
      return "read-only";
    return access(path, W_OK) == 0 ? "writable" : "denied";
  }
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd >= 0) {
    close(fd);
    return "writable";
  }
  return errno == EROFS ? "read-only" : "denied";
}

static void writable_paths(struct ward_check_report *r)
{
  static const char *const paths[] = {"/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe",
                                      "/proc/sysrq-trigger", "/sys", "/sys/kernel/uevent_helper", "/sys/fs/cgroup",
                                      "/sys/fs/cgroup/release_agent", "/sys/fs/cgroup/memory/release_agent",
                                      "/sys/fs/cgroup/rdma/release_agent"};
  for (size_t i = 0; i < ARRAY_SIZE(paths) && r->nwritable < WARD_CHECK_MAX_PATHS; i++) {
    const char *s = writable_state(paths[i]);
    if (strcmp(s, "absent") == 0 && strstr(paths[i], "release_agent"))
      continue; /* cgroup v1 only: noise on v2 hosts */
    r->writable[r->nwritable++] = (struct ward_check_path){paths[i], s};
  }
}

static bool socket_name(const char *path)
{
  static const char *const socks[] = {"docker.sock", "containerd.sock", "crio.sock", "podman.sock",
                                      "cri-dockerd.sock", "dockershim.sock", "buildkitd.sock", "kubelet.sock",
                                      "ward.sock", "agent.sock"};
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  for (size_t i = 0; i < ARRAY_SIZE(socks); i++)
    if (strcmp(base, socks[i]) == 0)
      return true;
  return false;
}

static void add_socket(struct ward_check_report *r, const char *path, const char *how)
{
  struct stat st;
  if (r->nsockets >= WARD_CHECK_MAX_SOCKETS || stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
    return;
  for (size_t i = 0; i < r->nsockets; i++)
    if (strcmp(r->sockets[i].path, path) == 0)
      return;
  struct ward_check_socket *s = &r->sockets[r->nsockets++];
  snprintf(s->path, sizeof(s->path), "%s", path);
  s->found_by = how;
  s->writable = access(path, W_OK) == 0; /* connect() needs write permission */
}

static void sockets(struct ward_check_report *r)
{
  _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
  char line[4096];
  while (f && fgets(line, sizeof(line), f)) {
    char mnt[PATH_MAX];
    /* id parent major:minor root mountpoint ... */
    if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && socket_name(mnt))
      add_socket(r, mnt, "mountinfo");
  }
  static const char *const known[] = {
    "/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock", "/run/crio/crio.sock", "/var/run/crio/crio.sock",
    "/run/podman/podman.sock", "/var/run/podman/podman.sock", "/var/run/cri-dockerd.sock",
    "/run/buildkit/buildkitd.sock", "/run/ward/agent.sock", "/var/run/ward/agent.sock",
  };
  for (size_t i = 0; i < ARRAY_SIZE(known); i++)
    add_socket(r, known[i], "well-known path");
}

int ward_check_collect(struct ward_check_report *r, ward_error_t *err)
{
  (void) err;
  memset(r, 0, sizeof(*r));
  id_maps(r);
  status_fields(r);
  namespaces(r);
  masked_paths(r);
  writable_paths(r);
  sockets(r);
  ward_check_probe_syscalls(r);
  ward_check_probe_landlock(r);
  return 0;
}
