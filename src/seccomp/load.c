/* Installing a compiled filter. This runs in the container's init between
 * clone and exec, so it only makes system calls: no allocation, no stdio,
 * nothing that could take a lock another thread of the parent held. */
#include "seccomp/seccomp.h"
#include "seccomp/prog.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/seccomp.h>

const char *ward_seccomp_load_strerror(int rc)
{
  switch (-rc) {
  case EACCES:
    return "seccomp: loading a filter needs no_new_privs or CAP_SYS_ADMIN "
           "(set process.noNewPrivileges, or keep CAP_SYS_ADMIN until the filter is loaded)";
  case EINVAL:
    return "seccomp: the kernel refused the filter or one of its flags (too old a kernel for the profile's flags?)";
  case ESRCH:
    return "seccomp: another thread could not be synchronised (SECCOMP_FILTER_FLAG_TSYNC)";
  case EBUSY:
    return "seccomp: a listener is already installed for this process";
  case ENOMEM:
    return "seccomp: the kernel is out of memory, or the filter chain is too long";
  case EFAULT:
    return "seccomp: the filter program is not readable";
  default:
    return "seccomp: loading the filter failed";
  }
}

int ward_seccomp_load(const struct ward_seccomp_prog *p, int *listener, ward_error_t *err)
{
  struct sock_fprog prog = {.len = (unsigned short) p->n_insns, .filter = p->insns};
  unsigned flags = p->flags;
  *listener = -1;
  if (p->listener) {
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    /* with TSYNC, a failed sync would otherwise be reported as a thread id
     * where the listener fd is expected */
    if (flags & SECCOMP_FILTER_FLAG_TSYNC)
      flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  }
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) {
    int e = errno;
    if (err)
      ward_error(err, e, "%s", ward_seccomp_load_strerror(-e));
    return -e;
  }
  if (rc > 0 && (flags & SECCOMP_FILTER_FLAG_TSYNC) && !(flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)) {
    /* TSYNC without a listener returns the id of a thread it could not sync */
    if (err)
      ward_error(err, 0, "%s (thread %ld)", ward_seccomp_load_strerror(-ESRCH), rc);
    return -ESRCH;
  }
  if (p->listener)
    *listener = (int) rc;  /* the kernel creates it close-on-exec */
  return 0;
}
