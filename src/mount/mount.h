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
  bool is_dir;
  bool kind_known;     /* is_dir is set already: no stat of source */
  int tree_fd;         /* a detached clone of source made by the parent
                        * (ward_bind_prepare), or -1 to bind source here */
};

/* In the parent: clones source as a detached mount with its flags set, so
 * the init only has to attach it, even where it cannot reach the source.
 * Without CAP_SYS_ADMIN (rootless) it leaves tree_fd at -1. */
int ward_bind_prepare(struct ward_bind *b, ward_error_t *err);

struct ward_rootfs_plan {
  const struct ward_config *cfg;
  const char *rootfs;          /* host path of the container's root */
  int rootfs_fd;               /* an fd of it in the init's mount namespace, or -1: open rootfs */
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
/* Binds source (a path; or source_fd when source is NULL) at target_fd with
 * the new mount API: the tree is cloned detached, given its MS_* flags and
 * propagation while nobody can see it, then attached. *out (if not NULL)
 * gets an fd of the new mount's root. */
int ward_mount_bind_at(const char *source, int source_fd, int target_fd, bool recursive, unsigned long set_flags,
                       unsigned long clear_flags, unsigned long propagation, int *out, ward_error_t *err);
/* Simple form: a plain (non-recursive unless asked) bind. */
int ward_mount_bind_fd(const char *source, int target_fd, bool recursive, ward_error_t *err);
/* Applies MS_* flags (and clears others) to the mount whose root is fd. */
int ward_mount_set_flags(int fd, bool recursive, unsigned long set_flags, unsigned long clear_flags, ward_error_t *err);

#endif
