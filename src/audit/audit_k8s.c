/* Kubernetes manifests: Pod and the controllers that carry a pod template
 * (and List). Pod-level settings (host namespaces, pod securityContext,
 * hostPath volumes) are folded into each container, with the container's
 * own securityContext taking precedence as the kubelet does. */
#include "audit/audit_model.h"

#include <ctype.h>
#include <string.h>

struct pod {
  const struct anode *spec;
  const char *path;               /* of spec */
  const struct anode *annotations;
  const char *ann_path;
  const char *owner;              /* "deployment/web" */
};

static const struct anode *sc_get(const struct anode *csc, const struct anode *psc, const char *key,
                                  const char *cpath, const char *ppath, struct amodel *m, const char **path)
{
  const struct anode *n = anode_get(csc, key);
  if (n && !anode_is_null(n)) {
    *path = apath(m, cpath, key);
    return n;
  }
  n = anode_get(psc, key);
  if (n && !anode_is_null(n)) {
    *path = apath(m, ppath, key);
    return n;
  }
  return NULL;
}

static void profile(struct amodel *m, struct aprofile *out, const struct anode *n, const char *path)
{
  const char *t = anode_str(anode_get(n, "type"));
  if (t == NULL)
    return;
  const char *p = apath(m, path, "type");
  if (strcmp(t, "Unconfined") == 0)
    *out = (struct aprofile){PROF_UNCONFINED, aloc_at(p, anode_get(n, "type"))};
  else if (strcmp(t, "RuntimeDefault") == 0)
    *out = (struct aprofile){PROF_DEFAULT, aloc_at(p, anode_get(n, "type"))};
  else
    *out = (struct aprofile){PROF_CUSTOM, aloc_at(p, anode_get(n, "type"))};
}

/* The pre-1.30 annotation forms still work on many clusters. */
static void annotation_profiles(struct amodel *m, struct acontainer *c, const struct pod *pod, const char *cname)
{
  const struct anode *a = pod->annotations;
  if (!anode_is_map(a))
    return;
  for (size_t i = 0; i < a->n; i++) {
    const char *k = a->keys[i], *v = anode_str(a->kids[i]);
    if (v == NULL)
      continue;
    struct aloc loc = aloc_at(apath(m, pod->ann_path, k), a->kids[i]);
    const char *slash = strchr(k, '/');
    bool mine = slash && strcmp(slash + 1, cname) == 0;
    if (c->apparmor.v == PROF_UNSET && mine && strncmp(k, "container.apparmor.security.beta.kubernetes.io/", 47) == 0)
      c->apparmor = (struct aprofile){strcmp(v, "unconfined") == 0 ? PROF_UNCONFINED : PROF_CUSTOM, loc};
    if (c->seccomp.v == PROF_UNSET &&
        ((mine && strncmp(k, "container.seccomp.security.alpha.kubernetes.io/", 47) == 0) ||
         strcmp(k, "seccomp.security.alpha.kubernetes.io/pod") == 0))
      c->seccomp = (struct aprofile){strcmp(v, "unconfined") == 0 ? PROF_UNCONFINED
                                     : strcmp(v, "runtime/default") == 0 || strcmp(v, "docker/default") == 0 ? PROF_DEFAULT
                                     : PROF_CUSTOM, loc};
  }
}

static void pod_field(struct amodel *m, const struct pod *pod, const char *key, struct afield *f)
{
  const struct anode *n = anode_get(pod->spec, key);
  int b = anode_bool(n);
  if (b >= 0)
    afield_set(f, atri_of(b), aloc_at(apath(m, pod->path, key), n));
}

static void volume_mounts(struct amodel *m, struct acontainer *c, const struct pod *pod,
                          const struct anode *ctr, const char *cpath)
{
  const struct anode *vms = anode_get(ctr, "volumeMounts");
  const struct anode *vols = anode_get(pod->spec, "volumes");
  const char *vmp = apath(m, cpath, "volumeMounts");
  for (size_t i = 0; anode_is_seq(vms) && i < vms->n; i++) {
    const struct anode *vm = vms->kids[i];
    const char *name = anode_str(anode_get(vm, "name"));
    for (size_t k = 0; name && anode_is_seq(vols) && k < vols->n; k++) {
      const struct anode *vol = vols->kids[k];
      const char *vname = anode_str(anode_get(vol, "name"));
      const struct anode *hp = anode_get(vol, "hostPath");
      if (vname == NULL || strcmp(vname, name) != 0 || !anode_is_map(hp))
        continue;
      amount_add(m, c, anode_str(anode_get(hp, "path")), anode_str(anode_get(vm, "mountPath")),
                 anode_bool(anode_get(vm, "readOnly")) == 1, true, aloc_at(apath_idx(m, vmp, i), vm));
    }
  }
}

static void container(struct amodel *m, const struct pod *pod, const struct anode *ctr, const char *cpath,
                      const char *what)
{
  const char *cname = anode_str(anode_get(ctr, "name"));
  struct acontainer *c = amodel_add(m, WARD_AUDIT_K8S, aprintf(m, "%s %s %s", pod->owner, what, cname ? cname : "?"),
                                    cpath, ctr);
  if (c == NULL)
    return;
  c->caps_from_default = true;
  const struct anode *csc = anode_get(ctr, "securityContext");
  const struct anode *psc = anode_get(pod->spec, "securityContext");
  const char *cscp = apath(m, cpath, "securityContext"), *pscp = apath(m, pod->path, "securityContext");
  const char *p = NULL;
  const struct anode *n;

  pod_field(m, pod, "hostPID", &c->host_pid);
  pod_field(m, pod, "hostIPC", &c->host_ipc);
  pod_field(m, pod, "hostNetwork", &c->host_net);
  pod_field(m, pod, "shareProcessNamespace", &c->share_pidns);
  pod_field(m, pod, "automountServiceAccountToken", &c->sa_token);
  struct afield *hostns[] = {&c->host_pid, &c->host_ipc, &c->host_net};
  for (size_t i = 0; i < 3; i++)  /* "false" is the default: nothing to report */
    if (hostns[i]->v == T_NO)
      hostns[i]->v = T_UNSET;
  const struct anode *hu = anode_get(pod->spec, "hostUsers");
  if (anode_bool(hu) == 0)
    afield_set(&c->userns, T_YES, aloc_at(apath(m, pod->path, "hostUsers"), hu));

  if (anode_bool(n = anode_get(csc, "privileged")) == 1)
    afield_set(&c->privileged, T_YES, aloc_at(apath(m, cscp, "privileged"), n));
  const struct anode *caps = anode_get(csc, "capabilities");
  const char *capp = apath(m, cscp, "capabilities");
  aitems_from_seq(m, &c->cap_add, anode_get(caps, "add"), apath(m, capp, "add"));
  aitems_from_seq(m, &c->cap_drop, anode_get(caps, "drop"), apath(m, capp, "drop"));

  int64_t uid = 0;
  if ((n = sc_get(csc, psc, "runAsUser", cscp, pscp, m, &p)) && anode_int(n, &uid))
    afield_set(&c->root, atri_of(uid == 0), aloc_at(p, n));
  if ((n = sc_get(csc, psc, "runAsNonRoot", cscp, pscp, m, &p)) && anode_bool(n) >= 0) {
    afield_set(&c->run_as_nonroot, atri_of(anode_bool(n) == 1), aloc_at(p, n));
    if (anode_bool(n) == 1 && c->root.v == T_UNSET)
      afield_set(&c->root, T_NO, aloc_at(p, n));
  }
  if ((n = sc_get(csc, psc, "seccompProfile", cscp, pscp, m, &p)))
    profile(m, &c->seccomp, n, p);
  if ((n = sc_get(csc, psc, "appArmorProfile", cscp, pscp, m, &p)))
    profile(m, &c->apparmor, n, p);
  if (c->apparmor.v == PROF_DEFAULT)
    c->apparmor.v = PROF_UNSET;
  annotation_profiles(m, c, pod, cname ? cname : "");
  if ((n = sc_get(csc, psc, "seLinuxOptions", cscp, pscp, m, &p))) {
    const char *t = anode_str(anode_get(n, "type"));
    if (t && strcmp(t, "spc_t") == 0)
      afield_set(&c->selinux_off, T_YES, aloc_at(apath(m, p, "type"), anode_get(n, "type")));
  }
  if ((n = anode_get(csc, "allowPrivilegeEscalation")) && anode_bool(n) >= 0)
    afield_set(&c->nnp, atri_of(anode_bool(n) == 0), aloc_at(apath(m, cscp, "allowPrivilegeEscalation"), n));
  if (anode_bool(n = anode_get(csc, "readOnlyRootFilesystem")) == 1)
    afield_set(&c->ro_rootfs, T_YES, aloc_at(apath(m, cscp, "readOnlyRootFilesystem"), n));
  const char *pm = anode_str(n = anode_get(csc, "procMount"));
  if (pm && strcmp(pm, "Unmasked") == 0)
    afield_set(&c->proc_unmasked, T_YES, aloc_at(apath(m, cscp, "procMount"), n));

  const struct anode *sys = anode_get(psc, "sysctls");
  const char *sysp = apath(m, pscp, "sysctls");
  for (size_t i = 0; anode_is_seq(sys) && i < sys->n; i++)
    aitems_add(m, &c->sysctls, anode_str(anode_get(sys->kids[i], "name")), anode_str(anode_get(sys->kids[i], "value")),
               aloc_at(apath_idx(m, sysp, i), sys->kids[i]));

  const struct anode *mem = anode_get(anode_get(anode_get(ctr, "resources"), "limits"), "memory");
  if (anode_str(mem))
    afield_set(&c->mem_limit, T_YES, aloc_at(ajoin(m, cpath, "resources.limits.memory"), mem));

  const struct anode *ports = anode_get(ctr, "ports");
  const char *pp = apath(m, cpath, "ports");
  for (size_t i = 0; anode_is_seq(ports) && i < ports->n; i++) {
    const struct anode *hp = anode_get(ports->kids[i], "hostPort");
    int64_t port = 0;
    if (anode_int(hp, &port) && port > 0)
      aitems_add(m, &c->host_ports, anode_str(hp), NULL, aloc_at(apath(m, apath_idx(m, pp, i), "hostPort"), hp));
  }
  volume_mounts(m, c, pod, ctr, cpath);
}

static void lower(char *s)
{
  for (; *s; s++)
    *s = (char) tolower((unsigned char) *s);
}

static int workload(struct amodel *m, const struct anode *doc, const char *base, int depth)
{
  const char *kind = anode_str(anode_get(doc, "kind"));
  if (kind == NULL || depth > 4)
    return 0;
  if (strcmp(kind, "List") == 0 || strcmp(kind, "PodList") == 0 || strcmp(kind, "DeploymentList") == 0) {
    const struct anode *items = anode_get(doc, "items");
    for (size_t i = 0; anode_is_seq(items) && i < items->n; i++)
      workload(m, items->kids[i], apath_idx(m, base, i), depth + 1);
    return 0;
  }
  const struct anode *spec = anode_get(doc, "spec"), *meta = anode_get(doc, "metadata");
  const char *sp = apath(m, base, "spec"), *mp = apath(m, base, "metadata");
  if (strcmp(kind, "Pod") == 0) {
    /* the pod's own spec */
  } else if (strcmp(kind, "CronJob") == 0) {
    const struct anode *tmpl = anode_get(anode_get(anode_get(spec, "jobTemplate"), "spec"), "template");
    sp = ajoin(m, base, "spec.jobTemplate.spec.template");
    meta = anode_get(tmpl, "metadata");
    mp = apath(m, sp, "metadata");
    spec = anode_get(tmpl, "spec");
    sp = apath(m, sp, "spec");
  } else if (strcmp(kind, "Deployment") == 0 || strcmp(kind, "DaemonSet") == 0 || strcmp(kind, "StatefulSet") == 0 ||
             strcmp(kind, "ReplicaSet") == 0 || strcmp(kind, "Job") == 0 || strcmp(kind, "ReplicationController") == 0 ||
             strcmp(kind, "PodTemplate") == 0) {
    const struct anode *tmpl = strcmp(kind, "PodTemplate") == 0 ? anode_get(doc, "template") : anode_get(spec, "template");
    const char *tp = strcmp(kind, "PodTemplate") == 0 ? apath(m, base, "template") : ajoin(m, base, "spec.template");
    meta = anode_get(tmpl, "metadata");
    mp = apath(m, tp, "metadata");
    spec = anode_get(tmpl, "spec");
    sp = apath(m, tp, "spec");
  } else {
    return 0; /* Services, ConfigMaps...: nothing runs */
  }
  if (!anode_is_map(spec))
    return 0;
  char lk[64];
  snprintf(lk, sizeof(lk), "%s", kind);
  lower(lk);
  const char *name = anode_str(anode_get(anode_get(doc, "metadata"), "name"));
  struct pod pod = {.spec = spec, .path = sp, .annotations = anode_get(meta, "annotations"),
                    .ann_path = apath(m, mp, "annotations"), .owner = aprintf(m, "%s/%s", lk, name ? name : "?")};
  static const char *const lists[] = {"initContainers", "containers", "ephemeralContainers"};
  static const char *const what[] = {"init container", "container", "ephemeral container"};
  for (size_t l = 0; l < 3; l++) {
    const struct anode *cs = anode_get(spec, lists[l]);
    const char *lp = apath(m, sp, lists[l]);
    for (size_t i = 0; anode_is_seq(cs) && i < cs->n; i++)
      if (anode_is_map(cs->kids[i]))
        container(m, &pod, cs->kids[i], apath_idx(m, lp, i), what[l]);
  }
  return 0;
}

int audit_norm_k8s(struct amodel *m, const struct anode *doc, size_t docidx, ward_error_t *err)
{
  (void) err;
  (void) docidx;
  return workload(m, doc, "", 0);
}
