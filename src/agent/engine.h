/* The event engine: the one pipeline between a container's producers and
 * alerts/actions. `ward run` and `ward sandbox` run it in-process for their
 * one container; `ward agent` (agentd) runs it for many. Same code.
 *
 * Per container the engine owns
 *   - the ring (it is the ring's one consumer; it takes the consumer lock
 *     RUN/probe/ring.lock so `ward events`/`ward top` know to read the
 *     flight recorder instead),
 *   - the supervisor listener (seccomp user notifications; answered from the
 *     engine's thread, decide callback driven by the policy and the control
 *     page mode),
 *   - a pidfd of the init (its exit ends the container: last drain, template
 *     saved in learn mode),
 * and feeds every event to the flight recorder, the policy (template check or
 * learn, detector) and the metrics. Alerts go to the policy's or the engine's
 * alert output; actions through the actions part.
 *
 * Threading: one thread drives an engine (ward_engine_poll/run); add/remove
 * and metrics may be called from others (a mutex guards the container set).
 *
 * Ring polling: producers make no system call for a record unless the
 * engine sleeps armed on their ring (engine_wake.c). Armed, it sleeps until
 * a record that can raise an alert under the container's policy, a quarter
 * of a ring waiting, or (idle) any record at all, and at most lazy_us (25
 * ms, or --poll-max-us when given) so the rest is seen too. After a record that can
 * alert it stays awake for one hot sleep (more tend to follow), then arms
 * again. A ring that cannot wake the engine (an older probe wrote to it)
 * is left unarmed and looked at every lazy_us; more wakeable rings than
 * one futex_waitv takes, or a kernel without it, keep the engine polling
 * every ring: after an
 * event it spins (re-polls at once) for opts.spin_rounds empty rounds,
 * then sleeps idle_min_us, doubling up to hot_max_us while events came in
 * the last second (bursty workloads: low latency) and up to idle_max_us
 * after that (idle containers: little CPU).
 * Listeners, pidfds and stop_fd wake it at once through epoll. By default
 * (hot_max_us 0) the hot limit adapts: the engine measures how late its
 * timed sleeps end and sleeps as long as keeps the poll interval within
 * WARD_ENGINE_HOT_BUDGET_US for 99 % of them (engine.c). */
#ifndef WARD_ENGINE_H
#define WARD_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "agent/alert.h"
#include "agent/policy.h"
#include "common/error.h"
#include "probe/event.h"

struct ward_engine;

/* The adaptive hot sleep's target for the poll interval, late wake-ups
 * included: the alert latency target is 1 ms at p99 (issue 5), and the
 * rest is left for decoding, evaluation and writing the alert. The floor is
 * the former fixed limit: on a machine so busy that wake-ups come later
 * than the budget, polling more often would only take more CPU from it. */
#define WARD_ENGINE_HOT_BUDGET_US 600u
#define WARD_ENGINE_HOT_FLOOR_US 200u
/* The shortest sleep by default (ward_engine_opts.idle_min_us 0). */
#define WARD_ENGINE_IDLE_MIN_US 50u
/* Armed (engine_wake.c): how long a record that wakes nobody may wait for
 * the engine (unless --poll-max-us says otherwise), and how long an idle
 * engine sleeps when any record would wake it. 25 ms: a busy web server's
 * stream then wakes the engine about 40 times a second, as often as a
 * quarter of the default ring fills at 80,000 records a second. At 10 ms
 * nginx woke it 100 times a second and lost 3.7-4.7 % of its requests to
 * the probes on a 2-vCPU VM, against 2.3-2.9 % at 25 ms in the same
 * rounds (docs/benchmarks.md). */
#define WARD_ENGINE_LAZY_US 25000u
#define WARD_ENGINE_ARMED_IDLE_US 100000u

struct ward_engine_opts {
  struct ward_alert_out *alerts;   /* borrowed; NULL: the engine opens stdout */
  const char *state_root;          /* --root: where actions find containers */
  size_t flight_capacity;          /* events kept per container (0: 4096) */
  uint32_t spin_rounds;            /* empty rounds before sleeping (0: 64) */
  uint32_t idle_min_us, idle_max_us; /* sleep range when idle (0: 50, 1000) */
  uint32_t hot_max_us;             /* longest sleep within 1 s of an event (0: adaptive) */
  uint32_t lazy_us;                /* armed: longest wait of any record (0: WARD_ENGINE_LAZY_US, idle 100 ms) */
  /* Called from the engine's thread when a container's init has exited and
   * its ring has been drained (the container is then removed). */
  void (*on_exit)(void *opaque, const char *id);
  /* Called for every event after the pipeline (tests, `ward trace`). */
  ward_event_sink_fn tap;
  void *opaque;
  /* The process exits soon after ward_engine_run ends with its last
   * container (`ward run`, `ward sandbox`): its mappings are left to that
   * exit (ward_leave_mappings). */
  bool exit_after;
};

/* A caller's bound on the sleep between ring polls (`--poll-max-us`): idle
 * sleeps end within us; so do hot ones, and a bound above the adaptive
 * budget replaces it: alerts may then wait up to us, and a steady stream
 * of events is polled that rarely. Each poll is a wake-up, which on a small
 * VM costs the workload more than the decoding does (docs/benchmarks.md,
 * "Macro"). 0: the defaults. */
void ward_engine_opts_poll_max(struct ward_engine_opts *o, uint32_t us);
/* The range --poll-max-us accepts. */
#define WARD_POLL_MAX_MIN_US 10u
#define WARD_POLL_MAX_MAX_US 1000000u
/* --poll-max-us ARG (ward run, sandbox, agent) into *us: 0, or -1 when it
 * is not a number in that range (the caller's usage error). */
int ward_poll_max_parse(const char *arg, uint32_t *us);

struct ward_engine_container {
  const char *id;
  const char *app;                 /* NULL: policy->app, else id */
  const char *state_dir;           /* the container's state directory */
  const char *run_dir;             /* its memory directory (common/rundir.h); NULL: found or made */
  int ring_fd;                     /* -1: none (probes off) */
  bool have_ring_lock;             /* ring_lock_fd holds RUN/probe/ring.lock (taken over); */
  int ring_lock_fd;                /* false: the engine takes the lock itself */
  int listener_fd;                 /* -1: no supervisor */
  int pidfd;                       /* the init; -1: never exits by itself */
  pid_t pid;                       /* the init's host pid (detector root, snapshots) */
  pid_t ns_pid;                    /* its pid in its own pid namespace, while it is single-
                                    * threaded (spares the supervisor a /proc read); 0: unknown */
  struct timespec started;         /* CLOCK_REALTIME start; 0: now */
  struct ward_policy *policy;      /* taken over; NULL: mode off */
  /* Registered but not served until ward_engine_arm: its ring and pidfd
   * are not polled, and what reads the container's root (the detector,
   * protect mode's rules) is not opened, since /proc/PID/root is still the
   * host's while the init sets itself up. Lets `ward run` build the engine
   * during that set-up instead of after it. listener_fd must be -1. */
  bool held;
};

struct ward_engine_stats {
  uint64_t containers, events, alerts, denied, actions, action_errors;
  uint64_t ring_drops, ring_bad, ring_lost;
  uint64_t sv_notifications, sv_denied;
  uint64_t polls, sleeps;
  uint64_t armed_sleeps;   /* sleeps with the rings armed (engine_wake.c) */
  uint64_t ring_wakeups;   /* of those, ended by a producer's wake-up */
  uint64_t ring_noise;     /* the helper's wake-ups and failed waits no producer caused (a workload's FUTEX_WAKE): not passed on */
  uint64_t ring_quiet;     /* rings left unarmed for a while: their wake-ups, passed on, found no record */
};

int ward_engine_new(const struct ward_engine_opts *o, struct ward_engine **out, ward_error_t *err);
/* Drains and finalises every container left (learn: saves templates). */
void ward_engine_free(struct ward_engine *e);
/* Takes over the fds and the policy, also on failure. Loads the template
 * (monitor/protect), takes the ring consumer lock. */
int ward_engine_add(struct ward_engine *e, const struct ward_engine_container *c, ward_error_t *err);
/* Serves a held container: opens what depends on its root, takes over
 * listener_fd (-1: none) and polls its ring, listener and pidfd. The
 * caller must have saved the container's state first (an action on its
 * first event loads it). On failure it stays held, to be removed. */
int ward_engine_arm(struct ward_engine *e, const char *id, int listener_fd, ward_error_t *err);
/* Drains the container's ring, finalises it (learn: saves the template) and
 * forgets it; -1 if unknown. */
int ward_engine_remove(struct ward_engine *e, const char *id);
bool ward_engine_has(struct ward_engine *e, const char *id);
/* An epoll fd that is readable when a listener or pidfd needs attention;
 * rings are polled (see above). */
int ward_engine_fd(struct ward_engine *e);
/* Also watches fd (-1: stop watching) in the loop: when it is readable,
 * fn(opaque) runs on the loop's thread, with the engine's lock held (so it
 * must not call the engine). `ward run` forwards signals this way. */
int ward_engine_watch(struct ward_engine *e, int fd, void (*fn)(void *opaque), void *opaque, ward_error_t *err);
/* One round: listeners, exits, rings. Waits up to timeout_ms (0: not at
 * all, -1: until something happens) for epoll events only when no ring had
 * anything. Returns the number of events handled, < 0 on error. */
int ward_engine_poll(struct ward_engine *e, int timeout_ms, ward_error_t *err);
/* Loops until stop_fd (-1: none) is readable or, with stop_fd -1, no
 * container is left; then drains and finalises every container. */
int ward_engine_run(struct ward_engine *e, int stop_fd, ward_error_t *err);
/* Prometheus text exposition of the engine's and every container's
 * counters. */
void ward_engine_metrics(struct ward_engine *e, FILE *out);
void ward_engine_get_stats(struct ward_engine *e, struct ward_engine_stats *out);
/* The container's counters (events, alerts, denied, drops, ...) into *out;
 * -1 if unknown. */
int ward_engine_container_stats(struct ward_engine *e, const char *id, struct ward_engine_stats *out);

#endif
