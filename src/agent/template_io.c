/* Template files: the JSON document (stable order, version 1), validation
 * with errors that name FILE:LINE: FIELD, and loading/saving JSON or YAML. */
#include "agent/template_internal.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEMPLATE_MAX_BYTES (64u << 20)

/* ---- to JSON ---------------------------------------------------------- */

static json_t *set_json(const struct tpl_set *s)
{
  json_t *a = json_array();
  for (size_t i = 0; a && i < s->n; i++)
    json_array_append_new(a, json_string(s->v[i]));
  return a;
}

static json_t *exec_json(const struct ward_template *t)
{
  json_t *a = json_array();
  for (size_t i = 0; a && i < t->exec.n; i++) {
    const char *path = t->exec.v[i];
    size_t plen = strlen(path);
    json_t *e = json_pack("{s:s}", "path", path);
    json_t *h = json_array();
    for (size_t k = 0; e && h && k < t->exec_hash.n; k++) {
      const char *x = t->exec_hash.v[k];
      if (strncmp(x, path, plen) == 0 && x[plen] == '\t')
        json_array_append_new(h, json_string(x + plen + 1));
    }
    if (e && h && json_array_size(h))
      json_object_set(e, "sha256", h);
    if (h)
      json_decref(h);
    json_array_append_new(a, e);
  }
  return a;
}

json_t *ward_template_to_json(const struct ward_template *t)
{
  json_t *o = json_object();
  if (o == NULL)
    return NULL;
  json_object_set_new(o, "version", json_integer(t->version));
  json_object_set_new(o, "app", json_string(t->app));
  json_object_set_new(o, "exec", exec_json(t));
  for (size_t i = 1; i < tpl_n_lists; i++) {
    const struct tpl_list *l = &tpl_lists[i];
    const struct tpl_set *s = tpl_list_cset(t, l);
    if (strcmp(l->section, "deny") == 0 && t->deny_paths.n == 0 && t->deny_connect.n == 0)
      continue;
    if (l->key == NULL) {
      json_object_set_new(o, l->section, set_json(s));
      continue;
    }
    json_t *sec = json_object_get(o, l->section);
    if (sec == NULL) {
      sec = json_object();
      json_object_set_new(o, l->section, sec);
    }
    json_object_set_new(sec, l->key, set_json(s));
  }
  if (t->model)
    json_object_set(o, "model", t->model);
  return o;
}

char *ward_template_to_yaml(const struct ward_template *t)
{
  _cleanup_json_ json_t *doc = ward_template_to_json(t);
  return doc ? tpl_yaml_emit(doc) : NULL;
}

/* ---- from JSON -------------------------------------------------------- */

struct rd {
  const char *name;
  const struct tpl_linemap *map;
  ward_error_t *err;
};

static int fail(const struct rd *r, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(const struct rd *r, const char *path, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  int line = tpl_linemap_find(r->map, strcmp(path, "(top)") == 0 ? "" : path);
  if (line > 0)
    return ward_error(r->err, 0, "%s:%d: %s: %s", r->name, line, path, msg);
  return ward_error(r->err, 0, "%s: %s: %s", r->name, path, msg);
}

static int expect(const struct rd *r, json_t *v, json_type type, const char *path)
{
  if (json_typeof(v) == type)
    return 0;
  return fail(r, path, "expected %s, found %s", wj_type_name(type), wj_type_name(json_typeof(v)));
}

static bool valid_port(const char *s)
{
  if (strcmp(s, "*") == 0)
    return true;
  if (!*s || strlen(s) > 5)
    return false;
  for (const char *p = s; *p; p++)
    if (!isdigit((unsigned char) *p))
      return false;
  return atol(s) <= 65535;
}

/* "inet:ADDR:PORT", "inet6:[ADDR]:PORT", "unix:PATH"; ADDR and PORT may be "*". */
static const char *endpoint_problem(const char *e)
{
  if (strncmp(e, "unix:", 5) == 0)
    return e[5] ? NULL : "unix: needs a path";
  const char *rest;
  if (strncmp(e, "inet:", 5) == 0) {
    rest = strrchr(e + 5, ':');
    if (rest == NULL || rest == e + 5)
      return "expected inet:ADDR:PORT";
  } else if (strncmp(e, "inet6:", 6) == 0) {
    const char *close = strchr(e, ']');
    if (e[6] != '[' || close == NULL || close[1] != ':')
      return "expected inet6:[ADDR]:PORT";
    rest = close + 1;
  } else {
    return "expected inet:ADDR:PORT, inet6:[ADDR]:PORT or unix:PATH";
  }
  return valid_port(rest + 1) ? NULL : "port must be 0-65535 or *";
}

static int read_list(const struct rd *r, json_t *arr, const char *path, const struct tpl_list *l,
                     struct ward_template *t)
{
  if (expect(r, arr, JSON_ARRAY, path) < 0)
    return -1;
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    _cleanup_free_ char *p = wj_path_index(path, i);
    if (p == NULL)
      return ward_error(r->err, ENOMEM, "%s", r->name);
    if (l == &tpl_lists[0] && json_is_object(v)) {
      /* exec entries: {"path": ..., "sha256": [...]} */
      const char *k;
      json_t *x;
      json_object_foreach(v, k, x) {
        if (strcmp(k, "path") && strcmp(k, "sha256")) {
          _cleanup_free_ char *kp = wj_path(p, k);
          return fail(r, kp ? kp : p, "unknown field");
        }
      }
      json_t *pv = json_object_get(v, "path");
      _cleanup_free_ char *pp = wj_path(p, "path");
      if (pv == NULL)
        return fail(r, p, "missing field \"path\"");
      if (expect(r, pv, JSON_STRING, pp) < 0)
        return -1;
      const char *path_s = json_string_value(pv);
      if (path_s[0] != '/')
        return fail(r, pp, "\"%s\" is not an absolute path", path_s);
      json_t *h = json_object_get(v, "sha256");
      _cleanup_free_ char *hp = wj_path(p, "sha256");
      if (h && expect(r, h, JSON_ARRAY, hp) < 0)
        return -1;
      size_t k2;
      json_t *hv;
      if (ward_template_add_exec(t, path_s, NULL) < 0)
        return ward_error(r->err, ENOMEM, "%s", r->name);
      json_array_foreach(h, k2, hv) {
        _cleanup_free_ char *hip = wj_path_index(hp, k2);
        if (expect(r, hv, JSON_STRING, hip) < 0)
          return -1;
        const char *hs = json_string_value(hv);
        bool ok = strlen(hs) == 64;
        for (const char *c = hs; ok && *c; c++)
          ok = isdigit((unsigned char) *c) || (*c >= 'a' && *c <= 'f');
        if (!ok)
          return fail(r, hip, "expected 64 lowercase hex digits");
        if (ward_template_add_exec(t, path_s, hs) < 0)
          return ward_error(r->err, ENOMEM, "%s", r->name);
      }
      continue;
    }
    if (expect(r, v, JSON_STRING, p) < 0)
      return -1;
    const char *s = json_string_value(v);
    if (s[0] == '\0')
      return fail(r, p, "empty entry");
    bool is_path = l == &tpl_lists[0] || strcmp(l->section, "files") == 0 || strcmp(l->section, "deny") == 0;
    if (is_path && strcmp(l->key ? l->key : "", "connect") && s[0] != '/')
      return fail(r, p, "\"%s\" is not an absolute path", s);
    if (strcmp(l->section, "deny") == 0 && strcmp(l->key, "paths") == 0 && strpbrk(s, "*#\\"))
      return fail(r, p, "\"%s\": deny paths are exact paths (the probe compares resolved paths), no patterns", s);
    if (strcmp(l->section, "network") == 0 || (strcmp(l->section, "deny") == 0 && strcmp(l->key, "connect") == 0)) {
      const char *why = endpoint_problem(s);
      if (why)
        return fail(r, p, "\"%s\": %s", s, why);
    }
    if (strcmp(l->section, "tree") == 0 && strstr(s, " -> ") == NULL)
      return fail(r, p, "\"%s\": expected \"PARENT -> CHILD\"", s);
    if (tpl_set_add(tpl_list_set(t, l), s) < 0)
      return ward_error(r->err, ENOMEM, "%s", r->name);
  }
  return 0;
}

static int from_json(const struct rd *r, json_t *doc, struct ward_template **out)
{
  if (expect(r, doc, JSON_OBJECT, "(top)") < 0)
    return -1;
  static const char *const top[] = {"version", "app", "exec", "files", "network", "syscalls", "identity",
                                    "tree", "deny", "model", NULL};
  const char *k;
  json_t *v;
  json_object_foreach(doc, k, v) {
    bool known = false;
    for (const char *const *n = top; *n && !known; n++)
      known = strcmp(*n, k) == 0;
    if (!known)
      return fail(r, k, "unknown field");
  }
  json_t *ver = json_object_get(doc, "version");
  if (ver == NULL)
    return fail(r, "version", "missing (this ward writes version %d)", WARD_TEMPLATE_VERSION);
  if (!json_is_integer(ver) || json_integer_value(ver) != WARD_TEMPLATE_VERSION)
    return fail(r, "version", "unsupported version (this ward reads version %d)", WARD_TEMPLATE_VERSION);
  json_t *app = json_object_get(doc, "app");
  if (app == NULL)
    return fail(r, "app", "missing");
  if (expect(r, app, JSON_STRING, "app") < 0)
    return -1;
  if (json_string_value(app)[0] == '\0')
    return fail(r, "app", "empty");
  _cleanup_template_ struct ward_template *t = ward_template_new(json_string_value(app));
  if (t == NULL)
    return ward_error(r->err, ENOMEM, "%s", r->name);
  /* sections holding keyed lists: check their keys first */
  static const char *const keyed[] = {"files", "network", "syscalls", "deny", NULL};
  for (const char *const *sec = keyed; *sec; sec++) {
    json_t *o = json_object_get(doc, *sec);
    if (o == NULL || json_is_null(o))
      continue;
    if (expect(r, o, JSON_OBJECT, *sec) < 0)
      return -1;
    json_object_foreach(o, k, v) {
      bool known = false;
      for (size_t i = 0; i < tpl_n_lists && !known; i++)
        known = strcmp(tpl_lists[i].section, *sec) == 0 && tpl_lists[i].key && strcmp(tpl_lists[i].key, k) == 0;
      if (!known) {
        _cleanup_free_ char *p = wj_path(*sec, k);
        return fail(r, p ? p : *sec, "unknown field");
      }
    }
  }
  for (size_t i = 0; i < tpl_n_lists; i++) {
    const struct tpl_list *l = &tpl_lists[i];
    json_t *sec = json_object_get(doc, l->section);
    if (sec == NULL || json_is_null(sec))
      continue;
    json_t *arr = l->key ? json_object_get(sec, l->key) : sec;
    if (arr == NULL || json_is_null(arr))
      continue;
    _cleanup_free_ char *p = l->key ? wj_path(l->section, l->key) : strdup(l->section);
    if (p == NULL)
      return ward_error(r->err, ENOMEM, "%s", r->name);
    if (read_list(r, arr, p, l, t) < 0)
      return -1;
  }
  json_t *model = json_object_get(doc, "model");
  if (model && !json_is_null(model))
    ward_template_set_model(t, model);
  *out = steal_pointer(&t);
  return 0;
}

int ward_template_load_buffer(const char *name, const char *buf, size_t len, struct ward_template **out,
                              ward_error_t *err)
{
  *out = NULL;
  size_t i = 0;
  while (i < len && isspace((unsigned char) buf[i]))
    i++;
  _cleanup_json_ json_t *doc = NULL;
  struct tpl_linemap map = {0};
  if (i < len && buf[i] == '{') {
    if (wj_load_buffer(name, buf, len, &doc, err) < 0)
      return -1;
    /* JSON is YAML: libyaml gives each field its line for later errors */
    _cleanup_json_ json_t *again = NULL;
    _cleanup_error_ ward_error_t ignored = NULL;
    if (tpl_yaml_parse(name, buf, len, &again, &map, &ignored) < 0)
      tpl_linemap_free(&map);
  } else if (tpl_yaml_parse(name, buf, len, &doc, &map, err) < 0) {
    tpl_linemap_free(&map);
    return -1;
  }
  struct rd r = {.name = name, .map = &map, .err = err};
  int rc = from_json(&r, doc, out);
  tpl_linemap_free(&map);
  return rc;
}

int ward_template_load(const char *path, struct ward_template **out, ward_error_t *err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  if (ward_read_file(path, TEMPLATE_MAX_BYTES, &buf, &len, err) < 0)
    return -1;
  if (memchr(buf, '\0', len))
    return ward_error(err, 0, "%s: NUL byte in the file", path);
  return ward_template_load_buffer(path, buf, len, out, err);
}

/* Learned entries a template file cannot hold: JSON and YAML strings are
 * UTF-8, and a workload may name its files with any bytes. */
static size_t not_utf8(const struct ward_template *t)
{
  size_t n = 0;
  for (size_t i = 0; i < tpl_n_lists; i++) {
    const struct tpl_set *s = tpl_list_cset(t, &tpl_lists[i]);
    for (size_t k = 0; k < s->n; k++)
      n += !ward_json_is_utf8(s->v[k]);
  }
  return n;
}

int ward_template_save(const struct ward_template *t, const char *path, ward_error_t *err)
{
  /* left out (the rendering skips them): checked, they deviate as unknown */
  size_t dropped = not_utf8(t);
  if (dropped)
    ward_warn("%s: %zu learned entr%s not UTF-8 and cannot be written; left out, %s deviate when checked", path,
              dropped, dropped == 1 ? "y is" : "ies are", dropped == 1 ? "it would" : "they would");
  _cleanup_free_ char *text = NULL;
  if (ward_has_suffix(path, ".yaml") || ward_has_suffix(path, ".yml")) {
    text = ward_template_to_yaml(t);
  } else {
    _cleanup_json_ json_t *doc = ward_template_to_json(t);
    char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (s && asprintf(&text, "%s\n", s) < 0)
      text = NULL;
    free(s);
  }
  if (text == NULL)
    return ward_error(err, ENOMEM, "%s: rendering the template", path);
  if (ward_write_file_atomic(path, text, strlen(text), 0644, err) < 0)
    return ward_error_prefix(err, "%s", path);
  return 0;
}
