/* SCM_RIGHTS helpers: the listener handover from init to runtime to agent. */
#include "supervisor/fdpass.h"
#include "common/cleanup.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

void test_fdpass(void);

static int count_fds(void)
{
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  if (!d)
    return -1;
  while (readdir(d))
    n++;
  closedir(d);
  return n;
}

void test_fdpass(void)
{
  int sp[2];
  ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0, "fdpass: socketpair");
  _cleanup_close_ int a = sp[0], b = sp[1];

  _cleanup_close_ int file = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  is_int(ward_send_fd(a, file), 0, "fdpass: send");
  _cleanup_close_ int got = ward_recv_fd(b);
  ok(got >= 0, "fdpass: receive");
  struct stat s1, s2;
  ok(got >= 0 && fstat(file, &s1) == 0 && fstat(got, &s2) == 0 && s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev,
     "fdpass: the received fd is the same file");
  ok(got >= 0 && (fcntl(got, F_GETFD) & FD_CLOEXEC), "fdpass: the received fd is close-on-exec");

  /* A message without an fd is refused. */
  ok(write(a, "x", 1) == 1, "fdpass: plain byte sent");
  is_int(ward_recv_fd(b), -EBADMSG, "fdpass: message without fd refused");

  /* Three fds at once: refused, and none of them leaks into us. */
  int before = count_fds();
  int fds[3] = { file, file, file };
  char byte = 'F';
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  union { char buf[CMSG_SPACE(sizeof(fds))]; struct cmsghdr align; } u;
  memset(&u, 0, sizeof(u));
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(fds));
  memcpy(CMSG_DATA(c), fds, sizeof(fds));
  ok(sendmsg(a, &msg, 0) == 1, "fdpass: three fds sent");
  is_int(ward_recv_fd(b), -EBADMSG, "fdpass: several fds refused");
  is_int(count_fds(), before, "fdpass: the refused fds were closed");

  /* Peer gone. */
  close(a);
  a = -1;
  is_int(ward_recv_fd(b), -EPIPE, "fdpass: closed peer is EPIPE");
  is_int(ward_send_fd(b, file), -EPIPE, "fdpass: sending to a closed peer is EPIPE, not SIGPIPE");
  is_int(ward_send_fd(-1, file), -EBADF, "fdpass: bad socket");
}
