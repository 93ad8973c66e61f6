/* A "cgroup" mount inside the container. cgroup2 can be mounted afresh
 * inside the container's cgroup namespace; v1 hierarchies cannot be mounted
 * from a user namespace, so they are shown as a tmpfs of binds of the
 * container's own directories, never the host's whole tree. */
#include "cgroup/cgroup.h"
#include "mount/mount.h"
#include "mount/resolve.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int reopen(int fd, ward_error_t *err)
{
  char path[WARD_FD_PATH_MAX];
  ward_fd_path(fd, path);
  int nfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (nfd < 0)
    return ward_error_sys(err, "reopen cgroup mount");
  return nfd;
}

static int bind_v1_tree(const struct ward_cgroup *cg, int target_fd, unsigned long flags, ward_error_t *err)
{
  char target[WARD_FD_PATH_MAX];
  ward_fd_path(target_fd, target);
  if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
    return ward_error_sys(err, "mount tmpfs for the cgroup hierarchies");
  _cleanup_close_ int dir = reopen(target_fd, err);
  if (dir < 0)
    return -1;
  for (size_t i = 0; i < cg->n_v1; i++) {
    if (cg->v1[i].dir == NULL)
      continue;
    const char *name = cg->v1[i].name;
    _cleanup_close_ int sub = -1;
    if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST)
      return ward_error_sys(err, "mkdir cgroup/%s", name);
    if (ward_resolve_in_root(dir, name, WARD_NO_CREATE, &sub, err) < 0 || ward_mount_bind_fd(cg->v1[i].dir, sub, false, err) < 0)
      return -1;
    if ((flags & MS_RDONLY) && ward_mount_remount_bind(sub, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, err) < 0)
      return -1;
  }
  if (cg->unified) {
    _cleanup_close_ int sub = -1;
    if (mkdirat(dir, "unified", 0755) < 0 && errno != EEXIST)
      return ward_error_sys(err, "mkdir cgroup/unified");
    if (ward_resolve_in_root(dir, "unified", WARD_NO_CREATE, &sub, err) < 0 ||
        ward_mount_bind_fd(cg->unified, sub, false, err) < 0)
      return -1;
    if ((flags & MS_RDONLY) && ward_mount_remount_bind(sub, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, err) < 0)
      return -1;
  }
  if (flags & MS_RDONLY) {
    ward_fd_path(dir, target);
    if (mount(NULL, target, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
      return ward_error_sys(err, "make the cgroup tmpfs read-only");
  }
  return 0;
}

int ward_cgroup_mount(const struct ward_cgroup *cg, int target_fd, unsigned long flags, bool in_userns, ward_error_t *err)
{
  (void) in_userns;
  char target[WARD_FD_PATH_MAX];
  ward_fd_path(target_fd, target);
  unsigned long mflags = (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME)) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (cg == NULL || cg->mode == WARD_CGROUP_NONE) {
    /* No cgroup of our own (rootless without delegation): an empty,
     * read-only tmpfs keeps the host's hierarchy out of sight. */
    if (mount("tmpfs", target, "tmpfs", mflags | MS_RDONLY, "size=0,mode=555") < 0)
      return ward_error_sys(err, "mount an empty cgroup placeholder");
    return 0;
  }
  if (cg->mode == WARD_CGROUP_V2) {
    if (mount("cgroup2", target, "cgroup2", mflags, NULL) == 0)
      return 0;
    if (ward_mount_bind_fd(cg->unified, target_fd, false, err) < 0)
      return -1;
    return ward_mount_remount_bind(target_fd, mflags, err);
  }
  return bind_v1_tree(cg, target_fd, flags, err);
}
