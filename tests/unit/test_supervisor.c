/* The supervisor against a real static workload (tests/supervisor/sv-helper):
 * a forked child sets no_new_privs, installs the filter, hands the listener
 * over with SCM_RIGHTS and execs the helper, which makes raw system calls
 * while this process supervises. */
#include "supervisor/supervisor.h"
#include "supervisor/fdpass.h"
#include "common/cleanup.h"
#include "supervisor/sv_helper_config.h"  /* generated: src/supervisor/meson.build */
#include "tap.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/seccomp.h>
#include <unistd.h>

void test_fdpass(void);

#define MAX_SAVED 64

struct rec {
  /* policy for the decide callback */
  int deny_nr, deny_errno;
  int deny_nr2, deny_errno2;
  int kill_self_nr;        /* the test SIGKILLs the target itself, then continues */
  int kill_action_nr;      /* the decide callback returns WARD_SV_KILL */
  /* what was seen */
  unsigned long events, decides, from_memory_connect;
  unsigned long by_nr[512];
  struct ward_event *saved;
  unsigned n_saved;
};

static void decide(void *opaque, const struct ward_supervisor_call *call, struct ward_supervisor_verdict *v)
{
  struct rec *r = opaque;
  r->decides++;
  int nr = call->ev->syscall_nr;
  if (nr == SYS_connect && call->from_memory)
    r->from_memory_connect++;
  if (nr == r->deny_nr) {
    v->action = WARD_SV_DENY;
    v->error = r->deny_errno;
  } else if (nr == r->deny_nr2) {
    v->action = WARD_SV_DENY;
    v->error = r->deny_errno2;
  } else if (nr == r->kill_self_nr) {
    kill(call->host_pid, SIGKILL);
    /* let the kill land so the answer really finds the target gone */
    for (int i = 0; i < 200 && syscall(SYS_tgkill, call->host_pid, call->host_tid, 0) == 0; i++)
      usleep(1000);
  } else if (nr == r->kill_action_nr) {
    v->action = WARD_SV_KILL;
  }
}

static void sink(void *opaque, const struct ward_event *ev)
{
  struct rec *r = opaque;
  r->events++;
  if (ev->syscall_nr >= 0 && ev->syscall_nr < 512)
    r->by_nr[ev->syscall_nr]++;
  if (r->n_saved < MAX_SAVED)
    memcpy(&r->saved[r->n_saved++], ev, sizeof(*ev));
}

static void rec_init(struct rec *r)
{
  memset(r, 0, sizeof(*r));
  r->deny_nr = r->deny_nr2 = r->kill_self_nr = r->kill_action_nr = -1;
  r->saved = calloc(MAX_SAVED, sizeof(struct ward_event));
}

static const struct ward_event *find_ev(const struct rec *r, int nr, unsigned nth)
{
  for (unsigned i = 0; i < r->n_saved; i++)
    if (r->saved[i].syscall_nr == nr && nth-- == 0)
      return &r->saved[i];
  return NULL;
}

enum { RUN_PIDNS = 1, RUN_MNTNS = 2 };

struct run {
  int status;
  char out[8192];
  struct ward_supervisor_stats stats;
  uint64_t ns;
};

/* The container's init, in miniature: everything the runtime does between
 * clone and exec that concerns the supervisor. */
static void child(const struct ward_supervisor_prog *prog, int sock, int outfd, int flags, char *const *argv)
{
  if (dup2(outfd, 1) < 0)
    _exit(80);
  if ((flags & RUN_MNTNS) &&
      (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0))
    _exit(81);
  if (flags & RUN_PIDNS) {
    if (unshare(CLONE_NEWPID) < 0)
      _exit(82);
    pid_t pid = fork();
    if (pid < 0)
      _exit(83);
    if (pid > 0) {
      int st = 0;
      close(sock);
      waitpid(pid, &st, 0);
      _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    }
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    _exit(84);
  int listener = -1;
  ward_error_t err = NULL;
  if (ward_supervisor_install(prog, &listener, &err) < 0) {
    dprintf(2, "install: %s\n", err->msg);
    _exit(85);
  }
  if (!(fcntl(listener, F_GETFD) & FD_CLOEXEC))
    _exit(86);
  if (ward_send_fd(sock, listener) < 0)
    _exit(87);
  close(listener);
  close(sock);
  execv(SV_HELPER_PATH, argv);
  _exit(88);
}

static bool made_early;

static int run_helper(const struct ward_supervisor_prog *prog, struct rec *r, int flags,
                      char *const *argv, struct run *out)
{
  memset(out, 0, sizeof(*out));
  int sp[2], pp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 || pipe2(pp, O_CLOEXEC) < 0)
    return -1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(sp[0]);
    close(pp[0]);
    child(prog, sp[1], pp[1], flags, argv);
  }
  close(sp[1]);
  close(pp[1]);
  _cleanup_close_ int sock = sp[0], rd = pp[0];
  _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  int listener = ward_recv_fd(sock);
  int rc = 0;
  if (listener >= 0) {
    struct ward_supervisor_options o = { .decide = decide, .sink = sink, .opaque = r };
    struct ward_supervisor *sv = NULL;
    _cleanup_error_ ward_error_t err = NULL;
    uint64_t t0 = 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t0 = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    /* made before its listener exists, as the engine does while the init
     * sets itself up, when made_early is set */
    int made = made_early ? (ward_supervisor_new(-1, &o, &sv, &err) < 0 ? -1 : ward_supervisor_attach(sv, listener, &err))
                          : ward_supervisor_new(listener, &o, &sv, &err);
    if (made < 0 || ward_supervisor_run(sv, pidfd, &err) < 0) {
      tap_diag("supervisor: %s", err ? err->msg : "?");
      rc = -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    out->ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec - t0;
    if (sv)
      out->stats = *ward_supervisor_stats(sv);
    ward_supervisor_free(sv);
  } else {
    tap_diag("no listener received: %s", strerror(-listener));
    rc = -1;
  }
  waitpid(pid, &out->status, 0);
  ssize_t n, len = 0;
  while (len < (ssize_t)sizeof(out->out) - 1 && (n = read(rd, out->out + len, sizeof(out->out) - 1 - (size_t)len)) > 0)
    len += n;
  out->out[len] = '\0';
  return rc;
}

static int listen_tcp(int *port)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t len = sizeof(sin);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 16) < 0 ||
      getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
    return -1;
  *port = ntohs(sin.sin_port);
  return fd;
}

/* A port nobody listens on: bind, read the number, close. */
static int closed_port(void)
{
  int port = 0;
  int fd = listen_tcp(&port);
  close(fd);
  return port;
}

static void test_build(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_supervisor_prog *p = NULL;
  ok(ward_supervisor_build(NULL, &p, &err) == 0, "build: default set compiles");
  ok(ward_supervisor_prog_len(p) > 10 && ward_supervisor_prog_len(p) < 1024, "build: %zu instructions",
     ward_supervisor_prog_len(p));
  ward_supervisor_prog_free(p);
  p = NULL;

  const char *hot[] = { "connect", "read", NULL };
  struct ward_supervisor_config c = { .syscalls = hot };
  ok(ward_supervisor_build(&c, &p, &err) < 0, "build: a hot syscall is refused");
  contains(err ? err->msg : NULL, "\"read\"", "build: the error names it");
  const char *bad[] = { "execve", "no_such_call", NULL };
  c.syscalls = bad;
  ok(ward_supervisor_build(&c, &p, &err) < 0, "build: an unknown syscall is refused");
  contains(err ? err->msg : NULL, "no_such_call", "build: the error names it");
  const char *one[] = { "execve", NULL };
  c = (struct ward_supervisor_config){ .syscalls = one, .remove = one };
  ok(ward_supervisor_build(&c, &p, &err) < 0, "build: an empty set is refused");
  ok(ward_supervisor_is_hot("futex") && !ward_supervisor_is_hot("execve"), "build: hot list");
  bool has_exec = false, has_read = false;
  for (const char *const *d = ward_supervisor_default_syscalls(); *d; d++) {
    has_exec |= strcmp(*d, "execve") == 0;
    has_read |= ward_supervisor_is_hot(*d);
  }
  ok(has_exec && !has_read, "build: default set has execve and no hot syscall");
  is_str(ward_supervisor_syscall_name(SYS_connect), "connect", "table: native number to name");
}

static struct ward_supervisor_prog *build(const struct ward_supervisor_config *c)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_supervisor_prog *p = NULL;
  if (ward_supervisor_build(c, &p, &err) < 0)
    tap_diag("build: %s", err->msg);
  return p;
}

/* The compiled-program cache: a miss builds and stores, a hit loads the same
 * program, and a copy that is tampered with or writable by others is not
 * used but rebuilt. Returns the program loaded from the cache, which the
 * behavioural tests below then run with. */
static struct ward_supervisor_prog *test_build_cache(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  char dir[] = "/tmp/ward-sv-cache.XXXXXX";
  if (mkdtemp(dir) == NULL) {
    ok(false, "cache: mkdtemp: %s", strerror(errno));
    return NULL;
  }
  char cache[sizeof(dir) + 8], path[512] = "";
  snprintf(cache, sizeof(cache), "%s/cache", dir);
  struct ward_supervisor_prog *plain = build(NULL), *miss = NULL, *hit = NULL, *again = NULL;
  ok(ward_supervisor_build_cached(NULL, cache, &miss, &err) == 0, "cache: a miss builds");
  DIR *d = opendir(cache);
  for (struct dirent *de; d && (de = readdir(d)) != NULL;)
    if (strncmp(de->d_name, "supervisor-", 11) == 0)
      snprintf(path, sizeof(path), "%s/%s", cache, de->d_name);
  if (d)
    closedir(d);
  ok(path[0] != 0, "cache: the miss stored the program (%s)", path);
  struct stat st1 = {0}, st2 = {0};
  stat(path, &st1);
  ok(ward_supervisor_build_cached(NULL, cache, &hit, &err) == 0, "cache: a hit loads");
  stat(path, &st2);
  ok(st1.st_ino == st2.st_ino && st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec, "cache: a hit leaves the copy alone");
  ok(plain && miss && hit && ward_supervisor_prog_len(plain) == ward_supervisor_prog_len(hit) &&
     ward_supervisor_prog_len(miss) == ward_supervisor_prog_len(hit), "cache: same length as a plain build");
  /* flip one instruction byte: the digest no longer matches */
  int fd = open(path, O_RDWR | O_CLOEXEC);
  char byte = 0;
  bool flipped = fd >= 0 && pread(fd, &byte, 1, st1.st_size - 3) == 1 && (byte ^= 0x5a, pwrite(fd, &byte, 1, st1.st_size - 3) == 1);
  if (fd >= 0)
    close(fd);
  ok(flipped && ward_supervisor_build_cached(NULL, cache, &again, &err) == 0 && again &&
     ward_supervisor_prog_len(again) == ward_supervisor_prog_len(plain), "cache: a tampered copy is rebuilt");
  stat(path, &st2);
  ok(st2.st_ino != st1.st_ino, "cache: and replaced");
  ward_supervisor_prog_free(again);
  again = NULL;
  chmod(path, 0666);
  stat(path, &st1);
  ok(ward_supervisor_build_cached(NULL, cache, &again, &err) == 0 && again, "cache: a copy writable by others is not used");
  stat(path, &st2);
  ok(st2.st_ino != st1.st_ino && (st2.st_mode & 077) == 0, "cache: and replaced by a private one");
  ward_supervisor_prog_free(again);
  ward_supervisor_prog_free(plain);
  ward_supervisor_prog_free(miss);
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  if (system(cmd) != 0)
    tap_diag("could not remove %s", dir);
  return hit;
}

static void test_observe(const struct ward_supervisor_prog *prog, bool root)
{
  int port = 0;
  _cleanup_close_ int lfd = listen_tcp(&port);
  char portstr[16];
  snprintf(portstr, sizeof(portstr), "%d", port);
  char dir[] = "/tmp/ward-sv-XXXXXX";
  ok(mkdtemp(dir) != NULL, "observe: temp dir");
  char *argv_root[] = { "sv-helper", "connect", "127.0.0.1", portstr, "ptrace", "memfd", "ward-x",
                        "hot", "10000", "mount", dir, "umount", dir,
                        "exec", "/bin/sh", "-c", "exit 42", NULL };
  char *argv_user[] = { "sv-helper", "connect", "127.0.0.1", portstr, "ptrace", "memfd", "ward-x",
                        "hot", "10000", "exec", "/bin/sh", "-c", "exit 42", NULL };
  struct rec r;
  rec_init(&r);
  struct run run;
  ok(run_helper(prog, &r, root ? RUN_PIDNS | RUN_MNTNS : 0, root ? argv_root : argv_user, &run) == 0,
     "observe: supervised run");
  ok(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 42, "observe: the allowed execve of /bin/sh really ran (status %d)",
     WIFEXITED(run.status) ? WEXITSTATUS(run.status) : -1);
  contains(run.out, "connect ret=0 errno=0", "observe: the allowed connect really connected");
  _cleanup_close_ int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  ok(conn >= 0, "observe: and the listener has the connection");
  contains(run.out, "hot ret=0", "observe: the hot loop ran");

  const struct ward_event *e = find_ev(&r, SYS_execve, 0);
  ok(e && e->type == WARD_EV_EXEC && e->source == WARD_SRC_SUPERVISOR, "observe: exec event for the helper");
  is_str(e ? e->path : NULL, SV_HELPER_PATH, "observe: exec path");
  contains(e ? e->path2 : NULL, "sv-helper connect 127.0.0.1", "observe: exec argv summary");
  if (root)
    is_int(e ? e->pid : 0, 1, "observe: pid reported in the container's pid namespace");
  e = find_ev(&r, SYS_connect, 0);
  ok(e && e->type == WARD_EV_CONNECT && e->family == AF_INET, "observe: connect event, AF_INET");
  ok(e && memcmp(e->addr, "\x7f\0\0\1", 4) == 0, "observe: connect address 127.0.0.1");
  is_int(e ? e->port : 0, port, "observe: connect port");
  ok(r.from_memory_connect == 1, "observe: connect fields are flagged as read from memory");
  e = find_ev(&r, SYS_ptrace, 0);
  ok(e && e->type == WARD_EV_PTRACE && e->arg == PTRACE_PEEKDATA && e->args[1] == 0x3ffffff0,
     "observe: ptrace event with request and target pid");
  e = find_ev(&r, SYS_memfd_create, 0);
  ok(e && e->type == WARD_EV_MEMFD, "observe: memfd event");
  is_str(e ? e->path : NULL, "ward-x", "observe: memfd name");
  unsigned expect = 5;
  if (root) {
    contains(run.out, "mount ret=0", "observe: the allowed mount really mounted");
    contains(run.out, "umount ret=0", "observe: and could be unmounted");
    e = find_ev(&r, SYS_mount, 0);
    is_str(e ? e->path : NULL, dir, "observe: mount target");
    is_str(e ? e->path2 : NULL, "tmpfs ward-test", "observe: mount fstype and source");
    ok(find_ev(&r, SYS_umount2, 0) != NULL, "observe: umount2 event");
    expect += 2;
  }
  e = find_ev(&r, SYS_execve, 1);
  is_str(e ? e->path : NULL, "/bin/sh", "observe: second exec path");
  is_str(e ? e->path2 : NULL, "/bin/sh -c exit 42", "observe: second exec argv");
  is_int(r.by_nr[SYS_read] + r.by_nr[SYS_write] + r.by_nr[SYS_getpid], 0, "observe: 10k read/write/getpid: no notification");
  is_int(run.stats.notifications, expect, "observe: exactly the watched calls were notified");
  is_int(r.events, expect, "observe: one event each");
  bool seq_ok = true;
  for (unsigned i = 0; i < r.n_saved; i++)
    seq_ok &= r.saved[i].seq == i + 1 && (i == 0 || r.saved[i].ts_ns >= r.saved[i - 1].ts_ns) && !r.saved[i].denied;
  ok(seq_ok, "observe: sequence numbers and timestamps in order, nothing denied");
  rmdir(dir);
  free(r.saved);
}

static void test_deny(const struct ward_supervisor_prog *prog, bool root)
{
  int port = 0;
  _cleanup_close_ int lfd = listen_tcp(&port);
  char portstr[16];
  snprintf(portstr, sizeof(portstr), "%d", port);
  char dir[] = "/tmp/ward-sv-XXXXXX";
  ok(mkdtemp(dir) != NULL, "deny: temp dir");
  char *argv[] = { "sv-helper", "connect", "127.0.0.1", portstr, "mount", dir, "umount", dir, NULL };
  struct rec r;
  rec_init(&r);
  r.deny_nr = SYS_mount;
  r.deny_errno = EPERM;
  r.deny_nr2 = SYS_connect;
  r.deny_errno2 = EACCES;
  struct run run;
  ok(run_helper(prog, &r, root ? RUN_MNTNS : 0, argv, &run) == 0, "deny: supervised run");
  contains(run.out, "connect ret=-1 errno=13", "deny: connect failed with the decided EACCES");
  int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  ok(conn < 0 && errno == EAGAIN, "deny: and never reached the listener");
  if (conn >= 0)
    close(conn);
  contains(run.out, "mount ret=-1 errno=1", "deny: mount denied with EPERM");
  if (root)
    contains(run.out, "umount ret=-1 errno=22", "deny: nothing was mounted (umount EINVAL)");
  const struct ward_event *e = find_ev(&r, SYS_mount, 0);
  ok(e && e->denied && e->ret == -EPERM, "deny: mount event marked denied, ret -EPERM");
  e = find_ev(&r, SYS_connect, 0);
  ok(e && e->denied && e->ret == -EACCES, "deny: connect event marked denied, ret -EACCES");
  is_int(run.stats.denied, 2, "deny: stats count two denials");
  rmdir(dir);
  free(r.saved);
}

static void test_hot(void)
{
  /* Positive control: the counting is real. getppid watched -> 1000 events;
   * read/write in the same run still zero. */
  const char *set[] = { "getppid", NULL };
  struct ward_supervisor_config c = { .syscalls = set };
  struct ward_supervisor_prog *p = build(&c);
  char *argv[] = { "sv-helper", "getppid", "1000", "hot", "10000", NULL };
  struct rec r;
  rec_init(&r);
  struct run run;
  ok(p && run_helper(p, &r, 0, argv, &run) == 0, "hot: supervised run");
  is_int(r.by_nr[SYS_getppid], 1000, "hot: 1000 watched getppid calls, 1000 events");
  is_int(r.by_nr[SYS_read] + r.by_nr[SYS_write], 0, "hot: read/write still not notified");
  is_int(run.stats.notifications, 1000, "hot: nothing else notified");
  ok(r.n_saved && r.saved[0].type == WARD_EV_SYSCALL, "hot: a call outside the table is a plain syscall event");
  ward_supervisor_prog_free(p);
  free(r.saved);
}

static void test_weird(const struct ward_supervisor_prog *prog)
{
  char *argv[] = { "sv-helper", "weird", "memfd", "after-weird", NULL };
  struct rec r;
  rec_init(&r);
  struct run run;
  ok(run_helper(prog, &r, 0, argv, &run) == 0, "weird: supervisor survived hostile arguments");
  ok(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0, "weird: the workload finished");
  contains(run.out, "weird-exec-null ret=-1 errno=14", "weird: execve(NULL) gets the kernel's EFAULT");
  contains(run.out, "weird-connect-null ret=-1", "weird: connect(NULL) went on to the kernel");
  ok(run.stats.mem_faults >= 6, "weird: unreadable pointers counted (%llu)", (unsigned long long)run.stats.mem_faults);
  const struct ward_event *e = find_ev(&r, SYS_execve, 4);  /* helper, null, one, unmapped, nonul */
  ok(e && strlen(e->path) == WARD_EVENT_STR_MAX - 1, "weird: an unterminated path is cut at the bound (%zu)",
     e ? strlen(e->path) : 0);
  e = find_ev(&r, SYS_execve, 5);
  is_str(e ? e->path2 : NULL, "x", "weird: argv stops at the unreadable element");
  bool unix_ok = false;
  for (unsigned i = 0; i < r.n_saved; i++)
    if (r.saved[i].syscall_nr == SYS_connect && r.saved[i].family == AF_UNIX)
      unix_ok = strlen(r.saved[i].path) == 108;
  ok(unix_ok, "weird: unterminated unix path bounded by sun_path");
  e = r.n_saved ? &r.saved[r.n_saved - 1] : NULL;
  ok(e && e->type == WARD_EV_MEMFD && strcmp(e->path, "after-weird") == 0, "weird: later calls still decoded");
  free(r.saved);
}

static void test_death(const struct ward_supervisor_prog *prog)
{
  int port = closed_port();
  char portstr[16];
  snprintf(portstr, sizeof(portstr), "%d", port);
  char *argv[] = { "sv-helper", "connect", "127.0.0.1", portstr, "memfd", "never", NULL };
  struct rec r;
  rec_init(&r);
  r.kill_self_nr = SYS_connect;
  struct run run;
  ok(run_helper(prog, &r, 0, argv, &run) == 0, "death: target killed mid-notification is not an error");
  ok(WIFSIGNALED(run.status) && WTERMSIG(run.status) == SIGKILL, "death: target died of SIGKILL");
  ok(run.stats.gone >= 1, "death: counted as gone (%llu)", (unsigned long long)run.stats.gone);
  ok(find_ev(&r, SYS_memfd_create, 0) == NULL, "death: nothing after it ran");
  free(r.saved);

  rec_init(&r);
  r.kill_action_nr = SYS_memfd_create;
  char *argv2[] = { "sv-helper", "memfd", "x", "connect", "127.0.0.1", portstr, NULL };
  ok(run_helper(prog, &r, 0, argv2, &run) == 0, "kill verdict: supervised run");
  ok(WIFSIGNALED(run.status) && WTERMSIG(run.status) == SIGKILL, "kill verdict: target killed");
  is_int(run.stats.killed, 1, "kill verdict: counted");
  ok(strstr(run.out, "memfd ret") == NULL, "kill verdict: the call never returned to the workload");
  ok(find_ev(&r, SYS_connect, 0) == NULL, "kill verdict: nothing after it ran");
  free(r.saved);
}

static long maxrss_kb(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static void test_flood(const struct ward_supervisor_prog *prog)
{
  int port = closed_port();
  char portstr[16];
  snprintf(portstr, sizeof(portstr), "%d", port);
  char *argv[] = { "sv-helper", "flood-exec", "100000", "flood-connect", "20000", portstr, NULL };
  struct rec r;
  rec_init(&r);
  long rss0 = maxrss_kb();
  struct run run;
  ok(run_helper(prog, &r, 0, argv, &run) == 0, "flood: supervised run");
  contains(run.out, "flood-exec ret=100000", "flood: 100k failing execve all answered (ENOENT)");
  contains(run.out, "flood-connect ret=20000", "flood: 20k connects all answered (ECONNREFUSED)");
  is_int(run.stats.notifications, 120001, "flood: every call notified once");
  long grew = maxrss_kb() - rss0;
  ok(grew < 4096, "flood: supervisor memory bounded (max RSS grew %ld KiB)", grew);
  tap_diag("flood: 120k notifications in %.2f s (%.1f us each, end to end)", run.ns / 1e9, run.ns / 1e3 / 120001);
  free(r.saved);
}

/* The supervisor process dies: one notification pending, one not yet made.
 * Both must come back ENOSYS, which is the kernel's answer once the last
 * listener reference is gone. */
static void test_supervisor_death(const struct ward_supervisor_prog *prog)
{
  int sp[2], pp[2], ss[2];
  ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0 && pipe2(pp, O_CLOEXEC) == 0 &&
     socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ss) == 0, "sv death: setup");
  char *argv[] = { "sv-helper", "mount", "/nonexistent-ward", "connect", "127.0.0.1", "1", NULL };
  fflush(stdout);
  pid_t sup = fork();
  if (sup == 0) {
    /* the supervisor process: answers the helper's execve, receives the
     * mount and dies without answering it */
    int listener = ward_recv_fd(ss[0]);
    struct ward_supervisor *sv = NULL;
    if (listener < 0 || ward_supervisor_new(listener, NULL, &sv, NULL) < 0)
      _exit(1);
    struct pollfd p = { .fd = ward_supervisor_fd(sv), .events = POLLIN };
    while (poll(&p, 1, 5000) == 1 && ward_supervisor_handle_one(sv, NULL) != WARD_SUPERVISOR_HANDLED)
      ;
    if (poll(&p, 1, 5000) != 1)
      _exit(2);
    struct seccomp_notif req;
    memset(&req, 0, sizeof(req));
    ioctl(p.fd, SECCOMP_IOCTL_NOTIF_RECV, &req);
    _exit(0);
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(pp[0]);
    child(prog, ss[1], pp[1], 0, argv);
  }
  close(sp[0]);
  close(sp[1]);
  close(ss[0]);
  close(ss[1]);
  close(pp[1]);
  int st = 0, sst = 0;
  waitpid(pid, &st, 0);
  waitpid(sup, &sst, 0);
  char out[1024];
  ssize_t n = read(pp[0], out, sizeof(out) - 1);
  out[n > 0 ? n : 0] = '\0';
  close(pp[0]);
  ok(WIFEXITED(sst) && WEXITSTATUS(sst) == 0, "sv death: supervisor took the pending call and died");
  contains(out, "mount ret=-1 errno=38", "sv death: pending notified call fails with ENOSYS");
  contains(out, "connect ret=-1 errno=38", "sv death: later notified calls fail with ENOSYS");
  ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "sv death: the workload itself carries on");
}

static void test_compat(void)
{
#if defined(__x86_64__)
  for (int native_only = 0; native_only < 2; native_only++) {
    struct ward_supervisor_config c = { .native_only = native_only };
    struct ward_supervisor_prog *p = build(&c);
    char *argv[] = { "sv-helper", "int80-execve", NULL };
    struct rec r;
    rec_init(&r);
    struct run run;
    ok(p && run_helper(p, &r, 0, argv, &run) == 0, "compat: supervised run (native_only=%d)", native_only);
    if (!strstr(run.out, "int80-execve ret=0")) {
      tap_diag("no IA32 emulation here: %s", run.out);
      ok(true, "compat: skipped, kernel runs no i386 code");
    } else {
      const struct ward_event *e = find_ev(&r, SYS_execve, 1);
      if (!native_only) {
        ok(e && e->type == WARD_EV_EXEC, "compat: i386 execve via int $0x80 is seen");
        is_str(e ? e->path : NULL, "/nonexistent-int80", "compat: its 32-bit path pointer decoded");
      } else {
        ok(e == NULL, "compat: native_only really misses it (so the default matters)");
      }
    }
    ward_supervisor_prog_free(p);
    free(r.saved);
  }
#endif
}

/* A call watched through the configuration but not in the supervisor's
 * table is reported raw, by its native number: for an x32 call (which
 * shares x86_64's arch token) that takes resolving it as x32's. */
static void test_x32_unknown(void)
{
#if defined(__x86_64__)
  struct ward_supervisor_config c = {.add = (const char *const[]) {"sethostname", NULL}};
  struct ward_supervisor_prog *p = build(&c);
  char *argv[] = {"sv-helper", "x32-sethostname", NULL};
  struct rec r;
  rec_init(&r);
  struct run run;
  ok(p && run_helper(p, &r, 0, argv, &run) == 0, "x32: supervised run");
  ok(strstr(run.out, "x32-sethostname ret=") != NULL, "x32: the helper made the call");
  const struct ward_event *e = find_ev(&r, SYS_sethostname, 0);
  ok(e && e->type == WARD_EV_SYSCALL, "x32: an unknown x32 call is reported by its native number");
  ok(run.stats.unknown >= 1, "x32: counted as unknown");
  ward_supervisor_prog_free(p);
  free(r.saved);
#endif
}

static void test_exec_memfd(const struct ward_supervisor_prog *prog)
{
  char *argv[] = { "sv-helper", "exec-memfd", NULL };
  struct rec r;
  rec_init(&r);
  struct run run;
  ok(run_helper(prog, &r, 0, argv, &run) == 0, "memfd exec: supervised run");
  contains(run.out, "exec-memfd ret=0", "memfd exec: the program ran from the memfd");
  const struct ward_event *e = find_ev(&r, SYS_execveat, 0);
  ok(e && e->type == WARD_EV_EXEC && e->flags == AT_EMPTY_PATH, "memfd exec: execveat event with AT_EMPTY_PATH");
  contains(e ? e->path : NULL, "/memfd:ward-test", "memfd exec: path names the memfd");
  is_str(e ? e->path2 : NULL, "true-from-memfd", "memfd exec: argv");
  free(r.saved);
}

/* ward_supervisor_new(-1) then ward_supervisor_attach: the same events as
 * made in one step; the API refuses a missing or second listener. */
static void test_attach_later(const struct ward_supervisor_prog *prog)
{
  char *argv[] = { "sv-helper", "exec", "/bin/sh", "-c", "exit 7", NULL };
  struct rec r;
  rec_init(&r);
  struct run run;
  made_early = true;
  ok(run_helper(prog, &r, 0, argv, &run) == 0, "attach later: supervised run");
  made_early = false;
  ok(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 7, "attach later: the exec ran");
  const struct ward_event *e = find_ev(&r, SYS_execve, 0);
  ok(e && e->type == WARD_EV_EXEC && e->source == WARD_SRC_SUPERVISOR, "attach later: exec event seen");
  is_str(e ? e->path : NULL, SV_HELPER_PATH, "attach later: exec path");
  free(r.saved);

  struct ward_supervisor *sv = NULL;
  ok(ward_supervisor_new(-1, NULL, &sv, NULL) == 0, "attach later: made without a listener");
  ward_error_t e0 = NULL;
  ok(sv && ward_supervisor_handle_one(sv, &e0) < 0 && e0 && e0->errnum == EBADF, "attach later: nothing to handle yet: EBADF");
  ward_error_free(&e0);
  ok(sv && ward_supervisor_run(sv, -1, &e0) < 0 && e0 && e0->errnum == EBADF,
     "attach later: run without a listener fails at once instead of waiting forever");
  ward_error_free(&e0);
  _cleanup_error_ ward_error_t err = NULL;
  ok(sv && ward_supervisor_attach(sv, -1, &err) < 0, "attach later: no listener is refused");
  int p[2];
  if (sv && pipe2(p, O_CLOEXEC) == 0) {
    ok(ward_supervisor_attach(sv, p[0], NULL) == 0, "attach later: a listener is taken");
    ward_error_t e2 = NULL;
    ok(ward_supervisor_attach(sv, p[1], &e2) < 0 && fcntl(p[1], F_GETFD) < 0,
       "attach later: a second one is refused, and closed");
    ward_error_free(&e2);
  }
  ward_supervisor_free(sv);
}

int main(void)
{
  bool root = geteuid() == 0;
  if (!root)
    tap_diag("not root: mount and pid namespace checks skipped");
  test_fdpass();
  test_build();
  /* the behavioural tests run with a program that came from the cache */
  struct ward_supervisor_prog *prog = test_build_cache();
  ok(prog != NULL, "default filter built");
  if (prog) {
    test_observe(prog, root);
    test_deny(prog, root);
    test_hot();
    test_weird(prog);
    test_death(prog);
    test_flood(prog);
    test_supervisor_death(prog);
    test_compat();
    test_x32_unknown();
    test_exec_memfd(prog);
    test_attach_later(prog);
  }
  ward_supervisor_prog_free(prog);
  return tap_done();
}
