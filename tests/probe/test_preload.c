/* The real libward-probe.so preloaded into real programs (the test target,
 * /bin/sh, cat, a musl program), the events decoded from a real ring. */
#include "common/cleanup.h"
#include "common/util.h"
#include "probe/calls.h"
#include "probe/control.h"
#include "probe/ring.h"
#include "tap.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *so, *musl_so, *target, *musl_target, *cli;

struct env {
  char dir[64];
  char control[128];
  char ringpath[128];
  struct ward_ring *ring;
  struct ward_event *ev;
  size_t n, cap;
};

static void env_free(struct env *e)
{
  ward_ring_close(e->ring);
  free(e->ev);
  _cleanup_error_ ward_error_t err = NULL;
  ward_remove_tree(e->dir, &err);
}

static int env_init(struct env *e, uint32_t groups, size_t size, uint32_t slot)
{
  _cleanup_error_ ward_error_t err = NULL;
  memset(e, 0, sizeof(*e));
  strcpy(e->dir, "/tmp/ward-probe-it-XXXXXX");
  if (!mkdtemp(e->dir))
    return -1;
  chmod(e->dir, 0755);
  snprintf(e->control, sizeof(e->control), "%s/control", e->dir);
  snprintf(e->ringpath, sizeof(e->ringpath), "%s/ring", e->dir);
  int fd = -1;
  char link[64];
  if (ward_control_create(e->control, groups, &err) < 0 || ward_ring_create_memfd(size, slot, &fd, &err) < 0
      || ward_ring_open_fd(fd, 0, 0, &e->ring, &err) < 0) {
    tap_diag("setup: %s", err->msg);
    return -1;
  }
  /* as in a container: the path names the sealed memfd (there by bind mount) */
  snprintf(link, sizeof(link), "/proc/%d/fd/%d", getpid(), fcntl(fd, F_DUPFD, 100));
  close(fd);
  return symlink(link, e->ringpath);
}

static pid_t spawn(struct env *e, const char *lib, char *const argv[], const char *probe_dir)
{
  pid_t p = fork();
  if (p == 0) {
    char pre[512], dir[256];
    snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", lib);
    snprintf(dir, sizeof(dir), "WARD_PROBE_DIR=%s", probe_dir ? probe_dir : e->dir);
    char *envp[] = {pre, dir, "PATH=/usr/bin:/bin", NULL};
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    execve(argv[0], argv, envp);
    _exit(127);
  }
  return p;
}

static int run(struct env *e, const char *lib, char *const argv[])
{
  int st;
  pid_t p = spawn(e, lib, argv, NULL);
  waitpid(p, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static size_t collect(struct env *e)
{
  for (;;) {
    if (e->n + 256 > e->cap) {
      e->cap = e->cap ? e->cap * 2 : 1024;
      e->ev = realloc(e->ev, e->cap * sizeof(*e->ev));
    }
    size_t k = ward_ring_consume(e->ring, e->ev + e->n, 256);
    e->n += k;
    if (k == 0)
      return e->n;
  }
}

static const struct ward_event *find(struct env *e, enum ward_event_type t, unsigned call, const char *path)
{
  for (size_t i = 0; i < e->n; i++) {
    const struct ward_event *v = &e->ev[i];
    if (v->type == t && (call == 0 || v->call == call) && (path == NULL || ward_has_suffix(v->path, path)))
      return v;
  }
  return NULL;
}

/* the target is built with 64-bit offsets: open may arrive as open64 */
static bool is_call(const struct ward_event *v, unsigned a, unsigned b)
{
  return v && (v->call == a || v->call == b);
}

static size_t count(struct env *e, enum ward_event_type t, const char *path)
{
  size_t c = 0;
  for (size_t i = 0; i < e->n; i++)
    c += e->ev[i].type == t && (path == NULL || ward_has_suffix(e->ev[i].path, path));
  return c;
}

#define G(x) (1u << WARD_GROUP_##x)

static void test_files(void)
{
  struct env e;
  if (env_init(&e, G(FILE), 0, 0) < 0)
    return;
  char *argv[] = {(char *) target, "files", e.dir, NULL};
  is_int(run(&e, so, argv), 0, "files: target runs");
  collect(&e);
  char p[256];
  snprintf(p, sizeof(p), "%s/rel-open", e.dir);
  const struct ward_event *v = find(&e, WARD_EV_OPEN, 0, "/rel-open");
  is_str(v ? v->path : NULL, p, "relative open resolved against the cwd");
  ok(is_call(v, WARD_CALL_open, WARD_CALL_open64) && (v->flags & O_CREAT) && v->mode == 0600 && v->ret >= 0 && v->pid > 0 && v->tid == v->pid,
     "open flags, mode, fd and ids");
  ok(is_call(find(&e, WARD_EV_OPEN, 0, "/abs-openat"), WARD_CALL_openat, WARD_CALL_openat64), "openat recorded");
  v = find(&e, WARD_EV_OPEN, 0, "/created");
  ok(is_call(v, WARD_CALL_creat, WARD_CALL_creat64) && v->mode == 0600, "creat recorded");
  ok(is_call(find(&e, WARD_EV_OPEN, 0, "/fopened"), WARD_CALL_fopen, WARD_CALL_fopen64), "fopen recorded");
  is_int(count(&e, WARD_EV_OPEN, "/fopened"), 1, "fopen gives one record (glibc's internal open is not seen twice)");
  v = find(&e, WARD_EV_OPEN, 0, "/nonexistent/x");
  ok(v && v->ret == -ENOENT, "failed open records -ENOENT (the target checks errno after it and after a recorded open that succeeds)");
  v = find(&e, WARD_EV_MKDIR, WARD_CALL_mkdir, "/sub");
  ok(v && v->mode == 0750 && v->ret == 0, "mkdir");
  v = find(&e, WARD_EV_CHMOD, WARD_CALL_chmod, "/created");
  ok(v && v->mode == 0700, "chmod");
  v = find(&e, WARD_EV_RENAME, WARD_CALL_rename, "/created");
  ok(v && ward_has_suffix(v->path2, "/renamed"), "rename has both paths");
  v = find(&e, WARD_EV_SYMLINK, WARD_CALL_symlink, "target-text");
  ok(v && strcmp(v->path, "target-text") == 0 && ward_has_suffix(v->path2, "/a-link"), "symlink: target verbatim, link resolved");
  ok(find(&e, WARD_EV_LINK, WARD_CALL_link, "/renamed") != NULL, "link");
  v = find(&e, WARD_EV_TRUNCATE, 0, "/renamed");
  ok(v && v->arg == 5, "truncate length");
  ok(find(&e, WARD_EV_UNLINK, WARD_CALL_unlink, "/hard") != NULL, "unlink");
  snprintf(p, sizeof(p), "%s/sub/in-sub", e.dir);
  v = find(&e, WARD_EV_OPEN, 0, "/in-sub");
  is_str(v ? v->path : NULL, p, "cwd cache follows chdir");
  ok(find(&e, WARD_EV_CONNECT, 0, NULL) == NULL, "no net events with only file on");
  bool mono = true;
  for (size_t i = 1; i < e.n; i++)
    mono &= e.ev[i].seq == e.ev[i - 1].seq + 1;
  ok(mono && e.n > 10, "sequence numbers consecutive (%zu events)", e.n);
  env_free(&e);
}

static void test_net(void)
{
  struct env e;
  if (env_init(&e, G(NET), 0, 0) < 0)
    return;
  char *argv[] = {(char *) target, "net", e.dir, NULL};
  is_int(run(&e, so, argv), 0, "net: target runs");
  collect(&e);
  const struct ward_event *v = find(&e, WARD_EV_SOCKET, 0, NULL);
  ok(v && v->mode == AF_UNIX, "socket family");
  v = find(&e, WARD_EV_BIND, 0, "/sock");
  ok(v && v->family == AF_UNIX && v->ret == 0, "bind unix path");
  ok(find(&e, WARD_EV_LISTEN, 0, NULL) != NULL, "listen");
  v = find(&e, WARD_EV_CONNECT, 0, "/sock");
  ok(v && v->family == AF_UNIX && v->ret == 0, "connect unix");
  char rel[256];
  snprintf(rel, sizeof(rel), "%s/./sock", e.dir);
  v = find(&e, WARD_EV_CONNECT, 0, "/./sock");
  is_str(v ? v->path : NULL, rel, "connect to a relative unix name: joined to the cwd");
  v = find(&e, WARD_EV_ACCEPT, WARD_CALL_accept4, NULL);
  ok(v && v->ret >= 0, "accept4");
  v = NULL;
  for (size_t i = 0; i < e.n; i++)
    if (e.ev[i].type == WARD_EV_CONNECT && e.ev[i].family == AF_INET)
      v = &e.ev[i];
  ok(v && v->port == 1 && v->addr[0] == 127 && v->addr[3] == 1 && v->ret == -ECONNREFUSED, "connect inet: address, port, refused");
  v = find(&e, WARD_EV_SENDTO, 0, NULL);
  ok(v && v->family == AF_INET6 && v->port == 9 && v->addr[15] == 1, "sendto inet6 ::1 port 9");
  env_free(&e);
}

static void test_mem_id_dl(void)
{
  struct env e;
  if (env_init(&e, G(MEM) | G(IDENTITY) | G(DL), 0, 0) < 0)
    return;
  char *a1[] = {(char *) target, "mem", NULL}, *a2[] = {(char *) target, "id", NULL}, *a3[] = {(char *) target, "dl", NULL};
  is_int(run(&e, so, a1), 0, "mem: target runs");
  is_int(run(&e, so, a2), 0, "identity: target runs");
  is_int(run(&e, so, a3), 0, "dl: target runs, dlopen through the stub works");
  collect(&e);
  is_int(count(&e, WARD_EV_MMAP_WX, NULL), 1, "one W+X mmap (plain mappings not recorded)");
  const struct ward_event *v = find(&e, WARD_EV_MPROTECT_WX, 0, NULL);
  ok(v && (v->flags & (PROT_WRITE | PROT_EXEC)) == (PROT_WRITE | PROT_EXEC) && v->mode == 4096, "mprotect W+X");
  ok(find(&e, WARD_EV_MEMFD, 0, "payload") != NULL, "memfd name");
  v = find(&e, WARD_EV_SETID, WARD_CALL_setuid, NULL);
  ok(v && v->arg == (int64_t) getuid() && v->ret == 0, "setuid");
  ok(find(&e, WARD_EV_SETID, WARD_CALL_setresgid, NULL) != NULL, "setresgid");
  v = find(&e, WARD_EV_PRCTL, 0, NULL);
  ok(v && v->flags == PR_SET_NAME, "prctl option");
  v = find(&e, WARD_EV_PTRACE, 0, NULL);
  ok(v && v->flags == PTRACE_PEEKDATA && v->arg == 1 && v->ret < 0, "ptrace request, target, failure");
  ok(find(&e, WARD_EV_DLOPEN, 0, "libm.so.6") != NULL, "dlopen name");
  ok(find(&e, WARD_EV_DLOPEN, 0, "libdoesnotexist.so") != NULL, "failed dlopen recorded too");
  env_free(&e);
}

static void test_exec(void)
{
  struct env e;
  if (env_init(&e, G(EXEC), 0, 0) < 0)
    return;
  char *argv[] = {(char *) target, "exec", NULL};
  is_int(run(&e, so, argv), 0, "exec: fork, spawn, system, vfork, clone all work under the probe");
  collect(&e);
  const struct ward_event *f = find(&e, WARD_EV_FORK, WARD_CALL_fork, NULL);
  ok(f && f->ret > 0, "fork with child pid");
  const struct ward_event *x = find(&e, WARD_EV_EXEC, WARD_CALL_execve, "/bin/true");
  ok(x && strcmp(x->path2, "true from-fork") == 0, "execve with argv");
  ok(f && x && x->pid == (uint32_t) f->ret, "exec reported by the forked child's pid");
  const struct ward_event *s = find(&e, WARD_EV_SPAWN, WARD_CALL_posix_spawn, "/bin/true");
  ok(s && s->ret > 0 && strcmp(s->path2, "true spawned") == 0, "posix_spawn with pid and argv");
  ok(find(&e, WARD_EV_SYSTEM, 0, "exit 0") != NULL, "system command");
  ok(find(&e, WARD_EV_FORK, WARD_CALL_vfork, NULL) != NULL, "vfork recorded");
  const struct ward_event *c = find(&e, WARD_EV_CLONE, 0, NULL);
  ok(c && c->flags == SIGCHLD && c->ret > 0, "clone flags and child");
  size_t fails = 0, tries = 0;
  for (size_t i = 0; i < e.n; i++) {
    if (e.ev[i].type == WARD_EV_EXEC && ward_has_suffix(e.ev[i].path, "/does-not-exist")) {
      tries += e.ev[i].ret == 0;
      fails += e.ev[i].ret == -ENOENT && e.ev[i].call == WARD_CALL_execl;
    }
  }
  ok(tries == 1 && fails == 1, "failed execl: attempt and failure records");
  /* glibc's system() starts /bin/sh through its internal spawn: no exec
   * record for the shell itself, the system record stands for it */
  ok(find(&e, WARD_EV_EXEC, 0, "/bin/sh") == NULL, "system's internal exec of sh not double-reported");
  env_free(&e);
}

static void test_shell(void)
{
  struct env e;
  if (env_init(&e, G(EXEC) | G(FILE), 0, 0) < 0)
    return;
  char cmd[256];
  snprintf(cmd, sizeof(cmd), "cat /etc/hostname > /dev/null; echo hi > %s/out", e.dir);
  char *argv[] = {"/bin/sh", "-c", cmd, NULL};
  is_int(run(&e, so, argv), 0, "/bin/sh -c runs preloaded");
  collect(&e);
  const struct ward_event *x = find(&e, WARD_EV_EXEC, 0, "/cat");
  ok(x != NULL, "the shell's exec of cat");
  const struct ward_event *o = find(&e, WARD_EV_OPEN, 0, "/etc/hostname");
  ok(o && x && o->pid == x->pid, "cat's open, by cat's pid");
  o = find(&e, WARD_EV_OPEN, 0, "/out");
  ok(o && (o->flags & O_TRUNC) && (o->flags & O_CREAT), "the shell's redirection");
  env_free(&e);
}

static void test_off_and_flip(void)
{
  struct env e;
  if (env_init(&e, 0, 0, 0) < 0)
    return;
  char *argv[] = {(char *) target, "files", e.dir, NULL};
  is_int(run(&e, so, argv), 0, "groups off: target runs");
  is_int(collect(&e), 0, "groups off: no events at all");
  char stop[128];
  snprintf(stop, sizeof(stop), "%s/stop", e.dir);
  char *largv[] = {(char *) target, "loop", stop, NULL};
  pid_t p = spawn(&e, so, largv, NULL);
  usleep(150000);
  is_int(collect(&e), 0, "running process, groups off: nothing");
  _cleanup_error_ ward_error_t err = NULL;
  ward_probe_set_groups(e.control, G(FILE), true, NULL, &err);
  usleep(150000);
  size_t n = collect(&e);
  ok(n > 3 && find(&e, WARD_EV_OPEN, 0, "/dev/null"), "flipped on in the running process: %zu events", n);
  ward_probe_set_groups(e.control, G(FILE), false, NULL, &err);
  usleep(50000);
  collect(&e);
  size_t before = e.n;
  usleep(150000);
  is_int(collect(&e), before, "flipped off again: no more events");
  close(open(stop, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  int st;
  waitpid(p, &st, 0);
  ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "loop process exits normally");
  env_free(&e);
}

static void test_perf_and_stack(void)
{
  struct env e;
  if (env_init(&e, G(PERF), 0, 0) < 0)
    return;
  char *argv[] = {(char *) target, "flood", "20", NULL};
  is_int(run(&e, so, argv), 0, "perf only: target runs");
  collect(&e);
  const struct ward_event *v = find(&e, WARD_EV_CALL_TIME, 0, NULL);
  ok(is_call(v, WARD_CALL_open, WARD_CALL_open64) && v->call_ns > 0 && v->call_ns < 100000000, "perf alone: call_time records with durations");
  is_int(count(&e, WARD_EV_OPEN, NULL), 0, "perf alone: no open records");
  _cleanup_error_ ward_error_t err = NULL;
  ward_probe_set_groups(e.control, G(FILE), true, NULL, &err);
  ward_probe_set_stacks(e.control, 1ull << WARD_EV_OPEN, 4, &err);
  e.n = 0;
  char *sargv[] = {(char *) target, "stack", NULL};
  is_int(run(&e, so, sargv), 0, "stack capture: target runs");
  collect(&e);
  v = find(&e, WARD_EV_OPEN, 0, "/dev/null");
  ok(v && v->call_ns > 0, "file+perf: the open record carries its duration");
  ok(v && v->n_stack >= 2 && v->stack[0] != 0, "stack captured (%u frames)", v ? v->n_stack : 0);
  ok(v && (v->rec_flags & WARD_EVENT_F_PERF) && (v->rec_flags & WARD_EVENT_F_TIMED), "every call timed by default");
  /* one call in 8 timed: every open still recorded and counted, about an
   * eighth with a duration (binomial, n = 800: 1/8 is 100 +- 9.4; the
   * bounds are 5 sigma and more away) */
  ward_probe_set_groups(e.control, G(FILE), false, NULL, &err);
  ward_probe_set_stacks(e.control, 0, 0, &err);
  ok(ward_probe_set_perf_every(e.control, 8, &err) == 0, "perf timing: one call in 8");
  ok(ward_probe_set_perf_every(e.control, 6, &err) < 0 && strstr(err->msg, "power of two"), "6 refused");
  ward_error_free(&err);
  e.n = 0;
  char *fargv[] = {(char *) target, "flood", "800", NULL};
  is_int(run(&e, so, fargv), 0, "sampled perf: target runs");
  collect(&e);
  size_t calls = 0, timed = 0, bad = 0;
  for (size_t i = 0; i < e.n; i++) {
    const struct ward_event *c = &e.ev[i];
    if (c->type != WARD_EV_CALL_TIME || !is_call(c, WARD_CALL_open, WARD_CALL_open64))
      continue;
    calls++;
    bool t = c->rec_flags & WARD_EVENT_F_TIMED;
    timed += t;
    bad += !(c->rec_flags & WARD_EVENT_F_PERF) || (!t && c->call_ns != 0);
  }
  is_int(calls, 800, "every open counted");
  ok(timed >= 50 && timed <= 160, "about one in 8 timed: %zu of %zu", timed, calls);
  is_int(bad, 0, "untimed records carry no duration; all are marked perf");
  env_free(&e);
}

/* The probe's timestamps come from the TSC once it has measured its rate
 * (probe_clock.c): they must still read as CLOCK_MONOTONIC. A target that
 * opens /dev/null every 100 us (within an anchor's 1 ms, so most stamps
 * are extrapolated): every record lies between the clock readings taken
 * around the run, and consecutive ones are 100 us apart to within 1 %
 * (a clock running 2 % slow fails most gaps). */
static void test_clock(void)
{
  struct env e;
  if (env_init(&e, G(FILE) | G(PERF), 0, 0) < 0)
    return;
  char *argv[] = {(char *) target, "paced", "300", "100", NULL};
  uint64_t t0 = ward_now_ns();
  is_int(run(&e, so, argv), 0, "paced opens: target runs");
  uint64_t t1 = ward_now_ns();
  collect(&e);
  size_t n = 0, inside = 0, spaced = 0;
  uint64_t prev = 0, lo = UINT64_MAX;
  for (size_t i = 0; i < e.n; i++) {
    const struct ward_event *v = &e.ev[i];
    if (v->type != WARD_EV_OPEN || strcmp(v->path, "/dev/null") != 0)
      continue;
    n++;
    inside += v->ts_ns >= t0 && v->ts_ns + v->call_ns <= t1;
    if (prev) {
      /* the target waits at least 100 us from one open's start to the next */
      uint64_t gap = v->ts_ns > prev ? v->ts_ns - prev : 0;
      spaced += gap >= 99000;
      if (gap < 99000) tap_diag("short gap at %zu: %llu", n, (unsigned long long) gap);
      lo = gap < lo ? gap : lo;
    }
    prev = v->ts_ns;
  }
  ok(n == 300 && inside == n, "timestamps within the run: %zu of %zu", inside, n);
  /* a few gaps may be short: the target can be preempted between its
   * clock reading and the call (shared 2-core machines) */
  ok(n == 300 && spaced >= n - 10, "timestamps >= 100 us apart: %zu of %zu gaps (shortest %llu ns)", spaced,
     n ? n - 1 : 0, (unsigned long long) lo);
  env_free(&e);
}

static void test_bad_input(void)
{
  struct env e;
  if (env_init(&e, G(FILE), 8 * 512, 512) < 0)
    return;
  char *a1[] = {(char *) target, "flood", "1000", NULL};
  is_int(run(&e, so, a1), 0, "flood into an 8-slot ring: process unaffected");
  collect(&e);
  struct ward_ring_stats st;
  ward_ring_get_stats(e.ring, &st);
  ok(e.n == 8 && st.drops >= 990, "flood: 8 delivered, %llu drops counted", (unsigned long long) st.drops);
  char *a2[] = {(char *) target, "unmap", NULL};
  is_int(run(&e, so, a2), 0, "process that unmaps its ring keeps running");
  char *a3[] = {(char *) target, "garbage", NULL};
  is_int(run(&e, so, a3), 0, "process that scribbles over the ring keeps running");
  e.n = 0;
  collect(&e);
  ward_ring_get_stats(e.ring, &st);
  ok(st.bad > 0, "garbage counted as bad records (%llu)", (unsigned long long) st.bad);
  /* the next process's events get through once the consumer has put it right */
  char *a4[] = {(char *) target, "flood", "3", NULL};
  bool seen = false;
  for (int i = 0; i < 20 && !seen; i++) {
    run(&e, so, a4);
    e.n = 0;
    collect(&e);
    seen = find(&e, WARD_EV_OPEN, 0, "/dev/null") != NULL;
  }
  ok(seen, "ring recovers for the container's other processes");
  char *a5[] = {(char *) target, "files", e.dir, NULL};
  pid_t p = spawn(&e, so, a5, "/nonexistent-probe-dir");
  int status;
  waitpid(p, &status, 0);
  ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "no ring to map: the probe is a silent no-op");
  env_free(&e);
}

static void test_musl(void)
{
  if (!musl_so || !*musl_so || !musl_target || !*musl_target || access("/lib/ld-musl-x86_64.so.1", X_OK) != 0) {
    ok(1, "# SKIP musl: no musl loader or build");
    return;
  }
  struct env e;
  if (env_init(&e, G(FILE), 0, 0) < 0)
    return;
  char *argv[] = {(char *) musl_target, NULL};
  is_int(run(&e, musl_so, argv), 0, "musl program runs with the musl probe");
  collect(&e);
  ok(find(&e, WARD_EV_OPEN, WARD_CALL_open, "/dev/null") != NULL, "musl: open recorded");
  ok(find(&e, WARD_EV_OPEN, WARD_CALL_fopen, "/etc/hostname") != NULL, "musl: fopen recorded once");
  is_int(count(&e, WARD_EV_OPEN, "/etc/hostname"), 1, "musl: no double record for fopen");
  env_free(&e);
}

static void test_no_syscalls(void)
{
  if (access("/usr/bin/strace", X_OK) != 0) {
    ok(1, "# SKIP strace missing");
    return;
  }
  size_t lines[2];
  for (int on = 0; on < 2; on++) {
    struct env e;
    if (env_init(&e, on ? (G(FILE) | G(PERF)) : 0, 0, 0) < 0)
      return;
    char out[160], cmd[1024];
    snprintf(out, sizeof(out), "%s/strace.out", e.dir);
    snprintf(cmd, sizeof(cmd), "LD_PRELOAD=%s WARD_PROBE_DIR=%s strace -f -o %s %s flood 200", so, e.dir, out, target);
    ok(system(cmd) == 0, "strace run %d", on);
    collect(&e);
    if (on)
      ok(count(&e, WARD_EV_OPEN, "/dev/null") == 200, "all 200 opens recorded under strace");
    _cleanup_free_ char *txt = NULL;
    _cleanup_error_ ward_error_t err = NULL;
    lines[on] = 0;
    if (ward_read_file(out, 0, &txt, NULL, &err) == 0)
      for (char *c = txt; *c; c++)
        lines[on] += *c == '\n';
    if (on)
      ok(txt && !strstr(txt, "clock_gettime"), "timestamps come from the vDSO");
    env_free(&e);
  }
  ok(lines[1] <= lines[0] + 2, "recording 200 opens adds no system calls (%zu vs %zu lines)", lines[1], lines[0]);
}

static void test_cli(void)
{
  struct env e;
  if (!cli || !*cli || env_init(&e, 0, 0, 0) < 0)
    return;
  char cmd[1024];
  snprintf(cmd, sizeof(cmd), "%s probe on --group net,exec --control %s >/dev/null", cli, e.control);
  is_int(system(cmd), 0, "ward probe on --group net,exec");
  struct ward_control c;
  _cleanup_error_ ward_error_t err = NULL;
  ok(ward_control_read(e.control, &c, &err) == 0 && c.groups == (G(NET) | G(EXEC)), "control page updated");
  snprintf(cmd, sizeof(cmd), "%s probe off --group exec --control %s >/dev/null", cli, e.control);
  system(cmd);
  ok(ward_control_read(e.control, &c, &err) == 0 && c.groups == G(NET), "ward probe off --group exec");
  snprintf(cmd, sizeof(cmd), "%s probe on --group bogus --control %s 2>/dev/null", cli, e.control);
  is_int(WEXITSTATUS(system(cmd)), 2, "unknown group is a usage error");
  char *argv[] = {(char *) target, "net", e.dir, NULL};
  run(&e, so, argv);
  ward_ring_close(e.ring);  /* the CLI is the consumer now */
  e.ring = NULL;
  char out[160];
  snprintf(out, sizeof(out), "%s/events.json", e.dir);
  snprintf(cmd, sizeof(cmd), "%s events --json --ring %s > %s", cli, e.ringpath, out);
  is_int(system(cmd), 0, "ward events --json");
  _cleanup_free_ char *txt = NULL;
  ward_read_file(out, 0, &txt, NULL, &err);
  contains(txt, "\"type\":\"connect\"", "JSON lines carry connect events");
  contains(txt, "\"addr\":\"127.0.0.1\"", "with the address");
  bool all_json = txt != NULL;
  for (char *line = txt ? strtok(txt, "\n") : NULL; line; line = strtok(NULL, "\n")) {
    json_error_t je;
    json_t *j = json_loads(line, 0, &je);
    all_json &= j != NULL;
    json_decref(j);
  }
  ok(all_json, "every line is a JSON object");
  ward_probe_set_groups(e.control, G(PERF), true, NULL, &err);
  char *fargv[] = {(char *) target, "flood", "50", NULL};
  run(&e, so, fargv);
  snprintf(cmd, sizeof(cmd), "%s top --count 1 --interval 100 --ring %s > %s", cli, e.ringpath, out);
  is_int(system(cmd), 0, "ward top");
  free(txt);
  txt = NULL;
  ward_read_file(out, 0, &txt, NULL, &err);
  contains(txt, "open", "top lists the timed open calls");
  contains(txt, "P99<", "with latency quantiles");
  env_free(&e);
}

int main(void)
{
  so = getenv("WARD_TEST_PROBE_SO");
  musl_so = getenv("WARD_TEST_PROBE_MUSL_SO");
  target = getenv("WARD_TEST_TARGET");
  musl_target = getenv("WARD_TEST_MUSL_TARGET");
  cli = getenv("WARD_TEST_CLI");
  if (!so || !target) {
    printf("1..0 # SKIP run through meson test\n");
    return 0;
  }
  signal(SIGPIPE, SIG_IGN);
  test_files();
  test_net();
  test_mem_id_dl();
  test_exec();
  test_shell();
  test_off_and_flip();
  test_perf_and_stack();
  test_clock();
  test_bad_input();
  test_musl();
  test_no_syscalls();
  test_cli();
  return tap_done();
}
