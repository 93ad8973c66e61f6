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

/* connect/bind: arg = fd */
EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
  GET_REAL(fn, connect, -1);
  uint32_t want = probe_want(WARD_GROUP_NET);
  if (LIKELY(!want))
    return fn(fd, addr, len);
  uint64_t t0 = probe_now();
  int r = fn(fd, addr, len);
  NET_FINISH(WARD_EV_CONNECT, WARD_CALL_connect, 0, 0, fd, addr, len, r);
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
  uint32_t want = probe_want(WARD_GROUP_NET);
  if (LIKELY(!want))
    return fn(fd, buf, n, flags, addr, len);
  uint64_t t0 = probe_now();
  ssize_t r = fn(fd, buf, n, flags, addr, len);
  if (addr == NULL)
    want &= ~(1u << WARD_GROUP_NET);
  if (want)
    NET_FINISH(WARD_EV_SENDTO, WARD_CALL_sendto, flags, 0, fd, addr, len, r);
  return r;
}
