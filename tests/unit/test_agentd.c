/* The agent's wire format, descriptor checks and metrics responder. */
#include "agent/agent_proto.h"
#include "agent/agentd.h"
#include "agent/metrics.h"
#include "common/util.h"
#include "probe/event.h"
#include "runtime/state.h"
#include "common/rundir.h"
#include "tap.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int decode_json(enum ward_agent_msg_type type, json_t *body, size_t nfds, struct ward_agent_msg *m, ward_error_t *err)
{
  static char buf[WARD_AGENT_MAX_REPLY_MSG];
  int n = ward_agent_msg_encode(type, body, nfds, buf, sizeof(buf), err);
  json_decref(body);
  return n < 0 ? -1 : ward_agent_msg_decode(buf, (size_t) n, nfds, m, err);
}

static void expect_refused(enum ward_agent_msg_type type, json_t *body, size_t nfds, const char *needle, const char *what)
{
  struct ward_agent_msg m;
  ward_error_t err = NULL;
  int rc = decode_json(type, body, nfds, &m, &err);
  ok(rc < 0, "%s refused", what);
  contains(err ? err->msg : NULL, needle, "%s: error names it", what);
  ward_error_free(&err);
}

static void test_proto(void)
{
  struct ward_agent_msg m;
  ward_error_t err = NULL;
  struct ward_agent_register r = {.id = "agt-u1", .state_dir = "/run/ward/agt-u1", .app = "nginx", .mode = WARD_AGENT_MODE_PROTECT,
                                  .template_path = "/etc/t.json", .fd_index = {0, -1, 1}};
  json_t *body = ward_agent_register_body(&r);
  int rc = decode_json(WARD_AGENT_REGISTER, body, 2, &m, &err);
  is_int(rc, 0, "a register message round-trips");
  if (rc == 0) {
    is_str(m.reg.id, "agt-u1", "id");
    is_str(m.reg.app, "nginx", "app");
    is_int(m.reg.mode, WARD_AGENT_MODE_PROTECT, "mode");
    is_str(m.reg.template_path, "/etc/t.json", "template");
    is_int(m.reg.fd_index[WARD_AGENT_FD_RING], 0, "ring is fd 0");
    is_int(m.reg.fd_index[WARD_AGENT_FD_LISTENER], -1, "no listener");
    is_int(m.reg.fd_index[WARD_AGENT_FD_PIDFD], 1, "pidfd is fd 1");
    ward_agent_msg_clear(&m);
  }
  expect_refused(WARD_AGENT_REGISTER, json_pack("{s:s, s:s, s:[s]}", "id", "a", "state_dir", "/x/a", "fds", "pidfd"), 2,
                 "2 arrived", "fd count mismatch");
  expect_refused(WARD_AGENT_REGISTER, json_pack("{s:s, s:s, s:[s]}", "id", "a", "state_dir", "/x/../a", "fds", "pidfd"), 1,
                 "state_dir", "a path with ..");
  expect_refused(WARD_AGENT_REGISTER, json_pack("{s:s, s:s, s:[s]}", "id", "../a", "state_dir", "/x/a", "fds", "pidfd"), 1,
                 "body.id", "an id that is a path");
  expect_refused(WARD_AGENT_REGISTER, json_pack("{s:s, s:s, s:[s]}", "id", "a", "state_dir", "/x/a", "fds", "ring"), 1,
                 "pidfd", "a registration without a pidfd");
  expect_refused(WARD_AGENT_REGISTER, json_pack("{s:s, s:s, s:[s,s]}", "id", "a", "state_dir", "/x/a", "fds", "pidfd", "pidfd"),
                 2, "twice", "a role given twice");
  expect_refused(WARD_AGENT_REGISTER, json_pack("{s:s, s:s, s:s, s:[s]}", "id", "a", "state_dir", "/x/a", "mode", "yolo", "fds", "pidfd"),
                 1, "body.mode", "an unknown mode");
  expect_refused(WARD_AGENT_STATUS, json_pack("{s:s, s:i}", "id", "a", "extra", 1), 0, "body.extra", "an unknown field");
  expect_refused(WARD_AGENT_DEREGISTER, json_object(), 0, "body.id", "a deregister without id");
  expect_refused(WARD_AGENT_STATUS, json_object(), 1, "descriptors", "fds on a status request");

  char buf[64] = "WAGT";
  ok(ward_agent_msg_decode(buf, 10, 0, &m, &err) < 0, "a short message is refused");
  ward_error_free(&err);
  memcpy(buf, "WAGT\x01\x00\x03\x00\xff\xff\x00\x00\x00\x00\x00\x00{}", 18);
  ok(ward_agent_msg_decode(buf, 18, 0, &m, &err) < 0, "a body length that lies is refused");
  contains(err ? err->msg : NULL, "body length", "and the error says so");
  ward_error_free(&err);
  memcpy(buf, "WAGT\x02\x00\x03\x00\x02\x00\x00\x00\x00\x00\x00\x00{}", 18);
  ok(ward_agent_msg_decode(buf, 18, 0, &m, &err) < 0, "another protocol version is refused");
  ward_error_free(&err);
}

static void test_fd_kinds(void)
{
  ward_error_t err = NULL;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return;
  ok(ward_agentd_check_fd_kind(p[0], WARD_AGENT_FD_PIDFD, &err) < 0, "a pipe is not a pidfd");
  ward_error_free(&err);
  ok(ward_agentd_check_fd_kind(p[0], WARD_AGENT_FD_LISTENER, &err) < 0, "a pipe is not a notify listener");
  ward_error_free(&err);
  ok(ward_agentd_check_fd_kind(p[0], WARD_AGENT_FD_RING, &err) < 0, "a pipe is not a ring file");
  ward_error_free(&err);
  close(p[0]);
  close(p[1]);
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  int pidfd = (int) syscall(SYS_pidfd_open, child, 0);
  ok(pidfd >= 0 && ward_agentd_check_fd_kind(pidfd, WARD_AGENT_FD_PIDFD, &err) == 0, "a pidfd is a pidfd");
  ward_error_free(&err);
  is_int(ward_agentd_pidfd_pid(pidfd, &err), child, "the pidfd's pid is read from fdinfo");
  ward_error_free(&err);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  ok(ward_agentd_pidfd_pid(pidfd, &err) < 0, "a pidfd of an exited process is refused");
  contains(err ? err->msg : NULL, "exited", "because it exited");
  ward_error_free(&err);
  close(pidfd);
}

/* The checks of a registration against a real process and a state
 * directory written the way the runtime writes it. */
static void test_check_register(void)
{
  ward_error_t err = NULL;
  char root[] = "/tmp/agt-unit.XXXXXX";
  if (mkdtemp(root) == NULL)
    return;
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  pid_t other = fork();
  if (other == 0) {
    pause();
    _exit(0);
  }
  char *dir = NULL;
  ok(ward_state_create_dir(root, "agt-u2", &dir, &err) == 0, "state dir");
  struct ward_state st = {.id = "agt-u2", .dir = dir, .pid = child, .pid_start = ward_proc_start_time(child),
                          .owner = geteuid()};
  ok(ward_state_save(&st, &err) == 0, "state.json");
  int pidfd = (int) syscall(SYS_pidfd_open, child, 0);
  int other_fd = (int) syscall(SYS_pidfd_open, other, 0);
  struct ward_agent_register r = {.id = "agt-u2", .state_dir = dir, .fd_index = {-1, -1, 0}};
  struct ward_agentd_peer me = {.pid = getpid(), .uid = geteuid(), .gid = getegid()};
  pid_t got = 0;
  int fds[1] = {pidfd};
  is_int(ward_agentd_check_register(&r, fds, 1, &me, &got, &err), 0, "the init's own pidfd and state pass");
  if (err)
    tap_diag("  %s", err->msg), ward_error_free(&err);
  is_int(got, child, "and the init's pid is returned");

  fds[0] = other_fd;
  ok(ward_agentd_check_register(&r, fds, 1, &me, &got, &err) < 0, "a pidfd of another process is refused");
  contains(err ? err->msg : NULL, "records the init as", "because the state names another init");
  ward_error_free(&err);

  fds[0] = pidfd;
  struct ward_agentd_peer stranger = {.pid = 1, .uid = 4242, .gid = 4242};
  ok(ward_agentd_check_register(&r, fds, 1, &stranger, &got, &err) < 0, "a peer of another uid is refused");
  contains(err ? err->msg : NULL, "uid", "and the error names the uid");
  ward_error_free(&err);

  struct ward_agent_register wrong = r;
  wrong.id = "agt-u3";
  ok(ward_agentd_check_register(&wrong, fds, 1, &me, &got, &err) < 0, "an id that is not the directory's is refused");
  contains(err ? err->msg : NULL, "does not end in the id", "named");
  ward_error_free(&err);

  /* a ring that is not the container's ring file, and then the ring file */
  char ringdir[512];
  snprintf(ringdir, sizeof(ringdir), "%s/" WARD_RUN_DIR "/" WARD_STATE_PROBE, dir);
  ward_mkdir_p(ringdir, 0700, &err);
  char ringp[600], otherp[600];
  snprintf(ringp, sizeof(ringp), "%s/" WARD_PROBE_RING, ringdir);
  snprintf(otherp, sizeof(otherp), "%s/not-the-ring", ringdir);
  ward_write_file_atomic(ringp, "r", 1, 0600, &err);
  ward_write_file_atomic(otherp, "o", 1, 0600, &err);
  int ring = open(otherp, O_RDONLY | O_CLOEXEC);
  int two[2] = {ring, pidfd};
  struct ward_agent_register with_ring = r;
  with_ring.fd_index[WARD_AGENT_FD_RING] = 0;
  with_ring.fd_index[WARD_AGENT_FD_PIDFD] = 1;
  ok(ward_agentd_check_register(&with_ring, two, 2, &me, &got, &err) < 0, "a ring other than the container's is refused");
  contains(err ? err->msg : NULL, "not the ring at", "named");
  ward_error_free(&err);
  close(ring);
  ring = open(ringp, O_RDONLY | O_CLOEXEC);
  two[0] = ring;
  ok(ward_agentd_check_register(&with_ring, two, 2, &me, &got, &err) == 0, "the container's own ring file is taken");
  if (err)
    tap_diag("%s", err->msg);
  ward_error_free(&err);
  close(ring);

  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  ok(ward_agentd_check_register(&r, fds, 1, &me, &got, &err) < 0, "an exited init is refused");
  ward_error_free(&err);
  kill(other, SIGKILL);
  waitpid(other, NULL, 0);
  close(pidfd);
  close(other_fd);
  ward_remove_tree(root, &err);
  ward_error_free(&err);
  free(dir);
}

static void render(void *opaque, FILE *out)
{
  (*(int *) opaque)++;
  fprintf(out, "test_metric 42\n");
}

static int http(const char *addr, const char *req, char *out, size_t cap)
{
  struct sockaddr_in sa = {.sin_family = AF_INET};
  const char *colon = strrchr(addr, ':');
  sa.sin_port = htons((uint16_t) atoi(colon + 1));
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
    return -1;
  if (write(fd, req, strlen(req)) < 0)
    return -1;
  shutdown(fd, SHUT_WR);
  close(fd);
  (void) out;
  (void) cap;
  return 0;
}

static void test_metrics(void)
{
  is_int(ward_metrics_parse_request("GET /metrics HTTP/1.0\r\n\r\n", 25), 200, "GET /metrics");
  is_int(ward_metrics_parse_request("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", 34), 200, "with a header");
  is_int(ward_metrics_parse_request("GET /metr", 9), 0, "a partial request waits");
  is_int(ward_metrics_parse_request("POST /metrics HTTP/1.0\r\n\r\n", 26), 405, "POST is 405");
  is_int(ward_metrics_parse_request("GET / HTTP/1.0\r\n\r\n", 18), 404, "another path is 404");
  is_int(ward_metrics_parse_request("\x01\x02 x y\r\n\r\n", 10), 400, "garbage is 400");
  static char big[WARD_METRICS_REQ_MAX];
  memset(big, 'A', sizeof(big));
  is_int(ward_metrics_parse_request(big, sizeof(big)), 400, "a full buffer without a request is 400");

  ward_error_t err = NULL;
  struct ward_metrics_server *m = NULL;
  int renders = 0;
  ok(ward_metrics_listen("10.0.0.1:9100", render, &renders, &m, &err) < 0, "a non-loopback address is refused");
  contains(err ? err->msg : NULL, "loopback", "because it is not loopback");
  ward_error_free(&err);
  ok(ward_metrics_listen("0.0.0.0:9100", render, &renders, &m, &err) < 0, "0.0.0.0 is refused");
  ward_error_free(&err);
  ok(ward_metrics_listen("[::]:9100", render, &renders, &m, &err) < 0, "[::] is refused");
  ward_error_free(&err);
  if (ward_metrics_listen("127.0.0.1:0", render, &renders, &m, &err) < 0) {
    ok(0, "listen on 127.0.0.1:0: %s", err->msg);
    ward_error_free(&err);
    return;
  }
  const char *addr = ward_metrics_address(m);
  ok(ward_has_prefix(addr, "127.0.0.1:"), "listens on %s", addr);
  /* a scrape, with the server driven from this thread */
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) atoi(strrchr(addr, ':') + 1))};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int idle = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ok(connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0 && connect(idle, (struct sockaddr *) &sa, sizeof(sa)) == 0,
     "two clients connect");
  const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
  ok(write(fd, req, strlen(req)) == (ssize_t) strlen(req), "one sends a request, the other nothing");
  char resp[4096] = "";
  size_t got = 0;
  for (int i = 0; i < 200; i++) {
    ward_metrics_dispatch(m);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 10) > 0) {
      ssize_t n = read(fd, resp + got, sizeof(resp) - 1 - got);
      if (n <= 0)
        break;
      got += (size_t) n;
    }
  }
  resp[got] = '\0';
  contains(resp, "HTTP/1.0 200 OK", "the scrape gets 200 although another client stalls");
  contains(resp, "test_metric 42", "and the body");
  is_int(renders, 1, "rendered once");
  close(fd);
  http(addr, "BREW /coffee HTCPCP/1.0\r\n\r\n", NULL, 0);
  for (int i = 0; i < 20; i++) {
    ward_metrics_dispatch(m);
    usleep(5000);
  }
  struct ward_metrics_stats st;
  ward_metrics_get_stats(m, &st);
  is_int((long long) st.bad, 1, "a bad request is counted");
  /* the idle client is dropped at its deadline */
  usleep((WARD_METRICS_TIMEOUT_MS + 100) * 1000);
  ward_metrics_dispatch(m);
  ward_metrics_get_stats(m, &st);
  ok(st.timeouts >= 1, "an idle connection times out (%llu)", (unsigned long long) st.timeouts);
  close(idle);
  ward_metrics_free(m);
}

int main(void)
{
  test_proto();
  test_fd_kinds();
  test_check_register();
  test_metrics();
  return tap_done();
}
