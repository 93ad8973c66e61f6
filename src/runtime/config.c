/* config.json -> struct ward_config. Everything is validated here, before any
 * resource exists, so a bad bundle fails with one error naming its field and
 * leaves nothing behind. */
#include "runtime/config.h"
#include "runtime/config_parse.h"
#include "seccomp/seccomp.h"
#include "common/util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#define CONFIG_MAX_BYTES (16u << 20)

static const struct { const char *name; int resource; } rlimit_names[] = {
  {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_CPU", RLIMIT_CPU},
  {"RLIMIT_DATA", RLIMIT_DATA}, {"RLIMIT_FSIZE", RLIMIT_FSIZE}, {"RLIMIT_LOCKS", RLIMIT_LOCKS},
  {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
  {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC}, {"RLIMIT_RSS", RLIMIT_RSS},
  {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
  {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_caps_set(json_t *caps, const char *key, const char *path, uint64_t *out, ward_error_t *err)
{
  _cleanup_strv_ char **names = NULL;
  if (wj_opt_strv(caps, key, path, &names, NULL, err) < 0)
    return -1;
  *out = 0;
  for (size_t i = 0; names && names[i]; i++) {
    int cap = ward_cap_from_name(names[i]);
    if (cap < 0) {
      _cleanup_free_ char *p = wj_path(path, key);
      return ward_error(err, 0, "%s[%zu]: unknown capability \"%s\"", p, i, names[i]);
    }
    *out |= 1ull << cap;
  }
  return 0;
}

static int parse_user(json_t *proc, const char *path, struct ward_user *user, ward_error_t *err)
{
  int rc;
  json_t *u = wj_opt_member(proc, "user", JSON_OBJECT, path, &rc, err);
  if (rc < 0)
    return -1;
  if (u == NULL)
    return 0;
  _cleanup_free_ char *up = wj_path(path, "user");
  uint32_t v = 0;
  bool have = false;
  if (wj_opt_uint32(u, "uid", up, &v, &have, err) < 0)
    return -1;
  user->uid = have ? v : 0;
  if (wj_opt_uint32(u, "gid", up, &v, &have, err) < 0)
    return -1;
  user->gid = have ? v : 0;
  if (wj_opt_uint32(u, "umask", up, &v, &user->has_umask, err) < 0)
    return -1;
  if (user->has_umask) {
    if (v > 0777)
      return ward_error(err, 0, "%s.umask: %u is not a file mode mask", up, v);
    user->umask = v;
  }
  json_t *gids = wj_opt_member(u, "additionalGids", JSON_ARRAY, up, &rc, err);
  if (rc < 0)
    return -1;
  if (gids) {
    size_t n = json_array_size(gids);
    user->additional_gids = calloc(n ? n : 1, sizeof(gid_t));
    if (user->additional_gids == NULL)
      return ward_error(err, ENOMEM, "%s", up);
    for (size_t i = 0; i < n; i++) {
      json_t *g = json_array_get(gids, i);
      if (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) > UINT32_MAX)
        return ward_error(err, 0, "%s.additionalGids[%zu]: expected an unsigned 32-bit integer", up, i);
      user->additional_gids[i] = (gid_t) json_integer_value(g);
    }
    user->n_additional_gids = n;
  }
  return 0;
}

static int parse_rlimits(json_t *proc, const char *path, struct ward_process *p, ward_error_t *err)
{
  int rc;
  json_t *arr = wj_opt_member(proc, "rlimits", JSON_ARRAY, path, &rc, err);
  if (rc < 0 || arr == NULL)
    return rc;
  size_t n = json_array_size(arr);
  p->rlimits = calloc(n ? n : 1, sizeof(*p->rlimits));
  if (p->rlimits == NULL)
    return ward_error(err, ENOMEM, "%s.rlimits", path);
  for (size_t i = 0; i < n; i++) {
    _cleanup_free_ char *ip = NULL;
    if (asprintf(&ip, "%s.rlimits[%zu]", path, i) < 0)
      return ward_error(err, ENOMEM, "rlimits");
    json_t *r = json_array_get(arr, i);
    if (wj_expect(r, JSON_OBJECT, ip, err) < 0)
      return -1;
    _cleanup_free_ char *type = NULL;
    if (wj_req_string(r, "type", ip, &type, err) < 0)
      return -1;
    int resource = -1;
    for (size_t k = 0; k < ARRAY_SIZE(rlimit_names); k++)
      if (strcmp(rlimit_names[k].name, type) == 0)
        resource = rlimit_names[k].resource;
    if (resource < 0)
      return ward_error(err, 0, "%s.type: unknown resource limit \"%s\"", ip, type);
    bool hs = false, hh = false;
    struct ward_rlimit *rl = &p->rlimits[i];
    if (wj_opt_uint64(r, "soft", ip, &rl->soft, &hs, err) < 0 || wj_opt_uint64(r, "hard", ip, &rl->hard, &hh, err) < 0)
      return -1;
    if (!hs || !hh)
      return ward_error(err, 0, "%s: both soft and hard are required", ip);
    if (rl->soft > rl->hard)
      return ward_error(err, 0, "%s: soft limit %llu exceeds hard limit %llu", ip,
                        (unsigned long long) rl->soft, (unsigned long long) rl->hard);
    rl->resource = resource;
    p->n_rlimits++;
  }
  return 0;
}

int ward_process_parse(json_t *proc, const char *path, struct ward_process *p, ward_error_t *err)
{
  if (wj_expect(proc, JSON_OBJECT, path, err) < 0)
    return -1;
  if (wj_opt_bool(proc, "terminal", path, &p->terminal, err) < 0)
    return -1;
  int rc;
  json_t *cs = wj_opt_member(proc, "consoleSize", JSON_OBJECT, path, &rc, err);
  if (rc < 0)
    return -1;
  if (cs) {
    _cleanup_free_ char *cp = wj_path(path, "consoleSize");
    if (wj_opt_uint32(cs, "height", cp, &p->console_height, NULL, err) < 0 ||
        wj_opt_uint32(cs, "width", cp, &p->console_width, NULL, err) < 0)
      return -1;
  }
  size_t nargs = 0;
  if (wj_opt_strv(proc, "args", path, &p->args, &nargs, err) < 0)
    return -1;
  if (nargs == 0 || p->args[0][0] == '\0')
    return ward_error(err, 0, "%s.args: at least one non-empty argument is required", path);
  if (wj_opt_strv(proc, "env", path, &p->env, NULL, err) < 0)
    return -1;
  for (size_t i = 0; p->env && p->env[i]; i++)
    if (strchr(p->env[i], '=') == NULL || p->env[i][0] == '=')
      return ward_error(err, 0, "%s.env[%zu]: \"%s\" is not of the form NAME=VALUE", path, i, p->env[i]);
  if (wj_opt_string(proc, "cwd", path, &p->cwd, err) < 0)
    return -1;
  if (p->cwd == NULL && (p->cwd = strdup("/")) == NULL)
    return ward_error(err, ENOMEM, "%s.cwd", path);
  /* CVE-2024-21626: a relative cwd would be resolved against wherever the
   * runtime happens to stand, possibly outside the container's root. */
  if (p->cwd[0] != '/')
    return ward_error(err, 0, "%s.cwd: \"%s\" must be an absolute path inside the container", path, p->cwd);
  if (parse_user(proc, path, &p->user, err) < 0)
    return -1;
  json_t *caps = wj_opt_member(proc, "capabilities", JSON_OBJECT, path, &rc, err);
  if (rc < 0)
    return -1;
  if (caps) {
    _cleanup_free_ char *cp = wj_path(path, "capabilities");
    p->has_caps = true;
    if (parse_caps_set(caps, "bounding", cp, &p->caps.bounding, err) < 0 ||
        parse_caps_set(caps, "effective", cp, &p->caps.effective, err) < 0 ||
        parse_caps_set(caps, "inheritable", cp, &p->caps.inheritable, err) < 0 ||
        parse_caps_set(caps, "permitted", cp, &p->caps.permitted, err) < 0 ||
        parse_caps_set(caps, "ambient", cp, &p->caps.ambient, err) < 0)
      return -1;
  }
  if (parse_rlimits(proc, path, p, err) < 0)
    return -1;
  if (wj_opt_bool(proc, "noNewPrivileges", path, &p->no_new_privileges, err) < 0)
    return -1;
  int64_t oom = 0;
  if (wj_opt_int64(proc, "oomScoreAdj", path, &oom, &p->has_oom_score_adj, err) < 0)
    return -1;
  if (p->has_oom_score_adj && (oom < -1000 || oom > 1000))
    return ward_error(err, 0, "%s.oomScoreAdj: %lld is outside -1000..1000", path, (long long) oom);
  p->oom_score_adj = (int) oom;
  return 0;
}

void ward_process_clear(struct ward_process *p)
{
  ward_strv_free(p->args);
  ward_strv_free(p->env);
  free(p->cwd);
  free(p->user.additional_gids);
  free(p->rlimits);
  memset(p, 0, sizeof(*p));
}

static int parse_kv_object(json_t *obj, const char *key, const char *path, struct ward_kv **out, size_t *n, ward_error_t *err)
{
  int rc;
  json_t *o = wj_opt_member(obj, key, JSON_OBJECT, path, &rc, err);
  if (rc < 0 || o == NULL)
    return rc;
  size_t count = json_object_size(o);
  struct ward_kv *kv = calloc(count ? count : 1, sizeof(*kv));
  if (kv == NULL)
    return ward_error(err, ENOMEM, "%s.%s", path, key);
  *out = kv;
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    if (!json_is_string(v))
      return ward_error(err, 0, "%s.%s.%s: expected a string, found %s", path, key, k, wj_type_name(json_typeof(v)));
    kv[*n].key = strdup(k);
    kv[*n].value = strdup(json_string_value(v));
    (*n)++;
    if (kv[*n - 1].key == NULL || kv[*n - 1].value == NULL)
      return ward_error(err, ENOMEM, "%s.%s", path, key);
  }
  return 0;
}

static int parse_hooks(json_t *doc, struct ward_hooks *hooks, ward_error_t *err)
{
  static const char *names[WARD_HOOK_COUNT] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};
  int rc;
  json_t *h = wj_opt_member(doc, "hooks", JSON_OBJECT, "", &rc, err);
  if (rc < 0 || h == NULL)
    return rc;
  for (int kind = 0; kind < WARD_HOOK_COUNT; kind++) {
    json_t *arr = wj_opt_member(h, names[kind], JSON_ARRAY, "hooks", &rc, err);
    if (rc < 0)
      return -1;
    if (arr == NULL)
      continue;
    size_t n = json_array_size(arr);
    hooks->list[kind] = calloc(n ? n : 1, sizeof(struct ward_hook));
    if (hooks->list[kind] == NULL)
      return ward_error(err, ENOMEM, "hooks");
    for (size_t i = 0; i < n; i++) {
      _cleanup_free_ char *ip = NULL;
      if (asprintf(&ip, "hooks.%s[%zu]", names[kind], i) < 0)
        return ward_error(err, ENOMEM, "hooks");
      json_t *e = json_array_get(arr, i);
      struct ward_hook *hk = &hooks->list[kind][i];
      hooks->count[kind]++;
      if (wj_expect(e, JSON_OBJECT, ip, err) < 0 || wj_req_string(e, "path", ip, &hk->path, err) < 0 ||
          wj_opt_strv(e, "args", ip, &hk->args, NULL, err) < 0 || wj_opt_strv(e, "env", ip, &hk->env, NULL, err) < 0)
        return -1;
      if (hk->path[0] != '/')
        return ward_error(err, 0, "%s.path: \"%s\" must be absolute", ip, hk->path);
      int64_t t = 0;
      bool have = false;
      if (wj_opt_int64(e, "timeout", ip, &t, &have, err) < 0)
        return -1;
      if (have && t <= 0)
        return ward_error(err, 0, "%s.timeout: must be greater than zero", ip);
      hk->timeout = have ? (int) (t > INT_MAX ? INT_MAX : t) : 0;
    }
  }
  return 0;
}

static int make_absolute(const char *base, const char *path, char **out, ward_error_t *err)
{
  char *joined = NULL;
  if (path[0] == '/')
    joined = strdup(path);
  else if (asprintf(&joined, "%s/%s", base, path) < 0)
    joined = NULL;
  if (joined == NULL)
    return ward_error(err, ENOMEM, "%s", path);
  free(*out);
  *out = joined;
  return 0;
}

static int parse_document(json_t *doc, struct ward_config *cfg, ward_error_t *err)
{
  int rc;
  if (wj_expect(doc, JSON_OBJECT, "(document)", err) < 0 || wj_req_string(doc, "ociVersion", "", &cfg->oci_version, err) < 0)
    return -1;
  if (strncmp(cfg->oci_version, "1.", 2) != 0 && strcmp(cfg->oci_version, "1") != 0)
    return ward_error(err, 0, "ociVersion: \"%s\" is not a 1.x version", cfg->oci_version);
  json_t *root = wj_opt_member(doc, "root", JSON_OBJECT, "", &rc, err);
  if (rc < 0)
    return -1;
  if (root == NULL)
    return ward_error(err, 0, "root: required field is missing");
  if (wj_req_string(root, "path", "root", &cfg->root_path, err) < 0 ||
      wj_opt_bool(root, "readonly", "root", &cfg->root_readonly, err) < 0)
    return -1;
  json_t *proc = wj_opt_member(doc, "process", JSON_OBJECT, "", &rc, err);
  if (rc < 0)
    return -1;
  if (proc) {
    cfg->has_process = true;
    if (ward_process_parse(proc, "process", &cfg->process, err) < 0)
      return -1;
  }
  if (wj_opt_string(doc, "hostname", "", &cfg->hostname, err) < 0 ||
      wj_opt_string(doc, "domainname", "", &cfg->domainname, err) < 0)
    return -1;
  if (cfg->hostname && strlen(cfg->hostname) > 64)
    return ward_error(err, 0, "hostname: longer than 64 characters");
  if (ward_config_parse_mounts(doc, cfg, err) < 0 || ward_config_parse_linux(doc, cfg, err) < 0 ||
      parse_kv_object(doc, "annotations", "", &cfg->annotations, &cfg->n_annotations, err) < 0 ||
      parse_hooks(doc, &cfg->hooks, err) < 0)
    return -1;
  if ((cfg->hostname || cfg->domainname) && !cfg->ns[WARD_NS_UTS].requested)
    return ward_error(err, 0, "hostname: setting a hostname requires a new uts namespace (linux.namespaces)");
  return 0;
}

int ward_config_parse_json(const char *what, json_t *doc, struct ward_config **out, ward_error_t *err)
{
  _cleanup_config_ struct ward_config *cfg = calloc(1, sizeof(*cfg));
  if (cfg == NULL)
    return ward_error(err, ENOMEM, "%s", what);
  cfg->raw = json_incref(doc);
  cfg->resources = (struct ward_resources) {.memory_limit = -1, .memory_reservation = -1, .memory_swap = -1,
                                            .pids_limit = -1, .cpu_quota = -1};
  if (parse_document(doc, cfg, err) < 0)
    return ward_error_prefix(err, "%s", what);
  *out = steal_pointer(&cfg);
  return 0;
}

int ward_config_parse_buffer(const char *what, const char *buf, size_t len, struct ward_config **out, ward_error_t *err)
{
  _cleanup_json_ json_t *doc = NULL;
  if (wj_load_buffer(what, buf, len, &doc, err) < 0)
    return -1;
  return ward_config_parse_json(what, doc, out, err);
}

int ward_config_load(const char *bundle, struct ward_config **out, ward_error_t *err)
{
  char abs_bundle[PATH_MAX];
  if (realpath(bundle, abs_bundle) == NULL)
    return ward_error_sys(err, "bundle %s", bundle);
  _cleanup_free_ char *path = NULL;
  if (asprintf(&path, "%s/config.json", abs_bundle) < 0)
    return ward_error(err, ENOMEM, "bundle");
  _cleanup_json_ json_t *doc = NULL;
  if (wj_load_file(path, CONFIG_MAX_BYTES, &doc, err) < 0)
    return -1;
  _cleanup_config_ struct ward_config *cfg = NULL;
  if (ward_config_parse_json(path, doc, &cfg, err) < 0)
    return -1;
  if ((cfg->bundle = strdup(abs_bundle)) == NULL || make_absolute(abs_bundle, cfg->root_path, &cfg->root_path, err) < 0)
    return ward_error(err, ENOMEM, "bundle");
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    struct ward_mount *m = &cfg->mounts[i];
    if (m->bind && m->source && m->source[0] != '/' && make_absolute(abs_bundle, m->source, &m->source, err) < 0)
      return -1;
  }
  *out = steal_pointer(&cfg);
  return 0;
}

const char *ward_config_annotation(const struct ward_config *cfg, const char *key)
{
  for (size_t i = 0; i < cfg->n_annotations; i++)
    if (strcmp(cfg->annotations[i].key, key) == 0)
      return cfg->annotations[i].value;
  return NULL;
}

static void free_kv(struct ward_kv *kv, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(kv[i].key);
    free(kv[i].value);
  }
  free(kv);
}

void ward_config_free(struct ward_config *cfg)
{
  if (cfg == NULL)
    return;
  free(cfg->oci_version);
  free(cfg->bundle);
  free(cfg->root_path);
  free(cfg->hostname);
  free(cfg->domainname);
  ward_process_clear(&cfg->process);
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    struct ward_mount *m = &cfg->mounts[i];
    free(m->destination);
    free(m->type);
    free(m->source);
    free(m->data);
    ward_strv_free(m->options);
  }
  free(cfg->mounts);
  for (int i = 0; i < WARD_NS_COUNT; i++)
    free(cfg->ns[i].path);
  free(cfg->uid_maps);
  free(cfg->gid_maps);
  for (size_t i = 0; i < cfg->n_devices; i++)
    free(cfg->devices[i].path);
  free(cfg->devices);
  ward_strv_free(cfg->masked_paths);
  ward_strv_free(cfg->readonly_paths);
  free_kv(cfg->sysctl, cfg->n_sysctl);
  free(cfg->cgroups_path);
  free(cfg->resources.devices);
  free(cfg->resources.cpu_cpus);
  free(cfg->resources.cpu_mems);
  if (cfg->seccomp)
    ward_seccomp_free(cfg->seccomp);
  free_kv(cfg->annotations, cfg->n_annotations);
  for (int k = 0; k < WARD_HOOK_COUNT; k++) {
    for (size_t i = 0; i < cfg->hooks.count[k]; i++) {
      free(cfg->hooks.list[k][i].path);
      ward_strv_free(cfg->hooks.list[k][i].args);
      ward_strv_free(cfg->hooks.list[k][i].env);
    }
    free(cfg->hooks.list[k]);
  }
  json_decref(cfg->raw);
  free(cfg);
}
