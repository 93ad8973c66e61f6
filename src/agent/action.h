/* Remedial actions on a running container, by hand (`ward action`) or from
 * the engine when a policy maps an alert's severity to an action.
 *
 *   kill        every process of the container (cgroup kill; without a
 *               cgroup, SIGKILL to the pid namespace's init), reported;
 *   quarantine  freeze (cgroup freezer) or nonet (control page QUARANTINE
 *               mode for the probes and the supervisor, plus a prohibit
 *               rule in the container's own network namespace);
 *   restrict    control page RESTRICT mode (the probes tighten in-process,
 *               the supervisor starts denying);
 *   honeypot    HONEYPOT mode, every probe group with call stacks, and a
 *               sink process in the container's network namespace that
 *               logs what connects (state_dir/honeypot.log);
 *   resume      undoes the action in effect, layer by layer;
 *   snapshot    a forensic tar archive (snapshot.h).
 *
 * The action in effect and every layer it applied are recorded in
 * state_dir/action.json, so `ward action ID status` shows it, resume knows
 * what to undo, and a second action replaces the first cleanly. An action
 * that fails midway undoes what it did, or, when that fails too, says
 * exactly which layers are left in place. Details in docs/actions.md. */
#ifndef WARD_ACTION_H
#define WARD_ACTION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

enum ward_action_kind {
  WARD_ACTION_KILL, WARD_ACTION_QUARANTINE, WARD_ACTION_RESTRICT, WARD_ACTION_HONEYPOT,
  WARD_ACTION_RESUME, WARD_ACTION_SNAPSHOT, WARD_ACTION_COUNT
};

#define WARD_ACTION_FILE "action.json"
#define WARD_HONEYPOT_LOG "honeypot.log"

struct ward_snapshot_opts;

struct ward_action_opts {
  bool freeze;            /* quarantine form: freeze (true) or no network */
  bool allow_loopback;    /* nonet: loopback connects stay allowed */
  const char *snapshot_path;                    /* snapshot: the archive (NULL: <root>/.snapshots/<id>/<time>.tar) */
  const struct ward_snapshot_opts *snapshot;    /* snapshot: limits (NULL: defaults) */
  const char *reason;     /* recorded with the action: "rule inject.exec_memfd (critical)", "by hand" */
  json_t **report;        /* out (may be NULL): what was done, layer by layer */
};

/* "kill" -> WARD_ACTION_KILL; -1 for an unknown name. */
int ward_action_kind_parse(const char *name);
const char *ward_action_kind_name(enum ward_action_kind kind);

/* Runs one action on container id under the state root. Unknown or stopped
 * containers are an error naming the id. */
int ward_action_run(const char *root, const char *id, enum ward_action_kind kind, const struct ward_action_opts *o,
                    ward_error_t *err);

/* The action in effect (the contents of action.json plus the live state of
 * each layer), or {"action": "none"}. */
int ward_action_status(const char *root, const char *id, json_t **out, ward_error_t *err);

#endif
