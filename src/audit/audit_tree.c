#include "audit/audit_tree.h"
#include "common/cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* Aliases are expanded while converting, so a hostile file could ask for an
 * exponential tree ("billion laughs") or a cycle; both budgets stop it. */
#define ATREE_MAX_NODES 200000
#define ATREE_MAX_DEPTH 64

struct conv {
  yaml_document_t *doc;
  size_t budget;
  const char *what;
  ward_error_t *err;
};

void atree_free(struct anode *n)
{
  if (n == NULL)
    return;
  for (size_t i = 0; i < n->n; i++) {
    if (n->keys)
      free(n->keys[i]);
    atree_free(n->kids[i]);
  }
  free(n->keys);
  free(n->kids);
  free(n->text);
  free(n);
}

void atree_free_docs(struct anode **docs, size_t n)
{
  for (size_t i = 0; i < n; i++)
    atree_free(docs[i]);
  free(docs);
}

static int push(struct anode *parent, char *key, struct anode *kid)
{
  if (parent->n % 8 == 0) {
    struct anode **k = realloc(parent->kids, (parent->n + 8) * sizeof(*k));
    if (k == NULL)
      return -1;
    parent->kids = k;
    if (parent->type == AN_MAP) {
      char **ks = realloc(parent->keys, (parent->n + 8) * sizeof(*ks));
      if (ks == NULL)
        return -1;
      parent->keys = ks;
    }
  }
  if (parent->type == AN_MAP)
    parent->keys[parent->n] = key;
  parent->kids[parent->n++] = kid;
  return 0;
}

static struct anode *convert(struct conv *c, yaml_node_t *y, int depth);

/* YAML merge keys ("<<: *defaults", common in compose files): explicit keys
 * win over merged ones, earlier merge sources over later ones. */
static int merge_into(struct conv *c, struct anode *map, yaml_node_t *src, int depth)
{
  if (src->type == YAML_SEQUENCE_NODE) {
    for (yaml_node_item_t *it = src->data.sequence.items.start; it < src->data.sequence.items.top; it++) {
      yaml_node_t *s = yaml_document_get_node(c->doc, *it);
      if (s && merge_into(c, map, s, depth + 1) < 0)
        return -1;
    }
    return 0;
  }
  if (src->type != YAML_MAPPING_NODE)
    return 0;
  struct anode *m = convert(c, src, depth + 1);
  if (m == NULL)
    return -1;
  for (size_t i = 0; i < m->n; i++) {
    if (anode_get(map, m->keys[i]) != NULL)
      continue;
    if (push(map, m->keys[i], m->kids[i]) < 0) {
      atree_free(m);
      return ward_error(c->err, ENOMEM, "%s", c->what);
    }
    m->keys[i] = NULL;
    m->kids[i] = NULL;
  }
  atree_free(m);
  return 0;
}

static struct anode *convert(struct conv *c, yaml_node_t *y, int depth)
{
  if (depth > ATREE_MAX_DEPTH || c->budget == 0) {
    ward_error(c->err, 0, "%s:%zu:%zu: document too deeply nested or too large (aliases expand too far)",
               c->what, y->start_mark.line + 1, y->start_mark.column + 1);
    return NULL;
  }
  c->budget--;
  struct anode *n = calloc(1, sizeof(*n));
  if (n == NULL) {
    ward_error(c->err, ENOMEM, "%s", c->what);
    return NULL;
  }
  n->line = (int) y->start_mark.line + 1;
  n->col = (int) y->start_mark.column + 1;
  switch (y->type) {
  case YAML_SCALAR_NODE:
    n->type = AN_SCALAR;
    n->plain = y->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    n->text = strndup((const char *) y->data.scalar.value, y->data.scalar.length);
    if (n->text == NULL)
      goto oom;
    return n;
  case YAML_SEQUENCE_NODE:
    n->type = AN_SEQ;
    for (yaml_node_item_t *it = y->data.sequence.items.start; it < y->data.sequence.items.top; it++) {
      yaml_node_t *k = yaml_document_get_node(c->doc, *it);
      struct anode *kid = k ? convert(c, k, depth + 1) : NULL;
      if (kid == NULL)
        goto fail;
      if (push(n, NULL, kid) < 0) {
        atree_free(kid);
        goto oom;
      }
    }
    return n;
  case YAML_MAPPING_NODE: {
    n->type = AN_MAP;
    yaml_node_t *merges[8];
    size_t nmerges = 0;
    for (yaml_node_pair_t *p = y->data.mapping.pairs.start; p < y->data.mapping.pairs.top; p++) {
      yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
      yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
      if (k == NULL || v == NULL)
        continue;
      if (k->type != YAML_SCALAR_NODE) /* complex keys never name a field we read */
        continue;
      const char *ktext = (const char *) k->data.scalar.value;
      if (strcmp(ktext, "<<") == 0 && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        if (nmerges < ARRAY_SIZE(merges))
          merges[nmerges++] = v;
        continue;
      }
      struct anode *kid = convert(c, v, depth + 1);
      if (kid == NULL)
        goto fail;
      kid->line = (int) k->start_mark.line + 1;
      kid->col = (int) k->start_mark.column + 1;
      char *key = strdup(ktext);
      if (key == NULL || push(n, key, kid) < 0) {
        free(key);
        atree_free(kid);
        goto oom;
      }
    }
    for (size_t i = 0; i < nmerges; i++)
      if (merge_into(c, n, merges[i], depth) < 0)
        goto fail;
    return n;
  }
  default:
    n->type = AN_SCALAR;
    n->plain = true;
    n->text = strdup("");
    if (n->text == NULL)
      goto oom;
    return n;
  }
oom:
  ward_error(c->err, ENOMEM, "%s", c->what);
fail:
  atree_free(n);
  return NULL;
}

static int yaml_problem(const char *what, yaml_parser_t *p, ward_error_t *err)
{
  if (p->context)
    return ward_error(err, 0, "%s:%zu:%zu: invalid YAML: %s %s (line %zu)", what,
                      p->problem_mark.line + 1, p->problem_mark.column + 1,
                      p->problem ? p->problem : "syntax error", p->context, p->context_mark.line + 1);
  return ward_error(err, 0, "%s:%zu:%zu: invalid YAML: %s", what,
                    p->problem_mark.line + 1, p->problem_mark.column + 1,
                    p->problem ? p->problem : "syntax error");
}

int atree_load(const char *what, const char *buf, size_t len,
               struct anode ***docs, size_t *ndocs, ward_error_t *err)
{
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser))
    return ward_error(err, ENOMEM, "%s: YAML parser", what);
  yaml_parser_set_input_string(&parser, (const unsigned char *) buf, len);
  struct anode **out = NULL;
  size_t n = 0;
  struct conv c = {.budget = ATREE_MAX_NODES, .what = what, .err = err};
  int rc = 0;
  for (;;) {
    yaml_document_t doc;
    if (!yaml_parser_load(&parser, &doc)) {
      rc = yaml_problem(what, &parser, err);
      break;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL) { /* end of stream */
      yaml_document_delete(&doc);
      break;
    }
    c.doc = &doc;
    struct anode *t = convert(&c, root, 0);
    yaml_document_delete(&doc);
    if (t == NULL) {
      rc = -1;
      break;
    }
    struct anode **grown = realloc(out, (n + 1) * sizeof(*grown));
    if (grown == NULL) {
      atree_free(t);
      rc = ward_error(err, ENOMEM, "%s", what);
      break;
    }
    out = grown;
    out[n++] = t;
  }
  yaml_parser_delete(&parser);
  if (rc < 0) {
    atree_free_docs(out, n);
    return -1;
  }
  *docs = out;
  *ndocs = n;
  return 0;
}

struct anode *anode_get(const struct anode *map, const char *key)
{
  if (map == NULL || map->type != AN_MAP)
    return NULL;
  for (size_t i = 0; i < map->n; i++)
    if (map->keys[i] && strcmp(map->keys[i], key) == 0)
      return map->kids[i];
  return NULL;
}

bool anode_is_null(const struct anode *n)
{
  if (n == NULL)
    return true;
  if (n->type != AN_SCALAR || !n->plain)
    return false;
  return n->text[0] == '\0' || strcmp(n->text, "~") == 0 || strcasecmp(n->text, "null") == 0;
}

const char *anode_str(const struct anode *n)
{
  if (n == NULL || n->type != AN_SCALAR || anode_is_null(n))
    return NULL;
  return n->text;
}

int anode_bool(const struct anode *n)
{
  const char *s = anode_str(n);
  if (s == NULL)
    return -1;
  static const char *const yes[] = {"true", "yes", "on", "y"};
  static const char *const no[] = {"false", "no", "off", "n"};
  for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
    if (strcasecmp(s, yes[i]) == 0)
      return 1;
    if (strcasecmp(s, no[i]) == 0)
      return 0;
  }
  return -1;
}

bool anode_int(const struct anode *n, int64_t *out)
{
  const char *s = anode_str(n);
  if (s == NULL || *s == '\0')
    return false;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || *end != '\0')
    return false;
  *out = v;
  return true;
}
