/* Passing one file descriptor over a unix socket with SCM_RIGHTS: the init
 * hands the seccomp listener to the runtime, the runtime hands listener,
 * ring and pidfd to the agent. */
#ifndef WARD_FDPASS_H
#define WARD_FDPASS_H

/* Sends fd with a one-byte payload. Returns 0 or -errno. Allocates nothing,
 * so the container's init may use it between clone and exec. */
int ward_send_fd(int sock, int fd);
/* Receives one fd (close-on-exec). Returns the fd or -errno: -EPIPE when the
 * peer closed without sending, -EBADMSG when the message carried no fd or
 * more than one (every fd that did arrive is closed, so a hostile peer
 * cannot make us leak descriptors). */
int ward_recv_fd(int sock);

#endif
