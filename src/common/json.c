#include "common/json.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *wj_type_name(json_type type)
{
  switch (type) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: return "an integer";
  case JSON_REAL: return "a number";
  case JSON_TRUE:
  case JSON_FALSE: return "a boolean";
  default: return "null";
  }
}

char *wj_path(const char *base, const char *key)
{
  char *p = NULL;
  if (base == NULL || *base == '\0')
    return strdup(key);
  if (asprintf(&p, "%s.%s", base, key) < 0)
    return NULL;
  return p;
}

char *wj_path_index(const char *base, size_t index)
{
  char *p = NULL;
  if (asprintf(&p, "%s[%zu]", base ? base : "", index) < 0)
    return NULL;
  return p;
}

int wj_load_buffer(const char *what, const char *buf, size_t len, json_t **out, ward_error_t *err)
{
  json_error_t jerr;
  json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
  if (j == NULL)
    return ward_error(err, 0, "%s:%d:%d: invalid JSON: %s", what, jerr.line, jerr.column, jerr.text);
  *out = j;
  return 0;
}

int wj_load_file(const char *path, size_t max_bytes, json_t **out, ward_error_t *err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  if (ward_read_file(path, max_bytes, &buf, &len, err) < 0)
    return -1;
  return wj_load_buffer(path, buf, len, out, err);
}

int wj_expect(json_t *v, json_type type, const char *path, ward_error_t *err)
{
  json_type t = json_typeof(v);
  if (t == type || (type == JSON_TRUE && t == JSON_FALSE) || (type == JSON_FALSE && t == JSON_TRUE))
    return 0;
  return ward_error(err, 0, "%s: expected %s, found %s", path, wj_type_name(type), wj_type_name(t));
}

json_t *wj_opt_member(json_t *obj, const char *key, json_type type, const char *path, int *rc, ward_error_t *err)
{
  *rc = 0;
  json_t *v = obj ? json_object_get(obj, key) : NULL;
  if (v == NULL || json_is_null(v))
    return NULL;
  _cleanup_free_ char *p = wj_path(path, key);
  if (wj_expect(v, type, p, err) < 0) {
    *rc = -1;
    return NULL;
  }
  return v;
}

static int opt_string(json_t *obj, const char *key, const char *path, char **out, bool required, ward_error_t *err)
{
  int rc;
  json_t *v = wj_opt_member(obj, key, JSON_STRING, path, &rc, err);
  if (rc < 0)
    return -1;
  if (v == NULL) {
    if (!required)
      return 0;
    _cleanup_free_ char *p = wj_path(path, key);
    return ward_error(err, 0, "%s: required field is missing", p);
  }
  if (strlen(json_string_value(v)) != json_string_length(v)) {
    _cleanup_free_ char *p = wj_path(path, key);
    return ward_error(err, 0, "%s: string contains a NUL byte", p);
  }
  char *s = strdup(json_string_value(v));
  if (s == NULL)
    return ward_error(err, ENOMEM, "%s", key);
  free(*out);
  *out = s;
  return 0;
}

int wj_opt_string(json_t *obj, const char *key, const char *path, char **out, ward_error_t *err)
{
  return opt_string(obj, key, path, out, false, err);
}

int wj_req_string(json_t *obj, const char *key, const char *path, char **out, ward_error_t *err)
{
  return opt_string(obj, key, path, out, true, err);
}

int wj_opt_bool(json_t *obj, const char *key, const char *path, bool *out, ward_error_t *err)
{
  int rc;
  json_t *v = wj_opt_member(obj, key, JSON_TRUE, path, &rc, err);
  if (v)
    *out = json_is_true(v);
  return rc;
}

int wj_opt_int64(json_t *obj, const char *key, const char *path, int64_t *out, bool *present, ward_error_t *err)
{
  int rc;
  json_t *v = wj_opt_member(obj, key, JSON_INTEGER, path, &rc, err);
  if (present)
    *present = v != NULL;
  if (v)
    *out = json_integer_value(v);
  return rc;
}

int wj_opt_uint64(json_t *obj, const char *key, const char *path, uint64_t *out, bool *present, ward_error_t *err)
{
  int64_t value = 0;
  bool have = false;
  if (wj_opt_int64(obj, key, path, &value, &have, err) < 0)
    return -1;
  if (present)
    *present = have;
  if (!have)
    return 0;
  if (value < 0) {
    _cleanup_free_ char *p = wj_path(path, key);
    return ward_error(err, 0, "%s: expected a non-negative integer, found %lld", p, (long long) value);
  }
  *out = (uint64_t) value;
  return 0;
}

int wj_opt_uint32(json_t *obj, const char *key, const char *path, uint32_t *out, bool *present, ward_error_t *err)
{
  uint64_t value = 0;
  bool have = false;
  if (wj_opt_uint64(obj, key, path, &value, &have, err) < 0)
    return -1;
  if (present)
    *present = have;
  if (!have)
    return 0;
  if (value > UINT32_MAX) {
    _cleanup_free_ char *p = wj_path(path, key);
    return ward_error(err, 0, "%s: %llu is out of range (at most %u)", p, (unsigned long long) value, UINT32_MAX);
  }
  *out = (uint32_t) value;
  return 0;
}

int wj_opt_strv(json_t *obj, const char *key, const char *path, char ***out, size_t *count, ward_error_t *err)
{
  int rc;
  json_t *arr = wj_opt_member(obj, key, JSON_ARRAY, path, &rc, err);
  if (arr == NULL)
    return rc;
  _cleanup_free_ char *p = wj_path(path, key);
  size_t n = json_array_size(arr);
  _cleanup_strv_ char **v = calloc(n + 1, sizeof(char *));
  if (v == NULL)
    return ward_error(err, ENOMEM, "%s", p);
  for (size_t i = 0; i < n; i++) {
    json_t *s = json_array_get(arr, i);
    if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s)) {
      _cleanup_free_ char *ip = wj_path_index(p, i);
      return ward_error(err, 0, "%s: expected a string without NUL bytes, found %s", ip, wj_type_name(json_typeof(s)));
    }
    v[i] = strdup(json_string_value(s));
    if (v[i] == NULL)
      return ward_error(err, ENOMEM, "%s", p);
  }
  ward_strv_free(*out);
  *out = steal_pointer(&v);
  if (count)
    *count = n;
  return 0;
}

bool ward_json_is_utf8(const char *s)
{
  json_t *j = json_string(s);
  json_decref(j);
  return j != NULL;
}

json_t *ward_json_bytes(const char *s, size_t maxlen)
{
  size_t n = strnlen(s, maxlen);
  json_t *j = json_stringn(s, n);
  if (j)
    return j;
  char *buf = malloc(4 * n + 1);
  if (buf == NULL)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char) s[i];
    if (c >= 0x20 && c < 0x7f)
      buf[k++] = (char) c;
    else
      k += (size_t) snprintf(buf + k, 5, "\\x%02x", c);
  }
  j = json_stringn(buf, k);
  free(buf);
  return j;
}
