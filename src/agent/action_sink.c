/* The honeypot sink: where the probes send a honeypot container's outbound
 * connects. A process forked from ward (no exec, so it works from the
 * engine too: between fork and exit it only makes system calls and formats
 * into stack buffers) that joins the container's network namespace,
 * listens on 127.0.0.1 on a free port, drops to nobody, and writes one line
 * per connection, with the first bytes the attacker sent, into
 * state_dir/honeypot.log. It exits when the container's init does (pidfd)
 * or on SIGTERM (resume, kill). */
#include "agent/action_internal.h"

#include "common/cleanup.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SINK_FIRST_BYTES 256
#define SINK_LOG_MAX (8u << 20)   /* then only connections are counted */
#define SINK_READ_MS 1000

static void log_conn(int logfd, int conn, size_t *logged)
{
  struct sockaddr_storage peer, local;
  socklen_t pl = sizeof(peer), ll = sizeof(local);
  char p[INET6_ADDRSTRLEN] = "?", l[INET6_ADDRSTRLEN] = "?";
  unsigned pport = 0, lport = 0;
  if (getpeername(conn, (struct sockaddr *) &peer, &pl) == 0 && peer.ss_family == AF_INET) {
    struct sockaddr_in *s = (struct sockaddr_in *) &peer;
    inet_ntop(AF_INET, &s->sin_addr, p, sizeof(p));
    pport = ntohs(s->sin_port);
  }
  if (getsockname(conn, (struct sockaddr *) &local, &ll) == 0 && local.ss_family == AF_INET) {
    struct sockaddr_in *s = (struct sockaddr_in *) &local;
    inet_ntop(AF_INET, &s->sin_addr, l, sizeof(l));
    lport = ntohs(s->sin_port);
  }
  unsigned char data[SINK_FIRST_BYTES];
  ssize_t n = 0;
  struct pollfd pfd = {.fd = conn, .events = POLLIN};
  if (poll(&pfd, 1, SINK_READ_MS) == 1)
    n = recv(conn, data, sizeof(data), MSG_DONTWAIT);
  if (n < 0)
    n = 0;
  char line[64 + 2 * INET6_ADDRSTRLEN + 4 * SINK_FIRST_BYTES];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int len = snprintf(line, sizeof(line), "%lld.%03ld connect from %s:%u to %s:%u, %zd bytes: ", (long long) ts.tv_sec,
                     ts.tv_nsec / 1000000, p, pport, l, lport, n);
  for (ssize_t i = 0; i < n && len < (int) sizeof(line) - 6; i++) {
    unsigned char c = data[i];
    if (c >= 0x20 && c < 0x7f && c != '\\')
      line[len++] = (char) c;
    else
      len += snprintf(line + len, 5, "\\x%02x", c);
  }
  line[len++] = '\n';
  if (*logged + (size_t) len <= SINK_LOG_MAX && write(logfd, line, (size_t) len) == len)
    *logged += (size_t) len;
}

static void close_others(int a, int b, int c, int d)
{
  int keep[4] = {a, b, c, d};
  for (int i = 0; i < 4; i++)
    for (int j = i + 1; j < 4; j++)
      if (keep[j] < keep[i]) {
        int t = keep[i];
        keep[i] = keep[j];
        keep[j] = t;
      }
  unsigned from = 3;
  for (int i = 0; i < 4; i++) {
    if (keep[i] < 0)
      continue;
    if ((unsigned) keep[i] > from)
      syscall(SYS_close_range, from, (unsigned) keep[i] - 1, 0);
    from = (unsigned) keep[i] + 1;
  }
  syscall(SYS_close_range, from, ~0u, 0);
}

/* The sink itself; never returns. */
struct sink_hello { pid_t pid; uint16_t port; };

static void __attribute__((noreturn)) sink_main(pid_t init, int logfd, int nullfd, int report)
{
  int pidfd = (int) syscall(SYS_pidfd_open, init, 0);
  struct sink_hello port = {getpid(), 0};
  /* decided before joining: unprivileged, joining makes us the container's
   * root inside its user namespace */
  bool host_root = geteuid() == 0;
  if (pidfd < 0 || netns_join(init) != 0)
    _exit(write(report, &port, sizeof(port)) < 0);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t sl = sizeof(sa);
  if (lfd < 0 || bind(lfd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(lfd, 64) < 0 ||
      getsockname(lfd, (struct sockaddr *) &sa, &sl) < 0)
    _exit(write(report, &port, sizeof(port)) < 0);
  /* keep nothing: host root becomes nobody; unprivileged, the one mapped
   * uid cannot be left, so every capability goes instead */
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct none[2] = {{0}};
  if (host_root ? (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                : syscall(SYS_capset, &hdr, none) < 0)
    _exit(write(report, &port, sizeof(port)) < 0);
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  prctl(PR_SET_NAME, "ward-sink", 0, 0, 0);
  dup2(nullfd, 0);
  dup2(nullfd, 1);
  dup2(nullfd, 2);
  port.port = ntohs(sa.sin_port);
  if (write(report, &port, sizeof(port)) != sizeof(port))
    _exit(1);
  close(report);
  close(nullfd);
  close_others(logfd, pidfd, lfd, -1);
  size_t logged = 0;
  for (;;) {
    struct pollfd pfd[2] = {{.fd = lfd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
    if (poll(pfd, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      _exit(1);
    }
    if (pfd[1].revents)
      _exit(0);
    int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0)
      continue;
    log_conn(logfd, conn, &logged);
    close(conn);
  }
}

int sink_start(const struct ward_state *st, json_t **layer, uint16_t *port, ward_error_t *err)
{
  _cleanup_free_ char *log = ward_state_path(st, WARD_HONEYPOT_LOG);
  if (log == NULL)
    return ward_error(err, ENOMEM, "sink");
  _cleanup_close_ int logfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (logfd < 0)
    return ward_error_sys(err, "%s", log);
  _cleanup_close_ int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
  int pfd[2];
  if (nullfd < 0 || pipe2(pfd, O_CLOEXEC) < 0)
    return ward_error_sys(err, "sink pipe");
  _cleanup_close_ int rd = pfd[0], wr = pfd[1];
  pid_t child = fork();
  if (child < 0)
    return ward_error_sys(err, "fork");
  if (child == 0) {
    /* detach: a session of its own, reparented when the middle exits */
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_IGN);
    setsid();
    pid_t gc = fork();
    if (gc < 0)
      _exit(1);
    if (gc == 0) {
      close(rd);
      sink_main(st->pid, logfd, nullfd, wr);
    }
    _exit(0);
  }
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR)
    ;
  close(wr);
  wr = -1;
  struct sink_hello h = {0};
  ssize_t n = read(rd, &h, sizeof(h));
  uint16_t p = h.port;
  pid_t sink_pid = h.pid;
  if (n != sizeof(h) || p == 0)
    return ward_error(err, 0, "the honeypot sink could not listen in the container's network namespace");
  if (sink_pid <= 0)
    return ward_error(err, 0, "the honeypot sink did not report its pid");
  *port = p;
  *layer = json_pack("{s:s, s:i, s:I, s:i, s:s}", "layer", "sink", "pid", (int) sink_pid, "start",
                     (json_int_t) ward_proc_start_time(sink_pid), "port", (int) p, "log", log);
  return *layer ? 0 : ward_error(err, ENOMEM, "sink");
}

bool sink_alive(json_t *layer)
{
  pid_t pid = (pid_t) json_integer_value(json_object_get(layer, "pid"));
  uint64_t start = (uint64_t) json_integer_value(json_object_get(layer, "start"));
  return pid > 0 && start != 0 && ward_proc_start_time(pid) == start;
}

int sink_stop(json_t *layer, ward_error_t *err)
{
  pid_t pid = (pid_t) json_integer_value(json_object_get(layer, "pid"));
  if (!sink_alive(layer))
    return 0;
  if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
    return ward_error_sys(err, "stop the honeypot sink (pid %d)", (int) pid);
  for (int i = 0; i < 500 && sink_alive(layer); i++)
    usleep(2000);
  /* a zombie waiting for its reaper has stopped listening */
  return 0;
}
