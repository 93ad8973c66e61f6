/* Applying quarantine, restrict and honeypot layer by layer. Each layer is
 * recorded (action.json) as soon as it is in place, so a failure further on
 * (or a crash of this process) can be undone precisely. Which layer does
 * what is in docs/actions.md. */
#include "agent/action_internal.h"

#include "cgroup/cgroup.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "probe/control.h"
#include "probe/event.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct apply {
  const struct ward_state *st;
  json_t *rec, *report;
  const char *what;
  char *control;
};

static void warn(struct apply *a, const char *msg)
{
  json_array_append_new(json_object_get(a->report, "warnings"), json_string(msg));
}

static int push(struct apply *a, json_t *layer, ward_error_t *err)
{
  json_array_append_new(json_object_get(a->report, "done"), json_string(layer_describe(layer)));
  json_array_append_new(json_object_get(a->rec, "layers"), layer);
  return action_rec_save(a->st, a->rec, "applying", err);
}

static int fail(struct apply *a, ward_error_t *err)
{
  return action_rollback(a->st, a->rec, a->what, err);
}

/* mode bits to keep across an action: protect mode's tables stay in force */
static int mode_layer(struct apply *a, uint32_t add, bool sink, ward_error_t *err)
{
  struct ward_control page;
  if (ward_control_read(a->control, &page, err) < 0)
    return -1;
  uint32_t mode = (page.mode & WARD_CTL_MODE_PROTECT) | add;
  if (ctl_set_mode(a->control, mode, err) < 0)
    return -1;
  char text[128], describe[160];
  snprintf(describe, sizeof(describe), "set the control page mode to %s",
           ward_control_mode_format(mode, text, sizeof(text)));
  json_t *layer = json_pack("{s:s, s:s, s:I, s:I, s:b, s:s}", "layer", "control", "control", a->control, "mode_before",
                            (json_int_t) page.mode, "mode", (json_int_t) mode, "sink", sink, "describe", describe);
  return push(a, layer, err);
}

static int quarantine_freeze(struct apply *a, ward_error_t *err)
{
  const struct ward_cgroup *cg = a->st->cgroup;
  if (cg == NULL || cg->mode == WARD_CGROUP_NONE)
    return ward_error(err, 0, "quarantine: container \"%s\" has no cgroup (rootless without delegation), so it cannot "
                              "be frozen: use --form nonet", a->st->id);
  if (ward_cgroup_freeze(cg, true, err) < 0)
    return fail(a, err);
  if (push(a, json_pack("{s:s}", "layer", "freeze"), err) < 0)
    return fail(a, err);
  if (ward_cgroup_is_frozen(cg) != 1) {
    ward_error(err, 0, "the freezer does not report the cgroup frozen");
    return fail(a, err);
  }
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  if (ward_cgroup_pids(cg, &pids, &n, err) == 0)
    json_object_set_new(a->report, "frozen", json_integer((json_int_t) n));
  ward_error_free(err);
  return 0;
}

static int quarantine_nonet(struct apply *a, bool loopback, ward_error_t *err)
{
  json_object_set_new(a->rec, "loopback", json_boolean(loopback));
  if (action_own_ns(a->st->pid, "net")) {
    json_t *layer = NULL;
    int rc = netns_cut(a->st->pid, loopback, &layer, err);
    if (layer) {
      _cleanup_error_ ward_error_t perr = NULL;
      if (push(a, layer, &perr) < 0 && rc == 0) {
        ward_error(err, 0, "%s", perr->msg);
        rc = -1;
      }
    }
    if (rc < 0)
      return fail(a, err);
  } else {
    warn(a, "the container shares the host's network namespace: no host-side cut, only the probes and the "
            "supervisor deny");
  }
  if (a->control) {
    if (mode_layer(a, WARD_CTL_MODE_QUARANTINE | (loopback ? 0 : WARD_CTL_MODE_NO_LOOPBACK), false, err) < 0) {
      return fail(a, err);
    }
  } else {
    warn(a, "the container runs without probes: writes outside /tmp are not denied");
  }
  if (json_array_size(json_object_get(a->rec, "layers")) == 0)
    return ward_error(err, 0, "quarantine: container \"%s\" shares the host's network namespace and has no probe "
                              "control page: nothing can cut its network; use --form freeze", a->st->id);
  return 0;
}

static int restrict_(struct apply *a, ward_error_t *err)
{
  if (mode_layer(a, WARD_CTL_MODE_RESTRICT, false, err) < 0)
    return fail(a, err);
  return 0;
}

static int honeypot(struct apply *a, ward_error_t *err)
{
  json_t *layer = NULL;
  uint16_t port = 0;
  if (sink_start(a->st, &layer, &port, err) < 0)
    return fail(a, err);
  if (push(a, layer, err) < 0)
    return fail(a, err);
  json_object_set_new(a->report, "sink", json_pack("{s:s, s:i}", "addr", "127.0.0.1", "port", (int) port));

  /* entering honeypot mode, the control page itself saves the probe
   * groups and stack settings and turns everything on; leaving restores */
  struct ward_ctl_addr sink = {.family = AF_INET, .port = port, .prefix = 32};
  struct in_addr lo = {htonl(INADDR_LOOPBACK)};
  memcpy(sink.addr, &lo, sizeof(lo));
  if (ctl_set_sink(a->control, &sink, err) < 0 || mode_layer(a, WARD_CTL_MODE_HONEYPOT, true, err) < 0)
    return fail(a, err);
  return 0;
}

int action_apply(const struct ward_state *st, enum ward_action_kind kind, const struct ward_action_opts *o,
                 json_t *rec, json_t *report, ward_error_t *err)
{
  _cleanup_free_ char *control = action_control_path(st);
  struct apply a = {.st = st, .rec = rec, .report = report, .what = ward_action_kind_name(kind), .control = control};
  if ((kind == WARD_ACTION_RESTRICT || kind == WARD_ACTION_HONEYPOT) && control == NULL)
    return ward_error(err, 0, "%s: container \"%s\" runs without probes (no control page): nothing to %s in-process",
                      a.what, st->id, kind == WARD_ACTION_RESTRICT ? "restrict" : "watch");
  int rc;
  switch (kind) {
  case WARD_ACTION_QUARANTINE:
    json_object_set_new(rec, "form", json_string(o->freeze ? "freeze" : "nonet"));
    json_object_set_new(report, "form", json_string(o->freeze ? "freeze" : "nonet"));
    rc = o->freeze ? quarantine_freeze(&a, err) : quarantine_nonet(&a, o->allow_loopback, err);
    break;
  case WARD_ACTION_RESTRICT:
    rc = restrict_(&a, err);
    break;
  case WARD_ACTION_HONEYPOT:
    rc = honeypot(&a, err);
    break;
  default:
    return ward_error(err, 0, "%s is not applied in layers", a.what);
  }
  if (rc < 0)
    return -1;
  if (action_rec_save(st, rec, "active", err) < 0)
    return ward_error_prefix(err, "%s: applied, but the record could not be written", a.what);
  return 0;
}
