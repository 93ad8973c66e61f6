/* Remedial actions (action.h): the record of the action in effect, its
 * layers and their undo, rollback on failure, kill, resume and status. The
 * layers of quarantine, restrict and honeypot are applied in
 * action_apply.c. */
#include "agent/action_internal.h"

#include "agent/snapshot.h"
#include "cgroup/cgroup.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "probe/control.h"
#include "probe/event.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const kind_names[WARD_ACTION_COUNT] = {"kill", "quarantine", "restrict", "honeypot", "resume",
                                                           "snapshot"};

int ward_action_kind_parse(const char *name)
{
  for (int k = 0; k < WARD_ACTION_COUNT; k++)
    if (strcmp(name, kind_names[k]) == 0)
      return k;
  return -1;
}

const char *ward_action_kind_name(enum ward_action_kind kind)
{
  return (unsigned) kind < WARD_ACTION_COUNT ? kind_names[kind] : "unknown";
}

const char *layer_describe(json_t *layer)
{
  const char *name = json_string_value(json_object_get(layer, "layer"));
  if (name == NULL)
    return "an unknown layer";
  if (strcmp(name, "freeze") == 0)
    return "froze the cgroup";
  if (strcmp(name, "control") == 0)
    return json_string_value(json_object_get(layer, "describe")) ? json_string_value(json_object_get(layer, "describe"))
                                                                  : "set the control page mode";
  if (strcmp(name, "netns") == 0)
    return json_is_true(json_object_get(layer, "lo_down")) ? "cut the network namespace (prohibit rule, loopback down)"
                                                           : "cut the network namespace (prohibit rule)";
  if (strcmp(name, "sink") == 0)
    return "started the honeypot sink";
  return "an unknown layer";
}

static const char *layer_left(json_t *layer)
{
  const char *name = json_string_value(json_object_get(layer, "layer"));
  if (name && strcmp(name, "freeze") == 0)
    return "container left frozen";
  if (name && strcmp(name, "control") == 0)
    return "control page mode left set";
  if (name && strcmp(name, "netns") == 0)
    return "network left cut";
  if (name && strcmp(name, "sink") == 0)
    return "honeypot sink left running";
  return "unknown layer left";
}

int layer_undo(const struct ward_state *st, json_t *layer, ward_error_t *err)
{
  const char *name = json_string_value(json_object_get(layer, "layer"));
  const char *control = json_string_value(json_object_get(layer, "control"));
  if (name == NULL)
    return ward_error(err, 0, "action.json: a layer without a name");
  if (strcmp(name, "freeze") == 0) {
    if (st->cgroup == NULL)
      return ward_error(err, 0, "thaw: the container has no cgroup");
    return ward_cgroup_freeze(st->cgroup, false, err) < 0 ? ward_error_prefix(err, "thaw the cgroup") : 0;
  }
  if (strcmp(name, "control") == 0 && control) {
    /* the sink address stays on the page: without the mode nothing uses it */
    uint32_t before = (uint32_t) json_integer_value(json_object_get(layer, "mode_before"));
    return ctl_set_mode(control, before, err) < 0 ? ward_error_prefix(err, "restore the control page mode") : 0;
  }
  if (strcmp(name, "netns") == 0)
    return netns_restore(st->pid, layer, err);
  if (strcmp(name, "sink") == 0)
    return sink_stop(layer, err);
  return ward_error(err, 0, "action.json: unknown layer \"%s\"", name);
}

/* --- the record: state_dir/action.json --- */

static int rec_load(const struct ward_state *st, json_t **out, ward_error_t *err)
{
  _cleanup_free_ char *path = ward_state_path(st, WARD_ACTION_FILE);
  *out = NULL;
  if (path == NULL)
    return ward_error(err, ENOMEM, "action record");
  if (access(path, F_OK) < 0)
    return 0;
  if (wj_load_file(path, 1u << 20, out, err) < 0)
    return -1;
  if (!json_is_object(*out) || !json_is_array(json_object_get(*out, "layers"))) {
    json_decref(*out);
    *out = NULL;
    return ward_error(err, 0, "%s: expected an object with a \"layers\" array", path);
  }
  return 0;
}

int action_rec_save(const struct ward_state *st, json_t *rec, const char *state, ward_error_t *err)
{
  _cleanup_free_ char *path = ward_state_path(st, WARD_ACTION_FILE);
  json_object_set_new(rec, "state", json_string(state));
  _cleanup_free_ char *text = json_dumps(rec, JSON_INDENT(2) | JSON_SORT_KEYS);
  if (path == NULL || text == NULL)
    return ward_error(err, ENOMEM, "action record");
  return ward_write_file_atomic(path, text, strlen(text), 0600, err);
}

static void rec_remove(const struct ward_state *st)
{
  _cleanup_free_ char *path = ward_state_path(st, WARD_ACTION_FILE);
  if (path)
    unlink(path);
}

static char *join_layers(json_t *layers, const char *(*fn)(json_t *), bool reverse)
{
  size_t n = json_array_size(layers);
  char *s = strdup("");
  for (size_t k = 0; s && k < n; k++) {
    json_t *l = json_array_get(layers, reverse ? n - 1 - k : k);
    char *t = NULL;
    if (asprintf(&t, "%s%s%s", s, k ? ", " : "", fn(l)) < 0)
      t = NULL;
    free(s);
    s = t;
  }
  return s;
}

/* Undoes the record's layers, newest first, dropping each one undone.
 * Returns 0 when all are gone; otherwise err says what failed and the
 * remaining layers stay in rec. */
static int undo_all(const struct ward_state *st, json_t *rec, json_t *undone, ward_error_t *err)
{
  json_t *layers = json_object_get(rec, "layers");
  int rc = 0;
  for (size_t k = json_array_size(layers); k-- > 0;) {
    json_t *l = json_array_get(layers, k);
    _cleanup_error_ ward_error_t e = NULL;
    if (layer_undo(st, l, &e) < 0) {
      if (rc == 0)
        ward_error(err, 0, "%s", e->msg);
      rc = -1;
      continue;
    }
    if (undone)
      json_array_append_new(undone, json_string(layer_describe(l)));
    json_array_remove(layers, k);
  }
  return rc;
}

int action_rollback(const struct ward_state *st, json_t *rec, const char *what, ward_error_t *err)
{
  _cleanup_free_ char *cause = strdup(*err ? (*err)->msg : "failed");
  json_t *layers = json_object_get(rec, "layers");
  _cleanup_free_ char *done = join_layers(layers, layer_describe, false);
  bool any = json_array_size(layers) > 0;
  _cleanup_error_ ward_error_t uerr = NULL;
  if (undo_all(st, rec, NULL, &uerr) == 0) {
    rec_remove(st);
    if (!any)
      return ward_error(err, 0, "%s: %s", what, cause);
    return ward_error(err, 0, "%s: %s, then failed: %s; rolled back", what, done, cause);
  }
  _cleanup_error_ ward_error_t serr = NULL;
  action_rec_save(st, rec, "partial", &serr);
  _cleanup_free_ char *left = join_layers(layers, layer_left, false);
  return ward_error(err, 0, "%s: %s, then failed: %s; rollback failed: %s; %s", what, done, cause, uerr->msg, left);
}

/* --- kill --- */

static char *comm_of(pid_t pid)
{
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/comm", (int) pid);
  char *buf = NULL;
  _cleanup_error_ ward_error_t ignored = NULL;
  if (ward_read_file(path, 64, &buf, NULL, &ignored) < 0)
    return strdup("?");
  buf[strcspn(buf, "\n")] = 0;
  return buf;
}

/* The record is written before the signal: once the init dies, the
 * process that started the container removes the state directory, and a
 * write racing with that removal would leave a stray directory behind. */
static int do_kill(const struct ward_state *st, const struct ward_action_opts *o, json_t *prev, json_t *report,
                   ward_error_t *err)
{
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  if (action_container_pids(st, &pids, &n, err) < 0)
    return ward_error_prefix(err, "kill: list the container's processes");
  json_t *killed = json_array();
  json_object_set_new(report, "killed", killed);
  for (size_t i = 0; i < n; i++) {
    _cleanup_free_ char *comm = comm_of(pids[i]);
    json_array_append_new(killed, json_pack("{s:i, s:s}", "pid", (int) pids[i], "comm", comm));
  }
  _cleanup_free_ char *since = ward_rfc3339_dup(0);
  _cleanup_json_ json_t *rec = json_pack("{s:s, s:s, s:s, s:[], s:O}", "action", "kill", "since", since ? since : "",
                                         "reason", o->reason ? o->reason : "", "layers", "killed", killed);
  if (action_rec_save(st, rec, "done", err) < 0)
    return ward_error_prefix(err, "kill: record");
  bool cg = st->cgroup && st->cgroup->mode != WARD_CGROUP_NONE;
  if (cg) {
    json_object_set_new(report, "method", json_string("cgroup"));
    if (ward_cgroup_kill(st->cgroup, SIGKILL, err) < 0)
      return ward_error_prefix(err, "kill: cgroup");
    /* v1 freezer: a frozen task dies only once thawed */
    if (ward_cgroup_is_frozen(st->cgroup) == 1 && ward_cgroup_freeze(st->cgroup, false, err) < 0)
      return ward_error_prefix(err, "kill: signalled, but thawing the frozen cgroup failed; processes wait frozen");
  } else if (action_own_ns(st->pid, "pid")) {
    /* the pid namespace dies with its init */
    json_object_set_new(report, "method", json_string("pid namespace init"));
    if (kill(st->pid, SIGKILL) < 0 && errno != ESRCH)
      return ward_error_sys(err, "kill: init %d", (int) st->pid);
  } else {
    json_object_set_new(report, "method", json_string("each process"));
    for (size_t i = 0; i < n; i++)
      kill(pids[i], SIGKILL);
  }
  /* report once everything is gone (or say what is not) */
  size_t left = n;
  for (int i = 0; i < 2500 && left > 0; i++) {
    _cleanup_free_ pid_t *now = NULL;
    _cleanup_error_ ward_error_t ignored = NULL;
    if (action_container_pids(st, &now, &left, &ignored) < 0)
      left = 0;
    else if (left > 0)
      usleep(2000);
  }
  json_object_set_new(report, "count", json_integer((json_int_t) n));
  json_object_set_new(report, "remaining", json_integer((json_int_t) left));
  /* of the action in effect before, only the sink outlives the namespaces */
  size_t k;
  json_t *l;
  json_array_foreach(prev ? json_object_get(prev, "layers") : NULL, k, l) {
    const char *name = json_string_value(json_object_get(l, "layer"));
    _cleanup_error_ ward_error_t serr = NULL;
    if (name && strcmp(name, "sink") == 0) {
      if (sink_stop(l, &serr) < 0)
        json_array_append_new(json_object_get(report, "warnings"), json_string(serr->msg));
      else
        json_array_append_new(json_object_get(report, "done"), json_string("stopped the honeypot sink"));
    }
  }
  if (left > 0)
    return ward_error(err, 0, "kill: signalled %zu processes, %zu still present after 5 s", n, left);
  return 0;
}

/* --- entry points --- */


static bool same_action(json_t *rec, enum ward_action_kind kind, const struct ward_action_opts *o)
{
  const char *a = json_string_value(json_object_get(rec, "action"));
  if (a == NULL || strcmp(a, ward_action_kind_name(kind)) != 0)
    return false;
  if (kind != WARD_ACTION_QUARANTINE)
    return true;
  const char *form = json_string_value(json_object_get(rec, "form"));
  return form && strcmp(form, o->freeze ? "freeze" : "nonet") == 0 &&
         (o->freeze || json_is_true(json_object_get(rec, "loopback")) == o->allow_loopback);
}

int ward_action_run(const char *root, const char *id, enum ward_action_kind kind, const struct ward_action_opts *o,
                    ward_error_t *err)
{
  static const struct ward_action_opts defaults = {.freeze = true, .allow_loopback = true};
  if (o == NULL)
    o = &defaults;
  if ((unsigned) kind >= WARD_ACTION_COUNT)
    return ward_error(err, 0, "unknown action %d", (int) kind);
  if (kind == WARD_ACTION_SNAPSHOT)
    return ward_snapshot_take(root, id, o->snapshot_path, o->snapshot, o->report, err);
  _cleanup_state_ struct ward_state *st = NULL;
  if (action_load_running(root, id, &st, err) < 0)
    return ward_error_prefix(err, "%s", ward_action_kind_name(kind));
  _cleanup_close_ int lock = ward_state_lock(st->dir, err);
  if (lock < 0)
    return -1;
  _cleanup_json_ json_t *prev = NULL;
  if (rec_load(st, &prev, err) < 0)
    return -1;
  _cleanup_json_ json_t *report = json_pack("{s:s, s:s, s:[], s:[]}", "id", id, "action", ward_action_kind_name(kind),
                                             "done", "warnings");
  json_t *done = json_object_get(report, "done");
  const char *prev_action = prev ? json_string_value(json_object_get(prev, "action")) : NULL;
  if (prev_action && strcmp(prev_action, "kill") == 0) {
    json_decref(prev);
    prev = NULL;
  }
  int rc = 0;
  if (kind == WARD_ACTION_RESUME) {
    if (prev == NULL)
      return ward_error(err, 0, "resume: container \"%s\" has no action in effect", id);
    json_object_set(report, "resumed", json_object_get(prev, "action"));
    if (undo_all(st, prev, done, err) < 0) {
      _cleanup_error_ ward_error_t serr = NULL;
      action_rec_save(st, prev, "partial", &serr);
      _cleanup_free_ char *left = join_layers(json_object_get(prev, "layers"), layer_left, false);
      _cleanup_free_ char *cause = strdup((*err)->msg);
      rc = ward_error(err, 0, "resume: %s; %s", cause ? cause : "failed", left);
    } else {
      rec_remove(st);
    }
  } else if (kind == WARD_ACTION_KILL) {
    rc = do_kill(st, o, prev, report, err);
    /* the container lives on: the action in effect before is still in
     * force, so its record (or none) comes back */
    if (rc < 0 && ward_state_pid_alive(st)) {
      _cleanup_error_ ward_error_t serr = NULL;
      if (prev)
        action_rec_save(st, prev, json_string_value(json_object_get(prev, "state")) ?: "active", &serr);
      else
        rec_remove(st);
    }
  } else if (prev && same_action(prev, kind, o)) {
    json_object_set_new(report, "already", json_true());
    if (json_object_get(prev, "form"))
      json_object_set(report, "form", json_object_get(prev, "form"));
    json_object_set(report, "since", json_object_get(prev, "since"));
  } else {
    if (prev) {
      json_object_set(report, "replaced", json_object_get(prev, "action"));
      if (undo_all(st, prev, done, err) < 0) {
        _cleanup_error_ ward_error_t serr = NULL;
        action_rec_save(st, prev, "partial", &serr);
        return ward_error_prefix(err, "%s: cannot undo the %s in effect first", ward_action_kind_name(kind),
                                 json_string_value(json_object_get(prev, "action")));
      }
      rec_remove(st);
    }
    _cleanup_free_ char *since = ward_rfc3339_dup(0);
    _cleanup_json_ json_t *rec = json_pack("{s:s, s:s, s:s, s:[]}", "action", ward_action_kind_name(kind), "since",
                                           since ? since : "", "reason", o->reason ? o->reason : "", "layers");
    rc = action_apply(st, kind, o, rec, report, err);
  }
  if (o->report)
    *o->report = json_incref(report);
  return rc;
}

int ward_action_status(const char *root, const char *id, json_t **out, ward_error_t *err)
{
  _cleanup_state_ struct ward_state *st = NULL;
  if (ward_state_load(root, id, &st, err) < 0)
    return -1;
  _cleanup_json_ json_t *rec = NULL;
  if (rec_load(st, &rec, err) < 0)
    return -1;
  if (rec == NULL)
    rec = json_pack("{s:s, s:[]}", "action", "none", "layers");
  json_object_set_new(rec, "id", json_string(id));
  json_object_set_new(rec, "status", json_string(ward_status_name(ward_state_status(st))));
  /* the live state of each layer, not only what was recorded */
  json_t *l;
  size_t k;
  json_array_foreach(json_object_get(rec, "layers"), k, l) {
    const char *name = json_string_value(json_object_get(l, "layer"));
    if (name && strcmp(name, "freeze") == 0 && st->cgroup)
      json_object_set_new(l, "frozen_now", json_boolean(ward_cgroup_is_frozen(st->cgroup) == 1));
    if (name && strcmp(name, "sink") == 0)
      json_object_set_new(l, "alive_now", json_boolean(sink_alive(l)));
    const char *control = json_string_value(json_object_get(l, "control"));
    struct ward_control page;
    _cleanup_error_ ward_error_t ignored = NULL;
    if (name && strcmp(name, "control") == 0 && control && ward_control_read(control, &page, &ignored) == 0)
      json_object_set_new(l, "mode_now", json_integer(page.mode));
  }
  *out = steal_pointer(&rec);
  return 0;
}
