/* Offline learning: `ward events --json` lines back into struct ward_event
 * (the inverse of probe/event_json.c). Fields that later versions add are
 * ignored; fields this version knows must have the right type. */
#include "agent/template_internal.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "probe/calls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static int get_int(json_t *o, const char *key, int64_t *out, ward_error_t *err)
{
  json_t *v = json_object_get(o, key);
  if (v == NULL)
    return 0;
  if (!json_is_integer(v))
    return ward_error(err, 0, "%s: expected an integer", key);
  *out = json_integer_value(v);
  return 0;
}

static int get_str(json_t *o, const char *key, char *buf, size_t len, ward_error_t *err)
{
  json_t *v = json_object_get(o, key);
  if (v == NULL)
    return 0;
  if (!json_is_string(v))
    return ward_error(err, 0, "%s: expected a string", key);
  const char *s = json_string_value(v);
  if (json_string_length(v) != strlen(s))
    return ward_error(err, 0, "%s: NUL byte in the string", key);
  snprintf(buf, len, "%s", s);
  return 0;
}

int ward_template_event_from_json(json_t *o, struct ward_event *ev, ward_error_t *err)
{
  memset(ev, 0, sizeof(*ev));
  if (!json_is_object(o))
    return ward_error(err, 0, "expected an event object");
  char type[64] = "", source[32] = "", call[64] = "", family[16] = "", addr[WARD_EVENT_STR_MAX] = "";
  if (get_str(o, "type", type, sizeof(type), err) < 0 || get_str(o, "source", source, sizeof(source), err) < 0 ||
      get_str(o, "call", call, sizeof(call), err) < 0 || get_str(o, "family", family, sizeof(family), err) < 0 ||
      get_str(o, "addr", addr, sizeof(addr), err) < 0 ||
      get_str(o, "path", ev->path, sizeof(ev->path), err) < 0 ||
      get_str(o, "path2", ev->path2, sizeof(ev->path2), err) < 0)
    return -1;
  ev->type = ward_event_type_from_name(type);
  if (ev->type == WARD_EV_INVALID)
    return ward_error(err, 0, "type: unknown event type \"%s\"", type);
  ev->source = strcmp(source, "supervisor") == 0 ? WARD_SRC_SUPERVISOR
             : strcmp(source, "runtime") == 0    ? WARD_SRC_RUNTIME
                                                 : WARD_SRC_PROBE;
  int64_t seq = 0, ts = 0, pid = 0, tid = 0, ret = 0, flags = 0, mode = 0, arg = 0, port = 0, nr = 0;
  if (get_int(o, "seq", &seq, err) < 0 || get_int(o, "ts_ns", &ts, err) < 0 || get_int(o, "pid", &pid, err) < 0 ||
      get_int(o, "tid", &tid, err) < 0 || get_int(o, "ret", &ret, err) < 0 ||
      get_int(o, "flags", &flags, err) < 0 || get_int(o, "mode", &mode, err) < 0 ||
      get_int(o, "arg", &arg, err) < 0 || get_int(o, "port", &port, err) < 0 ||
      get_int(o, "syscall", &nr, err) < 0)
    return -1;
  if (pid < 0 || pid > UINT32_MAX || tid < 0 || tid > UINT32_MAX)
    return ward_error(err, 0, "pid: out of range");
  if (port < 0 || port > 65535)
    return ward_error(err, 0, "port: out of range");
  ev->seq = (uint64_t) seq;
  ev->ts_ns = (uint64_t) ts;
  ev->pid = (uint32_t) pid;
  ev->tid = (uint32_t) tid;
  ev->ret = ret;
  ev->flags = (uint32_t) flags;
  ev->mode = (uint32_t) mode;
  ev->arg = arg;
  ev->syscall_nr = (int32_t) nr;
  if (call[0]) {
    for (unsigned c = 1; c < WARD_CALL_COUNT; c++)
      if (strcmp(ward_probe_call_name(c), call) == 0)
        ev->call = (uint16_t) c;
  }
  if (family[0]) {
    if (strcmp(family, "inet") == 0) {
      ev->family = AF_INET;
      if (inet_pton(AF_INET, addr, ev->addr) != 1)
        return ward_error(err, 0, "addr: \"%s\" is not an IPv4 address", addr);
    } else if (strcmp(family, "inet6") == 0) {
      ev->family = AF_INET6;
      if (inet_pton(AF_INET6, addr, ev->addr) != 1)
        return ward_error(err, 0, "addr: \"%s\" is not an IPv6 address", addr);
    } else if (strcmp(family, "unix") == 0) {
      ev->family = AF_UNIX;
      snprintf(ev->path, sizeof(ev->path), "%s", addr);
    }
    ev->port = (uint16_t) port;
  }
  json_t *d = json_object_get(o, "denied");
  ev->denied = d && json_is_true(d);
  if (json_is_true(json_object_get(o, "truncated")))
    ev->rec_flags |= WARD_EVENT_F_TRUNC1;
  if (json_is_true(json_object_get(o, "relative")))
    ev->rec_flags |= WARD_EVENT_F_REL1;
  return 0;
}
