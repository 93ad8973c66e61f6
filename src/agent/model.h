/* Behaviour models of the detector, usable live (one event at a time) and
 * offline (traces in the common research format: one trace per file,
 * whitespace-separated system-call numbers or names, as in ADFA-LD).
 *
 * Sequence model: counts of n-grams of call tokens (n = 2..8, default 4)
 * per application. A transition scores its smoothed negative log-likelihood
 *   nll = -ln((c(prefix,x) + a) / (c(prefix) + a*(V+1)))
 * (additive smoothing, a = 0.01, V the vocabulary size, unknown tokens
 * share one extra id); a trace scores the largest mean nll over any
 * window of W consecutive transitions (default W = 16; the whole trace if
 * shorter; a window counts once it holds n transitions). The
 * per-application threshold is calibrated at training by leave-one-out
 * scoring: each training trace is scored by the model minus that trace's
 * own counts, threshold = the given percentile (default 99) of those scores
 * times a margin (default 1.1). docs/detection.md.
 *
 * Rate model: per container, counts of exec, connect and file-create events
 * in a sliding one-second window (ten 100 ms buckets); learns the maxima;
 * threshold = max(2 * max, max + 8). */
#ifndef WARD_MODEL_H
#define WARD_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "probe/event.h"

#define WARD_SEQ_N_MAX 8
#define WARD_SEQ_WINDOW_MAX 256
#define WARD_SEQ_VOCAB_MAX 4096        /* distinct tokens; more map to <unk> */
#define WARD_SEQ_GRAMS_MAX (1u << 18)  /* distinct n-grams kept (a model stays under ~8 MB of JSON); later new ones are counted as dropped */
#define WARD_SEQ_TOKEN_MAX 64          /* longest token accepted by the trace reader */
#define WARD_SEQ_ID_PAD 0              /* before the first call of a trace */
#define WARD_SEQ_ID_UNK 1              /* a token outside the vocabulary */

struct ward_seq_params {
  unsigned n;          /* 0: 4 */
  unsigned window;     /* 0: 16 */
  double alpha;        /* 0: 0.01 */
  double margin;       /* 0: 1.1 */
  double percentile;   /* 0: 99 */
};

struct ward_seq_model;

int ward_seq_model_new(const struct ward_seq_params *p, struct ward_seq_model **out, ward_error_t *err);
void ward_seq_model_free(struct ward_seq_model *m);
unsigned ward_seq_model_n(const struct ward_seq_model *m);
unsigned ward_seq_model_window(const struct ward_seq_model *m);
double ward_seq_model_threshold(const struct ward_seq_model *m);
void ward_seq_model_set_threshold(struct ward_seq_model *m, double t);
size_t ward_seq_model_grams(const struct ward_seq_model *m);

/* The id of a token; with add, a new token joins the vocabulary (UNK when
 * the vocabulary is full). Without add, unknown tokens are UNK. */
uint16_t ward_seq_model_token(struct ward_seq_model *m, const char *tok, size_t len, bool add);
const char *ward_seq_model_token_name(const struct ward_seq_model *m, uint16_t id);

/* Adds a trace's n-grams (padded at the start) to the counts. */
void ward_seq_model_learn(struct ward_seq_model *m, const uint16_t *ids, size_t n);
/* The trace score defined above; 0 for an empty trace. */
double ward_seq_model_score(const struct ward_seq_model *m, const uint16_t *ids, size_t n);

/* Incremental scoring for live streams: one context per process. */
struct ward_seq_ctx {
  uint16_t hist[WARD_SEQ_N_MAX];   /* last n-1 ids, oldest first */
  uint32_t count;                  /* transitions seen */
  uint32_t wpos;
  double wsum;
  float *wbuf;                     /* window entries, owned by the caller */
};
/* wbuf: room for ward_seq_model_window(m) floats. */
void ward_seq_ctx_init(struct ward_seq_ctx *c, float *wbuf);
/* Feeds one id; returns the mean nll of the current window once it holds W
 * transitions, else -1. With learn, counts the n-gram instead (returns -1). */
double ward_seq_ctx_step(struct ward_seq_model *m, struct ward_seq_ctx *c, uint16_t id, bool learn);

/* A set of traces (ids), for calibration and evaluation. */
struct ward_trace_set {
  uint16_t **ids;
  size_t *len;
  char **name;
  size_t n, cap;
};
void ward_trace_set_free(struct ward_trace_set *s);
int ward_trace_set_add(struct ward_trace_set *s, const char *name, uint16_t *ids, size_t len);

/* Sets the threshold by leave-one-out scoring of set (see above); with
 * fewer than 2 traces: max self-score times the margin. */
int ward_seq_model_calibrate(struct ward_seq_model *m, const struct ward_trace_set *set, ward_error_t *err);

/* Stable, compact JSON: {"kind":"ward-seq","version":1,"n","window","alpha",
 * "margin","percentile","threshold","vocab":[...],"grams":[id...,count,...]}
 * with grams sorted. Loading checks every field and bound; errors name the
 * field ("model.grams[12]: ..."). */
json_t *ward_seq_model_to_json(const struct ward_seq_model *m);
int ward_seq_model_from_json(json_t *j, const char *path, struct ward_seq_model **out, ward_error_t *err);
int ward_seq_model_load(const char *file, struct ward_seq_model **out, ward_error_t *err);
int ward_seq_model_save(const struct ward_seq_model *m, const char *file, ward_error_t *err);

/* Trace files. Parses buf (a whole trace) into ids; a token that is not a
 * printable name or number, or longer than WARD_SEQ_TOKEN_MAX, fails with
 * "what:LINE: ..." (what is usually the file name). */
int ward_trace_parse(struct ward_seq_model *m, bool add, const char *what, const char *buf, size_t len,
                     uint16_t **ids, size_t *n, ward_error_t *err);
#define WARD_TRACE_FILE_MAX (64u << 20)
int ward_trace_read_file(struct ward_seq_model *m, bool add, const char *file, uint16_t **ids, size_t *n,
                         ward_error_t *err);
/* Every regular file of dir (sorted by name; not recursive), appended to set. */
int ward_trace_read_dir(struct ward_seq_model *m, bool add, const char *dir, struct ward_trace_set *set,
                        ward_error_t *err);

/* The token an event contributes to a trace: the system call name (from
 * the supervisor's number, or the interposed libc function mapped to the
 * system call it makes: open64/fopen -> openat, execvp -> execve, ...),
 * refined by a coarse argument class (docs/detection.md): opens ".r", ".w"
 * or ".c" (create); network calls the family (".inet", ".inet6", ".unix")
 * and ".lo" for loopback; an exec attempt the program's base name
 * ("execve.curl"); a failed call ".err". Writes at most
 * WARD_EVENT_TOKEN_MAX bytes and a NUL into buf; returns the length, 0 for
 * events that are not calls (perf timings). */
#define WARD_EVENT_TOKEN_MAX 48
size_t ward_event_token(const struct ward_event *ev, char *buf);
/* The argument class of an event (0..15) and whether its token depends on
 * more than the call and that class (exec attempts: the program name), so
 * that consumers can cache token ids per (call, class). */
unsigned ward_event_token_class(const struct ward_event *ev, bool *uncacheable);

/* Recording traces from events (`ward trace`): one trace per process
 * (a pid reused after a fork starts a new trace) or one per run, kept in
 * memory (at most WARD_TRACE_FILE_MAX bytes each; the rest is counted as
 * cut) and written as DIR/PREFIX-PID (or DIR/PREFIX) at the end; existing
 * files are never overwritten (a -2, -3... suffix is added). */
struct ward_trace_rec;
int ward_trace_rec_new(const char *dir, const char *prefix, bool per_run, struct ward_trace_rec **out,
                       ward_error_t *err);
void ward_trace_rec_event(struct ward_trace_rec *r, const struct ward_event *ev);
/* Writes every trace; *n_traces and *n_cut (tokens dropped) when non-NULL. */
int ward_trace_rec_finish(struct ward_trace_rec *r, size_t *n_traces, uint64_t *n_cut, ward_error_t *err);
void ward_trace_rec_free(struct ward_trace_rec *r);

/* Rate model. */
enum ward_rate_kind { WARD_RATE_EXEC, WARD_RATE_CONNECT, WARD_RATE_FILE_CREATE, WARD_RATE_COUNT };
#define WARD_RATE_BUCKETS 10
#define WARD_RATE_BUCKET_NS 100000000ull
struct ward_rate_model {
  uint32_t learned_max[WARD_RATE_COUNT];
  uint32_t threshold[WARD_RATE_COUNT];   /* 0: not calibrated (no alert) */
  bool trained;
  /* sliding window state */
  uint64_t bucket_start;                 /* ts of the current bucket */
  uint32_t bucket[WARD_RATE_COUNT][WARD_RATE_BUCKETS];
  uint32_t cur;                          /* index of the current bucket */
  uint32_t sum[WARD_RATE_COUNT];
  uint64_t alerted_until[WARD_RATE_COUNT];
};
const char *ward_rate_kind_name(enum ward_rate_kind k);
/* Which kind an event counts towards, or -1. */
int ward_rate_classify(const struct ward_event *ev);
/* Adds an event of kind k at ts_ns; returns the count in the last second. */
uint32_t ward_rate_add(struct ward_rate_model *r, enum ward_rate_kind k, uint64_t ts_ns);
void ward_rate_calibrate(struct ward_rate_model *r);
json_t *ward_rate_to_json(const struct ward_rate_model *r);
int ward_rate_from_json(json_t *j, const char *path, struct ward_rate_model *r, ward_error_t *err);

#endif
