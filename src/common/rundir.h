/* A container's volatile files: the probe directory (ring, control page,
 * ld.so.preload, decoys) and the engine's flight recorder. They are
 * mapped, written on every event and worthless once the container is gone,
 * so they live in memory whatever file system holds the state root. On a
 * disk file system (the VM this was measured on keeps /run on ext4) each of
 * them cost a journalled create, a page_mkwrite on the first store into
 * every page, and at removal an eviction that the state directory's own
 * removal queued behind: milliseconds of every `ward run`.
 *
 * They sit in the container's memory directory, which is
 *   - state_dir/run, a plain directory, when the state root is itself on
 *     tmpfs, when no tmpfs is usable, or when ward does not run as root
 *     (/dev/shm is anyone's to write: a rootless user's base there could
 *     be made first, or removed by logind's RemoveIPC and then made, by
 *     someone else);
 *   - otherwise BASE/ward-run-UID/DEV-INO, on the first of /run and
 *     /dev/shm that is a tmpfs, where DEV-INO names the state directory
 *     (unique while it exists, so a name left by a crash is known stale).
 *     Nothing in the state directory points there: a link would cost an
 *     inode on the disk for every container. Readers find it from the
 *     state directory's DEV-INO and check its "state" link back
 *     (ward_run_dir_path); a state_dir/run that exists (plain, or the link
 *     an older ward made) comes first.
 * Everyone finds them that way (`ward events`, `ward probe`, the agent's
 * re-attach). BASE/ward-run-UID is 0700 and must be a
 * directory of ours that nobody else can write (in /dev/shm anyone could
 * have made it first), or the plain directory is used. So is it when the
 * container itself could reach BASE/ward-run-UID: a bundle that binds the
 * host's /dev/shm (a "host IPC" container) would otherwise find every
 * container's control page there, its own included, and could turn its
 * probes off. The other direction is covered too: every container ward
 * starts that binds such a base (or a directory above it) gets every
 * BASE/ward-run-* in it masked (ward_run_dir_masks), so it cannot reach
 * the other containers' files either. Containers started by other runtimes
 * are beyond ward's reach: such a bind is what `ward audit` reports as host
 * IPC. Each memory directory holds a symlink back to its state directory
 * ("state"): how readers know it, and the sweep below that it is stale. */
#ifndef WARD_RUNDIR_H
#define WARD_RUNDIR_H

#include <stddef.h>

#include "common/error.h"

#define WARD_RUN_DIR "run"

/* The runtime, for a container with probes or a supervisor: makes its
 * memory directory (a fresh one: anything a crash left under its name goes)
 * and puts its path in out, unless state_dir/run exists, which is then the
 * one. In memory unless a path the container will see (exposed: host paths
 * such as its bind sources, NULL-terminated; "/" for all of them) contains
 * BASE/ward-run-UID or lies beneath it. */
int ward_run_dir_create(const char *state_dir, const char *const *exposed, char *out, size_t size,
                        ward_error_t *err);
/* For a container that binds source (a host directory) at dest: the
 * paths inside it (appended to *masks) that lead to a memory base
 * directory BASE/ward-run-* of any user, other containers' probe files
 * and flight recorders, so that a "host IPC" container cannot turn their
 * probes off. Our own base is created first, so that it is there to be
 * masked. A source inside a base (BASE/ward-run-*) is refused. */
int ward_run_dir_masks(const char *source, const char *dest, char ***masks, ward_error_t *err);
/* Where state_dir's memory directory is (in out): state_dir/run if that
 * exists, else the memory directory whose "state" link leads back to
 * state_dir, else state_dir/run, which does not exist. -1 only for a path
 * longer than size (errno ENAMETOOLONG). */
int ward_run_dir_path(const char *state_dir, char *out, size_t size);
/* ward_run_dir_path + "/" + name, allocated; NULL on failure. */
char *ward_run_path(const char *state_dir, const char *name);
/* Any other writer (the engine's flight recorder): the memory directory
 * (in out), made plain as state_dir/run unless there is one. */
int ward_run_dir_ensure(const char *state_dir, char *out, size_t size, ward_error_t *err);
/* Removes state_dir's memory directory while the state directory is still
 * there to vouch for it: the one whose "state" link leads back, or the one
 * an older ward's state_dir/run link names if it is this state directory's
 * (a link anywhere else is left alone). A plain state_dir/run, and the
 * link, go with the state directory. */
int ward_run_dir_remove(const char *state_dir, ward_error_t *err);

/* A container created by a ward from before state_dir/run keeps its probe
 * directory and flight recorder at state_dir/probe and state_dir/flight:
 * a "run -> ." link lets every reader find them at the new paths. Best
 * effort (a reader without write access to the state directory goes on
 * without it). */
void ward_run_dir_adopt_legacy(const char *state_dir);

/* Removes memory directories whose state directory is gone (removed by
 * hand, say, rather than by `ward delete`): they would hold their pages
 * until reboot. */
void ward_run_dir_sweep(void);

#endif
