/* /dev inside the container: the runtime-spec default devices, the config's
 * devices, and the conventional symlinks. Inside a user namespace device
 * nodes cannot be created, so host nodes are bind-mounted instead. */
#include "mount/mount.h"
#include "mount/resolve.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const struct ward_device default_devices[] = {
  {.path = "/dev/null", .type = 'c', .major = 1, .minor = 3, .file_mode = 0666, .has_file_mode = true},
  {.path = "/dev/zero", .type = 'c', .major = 1, .minor = 5, .file_mode = 0666, .has_file_mode = true},
  {.path = "/dev/full", .type = 'c', .major = 1, .minor = 7, .file_mode = 0666, .has_file_mode = true},
  {.path = "/dev/random", .type = 'c', .major = 1, .minor = 8, .file_mode = 0666, .has_file_mode = true},
  {.path = "/dev/urandom", .type = 'c', .major = 1, .minor = 9, .file_mode = 0666, .has_file_mode = true},
  {.path = "/dev/tty", .type = 'c', .major = 5, .minor = 0, .file_mode = 0666, .has_file_mode = true},
};

static const struct { const char *target, *link; } dev_links[] = {
  {"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"},
  {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
  {"pts/ptmx", "/dev/ptmx"},
};

static int split_parent(int rootfd, const char *path, int *parent, const char **name, ward_error_t *err)
{
  const char *slash = strrchr(path, '/');
  *name = slash ? slash + 1 : path;
  if (**name == '\0' || strcmp(*name, "..") == 0 || strcmp(*name, ".") == 0)
    return ward_error(err, EINVAL, "device path %s", path);
  _cleanup_free_ char *dir = strndup(path, slash ? (size_t) (slash - path) : 0);
  if (dir == NULL)
    return ward_error(err, ENOMEM, "%s", path);
  return ward_resolve_in_root(rootfd, *dir ? dir : "/", WARD_CREATE_DIR, parent, err);
}

static int create_device(int rootfd, const struct ward_device *d, bool bind, ward_error_t *err)
{
  _cleanup_close_ int parent = -1;
  const char *name;
  if (split_parent(rootfd, d->path, &parent, &name, err) < 0)
    return -1;
  if (bind) {
    /* The host node with the same number; refuse a path whose host node is
     * a different device than the config asks for. */
    struct stat st;
    if (stat(d->path, &st) < 0)
      return ward_error_sys(err, "device %s: no host node to bind", d->path);
    if (d->type != 'p' && (major(st.st_rdev) != (unsigned) d->major || minor(st.st_rdev) != (unsigned) d->minor))
      return ward_error(err, 0, "device %s: the host node is %u:%u, not %lld:%lld", d->path, major(st.st_rdev),
                        minor(st.st_rdev), (long long) d->major, (long long) d->minor);
    _cleanup_close_ int target = -1;
    if (ward_resolve_in_root(rootfd, d->path, WARD_CREATE_FILE, &target, err) < 0)
      return -1;
    return ward_mount_bind_fd(d->path, target, false, err);
  }
  mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
  mode_t perm = d->has_file_mode ? d->file_mode : 0666;
  if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
    return ward_error_sys(err, "replace %s", d->path);
  if (mknodat(parent, name, type | perm, makedev(d->major, d->minor)) < 0)
    return ward_error_sys(err, "mknod %s", d->path);
  /* mknod honours the umask; the mode asked for is exact. */
  if (fchmodat(parent, name, perm, 0) < 0)
    return ward_error_sys(err, "chmod %s", d->path);
  if ((d->has_uid || d->has_gid) && fchownat(parent, name, d->has_uid ? d->uid : (uid_t) -1,
                                             d->has_gid ? d->gid : (gid_t) -1, AT_SYMLINK_NOFOLLOW) < 0)
    return ward_error_sys(err, "chown %s", d->path);
  return 0;
}

static bool listed(const struct ward_config *cfg, const char *path)
{
  for (size_t i = 0; i < cfg->n_devices; i++)
    if (strcmp(cfg->devices[i].path, path) == 0)
      return true;
  return false;
}

int ward_devices_setup(int rootfd, const struct ward_rootfs_plan *plan, ward_error_t *err)
{
  const struct ward_config *cfg = plan->cfg;
  bool bind = plan->in_userns;
  for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
    if (listed(cfg, default_devices[i].path))
      continue;
    if (create_device(rootfd, &default_devices[i], bind, err) < 0)
      return -1;
  }
  for (size_t i = 0; i < cfg->n_devices; i++)
    if (create_device(rootfd, &cfg->devices[i], bind, err) < 0)
      return -1;

  _cleanup_close_ int dev = -1;
  if (ward_resolve_in_root(rootfd, "/dev", WARD_CREATE_DIR, &dev, err) < 0)
    return -1;
  for (size_t i = 0; i < ARRAY_SIZE(dev_links); i++) {
    const char *name = dev_links[i].link + strlen("/dev/");
    if (symlinkat(dev_links[i].target, dev, name) < 0 && errno != EEXIST)
      return ward_error_sys(err, "symlink %s", dev_links[i].link);
  }
  if (plan->console) {
    _cleanup_close_ int target = -1;
    if (ward_resolve_in_root(rootfd, "/dev/console", WARD_CREATE_FILE, &target, err) < 0 ||
        ward_mount_bind_fd(plan->console, target, false, err) < 0)
      return ward_error_prefix(err, "/dev/console");
  }
  return 0;
}
