/* Filters really deny and really allow: each probe runs in a forked child
 * that sets no_new_privs, loads the compiled filter and makes one call. The
 * same probes run unfiltered first, so a denial is the filter's doing. */
#include "common/cleanup.h"
#include "common/json.h"
#include "seccomp/seccomp.h"
#include "tap.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/keyctl.h>

void test_seccomp_enforce(void);

struct outcome {
  int code;   /* exit status, or -1 */
  int signo;  /* terminating signal, or 0 */
};

#define LOAD_FAILED 200

/* Runs probe() in a child under `p` (NULL: unfiltered). The probe returns
 * an errno (0: success), which becomes the exit status. */
static struct outcome run(const struct ward_seccomp_prog *p, int (*probe)(void))
{
  pid_t pid = fork();
  if (pid == 0) {
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    alarm(20);
    if (p) {
      int listener;
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || ward_seccomp_load(p, &listener, NULL) < 0)
        _exit(LOAD_FAILED);
    }
    _exit(probe() & 0xff);
  }
  struct outcome o = {-1, 0};
  int status;
  if (pid > 0 && waitpid(pid, &status, 0) == pid) {
    if (WIFEXITED(status))
      o.code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
      o.signo = WTERMSIG(status);
  }
  return o;
}

#define ERR(call) ((call) < 0 ? errno : 0)

static int p_keyctl(void) { return ERR(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)); }
/* a key type that does not exist: unfiltered it fails with ENODEV, adding nothing */
static int p_add_key(void) { return ERR(syscall(SYS_add_key, "ward_no_such_type", "ward", "x", 1, KEY_SPEC_SESSION_KEYRING)); }
static int p_unshare_user(void) { return ERR(unshare(CLONE_NEWUSER)); }
static int p_unshare_none(void) { return ERR(unshare(0)); }
static int p_bpf(void) { return ERR(syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, NULL, 0)); }
static int p_perf(void) { return ERR(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0)); }
static int p_clone3(void) { return ERR(syscall(SYS_clone3, NULL, 0)); }
static int p_mount(void) { return ERR(mount("none", "/nonexistent-ward", "tmpfs", 0, NULL)); }
static int p_kexec(void) { return ERR(syscall(SYS_kexec_load, 0, 0, NULL, 0)); }
static int p_vsock(void) { int fd = socket(40 /* AF_VSOCK */, SOCK_STREAM, 0); return fd < 0 ? errno : (close(fd), 0); }
static int p_unix(void) { int fd = socket(AF_UNIX, SOCK_STREAM, 0); return fd < 0 ? errno : (close(fd), 0); }
static int p_getppid(void) { return syscall(SYS_getppid) > 0 ? 0 : errno ? errno : 99; }

static int p_clone_newuts(void)
{
  long pid = syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, NULL, NULL, NULL, 0);
  if (pid == 0)
    _exit(0);
  if (pid < 0)
    return errno;
  waitpid((pid_t) pid, NULL, 0);
  return 0;
}

static int p_basics(void)
{
  int fds[2];
  char buf[4] = "";
  if (getpid() <= 0 || pipe(fds) < 0)
    return 90;
  if (write(fds[1], "ok", 3) != 3 || read(fds[0], buf, 3) != 3 || strcmp(buf, "ok") != 0)
    return 91;
  return 0;
}

static int p_fork(void)
{
  pid_t pid = fork();
  if (pid == 0)
    _exit(7);
  int status;
  if (pid < 0)
    return errno;
  return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : 92;
}

static void *thread_main(void *arg) { return arg; }
static int p_thread(void)
{
  /* glibc tries clone3 first; ENOSYS must make it fall back to clone */
  pthread_t t;
  void *ret = NULL;
  int rc = pthread_create(&t, NULL, thread_main, (void *) 42);
  if (rc != 0)
    return rc;
  return pthread_join(t, &ret) == 0 && ret == (void *) 42 ? 0 : 93;
}

static struct ward_seccomp_prog *compile_default(uint64_t caps)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_seccomp *s = NULL;
  struct ward_seccomp_prog *p = NULL;
  if (ward_seccomp_default(caps, &s, &err) < 0 || ward_seccomp_compile(s, NULL, &p, &err) < 0)
    tap_diag("%s", err ? err->msg : "?");
  ward_seccomp_free(s);
  return p;
}

static void expect_denied(const struct ward_seccomp_prog *p, int (*probe)(void), int want, const char *what)
{
  struct outcome free_run = run(NULL, probe);
  ok(free_run.code != want, "unfiltered, %s does not give %s (got %d)", what, strerrorname_np(want), free_run.code);
  struct outcome o = run(p, probe);
  is_int(o.code, want, "default profile: %s gives %s", what, strerrorname_np(want));
}

static void test_default_enforced(void)
{
  struct ward_seccomp_prog *p = compile_default(ward_seccomp_docker_default_caps());
  ok(p != NULL, "default compiles");
  if (p == NULL)
    return;
  expect_denied(p, p_keyctl, EPERM, "keyctl");
  expect_denied(p, p_add_key, EPERM, "add_key");
  expect_denied(p, p_unshare_user, EPERM, "unshare(CLONE_NEWUSER)");
  expect_denied(p, p_unshare_none, EPERM, "unshare(0)");
  expect_denied(p, p_bpf, EPERM, "bpf");
  expect_denied(p, p_perf, EPERM, "perf_event_open");
  expect_denied(p, p_mount, EPERM, "mount");
  expect_denied(p, p_kexec, EPERM, "kexec_load");
  expect_denied(p, p_clone_newuts, EPERM, "clone(CLONE_NEWUTS)");
  expect_denied(p, p_vsock, EPERM, "socket(AF_VSOCK)");
  expect_denied(p, p_clone3, ENOSYS, "clone3");
  is_int(run(p, p_basics).code, 0, "default profile: getpid, pipe, read, write work");
  is_int(run(p, p_fork).code, 0, "default profile: fork works");
  is_int(run(p, p_thread).code, 0, "default profile: pthread_create works (clone3 falls back)");
  is_int(run(p, p_unix).code, 0, "default profile: socket(AF_UNIX) works");
  ward_seccomp_prog_free(p);

  p = compile_default(ward_seccomp_docker_default_caps() | (1ULL << CAP_SYS_ADMIN));
  is_int(run(p, p_unshare_none).code, 0, "with CAP_SYS_ADMIN in caps: unshare is allowed");
  is_int(run(p, p_clone_newuts).code, 0, "with CAP_SYS_ADMIN in caps: clone with namespace flags is allowed");
  ward_seccomp_prog_free(p);
}

static struct ward_seccomp_prog *compile_rule(const char *action, const char *extra)
{
  char text[512];
  snprintf(text, sizeof(text),
           "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"%s\"%s}]}",
           action, extra);
  _cleanup_error_ ward_error_t err = NULL;
  _cleanup_json_ json_t *doc = NULL;
  struct ward_seccomp *s = NULL;
  struct ward_seccomp_prog *p = NULL;
  if (wj_load_buffer("t", text, strlen(text), &doc, &err) < 0 ||
      ward_seccomp_parse_oci(doc, "linux.seccomp", &s, &err) < 0 || ward_seccomp_compile(s, NULL, &p, &err) < 0)
    tap_diag("%s: %s", action, err ? err->msg : "?");
  ward_seccomp_free(s);
  return p;
}

/* A grandchild's getppid goes to the child holding the listener, which
 * answers 4242 on the kernel's behalf. */
static int p_notify(const struct ward_seccomp_prog *p)
{
  int listener = -1;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || ward_seccomp_load(p, &listener, NULL) < 0 || listener < 0)
    return 80;
  pid_t pid = fork();
  if (pid == 0) {
    close(listener);
    _exit(syscall(SYS_getppid) == 4242 ? 0 : 81);
  }
  struct seccomp_notif *req = NULL;
  struct seccomp_notif_resp *resp = NULL;
  if (seccomp_notify_alloc(&req, &resp) < 0 || seccomp_notify_receive(listener, req) < 0)
    return 82;
  resp->id = req->id;
  resp->val = 4242;
  resp->error = 0;
  resp->flags = 0;
  if (seccomp_notify_respond(listener, resp) < 0)
    return 83;
  int status;
  return waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : 84;
}

static void test_actions(void)
{
  struct ward_seccomp_prog *p = compile_rule("SCMP_ACT_ERRNO", ",\"errnoRet\":18");
  is_int(run(p, p_getppid).code, EXDEV, "SCMP_ACT_ERRNO with errnoRet 18 gives EXDEV");
  ward_seccomp_prog_free(p);
  p = compile_rule("SCMP_ACT_ERRNO", "");
  is_int(run(p, p_getppid).code, EPERM, "SCMP_ACT_ERRNO without errnoRet gives EPERM");
  ward_seccomp_prog_free(p);
  p = compile_rule("SCMP_ACT_KILL_PROCESS", "");
  is_int(run(p, p_getppid).signo, SIGSYS, "SCMP_ACT_KILL_PROCESS: the child dies of SIGSYS");
  ward_seccomp_prog_free(p);
  p = compile_rule("SCMP_ACT_KILL_THREAD", "");
  is_int(run(p, p_getppid).signo, SIGSYS, "SCMP_ACT_KILL_THREAD: the single-threaded child dies of SIGSYS");
  ward_seccomp_prog_free(p);
  p = compile_rule("SCMP_ACT_TRAP", "");
  is_int(run(p, p_getppid).signo, SIGSYS, "SCMP_ACT_TRAP: SIGSYS delivered");
  ward_seccomp_prog_free(p);
  p = compile_rule("SCMP_ACT_TRACE", "");
  is_int(run(p, p_getppid).code, ENOSYS, "SCMP_ACT_TRACE without a tracer gives ENOSYS");
  ward_seccomp_prog_free(p);
  p = compile_rule("SCMP_ACT_LOG", "");
  is_int(run(p, p_getppid).code, 0, "SCMP_ACT_LOG: the call is allowed");
  ward_seccomp_prog_free(p);
  p = compile_rule("SCMP_ACT_ALLOW", "");  /* same as the default: no rule */
  is_int(run(p, p_getppid).code, 0, "a rule repeating the default action compiles and allows");
  ward_seccomp_prog_free(p);

  p = compile_rule("SCMP_ACT_NOTIFY", "");
  ok(p && ward_seccomp_prog_wants_listener(p), "SCMP_ACT_NOTIFY: the program wants a listener");
  pid_t pid = fork();
  if (pid == 0) {
    alarm(20);
    _exit(p_notify(p));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
     "SCMP_ACT_NOTIFY: listener fd returned, a notification answered (status %d)", WEXITSTATUS(status));
  ward_seccomp_prog_free(p);

  /* two conditions on one argument OR (libseccomp cannot AND them) */
  p = compile_rule("SCMP_ACT_ERRNO", ",\"errnoRet\":18,\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
                   "{\"index\":0,\"value\":2,\"op\":\"SCMP_CMP_EQ\"}]");
  ok(p != NULL, "a rule with two conditions on one argument compiles");
  ward_seccomp_prog_free(p);
}

static int p_no_nnp(const struct ward_seccomp_prog *p, const char **msg)
{
  int listener;
  _cleanup_error_ ward_error_t err = NULL;
  int rc = ward_seccomp_load(p, &listener, &err);
  *msg = err ? strstr(err->msg, "no_new_privs") : NULL;
  return rc;
}

static void test_needs_nnp(void)
{
  /* Without no_new_privs and without CAP_SYS_ADMIN the kernel refuses. */
  struct ward_seccomp_prog *p = compile_rule("SCMP_ACT_LOG", "");
  pid_t pid = fork();
  if (pid == 0) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {{0}};
    if (syscall(SYS_capset, &h, d) < 0)
      _exit(70);
    const char *msg = NULL;
    int rc = p_no_nnp(p, &msg);
    _exit(rc == -EACCES && msg ? 0 : 71);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
     "without no_new_privs or CAP_SYS_ADMIN: -EACCES and a clear error (status %d)", WEXITSTATUS(status));
  ward_seccomp_prog_free(p);
}

void test_seccomp_enforce(void)
{
  test_default_enforced();
  test_actions();
  test_needs_nnp();
}
