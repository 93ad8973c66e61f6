/* `ward exec`: see exec.h for the three processes and their handshake. */
#include "runtime/exec.h"
#include "runtime/lifecycle.h"
#include "runtime/process_setup.h"
#include "caps/caps.h"
#include "cgroup/cgroup.h"
#include "landlock/landlock.h"
#include "seccomp/seccomp.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/unix.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Everything the process needs, prepared by P before any fork. */
struct exec_plan {
  struct ward_process proc;
  struct ward_seccomp_prog *seccomp;
  struct ward_landlock *landlock;
  int pidfd;          /* the container's init */
  int ns_flags;       /* namespaces of the init that differ from ours */
  int console_fd;
  int preserve_fds;
  bool self_join;     /* the helper joins the cgroup itself (cgroup.h) */
  struct ward_cgroup_join join;
};

static void plan_release(struct exec_plan *x)
{
  ward_process_clear(&x->proc);
  if (x->seccomp)
    ward_seccomp_prog_free(x->seccomp);
  if (x->landlock)
    ward_landlock_free(x->landlock);
  if (x->pidfd >= 0)
    close(x->pidfd);
  ward_cgroup_join_close(&x->join);
  if (x->console_fd >= 0)
    close(x->console_fd);
}

/* A deep copy of the config's process, the base of the ARGS form. */
static int copy_process(const struct ward_process *src, struct ward_process *dst, ward_error_t *err)
{
  *dst = *src;
  dst->args = NULL;
  dst->env = src->env ? ward_strv_dup(src->env) : calloc(1, sizeof(char *));
  dst->cwd = strdup(src->cwd ? src->cwd : "/");
  dst->user.additional_gids = NULL;
  dst->rlimits = NULL;
  if (src->user.n_additional_gids) {
    dst->user.additional_gids = calloc(src->user.n_additional_gids, sizeof(gid_t));
    if (dst->user.additional_gids)
      memcpy(dst->user.additional_gids, src->user.additional_gids, src->user.n_additional_gids * sizeof(gid_t));
  }
  if (src->n_rlimits) {
    dst->rlimits = calloc(src->n_rlimits, sizeof(*dst->rlimits));
    if (dst->rlimits)
      memcpy(dst->rlimits, src->rlimits, src->n_rlimits * sizeof(*dst->rlimits));
  }
  if (dst->env == NULL || dst->cwd == NULL || (src->user.n_additional_gids && !dst->user.additional_gids) ||
      (src->n_rlimits && !dst->rlimits))
    return ward_error(err, ENOMEM, "process");
  return 0;
}

static int set_env(char ***env, const char *kv, ward_error_t *err)
{
  const char *eq = strchr(kv, '=');
  if (eq == NULL || eq == kv)
    return ward_error(err, 0, "--env: \"%s\" is not of the form NAME=VALUE", kv);
  size_t klen = (size_t) (eq - kv) + 1;
  for (size_t i = 0; (*env)[i]; i++) {
    if (strncmp((*env)[i], kv, klen) == 0) {
      char *copy = strdup(kv);
      if (copy == NULL)
        return ward_error(err, ENOMEM, "--env");
      free((*env)[i]);
      (*env)[i] = copy;
      return 0;
    }
  }
  return ward_strv_append(env, kv) < 0 ? ward_error(err, ENOMEM, "--env") : 0;
}

static int build_process(const struct ward_exec_opts *o, const struct ward_config *cfg, struct ward_process *p,
                         ward_error_t *err)
{
  if (o->process_file) {
    _cleanup_json_ json_t *doc = NULL;
    _cleanup_free_ char *what = NULL;
    if (asprintf(&what, "%s: process", o->process_file) < 0)
      return ward_error(err, ENOMEM, "--process");
    if (wj_load_file(o->process_file, 4u << 20, &doc, err) < 0 || ward_process_parse(doc, what, p, err) < 0)
      return -1;
  } else {
    if (o->args == NULL || o->args[0] == NULL || o->args[0][0] == '\0')
      return ward_error(err, 0, "exec: a command (ARGS) or --process FILE is required");
    if (copy_process(&cfg->process, p, err) < 0 || (p->args = ward_strv_dup(o->args)) == NULL)
      return -1;
    /* The same default as at create (lifecycle.c). */
    const char *ann = ward_config_annotation(cfg, "run.ward.capabilities");
    if (!p->has_caps && ann && strcmp(ann, "default") == 0) {
      uint64_t d = ward_caps_docker_default();
      p->caps = (struct ward_caps) {.bounding = d, .effective = d, .permitted = d};
      p->has_caps = true;
    }
  }
  if (p->env == NULL && (p->env = calloc(1, sizeof(char *))) == NULL)
    return ward_error(err, ENOMEM, "process.env");
  for (size_t i = 0; o->env && o->env[i]; i++)
    if (set_env(&p->env, o->env[i], err) < 0)
      return -1;
  if (o->cwd) {
    if (o->cwd[0] != '/')
      return ward_error(err, 0, "--cwd: \"%s\" must be an absolute path inside the container", o->cwd);
    free(p->cwd);
    if ((p->cwd = strdup(o->cwd)) == NULL)
      return ward_error(err, ENOMEM, "--cwd");
  }
  if (o->has_user) {
    p->user.uid = o->uid;
    if (o->has_gid)
      p->user.gid = o->gid;
  }
  if (o->add_caps) {
    p->has_caps = true;
    p->caps.bounding |= o->add_caps;
    p->caps.effective |= o->add_caps;
    p->caps.permitted |= o->add_caps;
  }
  if (o->no_new_privs)
    p->no_new_privileges = true;
  if (o->tty)
    p->terminal = true;
  return 0;
}

/* The same profile as the init's: the config's, or ward's default when the
 * container was created with it (annotation, or the marker create leaves). */
static int prepare_seccomp(const struct ward_exec_opts *o, const struct ward_state *st, struct ward_config *cfg,
                           const struct ward_process *p, struct ward_seccomp_prog **out, ward_error_t *err)
{
  const char *ann = ward_config_annotation(cfg, "run.ward.seccomp");
  _cleanup_free_ char *marker = ward_state_path(st, "seccomp.default");
  bool want_default = (ann && strcmp(ann, "default") == 0) || (marker && access(marker, F_OK) == 0);
  if (cfg->seccomp == NULL && want_default) {
    uint64_t caps = p->caps.bounding | p->caps.effective | p->caps.permitted;
    if (ward_seccomp_default(caps, &cfg->seccomp, err) < 0)
      return -1;
  }
  if (cfg->seccomp == NULL)
    return 0;
  _cleanup_free_ char *cache = NULL;
  if (asprintf(&cache, "%s/.seccomp-cache", o->root) < 0)
    cache = NULL;
  if (ward_seccomp_compile(cfg->seccomp, cache, out, err) < 0)
    return ward_error_prefix(err, "linux.seccomp");
  return 0;
}

/* Namespaces of pid that are not already ours; setns refuses to "join"
 * the user namespace one is in. */
static int differing_namespaces(pid_t pid, ward_error_t *err)
{
  static const struct { const char *name; int flag; } kinds[] = {
    {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS}, {"pid", CLONE_NEWPID}, {"net", CLONE_NEWNET},
    {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
  };
  int flags = 0;
  for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
    char theirs[64], ours[64];
    struct stat a, b;
    snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", (int) pid, kinds[i].name);
    snprintf(ours, sizeof(ours), "/proc/self/ns/%s", kinds[i].name);
    if (stat(theirs, &a) < 0) {
      if (errno == ENOENT && i > 0)
        continue;  /* a namespace kind this kernel lacks */
      return ward_error_sys(err, "%s", theirs);
    }
    if (stat(ours, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
      flags |= kinds[i].flag;
  }
  return flags;
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

static int apply_landlock(const struct exec_plan *x, ward_error_t *err)
{
  char report[256] = "";
  if (x->landlock && ward_landlock_apply(x->landlock, report, sizeof(report), err) < 0)
    return ward_error_prefix(err, "landlock");
  if (strstr(report, "not enforced"))
    dprintf(STDERR_FILENO, "ward: warning: %s\n", report);
  return 0;
}

static int load_seccomp(const struct exec_plan *x, ward_error_t *err)
{
  if (x->seccomp) {
    int listener = -1;
    if (ward_seccomp_load(x->seccomp, &listener, err) < 0)
      return ward_error_prefix(err, "linux.seccomp");
    if (listener >= 0)
      close(listener);
  }
  return 0;
}

/* B: inside every namespace and the cgroup; becomes the process. */
static int child_run(struct exec_plan *x, ward_error_t *err)
{
  struct ward_process *p = &x->proc;
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  /* until execve (CVE-2019-5736) */
  if (p->terminal && setsid() < 0)
    return ward_error_sys(err, "setsid");
  if (ward_proc_console(p, &x->console_fd, false, err) < 0 || ward_proc_limits(p, err) < 0 ||
      ward_proc_enter_cwd(p, err) < 0)
    return -1;
  /* As in the init: without no_new_privs the filter needs CAP_SYS_ADMIN,
   * which the identity switch drops, so it goes in first. */
  bool late = p->no_new_privileges;
  if (!late && load_seccomp(x, err) < 0)
    return -1;
  if (ward_proc_switch_user(p, (x->ns_flags & CLONE_NEWUSER) != 0, err) < 0)
    return -1;
  if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return ward_error_sys(err, "process.noNewPrivileges");
  _cleanup_free_ char *exe = NULL;
  if (ward_proc_find_executable(p->args[0], p->env, &exe, err) < 0 || ward_proc_close_fds(x->preserve_fds, err) < 0)
    return -1;
  if (apply_landlock(x, err) < 0 || (late && load_seccomp(x, err) < 0))
    return -1;
  execve(exe, p->args, p->env);
  return ward_error_sys(err, "exec %s", exe);
}

static __attribute__((noreturn)) void fail_child(int sock, ward_error_t *err)
{
  const char *msg = *err && (*err)->msg ? (*err)->msg : "exec failed";
  _cleanup_error_ ward_error_t ignored = NULL;
  if (ward_msg_send(sock, 'E', msg, strlen(msg), -1, &ignored) < 0)
    dprintf(STDERR_FILENO, "ward: %s\n", msg);
  _exit(127);
}

/* A: joins the namespaces, then clones B as P's child. */
static __attribute__((noreturn)) void helper_main(struct exec_plan *x, int sock)
{
  ward_error_t err = NULL;
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  char type, buf[8];
  if (ward_msg_recv(sock, &type, buf, sizeof(buf), NULL, &err) < 0 || type != 'G')
    _exit(1);
  if (x->self_join && ward_cgroup_join_self(&x->join, &err) < 0)
    fail_child(sock, &err);
  if (x->ns_flags && setns(x->pidfd, x->ns_flags) < 0) {
    ward_error_sys(&err, "join the container's namespaces");
    fail_child(sock, &err);
  }
  close(x->pidfd);
  x->pidfd = -1;
  struct clone_args args = {.flags = CLONE_PARENT};
  pid_t pid = (pid_t) syscall(SYS_clone3, &args, sizeof(args));
  if (pid < 0) {
    ward_error_sys(&err, "clone into the container");
    fail_child(sock, &err);
  }
  if (pid == 0) {
    child_run(x, &err);
    fail_child(sock, &err);
  }
  int32_t host_pid = pid;
  _exit(ward_msg_send(sock, 'P', &host_pid, sizeof(host_pid), -1, &err) < 0 ? 1 : 0);
}

/* P, after the fork: cgroup, go, then B's pid and its execve. */
static int parent_side(const struct ward_state *st, const struct exec_plan *x, pid_t helper, int sock, pid_t *child,
                       ward_error_t *err)
{
  if (!x->self_join && st->cgroup && st->cgroup->mode != WARD_CGROUP_NONE && ward_cgroup_enter(st->cgroup, helper, err) < 0)
    return ward_error_prefix(err, "join the container's cgroup");
  if (ward_msg_send(sock, 'G', NULL, 0, -1, err) < 0)
    return -1;
  for (;;) {
    char type, buf[4096];
    ssize_t n = ward_msg_recv(sock, &type, buf, sizeof(buf), NULL, err);
    if (n < 0)
      return -1;
    if (type == 'P' && n == sizeof(int32_t)) {
      int32_t pid;
      memcpy(&pid, buf, sizeof(pid));
      *child = pid;
      continue;
    }
    if (type == 'E')
      return ward_error(err, 0, "%s", buf);
    if (type == 0)
      return *child > 0 ? 0 : ward_error(err, 0, "the exec helper exited before starting the process");
    return ward_error(err, EPROTO, "unexpected message '%c' from the exec helper", type);
  }
}

static int prepare(const struct ward_exec_opts *o, struct ward_state *st, struct exec_plan *x, ward_error_t *err)
{
  if (st->sandbox)
    return ward_error(err, ENOTSUP, "container \"%s\" is a sandbox: exec is for OCI containers", st->id);
  enum ward_status s = ward_state_status(st);
  if (s != WARD_RUNNING && s != WARD_CREATED)
    return ward_error(err, 0, "container \"%s\" is %s: exec needs a running container", st->id, ward_status_name(s));
  _cleanup_config_ struct ward_config *cfg = NULL;
  if (ward_container_config(st, &cfg, err) < 0 || build_process(o, cfg, &x->proc, err) < 0)
    return -1;
  if (x->proc.terminal && o->console_socket == NULL)
    return ward_error(err, 0, "process.terminal: a terminal needs --console-socket");
  if (prepare_seccomp(o, st, cfg, &x->proc, &x->seccomp, err) < 0)
    return -1;
  if (ward_landlock_from_annotations(cfg->annotations, cfg->n_annotations, &x->landlock, err) < 0)
    return -1;
  if (x->landlock && !(x->proc.caps.effective & (1ull << CAP_SYS_ADMIN)))
    x->proc.no_new_privileges = true;  /* as at create (init.c) */
  x->preserve_fds = o->preserve_fds;
  x->pidfd = (int) syscall(SYS_pidfd_open, st->pid, 0);
  if (x->pidfd < 0)
    return ward_error_sys(err, "container \"%s\": open its init (pid %d)", st->id, (int) st->pid);
  /* The pid could have been reused between the state check and the open. */
  if (ward_proc_start_time(st->pid) != st->pid_start)
    return ward_error(err, ESRCH, "container \"%s\": its init has exited", st->id);
  if ((x->ns_flags = differing_namespaces(st->pid, err)) < 0)
    return -1;
  if (o->console_socket && (x->console_fd = connect_console(o->console_socket, err)) < 0)
    return -1;
  return 0;
}

/* The helper is started in the container's cgroup2 directory and joins
 * the v1 hierarchies itself, without the grace period of a cgroup.procs
 * write (cgroup.h); if that cannot be set up, the parent writes it. */
static pid_t fork_helper(const struct ward_state *st, struct exec_plan *x)
{
  x->self_join = ward_cgroup_join_begin(st->cgroup, &x->join);
  if (x->self_join) {
    struct clone_args args = {.exit_signal = SIGCHLD};
    if (x->join.unified_fd >= 0) {
      args.flags = CLONE_INTO_CGROUP;
      args.cgroup = (uint64_t) x->join.unified_fd;
    }
    pid_t pid = (pid_t) syscall(SYS_clone3, &args, sizeof(args));
    if (pid >= 0 || !ward_cgroup_join_refused(&x->join, errno))
      return pid;
    x->self_join = false;
  }
  return fork();
}

int ward_exec(const struct ward_exec_opts *o, int *status, ward_error_t *err)
{
  _cleanup_state_ struct ward_state *st = NULL;
  if (ward_state_load(o->root, o->id, &st, err) < 0)
    return -1;
  struct exec_plan x = {.pidfd = -1, .console_fd = -1, .join = {.unified_fd = -1}};
  int rc = prepare(o, st, &x, err);
  int sv[2] = {-1, -1};
  if (rc == 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    rc = ward_error_sys(err, "socketpair");
  pid_t helper = -1, child = -1;
  if (rc == 0) {
    fflush(NULL);
    helper = fork_helper(st, &x);
    if (helper < 0)
      rc = ward_error_sys(err, "fork");
    else if (helper == 0) {
      close(sv[0]);
      helper_main(&x, sv[1]);
    }
  }
  if (sv[1] >= 0)
    close(sv[1]);
  ward_cgroup_join_close(&x.join);
  if (rc == 0)
    rc = parent_side(st, &x, helper, sv[0], &child, err);
  if (sv[0] >= 0)
    close(sv[0]);
  if (helper > 0) {
    if (rc < 0)
      kill(helper, SIGKILL);
    while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
      ;
  }
  int child_fd = -1;
  if (child > 0) {
    child_fd = (int) syscall(SYS_pidfd_open, child, 0);
  }
  if (rc == 0 && o->pid_file) {
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d", (int) child);
    if (ward_write_file_atomic(o->pid_file, buf, (size_t) n, 0644, err) < 0) {
      rc = ward_error_prefix(err, "--pid-file");
      kill(child, SIGKILL);
    }
  }
  if (rc < 0 && child > 0)
    waitpid(child, NULL, 0);  /* it failed before execve, or was killed */
  plan_release(&x);
  *status = 0;
  if (rc == 0 && !o->detach)
    *status = ward_wait_forwarding(child, child_fd);
  if (child_fd >= 0)
    close(child_fd);
  return rc;
}
