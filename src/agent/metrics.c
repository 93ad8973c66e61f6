#include "agent/metrics.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct conn {
  int fd;
  uint64_t deadline_ns;
  size_t got;
  char req[WARD_METRICS_REQ_MAX];
  char *resp;        /* NULL while reading the request */
  size_t resp_len, sent;
};

struct ward_metrics_server {
  int listen_fd;
  int ep;
  char *unix_path;
  char address[128];
  ward_metrics_render_fn render;
  void *opaque;
  struct conn *conns[WARD_METRICS_CONN_MAX];
  struct ward_metrics_stats stats;
};

/* Only the request line matters; headers are skipped but must end within
 * the buffer. */
int ward_metrics_parse_request(const char *buf, size_t len)
{
  const char *end = memmem(buf, len, "\r\n\r\n", 4);
  const char *lf_end = memmem(buf, len, "\n\n", 2);
  if (end == NULL && lf_end == NULL)
    return len >= WARD_METRICS_REQ_MAX ? 400 : 0;
  const char *eol = memchr(buf, '\n', len);
  size_t line_len = (size_t) (eol - buf);
  if (line_len && buf[line_len - 1] == '\r')
    line_len--;
  char line[256];
  if (line_len == 0 || line_len >= sizeof(line))
    return 400;
  memcpy(line, buf, line_len);
  line[line_len] = '\0';
  for (size_t i = 0; i < line_len; i++)
    if ((unsigned char) line[i] < 0x20 || (unsigned char) line[i] >= 0x7f)
      return 400;
  char *sp1 = strchr(line, ' ');
  char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
  if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' '))
    return 400;
  *sp1 = *sp2 = '\0';
  const char *method = line, *target = sp1 + 1, *version = sp2 + 1;
  if (strcmp(version, "HTTP/1.0") != 0 && strcmp(version, "HTTP/1.1") != 0)
    return 400;
  if (*method == '\0' || *target != '/')
    return 400;
  if (strcmp(method, "GET") != 0)
    return 405;
  size_t tl = strcspn(target, "?");
  if (tl != strlen("/metrics") || strncmp(target, "/metrics", tl) != 0)
    return 404;
  return 200;
}

static int listen_tcp(struct ward_metrics_server *m, const char *spec, ward_error_t *err)
{
  char host[64];
  const char *colon = strrchr(spec, ':');
  if (colon == NULL || (size_t) (colon - spec) >= sizeof(host))
    return ward_error(err, 0, "--metrics: \"%s\" is not HOST:PORT or unix:PATH", spec);
  memcpy(host, spec, (size_t) (colon - spec));
  host[colon - spec] = '\0';
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end || end == colon + 1 || port < 0 || port > 65535)
    return ward_error(err, 0, "--metrics: \"%s\" is not a port", colon + 1);
  struct sockaddr_storage ss = {0};
  socklen_t len;
  if (strcmp(host, "localhost") == 0)
    strcpy(host, "127.0.0.1");
  size_t hl = strlen(host);
  if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &ss;
    host[hl - 1] = '\0';
    if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
      return ward_error(err, 0, "--metrics: \"%s\" is not an IPv6 address", host + 1);
    if (!IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
      return ward_error(err, 0, "--metrics: %s is not a loopback address (the metrics are not for the network)", host + 1);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t) port);
    len = sizeof(*s6);
  } else {
    struct sockaddr_in *s4 = (struct sockaddr_in *) &ss;
    if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
      return ward_error(err, 0, "--metrics: \"%s\" is not an IPv4 address, [IPv6] or localhost", host);
    if ((ntohl(s4->sin_addr.s_addr) >> 24) != 127)
      return ward_error(err, 0, "--metrics: %s is not a loopback address (the metrics are not for the network)", host);
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t) port);
    len = sizeof(*s4);
  }
  m->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (m->listen_fd < 0)
    return ward_error_sys(err, "--metrics: socket");
  int one = 1;
  setsockopt(m->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(m->listen_fd, (struct sockaddr *) &ss, len) < 0)
    return ward_error_sys(err, "--metrics: bind %s", spec);
  len = sizeof(ss);
  getsockname(m->listen_fd, (struct sockaddr *) &ss, &len);
  char a[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &ss)->sin6_addr, a, sizeof(a));
    snprintf(m->address, sizeof(m->address), "[%s]:%u", a, ntohs(((struct sockaddr_in6 *) &ss)->sin6_port));
  } else {
    inet_ntop(AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, a, sizeof(a));
    snprintf(m->address, sizeof(m->address), "%s:%u", a, ntohs(((struct sockaddr_in *) &ss)->sin_port));
  }
  return 0;
}

static int listen_unix(struct ward_metrics_server *m, const char *path, ward_error_t *err)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (*path != '/' || strlen(path) >= sizeof(sa.sun_path))
    return ward_error(err, 0, "--metrics: unix:%s: expected an absolute path shorter than %zu", path, sizeof(sa.sun_path));
  strcpy(sa.sun_path, path);
  struct stat st;
  if (lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return ward_error(err, EEXIST, "--metrics: %s exists and is not a socket", path);
    unlink(path);
  }
  m->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (m->listen_fd < 0)
    return ward_error_sys(err, "--metrics: socket");
  mode_t old = umask(0177);
  int r = bind(m->listen_fd, (struct sockaddr *) &sa, sizeof(sa));
  umask(old);
  if (r < 0)
    return ward_error_sys(err, "--metrics: bind %s", path);
  if ((m->unix_path = strdup(path)) == NULL)
    return ward_error(err, ENOMEM, "--metrics");
  snprintf(m->address, sizeof(m->address), "unix:%s", path);
  return 0;
}

int ward_metrics_listen(const char *spec, ward_metrics_render_fn render, void *opaque, struct ward_metrics_server **out,
                        ward_error_t *err)
{
  struct ward_metrics_server *m = calloc(1, sizeof(*m));
  if (m == NULL)
    return ward_error(err, ENOMEM, "metrics");
  m->listen_fd = m->ep = -1;
  m->render = render;
  m->opaque = opaque;
  int r = ward_has_prefix(spec, "unix:") ? listen_unix(m, spec + 5, err) : listen_tcp(m, spec, err);
  if (r == 0 && listen(m->listen_fd, 16) < 0)
    r = ward_error_sys(err, "--metrics: listen");
  if (r == 0 && (m->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
    r = ward_error_sys(err, "metrics: epoll");
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (r == 0 && epoll_ctl(m->ep, EPOLL_CTL_ADD, m->listen_fd, &ev) < 0)
    r = ward_error_sys(err, "metrics: epoll");
  if (r < 0) {
    ward_metrics_free(m);
    return -1;
  }
  *out = m;
  return 0;
}

static void conn_close(struct ward_metrics_server *m, int slot)
{
  struct conn *c = m->conns[slot];
  close(c->fd);  /* also leaves the epoll set */
  free(c->resp);
  free(c);
  m->conns[slot] = NULL;
}

void ward_metrics_free(struct ward_metrics_server *m)
{
  if (m == NULL)
    return;
  for (int i = 0; i < WARD_METRICS_CONN_MAX; i++)
    if (m->conns[i])
      conn_close(m, i);
  if (m->listen_fd >= 0)
    close(m->listen_fd);
  if (m->ep >= 0)
    close(m->ep);
  if (m->unix_path)
    unlink(m->unix_path);
  free(m->unix_path);
  free(m);
}

int ward_metrics_fd(const struct ward_metrics_server *m) { return m->ep; }
const char *ward_metrics_address(const struct ward_metrics_server *m) { return m->address; }
void ward_metrics_get_stats(const struct ward_metrics_server *m, struct ward_metrics_stats *out) { *out = m->stats; }

static void respond(struct ward_metrics_server *m, int slot, int status)
{
  struct conn *c = m->conns[slot];
  char *body = NULL;
  size_t body_len = 0;
  const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" : status == 405 ? "Method Not Allowed" : "Bad Request";
  FILE *f = open_memstream(&body, &body_len);
  if (f == NULL) {
    conn_close(m, slot);
    return;
  }
  if (status == 200)
    m->render(m->opaque, f);
  else
    fprintf(f, "%d %s\n", status, reason);
  fclose(f);
  status == 200 ? m->stats.ok++ : m->stats.bad++;
  char *resp = NULL;
  int n = asprintf(&resp, "HTTP/1.0 %d %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", status, reason, body_len, body);
  free(body);
  if (n < 0) {
    conn_close(m, slot);
    return;
  }
  c->resp = resp;
  c->resp_len = (size_t) n;
  struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t) slot + 1};
  epoll_ctl(m->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_read(struct ward_metrics_server *m, int slot)
{
  struct conn *c = m->conns[slot];
  for (;;) {
    ssize_t n = read(c->fd, c->req + c->got, sizeof(c->req) - c->got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    if (n <= 0) {
      conn_close(m, slot);
      return;
    }
    c->got += (size_t) n;
    int status = ward_metrics_parse_request(c->req, c->got);
    if (status) {
      m->stats.requests++;
      respond(m, slot, status);
      return;
    }
  }
}

static void conn_write(struct ward_metrics_server *m, int slot)
{
  struct conn *c = m->conns[slot];
  while (c->sent < c->resp_len) {
    ssize_t n = send(c->fd, c->resp + c->sent, c->resp_len - c->sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    if (n <= 0)
      break;
    c->sent += (size_t) n;
  }
  conn_close(m, slot);
}

static void accept_all(struct ward_metrics_server *m)
{
  for (;;) {
    int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
      return;
    int slot = -1;
    for (int i = 0; i < WARD_METRICS_CONN_MAX && slot < 0; i++)
      if (m->conns[i] == NULL)
        slot = i;
    struct conn *c = slot >= 0 ? calloc(1, sizeof(*c)) : NULL;
    if (c == NULL) {
      /* full: the scraper retries; the loop must not wait for anyone */
      m->stats.refused++;
      close(fd);
      continue;
    }
    c->fd = fd;
    c->deadline_ns = ward_now_ns() + (uint64_t) WARD_METRICS_TIMEOUT_MS * 1000000u;
    m->conns[slot] = c;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t) slot + 1};
    if (epoll_ctl(m->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
      conn_close(m, slot);
  }
}

void ward_metrics_dispatch(struct ward_metrics_server *m)
{
  struct epoll_event evs[16];
  int n = epoll_wait(m->ep, evs, ARRAY_SIZE(evs), 0);
  for (int i = 0; i < n; i++) {
    if (evs[i].data.u64 == 0) {
      accept_all(m);
      continue;
    }
    int slot = (int) evs[i].data.u64 - 1;
    if (slot < 0 || slot >= WARD_METRICS_CONN_MAX || m->conns[slot] == NULL)
      continue;
    if (m->conns[slot]->resp)
      conn_write(m, slot);
    else
      conn_read(m, slot);
  }
  uint64_t now = ward_now_ns();
  for (int i = 0; i < WARD_METRICS_CONN_MAX; i++)
    if (m->conns[i] && now > m->conns[i]->deadline_ns) {
      m->stats.timeouts++;
      conn_close(m, i);
    }
}
