/* The profile model: building, the OCI linux.seccomp reader (the fields it
 * shares with Docker profiles are read here for both), and the OCI writer
 * that `ward seccomp convert` prints and the cache key hashes. */
#include "seccomp/internal.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

char *ward_scmp_path(const char *base, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *tail = NULL;
  int n = vasprintf(&tail, fmt, ap);
  va_end(ap);
  if (n < 0)
    return NULL;
  if (*base == '\0')
    return tail;
  char *full = NULL;
  if (asprintf(&full, "%s.%s", base, tail) < 0)
    full = NULL;
  free(tail);
  return full;
}

struct ward_seccomp *ward_scmp_new(enum ward_scmp_action def, bool has_errno, uint32_t errno_ret)
{
  struct ward_seccomp *s = calloc(1, sizeof(*s));
  if (s) {
    s->default_action = def;
    s->has_default_errno = has_errno;
    s->default_errno = errno_ret;
  }
  return s;
}

void ward_seccomp_free(struct ward_seccomp *s)
{
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n_rules; i++) {
    ward_strv_free(s->rules[i].names);
    free(s->rules[i].args);
  }
  free(s->rules);
  free(s->arches);
  ward_strv_free(s->arch_names);
  free(s->listener_path);
  free(s->listener_metadata);
  free(s);
}

int ward_scmp_add_arch(struct ward_seccomp *s, const char *name, ward_error_t *err)
{
  uint32_t token;
  if (ward_scmp_arch_from_name(name, &token) < 0)
    return ward_error(err, 0, "unknown architecture \"%s\"", name);
  if (ward_strv_contains(s->arch_names, name))
    return 0;
  uint32_t *bigger = realloc(s->arches, (s->n_arches + 1) * sizeof(*bigger));
  if (bigger == NULL)
    return ward_error(err, ENOMEM, "architectures");
  s->arches = bigger;
  if (ward_strv_append(&s->arch_names, name) < 0)
    return ward_error(err, ENOMEM, "architectures");
  s->arches[s->n_arches++] = token;
  return 0;
}

int ward_scmp_add_rule(struct ward_seccomp *s, char *const *names, enum ward_scmp_action action,
                       bool has_errno, uint32_t errno_ret,
                       const struct ward_seccomp_arg *args, size_t n_args, ward_error_t *err)
{
  struct ward_seccomp_rule *bigger = realloc(s->rules, (s->n_rules + 1) * sizeof(*bigger));
  if (bigger == NULL)
    return ward_error(err, ENOMEM, "syscalls");
  s->rules = bigger;
  struct ward_seccomp_rule r = {.action = action, .has_errno_ret = has_errno, .errno_ret = errno_ret};
  r.names = ward_strv_dup(names);
  if (r.names == NULL)
    return ward_error(err, ENOMEM, "syscalls");
  if (n_args) {
    r.args = calloc(n_args, sizeof(*r.args));
    if (r.args == NULL) {
      ward_strv_free(r.names);
      return ward_error(err, ENOMEM, "syscalls");
    }
    memcpy(r.args, args, n_args * sizeof(*args));
    r.n_args = n_args;
  }
  s->rules[s->n_rules++] = r;
  return 0;
}

/* errnoRet (number) and, in Docker profiles from containers-common, errno
 * (a name). Both present must agree. */
static int parse_errno(json_t *obj, const char *num_key, const char *name_key, const char *path,
                       enum ward_scmp_dialect dialect, uint32_t max, bool *has, uint32_t *out,
                       ward_error_t *err)
{
  uint32_t num = 0;
  bool have_num = false;
  if (wj_opt_uint32(obj, num_key, path, &num, &have_num, err) < 0)
    return -1;
  if (have_num && num > max) {
    _cleanup_free_ char *p = wj_path(path, num_key);
    return ward_error(err, 0, "%s: %u is out of range (at most %u)", p, num, max);
  }
  _cleanup_free_ char *name = NULL;
  if (dialect == WARD_SCMP_DOCKER && wj_opt_string(obj, name_key, path, &name, err) < 0)
    return -1;
  if (name) {
    _cleanup_free_ char *p = wj_path(path, name_key);
    int e = ward_scmp_errno_from_name(name);
    if (e < 0)
      return ward_error(err, 0, "%s: unknown errno name \"%s\"", p, name);
    if (have_num && (uint32_t) e != num)
      return ward_error(err, 0, "%s: \"%s\" (%d) contradicts %s %u", p, name, e, num_key, num);
    num = (uint32_t) e;
    have_num = true;
  }
  if (have_num) {
    *has = true;
    *out = num;
  }
  return 0;
}

static int parse_args(json_t *rule, const char *path, struct ward_seccomp_arg **out, size_t *n_out,
                      ward_error_t *err)
{
  int rc;
  json_t *args = wj_opt_member(rule, "args", JSON_ARRAY, path, &rc, err);
  if (args == NULL)
    return rc;
  _cleanup_free_ char *ap = wj_path(path, "args");
  size_t n = json_array_size(args);
  if (n == 0)
    return 0;
  _cleanup_free_ struct ward_seccomp_arg *v = calloc(n, sizeof(*v));
  if (v == NULL)
    return ward_error(err, ENOMEM, "%s", ap);
  for (size_t i = 0; i < n; i++) {
    _cleanup_free_ char *p = wj_path_index(ap, i);
    json_t *a = json_array_get(args, i);
    if (wj_expect(a, JSON_OBJECT, p, err) < 0)
      return -1;
    uint32_t index = 0;
    bool have = false;
    if (wj_opt_uint32(a, "index", p, &index, &have, err) < 0)
      return -1;
    if (!have)
      return ward_error(err, 0, "%s.index: required field is missing", p);
    if (index >= WARD_SCMP_MAX_ARGS)
      return ward_error(err, 0, "%s.index: %u is out of range (a syscall has arguments 0 to 5)", p, index);
    if (wj_opt_uint64(a, "value", p, &v[i].value, &have, err) < 0)
      return -1;
    if (!have)
      return ward_error(err, 0, "%s.value: required field is missing", p);
    if (wj_opt_uint64(a, "valueTwo", p, &v[i].value_two, NULL, err) < 0)
      return -1;
    _cleanup_free_ char *op = NULL;
    if (wj_req_string(a, "op", p, &op, err) < 0)
      return -1;
    if (ward_scmp_op_from_name(op, &v[i].op) < 0)
      return ward_error(err, 0, "%s.op: unknown operator \"%s\"", p, op);
    v[i].index = index;
  }
  *out = steal_pointer(&v);
  *n_out = n;
  return 0;
}

int ward_scmp_parse_rule(struct ward_seccomp *s, json_t *rule, const char *path,
                         enum ward_scmp_dialect dialect, ward_error_t *err)
{
  if (wj_expect(rule, JSON_OBJECT, path, err) < 0)
    return -1;
  if (dialect == WARD_SCMP_OCI) {
    static const char *const docker_only[] = {"includes", "excludes", "errno", "name"};
    for (size_t i = 0; i < ARRAY_SIZE(docker_only); i++)
      if (json_object_get(rule, docker_only[i]))
        return ward_error(err, 0, "%s.%s: a Docker profile field, not part of the OCI form "
                          "(convert the profile with `ward seccomp convert`)", path, docker_only[i]);
  }
  _cleanup_strv_ char **names = NULL;
  size_t n_names = 0;
  if (wj_opt_strv(rule, "names", path, &names, &n_names, err) < 0)
    return -1;
  /* old Docker profiles name a single syscall per entry */
  _cleanup_free_ char *single = NULL;
  if (dialect == WARD_SCMP_DOCKER && wj_opt_string(rule, "name", path, &single, err) < 0)
    return -1;
  if (single && ward_strv_append(&names, single) < 0)
    return ward_error(err, ENOMEM, "%s", path);
  if (ward_strv_len(names) == 0)
    return ward_error(err, 0, "%s.names: at least one system call name is required", path);
  for (size_t i = 0; names[i]; i++) {
    if (!ward_scmp_syscall_known(names[i])) {
      _cleanup_free_ char *np = wj_path(path, "names");
      return ward_error(err, 0, "%s[%zu]: unknown system call \"%s\"", np, i, names[i]);
    }
  }
  _cleanup_free_ char *action = NULL;
  if (wj_req_string(rule, "action", path, &action, err) < 0)
    return -1;
  enum ward_scmp_action act;
  if (ward_scmp_action_from_name(action, &act) < 0)
    return ward_error(err, 0, "%s.action: unknown action \"%s\"", path, action);
  bool has_errno = false;
  uint32_t errno_ret = 0;
  uint32_t max = act == WARD_SCMP_TRACE ? WARD_SCMP_MAX_TRACE : WARD_SCMP_MAX_ERRNO;
  if (parse_errno(rule, "errnoRet", "errno", path, dialect, max, &has_errno, &errno_ret, err) < 0)
    return -1;
  if (has_errno && act != WARD_SCMP_ERRNO && act != WARD_SCMP_TRACE)
    return ward_error(err, 0, "%s.errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one, not %s", path, action);
  _cleanup_free_ struct ward_seccomp_arg *args = NULL;
  size_t n_args = 0;
  if (parse_args(rule, path, &args, &n_args, err) < 0)
    return -1;
  return ward_scmp_add_rule(s, names, act, has_errno, errno_ret, args, n_args, err);
}

int ward_scmp_parse_common(struct ward_seccomp *s, json_t *doc, const char *path,
                           enum ward_scmp_dialect dialect, ward_error_t *err)
{
  uint32_t max = s->default_action == WARD_SCMP_TRACE ? WARD_SCMP_MAX_TRACE : WARD_SCMP_MAX_ERRNO;
  if (parse_errno(doc, "defaultErrnoRet", "defaultErrno", path, dialect, max,
                  &s->has_default_errno, &s->default_errno, err) < 0)
    return -1;
  _cleanup_strv_ char **flags = NULL;
  if (wj_opt_strv(doc, "flags", path, &flags, NULL, err) < 0)
    return -1;
  for (size_t i = 0; flags && flags[i]; i++) {
    unsigned f;
    if (ward_scmp_flag_from_name(flags[i], &f) < 0)
      return ward_error(err, 0, "%s%sflags[%zu]: unknown or unsupported flag \"%s\"", path, DOT(path), i, flags[i]);
    s->flags |= f;
  }
  if (wj_opt_string(doc, "listenerPath", path, &s->listener_path, err) < 0 ||
      wj_opt_string(doc, "listenerMetadata", path, &s->listener_metadata, err) < 0)
    return -1;
  return 0;
}

int ward_seccomp_parse_oci(json_t *section, const char *path, struct ward_seccomp **out, ward_error_t *err)
{
  if (path == NULL)
    path = "linux.seccomp";
  if (wj_expect(section, JSON_OBJECT, *path ? path : "seccomp profile", err) < 0)
    return -1;
  if (json_object_get(section, "archMap"))
    return ward_error(err, 0, "%s%sarchMap: a Docker profile field, not part of the OCI form "
                      "(convert the profile with `ward seccomp convert`)", path, DOT(path));
  _cleanup_free_ char *def = NULL;
  if (wj_req_string(section, "defaultAction", path, &def, err) < 0)
    return -1;
  enum ward_scmp_action act;
  if (ward_scmp_action_from_name(def, &act) < 0)
    return ward_error(err, 0, "%s%sdefaultAction: unknown action \"%s\"", path, DOT(path), def);
  _cleanup_seccomp_ struct ward_seccomp *s = ward_scmp_new(act, false, 0);
  if (s == NULL)
    return ward_error(err, ENOMEM, "%s", path);
  if (ward_scmp_parse_common(s, section, path, WARD_SCMP_OCI, err) < 0)
    return -1;
  _cleanup_strv_ char **arches = NULL;
  if (wj_opt_strv(section, "architectures", path, &arches, NULL, err) < 0)
    return -1;
  for (size_t i = 0; arches && arches[i]; i++)
    if (ward_scmp_add_arch(s, arches[i], err) < 0)
      return ward_error_prefix(err, "%s%sarchitectures[%zu]", path, DOT(path), i);
  int rc;
  json_t *rules = wj_opt_member(section, "syscalls", JSON_ARRAY, path, &rc, err);
  if (rc < 0)
    return -1;
  for (size_t i = 0; i < json_array_size(rules); i++) {
    _cleanup_free_ char *p = NULL;
    if ((p = ward_scmp_path(path, "syscalls[%zu]", i)) == NULL)
      return ward_error(err, ENOMEM, "%s", path);
    if (ward_scmp_parse_rule(s, json_array_get(rules, i), p, WARD_SCMP_OCI, err) < 0)
      return -1;
  }
  *out = steal_pointer(&s);
  return 0;
}

/* ---- the OCI writer ------------------------------------------------------ */

static int set_new(json_t *obj, const char *key, json_t *v)
{
  return v == NULL ? -1 : json_object_set_new(obj, key, v);
}

static json_t *strv_json(char *const *v)
{
  json_t *a = json_array();
  for (size_t i = 0; a && v && v[i]; i++)
    if (json_array_append_new(a, json_string(v[i])) < 0) {
      json_decref(a);
      return NULL;
    }
  return a;
}

static json_t *rule_json(const struct ward_seccomp_rule *r)
{
  json_t *o = json_object();
  if (o == NULL)
    return NULL;
  int rc = set_new(o, "names", strv_json(r->names));
  rc |= set_new(o, "action", json_string(ward_scmp_action_name(r->action)));
  if (r->has_errno_ret)
    rc |= set_new(o, "errnoRet", json_integer(r->errno_ret));
  if (r->n_args) {
    json_t *args = json_array();
    rc |= set_new(o, "args", args);
    for (size_t i = 0; args && i < r->n_args; i++) {
      const struct ward_seccomp_arg *a = &r->args[i];
      /* jansson integers are signed: 64-bit masks keep their bits */
      rc |= json_array_append_new(args, json_pack("{sI sI sI ss}", "index", (json_int_t) a->index,
                                                  "value", (json_int_t) a->value,
                                                  "valueTwo", (json_int_t) a->value_two,
                                                  "op", ward_scmp_op_name(a->op)));
    }
  }
  if (rc < 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}

int ward_seccomp_to_oci(const struct ward_seccomp *s, json_t **out, ward_error_t *err)
{
  _cleanup_json_ json_t *o = json_object();
  if (o == NULL)
    return ward_error(err, ENOMEM, "seccomp");
  int rc = set_new(o, "defaultAction", json_string(ward_scmp_action_name(s->default_action)));
  if (s->has_default_errno)
    rc |= set_new(o, "defaultErrnoRet", json_integer(s->default_errno));
  if (s->n_arches)
    rc |= set_new(o, "architectures", strv_json(s->arch_names));
  if (s->flags) {
    json_t *f = json_array();
    rc |= set_new(o, "flags", f);
    for (unsigned bit = 1; f && bit; bit <<= 1)
      if ((s->flags & bit) && ward_scmp_flag_name(bit))
        rc |= json_array_append_new(f, json_string(ward_scmp_flag_name(bit)));
  }
  if (s->listener_path)
    rc |= set_new(o, "listenerPath", json_string(s->listener_path));
  if (s->listener_metadata)
    rc |= set_new(o, "listenerMetadata", json_string(s->listener_metadata));
  json_t *rules = json_array();
  rc |= set_new(o, "syscalls", rules);
  for (size_t i = 0; rules && i < s->n_rules; i++)
    rc |= json_array_append_new(rules, rule_json(&s->rules[i]));
  if (rc < 0)
    return ward_error(err, ENOMEM, "seccomp: building the OCI form");
  *out = steal_pointer(&o);
  return 0;
}

size_t ward_seccomp_rule_count(const struct ward_seccomp *s)
{
  return s->n_rules;
}

bool ward_seccomp_has_notify(const struct ward_seccomp *s)
{
  if (s->default_action == WARD_SCMP_NOTIFY)
    return true;
  for (size_t i = 0; i < s->n_rules; i++)
    if (s->rules[i].action == WARD_SCMP_NOTIFY)
      return true;
  return false;
}

void ward_scmp_target_fill(const struct ward_seccomp_target *in, struct ward_seccomp_target *out)
{
  *out = *in;
  if (out->arch == 0)
    out->arch = seccomp_arch_native();
  if (out->kernel_major == 0 && out->kernel_minor == 0) {
    struct utsname u;
    if (uname(&u) == 0 && sscanf(u.release, "%u.%u", &out->kernel_major, &out->kernel_minor) != 2)
      out->kernel_major = out->kernel_minor = 0;
  }
}
