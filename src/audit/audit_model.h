/* The one container model every input kind is normalised into. Each field
 * remembers where it came from (dotted path plus line/column), so a finding
 * names the exact field; "unset" is kept distinct from "false" because the
 * defaults differ per input kind and the normaliser resolves them.
 *
 * All strings and arrays live in one arena freed with the model: the
 * normalisers then need no per-field cleanup on their many early exits. */
#ifndef WARD_AUDIT_MODEL_H
#define WARD_AUDIT_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "audit/audit_tree.h"

struct arena;

struct aloc { const char *path; int line, col; };
enum atri { T_UNSET = 0, T_NO, T_YES };
struct afield { enum atri v; struct aloc loc; };
struct aitem { const char *name, *value; struct aloc loc; };
struct aitems { struct aitem *v; size_t n, cap; bool present; struct aloc loc; };
struct amount { const char *src, *dst; bool ro, host; struct aloc loc; };
enum aprof { PROF_UNSET = 0, PROF_UNCONFINED, PROF_DEFAULT, PROF_CUSTOM };
struct aprofile { enum aprof v; struct aloc loc; };

struct acontainer {
  const char *name;
  struct aloc loc;             /* where the container is defined; path is
                                * the base that rule field hints append to */
  enum ward_audit_kind kind;
  bool caps_from_default;      /* add/drop apply to the runtime default set */
  struct afield privileged;
  struct aitems cap_add, cap_drop, cap_set;  /* cap_set: explicit full set (OCI, podman) */
  struct afield host_pid, host_ipc, host_net, host_uts, host_user, host_cgroup;
  struct afield userns;        /* T_YES: runs in its own user namespace */
  struct amount *mounts;
  size_t nmounts, mounts_cap;
  struct aitems devices;
  struct afield dev_allow_all;
  struct aprofile seccomp, apparmor;
  struct afield selinux_off;
  struct afield nnp;           /* T_YES no_new_privs; T_NO explicitly off */
  struct afield root;          /* T_YES uid 0 explicitly; T_NO non-root */
  struct afield run_as_nonroot;
  struct afield ro_rootfs;
  struct afield pids_limit, mem_limit;  /* T_YES limited, T_NO unlimited */
  struct aitems masked, ropaths;        /* present: the list was given */
  struct afield unmask_all;    /* systempaths=unconfined */
  struct afield proc_unmasked; /* procMount: Unmasked */
  struct aitems sysctls;
  struct afield sa_token;      /* T_YES / unset (Kubernetes default: mounted) */
  struct afield share_pidns;
  struct aitems host_ports;
};

struct amodel {
  struct arena *arena;
  struct acontainer *c;
  size_t n, cap;
};

int amodel_init(struct amodel *m);
void amodel_free(struct amodel *m);
/* Allocation failure anywhere in the arena is sticky and reported once. */
bool amodel_oom(const struct amodel *m);

const char *astr(struct amodel *m, const char *s);
const char *aprintf(struct amodel *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* base.key, or base["key"] when the key has a dot (labels, sysctls). */
const char *apath(struct amodel *m, const char *base, const char *key);
/* base.suffix where suffix is already a dotted path. */
const char *ajoin(struct amodel *m, const char *base, const char *suffix);
const char *apath_idx(struct amodel *m, const char *base, size_t i);
struct aloc aloc_at(const char *path, const struct anode *n);

struct acontainer *amodel_add(struct amodel *m, enum ward_audit_kind kind, const char *name,
                              const char *base, const struct anode *where);
void aitems_add(struct amodel *m, struct aitems *it, const char *name, const char *value, struct aloc loc);
bool aitems_has(const struct aitems *it, const char *name, struct aloc *loc);
void amount_add(struct amodel *m, struct acontainer *c, const char *src, const char *dst,
                bool ro, bool host, struct aloc loc);
void afield_set(struct afield *f, enum atri v, struct aloc loc);
static inline enum atri atri_of(bool b) { return b ? T_YES : T_NO; }

/* Docker/compose --security-opt values. */
void amodel_security_opt(struct amodel *m, struct acontainer *c, const char *opt, struct aloc loc);
/* "src:dst[:opts]" (docker -v, compose short syntax). */
void amodel_bind_spec(struct amodel *m, struct acontainer *c, const char *spec, struct aloc loc);
/* String list from a sequence node; each item located. */
void aitems_from_seq(struct amodel *m, struct aitems *it, const struct anode *seq, const char *path);

/* Effective capabilities; loc[i] says where capability i came from and
 * *from_default marks those inherited from the runtime's default set. */
uint64_t acontainer_caps(const struct acontainer *c, struct aloc loc[64], uint64_t *from_default);

/* Per-kind normalisers; doc is one parsed document. */
int audit_norm_oci(struct amodel *m, const struct anode *doc, ward_error_t *err);
int audit_norm_docker(struct amodel *m, const struct anode *doc, ward_error_t *err);
int audit_norm_k8s(struct amodel *m, const struct anode *doc, size_t docidx, ward_error_t *err);
int audit_norm_compose(struct amodel *m, const struct anode *doc, ward_error_t *err);

#endif
