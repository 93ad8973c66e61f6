/* Control groups on all three host layouts:
 *   v2      one unified hierarchy at /sys/fs/cgroup;
 *   v1      one hierarchy per controller under /sys/fs/cgroup/<ctrl>;
 *   hybrid  v1 controllers plus a cgroup2 mount (often only hugetlb, or no
 *           controller at all) at /sys/fs/cgroup/unified.
 * On hybrid hosts ward uses the v1 controllers for limits and the unified
 * hierarchy for what cgroup2 does better whatever its controllers:
 * cgroup.kill and cgroup.freeze. */
#ifndef WARD_CGROUP_H
#define WARD_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/config.h"

enum ward_cgroup_mode { WARD_CGROUP_NONE, WARD_CGROUP_V1, WARD_CGROUP_V2, WARD_CGROUP_HYBRID };

#define WARD_CGROUP_MAX_V1 16

struct ward_cgroup_v1 {
  char *name;  /* controllers of the hierarchy ("memory", "cpu,cpuacct", "name=systemd") */
  char *dir;   /* the container's directory in it */
  char *mount; /* where the hierarchy is mounted */
};

struct ward_cgroup {
  enum ward_cgroup_mode mode;
  char *path;      /* relative to each hierarchy's root */
  char *unified;   /* the container's cgroup2 directory, if any */
  struct ward_cgroup_v1 v1[WARD_CGROUP_MAX_V1];
  size_t n_v1;
  char *warnings;  /* limits that could not be enforced, for the user */
};

enum ward_cgroup_mode ward_cgroup_detect(void);
const char *ward_cgroup_mode_name(enum ward_cgroup_mode mode);

/* Creates the container's cgroup and applies the limits and the device
 * rules (cgroup/devices.h; NULL: none). When the hierarchy is not writable
 * (rootless without delegation), *out has mode NONE and warnings say which
 * limits are not enforced; required_limits makes that an error instead. */
int ward_cgroup_create(const char *path, const struct ward_resources *res, const struct ward_device_rule *devices,
                       size_t n_devices, bool required_limits, struct ward_cgroup **out, ward_error_t *err);
int ward_cgroup_enter(const struct ward_cgroup *cg, pid_t pid, ward_error_t *err);

/* Joining by writing a pid to cgroup.procs takes the kernel's global
 * threadgroup lock for writing, which waits for an RCU grace period: 8 to
 * 16 ms per container on the test VM, most of a container's start-up. Two
 * ways skip it: a single-threaded process that moves itself by writing "0"
 * to a v1 hierarchy's `tasks` file, and clone3's CLONE_INTO_CGROUP, which
 * starts a child in a cgroup2 directory. The parent opens what the child
 * needs (ward_cgroup_join_begin), clones with unified_fd, and the child,
 * still single-threaded, calls ward_cgroup_join_self. The files are opened
 * by the parent: the kernel checks its credentials, not the child's. */
struct ward_cgroup_join {
  int tasks[WARD_CGROUP_MAX_V1];  /* each v1 hierarchy's tasks file, O_WRONLY */
  size_t n_tasks;
  int unified_fd;                 /* the cgroup2 directory, for CLONE_INTO_CGROUP; -1: none */
};
/* Opens what the join needs; false (j left empty) when there is no cgroup
 * or a file does not open: the caller then writes cgroup.procs instead. */
bool ward_cgroup_join_begin(const struct ward_cgroup *cg, struct ward_cgroup_join *j);
/* Whether a clone3 failure (errnum) is a kernel before 5.7, or a cgroup2
 * directory refusing the child: then j is closed, and the caller clones
 * without CLONE_INTO_CGROUP and falls back to cgroup.procs. */
bool ward_cgroup_join_refused(struct ward_cgroup_join *j, int errnum);
int ward_cgroup_join_self(struct ward_cgroup_join *j, ward_error_t *err);
void ward_cgroup_join_close(struct ward_cgroup_join *j);
int ward_cgroup_update(const struct ward_cgroup *cg, const struct ward_resources *res, ward_error_t *err);
/* Kills every process; waits up to timeout_ms for the cgroup to empty. */
int ward_cgroup_kill(const struct ward_cgroup *cg, int sig, ward_error_t *err);
int ward_cgroup_freeze(const struct ward_cgroup *cg, bool freeze, ward_error_t *err);
int ward_cgroup_is_frozen(const struct ward_cgroup *cg);
/* Host pids of the member processes; the caller frees *pids. */
int ward_cgroup_pids(const struct ward_cgroup *cg, pid_t **pids, size_t *n, ward_error_t *err);
/* Removes the container's directories (retrying while members exit). */
int ward_cgroup_destroy(struct ward_cgroup *cg, ward_error_t *err);
void ward_cgroup_free(struct ward_cgroup *cg);
static inline void ward_cgroup_freep(struct ward_cgroup **cg) { if (*cg) ward_cgroup_free(*cg); }
#define _cleanup_cgroup_ __attribute__((cleanup(ward_cgroup_freep)))

/* Mounts a view of the container's cgroup at target_fd (a "cgroup" mount of
 * the config): cgroup2 where possible, else a tmpfs of per-controller binds. */
int ward_cgroup_mount(const struct ward_cgroup *cg, int target_fd, unsigned long flags, bool in_userns, ward_error_t *err);

json_t *ward_cgroup_to_json(const struct ward_cgroup *cg);
int ward_cgroup_from_json(json_t *j, struct ward_cgroup **out, ward_error_t *err);

/* cpu.shares (v1, 2..262144) to cpu.weight (v2, 1..10000). */
unsigned long ward_cgroup_shares_to_weight(unsigned long shares);

#endif
