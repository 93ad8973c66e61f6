/* OCI runtime-spec config.json. Nothing is implied here: a namespace not
 * listed is the host's, an absent seccomp section means no filter, and the
 * capability lists are the whole set the process gets. */
#include "audit/audit_model.h"

#include <string.h>

static void namespaces(struct amodel *m, struct acontainer *c, const struct anode *linux_)
{
  const struct anode *ns = anode_get(linux_, "namespaces");
  const char *base = "linux.namespaces";
  struct aloc where = ns ? aloc_at(base, ns) : aloc_at(linux_ ? "linux" : "", linux_);
  bool have[6] = {false};
  static const char *const types[6] = {"pid", "ipc", "network", "uts", "user", "cgroup"};
  if (anode_is_seq(ns)) {
    for (size_t i = 0; i < ns->n; i++) {
      const struct anode *e = ns->kids[i];
      const char *t = anode_str(anode_get(e, "type"));
      if (t == NULL)
        continue;
      for (int k = 0; k < 6; k++)
        if (strcmp(t, types[k]) == 0) {
          /* Joining pid 1's namespace by path is the host's namespace. */
          const char *path = anode_str(anode_get(e, "path"));
          have[k] = path == NULL || strncmp(path, "/proc/1/ns/", 11) != 0;
        }
    }
  }
  /* A missing user namespace is judged with the user (root without a user
   * namespace), not as a host namespace of its own. */
  struct afield *fields[6] = {&c->host_pid, &c->host_ipc, &c->host_net, &c->host_uts, NULL, &c->host_cgroup};
  for (int k = 0; k < 6; k++)
    if (fields[k] && !have[k])
      afield_set(fields[k], T_YES, where);
  c->userns.v = have[4] ? T_YES : T_NO;
  c->userns.loc = where;
  (void) m;
}

static void capabilities(struct amodel *m, struct acontainer *c, const struct anode *process)
{
  const struct anode *caps = anode_get(process, "capabilities");
  c->cap_set.present = true;
  c->cap_set.loc = aloc_at("process.capabilities", caps ? caps : process);
  static const char *const sets[] = {"bounding", "effective", "permitted", "ambient"};
  for (size_t s = 0; s < 4; s++) {
    const struct anode *l = anode_get(caps, sets[s]);
    if (!anode_is_seq(l))
      continue;
    const char *p = apath(m, "process.capabilities", sets[s]);
    for (size_t i = 0; i < l->n; i++) {
      const char *name = anode_str(l->kids[i]);
      if (name && !aitems_has(&c->cap_set, name, NULL))
        aitems_add(m, &c->cap_set, name, NULL, aloc_at(apath_idx(m, p, i), l->kids[i]));
    }
  }
}

static void mounts(struct amodel *m, struct acontainer *c, const struct anode *doc)
{
  const struct anode *ms = anode_get(doc, "mounts");
  if (!anode_is_seq(ms))
    return;
  for (size_t i = 0; i < ms->n; i++) {
    const struct anode *e = ms->kids[i];
    const char *type = anode_str(anode_get(e, "type"));
    const struct anode *opts = anode_get(e, "options");
    bool bind = type && strcmp(type, "bind") == 0, ro = false;
    if (anode_is_seq(opts))
      for (size_t k = 0; k < opts->n; k++) {
        const char *o = anode_str(opts->kids[k]);
        if (o && (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0))
          bind = true;
        if (o && strcmp(o, "ro") == 0)
          ro = true;
      }
    amount_add(m, c, anode_str(anode_get(e, "source")), anode_str(anode_get(e, "destination")), ro, bind,
               aloc_at(apath_idx(m, "mounts", i), e));
  }
}

static void resources(struct amodel *m, struct acontainer *c, const struct anode *linux_)
{
  const struct anode *res = anode_get(linux_, "resources");
  int64_t v = 0;
  const struct anode *pl = anode_get(anode_get(res, "pids"), "limit");
  if (anode_int(pl, &v))
    afield_set(&c->pids_limit, v > 0 ? T_YES : T_NO, aloc_at("linux.resources.pids.limit", pl));
  const struct anode *ml = anode_get(anode_get(res, "memory"), "limit");
  if (anode_int(ml, &v))
    afield_set(&c->mem_limit, v > 0 ? T_YES : T_NO, aloc_at("linux.resources.memory.limit", ml));
  const struct anode *devs = anode_get(res, "devices");
  if (anode_is_seq(devs)) {
    /* Rules apply in order: the last match wins, so an allow-all rule only
     * matters when no later deny-all follows it. */
    for (size_t i = 0; i < devs->n; i++) {
      const struct anode *d = devs->kids[i];
      int allow = anode_bool(anode_get(d, "allow"));
      const char *type = anode_str(anode_get(d, "type"));
      bool all = anode_get(d, "major") == NULL && anode_get(d, "minor") == NULL &&
                 (type == NULL || strcmp(type, "a") == 0);
      if (all)
        afield_set(&c->dev_allow_all, allow == 1 ? T_YES : T_NO,
                   aloc_at(apath_idx(m, "linux.resources.devices", i), d));
    }
  }
  const struct anode *nodes = anode_get(linux_, "devices");
  if (anode_is_seq(nodes))
    for (size_t i = 0; i < nodes->n; i++)
      aitems_add(m, &c->devices, anode_str(anode_get(nodes->kids[i], "path")), NULL,
                 aloc_at(apath_idx(m, "linux.devices", i), nodes->kids[i]));
}

int audit_norm_oci(struct amodel *m, const struct anode *doc, ward_error_t *err)
{
  (void) err;
  struct acontainer *c = amodel_add(m, WARD_AUDIT_OCI, "config", "", doc);
  if (c == NULL)
    return 0;
  const struct anode *process = anode_get(doc, "process");
  const struct anode *linux_ = anode_get(doc, "linux");
  namespaces(m, c, linux_);
  capabilities(m, c, process);
  mounts(m, c, doc);
  resources(m, c, linux_);

  const struct anode *user = anode_get(process, "user");
  const struct anode *uid = anode_get(user, "uid");
  int64_t v = 0;
  if (anode_int(uid, &v))
    afield_set(&c->root, atri_of(v == 0), aloc_at("process.user.uid", uid));
  else
    afield_set(&c->root, T_YES, aloc_at("process.user", user ? user : process));

  const struct anode *nnp = anode_get(process, "noNewPrivileges");
  afield_set(&c->nnp, anode_bool(nnp) == 1 ? T_YES : T_NO, aloc_at("process.noNewPrivileges", nnp ? nnp : process));

  const struct anode *aa = anode_get(process, "apparmorProfile");
  if (anode_str(aa))
    c->apparmor = (struct aprofile){strcmp(anode_str(aa), "unconfined") == 0 ? PROF_UNCONFINED : PROF_CUSTOM,
                                    aloc_at("process.apparmorProfile", aa)};
  const struct anode *se = anode_get(process, "selinuxLabel");
  if (anode_str(se) && strstr(anode_str(se), "spc_t"))
    afield_set(&c->selinux_off, T_YES, aloc_at("process.selinuxLabel", se));

  const struct anode *root = anode_get(doc, "root");
  const struct anode *ro = anode_get(root, "readonly");
  afield_set(&c->ro_rootfs, anode_bool(ro) == 1 ? T_YES : T_NO, aloc_at("root.readonly", ro ? ro : root));

  const struct anode *sc = anode_get(linux_, "seccomp");
  if (anode_is_map(sc)) {
    const char *act = anode_str(anode_get(sc, "defaultAction"));
    const struct anode *calls = anode_get(sc, "syscalls");
    /* A filter that allows by default and lists nothing blocks nothing. */
    bool empty = act && strcmp(act, "SCMP_ACT_ALLOW") == 0 && (!anode_is_seq(calls) || calls->n == 0);
    c->seccomp = (struct aprofile){empty ? PROF_UNCONFINED : PROF_CUSTOM, aloc_at("linux.seccomp", sc)};
  }
  aitems_from_seq(m, &c->masked, anode_get(linux_, "maskedPaths"), "linux.maskedPaths");
  aitems_from_seq(m, &c->ropaths, anode_get(linux_, "readonlyPaths"), "linux.readonlyPaths");
  if (!c->masked.present)
    c->masked.loc = aloc_at("linux.maskedPaths", linux_ ? linux_ : doc);
  if (!c->ropaths.present)
    c->ropaths.loc = aloc_at("linux.readonlyPaths", linux_ ? linux_ : doc);

  const struct anode *sys = anode_get(linux_, "sysctl");
  if (anode_is_map(sys))
    for (size_t i = 0; i < sys->n; i++)
      aitems_add(m, &c->sysctls, sys->keys[i], anode_str(sys->kids[i]),
                 aloc_at(apath(m, "linux.sysctl", sys->keys[i]), sys->kids[i]));
  return 0;
}
