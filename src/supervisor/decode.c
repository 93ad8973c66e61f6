#include "supervisor/decode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

#define SV_PAGE 4096u
#define SV_MAX_IOV 16

size_t sv_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
  if (!addr || !len)
    return 0;
  if (len > SV_MAX_IOV * SV_PAGE - SV_PAGE)
    len = SV_MAX_IOV * SV_PAGE - SV_PAGE;
  if (addr + len < addr)  /* wraps around the address space */
    len = (size_t)(UINT64_MAX - addr) + 1;
  /* One remote iovec per page: process_vm_readv stops at the first iovec
   * that faults, so page-sized pieces give us everything up to the hole
   * instead of nothing for a string that ends right before an unmapped
   * page. */
  struct iovec local = { .iov_base = buf, .iov_len = len };
  struct iovec remote[SV_MAX_IOV];
  unsigned n = 0;
  uint64_t a = addr;
  size_t left = len;
  while (left && n < SV_MAX_IOV) {
    size_t chunk = SV_PAGE - (size_t)(a % SV_PAGE);
    if (chunk > left)
      chunk = left;
    remote[n].iov_base = (void *)(uintptr_t)a;
    remote[n].iov_len = chunk;
    n++;
    a += chunk;
    left -= chunk;
  }
  ssize_t r = process_vm_readv(pid, &local, 1, remote, n, 0);
  return r > 0 ? (size_t)r : 0;
}

ssize_t sv_read_string(pid_t pid, uint64_t addr, char *buf, size_t cap, bool *truncated)
{
  if (truncated)
    *truncated = false;
  buf[0] = '\0';
  if (!addr || cap < 2)
    return -1;
  size_t got = sv_read_mem(pid, addr, buf, cap - 1);
  if (!got)
    return -1;
  char *nul = memchr(buf, '\0', got);
  if (nul)
    return nul - buf;
  if (truncated && got == cap - 1)
    *truncated = true;
  buf[got] = '\0';
  return (ssize_t)got;
}

ssize_t sv_read_argv(pid_t pid, uint64_t addr, unsigned word, unsigned max_args, char *buf, size_t cap)
{
  buf[0] = '\0';
  if (!addr || cap < 2)
    return -1;
  if (max_args > 64)
    max_args = 64;
  unsigned char ptrs[64 * 8];
  size_t got = sv_read_mem(pid, addr, ptrs, (size_t)max_args * word);
  if (got < word)
    return -1;
  size_t len = 0;
  for (size_t i = 0; i + word <= got; i += word) {
    uint64_t p = 0;
    if (word == 4) {
      uint32_t p32;
      memcpy(&p32, ptrs + i, 4);
      p = p32;
    } else {
      memcpy(&p, ptrs + i, 8);
    }
    if (!p)
      break;
    size_t start = len;
    if (len && len + 2 < cap)
      buf[len++] = ' ';
    if (len + 1 >= cap)
      break;
    ssize_t n = sv_read_string(pid, p, buf + len, cap - len, NULL);
    if (n < 0) {
      /* keep what we have; an unreadable element ends the summary */
      len = start;
      break;
    }
    len += (size_t)n;
  }
  buf[len] = '\0';
  return (ssize_t)len;
}

int sv_read_sockaddr(pid_t pid, uint64_t addr, uint64_t addrlen, struct ward_event *ev)
{
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof(ss));
  if (!addr || addrlen < sizeof(sa_family_t))
    return -1;
  size_t want = addrlen > sizeof(ss) ? sizeof(ss) : (size_t)addrlen;
  size_t got = sv_read_mem(pid, addr, &ss, want);
  if (got < sizeof(sa_family_t))
    return -1;
  ev->family = ss.ss_family;
  ev->mode = ss.ss_family;
  switch (ss.ss_family) {
  case AF_INET: {
    struct sockaddr_in sin;
    if (got < sizeof(sin))
      return -1;
    memcpy(&sin, &ss, sizeof(sin));
    ev->port = ntohs(sin.sin_port);
    memcpy(ev->addr, &sin.sin_addr, 4);
    return 0;
  }
  case AF_INET6: {
    struct sockaddr_in6 sin6;
    if (got < sizeof(sin6))
      return -1;
    memcpy(&sin6, &ss, sizeof(sin6));
    ev->port = ntohs(sin6.sin6_port);
    memcpy(ev->addr, &sin6.sin6_addr, 16);
    return 0;
  }
  case AF_UNIX: {
    struct sockaddr_un sun;
    memcpy(&sun, &ss, sizeof(sun));
    size_t plen = got - offsetof(struct sockaddr_un, sun_path);
    if (plen > sizeof(sun.sun_path))
      plen = sizeof(sun.sun_path);
    if (plen == 0)        /* unnamed (autobind) */
      return 0;
    if (sun.sun_path[0] == '\0') {
      /* abstract: NULs are part of the name; show it as ss(8) does */
      ev->path[0] = '@';
      size_t k = 1;
      for (size_t i = 1; i < plen && k + 1 < sizeof(ev->path); i++)
        ev->path[k++] = sun.sun_path[i] ? sun.sun_path[i] : '@';
      ev->path[k] = '\0';
    } else {
      size_t k = strnlen(sun.sun_path, plen);
      memcpy(ev->path, sun.sun_path, k);
      ev->path[k] = '\0';
    }
    return 0;
  }
  default:
    return 0;  /* family recorded, nothing more to decode */
  }
}

ssize_t sv_fd_path(int proc_fd, pid_t pid, int fd, char *buf, size_t cap)
{
  char name[64];
  if (fd == AT_FDCWD)
    snprintf(name, sizeof(name), "%d/cwd", (int)pid);
  else if (fd >= 0)
    snprintf(name, sizeof(name), "%d/fd/%d", (int)pid, fd);
  else
    return -1;
  ssize_t n = readlinkat(proc_fd, name, buf, cap - 1);
  if (n < 0) {
    buf[0] = '\0';
    return -1;
  }
  buf[n] = '\0';
  return n;
}

int sv_task_ids(int proc_fd, pid_t tid, int depth, pid_t *host_tgid, uint32_t *ns_tid, uint32_t *ns_tgid)
{
  char name[48];
  snprintf(name, sizeof(name), "%d/status", (int)tid);
  _cleanup_close_ int fd = openat(proc_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return -1;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  uint32_t tgid;
  /* "\nTgid:" so that "NStgid:" is not taken for it */
  if (ward_status_ns_id(buf, "\nTgid:", 0, &tgid) < 0)
    return -1;
  *host_tgid = (pid_t)tgid;
  if (ward_status_ns_id(buf, "\nNSpid:", depth, ns_tid) < 0)
    *ns_tid = (uint32_t)tid;
  if (ward_status_ns_id(buf, "\nNStgid:", depth, ns_tgid) < 0)
    *ns_tgid = tgid;
  return 0;
}
