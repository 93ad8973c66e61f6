/* net group: socket, connect, bind, listen, accept, accept4, sendto, with
 * the address for inet, inet6 and unix sockets (other families record the
 * fd and the result only). */
#include "probe/lib/probe.h"

#include <sys/socket.h>

#define NET_FINISH(type_, call_, fl, md, ar, sa_, salen_, r) do { \
    struct probe_ev e = {.in = {.type = type_, .call = call_, .a_flags = (uint32_t) (fl), \
                                .a_mode = (uint32_t) (md), .arg = (int64_t) (ar)}, \
                         .sa = sa_, .salen = salen_, .fp = __builtin_frame_address(0)}; \
    probe_finish(&e, WARD_GROUP_NET, want, t0, r); } while (0)

/* socket: mode = family, flags = type, arg = protocol */
EXPORT int socket(int domain, int type, int protocol)
{
  GET_REAL(fn, socket, -1);
  uint32_t want = probe_want(WARD_GROUP_NET);
  if (LIKELY(!want))
    return fn(domain, type, protocol);
  uint64_t t0 = probe_now();
  int r = fn(domain, type, protocol);
  NET_FINISH(WARD_EV_SOCKET, WARD_CALL_socket, type, domain, protocol, NULL, 0, r);
  return r;
}

/* A destination refused by the mode: one record, denied, no call. */
static __attribute__((noinline)) void net_denied(unsigned type, unsigned call, int flags, int fd,
                                                 const struct sockaddr *sa, socklen_t salen, uint32_t want, int err)
{
  struct probe_ev e = {.in = {.type = (uint16_t) type, .call = (uint16_t) call, .a_flags = (uint32_t) flags,
                              .arg = fd},
                       .sa = sa, .salen = salen, .fp = __builtin_frame_address(0)};
  probe_deny(&e, WARD_GROUP_NET, want, err);
}

/* The destination as the probe passed it on: the original in the address
 * block, the sink as string 2 with the redirected flag. */
static void net_record(unsigned type, unsigned call, int flags, int fd, const struct sockaddr *sa, socklen_t salen,
                       const char *red, uint32_t want, uint64_t t0, int64_t r)
{
  struct probe_ev e = {.in = {.type = (uint16_t) type, .call = (uint16_t) call, .a_flags = (uint32_t) flags,
                              .arg = fd},
                       .sa = sa, .salen = salen, .fp = __builtin_frame_address(0)};
  if (red[0]) {
    e.in.flags = WARD_REC_F_REDIRECT;
    e.p2 = red;
    e.dirfd2 = PROBE_VERBATIM;
  }
  probe_finish(&e, WARD_GROUP_NET, want, t0, r);
}

/* In a mode: deny (return the errno), or redirect sa and len to the sink
 * (honeypot) with its text in red; 0 lets the call go as it is. */
#define ENF_DEST(type, call, flags, fd, sa, len, want, red, store) do { \
    red[0] = 0; \
    if (UNLIKELY(want & PROBE_ENF)) { \
      socklen_t rl_; \
      int v_ = probe_enf_connect(sa, len, &store, &rl_, red, sizeof(red)); \
      if (v_ > 0) { \
        net_denied(type, call, flags, fd, sa, len, want, v_); \
        return -1; \
      } \
      want &= ~PROBE_ENF; \
      if (v_ == PROBE_REDIRECT) { \
        want |= 1u << WARD_GROUP_NET; \
        sa = (const struct sockaddr *) &store; \
        len = rl_; \
      } \
    } } while (0)

/* connect/bind: arg = fd */
EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
  GET_REAL(fn, connect, -1);
  uint32_t want = probe_want_enf(WARD_GROUP_NET);
  if (LIKELY(!want))
    return fn(fd, addr, len);
  const struct sockaddr *to = addr;
  socklen_t tolen = len;
  struct sockaddr_storage store;
  char red[64];
  ENF_DEST(WARD_EV_CONNECT, WARD_CALL_connect, 0, fd, to, tolen, want, red, store);
  if (!want)
    return fn(fd, to, tolen);
  uint64_t t0 = probe_now();
  int r = fn(fd, to, tolen);
  net_record(WARD_EV_CONNECT, WARD_CALL_connect, 0, fd, addr, len, red, want, t0, r);
  return r;
}

EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
  GET_REAL(fn, bind, -1);
  uint32_t want = probe_want(WARD_GROUP_NET);
  if (LIKELY(!want))
    return fn(fd, addr, len);
  uint64_t t0 = probe_now();
  int r = fn(fd, addr, len);
  NET_FINISH(WARD_EV_BIND, WARD_CALL_bind, 0, 0, fd, addr, len, r);
  return r;
}

/* listen: arg = fd, flags = backlog */
EXPORT int listen(int fd, int backlog)
{
  GET_REAL(fn, listen, -1);
  uint32_t want = probe_want(WARD_GROUP_NET);
  if (LIKELY(!want))
    return fn(fd, backlog);
  uint64_t t0 = probe_now();
  int r = fn(fd, backlog);
  NET_FINISH(WARD_EV_LISTEN, WARD_CALL_listen, backlog, 0, fd, NULL, 0, r);
  return r;
}

/* accept: arg = listening fd, ret = new fd, the peer when the caller asked
 * for it (reading it back costs no system call), flags = accept4 flags */
static int accept_common(unsigned call, int fd, struct sockaddr *addr, socklen_t *len, int flags, int r,
                         uint32_t want, uint64_t t0)
{
  int saved = errno;
  const struct sockaddr *sa = NULL;
  socklen_t sl = 0;
  if (r >= 0 && addr && len) {
    sa = addr;
    sl = *len;
    if (sl > 128)
      sl = 128;  /* the kernel reports the full length even when it cut it */
  }
  errno = saved;
  NET_FINISH(WARD_EV_ACCEPT, call, flags, 0, fd, sa, sl, r);
  return r;
}

EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
  GET_REAL(fn, accept, -1);
  uint32_t want = probe_want(WARD_GROUP_NET);
  if (LIKELY(!want))
    return fn(fd, addr, len);
  uint64_t t0 = probe_now();
  int r = fn(fd, addr, len);
  return accept_common(WARD_CALL_accept, fd, addr, len, 0, r, want, t0);
}

EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
  GET_REAL(fn, accept4, -1);
  uint32_t want = probe_want(WARD_GROUP_NET);
  if (LIKELY(!want))
    return fn(fd, addr, len, flags);
  uint64_t t0 = probe_now();
  int r = fn(fd, addr, len, flags);
  return accept_common(WARD_CALL_accept4, fd, addr, len, flags, r, want, t0);
}

/* sendto: recorded with its destination; on a connected socket (no
 * destination) only perf times it, as that is a data path, not an event.
 * arg = fd, flags = send flags, ret = bytes sent. */
EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr, socklen_t len)
{
  GET_REAL(fn, sendto, -1);
  uint32_t want = probe_want_enf(WARD_GROUP_NET);
  if (LIKELY(!want))
    return fn(fd, buf, n, flags, addr, len);
  const struct sockaddr *to = addr;
  socklen_t tolen = len;
  struct sockaddr_storage store;
  char red[64];
  ENF_DEST(WARD_EV_SENDTO, WARD_CALL_sendto, flags, fd, to, tolen, want, red, store);
  if (addr == NULL)
    want &= ~(1u << WARD_GROUP_NET);
  if (!want)
    return fn(fd, buf, n, flags, to, tolen);
  uint64_t t0 = probe_now();
  ssize_t r = fn(fd, buf, n, flags, to, tolen);
  if (want & (1u << WARD_GROUP_NET))
    net_record(WARD_EV_SENDTO, WARD_CALL_sendto, flags, fd, addr, len, red, want, t0, r);
  else
    probe_finish(&(struct probe_ev){.in = {.type = WARD_EV_SENDTO, .call = WARD_CALL_sendto}}, WARD_GROUP_NET, want, t0, r);
  return r;
}

/* sendmsg: like sendto, with the destination in msg_name (a redirect sends
 * a copy of the header naming the sink). */
EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
  GET_REAL(fn, sendmsg, -1);
  uint32_t want = probe_want_enf(WARD_GROUP_NET);
  if (LIKELY(!want))
    return fn(fd, msg, flags);
  const struct sockaddr *addr = NULL;
  socklen_t len = 0;
  char red[64];
  red[0] = 0;
  struct msghdr copy;
  if (UNLIKELY(want & PROBE_ENF) && msg) {
    /* judging needs the destination before the call (a bad msg pointer
     * faults here instead of giving EFAULT; docs/probes.md, Limits) */
    addr = (const struct sockaddr *) msg->msg_name;
    len = addr ? msg->msg_namelen : 0;
    const struct sockaddr *to = addr;
    socklen_t tolen = len;
    struct sockaddr_storage store;
    ENF_DEST(WARD_EV_SENDTO, WARD_CALL_sendmsg, flags, fd, to, tolen, want, red, store);
    if (to != addr) {
      copy = *msg;
      copy.msg_name = (void *) to;
      copy.msg_namelen = tolen;
      msg = &copy;
    }
  }
  want &= ~PROBE_ENF;
  if (!want)
    return fn(fd, msg, flags);
  uint64_t t0 = probe_now();
  ssize_t r = fn(fd, msg, flags);
  int saved = errno;
  if (addr == NULL && msg && !(r < 0 && saved == EFAULT)) {
    /* recording only: read the destination after the kernel accepted msg */
    addr = (const struct sockaddr *) msg->msg_name;
    len = addr ? msg->msg_namelen : 0;
  }
  errno = saved;
  if (addr && (want & (1u << WARD_GROUP_NET)))
    net_record(WARD_EV_SENDTO, WARD_CALL_sendmsg, flags, fd, addr, len, red, want, t0, r);
  else if (want & (1u << WARD_GROUP_PERF))
    probe_finish(&(struct probe_ev){.in = {.type = WARD_EV_SENDTO, .call = WARD_CALL_sendmsg}}, WARD_GROUP_NET,
                 want & ~(1u << WARD_GROUP_NET), t0, r);
  return r;
}
