/* The engine's container set, its polling loop and its metrics (engine.h).
 * What happens to each event is engine_pipeline.c. */
#include "agent/engine_internal.h"
#include "common/cleanup.h"
#include "common/rundir.h"
#include "common/util.h"
#include "probe/prepare.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define DRAIN_BATCH 4096

int ward_engine_new(const struct ward_engine_opts *o, struct ward_engine **out, ward_error_t *err)
{
  _cleanup_free_ struct ward_engine *e = calloc(1, sizeof(*e));
  if (e == NULL)
    return ward_error(err, ENOMEM, "engine");
  if (o)
    e->o = *o;
  if (e->o.flight_capacity == 0)
    e->o.flight_capacity = 4096;
  if (e->o.spin_rounds == 0)
    e->o.spin_rounds = 64;
  if (e->o.idle_min_us == 0)
    e->o.idle_min_us = WARD_ENGINE_IDLE_MIN_US;
  /* an explicit --poll-max-us bounds every record's wait, armed or not */
  e->lazy_us = e->o.lazy_us ? e->o.lazy_us : WARD_ENGINE_LAZY_US;
  e->armed_idle_us = e->o.lazy_us ? e->o.lazy_us : WARD_ENGINE_ARMED_IDLE_US;
  if (e->o.idle_max_us < e->o.idle_min_us)
    e->o.idle_max_us = e->o.idle_min_us > 1000 ? e->o.idle_min_us : 1000;
  /* adaptive: start where the fixed default was, the first sleeps adjust it */
  e->hot_adaptive = e->o.hot_max_us == 0;
  if (e->hot_adaptive)
    e->o.hot_max_us = 200;
  if (e->o.hot_max_us < e->o.idle_min_us)
    e->o.hot_max_us = e->o.idle_min_us;
  if (e->o.hot_max_us > e->o.idle_max_us)
    e->o.hot_max_us = e->o.idle_max_us;
  e->sleep_us = e->o.idle_min_us;
  e->hot_us = e->o.hot_max_us;
  /* the spin follows ring events: before the first there is nothing that
   * makes another one likely */
  e->idle_rounds = e->o.spin_rounds;
  e->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (e->epfd < 0)
    return ward_error_sys(err, "epoll_create1");
  e->alerts = e->o.alerts;
  if (e->alerts == NULL) {
    if (ward_alert_out_open(NULL, NULL, &e->alerts, err) < 0) {
      close(e->epfd);
      return -1;
    }
    e->own_alerts = true;
  }
  pthread_mutex_init(&e->lock, NULL);
  e->ep_stop.kind = EP_STOP;
  e->ep_wake.kind = EP_WAKE;
  e->ep_watch.kind = EP_WATCH;
  e->watch_fd = -1;
  e->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  struct epoll_event wev = {.events = EPOLLIN, .data.ptr = &e->ep_wake};
  if (e->wake_fd < 0 || epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->wake_fd, &wev) < 0) {
    ward_error_sys(err, "engine wake fd");
    if (e->wake_fd >= 0)
      close(e->wake_fd);
    if (e->own_alerts)
      ward_alert_out_free(e->alerts);
    close(e->epfd);
    return -1;
  }
  *out = steal_pointer(&e);
  return 0;
}

static void stats_add(struct ward_engine_stats *to, const struct ward_engine_stats *s)
{
  uint64_t *a = (uint64_t *) to;
  const uint64_t *b = (const uint64_t *) s;
  for (size_t i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
    a[i] += b[i];
}

static void ring_stats(struct ctr *c)
{
  if (c->ring == NULL)
    return;
  struct ward_ring_stats rs;
  ward_ring_get_stats(c->ring, &rs);
  c->st.ring_drops = rs.drops;
  c->st.ring_bad = rs.bad;
  c->st.ring_lost = rs.lost;
}

/* Counts what would have woken an armed engine: after such a record the
 * engine stays awake a while (more tend to follow: a shell's commands), for
 * the rest it sleeps armed. A record that raised no alert goes into the
 * ring's seen-set (ring_seen.h): its repeats would not have woken the
 * engine, and will not. One that alerted stays out, so its repeats wake
 * it at once too. */
static void engine_sink(void *opaque, const struct ward_event *ev)
{
  struct ctr *c = opaque;
  if (!ward_ring_wake_wanted(c->wake_mask, ev->type, ev->flags)) {
    pipeline_event(c, ev);
    return;
  }
  uint64_t key = ward_event_seen_key(ev), alerts = c->st.alerts;
  pipeline_event(c, ev);
  if (key == 0 || c->st.alerts != alerts || !ward_ring_seen_note(c->ring, key))
    c->e->urgent++;
}

static size_t drain_ring(struct ctr *c, size_t max)
{
  if (c->ring == NULL)
    return 0;
  size_t n = ward_ring_drain(c->ring, engine_sink, c, max);
  c->drained_in_arm += n;
  if (n)
    ring_stats(c);
  return n;
}

static size_t drain_ring(struct ctr *c, size_t max);

static void handle_listener(struct ctr *c)
{
  if (c->sv == NULL)
    return;
  /* A probe writes its record before the call it reports reaches the
   * kernel: taking the ring first keeps the probe's event ahead of the
   * supervisor's for the same call, whatever the wake-up order (the
   * sequence model depends on a stable order). */
  drain_ring(c, 1u << 16);
  /* bounded: one busy container cannot starve the others */
  for (int i = 0; i < 64; i++) {
    _cleanup_error_ ward_error_t err = NULL;
    int r = ward_supervisor_handle_one(c->sv, &err);
    if (r == WARD_SUPERVISOR_HANDLED)
      continue;
    if (r == WARD_SUPERVISOR_HANGUP || r < 0) {
      const struct ward_supervisor_stats *s = ward_supervisor_stats(c->sv);
      c->st.sv_notifications = s->notifications;
      c->st.sv_denied = s->denied;
      epoll_ctl(c->e->epfd, EPOLL_CTL_DEL, ward_supervisor_fd(c->sv), NULL);
      ward_supervisor_free(c->sv);
      c->sv = NULL;
    }
    break;
  }
  if (c->sv) {
    const struct ward_supervisor_stats *s = ward_supervisor_stats(c->sv);
    c->st.sv_notifications = s->notifications;
    c->st.sv_denied = s->denied;
  }
}

/* Everything the container can still deliver: the ring to the end (its
 * processes are gone, so the backlog is finite) and pending notifications. */
static void final_drain(struct ctr *c)
{
  handle_listener(c);
  for (int i = 0; i < 1024 && drain_ring(c, DRAIN_BATCH) > 0; i++)
    ;
  ring_stats(c);
}

/* Stops polling the container: its supervisor goes, its pidfd stays open. */
static void ctr_unpoll(struct ctr *c)
{
  if (c->sv) {
    epoll_ctl(c->e->epfd, EPOLL_CTL_DEL, ward_supervisor_fd(c->sv), NULL);
    ward_supervisor_free(c->sv);
    c->sv = NULL;
  }
  if (c->pidfd >= 0)
    epoll_ctl(c->e->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
}

static void ctr_free(struct ctr *c)
{
  if (c == NULL)
    return;
  pipeline_close(c);
  ctr_unpoll(c);
  ward_supervisor_free(c->sv_early);
  if (c->pidfd >= 0)
    close(c->pidfd);
  if (c->ring)
    ward_ring_close(c->ring);
  if (c->lock_fd >= 0)
    close(c->lock_fd);
  if (c->ctl && !ward_mappings_left())
    munmap((void *) c->ctl, WARD_CTL_SIZE);
  if (c->own_alerts)
    ward_alert_out_free(c->alerts);
  ward_policy_free(c->policy);
  free(c->id);
  free(c->app);
  free(c->state_dir);
  free(c->run_dir);
  free(c);
}

static void ctr_finish(struct ctr *c)
{
  if (c->served)
    final_drain(c);
  stats_add(&c->e->totals, &c->st);
}

static int open_ring(struct ctr *c, int ring_fd, ward_error_t *err)
{
  /* The lock tells `ward events`/`ward top` that the engine consumes this
   * ring, so they read the flight recorder instead. The runtime may have
   * taken it already, before the container was visible (have_ring_lock). */
  if (c->lock_fd < 0) {
    _cleanup_free_ char *lock = ctr_run_path(c, WARD_STATE_PROBE "/" WARD_PROBE_RING ".lock");
    if (lock == NULL)
      return ward_error(err, ENOMEM, "engine");
    if (ward_ring_lock_consumer(lock, &c->lock_fd, err) < 0)
      return ward_error_prefix(err, "container \"%s\"", c->id);
  }
  if (ward_ring_open_fd(ring_fd, WARD_RING_ALLOW_UNSEALED, 0, &c->ring, err) < 0)
    return ward_error_prefix(err, "container \"%s\": ring", c->id);
  return 0;
}

char *ctr_run_path(const struct ctr *c, const char *name)
{
  char *p = NULL;
  return asprintf(&p, "%s/%s", c->run_dir, name) < 0 ? NULL : p;
}

static void map_control(struct ctr *c)
{
  _cleanup_free_ char *path = ctr_run_path(c, WARD_STATE_PROBE "/" WARD_PROBE_CONTROL);
  _cleanup_close_ int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0)
    return;
  /* populated now: one page, read on every event */
  void *m = mmap(NULL, WARD_CTL_SIZE, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (m != MAP_FAILED)
    c->ctl = m;
}

/* A container was added or armed: the loop looks again, and the helper
 * waits on its ring too. */
static void wake(struct ward_engine *e)
{
  engine_waker_kick(e);
  uint64_t one = 1;
  if (write(e->wake_fd, &one, sizeof(one)) < 0)
    (void) 0;  /* already pending */
}

/* What reads the container's root, then its listener and pidfd polled. */
/* The container's supervisor reports to its pipeline. */
#define SV_OPTIONS(c) ((struct ward_supervisor_options) {.decide = pipeline_decide, .sink = pipeline_sink, .opaque = (c)})

static int ctr_serve(struct ward_engine *e, struct ctr *c, int *listener_fd, ward_error_t *err)
{
  if (pipeline_arm(c, err) < 0)
    return -1;
  if (*listener_fd < 0) {
    /* no filter was installed after all (opted out, or no no_new_privs) */
    ward_supervisor_free(c->sv_early);
    c->sv_early = NULL;
  } else {
    int fd = steal_fd(listener_fd);
    if (c->sv_early) {
      c->sv = steal_pointer(&c->sv_early);
      if (ward_supervisor_attach(c->sv, fd, err) < 0)
        return -1;
    } else if (ward_supervisor_new(fd, &SV_OPTIONS(c), &c->sv, err) < 0) {
      return -1;
    }
    ward_supervisor_seed_ids(c->sv, c->pid, c->ns_pid);
    c->ep_listener = (struct ep_ref) {EP_LISTENER, c};
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c->ep_listener};
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, ward_supervisor_fd(c->sv), &ev) < 0)
      return ward_error_sys(err, "epoll listener");
  }
  if (c->pidfd >= 0) {
    c->ep_pidfd = (struct ep_ref) {EP_PIDFD, c};
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c->ep_pidfd};
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, c->pidfd, &ev) < 0)
      return ward_error_sys(err, "epoll pidfd");
  }
  return 0;
}

static int ctr_setup(struct ward_engine *e, struct ctr *c, const struct ward_engine_container *in, int *ring_fd,
                     int *listener_fd, ward_error_t *err)
{
  if (in->id == NULL || in->state_dir == NULL)
    return ward_error(err, EINVAL, "engine: a container needs an id and a state directory");
  c->id = strdup(in->id);
  c->state_dir = strdup(in->state_dir);
  /* found once: the probe files' and the flight recorder's paths all
   * start there (a plain one is made for a recorder without probes) */
  char run_dir[PATH_MAX];
  if (in->run_dir)
    c->run_dir = strdup(in->run_dir);
  else if (ward_run_dir_ensure(in->state_dir, run_dir, sizeof(run_dir), err) < 0)
    return ward_error_prefix(err, "container \"%s\"", in->id);
  else
    c->run_dir = strdup(run_dir);
  const char *app = in->app ? in->app : c->policy && c->policy->app ? c->policy->app : in->id;
  c->app_explicit = in->app || (c->policy && c->policy->app);
  c->app = strdup(app);
  if (!c->id || !c->state_dir || !c->run_dir || !c->app)
    return ward_error(err, ENOMEM, "engine");
  if (c->policy == NULL && (c->policy = ward_policy_new()) == NULL)
    return ward_error(err, ENOMEM, "engine");
  c->alerts = e->alerts;
  if (c->policy->alerts) {
    struct ward_alert_limits lim = {.burst = c->policy->alert_burst, .per_second = c->policy->alert_per_second};
    if (ward_alert_out_open(c->policy->alerts, &lim, &c->alerts, err) < 0)
      return -1;
    c->own_alerts = true;
  }
  c->started = in->started;
  if (c->started.tv_sec == 0)
    clock_gettime(CLOCK_REALTIME, &c->started);
  map_control(c);
  if (*ring_fd >= 0 && open_ring(c, *ring_fd, err) < 0)
    return -1;
  if (pipeline_open(c, err) < 0)
    return -1;
  if (in->held) {
    if (*listener_fd >= 0)
      return ward_error(err, EINVAL, "engine: a held container takes its listener when armed");
    /* Held while its init sets itself up: the supervisor is made now, so
     * that the arm (which the init's first execve waits for) only hands
     * it the listener. Not an error if this fails: the arm tries again. */
    _cleanup_error_ ward_error_t ignored = NULL;
    if (c->policy->supervisor && ward_supervisor_new(-1, &SV_OPTIONS(c), &c->sv_early, &ignored) < 0)
      c->sv_early = NULL;
    return 0;
  }
  if (ctr_serve(e, c, listener_fd, err) < 0)
    return -1;
  c->served = true;
  return 0;
}

static bool has_locked(struct ward_engine *e, const char *id);

int ward_engine_add(struct ward_engine *e, const struct ward_engine_container *in, ward_error_t *err)
{
  int ring_fd = in->ring_fd, listener_fd = in->listener_fd;
  struct ctr *c = calloc(1, sizeof(*c));
  if (c == NULL) {
    ward_policy_free(in->policy);
    if (ring_fd >= 0) close(ring_fd);
    if (listener_fd >= 0) close(listener_fd);
    if (in->pidfd >= 0) close(in->pidfd);
    if (in->have_ring_lock && in->ring_lock_fd >= 0) close(in->ring_lock_fd);
    return ward_error(err, ENOMEM, "engine");
  }
  c->e = e;
  c->lock_fd = in->have_ring_lock ? in->ring_lock_fd : -1;
  c->pidfd = in->pidfd;
  c->pid = in->pid;
  c->ns_pid = in->ns_pid;
  c->policy = in->policy;
  pthread_mutex_lock(&e->lock);
  int rc = has_locked(e, in->id ? in->id : "") ? ward_error(err, EEXIST, "engine: container \"%s\" is already registered", in->id)
                                                     : ctr_setup(e, c, in, &ring_fd, &listener_fd, err);
  if (rc == 0) {
    c->next = e->list;
    e->list = c;
    e->totals.containers++;
  }
  pthread_mutex_unlock(&e->lock);
  if (rc == 0)
    wake(e);
  /* the ring memfd is mapped by now; the mapping keeps it */
  if (ring_fd >= 0)
    close(ring_fd);
  if (listener_fd >= 0)
    close(listener_fd);
  if (rc < 0)
    ctr_free(c);
  return rc;
}

int ward_engine_arm(struct ward_engine *e, const char *id, int listener_fd, ward_error_t *err)
{
  pthread_mutex_lock(&e->lock);
  struct ctr *c = e->list;
  while (c && strcmp(c->id, id) != 0)
    c = c->next;
  int rc = c == NULL ? ward_error(err, ENOENT, "engine: no container \"%s\"", id)
           : c->served ? ward_error(err, EALREADY, "engine: container \"%s\" is served already", id)
           : c->arm_failed ? ward_error(err, EINVAL, "engine: container \"%s\" failed to arm", id)
           : ctr_serve(e, c, &listener_fd, err);
  if (rc == 0) {
    c->served = true;
    /* The init's execve may be waiting for its verdict already (it
     * follows 'R' by the time a seccomp profile takes to load): answered
     * here, not after the caller has gone on to the loop. */
    handle_listener(c);
  } else if (c && !c->served && !c->arm_failed) {
    /* still held: what the failed arm registered is not polled, and the
     * rest goes with the container */
    c->arm_failed = true;
    ctr_unpoll(c);
  }
  pthread_mutex_unlock(&e->lock);
  if (listener_fd >= 0)
    close(listener_fd);
  if (rc == 0)
    wake(e);
  return rc;
}

static bool has_locked(struct ward_engine *e, const char *id)
{
  for (struct ctr *c = e->list; c; c = c->next)
    if (strcmp(c->id, id) == 0)
      return true;
  return false;
}

bool ward_engine_has(struct ward_engine *e, const char *id)
{
  pthread_mutex_lock(&e->lock);
  bool r = has_locked(e, id);
  pthread_mutex_unlock(&e->lock);
  return r;
}

static void unlink_ctr(struct ward_engine *e, struct ctr *c)
{
  for (struct ctr **pp = &e->list; *pp; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      /* its ring is about to be unmapped: the helper must let go of it */
      if (ctr_ring_served(c))
        engine_waker_kick(e);
      return;
    }
}

int ward_engine_remove(struct ward_engine *e, const char *id)
{
  pthread_mutex_lock(&e->lock);
  struct ctr *c = e->list;
  while (c && strcmp(c->id, id) != 0)
    c = c->next;
  if (c) {
    unlink_ctr(e, c);
    ctr_finish(c);
  }
  pthread_mutex_unlock(&e->lock);
  ctr_free(c);
  return c ? 0 : -1;
}

int ward_engine_fd(struct ward_engine *e) { return e->epfd; }

int ward_engine_watch(struct ward_engine *e, int fd, void (*fn)(void *opaque), void *opaque, ward_error_t *err)
{
  pthread_mutex_lock(&e->lock);
  if (e->watch_fd >= 0)
    epoll_ctl(e->epfd, EPOLL_CTL_DEL, e->watch_fd, NULL);
  e->watch_fd = -1;
  e->watch_fn = NULL;
  int rc = 0;
  if (fd >= 0) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &e->ep_watch};
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
      rc = ward_error_sys(err, "epoll watch");
    } else {
      e->watch_fd = fd;
      e->watch_fn = fn;
      e->watch_opaque = opaque;
    }
  }
  pthread_mutex_unlock(&e->lock);
  return rc;
}

static void container_exited(struct ward_engine *e, struct ctr *c)
{
  unlink_ctr(e, c);
  ctr_finish(c);
  /* the process only removes the container and exits after this one */
  if (e->until_empty && e->o.exit_after && e->list == NULL)
    ward_leave_mappings();
  char *id = strdup(c->id);
  ctr_free(c);
  if (e->o.on_exit && id)
    e->o.on_exit(e->o.opaque, id);
  free(id);
}

static size_t drain_all(struct ward_engine *e)
{
  size_t n = 0;
  for (struct ctr *c = e->list; c; c = c->next)
    if (c->served) {
      n += drain_ring(c, DRAIN_BATCH);
      engine_wake_judge(c);
    }
  return n;
}

static bool any_ring(struct ward_engine *e)
{
  for (struct ctr *c = e->list; c; c = c->next)
    if (ctr_ring_served(c))
      return true;
  return false;
}

/* Waits up to wait_ns (-1: forever) and handles what epoll reports; returns
 * true when stop_fd fired. */
static bool wait_events(struct ward_engine *e, int64_t wait_ns, int *handled)
{
  struct epoll_event evs[32];
  struct timespec ts = {.tv_sec = wait_ns / 1000000000, .tv_nsec = wait_ns % 1000000000};
  int n = epoll_pwait2(e->epfd, evs, 32, wait_ns < 0 ? NULL : &ts, NULL);
  if (n < 0 && errno == ENOSYS)
    n = epoll_wait(e->epfd, evs, 32, wait_ns < 0 ? -1 : (int) ((wait_ns + 999999) / 1000000));
  bool stop = false;
  pthread_mutex_lock(&e->lock);
  /* exits last: a container's notifications and ring come first */
  for (int i = 0; i < n; i++) {
    struct ep_ref *r = evs[i].data.ptr;
    if (r->kind == EP_STOP) {
      stop = true;
    } else if (r->kind == EP_WAKE) {
      uint64_t v;
      if (read(e->wake_fd, &v, sizeof(v)) > 0)
        (*handled)++;
    }
    else if (r->kind == EP_LISTENER)
      handle_listener(r->c), (*handled)++;
    else if (r->kind == EP_WATCH && e->watch_fn)
      e->watch_fn(e->watch_opaque), (*handled)++;
  }
  for (int i = 0; i < n; i++) {
    struct ep_ref *r = evs[i].data.ptr;
    if (r->kind == EP_PIDFD && !r->c->exited) {
      r->c->exited = true;
      (*handled)++;
    }
  }
  /* an engine that ends with its containers ends once they are finalised:
   * the helper has nothing left to wait for, and ends meanwhile instead of
   * being joined after */
  if (e->until_empty && n > 0 && e->list) {
    bool all_exited = true;
    for (struct ctr *c = e->list; c && all_exited; c = c->next)
      all_exited = c->exited;
    if (all_exited)
      engine_waker_let_go(e);
  }
  for (struct ctr *c = e->list, *next; c; c = next) {
    next = c->next;
    if (c->exited)
      container_exited(e, c);
  }
  pthread_mutex_unlock(&e->lock);
  return stop;
}

int ward_engine_poll(struct ward_engine *e, int timeout_ms, ward_error_t *err)
{
  (void) err;
  pthread_mutex_lock(&e->lock);
  size_t n = drain_all(e);
  pthread_mutex_unlock(&e->lock);
  int handled = 0;
  wait_events(e, n ? 0 : timeout_ms < 0 ? -1 : (int64_t) timeout_ms * 1000000, &handled);
  e->totals.polls++;
  return (int) n + handled;
}

/* After a timed sleep of wait_ns that nothing cut short, which took
 * slept_ns: updates the adaptive hot limit. Every wake-up costs the
 * workload CPU (20-50 us of it in a small VM, most of it in the kernel's
 * sleep and wake-up), so the engine should sleep as long as the latency
 * target allows; what limits the sleep is how late wake-ups come (hundreds
 * of microseconds on a busy machine). The hot limit is the budget minus the
 * second-worst lateness of the last 128 sleeps (a p99), recomputed every 32. */
static void adapt_hot(struct ward_engine *e, int64_t wait_ns, uint64_t slept_ns)
{
  if (!e->hot_adaptive || wait_ns <= 0)
    return;
  uint64_t late = slept_ns > (uint64_t) wait_ns ? (slept_ns - (uint64_t) wait_ns) / 1000 : 0;
  size_t cap = sizeof(e->late_us) / sizeof(e->late_us[0]);
  e->late_us[e->late_n++ % cap] = late > UINT32_MAX ? UINT32_MAX : (uint32_t) late;
  if (e->late_n % 32 != 0)
    return;
  size_t n = e->late_n < cap ? e->late_n : cap;
  uint32_t top = 0, second = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t v = e->late_us[i];
    if (v > top) {
      second = top;
      top = v;
    } else if (v > second) {
      second = v;
    }
  }
  uint32_t p99 = n < cap ? top : second;
  uint32_t hot = p99 < WARD_ENGINE_HOT_BUDGET_US ? WARD_ENGINE_HOT_BUDGET_US - p99 : 0;
  uint32_t lo = e->o.idle_min_us > WARD_ENGINE_HOT_FLOOR_US ? e->o.idle_min_us : WARD_ENGINE_HOT_FLOOR_US;
  if (hot < lo)
    hot = lo;
  if (hot > e->o.idle_max_us)
    hot = e->o.idle_max_us;
  e->hot_us = hot;
}

static void finish_all(struct ward_engine *e)
{
  pthread_mutex_lock(&e->lock);
  while (e->list) {
    struct ctr *c = e->list;
    e->list = c->next;
    ctr_finish(c);
    ctr_free(c);
  }
  pthread_mutex_unlock(&e->lock);
}

int ward_poll_max_parse(const char *arg, uint32_t *us)
{
  char *end;
  errno = 0;
  long v = strtol(arg, &end, 10);
  if (errno || end == arg || *end || v < (long) WARD_POLL_MAX_MIN_US || v > (long) WARD_POLL_MAX_MAX_US)
    return -1;
  *us = (uint32_t) v;
  return 0;
}

void ward_engine_opts_poll_max(struct ward_engine_opts *o, uint32_t us)
{
  if (us == 0)
    return;
  o->idle_max_us = us;
  o->lazy_us = us;
  if (us < WARD_ENGINE_IDLE_MIN_US)
    o->idle_min_us = us;   /* or the engine would raise the bound to its default range */
  if (us > WARD_ENGINE_HOT_BUDGET_US)
    o->hot_max_us = us;
}

/* A sleep no one has chosen yet: the loop's own policy decides it (0 is
 * "do not sleep", -1 "until epoll says"). */
#define WAIT_UNDECIDED INT64_C(-2)

/* Arms every ring in mode, drains once more (a record published while
 * arming may have woken nobody) and says how long to sleep: false when the
 * engine must not sleep armed (a ring cannot wake it, or what the last
 * drain found asks for it awake); *wait_ns is then set when it knows, and
 * left WAIT_UNDECIDED when it does not. */
static bool arm_rings(struct ward_engine *e, uint32_t mode, int64_t *wait_ns)
{
  pthread_mutex_lock(&e->lock);
  bool armed = engine_arm(e, mode);
  size_t n = 0;
  uint64_t urgent = 0;
  if (armed) {
    e->urgent = 0;
    n = drain_all(e);
    /* No longer empty: armed for what can alert instead. A producer that
     * took the ANY wake-up after that drain woke nobody (the helper cannot
     * collect while the lock is held) and its 0 is overwritten now, so
     * drain once more, as after any arm. */
    if (n > 0 && n < DRAIN_BATCH && e->urgent == 0 && mode == WARD_RING_WAKE_ANY) {
      armed = engine_arm(e, mode = WARD_RING_WAKE_URGENT);
      if (armed)
        n += drain_all(e);
    }
    urgent = e->urgent;
    if (urgent || n >= DRAIN_BATCH || !armed)
      engine_disarm(e), armed = false;
  }
  pthread_mutex_unlock(&e->lock);
  if (!armed) {
    *wait_ns = n >= DRAIN_BATCH ? 0 : urgent ? (int64_t) e->hot_us * 1000 : WAIT_UNDECIDED;
    return false;
  }
  if (n > 0)
    e->last_event_ns = ward_now_ns();
  /* Idle and armed for any record, the timeout only bounds the one race
   * the protocol leaves (a producer that read `wake` just before the arm
   * and published just after the last look), so it is long; unless a ring
   * was left unarmed, whose records wait for the look. */
  *wait_ns = (int64_t) (mode == WARD_RING_WAKE_ANY && !e->arm_partial ? e->armed_idle_us : e->lazy_us) * 1000;
  e->totals.armed_sleeps++;
  return true;
}

int ward_engine_run(struct ward_engine *e, int stop_fd, ward_error_t *err)
{
  if (stop_fd >= 0) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &e->ep_stop};
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, stop_fd, &ev) < 0)
      return ward_error_sys(err, "epoll stop fd");
  }
  /* the idle sleeps are 50 us .. 1 ms: the default 50 us timer slack
   * would double the shortest */
  int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  e->until_empty = stop_fd < 0;
  bool evented = false;
  for (;;) {
    pthread_mutex_lock(&e->lock);
    e->urgent = 0;
    size_t n = drain_all(e);
    uint64_t urgent = e->urgent;
    bool rings = any_ring(e);
    bool empty = e->list == NULL;
    pthread_mutex_unlock(&e->lock);
    if (empty && stop_fd < 0)
      break;
    /* the helper only once a ring is there to wait on: a container with
     * just a supervisor (or none yet, in an agent) costs no thread */
    if (rings && !evented)
      evented = engine_waker_start(e);
    int64_t wait_ns = WAIT_UNDECIDED;
    bool armed = false;
    if (n > 0) {
      e->idle_rounds = 0;
      e->sleep_us = e->o.idle_min_us;
      e->last_event_ns = ward_now_ns();
      /* a full batch means a backlog: go again at once. A partial one with
       * nothing that could alert: sleep armed. Otherwise the rings are
       * drained, but more is likely to follow soon; re-polling at once
       * would spin a core for a steady trickle (a web server's few events
       * per request) and take it from the workload (a wake-up costs tens
       * of microseconds in a VM), so wait the longest sleep that keeps
       * alerts within 1 ms instead. */
      if (n >= DRAIN_BATCH)
        wait_ns = 0;
      else if (evented && urgent == 0)
        armed = arm_rings(e, WARD_RING_WAKE_URGENT, &wait_ns);
      if (wait_ns == WAIT_UNDECIDED)
        wait_ns = (int64_t) e->hot_us * 1000;
    } else if (!rings) {
      wait_ns = -1;   /* nothing to poll: sleep until epoll says */
    } else if (evented && (armed = arm_rings(e, WARD_RING_WAKE_ANY, &wait_ns))) {
      /* asleep until a record comes */
    } else if (wait_ns != WAIT_UNDECIDED) {
      /* what arming drained decided it */
    } else if (e->idle_rounds < e->o.spin_rounds) {
      e->idle_rounds++;
      wait_ns = 0;
    } else {
      /* a container that was busy a moment ago is likely to be again:
       * keep its latency low; a quiet engine backs off further */
      uint32_t cap = ward_now_ns() - e->last_event_ns < 1000000000ull ? e->hot_us : e->o.idle_max_us;
      if (e->sleep_us > cap)
        e->sleep_us = cap;
      wait_ns = (int64_t) e->sleep_us * 1000;
      if (e->sleep_us < cap)
        e->sleep_us = e->sleep_us * 2 > cap ? cap : e->sleep_us * 2;
      e->totals.sleeps++;
    }
    e->totals.polls++;
    int handled = 0;
    uint64_t t0 = wait_ns > 0 ? ward_now_ns() : 0;
    bool stop = wait_events(e, wait_ns, &handled);
    if (armed) {
      pthread_mutex_lock(&e->lock);
      engine_disarm(e);
      pthread_mutex_unlock(&e->lock);
    }
    if (stop)
      break;
    if (wait_ns > 0 && !handled && !armed)
      adapt_hot(e, wait_ns, ward_now_ns() - t0);
    /* A notification, an exit or a new container: poll the rings again
     * soon, but do not spin for them. Spinning is for ring traffic, and
     * each empty round is a system call: after a container's first execve
     * the 64 rounds cost ward run a fifth of a millisecond of CPU, on a
     * small machine taken from the container it is starting. */
    if (handled)
      e->sleep_us = e->o.idle_min_us;
  }
  engine_waker_stop(e);
  if (stop_fd >= 0)
    epoll_ctl(e->epfd, EPOLL_CTL_DEL, stop_fd, NULL);
  finish_all(e);
  /* the thread may go on to fork (poststop hooks): not with our slack */
  if (slack > 0)
    prctl(PR_SET_TIMERSLACK, (unsigned long) slack, 0, 0, 0);
  if (e->finalize_errors)
    return ward_error(err, 0, "engine: %llu container(s) could not be finalised (see the warnings above)",
                      (unsigned long long) e->finalize_errors);
  return 0;
}

void ward_engine_free(struct ward_engine *e)
{
  if (e == NULL)
    return;
  engine_waker_stop(e);
  finish_all(e);
  close(e->wake_fd);
  close(e->epfd);
  if (e->own_alerts)
    ward_alert_out_free(e->alerts);
  pthread_mutex_destroy(&e->lock);
  free(e);
}

void ward_engine_get_stats(struct ward_engine *e, struct ward_engine_stats *out)
{
  pthread_mutex_lock(&e->lock);
  *out = e->totals;
  out->ring_wakeups = __atomic_load_n(&e->waker_forwarded, __ATOMIC_RELAXED);
  out->ring_noise = __atomic_load_n(&e->waker_noise, __ATOMIC_RELAXED);
  out->ring_quiet = e->waker_quiet;
  out->containers = 0;
  for (struct ctr *c = e->list; c; c = c->next) {
    stats_add(out, &c->st);
    out->containers++;
  }
  pthread_mutex_unlock(&e->lock);
}

int ward_engine_container_stats(struct ward_engine *e, const char *id, struct ward_engine_stats *out)
{
  int rc = -1;
  pthread_mutex_lock(&e->lock);
  for (struct ctr *c = e->list; c; c = c->next)
    if (strcmp(c->id, id) == 0) {
      *out = c->st;
      rc = 0;
    }
  pthread_mutex_unlock(&e->lock);
  return rc;
}

#define METRICS(X) \
  X(events, "ward_events_total", "events consumed from rings and the supervisor") \
  X(alerts, "ward_alerts_total", "alerts raised") \
  X(denied, "ward_denied_total", "calls refused by probes or the supervisor") \
  X(actions, "ward_actions_total", "remedial actions taken") \
  X(action_errors, "ward_action_errors_total", "remedial actions that failed") \
  X(ring_drops, "ward_ring_drops_total", "events dropped by producers (ring full)") \
  X(ring_bad, "ward_ring_bad_total", "malformed ring records skipped") \
  X(ring_lost, "ward_ring_lost_total", "ring slots claimed but never published") \
  X(sv_notifications, "ward_supervisor_notifications_total", "seccomp notifications handled") \
  X(sv_denied, "ward_supervisor_denied_total", "seccomp notifications denied")

static void label_escape(FILE *out, const char *s)
{
  for (; *s; s++) {
    if (*s == '\\' || *s == '"')
      fputc('\\', out), fputc(*s, out);
    else if (*s == '\n')
      fputs("\\n", out);
    else
      fputc(*s, out);
  }
}

void ward_engine_metrics(struct ward_engine *e, FILE *out)
{
  pthread_mutex_lock(&e->lock);
  size_t n = 0;
  for (struct ctr *c = e->list; c; c = c->next)
    n++;
  fprintf(out, "# HELP ward_containers containers the engine serves\n# TYPE ward_containers gauge\nward_containers %zu\n", n);
  fprintf(out, "# HELP ward_engine_polls_total polling rounds\n# TYPE ward_engine_polls_total counter\n"
               "ward_engine_polls_total %llu\n", (unsigned long long) e->totals.polls);
  fprintf(out, "# HELP ward_engine_armed_sleeps_total sleeps with the rings armed to wake the engine\n"
               "# TYPE ward_engine_armed_sleeps_total counter\nward_engine_armed_sleeps_total %llu\n",
          (unsigned long long) e->totals.armed_sleeps);
  fprintf(out, "# HELP ward_engine_ring_wakeups_total wake-ups passed on to the engine: a producer's, or what looks like one\n"
               "# TYPE ward_engine_ring_wakeups_total counter\nward_engine_ring_wakeups_total %llu\n",
          (unsigned long long) __atomic_load_n(&e->waker_forwarded, __ATOMIC_RELAXED));
  fprintf(out, "# HELP ward_engine_ring_noise_total wake-ups and failed waits of the engine's helper that no producer caused, not passed on\n"
               "# TYPE ward_engine_ring_noise_total counter\nward_engine_ring_noise_total %llu\n",
          (unsigned long long) __atomic_load_n(&e->waker_noise, __ATOMIC_RELAXED));
  fprintf(out, "# HELP ward_engine_ring_quiet_total times a ring was left unarmed because its wake-ups found no record\n"
               "# TYPE ward_engine_ring_quiet_total counter\nward_engine_ring_quiet_total %llu\n",
          (unsigned long long) e->waker_quiet);
#define X(field, name, help)                                                                         \
  fprintf(out, "# HELP " name " " help "\n# TYPE " name " counter\n");                               \
  for (struct ctr *c = e->list; c; c = c->next) {                                                    \
    fputs(name "{container=\"", out), label_escape(out, c->id), fputs("\",app=\"", out);             \
    label_escape(out, c->app), fprintf(out, "\"} %llu\n", (unsigned long long) c->st.field);         \
  }                                                                                                  \
  fprintf(out, name "{container=\"\",app=\"\"} %llu\n", (unsigned long long) e->totals.field);
  METRICS(X)
#undef X
  pthread_mutex_unlock(&e->lock);
  struct ward_alert_stats as;
  ward_alert_get_stats(e->alerts, &as);
  fprintf(out, "# HELP ward_alert_lines_total alert lines written\n# TYPE ward_alert_lines_total counter\n"
               "ward_alert_lines_total %llu\n", (unsigned long long) as.emitted);
  fprintf(out, "# HELP ward_alert_suppressed_total alert lines held back by the rate limit\n"
               "# TYPE ward_alert_suppressed_total counter\nward_alert_suppressed_total %llu\n",
          (unsigned long long) as.suppressed);
  fprintf(out, "# HELP ward_alerts_by_severity_total alerts raised by severity\n"
               "# TYPE ward_alerts_by_severity_total counter\n");
  for (int s = 0; s < WARD_SEV_COUNT; s++)
    fprintf(out, "ward_alerts_by_severity_total{severity=\"%s\"} %llu\n", ward_severity_name((enum ward_severity) s),
            (unsigned long long) as.by_severity[s]);
}
