/* The container's init, from clone to execve. The steps run in this order
 * because each depends on the one before:
 *   1. wait for the parent (id maps written, cgroup joined)
 *   2. become root of the user namespace, join namespaces given by path,
 *      unshare the cgroup namespace, bring up lo, new session and keyring
 *   3. the file system: mounts, devices, masks, pivot_root (mount/)
 *   4. hostname, console, sysctl, read-only root, rlimits, oom score, cwd
 *   5. identity: bounding set, groups, gid, uid, umask, capabilities, NNP
 *   6. the seccomp-notify supervisor filter (its listener goes to the parent)
 *   7. ready; for `create`, block on the exec fifo until `start`
 *   8. Landlock, then the seccomp filter: last, so that nothing ward itself
 *      still has to do is refused
 *   9. execve; every fd but stdio and preserved ones is close-on-exec. */
#include "runtime/launch.h"
#include "runtime/hooks.h"
#include "caps/caps.h"
#include "landlock/landlock.h"
#include "mount/mount.h"
#include "ns/ns.h"
#include "seccomp/seccomp.h"
#include "supervisor/supervisor.h"
#include "common/cleanup.h"
#include "common/unix.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>
#include <linux/keyctl.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static bool maps_id_zero(const struct ward_id_map *maps, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (maps[i].container_id == 0)
      return true;
  return false;
}

static int become_ns_root(const struct ward_launch *L, ward_error_t *err)
{
  const struct ward_config *cfg = L->cfg;
  if (!L->new_userns)
    return 0;
  if (maps_id_zero(cfg->gid_maps, cfg->n_gid_maps) && setresgid(0, 0, 0) < 0)
    return ward_error_sys(err, "setresgid(0) in the user namespace");
  if (maps_id_zero(cfg->uid_maps, cfg->n_uid_maps) && setresuid(0, 0, 0) < 0)
    return ward_error_sys(err, "setresuid(0) in the user namespace");
  return 0;
}

static int enter_time_ns(const struct ward_config *cfg, ward_error_t *err)
{
  if (unshare(CLONE_NEWTIME) < 0)
    return ward_error_sys(err, "create the time namespace");
  char offsets[128];
  snprintf(offsets, sizeof(offsets), "monotonic %lld 0\nboottime %lld 0\n", (long long) cfg->time_offset_monotonic_s,
           (long long) cfg->time_offset_boottime_s);
  if (ward_write_string_at(AT_FDCWD, "/proc/self/timens_offsets", offsets, err) < 0)
    return ward_error_prefix(err, "linux.timeOffsets");
  return 0;
}

static int enter_namespaces(struct ward_launch *L, ward_error_t *err)
{
  const struct ward_config *cfg = L->cfg;
  if (become_ns_root(L, err) < 0 || ward_ns_join(L->ns_fds, err) < 0)
    return -1;
  if (cfg->ns[WARD_NS_CGROUP].requested && !cfg->ns[WARD_NS_CGROUP].path && unshare(CLONE_NEWCGROUP) < 0)
    return ward_error_sys(err, "create the cgroup namespace");
  if (cfg->ns[WARD_NS_TIME].requested && !cfg->ns[WARD_NS_TIME].path && enter_time_ns(cfg, err) < 0)
    return -1;
  if ((L->clone_flags & CLONE_NEWNET) && ward_net_loopback_up(err) < 0)
    return -1;
  if (setsid() < 0)
    return ward_error_sys(err, "setsid");
  /* Keyrings are not namespaced: a fresh session keyring keeps the host's
   * keys out of reach (unless --no-new-keyring). */
  if (!L->no_new_keyring && syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS)
    return ward_error_sys(err, "create a session keyring");
  return 0;
}

static int wait_hooks(struct ward_launch *L, ward_error_t *err)
{
  const struct ward_hooks *h = &L->cfg->hooks;
  if (h->count[WARD_HOOK_PRESTART] == 0 && h->count[WARD_HOOK_CREATE_RUNTIME] == 0)
    return 0;
  char type, buf[16];
  if (ward_msg_send(L->sync_fd, 'H', NULL, 0, -1, err) < 0 || ward_msg_recv(L->sync_fd, &type, buf, sizeof(buf), NULL, err) < 0)
    return -1;
  if (type != 'A')
    return ward_error(err, EPROTO, "the runtime did not confirm the hooks");
  return 0;
}

static int send_console(int sock, int master, ward_error_t *err)
{
  /* The runc console-socket protocol: one message, payload the pty name,
   * the master as SCM_RIGHTS. */
  static const char name[] = "/dev/ptmx";
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof(control));
  struct iovec iov = {.iov_base = (void *) name, .iov_len = sizeof(name) - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof(control.buf)};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof(int));
  if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
    return ward_error_sys(err, "send the console to --console-socket");
  return 0;
}

static int setup_console(struct ward_launch *L, ward_error_t *err)
{
  const struct ward_process *p = &L->cfg->process;
  if (!p->terminal)
    return 0;
  if (L->console_fd < 0)
    return ward_error(err, 0, "process.terminal: no console socket to hand the terminal to (use --console-socket)");
  _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return ward_error_sys(err, "open /dev/ptmx (is devpts mounted at /dev/pts?)");
  char name[64];
  if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
    return ward_error_sys(err, "unlock the terminal");
  _cleanup_close_ int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return ward_error_sys(err, "open %s", name);
  if (p->console_width || p->console_height) {
    struct winsize ws = {.ws_row = (unsigned short) p->console_height, .ws_col = (unsigned short) p->console_width};
    ioctl(slave, TIOCSWINSZ, &ws);
  }
  /* /dev/console is the terminal too, as the spec asks. */
  int console = open("/dev/console", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (console >= 0)
    close(console);
  if (mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0)
    return ward_error_sys(err, "bind the terminal at /dev/console");
  if (send_console(L->console_fd, master, err) < 0)
    return -1;
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0)
      return ward_error_sys(err, "dup2 terminal");
  if (ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
    return ward_error_sys(err, "make the terminal controlling");
  close(L->console_fd);
  L->console_fd = -1;
  return 0;
}

static int apply_sysctl(const struct ward_config *cfg, ward_error_t *err)
{
  for (size_t i = 0; i < cfg->n_sysctl; i++) {
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "/proc/sys/%s", cfg->sysctl[i].key);
    if (n < 0 || (size_t) n >= sizeof(path))
      return ward_error(err, ENAMETOOLONG, "linux.sysctl.%s", cfg->sysctl[i].key);
    for (char *c = path + strlen("/proc/sys/"); *c; c++)
      if (*c == '.')
        *c = '/';
    if (ward_write_string_at(AT_FDCWD, path, cfg->sysctl[i].value, err) < 0)
      return ward_error_prefix(err, "linux.sysctl.%s", cfg->sysctl[i].key);
  }
  return 0;
}

static int apply_process_limits(const struct ward_process *p, ward_error_t *err)
{
  for (size_t i = 0; i < p->n_rlimits; i++) {
    struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
    if (setrlimit(p->rlimits[i].resource, &rl) < 0)
      return ward_error_sys(err, "process.rlimits[%zu]: setrlimit (raising a hard limit needs CAP_SYS_RESOURCE)", i);
  }
  if (p->has_oom_score_adj) {
    char buf[16];
    snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
    if (ward_write_string_at(AT_FDCWD, "/proc/self/oom_score_adj", buf, err) < 0)
      return ward_error_prefix(err, "process.oomScoreAdj (lowering it needs CAP_SYS_RESOURCE)");
  }
  return 0;
}

static int enter_cwd(const struct ward_process *p, ward_error_t *err)
{
  _cleanup_error_ ward_error_t ignored = NULL;
  ward_mkdir_p(p->cwd, 0755, &ignored);
  if (chdir(p->cwd) < 0)
    return ward_error_sys(err, "process.cwd: chdir %s", p->cwd);
  /* CVE-2024-21626: a cwd reached through a leaked fd would show up as
   * "(unreachable)"; refuse anything that is not under our root. */
  char where[PATH_MAX];
  if (getcwd(where, sizeof(where)) == NULL || where[0] != '/')
    return ward_error(err, EPERM, "process.cwd: %s resolves outside the container's root", p->cwd);
  return 0;
}

static int switch_user(const struct ward_launch *L, ward_error_t *err)
{
  const struct ward_process *p = &L->cfg->process;
  struct ward_caps caps = p->caps;
  if (!p->has_caps)
    memset(&caps, 0, sizeof(caps));
  if (ward_caps_prepare(&caps, err) < 0)
    return -1;
  if (p->user.n_additional_gids || !L->new_userns || geteuid() == 0) {
    if (setgroups(p->user.n_additional_gids, p->user.additional_gids) < 0) {
      /* Rootless single-id namespaces deny setgroups; only an explicit
       * request for extra groups is an error there. */
      if (p->user.n_additional_gids || errno != EPERM)
        return ward_error_sys(err, "process.user.additionalGids: setgroups");
    }
  }
  if (setresgid(p->user.gid, p->user.gid, p->user.gid) < 0)
    return ward_error_sys(err, "process.user.gid: setresgid(%u) (is it mapped?)", (unsigned) p->user.gid);
  if (setresuid(p->user.uid, p->user.uid, p->user.uid) < 0)
    return ward_error_sys(err, "process.user.uid: setresuid(%u) (is it mapped?)", (unsigned) p->user.uid);
  if (p->user.has_umask)
    umask(p->user.umask);
  return ward_caps_apply(&caps, err);
}

static int find_executable(const char *name, char *const *env, char **out, ward_error_t *err)
{
  if (strchr(name, '/')) {
    if (access(name, X_OK) < 0)
      return ward_error_sys(err, "process.args[0]: %s", name);
    *out = strdup(name);
    return *out ? 0 : ward_error(err, ENOMEM, "exec");
  }
  const char *path = DEFAULT_PATH;
  for (size_t i = 0; env && env[i]; i++)
    if (ward_has_prefix(env[i], "PATH="))
      path = env[i] + 5;
  _cleanup_free_ char *copy = strdup(path);
  if (copy == NULL)
    return ward_error(err, ENOMEM, "exec");
  char *save = NULL;
  for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    char *candidate = NULL;
    if (asprintf(&candidate, "%s/%s", *dir ? dir : ".", name) < 0)
      return ward_error(err, ENOMEM, "exec");
    struct stat st;
    if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode) && access(candidate, X_OK) == 0) {
      *out = candidate;
      return 0;
    }
    free(candidate);
  }
  return ward_error(err, ENOENT, "process.args[0]: executable file \"%s\" not found in $PATH", name);
}

static int close_leaked_fds(const struct ward_launch *L, ward_error_t *err)
{
  int first = 3 + L->preserve_fds;
  if (ward_cloexec_from(first, err) < 0)
    return -1;
  for (int fd = 3; fd < first; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0)
      fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  return 0;
}

static int wait_for_start(struct ward_launch *L, ward_error_t *err)
{
  if (L->fifo_fd < 0)
    return 0;
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", L->fifo_fd);
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return ward_error_sys(err, "open the exec fifo");
  if (write(fd, "0", 1) != 1)
    return ward_error_sys(err, "write the exec fifo");
  close(L->fifo_fd);
  L->fifo_fd = -1;
  return 0;
}

static char **build_env(const struct ward_launch *L)
{
  char **env = ward_strv_dup(L->cfg->process.env);
  if (env == NULL)
    env = calloc(1, sizeof(char *));
  for (size_t i = 0; env && L->extra_env && L->extra_env[i]; i++)
    if (ward_strv_append(&env, L->extra_env[i]) < 0)
      return NULL;
  return env;
}

static int install_supervisor(struct ward_launch *L, ward_error_t *err)
{
  if (L->supervisor == NULL)
    return 0;
  _cleanup_close_ int listener = -1;
  if (ward_supervisor_install(L->supervisor, &listener, err) < 0)
    return -1;
  return ward_msg_send(L->sync_fd, 'L', NULL, 0, listener, err);
}

static int init_run(struct ward_launch *L, ward_error_t *err)
{
  struct ward_config *cfg = L->cfg;
  struct ward_process *p = &cfg->process;
  char type;
  _cleanup_free_ char *state_json = malloc(65536);
  if (state_json == NULL)
    return ward_error(err, ENOMEM, "init");
  if (ward_msg_recv(L->sync_fd, &type, state_json, 65536, NULL, err) < 0)
    return -1;
  if (type != 'G')
    exit(1);  /* the parent gave up on us */
  /* Nothing in the container may open /proc/<init>/exe or its memory while
   * ward's code is still running here (CVE-2019-5736); execve resets it.
   * Not before 'G': a non-dumpable process's /proc files belong to root, and
   * a rootless parent could no longer write our id maps. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  if (enter_namespaces(L, err) < 0 || wait_hooks(L, err) < 0)
    return -1;
  if (!cfg->ns[WARD_NS_MOUNT].requested)
    return ward_error(err, 0, "linux.namespaces: a mount namespace is required");
  struct ward_rootfs_plan plan = {
    .cfg = cfg, .rootfs = cfg->root_path, .rootfs_fd = -1, .host_root_bind = L->host_root_bind, .in_userns = L->new_userns || L->ns_fds[WARD_NS_USER] >= 0,
    .no_pivot = L->no_pivot, .cgroup = L->state->cgroup, .extra = L->binds, .n_extra = L->n_binds,
  };
  if (ward_rootfs_setup(&plan, err) < 0)
    return -1;
  if (cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
    return ward_error_sys(err, "hostname");
  if (cfg->domainname && setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0)
    return ward_error_sys(err, "domainname");
  if (setup_console(L, err) < 0 || apply_sysctl(cfg, err) < 0 || ward_rootfs_finish(&plan, err) < 0)
    return -1;
  if (ward_hooks_run(&cfg->hooks, WARD_HOOK_CREATE_CONTAINER, state_json, err) < 0)
    return -1;
  if (apply_process_limits(p, err) < 0 || enter_cwd(p, err) < 0)
    return -1;

  /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the
   * identity switch drops: load everything before it then. */
  bool late_filters = p->no_new_privileges;
  if (!late_filters && install_supervisor(L, err) < 0)
    return -1;
  if (switch_user(L, err) < 0)
    return -1;
  if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return ward_error_sys(err, "process.noNewPrivileges");
  if (late_filters && install_supervisor(L, err) < 0)
    return -1;
  _cleanup_free_ char *exe = NULL;
  _cleanup_strv_ char **env = build_env(L);
  if (env == NULL)
    return ward_error(err, ENOMEM, "process.env");
  if (find_executable(p->args[0], env, &exe, err) < 0 || close_leaked_fds(L, err) < 0)
    return -1;
  if (L->mode == WARD_LAUNCH_CREATE)
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);  /* `create` exits; we stay */
  if (ward_msg_send(L->sync_fd, 'R', NULL, 0, -1, err) < 0)
    return -1;
  if (wait_for_start(L, err) < 0 || ward_hooks_run(&cfg->hooks, WARD_HOOK_START_CONTAINER, state_json, err) < 0)
    return -1;

  if (L->landlock) {
    char report[256] = "";
    if (ward_landlock_apply(L->landlock, report, sizeof(report), err) < 0)
      return -1;
    if (strstr(report, "not enforced"))
      dprintf(STDERR_FILENO, "ward: warning: %s\n", report);
  }
  if (L->seccomp) {
    int listener = -1;
    if (ward_seccomp_load(L->seccomp, &listener, err) < 0)
      return ward_error_prefix(err, "linux.seccomp");
    if (listener >= 0)
      close(listener);  /* OCI listenerPath hand-over is not supported yet */
  }
  execve(exe, p->args, env);
  return ward_error_sys(err, "exec %s", exe);
}

void ward_init_main(struct ward_launch *L)
{
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  ward_error_t err = NULL;
  init_run(L, &err);
  const char *msg = err && err->msg ? err->msg : "container init failed";
  _cleanup_error_ ward_error_t ignored = NULL;
  if (ward_msg_send(L->sync_fd, 'E', msg, strlen(msg), -1, &ignored) < 0)
    dprintf(STDERR_FILENO, "ward: %s\n", msg);
  _exit(127);
}
