/* Event JSON lines back into events. The input is as hostile as any file a
 * user points us at: every field is type- and range-checked. */
#include "agent/detect_event_json.h"
#include "agent/detect.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "probe/calls.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int int_field(json_t *j, const char *what, const char *key, int64_t lo, int64_t hi, int64_t *out,
                     ward_error_t *err)
{
  json_t *v = json_object_get(j, key);
  if (v == NULL)
    return 0;
  if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
    return ward_error(err, 0, "%s.%s: expected an integer in [%lld, %lld]", what, key, (long long) lo,
                      (long long) hi);
  *out = json_integer_value(v);
  return 0;
}

static int str_field(json_t *j, const char *what, const char *key, char *dst, size_t cap, ward_error_t *err)
{
  json_t *v = json_object_get(j, key);
  if (v == NULL)
    return 0;
  if (!json_is_string(v))
    return ward_error(err, 0, "%s.%s: expected a string", what, key);
  size_t n = json_string_length(v);
  if (n >= cap || memchr(json_string_value(v), 0, n))
    return ward_error(err, 0, "%s.%s: longer than %zu bytes or holding NUL", what, key, cap - 1);
  memcpy(dst, json_string_value(v), n + 1);
  return 0;
}

static unsigned call_number(const char *name)
{
  for (unsigned i = 1; i < WARD_CALL_COUNT; i++) {
    const char *n = ward_probe_call_name(i);
    if (n && strcmp(n, name) == 0)
      return i;
  }
  return 0;
}

int ward_event_from_json(json_t *j, const char *what, struct ward_event *ev, ward_error_t *err)
{
  memset(ev, 0, sizeof(*ev));
  if (!json_is_object(j))
    return ward_error(err, 0, "%s: expected an event object", what);
  json_t *type = json_object_get(j, "type");
  if (!json_is_string(type) || (ev->type = ward_event_type_from_name(json_string_value(type))) == WARD_EV_INVALID)
    return ward_error(err, 0, "%s.type: expected an event type name", what);
  json_t *src = json_object_get(j, "source");
  const char *s = json_is_string(src) ? json_string_value(src) : "probe";
  ev->source = strcmp(s, "supervisor") == 0 ? WARD_SRC_SUPERVISOR : strcmp(s, "runtime") == 0 ? WARD_SRC_RUNTIME
                                                                                               : WARD_SRC_PROBE;
  int64_t v;
  v = 0; if (int_field(j, what, "seq", 0, INT64_MAX, &v, err) < 0) return -1; ev->seq = (uint64_t) v;
  v = 0; if (int_field(j, what, "ts_ns", 0, INT64_MAX, &v, err) < 0) return -1; ev->ts_ns = (uint64_t) v;
  v = 0; if (int_field(j, what, "pid", 0, UINT32_MAX, &v, err) < 0) return -1; ev->pid = (uint32_t) v;
  v = 0; if (int_field(j, what, "tid", 0, UINT32_MAX, &v, err) < 0) return -1; ev->tid = (uint32_t) v;
  v = 0; if (int_field(j, what, "ret", INT64_MIN, INT64_MAX, &v, err) < 0) return -1; ev->ret = v;
  v = 0; if (int_field(j, what, "flags", 0, UINT32_MAX, &v, err) < 0) return -1; ev->flags = (uint32_t) v;
  v = 0; if (int_field(j, what, "mode", 0, UINT32_MAX, &v, err) < 0) return -1; ev->mode = (uint32_t) v;
  v = 0; if (int_field(j, what, "arg", INT64_MIN, INT64_MAX, &v, err) < 0) return -1; ev->arg = v;
  v = 0; if (int_field(j, what, "syscall", -1, 4095, &v, err) < 0) return -1; ev->syscall_nr = (int32_t) v;
  v = 0; if (int_field(j, what, "call_ns", 0, UINT32_MAX, &v, err) < 0) return -1; ev->call_ns = (uint32_t) v;
  if (str_field(j, what, "path", ev->path, sizeof(ev->path), err) < 0 ||
      str_field(j, what, "path2", ev->path2, sizeof(ev->path2), err) < 0)
    return -1;
  json_t *call = json_object_get(j, "call");
  if (call) {
    if (!json_is_string(call))
      return ward_error(err, 0, "%s.call: expected a function name", what);
    ev->call = (uint16_t) call_number(json_string_value(call));   /* unknown: 0, named by type */
  }
  json_t *fam = json_object_get(j, "family");
  if (json_is_string(fam)) {
    const char *f = json_string_value(fam);
    ev->family = strcmp(f, "inet") == 0 ? AF_INET : strcmp(f, "inet6") == 0 ? AF_INET6 : strcmp(f, "unix") == 0 ? AF_UNIX : 0;
    json_t *addr = json_object_get(j, "addr");
    if ((ev->family == AF_INET || ev->family == AF_INET6) && json_is_string(addr) &&
        inet_pton(ev->family, json_string_value(addr), ev->addr) != 1)
      return ward_error(err, 0, "%s.addr: not an %s address", what, f);
    v = 0;
    if (int_field(j, what, "port", 0, 65535, &v, err) < 0)
      return -1;
    ev->port = (uint16_t) v;
  }
  json_t *args = json_object_get(j, "args");
  if (args) {
    if (!json_is_array(args) || json_array_size(args) > 6)
      return ward_error(err, 0, "%s.args: expected at most 6 integers", what);
    for (size_t i = 0; i < json_array_size(args); i++) {
      json_t *a = json_array_get(args, i);
      if (!json_is_integer(a))
        return ward_error(err, 0, "%s.args[%zu]: expected an integer", what, i);
      ev->args[i] = (uint64_t) json_integer_value(a);
    }
  }
  ev->denied = json_is_true(json_object_get(j, "denied"));
  return 0;
}

#define LINE_MAX_BYTES (64u << 10)

int ward_event_read_jsonl(FILE *f, const char *name, ward_event_sink_fn sink, void *opaque, ward_error_t *err)
{
  _cleanup_free_ char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  size_t lineno = 0;
  _cleanup_free_ struct ward_event *ev = malloc(sizeof(*ev));
  if (ev == NULL)
    return ward_error(err, ENOMEM, "%s", name);
  while ((n = getline(&line, &cap, f)) >= 0) {
    lineno++;
    if ((size_t) n > LINE_MAX_BYTES)
      return ward_error(err, 0, "%s:%zu: a line of %zd bytes (at most %u)", name, lineno, n, LINE_MAX_BYTES);
    size_t k = 0;
    while (k < (size_t) n && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r' || line[k] == '\n'))
      k++;
    if (k == (size_t) n)
      continue;
    json_error_t je;
    _cleanup_json_ json_t *j = json_loadb(line, (size_t) n, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL)
      return ward_error(err, 0, "%s:%zu: %s", name, lineno, je.text);
    char what[32];
    snprintf(what, sizeof(what), "event");
    if (ward_event_from_json(j, what, ev, err) < 0)
      return ward_error_prefix(err, "%s:%zu", name, lineno);
    sink(opaque, ev);
  }
  if (ferror(f))
    return ward_error(err, EIO, "%s", name);
  return 0;
}

json_t *ward_detection_to_json(const struct ward_event *ev, const struct ward_detection *d)
{
  return json_pack("{s:s, s:s, s:f, s:s, s:I, s:I, s:s}", "rule", d->rule, "severity",
                   ward_severity_name(d->severity), "score", d->score, "detail", d->detail, "seq",
                   (json_int_t) ev->seq, "pid", (json_int_t) ev->pid, "type", ward_event_type_name(ev->type));
}
