/* Inside the detector: shared by detect.c (state, models, dispatch) and
 * detect_inject.c (the injected-code rules). */
#ifndef WARD_DETECT_INTERNAL_H
#define WARD_DETECT_INTERNAL_H

#include "agent/detect.h"
#include "agent/model.h"

#define PROC_CAP 1024u       /* processes tracked per container (power of two) */
#define PROC_PROBE 16u       /* slots searched before the oldest is evicted */
#define LEARN_IDS_MAX (1u << 18)   /* calls kept in learn mode to calibrate the threshold (2 MiB) */

enum {
  PROC_SERVER = 1,           /* listened or accepted, or descends from one that did */
  PROC_MEMFD = 2,            /* created a memfd */
  PROC_SHELL_ALERTED = 4,    /* inject.server_shell fired for this lineage */
  PROC_SEQ_ABOVE = 8,        /* model.sequence score above the threshold */
  PROC_SHELL_SEEN = 16,      /* exec'd a shell (before its fork record was seen, maybe) */
};

struct proc {
  uint32_t pid;              /* 0: empty */
  uint32_t serial;           /* distinguishes successive processes with one pid */
  uint64_t last;             /* detector clock at the last event, for eviction */
  uint64_t first_ts;         /* ts_ns of its first event (or of the fork that made it) */
  uint64_t exec_alert_key;   /* rule and path of the last exec alert, and when: the probe and */
  uint64_t exec_alert_ts;    /* the supervisor both report one exec; it alerts once */
  uint32_t flags;
  struct ward_seq_ctx seq;
};

struct learn_rec { uint32_t serial; uint16_t id; };

/* Executables found unmodified by the inject.exec_modified check, so a
 * binary a service execs over and over costs three system calls once per
 * EXEC_CLEAN_NS rather than on every exec (docs/detection.md). The window
 * is kept near the engine's own consume delay, and a probe-seen write to
 * the path (or any rename, link, unlink, chmod...) forgets the verdict,
 * because a cached "clean" is exactly what a rewrite-then-exec would hide
 * behind. */
#define EXEC_CLEAN_SLOTS 16u       /* direct-mapped by path hash (power of two): 2 KiB */
#define EXEC_CLEAN_PATH 112u       /* longer paths are checked every time */
#define EXEC_CLEAN_NS 1000000ull   /* 1 ms */
struct exec_clean {
  uint64_t until;                  /* CLOCK_MONOTONIC; 0: empty */
  uint32_t len;
  char path[EXEC_CLEAN_PATH];
};

struct ward_detector {
  struct ward_detect_config cfg;
  bool enabled[WARD_RULE_COUNT];
  struct ward_seq_model *seq;          /* never NULL */
  struct ward_rate_model rate;
  uint16_t call_ids[128][16];          /* token id per probe call and argument class (0: not cached) */
  uint16_t type_ids[WARD_EV_TYPE_COUNT][16];
  uint16_t sys_ids[512][16];           /* supervisor events: per system call and class */
  struct proc *procs;                  /* PROC_CAP */
  float *wbufs;                        /* PROC_CAP * window (n_wbufs) */
  size_t n_wbufs;
  uint32_t next_serial;
  uint64_t clock;
  struct exec_clean *exec_clean;       /* EXEC_CLEAN_SLOTS, allocated at the first exec checked */
  struct learn_rec *learned;           /* learn mode */
  size_t n_learned, cap_learned;
  struct ward_detector_stats stats;
};

struct proc *detect_proc(struct ward_detector *d, uint32_t pid, bool create);
void detect_emit(struct ward_detector *d, const struct ward_event *ev, ward_detect_fn fn, void *opaque,
                 enum ward_detect_rule rule, enum ward_severity sev, double score, const char *fmt, ...)
  __attribute__((format(printf, 8, 9)));
/* The injected-code rules for one event. */
void detect_inject(struct ward_detector *d, const struct ward_event *ev, struct proc *p, ward_detect_fn fn,
                   void *opaque);

#endif
