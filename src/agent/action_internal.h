/* Shared between the action files: the container being acted on, its
 * processes, the layers an action applies (each undoable), and the control
 * page calls of the probe-enforce part. */
#ifndef WARD_ACTION_INTERNAL_H
#define WARD_ACTION_INTERNAL_H

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "agent/action.h"
#include "common/error.h"
#include "probe/control_format.h"
#include "runtime/state.h"

/* Loads id's state and checks that it runs (running or paused); the error
 * names the id otherwise. */
int action_load_running(const char *root, const char *id, struct ward_state **out, ward_error_t *err);

/* The container's processes, host pids: the cgroup's members, or without a
 * cgroup every process in the init's pid namespace. */
int action_container_pids(const struct ward_state *st, pid_t **pids, size_t *n, ward_error_t *err);
/* Whether pid has a network (or pid) namespace of its own, unlike ours. */
bool action_own_ns(pid_t pid, const char *ns);
/* probe/control in the memory directory, or NULL when the container runs without probes. */
char *action_control_path(const struct ward_state *st);

/* The record of the action in effect (state_dir/action.json); state is
 * "applying", "active", "partial" (a rollback failed) or "done" (kill). */
int action_rec_save(const struct ward_state *st, json_t *rec, const char *state, ward_error_t *err);
/* After a failure in err: undoes rec's layers and rewrites err to say what
 * was done, what failed and what (if anything) is left in place. */
int action_rollback(const struct ward_state *st, json_t *rec, const char *what, ward_error_t *err);
/* quarantine, restrict, honeypot: applies the layers into rec (action_apply.c). */
int action_apply(const struct ward_state *st, enum ward_action_kind kind, const struct ward_action_opts *o,
                 json_t *rec, json_t *report, ward_error_t *err);

/* Layers: each is a JSON object {"layer": NAME, ...what undo needs}. */
int layer_undo(const struct ward_state *st, json_t *layer, ward_error_t *err);
const char *layer_describe(json_t *layer);  /* "froze the cgroup" */

/* Network cut in the container's own network namespace (action_netns.c):
 * prohibit rules for IPv4 and IPv6 at a fixed priority (everything that is
 * not local is refused with EACCES), and loopback brought down when
 * !allow_loopback. *layer records what to undo. */
int netns_cut(pid_t init, bool allow_loopback, json_t **layer, ward_error_t *err);
int netns_restore(pid_t init, json_t *layer, ward_error_t *err);
/* Runs fn in a child joined to init's network namespace; fn's return value
 * (0 or an errno) comes back. */
int netns_run(pid_t init, int (*fn)(void *), void *arg, ward_error_t *err);
/* Joins init's network namespace (and user namespace when unprivileged);
 * 0 or an errno. For a forked child only. */
int netns_join(pid_t init);

/* The honeypot sink (action_sink.c): a forked process in the container's
 * network namespace listening on 127.0.0.1:port; logs each connection and
 * its first bytes into state_dir/honeypot.log; exits with the init. */
int sink_start(const struct ward_state *st, json_t **layer, uint16_t *port, ward_error_t *err);
int sink_stop(json_t *layer, ward_error_t *err);
bool sink_alive(json_t *layer);

/* Control page (probe-enforce's host API, probe/control.h). */
int ctl_set_mode(const char *control, uint32_t mode, ward_error_t *err);
int ctl_set_sink(const char *control, const struct ward_ctl_addr *sink, ward_error_t *err);

#endif
