/* The container's file-system view: every mount of the config resolved
 * inside the root, the devices, masked and read-only paths, then pivot_root.
 * Steps run in the order of ward_rootfs_setup(), top to bottom. */
#ifndef WARD_MOUNT_H
#define WARD_MOUNT_H

#include <stdbool.h>

#include "common/error.h"
#include "runtime/config.h"

struct ward_cgroup;

/* A host file or directory to bind into the container after the config's own
 * mounts (the probe's ring, control page, library and ld.so.preload). */
struct ward_bind {
  const char *source;  /* host path */
  const char *dest;    /* container path */
  bool readonly;
};

struct ward_rootfs_plan {
  const struct ward_config *cfg;
  const char *rootfs;          /* host path of the container's root */
  const char *host_root_bind;  /* sandbox: rbind this host directory read-only as the root */
  bool in_userns;              /* devices are bind-mounted, flags may be locked */
  bool no_pivot;
  const struct ward_cgroup *cgroup;
  const struct ward_bind *extra;
  size_t n_extra;
  const char *console;         /* pty slave path to bind at /dev/console */
};

int ward_rootfs_setup(const struct ward_rootfs_plan *plan, ward_error_t *err);
/* After pivot: make / read-only when root.readonly asks. */
int ward_rootfs_finish(const struct ward_rootfs_plan *plan, ward_error_t *err);

/* Internal steps, exposed for rootfs.c and tests. */
int ward_mount_one(int rootfd, const struct ward_mount *m, const struct ward_rootfs_plan *plan, ward_error_t *err);
int ward_devices_setup(int rootfd, const struct ward_rootfs_plan *plan, ward_error_t *err);
int ward_mount_bind_fd(const char *source, int target_fd, bool recursive, ward_error_t *err);
/* MS_BIND|MS_REMOUNT keeping the flags the kernel locked on the source. */
int ward_mount_remount_bind(int target_fd, unsigned long flags, ward_error_t *err);

#endif
