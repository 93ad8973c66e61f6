/* Engine: policy files (file:line errors), annotations, alert lines and
 * their rate limit, and the engine consuming a real ring written through the
 * real producer code, with flight recorder, metrics and exit handling. */
#include "agent/engine.h"
#include "agent/flight.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "probe/calls.h"
#include "probe/control.h"
#include "probe/prepare.h"
#include "probe/ring.h"
#include "probe/ring_write.h"
#include "common/rundir.h"
#include "tap.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/ward-test-engine-XXXXXX";

static char *tmp_path(const char *name)
{
  char *p = NULL;
  if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
    abort();
  return p;
}

static int write_text(const char *path, const char *text)
{
  ward_error_t err = NULL;
  int rc = ward_write_file_atomic(path, text, strlen(text), 0600, &err);
  ward_error_free(&err);
  return rc;
}

static void test_policy_files(void)
{
  _cleanup_free_ char *y = tmp_path("p.yaml");
  write_text(y, "app: web\nmode: monitor\ntemplate: t.yaml\ndetect: false\n"
                "thresholds:\n  sequence: 0.75\n  exec_per_second: 20\n"
                "actions:\n  critical: kill\n  high: snapshot\n"
                "alerts:\n  output: syslog\n  burst: 5\n  per_second: 2.5\n");
  struct ward_policy *p = NULL;
  ward_error_t err = NULL;
  ok(ward_policy_load(y, &p, &err) == 0, "a YAML policy loads");
  if (p) {
    is_str(p->app, "web", "app");
    is_int(p->mode, WARD_MODE_MONITOR, "mode");
    _cleanup_free_ char *t = tmp_path("t.yaml");
    is_str(p->template_path, t, "a relative template is resolved next to the policy file");
    ok(!p->detect && p->supervisor, "detect off, supervisor on by default");
    ok(p->thresholds.sequence == 0.75 && p->thresholds.exec_per_s == 20, "thresholds");
    ok(p->on_severity[WARD_SEV_CRITICAL] == WARD_PACT_KILL && p->on_severity[WARD_SEV_HIGH] == WARD_PACT_SNAPSHOT &&
       p->on_severity[WARD_SEV_LOW] == WARD_PACT_NONE, "severity -> action map");
    ok(p->alert_burst == 5 && p->alert_per_second == 2.5, "alert limits");
    is_str(p->alerts, "syslog", "alert output");
  }
  ward_policy_free(p);
  p = NULL;

  const char *json = "{\n  \"mode\": \"protect\",\n  \"template\": \"/x.json\",\n  \"actions\": {\"high\": \"quarantine\"}\n}\n";
  ok(ward_policy_parse("p.json", json, strlen(json), &p, &err) == 0, "a JSON policy parses");
  ok(p && p->mode == WARD_MODE_PROTECT && p->on_severity[WARD_SEV_HIGH] == WARD_PACT_QUARANTINE, "JSON fields");
  ward_policy_free(p);
  p = NULL;

  struct { const char *text, *want; } bad[] = {
    {"mode: learn\nbogus: 1\n", "bad.yaml:2: bogus: unknown key"},
    {"mode: learn\n\nmode: watch\n", "bad.yaml:3: mode: \"watch\" is not off"},
    {"actions:\n  high: explode\n", "bad.yaml:2: actions: \"explode\" is not an action"},
    {"actions:\n  urgent: kill\n", "bad.yaml:2: actions: \"urgent\" is not a severity"},
    {"thresholds:\n  exec_per_second: -3\n", "bad.yaml:2: thresholds.exec_per_second"},
    {"mode: [learn\n", "bad.yaml:"},
    {"{\"mode\": \"learn\",\n \"detect\": \"maybe\"}\n", "bad.yaml:2: detect"},
    {"- a\n- b\n", "bad.yaml:1: policy: expected a mapping"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    ward_error_free(&err);
    int rc = ward_policy_parse("bad.yaml", bad[i].text, strlen(bad[i].text), &p, &err);
    ok(rc < 0, "bad policy %zu is refused", i);
    contains(err ? err->msg : NULL, bad[i].want, "  with file:line");
  }
  ward_error_free(&err);
  ok(ward_policy_load("/nonexistent/p.yaml", &p, &err) < 0, "a missing file is an error");
  ward_error_free(&err);
}

/* syslog(3) writes to /dev/log; a private mount namespace with a tmpfs
 * over /dev gives the child its own /dev/log to read from. Root only. */
static void test_syslog(void)
{
  int pfd[2];
  if (pipe(pfd) < 0)
    return;
  pid_t pid = fork();
  if (pid == 0) {
    close(pfd[0]);
    char res[1024] = "skip";
    if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
        mount("tmpfs", "/dev", "tmpfs", 0, NULL) == 0) {
      int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
      struct ward_alert_out *o = NULL;
      ward_error_t err = NULL;
      struct ward_alert al = {.container = "c9", .rule = "inject.exec_memfd", .severity = WARD_SEV_CRITICAL,
                              .detail = "exec from a memfd", .action = "kill"};
      if (s >= 0 && bind(s, (struct sockaddr *) &a, sizeof(a)) == 0 && ward_alert_out_open("syslog:daemon", NULL, &o, &err) == 0 &&
          ward_alert_emit(o, &al) == 1) {
        struct timeval tv = {2, 0};
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ssize_t n = recv(s, res, sizeof(res) - 1, 0);
        res[n > 0 ? n : 0] = 0;
      }
    }
    if (write(pfd[1], res, strlen(res)) < 0)
      _exit(1);
    _exit(0);
  }
  close(pfd[1]);
  char buf[1024] = "";
  ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);
  buf[n > 0 ? n : 0] = 0;
  close(pfd[0]);
  waitpid(pid, NULL, 0);
  if (strcmp(buf, "skip") == 0) {
    ok(1, "# SKIP syslog: needs root for a private /dev");
    return;
  }
  /* LOG_DAEMON (3 << 3) | LOG_CRIT (2) = 26 */
  contains(buf, "<26>", "syslog line at daemon.crit");
  contains(buf, "\"rule\":\"inject.exec_memfd\"", "  carrying the alert JSON");
}

static void test_annotations(void)
{
  ward_error_t err = NULL;
  struct ward_policy *p = NULL;
  ok(ward_policy_from_annotations(NULL, &p, &err) == 0 && p == NULL, "no annotations, no policy");
  _cleanup_json_ json_t *a = json_pack("{s:s, s:s, s:s}", "run.ward.mode", "learn", "run.ward.template", "/t.yaml",
                                       "run.ward.supervisor", "off");
  ok(ward_policy_from_annotations(a, &p, &err) == 0 && p, "annotations make a policy");
  ok(p && p->mode == WARD_MODE_LEARN && !p->supervisor && strcmp(p->template_path, "/t.yaml") == 0, "mode, template, supervisor");
  ward_policy_free(p);
  p = NULL;
  json_object_set_new(a, "run.ward.mode", json_string("guard"));
  ok(ward_policy_from_annotations(a, &p, &err) < 0, "a bad mode annotation is refused");
  contains(err ? err->msg : NULL, "annotations.run.ward.mode", "  naming the annotation");
  ward_policy_free(p);
  ward_error_free(&err);
  p = ward_policy_new_mode(WARD_MODE_MONITOR, NULL);
  ok(ward_policy_validate(p, &err) < 0, "monitor without a template is refused");
  ward_policy_free(p);
  ward_error_free(&err);
}

static char *slurp(const char *path)
{
  char *buf = NULL;
  size_t len = 0;
  ward_error_t err = NULL;
  if (ward_read_file(path, 1 << 24, &buf, &len, &err) < 0)
    ward_error_free(&err);
  return buf;
}

static size_t count_lines(const char *s)
{
  size_t n = 0;
  for (; s && *s; s++)
    n += *s == '\n';
  return n;
}

static void test_alerts(void)
{
  _cleanup_free_ char *path = tmp_path("alerts.log");
  struct ward_alert_limits lim = {.burst = 3, .per_second = 0.001};
  struct ward_alert_out *o = NULL;
  ward_error_t err = NULL;
  ok(ward_alert_out_open(path, &lim, &o, &err) == 0, "alert file opens");
  struct ward_event ev = {.type = WARD_EV_EXEC, .source = WARD_SRC_PROBE, .pid = 42, .seq = 9};
  strcpy(ev.path, "/tmp/evil");
  struct ward_alert a = {.container = "c1", .app = "web", .ev = &ev, .exe = "/bin/sh", .rule = "template.exec",
                         .severity = WARD_SEV_HIGH, .detail = "exec of /tmp/evil", .action = "none", .denied = true};
  int written = 0;
  for (int i = 0; i < 10; i++)
    written += ward_alert_emit(o, &a) == 1;
  is_int(written, 3, "the burst passes, the rest of the flood is held back");
  a.rule = "inject.exec_memfd";
  is_int(ward_alert_emit(o, &a), 1, "another rule has its own budget");
  struct ward_alert_stats st;
  ward_alert_get_stats(o, &st);
  ok(st.emitted == 4 && st.suppressed == 7 && st.by_severity[WARD_SEV_HIGH] == 11, "counted: 4 written, 7 suppressed");
  ward_alert_out_free(o);

  char *text = slurp(path);
  is_int(count_lines(text), 5, "four lines in the file, and one for what was held back when it closed");
  contains(text, "\"detail\":\"7 alert line(s) held back by the rate limit\",\"action\":\"none\",\"denied\":false,\"suppressed\":7",
           "  that line counts the 7");
  _cleanup_json_ json_t *j = text ? json_loadb(text, strcspn(text, "\n"), 0, NULL) : NULL;
  ok(j != NULL, "a line is JSON");
  const char *keys[] = {"time", "container", "app", "pid", "exe", "event", "rule", "severity", "detail", "action", "denied"};
  bool all = j != NULL;
  for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
    all = all && json_object_get(j, keys[i]) != NULL;
  ok(all, "every field is there");
  ok(j && json_integer_value(json_object_get(j, "pid")) == 42 && json_is_true(json_object_get(j, "denied")) &&
     strcmp(json_string_value(json_object_get(json_object_get(j, "event"), "path")), "/tmp/evil") == 0,
     "pid, denied and the event");

  /* the held-back count reaches the next line of the rule */
  free(text);
  unlink(path);
  lim = (struct ward_alert_limits) {.burst = 1, .per_second = 20};
  ok(ward_alert_out_open(path, &lim, &o, &err) == 0, "reopen: burst 1, 20 lines/s");
  a.rule = "template.exec";
  for (int i = 0; i < 3; i++)
    ward_alert_emit(o, &a);
  usleep(120000);
  is_int(ward_alert_emit(o, &a), 1, "a refilled token lets the next line out");
  ward_alert_out_free(o);
  text = slurp(path);
  is_int(count_lines(text), 2, "two lines");
  contains(text, "\"denied\":true,\"suppressed\":2}", "the second carries the 2 held back");

  /* what is still held when the output closes gets a last line */
  lim.per_second = 0.001;
  lim.burst = 1;
  ward_alert_out_open(path, &lim, &o, &err);
  a.rule = "rate.exec";
  for (int i = 0; i < 4; i++)
    ward_alert_emit(o, &a);
  ward_alert_out_free(o);
  free(text);
  text = slurp(path);
  contains(text, "\"rule\":\"rate.exec\",\"severity\":\"high\",\"detail\":\"3 alert line(s) held back by the rate limit\"",
           "closing flushes the held-back count");
  free(text);

  /* a detail and an exe the workload named with bytes that are not UTF-8
   * keep their information, escaped as in events */
  unlink(path);
  lim = (struct ward_alert_limits) {.burst = 5, .per_second = 5};
  ward_alert_out_open(path, &lim, &o, &err);
  a.rule = "template.file.read";
  a.exe = "/tmp/x\xff";
  a.detail = "read of /etc/\xfe";
  is_int(ward_alert_emit(o, &a), 1, "an alert with bytes that are not UTF-8 is written");
  ward_alert_out_free(o);
  text = slurp(path);
  contains(text, "\"exe\":\"/tmp/x\\\\xff\"", "  its exe escaped");
  contains(text, "\"detail\":\"read of /etc/\\\\xfe\"", "  its detail escaped");
  free(text);
  ward_error_free(&err);
}

struct tapped {
  size_t n, exits;
  uint64_t last_seq;
};

static void tap_fn(void *opaque, const struct ward_event *ev)
{
  struct tapped *t = opaque;
  t->n++;
  t->last_seq = ev->seq;
}

static void on_exit_fn(void *opaque, const char *id)
{
  struct tapped *t = opaque;
  if (strcmp(id, "c2") == 0)
    t->exits++;
}

static int make_ring(const char *dir, struct ward_ring **prod_ring, struct ward_ring_prod *prod)
{
  ward_error_t err = NULL;
  _cleanup_free_ char *probe = NULL, *ring = NULL;
  if (asprintf(&probe, "%s/" WARD_RUN_DIR "/" WARD_STATE_PROBE, dir) < 0 || asprintf(&ring, "%s/" WARD_RUN_DIR "/" WARD_STATE_PROBE "/ring", dir) < 0)
    abort();
  ward_mkdir_p(probe, 0700, &err);
  if (ward_ring_create_file(ring, 1 << 20, 0, NULL, &err) < 0 ||
      ward_ring_open(ring, WARD_RING_ALLOW_UNSEALED, prod_ring, &err) < 0) {
    tap_diag("%s", err->msg);
    ward_error_free(&err);
    return -1;
  }
  ward_ring_producer(*prod_ring, prod);
  return open(ring, O_RDWR | O_CLOEXEC);
}

static void write_rec(const struct ward_ring_prod *prod, uint16_t type, const char *path, int64_t ret)
{
  struct ward_rec_in in = {.type = type, .pid = 5, .tid = 5, .ts_ns = ward_now_ns(), .ret = ret,
                           .s1 = {.part = {path}, .len = {strlen(path)}}};
  ward_ring_write(prod, &in);
}

static void write_events(const struct ward_ring_prod *prod, int n)
{
  for (int i = 0; i < n; i++)
    write_rec(prod, WARD_EV_OPEN, "/etc/hostname", 3);
}

static void test_engine_ring(void)
{
  _cleanup_free_ char *dir = tmp_path("c1");
  ward_error_t err = NULL;
  ward_mkdir_p(dir, 0700, &err);
  struct ward_ring *pr = NULL;
  struct ward_ring_prod prod;
  int ring_fd = make_ring(dir, &pr, &prod);
  ok(ring_fd >= 0, "ring made");

  struct tapped t = {0};
  _cleanup_free_ char *alerts = tmp_path("engine-alerts.log");
  struct ward_alert_out *ao = NULL;
  ward_alert_out_open(alerts, NULL, &ao, &err);
  struct ward_engine_opts eo = {.alerts = ao, .tap = tap_fn, .on_exit = on_exit_fn, .opaque = &t};
  struct ward_engine *e = NULL;
  ok(ward_engine_new(&eo, &e, &err) == 0, "engine");
  struct ward_engine_container c = {.id = "c1", .state_dir = dir, .ring_fd = ring_fd, .listener_fd = -1, .pidfd = -1};
  ok(ward_engine_add(e, &c, &err) == 0, "container added");
  ok(ward_engine_add(e, &(struct ward_engine_container) {.id = "c1", .state_dir = dir, .ring_fd = -1, .listener_fd = -1,
                                                        .pidfd = -1}, &err) < 0, "the same id twice is refused");
  ward_error_free(&err);

  /* a second consumer is kept out by the lock */
  _cleanup_free_ char *lock = NULL;
  int lock_fd = -1;
  if (asprintf(&lock, "%s/" WARD_RUN_DIR "/" WARD_STATE_PROBE "/ring.lock", dir) < 0)
    abort();
  ok(ward_ring_lock_consumer(lock, &lock_fd, &err) < 0, "the engine holds the ring's consumer lock");
  ward_error_free(&err);

  write_events(&prod, 1000);
  for (int i = 0; i < 10 && t.n < 1000; i++)
    ward_engine_poll(e, 0, &err);
  is_int(t.n, 1000, "every event written reached the pipeline");
  struct ward_engine_stats st;
  ok(ward_engine_container_stats(e, "c1", &st) == 0 && st.events == 1000, "counted per container");

  char *m = NULL;
  size_t mlen = 0;
  FILE *mf = open_memstream(&m, &mlen);
  ward_engine_metrics(e, mf);
  fclose(mf);
  contains(m, "ward_events_total{container=\"c1\",app=\"c1\"} 1000", "Prometheus metrics");
  contains(m, "# TYPE ward_ring_drops_total counter", "  with TYPE lines");
  free(m);

  /* a container whose init exits: the engine notices via the pidfd */
  _cleanup_free_ char *dir2 = tmp_path("c2");
  ward_mkdir_p(dir2, 0700, &err);
  struct ward_ring *pr2 = NULL;
  struct ward_ring_prod prod2;
  int ring2 = make_ring(dir2, &pr2, &prod2);
  pid_t child = fork();
  if (child == 0) {
    usleep(100000);
    _exit(0);
  }
  int pidfd = (int) syscall(SYS_pidfd_open, child, 0);
  ok(ward_engine_add(e, &(struct ward_engine_container) {.id = "c2", .state_dir = dir2, .ring_fd = ring2, .listener_fd = -1,
                                                        .pidfd = pidfd, .pid = child}, &err) == 0, "second container");
  write_events(&prod2, 10);
  ok(ward_engine_remove(e, "c1") == 0, "c1 removed");
  ok(ward_engine_remove(e, "c1") < 0, "  and unknown afterwards");
  t.n = 0;
  ok(ward_engine_run(e, -1, &err) == 0, "run returns once the last container exited");
  is_int(t.exits, 1, "on_exit was called for c2");
  is_int(t.n, 10, "its events were drained before");
  waitpid(child, NULL, 0);

  struct { size_t n; } fc = {0};
  struct ward_flight_read_stats fs;
  _cleanup_free_ char *fpath = NULL;
  if (asprintf(&fpath, "%s/" WARD_RUN_DIR "/" WARD_FLIGHT_FILE, dir) < 0)
    abort();
  int ffd = open(fpath, O_RDONLY | O_CLOEXEC);
  ok(ffd >= 0 && ward_flight_read_fd(ffd, "flight", 0, tap_fn, &(struct tapped) {0}, &fs, &err) == 0 && fs.total == 1000,
     "the flight recorder holds what the engine consumed");
  (void) fc;
  if (ffd >= 0)
    close(ffd);
  ok(ward_ring_lock_consumer(lock, &lock_fd, &err) == 0, "the lock is released after removal");
  close(lock_fd);
  ward_engine_free(e);
  ward_alert_out_free(ao);
  ward_ring_close(pr);
  ward_ring_close(pr2);
  ward_error_free(&err);
}

struct armed_run {
  struct ward_engine *e;
  int stop;
  size_t seen, execs;
  char *dir, *alerts;
  struct ward_ring *pr;
  struct ward_ring_prod prod;
  struct ward_alert_out *ao;
  pthread_t th;
  uint32_t lazy_us;   /* 0: the engine's default */
  bool control;       /* the container has a control page (dir/probe/control) */
};

static void armed_tap(void *opaque, const struct ward_event *ev)
{
  struct armed_run *a = opaque;
  __atomic_add_fetch(&a->seen, 1, __ATOMIC_RELAXED);
  if (ev->type == WARD_EV_EXEC)
    __atomic_add_fetch(&a->execs, 1, __ATOMIC_RELAXED);
}

static void *armed_thread(void *arg)
{
  struct armed_run *a = arg;
  ward_error_t err = NULL;
  ward_engine_run(a->e, a->stop, &err);
  ward_error_free(&err);
  return NULL;
}

static bool wait_seen(const size_t *counter, size_t want, int ms)
{
  for (int i = 0; i < ms; i++) {
    if (__atomic_load_n(counter, __ATOMIC_RELAXED) >= want)
      return true;
    usleep(1000);
  }
  return false;
}

static void write_one(const struct ward_ring_prod *prod, uint16_t type, const char *path)
{
  write_rec(prod, type, path, 0);
}

/* A container in mode off with a fresh ring in dir, added to e;
 * producer_wakes: the ring's producer announces wake-ups, as the probe
 * does. 0 when added. */
static int add_ring_container(struct ward_engine *e, const char *id, const char *dir, bool producer_wakes,
                              bool control, struct ward_ring **pr, struct ward_ring_prod *prod)
{
  ward_error_t err = NULL;
  ward_mkdir_p(dir, 0700, &err);
  int ring_fd = make_ring(dir, pr, prod);
  _cleanup_free_ char *ctl = control ? ward_probe_control_path(dir) : NULL;
  if (ctl && ward_control_create(ctl, (1u << WARD_GROUP_COUNT) - 1, &err) < 0)
    tap_diag("control page: %s", err->msg);
  if (producer_wakes)
    __atomic_fetch_or(&prod->hdr->caps, WARD_RING_CAP_WAKE, __ATOMIC_RELEASE);
  struct ward_engine_container c = {.id = id, .state_dir = dir, .ring_fd = ring_fd, .listener_fd = -1,
                                    .pidfd = -1, .policy = ward_policy_new_mode(WARD_MODE_OFF, NULL)};
  int r = ward_engine_add(e, &c, &err);
  ward_error_free(&err);
  return r;
}

/* One such container, its engine running on a thread. */
static void armed_start(struct armed_run *a, const char *tag, bool producer_wakes)
{
  ward_error_t err = NULL;
  a->dir = tmp_path(tag);
  a->stop = eventfd(0, EFD_CLOEXEC);
  if (asprintf(&a->alerts, "%s-alerts.log", a->dir) < 0)
    abort();
  ward_alert_out_open(a->alerts, NULL, &a->ao, &err);
  struct ward_engine_opts eo = {.alerts = a->ao, .tap = armed_tap, .opaque = a, .lazy_us = a->lazy_us};
  ok(ward_engine_new(&eo, &a->e, &err) == 0, "%s: engine", tag);
  ok(add_ring_container(a->e, tag, a->dir, producer_wakes, a->control, &a->pr, &a->prod) == 0, "%s: container added", tag);
  pthread_create(&a->th, NULL, armed_thread, a);
  ward_error_free(&err);
}

static void armed_stop(struct armed_run *a, const char *tag)
{
  uint64_t one = 1;
  ok(write(a->stop, &one, sizeof(one)) == 8, "%s: stop", tag);
  pthread_join(a->th, NULL);
}

static void armed_free(struct armed_run *a)
{
  ward_engine_free(a->e);
  ward_alert_out_free(a->ao);
  ward_ring_close(a->pr);   /* unmaps without touching the pages, truncated or not */
  close(a->stop);
  free(a->alerts);
  free(a->dir);
}

/* The engine's looks over 300 ms of quiet, once the last record has
 * settled; its stats before and after in *s0, *s1. */
static uint64_t idle_polls(struct ward_engine *e, struct ward_engine_stats *s0, struct ward_engine_stats *s1)
{
  usleep(50000);
  ward_engine_get_stats(e, s0);
  usleep(300000);
  ward_engine_get_stats(e, s1);
  return s1->polls - s0->polls;
}

/* Armed sleeping (engine_wake.c): with a producer that announces wake-ups
 * the engine sleeps on the ring instead of polling it, and a record that
 * can alert wakes it at once. The positive control is the same engine with
 * a producer that does not announce them (an older probe): it polls. */
static void test_engine_armed(bool producer_wakes)
{
  const char *tag = producer_wakes ? "armed" : "polled";
  struct armed_run a = {0};
  armed_start(&a, tag, producer_wakes);
  /* an old producer's first record: the engine arms an empty ring (any
   * record may wake it) and finds it cannot rely on wake-ups afterwards */
  write_one(&a.prod, WARD_EV_OPEN, "/etc/hostname");
  ok(wait_seen(&a.seen, 1, 2000), "%s: a record on an idle ring reaches the engine", tag);
  struct ward_engine_stats s0, s1;
  uint64_t polls = idle_polls(a.e, &s0, &s1);
  tap_diag("%s: %llu polls in 300 ms idle, %llu armed sleeps, %llu ring wake-ups", tag, (unsigned long long) polls,
           (unsigned long long) s1.armed_sleeps, (unsigned long long) s1.ring_wakeups);
  if (producer_wakes) {
    ok(polls <= 6 && s1.armed_sleeps > 0, "armed: an idle ring costs the engine few wake-ups (%llu in 300 ms)",
       (unsigned long long) polls);
    /* a burst of reading opens (nothing that alerts in mode off), then an
     * exec: the exec wakes the engine, not the 25 ms timeout */
    for (int i = 0; i < 20; i++)
      write_one(&a.prod, WARD_EV_OPEN, "/etc/hostname");
    usleep(2000);
    ward_engine_get_stats(a.e, &s0);
    write_one(&a.prod, WARD_EV_EXEC, "/bin/sh");
    ok(wait_seen(&a.execs, 1, 2000), "armed: the exec reaches the engine");
    ward_engine_get_stats(a.e, &s1);
    ok(s1.ring_wakeups > s0.ring_wakeups, "armed: the producer woke the engine (%llu wake-ups passed on)",
       (unsigned long long) (s1.ring_wakeups - s0.ring_wakeups));
    /* every record gets there even when none wakes: the lazy timeout */
    size_t before = __atomic_load_n(&a.seen, __ATOMIC_RELAXED);
    for (int i = 0; i < 5; i++)
      write_one(&a.prod, WARD_EV_OPEN, "/etc/passwd");
    ok(wait_seen(&a.seen, before + 5, 2000), "armed: records that wake nobody still arrive");
    /* hostile: the workload calls FUTEX_WAKE on its ring's word nonstop.
     * No producer swapped the word, so the helper passes none of it on
     * (before: one per 100 us to 1.6 ms, 3,000-7,500 a second); that it
     * saw the flood at all is the positive control. The engine's own
     * timeouts still come (25 ms: 8 in 200 ms). */
    ward_engine_get_stats(a.e, &s0);
    uint64_t end = ward_now_ns() + 200000000ull, calls = 0;
    while (ward_now_ns() < end) {
      syscall(SYS_futex, &a.prod.hdr->wake, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
      calls++;
    }
    ward_engine_get_stats(a.e, &s1);
    ok(s1.ring_noise - s0.ring_noise >= 20 && s1.ring_wakeups - s0.ring_wakeups <= 5,
       "armed: %llu futex wake calls in 200 ms: %llu helper wake-ups taken as noise, %llu passed on",
       (unsigned long long) calls, (unsigned long long) (s1.ring_noise - s0.ring_noise),
       (unsigned long long) (s1.ring_wakeups - s0.ring_wakeups));
    ok(s1.ring_noise - s0.ring_noise <= 2500, "armed: the helper naps between noise (%llu wake-ups in 200 ms)",
       (unsigned long long) (s1.ring_noise - s0.ring_noise));
    /* hostile: the workload keeps changing the word (never what the engine
     * stored, never 0) and wakes it; the helper must not spin on the
     * mismatch, nor pass it on */
    ward_engine_get_stats(a.e, &s0);
    end = ward_now_ns() + 200000000ull;
    for (uint32_t v = 1; ward_now_ns() < end; v = 3 - v) {
      __atomic_store_n(&a.prod.hdr->wake, v, __ATOMIC_RELAXED);
      syscall(SYS_futex, &a.prod.hdr->wake, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
    }
    ward_engine_get_stats(a.e, &s1);
    ok(s1.ring_noise - s0.ring_noise >= 20 && s1.ring_noise - s0.ring_noise <= 2500
       && s1.ring_wakeups - s0.ring_wakeups <= 5 && s1.polls - s0.polls <= 200,
       "armed: a word kept changing: %llu noise, %llu passed on, %llu polls in 200 ms",
       (unsigned long long) (s1.ring_noise - s0.ring_noise), (unsigned long long) (s1.ring_wakeups - s0.ring_wakeups),
       (unsigned long long) (s1.polls - s0.polls));
    /* hostile: the workload does what a producer does, swap the word to
     * 0 and wake it, without a record. That cannot be told from a
     * producer's wake-up; the helper finds the word 0 where the engine's
     * every re-arm expects its value, and passes it on once per nap (one
     * per 1.6 ms: about 125 in 200 ms), as it would a flood of records */
    ward_engine_get_stats(a.e, &s0);
    end = ward_now_ns() + 200000000ull;
    while (ward_now_ns() < end) {
      __atomic_store_n(&a.prod.hdr->wake, 0, __ATOMIC_RELAXED);
      syscall(SYS_futex, &a.prod.hdr->wake, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
    }
    ward_engine_get_stats(a.e, &s1);
    /* the first few are passed on (the positive control: such a wake-up
     * is taken for a producer's); after WAKE_EMPTY_STREAK that found no
     * record the ring is left unarmed for 100 ms at a time, its word
     * waited on by no one, and looked at every lazy timeout (25 ms) */
    tap_diag("armed: a word swapped to 0 and woken: %llu passed on, %llu noise, %llu polls, quiet %llu times in 200 ms",
             (unsigned long long) (s1.ring_wakeups - s0.ring_wakeups), (unsigned long long) (s1.ring_noise - s0.ring_noise),
             (unsigned long long) (s1.polls - s0.polls), (unsigned long long) (s1.ring_quiet - s0.ring_quiet));
    ok(s1.ring_wakeups - s0.ring_wakeups >= 3 && s1.ring_quiet > s0.ring_quiet,
       "armed: a word swapped to 0 and woken: taken for a producer's at first (%llu passed on), then the ring is left unarmed",
       (unsigned long long) (s1.ring_wakeups - s0.ring_wakeups));
    ok(s1.ring_wakeups - s0.ring_wakeups <= 30 && s1.polls - s0.polls <= 80,
       "armed: ... and it no longer wakes the engine at will (%llu passed on, %llu polls in 200 ms)",
       (unsigned long long) (s1.ring_wakeups - s0.ring_wakeups), (unsigned long long) (s1.polls - s0.polls));
    size_t execs = __atomic_load_n(&a.execs, __ATOMIC_RELAXED);
    write_one(&a.prod, WARD_EV_EXEC, "/bin/sh");
    ok(wait_seen(&a.execs, execs + 1, 2000), "armed: after the flood the engine still takes records");
  } else {
    /* positive control: a ring that cannot wake is looked at every lazy
     * timeout (25 ms), not left for the idle armed sleep (100 ms) */
    ok(polls >= 8 && polls <= 40, "polled: the engine looks at the ring every 25 ms (%llu polls in 300 ms)",
       (unsigned long long) polls);
    size_t before = __atomic_load_n(&a.seen, __ATOMIC_RELAXED);
    uint64_t t0 = ward_now_ns();
    write_one(&a.prod, WARD_EV_EXEC, "/bin/sh");
    bool got = wait_seen(&a.seen, before + 1, 2000);
    double ms = (ward_now_ns() - t0) / 1e6;
    ok(got && ms < 60, "polled: its record arrives within the lazy timeout (%.1f ms)", ms);
  }
  armed_stop(&a, tag);
  ok(__atomic_load_n(&a.seen, __ATOMIC_RELAXED) >= 1, "%s: events seen", tag);
  armed_free(&a);
}

/* What wakes an armed engine besides records that can alert: a quarter
 * of the ring waiting (1 MiB of 512-byte slots: 512 records), never the
 * mere count of records written. */
static void test_engine_armed_backlog(void)
{
  struct armed_run a = {0};
  armed_start(&a, "backlog", true);
  write_one(&a.prod, WARD_EV_OPEN, "/etc/hostname");
  ok(wait_seen(&a.seen, 1, 2000), "backlog: the engine reads the ring");
  /* a steady stream, 20 records every 2 ms: about 250 wait at each 25 ms
   * sleep, and 4,000 pass eight quarters of the ring's tickets (each of
   * which used to wake the engine: 8 wake-ups) */
  struct ward_engine_stats s0, s1;
  ward_engine_get_stats(a.e, &s0);
  for (int round = 0; round < 200; round++) {
    for (int i = 0; i < 20; i++)
      write_one(&a.prod, WARD_EV_OPEN, "/etc/hostname");
    usleep(2000);
  }
  ward_engine_get_stats(a.e, &s1);
  ok(wait_seen(&a.seen, 4001, 2000), "backlog: the stream arrives");
  ok(s1.ring_wakeups - s0.ring_wakeups <= 3, "backlog: a stream that never fills a quarter woke the engine %llu times",
     (unsigned long long) (s1.ring_wakeups - s0.ring_wakeups));
  armed_stop(&a, "backlog");
  armed_free(&a);

  /* an engine told to look every 2 s: records below a quarter wait for it,
   * a quarter of the ring waiting wakes it */
  a = (struct armed_run) {.lazy_us = 2000000};
  armed_start(&a, "backlog-lazy", true);
  usleep(50000);   /* asleep on an empty ring */
  write_one(&a.prod, WARD_EV_OPEN, "/etc/hostname");   /* wakes it (any record), it drains and re-arms */
  ok(wait_seen(&a.seen, 1, 2000), "backlog-lazy: the engine reads the ring");
  usleep(100000);   /* asleep again, armed for what can alert (a slow machine takes a while) */
  for (int i = 0; i < 300; i++)
    write_one(&a.prod, WARD_EV_OPEN, "/etc/hostname");
  struct ward_engine_stats st;
  bool early = wait_seen(&a.seen, 2, 200);
  ward_engine_get_stats(a.e, &st);
  ok(!early, "backlog-lazy: 300 records that cannot alert wait for the timeout (%zu seen, %llu wake-ups, %llu polls)",
     __atomic_load_n(&a.seen, __ATOMIC_RELAXED), (unsigned long long) st.ring_wakeups, (unsigned long long) st.polls);
  for (int i = 0; i < 500; i++)
    write_one(&a.prod, WARD_EV_OPEN, "/etc/hostname");
  /* the producer of ticket 768 (an eighth of the ring, with 767 waiting)
   * wakes it: at least the records up to there arrive at once; those
   * published after the engine's drain wait for its next look */
  bool woke = wait_seen(&a.seen, 769, 300);
  ok(woke, "backlog-lazy: a quarter of the ring waiting wakes the engine (%zu seen)", __atomic_load_n(&a.seen, __ATOMIC_RELAXED));
  armed_stop(&a, "backlog-lazy");
  armed_free(&a);
}

/* A container that keeps scribbling on its own wake word (and calling
 * FUTEX_WAKE on it) must not stop the helper watching its neighbour's
 * ring: the neighbour's exec wakes the engine, not its 200 ms timeout. */
static atomic_bool scribbling;

static void *scribble_wake(void *arg)
{
  struct ward_ring_hdr *h = arg;
  while (atomic_load(&scribbling)) {
    __atomic_store_n(&h->wake, 3, __ATOMIC_RELAXED);
    syscall(SYS_futex, &h->wake, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
  }
  return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
  return x < y ? -1 : x > y;
}

static void test_engine_armed_neighbour(void)
{
  struct armed_run a = {.lazy_us = 200000};
  armed_start(&a, "neighbour", true);
  _cleanup_free_ char *dir = tmp_path("neighbour-b");
  struct ward_ring *pr_b = NULL;
  struct ward_ring_prod prod_b;
  ok(add_ring_container(a.e, "neighbour-b", dir, true, false, &pr_b, &prod_b) == 0, "neighbour: second container added");
  usleep(50000);
  atomic_store(&scribbling, true);
  pthread_t th;
  pthread_create(&th, NULL, scribble_wake, a.prod.hdr);
  enum { N = 20 };
  uint64_t lat[N];
  bool all = true;
  for (int i = 0; i < N; i++) {
    uint64_t t0 = ward_now_ns();
    write_one(&prod_b, WARD_EV_EXEC, "/bin/sh");
    all &= wait_seen(&a.execs, (size_t) i + 1, 2000);
    lat[i] = ward_now_ns() - t0;
    usleep(3000);
  }
  atomic_store(&scribbling, false);
  pthread_join(th, NULL);
  qsort(lat, N, sizeof(lat[0]), cmp_u64);
  ok(all && lat[N / 2] < 20000000ull, "neighbour: its execs reach the engine while the other scribbles (median %.2f ms, max %.2f ms)",
     lat[N / 2] / 1e6, lat[N - 1] / 1e6);
  armed_stop(&a, "neighbour");
  armed_free(&a);
  ward_ring_close(pr_b);
}

/* A ring that cannot wake the engine (its workload cleared `caps` after a
 * record, or an older probe) beside one that can: the second stays armed
 * and wakes the engine itself; the first is looked at every lazy timeout
 * (25 ms). Before, one such ring made the engine poll every ring, about a
 * thousand times a second when idle. */
static void test_engine_armed_mixed(void)
{
  struct armed_run a = {0};
  armed_start(&a, "mixed", true);
  _cleanup_free_ char *dir = tmp_path("mixed-b");
  struct ward_ring *pr_b = NULL;
  struct ward_ring_prod prod_b;
  ok(add_ring_container(a.e, "mixed-b", dir, false, false, &pr_b, &prod_b) == 0, "mixed: a container whose ring cannot wake");
  write_one(&prod_b, WARD_EV_OPEN, "/etc/hostname");
  write_one(&a.prod, WARD_EV_OPEN, "/etc/hostname");
  ok(wait_seen(&a.seen, 2, 2000), "mixed: both rings are read");
  struct ward_engine_stats s0, s1;
  uint64_t polls = idle_polls(a.e, &s0, &s1);
  ok(polls >= 8 && polls <= 40 && s1.armed_sleeps - s0.armed_sleeps >= 8,
     "mixed: idle, the engine sleeps armed and looks every 25 ms (%llu polls, %llu armed sleeps in 300 ms)",
     (unsigned long long) polls, (unsigned long long) (s1.armed_sleeps - s0.armed_sleeps));
  /* an exec on the armed ring wakes the engine through its producer */
  write_one(&a.prod, WARD_EV_OPEN, "/etc/passwd");   /* ends the idle arm: the next is for what can alert */
  usleep(20000);
  ward_engine_get_stats(a.e, &s0);
  uint64_t woke = s0.ring_wakeups;
  size_t execs = __atomic_load_n(&a.execs, __ATOMIC_RELAXED);
  write_one(&a.prod, WARD_EV_EXEC, "/bin/sh");
  ok(wait_seen(&a.execs, execs + 1, 2000), "mixed: the armed ring's exec arrives");
  ward_engine_get_stats(a.e, &s1);
  ok(s1.ring_wakeups > woke, "mixed: its producer woke the engine (%llu wake-ups)", (unsigned long long) (s1.ring_wakeups - woke));
  /* the other ring's records arrive within the lazy timeout */
  uint64_t t0 = ward_now_ns();
  write_one(&prod_b, WARD_EV_EXEC, "/bin/sh");
  bool got = wait_seen(&a.execs, execs + 2, 2000);
  double ms = (ward_now_ns() - t0) / 1e6;
  ok(got && ms < 60, "mixed: the unarmed ring's exec arrives within the lazy timeout (%.1f ms)", ms);
  armed_stop(&a, "mixed");
  armed_free(&a);
  ward_ring_close(pr_b);
}

/* The seen-set at the engine (ring_seen.h), with an engine told to look
 * only every 2 s: a record that raised no alert lets the engine sleep on
 * when it comes again; a repeat of one that alerted wakes it; a new mode
 * on the container's control page forgets what was seen. */
static void write_open_for_writing(const struct ward_ring_prod *prod, const char *path)
{
  struct ward_rec_in in = {.type = WARD_EV_OPEN, .call = WARD_CALL_open, .pid = 5, .tid = 5, .ts_ns = ward_now_ns(),
                           .ret = 3, .a_flags = O_WRONLY | O_CREAT, .s1 = {.part = {path}, .len = {strlen(path)}}};
  ward_ring_write(prod, &in);
}

/* Leaves the engine asleep armed for what can alert (URGENT): after an
 * empty ring it arms for any record, which any record ends, seen or not;
 * a record that cannot alert, drained, makes it arm for what can. */
static void settle(struct armed_run *a, size_t *n)
{
  write_one(&a->prod, WARD_EV_OPEN, "/etc/hostname");
  wait_seen(&a->seen, ++*n, 2000);
  usleep(100000);
}

static void test_engine_armed_seen(void)
{
  struct armed_run a = {.lazy_us = 2000000, .control = true};
  armed_start(&a, "seen", true);
  size_t n = 0;
  usleep(50000);
  settle(&a, &n);
  /* in mode off an open for writing can alert (the detector's rules) */
  write_open_for_writing(&a.prod, "/tmp/ward-seen");
  ok(wait_seen(&a.seen, ++n, 200), "seen: an open for writing wakes the engine");
  settle(&a, &n);
  write_open_for_writing(&a.prod, "/tmp/ward-seen");
  ok(!wait_seen(&a.seen, ++n, 200), "seen: the same open again, after one that raised no alert, lets it sleep on");
  /* (it is drained with the next record that wakes the engine) */
  write_open_for_writing(&a.prod, "/etc/ld.so.preload");
  ok(wait_seen(&a.seen, ++n, 200), "seen: an open of the preload file for writing wakes it");
  settle(&a, &n);
  write_open_for_writing(&a.prod, "/etc/ld.so.preload");
  ok(wait_seen(&a.seen, ++n, 200), "seen: so does its repeat: the first one alerted, so it was not noted");
  settle(&a, &n);
  /* the judgement changes: what was seen may deviate now */
  _cleanup_free_ char *ctl = ward_probe_control_path(a.dir);
  ward_error_t err = NULL;
  ok(ward_control_set_mode(ctl, WARD_CTL_MODE_QUARANTINE, &err) == 0, "seen: the container is quarantined");
  ward_error_free(&err);
  settle(&a, &n);   /* the engine re-arms under the new mode */
  write_open_for_writing(&a.prod, "/tmp/ward-seen");
  ok(wait_seen(&a.seen, ++n, 200), "seen: after the new mode the open seen before wakes it again");
  armed_stop(&a, "seen");
  armed_free(&a);
}

/* A plain-file ring truncated by its workload while the engine sleeps
 * armed on it: waking, the engine disarms it, and its helper waits on its
 * word. Neither may die of SIGBUS. */
static void test_engine_armed_truncated(void)
{
  struct armed_run a = {0};
  armed_start(&a, "truncated", true);
  _cleanup_free_ char *ring = NULL;
  if (asprintf(&ring, "%s/" WARD_RUN_DIR "/" WARD_STATE_PROBE "/ring", a.dir) < 0)
    abort();
  write_one(&a.prod, WARD_EV_OPEN, "/etc/hostname");
  ok(wait_seen(&a.seen, 1, 2000), "truncated: the engine reads the ring");
  usleep(50000);
  struct ward_engine_stats st;
  ward_engine_get_stats(a.e, &st);
  ok(st.armed_sleeps > 0, "truncated: the engine sleeps armed");
  /* the producer's view is gone with the file's pages: only the engine
   * touches the header from here on */
  ok(truncate(ring, 0) == 0, "truncated: the workload truncates the ring");
  usleep(350000);   /* past the idle armed sleep: the engine wakes and disarms */
  armed_stop(&a, "truncated");
  ok(1, "truncated: the engine survived and stopped");
  armed_free(&a);
}

int main(void)
{
  signal(SIGPIPE, SIG_IGN);
  if (mkdtemp(tmpdir) == NULL)
    return 1;
  test_policy_files();
  test_annotations();
  test_alerts();
  test_syslog();
  test_engine_ring();
  test_engine_armed(true);
  test_engine_armed(false);
  test_engine_armed_truncated();
  test_engine_armed_backlog();
  test_engine_armed_neighbour();
  test_engine_armed_mixed();
  test_engine_armed_seen();
  ward_error_t err = NULL;
  ward_remove_tree(tmpdir, &err);
  ward_error_free(&err);
  return tap_done();
}
