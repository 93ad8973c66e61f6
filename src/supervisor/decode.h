/* Reading a notified task's arguments from outside: its memory through
 * process_vm_readv, its ids and fds through /proc. Everything read here is
 * hostile input and, for pointer arguments, may change right after. */
#ifndef WARD_SUPERVISOR_DECODE_H
#define WARD_SUPERVISOR_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "probe/event.h"

/* Bytes copied from [addr, addr+len) of pid's memory, stopping at the first
 * unmapped page; 0 when nothing could be read. */
size_t sv_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len);

/* A NUL-terminated string at addr into buf[cap]. Returns its length, or -1
 * when addr is NULL or unreadable. A string longer than cap-1 is truncated
 * and *truncated set; one cut short by an unmapped page is kept as read. */
ssize_t sv_read_string(pid_t pid, uint64_t addr, char *buf, size_t cap, bool *truncated);

/* argv[0..] joined by spaces into buf[cap] (at most max_args strings);
 * word is the pointer size of the calling ABI (4 or 8). -1 if unreadable. */
ssize_t sv_read_argv(pid_t pid, uint64_t addr, unsigned word, unsigned max_args, char *buf, size_t cap);

/* Decodes a struct sockaddr of addrlen bytes at addr into ev (family, port,
 * addr, or the unix path into ev->path). -1 when unreadable. */
int sv_read_sockaddr(pid_t pid, uint64_t addr, uint64_t addrlen, struct ward_event *ev);

/* readlink of /proc/PID/fd/FD (or cwd when fd is AT_FDCWD) into buf. */
ssize_t sv_fd_path(int proc_fd, pid_t pid, int fd, char *buf, size_t cap);

/* From /proc/TID/status: the host tgid, and the tid/tgid in the pid
 * namespace `depth` levels below the reader's (0: innermost). -1 on error
 * (the task is gone). */
int sv_task_ids(int proc_fd, pid_t tid, int depth, pid_t *host_tgid, uint32_t *ns_tid, uint32_t *ns_tgid);

#endif
