/* The detector: per-process state, the sequence and rate models, and the
 * dispatch of each event to the rules (detect_inject.c). Per event: one
 * probe of the process table, a cached token id, two probes of the n-gram
 * tables; nothing is allocated (learn mode appends to a buffer that grows
 * geometrically up to a bound). */
#include "agent/detect.h"
#include "agent/detect_internal.h"
#include "common/util.h"
#include "common/cleanup.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ward_detect_rule_name(enum ward_detect_rule r)
{
  static const char *const names[] = {
    "inject.exec_modified", "inject.exec_memfd", "inject.exec_deleted", "inject.wx_mapping",
    "inject.preload_change", "inject.ptrace", "inject.server_shell", "model.sequence",
    "rate.exec", "rate.connect", "rate.file_create",
  };
  return (unsigned) r < WARD_RULE_COUNT ? names[r] : "unknown";
}

void ward_detector_enable(struct ward_detector *d, enum ward_detect_rule r, bool on)
{
  if ((unsigned) r < WARD_RULE_COUNT)
    d->enabled[r] = on;
}

int ward_detector_new(const struct ward_detect_config *cfg, struct ward_detector **out, ward_error_t *err)
{
  struct ward_detector *d = ward_zalloc_lazy(sizeof(*d));
  if (d == NULL)
    return ward_error(err, ENOMEM, "detector");
  d->cfg = *cfg;
  d->cfg.model = NULL;
  for (int i = 0; i < WARD_RULE_COUNT; i++)
    d->enabled[i] = true;
  json_t *m = cfg->model;
  json_t *seq = m ? json_object_get(m, "sequence") : NULL;
  /* a bare sequence model, as `ward model train` writes it */
  if (m && !seq && json_is_string(json_object_get(m, "kind")))
    seq = m;
  json_t *rate = m ? json_object_get(m, "rate") : NULL;
  if (m && !json_is_object(m)) {
    ward_free_lazy(d, sizeof(*d));
    return ward_error(err, 0, "model: expected an object");
  }
  int rc = seq ? ward_seq_model_from_json(seq, "model.sequence", &d->seq, err)
               : ward_seq_model_new(NULL, &d->seq, err);
  if (rc < 0 || (rate && ward_rate_from_json(rate, "model.rate", &d->rate, err) < 0)) {
    ward_seq_model_free(d->seq);
    ward_free_lazy(d, sizeof(*d));
    return -1;
  }
  /* the rate window restarts: a loaded model brings maxima, not counts */
  memset(d->rate.bucket, 0, sizeof(d->rate.bucket));
  d->procs = ward_zalloc_lazy(PROC_CAP * sizeof(*d->procs));
  d->n_wbufs = (size_t) PROC_CAP * ward_seq_model_window(d->seq);
  d->wbufs = ward_zalloc_lazy(d->n_wbufs * sizeof(float));
  if (d->procs == NULL || d->wbufs == NULL) {
    ward_detector_free(d);
    return ward_error(err, ENOMEM, "detector");
  }
  *out = d;
  return 0;
}

void ward_detector_free(struct ward_detector *d)
{
  if (d == NULL)
    return;
  ward_seq_model_free(d->seq);
  ward_free_lazy(d->procs, PROC_CAP * sizeof(*d->procs));
  ward_free_lazy(d->wbufs, d->n_wbufs * sizeof(float));
  free(d->learned);
  free(d->exec_clean);
  ward_free_lazy(d, sizeof(*d));
}

void ward_detector_get_stats(const struct ward_detector *d, struct ward_detector_stats *out)
{
  *out = d->stats;
}

static uint32_t pid_hash(uint32_t pid)
{
  return (pid * 2654435761u) >> 16;
}

/* Linear probing without deletion: an evicted slot is reused in place, so
 * chains never break and a lookup stops at the first empty slot. */
struct proc *detect_proc(struct ward_detector *d, uint32_t pid, bool create)
{
  uint32_t h = pid_hash(pid), oldest = h & (PROC_CAP - 1);
  for (uint32_t k = 0; k < PROC_PROBE; k++) {
    uint32_t i = (h + k) & (PROC_CAP - 1);
    struct proc *p = &d->procs[i];
    if (p->pid == pid && pid != 0) {
      p->last = d->clock;
      return p;
    }
    if (p->pid == 0) {
      oldest = i;
      break;
    }
    if (p->last < d->procs[oldest].last)
      oldest = i;
  }
  if (!create)
    return NULL;
  struct proc *p = &d->procs[oldest];
  if (p->pid)
    d->stats.evictions++;
  memset(p, 0, sizeof(*p));
  p->pid = pid;
  p->serial = ++d->next_serial;
  p->last = d->clock;
  ward_seq_ctx_init(&p->seq, d->wbufs + (size_t) oldest * ward_seq_model_window(d->seq));
  return p;
}

void detect_emit(struct ward_detector *d, const struct ward_event *ev, ward_detect_fn fn, void *opaque,
                 enum ward_detect_rule rule, enum ward_severity sev, double score, const char *fmt, ...)
{
  if (!d->enabled[rule])
    return;
  struct ward_detection det = {.rule = ward_detect_rule_name(rule), .severity = sev, .score = score};
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(det.detail, sizeof(det.detail), fmt, ap);
  va_end(ap);
  /* details quote workload strings; alerts are UTF-8 JSON lines */
  for (char *c = det.detail; *c; c++)
    if ((unsigned char) *c < 0x20 || (unsigned char) *c >= 0x7f)
      *c = '?';
  d->stats.detections++;
  if (fn)
    fn(opaque, ev, &det);
}

/* Token ids are cached per probe call, event type and system call number:
 * the strings are looked up once per detector. */
static uint16_t event_id(struct ward_detector *d, const struct ward_event *ev)
{
  uint16_t *slot = NULL;
  bool uncacheable;
  unsigned c = ward_event_token_class(ev, &uncacheable);
  if (uncacheable)
    slot = NULL;
  else if (ev->type == WARD_EV_SYSCALL || (ev->source == WARD_SRC_SUPERVISOR && !ev->call)) {
    if (ev->syscall_nr >= 0 && ev->syscall_nr < (int) ARRAY_SIZE(d->sys_ids))
      slot = &d->sys_ids[ev->syscall_nr][c];
  } else if (ev->call && ev->call < ARRAY_SIZE(d->call_ids)) {
    slot = &d->call_ids[ev->call][c];
  } else if ((unsigned) ev->type < WARD_EV_TYPE_COUNT) {
    slot = &d->type_ids[ev->type][c];
  }
  if (slot && *slot)
    return *slot;
  char tok[WARD_EVENT_TOKEN_MAX + 1];
  size_t n = ward_event_token(ev, tok);
  if (n == 0)
    return 0;
  uint16_t id = ward_seq_model_token(d->seq, tok, n, d->cfg.learn);
  /* in learn mode a full vocabulary gives UNK; do not cache so a later
   * model could still name it */
  if (slot && (id != WARD_SEQ_ID_UNK || !d->cfg.learn))
    *slot = id;
  return id;
}

static void learn_keep(struct ward_detector *d, uint32_t serial, uint16_t id)
{
  if (d->n_learned == d->cap_learned) {
    if (d->cap_learned >= LEARN_IDS_MAX)
      return;
    size_t nc = d->cap_learned ? d->cap_learned * 2 : 4096;
    struct learn_rec *b = realloc(d->learned, nc * sizeof(*b));
    if (b == NULL)
      return;
    d->learned = b;
    d->cap_learned = nc;
  }
  d->learned[d->n_learned++] = (struct learn_rec){serial, id};
}

static void sequence(struct ward_detector *d, const struct ward_event *ev, struct proc *p, ward_detect_fn fn,
                     void *opaque)
{
  /* no trained model (monitor mode): nothing to score against, and no
   * token to look up for it */
  double thr = ward_seq_model_threshold(d->seq);
  if (!d->cfg.learn && !isfinite(thr))
    return;
  uint16_t id = event_id(d, ev);
  if (id == 0)
    return;
  if (d->cfg.learn) {
    ward_seq_ctx_step(d->seq, &p->seq, id, true);
    learn_keep(d, p->serial, id);
    return;
  }
  double s = ward_seq_ctx_step(d->seq, &p->seq, id, false);
  d->stats.scored++;
  if (s > thr) {
    if (!(p->flags & PROC_SEQ_ABOVE))
      detect_emit(d, ev, fn, opaque, WARD_RULE_SEQUENCE, WARD_SEV_MEDIUM, s,
                  "call sequence score %.3f above the threshold %.3f (last call %s)", s, thr,
                  ward_seq_model_token_name(d->seq, id));
    p->flags |= PROC_SEQ_ABOVE;
  } else {
    p->flags &= ~(uint32_t) PROC_SEQ_ABOVE;
  }
}

static void rates(struct ward_detector *d, const struct ward_event *ev, ward_detect_fn fn, void *opaque)
{
  int k = ward_rate_classify(ev);
  if (k < 0)
    return;
  uint32_t n = ward_rate_add(&d->rate, (enum ward_rate_kind) k, ev->ts_ns);
  if (d->cfg.learn) {
    if (n > d->rate.learned_max[k])
      d->rate.learned_max[k] = n;
    return;
  }
  uint32_t thr = d->rate.threshold[k];
  if (!d->rate.trained || thr == 0 || n <= thr || ev->ts_ns < d->rate.alerted_until[k])
    return;
  d->rate.alerted_until[k] = ev->ts_ns + 1000000000ull;
  detect_emit(d, ev, fn, opaque, (enum ward_detect_rule) (WARD_RULE_RATE_EXEC + k), WARD_SEV_MEDIUM,
              (double) n / thr, "%u %s events in one second, above the threshold %u (learned maximum %u)", n,
              ward_rate_kind_name((enum ward_rate_kind) k), thr, d->rate.learned_max[k]);
}

void ward_detector_event(struct ward_detector *d, const struct ward_event *ev, ward_detect_fn fn, void *opaque)
{
  d->clock++;
  d->stats.events++;
  struct proc *p = detect_proc(d, ev->pid, true);
  if (p->first_ts == 0)
    p->first_ts = ev->ts_ns;
  detect_inject(d, ev, p, fn, opaque);
  if (d->enabled[WARD_RULE_SEQUENCE] || d->cfg.learn)
    sequence(d, ev, p, fn, opaque);
  rates(d, ev, fn, opaque);
}

static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
  return x < y ? -1 : x > y;
}

/* The learned calls as one trace per process: the key packs the process
 * serial above the record's position, so sorting groups processes and keeps
 * each one's calls in order. */
static int learned_traces(struct ward_detector *d, struct ward_trace_set *set)
{
  size_t n = d->n_learned;
  _cleanup_free_ uint64_t *keys = malloc((n + 1) * sizeof(uint64_t));
  if (keys == NULL)
    return -1;
  for (size_t i = 0; i < n; i++)
    keys[i] = ((uint64_t) d->learned[i].serial << 32) | i;
  qsort(keys, n, sizeof(uint64_t), cmp_u64);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && keys[j] >> 32 == keys[i] >> 32)
      j++;
    uint16_t *ids = malloc((j - i) * sizeof(uint16_t));
    if (ids == NULL)
      return -1;
    for (size_t k = i; k < j; k++)
      ids[k - i] = d->learned[(uint32_t) keys[k]].id;
    if (ward_trace_set_add(set, NULL, ids, j - i) < 0) {
      free(ids);
      return -1;
    }
    i = j;
  }
  return 0;
}

json_t *ward_detector_model(struct ward_detector *d)
{
  if (d->cfg.learn) {
    struct ward_trace_set set = {0};
    _cleanup_error_ ward_error_t err = NULL;
    /* without traces the threshold stays unset: monitor will not score */
    if (learned_traces(d, &set) == 0 && set.n > 0)
      ward_seq_model_calibrate(d->seq, &set, &err);
    ward_trace_set_free(&set);
    ward_rate_calibrate(&d->rate);
  }
  json_t *seq = ward_seq_model_to_json(d->seq);
  json_t *rate = ward_rate_to_json(&d->rate);
  if (seq == NULL || rate == NULL) {
    json_decref(seq);
    json_decref(rate);
    return NULL;
  }
  return json_pack("{s:o, s:o}", "sequence", seq, "rate", rate);
}
