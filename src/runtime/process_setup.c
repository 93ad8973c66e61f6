/* Process set-up shared by the container's init and `ward exec`; see
 * process_setup.h. */
#include "runtime/process_setup.h"
#include "caps/caps.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

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

int ward_proc_console(const struct ward_process *p, int *console_fd, bool bind_console, ward_error_t *err)
{
  if (!p->terminal)
    return 0;
  if (*console_fd < 0)
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
  if (bind_console) {
    /* /dev/console is the terminal too, as the spec asks. */
    int console = open("/dev/console", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (console >= 0)
      close(console);
    if (mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0)
      return ward_error_sys(err, "bind the terminal at /dev/console");
  }
  if (send_console(*console_fd, master, err) < 0)
    return -1;
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0)
      return ward_error_sys(err, "dup2 terminal");
  if (ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
    return ward_error_sys(err, "make the terminal controlling");
  close(*console_fd);
  *console_fd = -1;
  return 0;
}

int ward_proc_limits(const struct ward_process *p, ward_error_t *err)
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

int ward_proc_enter_cwd(const struct ward_process *p, ward_error_t *err)
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

int ward_proc_switch_user(const struct ward_process *p, bool in_new_userns, ward_error_t *err)
{
  struct ward_caps caps = p->caps;
  if (!p->has_caps)
    memset(&caps, 0, sizeof(caps));
  if (ward_caps_prepare(&caps, err) < 0)
    return -1;
  if (p->user.n_additional_gids || !in_new_userns || geteuid() == 0) {
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

int ward_proc_find_executable(const char *name, char *const *env, char **out, ward_error_t *err)
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

int ward_proc_close_fds(int preserve_fds, ward_error_t *err)
{
  int first = 3 + preserve_fds;
  if (ward_cloexec_from(first, err) < 0)
    return -1;
  for (int fd = 3; fd < first; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0)
      fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  return 0;
}
