/* Detection: the sequence model's counts, scores, calibration and JSON;
 * the trace reader's errors; the rate model; every injected-code rule with
 * a negative control. Integration with real programs: tests/integration/detect.bats. */
#include "agent/detect.h"
#include "agent/detect_event_json.h"
#include "agent/model.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "probe/calls.h"
#include "tap.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t parse(struct ward_seq_model *m, bool add, const char *text, uint16_t **ids)
{
  _cleanup_error_ ward_error_t err = NULL;
  size_t n = 0;
  if (ward_trace_parse(m, add, "t", text, strlen(text), ids, &n, &err) < 0)
    tap_diag("parse: %s", err->msg);
  return n;
}

static void test_sequence(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_seq_model *m = NULL;
  ok(ward_seq_model_new(&(struct ward_seq_params){.n = 3, .window = 4}, &m, &err) == 0, "new model");
  struct ward_trace_set set = {0};
  const char *normal[] = {"open read read close", "open read close", "open read read read close",
                          "open read close open read close"};
  /* each trace four times: both calibration folds see every behaviour */
  for (size_t i = 0; i < 4 * ARRAY_SIZE(normal); i++) {
    uint16_t *ids = NULL;
    size_t n = parse(m, true, normal[i / 4], &ids);
    ward_seq_model_learn(m, ids, n);
    ward_trace_set_add(&set, normal[i / 4], ids, n);
  }
  ok(ward_seq_model_calibrate(m, &set, &err) == 0, "calibrate");
  double thr = ward_seq_model_threshold(m);
  ok(isfinite(thr) && thr > 0, "threshold %g is finite and positive", thr);
  uint16_t *a = NULL, *b = NULL;
  size_t na = parse(m, false, "open read read close", &a);
  size_t nb = parse(m, false, "open execve connect dup2 execve", &b);
  double sa = ward_seq_model_score(m, a, na), sb = ward_seq_model_score(m, b, nb);
  ok(sa < sb, "a seen trace scores lower (%g) than an unseen one (%g)", sa, sb);
  ok(sb > thr, "the unseen trace is above the threshold");
  is_int(b[1], 1, "unknown tokens map to <unk> when not adding");
  /* JSON round trip keeps scores */
  json_t *j = ward_seq_model_to_json(m);
  struct ward_seq_model *back = NULL;
  ok(j && ward_seq_model_from_json(j, "model", &back, &err) == 0, "model JSON loads back");
  ok(back && fabs(ward_seq_model_score(back, a, na) - sa) < 1e-6 && fabs(ward_seq_model_score(back, b, nb) - sb) < 1e-6,
     "round trip keeps scores");
  ok(back && ward_seq_model_threshold(back) == thr, "round trip keeps the threshold");
  json_t *again = back ? ward_seq_model_to_json(back) : NULL;
  ok(again && json_equal(j, again), "serialisation is stable");
  json_decref(again);
  json_decref(j);
  ward_seq_model_free(back);
  free(a);
  free(b);
  ward_trace_set_free(&set);
  ward_seq_model_free(m);
}

static void test_trace_errors(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_seq_model *m = NULL;
  ward_seq_model_new(NULL, &m, &err);
  uint16_t *ids = NULL;
  size_t n = 0;
  ok(ward_trace_parse(m, true, "x.trace", "read\nwrite\nop\x01n", 15, &ids, &n, &err) < 0, "binary byte fails");
  if (err)
    contains(err->msg, "x.trace:3: unexpected byte 0x01", "error names file:line and the byte");
  ward_error_free(&err);
  char big[200];
  memset(big, 'a', sizeof(big));
  ok(ward_trace_parse(m, true, "y", big, sizeof(big), &ids, &n, &err) < 0, "a huge token fails");
  if (err)
    contains(err->msg, "y:1: a token of 200 bytes", "huge token error");
  ward_error_free(&err);
  ok(ward_trace_parse(m, true, "z", "", 0, &ids, &n, &err) == 0 && n == 0, "an empty trace is an empty trace");
  free(ids);
  ward_seq_model_free(m);
  /* a bad model names the field */
  _cleanup_json_ json_t *bad = json_loads("{\"kind\":\"ward-seq\",\"version\":1,\"n\":2,\"window\":4,"
                                          "\"vocab\":[\"x\"],\"grams\":[9,9,1]}", 0, NULL);
  ok(ward_seq_model_from_json(bad, "model.sequence", &m, &err) < 0, "out-of-vocabulary id refused");
  if (err)
    contains(err->msg, "model.sequence.grams[0]", "error names the field");
}

static void test_rate(void)
{
  struct ward_rate_model r = {0};
  uint32_t mx = 0;
  for (int i = 0; i < 30; i++)
    mx = ward_rate_add(&r, WARD_RATE_EXEC, 1000000000ull + (uint64_t) i * 100000000ull);   /* 10/s */
  ok(mx >= 9 && mx <= 11, "a steady 10/s reads %u in the sliding second", mx);
  uint32_t burst = 0;
  for (int i = 0; i < 50; i++)
    burst = ward_rate_add(&r, WARD_RATE_EXEC, 5000000000ull + (uint64_t) i * 1000000ull);
  is_int(burst, 50, "a burst of 50 within 50 ms counts 50");
  uint32_t later = ward_rate_add(&r, WARD_RATE_EXEC, 7000000000ull);
  is_int(later, 1, "the window forgets after a second");
}

/* ---- the detector on synthetic events ---- */

struct seen { int n; const char *rules[64]; char detail[64][256]; };

static void collect(void *opaque, const struct ward_event *ev, const struct ward_detection *d)
{
  (void) ev;
  struct seen *s = opaque;
  if (s->n < 64) {
    s->rules[s->n] = d->rule;
    snprintf(s->detail[s->n], 256, "%s", d->detail);
  }
  s->n++;
}

static bool has(const struct seen *s, const char *rule)
{
  for (int i = 0; i < s->n && i < 64; i++)
    if (strcmp(s->rules[i], rule) == 0)
      return true;
  return false;
}

static struct ward_event *mk(struct ward_event *e, enum ward_event_type t, unsigned call, uint32_t pid, int64_t ret)
{
  memset(e, 0, sizeof(*e));
  e->type = t;
  e->call = (uint16_t) call;
  e->pid = e->tid = pid;
  e->ret = ret;
  e->source = WARD_SRC_PROBE;
  return e;
}

/* One exec record of pid for path (ret: 0 the attempt, -errno a failure)
 * through the detector. */
static void exec_event(struct ward_detector *d, struct ward_event *e, uint32_t pid, int64_t ret, const char *path,
                       struct seen *s)
{
  mk(e, WARD_EV_EXEC, WARD_CALL_execve, pid, ret);
  snprintf(e->path, sizeof(e->path), "%s", path);
  ward_detector_event(d, e, collect, s);
}

static void test_rules(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_detector *d = NULL;
  ok(ward_detector_new(&(struct ward_detect_config){.root_fd = -1}, &d, &err) == 0, "detector without a model");
  static struct ward_event e;
  struct seen s = {0};
  /* a server: listen, fork a worker, the worker forks a child that execs sh */
  ward_detector_event(d, mk(&e, WARD_EV_LISTEN, WARD_CALL_listen, 10, 0), collect, &s);
  ward_detector_event(d, mk(&e, WARD_EV_FORK, WARD_CALL_fork, 10, 11), collect, &s);
  ward_detector_event(d, mk(&e, WARD_EV_FORK, WARD_CALL_fork, 11, 12), collect, &s);
  mk(&e, WARD_EV_EXEC, WARD_CALL_execve, 12, 0);
  strcpy(e.path, "/usr/bin/dash");
  strcpy(e.path2, "sh -c id");
  ward_detector_event(d, &e, collect, &s);
  ok(s.n == 1 && has(&s, "inject.server_shell"), "a shell two forks below a listener is a server shell");
  ward_detector_event(d, &e, collect, &s);
  is_int(s.n, 1, "once per lineage");
  /* negative: a shell started by a process that never listened */
  s.n = 0;
  ward_detector_event(d, mk(&e, WARD_EV_FORK, WARD_CALL_fork, 20, 21), collect, &s);
  exec_event(d, &e, 21, 0, "/bin/sh", &s);
  is_int(s.n, 0, "a shell outside servers raises nothing");
  /* the child's exec reaches the ring before the parent's fork record */
  s.n = 0;
  ward_detector_event(d, mk(&e, WARD_EV_LISTEN, WARD_CALL_listen, 90, 0), collect, &s);
  mk(&e, WARD_EV_EXEC, WARD_CALL_execve, 91, 0);
  strcpy(e.path, "/bin/sh");
  e.ts_ns = 2000;
  ward_detector_event(d, &e, collect, &s);
  mk(&e, WARD_EV_FORK, WARD_CALL_fork, 90, 91);
  e.ts_ns = 1000;
  ward_detector_event(d, &e, collect, &s);
  ok(s.n == 1 && has(&s, "inject.server_shell"), "a shell whose fork record came late is still a server shell");
  /* a stale entry for a reused pid does not inherit: its first event predates the fork */
  s.n = 0;
  mk(&e, WARD_EV_EXEC, WARD_CALL_execve, 95, 0);
  strcpy(e.path, "/bin/sh");
  e.ts_ns = 500;
  ward_detector_event(d, &e, collect, &s);
  mk(&e, WARD_EV_FORK, WARD_CALL_fork, 90, 95);
  e.ts_ns = 3000;
  ward_detector_event(d, &e, collect, &s);
  is_int(s.n, 0, "an old process with a reused pid is not the server's shell");
  /* busybox as sh */
  ward_detector_event(d, mk(&e, WARD_EV_ACCEPT, WARD_CALL_accept4, 30, 5), collect, &s);
  mk(&e, WARD_EV_EXEC, WARD_CALL_execve, 30, 0);
  strcpy(e.path, "/bin/busybox");
  strcpy(e.path2, "sh -c id");
  ward_detector_event(d, &e, collect, &s);
  ok(has(&s, "inject.server_shell"), "busybox run as sh by an accepting process");
  /* system() from a server */
  s.n = 0;
  ward_detector_event(d, mk(&e, WARD_EV_LISTEN, WARD_CALL_listen, 40, 0), collect, &s);
  mk(&e, WARD_EV_SYSTEM, WARD_CALL_system, 40, 0);
  strcpy(e.path, "ping -c1 x");
  ward_detector_event(d, &e, collect, &s);
  ok(has(&s, "inject.server_shell"), "system() in a server");
  /* exec classes */
  const struct { const char *path; const char *rule; } execs[] = {
    {"/memfd:x (deleted)", "inject.exec_memfd"}, {"/proc/self/fd/3", "inject.exec_memfd"},
    {"/proc/12/fd/7", "inject.exec_memfd"}, {"/dev/fd/4", "inject.exec_memfd"},
    {"/tmp/payload (deleted)", "inject.exec_deleted"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(execs); i++) {
    s.n = 0;
    mk(&e, WARD_EV_EXEC, WARD_CALL_fexecve, 50, 0);
    strcpy(e.path, execs[i].path);
    ward_detector_event(d, &e, collect, &s);
    ok(s.n == 1 && has(&s, execs[i].rule), "exec of %s: %s", execs[i].path, execs[i].rule);
  }
  /* one exec reported by the probe and by the supervisor alerts once */
  s.n = 0;
  mk(&e, WARD_EV_EXEC, WARD_CALL_fexecve, 51, 0);
  strcpy(e.path, "/memfd:y (deleted)");
  e.ts_ns = 5000;
  ward_detector_event(d, &e, collect, &s);
  mk(&e, WARD_EV_EXEC, 0, 51, 0);
  e.source = WARD_SRC_SUPERVISOR;
  e.syscall_nr = 322;
  strcpy(e.path, "/memfd:y (deleted)");
  e.ts_ns = 9000;
  ward_detector_event(d, &e, collect, &s);
  is_int(s.n, 1, "the same exec from two sources alerts once");
  s.n = 0;
  exec_event(d, &e, 50, -2, "/memfd:x", &s);   /* the failure record of an attempt */
  exec_event(d, &e, 50, 0, "/proc/selfish/fd/1", &s);
  is_int(s.n, 0, "failure records and look-alike paths raise nothing");
  /* W+X */
  s.n = 0;
  mk(&e, WARD_EV_MMAP_WX, WARD_CALL_mmap, 60, 4096);
  e.flags = 0x7;
  ward_detector_event(d, &e, collect, &s);
  mk(&e, WARD_EV_MMAP_WX, WARD_CALL_mmap, 60, 4096);
  e.flags = 0x5;   /* r-x: a perf record, not W+X */
  ward_detector_event(d, &e, collect, &s);
  ok(s.n == 1 && has(&s, "inject.wx_mapping"), "W+X mapping; r-x is not");
  /* preload */
  s.n = 0;
  mk(&e, WARD_EV_OPEN, WARD_CALL_openat, 70, -30);
  strcpy(e.path, "/etc/ld.so.preload");
  e.flags = O_WRONLY | O_APPEND;
  ward_detector_event(d, &e, collect, &s);
  mk(&e, WARD_EV_OPEN, WARD_CALL_openat, 70, 3);
  strcpy(e.path, "/etc/ld.so.preload");
  e.flags = O_RDONLY;
  ward_detector_event(d, &e, collect, &s);
  mk(&e, WARD_EV_RENAME, WARD_CALL_rename, 70, 0);
  strcpy(e.path, "/tmp/x");
  strcpy(e.path2, "/etc/ld.so.preload");
  ward_detector_event(d, &e, collect, &s);
  mk(&e, WARD_EV_UNLINK, WARD_CALL_unlink, 70, 0);
  strcpy(e.path, "/run/ward-probe/ld.so.preload");
  ward_detector_event(d, &e, collect, &s);
  is_int(s.n, 3, "preload: write open, rename onto, unlink in the probe dir; not a read");
  /* ptrace */
  s.n = 0;
  mk(&e, WARD_EV_PTRACE, WARD_CALL_ptrace, 80, 0);
  e.flags = 16;   /* PTRACE_ATTACH */
  e.arg = 81;
  ward_detector_event(d, &e, collect, &s);
  mk(&e, WARD_EV_PTRACE, WARD_CALL_ptrace, 80, 0);
  e.flags = 0;    /* PTRACE_TRACEME */
  ward_detector_event(d, &e, collect, &s);
  ok(s.n == 1 && has(&s, "inject.ptrace"), "ptrace attach to another process; TRACEME is not");
  /* a rule switched off */
  ward_detector_enable(d, WARD_RULE_PTRACE, false);
  s.n = 0;
  mk(&e, WARD_EV_PTRACE, WARD_CALL_ptrace, 80, 0);
  e.flags = 16;
  e.arg = 81;
  ward_detector_event(d, &e, collect, &s);
  is_int(s.n, 0, "a disabled rule is silent");
  /* the process table stays bounded: 10000 pids */
  for (uint32_t pid = 1000; pid < 11000; pid++)
    ward_detector_event(d, mk(&e, WARD_EV_OPEN, WARD_CALL_openat, pid, 3), collect, &s);
  struct ward_detector_stats st;
  ward_detector_get_stats(d, &st);
  ok(st.evictions >= 10000 - 1024, "old processes are evicted (%llu)", (unsigned long long) st.evictions);
  ward_detector_free(d);
}

/* learn mode -> model -> monitor: a sequence never seen and an exec burst */
static void test_learn_monitor(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_detector *d = NULL;
  ok(ward_detector_new(&(struct ward_detect_config){.root_fd = -1, .learn = true}, &d, &err) == 0, "learning detector");
  static struct ward_event e;
  uint64_t ts = 1000000000ull;
  /* 40 worker processes: accept, open, open, sendto, repeated */
  for (uint32_t p = 100; p < 140; p++)
    for (int k = 0; k < 30; k++) {
      static const unsigned seq[][2] = {{WARD_EV_ACCEPT, WARD_CALL_accept4}, {WARD_EV_OPEN, WARD_CALL_openat},
                                        {WARD_EV_OPEN, WARD_CALL_openat}, {WARD_EV_SENDTO, WARD_CALL_sendto}};
      mk(&e, seq[k % 4][0], seq[k % 4][1], p, 3);
      e.ts_ns = (ts += 10000000);   /* 100 events/s */
      ward_detector_event(d, &e, NULL, NULL);
    }
  mk(&e, WARD_EV_EXEC, WARD_CALL_execve, 99, 0);
  strcpy(e.path, "/usr/sbin/nginx");
  e.ts_ns = (ts += 10000000);
  ward_detector_event(d, &e, NULL, NULL);
  json_t *model = ward_detector_model(d);
  ward_detector_free(d);
  ok(model != NULL, "learned model");
  json_t *thr = json_object_get(json_object_get(model, "sequence"), "threshold");
  ok(json_is_real(thr) && json_real_value(thr) > 0, "sequence threshold calibrated");
  ok(json_integer_value(json_object_get(json_object_get(json_object_get(model, "rate"), "exec"), "threshold")) >= 9,
     "rate threshold calibrated");
  ok(ward_detector_new(&(struct ward_detect_config){.root_fd = -1, .model = model}, &d, &err) == 0, "monitoring detector");
  json_decref(model);
  struct seen s = {0};
  for (int k = 0; k < 30; k++) {
    static const unsigned seq[][2] = {{WARD_EV_ACCEPT, WARD_CALL_accept4}, {WARD_EV_OPEN, WARD_CALL_openat},
                                      {WARD_EV_OPEN, WARD_CALL_openat}, {WARD_EV_SENDTO, WARD_CALL_sendto}};
    mk(&e, seq[k % 4][0], seq[k % 4][1], 200, 3);
    e.ts_ns = (ts += 10000000);
    ward_detector_event(d, &e, collect, &s);
  }
  is_int(s.n, 0, "the learned behaviour raises nothing");
  for (int k = 0; k < 30; k++) {
    static const unsigned seq[][2] = {{WARD_EV_SOCKET, WARD_CALL_socket}, {WARD_EV_CONNECT, WARD_CALL_connect},
                                      {WARD_EV_UNLINK, WARD_CALL_unlink}};
    mk(&e, seq[k % 3][0], seq[k % 3][1], 201, 0);
    e.ts_ns = (ts += 10000000);
    ward_detector_event(d, &e, collect, &s);
  }
  int seqs = 0;
  for (int i = 0; i < s.n && i < 64; i++)
    seqs += strcmp(s.rules[i], "model.sequence") == 0;
  is_int(seqs, 1, "an unseen sequence alerts once");
  ok(has(&s, "rate.connect"), "10 connects in 0.3 s where none were learned: rate.connect");
  s.n = 0;
  for (int k = 0; k < 40; k++) {
    mk(&e, WARD_EV_EXEC, WARD_CALL_execve, 300 + (uint32_t) k, 0);
    strcpy(e.path, "/usr/sbin/nginx");
    e.ts_ns = (ts += 1000000);   /* 40 execs in 40 ms */
    ward_detector_event(d, &e, collect, &s);
  }
  ok(has(&s, "rate.exec"), "an exec burst alerts");
  int bursts = 0;
  for (int i = 0; i < s.n && i < 64; i++)
    bursts += strcmp(s.rules[i], "rate.exec") == 0;
  is_int(bursts, 1, "once per second");
  ward_detector_free(d);
}

/* inject.exec_modified through a real root: an unmodified binary raises
 * nothing (and its verdict is kept for a while, so a service exec'ing it
 * over and over does not stat it every time); once the file is written,
 * an exec after that window alerts. */
static void test_exec_modified(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  char root[] = "/tmp/ward-detect-XXXXXX";
  ok(mkdtemp(root) != NULL, "temporary root");
  char bin[64], file[96];
  snprintf(bin, sizeof(bin), "%s/bin", root);
  snprintf(file, sizeof(file), "%s/bin/app", root);
  mkdir(bin, 0700);
  char file2[96], file3[96];
  snprintf(file2, sizeof(file2), "%s/bin/app2", root);
  snprintf(file3, sizeof(file3), "%s/bin/new", root);
  int fd2 = open(file2, O_WRONLY | O_CREAT | O_CLOEXEC, 0700);
  ok(fd2 >= 0 && write(fd2, "v1", 2) == 2, "a second binary of the image");
  close(fd2);
  int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0700);
  ok(fd >= 0 && write(fd, "v1", 2) == 2, "the image's binary");
  struct stat st;
  fstat(fd, &st);
  close(fd);
  int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct ward_detector *d = NULL;
  /* the container started when the binary was last changed: not after */
  ok(ward_detector_new(&(struct ward_detect_config){.root_fd = root_fd, .started = st.st_ctim}, &d, &err) == 0,
     "detector with a root");
  static struct ward_event e;
  struct seen s = {0};
  for (uint32_t pid = 30; pid < 40; pid++) {
    exec_event(d, &e, pid, 0, "/bin/app", &s);
  }
  is_int(s.n, 0, "execs of the unmodified binary raise nothing");
  /* past the file system's timestamp granularity, then past the window
   * an unmodified verdict is kept */
  usleep(20000);
  fd = open(file, O_WRONLY | O_TRUNC | O_CLOEXEC);
  ok(fd >= 0 && write(fd, "v2", 2) == 2, "the binary rewritten");
  close(fd);
  usleep(150000);
  exec_event(d, &e, 41, 0, "/bin/app", &s);
  ok(s.n == 1 && has(&s, "inject.exec_modified"), "an exec of the rewritten binary alerts");
  exec_event(d, &e, 42, 0, "/bin/app", &s);
  is_int(s.n, 2, "and so does the next one at once: only verdicts without alert are kept");
  /* a kept clean verdict is forgotten as soon as the probes see the path
   * opened for writing: no window to rewrite-then-exec in */
  s.n = 0;
  exec_event(d, &e, 43, 0, "/bin/app2", &s);
  is_int(s.n, 0, "the second binary is clean (and its verdict kept)");
  fd = open(file2, O_WRONLY | O_TRUNC | O_CLOEXEC);
  ok(fd >= 0 && write(fd, "v2", 2) == 2, "the second binary rewritten");
  close(fd);
  mk(&e, WARD_EV_OPEN, WARD_CALL_openat, 43, 3);
  strcpy(e.path, "/bin/app2");
  e.flags = O_WRONLY | O_TRUNC;
  ward_detector_event(d, &e, collect, &s);
  exec_event(d, &e, 44, 0, "/bin/app2", &s);
  ok(s.n == 1 && has(&s, "inject.exec_modified"), "exec right after a seen write-open alerts");
  /* a missing file is not kept as clean: it may be written next */
  s.n = 0;
  exec_event(d, &e, 45, 0, "/bin/new", &s);
  is_int(s.n, 0, "exec of a missing file raises nothing");
  fd = open(file3, O_WRONLY | O_CREAT | O_CLOEXEC, 0700);
  ok(fd >= 0 && write(fd, "x", 1) == 1, "the missing file written (unseen by the probes)");
  close(fd);
  exec_event(d, &e, 46, 0, "/bin/new", &s);
  ok(s.n == 1 && has(&s, "inject.exec_modified"), "and its exec at once alerts");
  unlink(file2);
  unlink(file3);
  ward_detector_free(d);
  close(root_fd);
  unlink(file);
  rmdir(bin);
  rmdir(root);
}

int main(void)
{
  test_rules();
  test_exec_modified();
  test_learn_monitor();
  test_sequence();
  test_trace_errors();
  test_rate();
  return tap_done();
}
