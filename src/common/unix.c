#include "common/unix.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int ward_msg_send(int sock, char type, const void *payload, size_t len, int fd, ward_error_t *err)
{
  struct iovec iov[2] = {{.iov_base = &type, .iov_len = 1}, {.iov_base = (void *) payload, .iov_len = len}};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
  if (fd >= 0) {
    memset(&control, 0, sizeof(control));
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof(control.buf);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  ssize_t n;
  do
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return ward_error_sys(err, "send message");
  return 0;
}

ssize_t ward_msg_recv(int sock, char *type, char *buf, size_t cap, int *fd, ward_error_t *err)
{
  *type = 0;
  if (fd)
    *fd = -1;
  struct iovec iov[2] = {{.iov_base = type, .iov_len = 1}, {.iov_base = buf, .iov_len = cap ? cap - 1 : 0}};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2, .msg_control = control.buf, .msg_controllen = sizeof(control.buf)};
  ssize_t n;
  do
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return ward_error_sys(err, "receive message");
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int got;
      memcpy(&got, CMSG_DATA(c), sizeof(int));
      if (fd)
        *fd = got;
      else
        close(got);
    }
  }
  if (msg.msg_flags & MSG_CTRUNC)
    return ward_error(err, EMSGSIZE, "receive message: control data truncated");
  if (n == 0) {
    *type = 0;
    if (cap)
      buf[0] = '\0';
    return 0;
  }
  size_t payload = (size_t) n - 1;
  if (cap)
    buf[payload < cap ? payload : cap - 1] = '\0';
  return (ssize_t) payload;
}
