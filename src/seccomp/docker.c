/* Docker/moby seccomp profiles (and the containers-common variant with errno
 * names), resolved for a target: entries whose includes/excludes do not
 * match the capabilities, architecture and kernel are dropped, and archMap
 * picks the architectures to filter. The result is the OCI form. */
#include "seccomp/internal.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>

uint64_t ward_seccomp_docker_default_caps(void)
{
  static const int caps[] = {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW,
    CAP_SETGID, CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE,
    CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
  };
  uint64_t set = 0;
  for (size_t i = 0; i < ARRAY_SIZE(caps); i++)
    set |= 1ULL << caps[i];
  return set;
}

static int cap_lookup(const char *name, int *cap)
{
  /* libcap wants the lowercase "cap_" spelling */
  char buf[64];
  const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
  if (snprintf(buf, sizeof(buf), "cap_%s", bare) >= (int) sizeof(buf))
    return -1;
  for (char *p = buf; *p; p++)
    *p = (char) tolower((unsigned char) *p);
  cap_value_t v;
  if (cap_from_name(buf, &v) < 0 || v < 0 || v > 63)
    return -1;
  *cap = v;
  return 0;
}

int ward_seccomp_parse_caps(const char *list, uint64_t *out, ward_error_t *err)
{
  if (strcmp(list, "default") == 0) {
    *out = ward_seccomp_docker_default_caps();
    return 0;
  }
  if (strcmp(list, "all") == 0) {
    *out = cap_max_bits() >= 64 ? UINT64_MAX : (1ULL << cap_max_bits()) - 1;
    return 0;
  }
  uint64_t set = 0;
  if (strcmp(list, "none") != 0 && *list) {
    _cleanup_free_ char *copy = strdup(list);
    if (copy == NULL)
      return ward_error(err, ENOMEM, "capabilities");
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      int cap;
      if (cap_lookup(tok, &cap) < 0)
        return ward_error(err, 0, "unknown capability \"%s\"", tok);
      set |= 1ULL << cap;
    }
  }
  *out = set;
  return 0;
}

/* One includes/excludes object. *any gets whether a condition there holds:
 * for includes every listed condition must hold, for excludes one is enough
 * to drop the entry, so the two are evaluated with `all` true and false. */
static int eval_cond(json_t *rule, const char *key, const char *path, const struct ward_seccomp_target *t,
                     bool all, bool *result, ward_error_t *err)
{
  int rc;
  json_t *c = wj_opt_member(rule, key, JSON_OBJECT, path, &rc, err);
  *result = all;
  if (c == NULL)
    return rc;
  _cleanup_free_ char *cp = wj_path(path, key);
  bool any_listed = false, hit_all = true, hit_any = false;

  _cleanup_strv_ char **caps = NULL;
  if (wj_opt_strv(c, "caps", cp, &caps, NULL, err) < 0)
    return -1;
  for (size_t i = 0; caps && caps[i]; i++) {
    int cap;
    if (cap_lookup(caps[i], &cap) < 0)
      return ward_error(err, 0, "%s.caps[%zu]: unknown capability \"%s\"", cp, i, caps[i]);
    bool have = (t->caps >> cap) & 1;
    any_listed = true;
    hit_all &= have;
    hit_any |= have;
  }

  _cleanup_strv_ char **arches = NULL;
  if (wj_opt_strv(c, "arches", cp, &arches, NULL, err) < 0)
    return -1;
  if (arches && arches[0]) {
    /* arches is a set: the target matches the condition when it is in it */
    bool in = false;
    for (size_t i = 0; arches[i]; i++) {
      if (!ward_scmp_arch_short_known(arches[i]))
        return ward_error(err, 0, "%s.arches[%zu]: unknown architecture \"%s\"", cp, i, arches[i]);
      in |= ward_scmp_arch_short_matches(arches[i], t->arch);
    }
    any_listed = true;
    hit_all &= in;
    hit_any |= in;
  }

  _cleanup_free_ char *min_kernel = NULL;
  if (wj_opt_string(c, "minKernel", cp, &min_kernel, err) < 0)
    return -1;
  if (min_kernel) {
    unsigned maj, min;
    char extra;
    int n = sscanf(min_kernel, "%u.%u%c", &maj, &min, &extra);
    if (n < 2 || (n == 3 && extra != '.' && extra != '-'))
      return ward_error(err, 0, "%s.minKernel: expected a version like \"4.8\", found \"%s\"", cp, min_kernel);
    bool at_least = t->kernel_major > maj || (t->kernel_major == maj && t->kernel_minor >= min);
    any_listed = true;
    hit_all &= at_least;
    hit_any |= at_least;
  }
  *result = !any_listed ? all : all ? hit_all : hit_any;
  return 0;
}

static int parse_arches(struct ward_seccomp *s, json_t *doc, const char *path, uint32_t arch, ward_error_t *err)
{
  _cleanup_strv_ char **flat = NULL;
  if (wj_opt_strv(doc, "architectures", path, &flat, NULL, err) < 0)
    return -1;
  for (size_t i = 0; flat && flat[i]; i++)
    if (ward_scmp_add_arch(s, flat[i], err) < 0)
      return ward_error_prefix(err, "%s%sarchitectures[%zu]", path, DOT(path), i);
  int rc;
  json_t *map = wj_opt_member(doc, "archMap", JSON_ARRAY, path, &rc, err);
  if (rc < 0)
    return -1;
  for (size_t i = 0; i < json_array_size(map); i++) {
    _cleanup_free_ char *p = NULL;
    if ((p = ward_scmp_path(path, "archMap[%zu]", i)) == NULL)
      return ward_error(err, ENOMEM, "%s", path);
    json_t *e = json_array_get(map, i);
    if (wj_expect(e, JSON_OBJECT, p, err) < 0)
      return -1;
    _cleanup_free_ char *main_arch = NULL;
    _cleanup_strv_ char **subs = NULL;
    if (wj_req_string(e, "architecture", p, &main_arch, err) < 0 ||
        wj_opt_strv(e, "subArchitectures", p, &subs, NULL, err) < 0)
      return -1;
    /* every entry is checked, even those for other machines */
    uint32_t token;
    if (ward_scmp_arch_from_name(main_arch, &token) < 0)
      return ward_error(err, 0, "%s.architecture: unknown architecture \"%s\"", p, main_arch);
    for (size_t j = 0; subs && subs[j]; j++) {
      uint32_t sub;
      if (ward_scmp_arch_from_name(subs[j], &sub) < 0)
        return ward_error(err, 0, "%s.subArchitectures[%zu]: unknown architecture \"%s\"", p, j, subs[j]);
    }
    if (token == 0 || token != arch)
      continue;
    if (ward_scmp_add_arch(s, main_arch, err) < 0)
      return ward_error_prefix(err, "%s", p);
    for (size_t j = 0; subs && subs[j]; j++)
      if (ward_scmp_add_arch(s, subs[j], err) < 0)
        return ward_error_prefix(err, "%s.subArchitectures[%zu]", p, j);
  }
  return 0;
}

int ward_seccomp_parse_docker(json_t *doc, const char *path, const struct ward_seccomp_target *target,
                              struct ward_seccomp **out, ward_error_t *err)
{
  struct ward_seccomp_target def = {.caps = ward_seccomp_docker_default_caps()};
  struct ward_seccomp_target t;
  ward_scmp_target_fill(target ? target : &def, &t);
  if (path == NULL)
    path = "";
  if (wj_expect(doc, JSON_OBJECT, *path ? path : "seccomp profile", err) < 0)
    return -1;
  _cleanup_free_ char *def_action = NULL;
  if (wj_req_string(doc, "defaultAction", path, &def_action, err) < 0)
    return -1;
  enum ward_scmp_action act;
  if (ward_scmp_action_from_name(def_action, &act) < 0)
    return ward_error(err, 0, "%s%sdefaultAction: unknown action \"%s\"", path, DOT(path), def_action);
  _cleanup_seccomp_ struct ward_seccomp *s = ward_scmp_new(act, false, 0);
  if (s == NULL)
    return ward_error(err, ENOMEM, "%s", path);
  if (ward_scmp_parse_common(s, doc, path, WARD_SCMP_DOCKER, err) < 0 ||
      parse_arches(s, doc, path, t.arch, err) < 0)
    return -1;

  int rc;
  json_t *rules = wj_opt_member(doc, "syscalls", JSON_ARRAY, path, &rc, err);
  if (rc < 0)
    return -1;
  for (size_t i = 0; i < json_array_size(rules); i++) {
    _cleanup_free_ char *p = NULL;
    if ((p = ward_scmp_path(path, "syscalls[%zu]", i)) == NULL)
      return ward_error(err, ENOMEM, "%s", path);
    json_t *r = json_array_get(rules, i);
    if (wj_expect(r, JSON_OBJECT, p, err) < 0)
      return -1;
    bool included, excluded;
    if (eval_cond(r, "includes", p, &t, true, &included, err) < 0 ||
        eval_cond(r, "excludes", p, &t, false, &excluded, err) < 0)
      return -1;
    /* The rule is still read when it does not apply, so a mistake in an
     * entry for another machine or capability set is reported all the same. */
    size_t before = s->n_rules;
    if (ward_scmp_parse_rule(s, r, p, WARD_SCMP_DOCKER, err) < 0)
      return -1;
    if (!included || excluded) {
      ward_strv_free(s->rules[before].names);
      free(s->rules[before].args);
      s->n_rules = before;
    }
  }
  *out = steal_pointer(&s);
  return 0;
}

int ward_seccomp_read_file(const char *path, const struct ward_seccomp_target *t,
                           struct ward_seccomp **out, ward_error_t *err)
{
  _cleanup_json_ json_t *doc = NULL;
  if (wj_load_file(path, 4u << 20, &doc, err) < 0)
    return -1;
  /* Docker's reader accepts the OCI form too: it is a superset. */
  if (ward_seccomp_parse_docker(doc, "", t, out, err) < 0)
    return ward_error_prefix(err, "%s", path);
  return 0;
}
