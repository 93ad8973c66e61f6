/* The container's root, built in this order:
 *   1. detach from the host's mount propagation
 *   2. make the root a mount point (or, for a sandbox, rbind the host's /)
 *   3. the config's mounts, in order, each resolved inside the root
 *   4. devices and /dev symlinks
 *   5. ward's own binds (probe ring, control page, preload)
 *   6. pivot_root (or MS_MOVE + chroot for --no-pivot)
 * and, once the init has written its sysctls, ward_rootfs_finish() masks
 * and write-protects paths, makes the root read-only and applies
 * rootfsPropagation. */
#include "mount/mount.h"
#include "mount/resolve.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

int ward_bind_prepare(struct ward_bind *b, ward_error_t *err)
{
  struct stat st;
  if (!b->kind_known) {
    if (stat(b->source, &st) < 0)
      return ward_error_sys(err, "bind %s", b->source);
    b->is_dir = S_ISDIR(st.st_mode);
  }
  _cleanup_close_ int tree = open_tree(AT_FDCWD, b->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  /* Rootless, the parent holds no CAP_SYS_ADMIN; the init binds the source
   * itself from inside its own user namespace instead. */
  if (tree < 0 && errno == EPERM) {
    b->tree_fd = -1;
    return 0;
  }
  if (tree < 0)
    return ward_error_sys(err, "clone a mount of %s", b->source);
  if (ward_mount_set_flags(tree, false, b->readonly ? MS_RDONLY | MS_NOSUID | MS_NODEV : MS_NOSUID | MS_NODEV, 0, err) < 0)
    return ward_error_prefix(err, "%s", b->source);
  b->tree_fd = steal_fd(&tree);
  return 0;
}

static int extra_binds(int rootfd, const struct ward_rootfs_plan *plan, ward_error_t *err)
{
  for (size_t i = 0; i < plan->n_extra; i++) {
    const struct ward_bind *b = &plan->extra[i];
    _cleanup_close_ int target = -1;
    if (b->tree_fd >= 0) {
      if (ward_resolve_in_root(rootfd, b->dest, b->is_dir ? WARD_CREATE_DIR : WARD_CREATE_FILE, &target, err) < 0)
        return ward_error_prefix(err, "%s", b->dest);
      if (move_mount(b->tree_fd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return ward_error_sys(err, "attach %s at %s", b->source, b->dest);
      continue;
    }
    struct stat st;
    if (stat(b->source, &st) < 0)
      return ward_error_sys(err, "bind %s", b->source);
    unsigned long flags = b->readonly ? MS_RDONLY | MS_NOSUID | MS_NODEV : 0;
    if (ward_resolve_in_root(rootfd, b->dest, S_ISDIR(st.st_mode) ? WARD_CREATE_DIR : WARD_CREATE_FILE, &target, err) < 0 ||
        ward_mount_bind_at(b->source, -1, target, false, flags, 0, 0, NULL, err) < 0)
      return ward_error_prefix(err, "%s", b->dest);
  }
  return 0;
}

/* An empty read-only tmpfs, attached at target_fd (masks a directory). */
static int attach_empty_tmpfs(int target_fd, ward_error_t *err)
{
  _cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "size", "0", 0) < 0 ||
      fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", "1", 0) < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return ward_error_sys(err, "create a masking tmpfs");
  _cleanup_close_ int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (mnt < 0 || move_mount(mnt, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return ward_error_sys(err, "attach a masking tmpfs");
  return 0;
}

static int mask_paths(int rootfd, char *const *paths, ward_error_t *err)
{
  for (size_t i = 0; paths && paths[i]; i++) {
    _cleanup_close_ int fd = -1;
    if (ward_resolve_in_root(rootfd, paths[i], WARD_NO_CREATE, &fd, err) < 0)
      return ward_error_prefix(err, "linux.maskedPaths[%zu]", i);
    if (fd < 0)
      continue;
    struct stat st;
    if (fstat(fd, &st) < 0)
      return ward_error_sys(err, "linux.maskedPaths[%zu]: stat %s", i, paths[i]);
    int rc = S_ISDIR(st.st_mode) ? attach_empty_tmpfs(fd, err)
                                 : ward_mount_bind_at("/dev/null", -1, fd, false, MS_RDONLY | MS_NOSUID | MS_NOEXEC, 0, 0, NULL, err);
    if (rc < 0)
      return ward_error_prefix(err, "linux.maskedPaths[%zu]: %s", i, paths[i]);
  }
  return 0;
}

static int readonly_paths(int rootfd, char *const *paths, ward_error_t *err)
{
  for (size_t i = 0; paths && paths[i]; i++) {
    _cleanup_close_ int fd = -1;
    if (ward_resolve_in_root(rootfd, paths[i], WARD_NO_CREATE, &fd, err) < 0)
      return ward_error_prefix(err, "linux.readonlyPaths[%zu]", i);
    if (fd < 0)
      continue;
    if (ward_mount_bind_at(NULL, fd, fd, true, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, 0, NULL, err) < 0)
      return ward_error_prefix(err, "linux.readonlyPaths[%zu]: %s", i, paths[i]);
  }
  return 0;
}

static int enter_root(const struct ward_rootfs_plan *plan, int rootfd, ward_error_t *err)
{
  if (fchdir(rootfd) < 0)
    return ward_error_sys(err, "chdir to the container root");
  if (plan->no_pivot) {
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
      return ward_error_sys(err, "move the container root to /");
    if (chroot(".") < 0)
      return ward_error_sys(err, "chroot");
  } else {
    /* pivot_root(".", ".") stacks the old root on the new one; detaching it
     * leaves no path back to the host's file system. */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
      return ward_error_sys(err, "pivot_root");
    if (umount2(".", MNT_DETACH) < 0)
      return ward_error_sys(err, "detach the old root");
  }
  if (chdir("/") < 0)
    return ward_error_sys(err, "chdir /");
  return 0;
}

int ward_rootfs_setup(const struct ward_rootfs_plan *plan, ward_error_t *err)
{
  const struct ward_config *cfg = plan->cfg;
  unsigned long host_prop = MS_REC | MS_SLAVE;
  if (cfg->rootfs_propagation & (MS_PRIVATE | MS_UNBINDABLE))
    host_prop = MS_REC | MS_PRIVATE;
  if (mount(NULL, "/", NULL, host_prop, NULL) < 0)
    return ward_error_sys(err, "make / a slave of the host's mounts");

  /* The root is attached as a fresh detached clone, reached through the
   * parent's fd (the init may lack search permission on the way to it), and
   * the clone's own fd becomes the root everything else resolves in. */
  _cleanup_close_ int target = plan->rootfs_fd >= 0 ? dup(plan->rootfs_fd) : open(plan->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (target < 0)
    return ward_error_sys(err, "open root %s", plan->rootfs);
  _cleanup_close_ int rootfd = -1;
  if (plan->host_root_bind) {
    if (ward_mount_bind_at(plan->host_root_bind, -1, target, true, MS_RDONLY | MS_NOSUID | MS_NODEV, 0, 0, &rootfd, err) < 0)
      return -1;
  } else if (ward_mount_bind_at(NULL, target, target, true, 0, 0, 0, &rootfd, err) < 0) {
    return ward_error_prefix(err, "root %s", plan->rootfs);
  }

  for (size_t i = 0; i < cfg->n_mounts; i++)
    if (ward_mount_one(rootfd, &cfg->mounts[i], plan, err) < 0)
      return ward_error_prefix(err, "mounts[%zu] (%s)", i, cfg->mounts[i].destination);

  if (ward_devices_setup(rootfd, plan, err) < 0)
    return -1;
  if (extra_binds(rootfd, plan, err) < 0)
    return -1;
  return enter_root(plan, rootfd, err);
}

int ward_rootfs_finish(const struct ward_rootfs_plan *plan, ward_error_t *err)
{
  const struct ward_config *cfg = plan->cfg;
  /* After sysctl (which writes through /proc/sys), as runc orders it. The
   * host's /dev/null is gone after pivot_root: the container's is bound. */
  _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return ward_error_sys(err, "open /");
  if (mask_paths(rootfd, cfg->masked_paths, err) < 0 || readonly_paths(rootfd, cfg->readonly_paths, err) < 0)
    return -1;
  if (cfg->root_readonly && !plan->host_root_bind) {
    struct statvfs st;
    unsigned long keep = 0;
    if (statvfs("/", &st) == 0)
      keep = (st.f_flag & ST_NOSUID ? MS_NOSUID : 0) | (st.f_flag & ST_NODEV ? MS_NODEV : 0) |
             (st.f_flag & ST_NOEXEC ? MS_NOEXEC : 0);
    if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
      return ward_error_sys(err, "root.readonly: remount / read-only");
  }
  if (cfg->rootfs_propagation && mount(NULL, "/", NULL, cfg->rootfs_propagation, NULL) < 0)
    return ward_error_sys(err, "linux.rootfsPropagation");
  return 0;
}
