/* The detector: per-container anomaly models and injected-code rules, fed
 * one decoded event at a time by the engine (or `ward model detect`).
 *
 * Rules (docs/detection.md): inject.exec_modified, inject.exec_memfd,
 * inject.exec_deleted, inject.wx_mapping, inject.preload_change,
 * inject.ptrace, inject.server_shell (on by default, in learn mode too:
 * they need no model), model.sequence (n-gram model of call sequences per
 * process), rate.exec, rate.connect, rate.file_create (bursts per sliding
 * second). In learn mode the models train instead of scoring.
 *
 * ward_detector_event does O(1) work per event and allocates nothing; its
 * per-process state lives in a fixed-size table (oldest entries evicted). */
#ifndef WARD_DETECT_H
#define WARD_DETECT_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "agent/severity.h"
#include "common/error.h"
#include "probe/event.h"

struct ward_detection {
  const char *rule;            /* static string, one of the rule names above */
  enum ward_severity severity;
  char detail[256];
  double score;                /* model score (rules: 1.0) */
};

typedef void (*ward_detect_fn)(void *opaque, const struct ward_event *ev, const struct ward_detection *d);

struct ward_detect_config {
  int root_fd;                 /* container root as seen from the host (/proc/PID/root), -1 unknown; borrowed */
  struct timespec started;     /* CLOCK_REALTIME container start; {0,0}: unknown (exec_modified off) */
  json_t *model;               /* from the template, may be NULL; borrowed */
  bool learn;                  /* train the models instead of scoring */
};

struct ward_detector;

/* Fails (file-free message naming the field) when cfg->model is malformed. */
int ward_detector_new(const struct ward_detect_config *cfg, struct ward_detector **out, ward_error_t *err);
void ward_detector_event(struct ward_detector *d, const struct ward_event *ev, ward_detect_fn fn, void *opaque);
/* The learned model (sequence + rates, thresholds calibrated), to store in
 * the template's "model" section; a new reference, NULL when out of memory. */
json_t *ward_detector_model(struct ward_detector *d);
void ward_detector_free(struct ward_detector *d);

struct ward_detector_stats {
  uint64_t events, detections, evictions, scored;
};
void ward_detector_get_stats(const struct ward_detector *d, struct ward_detector_stats *out);

/* Rule switches (all on by default), for tests and policies. */
enum ward_detect_rule {
  WARD_RULE_EXEC_MODIFIED, WARD_RULE_EXEC_MEMFD, WARD_RULE_EXEC_DELETED, WARD_RULE_WX_MAPPING,
  WARD_RULE_PRELOAD_CHANGE, WARD_RULE_PTRACE, WARD_RULE_SERVER_SHELL, WARD_RULE_SEQUENCE,
  WARD_RULE_RATE_EXEC, WARD_RULE_RATE_CONNECT, WARD_RULE_RATE_FILE_CREATE, WARD_RULE_COUNT
};
const char *ward_detect_rule_name(enum ward_detect_rule r);
void ward_detector_enable(struct ward_detector *d, enum ward_detect_rule r, bool on);

#endif
