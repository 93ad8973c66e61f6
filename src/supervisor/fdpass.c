#include "supervisor/fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int ward_send_fd(int sock, int fd)
{
  char byte = 'F';
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof(u));
  struct msghdr msg = {
    .msg_iov = &iov, .msg_iovlen = 1,
    .msg_control = u.buf, .msg_controllen = sizeof(u.buf),
  };
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  for (;;) {
    /* MSG_NOSIGNAL: a vanished peer must be an error value, not SIGPIPE
     * killing the container's init. */
    ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n == 1)
      return 0;
    if (n < 0 && errno == EINTR)
      continue;
    return n < 0 ? -errno : -EIO;
  }
}

static void close_all_fds(struct msghdr *msg)
{
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      close(fd);
    }
  }
}

int ward_recv_fd(int sock)
{
  char byte;
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  /* Room for a few fds so an over-eager sender's extras arrive (and get
   * closed) rather than being silently dropped by MSG_CTRUNC. */
  union {
    char buf[CMSG_SPACE(8 * sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {
    .msg_iov = &iov, .msg_iovlen = 1,
    .msg_control = u.buf, .msg_controllen = sizeof(u.buf),
  };
  ssize_t n;
  do
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  if (n == 0)
    return -EPIPE;

  int found = -1, count = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    if (k >= 1 && found < 0)
      memcpy(&found, CMSG_DATA(c), sizeof(int));
    count += (int)k;
  }
  if (count != 1 || (msg.msg_flags & MSG_CTRUNC)) {
    close_all_fds(&msg);
    return -EBADMSG;
  }
  return found;
}
