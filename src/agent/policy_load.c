/* The policy file (policy.h, docs/agent.md): YAML, or JSON read by the same
 * YAML parser so that every message names file:line of the offending node. */
#include "agent/policy.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define POLICY_MAX_BYTES (1u << 20)

struct ctx {
  const char *name;
  yaml_document_t *doc;
  struct ward_policy *p;
  const char *dir;           /* relative template paths are resolved here */
};

__attribute__((format(printf, 4, 6)))
static int fail(struct ctx *c, const yaml_node_t *n, const char *field, const char *fmt, ward_error_t *err, ...)
{
  char msg[256];
  va_list ap;
  va_start(ap, err);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return ward_error(err, 0, "%s:%zu: %s: %s", c->name, n ? n->start_mark.line + 1 : 1, field, msg);
}

static const char *scalar(struct ctx *c, const yaml_node_t *n, const char *field, ward_error_t *err)
{
  if (n->type != YAML_SCALAR_NODE) {
    fail(c, n, field, "expected a scalar value", err);
    return NULL;
  }
  return (const char *) n->data.scalar.value;
}

static int get_bool(struct ctx *c, const yaml_node_t *n, const char *field, bool *out, ward_error_t *err)
{
  const char *v = scalar(c, n, field, err);
  if (v == NULL)
    return -1;
  if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
    *out = true;
  else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
    *out = false;
  else
    return fail(c, n, field, "\"%s\" is not a boolean (true or false)", err, v);
  return 0;
}

static int get_uint(struct ctx *c, const yaml_node_t *n, const char *field, uint32_t *out, ward_error_t *err)
{
  const char *v = scalar(c, n, field, err);
  if (v == NULL)
    return -1;
  char *end;
  errno = 0;
  unsigned long x = strtoul(v, &end, 10);
  if (!*v || *end || errno || x > UINT32_MAX || v[0] == '-')
    return fail(c, n, field, "\"%s\" is not an unsigned integer", err, v);
  *out = (uint32_t) x;
  return 0;
}

static int get_double(struct ctx *c, const yaml_node_t *n, const char *field, double *out, ward_error_t *err)
{
  const char *v = scalar(c, n, field, err);
  if (v == NULL)
    return -1;
  char *end;
  double x = strtod(v, &end);
  if (!*v || *end || !isfinite(x) || x < 0)
    return fail(c, n, field, "\"%s\" is not a non-negative number", err, v);
  *out = x;
  return 0;
}

static int get_str(struct ctx *c, const yaml_node_t *n, const char *field, char **out, ward_error_t *err)
{
  const char *v = scalar(c, n, field, err);
  if (v == NULL)
    return -1;
  if (!*v)
    return fail(c, n, field, "must not be empty", err);
  char *copy = strdup(v);
  if (copy == NULL)
    return ward_error(err, ENOMEM, "policy");
  free(*out);
  *out = copy;
  return 0;
}

typedef int (*member_fn)(struct ctx *c, const char *key, yaml_node_t *val, ward_error_t *err);

static int each_member(struct ctx *c, yaml_node_t *map, const char *field, member_fn fn, ward_error_t *err)
{
  if (map->type != YAML_MAPPING_NODE)
    return fail(c, map, field, "expected a mapping", err);
  for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
    yaml_node_t *k = yaml_document_get_node(c->doc, pr->key);
    yaml_node_t *v = yaml_document_get_node(c->doc, pr->value);
    if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
      return fail(c, k ? k : map, field, "keys must be strings", err);
    if (fn(c, (const char *) k->data.scalar.value, v, err) < 0)
      return -1;
  }
  return 0;
}

static int threshold_member(struct ctx *c, const char *key, yaml_node_t *v, ward_error_t *err)
{
  struct ward_policy_thresholds *t = &c->p->thresholds;
  if (!strcmp(key, "sequence"))
    return get_double(c, v, "thresholds.sequence", &t->sequence, err);
  if (!strcmp(key, "exec_per_second"))
    return get_uint(c, v, "thresholds.exec_per_second", &t->exec_per_s, err);
  if (!strcmp(key, "connect_per_second"))
    return get_uint(c, v, "thresholds.connect_per_second", &t->connect_per_s, err);
  if (!strcmp(key, "file_create_per_second"))
    return get_uint(c, v, "thresholds.file_create_per_second", &t->file_create_per_s, err);
  return fail(c, v, "thresholds", "unknown key \"%s\" (sequence, exec_per_second, connect_per_second, file_create_per_second)", err, key);
}

static int action_member(struct ctx *c, const char *key, yaml_node_t *v, ward_error_t *err)
{
  int sev = ward_severity_parse(key);
  if (sev < 0)
    return fail(c, v, "actions", "\"%s\" is not a severity (info, low, medium, high, critical)", err, key);
  const char *name = scalar(c, v, "actions", err);
  if (name == NULL)
    return -1;
  int a = ward_policy_action_parse(name);
  if (a < 0)
    return fail(c, v, "actions", "\"%s\" is not an action (kill, quarantine, restrict, honeypot, snapshot, none)", err, name);
  c->p->on_severity[sev] = (enum ward_policy_action) a;
  return 0;
}

static int alerts_member(struct ctx *c, const char *key, yaml_node_t *v, ward_error_t *err)
{
  if (!strcmp(key, "output"))
    return get_str(c, v, "alerts.output", &c->p->alerts, err);
  if (!strcmp(key, "burst"))
    return get_uint(c, v, "alerts.burst", &c->p->alert_burst, err);
  if (!strcmp(key, "per_second"))
    return get_double(c, v, "alerts.per_second", &c->p->alert_per_second, err);
  return fail(c, v, "alerts", "unknown key \"%s\" (output, burst, per_second)", err, key);
}

static int resolve_template(struct ctx *c, ward_error_t *err)
{
  char *t = c->p->template_path;
  if (t == NULL || t[0] == '/' || c->dir == NULL)
    return 0;
  char *full = NULL;
  if (asprintf(&full, "%s/%s", c->dir, t) < 0)
    return ward_error(err, ENOMEM, "policy");
  free(t);
  c->p->template_path = full;
  return 0;
}

static int top_member(struct ctx *c, const char *key, yaml_node_t *v, ward_error_t *err)
{
  struct ward_policy *p = c->p;
  if (!strcmp(key, "app"))
    return get_str(c, v, "app", &p->app, err);
  if (!strcmp(key, "mode")) {
    const char *m = scalar(c, v, "mode", err);
    if (m == NULL)
      return -1;
    int mode = ward_mode_parse(m);
    if (mode < 0)
      return fail(c, v, "mode", "\"%s\" is not off, learn, monitor or protect", err, m);
    p->mode = (enum ward_mode) mode;
    return 0;
  }
  if (!strcmp(key, "template"))
    return get_str(c, v, "template", &p->template_path, err) < 0 ? -1 : resolve_template(c, err);
  if (!strcmp(key, "detect"))
    return get_bool(c, v, "detect", &p->detect, err);
  if (!strcmp(key, "supervisor"))
    return get_bool(c, v, "supervisor", &p->supervisor, err);
  if (!strcmp(key, "thresholds"))
    return each_member(c, v, "thresholds", threshold_member, err);
  if (!strcmp(key, "actions"))
    return each_member(c, v, "actions", action_member, err);
  if (!strcmp(key, "quarantine")) {
    const char *q = scalar(c, v, "quarantine", err);
    if (q == NULL)
      return -1;
    if (strcmp(q, "freeze") && strcmp(q, "network"))
      return fail(c, v, "quarantine", "\"%s\" is not freeze or network", err, q);
    p->quarantine_freeze = !strcmp(q, "freeze");
    return 0;
  }
  if (!strcmp(key, "alerts")) {
    if (v->type == YAML_SCALAR_NODE)
      return get_str(c, v, "alerts", &p->alerts, err);
    return each_member(c, v, "alerts", alerts_member, err);
  }
  return fail(c, v, key, "unknown key (app, mode, template, detect, supervisor, thresholds, actions, quarantine, alerts)", err);
}

static int parse_doc(const char *name, const char *dir, const char *text, size_t len, struct ward_policy **out,
                     ward_error_t *err)
{
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!yaml_parser_initialize(&parser))
    return ward_error(err, ENOMEM, "yaml");
  yaml_parser_set_input_string(&parser, (const unsigned char *) text, len);
  if (!yaml_parser_load(&parser, &doc)) {
    int rc = ward_error(err, 0, "%s:%zu: %s", name, parser.problem_mark.line + 1,
                        parser.problem ? parser.problem : "syntax error");
    yaml_parser_delete(&parser);
    return rc;
  }
  yaml_parser_delete(&parser);
  struct ward_policy *p = ward_policy_new();
  struct ctx c = {.name = name, .doc = &doc, .p = p, .dir = dir};
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  int rc;
  if (p == NULL)
    rc = ward_error(err, ENOMEM, "policy");
  else if (root == NULL)
    rc = ward_error(err, 0, "%s:1: empty policy", name);
  else
    rc = each_member(&c, root, "policy", top_member, err);
  yaml_document_delete(&doc);
  if (rc == 0 && (p->source = strdup(name)) == NULL)
    rc = ward_error(err, ENOMEM, "policy");
  if (rc < 0) {
    ward_policy_free(p);
    return -1;
  }
  *out = p;
  return 0;
}

int ward_policy_parse(const char *name, const char *text, size_t len, struct ward_policy **out, ward_error_t *err)
{
  return parse_doc(name, NULL, text, len, out, err);
}

int ward_policy_load(const char *path, struct ward_policy **out, ward_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  if (ward_read_file(path, POLICY_MAX_BYTES, &text, &len, err) < 0)
    return ward_error_prefix(err, "policy");
  _cleanup_free_ char *copy = strdup(path);
  if (copy == NULL)
    return ward_error(err, ENOMEM, "policy");
  return parse_doc(path, dirname(copy), text, len, out, err);
}
