/* The host-side network cut of `quarantine --form nonet`, for containers
 * with a network namespace of their own: a policy-routing rule that
 * prohibits every route lookup the local table did not answer, for IPv4 and
 * IPv6. Local addresses (loopback, the container's own) keep working, every
 * other destination gets EACCES, in both directions, for dynamic and static
 * binaries alike; nothing of the interfaces or routes is changed, so the
 * rule's removal restores the network exactly. With --loopback no, lo is
 * also brought down (and up again on resume).
 *
 * The work runs in a forked child that joins the namespace (and, unprivileged,
 * the container's user namespace first, which owns it); the child only makes
 * system calls, so forking from a threaded engine is safe. */
#include "agent/action_internal.h"

#include "common/cleanup.h"

#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* after the local table (0), before main (32766) */
#define WARD_NETNS_RULE_PRIO 77

int netns_join(pid_t init)
{
  char path[64];
  if (geteuid() != 0) {
    snprintf(path, sizeof(path), "/proc/%d/ns/user", (int) init);
    int ufd = open(path, O_RDONLY | O_CLOEXEC);
    if (ufd < 0 || setns(ufd, CLONE_NEWUSER) < 0)
      return errno ? errno : EPERM;
    close(ufd);
  }
  snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) init);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
    return errno ? errno : EPERM;
  close(fd);
  return 0;
}

int netns_run(pid_t init, int (*fn)(void *), void *arg, ward_error_t *err)
{
  pid_t child = fork();
  if (child < 0)
    return ward_error_sys(err, "fork");
  if (child == 0) {
    int rc = netns_join(init);
    if (rc != 0)
      _exit(200);
    _exit(fn(arg) & 0xff);
  }
  int status;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR)
      return ward_error_sys(err, "wait");
  if (!WIFEXITED(status))
    return ward_error(err, 0, "the namespace helper died (status %d)", status);
  if (WEXITSTATUS(status) == 200)
    return ward_error(err, 0, "cannot join the network namespace of pid %d", (int) init);
  if (WEXITSTATUS(status) != 0)
    return ward_error(err, WEXITSTATUS(status), "in the container's network namespace");
  return 0;
}

static int rule(int type, int family)
{
  struct {
    struct nlmsghdr n;
    struct fib_rule_hdr r;
    char attrs[64];
  } req;
  memset(&req, 0, sizeof(req));
  req.n.nlmsg_type = (uint16_t) type;
  req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (type == RTM_NEWRULE ? NLM_F_CREATE | NLM_F_EXCL : 0);
  req.n.nlmsg_seq = 1;
  req.r.family = (uint8_t) family;
  req.r.action = FR_ACT_PROHIBIT;
  req.r.table = RT_TABLE_UNSPEC;
  struct rtattr *a = (struct rtattr *) ((char *) &req + NLMSG_ALIGN(sizeof(req.n) + sizeof(req.r)));
  uint32_t prio = WARD_NETNS_RULE_PRIO;
  a->rta_type = FRA_PRIORITY;
  a->rta_len = RTA_LENGTH(sizeof(prio));
  memcpy(RTA_DATA(a), &prio, sizeof(prio));
  req.n.nlmsg_len = NLMSG_ALIGN(sizeof(req.n) + sizeof(req.r)) + RTA_ALIGN(a->rta_len);
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0)
    return errno;
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  int rc = 0;
  if (sendto(fd, &req, req.n.nlmsg_len, 0, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
    rc = errno;
  } else {
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    struct nlmsghdr *h = (struct nlmsghdr *) buf;
    if (n < (ssize_t) NLMSG_LENGTH(sizeof(struct nlmsgerr)) || h->nlmsg_type != NLMSG_ERROR)
      rc = EPROTO;
    else
      rc = -((struct nlmsgerr *) NLMSG_DATA(h))->error;
  }
  close(fd);
  return rc;
}

static int lo_set(bool up)
{
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return errno;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  strcpy(ifr.ifr_name, "lo");
  int rc = 0;
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
    rc = errno;
  } else {
    if (up)
      ifr.ifr_flags |= IFF_UP;
    else
      ifr.ifr_flags &= ~IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
      rc = errno;
  }
  close(fd);
  return rc;
}

/* Shared with the child: what it managed to do. */
struct cut_result {
  bool inet, inet6, lo_down;
  int inet_err, inet6_err, lo_err;
  bool allow_loopback;
};

static int do_cut(void *arg)
{
  struct cut_result *r = arg;
  r->inet_err = rule(RTM_NEWRULE, AF_INET);
  r->inet = r->inet_err == 0 || r->inet_err == EEXIST;
  r->inet6_err = rule(RTM_NEWRULE, AF_INET6);
  r->inet6 = r->inet6_err == 0 || r->inet6_err == EEXIST;
  if (!r->allow_loopback) {
    r->lo_err = lo_set(false);
    r->lo_down = r->lo_err == 0;
  }
  return 0;
}

static int do_restore(void *arg)
{
  struct cut_result *r = arg;
  int rc = 0;
  if (r->inet && (r->inet_err = rule(RTM_DELRULE, AF_INET)) != 0 && r->inet_err != ENOENT)
    rc = r->inet_err;
  if (r->inet6 && (r->inet6_err = rule(RTM_DELRULE, AF_INET6)) != 0 && r->inet6_err != ENOENT)
    rc = r->inet6_err;
  if (r->lo_down && (r->lo_err = lo_set(true)) != 0)
    rc = r->lo_err;
  return rc;
}

int netns_cut(pid_t init, bool allow_loopback, json_t **layer, ward_error_t *err)
{
  struct cut_result *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (r == MAP_FAILED)
    return ward_error_sys(err, "mmap");
  memset(r, 0, sizeof(*r));
  r->allow_loopback = allow_loopback;
  int rc = netns_run(init, do_cut, r, err);
  struct cut_result res = *r;
  munmap(r, sizeof(*r));
  if (rc < 0)
    return -1;
  /* record whatever was done, so a failure below can be undone */
  *layer = json_pack("{s:s, s:i, s:i, s:b, s:b, s:b}", "layer", "netns", "pid", (int) init, "priority",
                     WARD_NETNS_RULE_PRIO, "inet", res.inet, "inet6", res.inet6, "lo_down", res.lo_down);
  if (!res.inet)
    return ward_error(err, res.inet_err, "add the IPv4 prohibit rule in the container's network namespace");
  /* a namespace without IPv6 has nothing to cut there */
  if (!res.inet6 && res.inet6_err != EAFNOSUPPORT)
    return ward_error(err, res.inet6_err, "add the IPv6 prohibit rule in the container's network namespace");
  if (!allow_loopback && !res.lo_down)
    return ward_error(err, res.lo_err, "bring loopback down in the container's network namespace");
  return 0;
}

int netns_restore(pid_t init, json_t *layer, ward_error_t *err)
{
  struct cut_result *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (r == MAP_FAILED)
    return ward_error_sys(err, "mmap");
  memset(r, 0, sizeof(*r));
  r->inet = json_is_true(json_object_get(layer, "inet"));
  r->inet6 = json_is_true(json_object_get(layer, "inet6"));
  r->lo_down = json_is_true(json_object_get(layer, "lo_down"));
  int rc = netns_run(init, do_restore, r, err);
  munmap(r, sizeof(*r));
  if (rc < 0)
    return ward_error_prefix(err, "remove the network cut");
  return 0;
}
