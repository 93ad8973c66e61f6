/* The container's init, from clone to execve. The steps run in this order
 * because each depends on the one before:
 *   1. wait for the parent's 'G' (id maps written)
 *   2. become root of the user namespace, join namespaces given by path,
 *      unshare the cgroup namespace (after 'C'), bring up lo, new session
 *      and keyring
 *   3. the file system: mounts, devices, masks, pivot_root (mount/), while
 *      the parent joins us to the cgroup ('C'; awaited first when there is
 *      no user namespace, since mknod is subject to the device cgroup)
 *   4. hostname, console, sysctl, read-only root, 'C' at the latest, the
 *      createContainer hooks, rlimits, oom score, cwd
 *   5. identity: bounding set, groups, gid, uid, umask, capabilities, NNP
 *   6. the seccomp-notify supervisor filter (its listener goes to the parent)
 *   7. ready; for `create`, block on the exec fifo until `start`
 *   8. Landlock, then the seccomp filter: last, so that nothing ward itself
 *      still has to do is refused
 *   9. execve; every fd but stdio and preserved ones is close-on-exec. */
#include "runtime/launch.h"
#include "runtime/hooks.h"
#include "runtime/process_setup.h"
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
#include <linux/capability.h>
#include <linux/keyctl.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif


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

/* Unless we joined it ourselves (cgroup_self_join), the parent joins us to
 * the container's cgroup while we set up the mounts and says 'C' when
 * done. Before a new cgroup namespace (its root is our cgroup at that
 * moment), mknod (the device cgroup), hooks and everything after the file
 * system, we must be in. */
static int await_cgroup(struct ward_launch *L, ward_error_t *err)
{
  if (L->in_cgroup)
    return 0;
  char type, buf[16];
  if (ward_msg_recv(L->sync_fd, &type, buf, sizeof(buf), NULL, err) < 0)
    return -1;
  if (type != 'C')
    return ward_error(err, EPROTO, "the runtime did not confirm the cgroup");
  L->in_cgroup = true;
  return 0;
}

static int enter_namespaces(struct ward_launch *L, ward_error_t *err)
{
  const struct ward_config *cfg = L->cfg;
  if (become_ns_root(L, err) < 0 || ward_ns_join(L->ns_fds, err) < 0)
    return -1;
  if (cfg->ns[WARD_NS_CGROUP].requested && !cfg->ns[WARD_NS_CGROUP].path) {
    if (await_cgroup(L, err) < 0)
      return -1;
    if (unshare(CLONE_NEWCGROUP) < 0)
      return ward_error_sys(err, "create the cgroup namespace");
  }
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
  if (await_cgroup(L, err) < 0 || ward_msg_send(L->sync_fd, 'H', NULL, 0, -1, err) < 0 || ward_msg_recv(L->sync_fd, &type, buf, sizeof(buf), NULL, err) < 0)
    return -1;
  if (type != 'A')
    return ward_error(err, EPROTO, "the runtime did not confirm the hooks");
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

static int load_seccomp(const struct ward_launch *L, ward_error_t *err)
{
  int listener = -1;
  if (L->seccomp) {
    if (ward_seccomp_load(L->seccomp, &listener, err) < 0)
      return ward_error_prefix(err, "linux.seccomp");
    if (listener >= 0)
      close(listener);  /* OCI listenerPath hand-over is not supported yet */
  }
  /* the template's allow-list goes on top: it can only narrow */
  if (L->extra_seccomp && ward_seccomp_load(L->extra_seccomp, &listener, err) < 0)
    return ward_error_prefix(err, "template seccomp layer");
  return 0;
}

static int apply_landlock(const struct ward_landlock *ll, const char *what, ward_error_t *err)
{
  if (ll == NULL)
    return 0;
  char report[256] = "";
  if (ward_landlock_apply(ll, report, sizeof(report), err) < 0)
    return what ? ward_error_prefix(err, "%s", what) : -1;
  if (strstr(report, "not enforced"))
    dprintf(STDERR_FILENO, "ward: warning: %s%s%s\n", what ? what : "", what ? ": " : "", report);
  return 0;
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
  /* still single-threaded: the join without a grace period (cgroup.h) */
  if (L->cgroup_self_join) {
    if (ward_cgroup_join_self(&L->cgroup_join, err) < 0)
      return -1;
    L->in_cgroup = true;
  }

  if (enter_namespaces(L, err) < 0 || wait_hooks(L, err) < 0)
    return -1;
  if (!cfg->ns[WARD_NS_MOUNT].requested)
    return ward_error(err, 0, "linux.namespaces: a mount namespace is required");
  struct ward_rootfs_plan plan = {
    .cfg = cfg, .rootfs = cfg->root_path, .rootfs_fd = -1, .host_root_bind = L->host_root_bind, .in_userns = L->new_userns || L->ns_fds[WARD_NS_USER] >= 0,
    .no_pivot = L->no_pivot, .cgroup = L->state->cgroup, .extra = L->binds, .n_extra = L->n_binds,
  };
  /* Outside a user namespace the device nodes are made with mknod, which
   * the device cgroup governs: be in it first, as before the overlap. */
  if ((!plan.in_userns && await_cgroup(L, err) < 0) || ward_rootfs_setup(&plan, err) < 0)
    return -1;
  if (cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
    return ward_error_sys(err, "hostname");
  if (cfg->domainname && setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0)
    return ward_error_sys(err, "domainname");
  if (ward_proc_console(p, &L->console_fd, true, err) < 0 || apply_sysctl(cfg, err) < 0 || ward_rootfs_finish(&plan, err) < 0)
    return -1;
  if (await_cgroup(L, err) < 0 || ward_hooks_run(&cfg->hooks, WARD_HOOK_CREATE_CONTAINER, state_json, err) < 0)
    return -1;
  if (ward_proc_limits(p, err) < 0 || ward_proc_enter_cwd(p, err) < 0)
    return -1;

  /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the
   * identity switch drops. Landlock cannot be loaded early (it would deny
   * the exec fifo), so asking for it implies no_new_privs. */
  if ((L->landlock || L->extra_landlock) && !(p->caps.effective & (1ull << CAP_SYS_ADMIN)))
    p->no_new_privileges = true;
  /* podman and containerd leave noNewPrivileges off: then the filters go
   * in before the identity switch, as runc does (the profiles allow the
   * few calls left: setresuid, capset, the fifo, execve). */
  bool late_filters = p->no_new_privileges;
  if (!late_filters && (install_supervisor(L, err) < 0 || load_seccomp(L, err) < 0))
    return -1;
  if (ward_proc_switch_user(p, L->new_userns, err) < 0)
    return -1;
  if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return ward_error_sys(err, "process.noNewPrivileges");
  if (late_filters && install_supervisor(L, err) < 0)
    return -1;
  _cleanup_free_ char *exe = NULL;
  _cleanup_strv_ char **env = build_env(L);
  if (env == NULL)
    return ward_error(err, ENOMEM, "process.env");
  if (ward_proc_find_executable(p->args[0], env, &exe, err) < 0 || ward_proc_close_fds(L->preserve_fds, err) < 0)
    return -1;
  if (L->mode == WARD_LAUNCH_CREATE)
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);  /* `create` exits; we stay */
  if (ward_msg_send(L->sync_fd, 'R', NULL, 0, -1, err) < 0)
    return -1;
  L->ready_sent = true;
  if (wait_for_start(L, err) < 0 || ward_hooks_run(&cfg->hooks, WARD_HOOK_START_CONTAINER, state_json, err) < 0)
    return -1;

  if (apply_landlock(L->landlock, NULL, err) < 0 || apply_landlock(L->extra_landlock, "template landlock layer", err) < 0)
    return -1;
  if (late_filters && load_seccomp(L, err) < 0)
    return -1;
  execve(exe, p->args, env);
  return ward_error_sys(err, "exec %s", exe);
}

void ward_init_main(struct ward_launch *L)
{
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  /* The parent holds the signals it forwards blocked from before it clones
   * us (a SIGTERM must not cut its create or removal short): the workload
   * starts with none blocked, whatever ward had. */
  ward_child_reset_signals();
  /* An flock belongs to the open file, which the clone shares: our copy
   * would keep the parent's ring lock held until our execve. */
  if (L->close_in_init >= 0)
    close(L->close_in_init);
  ward_error_t err = NULL;
  init_run(L, &err);
  const char *msg = err && err->msg ? err->msg : "container init failed";
  _cleanup_error_ ward_error_t ignored = NULL;
  /* after 'R' the parent no longer reads the socket: say it here */
  if (L->ready_sent || ward_msg_send(L->sync_fd, 'E', msg, strlen(msg), -1, &ignored) < 0)
    dprintf(STDERR_FILENO, "ward: %s\n", msg);
  _exit(127);
}
