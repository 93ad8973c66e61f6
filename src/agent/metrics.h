/* A minimal HTTP/1.0 responder for Prometheus scrapes: GET /metrics on a
 * loopback TCP address or a unix socket, nothing else. It lives in the
 * agent's main loop, so it never blocks: non-blocking sockets, bounded
 * request buffers (WARD_METRICS_REQ_MAX), a bounded number of connections,
 * and a deadline per connection. A request that is not a well-formed GET
 * gets a 400 (405 another method, 404 another path) and is closed. */
#ifndef WARD_METRICS_H
#define WARD_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "common/error.h"

#define WARD_METRICS_REQ_MAX 4096
#define WARD_METRICS_CONN_MAX 32
#define WARD_METRICS_TIMEOUT_MS 2000

struct ward_metrics_server;

/* Writes the exposition text; called once per scrape. */
typedef void (*ward_metrics_render_fn)(void *opaque, FILE *out);

/* spec: "127.0.0.1:PORT", "[::1]:PORT", "localhost:PORT" (loopback only;
 * anything else is refused with an error naming it) or "unix:PATH" (created
 * 0600, an existing socket file replaced). Port 0 picks a free port. */
int ward_metrics_listen(const char *spec, ward_metrics_render_fn render, void *opaque, struct ward_metrics_server **out,
                        ward_error_t *err);
void ward_metrics_free(struct ward_metrics_server *m);
/* An fd (epoll) that is readable whenever the server has work. */
int ward_metrics_fd(const struct ward_metrics_server *m);
/* Does all the work that is ready without blocking, and expires
 * connections past their deadline. */
void ward_metrics_dispatch(struct ward_metrics_server *m);
/* "127.0.0.1:43121" or "unix:/path": where it listens (port 0 resolved). */
const char *ward_metrics_address(const struct ward_metrics_server *m);

struct ward_metrics_stats {
  uint64_t requests, ok, bad, timeouts, refused;
};
void ward_metrics_get_stats(const struct ward_metrics_server *m, struct ward_metrics_stats *out);

/* Parses one request head; returns the HTTP status to answer (200, 400,
 * 404, 405) or 0 when more bytes are needed. Exposed for the fuzzer. */
int ward_metrics_parse_request(const char *buf, size_t len);

#endif
