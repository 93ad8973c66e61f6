/* What the runtime calls to put probes into a container.
 *
 *   struct ward_probe_setup s;
 *   ward_probe_prepare(state_dir, rootfs, &opts, &s, &err);
 *   for each s.mounts[i]: bind-mount source onto rootfs + target (after
 *     creating the target file), then remount with MS_BIND|MS_REMOUNT|
 *     MS_NOSUID|MS_NODEV plus MS_RDONLY when .readonly (and MS_NOEXEC
 *     when .noexec); the ring's source is /proc/self/fd/N of s.ring_fd
 *   if s.env: add it to the container process's environment (musl images)
 *   keep s.ring_fd for the in-process consumer, or hand it to the agent;
 *   ward_probe_setup_free(&s) after the container has started.
 *
 * See docs/probes.md for the full sequence. */
#ifndef WARD_PROBE_PREPARE_H
#define WARD_PROBE_PREPARE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

enum ward_probe_variant { WARD_PROBE_NONE, WARD_PROBE_GLIBC, WARD_PROBE_MUSL };

/* Which build of the probe matches the image: the dynamic loader under
 * rootfs/lib, rootfs/lib64 or rootfs/usr/lib (ld-musl-*.so.1 vs
 * ld-linux-*.so.*), looked up without leaving the rootfs (openat2
 * RESOLVE_IN_ROOT). NONE when there is no loader (static-only images). */
enum ward_probe_variant ward_probe_variant_for_rootfs(const char *rootfs);
const char *ward_probe_variant_name(enum ward_probe_variant v);

/* Absolute path of the installed libward-probe.so (or -musl.so): $WARD_PROBE_LIB
 * / $WARD_PROBE_MUSL_LIB (host-side override, for tests), next to the ward
 * executable, the build tree's src/probe, then the install libdir. The
 * caller frees. */
int ward_probe_lib_path(enum ward_probe_variant v, char **out, ward_error_t *err);

/* The range a container's ring may be given (run.ward.probe-ring). */
#define WARD_PROBE_RING_MIN (64u << 10)
#define WARD_PROBE_RING_MAX (1u << 30)

struct ward_probe_opts {
  uint64_t ring_size;        /* 0: WARD_RING_SIZE_DEFAULT */
  uint32_t slot_size;        /* 0: WARD_RING_SLOT_DEFAULT */
  uint32_t groups;           /* initial enable mask (bit per ward_probe_group) */
  bool disabled;             /* per-container opt-out: prepare nothing */
  enum ward_probe_variant variant; /* NONE: detect from the rootfs */
};

struct ward_probe_mount {
  char *source;              /* host path (the ring: /proc/self/fd/N) */
  char *target;              /* absolute path inside the container */
  bool readonly;
  bool noexec;
  bool is_dir;               /* known: the bind need not look */
};

#define WARD_PROBE_MAX_MOUNTS 5

struct ward_probe_setup {
  enum ward_probe_variant variant;
  int ring_fd;               /* sealed memfd, close-on-exec */
  char *dir;                 /* RUN_DIR/probe */
  char *control;             /* RUN_DIR/probe/control */
  char *preload;             /* RUN_DIR/probe/ld.so.preload (glibc only) */
  char *env;                 /* "LD_PRELOAD=..." for musl images, else NULL */
  struct ward_probe_mount mounts[WARD_PROBE_MAX_MOUNTS];
  int n_mounts;
};

/* Creates run_dir/probe (0711) in the container's memory directory run_dir
 * (made by the runtime, common/rundir.h) with the control page, the
 * ld.so.preload file and the ring, and fills in what to mount where. With
 * opts->disabled or variant NONE it succeeds with n_mounts == 0 and
 * ring_fd == -1. */
int ward_probe_prepare(const char *run_dir, const char *rootfs, const struct ward_probe_opts *opts,
                       struct ward_probe_setup *out, ward_error_t *err);
void ward_probe_setup_free(struct ward_probe_setup *s);

/* Reopens a running container's ring for consuming, through its init's root
 * (/proc/PID/root + WARD_PROBE_DIR/ring, resolved in that root) and checks
 * that it is the ring file in the memory directory's probe/. */
int ward_probe_open_ring(const char *state_dir, int init_pid, int *fd_out, ward_error_t *err);
/* Whether fd is the ring file in the memory directory's probe/ (an fd
 * handed to the agent is checked this way). */
int ward_probe_check_ring(const char *state_dir, int fd, ward_error_t *err);

/* probe/control in state_dir's memory directory, for `ward probe on|off`.
 * The caller frees. */
char *ward_probe_control_path(const char *state_dir);

#endif
