/* JSON rendering of events. Field names are an interface (ward events
 * --json, the agent, alert lines): add, never rename. Which generic fields a
 * type carries is fixed per type so consumers can rely on their presence. */
#include "probe/event_json.h"
#include "probe/calls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { F_PATH = 1, F_PATH2 = 2, F_FLAGS = 4, F_MODE = 8, F_ARG = 16, F_ADDR = 32 };

static const unsigned type_fields[WARD_EV_TYPE_COUNT] = {
  [WARD_EV_EXEC] = F_PATH | F_PATH2 | F_FLAGS | F_ARG,
  [WARD_EV_FORK] = F_FLAGS,
  [WARD_EV_CLONE] = F_FLAGS,
  [WARD_EV_SPAWN] = F_PATH | F_PATH2,
  [WARD_EV_SYSTEM] = F_PATH,
  [WARD_EV_OPEN] = F_PATH | F_FLAGS | F_MODE,
  [WARD_EV_UNLINK] = F_PATH | F_FLAGS,
  [WARD_EV_RENAME] = F_PATH | F_PATH2 | F_FLAGS,
  [WARD_EV_CHMOD] = F_PATH | F_MODE | F_FLAGS,
  [WARD_EV_CHOWN] = F_PATH | F_MODE | F_ARG | F_FLAGS,
  [WARD_EV_MKDIR] = F_PATH | F_MODE,
  [WARD_EV_SYMLINK] = F_PATH | F_PATH2,
  [WARD_EV_LINK] = F_PATH | F_PATH2 | F_FLAGS,
  [WARD_EV_TRUNCATE] = F_PATH | F_ARG,
  [WARD_EV_SOCKET] = F_FLAGS | F_MODE | F_ARG,
  [WARD_EV_CONNECT] = F_ARG | F_ADDR,
  [WARD_EV_BIND] = F_ARG | F_ADDR,
  [WARD_EV_LISTEN] = F_ARG | F_FLAGS,
  [WARD_EV_ACCEPT] = F_ARG | F_ADDR | F_FLAGS,
  [WARD_EV_SENDTO] = F_ARG | F_ADDR | F_FLAGS,
  [WARD_EV_MMAP_WX] = F_FLAGS | F_MODE | F_ARG,
  [WARD_EV_MPROTECT_WX] = F_FLAGS | F_ARG,
  [WARD_EV_MEMFD] = F_PATH | F_FLAGS,
  [WARD_EV_SETID] = F_FLAGS | F_MODE | F_ARG,
  [WARD_EV_CAPSET] = F_FLAGS | F_MODE | F_ARG,
  [WARD_EV_PRCTL] = F_FLAGS | F_ARG,
  [WARD_EV_PTRACE] = F_FLAGS | F_ARG,
  [WARD_EV_DLOPEN] = F_PATH | F_FLAGS,
  [WARD_EV_CALL_TIME] = 0,
  [WARD_EV_SYSCALL] = F_PATH,
};

const char *ward_errno_name(int e)
{
  static const struct { int e; const char *n; } names[] = {
    {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {ESRCH, "ESRCH"}, {EINTR, "EINTR"}, {EIO, "EIO"},
    {ENXIO, "ENXIO"}, {E2BIG, "E2BIG"}, {ENOEXEC, "ENOEXEC"}, {EBADF, "EBADF"}, {ECHILD, "ECHILD"},
    {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"}, {EACCES, "EACCES"}, {EFAULT, "EFAULT"}, {EBUSY, "EBUSY"},
    {EEXIST, "EEXIST"}, {EXDEV, "EXDEV"}, {ENODEV, "ENODEV"}, {ENOTDIR, "ENOTDIR"}, {EISDIR, "EISDIR"},
    {EINVAL, "EINVAL"}, {ENFILE, "ENFILE"}, {EMFILE, "EMFILE"}, {ETXTBSY, "ETXTBSY"}, {EFBIG, "EFBIG"},
    {ENOSPC, "ENOSPC"}, {ESPIPE, "ESPIPE"}, {EROFS, "EROFS"}, {EMLINK, "EMLINK"}, {EPIPE, "EPIPE"},
    {ENAMETOOLONG, "ENAMETOOLONG"}, {ENOSYS, "ENOSYS"}, {ENOTEMPTY, "ENOTEMPTY"}, {ELOOP, "ELOOP"},
    {ENOTSOCK, "ENOTSOCK"}, {EDESTADDRREQ, "EDESTADDRREQ"}, {EPROTOTYPE, "EPROTOTYPE"},
    {EPROTONOSUPPORT, "EPROTONOSUPPORT"}, {EOPNOTSUPP, "EOPNOTSUPP"}, {EAFNOSUPPORT, "EAFNOSUPPORT"},
    {EADDRINUSE, "EADDRINUSE"}, {EADDRNOTAVAIL, "EADDRNOTAVAIL"}, {ENETUNREACH, "ENETUNREACH"},
    {ECONNABORTED, "ECONNABORTED"}, {ECONNRESET, "ECONNRESET"}, {EISCONN, "EISCONN"},
    {ENOTCONN, "ENOTCONN"}, {ETIMEDOUT, "ETIMEDOUT"}, {ECONNREFUSED, "ECONNREFUSED"},
    {EHOSTUNREACH, "EHOSTUNREACH"}, {EALREADY, "EALREADY"}, {EINPROGRESS, "EINPROGRESS"},
  };
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (names[i].e == e)
      return names[i].n;
  return NULL;
}

/* json_object_set_new fails only on allocation failure; the caller sees NULL */
#define SET(o, k, v) do { if (json_object_set_new((o), (k), (v)) < 0) ok = false; } while (0)

json_t *ward_event_to_json(const struct ward_event *ev)
{
  json_t *o = json_object();
  if (o == NULL)
    return NULL;
  bool ok = true;
  unsigned type = (unsigned) ev->type < WARD_EV_TYPE_COUNT ? (unsigned) ev->type : 0;
  unsigned f = type_fields[type];
  SET(o, "seq", json_integer((json_int_t) ev->seq));
  SET(o, "ts_ns", json_integer((json_int_t) ev->ts_ns));
  SET(o, "source", json_string(ward_event_source_name(ev->source)));
  SET(o, "type", json_string(ward_event_type_name(ev->type)));
  enum ward_probe_group g = ward_event_group(ev->type);
  if (g < WARD_GROUP_COUNT)
    SET(o, "group", json_string(ward_probe_group_name(g)));
  SET(o, "pid", json_integer(ev->pid));
  SET(o, "tid", json_integer(ev->tid));
  SET(o, "ret", json_integer(ev->ret));
  if (ev->ret < 0 && ev->ret >= -4095) {
    const char *en = ward_errno_name((int) -ev->ret);
    if (en)
      SET(o, "errno", json_string(en));
  }
  const char *cn = ev->call ? ward_probe_call_name(ev->call) : NULL;
  if (cn)
    SET(o, "call", json_string(cn));
  /* a duration only when one was measured: perf times a sample of calls */
  if (ev->call_ns || (ev->rec_flags & WARD_EVENT_F_TIMED))
    SET(o, "call_ns", json_integer(ev->call_ns));
  /* strings from the workload may hold any bytes; jansson wants UTF-8 */
  if (f & F_PATH)
    SET(o, "path", ward_json_bytes(ev->path, sizeof(ev->path)));
  if (f & F_PATH2)
    SET(o, "path2", ward_json_bytes(ev->path2, sizeof(ev->path2)));
  if (f & F_FLAGS)
    SET(o, "flags", json_integer(ev->flags));
  if (f & F_MODE)
    SET(o, "mode", json_integer(ev->mode));
  if (f & F_ARG)
    SET(o, "arg", json_integer(ev->arg));
  if ((f & F_ADDR) && ev->family) {
    SET(o, "family", json_string(ev->family == AF_INET ? "inet" : ev->family == AF_INET6 ? "inet6" :
                                 ev->family == AF_UNIX ? "unix" : "other"));
    char buf[INET6_ADDRSTRLEN] = "";
    if (ev->family == AF_INET || ev->family == AF_INET6) {
      inet_ntop(ev->family, ev->addr, buf, sizeof(buf));
      SET(o, "addr", json_string(buf));
      SET(o, "port", json_integer(ev->port));
    } else if (ev->family == AF_UNIX) {
      SET(o, "addr", ward_json_bytes(ev->path, sizeof(ev->path)));
    }
  }
  if (type == WARD_EV_SYSCALL) {
    SET(o, "syscall", json_integer(ev->syscall_nr));
    json_t *a = json_array();
    for (int i = 0; a && i < 6; i++)
      json_array_append_new(a, json_integer((json_int_t) ev->args[i]));
    SET(o, "args", a ? a : json_null());
  }
  if (ev->rec_flags & (WARD_EVENT_F_TRUNC1 | WARD_EVENT_F_TRUNC2))
    SET(o, "truncated", json_true());
  if (ev->rec_flags & (WARD_EVENT_F_REL1 | WARD_EVENT_F_REL2))
    SET(o, "relative", json_true());
  if (ev->n_stack) {
    json_t *s = json_array();
    for (uint32_t i = 0; s && i < ev->n_stack && i < WARD_EVENT_STACK_MAX; i++) {
      char hex[24];
      snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long) ev->stack[i]);
      json_array_append_new(s, json_string(hex));
    }
    SET(o, "stack", s ? s : json_null());
  }
  if (ev->denied)
    SET(o, "denied", json_true());
  if (ev->rec_flags & WARD_EVENT_F_REDIRECTED) {
    /* honeypot: where the call really went (sink address or decoy file) */
    SET(o, "redirected", json_true());
    SET(o, "redirect", ward_json_bytes(ev->path2, sizeof(ev->path2)));
  }
  if (!ok) {
    json_decref(o);
    return NULL;
  }
  return o;
}
