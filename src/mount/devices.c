/* /dev inside the container: the runtime-spec default devices, the config's
 * devices, and the conventional symlinks. Inside a user namespace device
 * nodes cannot be created, so host nodes are bind-mounted instead.
 *
 * Without a user namespace nodes are made with unlink + mknod, which acts on
 * whatever file system holds the path. When the config binds a host
 * directory there (the host's /dev, say), that would replace the host's own
 * nodes, so nodes (and the /dev symlinks) are only made on the root's own
 * file system or on a tmpfs the config mounted fresh; anywhere else they are
 * left alone, as runc leaves a bind-mounted /dev alone. */
#include "mount/mount.h"
#include "mount/resolve.h"
#include "common/cleanup.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
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

/* The places mknod may write: the mount of the root itself and the fresh
 * tmpfs mounts of the config that nothing later covers. */
#define OWN_MAX 32
struct own_mounts {
  uint64_t key[OWN_MAX];
  size_t n;
};

/* The mount an fd is on; on kernels before 5.8 (no STATX_MNT_ID) the file
 * system's device number stands in, which cannot tell a bind from the same
 * file system apart but does tell the host's devtmpfs from the root's. */
static int mount_key(int fd, uint64_t *key)
{
  struct statx stx;
  if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
    return -1;
  if (stx.stx_mask & STATX_MNT_ID)
    *key = stx.stx_mnt_id;
  else
    *key = (1ULL << 63) | ((uint64_t) stx.stx_dev_major << 32) | stx.stx_dev_minor;
  return 0;
}

/* a equals b or lies beneath it, ignoring repeated and trailing slashes. */
static bool path_within(const char *a, const char *b)
{
  for (;;) {
    while (*a == '/')
      a++;
    while (*b == '/')
      b++;
    if (*b == '\0')
      return true;
    size_t na = strcspn(a, "/"), nb = strcspn(b, "/");
    if (na != nb || strncmp(a, b, na) != 0)
      return false;
    a += na;
    b += nb;
  }
}

static void own_mounts_find(int rootfd, const struct ward_config *cfg, struct own_mounts *own)
{
  own->n = 0;
  if (mount_key(rootfd, &own->key[own->n]) == 0)
    own->n++;
  for (size_t i = 0; i < cfg->n_mounts && own->n < OWN_MAX; i++) {
    const struct ward_mount *m = &cfg->mounts[i];
    if (m->bind || m->type == NULL || strcmp(m->type, "tmpfs") != 0)
      continue;
    bool covered = false;
    for (size_t j = i + 1; j < cfg->n_mounts && !covered; j++)
      covered = path_within(m->destination, cfg->mounts[j].destination);
    _cleanup_error_ ward_error_t ignored = NULL;
    _cleanup_close_ int fd = -1;
    if (covered || ward_resolve_in_root(rootfd, m->destination, WARD_NO_CREATE, &fd, &ignored) < 0 || fd < 0)
      continue;
    if (mount_key(fd, &own->key[own->n]) == 0)
      own->n++;
  }
}

static bool own_mount(const struct own_mounts *own, int dirfd)
{
  uint64_t key;
  if (mount_key(dirfd, &key) < 0)
    return false;
  for (size_t i = 0; i < own->n; i++)
    if (own->key[i] == key)
      return true;
  return false;
}

static int create_device(int rootfd, const struct own_mounts *own, const struct ward_device *d, bool bind, ward_error_t *err)
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
  if (!own_mount(own, parent)) {
    ward_debug("device %s: its directory is on a mount from outside the container (a bind?); not replacing it", d->path);
    return 0;
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
  struct own_mounts own;
  own_mounts_find(rootfd, cfg, &own);
  for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
    if (listed(cfg, default_devices[i].path))
      continue;
    if (create_device(rootfd, &own, &default_devices[i], bind, err) < 0)
      return -1;
  }
  for (size_t i = 0; i < cfg->n_devices; i++)
    if (create_device(rootfd, &own, &cfg->devices[i], bind, err) < 0)
      return -1;

  _cleanup_close_ int dev = -1;
  if (ward_resolve_in_root(rootfd, "/dev", WARD_CREATE_DIR, &dev, err) < 0)
    return -1;
  bool links = own_mount(&own, dev);
  if (!links)
    ward_debug("/dev is a mount from outside the container (a bind?): no /dev symlinks made in it");
  for (size_t i = 0; links && i < ARRAY_SIZE(dev_links); i++) {
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
