/* Enforcement by the real libward-probe.so in real programs (the enforce
 * target, cat, sh): protect tables, quarantine, restrict with its seccomp
 * layer, honeypot redirects and decoys; every refusal is checked against a
 * positive control and against the ring record it leaves. */
#include "common/cleanup.h"
#include "common/util.h"
#include "probe/calls.h"
#include "probe/control.h"
#include "probe/decoys.h"
#include "probe/ring.h"
#include "tap.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *so, *target, *musl_so, *musl_target;
static const char *lib;  /* the probe build run() preloads */

struct env {
  char dir[64];
  char control[128];
  struct ward_ring *ring;
  struct ward_event ev[512];
  size_t n;
};

static void env_free(struct env *e)
{
  if (e->ring)
    ward_ring_close(e->ring);
  e->ring = NULL;
  _cleanup_error_ ward_error_t err = NULL;
  ward_remove_tree(e->dir, &err);
}

static int env_init(struct env *e, uint32_t groups)
{
  _cleanup_error_ ward_error_t err = NULL;
  memset(e, 0, sizeof(*e));
  strcpy(e->dir, "/tmp/ward-enforce-XXXXXX");
  if (!mkdtemp(e->dir))
    return -1;
  chmod(e->dir, 0755);
  char ring[128], decoys[128];
  snprintf(e->control, sizeof(e->control), "%s/control", e->dir);
  snprintf(ring, sizeof(ring), "%s/ring", e->dir);
  snprintf(decoys, sizeof(decoys), "%s/decoys", e->dir);
  /* decoys/ as prepare leaves it: empty until honeypot is first set */
  if (ward_control_create(e->control, groups, &err) < 0 || ward_ring_create_file(ring, 1 << 20, 0, NULL, &err) < 0
      || mkdir(decoys, 0755) < 0) {
    tap_diag("setup: %s", err ? err->msg : "mkdir decoys");
    ok(0, "setup");
    env_free(e);
    return -1;
  }
  int fd = open(ring, O_RDWR | O_CLOEXEC);
  if (fd < 0 || ward_ring_open_fd(fd, WARD_RING_ALLOW_UNSEALED, 0, &e->ring, &err) < 0) {
    tap_diag("ring: %s", err ? err->msg : "open");
    ok(0, "setup");
    env_free(e);
    return -1;
  }
  return 0;
}

/* Runs argv with the probe; returns its stdout (first line, trimmed). */
static char *run(struct env *e, char *const argv[])
{
  static char out[4096];
  int p[2];
  if (pipe(p) < 0)
    return NULL;
  pid_t pid = fork();
  if (pid == 0) {
    char pre[512], dir[256];
    snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", lib);
    snprintf(dir, sizeof(dir), "WARD_PROBE_DIR=%s", e->dir);
    char *envp[] = {pre, dir, "PATH=/usr/bin:/bin", "HOME=/root", NULL};
    dup2(p[1], 1);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    execve(argv[0], argv, envp);
    _exit(127);
  }
  close(p[1]);
  size_t n = 0;
  ssize_t k;
  while (n < sizeof(out) - 1 && (k = read(p[0], out + n, sizeof(out) - 1 - n)) > 0)
    n += (size_t) k;
  out[n] = 0;
  close(p[0]);
  waitpid(pid, NULL, 0);
  char *nl = strchr(out, '\n');
  if (nl)
    *nl = 0;
  return out;
}

static void collect(struct env *e)
{
  e->n = 0;
  size_t k;
  while (e->n < 512 && (k = ward_ring_consume(e->ring, e->ev + e->n, 512 - e->n)) > 0)
    e->n += k;
}

static const struct ward_event *find(struct env *e, enum ward_event_type t, const char *path, bool denied)
{
  for (size_t i = 0; i < e->n; i++) {
    const struct ward_event *v = &e->ev[i];
    if (v->type == t && v->denied == denied && (path == NULL || ward_has_suffix(v->path, path)))
      return v;
  }
  return NULL;
}

static void set_policy(struct env *e, const char *const *paths, size_t np, const struct ward_ctl_addr *addrs, size_t na,
                       const uint16_t *ports, size_t nports, int eno)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_control_policy p = {.deny_paths = paths, .n_deny_paths = np, .deny_addrs = addrs, .n_deny_addrs = na,
                                  .connect_ports = ports, .n_connect_ports = nports, .connect_allowlist = nports > 0,
                                  .deny_errno = eno};
  if (ward_control_set_policy(e->control, &p, &err) < 0)
    tap_diag("policy: %s", err->msg);
}

static void set_mode(struct env *e, uint32_t mode)
{
  _cleanup_error_ ward_error_t err = NULL;
  if (ward_control_set_mode(e->control, mode, &err) < 0)
    tap_diag("mode: %s", err->msg);
}

#define T(...) (char *[]) {(char *) target, __VA_ARGS__, NULL}

static void test_protect_paths(void)
{
  struct env e;
  if (env_init(&e, 0) < 0)
    return;
  char secret[128], other[128], rel[160];
  snprintf(secret, sizeof(secret), "%s/secret", e.dir);
  snprintf(other, sizeof(other), "%s/other", e.dir);
  ward_write_file_atomic(secret, "top\n", 4, 0644, NULL);
  ward_write_file_atomic(other, "fine\n", 5, 0644, NULL);
  is_str(run(&e, T("open", secret)), "top", "control: the file reads before any policy");
  const char *paths[] = {secret, "/etc/hostname", "/bin/true", "/usr/bin/true"};
  set_policy(&e, paths, 4, NULL, 0, NULL, 0, 0);
  is_str(run(&e, T("open", secret)), "top", "tables alone (mode none) deny nothing");
  set_mode(&e, WARD_CTL_MODE_PROTECT);
  collect(&e);
  is_str(run(&e, T("open", secret)), "errno=13", "protect: open of a listed path fails with EACCES");
  is_str(run(&e, T("open", other)), "fine", "an unlisted file in the same directory still opens");
  snprintf(rel, sizeof(rel), "%s/./x/../secret", e.dir);
  is_str(run(&e, T("open", rel)), "errno=13", "a path spelled with ./ and ../ is normalised before matching");
  is_str(run(&e, T("fopen", secret, "r")), "errno=13", "fopen denied");
  is_str(run(&e, T("exec", "/bin/true")), "errno=13", "exec of a listed binary denied");
  is_str(run(&e, T("execvp", "true")), "errno=13", "execvp of a bare name found on $PATH denied");
  is_str(run(&e, T("spawn", "/bin/true")), "errno=13", "posix_spawn denied");
  is_str(run(&e, T("unlink", secret)), "errno=13", "unlink denied");
  ok(access(secret, F_OK) == 0, "... and the file is still there");
  char cat[] = "/bin/cat";
  is_str(run(&e, (char *[]) {cat, secret, NULL}), "", "cat of the denied file prints nothing");
  collect(&e);
  const struct ward_event *v = find(&e, WARD_EV_OPEN, "/secret", true);
  ok(v && v->ret == -EACCES, "the ring has the denied open with ret -EACCES");
  ok(find(&e, WARD_EV_OPEN, "/other", true) == NULL, "the allowed open is not marked denied");
  v = find(&e, WARD_EV_EXEC, "/true", true);
  ok(v && v->ret == -EACCES, "denied exec recorded (exec group off, still recorded)");
  ok(find(&e, WARD_EV_SPAWN, "/bin/true", true) != NULL, "denied posix_spawn recorded");
  ok(find(&e, WARD_EV_UNLINK, "/secret", true) != NULL, "denied unlink recorded");

  set_policy(&e, paths, 1, NULL, 0, NULL, 0, EPERM);
  is_str(run(&e, T("open", secret)), "errno=1", "deny_errno EPERM");
  set_mode(&e, 0);
  is_str(run(&e, T("open", secret)), "top", "mode none: allowed again in a new process");
  env_free(&e);
}

/* A TCP listener on 127.0.0.1 that answers every connection with a line. */
struct listener { int fd; uint16_t port; const char *line; pthread_t t; };

static void *serve(void *arg)
{
  struct listener *l = arg;
  for (;;) {
    int c = accept(l->fd, NULL, NULL);
    if (c < 0)
      return NULL;
    ssize_t w = write(c, l->line, strlen(l->line));
    (void) w;
    close(c);
  }
}

static int listen_local(struct listener *l, const char *line)
{
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(a);
  l->line = line;
  l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l->fd < 0 || bind(l->fd, (struct sockaddr *) &a, len) < 0 || listen(l->fd, 16) < 0
      || getsockname(l->fd, (struct sockaddr *) &a, &len) < 0)
    return -1;
  l->port = ntohs(a.sin_port);
  return pthread_create(&l->t, NULL, serve, l);
}

static void listen_stop(struct listener *l)
{
  shutdown(l->fd, SHUT_RDWR);
  close(l->fd);
  pthread_join(l->t, NULL);
}

static void test_net(void)
{
  struct env e;
  struct listener l;
  if (env_init(&e, 0) < 0)
    return;
  if (listen_local(&l, "hello from the listener\n") != 0) {
    ok(0, "listener");
    env_free(&e);
    return;
  }
  char port[8];
  snprintf(port, sizeof(port), "%u", l.port);
  is_str(run(&e, T("connect", "127.0.0.1", port)), "connected", "control: loopback connect works");
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_ctl_addr deny[2];
  ward_ctl_addr_parse("127.0.0.0/8:1", &deny[0], &err);
  ward_ctl_addr_parse("*:9", &deny[1], &err);
  set_policy(&e, NULL, 0, deny, 2, NULL, 0, 0);
  set_mode(&e, WARD_CTL_MODE_PROTECT);
  is_str(run(&e, T("connect", "127.0.0.1", "1")), "errno=13", "protect: a listed address:port is refused (not ECONNREFUSED)");
  is_str(run(&e, T("udp", "::1", "9")), "errno=13", "sendto to a denied port (any address) refused");
  is_str(run(&e, T("sendmsg", "127.0.0.1", "9")), "errno=13", "sendmsg to a denied port refused");
  is_str(run(&e, T("connect", "127.0.0.1", port)), "connected", "an unlisted destination still connects");
  uint16_t allow[] = {l.port};
  set_policy(&e, NULL, 0, NULL, 0, allow, 1, 0);
  is_str(run(&e, T("connect", "127.0.0.1", port)), "connected", "allow-list: the listed port connects");
  is_str(run(&e, T("connect", "127.0.0.1", "2")), "errno=13", "allow-list: another port is refused");

  set_policy(&e, NULL, 0, NULL, 0, NULL, 0, 0);
  set_mode(&e, WARD_CTL_MODE_QUARANTINE);
  is_str(run(&e, T("connect", "10.1.2.3", "80")), "errno=13", "quarantine: non-loopback connect refused at once");
  is_str(run(&e, T("udp", "192.0.2.1", "53")), "errno=13", "quarantine: non-loopback sendto refused");
  is_str(run(&e, T("connect", "127.0.0.1", port)), "connected", "quarantine: loopback allowed");
  set_mode(&e, WARD_CTL_MODE_QUARANTINE | WARD_CTL_MODE_NO_LOOPBACK);
  is_str(run(&e, T("connect", "127.0.0.1", port)), "errno=13", "quarantine,no-loopback: loopback refused too");

  set_mode(&e, WARD_CTL_MODE_HONEYPOT);
  is_str(run(&e, T("connect", "10.1.2.3", "80")), "errno=111", "honeypot without a sink: outside looks closed");
  struct ward_ctl_addr sink;
  ward_ctl_addr_parse("127.0.0.1", &sink, &err);
  sink.port = l.port;
  if (ward_control_set_honeypot_sink(e.control, &sink, &err) < 0)
    tap_diag("sink: %s", err->msg);
  collect(&e);
  char *out = run(&e, T("connect", "10.1.2.3", "80"));
  is_str(out, "connected", "honeypot: a connect to 10.1.2.3:80 reaches the sink");
  out = run(&e, T("connect", "169.254.169.254", "80"));
  is_str(out, "connected", "honeypot: the cloud metadata endpoint reaches the sink");
  out = run(&e, T("connect", "::ffff:10.9.9.9", "443"));
  is_str(out, "connected", "honeypot: an IPv6 socket to a v4-mapped address reaches the v4 sink");
  collect(&e);
  const struct ward_event *v = NULL;
  for (size_t i = 0; i < e.n; i++)
    if (e.ev[i].type == WARD_EV_CONNECT && (e.ev[i].rec_flags & WARD_EVENT_F_REDIRECTED) && e.ev[i].addr[0] == 10)
      v = v ? v : &e.ev[i];
  char want[64];
  snprintf(want, sizeof(want), "127.0.0.1:%u", l.port);
  ok(v && v->port == 80 && v->addr[3] == 3 && strcmp(v->path2, want) == 0 && v->ret == 0,
     "the record has the original destination and the sink (%s)", v ? v->path2 : "none");
  ok(v && v->n_stack > 0, "honeypot records carry call stacks");
  /* UDP: sendto and sendmsg go to the sink's port on the sink address too */
  int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_in ua = {.sin_family = AF_INET, .sin_port = htons(l.port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (u >= 0 && bind(u, (struct sockaddr *) &ua, sizeof(ua)) == 0) {
    is_str(run(&e, T("udp", "192.0.2.7", "53")), "ok", "honeypot: UDP sendto to the outside is sent");
    is_str(run(&e, T("sendmsg", "192.0.2.7", "53")), "ok", "honeypot: UDP sendmsg to the outside is sent");
    char b[8];
    ssize_t got1 = recv(u, b, sizeof(b), 0), got2 = recv(u, b, sizeof(b), 0);
    ok(got1 == 1 && got2 == 1, "... and both datagrams arrive at the sink");
  } else {
    ok(1, "# SKIP UDP port %u taken", l.port);
    ok(1, "# SKIP");
    ok(1, "# SKIP");
  }
  if (u >= 0)
    close(u);
  set_mode(&e, 0);
  struct ward_control c;
  ward_control_read(e.control, &c, &err);
  ok(c.groups == 0 && c.stack_mask == 0, "leaving honeypot restores groups and stacks");
  listen_stop(&l);
  env_free(&e);
}

static void test_quarantine_files(void)
{
  struct env e;
  if (env_init(&e, 0) < 0)
    return;
  char var[128], tmpf[128];
  snprintf(var, sizeof(var), "/var/tmp/ward-enforce-%d", getpid());
  snprintf(tmpf, sizeof(tmpf), "%s/in-tmp", e.dir);
  set_mode(&e, WARD_CTL_MODE_QUARANTINE);
  is_str(run(&e, T("open", var, "w")), "errno=13", "quarantine: write outside /tmp refused");
  ok(access(var, F_OK) != 0, "... and nothing was created");
  is_str(run(&e, T("open", tmpf, "w")), "ok", "write under /tmp allowed");
  is_str(run(&e, T("open", "/etc/hostname")), run(&e, (char *[]) {"/bin/cat", "/etc/hostname", NULL}),
         "reads outside /tmp allowed");
  is_str(run(&e, T("open", "/dev/null", "w")), "ok", "/dev/null writable");
  is_str(run(&e, T("mkdir", "/var/ward-x")), "errno=13", "mkdir outside /tmp refused");
  is_str(run(&e, T("rename", tmpf, "/var/ward-x")), "errno=13", "rename out of /tmp refused");
  is_str(run(&e, T("unlink", tmpf)), "ok", "unlink in /tmp allowed");
  char *sh[] = {"/bin/sh", "-c", "(echo x > /var/tmp/ward-q-sh) 2>/dev/null && echo written || echo refused", NULL};
  is_str(run(&e, sh), "refused", "a shell redirection outside /tmp fails");
  ok(access("/var/tmp/ward-q-sh", F_OK) != 0, "... and created nothing");
  env_free(&e);
}

static void test_honeypot_decoys(void)
{
  struct env e;
  if (env_init(&e, 0) < 0)
    return;
  char shadow[128];
  snprintf(shadow, sizeof(shadow), "%s/decoys/shadow", e.dir);
  ok(access(shadow, F_OK) != 0, "no decoy files before honeypot");
  set_mode(&e, WARD_CTL_MODE_HONEYPOT);
  _cleanup_free_ char *d1 = NULL, *d2 = NULL;
  ward_read_file(shadow, 4096, &d1, NULL, NULL);
  set_mode(&e, 0);
  set_mode(&e, WARD_CTL_MODE_HONEYPOT);
  ward_read_file(shadow, 4096, &d2, NULL, NULL);
  ok(d1 && d2 && strcmp(d1, d2) == 0, "decoys written on entering honeypot, kept when entering again");
  char *out = run(&e, T("open", "/etc/shadow"));
  ok(out && strncmp(out, "root:$6$", 8) == 0, "honeypot: /etc/shadow gives the decoy (%s)", out ? out : "");
  out = run(&e, (char *[]) {"/bin/cat", "/root/.aws/credentials", NULL});
  is_str(out, "[default]", "cat ~/.aws/credentials gives the decoy");
  out = run(&e, T("fopen", "/home/x/.ssh/id_rsa", "r"));
  is_str(out, "-----BEGIN RSA PRIVATE KEY-----", "fopen of an ssh key gives the decoy");
  out = run(&e, T("open", "/etc/hostname"));
  ok(out && strncmp(out, "root", 4) != 0 && strncmp(out, "errno", 5) != 0, "other files read as they are");
  collect(&e);
  const struct ward_event *v = find(&e, WARD_EV_OPEN, "/etc/shadow", false);
  ok(v && (v->rec_flags & WARD_EVENT_F_REDIRECTED) && ward_has_suffix(v->path2, "/decoys/shadow"),
     "the record names the original and the decoy");
  env_free(&e);
}

/* Starts the target in a restrict mode, flips the mode once it waits,
 * returns its output line. */
static void run_waiting(struct env *e, const char *mode, uint32_t bits, char *out, size_t cap)
{
  char go[128];
  snprintf(go, sizeof(go), "%s/go-%s", e->dir, mode);
  out[0] = 0;
  int p[2];
  if (pipe(p) < 0)
    return;
  pid_t pid = fork();
  if (pid == 0) {
    char pre[512], dir[256];
    snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", so);
    snprintf(dir, sizeof(dir), "WARD_PROBE_DIR=%s", e->dir);
    char *envp[] = {pre, dir, NULL};
    dup2(p[1], 1);
    char *argv[] = {(char *) target, (char *) mode, go, NULL};
    execve(target, argv, envp);
    _exit(127);
  }
  close(p[1]);
  usleep(100000);
  set_mode(e, bits);
  ward_write_file_atomic(go, "", 0, 0644, NULL);
  size_t n = 0;
  ssize_t k;
  while (n < cap - 1 && (k = read(p[0], out + n, cap - 1 - n)) > 0)
    n += (size_t) k;
  out[n] = 0;
  close(p[0]);
  waitpid(pid, NULL, 0);
}

static void test_restrict(void)
{
  struct env e;
  if (env_init(&e, 0) < 0)
    return;
  char out[512];
  run_waiting(&e, "restrict", WARD_CTL_MODE_RESTRICT, out, sizeof(out));
  int before = -1, after = -1, thr = -1, child = -1;
  long ex = -1, tex = -1, pt = -1;
  sscanf(out, "filters-before=%d filters-after=%d thread-filters=%d raw-execve-errno=%ld thread-execve-errno=%ld "
              "raw-ptrace-errno=%ld fork-child-filters=%d", &before, &after, &thr, &ex, &tex, &pt, &child);
  tap_diag("restrict target: %s", out);
  ok(before >= 0 && after == before + 1, "restrict: one more seccomp filter after the next interposed call");
  is_int(thr, after, "the other thread has it too (TSYNC)");
  is_int(ex, EACCES, "raw syscall(SYS_execve) refused by the kernel layer (EACCES, not ENOENT)");
  is_int(tex, EACCES, "... from the other thread as well");
  is_int(pt, EACCES, "raw ptrace refused");
  is_int(child, after, "a fork child inherits the filter and adds none of its own");
  is_str(run(&e, T("exec", "/bin/true")), "errno=13", "restrict: exec refused by the probe in a new process");
  is_str(run(&e, T("system", "true")), "errno=13", "system() refused");
  collect(&e);
  size_t installs = 0;
  const struct ward_event *v = NULL;
  for (size_t i = 0; i < e.n; i++)
    if (e.ev[i].type == WARD_EV_PRCTL && e.ev[i].flags == 22) {
      v = &e.ev[i];
      installs++;
    }
  ok(v && v->ret == 0, "the installation is recorded (prctl PR_SET_SECCOMP, ret 0)");
  is_int(installs, 3, "one installation per process: the target and the two later ones, none for the fork child");
  set_mode(&e, 0);
  run_waiting(&e, "restrict-vfork", WARD_CTL_MODE_RESTRICT, out, sizeof(out));
  tap_diag("restrict-vfork target: %s", out);
  int vexit = -1;
  before = after = -1;
  ex = -1;
  sscanf(out, "vfork-child-exit=%d filters-before=%d filters-after=%d raw-execve-errno=%ld", &vexit, &before, &after, &ex);
  is_int(vexit, EACCES, "a vfork child's exec is refused");
  ok(before >= 0 && after == before + 1, "the parent still installs its own filter after the vfork child did");
  is_int(ex, EACCES, "... and raw execve in the parent is refused");
  env_free(&e);
}

/* sendmsg is new in the net group: recorded with its destination even with
 * no mode on. */
static void test_sendmsg_recorded(void)
{
  struct env e;
  if (env_init(&e, 1u << WARD_GROUP_NET) < 0)
    return;
  is_str(run(&e, T("sendmsg", "127.0.0.1", "9")), "ok", "sendmsg to a UDP port with nobody listening");
  collect(&e);
  const struct ward_event *v = NULL;
  for (size_t i = 0; i < e.n; i++)
    if (e.ev[i].type == WARD_EV_SENDTO && e.ev[i].call == WARD_CALL_sendmsg)
      v = &e.ev[i];
  ok(v && v->port == 9 && v->addr[0] == 127 && v->ret == 1 && !v->denied, "sendmsg recorded as sendto with its destination");
  env_free(&e);
}

/* The musl build enforces the same way (its target opens /dev/null, then
 * fopen()s /etc/hostname). */
static void test_musl(void)
{
  if (!musl_so || !*musl_so || !musl_target || !*musl_target) {
    ok(1, "# SKIP musl-gcc not installed");
    return;
  }
  struct env e;
  if (env_init(&e, 1u << WARD_GROUP_FILE) < 0)
    return;
  const char *paths[] = {"/etc/hostname"};
  set_policy(&e, paths, 1, NULL, 0, NULL, 0, 0);
  set_mode(&e, WARD_CTL_MODE_PROTECT);
  lib = musl_so;
  run(&e, (char *[]) {(char *) musl_target, NULL});
  lib = so;
  collect(&e);
  const struct ward_event *v = find(&e, WARD_EV_OPEN, "/etc/hostname", true);
  ok(v && v->call == WARD_CALL_fopen && v->ret == -EACCES, "musl: fopen of a listed path denied and recorded");
  v = find(&e, WARD_EV_OPEN, "/dev/null", false);
  ok(v && v->ret >= 0, "musl: the unlisted open went through");
  env_free(&e);
}

static void test_bad_input(void)
{
  struct env e;
  if (env_init(&e, 0) < 0)
    return;
  ward_error_t err = NULL;
  const char *rel[] = {"relative/path"};
  struct ward_control_policy p = {.deny_paths = rel, .n_deny_paths = 1};
  ok(ward_control_set_policy(e.control, &p, &err) < 0 && strstr(err->msg, "deny_paths[0]"), "relative deny path refused, named");
  ward_error_free(&err);
  p = (struct ward_control_policy) {.deny_errno = ENOENT};
  ok(ward_control_set_policy(e.control, &p, &err) < 0 && strstr(err->msg, "deny_errno"), "deny_errno other than EACCES/EPERM refused");
  ward_error_free(&err);
  uint16_t zero = 0;
  p = (struct ward_control_policy) {.connect_ports = &zero, .n_connect_ports = 1};
  ok(ward_control_set_policy(e.control, &p, &err) < 0 && strstr(err->msg, "connect_ports[0]"), "port 0 refused");
  ward_error_free(&err);
  ok(ward_control_set_mode(e.control, 0x100, &err) < 0 && strstr(err->msg, "mode"), "unknown mode bits refused");
  ward_error_free(&err);
  struct ward_ctl_addr a = {.family = AF_INET, .port = 0};
  ok(ward_control_set_honeypot_sink(e.control, &a, &err) < 0 && strstr(err->msg, "honeypot_sink"), "sink without port refused");
  ward_error_free(&err);
  a = (struct ward_ctl_addr) {.family = AF_INET, .prefix = 33};
  p = (struct ward_control_policy) {.deny_addrs = &a, .n_deny_addrs = 1};
  ok(ward_control_set_policy(e.control, &p, &err) < 0 && strstr(err->msg, "deny_addrs[0]"), "prefix /33 refused");
  ward_error_free(&err);
  struct ward_control c;
  ward_control_read(e.control, &c, &err);
  ok(c.mode == 0 && c.n_deny_paths == 0 && c.n_deny_addrs == 0, "nothing changed by the refused calls");
  env_free(&e);
}

int main(void)
{
  so = getenv("WARD_TEST_PROBE_SO");
  target = getenv("WARD_TEST_ENFORCE_TARGET");
  musl_so = getenv("WARD_TEST_PROBE_MUSL_SO");
  musl_target = getenv("WARD_TEST_MUSL_TARGET");
  lib = so;
  if (!so || !target) {
    printf("1..0 # SKIP run through meson test\n");
    return 0;
  }
  signal(SIGPIPE, SIG_IGN);
  test_protect_paths();
  test_net();
  test_quarantine_files();
  test_honeypot_decoys();
  test_restrict();
  test_sendmsg_recorded();
  test_musl();
  test_bad_input();
  return tap_done();
}
