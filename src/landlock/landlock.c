/* Landlock rulesets: built and validated in the runtime, enforced by the
 * container's init. The degradation follows the kernel's sandboxer sample in
 * spirit: ask the kernel for its ABI, drop what it does not know from the
 * handled masks, and say so - or refuse, in strict mode. */
#include "landlock/landlock.h"
#include "landlock/landlock_internal.h"
#include "landlock/landlock_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/util.h"

int ward_landlock_new(struct ward_landlock **out, ward_error_t *err)
{
  struct ward_landlock *ll = calloc(1, sizeof(*ll));
  if (ll == NULL)
    return ward_error(err, ENOMEM, "landlock ruleset");
  ll->abi_max = -1;
  /* Read here, not in apply, so the init after clone never calls getenv. */
  const char *cap = getenv("WARD_LANDLOCK_ABI_MAX");
  if (cap && *cap) {
    char *end;
    long v = strtol(cap, &end, 10);
    if (*end != '\0' || v < 0 || v > 1000) {
      free(ll);
      return ward_error(err, 0, "WARD_LANDLOCK_ABI_MAX: expected a non-negative integer, found \"%s\"", cap);
    }
    ll->abi_max = (int) v;
  }
  *out = ll;
  return 0;
}

void ward_landlock_free(struct ward_landlock *ll)
{
  if (ll == NULL)
    return;
  for (size_t i = 0; i < ll->n_paths; i++) {
    free(ll->paths[i].path);
    free(ll->paths[i].origin);
  }
  free(ll->paths);
  free(ll->ports);
  free(ll);
}

int ward_landlock_add_path(struct ward_landlock *ll, const char *path, const char *access, ward_error_t *err)
{
  return ward_landlock_add_path_from(ll, NULL, path, access, err);
}

int ward_landlock_add_path_from(struct ward_landlock *ll, const char *origin, const char *path,
                                const char *access, ward_error_t *err)
{
  uint64_t mask;
  if (path == NULL || *path == '\0')
    return ward_error(err, 0, "empty path");
  if (path[0] != '/')
    return ward_error(err, 0, "path \"%s\" must be absolute", path);
  if (strlen(path) >= 4096)
    return ward_error(err, 0, "path \"%.64s...\" is too long", path);
  if (ward_ll_parse_access(access, &mask, err) < 0)
    return ward_error_prefix(err, "%s", path);
  struct ward_ll_path *v = realloc(ll->paths, (ll->n_paths + 1) * sizeof(*v));
  if (v == NULL)
    return ward_error(err, ENOMEM, "landlock rule");
  ll->paths = v;
  struct ward_ll_path *r = &v[ll->n_paths];
  r->path = strdup(path);
  r->origin = strdup(origin ? origin : "landlock rule");
  r->access = mask;
  if (r->path == NULL || r->origin == NULL) {
    free(r->path);
    free(r->origin);
    return ward_error(err, ENOMEM, "landlock rule");
  }
  ll->n_paths++;
  return 0;
}

int ward_landlock_add_port(struct ward_landlock *ll, const char *kind, long port, ward_error_t *err)
{
  uint64_t access;
  long min;
  if (kind && strcmp(kind, "connect") == 0) {
    /* Nothing listens on port 0; a rule for it would only hide a typo. */
    access = LANDLOCK_ACCESS_NET_CONNECT_TCP;
    min = 1;
  } else if (kind && strcmp(kind, "bind") == 0) {
    /* Port 0 is meaningful for bind: it lets the workload take an ephemeral port. */
    access = LANDLOCK_ACCESS_NET_BIND_TCP;
    min = 0;
  } else {
    return ward_error(err, 0, "unknown port rule kind \"%s\" (expected connect or bind)", kind ? kind : "");
  }
  if (port < min || port > 65535)
    return ward_error(err, 0, "%s port %ld is out of range (%ld-65535)", kind, port, min);
  ll->handle_net = true;
  for (size_t i = 0; i < ll->n_ports; i++)
    if (ll->ports[i].port == (uint64_t) port) {
      ll->ports[i].access |= access;
      return 0;
    }
  if (ll->n_ports >= WARD_LL_MAX_PORTS)
    return ward_error(err, 0, "more than %d port rules", WARD_LL_MAX_PORTS);
  struct ward_ll_port *v = realloc(ll->ports, (ll->n_ports + 1) * sizeof(*v));
  if (v == NULL)
    return ward_error(err, ENOMEM, "landlock port rule");
  ll->ports = v;
  v[ll->n_ports++] = (struct ward_ll_port) { .port = (uint64_t) port, .access = access };
  return 0;
}

void ward_landlock_deny_net(struct ward_landlock *ll)
{
  ll->handle_net = true;
}

int ward_landlock_set_scope(struct ward_landlock *ll, bool abstract_unix, bool signal, ward_error_t *err)
{
  (void) err;
  ll->scoped = (abstract_unix ? LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET : 0) | (signal ? LANDLOCK_SCOPE_SIGNAL : 0);
  return 0;
}

void ward_landlock_set_strict(struct ward_landlock *ll, bool strict) { ll->strict = strict; }
void ward_landlock_set_audit(struct ward_landlock *ll, bool audit) { ll->audit = audit; }
void ward_landlock_set_abi_max(struct ward_landlock *ll, int abi) { ll->abi_max = abi; }

static int kernel_abi(int *why)
{
  int abi = ward_ll_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 0) {
    *why = errno;
    return 0;
  }
  *why = 0;
  return abi;
}

int ward_landlock_abi(void)
{
  int why;
  int abi = kernel_abi(&why);
  const char *cap = getenv("WARD_LANDLOCK_ABI_MAX");
  if (cap && *cap) {
    int c = atoi(cap);
    if (c >= 0 && c < abi)
      abi = c;
  }
  return abi;
}

int ward_landlock_check_paths(const struct ward_landlock *ll, int root_fd,
                              const char *const *mount_points, size_t n_mount_points, ward_error_t *err)
{
  if (ll == NULL)
    return 0;
  for (size_t i = 0; i < ll->n_paths; i++) {
    const struct ward_ll_path *r = &ll->paths[i];
    bool mounted = false;
    for (size_t m = 0; m < n_mount_points && !mounted; m++) {
      const char *mp = mount_points[m];
      size_t len = strlen(mp);
      while (len > 1 && mp[len - 1] == '/')
        len--;
      mounted = strncmp(r->path, mp, len) == 0 &&
                (r->path[len] == '\0' || r->path[len] == '/' || (len == 1 && mp[0] == '/'));
    }
    if (mounted)
      continue;  /* appears when mounts are set up; apply checks it then */
    /* Resolve as the container will: symlinks and ".." stay inside the
     * rootfs. AT_FDCWD means the host's own root (RESOLVE_IN_ROOT would
     * take the working directory for "/"). */
    struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = root_fd == AT_FDCWD ? 0 : RESOLVE_IN_ROOT };
    _cleanup_close_ int fd = (int) syscall(SYS_openat2, root_fd, r->path, &how, sizeof(how));
    if (fd < 0)
      return ward_error(err, errno, "%s: %s", r->origin, r->path);
  }
  return 0;
}

/* --- planning: what this ABI can enforce ------------------------------- */

struct plan {
  int abi, kernel_abi, why;  /* why: errno of the version query when 0 */
  struct ward_ll_ruleset_attr attr;
  size_t attr_size;
  uint32_t restrict_flags;
  bool lost_restriction;  /* strict mode refuses */
  bool degraded;          /* anything asked for is not as asked: apply reports it */
};

static uint64_t fs_for_abi(int abi)
{
  uint64_t m = WARD_LL_FS_V1;
  if (abi >= 2)
    m |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3)
    m |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5)
    m |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return m;
}

static void report_add(char *report, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report_add(char *report, size_t len, const char *fmt, ...)
{
  if (report == NULL || len == 0)
    return;
  size_t used = strnlen(report, len);
  if (used + 1 >= len)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(report + used, len - used, fmt, ap);
  va_end(ap);
}

/* Fills p from ll and the ABI and writes the report; pure apart from the
 * version query, so check and apply share it and agree. */
static void make_plan(const struct ward_landlock *ll, struct plan *p, char *report, size_t len)
{
  memset(p, 0, sizeof(*p));
  if (report && len)
    report[0] = '\0';
  p->kernel_abi = kernel_abi(&p->why);
  p->abi = p->kernel_abi;
  if (ll->abi_max >= 0 && ll->abi_max < p->abi)
    p->abi = ll->abi_max;
  int abi = p->abi > WARD_LL_ABI_KNOWN ? WARD_LL_ABI_KNOWN : p->abi;
  bool want_fs = ll->n_paths > 0, want_net = ll->handle_net, want_scope = ll->scoped != 0;

  if (!want_fs && !want_net && !want_scope && !ll->audit) {
    report_add(report, len, "landlock: no rules");
    return;
  }
  if (abi <= 0) {
    p->lost_restriction = want_fs || want_net || want_scope;  /* audit alone restricts nothing */
    p->degraded = true;
    if (p->kernel_abi > 0)
      report_add(report, len, "landlock: not enforced (ABI capped to 0, kernel has ABI %d)", p->kernel_abi);
    else if (p->why == EOPNOTSUPP)
      report_add(report, len, "landlock: not enforced (disabled at boot; add landlock to the lsm= kernel parameter)");
    else
      report_add(report, len, "landlock: not enforced (not supported by this kernel)");
    return;
  }

  if (want_fs)
    p->attr.handled_access_fs = fs_for_abi(abi);
  if (want_net && abi >= 4)
    p->attr.handled_access_net = WARD_LL_NET_ALL;
  if (want_scope && abi >= 6)
    p->attr.scoped = ll->scoped;
  /* The smallest struct prefix that carries what is handled, so older
   * kernels (which reject unknown non-zero members) accept it. */
  p->attr_size = p->attr.scoped ? sizeof(p->attr)
               : p->attr.handled_access_net ? offsetof(struct ward_ll_ruleset_attr, scoped)
               : offsetof(struct ward_ll_ruleset_attr, handled_access_net);
  if (ll->audit && abi >= 7)
    p->restrict_flags |= LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON;

  report_add(report, len, "landlock ABI %d", p->abi);
  if (p->abi < p->kernel_abi)
    report_add(report, len, " (capped, kernel has %d)", p->kernel_abi);
  report_add(report, len, ":");
  if (want_fs)
    report_add(report, len, " %zu path rule%s;", ll->n_paths, ll->n_paths == 1 ? "" : "s");
  if (p->attr.handled_access_net)
    report_add(report, len, " %zu tcp port rule%s;", ll->n_ports, ll->n_ports == 1 ? "" : "s");
  if (p->attr.scoped)
    report_add(report, len, " scoped %s%s%s;", ll->scoped & LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET ? "abstract-unix" : "",
               ll->scoped == WARD_LL_SCOPE_ALL ? "," : "", ll->scoped & LANDLOCK_SCOPE_SIGNAL ? "signal" : "");
  if (p->restrict_flags & LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON)
    report_add(report, len, " audit logging on;");

  /* What is lost, oldest ABI first: each entry weakens the sandbox. */
  bool any = false;
#define LOST(...) do { report_add(report, len, any ? ", " : " not enforced: "); \
    report_add(report, len, __VA_ARGS__); any = true; p->lost_restriction = true; } while (0)
  if (want_fs && abi < 3)
    LOST("truncate (needs ABI 3)");
  if (want_net && abi < 4)
    LOST("tcp ports (needs ABI 4)");
  if (want_fs && abi < 5)
    LOST("ioctl_dev (needs ABI 5)");
  if (want_scope && abi < 6)
    LOST("scopes (needs ABI 6)");
#undef LOST
  if (any)
    report_add(report, len, ";");
  p->degraded = any;
  /* Not weakenings: the kernel denies more, or only logs less. */
  bool refer_asked = false;
  for (size_t i = 0; i < ll->n_paths; i++)
    refer_asked |= (ll->paths[i].access & LANDLOCK_ACCESS_FS_REFER) != 0;
  if (want_fs && refer_asked && abi < 2) {
    report_add(report, len, " refer not grantable (needs ABI 2; renames and links across directories stay denied);");
    p->degraded = true;
  }
  if (ll->audit && abi < 7) {
    report_add(report, len, " no audit logging (needs ABI 7);");
    p->degraded = true;
  }
  if (!p->degraded)
    report_add(report, len, " fully enforced");
  else if (report && len && report[strnlen(report, len) - 1] == ';')
    report[strnlen(report, len) - 1] = '\0';
}

static int check(const struct ward_landlock *ll, struct plan *plan, char *report, size_t report_len, ward_error_t *err)
{
  struct plan p;
  char local[512];
  if (ll == NULL) {
    if (report && report_len)
      snprintf(report, report_len, "landlock: off");
    return 0;
  }
  /* Strict mode needs the text for its error even when the caller passes none. */
  if (report == NULL || report_len == 0) {
    report = local;
    report_len = sizeof(local);
  }
  make_plan(ll, &p, report, report_len);
  if (plan)
    *plan = p;
  if (ll->strict && p.lost_restriction)
    return ward_error(err, 0, "landlock strict mode: cannot enforce everything asked: %s", report);
  return 0;
}

int ward_landlock_check(const struct ward_landlock *ll, char *report, size_t report_len, ward_error_t *err)
{
  return check(ll, NULL, report, report_len, err);
}

/* landlock_restrict_self refuses with EPERM without one of these; saying
 * which is missing beats a bare EPERM from inside the container's init. */
static bool may_restrict(void)
{
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
    return true;
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2] = { 0 };
  if (syscall(SYS_capget, &hdr, data) < 0)
    return false;
  return (data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective & CAP_TO_MASK(CAP_SYS_ADMIN)) != 0;
}

static int add_path_rule(int ruleset_fd, const struct ward_ll_path *r, uint64_t handled, ward_error_t *err)
{
  /* O_PATH: the rule needs the inode, not the right to read it. */
  _cleanup_close_ int fd = open(r->path, O_PATH | O_CLOEXEC);
  if (fd < 0)
    return ward_error(err, errno, "%s: %s", r->origin, r->path);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return ward_error(err, errno, "%s: %s", r->origin, r->path);
  struct ward_ll_path_beneath_attr attr = { .allowed_access = r->access & handled, .parent_fd = fd };
  if (!S_ISDIR(st.st_mode))
    attr.allowed_access &= WARD_LL_FS_FILE;
  if (attr.allowed_access == 0)
    return 0;  /* e.g. read_dir on a file: nothing to grant, and the kernel refuses 0 */
  if (ward_ll_add_rule(ruleset_fd, WARD_LL_RULE_PATH_BENEATH, &attr) < 0)
    return ward_error(err, errno, "%s: %s: landlock_add_rule", r->origin, r->path);
  return 0;
}

int ward_landlock_apply(const struct ward_landlock *ll, char *report, size_t report_len, ward_error_t *err)
{
  struct plan p;
  if (ll == NULL) {
    if (report && report_len)
      report[0] = '\0';
    return 0;
  }
  if (check(ll, &p, report, report_len, err) < 0)
    return -1;
  /* Quiet when all is as asked: the init prints a non-empty report as a
   * warning. ward_landlock_check gives the full summary for debug logs. */
  if (!p.degraded && report && report_len)
    report[0] = '\0';
  if (p.attr.handled_access_fs == 0 && p.attr.handled_access_net == 0 && p.attr.scoped == 0)
    return 0;  /* nothing enforceable (reported); restrict_self would need a ruleset */
  if (!may_restrict())
    return ward_error(err, 0, "landlock: restricting needs no_new_privs or CAP_SYS_ADMIN; neither is set");

  _cleanup_close_ int rfd = ward_ll_create_ruleset(&p.attr, p.attr_size, 0);
  if (rfd < 0)
    return ward_error(err, errno, "landlock_create_ruleset (ABI %d)", p.abi);
  if (p.attr.handled_access_fs)
    for (size_t i = 0; i < ll->n_paths; i++)
      if (add_path_rule(rfd, &ll->paths[i], p.attr.handled_access_fs, err) < 0)
        return -1;
  if (p.attr.handled_access_net)
    for (size_t i = 0; i < ll->n_ports; i++) {
      struct ward_ll_net_port_attr attr = { .allowed_access = ll->ports[i].access, .port = ll->ports[i].port };
      if (ward_ll_add_rule(rfd, WARD_LL_RULE_NET_PORT, &attr) < 0)
        return ward_error(err, errno, "landlock_add_rule: tcp port %llu", (unsigned long long) attr.port);
    }
  if (ward_ll_restrict_self(rfd, p.restrict_flags) < 0)
    return ward_error(err, errno, "landlock_restrict_self");
  return 0;
}
