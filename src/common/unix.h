/* Messages over AF_UNIX SOCK_SEQPACKET sockets, optionally carrying one fd
 * (SCM_RIGHTS). Used between ward and a container's init, and to hand a
 * container's ring, listener and pidfd to the agent. */
#ifndef WARD_UNIX_H
#define WARD_UNIX_H

#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

/* Sends type + payload (+ fd when fd >= 0). MSG_NOSIGNAL: a vanished peer is
 * an error, not a SIGPIPE. */
int ward_msg_send(int sock, char type, const void *payload, size_t len, int fd, ward_error_t *err);
/* Receives one message: *type, up to cap-1 bytes of payload (NUL-terminated)
 * and *fd (-1 if none; received fds are O_CLOEXEC). Returns the payload
 * length, or 0 with *type = 0 at end of stream. */
ssize_t ward_msg_recv(int sock, char *type, char *buf, size_t cap, int *fd, ward_error_t *err);

#endif
