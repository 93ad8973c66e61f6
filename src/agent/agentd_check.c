/* What the agent believes of a registration, and why: every descriptor and
 * path comes from a peer that may be any process of the agent's uid. */
#include "agent/agentd.h"
#include "common/cleanup.h"
#include "common/util.h"
#include "probe/prepare.h"
#include "runtime/state.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fd_link(int fd, char *buf, size_t cap)
{
  char p[64];
  snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
  ssize_t n = readlink(p, buf, cap - 1);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  return 0;
}

pid_t ward_agentd_pidfd_pid(int pidfd, ward_error_t *err)
{
  char p[64];
  snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", pidfd);
  _cleanup_free_ char *info = NULL;
  if (ward_read_file(p, 4096, &info, NULL, err) < 0)
    return -1;
  const char *line = strstr(info, "\nPid:");
  long pid;
  if (line == NULL || sscanf(line + 5, "%ld", &pid) != 1)
    return ward_error(err, 0, "pidfd: not a pidfd (no Pid: in fdinfo)");
  if (pid <= 0)
    return ward_error(err, ESRCH, "pidfd: the process has exited");
  return (pid_t) pid;
}

int ward_agentd_check_fd_kind(int fd, enum ward_agent_fd_role role, ward_error_t *err)
{
  char link[256];
  if (fd_link(fd, link, sizeof(link)) < 0)
    return ward_error_sys(err, "%s fd", ward_agent_fd_role_name(role));
  struct stat st;
  if (fstat(fd, &st) < 0)
    return ward_error_sys(err, "%s fd", ward_agent_fd_role_name(role));
  switch (role) {
  case WARD_AGENT_FD_RING:
    if (!S_ISREG(st.st_mode))
      return ward_error(err, 0, "ring fd: not a regular file (%s)", link);
    return 0;
  case WARD_AGENT_FD_LISTENER:
    if (strcmp(link, "anon_inode:seccomp notify") != 0)
      return ward_error(err, 0, "listener fd: not a seccomp notify listener (%s)", link);
    return 0;
  case WARD_AGENT_FD_PIDFD:
    if (strcmp(link, "anon_inode:[pidfd]") != 0 && !ward_has_prefix(link, "pidfd:"))
      return ward_error(err, 0, "pidfd: not a pidfd (%s)", link);
    return 0;
  default:
    return ward_error(err, EINVAL, "fd role %d", (int) role);
  }
}

/* The host uid a process runs as (real uid). */
static int proc_uid(pid_t pid, uid_t *uid, ward_error_t *err)
{
  char p[64];
  snprintf(p, sizeof(p), "/proc/%d/status", (int) pid);
  _cleanup_free_ char *s = NULL;
  if (ward_read_file(p, 1 << 16, &s, NULL, err) < 0)
    return -1;
  const char *line = strstr(s, "\nUid:");
  unsigned long v;
  if (line == NULL || sscanf(line + 5, "%lu", &v) != 1)
    return ward_error(err, 0, "%s: no Uid line", p);
  *uid = (uid_t) v;
  return 0;
}

int ward_agentd_check_register(const struct ward_agent_register *r, const int *fds, size_t nfds,
                               const struct ward_agentd_peer *peer, pid_t *pid_out, ward_error_t *err)
{
  for (int role = 0; role < WARD_AGENT_FD_ROLES; role++) {
    int idx = r->fd_index[role];
    if (idx < 0)
      continue;
    if ((size_t) idx >= nfds)
      return ward_error(err, EINVAL, "fds: index out of range");
    if (ward_agentd_check_fd_kind(fds[idx], role, err) < 0)
      return -1;
  }
  int pidfd = fds[r->fd_index[WARD_AGENT_FD_PIDFD]];
  pid_t pid = ward_agentd_pidfd_pid(pidfd, err);
  if (pid < 0)
    return -1;

  /* The state directory is <root>/<id>, owned by the peer (root may
   * register anyone's), and names this very init. */
  const char *slash = strrchr(r->state_dir, '/');
  if (strcmp(slash + 1, r->id) != 0)
    return ward_error(err, 0, "state_dir: %s does not end in the id %s", r->state_dir, r->id);
  struct stat st;
  if (lstat(r->state_dir, &st) < 0)
    return ward_error_sys(err, "state_dir: %s", r->state_dir);
  if (!S_ISDIR(st.st_mode))
    return ward_error(err, 0, "state_dir: %s is not a directory", r->state_dir);
  if (peer->uid != 0 && st.st_uid != peer->uid)
    return ward_error(err, EPERM, "state_dir: %s belongs to uid %u, not to the peer's uid %u", r->state_dir,
                      (unsigned) st.st_uid, (unsigned) peer->uid);
  _cleanup_free_ char *root = strndup(r->state_dir, (size_t) (slash - r->state_dir));
  if (root == NULL)
    return ward_error(err, ENOMEM, "state_dir");
  _cleanup_state_ struct ward_state *state = NULL;
  if (ward_state_load(*root ? root : "/", r->id, &state, err) < 0)
    return ward_error_prefix(err, "state_dir");
  if (state->pid != pid)
    return ward_error(err, 0, "pidfd: refers to pid %d, but %s records the init as %d", (int) pid, r->state_dir,
                      (int) state->pid);
  if (!ward_state_pid_alive(state))
    return ward_error(err, ESRCH, "pidfd: pid %d is not the init %s recorded (it has exited)", (int) pid, r->id);
  uid_t init_uid = (uid_t) -1;
  if (proc_uid(pid, &init_uid, err) < 0)
    return -1;
  /* A non-root peer may only hand over processes that run as itself; a
   * root peer's sandboxes run as nobody, hence no check for root. */
  if (peer->uid != 0 && init_uid != peer->uid)
    return ward_error(err, EPERM, "pidfd: pid %d runs as uid %u, not as the peer's uid %u", (int) pid,
                      (unsigned) init_uid, (unsigned) peer->uid);
  /* after the uid check: the pidfd still names the same process */
  if (ward_agentd_pidfd_pid(pidfd, err) != pid)
    return -1;
  if (r->fd_index[WARD_AGENT_FD_RING] >= 0 && ward_probe_check_ring(r->state_dir, fds[r->fd_index[WARD_AGENT_FD_RING]], err) < 0)
    return -1;
  *pid_out = pid;
  return 0;
}
