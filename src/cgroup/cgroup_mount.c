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

/* A fresh tmpfs attached at target_fd; returns an fd of its root. */
static int attach_tmpfs(int target_fd, ward_error_t *err)
{
  _cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "mode", "755", 0) < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return ward_error_sys(err, "create a tmpfs for the cgroup hierarchies");
  _cleanup_close_ int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (mnt < 0 || move_mount(mnt, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return ward_error_sys(err, "attach the cgroup tmpfs");
  return steal_fd(&mnt);
}

static int bind_sub(int dir, const char *name, const char *source, unsigned long flags, ward_error_t *err)
{
  _cleanup_close_ int sub = -1;
  if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST)
    return ward_error_sys(err, "mkdir cgroup/%s", name);
  if (ward_resolve_in_root(dir, name, WARD_NO_CREATE, &sub, err) < 0)
    return -1;
  unsigned long set = (flags & MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  return ward_mount_bind_at(source, -1, sub, false, set, 0, 0, NULL, err);
}

static int bind_v1_tree(const struct ward_cgroup *cg, int target_fd, unsigned long flags, ward_error_t *err)
{
  _cleanup_close_ int dir = attach_tmpfs(target_fd, err);
  if (dir < 0)
    return -1;
  for (size_t i = 0; i < cg->n_v1; i++)
    if (cg->v1[i].dir && bind_sub(dir, cg->v1[i].name, cg->v1[i].dir, flags, err) < 0)
      return -1;
  if (cg->unified && bind_sub(dir, "unified", cg->unified, flags, err) < 0)
    return -1;
  if (flags & MS_RDONLY)
    return ward_mount_set_flags(dir, false, MS_RDONLY, 0, err);
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
    return ward_mount_bind_at(cg->unified, -1, target_fd, false, mflags, 0, 0, NULL, err);
  }
  return bind_v1_tree(cg, target_fd, flags, err);
}
