/* Compilation of a resolved profile to classic BPF with libseccomp, and the
 * content-addressed cache that lets a start-up skip it.
 *
 * Cache file cache_dir/<key>.bpf: "WARDBPF1", the key (64 hex), the SHA-256
 * of the program (64 hex), then the sock_filter array. The key hashes the
 * canonical OCI form of the profile, the native architecture, the
 * libseccomp version and WARD_SECCOMP_FORMAT. A file that is short, torn,
 * not ours, writable by others or whose digest does not match is ignored
 * and replaced: the cache may speed a start up, never change its filter. */
#include "seccomp/internal.h"
#include "seccomp/prog.h"
#include "seccomp/bpf_cache.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/filter.h>

#define CACHE_MAGIC "WARDBPF1"

static void ctx_releasep(scmp_filter_ctx *ctx) { if (*ctx) seccomp_release(*ctx); }
#define _cleanup_scmp_ __attribute__((cleanup(ctx_releasep)))

void ward_seccomp_prog_free(struct ward_seccomp_prog *p)
{
  if (p) {
    free(p->insns);
    free(p);
  }
}

bool ward_seccomp_prog_wants_listener(const struct ward_seccomp_prog *p) { return p->listener; }
bool ward_seccomp_prog_from_cache(const struct ward_seccomp_prog *p) { return p->from_cache; }
const char *ward_seccomp_prog_key(const struct ward_seccomp_prog *p) { return p->key; }

const void *ward_seccomp_prog_insns(const struct ward_seccomp_prog *p, size_t *count)
{
  *count = p->n_insns;
  return p->insns;
}

int ward_seccomp_cache_key(const struct ward_seccomp *s, char key[65], ward_error_t *err)
{
  _cleanup_json_ json_t *oci = NULL;
  if (ward_seccomp_to_oci(s, &oci, err) < 0)
    return -1;
  _cleanup_free_ char *canon = json_dumps(oci, JSON_COMPACT | JSON_SORT_KEYS);
  const struct scmp_version *v = seccomp_version();
  _cleanup_free_ char *text = NULL;
  if (canon == NULL ||
      asprintf(&text, "%s\narch=%u libseccomp=%u.%u.%u format=%d\n", canon, seccomp_arch_native(),
               v->major, v->minor, v->micro, WARD_SECCOMP_FORMAT) < 0)
    return ward_error(err, ENOMEM, "seccomp: cache key");
  ward_sha256_hex(text, strlen(text), key);
  return 0;
}

static uint32_t action_value(enum ward_scmp_action a, bool has_errno, uint32_t errno_ret)
{
  uint32_t data = has_errno ? errno_ret : EPERM;
  switch (a) {
  case WARD_SCMP_KILL_THREAD: return SCMP_ACT_KILL_THREAD;
  case WARD_SCMP_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
  case WARD_SCMP_TRAP: return SCMP_ACT_TRAP;
  case WARD_SCMP_ERRNO: return SCMP_ACT_ERRNO(data);
  case WARD_SCMP_TRACE: return SCMP_ACT_TRACE(data);
  case WARD_SCMP_LOG: return SCMP_ACT_LOG;
  case WARD_SCMP_ALLOW: return SCMP_ACT_ALLOW;
  case WARD_SCMP_NOTIFY: return SCMP_ACT_NOTIFY;
  }
  return SCMP_ACT_KILL_PROCESS;
}

static int add_rule(scmp_filter_ctx ctx, const struct ward_seccomp_rule *r, size_t ri, uint32_t act,
                    const uint32_t *arches, size_t n_arches, ward_error_t *err)
{
  struct scmp_arg_cmp conds[WARD_SCMP_MAX_ARGS];
  /* libseccomp cannot AND two conditions on one argument; like runc, such
   * a rule becomes one rule per condition (so they OR). */
  bool repeated = false;
  unsigned seen = 0;
  for (size_t i = 0; i < r->n_args; i++) {
    repeated |= (seen >> r->args[i].index) & 1;
    seen |= 1u << r->args[i].index;
  }
  for (size_t n = 0; r->names[n]; n++) {
    int nr;
    if (!ward_scmp_syscall_resolve(r->names[n], arches, n_arches, &nr))
      continue;  /* not a syscall of these architectures */
    int rc = 0;
    if (!repeated) {
      for (size_t i = 0; i < r->n_args; i++)
        conds[i] = (struct scmp_arg_cmp){r->args[i].index, r->args[i].op, r->args[i].value, r->args[i].value_two};
      rc = seccomp_rule_add_array(ctx, act, nr, (unsigned) r->n_args, conds);
    }
    for (size_t i = 0; repeated && i < r->n_args && rc >= 0; i++) {
      conds[0] = (struct scmp_arg_cmp){r->args[i].index, r->args[i].op, r->args[i].value, r->args[i].value_two};
      rc = seccomp_rule_add_array(ctx, act, nr, 1, conds);
    }
    if (rc < 0 && rc != -EEXIST)
      return ward_error(err, -rc, "syscalls[%zu]: %s: libseccomp refused the rule", ri, r->names[n]);
  }
  return 0;
}

static int export_bpf(scmp_filter_ctx ctx, struct ward_seccomp_prog *p, ward_error_t *err)
{
  /* libseccomp 2.5 only exports to an fd */
  _cleanup_close_ int fd = memfd_create("ward-seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0)
    return ward_error_sys(err, "seccomp: memfd_create");
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0)
    return ward_error(err, -rc, "seccomp: exporting the BPF program");
  off_t size = lseek(fd, 0, SEEK_END);
  if (size <= 0 || size % sizeof(struct sock_filter) != 0 ||
      (size_t) size / sizeof(struct sock_filter) > BPF_MAXINSNS)
    return ward_error(err, 0, "seccomp: the compiled program has %lld bytes, not 1 to %d instructions "
                      "(too many rules for one filter?)", (long long) size, BPF_MAXINSNS);
  p->insns = malloc((size_t) size);
  if (p->insns == NULL)
    return ward_error(err, ENOMEM, "seccomp: BPF program");
  if (pread(fd, p->insns, (size_t) size, 0) != size)
    return ward_error_sys(err, "seccomp: reading the BPF program back");
  p->n_insns = (size_t) size / sizeof(struct sock_filter);
  return 0;
}

static int build(const struct ward_seccomp *s, struct ward_seccomp_prog *p, ward_error_t *err)
{
  uint32_t def = action_value(s->default_action, s->has_default_errno, s->default_errno);
  _cleanup_scmp_ scmp_filter_ctx ctx = seccomp_init(def);
  if (ctx == NULL)
    return ward_error(err, 0, "seccomp: libseccomp cannot create a filter with this default action");
  /* A binary tree over the syscall numbers instead of one long chain: the
   * same decisions in a few dozen instructions per call rather than a few
   * hundred. It matters twice: at every system call, and at load, where
   * the kernel runs the filter once per syscall number to build its
   * always-allow cache (most of a millisecond for the Docker profile as a
   * chain). libseccomp before 2.5 lacks the attribute: then a chain. */
  (void) seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  uint32_t arches[32];
  size_t n_arches = 0;
  arches[n_arches++] = seccomp_arch_native();
  for (size_t i = 0; i < s->n_arches && n_arches < ARRAY_SIZE(arches); i++) {
    if (s->arches[i] == 0 || s->arches[i] == arches[0])
      continue;  /* 0: an architecture this libseccomp lacks */
    int rc = seccomp_arch_add(ctx, s->arches[i]);
    if (rc < 0 && rc != -EEXIST)
      return ward_error(err, -rc, "seccomp: architectures[%zu]: %s", i, s->arch_names[i]);
    arches[n_arches++] = s->arches[i];
  }
  for (size_t i = 0; i < s->n_rules; i++) {
    const struct ward_seccomp_rule *r = &s->rules[i];
    uint32_t act = action_value(r->action, r->has_errno_ret, r->errno_ret);
    if (act == def)
      continue;  /* libseccomp refuses rules that repeat the default */
    if (add_rule(ctx, r, i, act, arches, n_arches, err) < 0)
      return ward_error_prefix(err, "seccomp");
  }
  return export_bpf(ctx, p, err);
}

static int cache_path(const char *dir, const char *key, char **out, ward_error_t *err)
{
  if (asprintf(out, "%s/%s.bpf", dir, key) < 0)
    return ward_error(err, ENOMEM, "seccomp cache");
  return 0;
}

/* 1: loaded from the cache, 0: absent or invalid (the reason is logged). */
static int cache_read(const char *path, struct ward_seccomp_prog *p)
{
  const char *why = NULL;
  int rc = ward_bpf_cache_read(path, CACHE_MAGIC, p->key, &p->insns, &p->n_insns, &why);
  if (rc == 0 && why)
    ward_warn("seccomp cache %s: %s; recompiling", path, why);
  return rc;
}

static void cache_write(const char *dir, const char *path, const struct ward_seccomp_prog *p)
{
  _cleanup_error_ ward_error_t err = NULL;
  /* a cache that cannot be written only costs the next start-up time */
  if (ward_bpf_cache_write(dir, path, CACHE_MAGIC, p->key, p->insns, p->n_insns, &err) < 0)
    ward_warn("seccomp cache: %s", err->msg);
}

int ward_seccomp_compile(const struct ward_seccomp *s, const char *cache_dir,
                         struct ward_seccomp_prog **out, ward_error_t *err)
{
  _cleanup_free_ struct ward_seccomp_prog *p = calloc(1, sizeof(*p));
  if (p == NULL)
    return ward_error(err, ENOMEM, "seccomp");
  p->flags = s->flags;
  p->listener = ward_seccomp_has_notify(s);
  if (ward_seccomp_cache_key(s, p->key, err) < 0)
    return -1;
  _cleanup_free_ char *path = NULL;
  if (cache_dir && cache_path(cache_dir, p->key, &path, err) < 0)
    return -1;
  if (path && cache_read(path, p) == 1) {
    p->from_cache = true;
  } else {
    if (build(s, p, err) < 0) {
      free(p->insns);
      return -1;
    }
    if (path)
      cache_write(cache_dir, path, p);
  }
  *out = steal_pointer(&p);
  return 0;
}
