/* Alerts: one JSON line per alert, to stdout, a file or syslog, written with
 * one write(2) (or one syslog(3) call) so a line is out within the call that
 * raised it. Bounded: a token bucket per rule lets a burst through and then
 * only so many lines per second; what it holds back is counted and reported
 * as "suppressed" on the rule's next line (or on a last line per rule when
 * the output closes), so a flood cannot fill a disk and no count is lost.
 *
 * Line fields: time (RFC 3339, UTC, ns), container, app, pid, exe, event (the
 * event as JSON, probe/event_json.h), rule, severity, detail, action, denied,
 * and suppressed when earlier lines of the rule were held back. */
#ifndef WARD_ALERT_H
#define WARD_ALERT_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/severity.h"
#include "common/error.h"
#include "probe/event.h"

struct ward_alert_out;

struct ward_alert {
  const char *container;
  const char *app;             /* NULL: same as container */
  const struct ward_event *ev; /* may be NULL (container-level alerts) */
  const char *exe;             /* the process's executable, NULL unknown */
  const char *rule;            /* "template.exec", "inject.exec_memfd", ... */
  enum ward_severity severity;
  const char *detail;
  const char *action;          /* "none", "kill", ... as taken */
  bool denied;                 /* the call was refused (probe, supervisor) */
};

struct ward_alert_limits {
  uint32_t burst;              /* lines a rule may emit at once (0: 50) */
  double per_second;           /* sustained lines per rule (0: 10) */
};

/* spec: NULL, "-" or "stdout"; "stderr"; "syslog" (LOG_AUTHPRIV);
 * "syslog:daemon" (LOG_DAEMON); otherwise a file path, opened O_APPEND
 * and created 0600. */
int ward_alert_out_open(const char *spec, const struct ward_alert_limits *lim, struct ward_alert_out **out,
                        ward_error_t *err);
void ward_alert_out_free(struct ward_alert_out *o);

/* Returns 1 written, 0 held back by the rate limit, < 0 on a write error
 * (counted; the pipeline goes on). Thread-safe. */
int ward_alert_emit(struct ward_alert_out *o, const struct ward_alert *a);

struct ward_alert_stats {
  uint64_t emitted, suppressed, write_errors;
  uint64_t by_severity[WARD_SEV_COUNT];  /* raised, emitted or not */
};
void ward_alert_get_stats(struct ward_alert_out *o, struct ward_alert_stats *out);
/* Alerts raised per rule and severity (emitted or held back), for the
 * agent's metrics; rules beyond the table's capacity count as "other".
 * fn runs with the output's lock held: it must not emit. */
typedef void (*ward_alert_rule_fn)(void *opaque, const char *rule, enum ward_severity sev, uint64_t raised);
void ward_alert_foreach_rule(struct ward_alert_out *o, ward_alert_rule_fn fn, void *opaque);

/* The alert as a JSON line without the newline (for tests and the agent). */
char *ward_alert_format(const struct ward_alert *a, uint64_t suppressed);

#endif
