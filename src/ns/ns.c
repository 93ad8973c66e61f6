#include "ns/ns.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int ward_ns_open_paths(const struct ward_config *cfg, int fds[WARD_NS_COUNT], ward_error_t *err)
{
  for (int k = 0; k < WARD_NS_COUNT; k++)
    fds[k] = -1;
  for (int k = 0; k < WARD_NS_COUNT; k++) {
    if (!cfg->ns[k].requested || cfg->ns[k].path == NULL)
      continue;
    fds[k] = open(cfg->ns[k].path, O_RDONLY | O_CLOEXEC);
    if (fds[k] < 0) {
      int saved = errno;
      ward_ns_close_fds(fds);
      return ward_error(err, saved, "linux.namespaces: %s namespace %s", ward_ns_name(k), cfg->ns[k].path);
    }
  }
  return 0;
}

void ward_ns_close_fds(int fds[WARD_NS_COUNT])
{
  for (int k = 0; k < WARD_NS_COUNT; k++) {
    if (fds[k] >= 0)
      close(fds[k]);
    fds[k] = -1;
  }
}

int ward_ns_clone_flags(const struct ward_config *cfg)
{
  int flags = 0;
  for (int k = 0; k < WARD_NS_COUNT; k++)
    if (cfg->ns[k].requested && cfg->ns[k].path == NULL && k != WARD_NS_CGROUP && k != WARD_NS_TIME)
      flags |= ward_ns_clone_flag(k);
  return flags;
}

int ward_ns_join(int fds[WARD_NS_COUNT], ward_error_t *err)
{
  /* The user namespace first: it grants the capabilities the other joins need. */
  static const enum ward_ns_kind order[] = {WARD_NS_USER, WARD_NS_IPC, WARD_NS_UTS, WARD_NS_NET, WARD_NS_PID,
                                            WARD_NS_MOUNT, WARD_NS_CGROUP, WARD_NS_TIME};
  for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
    int k = order[i];
    if (fds[k] >= 0 && setns(fds[k], ward_ns_clone_flag(k)) < 0)
      return ward_error_sys(err, "join the %s namespace", ward_ns_name(k));
  }
  return 0;
}

int ward_ns_join_inherited(int fds[WARD_NS_COUNT], ward_error_t *err)
{
  if (fds[WARD_NS_USER] >= 0)
    return 0;
  static const enum ward_ns_kind inherited[] = {WARD_NS_NET, WARD_NS_IPC, WARD_NS_UTS};
  for (size_t i = 0; i < ARRAY_SIZE(inherited); i++) {
    int k = inherited[i];
    if (fds[k] < 0)
      continue;
    if (setns(fds[k], ward_ns_clone_flag(k)) < 0)
      return ward_error_sys(err, "join the %s namespace", ward_ns_name(k));
    close(fds[k]);
    fds[k] = -1;
  }
  return 0;
}

int ward_net_loopback_up(ward_error_t *err)
{
  _cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return ward_error_sys(err, "socket for lo");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
    return ward_error_sys(err, "read lo flags");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
    return ward_error_sys(err, "bring lo up");
  return 0;
}
