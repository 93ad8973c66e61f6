/* Landlock: unprivileged, stackable file-system, TCP-port and IPC-scope
 * restrictions applied by the container's init after its mounts are final
 * and right before exec. Degrades by ABI version, reporting what it could
 * not enforce. See docs/landlock.md.
 *
 * Each of the three kinds is restricted only when configured:
 *  - file system: once any path rule exists, every right the ABI knows is
 *    handled, so whatever no rule grants is denied;
 *  - TCP: once any port rule (or ward_landlock_deny_net) exists, both bind
 *    and connect are handled, so unlisted ports are denied for both;
 *  - scopes: abstract unix sockets and signals, each as asked. */
#ifndef WARD_LANDLOCK_H
#define WARD_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct ward_kv;  /* runtime/config.h */
struct ward_landlock;

/* Reads WARD_LANDLOCK_ABI_MAX (an ABI cap, for tests) from the environment. */
int ward_landlock_new(struct ward_landlock **out, ward_error_t *err);
void ward_landlock_free(struct ward_landlock *ll);
static inline void ward_landlock_freep(struct ward_landlock **ll)
{
  if (*ll)
    ward_landlock_free(*ll);
}
#define _cleanup_landlock_ __attribute__((cleanup(ward_landlock_freep)))

/* Rules, with access given as a comma list: "read_file,read_dir,execute" or
 * the shorthands "ro", "rw", "exec" (they mix: "exec,write_file"). The path
 * must be absolute; it is checked by ward_landlock_check_paths and must exist
 * at apply time. Rights for directories only are dropped on a file. */
int ward_landlock_add_path(struct ward_landlock *ll, const char *path, const char *access, ward_error_t *err);
/* The same, recording the option or annotation ("--ro",
 * "run.ward.landlock.ro") that later errors about the path name. */
int ward_landlock_add_path_from(struct ward_landlock *ll, const char *origin, const char *path,
                                const char *access, ward_error_t *err);
/* kind "connect" (port 1..65535) or "bind" (0..65535; 0 lets the workload
 * bind an ephemeral port). */
int ward_landlock_add_port(struct ward_landlock *ll, const char *kind /* "connect" or "bind" */, long port, ward_error_t *err);
/* Handle TCP with no port allowed: no bind, no connect. */
void ward_landlock_deny_net(struct ward_landlock *ll);
int ward_landlock_set_scope(struct ward_landlock *ll, bool abstract_unix, bool signal, ward_error_t *err);
/* Strict: fail (check and apply) instead of degrading when the kernel cannot
 * enforce a restriction asked for. Best effort is the default. */
void ward_landlock_set_strict(struct ward_landlock *ll, bool strict);
/* ABI 7: have the kernel audit-log denials by the exec'd workload
 * (LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON). Off by default. */
void ward_landlock_set_audit(struct ward_landlock *ll, bool audit);
/* Use at most this ABI (0: act as if Landlock were missing; -1: no cap).
 * Overrides WARD_LANDLOCK_ABI_MAX; for tests and for reproducing old kernels. */
void ward_landlock_set_abi_max(struct ward_landlock *ll, int abi);

/* Reads the run.ward.landlock.* annotations (docs/landlock.md); *out stays
 * NULL when the bundle asks for no Landlock (no such key, or "off"). Errors
 * name the annotation key. */
int ward_landlock_from_annotations(const struct ward_kv *ann, size_t n, struct ward_landlock **out, ward_error_t *err);

/* Before anything starts: every rule path must resolve inside root_fd (the
 * rootfs; AT_FDCWD for the host's root), or be (beneath) one of the
 * mount destinations listed, which only exist once mounts are set up. The
 * error names the path and its option/annotation. */
int ward_landlock_check_paths(const struct ward_landlock *ll, int root_fd,
                              const char *const *mount_points, size_t n_mount_points, ward_error_t *err);
/* Before anything starts: a one-line summary of what apply would enforce on
 * this kernel ("landlock ABI 7: 5 path rules; 2 tcp port rules; scoped
 * abstract-unix,signal; fully enforced"), for a debug log; fails in strict
 * mode when something cannot be enforced. */
int ward_landlock_check(const struct ward_landlock *ll, char *report, size_t report_len, ward_error_t *err);

/* Enforces on the calling thread (the container's single-threaded init,
 * after pivot_root, before exec). When the running kernel's ABI could not
 * enforce everything asked, writes a one-line report for a warning into
 * report (may be NULL): "landlock ABI 3: 4 path rules; not enforced: tcp
 * ports (needs ABI 4), ioctl_dev (needs ABI 5)"; otherwise report is "".
 * In strict mode that case is an error instead. No allocation unless it
 * fails. ll may be NULL (nothing to do). Needs no_new_privs or CAP_SYS_ADMIN,
 * which it checks first. */
int ward_landlock_apply(const struct ward_landlock *ll, char *report, size_t report_len, ward_error_t *err);
/* The kernel's Landlock ABI (0 when unsupported or disabled at boot), capped
 * by WARD_LANDLOCK_ABI_MAX. */
int ward_landlock_abi(void);

#endif
