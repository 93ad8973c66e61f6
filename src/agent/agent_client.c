#include "agent/agent_client.h"
#include "agent/agentd.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "runtime/state.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define RECONNECT_MS 100
#define REPLY_TIMEOUT_MS 5000

char *ward_agent_default_socket(const char *root)
{
  _cleanup_free_ char *def = root ? NULL : ward_state_default_root();
  const char *r = root ? root : def;
  char *path = NULL;
  if (r == NULL || asprintf(&path, "%s/" WARD_AGENTD_DIR "/" WARD_AGENTD_SOCK, r) < 0)
    return NULL;
  return path;
}

int ward_agent_socket_path(const char *root, char **out)
{
  const char *env = getenv("WARD_AGENT_SOCKET");
  *out = NULL;
  if (env && strcmp(env, "none") == 0)
    return 0;
  *out = env && *env ? strdup(env) : ward_agent_default_socket(root);
  return *out ? 0 : -1;
}

int ward_agent_connect(const char *path, int *sock, ward_error_t *err)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(sa.sun_path))
    return ward_error(err, ENAMETOOLONG, "agent socket %s", path);
  strcpy(sa.sun_path, path);
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return ward_error_sys(err, "agent socket");
  if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
    if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR)
      return 0;
    return ward_error_sys(err, "connect to the agent at %s", path);
  }
  *sock = steal_fd(&fd);
  return 1;
}

static int ward_agent_call_reply(int sock, json_t **reply, ward_error_t *err);

int ward_agent_call(int sock, enum ward_agent_msg_type type, json_t *body, const int *fds, size_t nfds,
                    json_t **reply, ward_error_t *err)
{
  *reply = NULL;
  if (ward_agent_send(sock, type, body, fds, nfds, err) < 0) {
    /* an agent that refused us has closed already; its reason may wait
     * in our queue: report that rather than the broken pipe */
    if (*err && ((*err)->errnum == EPIPE || (*err)->errnum == ECONNRESET)) {
      ward_error_t first = steal_pointer(err);
      json_t *ignored = NULL;
      if (ward_agent_call_reply(sock, &ignored, err) < 0 && *err) {
        ward_error_free(&first);
        return -1;
      }
      json_decref(ignored);
      *err = first;
    }
    return -1;
  }
  return ward_agent_call_reply(sock, reply, err);
}

static int ward_agent_call_reply(int sock, json_t **reply, ward_error_t *err)
{
  struct pollfd p = {.fd = sock, .events = POLLIN};
  int r;
  do
    r = poll(&p, 1, REPLY_TIMEOUT_MS);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return ward_error(err, ETIMEDOUT, "agent: no reply");
  _cleanup_free_ char *buf = malloc(WARD_AGENT_MAX_REPLY_MSG);
  if (buf == NULL)
    return ward_error(err, ENOMEM, "agent reply");
  int rfds[WARD_AGENT_MAX_FDS];
  size_t nr = 0;
  ssize_t n = ward_agent_recv(sock, buf, WARD_AGENT_MAX_REPLY_MSG, rfds, &nr, err);
  if (n < 0 && *err && (*err)->errnum == ECONNRESET) {
    /* an agent that refuses us sends its reason and closes; if our request
     * was still unread, the reset is reported first and the reason after */
    ward_error_free(err);
    n = ward_agent_recv(sock, buf, WARD_AGENT_MAX_REPLY_MSG, rfds, &nr, err);
  }
  if (n < 0)
    return -1;
  for (size_t i = 0; i < nr; i++)
    close(rfds[i]);
  if (n == 0)
    return ward_error(err, ECONNRESET, "agent: closed the connection without a reply");
  struct ward_agent_msg m;
  if (ward_agent_msg_decode(buf, (size_t) n, nr, &m, err) < 0)
    return ward_error_prefix(err, "agent reply");
  if (m.type == WARD_AGENT_ERROR) {
    const char *text = json_string_value(json_object_get(m.body, "error"));
    ward_error(err, 0, "agent: %s", text ? text : "unspecified error");
    ward_agent_msg_clear(&m);
    return -1;
  }
  if (m.type != WARD_AGENT_REPLY) {
    ward_agent_msg_clear(&m);
    return ward_error(err, 0, "agent reply: unexpected message type %d", (int) m.type);
  }
  *reply = steal_pointer((json_t **) &m.body);
  ward_agent_msg_clear(&m);
  return 0;
}

struct ward_agent_handover {
  char *path;
  struct ward_agent_register reg;
  int fds[WARD_AGENT_FD_ROLES];
  int sock;
  int stop_fd;      /* eventfd: the owner is done */
  pthread_t thread;
  bool thread_running;
};

static int do_register(struct ward_agent_handover *h, ward_error_t *err)
{
  int send_fds[WARD_AGENT_FD_ROLES];
  size_t n = 0;
  for (int role = 0; role < WARD_AGENT_FD_ROLES; role++) {
    h->reg.fd_index[role] = h->fds[role] >= 0 ? (int) n : -1;
    if (h->fds[role] >= 0)
      send_fds[n++] = h->fds[role];
  }
  _cleanup_json_ json_t *body = ward_agent_register_body(&h->reg);
  _cleanup_json_ json_t *reply = NULL;
  if (body == NULL)
    return ward_error(err, ENOMEM, "agent registration");
  return ward_agent_call(h->sock, WARD_AGENT_REGISTER, body, send_fds, n, &reply, err);
}

/* Records who keeps the listener, so that a restarting agent waits for this
 * process to re-register instead of re-attaching without a listener. */
static void write_keeper(const struct ward_agent_handover *h)
{
  char path[4096], text[64];
  snprintf(path, sizeof(path), "%s/" WARD_AGENTD_KEEPER_FILE, h->reg.state_dir);
  int n = snprintf(text, sizeof(text), "%d %llu\n", (int) getpid(), (unsigned long long) ward_proc_start_time(getpid()));
  ward_error_t err = NULL;
  if (ward_write_file_atomic(path, text, (size_t) n, 0600, &err) < 0)
    ward_error_free(&err);
}

/* Waits for the agent to go away, then reconnects and re-registers until it
 * is back, the container is gone, or the owner stops us. */
static void keeper_loop(struct ward_agent_handover *h)
{
  int pidfd = h->fds[WARD_AGENT_FD_PIDFD];
  for (;;) {
    struct pollfd p[3] = {{.fd = h->stop_fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}, {.fd = h->sock, .events = POLLIN}};
    int r = poll(p, h->sock >= 0 ? 3 : 2, h->sock >= 0 ? -1 : RECONNECT_MS);
    if (r < 0 && errno != EINTR)
      return;
    if (p[0].revents || p[1].revents)
      return;
    if (h->sock >= 0 && p[2].revents) {
      /* the agent never sends unasked: anything here is its end closing */
      char c;
      if (recv(h->sock, &c, 1, MSG_DONTWAIT) == 0 || (p[2].revents & (POLLHUP | POLLERR))) {
        close(h->sock);
        h->sock = -1;
        ward_debug("agent went away; re-registering %s when it is back", h->reg.id);
      }
      continue;
    }
    if (h->sock < 0) {
      ward_error_t err = NULL;
      int c = ward_agent_connect(h->path, &h->sock, &err);
      if (c <= 0) {
        ward_error_free(&err);
        continue;
      }
      h->reg.reattach = true;
      if (do_register(h, &err) < 0) {
        ward_warn("re-registering %s with the agent: %s", h->reg.id, err ? err->msg : "?");
        ward_error_free(&err);
        close(h->sock);
        h->sock = -1;
      }
    }
  }
}

static void *keeper_thread(void *opaque)
{
  keeper_loop(opaque);
  return NULL;
}

static void handover_release(struct ward_agent_handover *h)
{
  for (int i = 0; i < WARD_AGENT_FD_ROLES; i++)
    if (h->fds[i] >= 0)
      close(h->fds[i]);
  if (h->sock >= 0)
    close(h->sock);
  if (h->stop_fd >= 0)
    close(h->stop_fd);
  free(h->path);
  free(h->reg.id);
  free(h->reg.state_dir);
  free(h->reg.app);
  free(h->reg.template_path);
  free(h->reg.policy_path);
  free(h);
}

static char *dup_or_null(const char *s, bool *fail)
{
  char *d = s ? strdup(s) : NULL;
  if (s && d == NULL)
    *fail = true;
  return d;
}

int ward_agent_handover(const char *path, const struct ward_agent_register *r, const int fds[WARD_AGENT_FD_ROLES],
                        struct ward_agent_handover **out, ward_error_t *err)
{
  *out = NULL;
  int sock = -1;
  int c = ward_agent_connect(path, &sock, err);
  if (c <= 0)
    return c;
  struct ward_agent_handover *h = calloc(1, sizeof(*h));
  if (h == NULL) {
    close(sock);
    return ward_error(err, ENOMEM, "agent handover");
  }
  h->sock = sock;
  h->stop_fd = -1;
  for (int i = 0; i < WARD_AGENT_FD_ROLES; i++)
    h->fds[i] = -1;
  bool fail = false;
  h->path = dup_or_null(path, &fail);
  h->reg = *r;
  h->reg.id = dup_or_null(r->id, &fail);
  h->reg.state_dir = dup_or_null(r->state_dir, &fail);
  h->reg.app = dup_or_null(r->app, &fail);
  h->reg.template_path = dup_or_null(r->template_path, &fail);
  h->reg.policy_path = dup_or_null(r->policy_path, &fail);
  for (int i = 0; i < WARD_AGENT_FD_ROLES && !fail; i++)
    if (fds[i] >= 0 && (h->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0)
      fail = true;
  if (fail || (h->stop_fd = eventfd(0, EFD_CLOEXEC)) < 0) {
    handover_release(h);
    return ward_error(err, errno ? errno : ENOMEM, "agent handover");
  }
  if (h->fds[WARD_AGENT_FD_PIDFD] < 0) {
    handover_release(h);
    return ward_error(err, EINVAL, "agent handover: no pidfd of the container's init");
  }
  if (do_register(h, err) < 0) {
    handover_release(h);
    return ward_error_prefix(err, "register %s with the agent at %s", r->id, path);
  }
  write_keeper(h);
  if (pthread_create(&h->thread, NULL, keeper_thread, h) != 0) {
    /* registered all the same: the agent holds the fds; only the
     * re-registration after an agent restart is lost */
    ward_warn("agent handover: no keeper thread for %s", r->id);
  } else {
    h->thread_running = true;
  }
  *out = h;
  return 1;
}

void ward_agent_handover_free(struct ward_agent_handover *h)
{
  if (h == NULL)
    return;
  if (h->thread_running) {
    uint64_t one = 1;
    if (write(h->stop_fd, &one, sizeof(one)) < 0)
      ward_debug("agent keeper: stop: %s", strerror(errno));
    pthread_join(h->thread, NULL);
  }
  handover_release(h);
}

/* The keeper must hold nothing of its parent but what it keeps: a state
 * lock or a pipe of the caller's would otherwise live on with it. */
static void close_others(const struct ward_agent_handover *h)
{
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    return;
  int self = dirfd(d);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    char *end;
    long fd = strtol(de->d_name, &end, 10);
    if (*end || end == de->d_name || fd == self || fd <= 2)
      continue;
    bool keep = fd == h->sock || fd == h->stop_fd;
    for (int i = 0; i < WARD_AGENT_FD_ROLES; i++)
      keep = keep || fd == h->fds[i];
    if (!keep)
      close((int) fd);
  }
  closedir(d);
}

int ward_agent_handover_detach(struct ward_agent_handover *h, ward_error_t *err)
{
  /* the keeper is a process of its own: stop the thread first, the fork
   * carries the fds and the connection */
  if (h->thread_running) {
    uint64_t one = 1;
    if (write(h->stop_fd, &one, sizeof(one)) < 0)
      return ward_error_sys(err, "agent keeper");
    pthread_join(h->thread, NULL);
    h->thread_running = false;
    uint64_t v;
    if (read(h->stop_fd, &v, sizeof(v)) < 0)
      return ward_error_sys(err, "agent keeper");
  }
  /* double fork: the keeper is reparented and never a zombie of ours */
  pid_t pid = fork();
  if (pid < 0)
    return ward_error_sys(err, "agent keeper: fork");
  if (pid == 0) {
    setsid();
    if (fork() != 0)
      _exit(0);
    prctl(PR_SET_NAME, "ward-keeper");
    close_others(h);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
      dup2(devnull, 2);
    }
    write_keeper(h);
    keeper_loop(h);
    _exit(0);
  }
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  handover_release(h);
  return 0;
}
