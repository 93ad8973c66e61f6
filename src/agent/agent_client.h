/* The client side of `ward agent`: ward run / sandbox / create hand their
 * container over (ring, notify listener, pidfd) when an agent is running,
 * and `ward agent status` queries it.
 *
 * A handover keeps a "keeper": the registering process (a thread of ward
 * run/sandbox while it waits for the container, or a small forked process for
 * a detached container) holds duplicates of the fds and the connection. When
 * the agent goes away it reconnects every 100 ms and re-registers with
 * "reattach": the agent then gets the supervisor listener back, which it
 * could not reopen from the state directory. docs/agent.md has the story. */
#ifndef WARD_AGENT_CLIENT_H
#define WARD_AGENT_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

#include "agent/agent_proto.h"
#include "common/error.h"

/* <root>/.agent/agent.sock; root NULL: the default state root. Caller frees. */
char *ward_agent_default_socket(const char *root);
/* Where a container would be handed over: $WARD_AGENT_SOCKET when set,
 * else ward_agent_default_socket(root). 0 with *out NULL when the
 * variable says "none" (never), 0 with *out set (caller frees), or -1
 * when out of memory. */
int ward_agent_socket_path(const char *root, char **out);

/* 1 connected (*sock set), 0 no agent listening there, -1 another error. */
int ward_agent_connect(const char *path, int *sock, ward_error_t *err);

/* One request, one reply (REPLY body in *reply; an ERROR reply becomes *err
 * with the agent's message). */
int ward_agent_call(int sock, enum ward_agent_msg_type type, json_t *body, const int *fds, size_t nfds,
                    json_t **reply, ward_error_t *err);

struct ward_agent_handover;

/* Registers the container with the agent at path. fds[role] may be -1; they
 * are duplicated (the caller keeps its own). Returns 1 handed over (*out
 * set, keeper thread running), 0 no agent, -1 the agent refused or failed
 * (the error says why). */
int ward_agent_handover(const char *path, const struct ward_agent_register *r, const int fds[WARD_AGENT_FD_ROLES],
                        struct ward_agent_handover **out, ward_error_t *err);
/* Stops the keeper (the container has exited) and frees everything. */
void ward_agent_handover_free(struct ward_agent_handover *h);
/* Detached containers: forks a keeper process that outlives the caller and
 * exits with the container; the caller's handle is freed. */
int ward_agent_handover_detach(struct ward_agent_handover *h, ward_error_t *err);

#endif
