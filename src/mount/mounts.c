/* One mount of the config, by type. Every target is an fd resolved inside
 * the root; sources of bind mounts are the bundle author's host paths. */
#include "mount/mount.h"
#include "mount/resolve.h"
#include "cgroup/cgroup.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t attr_bits(unsigned long ms)
{
  uint64_t a = 0;
  if (ms & MS_RDONLY)
    a |= MOUNT_ATTR_RDONLY;
  if (ms & MS_NOSUID)
    a |= MOUNT_ATTR_NOSUID;
  if (ms & MS_NODEV)
    a |= MOUNT_ATTR_NODEV;
  if (ms & MS_NOEXEC)
    a |= MOUNT_ATTR_NOEXEC;
  if (ms & MS_NODIRATIME)
    a |= MOUNT_ATTR_NODIRATIME;
  return a;
}

int ward_mount_set_flags(int fd, bool recursive, unsigned long set_flags, unsigned long clear_flags, ward_error_t *err)
{
  struct mount_attr attr = {.attr_set = attr_bits(set_flags), .attr_clr = attr_bits(clear_flags)};
  /* The atime modes are one field: setting one clears the others. */
  if (set_flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)) {
    attr.attr_clr |= MOUNT_ATTR__ATIME;
    attr.attr_set |= set_flags & MS_NOATIME ? MOUNT_ATTR_NOATIME : set_flags & MS_STRICTATIME ? MOUNT_ATTR_STRICTATIME : MOUNT_ATTR_RELATIME;
  }
  if (attr.attr_set == 0 && attr.attr_clr == 0)
    return 0;
  if (mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0)
    return ward_error_sys(err, "set mount flags (flags the kernel locked on the source cannot be cleared)");
  return 0;
}

int ward_mount_bind_at(const char *source, int source_fd, int target_fd, bool recursive, unsigned long set_flags,
                       unsigned long clear_flags, unsigned long propagation, int *out, ward_error_t *err)
{
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  const char *what = source ? source : "(fd)";
  _cleanup_close_ int tree = source ? open_tree(AT_FDCWD, source, flags) : open_tree(source_fd, "", flags | AT_EMPTY_PATH);
  if (tree < 0)
    return ward_error_sys(err, "bind %s", what);
  if (ward_mount_set_flags(tree, recursive, set_flags, clear_flags, err) < 0)
    return ward_error_prefix(err, "bind %s", what);
  if (propagation) {
    struct mount_attr attr = {.propagation = propagation & ~MS_REC};
    if (mount_setattr(tree, "", AT_EMPTY_PATH | (propagation & MS_REC ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0)
      return ward_error_sys(err, "set propagation of %s", what);
  }
  if (move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return ward_error_sys(err, "attach bind of %s", what);
  if (out)
    *out = steal_fd(&tree);
  return 0;
}

int ward_mount_bind_fd(const char *source, int target_fd, bool recursive, ward_error_t *err)
{
  return ward_mount_bind_at(source, -1, target_fd, recursive, 0, 0, 0, NULL, err);
}

static int apply_propagation(int fd, unsigned long propagation, ward_error_t *err)
{
  if (propagation == 0)
    return 0;
  char target[WARD_FD_PATH_MAX];
  _cleanup_close_ int mfd = -1;
  ward_fd_path(fd, target);
  mfd = open(target, O_PATH | O_CLOEXEC);
  if (mfd < 0)
    return ward_error_sys(err, "reopen mount target");
  ward_fd_path(mfd, target);
  if (mount(NULL, target, NULL, propagation, NULL) < 0)
    return ward_error_sys(err, "set mount propagation");
  return 0;
}

static int mount_bind(int target_fd, const struct ward_mount *m, ward_error_t *err)
{
  unsigned long set = m->flags & ~(MS_REMOUNT | MS_BIND | MS_REC);
  return ward_mount_bind_at(m->source, -1, target_fd, m->recursive, set, m->clear_flags, m->propagation, NULL, err);
}

static int mount_fs(int target_fd, const struct ward_mount *m, const char *type, ward_error_t *err)
{
  char target[WARD_FD_PATH_MAX];
  ward_fd_path(target_fd, target);
  const char *source = m->source && *m->source ? m->source : type;
  if (mount(source, target, type, m->flags, m->data) < 0)
    return ward_error_sys(err, "mount %s", type);
  return apply_propagation(target_fd, m->propagation, err);
}

/* sysfs and mqueue need namespaces owned by our user namespace; without
 * them, fall back to a read-only bind of the host's, as other runtimes do. */
static int mount_fs_or_bind(int target_fd, const struct ward_mount *m, const char *type, const char *host_path, ward_error_t *err)
{
  if (mount_fs(target_fd, m, type, err) == 0)
    return 0;
  if ((*err)->errnum != EPERM)
    return -1;
  ward_error_free(err);
  return ward_mount_bind_at(host_path, -1, target_fd, true, m->flags | MS_RDONLY, 0, 0, NULL, err);
}

int ward_mount_one(int rootfd, const struct ward_mount *m, const struct ward_rootfs_plan *plan, ward_error_t *err)
{
  const char *type = m->type ? m->type : "bind";
  enum ward_resolve_create create = WARD_CREATE_DIR;
  if (m->bind) {
    struct stat st;
    if (stat(m->source, &st) < 0)
      return ward_error_sys(err, "mount source %s", m->source);
    create = S_ISDIR(st.st_mode) ? WARD_CREATE_DIR : WARD_CREATE_FILE;
  }
  _cleanup_close_ int target = -1;
  if (ward_resolve_in_root(rootfd, m->destination, create, &target, err) < 0)
    return -1;
  if (m->bind)
    return mount_bind(target, m, err);
  if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0)
    return ward_cgroup_mount(plan->cgroup, target, m->flags, plan->in_userns, err);
  if (strcmp(type, "sysfs") == 0)
    return mount_fs_or_bind(target, m, type, "/sys", err);
  if (strcmp(type, "mqueue") == 0)
    return mount_fs_or_bind(target, m, type, "/dev/mqueue", err);
  return mount_fs(target, m, type, err);
}
