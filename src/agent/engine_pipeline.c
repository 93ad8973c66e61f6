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
#include "agent/action.h"
#include "agent/detect.h"
#include "agent/flight.h"
#include "agent/template.h"
#include "common/log.h"
#include "probe/control.h"
#include "probe/prepare.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <libgen.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct pipeline {
  struct ward_flight *flight;
  struct ward_template *tpl;             /* learn: being learned; monitor/protect: checked against */
  struct ward_template_tracker *tracker; /* this container's process tree */
  struct ward_detector *det;
  struct ward_template_rules rules;      /* protect: for the decide callback */
  bool have_rules;
  int root_fd;                           /* /proc/PID/root: hashes, detector */
};

static void on_detection(void *opaque, const struct ward_event *ev, const struct ward_detection *d)
{
  pipeline_alert(opaque, ev, d->rule, d->severity, d->detail, false);
}

static char *template_base_name(const char *path)
{
  const char *slash = strrchr(path, '/');
  const char *b = slash ? slash + 1 : path;
  size_t n = strcspn(b, ".");
  return n ? strndup(b, n) : NULL;
}

static int open_template(struct ctr *c, ward_error_t *err)
{
  struct pipeline *pl = c->pl;
  const struct ward_policy *p = c->policy;
  struct stat st;
  bool exists = p->template_path && stat(p->template_path, &st) == 0;
  if (p->mode == WARD_MODE_LEARN) {
    /* learn into a fresh template named like the one it will merge into */
    _cleanup_template_ struct ward_template *old = NULL;
    if (exists && ward_template_load(p->template_path, &old, err) < 0)
      return -1;
    /* replicas learning at once must agree on the name without having
     * seen each other's file: the policy's, the file's, else the file's
     * base name ("web" for web.yaml) */
    _cleanup_free_ char *base = NULL;
    const char *app = c->app_explicit ? c->app : old ? ward_template_app(old) : (base = template_base_name(p->template_path));
    pl->tpl = ward_template_new(app ? app : c->app);
  } else {
    if (ward_template_load(p->template_path, &pl->tpl, err) < 0)
      return -1;
  }
  pl->tracker = ward_template_tracker_new();
  if (pl->tpl == NULL || pl->tracker == NULL)
    return ward_error(err, ENOMEM, "template");
  /* alerts name the application as the template does */
  if (!c->app_explicit) {
    char *app = strdup(ward_template_app(pl->tpl));
    if (app) {
      free(c->app);
      c->app = app;
    }
  }
  return 0;
}

/* Protect: the probe tables and mode on the control page, the rules for the
 * supervisor. The seccomp and Landlock layers were compiled before the
 * container started (engine_local.c / the registering client). */
static int open_protect(struct ctr *c, ward_error_t *err)
{
  struct pipeline *pl = c->pl;
  if (ward_template_compile_at(pl->tpl, pl->root_fd >= 0 ? pl->root_fd : AT_FDCWD, &pl->rules, err) < 0)
    return ward_error_prefix(err, "%s", c->policy->template_path);
  pl->have_rules = true;
  _cleanup_free_ char *ctl = ctr_run_path(c, WARD_STATE_PROBE "/" WARD_PROBE_CONTROL);
  struct stat st;
  if (ctl == NULL || stat(ctl, &st) < 0)
    return 0;  /* probes off: the supervisor and the kernel layers remain */
  struct ward_control_policy cp = {
    .deny_paths = (const char *const *) pl->rules.deny_paths, .n_deny_paths = ward_strv_len(pl->rules.deny_paths),
    .connect_ports = pl->rules.connect_ports, .n_connect_ports = pl->rules.n_connect_ports,
    .connect_allowlist = pl->rules.connect_allowlist, .deny_errno = EACCES,
  };
  if (cp.n_deny_paths > WARD_CTL_DENY_PATHS) {
    ward_warn("container \"%s\": %zu deny paths, the probe holds the first %d", c->id, cp.n_deny_paths, WARD_CTL_DENY_PATHS);
    cp.n_deny_paths = WARD_CTL_DENY_PATHS;
  }
  if (cp.n_connect_ports > WARD_CTL_CONNECT_PORTS) {
    /* an incomplete allow-list would deny learned ports: leave it to the supervisor */
    cp.n_connect_ports = 0;
    cp.connect_allowlist = false;
  }
  uint32_t mode = 0;
  if (ward_control_set_policy(ctl, &cp, err) < 0 || ward_control_get_mode(ctl, &mode, err) < 0 ||
      ward_control_set_mode(ctl, mode | WARD_CTL_MODE_PROTECT, err) < 0)
    return ward_error_prefix(err, "container \"%s\": control page", c->id);
  return 0;
}

/* The policy's thresholds override the learned ones: a copy of the
 * template's model with the thresholds replaced (the detector's model
 * format, src/agent/model_*.c). */
static json_t *model_with_thresholds(json_t *model, const struct ward_policy_thresholds *t)
{
  json_t *m = model ? json_deep_copy(model) : json_object();
  if (m == NULL)
    return NULL;
  json_t *seq = json_object_get(m, "sequence");
  if (t->sequence > 0 && json_is_object(seq))
    json_object_set_new(seq, "threshold", json_real(t->sequence));
  const struct { const char *name; uint32_t v; } rates[] = {
    {"exec", t->exec_per_s}, {"connect", t->connect_per_s}, {"file_create", t->file_create_per_s},
  };
  for (size_t i = 0; i < ARRAY_SIZE(rates); i++) {
    if (rates[i].v == 0)
      continue;
    json_t *rate = json_object_get(m, "rate");
    if (!json_is_object(rate)) {
      rate = json_pack("{s:s}", "kind", "ward-rate");
      json_object_set_new(m, "rate", rate);
    }
    json_t *k = json_object_get(rate, rates[i].name);
    if (!json_is_object(k)) {
      k = json_pack("{s:i}", "max", 0);
      json_object_set_new(rate, rates[i].name, k);
    }
    json_object_set_new(k, "threshold", json_integer(rates[i].v));
  }
  return m;
}

int pipeline_open(struct ctr *c, ward_error_t *err)
{
  c->pl = calloc(1, sizeof(*c->pl));
  if (c->pl == NULL)
    return ward_error(err, ENOMEM, "engine");
  struct pipeline *pl = c->pl;
  pl->root_fd = -1;
  _cleanup_free_ char *path = ctr_run_path(c, WARD_FLIGHT_FILE);
  if (path == NULL)
    return ward_error(err, ENOMEM, "engine");
  if (ward_flight_open_path(path, c->e->o.flight_capacity, 0, &pl->flight, err) < 0)
    return ward_error_prefix(err, "container \"%s\": flight recorder", c->id);
  return 0;
}

int pipeline_arm(struct ctr *c, ward_error_t *err)
{
  struct pipeline *pl = c->pl;
  const struct ward_policy *p = c->policy;
  /* mode off still runs the injected-code rules (on by default; they need
   * no template or model); only a policy with detect: false goes without */
  if (p->mode == WARD_MODE_OFF && !p->detect)
    return 0;
  if (c->pid > 0) {
    char root[64];
    snprintf(root, sizeof(root), "/proc/%d/root", (int) c->pid);
    pl->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  }
  if (p->template_path && open_template(c, err) < 0)
    return -1;
  if (p->detect) {
    struct ward_detect_config dc = {.root_fd = pl->root_fd, .started = c->started,
                                    .model = pl->tpl ? ward_template_model(pl->tpl) : NULL,
                                    .learn = p->mode == WARD_MODE_LEARN};
    const struct ward_policy_thresholds *t = &p->thresholds;
    bool override = t->sequence > 0 || t->exec_per_s || t->connect_per_s || t->file_create_per_s;
    _cleanup_json_ json_t *tuned = NULL;
    if (p->mode == WARD_MODE_LEARN)
      dc.model = NULL;
    else if (override && (tuned = model_with_thresholds(dc.model, t)) != NULL)
      dc.model = tuned;
    if (ward_detector_new(&dc, &pl->det, err) < 0)
      return ward_error_prefix(err, "%s: model", p->template_path ? p->template_path : "detector");
  }
  if (p->mode == WARD_MODE_PROTECT && pl->tpl && open_protect(c, err) < 0)
    return -1;
  return 0;
}

/* Learn: the new template, with the detector's model, merged into the file
 * it names (created when missing). */
static int save_learned(struct ctr *c, ward_error_t *err)
{
  struct pipeline *pl = c->pl;
  const char *path = c->policy->template_path;
  if (pl->det) {
    json_t *model = ward_detector_model(pl->det);
    if (model) {
      ward_template_set_model(pl->tpl, model);
      json_decref(model);
    }
  }
  /* replicas learning into one file merge one after the other: an flock
   * on the template's directory (no lock file left beside it) */
  _cleanup_free_ char *dir = strdup(path);
  if (dir == NULL)
    return ward_error(err, ENOMEM, "template");
  _cleanup_close_ int lock = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lock < 0 || flock(lock, LOCK_EX) < 0)
    return ward_error_sys(err, "lock the directory of %s", path);
  struct stat st;
  if (stat(path, &st) < 0)
    return ward_template_save(pl->tpl, path, err);
  _cleanup_template_ struct ward_template *old = NULL;
  if (ward_template_load(path, &old, err) < 0 || ward_template_merge(old, pl->tpl, err) < 0)
    return ward_error_prefix(err, "merge into %s", path);
  return ward_template_save(old, path, err);
}

void pipeline_close(struct ctr *c)
{
  struct pipeline *pl = c->pl;
  if (pl == NULL)
    return;
  /* a container never served (its create or its set-up failed) taught
   * nothing: the template it would overwrite stays as it is */
  if (c->policy->mode == WARD_MODE_LEARN && pl->tpl && c->policy->template_path && c->served) {
    _cleanup_error_ ward_error_t err = NULL;
    if (save_learned(c, &err) < 0) {
      ward_warn("container \"%s\": template not saved: %s", c->id, err->msg);
      c->e->finalize_errors++;
    }
  }
  if (pl->flight)
    ward_flight_close(pl->flight);
  if (pl->det)
    ward_detector_free(pl->det);
  if (pl->tracker)
    ward_template_tracker_free(pl->tracker);
  if (pl->tpl)
    ward_template_free(pl->tpl);
  if (pl->have_rules)
    ward_template_rules_free(&pl->rules);
  if (pl->root_fd >= 0)
    close(pl->root_fd);
  free(pl);
  c->pl = NULL;
}

static struct exe_slot *exe_slot(struct ctr *c, uint32_t pid) { return &c->exe[pid % EXE_SLOTS]; }

static const char *exe_of(struct ctr *c, uint32_t pid)
{
  struct exe_slot *s = exe_slot(c, pid);
  return s->pid == pid ? s->path : NULL;
}

/* What a process runs: set by its exec (the supervisor's report when there
 * is a supervisor, since the probe writes before the call and cannot know
 * whether it succeeds), inherited over fork. */
static void note_exe(struct ctr *c, const struct ward_event *ev)
{
  if ((ev->type == WARD_EV_FORK || ev->type == WARD_EV_CLONE) && ev->ret > 0) {
    const char *parent = exe_of(c, ev->pid);
    if (parent == NULL)
      return;
    struct exe_slot *s = exe_slot(c, (uint32_t) ev->ret);
    if (s == exe_slot(c, ev->pid))
      return;
    s->pid = (uint32_t) ev->ret;
    memcpy(s->path, parent, sizeof(s->path));
    return;
  }
  if (ev->type != WARD_EV_EXEC || ev->denied || ev->ret < 0 || !ev->path[0])
    return;
  if (c->sv && ev->source == WARD_SRC_PROBE)
    return;
  struct exe_slot *s = exe_slot(c, ev->pid);
  s->pid = ev->pid;
  size_t n = strnlen(ev->path, sizeof(s->path) - 1);
  memcpy(s->path, ev->path, n);
  s->path[n] = 0;
}

static const int action_kind[WARD_PACT_COUNT] = {
  [WARD_PACT_NONE] = -1, [WARD_PACT_KILL] = WARD_ACTION_KILL, [WARD_PACT_QUARANTINE] = WARD_ACTION_QUARANTINE,
  [WARD_PACT_RESTRICT] = WARD_ACTION_RESTRICT, [WARD_PACT_HONEYPOT] = WARD_ACTION_HONEYPOT,
  [WARD_PACT_SNAPSHOT] = WARD_ACTION_SNAPSHOT,
};

/* Runs on the engine's thread: kill, quarantine, restrict and honeypot are
 * a few writes (cgroup, control page); a snapshot is bounded by its own
 * limits. Each containing action is taken once per container (a flood of
 * alerts must not re-quarantine a quarantined container); snapshots at most
 * every 10 s. Returns the action's name as reported in the alert. */
static const char *run_action(struct ctr *c, enum ward_policy_action a, const char *rule, enum ward_severity sev)
{
  if (a == WARD_PACT_NONE || (unsigned) a >= WARD_PACT_COUNT)
    return "none";
  uint64_t now = ward_now_ns();
  if (a == WARD_PACT_SNAPSHOT ? now - c->last_snapshot_ns < 10000000000ull && c->last_snapshot_ns
                              : (c->actions_taken & (1u << a)) != 0)
    return ward_policy_action_name(a);  /* already in effect */
  if (c->e->o.state_root == NULL) {
    c->st.action_errors++;
    return "unavailable";
  }
  char reason[128];
  snprintf(reason, sizeof(reason), "rule %s (%s)", rule, ward_severity_name(sev));
  struct ward_action_opts o = {.freeze = c->policy->quarantine_freeze, .allow_loopback = true, .reason = reason};
  _cleanup_error_ ward_error_t err = NULL;
  if (ward_action_run(c->e->o.state_root, c->id, (enum ward_action_kind) action_kind[a], &o, &err) < 0) {
    ward_warn("container \"%s\": action %s: %s", c->id, ward_policy_action_name(a), err->msg);
    c->st.action_errors++;
    return "failed";
  }
  c->st.actions++;
  if (a == WARD_PACT_SNAPSHOT)
    c->last_snapshot_ns = now;
  else
    c->actions_taken |= 1u << a;
  return ward_policy_action_name(a);
}

void pipeline_alert(struct ctr *c, const struct ward_event *ev, const char *rule, enum ward_severity sev,
                    const char *detail, bool denied)
{
  c->st.alerts++;
  enum ward_policy_action act = c->policy->on_severity[(unsigned) sev < WARD_SEV_COUNT ? sev : WARD_SEV_CRITICAL];
  /* the action first: the alert line says what was done */
  const char *action = run_action(c, act, rule, sev);
  struct ward_alert a = {
    .container = c->id, .app = c->app, .ev = ev, .exe = ev ? exe_of(c, ev->pid) : NULL, .rule = rule,
    .severity = sev, .detail = detail, .action = action, .denied = denied || (ev && ev->denied),
  };
  ward_alert_emit(c->alerts, &a);
}

/* The executed file, for the template's content hash (learn only). */
static int open_exe(struct ctr *c, const struct ward_event *ev)
{
  if (ev->type != WARD_EV_EXEC || ev->denied || ev->ret < 0 || ev->path[0] != '/' || c->pl->root_fd < 0)
    return -1;
  return ward_open_in_root(c->pl->root_fd, ev->path, O_RDONLY | O_NOCTTY | O_NONBLOCK, RESOLVE_NO_MAGICLINKS);
}

/* A refusal shows as denied (probe tables, supervisor) or, for the kernel
 * layers (Landlock, the template's seccomp filter), as EACCES/EPERM in
 * protect mode. The template treats a refused call as harmless; the engine
 * still reports it, under the rule the call would have broken. */
static bool refused(const struct ctr *c, const struct ward_event *ev)
{
  return ev->denied || (c->policy->mode == WARD_MODE_PROTECT && (ev->ret == -EACCES || ev->ret == -EPERM));
}

static void check_event(struct ctr *c, const struct ward_event *ev)
{
  struct pipeline *pl = c->pl;
  struct ward_deviation dev;
  /* With a supervisor, a dynamically linked program's exec and connect are
   * reported twice: by the probe before the call and by the supervisor with
   * the verdict. The supervisor's report is the one checked. */
  if (c->sv && ev->source == WARD_SRC_PROBE && !ev->denied && (ev->type == WARD_EV_EXEC || ev->type == WARD_EV_CONNECT)) {
    ward_template_check_tracked(pl->tpl, pl->tracker, ev, &dev);  /* keeps the process tree */
    return;
  }
  if (!refused(c, ev)) {
    if (ward_template_check_tracked(pl->tpl, pl->tracker, ev, &dev) == 1)
      pipeline_alert(c, ev, dev.rule, dev.severity, dev.detail, false);
    return;
  }
  struct ward_event *as_allowed = malloc(sizeof(*as_allowed));
  if (as_allowed == NULL)
    return;
  *as_allowed = *ev;
  as_allowed->denied = false;
  if (as_allowed->ret < 0)
    as_allowed->ret = 0;
  if (ward_template_check_tracked(pl->tpl, pl->tracker, as_allowed, &dev) == 1)
    pipeline_alert(c, ev, dev.rule, dev.severity, dev.detail, true);
  free(as_allowed);
}

static bool exists_in_root(struct ctr *c, const char *path);

void pipeline_event(struct ctr *c, const struct ward_event *ev)
{
  struct pipeline *pl = c->pl;
  c->st.events++;
  if (ev->denied)
    c->st.denied++;
  ward_flight_append(pl->flight, ev);
  /* an exec of a missing file (a shell's PATH search) fails with ENOENT:
   * nothing ran, nothing to learn, check or note as the process's file */
  bool sv = ev->source == WARD_SRC_SUPERVISOR;
  if (sv && c->sv_missing_pending && c->sv_missing_tid == ev->tid)
    c->sv_missing = !exists_in_root(c, ev->path);
  bool missing = sv && c->sv_missing && c->sv_missing_tid == ev->tid;
  if (sv)
    c->sv_missing = c->sv_missing_pending = false;
  switch (missing ? WARD_MODE_OFF : c->policy->mode) {
  case WARD_MODE_LEARN:
    if (pl->tpl) {
      int fd = open_exe(c, ev);
      ward_template_learn_tracked(pl->tpl, pl->tracker, ev, fd);
      if (fd >= 0)
        close(fd);
    }
    break;
  case WARD_MODE_MONITOR:
  case WARD_MODE_PROTECT:
    if (pl->tpl)
      check_event(c, ev);
    break;
  default:
    break;
  }
  if (pl->det)
    ward_detector_event(pl->det, ev, on_detection, c);
  if (!missing)
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

static bool exec_allowed(const struct ward_template_rules *r, const char *path)
{
  for (char **p = r->supervisor_exec_allow; p && *p; p++)
    if (ward_template_pattern_match(*p, path))
      return true;
  return false;
}

/* A shell's PATH search execs names that do not exist; those fail with
 * ENOENT anyway, and denying them (EACCES) would change what the shell
 * does. Only an existing file is refused. (Advisory: the workload could
 * create the file after this look-up; Landlock's execute rule and the
 * probe are the layers that hold.) */
static bool exists_in_root(struct ctr *c, const char *path)
{
  if (c->pl->root_fd < 0 || path[0] != '/')
    return true;
  int fd = ward_open_in_root(c->pl->root_fd, path, O_PATH, 0);
  if (fd < 0)
    return errno != ENOENT && errno != ENOTDIR;
  close(fd);
  return true;
}

static bool port_allowed(const struct ward_template_rules *r, uint16_t port)
{
  for (size_t i = 0; i < r->n_connect_ports; i++)
    if (r->connect_ports[i] == port)
      return true;
  return false;
}

/* Runs while the target waits: table look-ups, and where protect's rules
 * judge an exec, whether its file exists (exists_in_root). The control
 * page's mode is read on every call so `ward action ID quarantine` (which
 * sets it) makes the supervisor start denying at once. */
void pipeline_decide(void *opaque, const struct ward_supervisor_call *call, struct ward_supervisor_verdict *v)
{
  struct ctr *c = opaque;
  uint32_t mode = c->ctl ? __atomic_load_n(&c->ctl->mode, __ATOMIC_ACQUIRE) : 0;
  const struct ward_event *ev = call->ev;
  bool inet = ev->family == AF_INET || ev->family == AF_INET6;
  if ((mode & (WARD_CTL_MODE_QUARANTINE | WARD_CTL_MODE_RESTRICT)) && ev->type == WARD_EV_CONNECT && inet &&
      (!loopback(ev) || (mode & WARD_CTL_MODE_NO_LOOPBACK))) {
    v->action = WARD_SV_DENY;
    v->error = EACCES;
    return;
  }
  /* protect comes from the policy (and the control page, where there is
   * one: static images have none) */
  bool protect = c->policy->mode == WARD_MODE_PROTECT || (mode & (WARD_CTL_MODE_PROTECT | WARD_CTL_MODE_RESTRICT));
  /* Whether an exec's file exists: protect's rules need it for the answer,
   * so the target waits for the look-up; otherwise only the sink call uses
   * it (pipeline_event), which looks after the answer has gone. */
  bool rules = protect && c->pl && c->pl->have_rules;
  bool exec = ev->type == WARD_EV_EXEC && c->pl;
  c->sv_missing = exec && rules && !exists_in_root(c, ev->path);
  c->sv_missing_pending = exec && !rules;
  c->sv_missing_tid = ev->tid;
  if (!rules)
    return;
  const struct ward_template_rules *r = &c->pl->rules;
  if (ev->type == WARD_EV_EXEC && ev->path[0] && !c->sv_missing && !exec_allowed(r, ev->path)) {
    v->action = WARD_SV_DENY;
    v->error = EACCES;
  } else if (ev->type == WARD_EV_CONNECT && inet && r->connect_allowlist && !port_allowed(r, ev->port)) {
    v->action = WARD_SV_DENY;
    v->error = EACCES;
  }
}

/* The record types that must reach a sleeping engine at once: those that
 * can raise an alert under the container's policy. The injected-code rules
 * (detect_inject.c) look at execs, forks, writable-executable mappings,
 * ptrace, and at opens for writing and renames, links, unlinks, mode and
 * owner changes and truncations of preload paths; in monitor and protect
 * every type the template checks may deviate. Records of other types (a
 * web server's reading opens and accepts) only feed the flight recorder
 * and learning: they wait for the engine's next look (engine_wake.c). */
uint64_t pipeline_wake_mask(const struct ctr *c)
{
  const struct pipeline *pl = c->pl;
  if (pl == NULL || c->policy == NULL)
    return 0;
  uint64_t m = 0;
  if (pl->tpl && (c->policy->mode == WARD_MODE_MONITOR || c->policy->mode == WARD_MODE_PROTECT))
    m |= ((1ull << WARD_EV_TYPE_COUNT) - 1) & ~(1ull << WARD_EV_CALL_TIME);
  if (pl->det) {
    static const unsigned inject[] = {WARD_EV_EXEC, WARD_EV_FORK, WARD_EV_CLONE, WARD_EV_SPAWN, WARD_EV_SYSTEM,
                                      WARD_EV_UNLINK, WARD_EV_RENAME, WARD_EV_CHMOD, WARD_EV_CHOWN, WARD_EV_SYMLINK,
                                      WARD_EV_LINK, WARD_EV_TRUNCATE, WARD_EV_MMAP_WX, WARD_EV_MPROTECT_WX,
                                      WARD_EV_PTRACE};
    for (size_t i = 0; i < sizeof(inject) / sizeof(inject[0]); i++)
      m |= 1ull << inject[i];
    m |= WARD_RING_WAKE_WRITE_OPEN;
  }
  return m;
}
