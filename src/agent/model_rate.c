/* The rate model: bursts of exec, connect and file creation in a sliding
 * second, counted in ten 100 ms buckets so that adding an event is O(1). */
#include "agent/model.h"
#include "common/json.h"

#include <fcntl.h>
#include <string.h>

const char *ward_rate_kind_name(enum ward_rate_kind k)
{
  static const char *const names[] = {"exec", "connect", "file_create"};
  return (unsigned) k < WARD_RATE_COUNT ? names[k] : "unknown";
}

int ward_rate_classify(const struct ward_event *ev)
{
  switch (ev->type) {
  case WARD_EV_EXEC:
    /* a failed exec is recorded twice (attempt, then -errno): count the attempt */
    return ev->ret == 0 ? WARD_RATE_EXEC : -1;
  case WARD_EV_SPAWN: case WARD_EV_SYSTEM:
    return WARD_RATE_EXEC;
  case WARD_EV_CONNECT:
    return WARD_RATE_CONNECT;
  case WARD_EV_OPEN:
    return (ev->flags & O_CREAT) ? WARD_RATE_FILE_CREATE : -1;
  case WARD_EV_MKDIR: case WARD_EV_SYMLINK: case WARD_EV_LINK:
    return WARD_RATE_FILE_CREATE;
  default:
    return -1;
  }
}

uint32_t ward_rate_add(struct ward_rate_model *r, enum ward_rate_kind k, uint64_t ts_ns)
{
  if (ts_ns >= r->bucket_start + WARD_RATE_BUCKET_NS) {
    uint64_t steps = (ts_ns - r->bucket_start) / WARD_RATE_BUCKET_NS;
    if (r->bucket_start == 0 || steps >= WARD_RATE_BUCKETS) {
      memset(r->bucket, 0, sizeof(r->bucket));
      memset(r->sum, 0, sizeof(r->sum));
      r->bucket_start = ts_ns - ts_ns % WARD_RATE_BUCKET_NS;
    } else {
      for (uint64_t s = 0; s < steps; s++) {
        r->cur = (r->cur + 1) % WARD_RATE_BUCKETS;
        for (int i = 0; i < WARD_RATE_COUNT; i++) {
          r->sum[i] -= r->bucket[i][r->cur];
          r->bucket[i][r->cur] = 0;
        }
      }
      r->bucket_start += steps * WARD_RATE_BUCKET_NS;
    }
  }
  /* events from another clock domain or reordered: count them in the current bucket */
  r->bucket[k][r->cur]++;
  return ++r->sum[k];
}

void ward_rate_calibrate(struct ward_rate_model *r)
{
  for (int i = 0; i < WARD_RATE_COUNT; i++) {
    uint32_t m = r->learned_max[i];
    r->threshold[i] = m * 2 > m + 8 ? m * 2 : m + 8;
  }
  r->trained = true;
}

json_t *ward_rate_to_json(const struct ward_rate_model *r)
{
  json_t *o = json_pack("{s:s, s:i, s:i}", "kind", "ward-rate", "version", 1, "window_ms", 1000);
  for (int i = 0; o && i < WARD_RATE_COUNT; i++) {
    json_t *k = json_pack("{s:I, s:I}", "max", (json_int_t) r->learned_max[i], "threshold",
                          (json_int_t) r->threshold[i]);
    if (k == NULL || json_object_set_new(o, ward_rate_kind_name((enum ward_rate_kind) i), k) < 0) {
      json_decref(o);
      return NULL;
    }
  }
  return o;
}

int ward_rate_from_json(json_t *j, const char *path, struct ward_rate_model *r, ward_error_t *err)
{
  memset(r, 0, sizeof(*r));
  if (!json_is_object(j))
    return ward_error(err, 0, "%s: expected an object", path);
  json_t *kind = json_object_get(j, "kind");
  if (!json_is_string(kind) || strcmp(json_string_value(kind), "ward-rate") != 0)
    return ward_error(err, 0, "%s.kind: expected \"ward-rate\"", path);
  for (int i = 0; i < WARD_RATE_COUNT; i++) {
    const char *name = ward_rate_kind_name((enum ward_rate_kind) i);
    json_t *k = json_object_get(j, name);
    if (k == NULL)
      continue;
    json_t *mx = json_object_get(k, "max"), *th = json_object_get(k, "threshold");
    if (!json_is_integer(mx) || !json_is_integer(th) || json_integer_value(mx) < 0 ||
        json_integer_value(mx) > 10000000 || json_integer_value(th) < 0 || json_integer_value(th) > 10000000)
      return ward_error(err, 0, "%s.%s: expected {\"max\": N, \"threshold\": N} with 0 <= N <= 10000000", path,
                        name);
    r->learned_max[i] = (uint32_t) json_integer_value(mx);
    r->threshold[i] = (uint32_t) json_integer_value(th);
  }
  r->trained = true;
  return 0;
}
