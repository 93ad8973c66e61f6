/* Stand-ins for open/connect that return at once without a system call.
 * Preloaded after libward-probe.so they become the probe's "real"
 * functions, so the loop measures the probe's own cost, not the kernel's. */
#undef _FILE_OFFSET_BITS
#include <sys/socket.h>

__attribute__((visibility("default"))) int open(const char *path, int flags, ...)
{
  (void) path;
  (void) flags;
  return 3;
}

__attribute__((visibility("default"))) int open64(const char *path, int flags, ...)
{
  (void) path;
  (void) flags;
  return 3;
}

__attribute__((visibility("default"))) int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
  (void) fd;
  (void) sa;
  (void) len;
  return 0;
}
