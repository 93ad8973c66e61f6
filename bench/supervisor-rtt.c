/* Round trip of one notified system call: a child watches getppid through
 * the supervisor filter and times N calls; the parent supervises. The same
 * call un-notified (before the filter is installed) is the baseline.
 *
 *   supervisor-rtt [N]      (default 20000) */
#include "supervisor/supervisor.h"
#include "supervisor/fdpass.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void timed_loop(uint64_t *t, long n)
{
  for (long i = 0; i < n; i++) {
    uint64_t t0 = now_ns();
    syscall(SYS_getppid);
    t[i] = now_ns() - t0;
  }
  qsort(t, (size_t)n, sizeof(*t), cmp_u64);
}

struct result { uint64_t base_p50, base_p99, sv_p50, sv_p99, sv_total; };

/* The kernel's floor: bare RECV + SEND(CONTINUE), no decoding, no poll. */
static int bare_loop(int listener, int pidfd)
{
  struct seccomp_notif req;
  struct seccomp_notif_resp resp;
  for (;;) {
    struct pollfd p[2] = { { .fd = listener, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
    if (poll(p, 2, -1) < 0)
      return -1;
    if (p[1].revents)
      return 0;
    memset(&req, 0, sizeof(req));
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
      continue;
    memset(&resp, 0, sizeof(resp));
    resp.id = req.id;
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
  }
}

static int run(long n, int pidns_depth, bool bare, struct result *res)
{
  const char *set[] = { "getppid", NULL };
  struct ward_supervisor_config cfg = { .syscalls = set };
  struct ward_supervisor_prog *prog = NULL;
  ward_error_t err = NULL;
  if (ward_supervisor_build(&cfg, &prog, &err) < 0) {
    fprintf(stderr, "build: %s\n", err->msg);
    return -1;
  }
  int sp[2], pp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 || pipe2(pp, O_CLOEXEC) < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    uint64_t *t = calloc((size_t)n, sizeof(*t));
    struct result r = { 0 };
    timed_loop(t, n);
    r.base_p50 = t[n / 2];
    r.base_p99 = t[n * 99 / 100];
    int listener;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || ward_supervisor_install(prog, &listener, &err) < 0 ||
        ward_send_fd(sp[1], listener) < 0)
      _exit(1);
    close(listener);
    uint64_t t0 = now_ns();
    timed_loop(t, n);
    r.sv_total = now_ns() - t0;
    r.sv_p50 = t[n / 2];
    r.sv_p99 = t[n * 99 / 100];
    if (write(pp[1], &r, sizeof(r)) != sizeof(r))
      _exit(2);
    _exit(0);
  }
  close(sp[1]);
  close(pp[1]);
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  int listener = ward_recv_fd(sp[0]);
  if (bare) {
    if (listener < 0 || bare_loop(listener, pidfd) < 0)
      return -1;
    close(listener);
  } else {
    struct ward_supervisor_options o = { .pidns_depth = pidns_depth };
    struct ward_supervisor *sv = NULL;
    if (listener < 0 || ward_supervisor_new(listener, &o, &sv, &err) < 0 || ward_supervisor_run(sv, pidfd, &err) < 0) {
      fprintf(stderr, "supervisor: %s\n", err ? err->msg : strerror(-listener));
      return -1;
    }
    ward_supervisor_free(sv);
  }
  int st;
  waitpid(pid, &st, 0);
  ssize_t got = read(pp[0], res, sizeof(*res));
  close(pp[0]);
  close(sp[0]);
  close(pidfd);
  ward_supervisor_prog_free(prog);
  return got == sizeof(*res) ? 0 : -1;
}

int main(int argc, char **argv)
{
  long n = argc > 1 ? atol(argv[1]) : 20000;
  if (n < 100)
    n = 100;
  struct result r;
  static const char *const what[] = {
    "ward_supervisor_run, pids in the container's namespace (NSpid)",
    "ward_supervisor_run, host pids",
    "kernel floor: bare RECV/SEND loop, no decoding",
  };
  for (int mode = 0; mode < 3; mode++) {
    if (run(n, mode == 0 ? 0 : -1, mode == 2, &r) < 0)
      return 1;
    printf("supervisor-rtt: %ld getppid calls, %s\n", n, what[mode]);
    printf("  un-notified:  median %.2f us  p99 %.2f us\n", r.base_p50 / 1e3, r.base_p99 / 1e3);
    printf("  notified:     median %.2f us  p99 %.2f us  (%.2f us/call end to end)\n",
           r.sv_p50 / 1e3, r.sv_p99 / 1e3, r.sv_total / 1e3 / n);
    printf("  round trip added: %.2f us (median)\n", ((double)r.sv_p50 - (double)r.base_p50) / 1e3);
  }
  return 0;
}
