/* The wire format between ward (run, sandbox, create, `ward agent status`)
 * and the node agent: one SOCK_SEQPACKET datagram per message, a fixed
 * binary header followed by a JSON body, plus up to WARD_AGENT_MAX_FDS
 * descriptors (SCM_RIGHTS) on a registration.
 *
 *   offset  size  field
 *   0       4     magic "WAGT"
 *   4       2     version (WARD_AGENT_PROTO_VERSION), little endian
 *   6       2     type (enum ward_agent_msg_type)
 *   8       4     body length (must equal datagram length - 16)
 *   12      4     fd count (must equal the descriptors received)
 *   16      ...   JSON object, at most WARD_AGENT_MAX_BODY bytes in a request,
 *                 WARD_AGENT_MAX_REPLY_BODY in a reply (the agent's status)
 *
 * The decoder treats every byte as hostile (the peer may be any process of
 * the agent's uid): sizes, counts, types and every string are checked before
 * anything is used, and an error names the field. docs/agent.md has the
 * fields of each message. */
#ifndef WARD_AGENT_PROTO_H
#define WARD_AGENT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

#define WARD_AGENT_MAGIC "WAGT"
#define WARD_AGENT_PROTO_VERSION 1
#define WARD_AGENT_HDR_SIZE 16
#define WARD_AGENT_MAX_BODY 16384
#define WARD_AGENT_MAX_MSG (WARD_AGENT_HDR_SIZE + WARD_AGENT_MAX_BODY)
/* Fits one datagram in the default socket send buffer (wmem_default). */
#define WARD_AGENT_MAX_REPLY_BODY (160 * 1024)
#define WARD_AGENT_MAX_REPLY_MSG (WARD_AGENT_HDR_SIZE + WARD_AGENT_MAX_REPLY_BODY)
#define WARD_AGENT_MAX_FDS 3
#define WARD_AGENT_APP_MAX 128

enum ward_agent_msg_type {
  WARD_AGENT_REGISTER = 1,   /* client -> agent: a container + fds */
  WARD_AGENT_DEREGISTER = 2, /* client -> agent: {"id"} */
  WARD_AGENT_STATUS = 3,     /* client -> agent: {} or {"id"} */
  WARD_AGENT_REPLY = 64,     /* agent -> client: {"ok":true,...} */
  WARD_AGENT_ERROR = 65,     /* agent -> client: {"error":"..."} */
};

/* The role of each descriptor of a registration, in the order they travel. */
enum ward_agent_fd_role { WARD_AGENT_FD_RING, WARD_AGENT_FD_LISTENER, WARD_AGENT_FD_PIDFD, WARD_AGENT_FD_ROLES };
const char *ward_agent_fd_role_name(enum ward_agent_fd_role r);

/* Policy modes as the registration names them (the engine's policy maps
 * them onto its own enum). */
enum ward_agent_mode { WARD_AGENT_MODE_OFF, WARD_AGENT_MODE_LEARN, WARD_AGENT_MODE_MONITOR, WARD_AGENT_MODE_PROTECT,
                       WARD_AGENT_MODE_COUNT };
const char *ward_agent_mode_name(enum ward_agent_mode m);
int ward_agent_mode_parse(const char *name);  /* -1 when unknown */

struct ward_agent_register {
  char *id;           /* a valid container id */
  char *state_dir;    /* absolute, normalised (no "..", "//", trailing /) */
  char *app;          /* printable, <= WARD_AGENT_APP_MAX; default: the id */
  enum ward_agent_mode mode;
  char *template_path;  /* absolute or NULL */
  char *policy_path;    /* absolute or NULL */
  bool reattach;        /* the client re-registers after an agent restart */
  /* index into the received fds of each role, -1 when not sent */
  int fd_index[WARD_AGENT_FD_ROLES];
};

struct ward_agent_msg {
  enum ward_agent_msg_type type;
  struct ward_agent_register reg;  /* REGISTER */
  char *id;                        /* DEREGISTER, STATUS (NULL: all) */
  void *body;                      /* json_t *: the parsed body (REPLY/ERROR) */
};

/* Decodes one datagram of len bytes that arrived with nfds descriptors.
 * On failure *err names the field; out holds nothing to free. */
int ward_agent_msg_decode(const void *buf, size_t len, size_t nfds, struct ward_agent_msg *out, ward_error_t *err);
void ward_agent_msg_clear(struct ward_agent_msg *m);

/* Encodes header + body (a json_t *, borrowed) into buf; returns the length
 * or -1 when the body is too large for the type (request or reply). */
int ward_agent_msg_encode(enum ward_agent_msg_type type, const void *body, size_t nfds, char *buf, size_t cap,
                          ward_error_t *err);
/* A REGISTER body for r (fd roles from r->fd_index >= 0, in role order). */
void *ward_agent_register_body(const struct ward_agent_register *r);

/* Sends one message with fds (n <= WARD_AGENT_MAX_FDS) and receives one,
 * refusing truncated datagrams and surplus descriptors (closed). */
int ward_agent_send(int sock, enum ward_agent_msg_type type, const void *body, const int *fds, size_t nfds,
                    ward_error_t *err);
/* Returns the datagram length (0: peer closed) and the fds in fds[], *nfds. */
ssize_t ward_agent_recv(int sock, char *buf, size_t cap, int *fds, size_t *nfds, ward_error_t *err);

#endif
