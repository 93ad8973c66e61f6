/* Engine ingest and alert latency (issue 5, Performance).
 *
 *   engine-ingest throughput N   events/s the engine consumes and evaluates
 *                                on one core, for mode off (flight recorder
 *                                and counters only) and monitor (template
 *                                check and detector on every event), with a
 *                                raw ring drain as the reference
 *   engine-ingest latency N      p50/p99/max from the ring write to the
 *                                alert line read from a pipe, with the
 *                                engine polling adaptively (idle between
 *                                alerts, so the backoff sleeps are in it)
 *
 * The producer writes through the real producer code (probe/ring_write.h),
 * the engine is the real one (engine.h). */
#include "agent/engine.h"
#include "agent/template.h"
#include "common/rundir.h"
#include "common/util.h"
#include "probe/ring.h"
#include "probe/ring_write.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* tmpfs, like the runtime's state root (/run/ward): the flight recorder is a
 * shared file mapping and a disk-backed one pays for dirty-page tracking */
static char dir[] = "/dev/shm/ward-engine-bench-XXXXXX";

/* The consumer's own CPU time, not the wall clock: on a shared machine the
 * wall clock counts whatever else ran on the core meanwhile. */
static uint64_t cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void die(ward_error_t *err)
{
  fprintf(stderr, "engine-ingest: %s\n", *err ? (*err)->msg : "failed");
  exit(1);
}

static int make_ring(const char *cdir, size_t size, struct ward_ring **prod_ring, struct ward_ring_prod *prod)
{
  ward_error_t err = NULL;
  char probe[512], ring[512];
  snprintf(probe, sizeof(probe), "%s/" WARD_RUN_DIR "/" WARD_STATE_PROBE, cdir);
  snprintf(ring, sizeof(ring), "%s/" WARD_RUN_DIR "/" WARD_STATE_PROBE "/" WARD_PROBE_RING, cdir);
  if (ward_mkdir_p(probe, 0700, &err) < 0 || ward_ring_create_file(ring, size, 0, NULL, &err) < 0 ||
      ward_ring_open(ring, WARD_RING_ALLOW_UNSEALED, prod_ring, &err) < 0)
    die(&err);
  ward_ring_producer(*prod_ring, prod);
  return open(ring, O_RDWR | O_CLOEXEC);
}

static void put(const struct ward_ring_prod *p, uint16_t type, const char *path, uint64_t ts)
{
  struct ward_rec_in in = {.type = type, .pid = 7, .tid = 7, .ts_ns = ts, .ret = 3, .call = 0,
                           .s1 = {.part = {path}, .len = {strlen(path)}}};
  while (ward_ring_write(p, &in) < 0)
    ;
}

static char *make_template(void)
{
  ward_error_t err = NULL;
  struct ward_template *t = ward_template_new("bench");
  struct ward_event ev = {.type = WARD_EV_OPEN, .source = WARD_SRC_PROBE, .pid = 7, .tid = 7, .ret = 3};
  strcpy(ev.path, "/etc/hostname");
  ward_template_learn(t, &ev, -1);
  ward_template_add_exec(t, "/usr/bin/sh", NULL);
  char *path = NULL;
  if (asprintf(&path, "%s/bench.json", dir) < 0 || ward_template_save(t, path, &err) < 0)
    die(&err);
  ward_template_free(t);
  return path;
}

static double run_throughput(const char *name, enum ward_mode mode, const char *tpl, long n)
{
  ward_error_t err = NULL;
  char cdir[512];
  snprintf(cdir, sizeof(cdir), "%s/%s", dir, name);
  struct ward_ring *pr = NULL;
  struct ward_ring_prod prod;
  int fd = make_ring(cdir, 64u << 20, &pr, &prod);
  struct ward_alert_out *ao = NULL;
  if (ward_alert_out_open("/dev/null", NULL, &ao, &err) < 0)
    die(&err);
  struct ward_engine *e = NULL;
  struct ward_engine_opts eo = {.alerts = ao};
  if (ward_engine_new(&eo, &e, &err) < 0)
    die(&err);
  struct ward_engine_container c = {.id = name, .state_dir = cdir, .ring_fd = fd, .listener_fd = -1, .pidfd = -1,
                                    .policy = ward_policy_new_mode(mode, tpl)};
  c.policy->detect = mode != WARD_MODE_OFF;
  if (ward_engine_add(e, &c, &err) < 0)
    die(&err);
  /* fill half the ring, drain it with the engine, repeat: only the
   * engine's time is counted. One untimed lap first, so that first-touch
   * page faults of the ring and the flight recorder are not in it. */
  uint64_t batch = ward_ring_nslots(pr) / 2, consumed_ns = 0, done = 0;
  for (int lap = 0; lap < 2; lap++) {
    for (uint64_t i = 0; i < batch; i++)
      put(&prod, WARD_EV_OPEN, "/etc/hostname", 1);
    for (uint64_t got = 0; got < batch;)
      got += (uint64_t) ward_engine_poll(e, 0, &err);
  }
  while ((long) done < n) {
    uint64_t k = batch;
    if ((long) (done + k) > n)
      k = (uint64_t) n - done;
    for (uint64_t i = 0; i < k; i++)
      put(&prod, WARD_EV_OPEN, "/etc/hostname", 1);
    uint64_t t0 = cpu_ns(), got = 0;
    while (got < k) {
      int r = ward_engine_poll(e, 0, &err);
      if (r < 0)
        die(&err);
      got += (uint64_t) r;
    }
    consumed_ns += cpu_ns() - t0;
    done += k;
  }
  struct ward_engine_stats st;
  ward_engine_get_stats(e, &st);
  ward_engine_free(e);
  ward_alert_out_free(ao);
  ward_ring_close(pr);
  double rate = (double) done / ((double) consumed_ns / 1e9);
  printf("%-22s %10ld events  %8.2f M events/s  alerts %llu\n", name, (long) done, rate / 1e6,
         (unsigned long long) st.alerts);
  return rate;
}

static void drain_sink(void *o, const struct ward_event *ev) { (void) ev; (*(uint64_t *) o)++; }

static double raw_drain(long n)
{
  char cdir[512];
  snprintf(cdir, sizeof(cdir), "%s/raw", dir);
  struct ward_ring *pr = NULL, *cr = NULL;
  struct ward_ring_prod prod;
  int fd = make_ring(cdir, 64u << 20, &pr, &prod);
  ward_error_t err = NULL;
  if (ward_ring_open_fd(fd, WARD_RING_ALLOW_UNSEALED, 0, &cr, &err) < 0)
    die(&err);
  uint64_t batch = ward_ring_nslots(pr) / 2, ns = 0, done = 0, got = 0;
  while ((long) done < n) {
    for (uint64_t i = 0; i < batch; i++)
      put(&prod, WARD_EV_OPEN, "/etc/hostname", 1);
    uint64_t t0 = cpu_ns();
    while (got < done + batch)
      ward_ring_drain(cr, drain_sink, &got, 4096);
    ns += cpu_ns() - t0;
    done += batch;
  }
  ward_ring_close(cr);
  ward_ring_close(pr);
  close(fd);
  double rate = (double) done / ((double) ns / 1e9);
  printf("%-22s %10ld events  %8.2f M events/s  (reference: decode only)\n", "ring drain", (long) done, rate / 1e6);
  return rate;
}

struct lat {
  struct ward_engine *e;
  int stop;
  ward_error_t err;
};

static void *engine_thread(void *arg)
{
  struct lat *l = arg;
  ward_engine_run(l->e, l->stop, &l->err);
  return NULL;
}

/* the share of one core a thread used over the next us microseconds */
static double cpu_share(clockid_t cid, long us)
{
  struct timespec c0, c1;
  clock_gettime(cid, &c0);
  usleep((useconds_t) us);
  clock_gettime(cid, &c1);
  return ((double) (c1.tv_sec - c0.tv_sec) + (double) (c1.tv_nsec - c0.tv_nsec) / 1e9) / ((double) us / 1e6);
}

static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
  return x < y ? -1 : x > y;
}

static void latency(const char *tpl, int n)
{
  ward_error_t err = NULL;
  char cdir[512];
  snprintf(cdir, sizeof(cdir), "%s/lat", dir);
  struct ward_ring *pr = NULL;
  struct ward_ring_prod prod;
  int fd = make_ring(cdir, 4u << 20, &pr, &prod);
  /* ENGINE_POLL=1: a producer that cannot wake the engine (an older
   * probe's), so the engine polls; by default it announces wake-ups as the
   * probe does and the engine sleeps armed */
  const char *poll_env = getenv("ENGINE_POLL");
  bool polled = poll_env && strcmp(poll_env, "1") == 0;
  if (!polled)
    __atomic_fetch_or(&prod.hdr->caps, WARD_RING_CAP_WAKE, __ATOMIC_RELEASE);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return;
  char spec[64];
  snprintf(spec, sizeof(spec), "/proc/self/fd/%d", pipefd[1]);
  struct ward_alert_limits lim = {.burst = 1000000, .per_second = 1e9};
  struct ward_alert_out *ao = NULL;
  if (ward_alert_out_open(spec, &lim, &ao, &err) < 0)
    die(&err);
  struct lat l = {.stop = eventfd(0, EFD_CLOEXEC)};
  /* ENGINE_HOT_MAX_US / ENGINE_IDLE_MAX_US: the longest sleep within a
   * second of an event / after that (default: the engine's) */
  const char *idle = getenv("ENGINE_IDLE_MAX_US"), *hot = getenv("ENGINE_HOT_MAX_US");
  struct ward_engine_opts eo = {.alerts = ao, .idle_max_us = idle ? (uint32_t) strtoul(idle, NULL, 10) : 0,
                                .hot_max_us = hot ? (uint32_t) strtoul(hot, NULL, 10) : 0};
  if (ward_engine_new(&eo, &l.e, &err) < 0)
    die(&err);
  struct ward_engine_container c = {.id = "lat", .state_dir = cdir, .ring_fd = fd, .listener_fd = -1, .pidfd = -1,
                                    .policy = ward_policy_new_mode(WARD_MODE_MONITOR, tpl)};
  if (ward_engine_add(l.e, &c, &err) < 0)
    die(&err);
  pthread_t th;
  pthread_create(&th, NULL, engine_thread, &l);
  FILE *in = fdopen(pipefd[0], "r");
  uint64_t *lat = calloc((size_t) n, sizeof(uint64_t));
  char *line = NULL;
  size_t cap = 0;
  unsigned seed = 42;
  for (int i = 0; i < n; i++) {
    /* idle gaps of 0.1..2 ms so the engine has backed off to sleeping */
    usleep(100 + rand_r(&seed) % 1900);
    char path[64];
    snprintf(path, sizeof(path), "/tmp/evil-%d", i);
    uint64_t t0 = ward_now_ns();
    put(&prod, WARD_EV_EXEC, path, t0);
    if (getline(&line, &cap, in) < 0)
      break;
    lat[i] = ward_now_ns() - t0;
  }
  /* what polling costs when nothing happens: the engine thread's CPU time
   * in the second after the last event (short sleeps) and later (long) */
  clockid_t cid;
  pthread_getcpuclockid(th, &cid);
  double hot_cpu = cpu_share(cid, 800000), cold_wait = cpu_share(cid, 400000);
  double idle_cpu = cpu_share(cid, 2000000);
  (void) cold_wait;
  uint64_t one = 1;
  if (write(l.stop, &one, 8) < 0)
    perror("stop");
  pthread_join(th, NULL);
  qsort(lat, (size_t) n, sizeof(uint64_t), cmp_u64);
  printf("alert latency (ring write -> alert line), %s, %d alerts: p50 %.1f us  p99 %.1f us  max %.1f us\n",
         polled ? "engine polling" : "engine armed", n, (double) lat[n / 2] / 1e3, (double) lat[(size_t) n * 99 / 100] / 1e3, (double) lat[n - 1] / 1e3);
  printf("idle engine thread (one ring): %.2f %% of one core within 1 s of the last event, %.2f %% after\n",
         hot_cpu * 100, idle_cpu * 100);
  free(lat);
  free(line);
  fclose(in);
  close(pipefd[1]);
  ward_engine_free(l.e);
  ward_alert_out_free(ao);
  ward_ring_close(pr);
}

int main(int argc, char **argv)
{
  if (argc < 2 || mkdtemp(dir) == NULL) {
    fprintf(stderr, "usage: engine-ingest throughput|latency|all [N]\n");
    return 2;
  }
  long n = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
  char *tpl = make_template();
  bool all = strcmp(argv[1], "all") == 0;
  if (all || strcmp(argv[1], "throughput") == 0) {
    long k = n > 0 ? n : 5000000;
    if (getenv("ENGINE_BENCH_MONITOR_ONLY")) {  /* for profiling */
      run_throughput("engine, mode monitor", WARD_MODE_MONITOR, tpl, k);
    } else {
      double raw = raw_drain(k);
      double mon = run_throughput("engine, mode monitor", WARD_MODE_MONITOR, tpl, k);
      double off = run_throughput("engine, mode off", WARD_MODE_OFF, NULL, k);
      printf("ratios: off/drain %.2f  monitor/drain %.2f\n", off / raw, mon / raw);
    }
  }
  if (all || strcmp(argv[1], "latency") == 0)
    latency(tpl, n > 0 && !all ? (int) n : 2000);
  ward_error_t err = NULL;
  ward_remove_tree(dir, &err);
  free(tpl);
  return 0;
}
