/* YAML for templates: libyaml events turned into a jansson tree, with the
 * line of every value recorded under its field path so errors found after
 * parsing can still say FILE:LINE; and the reverse, a template document as
 * block YAML. Anchors and aliases are refused (no alias bombs). */
#include "agent/template_internal.h"
#include "common/cleanup.h"
#include "common/json.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 64

void tpl_linemap_free(struct tpl_linemap *m)
{
  for (size_t i = 0; i < m->n; i++)
    free(m->paths[i]);
  free(m->paths);
  free(m->lines);
  *m = (struct tpl_linemap) {0};
}

int tpl_linemap_add(struct tpl_linemap *m, const char *path, int line)
{
  if (m == NULL)
    return 0;
  if (m->n == m->cap) {
    size_t cap = m->cap ? 2 * m->cap : 64;
    char **p = realloc(m->paths, cap * sizeof(*p));
    if (p == NULL)
      return -1;
    m->paths = p;
    int *l = realloc(m->lines, cap * sizeof(*l));
    if (l == NULL)
      return -1;
    m->lines = l;
    m->cap = cap;
  }
  m->paths[m->n] = strdup(path);
  if (m->paths[m->n] == NULL)
    return -1;
  m->lines[m->n++] = line;
  return 0;
}

int tpl_linemap_find(const struct tpl_linemap *m, const char *path)
{
  for (size_t i = 0; m && i < m->n; i++)
    if (strcmp(m->paths[i], path) == 0)
      return m->lines[i];
  return 0;
}

static void parser_freep(yaml_parser_t **p) { yaml_parser_delete(*p); }
static void event_freep(yaml_event_t *e) { yaml_event_delete(e); }

/* YAML 1.1 core-schema resolution of a plain scalar. */
static json_t *plain_scalar(const char *s, size_t n)
{
  if (n == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
    return json_null();
  if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
    return json_true();
  if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
    return json_false();
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (*end == '\0' && errno == 0 && (isdigit((unsigned char) s[0]) || ((s[0] == '-' || s[0] == '+') && n > 1)))
    return json_integer(v);
  double d = strtod(s, &end);
  if (*end == '\0' && (isdigit((unsigned char) s[0]) || s[0] == '-' || s[0] == '.') && n > 1)
    return json_real(d);
  return json_stringn(s, n);
}

struct yctx {
  yaml_parser_t parser;
  const char *name;
  struct tpl_linemap *map;
  ward_error_t *err;
};

static int next_event(struct yctx *c, yaml_event_t *ev)
{
  if (!yaml_parser_parse(&c->parser, ev)) {
    return ward_error(c->err, 0, "%s:%zu:%zu: %s%s%s", c->name, c->parser.problem_mark.line + 1,
                      c->parser.problem_mark.column + 1, c->parser.problem ? c->parser.problem : "YAML error",
                      c->parser.context ? " " : "", c->parser.context ? c->parser.context : "");
  }
  return 0;
}

static int parse_node(struct yctx *c, yaml_event_t *ev, const char *path, int depth, json_t **out);

static int parse_children(struct yctx *c, json_t *node, bool mapping, const char *path, int depth)
{
  for (size_t i = 0;; i++) {
    _cleanup_(event_freep) yaml_event_t ev = {0};
    if (next_event(c, &ev) < 0)
      return -1;
    if (ev.type == (mapping ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT))
      return 0;
    if (!mapping) {
      _cleanup_free_ char *p = wj_path_index(path, i);
      json_t *v = NULL;
      if (p == NULL || parse_node(c, &ev, p, depth + 1, &v) < 0)
        return p ? -1 : ward_error(c->err, ENOMEM, "%s", c->name);
      json_array_append_new(node, v);
      continue;
    }
    int line = (int) ev.start_mark.line + 1;
    if (ev.type != YAML_SCALAR_EVENT)
      return ward_error(c->err, 0, "%s:%d: %s: keys must be plain strings", c->name, line, path[0] ? path : "(top)");
    _cleanup_free_ char *key = strndup((const char *) ev.data.scalar.value, ev.data.scalar.length);
    _cleanup_free_ char *p = key ? wj_path(path, key) : NULL;
    if (p == NULL)
      return ward_error(c->err, ENOMEM, "%s", c->name);
    if (json_object_get(node, key))
      return ward_error(c->err, 0, "%s:%d: %s: duplicate key", c->name, line, p);
    _cleanup_(event_freep) yaml_event_t vev = {0};
    if (next_event(c, &vev) < 0)
      return -1;
    json_t *v = NULL;
    if (parse_node(c, &vev, p, depth + 1, &v) < 0)
      return -1;
    json_object_set_new(node, key, v);
  }
}

static int parse_node(struct yctx *c, yaml_event_t *ev, const char *path, int depth, json_t **out)
{
  int line = (int) ev->start_mark.line + 1;
  if (depth > MAX_DEPTH)
    return ward_error(c->err, 0, "%s:%d: %s: nested too deeply", c->name, line, path);
  if (tpl_linemap_add(c->map, path, line) < 0)
    return ward_error(c->err, ENOMEM, "%s", c->name);
  switch (ev->type) {
  case YAML_ALIAS_EVENT:
    return ward_error(c->err, 0, "%s:%d: %s: aliases are not supported", c->name, line, path);
  case YAML_SCALAR_EVENT: {
    const char *s = (const char *) ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    if (strlen(s) != n)
      return ward_error(c->err, 0, "%s:%d: %s: NUL byte in a string", c->name, line, path);
    *out = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(s, n) : json_stringn(s, n);
    if (*out == NULL)
      return ward_error(c->err, 0, "%s:%d: %s: not valid UTF-8, or a number out of range", c->name, line, path);
    return 0;
  }
  case YAML_SEQUENCE_START_EVENT:
  case YAML_MAPPING_START_EVENT: {
    bool mapping = ev->type == YAML_MAPPING_START_EVENT;
    json_t *node = mapping ? json_object() : json_array();
    if (node == NULL)
      return ward_error(c->err, ENOMEM, "%s", c->name);
    if (parse_children(c, node, mapping, path, depth) < 0) {
      json_decref(node);
      return -1;
    }
    *out = node;
    return 0;
  }
  default:
    return ward_error(c->err, 0, "%s:%d: %s: unexpected YAML event", c->name, line, path);
  }
}

int tpl_yaml_parse(const char *name, const char *buf, size_t len, json_t **out, struct tpl_linemap *map,
                   ward_error_t *err)
{
  struct yctx c = {.name = name, .map = map, .err = err};
  if (!yaml_parser_initialize(&c.parser))
    return ward_error(err, ENOMEM, "%s: YAML parser", name);
  _cleanup_(parser_freep) yaml_parser_t *pp = &c.parser;
  (void) pp;
  yaml_parser_set_input_string(&c.parser, (const unsigned char *) buf, len);
  json_t *doc = NULL;
  for (;;) {
    _cleanup_(event_freep) yaml_event_t ev = {0};
    if (next_event(&c, &ev) < 0) {
      if (doc)
        json_decref(doc);
      return -1;
    }
    if (ev.type == YAML_STREAM_END_EVENT)
      break;
    if (ev.type == YAML_STREAM_START_EVENT || ev.type == YAML_DOCUMENT_START_EVENT ||
        ev.type == YAML_DOCUMENT_END_EVENT)
      continue;
    if (doc) {
      json_decref(doc);
      return ward_error(err, 0, "%s:%zu: more than one document", name, ev.start_mark.line + 1);
    }
    if (parse_node(&c, &ev, "", 0, &doc) < 0)
      return -1;
  }
  if (doc == NULL)
    return ward_error(err, 0, "%s:1: empty document", name);
  *out = doc;
  return 0;
}

/* ---- emitting --------------------------------------------------------- */

struct sbuf {
  char *p;
  size_t n, cap;
};

static int sbuf_write(void *data, unsigned char *buffer, size_t size)
{
  struct sbuf *b = data;
  if (b->n + size + 1 > b->cap) {
    size_t cap = (b->n + size + 1) * 2;
    char *q = realloc(b->p, cap);
    if (q == NULL)
      return 0;
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, buffer, size);
  b->n += size;
  b->p[b->n] = '\0';
  return 1;
}

static void emitter_freep(yaml_emitter_t **e) { yaml_emitter_delete(*e); }

/* raw: a number or boolean, written plain; strings are quoted when plain
 * text would read back as something else. */
static int emit_scalar(yaml_emitter_t *em, const char *s, bool raw)
{
  yaml_event_t ev;
  bool quote = false;
  if (!raw) {
    /* a string that would read back as a number, boolean or null */
    json_t *r = plain_scalar(s, strlen(s));
    quote = r == NULL || !json_is_string(r) || s[0] == '\0';
    if (r)
      json_decref(r);
  }
  yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) s, (int) strlen(s), 1, 1,
                               quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
  return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int emit_node(yaml_emitter_t *em, json_t *v)
{
  yaml_event_t ev;
  char num[64];
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    if (!yaml_emitter_emit(em, &ev))
      return -1;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
      if (emit_scalar(em, k, false) < 0 || emit_node(em, x) < 0)
        return -1;
    yaml_mapping_end_event_initialize(&ev);
    return yaml_emitter_emit(em, &ev) ? 0 : -1;
  }
  case JSON_ARRAY: {
    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                         json_array_size(v) ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE);
    if (!yaml_emitter_emit(em, &ev))
      return -1;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
      if (emit_node(em, x) < 0)
        return -1;
    yaml_sequence_end_event_initialize(&ev);
    return yaml_emitter_emit(em, &ev) ? 0 : -1;
  }
  case JSON_STRING:
    return emit_scalar(em, json_string_value(v), false);
  case JSON_INTEGER:
    snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return emit_scalar(em, num, true);
  case JSON_REAL:
    snprintf(num, sizeof(num), "%.17g", json_real_value(v));
    if (strspn(num, "-0123456789") == strlen(num))
      strcat(num, ".0");   /* 0.0 must not come back as the integer 0 */
    return emit_scalar(em, num, true);
  case JSON_TRUE:
    return emit_scalar(em, "true", true);
  case JSON_FALSE:
    return emit_scalar(em, "false", true);
  default:
    return emit_scalar(em, "null", true);
  }
}

char *tpl_yaml_emit(json_t *doc)
{
  yaml_emitter_t em;
  if (!yaml_emitter_initialize(&em))
    return NULL;
  _cleanup_(emitter_freep) yaml_emitter_t *emp = &em;
  (void) emp;
  struct sbuf b = {0};
  yaml_emitter_set_output(&em, sbuf_write, &b);
  yaml_emitter_set_unicode(&em, 1);
  yaml_emitter_set_width(&em, 4096);
  yaml_event_t ev;
  yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
  bool ok = yaml_emitter_emit(&em, &ev);
  yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
  ok = ok && yaml_emitter_emit(&em, &ev);
  ok = ok && emit_node(&em, doc) == 0;
  yaml_document_end_event_initialize(&ev, 1);
  ok = ok && yaml_emitter_emit(&em, &ev);
  yaml_stream_end_event_initialize(&ev);
  ok = ok && yaml_emitter_emit(&em, &ev);
  if (!ok) {
    free(b.p);
    return NULL;
  }
  return b.p;
}
