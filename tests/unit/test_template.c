/* Templates: generalisation and patterns, learning from events (files,
 * executables with hashes, the process tree in either record order,
 * network, identity, syscalls), checking, merging and diffing. */
#include "agent/template.h"
#include "common/cleanup.h"
#include "common/util.h"
#include "probe/calls.h"
#include "tap.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void test_template_io(void);
void test_template_compile(void);

static void test_generalise(void)
{
  static const struct { const char *in, *out; } cases[] = {
    {"/proc/123/status", "/proc/*/status"},
    {"/proc/self/status", "/proc/self/status"},
    {"/proc/77/task/78/stat", "/proc/*/task/*/stat"},
    {"/proc/self/fd/12", "/proc/self/fd/#"},
    {"/var/log/app/log.1", "/var/log/app/log.#"},
    {"/var/crash/core.4711", "/var/crash/core.#"},
    {"/tmp/tmp.AbC123xYz9", "/tmp/tmp.*"},
    {"/tmp/tmpab3xk9q2", "/tmp/tmp*"},
    {"/var/tmp/upload-Xk29aQ", "/var/tmp/upload-*"},
    {"/srv/cache/3f2a9c0d1e2b4a5968778899aabbccdd.bin", "/srv/cache/*.bin"},
    {"/usr/bin/sha256sum", "/usr/bin/sha256sum"},
    {"/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.#"},
    {"/usr/bin/python3.11", "/usr/bin/python3.#"},
    {"/etc/hostname", "/etc/hostname"},
    {"/data/a*b#c\\d", "/data/a\\*b\\#c\\\\d"},
    {"/data/2024-01-31.log", "/data/#-#-#.log"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    _cleanup_free_ char *g = ward_template_generalise(cases[i].in);
    is_str(g, cases[i].out, "generalise %s", cases[i].in);
    ok(g && ward_template_pattern_match(g, cases[i].in), "the pattern of %s matches it", cases[i].in);
  }
}

static void test_match(void)
{
  static const struct { const char *pat, *path; bool m; } cases[] = {
    {"/proc/*/status", "/proc/1/status", true},
    {"/proc/*/status", "/proc/1/task/2/status", false},
    {"/srv/**", "/srv/a/b/c", true},
    {"/srv/**/x", "/srv/a/b/x", true},
    {"/srv/**/x", "/srv/a/b/y", false},
    {"/log.#", "/log.12", true},
    {"/log.#", "/log.", false},
    {"/log.#", "/log.1a", false},
    {"/a\\*", "/a*", true},
    {"/a\\*", "/ab", false},
    {"/tmp/tmp.*", "/tmp/tmp.", true},
    {"/tmp/tmp.*", "/tmp/tmp.x/y", false},
    {"/exact", "/exact", true},
    {"/exact", "/exactly", false},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    ok(ward_template_pattern_match(cases[i].pat, cases[i].path) == cases[i].m, "%s %s %s", cases[i].pat,
       cases[i].m ? "matches" : "does not match", cases[i].path);
  /* a hostile pattern gives up instead of taking exponential time */
  char pat[200] = "", path[200] = "";
  for (int i = 0; i < 40; i++)
    strcat(pat, "*a");
  memset(path, 'a', 150);
  path[150] = 'b';
  uint64_t t0 = ward_now_ns();
  ok(!ward_template_pattern_match(pat, path), "a pathological pattern ends (no match)");
  ok(ward_now_ns() - t0 < 2000000000ull, "within the step budget");
}

static struct ward_event *ev_new(enum ward_event_type type, uint32_t pid, const char *path)
{
  static struct ward_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = type;
  ev.source = WARD_SRC_PROBE;
  ev.pid = ev.tid = pid;
  if (path)
    snprintf(ev.path, sizeof(ev.path), "%s", path);
  return &ev;
}

static struct ward_event *ev_open(uint32_t pid, const char *path, uint32_t flags)
{
  struct ward_event *e = ev_new(WARD_EV_OPEN, pid, path);
  e->flags = flags;
  e->call = WARD_CALL_openat;
  e->ret = 3;
  return e;
}

static struct ward_event *ev_exec(uint32_t pid, const char *path)
{
  struct ward_event *e = ev_new(WARD_EV_EXEC, pid, path);
  e->call = WARD_CALL_execve;
  return e;
}

static struct ward_event *ev_fork(uint32_t pid, int64_t child, unsigned call)
{
  struct ward_event *e = ev_new(WARD_EV_FORK, pid, NULL);
  e->ret = child;
  e->call = (uint16_t) call;
  return e;
}

static struct ward_event *ev_net(enum ward_event_type type, uint32_t pid, const char *ip, uint16_t port)
{
  struct ward_event *e = ev_new(type, pid, NULL);
  e->family = AF_INET;
  e->port = port;
  e->call = type == WARD_EV_CONNECT ? WARD_CALL_connect : WARD_CALL_bind;
  inet_pton(AF_INET, ip, e->addr);
  return e;
}

static bool has(const char *doc, const char *needle) { return doc && strstr(doc, needle) != NULL; }

/* The template's JSON as text, for membership tests. */
static char *dump(const struct ward_template *t)
{
  json_t *j = ward_template_to_json(t);
  char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
  if (j)
    json_decref(j);
  return s;
}

static void learn_sample(struct ward_template *t, struct ward_template_tracker *tr)
{
  ward_template_tracker_set_exe(tr, 1, "/bin/sh");
  ward_template_learn_tracked(t, tr, ev_open(1, "/etc/app.conf", O_RDONLY), -1);
  ward_template_learn_tracked(t, tr, ev_open(1, "/var/log/app/log.1", O_WRONLY | O_CREAT | O_TRUNC), -1);
  ward_template_learn_tracked(t, tr, ev_open(1, "/proc/1/status", O_RDONLY), -1);
  /* the child's exec reaches us before the parent's fork record */
  ward_template_learn_tracked(t, tr, ev_exec(7, "/usr/bin/cat"), -1);
  ward_template_learn_tracked(t, tr, ev_fork(1, 7, WARD_CALL_fork), -1);
  /* vfork: the child's pid is never reported */
  ward_template_learn_tracked(t, tr, ev_fork(1, 0, WARD_CALL_vfork), -1);
  ward_template_learn_tracked(t, tr, ev_exec(8, "/usr/bin/ls"), -1);
  struct ward_event *c = ev_net(WARD_EV_CONNECT, 1, "10.0.0.5", 443);
  c->ret = -115;  /* EINPROGRESS: still an attempt */
  ward_template_learn_tracked(t, tr, c, -1);
  struct ward_event *b = ev_net(WARD_EV_BIND, 1, "0.0.0.0", 8080);
  ward_template_learn_tracked(t, tr, b, -1);
  struct ward_event *s = ev_new(WARD_EV_SETID, 1, NULL);
  s->call = WARD_CALL_setuid;
  s->arg = 1000;
  ward_template_learn_tracked(t, tr, s, -1);
  /* failed and denied calls teach nothing */
  struct ward_event *f = ev_open(1, "/etc/nope", O_RDONLY);
  f->ret = -2;
  ward_template_learn_tracked(t, tr, f, -1);
  struct ward_event *d = ev_open(1, "/etc/denied", O_RDONLY);
  d->denied = true;
  ward_template_learn_tracked(t, tr, d, -1);
}

static void test_learn(void)
{
  _cleanup_template_ struct ward_template *t = ward_template_new("web");
  struct ward_template_tracker *tr = ward_template_tracker_new();
  learn_sample(t, tr);
  _cleanup_free_ char *j = dump(t);
  ok(has(j, "\"read\":[\"/etc/app.conf\",\"/proc/*/status\"]"), "reads, generalised: %s", j ? j : "(no dump)");
  ok(has(j, "\"write\":[\"/var/log/app/log.#\"]") && has(j, "\"create\":[\"/var/log/app/log.#\"]"),
     "O_WRONLY|O_CREAT is write and create");
  ok(has(j, "\"/bin/sh -> /usr/bin/cat\""), "fork record after the exec still names the parent");
  ok(has(j, "\"/bin/sh -> /usr/bin/ls\""), "a vfork child's parent");
  ok(has(j, "\"connect\":[\"inet:10.0.0.5:443\"]") && has(j, "\"listen\":[\"inet:0.0.0.0:8080\"]"), "network");
  ok(has(j, "\"identity\":[\"setuid:1000\"]"), "identity");
  ok(has(j, "\"seen\":[\"bind\",\"connect\",\"execve\",\"fork\",\"openat\",\"setuid\",\"vfork\"]"), "calls seen");
  ok(has(j, "\"complete\":[\"memfd_create\",\"ptrace\""), "probe-complete calls recorded");
  ok(!has(j, "/etc/nope") && !has(j, "/etc/denied"), "failed and denied calls are not learned");
  /* one exec reported by the supervisor and the probe is one edge */
  ward_template_learn_tracked(t, tr, ev_fork(1, 50, WARD_CALL_fork), -1);
  struct ward_event *sv = ev_exec(50, "/usr/bin/env");
  sv->source = WARD_SRC_SUPERVISOR;
  sv->syscall_nr = 59;
  sv->call = 0;
  ward_template_learn_tracked(t, tr, sv, -1);
  ward_template_learn_tracked(t, tr, ev_exec(50, "/usr/bin/env"), -1);
  /* a shell that runs the shell again is an edge of its own */
  ward_template_learn_tracked(t, tr, ev_fork(1, 51, WARD_CALL_fork), -1);
  ward_template_learn_tracked(t, tr, ev_exec(51, "/bin/sh"), -1);
  free(j);
  j = dump(t);
  ok(has(j, "\"/bin/sh -> /usr/bin/env\"") && !has(j, "\"/usr/bin/env -> /usr/bin/env\""),
     "a doubly reported exec is one edge: %s", j ? j : "(no dump)");
  ok(has(j, "\"/bin/sh -> /bin/sh\""), "sh starting sh");
  /* executables keep their numbers; generated names still generalise */
  ward_template_learn_tracked(t, tr, ev_exec(60, "/usr/bin/python3.11"), -1);
  ward_template_learn_tracked(t, tr, ev_exec(61, "/tmp/tmp.AbC123xYz9/run.sh"), -1);
  free(j);
  j = dump(t);
  ok(has(j, "{\"path\":\"/usr/bin/python3.11\"}") && has(j, "{\"path\":\"/tmp/tmp.*/run.sh\"}"),
     "exec paths: numbers kept, temp names generalised");

  /* supervisor events: syscall names by number and the watched set */
  struct ward_event *m = ev_new(WARD_EV_SYSCALL, 1, "/mnt");
  m->source = WARD_SRC_SUPERVISOR;
  m->syscall_nr = 165;  /* x86_64 mount */
#ifdef __x86_64__
  ward_template_learn_tracked(t, tr, m, -1);
  free(j);
  j = dump(t);
  ok(has(j, "\"mount\""), "supervisor syscall named");
  ok(has(j, "\"pidfd_getfd\"") && has(j, "\"execveat\""), "supervisor-watched calls are complete");
#endif

  /* hashing an executable through its fd */
  char path[] = "/tmp/ward-tpl-exe.XXXXXX";
  int fd = mkstemp(path);
  ok(fd >= 0 && write(fd, "abc", 3) == 3, "temp executable");
  ward_template_learn_tracked(t, tr, ev_exec(9, "/opt/tool"), fd);
  close(fd);
  unlink(path);
  free(j);
  j = dump(t);
  ok(has(j, "{\"path\":\"/opt/tool\",\"sha256\":[\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"]}"),
     "exec with its SHA-256");
  ward_template_tracker_free(tr);
}

static void expect_dev(const struct ward_template *t, struct ward_template_tracker *tr, struct ward_event *ev,
                       const char *rule, enum ward_severity sev, const char *what)
{
  struct ward_deviation d = {0};
  int r = ward_template_check_tracked(t, tr, ev, &d);
  ok(r == 1 && d.rule && strcmp(d.rule, rule) == 0 && d.severity == sev, "%s: %s %s (%s)", what, rule,
     ward_severity_name(sev), r == 1 ? d.detail : "fits");
}

static void expect_fit(const struct ward_template *t, struct ward_template_tracker *tr, struct ward_event *ev,
                       const char *what)
{
  struct ward_deviation d = {0};
  int r = ward_template_check_tracked(t, tr, ev, &d);
  ok(r == 0, "%s fits%s%s", what, r ? ": " : "", r ? d.detail : "");
}

static void test_check(void)
{
  _cleanup_template_ struct ward_template *t = ward_template_new("web");
  struct ward_template_tracker *tr = ward_template_tracker_new();
  learn_sample(t, tr);
  ward_template_tracker_free(tr);
  tr = ward_template_tracker_new();
  ward_template_tracker_set_exe(tr, 1, "/bin/sh");

  expect_fit(t, tr, ev_open(1, "/etc/app.conf", O_RDONLY), "a learned read");
  expect_fit(t, tr, ev_open(1, "/proc/42/status", O_RDONLY), "another pid's status");
  expect_fit(t, tr, ev_open(1, "/var/log/app/log.2", O_WRONLY | O_CREAT | O_TRUNC), "the next log file");
  expect_dev(t, tr, ev_open(1, "/etc/passwd", O_RDONLY), "template.file.read", WARD_SEV_LOW, "a new read");
  expect_dev(t, tr, ev_open(1, "/etc/shadow", O_RDONLY), "template.file.read", WARD_SEV_HIGH, "reading secrets");
  expect_dev(t, tr, ev_open(1, "/etc/app.conf", O_RDWR), "template.file.write", WARD_SEV_HIGH,
             "writing a read-only config");
  expect_dev(t, tr, ev_open(1, "/srv/x", O_WRONLY), "template.file.write", WARD_SEV_MEDIUM, "a write elsewhere");
  expect_dev(t, tr, ev_exec(20, "/usr/bin/nc"), "template.exec", WARD_SEV_HIGH, "a new binary");
  ward_template_check_tracked(t, tr, ev_fork(1, 21, WARD_CALL_fork), &(struct ward_deviation) {0});
  expect_fit(t, tr, ev_exec(21, "/usr/bin/cat"), "a learned edge");
  ward_template_check_tracked(t, tr, ev_fork(21, 22, WARD_CALL_fork), &(struct ward_deviation) {0});
  expect_dev(t, tr, ev_exec(22, "/usr/bin/ls"), "template.tree", WARD_SEV_MEDIUM, "cat starting ls");
  /* the same judged when the fork record comes last */
  expect_fit(t, tr, ev_exec(30, "/usr/bin/ls"), "an exec whose parent is not known yet");
  expect_dev(t, tr, ev_fork(21, 30, WARD_CALL_fork), "template.tree", WARD_SEV_MEDIUM, "the late fork record");
  expect_fit(t, tr, ev_net(WARD_EV_CONNECT, 1, "10.0.0.5", 443), "a learned connect");
  expect_dev(t, tr, ev_net(WARD_EV_CONNECT, 1, "10.0.0.5", 444), "template.connect", WARD_SEV_HIGH, "a new port");
  expect_dev(t, tr, ev_net(WARD_EV_BIND, 1, "0.0.0.0", 4444), "template.listen", WARD_SEV_HIGH, "a new listener");
  struct ward_event *s = ev_new(WARD_EV_SETID, 1, NULL);
  s->call = WARD_CALL_setuid;
  s->arg = 0;
  expect_dev(t, tr, s, "template.identity", WARD_SEV_HIGH, "setuid(0)");
  struct ward_event *p = ev_new(WARD_EV_PTRACE, 1, NULL);
  p->call = WARD_CALL_ptrace;
  expect_dev(t, tr, p, "template.syscall", WARD_SEV_HIGH, "ptrace");
  struct ward_event *x = ev_open(1, "/etc/shadow", O_RDONLY);
  x->ret = -13;
  expect_fit(t, tr, x, "a failed open (it did not happen)");
  x = ev_exec(40, "/usr/bin/nc");
  x->denied = true;
  expect_fit(t, tr, x, "a denied exec (the denier reports it)");
  /* a cut exec path names no file: never learned (compiled, it would grant
   * exec on a whole directory), always a deviation; the same path whole is
   * learned (the positive control) */
  _cleanup_template_ struct ward_template *cut = ward_template_new("cut");
  struct ward_event *c = ev_exec(50, "/opt/very/long/dir/to");
  c->rec_flags = WARD_EVENT_F_TRUNC1;
  ward_template_learn(cut, c, -1);
  expect_dev(cut, NULL, c, "template.exec", WARD_SEV_HIGH, "an exec whose cut path was learned from");
  c = ev_exec(51, "/opt/very/long/dir/tool");
  ward_template_learn(cut, c, -1);
  expect_fit(cut, NULL, c, "the whole path, learned");
  /* without a tracker the tree rule is not evaluated */
  struct ward_deviation d;
  ok(ward_template_check(t, ev_exec(22, "/usr/bin/ls"), &d) == 0, "untracked check skips the tree rule");
  ward_template_tracker_free(tr);
}

/* The tracker keeps matches per (set, path): repeated reads fit from the
 * cache, and a match never outlives the set it was made against, even
 * when a new template lands at the freed one's address. */
static void test_check_cache(void)
{
  struct ward_template_tracker *tr = ward_template_tracker_new();
  struct ward_template *t = ward_template_new("web");
  ward_template_learn(t, ev_open(1, "/etc/app.conf", O_RDONLY), -1);
  ward_template_learn(t, ev_open(1, "/var/lib/app/data.1", O_RDONLY), -1);
  for (int i = 0; i < 3; i++) {
    expect_fit(t, tr, ev_open(1, "/etc/app.conf", O_RDONLY), "a learned read, again");
    expect_fit(t, tr, ev_open(1, "/var/lib/app/data.7", O_RDONLY), "a pattern match, again");
  }
  expect_dev(t, tr, ev_open(1, "/etc/passwd", O_RDONLY), "template.file.read", WARD_SEV_LOW,
             "a new read between cached ones");
  ward_template_free(t);
  for (int i = 0; i < 8; i++) {
    t = ward_template_new("web");
    ward_template_learn(t, ev_open(1, "/etc/other.conf", O_RDONLY), -1);
    expect_dev(t, tr, ev_open(1, "/etc/app.conf", O_RDONLY), "template.file.read", WARD_SEV_LOW,
               "a read the previous template had, against a new one");
    expect_dev(t, tr, ev_open(1, "/var/lib/app/data.7", O_RDONLY), "template.file.read", WARD_SEV_LOW,
               "a pattern the previous template had, against a new one");
    ward_template_free(t);
  }
  ward_template_tracker_free(tr);
}

static void test_merge_diff(void)
{
  _cleanup_template_ struct ward_template *a = ward_template_new("web");
  _cleanup_template_ struct ward_template *b = ward_template_new("web");
  _cleanup_template_ struct ward_template *c = ward_template_new("db");
  ward_template_learn(a, ev_open(1, "/etc/a", O_RDONLY), -1);
  ward_template_learn(b, ev_open(1, "/etc/b", O_RDONLY), -1);
  ward_template_learn(b, ev_exec(2, "/bin/true"), -1);
  _cleanup_free_ char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  size_t n = ward_template_diff(a, b, f);
  fclose(f);
  is_int(n, 4, "four entries differ");
  contains(out, "- files.read: /etc/a\n+ files.read: /etc/b\n", "diff lines in order");
  contains(out, "+ exec: /bin/true\n", "exec line");
  contains(out, "+ syscalls.seen: execve\n", "syscall line");
  _cleanup_error_ ward_error_t err = NULL;
  ok(ward_template_merge(a, b, &err) == 0, "merge");
  is_int(ward_template_diff(b, a, NULL), 1, "after merge only /etc/a is extra");
  ok(ward_template_merge(a, c, &err) < 0, "different apps do not merge");
  contains(err ? err->msg : NULL, "app: \"web\" and \"db\"", "the error names both");
  ok(ward_template_diff(a, a, NULL) == 0, "a template equals itself");
  json_t *model = json_pack("{s:i}", "ngram", 3);
  ward_template_set_model(b, model);
  json_decref(model);
  ok(ward_template_model(b) && json_integer_value(json_object_get(ward_template_model(b), "ngram")) == 3,
     "model kept by reference");
  ok(ward_template_merge(a, b, &err) == 0 && ward_template_model(a) != NULL, "merge takes the model when missing");
}

int main(void)
{
  test_generalise();
  test_match();
  test_learn();
  test_check();
  test_check_cache();
  test_merge_diff();
  test_template_io();
  test_template_compile();
  return tap_done();
}
