/* Namespaces: which ones to create or join, user-namespace id maps (written
 * by the parent, directly or through newuidmap/newgidmap), and the bits of
 * a fresh network and uts namespace the container expects. */
#ifndef WARD_NS_H
#define WARD_NS_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/config.h"

/* Opens every namespace path of the config (O_RDONLY|O_CLOEXEC), so a bad
 * path fails before anything is created; fds[k] is -1 where none is given. */
int ward_ns_open_paths(const struct ward_config *cfg, int fds[WARD_NS_COUNT], ward_error_t *err);
void ward_ns_close_fds(int fds[WARD_NS_COUNT]);
/* clone flags for the namespaces to create. Two are left out: the cgroup
 * namespace, which the init unshares once the parent has moved it into its
 * cgroup, and the time namespace, whose clock offsets can only be set
 * before any process is inside it (the init unshares it, writes them, and
 * enters it with its execve). */
int ward_ns_clone_flags(const struct ward_config *cfg);
/* In the parent, before clone: joins the net, ipc and uts namespaces given
 * by path (and closes their fds) so the init inherits them. Done here
 * because once the init is in its new user namespace it no longer holds the
 * capabilities a namespace owned by the host's user namespace requires. Not
 * done when the user namespace itself is joined by path: then everything is
 * joined by the init, user namespace first. */
int ward_ns_join_inherited(int fds[WARD_NS_COUNT], ward_error_t *err);
/* In the init: joins the given namespaces (user first). */
int ward_ns_join(int fds[WARD_NS_COUNT], ward_error_t *err);

/* Checks, before anything is created, that the maps can be written by the
 * calling user: root can map anything; others map only their own ids unless
 * /etc/subuid, /etc/subgid and newuidmap/newgidmap allow more. */
int ward_userns_validate(const struct ward_config *cfg, ward_error_t *err);
/* Parent side, after clone: writes the maps of pid's user namespace. */
int ward_userns_write_maps(pid_t pid, const struct ward_config *cfg, ward_error_t *err);
/* The default single-id mapping for a rootless container: root inside is
 * the calling user outside. */
int ward_userns_default_maps(struct ward_config *cfg, uid_t container_uid, uid_t host_uid, gid_t host_gid, ward_error_t *err);

int ward_net_loopback_up(ward_error_t *err);

#endif
