/* The rule set. Each rule is metadata (id, severity, technique, fix, where
 * the field lives for each input kind) plus a check over the normalised
 * container. Rules whose risk privileged mode already implies stay quiet on
 * privileged containers so one finding (WARD-A001) tells the story. */
#include "audit/audit_rules.h"
#include "audit/audit_caps.h"
#include "common/cleanup.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct rule;
struct rctx {
  struct amodel *m;
  const struct acontainer *c;
  struct ward_audit_file *out;
  uint64_t caps, from_default;
  struct aloc caploc[64];
  bool has_all;
  int rc;
};
typedef void (*rule_fn)(struct rctx *x, const struct rule *r);

struct rule {
  struct ward_audit_rule pub;
  const char *hint[5];        /* field to add, per ward_audit_kind */
  rule_fn fn;
  int cap;
  bool skip_privileged;
};

#define CAPRULE(id_, sev_, cap_, title_, tech_, fixtext_) \
  {{id_, sev_, title_, tech_, fixtext_}, \
   {NULL, "process.capabilities", "HostConfig.CapAdd", "securityContext.capabilities.add", "cap_add"}, \
   r_cap, cap_, true}

static void emit(struct rctx *x, const struct rule *r, const struct aloc *loc, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

static void emit(struct rctx *x, const struct rule *r, const struct aloc *loc, const char *fmt, ...)
{
  struct ward_audit_file *o = x->out;
  if (x->rc < 0)
    return;
  if (o->nfindings % 16 == 0) {
    struct ward_audit_finding *f = realloc(o->findings, (o->nfindings + 16) * sizeof(*f));
    if (f == NULL) {
      x->rc = -1;
      return;
    }
    o->findings = f;
  }
  struct ward_audit_finding *f = &o->findings[o->nfindings];
  memset(f, 0, sizeof(*f));
  const struct acontainer *c = x->c;
  const char *hint = r->hint[c->kind];
  if (loc && loc->path && *loc->path) {
    f->field = strdup(loc->path);
  } else if (hint) {
    if (*c->loc.path && c->kind != WARD_AUDIT_OCI && c->kind != WARD_AUDIT_DOCKER) {
      if (asprintf(&f->field, "%s.%s", c->loc.path, hint) < 0)
        f->field = NULL;
    } else {
      f->field = strdup(hint);
    }
  } else {
    f->field = strdup(*c->loc.path ? c->loc.path : "(document)");
  }
  f->line = loc && loc->line ? loc->line : c->loc.line;
  f->col = loc && loc->line ? loc->col : c->loc.col;
  f->container = strdup(c->name);
  f->rule = &r->pub;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&f->detail, fmt, ap) < 0)
    f->detail = NULL;
  va_end(ap);
  if (f->field == NULL || f->container == NULL || f->detail == NULL) {
    free(f->field);
    free(f->container);
    free(f->detail);
    x->rc = -1;
    return;
  }
  o->nfindings++;
}

static bool set(const struct afield *f) { return f->v == T_YES; }

static void r_privileged(struct rctx *x, const struct rule *r)
{
  if (set(&x->c->privileged))
    emit(x, r, &x->c->privileged.loc, "the container runs privileged");
}

static void r_cap(struct rctx *x, const struct rule *r)
{
  uint64_t bit = UINT64_C(1) << r->cap;
  if (x->has_all || !(x->caps & bit))
    return;
  /* Capabilities every runtime grants by default are only reported by the
   * rules that say so (NET_RAW); the rest must have been asked for. */
  if ((x->from_default & bit) && r->cap != ward_cap_parse("NET_RAW"))
    return;
  emit(x, r, &x->caploc[r->cap], "CAP_%s is %s", audit_cap_short_name(r->cap),
       x->from_default & bit ? "in the runtime's default set and not dropped" : "granted");
}

static void r_cap_all(struct rctx *x, const struct rule *r)
{
  if (!x->has_all)
    return;
  const struct aitems *lists[] = {&x->c->cap_add, &x->c->cap_set};
  for (size_t l = 0; l < 2; l++)
    for (size_t i = 0; i < lists[l]->n; i++)
      if (strcasecmp(lists[l]->v[i].name, "ALL") == 0 || strcasecmp(lists[l]->v[i].name, "CAP_ALL") == 0) {
        emit(x, r, &lists[l]->v[i].loc, "every capability is granted");
        return;
      }
  if (x->caps == WARD_CAPS_ALL)
    emit(x, r, &x->c->cap_set.loc, "every capability is listed");
}

/* Capabilities outside the default set that no dedicated rule covers. */
static void r_cap_other(struct rctx *x, const struct rule *r)
{
  static const char *const covered[] = {"SYS_ADMIN", "SYS_MODULE", "SYS_RAWIO", "DAC_READ_SEARCH", "SYS_PTRACE",
                                        "NET_ADMIN", "BPF", "PERFMON", "SYS_BOOT", "SYS_TIME", "SYSLOG",
                                        "MAC_ADMIN", "MAC_OVERRIDE", "NET_RAW", "MKNOD", "DAC_OVERRIDE"};
  if (x->has_all)
    return;
  uint64_t extra = x->caps & ~ward_caps_runtime_default();
  for (size_t i = 0; i < ARRAY_SIZE(covered); i++)
    extra &= ~(UINT64_C(1) << ward_cap_parse(covered[i]));
  for (int cap = 0; cap < WARD_CAP_COUNT; cap++)
    if (extra & (UINT64_C(1) << cap))
      emit(x, r, &x->caploc[cap], "CAP_%s is granted beyond the runtime's default set", audit_cap_short_name(cap));
}

static bool writable_host_mount(const struct acontainer *c, const struct amount **which)
{
  for (size_t i = 0; i < c->nmounts; i++)
    if (c->mounts[i].host && !c->mounts[i].ro) {
      *which = &c->mounts[i];
      return true;
    }
  return false;
}

static void r_dac_override(struct rctx *x, const struct rule *r)
{
  uint64_t bit = UINT64_C(1) << ward_cap_parse("DAC_OVERRIDE");
  const struct amount *mnt = NULL;
  if (!x->has_all && (x->caps & bit) && writable_host_mount(x->c, &mnt))
    emit(x, r, &x->caploc[ward_cap_parse("DAC_OVERRIDE")],
         "CAP_DAC_OVERRIDE %s while host path %s is mounted writable at %s",
         x->from_default & bit ? "is in the default set" : "is granted", mnt->src, mnt->dst);
}

static void r_mknod(struct rctx *x, const struct rule *r)
{
  int cap = ward_cap_parse("MKNOD");
  uint64_t bit = UINT64_C(1) << cap;
  if (x->has_all || !(x->caps & bit))
    return;
  if (!(x->from_default & bit) || set(&x->c->dev_allow_all))
    emit(x, r, &x->caploc[cap], "CAP_MKNOD is %s%s", x->from_default & bit ? "in the default set" : "granted",
         set(&x->c->dev_allow_all) ? " and the device cgroup allows every device" : "");
}

static void r_hostns(struct rctx *x, const struct rule *r)
{
  const struct afield *f[] = {&x->c->host_pid, &x->c->host_ipc, &x->c->host_net, &x->c->host_uts,
                              &x->c->host_user, &x->c->host_cgroup};
  static const char *const what[] = {"PID", "IPC", "network", "UTS", "user", "cgroup"};
  if (set(f[r->cap]))
    emit(x, r, &f[r->cap]->loc, "shares the host's %s namespace", what[r->cap]);
}

/* Canonical form of a host path: no duplicate or trailing slashes. */
static void canon(const char *in, char *out, size_t len)
{
  size_t o = 0;
  for (size_t i = 0; in[i] && o + 1 < len; i++) {
    if (in[i] == '/' && o > 0 && out[o - 1] == '/')
      continue;
    out[o++] = in[i];
  }
  while (o > 1 && out[o - 1] == '/')
    o--;
  out[o] = '\0';
}

static bool under(const char *path, const char *dir)
{
  size_t n = strlen(dir);
  return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static const char *const sensitive[] = {
  "/etc", "/proc", "/sys", "/dev", "/boot", "/root", "/home", "/lib/modules", "/usr/lib/modules", "/run",
  "/var/run", "/var/lib/kubelet", "/var/lib/docker", "/var/lib/containerd", "/var/lib/containers",
  "/var/lib/etcd", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/var/log",
};

static const char *sensitive_match(const char *src)
{
  if (strcmp(src, "/") == 0)
    return "/";
  for (size_t i = 0; i < ARRAY_SIZE(sensitive); i++)
    if (under(src, sensitive[i]))
      return sensitive[i];
  return NULL;
}

static bool is_socket_path(const char *src)
{
  static const char *const socks[] = {"docker.sock", "containerd.sock", "crio.sock", "podman.sock",
                                      "cri-dockerd.sock", "dockershim.sock", "kubelet.sock", "ward.sock",
                                      "agent.sock", "containerd-shim.sock", "buildkitd.sock"};
  static const char *const dirs[] = {"/run/containerd", "/var/run/containerd", "/run/crio", "/var/run/crio",
                                     "/run/podman", "/var/run/podman", "/run/docker", "/var/run/docker",
                                     "/run/ward", "/var/run/ward", "/run/buildkit"};
  const char *base = strrchr(src, '/');
  base = base ? base + 1 : src;
  for (size_t i = 0; i < ARRAY_SIZE(socks); i++)
    if (strcmp(base, socks[i]) == 0)
      return true;
  for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
    if (under(src, dirs[i]))
      return true;
  return false;
}

enum { M_SOCKET, M_SENSITIVE_RW, M_SENSITIVE_RO, M_VARLOG, M_OTHER_RW };

static void r_mounts(struct rctx *x, const struct rule *r)
{
  for (size_t i = 0; i < x->c->nmounts; i++) {
    const struct amount *mt = &x->c->mounts[i];
    if (!mt->host || mt->src[0] != '/')
      continue;
    char src[4096];
    canon(mt->src, src, sizeof(src));
    bool sock = is_socket_path(src);
    const char *sens = sensitive_match(src);
    bool varlog = under(src, "/var/log");
    bool hit = false;
    switch (r->cap) {
    case M_SOCKET: hit = sock; break;
    case M_SENSITIVE_RW: hit = !sock && sens && !varlog && !mt->ro; break;
    case M_SENSITIVE_RO: hit = !sock && sens && mt->ro; break;
    case M_VARLOG: hit = varlog && !mt->ro; break;
    case M_OTHER_RW: hit = !sock && !sens && !mt->ro; break;
    }
    if (hit)
      emit(x, r, &mt->loc, "host path %s is mounted %s at %s%s", mt->src, mt->ro ? "read-only" : "writable",
           mt->dst, !sock && sens && strcmp(sens, src) != 0 ? " (inside a sensitive host directory)" : "");
  }
}

static bool list_has(const struct aitems *it, const char *path)
{
  return aitems_has(it, path, NULL);
}

/* OCI: the lists are explicit. Docker inspect: when present they are what
 * the engine applied. Compose and Kubernetes: the engine's defaults apply
 * unless systempaths=unconfined / procMount: Unmasked say otherwise. */
static void r_readonly_path(struct rctx *x, const struct rule *r, const char *path)
{
  const struct acontainer *c = x->c;
  if (set(&c->unmask_all)) {
    emit(x, r, &c->unmask_all.loc, "systempaths=unconfined leaves %s writable", path);
    return;
  }
  if (set(&c->proc_unmasked)) {
    emit(x, r, &c->proc_unmasked.loc, "procMount Unmasked leaves %s writable", path);
    return;
  }
  if (c->kind == WARD_AUDIT_OCI || c->ropaths.present)
    if (!list_has(&c->ropaths, path) && !list_has(&c->ropaths, "/proc"))
      emit(x, r, &c->ropaths.loc, "%s is not in the read-only paths", path);
}

static void r_procsys(struct rctx *x, const struct rule *r) { r_readonly_path(x, r, "/proc/sys"); }
static void r_sysrq(struct rctx *x, const struct rule *r) { r_readonly_path(x, r, "/proc/sysrq-trigger"); }

static void r_masked(struct rctx *x, const struct rule *r)
{
  const struct acontainer *c = x->c;
  static const char *const want[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
                                     "/sys/firmware"};
  if (set(&c->unmask_all)) {
    emit(x, r, &c->unmask_all.loc, "systempaths=unconfined unmasks /proc/kcore, /proc/keys and the rest");
    return;
  }
  if (c->kind != WARD_AUDIT_OCI && !c->masked.present)
    return;
  char missing[256] = "";
  for (size_t i = 0; i < ARRAY_SIZE(want); i++)
    if (!list_has(&c->masked, want[i]))
      snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s", *missing ? ", " : "", want[i]);
  if (*missing)
    emit(x, r, &c->masked.loc, "not masked: %s", missing);
}

static void r_procmount(struct rctx *x, const struct rule *r)
{
  if (set(&x->c->proc_unmasked))
    emit(x, r, &x->c->proc_unmasked.loc, "procMount is Unmasked");
}

static void r_seccomp_unconfined(struct rctx *x, const struct rule *r)
{
  if (x->c->seccomp.v == PROF_UNCONFINED)
    emit(x, r, &x->c->seccomp.loc, "seccomp is unconfined");
}

static void r_seccomp_missing(struct rctx *x, const struct rule *r)
{
  if (x->c->seccomp.v == PROF_UNSET)
    emit(x, r, NULL, x->c->kind == WARD_AUDIT_OCI ? "no linux.seccomp section: no filter is loaded"
                                                    : "no seccompProfile: the kubelet runs it Unconfined unless --seccomp-default is on");
}

static void r_apparmor(struct rctx *x, const struct rule *r)
{
  if (x->c->apparmor.v == PROF_UNCONFINED)
    emit(x, r, &x->c->apparmor.loc, "AppArmor is unconfined");
}

static void r_selinux(struct rctx *x, const struct rule *r)
{
  if (set(&x->c->selinux_off))
    emit(x, r, &x->c->selinux_off.loc, "SELinux separation is disabled (label=disable or spc_t)");
}

static void r_nnp(struct rctx *x, const struct rule *r)
{
  const struct afield *f = &x->c->nnp;
  if (f->v == T_NO && f->loc.line)
    emit(x, r, &f->loc, "privilege escalation through setuid binaries is explicitly allowed");
  else if (f->v != T_YES)
    emit(x, r, NULL, "no_new_privs is not set");
}

static void r_root(struct rctx *x, const struct rule *r)
{
  const struct acontainer *c = x->c;
  if (c->root.v == T_NO || set(&c->userns) || set(&c->run_as_nonroot))
    return;
  if (c->root.v == T_YES)
    emit(x, r, &c->root.loc, "runs as uid 0 without a user namespace");
  else
    emit(x, r, NULL, "no user is set, so the image's (usually root) applies, and there is no user namespace");
}

static void r_rootfs(struct rctx *x, const struct rule *r)
{
  if (x->c->ro_rootfs.v != T_YES)
    emit(x, r, x->c->ro_rootfs.loc.line ? &x->c->ro_rootfs.loc : NULL, "the root filesystem is writable");
}

static void r_devices(struct rctx *x, const struct rule *r)
{
  for (size_t i = 0; i < x->c->devices.n; i++)
    emit(x, r, &x->c->devices.v[i].loc, "host device %s is exposed", x->c->devices.v[i].name);
}

static void r_dev_all(struct rctx *x, const struct rule *r)
{
  if (set(&x->c->dev_allow_all))
    emit(x, r, &x->c->dev_allow_all.loc, "the device cgroup allows every device");
}

static void r_pids(struct rctx *x, const struct rule *r)
{
  /* Kubernetes has no per-pod field: the kubelet's podPidsLimit decides. */
  if (x->c->kind != WARD_AUDIT_K8S && x->c->pids_limit.v != T_YES)
    emit(x, r, x->c->pids_limit.loc.line ? &x->c->pids_limit.loc : NULL, "no pids limit");
}

static void r_mem(struct rctx *x, const struct rule *r)
{
  if (x->c->mem_limit.v != T_YES)
    emit(x, r, x->c->mem_limit.loc.line ? &x->c->mem_limit.loc : NULL, "no memory limit");
}

static void r_satoken(struct rctx *x, const struct rule *r)
{
  const struct afield *f = &x->c->sa_token;
  if (x->c->kind != WARD_AUDIT_K8S || f->v == T_NO)
    return;
  if (f->v == T_YES)
    emit(x, r, &f->loc, "the service account token is mounted");
  else
    emit(x, r, NULL, "automountServiceAccountToken is unset: the token is mounted unless the ServiceAccount opts out");
}

/* Namespaced sysctls a runtime accepts per container; anything else reaches
 * the host kernel or is refused by the runtime. */
static bool sysctl_safe(const char *name, bool hostnet, bool hostuts)
{
  if ((strcmp(name, "kernel.hostname") == 0 || strcmp(name, "kernel.domainname") == 0) && !hostuts)
    return true;
  if (strncmp(name, "kernel.shm", 10) == 0 || strncmp(name, "kernel.msg", 10) == 0 ||
      strcmp(name, "kernel.sem") == 0 || strncmp(name, "fs.mqueue.", 10) == 0)
    return true;
  return strncmp(name, "net.", 4) == 0 && !hostnet;
}

static void r_sysctl(struct rctx *x, const struct rule *r)
{
  for (size_t i = 0; i < x->c->sysctls.n; i++) {
    const struct aitem *s = &x->c->sysctls.v[i];
    if (!sysctl_safe(s->name, set(&x->c->host_net), set(&x->c->host_uts)))
      emit(x, r, &s->loc, "sysctl %s=%s is not namespaced to the container%s", s->name, s->value ? s->value : "",
           strncmp(s->name, "net.", 4) == 0 ? " (host network)" : "");
  }
}

static void r_sharepid(struct rctx *x, const struct rule *r)
{
  if (set(&x->c->share_pidns))
    emit(x, r, &x->c->share_pidns.loc, "containers of the pod share one PID namespace");
}

static void r_hostport(struct rctx *x, const struct rule *r)
{
  for (size_t i = 0; i < x->c->host_ports.n; i++)
    emit(x, r, &x->c->host_ports.v[i].loc, "host port %s is bound", x->c->host_ports.v[i].name);
}

#define CRIT WARD_SEV_CRITICAL
#define HIGH WARD_SEV_HIGH
#define MED WARD_SEV_MEDIUM
#define LOW WARD_SEV_LOW
#include "audit/audit_ruletab.h"

const struct ward_audit_rule *ward_audit_rules(size_t *n)
{
  /* The public view: the rule array starts with its ward_audit_rule, but
   * callers index by rule, so hand out a parallel table. */
  static struct ward_audit_rule pub[ARRAY_SIZE(rules)];
  if (pub[0].id == NULL)
    for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
      pub[i] = rules[i].pub;
  *n = ARRAY_SIZE(rules);
  return pub;
}

const struct ward_audit_rule *ward_audit_rule_find(const char *id)
{
  for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
    if (strcmp(rules[i].pub.id, id) == 0)
      return &rules[i].pub;
  return NULL;
}

int audit_apply_rules(struct amodel *m, const struct acontainer *c, struct ward_audit_file *out)
{
  struct rctx x = {.m = m, .c = c, .out = out};
  x.caps = acontainer_caps(c, x.caploc, &x.from_default);
  for (size_t i = 0; i < c->cap_add.n; i++)
    x.has_all |= strcasecmp(c->cap_add.v[i].name, "ALL") == 0 || strcasecmp(c->cap_add.v[i].name, "CAP_ALL") == 0;
  for (size_t i = 0; i < c->cap_set.n; i++)
    x.has_all |= strcasecmp(c->cap_set.v[i].name, "ALL") == 0;
  if (c->cap_set.present && x.caps == WARD_CAPS_ALL)
    x.has_all = true;
  for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
    if (rules[i].skip_privileged && c->privileged.v == T_YES)
      continue;
    rules[i].fn(&x, &rules[i]);
  }
  if (x.rc < 0)
    return x.rc;
  return 0;
}
