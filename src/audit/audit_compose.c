/* docker-compose / compose-spec files. Semantics are Docker's (the engine
 * applies its defaults), the syntax is compose's: short and long volume
 * forms, sysctls as a map or a list, limits under deploy.resources. */
#include "audit/audit_model.h"

#include <stdlib.h>
#include <string.h>

static void host_key(struct amodel *m, const struct anode *svc, const char *base, const char *key,
                     struct afield *f)
{
  const struct anode *n = anode_get(svc, key);
  const char *s = anode_str(n);
  if (s && strcmp(s, "host") == 0)
    afield_set(f, T_YES, aloc_at(apath(m, base, key), n));
}

static void volumes(struct amodel *m, struct acontainer *c, const struct anode *svc, const char *base)
{
  const struct anode *vs = anode_get(svc, "volumes");
  if (!anode_is_seq(vs))
    return;
  const char *p = apath(m, base, "volumes");
  for (size_t i = 0; i < vs->n; i++) {
    const struct anode *v = vs->kids[i];
    struct aloc loc = aloc_at(apath_idx(m, p, i), v);
    if (anode_str(v)) {
      amodel_bind_spec(m, c, anode_str(v), loc);
    } else if (anode_is_map(v)) {
      const char *type = anode_str(anode_get(v, "type"));
      amount_add(m, c, anode_str(anode_get(v, "source")), anode_str(anode_get(v, "target")),
                 anode_bool(anode_get(v, "read_only")) == 1, type && strcmp(type, "bind") == 0, loc);
    }
  }
}

static bool limit_set(const struct anode *n)
{
  const char *s = anode_str(n);
  return s && *s && strcmp(s, "0") != 0 && strcmp(s, "-1") != 0;
}

static void service(struct amodel *m, const char *name, const struct anode *svc)
{
  const char *base = apath(m, "services", name);
  struct acontainer *c = amodel_add(m, WARD_AUDIT_COMPOSE, aprintf(m, "service %s", name), base, svc);
  if (c == NULL || !anode_is_map(svc))
    return;
  c->caps_from_default = true;
  c->seccomp.v = PROF_DEFAULT;
  const struct anode *priv = anode_get(svc, "privileged");
  if (anode_bool(priv) == 1)
    afield_set(&c->privileged, T_YES, aloc_at(apath(m, base, "privileged"), priv));
  aitems_from_seq(m, &c->cap_add, anode_get(svc, "cap_add"), apath(m, base, "cap_add"));
  aitems_from_seq(m, &c->cap_drop, anode_get(svc, "cap_drop"), apath(m, base, "cap_drop"));
  host_key(m, svc, base, "pid", &c->host_pid);
  host_key(m, svc, base, "ipc", &c->host_ipc);
  host_key(m, svc, base, "network_mode", &c->host_net);
  host_key(m, svc, base, "uts", &c->host_uts);
  host_key(m, svc, base, "userns_mode", &c->host_user);
  host_key(m, svc, base, "cgroup", &c->host_cgroup);
  volumes(m, c, svc, base);

  const struct anode *devs = anode_get(svc, "devices");
  const char *dp = apath(m, base, "devices");
  for (size_t i = 0; anode_is_seq(devs) && i < devs->n; i++) {
    const struct anode *d = devs->kids[i];
    const char *s = anode_str(d) ? anode_str(d) : anode_str(anode_get(d, "source"));
    if (s) {
      char host[512];
      snprintf(host, sizeof(host), "%s", s);
      char *colon = strchr(host, ':');
      if (colon)
        *colon = '\0';
      aitems_add(m, &c->devices, host, NULL, aloc_at(apath_idx(m, dp, i), d));
    }
  }
  const struct anode *rules = anode_get(svc, "device_cgroup_rules");
  const char *rp = apath(m, base, "device_cgroup_rules");
  for (size_t i = 0; anode_is_seq(rules) && i < rules->n; i++) {
    const char *r = anode_str(rules->kids[i]);
    if (r && (r[0] == 'a' || strstr(r, "*:*")))
      afield_set(&c->dev_allow_all, T_YES, aloc_at(apath_idx(m, rp, i), rules->kids[i]));
  }
  const struct anode *so = anode_get(svc, "security_opt");
  const char *sp = apath(m, base, "security_opt");
  for (size_t i = 0; anode_is_seq(so) && i < so->n; i++)
    if (anode_str(so->kids[i]))
      amodel_security_opt(m, c, anode_str(so->kids[i]), aloc_at(apath_idx(m, sp, i), so->kids[i]));

  const struct anode *user = anode_get(svc, "user");
  const char *u = anode_str(user);
  if (u && *u)
    afield_set(&c->root, atri_of(strcmp(u, "0") == 0 || strncmp(u, "0:", 2) == 0 || strcmp(u, "root") == 0 ||
                                 strncmp(u, "root:", 5) == 0), aloc_at(apath(m, base, "user"), user));
  const struct anode *ro = anode_get(svc, "read_only");
  if (anode_bool(ro) == 1)
    afield_set(&c->ro_rootfs, T_YES, aloc_at(apath(m, base, "read_only"), ro));

  const struct anode *limits = anode_get(anode_get(anode_get(svc, "deploy"), "resources"), "limits");
  const struct anode *pl = anode_get(svc, "pids_limit");
  const struct anode *dpl = anode_get(limits, "pids");
  if (limit_set(pl))
    afield_set(&c->pids_limit, T_YES, aloc_at(apath(m, base, "pids_limit"), pl));
  else if (limit_set(dpl))
    afield_set(&c->pids_limit, T_YES, aloc_at(ajoin(m, base, "deploy.resources.limits.pids"), dpl));
  const struct anode *ml = anode_get(svc, "mem_limit");
  const struct anode *dml = anode_get(limits, "memory");
  if (limit_set(ml))
    afield_set(&c->mem_limit, T_YES, aloc_at(apath(m, base, "mem_limit"), ml));
  else if (limit_set(dml))
    afield_set(&c->mem_limit, T_YES, aloc_at(ajoin(m, base, "deploy.resources.limits.memory"), dml));

  const struct anode *sys = anode_get(svc, "sysctls");
  const char *syp = apath(m, base, "sysctls");
  if (anode_is_map(sys))
    for (size_t i = 0; i < sys->n; i++)
      aitems_add(m, &c->sysctls, sys->keys[i], anode_str(sys->kids[i]), aloc_at(apath(m, syp, sys->keys[i]), sys->kids[i]));
  for (size_t i = 0; anode_is_seq(sys) && i < sys->n; i++) {
    const char *kv = anode_str(sys->kids[i]);
    if (kv == NULL)
      continue;
    char key[256];
    snprintf(key, sizeof(key), "%s", kv);
    char *eq = strchr(key, '=');
    if (eq)
      *eq = '\0';
    aitems_add(m, &c->sysctls, key, eq ? kv + (eq - key) + 1 : NULL, aloc_at(apath_idx(m, syp, i), sys->kids[i]));
  }

  const struct anode *ports = anode_get(svc, "ports");
  const char *pp = apath(m, base, "ports");
  for (size_t i = 0; anode_is_seq(ports) && i < ports->n; i++) {
    const struct anode *p = ports->kids[i];
    const char *s = anode_str(p);
    const char *published = s ? (strchr(s, ':') ? s : NULL) : anode_str(anode_get(p, "published"));
    if (published)
      aitems_add(m, &c->host_ports, published, NULL, aloc_at(apath_idx(m, pp, i), p));
  }
}

int audit_norm_compose(struct amodel *m, const struct anode *doc, ward_error_t *err)
{
  const struct anode *svcs = anode_get(doc, "services");
  if (!anode_is_map(svcs))
    return ward_error(err, 0, "%d:%d: services: expected a mapping of service names", svcs ? svcs->line : 1,
                      svcs ? svcs->col : 1);
  for (size_t i = 0; i < svcs->n; i++)
    service(m, svcs->keys[i], svcs->kids[i]);
  return 0;
}
