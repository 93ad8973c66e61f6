/* What the engine does with one event, and the supervisor's verdicts.
 *
 *   event -> metrics -> flight recorder -> policy:
 *              learn:   template learn, detector (training)
 *              monitor: template check, detector -> alerts
 *              protect: the same; denials happened in the probe/supervisor
 *            -> alert -> severity -> action
 *
 * The template, detector, flight recorder and actions come from the
 * template, detect and actions parts; see the INTEGRATION notes. */
#include "agent/engine_internal.h"
#include "agent/flight.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct pipeline {
  struct ward_flight *flight;
  /* INTEGRATION (template part): struct ward_template *tpl; compiled
   * ward_template_rules for the decide callback.
   * INTEGRATION (detect part): struct ward_detector *det. */
};

int pipeline_open(struct ctr *c, ward_error_t *err)
{
  c->pl = calloc(1, sizeof(*c->pl));
  if (c->pl == NULL)
    return ward_error(err, ENOMEM, "engine");
  if (ward_flight_open(c->state_dir, c->e->o.flight_capacity, &c->pl->flight, err) < 0)
    return ward_error_prefix(err, "container \"%s\": flight recorder", c->id);
  return 0;
}

void pipeline_close(struct ctr *c)
{
  if (c->pl == NULL)
    return;
  if (c->pl->flight)
    ward_flight_close(c->pl->flight);
  free(c->pl);
  c->pl = NULL;
}

static struct exe_slot *exe_slot(struct ctr *c, uint32_t pid) { return &c->exe[pid % EXE_SLOTS]; }

static const char *exe_of(struct ctr *c, uint32_t pid)
{
  struct exe_slot *s = exe_slot(c, pid);
  return s->pid == pid ? s->path : NULL;
}

static void note_exe(struct ctr *c, const struct ward_event *ev)
{
  if (ev->type != WARD_EV_EXEC || ev->denied || ev->ret < 0 || !ev->path[0])
    return;
  struct exe_slot *s = exe_slot(c, ev->pid);
  s->pid = ev->pid;
  size_t n = strnlen(ev->path, sizeof(s->path) - 1);
  memcpy(s->path, ev->path, n);
  s->path[n] = 0;
}

static uint64_t alert_key(const struct ward_event *ev, const char *rule)
{
  uint64_t h = 1469598103934665603ull;
  for (const char *p = rule; *p; p++)
    h = (h ^ (uint8_t) *p) * 1099511628211ull;
  if (ev) {
    h = (h ^ ev->pid) * 1099511628211ull;
    h = (h ^ ev->type) * 1099511628211ull;
    for (const char *p = ev->path; *p; p++)
      h = (h ^ (uint8_t) *p) * 1099511628211ull;
    h = (h ^ ev->port) * 1099511628211ull;
  }
  return h;
}

static void run_action(struct ctr *c, enum ward_policy_action a)
{
  if (a == WARD_PACT_NONE)
    return;
  /* INTEGRATION (actions part): ward_action_run(c->e->o.state_root, c->id,
   * kind, &opts, &err) with kind from a; counted in st.actions or
   * st.action_errors. Until the actions part is merged, no action runs and
   * the alert says "unavailable". */
  c->st.action_errors++;
}

void pipeline_alert(struct ctr *c, const struct ward_event *ev, const char *rule, enum ward_severity sev,
                    const char *detail)
{
  /* A dynamically linked program's exec or connect is seen twice: by the
   * probe in the caller and by the supervisor. One alert is enough. */
  uint64_t key = alert_key(ev, rule), now = ward_now_ns();
  if (key == c->last_alert_key && now - c->last_alert_ns < 100000000ull)
    return;
  c->last_alert_key = key;
  c->last_alert_ns = now;
  c->st.alerts++;
  enum ward_policy_action act = c->policy->on_severity[(unsigned) sev < WARD_SEV_COUNT ? sev : WARD_SEV_CRITICAL];
  char action[64];
  snprintf(action, sizeof(action), "%s", ward_policy_action_name(act));
  struct ward_alert a = {
    .container = c->id, .app = c->app, .ev = ev, .exe = ev ? exe_of(c, ev->pid) : NULL, .rule = rule,
    .severity = sev, .detail = detail, .action = action, .denied = ev && ev->denied,
  };
  ward_alert_emit(c->alerts, &a);
  run_action(c, act);
}

void pipeline_event(struct ctr *c, const struct ward_event *ev)
{
  c->st.events++;
  if (ev->denied)
    c->st.denied++;
  ward_flight_append(c->pl->flight, ev);
  switch (c->policy->mode) {
  case WARD_MODE_OFF:
    break;
  case WARD_MODE_LEARN:
    /* INTEGRATION (template part): ward_template_learn(tpl, ev, exe_fd). */
    break;
  case WARD_MODE_MONITOR:
  case WARD_MODE_PROTECT:
    /* INTEGRATION (template part): ward_template_check(tpl, ev, &dev) ->
     * pipeline_alert(c, ev, dev.rule, dev.severity, dev.detail). */
    break;
  default:
    break;
  }
  /* INTEGRATION (detect part): ward_detector_event(det, ev, on_detection, c)
   * when policy->detect and the mode is not off. */
  note_exe(c, ev);
  if (c->e->o.tap)
    c->e->o.tap(c->e->o.opaque, ev);
}

void pipeline_sink(void *opaque, const struct ward_event *ev)
{
  pipeline_event(opaque, ev);
}

static bool loopback(const struct ward_event *ev)
{
  if (ev->family == AF_INET)
    return ev->addr[0] == 127;
  if (ev->family == AF_INET6) {
    static const uint8_t lo6[16] = {[15] = 1};
    static const uint8_t v4mapped[12] = {[10] = 0xff, [11] = 0xff};
    return memcmp(ev->addr, lo6, 16) == 0 || (memcmp(ev->addr, v4mapped, 12) == 0 && ev->addr[12] == 127);
  }
  return false;
}

/* Runs while the target waits: table look-ups only, no I/O. The control
 * page's mode is read on every call so `ward action ID quarantine` (which
 * sets it) makes the supervisor start denying at once. */
void pipeline_decide(void *opaque, const struct ward_supervisor_call *call, struct ward_supervisor_verdict *v)
{
  struct ctr *c = opaque;
  uint32_t mode = c->ctl ? __atomic_load_n(&c->ctl->mode, __ATOMIC_ACQUIRE) : 0;
  const struct ward_event *ev = call->ev;
  bool inet = ev->family == AF_INET || ev->family == AF_INET6;
  if ((mode & (WARD_CTL_MODE_QUARANTINE | WARD_CTL_MODE_RESTRICT)) && ev->type == WARD_EV_CONNECT && inet &&
      !loopback(ev)) {
    v->action = WARD_SV_DENY;
    v->error = EACCES;
    return;
  }
  /* INTEGRATION (template part): in protect mode (policy or control page),
   * deny exec of a path outside rules.supervisor_exec_allow and inet
   * connects to ports outside rules.connect_ports. */
}
