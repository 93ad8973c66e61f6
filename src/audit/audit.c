/* The audit pipeline for one file: read, detect the kind, parse into the
 * positioned tree, normalise into the container model, apply the rules. */
#include "audit/audit.h"
#include "audit/audit_model.h"
#include "audit/audit_rules.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_MAX_FILE (16u << 20)

static const char *const sev_names[] = {"none", "low", "medium", "high", "critical"};

const char *ward_audit_sev_name(enum ward_audit_sev s)
{
  return (unsigned) s < ARRAY_SIZE(sev_names) ? sev_names[s] : "?";
}

int ward_audit_sev_parse(const char *s)
{
  if (s == NULL)
    return -1;
  if (strcmp(s, "never") == 0)
    return WARD_SEV_NONE;
  for (size_t i = 1; i < ARRAY_SIZE(sev_names); i++)
    if (strcmp(s, sev_names[i]) == 0)
      return (int) i;
  return -1;
}

const char *ward_audit_kind_name(enum ward_audit_kind k)
{
  switch (k) {
  case WARD_AUDIT_OCI: return "oci";
  case WARD_AUDIT_DOCKER: return "docker-inspect";
  case WARD_AUDIT_K8S: return "kubernetes";
  case WARD_AUDIT_COMPOSE: return "compose";
  default: return "unknown";
  }
}

void ward_audit_file_clear(struct ward_audit_file *f)
{
  for (size_t i = 0; i < f->nfindings; i++) {
    free(f->findings[i].container);
    free(f->findings[i].field);
    free(f->findings[i].detail);
  }
  free(f->findings);
  ward_strv_free(f->containers);
  free(f->path);
  free(f->error);
  memset(f, 0, sizeof(*f));
}

/* libyaml reads every JSON document we have met, but if one ever trips it
 * (JSON is not quite a YAML 1.1 subset), convert jansson's tree instead and
 * lose only the line numbers. */
static struct anode *from_json(json_t *j, int depth)
{
  if (depth > 64)
    return NULL;
  struct anode *n = calloc(1, sizeof(*n));
  if (n == NULL)
    return NULL;
  size_t cap = 0;
  if (json_is_object(j) || json_is_array(j)) {
    n->type = json_is_object(j) ? AN_MAP : AN_SEQ;
    cap = json_is_object(j) ? json_object_size(j) : json_array_size(j);
    n->kids = calloc(cap + 1, sizeof(*n->kids));
    n->keys = n->type == AN_MAP ? calloc(cap + 1, sizeof(*n->keys)) : NULL;
    if (n->kids == NULL || (n->type == AN_MAP && n->keys == NULL)) {
      atree_free(n);
      return NULL;
    }
    const char *key;
    json_t *v;
    size_t i;
    if (n->type == AN_MAP) {
      json_object_foreach(j, key, v) {
        n->keys[n->n] = strdup(key);
        n->kids[n->n] = from_json(v, depth + 1);
        n->n++;
        if (n->keys[n->n - 1] == NULL || n->kids[n->n - 1] == NULL) {
          atree_free(n);
          return NULL;
        }
      }
    } else {
      json_array_foreach(j, i, v) {
        n->kids[n->n++] = from_json(v, depth + 1);
        if (n->kids[n->n - 1] == NULL) {
          atree_free(n);
          return NULL;
        }
      }
    }
    return n;
  }
  n->type = AN_SCALAR;
  n->plain = !json_is_string(j);
  if (json_is_string(j))
    n->text = strdup(json_string_value(j));
  else if (json_is_integer(j)) {
    if (asprintf(&n->text, "%" JSON_INTEGER_FORMAT, json_integer_value(j)) < 0)
      n->text = NULL;
  } else if (json_is_real(j)) {
    if (asprintf(&n->text, "%g", json_real_value(j)) < 0)
      n->text = NULL;
  } else
    n->text = strdup(json_is_true(j) ? "true" : json_is_false(j) ? "false" : "null");
  if (n->text == NULL) {
    atree_free(n);
    return NULL;
  }
  return n;
}

static enum ward_audit_kind detect_doc(const struct anode *d)
{
  if (anode_is_seq(d)) {
    for (size_t i = 0; i < d->n; i++)
      if (anode_get(d->kids[i], "HostConfig") || anode_get(d->kids[i], "Config"))
        return WARD_AUDIT_DOCKER;
    return d->n == 0 ? WARD_AUDIT_DOCKER : WARD_AUDIT_UNKNOWN;
  }
  if (!anode_is_map(d))
    return WARD_AUDIT_UNKNOWN;
  if (anode_get(d, "ociVersion"))
    return WARD_AUDIT_OCI;
  if (anode_get(d, "apiVersion") && anode_get(d, "kind"))
    return WARD_AUDIT_K8S;
  if (anode_is_map(anode_get(d, "services")))
    return WARD_AUDIT_COMPOSE;
  if (anode_get(d, "HostConfig"))
    return WARD_AUDIT_DOCKER;
  return WARD_AUDIT_UNKNOWN;
}

static const char wrong_kind[] =
  "not a recognised input: expected an OCI config.json (ociVersion), docker/podman inspect output "
  "(objects with HostConfig), a Kubernetes manifest (apiVersion and kind) or a compose file (services)";

static int parse(const char *path, const char *buf, size_t len, struct anode ***docs, size_t *ndocs,
                 ward_error_t *err)
{
  size_t i = 0;
  if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
    i = 3;
  while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
    i++;
  if (i < len && (buf[i] == '{' || buf[i] == '[')) {
    /* jansson is the authority on JSON validity (and its messages carry
     * line and column); libyaml then supplies positions. */
    _cleanup_json_ json_t *j = NULL;
    if (wj_load_buffer(path, buf, len, &j, err) < 0)
      return -1;
    _cleanup_error_ ward_error_t yerr = NULL;
    if (atree_load(path, buf, len, docs, ndocs, &yerr) == 0 && *ndocs == 1)
      return 0;
    if (yerr == NULL)
      atree_free_docs(*docs, *ndocs);
    struct anode *t = from_json(j, 0);
    *docs = t ? calloc(1, sizeof(**docs)) : NULL;
    if (*docs == NULL) {
      atree_free(t);
      return ward_error(err, ENOMEM, "%s", path);
    }
    (*docs)[0] = t;
    *ndocs = 1;
    return 0;
  }
  return atree_load(path, buf, len, docs, ndocs, err);
}

static int add_container_names(struct ward_audit_file *out, const struct amodel *m)
{
  for (size_t i = 0; i < m->n; i++)
    if (ward_strv_append(&out->containers, m->c[i].name) < 0)
      return -1;
  return 0;
}

static int audit_docs(const char *path, struct anode **docs, size_t ndocs, struct ward_audit_file *out,
                      ward_error_t *err)
{
  struct amodel m;
  if (amodel_init(&m) < 0)
    return ward_error(err, ENOMEM, "%s", path);
  int rc = 0;
  size_t used = 0;
  for (size_t d = 0; d < ndocs && rc == 0; d++) {
    const struct anode *doc = docs[d];
    if (anode_is_null(doc))
      continue; /* "---" separators with nothing between them */
    enum ward_audit_kind k = detect_doc(doc);
    if (k == WARD_AUDIT_UNKNOWN || (out->kind != WARD_AUDIT_UNKNOWN && k != out->kind)) {
      rc = ward_error(err, 0, "%s:%d:%d: %s%s", path, doc->line, doc->col,
                      ndocs > 1 ? "document: " : "", wrong_kind);
      break;
    }
    out->kind = k;
    used++;
    switch (k) {
    case WARD_AUDIT_OCI: rc = audit_norm_oci(&m, doc, err); break;
    case WARD_AUDIT_DOCKER: rc = audit_norm_docker(&m, doc, err); break;
    case WARD_AUDIT_K8S: rc = audit_norm_k8s(&m, doc, d, err); break;
    case WARD_AUDIT_COMPOSE: rc = audit_norm_compose(&m, doc, err); break;
    default: break;
    }
    if (rc < 0)
      ward_error_prefix(err, "%s", path);
  }
  if (rc == 0 && used == 0)
    rc = ward_error(err, 0, "%s: empty document", path);
  /* Containers normalised before a bad document are still audited, so one
   * broken manifest in a stream does not hide the findings of the rest. */
  if (amodel_oom(&m)) {
    rc = ward_error(err, ENOMEM, "%s", path);
  } else {
    for (size_t i = 0; i < m.n; i++)
      if (audit_apply_rules(&m, &m.c[i], out) < 0) {
        rc = ward_error(err, ENOMEM, "%s", path);
        break;
      }
    if (add_container_names(out, &m) < 0)
      rc = ward_error(err, ENOMEM, "%s", path);
  }
  amodel_free(&m);
  return rc;
}

int ward_audit_buffer(const char *path, const char *buf, size_t len, struct ward_audit_file *out)
{
  memset(out, 0, sizeof(*out));
  out->path = strdup(path);
  _cleanup_error_ ward_error_t err = NULL;
  struct anode **docs = NULL;
  size_t ndocs = 0;
  int rc = parse(path, buf, len, &docs, &ndocs, &err);
  if (rc == 0) {
    rc = audit_docs(path, docs, ndocs, out, &err);
    atree_free_docs(docs, ndocs);
  }
  if (rc < 0) {
    out->error = strdup(err && err->msg ? err->msg : "audit failed");
    return -1;
  }
  return out->path ? 0 : -1;
}

int ward_audit_path(const char *path, struct ward_audit_file *out)
{
  _cleanup_error_ ward_error_t err = NULL;
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  if (ward_read_file(path, AUDIT_MAX_FILE, &buf, &len, &err) < 0) {
    memset(out, 0, sizeof(*out));
    out->path = strdup(path);
    if (err && err->msg && strstr(err->msg, path) == NULL)
      ward_error_prefix(&err, "%s", path);
    out->error = strdup(err && err->msg ? err->msg : path);
    return -1;
  }
  return ward_audit_buffer(path, buf, len, out);
}

enum ward_audit_sev ward_audit_max_sev(const struct ward_audit_file *files, size_t n)
{
  enum ward_audit_sev max = WARD_SEV_NONE;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < files[i].nfindings; k++)
      if (files[i].findings[k].rule->sev > max)
        max = files[i].findings[k].rule->sev;
  return max;
}
