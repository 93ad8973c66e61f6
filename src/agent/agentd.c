/* `ward agent`: the socket, the connections and the engine thread. What a
 * registration must prove is in agentd_check.c, the registry and its
 * replies in agentd_registry.c, re-attaching after a restart in
 * agentd_reattach.c. */
#include "agent/agentd.h"
#include "agent/agentd_internal.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "runtime/state.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CONNS 1024

enum { TAG_LISTEN = 1, TAG_SIGNAL, TAG_METRICS, TAG_CONN_BASE = 16 };

/* Creates the socket's directory 0700 (or checks an existing one is ours
 * and private), takes the directory's lock so that two agents never share
 * one socket, and binds the socket 0600. */
static int open_socket(struct ward_agentd *a, ward_error_t *err)
{
  _cleanup_free_ char *copy = strdup(a->socket_path);
  if (copy == NULL)
    return ward_error(err, ENOMEM, "agent socket");
  const char *dir = dirname(copy);
  if (ward_mkdir_p(dir, 0700, err) < 0)
    return ward_error_prefix(err, "agent socket directory");
  struct stat st;
  if (lstat(dir, &st) < 0)
    return ward_error_sys(err, "%s", dir);
  if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
    return ward_error(err, EPERM, "%s: not a directory owned by uid %u", dir, (unsigned) geteuid());
  if ((st.st_mode & 077) && chmod(dir, 0700) < 0)
    return ward_error_sys(err, "%s: chmod 0700", dir);
  char lock[4096];
  snprintf(lock, sizeof(lock), "%s/agent.lock", dir);
  a->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (a->lock_fd < 0)
    return ward_error_sys(err, "%s", lock);
  if (flock(a->lock_fd, LOCK_EX | LOCK_NB) < 0)
    return ward_error(err, errno == EWOULDBLOCK ? EEXIST : errno, "another agent is running for %s", a->socket_path);

  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(a->socket_path) >= sizeof(sa.sun_path))
    return ward_error(err, ENAMETOOLONG, "agent socket %s", a->socket_path);
  strcpy(sa.sun_path, a->socket_path);
  if (lstat(a->socket_path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return ward_error(err, EEXIST, "%s exists and is not a socket", a->socket_path);
    unlink(a->socket_path);  /* stale: we hold the lock */
  }
  a->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (a->listen_fd < 0)
    return ward_error_sys(err, "agent socket");
  mode_t old = umask(0177);
  int r = bind(a->listen_fd, (struct sockaddr *) &sa, sizeof(sa));
  umask(old);
  if (r < 0)
    return ward_error_sys(err, "bind %s", a->socket_path);
  if (listen(a->listen_fd, 64) < 0)
    return ward_error_sys(err, "listen %s", a->socket_path);
  return 0;
}

static int ep_add(struct ward_agentd *a, int fd, uint64_t tag, ward_error_t *err)
{
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};
  if (epoll_ctl(a->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
    return ward_error_sys(err, "agent: epoll");
  return 0;
}

static void conn_close(struct ward_agentd *a, int slot)
{
  close(a->conns[slot].fd);
  a->conns[slot].fd = -1;
  a->n_conns--;
}

static void accept_conns(struct ward_agentd *a)
{
  for (;;) {
    int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
      return;
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
      ward_warn("agent: refused a connection: no peer credentials: %s", strerror(errno));
      close(fd);
      continue;
    }
    if (cred.uid != geteuid() && cred.uid != 0) {
      a->stats.refused_peers++;
      ward_warn("agent: refused pid %d uid %u: only uid %u and root may use this agent", (int) cred.pid,
                (unsigned) cred.uid, (unsigned) geteuid());
      _cleanup_json_ json_t *b = json_pack("{s:s}", "error", "permission denied: peer uid may not use this agent");
      ward_error_t err = NULL;
      if (ward_agent_send(fd, WARD_AGENT_ERROR, b, NULL, 0, &err) < 0)
        ward_error_free(&err);
      /* what it sent unasked is dropped (descriptors closed) */
      char junk[64];
      while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT | MSG_CMSG_CLOEXEC) > 0)
        ;
      close(fd);
      continue;
    }
    int slot = -1;
    for (int i = 0; i < MAX_CONNS && slot < 0; i++)
      if (a->conns[i].fd < 0)
        slot = i;
    ward_error_t err = NULL;
    if (slot < 0 || ep_add(a, fd, TAG_CONN_BASE + (uint64_t) slot, &err) < 0) {
      ward_error_free(&err);
      ward_warn("agent: refused pid %d: too many connections", (int) cred.pid);
      close(fd);
      continue;
    }
    a->conns[slot] = (struct agentd_conn){.fd = fd, .peer = {.pid = cred.pid, .uid = cred.uid, .gid = cred.gid}};
    a->n_conns++;
  }
}

static void reply_error(int fd, ward_error_t *err)
{
  _cleanup_json_ json_t *b = json_pack("{s:s}", "error", *err && (*err)->msg ? (*err)->msg : "error");
  ward_error_t e2 = NULL;
  if (ward_agent_send(fd, WARD_AGENT_ERROR, b, NULL, 0, &e2) < 0)
    ward_error_free(&e2);
}

/* One datagram from a client. A malformed one ends the connection: a
 * client that speaks garbage gets its error and no second chance. */
static void conn_read(struct ward_agentd *a, int slot)
{
  struct agentd_conn *c = &a->conns[slot];
  int fds[WARD_AGENT_MAX_FDS];
  size_t nfds = 0;
  ward_error_t err = NULL;
  ssize_t n = ward_agent_recv(c->fd, a->buf, WARD_AGENT_MAX_MSG, fds, &nfds, &err);
  if (n < 0 && err && (err->errnum == EAGAIN || err->errnum == EWOULDBLOCK)) {
    ward_error_free(&err);
    return;
  }
  if (n <= 0) {
    if (n < 0) {
      a->stats.bad_messages++;
      ward_warn("agent: pid %d: %s; disconnected", (int) c->peer.pid, err->msg);
      reply_error(c->fd, &err);
      ward_error_free(&err);
    }
    conn_close(a, slot);
    return;
  }
  struct ward_agent_msg m;
  if (ward_agent_msg_decode(a->buf, (size_t) n, nfds, &m, &err) < 0) {
    a->stats.bad_messages++;
    ward_warn("agent: pid %d: bad message: %s; disconnected", (int) c->peer.pid, err->msg);
    reply_error(c->fd, &err);
    ward_error_free(&err);
    for (size_t i = 0; i < nfds; i++)
      close(fds[i]);
    conn_close(a, slot);
    return;
  }
  _cleanup_json_ json_t *reply = NULL;
  int rc;
  switch (m.type) {
  case WARD_AGENT_REGISTER:
    rc = agentd_register(a, &m.reg, fds, nfds, &c->peer, &reply, &err);  /* fds taken over */
    break;
  case WARD_AGENT_DEREGISTER:
    rc = agentd_deregister(a, m.id, &reply, &err);
    break;
  case WARD_AGENT_STATUS:
    rc = agentd_status(a, m.id, &reply, &err);
    break;
  default:
    for (size_t i = 0; i < nfds; i++)
      close(fds[i]);
    rc = ward_error(&err, 0, "message type %d is not a request", (int) m.type);
    break;
  }
  ward_agent_msg_clear(&m);
  if (rc < 0) {
    ward_warn("agent: pid %d: %s", (int) c->peer.pid, err ? err->msg : "error");
    reply_error(c->fd, &err);
    ward_error_free(&err);
    return;
  }
  if (ward_agent_send(c->fd, WARD_AGENT_REPLY, reply, NULL, 0, &err) < 0) {
    ward_error_free(&err);
    conn_close(a, slot);
  }
}

static void *engine_thread(void *opaque)
{
  struct ward_agentd *a = opaque;
  ward_error_t err = NULL;
  if (ward_engine_run(a->engine, a->engine_stop, &err) < 0) {
    ward_warn("agent: engine stopped: %s", err ? err->msg : "?");
    ward_error_free(&err);
    a->engine_failed = true;
  }
  return NULL;
}

static void agentd_free(struct ward_agentd *a)
{
  if (a->metrics)
    ward_metrics_free(a->metrics);
  for (int i = 0; i < MAX_CONNS; i++)
    if (a->conns && a->conns[i].fd >= 0)
      close(a->conns[i].fd);
  free(a->conns);
  if (a->engine)
    ward_engine_free(a->engine);
  if (a->alerts)
    ward_alert_out_free(a->alerts);
  agentd_registry_free(a);
  if (a->listen_fd >= 0) {
    close(a->listen_fd);
    unlink(a->socket_path);
  }
  for (int *fd = (int[]){a->ep, a->sig_fd, a->engine_stop, a->lock_fd, -2}; *fd != -2; fd++)
    if (*fd >= 0)
      close(*fd);
  free(a->socket_path);
  free(a->state_root);
  free(a->buf);
  pthread_mutex_destroy(&a->lock);
}

static int agentd_init(struct ward_agentd *a, const struct ward_agentd_opts *o, ward_error_t *err)
{
  a->listen_fd = a->ep = a->sig_fd = a->engine_stop = a->lock_fd = -1;
  pthread_mutex_init(&a->lock, NULL);
  a->started_ns = ward_now_ns();
  a->started_real_ns = ward_realtime_ns();
  a->max_containers = o->max_containers ? o->max_containers : 4096;
  a->state_root = o->state_root ? strdup(o->state_root) : ward_state_default_root();
  a->conns = calloc(MAX_CONNS, sizeof(*a->conns));
  a->buf = malloc(WARD_AGENT_MAX_MSG);
  if (a->state_root == NULL || a->conns == NULL || a->buf == NULL)
    return ward_error(err, ENOMEM, "agent");
  for (int i = 0; i < MAX_CONNS; i++)
    a->conns[i].fd = -1;
  a->socket_path = o->socket_path ? strdup(o->socket_path) : ward_agent_default_socket(a->state_root);
  if (a->socket_path == NULL)
    return ward_error(err, ENOMEM, "agent");
  if (ward_alert_out_open(o->alerts, NULL, &a->alerts, err) < 0)
    return ward_error_prefix(err, "--alerts");
  struct ward_engine_opts eo = {.alerts = a->alerts, .state_root = a->state_root, .on_exit = agentd_on_exit, .opaque = a,
                                .idle_max_us = WARD_AGENTD_POLL_MAX_US};
  ward_engine_opts_poll_max(&eo, o->poll_max_us);
  if (ward_engine_new(&eo, &a->engine, err) < 0)
    return -1;
  if ((a->engine_stop = eventfd(0, EFD_CLOEXEC)) < 0 || (a->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
    return ward_error_sys(err, "agent");
  if (o->metrics && ward_metrics_listen(o->metrics, agentd_render_metrics, a, &a->metrics, err) < 0)
    return -1;
  if (open_socket(a, err) < 0)
    return -1;
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &mask, NULL);
  signal(SIGPIPE, SIG_IGN);
  if ((a->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
    return ward_error_sys(err, "agent: signalfd");
  if (ep_add(a, a->listen_fd, TAG_LISTEN, err) < 0 || ep_add(a, a->sig_fd, TAG_SIGNAL, err) < 0)
    return -1;
  if (a->metrics && ep_add(a, ward_metrics_fd(a->metrics), TAG_METRICS, err) < 0)
    return -1;
  return 0;
}

int ward_agentd_run(const struct ward_agentd_opts *o, ward_error_t *err)
{
  struct ward_agentd a = {0};
  int rc = agentd_init(&a, o, err);
  /* before anyone can connect: containers a previous agent served come
   * back from their state directories, with their ring backlog */
  if (rc == 0)
    agentd_reattach_all(&a);
  if (rc == 0 && pthread_create(&a.engine_thread, NULL, engine_thread, &a) != 0)
    rc = ward_error(err, EAGAIN, "agent: engine thread");
  if (rc < 0) {
    agentd_free(&a);
    return -1;
  }
  ward_log(WARD_LOG_INFO, "agent: listening on %s%s%s", a.socket_path, a.metrics ? ", metrics on " : "",
           a.metrics ? ward_metrics_address(a.metrics) : "");
  if (o->ready_fd >= 0) {
    char line[512];
    int n = snprintf(line, sizeof(line), "R %s %s\n", a.socket_path, a.metrics ? ward_metrics_address(a.metrics) : "-");
    if (write(o->ready_fd, line, (size_t) n) < 0)
      ward_debug("agent: ready fd: %s", strerror(errno));
  }
  bool stop = false;
  while (!stop && !a.engine_failed) {
    struct epoll_event evs[32];
    int n = epoll_wait(a.ep, evs, ARRAY_SIZE(evs), 500);
    if (n < 0 && errno != EINTR) {
      rc = ward_error_sys(err, "agent: epoll_wait");
      break;
    }
    uint64_t t0 = ward_now_ns();
    for (int i = 0; i < n; i++) {
      uint64_t tag = evs[i].data.u64;
      if (tag == TAG_LISTEN) {
        accept_conns(&a);
      } else if (tag == TAG_SIGNAL) {
        struct signalfd_siginfo si;
        while (read(a.sig_fd, &si, sizeof(si)) == sizeof(si))
          if (si.ssi_signo != SIGHUP)
            stop = true;
      } else if (tag == TAG_METRICS) {
        /* handled below, together with the deadlines */
      } else if (tag >= TAG_CONN_BASE && tag < TAG_CONN_BASE + MAX_CONNS && a.conns[tag - TAG_CONN_BASE].fd >= 0) {
        int slot = (int) (tag - TAG_CONN_BASE);
        if (evs[i].events & EPOLLIN)
          conn_read(&a, slot);
        else if (evs[i].events & (EPOLLHUP | EPOLLERR))
          conn_close(&a, slot);
      }
    }
    if (a.metrics)
      ward_metrics_dispatch(a.metrics);
    if (n > 0)
      agentd_loop_sample(&a, ward_now_ns() - t0);
  }
  ward_log(WARD_LOG_INFO, "agent: stopping; containers keep running under their last enforcement");
  a.stopping = true;
  uint64_t one = 1;
  if (write(a.engine_stop, &one, sizeof(one)) < 0)
    ward_warn("agent: stop engine: %s", strerror(errno));
  pthread_join(a.engine_thread, NULL);
  agentd_free(&a);
  return rc;
}
