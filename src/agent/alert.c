/* Alert lines: formatting, per-rule rate limiting, outputs (alert.h). */
#include "agent/alert.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "probe/event_json.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

enum out_kind { OUT_FD, OUT_SYSLOG };

/* Rules are few (a fixed vocabulary plus template.*), so a small open
 * addressing table keyed by the rule's name is enough; an unknown flood of
 * distinct names lands in the shared overflow bucket. */
#define RULE_SLOTS 128

struct bucket {
  char name[48];
  double tokens;
  uint64_t last_ns;
  uint64_t suppressed;
  enum ward_severity last_sev;
  uint64_t raised[WARD_SEV_COUNT];  /* for the agent's per-rule metrics */
};

struct ward_alert_out {
  enum out_kind kind;
  int fd;
  bool own_fd;
  int facility;
  double burst, rate;
  pthread_mutex_t lock;
  struct bucket rules[RULE_SLOTS];
  struct bucket overflow;
  struct ward_alert_stats stats;
};

int ward_alert_out_open(const char *spec, const struct ward_alert_limits *lim, struct ward_alert_out **out,
                        ward_error_t *err)
{
  struct ward_alert_out *o = calloc(1, sizeof(*o));
  if (o == NULL)
    return ward_error(err, ENOMEM, "alerts");
  pthread_mutex_init(&o->lock, NULL);
  o->burst = lim && lim->burst ? lim->burst : 50;
  o->rate = lim && lim->per_second > 0 ? lim->per_second : 10;
  o->fd = -1;
  if (spec == NULL || strcmp(spec, "-") == 0 || strcmp(spec, "stdout") == 0) {
    o->fd = STDOUT_FILENO;
  } else if (strcmp(spec, "stderr") == 0) {
    o->fd = STDERR_FILENO;
  } else if (strcmp(spec, "syslog") == 0 || strcmp(spec, "syslog:authpriv") == 0 || strcmp(spec, "syslog:daemon") == 0) {
    o->kind = OUT_SYSLOG;
    o->facility = strcmp(spec, "syslog:daemon") == 0 ? LOG_DAEMON : LOG_AUTHPRIV;
    openlog("ward", LOG_PID | LOG_NDELAY, o->facility);
  } else {
    o->fd = open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (o->fd < 0) {
      int e = errno;
      free(o);
      return ward_error(err, e, "--alerts %s", spec);
    }
    o->own_fd = true;
  }
  *out = o;
  return 0;
}

static int write_line(struct ward_alert_out *o, const char *line, enum ward_severity sev);

/* What the rate limit still holds when the output closes gets one last
 * line per rule, so no count is lost. */
static void flush_suppressed(struct ward_alert_out *o)
{
  for (unsigned i = 0; i <= RULE_SLOTS; i++) {
    struct bucket *b = i < RULE_SLOTS ? &o->rules[i] : &o->overflow;
    if (b->suppressed == 0)
      continue;
    char detail[96];
    snprintf(detail, sizeof(detail), "%llu alert line(s) held back by the rate limit", (unsigned long long) b->suppressed);
    struct ward_alert a = {.container = "", .rule = i < RULE_SLOTS ? b->name : "other", .severity = b->last_sev,
                           .detail = detail, .action = "none"};
    _cleanup_free_ char *line = ward_alert_format(&a, b->suppressed);
    if (line && write_line(o, line, b->last_sev) == 0)
      o->stats.emitted++;
    b->suppressed = 0;
  }
}

void ward_alert_out_free(struct ward_alert_out *o)
{
  if (o == NULL)
    return;
  flush_suppressed(o);
  if (o->own_fd)
    close(o->fd);
  pthread_mutex_destroy(&o->lock);
  free(o);
}

char *ward_alert_format(const struct ward_alert *a, uint64_t suppressed)
{
  char now[WARD_RFC3339_MAX];
  _cleanup_json_ json_t *j = json_object();
  if (j == NULL)
    return NULL;
  json_object_set_new(j, "time", json_string(ward_rfc3339_now(now, 9)));
  json_object_set_new(j, "container", json_string(a->container ? a->container : ""));
  json_object_set_new(j, "app", json_string(a->app ? a->app : a->container ? a->container : ""));
  json_object_set_new(j, "pid", a->ev ? json_integer(a->ev->pid) : json_null());
  json_object_set_new(j, "exe", a->exe && a->exe[0] ? ward_json_bytes(a->exe, SIZE_MAX) : json_null());
  json_object_set_new(j, "event", a->ev ? ward_event_to_json(a->ev) : json_null());
  json_object_set_new(j, "rule", json_string(a->rule ? a->rule : "unknown"));
  json_object_set_new(j, "severity", json_string(ward_severity_name(a->severity)));
  /* jansson refuses invalid UTF-8, and details quote workload-controlled
   * paths: escaped as in events (\xNN), so the alert still names it */
  json_t *detail = ward_json_bytes(a->detail ? a->detail : "", SIZE_MAX);
  json_object_set_new(j, "detail", detail);
  json_object_set_new(j, "action", json_string(a->action ? a->action : "none"));
  json_object_set_new(j, "denied", json_boolean(a->denied));
  if (suppressed)
    json_object_set_new(j, "suppressed", json_integer((json_int_t) suppressed));
  return json_dumps(j, JSON_COMPACT);
}

static struct bucket *bucket_for(struct ward_alert_out *o, const char *rule, uint64_t now)
{
  uint64_t h = ward_fnv1a(rule, strlen(rule), WARD_FNV1A_BASIS);
  for (unsigned i = 0; i < 8; i++) {
    struct bucket *b = &o->rules[(h + i) % RULE_SLOTS];
    if (b->name[0] == 0 && strlen(rule) < sizeof(b->name)) {
      snprintf(b->name, sizeof(b->name), "%s", rule);
      b->tokens = o->burst;
      b->last_ns = now;
      return b;
    }
    if (strcmp(b->name, rule) == 0)
      return b;
  }
  if (o->overflow.last_ns == 0) {
    o->overflow.tokens = o->burst;
    o->overflow.last_ns = now;
  }
  return &o->overflow;
}

static int write_line(struct ward_alert_out *o, const char *line, enum ward_severity sev)
{
  if (o->kind == OUT_SYSLOG) {
    static const int prio[] = {LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERR, LOG_CRIT};
    syslog(o->facility | prio[(unsigned) sev < WARD_SEV_COUNT ? sev : WARD_SEV_CRITICAL], "%s", line);
    return 0;
  }
  size_t len = strlen(line);
  /* One write for line + newline so concurrent writers (O_APPEND) never
   * interleave within a line. */
  _cleanup_free_ char *buf = malloc(len + 1);
  if (buf == NULL)
    return -1;
  memcpy(buf, line, len);
  buf[len] = '\n';
  size_t done = 0;
  while (done < len + 1) {
    ssize_t n = write(o->fd, buf + done, len + 1 - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    done += (size_t) n;
  }
  return 0;
}

int ward_alert_emit(struct ward_alert_out *o, const struct ward_alert *a)
{
  uint64_t now = ward_now_ns();
  pthread_mutex_lock(&o->lock);
  if ((unsigned) a->severity < WARD_SEV_COUNT)
    o->stats.by_severity[a->severity]++;
  struct bucket *b = bucket_for(o, a->rule ? a->rule : "unknown", now);
  if ((unsigned) a->severity < WARD_SEV_COUNT)
    b->raised[a->severity]++;
  b->last_sev = a->severity;
  b->tokens += (double) (now - b->last_ns) / 1e9 * o->rate;
  if (b->tokens > o->burst)
    b->tokens = o->burst;
  b->last_ns = now;
  if (b->tokens < 1.0) {
    b->suppressed++;
    o->stats.suppressed++;
    pthread_mutex_unlock(&o->lock);
    return 0;
  }
  b->tokens -= 1.0;
  uint64_t held = b->suppressed;
  b->suppressed = 0;
  pthread_mutex_unlock(&o->lock);

  _cleanup_free_ char *line = ward_alert_format(a, held);
  int rc = line ? write_line(o, line, a->severity) : -1;
  pthread_mutex_lock(&o->lock);
  if (rc < 0)
    o->stats.write_errors++;
  else
    o->stats.emitted++;
  pthread_mutex_unlock(&o->lock);
  return rc < 0 ? -1 : 1;
}

void ward_alert_get_stats(struct ward_alert_out *o, struct ward_alert_stats *out)
{
  pthread_mutex_lock(&o->lock);
  *out = o->stats;
  pthread_mutex_unlock(&o->lock);
}

void ward_alert_foreach_rule(struct ward_alert_out *o, ward_alert_rule_fn fn, void *opaque)
{
  pthread_mutex_lock(&o->lock);
  for (unsigned i = 0; i <= RULE_SLOTS; i++) {
    const struct bucket *b = i < RULE_SLOTS ? &o->rules[i] : &o->overflow;
    const char *name = i < RULE_SLOTS ? b->name : "other";
    if (i < RULE_SLOTS && b->name[0] == 0)
      continue;
    for (int sev = 0; sev < WARD_SEV_COUNT; sev++)
      if (b->raised[sev])
        fn(opaque, name, (enum ward_severity) sev, b->raised[sev]);
  }
  pthread_mutex_unlock(&o->lock);
}
