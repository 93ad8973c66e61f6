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
#include <sys/statvfs.h>
#include <unistd.h>

int ward_mount_bind_fd(const char *source, int target_fd, bool recursive, ward_error_t *err)
{
  char target[WARD_FD_PATH_MAX];
  ward_fd_path(target_fd, target);
  if (mount(source, target, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
    return ward_error_sys(err, "bind mount %s", source);
  return 0;
}

static unsigned long locked_flags(int fd)
{
  struct statvfs st;
  unsigned long flags = 0;
  if (fstatvfs(fd, &st) < 0)
    return 0;
  if (st.f_flag & ST_NOSUID)
    flags |= MS_NOSUID;
  if (st.f_flag & ST_NODEV)
    flags |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC)
    flags |= MS_NOEXEC;
  if (st.f_flag & ST_RDONLY)
    flags |= MS_RDONLY;
  if (st.f_flag & ST_NOATIME)
    flags |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME)
    flags |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME)
    flags |= MS_RELATIME;
  return flags;
}

int ward_mount_remount_bind(int target_fd, unsigned long flags, ward_error_t *err)
{
  char target[WARD_FD_PATH_MAX];
  ward_fd_path(target_fd, target);
  /* Re-open: the fd taken before the bind refers to the covered directory. */
  _cleanup_close_ int fd = open(target, O_PATH | O_CLOEXEC);
  if (fd < 0)
    return ward_error_sys(err, "reopen bind target");
  ward_fd_path(fd, target);
  unsigned long want = MS_BIND | MS_REMOUNT | (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME));
  if (mount(NULL, target, NULL, want, NULL) == 0)
    return 0;
  /* In a user namespace the kernel refuses to clear flags it locked on the
   * source mount; keep them and try again. */
  if (errno == EPERM && mount(NULL, target, NULL, want | locked_flags(fd), NULL) == 0)
    return 0;
  return ward_error_sys(err, "remount bind mount");
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
  if (ward_mount_bind_fd(m->source, target_fd, m->recursive, err) < 0)
    return -1;
  unsigned long extra = m->flags & ~(MS_REMOUNT | MS_BIND | MS_REC);
  if (extra && ward_mount_remount_bind(target_fd, extra, err) < 0)
    return -1;
  return apply_propagation(target_fd, m->propagation, err);
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
  if (ward_mount_bind_fd(host_path, target_fd, true, err) < 0)
    return -1;
  return ward_mount_remount_bind(target_fd, m->flags | MS_RDONLY, err);
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
