/* `docker inspect` / `podman inspect` output: an array of container objects
 * (or one object). Unset fields mean the engine's defaults: its seccomp and
 * AppArmor profiles, its default capability set and masked paths. */
#include "audit/audit_model.h"

#include <string.h>

static bool mode_is_host(const char *s)
{
  return s && strcmp(s, "host") == 0;
}

static void host_mode(struct amodel *m, const struct anode *hc, const char *key, struct afield *f)
{
  const struct anode *n = anode_get(hc, key);
  if (mode_is_host(anode_str(n)))
    afield_set(f, T_YES, aloc_at(apath(m, "HostConfig", key), n));
}

static void mounts(struct amodel *m, struct acontainer *c, const struct anode *obj, const struct anode *hc)
{
  const struct anode *ms = anode_get(obj, "Mounts");
  if (anode_is_seq(ms) && ms->n > 0) {
    for (size_t i = 0; i < ms->n; i++) {
      const struct anode *e = ms->kids[i];
      const char *type = anode_str(anode_get(e, "Type"));
      int rw = anode_bool(anode_get(e, "RW"));
      amount_add(m, c, anode_str(anode_get(e, "Source")), anode_str(anode_get(e, "Destination")), rw == 0,
                 type && strcmp(type, "bind") == 0, aloc_at(apath_idx(m, "Mounts", i), e));
    }
    return;
  }
  const struct anode *binds = anode_get(hc, "Binds");
  if (anode_is_seq(binds))
    for (size_t i = 0; i < binds->n; i++)
      if (anode_str(binds->kids[i]))
        amodel_bind_spec(m, c, anode_str(binds->kids[i]), aloc_at(apath_idx(m, "HostConfig.Binds", i), binds->kids[i]));
  const struct anode *hm = anode_get(hc, "Mounts");
  if (anode_is_seq(hm))
    for (size_t i = 0; i < hm->n; i++) {
      const struct anode *e = hm->kids[i];
      const char *type = anode_str(anode_get(e, "Type"));
      amount_add(m, c, anode_str(anode_get(e, "Source")), anode_str(anode_get(e, "Target")),
                 anode_bool(anode_get(e, "ReadOnly")) == 1, type && strcmp(type, "bind") == 0,
                 aloc_at(apath_idx(m, "HostConfig.Mounts", i), e));
    }
}

static void one(struct amodel *m, const struct anode *obj, const char *base)
{
  const char *name = anode_str(anode_get(obj, "Name"));
  if (name == NULL)
    name = anode_str(anode_get(obj, "Id"));
  struct acontainer *c = amodel_add(m, WARD_AUDIT_DOCKER, name ? (name[0] == '/' ? name + 1 : name) : "container", base, obj);
  if (c == NULL)
    return;
  c->caps_from_default = true;
  const struct anode *hc = anode_get(obj, "HostConfig");
  const struct anode *cfg = anode_get(obj, "Config");
  int64_t v = 0;

  const struct anode *priv = anode_get(hc, "Privileged");
  if (anode_bool(priv) == 1)
    afield_set(&c->privileged, T_YES, aloc_at("HostConfig.Privileged", priv));
  aitems_from_seq(m, &c->cap_add, anode_get(hc, "CapAdd"), "HostConfig.CapAdd");
  aitems_from_seq(m, &c->cap_drop, anode_get(hc, "CapDrop"), "HostConfig.CapDrop");
  /* podman reports the resolved set; prefer it over add/drop arithmetic. */
  const struct anode *eff = anode_get(obj, "EffectiveCaps");
  if (anode_is_seq(eff))
    aitems_from_seq(m, &c->cap_set, eff, "EffectiveCaps");

  host_mode(m, hc, "PidMode", &c->host_pid);
  host_mode(m, hc, "IpcMode", &c->host_ipc);
  host_mode(m, hc, "NetworkMode", &c->host_net);
  host_mode(m, hc, "UTSMode", &c->host_uts);
  host_mode(m, hc, "UsernsMode", &c->host_user);
  host_mode(m, hc, "CgroupnsMode", &c->host_cgroup);
  const struct anode *um = anode_get(hc, "UsernsMode");
  if (anode_str(um) && !mode_is_host(anode_str(um)))
    afield_set(&c->userns, T_YES, aloc_at("HostConfig.UsernsMode", um));

  mounts(m, c, obj, hc);

  const struct anode *devs = anode_get(hc, "Devices");
  if (anode_is_seq(devs))
    for (size_t i = 0; i < devs->n; i++)
      aitems_add(m, &c->devices, anode_str(anode_get(devs->kids[i], "PathOnHost")), NULL,
                 aloc_at(apath_idx(m, "HostConfig.Devices", i), devs->kids[i]));
  const struct anode *rules = anode_get(hc, "DeviceCgroupRules");
  if (anode_is_seq(rules))
    for (size_t i = 0; i < rules->n; i++) {
      const char *r = anode_str(rules->kids[i]);
      if (r && (strncmp(r, "a", 1) == 0 || strstr(r, "*:*")))
        afield_set(&c->dev_allow_all, T_YES, aloc_at(apath_idx(m, "HostConfig.DeviceCgroupRules", i), rules->kids[i]));
    }

  const struct anode *so = anode_get(hc, "SecurityOpt");
  if (anode_is_seq(so))
    for (size_t i = 0; i < so->n; i++)
      if (anode_str(so->kids[i]))
        amodel_security_opt(m, c, anode_str(so->kids[i]), aloc_at(apath_idx(m, "HostConfig.SecurityOpt", i), so->kids[i]));
  if (c->seccomp.v == PROF_UNSET)
    c->seccomp.v = PROF_DEFAULT;
  const struct anode *aa = anode_get(obj, "AppArmorProfile");
  if (c->apparmor.v == PROF_UNSET && anode_str(aa) && strcmp(anode_str(aa), "unconfined") == 0)
    c->apparmor = (struct aprofile){PROF_UNCONFINED, aloc_at("AppArmorProfile", aa)};

  const struct anode *user = anode_get(cfg, "User");
  const char *u = anode_str(user);
  if (u && *u)
    afield_set(&c->root, atri_of(strcmp(u, "0") == 0 || strncmp(u, "0:", 2) == 0 || strcmp(u, "root") == 0 ||
                                 strncmp(u, "root:", 5) == 0), aloc_at("Config.User", user));

  const struct anode *ro = anode_get(hc, "ReadonlyRootfs");
  if (anode_bool(ro) == 1)
    afield_set(&c->ro_rootfs, T_YES, aloc_at("HostConfig.ReadonlyRootfs", ro));
  const struct anode *pl = anode_get(hc, "PidsLimit");
  if (anode_int(pl, &v) && v > 0)
    afield_set(&c->pids_limit, T_YES, aloc_at("HostConfig.PidsLimit", pl));
  const struct anode *mem = anode_get(hc, "Memory");
  if (anode_int(mem, &v) && v > 0)
    afield_set(&c->mem_limit, T_YES, aloc_at("HostConfig.Memory", mem));

  const struct anode *mp = anode_get(hc, "MaskedPaths");
  if (anode_is_seq(mp))
    aitems_from_seq(m, &c->masked, mp, "HostConfig.MaskedPaths");
  const struct anode *rp = anode_get(hc, "ReadonlyPaths");
  if (anode_is_seq(rp))
    aitems_from_seq(m, &c->ropaths, rp, "HostConfig.ReadonlyPaths");

  const struct anode *sys = anode_get(hc, "Sysctls");
  if (anode_is_map(sys))
    for (size_t i = 0; i < sys->n; i++)
      aitems_add(m, &c->sysctls, sys->keys[i], anode_str(sys->kids[i]),
                 aloc_at(apath(m, "HostConfig.Sysctls", sys->keys[i]), sys->kids[i]));

  const struct anode *pb = anode_get(hc, "PortBindings");
  if (anode_is_map(pb))
    for (size_t i = 0; i < pb->n; i++) {
      const struct anode *l = pb->kids[i];
      for (size_t k = 0; anode_is_seq(l) && k < l->n; k++) {
        const char *hp = anode_str(anode_get(l->kids[k], "HostPort"));
        if (hp && *hp)
          aitems_add(m, &c->host_ports, hp, pb->keys[i],
                     aloc_at(apath(m, "HostConfig.PortBindings", pb->keys[i]), l->kids[k]));
      }
    }
}

int audit_norm_docker(struct amodel *m, const struct anode *doc, ward_error_t *err)
{
  (void) err;
  if (anode_is_map(doc)) {
    one(m, doc, "");
    return 0;
  }
  for (size_t i = 0; anode_is_seq(doc) && i < doc->n; i++)
    if (anode_is_map(doc->kids[i])) {
      size_t before = m->n;
      one(m, doc->kids[i], "");
      /* Paths inside an array element are relative to it: prefix the index
       * so a finding in the third container says [2].HostConfig... */
      if (m->n > before && doc->n > 1)
        m->c[before].name = aprintf(m, "[%zu] %s", i, m->c[before].name);
    }
  return 0;
}
