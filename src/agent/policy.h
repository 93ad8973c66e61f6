/* Per-application policy: what the engine does with a container's events.
 *
 *   mode       off | learn | monitor | protect
 *   template   the behavioural template file (learn writes it, merging into
 *              an existing one; monitor checks against it; protect compiles
 *              it into seccomp, Landlock, the probe tables and the supervisor)
 *   detect     injected-code rules and the anomaly models (on unless off)
 *   thresholds per-application detector thresholds
 *   actions    severity -> kill | quarantine | restrict | honeypot |
 *              snapshot | none
 *   alerts     where alert lines go and how many per rule per second
 *
 * Sources, later ones overriding earlier: defaults, a policy file (YAML or
 * JSON; errors name file:line), annotations on the bundle (run.ward.mode,
 * run.ward.template, run.ward.policy), the command line (--mode, --template,
 * --policy). docs/agent.md has the file format. */
#ifndef WARD_POLICY_H
#define WARD_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "agent/severity.h"
#include "common/error.h"

enum ward_mode { WARD_MODE_OFF, WARD_MODE_LEARN, WARD_MODE_MONITOR, WARD_MODE_PROTECT, WARD_MODE_COUNT };

/* The actions a severity can trigger; names as in the policy file. Mapped to
 * the actions part's enum ward_action_kind when executed. */
enum ward_policy_action {
  WARD_PACT_NONE, WARD_PACT_KILL, WARD_PACT_QUARANTINE, WARD_PACT_RESTRICT, WARD_PACT_HONEYPOT,
  WARD_PACT_SNAPSHOT, WARD_PACT_COUNT
};

const char *ward_mode_name(enum ward_mode m);
int ward_mode_parse(const char *name);              /* -1 if unknown */
const char *ward_policy_action_name(enum ward_policy_action a);
int ward_policy_action_parse(const char *name);     /* -1 if unknown */

struct ward_policy_thresholds {
  double sequence;            /* model.sequence score above which to alert (0: model default) */
  uint32_t exec_per_s;        /* rate.* bursts (0: detector default) */
  uint32_t connect_per_s;
  uint32_t file_create_per_s;
};

struct ward_policy {
  char *app;                  /* NULL: the container id */
  enum ward_mode mode;
  char *template_path;        /* required for learn, monitor and protect */
  bool detect;                /* injected-code rules and models; default on */
  bool supervisor;            /* seccomp-notify supervisor; default on */
  struct ward_policy_thresholds thresholds;
  enum ward_policy_action on_severity[WARD_SEV_COUNT];
  bool quarantine_freeze;     /* quarantine by freezing (true) or cutting the network */
  char *alerts;               /* alert output spec (alert.h); NULL: the engine's */
  uint32_t alert_burst;
  double alert_per_second;
  char *source;               /* where it came from, for messages */
};

/* Defaults: mode off, detect on, supervisor on, every severity -> none. */
struct ward_policy *ward_policy_new(void);
struct ward_policy *ward_policy_new_mode(int mode, const char *template_path);
void ward_policy_free(struct ward_policy *p);
struct ward_policy *ward_policy_dup(const struct ward_policy *p);

/* Loads a policy file (YAML or JSON: JSON is read by the YAML parser so that
 * every error names file:line). Unknown keys are errors. */
int ward_policy_load(const char *path, struct ward_policy **out, ward_error_t *err);
/* Parses a policy from memory; name is used in messages. */
int ward_policy_parse(const char *name, const char *text, size_t len, struct ward_policy **out, ward_error_t *err);

/* Applies run.ward.mode / run.ward.template / run.ward.policy /
 * run.ward.supervisor (on|off) from an annotations object (may be NULL) onto
 * *p, creating it when NULL and an annotation asks for something. Leaves *p
 * NULL when there is nothing. */
int ward_policy_from_annotations(json_t *annotations, struct ward_policy **p, ward_error_t *err);

/* Checks the combination (a mode that needs a template has one; a template
 * to check against exists for monitor/protect). */
int ward_policy_validate(const struct ward_policy *p, ward_error_t *err);

static inline void ward_policy_freep(struct ward_policy **p) { ward_policy_free(*p); }
#define _cleanup_policy_ __attribute__((cleanup(ward_policy_freep)))

#endif
