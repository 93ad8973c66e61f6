/* The parent's half of starting a container: validate and prepare, clone the
 * init into its namespaces, write its id maps, put it in its cgroup, and
 * wait for it to report ready. */
#include "runtime/launch.h"
#include "runtime/hooks.h"
#include "cgroup/cgroup.h"
#include "ns/ns.h"
#include "common/cleanup.h"
#include "common/unix.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

void ward_launch_init(struct ward_launch *L)
{
  memset(L, 0, sizeof(*L));
  for (int k = 0; k < WARD_NS_COUNT; k++)
    L->ns_fds[k] = -1;
  L->fifo_fd = L->console_fd = L->sync_fd = L->pidfd = L->listener_fd = L->close_in_init = -1;
  L->cgroup_join.unified_fd = -1;
}

void ward_launch_release(struct ward_launch *L)
{
  ward_ns_close_fds(L->ns_fds);
  ward_cgroup_join_close(&L->cgroup_join);
  int *fds[] = {&L->fifo_fd, &L->console_fd, &L->sync_fd, &L->pidfd, &L->listener_fd};
  for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
    if (*fds[i] >= 0)
      close(*fds[i]);
    *fds[i] = -1;
  }
}

static int check_sources(const struct ward_config *cfg, ward_error_t *err)
{
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    const struct ward_mount *m = &cfg->mounts[i];
    struct stat st;
    if (m->bind && stat(m->source, &st) < 0)
      return ward_error_sys(err, "mounts[%zu].source: %s", i, m->source);
  }
  return 0;
}

static int connect_console(const char *path, ward_error_t *err)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(addr.sun_path))
    return ward_error(err, ENAMETOOLONG, "--console-socket %s", path);
  strcpy(addr.sun_path, path);
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0)
    return ward_error_sys(err, "--console-socket %s", path);
  return steal_fd(&fd);
}

/* The host uid that the container's root maps to, so the init, once in its
 * user namespace, may still open the exec fifo. */
static uid_t host_root_uid(const struct ward_config *cfg, gid_t *gid)
{
  *gid = getegid();
  uid_t uid = geteuid();
  for (size_t i = 0; i < cfg->n_uid_maps; i++)
    if (cfg->uid_maps[i].container_id == 0)
      uid = cfg->uid_maps[i].host_id;
  for (size_t i = 0; i < cfg->n_gid_maps; i++)
    if (cfg->gid_maps[i].container_id == 0)
      *gid = cfg->gid_maps[i].host_id;
  return uid;
}

int ward_launch_prepare(struct ward_launch *L, ward_error_t *err)
{
  struct ward_config *cfg = L->cfg;
  if (!cfg->has_process)
    return ward_error(err, 0, "process: the config has no process to run");
  struct stat st;
  if (!L->host_root_bind && (stat(cfg->root_path, &st) < 0 || !S_ISDIR(st.st_mode)))
    return ward_error(err, errno ? errno : ENOTDIR, "root.path: %s is not a directory", cfg->root_path);
  if (check_sources(cfg, err) < 0 || ward_userns_validate(cfg, err) < 0 || ward_ns_open_paths(cfg, L->ns_fds, err) < 0)
    return -1;
  if (cfg->process.terminal && L->mode == WARD_LAUNCH_CREATE && L->console_socket == NULL)
    return ward_error(err, 0, "process.terminal: a terminal needs --console-socket");
  L->clone_flags = ward_ns_clone_flags(cfg);
  L->new_userns = (L->clone_flags & CLONE_NEWUSER) != 0;
  if (cfg->ns[WARD_NS_PID].path)
    return ward_error(err, ENOTSUP, "linux.namespaces: joining an existing pid namespace is not supported for the init; use ward exec");
  if (L->console_socket && (L->console_fd = connect_console(L->console_socket, err)) < 0)
    return -1;
  if (L->mode == WARD_LAUNCH_CREATE) {
    _cleanup_free_ char *fifo = ward_state_path(L->state, "exec.fifo");
    if (fifo == NULL)
      return ward_error(err, ENOMEM, "fifo");
    if (mkfifo(fifo, 0600) < 0)
      return ward_error_sys(err, "mkfifo %s", fifo);
    gid_t gid;
    uid_t uid = host_root_uid(cfg, &gid);
    if (geteuid() == 0 && chown(fifo, uid, gid) < 0)
      return ward_error_sys(err, "chown %s", fifo);
    L->fifo_fd = open(fifo, O_PATH | O_CLOEXEC);
    if (L->fifo_fd < 0)
      return ward_error_sys(err, "open %s", fifo);
  }
  return 0;
}

static pid_t clone_init(int flags, int *pidfd, int cgroup_fd)
{
  struct clone_args args = {
    .flags = (uint64_t) flags | CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
    .pidfd = (uint64_t) (uintptr_t) pidfd,
    .exit_signal = SIGCHLD,
    .cgroup = cgroup_fd >= 0 ? (uint64_t) cgroup_fd : 0,
  };
  return (pid_t) syscall(SYS_clone3, &args, sizeof(args));
}

/* The fast join (cgroup.h) when the files open; otherwise the parent
 * writes cgroup.procs as before. */
static pid_t clone_joined(struct ward_launch *L)
{
  L->cgroup_self_join = ward_cgroup_join_begin(L->state->cgroup, &L->cgroup_join);
  if (!L->cgroup_self_join)
    return clone_init(L->clone_flags, &L->pidfd, -1);
  pid_t pid = clone_init(L->clone_flags, &L->pidfd, L->cgroup_join.unified_fd);
  if (pid < 0 && L->cgroup_join.unified_fd >= 0 && ward_cgroup_join_refused(&L->cgroup_join, errno)) {
    L->cgroup_self_join = false;
    pid = clone_init(L->clone_flags, &L->pidfd, -1);
  }
  return pid;
}

static void kill_and_reap(struct ward_launch *L)
{
  if (L->pid <= 0)
    return;
  kill(L->pid, SIGKILL);
  while (waitpid(L->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  L->pid = 0;
}

/* Runs the prestart and createRuntime hooks when the init asks ('H'),
 * takes the notify listener ('L'), until the init is ready ('R'). */
static int handshake_wait(struct ward_launch *L, int sock, const char *state_json, ward_error_t *err)
{
  struct ward_config *cfg = L->cfg;
  char buf[4096];
  for (;;) {
    char type;
    int fd = -1;
    if (ward_msg_recv(sock, &type, buf, sizeof(buf), &fd, err) < 0)
      return -1;
    switch (type) {
    case 'R':
      return 0;
    case 'E':
      return ward_error(err, 0, "%s", buf);
    case 'H':
      if (ward_hooks_run(&cfg->hooks, WARD_HOOK_PRESTART, state_json, err) < 0 ||
          ward_hooks_run(&cfg->hooks, WARD_HOOK_CREATE_RUNTIME, state_json, err) < 0 ||
          ward_msg_send(sock, 'A', NULL, 0, -1, err) < 0)
        return -1;
      break;
    case 'L':
      if (L->listener_fd >= 0)
        close(L->listener_fd);
      L->listener_fd = fd;
      break;
    case 0: {
      int status = 0;
      waitpid(L->pid, &status, 0);
      L->pid = 0;
      if (WIFSIGNALED(status))
        return ward_error(err, 0, "the container init was killed by signal %d during setup", WTERMSIG(status));
      return ward_error(err, 0, "the container init exited during setup (status %d)", WEXITSTATUS(status));
    }
    default:
      if (fd >= 0)
        close(fd);
      return ward_error(err, EPROTO, "unexpected message '%c' from the container init", type);
    }
  }
}

static int handshake(struct ward_launch *L, int sock, ward_error_t *err)
{
  struct ward_config *cfg = L->cfg;
  if (L->new_userns && ward_userns_write_maps(L->pid, cfg, err) < 0)
    return -1;
  L->state->pid = L->pid;
  /* The init waits for 'G': what it carries is known without looking at
   * /proc; the start time is read once it is on its way. */
  _cleanup_json_ json_t *sj = ward_state_oci_json_as(L->state, WARD_CREATING);
  _cleanup_free_ char *state_json = sj ? json_dumps(sj, JSON_COMPACT) : NULL;
  if (state_json == NULL)
    return ward_error(err, ENOMEM, "state");
  if (ward_msg_send(sock, 'G', state_json, strlen(state_json), -1, err) < 0)
    return -1;
  L->state->pid_start = ward_proc_start_time(L->pid);
  if (!L->cgroup_self_join) {
    /* Without the fast join (cgroup.h), the first write to a v1
     * cgroup.procs waits for an RCU grace period: the init sets up its
     * mounts meanwhile, and waits for 'C' before anything that must count
     * against the cgroup (init.c). */
    if (L->state->cgroup && ward_cgroup_enter(L->state->cgroup, L->pid, err) < 0)
      return -1;
    /* An init that already failed has closed its end: its 'E' (or its
     * exit) is read below. Any other failure would leave it waiting for 'C'. */
    _cleanup_error_ ward_error_t lost = NULL;
    if (ward_msg_send(sock, 'C', NULL, 0, -1, &lost) < 0 && lost->errnum != EPIPE && lost->errnum != ECONNRESET) {
      ward_error_free(err);
      *err = steal_pointer(&lost);
      return -1;
    }
  }
  if (L->on_the_way)
    L->on_the_way(L->on_the_way_arg);
  return handshake_wait(L, sock, state_json, err);
}

int ward_launch_start(struct ward_launch *L, ward_error_t *err)
{
  if (ward_ns_join_inherited(L->ns_fds, err) < 0)
    return -1;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return ward_error_sys(err, "socketpair");
  _cleanup_close_ int sock = sv[0];
  fflush(NULL);
  pid_t pid = clone_joined(L);
  if (pid < 0) {
    int saved = errno;
    close(sv[1]);
    if (saved == EINVAL || saved == EPERM || saved == ENOSPC || saved == EUSERS)
      return ward_error(err, saved, "create namespaces (clone3); user namespaces may be disabled or exhausted");
    return ward_error(err, saved, "clone3");
  }
  if (pid == 0) {
    close(sv[0]);
    L->sync_fd = sv[1];
    ward_init_main(L);
  }
  close(sv[1]);
  ward_cgroup_join_close(&L->cgroup_join);
  L->pid = pid;
  if (handshake(L, sock, err) < 0) {
    kill_and_reap(L);
    return -1;
  }
  return 0;
}
