/* Shared between engine.c (container set, polling, metrics) and
 * engine_pipeline.c (what happens to one event, the supervisor's verdicts). */
#ifndef WARD_ENGINE_INTERNAL_H
#define WARD_ENGINE_INTERNAL_H

#include <pthread.h>

#include "agent/engine.h"
#include "probe/control_format.h"
#include "probe/ring.h"
#include "supervisor/supervisor.h"

enum ep_kind { EP_LISTENER = 1, EP_PIDFD, EP_STOP, EP_WAKE, EP_WATCH };

struct ep_ref {
  enum ep_kind kind;
  struct ctr *c;
};

#define EXE_SLOTS 64    /* pid -> last exec'd path, for the alert's "exe" (16 KiB per container: the agent holds hundreds) */

struct exe_slot {
  uint32_t pid;
  char path[256];
};

struct ctr {
  struct ward_engine *e;
  char *id, *app, *state_dir;
  char *run_dir;                       /* its memory directory (common/rundir.h) */
  bool app_explicit;                    /* given by the caller or the policy, not defaulted */
  struct ward_policy *policy;
  struct ward_alert_out *alerts;       /* the policy's own output, or the engine's */
  bool own_alerts;
  struct ward_ring *ring;
  int lock_fd;
  struct ward_supervisor *sv;
  struct ward_supervisor *sv_early;     /* made while held, given the listener at the arm */
  int pidfd;
  pid_t pid, ns_pid;
  struct timespec started;
  const volatile struct ward_control *ctl; /* read-only map of the control page */
  struct ep_ref ep_listener, ep_pidfd;
  bool exited;
  /* fully set up: its ring, listener and pidfd are polled, and learning is
   * saved. A listed container that is not served is held (engine.h). */
  bool served;
  bool arm_failed;                      /* a failed arm leaves half of it: never again */
  bool sv_missing;                      /* decide saw an exec of a missing file; its sink call comes next */
  bool sv_missing_pending;              /* ... or left the look to that sink call (nothing waits for it there) */
  uint32_t sv_missing_tid;
  uint32_t actions_taken;               /* bit per enum ward_policy_action in effect */
  uint64_t last_snapshot_ns;
  struct ward_engine_stats st;
  uint64_t wake_mask;                   /* record types that wake an armed engine (pipeline_wake_mask) */
  uint32_t seen_ctl_mode;               /* the control page's mode the ring's seen-set was filled under */
  uint32_t armed_mode;                  /* what the engine last stored in the ring's wake word (private) */
  uint32_t waiter_val;                  /* what the helper last expects that word to hold (0 = OFF until it looks) */
  uint64_t armed_stamp;                 /* which arm stored armed_mode (engine's arm_stamps), 0 never */
  uint64_t woke_stamp;                  /* the arm in which its word last woke the helper */
  uint64_t judged_stamp;                /* the last woke_stamp a drain judged (engine_wake_judge) */
  uint64_t drained_in_arm;              /* records drained by any path since its last arm */
  uint32_t empty_wakes;                 /* wake-ups whose drain found nothing, less those that found records */
  uint64_t quiet_until_ns;              /* not armed before (CLOCK_MONOTONIC): its wake-ups were empty */
  bool wake_off;                        /* left unarmed by the last arm: the helper does not wait on it */
  struct exe_slot exe[EXE_SLOTS];
  struct pipeline *pl;                  /* engine_pipeline.c's per-container state */
  struct ctr *next;
};

/* A container whose ring the engine reads: served (engine.h) and with a
 * ring mapped. Only such rings are drained, armed and waited on. */
static inline bool ctr_ring_served(const struct ctr *c)
{
  return c->served && c->ring != NULL;
}

struct ward_engine {
  struct ward_engine_opts o;
  struct ward_alert_out *alerts;
  bool own_alerts;
  int epfd;
  pthread_mutex_t lock;
  struct ctr *list;
  struct ward_engine_stats totals;      /* of removed containers */
  uint32_t idle_rounds, sleep_us;
  uint64_t last_event_ns;               /* CLOCK_MONOTONIC of the last ring event */
  /* adaptive hot sleep (opts.hot_max_us == 0): the current longest sleep
   * within 1 s of an event, and how late the last timed sleeps ended (us) */
  bool hot_adaptive;
  uint32_t hot_us;
  uint32_t late_us[128];
  uint32_t late_n;
  struct ep_ref ep_stop;
  uint64_t finalize_errors;             /* templates that could not be saved */
  /* ward_engine_add from another thread (the agent) wakes a loop that
   * sleeps in epoll with no ring to poll */
  int wake_fd;
  struct ep_ref ep_wake;
  /* ward_engine_watch: a caller's fd and what to do when it is readable */
  struct ep_ref ep_watch;
  int watch_fd;
  void (*watch_fn)(void *opaque);
  void *watch_opaque;
  /* armed sleeping (engine_wake.c): the helper that waits on the rings'
   * wake words, the word that makes it look at the ring set again, and
   * the longest a record that wakes nobody may wait */
  pthread_t waker;
  bool waker_on, waker_stop;            /* waker_stop: written under the lock, read without it too */
  bool waker_failed;                    /* it could not be started: not tried again */
  uint32_t waker_kick;
  uint64_t arm_stamps;                  /* ring arms so far: each arm's stamp (under the lock) */
  uint64_t waker_forwarded;
  uint64_t waker_noise;                 /* helper wake-ups not passed on (engine_wake.c) */
  uint64_t waker_quiet;                 /* rings left unarmed after empty wake-ups (under the lock) */
  uint32_t lazy_us, armed_idle_us;
  bool waker_broken;                    /* futex_waitv failed for good: poll */
  uint64_t urgent;                      /* drained records of a wake_mask type, since last taken */
  bool arm_partial;                     /* the last arm left a ring that delivers unarmed: look every lazy_us */
  bool until_empty;                     /* ward_engine_run ends with its last container */
};

/* engine.c */
/* name (WARD_FLIGHT_FILE, WARD_STATE_PROBE "/...") in the container's
 * memory directory, allocated; NULL when out of memory. */
char *ctr_run_path(const struct ctr *c, const char *name);

/* engine_wake.c */
bool engine_waker_start(struct ward_engine *e);   /* false: futex_waitv missing, poll */
bool engine_waker_usable(struct ward_engine *e);  /* started and not failed since */
void engine_waker_stop(struct ward_engine *e);
/* With the lock held: the helper ends, without being waited for (the last
 * container has gone from an engine that ends with it); engine_waker_stop
 * joins it. */
void engine_waker_let_go(struct ward_engine *e);
void engine_waker_kick(struct ward_engine *e);    /* the ring set changed */
/* With the lock held: arms every served ring in mode that can wake the
 * engine and has not woken it for nothing lately (e->arm_partial when it
 * left one unarmed), or none (false: no helper, or more wakeable rings
 * than one wait takes). */
bool engine_arm(struct ward_engine *e, uint32_t mode);
void engine_disarm(struct ward_engine *e);
/* With the lock held, after each drain_all: whether a wake-up passed on
 * for c's arm found anything (drained_in_arm). */
void engine_wake_judge(struct ctr *c);

/* engine_pipeline.c */
/* open: what the container's root is not needed for (the flight
 * recorder); arm: the rest, once /proc/PID/root is the container's. */
int pipeline_open(struct ctr *c, ward_error_t *err);
int pipeline_arm(struct ctr *c, ward_error_t *err);
void pipeline_event(struct ctr *c, const struct ward_event *ev);
void pipeline_close(struct ctr *c);   /* learn: saves the template */
void pipeline_decide(void *opaque, const struct ward_supervisor_call *call, struct ward_supervisor_verdict *v);
void pipeline_sink(void *opaque, const struct ward_event *ev);
uint64_t pipeline_wake_mask(const struct ctr *c);
void pipeline_alert(struct ctr *c, const struct ward_event *ev, const char *rule, enum ward_severity sev,
                    const char *detail, bool denied);

#endif
