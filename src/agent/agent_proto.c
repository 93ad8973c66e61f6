#include "agent/agent_proto.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *const role_names[] = {"ring", "listener", "pidfd"};
static const char *const mode_names[] = {"off", "learn", "monitor", "protect"};

const char *ward_agent_fd_role_name(enum ward_agent_fd_role r)
{
  return (unsigned) r < WARD_AGENT_FD_ROLES ? role_names[r] : "unknown";
}

const char *ward_agent_mode_name(enum ward_agent_mode m)
{
  return (unsigned) m < WARD_AGENT_MODE_COUNT ? mode_names[m] : "unknown";
}

int ward_agent_mode_parse(const char *name)
{
  for (int m = 0; m < WARD_AGENT_MODE_COUNT; m++)
    if (strcmp(name, mode_names[m]) == 0)
      return m;
  return -1;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t) (p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t) v; p[1] = (uint8_t) (v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t) (v >> (8 * i)); }

/* A path the agent will open as the peer's uid-equivalent: absolute and
 * normalised, so that logs and comparisons mean what they show. */
static bool path_ok(const char *p)
{
  size_t n = strlen(p);
  if (n < 2 || n >= PATH_MAX || p[0] != '/' || p[n - 1] == '/')
    return false;
  for (const char *c = p; *c; c++) {
    if ((unsigned char) *c < 0x20 || *c == 0x7f)
      return false;
    if (c[0] == '/' && (c[1] == '/' || (c[1] == '.' && (c[2] == '/' || c[2] == 0 ||
                                                       (c[2] == '.' && (c[3] == '/' || c[3] == 0))))))
      return false;
  }
  return true;
}

static bool app_ok(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > WARD_AGENT_APP_MAX)
    return false;
  for (const char *c = s; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("._+-:/@", *c)))
      return false;
  return true;
}

/* Only the members a message type knows are accepted: a typo in a client
 * is then an error rather than a silently ignored field. */
static int only_keys(json_t *obj, const char *const *keys, ward_error_t *err)
{
  const char *k;
  json_t *v;
  json_object_foreach(obj, k, v) {
    bool known = false;
    for (size_t i = 0; keys[i]; i++)
      known = known || strcmp(k, keys[i]) == 0;
    if (!known)
      return ward_error(err, 0, "body.%.64s: unknown field", k);
  }
  return 0;
}

static int decode_id(json_t *body, bool required, char **out, ward_error_t *err)
{
  if ((required ? wj_req_string(body, "id", "body", out, err) : wj_opt_string(body, "id", "body", out, err)) < 0)
    return -1;
  if (*out && !ward_valid_id(*out))
    return ward_error(err, 0, "body.id: \"%.64s\" is not a valid container id", *out);
  return 0;
}

static int decode_register(json_t *body, size_t nfds, struct ward_agent_register *r, ward_error_t *err)
{
  static const char *const keys[] = {"id", "state_dir", "app", "mode", "template", "policy", "reattach", "fds", NULL};
  if (only_keys(body, keys, err) < 0 || decode_id(body, true, &r->id, err) < 0)
    return -1;
  if (wj_req_string(body, "state_dir", "body", &r->state_dir, err) < 0)
    return -1;
  if (!path_ok(r->state_dir))
    return ward_error(err, 0, "body.state_dir: not an absolute, normalised path");
  if (wj_opt_string(body, "app", "body", &r->app, err) < 0)
    return -1;
  if (r->app == NULL && (r->app = strdup(r->id)) == NULL)
    return ward_error(err, ENOMEM, "body.app");
  if (!app_ok(r->app))
    return ward_error(err, 0, "body.app: expected 1 to %d characters of [A-Za-z0-9._+-:/@]", WARD_AGENT_APP_MAX);
  _cleanup_free_ char *mode = NULL;
  if (wj_opt_string(body, "mode", "body", &mode, err) < 0)
    return -1;
  r->mode = WARD_AGENT_MODE_OFF;
  if (mode) {
    int m = ward_agent_mode_parse(mode);
    if (m < 0)
      return ward_error(err, 0, "body.mode: \"%.32s\" is not off, learn, monitor or protect", mode);
    r->mode = (enum ward_agent_mode) m;
  }
  if (wj_opt_string(body, "template", "body", &r->template_path, err) < 0
      || wj_opt_string(body, "policy", "body", &r->policy_path, err) < 0
      || wj_opt_bool(body, "reattach", "body", &r->reattach, err) < 0)
    return -1;
  if (r->template_path && !path_ok(r->template_path))
    return ward_error(err, 0, "body.template: not an absolute, normalised path");
  if (r->policy_path && !path_ok(r->policy_path))
    return ward_error(err, 0, "body.policy: not an absolute, normalised path");

  int rc = 0;
  json_t *fds = wj_opt_member(body, "fds", JSON_ARRAY, "body", &rc, err);
  if (rc < 0)
    return -1;
  for (int i = 0; i < WARD_AGENT_FD_ROLES; i++)
    r->fd_index[i] = -1;
  size_t n = fds ? json_array_size(fds) : 0;
  if (n != nfds)
    return ward_error(err, 0, "body.fds: names %zu descriptors but %zu arrived", n, nfds);
  for (size_t i = 0; i < n; i++) {
    const char *name = json_string_value(json_array_get(fds, i));
    if (name == NULL)
      return ward_error(err, 0, "body.fds[%zu]: expected a string", i);
    int role = -1;
    for (int k = 0; k < WARD_AGENT_FD_ROLES; k++)
      if (strcmp(name, role_names[k]) == 0)
        role = k;
    if (role < 0)
      return ward_error(err, 0, "body.fds[%zu]: \"%.32s\" is not ring, listener or pidfd", i, name);
    if (r->fd_index[role] >= 0)
      return ward_error(err, 0, "body.fds[%zu]: %s given twice", i, name);
    r->fd_index[role] = (int) i;
  }
  if (r->fd_index[WARD_AGENT_FD_PIDFD] < 0)
    return ward_error(err, 0, "body.fds: a pidfd of the container's init is required");
  return 0;
}

int ward_agent_msg_decode(const void *buf, size_t len, size_t nfds, struct ward_agent_msg *out, ward_error_t *err)
{
  memset(out, 0, sizeof(*out));
  const uint8_t *p = buf;
  if (len < WARD_AGENT_HDR_SIZE)
    return ward_error(err, 0, "message: %zu bytes, shorter than the %d-byte header", len, WARD_AGENT_HDR_SIZE);
  if (memcmp(p, WARD_AGENT_MAGIC, 4) != 0)
    return ward_error(err, 0, "message: bad magic (not a ward agent client)");
  if (get16(p + 4) != WARD_AGENT_PROTO_VERSION)
    return ward_error(err, 0, "message: protocol version %u, this agent speaks %d", get16(p + 4), WARD_AGENT_PROTO_VERSION);
  uint32_t body_len = get32(p + 8), hdr_fds = get32(p + 12);
  uint16_t type = get16(p + 6);
  size_t max_body = type >= WARD_AGENT_REPLY ? WARD_AGENT_MAX_REPLY_BODY : WARD_AGENT_MAX_BODY;
  if (body_len > max_body || body_len != len - WARD_AGENT_HDR_SIZE)
    return ward_error(err, 0, "message: body length %u does not match the %zu bytes received (at most %zu)", body_len,
                      len - WARD_AGENT_HDR_SIZE, max_body);
  if (hdr_fds != nfds || nfds > WARD_AGENT_MAX_FDS)
    return ward_error(err, 0, "message: header announces %u descriptors, %zu arrived (at most %d)", hdr_fds, nfds,
                      WARD_AGENT_MAX_FDS);
  if (type != WARD_AGENT_REGISTER && nfds)
    return ward_error(err, 0, "message: descriptors on a message of type %u", type);
  /* jansson stops at an embedded NUL only with a flag; refuse them outright */
  if (memchr(p + WARD_AGENT_HDR_SIZE, 0, body_len))
    return ward_error(err, 0, "body: contains a NUL byte");
  json_error_t jerr;
  _cleanup_json_ json_t *body = json_loadb((const char *) p + WARD_AGENT_HDR_SIZE, body_len, JSON_REJECT_DUPLICATES, &jerr);
  if (body == NULL)
    return ward_error(err, 0, "body: line %d column %d: %s", jerr.line, jerr.column, jerr.text);
  if (!json_is_object(body))
    return ward_error(err, 0, "body: expected an object");
  int rc = 0;
  switch (type) {
  case WARD_AGENT_REGISTER:
    rc = decode_register(body, nfds, &out->reg, err);
    break;
  case WARD_AGENT_DEREGISTER:
  case WARD_AGENT_STATUS: {
    static const char *const keys[] = {"id", NULL};
    rc = only_keys(body, keys, err) < 0 ? -1 : decode_id(body, type == WARD_AGENT_DEREGISTER, &out->id, err);
    break;
  }
  case WARD_AGENT_REPLY:
  case WARD_AGENT_ERROR:
    out->body = json_incref(body);
    break;
  default:
    return ward_error(err, 0, "message: unknown type %u", type);
  }
  out->type = (enum ward_agent_msg_type) type;
  if (rc < 0)
    ward_agent_msg_clear(out);
  return rc;
}

void ward_agent_msg_clear(struct ward_agent_msg *m)
{
  free(m->reg.id);
  free(m->reg.state_dir);
  free(m->reg.app);
  free(m->reg.template_path);
  free(m->reg.policy_path);
  free(m->id);
  if (m->body)
    json_decref(m->body);
  memset(m, 0, sizeof(*m));
}

int ward_agent_msg_encode(enum ward_agent_msg_type type, const void *body, size_t nfds, char *buf, size_t cap,
                          ward_error_t *err)
{
  _cleanup_free_ char *text = json_dumps(body ? body : json_object(), JSON_COMPACT | JSON_SORT_KEYS);
  if (text == NULL)
    return ward_error(err, ENOMEM, "agent message");
  size_t n = strlen(text);
  size_t max_body = type >= WARD_AGENT_REPLY ? WARD_AGENT_MAX_REPLY_BODY : WARD_AGENT_MAX_BODY;
  if (n > max_body || WARD_AGENT_HDR_SIZE + n > cap)
    return ward_error(err, EMSGSIZE, "agent message: body of %zu bytes exceeds %zu", n, max_body);
  uint8_t *p = (uint8_t *) buf;
  memcpy(p, WARD_AGENT_MAGIC, 4);
  put16(p + 4, WARD_AGENT_PROTO_VERSION);
  put16(p + 6, (uint16_t) type);
  put32(p + 8, (uint32_t) n);
  put32(p + 12, (uint32_t) nfds);
  memcpy(p + WARD_AGENT_HDR_SIZE, text, n);
  return (int) (WARD_AGENT_HDR_SIZE + n);
}

void *ward_agent_register_body(const struct ward_agent_register *r)
{
  json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", r->id, "state_dir", r->state_dir, "app", r->app ? r->app : r->id,
                        "mode", ward_agent_mode_name(r->mode), "reattach", r->reattach);
  if (b == NULL)
    return NULL;
  if (r->template_path)
    json_object_set_new(b, "template", json_string(r->template_path));
  if (r->policy_path)
    json_object_set_new(b, "policy", json_string(r->policy_path));
  json_t *fds = json_array();
  for (int role = 0; role < WARD_AGENT_FD_ROLES; role++)
    if (r->fd_index[role] >= 0)
      json_array_append_new(fds, json_string(role_names[role]));
  json_object_set_new(b, "fds", fds);
  return b;
}

int ward_agent_send(int sock, enum ward_agent_msg_type type, const void *body, const int *fds, size_t nfds,
                    ward_error_t *err)
{
  if (nfds > WARD_AGENT_MAX_FDS)
    return ward_error(err, EINVAL, "agent message: %zu descriptors", nfds);
  _cleanup_free_ char *buf = malloc(WARD_AGENT_MAX_REPLY_MSG);
  if (buf == NULL)
    return ward_error(err, ENOMEM, "agent message");
  int n = ward_agent_msg_encode(type, body, nfds, buf, WARD_AGENT_MAX_REPLY_MSG, err);
  if (n < 0)
    return -1;
  struct iovec iov = {.iov_base = buf, .iov_len = (size_t) n};
  union {
    char buf[CMSG_SPACE(sizeof(int) * WARD_AGENT_MAX_FDS)];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof(control));
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (nfds) {
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t r;
  do
    r = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return ward_error_sys(err, "agent: send");
  return 0;
}

ssize_t ward_agent_recv(int sock, char *buf, size_t cap, int *fds, size_t *nfds, ward_error_t *err)
{
  *nfds = 0;
  struct iovec iov = {.iov_base = buf, .iov_len = cap};
  /* Room for more descriptors than allowed, so that a surplus is seen (and
   * closed) rather than silently truncated by the kernel. */
  union {
    char buf[CMSG_SPACE(sizeof(int) * (WARD_AGENT_MAX_FDS + 5))];
    struct cmsghdr align;
  } control;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof(control.buf)};
  ssize_t n;
  do
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return ward_error_sys(err, "agent: receive");
  int got[WARD_AGENT_MAX_FDS + 5];
  size_t ngot = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k && ngot < ARRAY_SIZE(got); i++)
      memcpy(&got[ngot++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
  }
  bool bad = (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) || ngot > WARD_AGENT_MAX_FDS;
  if (bad) {
    for (size_t i = 0; i < ngot; i++)
      close(got[i]);
    return ward_error(err, EMSGSIZE, (msg.msg_flags & MSG_TRUNC) ? "agent: message larger than %zu bytes"
                                                              : "agent: too many descriptors (limit %zu)",
                      (msg.msg_flags & MSG_TRUNC) ? cap : (size_t) WARD_AGENT_MAX_FDS);
  }
  memcpy(fds, got, ngot * sizeof(int));
  *nfds = ngot;
  return n;
}
