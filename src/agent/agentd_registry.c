/* What the agent knows of each registered container, the replies to
 * register/deregister/status, and the agent's metrics.
 *
 * Locking: a->lock guards the entries and stats; the engine has its own
 * lock and calls agentd_on_exit with it held, so engine functions are never
 * called here with a->lock held. */
#include "agent/agentd_internal.h"
#include "agent/policy.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void entry_free(struct agentd_entry *e)
{
  if (e == NULL)
    return;
  free(e->id);
  free(e->app);
  free(e->state_dir);
  free(e->template_path);
  free(e->policy_path);
  free(e);
}

/* Unlinks and returns the entry (caller frees), under a->lock. */
static struct agentd_entry *entry_take_locked(struct ward_agentd *a, const char *id)
{
  for (struct agentd_entry **pp = &a->entries; *pp; pp = &(*pp)->next)
    if (strcmp((*pp)->id, id) == 0) {
      struct agentd_entry *e = *pp;
      *pp = e->next;
      a->n_entries--;
      return e;
    }
  return NULL;
}

static bool entry_has(struct ward_agentd *a, const char *id)
{
  pthread_mutex_lock(&a->lock);
  bool found = false;
  for (struct agentd_entry *e = a->entries; e && !found; e = e->next)
    found = strcmp(e->id, id) == 0;
  pthread_mutex_unlock(&a->lock);
  return found;
}

static void record_remove(const char *state_dir)
{
  char p[4096];
  snprintf(p, sizeof(p), "%s/" WARD_AGENTD_RECORD_FILE, state_dir);
  unlink(p);
  snprintf(p, sizeof(p), "%s/" WARD_AGENTD_KEEPER_FILE, state_dir);
  unlink(p);
}

static int make_policy(const struct ward_agent_register *r, struct ward_policy **out, ward_error_t *err)
{
  if (r->policy_path) {
    /* the client resolved mode and template (command line over file over
     * annotations): they override the file's */
    if (ward_policy_load(r->policy_path, out, err) < 0)
      return -1;
    int mode = ward_mode_parse(ward_agent_mode_name(r->mode));
    (*out)->mode = mode < 0 ? WARD_MODE_OFF : (enum ward_mode) mode;
    if (r->template_path) {
      free((*out)->template_path);
      if (((*out)->template_path = strdup(r->template_path)) == NULL)
        return ward_policy_free(*out), *out = NULL, ward_error(err, ENOMEM, "policy");
    }
  } else {
    int mode = ward_mode_parse(ward_agent_mode_name(r->mode));
    if ((*out = ward_policy_new_mode(mode < 0 ? WARD_MODE_OFF : mode, r->template_path)) == NULL)
      return ward_error(err, ENOMEM, "policy");
  }
  if (ward_policy_validate(*out, err) < 0) {
    ward_policy_free(*out);
    *out = NULL;
    return -1;
  }
  return 0;
}

int agentd_add(struct ward_agentd *a, const struct ward_agent_register *r, int ring_fd, int listener_fd, int pidfd,
               pid_t pid, const char *source, ward_error_t *err)
{
  struct ward_policy *policy = NULL;
  if (make_policy(r, &policy, err) < 0) {
    for (int *fd = (int[]){ring_fd, listener_fd, pidfd, -2}; *fd != -2; fd++)
      if (*fd >= 0)
        close(*fd);
    return -1;
  }
  enum ward_agent_mode mode = r->mode;
  struct agentd_entry *e = calloc(1, sizeof(*e));
  if (e == NULL || (e->id = strdup(r->id)) == NULL || (e->app = strdup(r->app ? r->app : r->id)) == NULL
      || (e->state_dir = strdup(r->state_dir)) == NULL
      || (r->template_path && (e->template_path = strdup(r->template_path)) == NULL)
      || (r->policy_path && (e->policy_path = strdup(r->policy_path)) == NULL)) {
    entry_free(e);
    ward_policy_free(policy);
    for (int *fd = (int[]){ring_fd, listener_fd, pidfd, -2}; *fd != -2; fd++)
      if (*fd >= 0)
        close(*fd);
    return ward_error(err, ENOMEM, "agent");
  }
  e->mode = mode;
  e->pid = pid;
  e->has_ring = ring_fd >= 0;
  e->has_listener = listener_fd >= 0;
  e->source = source;
  e->registered_real_ns = ward_realtime_ns();
  struct ward_engine_container c = {.id = r->id, .app = e->app, .state_dir = r->state_dir, .ring_fd = ring_fd,
                                    .listener_fd = listener_fd, .pidfd = pidfd, .pid = pid, .policy = policy};
  if (ward_engine_add(a->engine, &c, err) < 0) {
    entry_free(e);
    return -1;
  }
  pthread_mutex_lock(&a->lock);
  e->next = a->entries;
  a->entries = e;
  a->n_entries++;
  pthread_mutex_unlock(&a->lock);
  ward_log(WARD_LOG_INFO, "agent: %s (app %s, pid %d, mode %s) registered by %s%s%s", e->id, e->app, (int) pid,
           ward_agent_mode_name(mode), source, e->has_ring ? ", ring" : "", e->has_listener ? ", listener" : "");
  return 0;
}

int agentd_register(struct ward_agentd *a, const struct ward_agent_register *r, int *fds, size_t nfds,
                    const struct ward_agentd_peer *peer, json_t **reply, ward_error_t *err)
{
  pid_t pid = -1;
  int rc = 0;
  if (a->n_entries >= a->max_containers && !r->reattach)
    rc = ward_error(err, ENOSPC, "register %s: the agent serves %zu containers already (limit)", r->id, a->n_entries);
  else if (ward_agentd_check_register(r, fds, nfds, peer, &pid, err) < 0)
    rc = ward_error_prefix(err, "register %s", r->id);
  else if (entry_has(a, r->id) && !r->reattach)
    rc = ward_error(err, EEXIST, "register %s: already registered with this agent", r->id);
  if (rc < 0) {
    pthread_mutex_lock(&a->lock);
    a->stats.refused_registrations++;
    pthread_mutex_unlock(&a->lock);
    for (size_t i = 0; i < nfds; i++)
      close(fds[i]);
    return -1;
  }
  if (r->reattach && entry_has(a, r->id)) {
    /* the agent re-attached from the state directory before the keeper
     * came back: take the keeper's fds, which include the listener */
    ward_engine_remove(a->engine, r->id);
    pthread_mutex_lock(&a->lock);
    entry_free(entry_take_locked(a, r->id));
    pthread_mutex_unlock(&a->lock);
  }
  int idx[WARD_AGENT_FD_ROLES];
  for (int role = 0; role < WARD_AGENT_FD_ROLES; role++)
    idx[role] = r->fd_index[role] >= 0 ? fds[r->fd_index[role]] : -1;
  if (agentd_add(a, r, idx[WARD_AGENT_FD_RING], idx[WARD_AGENT_FD_LISTENER], idx[WARD_AGENT_FD_PIDFD], pid,
                 r->reattach ? "reattach" : "client", err) < 0) {
    pthread_mutex_lock(&a->lock);
    a->stats.refused_registrations++;
    pthread_mutex_unlock(&a->lock);
    return ward_error_prefix(err, "register %s", r->id);
  }
  ward_error_t rec_err = NULL;
  if (agentd_record_write(r, &rec_err) < 0) {
    ward_warn("agent: %s: %s (no re-attach after an agent restart)", r->id, rec_err->msg);
    ward_error_free(&rec_err);
  }
  pthread_mutex_lock(&a->lock);
  r->reattach ? a->stats.reattached++ : a->stats.registrations++;
  pthread_mutex_unlock(&a->lock);
  *reply = json_pack("{s:b, s:s, s:i}", "ok", 1, "id", r->id, "pid", (int) pid);
  return 0;
}

int agentd_deregister(struct ward_agentd *a, const char *id, json_t **reply, ward_error_t *err)
{
  pthread_mutex_lock(&a->lock);
  struct agentd_entry *e = entry_take_locked(a, id);
  if (e)
    a->stats.deregistrations++;
  pthread_mutex_unlock(&a->lock);
  if (e == NULL)
    return ward_error(err, 0, "deregister: no container \"%s\" is registered with this agent", id);
  ward_engine_remove(a->engine, id);
  record_remove(e->state_dir);
  ward_log(WARD_LOG_INFO, "agent: %s deregistered", id);
  entry_free(e);
  *reply = json_pack("{s:b, s:s}", "ok", 1, "id", id);
  return 0;
}

void agentd_on_exit(void *opaque, const char *id)
{
  struct ward_agentd *a = opaque;
  if (a->stopping)
    return;  /* the agent stops, the container does not: keep its record */
  pthread_mutex_lock(&a->lock);
  struct agentd_entry *e = entry_take_locked(a, id);
  if (e)
    a->stats.exits++;
  pthread_mutex_unlock(&a->lock);
  if (e) {
    record_remove(e->state_dir);
    ward_log(WARD_LOG_INFO, "agent: %s exited; deregistered", id);
  }
  entry_free(e);
}

/* A snapshot of the entries, so the engine is asked without a->lock. */
struct snap {
  char id[129], app[WARD_AGENT_APP_MAX + 1];
  enum ward_agent_mode mode;
  pid_t pid;
  bool ring, listener;
  const char *source;
  uint64_t registered_real_ns;
};

static size_t snapshot(struct ward_agentd *a, const char *only, struct snap **out)
{
  pthread_mutex_lock(&a->lock);
  struct snap *s = calloc(a->n_entries + 1, sizeof(*s));
  size_t n = 0;
  for (struct agentd_entry *e = a->entries; e && s; e = e->next) {
    if (only && strcmp(e->id, only) != 0)
      continue;
    snprintf(s[n].id, sizeof(s[n].id), "%s", e->id);
    snprintf(s[n].app, sizeof(s[n].app), "%s", e->app);
    s[n].mode = e->mode;
    s[n].pid = e->pid;
    s[n].ring = e->has_ring;
    s[n].listener = e->has_listener;
    s[n].source = e->source;
    s[n].registered_real_ns = e->registered_real_ns;
    n++;
  }
  pthread_mutex_unlock(&a->lock);
  *out = s;
  return n;
}

int agentd_status(struct ward_agentd *a, const char *id, json_t **reply, ward_error_t *err)
{
  _cleanup_free_ struct snap *s = NULL;
  size_t n = snapshot(a, id, &s);
  if (s == NULL)
    return ward_error(err, ENOMEM, "status");
  if (id && n == 0)
    return ward_error(err, 0, "status: no container \"%s\" is registered with this agent", id);
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++) {
    struct ward_engine_stats st = {0};
    ward_engine_container_stats(a->engine, s[i].id, &st);
    json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:i, s:b, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "id",
                                          s[i].id, "app", s[i].app, "mode", ward_agent_mode_name(s[i].mode), "pid",
                                          (int) s[i].pid, "ring", s[i].ring, "listener", s[i].listener, "source",
                                          s[i].source, "events", (json_int_t) st.events, "alerts", (json_int_t) st.alerts,
                                          "denied", (json_int_t) st.denied, "drops", (json_int_t) st.ring_drops,
                                          "bad_records", (json_int_t) st.ring_bad, "notifications",
                                          (json_int_t) st.sv_notifications));
  }
  /* one datagram: with thousands of containers the list is cut short and
   * says so (the metrics have every one) */
  bool truncated = false;
  for (;;) {
    _cleanup_free_ char *text = json_dumps(list, JSON_COMPACT);
    if (text == NULL || strlen(text) + 512 <= WARD_AGENT_MAX_REPLY_BODY || json_array_size(list) == 0)
      break;
    size_t keep = json_array_size(list) * 9 / 10;
    while (json_array_size(list) > keep)
      json_array_remove(list, json_array_size(list) - 1);
    truncated = true;
  }
  pthread_mutex_lock(&a->lock);
  struct agentd_stats as = a->stats;
  pthread_mutex_unlock(&a->lock);
  *reply = json_pack("{s:b, s:{s:i, s:s, s:I, s:I, s:I, s:I, s:I}, s:o}", "ok", 1, "agent", "pid", (int) getpid(),
                     "socket", a->socket_path, "uptime_s", (json_int_t) ((ward_now_ns() - a->started_ns) / 1000000000u),
                     "containers", (json_int_t) n, "registrations", (json_int_t) as.registrations, "refused_peers",
                     (json_int_t) as.refused_peers, "bad_messages", (json_int_t) as.bad_messages, "containers", list);
  if (*reply && truncated)
    json_object_set_new(*reply, "truncated", json_true());
  return *reply ? 0 : ward_error(err, ENOMEM, "status");
}

void agentd_loop_sample(struct ward_agentd *a, uint64_t ns)
{
  static const uint64_t bounds[] = {10000, 100000, 1000000, 10000000, 100000000};
  pthread_mutex_lock(&a->lock);
  a->stats.loop_iterations++;
  a->stats.loop_ns_sum += ns;
  if (ns > a->stats.loop_ns_max)
    a->stats.loop_ns_max = ns;
  size_t b = 0;
  while (b < ARRAY_SIZE(bounds) && ns > bounds[b])
    b++;
  a->stats.loop_buckets[b]++;
  pthread_mutex_unlock(&a->lock);
}

/* Rule names come from ward's own code; anything that would need escaping
 * in a label value is replaced all the same. */
static void render_rule(void *opaque, const char *rule, enum ward_severity sev, uint64_t raised)
{
  char safe[64];
  size_t i = 0;
  for (; rule[i] && i + 1 < sizeof(safe); i++)
    safe[i] = (rule[i] == '"' || rule[i] == '\\' || (unsigned char) rule[i] < 0x20) ? '_' : rule[i];
  safe[i] = '\0';
  fprintf(opaque, "ward_agent_alerts_by_rule_total{rule=\"%s\",severity=\"%s\"} %llu\n", safe,
          ward_severity_name(sev), (unsigned long long) raised);
}

/* Label values are ids and app names, which the decoder restricted to
 * characters that need no escaping. */
void agentd_render_metrics(void *opaque, FILE *f)
{
  struct ward_agentd *a = opaque;
  _cleanup_free_ struct snap *s = NULL;
  size_t n = snapshot(a, NULL, &s);
  pthread_mutex_lock(&a->lock);
  struct agentd_stats as = a->stats;
  pthread_mutex_unlock(&a->lock);
  struct ward_engine_stats es = {0};
  ward_engine_get_stats(a->engine, &es);
  struct ward_alert_stats al = {0};
  ward_alert_get_stats(a->alerts, &al);

  fprintf(f, "# HELP ward_agent_up The agent is serving.\n# TYPE ward_agent_up gauge\nward_agent_up 1\n");
  fprintf(f, "# HELP ward_agent_uptime_seconds Seconds since the agent started.\n# TYPE ward_agent_uptime_seconds gauge\n"
             "ward_agent_uptime_seconds %.3f\n", (double) (ward_now_ns() - a->started_ns) / 1e9);
  fprintf(f, "# HELP ward_agent_containers Containers registered now.\n# TYPE ward_agent_containers gauge\n"
             "ward_agent_containers %zu\n", n);
  fprintf(f, "# HELP ward_agent_registrations_total Registrations by outcome.\n# TYPE ward_agent_registrations_total counter\n"
             "ward_agent_registrations_total{result=\"accepted\"} %llu\n"
             "ward_agent_registrations_total{result=\"reattached\"} %llu\n"
             "ward_agent_registrations_total{result=\"refused\"} %llu\n",
          (unsigned long long) as.registrations, (unsigned long long) as.reattached,
          (unsigned long long) as.refused_registrations);
  fprintf(f, "# HELP ward_agent_deregistrations_total Containers removed, by cause.\n"
             "# TYPE ward_agent_deregistrations_total counter\n"
             "ward_agent_deregistrations_total{cause=\"request\"} %llu\nward_agent_deregistrations_total{cause=\"exit\"} %llu\n",
          (unsigned long long) as.deregistrations, (unsigned long long) as.exits);
  fprintf(f, "# HELP ward_agent_refused_peers_total Connections refused on peer credentials.\n"
             "# TYPE ward_agent_refused_peers_total counter\nward_agent_refused_peers_total %llu\n",
          (unsigned long long) as.refused_peers);
  fprintf(f, "# HELP ward_agent_bad_messages_total Malformed client messages (client disconnected).\n"
             "# TYPE ward_agent_bad_messages_total counter\nward_agent_bad_messages_total %llu\n",
          (unsigned long long) as.bad_messages);
  fprintf(f, "# HELP ward_agent_events_total Events ingested from rings and supervisors.\n"
             "# TYPE ward_agent_events_total counter\nward_agent_events_total %llu\n", (unsigned long long) es.events);
  fprintf(f, "# HELP ward_agent_ring_drops_total Records producers dropped on full rings.\n"
             "# TYPE ward_agent_ring_drops_total counter\nward_agent_ring_drops_total %llu\n",
          (unsigned long long) es.ring_drops);
  fprintf(f, "# HELP ward_agent_ring_bad_records_total Ring records that failed validation.\n"
             "# TYPE ward_agent_ring_bad_records_total counter\nward_agent_ring_bad_records_total %llu\n",
          (unsigned long long) es.ring_bad);
  fprintf(f, "# HELP ward_agent_supervisor_notifications_total Seccomp notifications answered.\n"
             "# TYPE ward_agent_supervisor_notifications_total counter\nward_agent_supervisor_notifications_total %llu\n",
          (unsigned long long) es.sv_notifications);
  fprintf(f, "# HELP ward_agent_alerts_total Alerts raised, by severity.\n# TYPE ward_agent_alerts_total counter\n");
  for (int sev = 0; sev < WARD_SEV_COUNT; sev++)
    fprintf(f, "ward_agent_alerts_total{severity=\"%s\"} %llu\n", ward_severity_name((enum ward_severity) sev),
            (unsigned long long) al.by_severity[sev]);
  fprintf(f, "# HELP ward_agent_alerts_by_rule_total Alerts raised, by rule and severity.\n"
             "# TYPE ward_agent_alerts_by_rule_total counter\n");
  ward_alert_foreach_rule(a->alerts, render_rule, f);
  fprintf(f, "# HELP ward_agent_alerts_suppressed_total Alert lines held back by the rate limit.\n"
             "# TYPE ward_agent_alerts_suppressed_total counter\nward_agent_alerts_suppressed_total %llu\n",
          (unsigned long long) al.suppressed);
  static const char *const le[] = {"1e-05", "0.0001", "0.001", "0.01", "0.1", "+Inf"};
  fprintf(f, "# HELP ward_agent_loop_seconds Time the agent's socket loop spent per wake-up.\n"
             "# TYPE ward_agent_loop_seconds histogram\n");
  uint64_t cum = 0;
  for (size_t b = 0; b < ARRAY_SIZE(le); b++) {
    cum += as.loop_buckets[b];
    fprintf(f, "ward_agent_loop_seconds_bucket{le=\"%s\"} %llu\n", le[b], (unsigned long long) cum);
  }
  fprintf(f, "ward_agent_loop_seconds_sum %.9f\nward_agent_loop_seconds_count %llu\n", (double) as.loop_ns_sum / 1e9,
          (unsigned long long) as.loop_iterations);
  fprintf(f, "# HELP ward_agent_engine_polls_total Engine poll rounds.\n# TYPE ward_agent_engine_polls_total counter\n"
             "ward_agent_engine_polls_total %llu\n", (unsigned long long) es.polls);

  static const char *const per[] = {"events", "alerts", "denied", "ring_drops", "ring_bad_records", "supervisor_notifications"};
  for (size_t k = 0; k < ARRAY_SIZE(per); k++) {
    fprintf(f, "# TYPE ward_agent_container_%s_total counter\n", per[k]);
    for (size_t i = 0; i < n; i++) {
      struct ward_engine_stats st = {0};
      ward_engine_container_stats(a->engine, s[i].id, &st);
      uint64_t v[] = {st.events, st.alerts, st.denied, st.ring_drops, st.ring_bad, st.sv_notifications};
      fprintf(f, "ward_agent_container_%s_total{container=\"%s\",app=\"%s\",mode=\"%s\"} %llu\n", per[k], s[i].id,
              s[i].app, ward_agent_mode_name(s[i].mode), (unsigned long long) v[k]);
    }
  }
  /* the engine's own exposition (per-rule alert counters and more) */
  ward_engine_metrics(a->engine, f);
}

void agentd_registry_free(struct ward_agentd *a)
{
  while (a->entries) {
    struct agentd_entry *e = a->entries;
    a->entries = e->next;
    entry_free(e);
  }
  a->n_entries = 0;
}
