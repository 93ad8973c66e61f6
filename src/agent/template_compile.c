/* Protect: a template compiled into the layers that can hold it.
 *
 * seccomp: ward's default profile minus the system calls that learning saw
 *   completely (syscalls.complete) and never saw (syscalls.seen). Only
 *   "complete" calls may be removed: a call learning could not observe was
 *   maybe made, and denying it would break the replay.
 * Landlock: execute for learned executables, read for the directories of
 *   read patterns, read-write for the directories of written ones, TCP
 *   connect/bind ports; plus what the dynamic loader and the probe need
 *   before any learned event (docs/templates.md lists them).
 * probe: exact deny paths and the learned connect ports as an allow-list.
 * supervisor: the learned exec paths. */
#include "agent/template_internal.h"
#include "common/cleanup.h"
#include "common/util.h"
#include "landlock/landlock.h"
#include "seccomp/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- seccomp ---------------------------------------------------------- */

static void strip_name(json_t *rules, const char *name)
{
  size_t i;
  json_t *r;
  json_array_foreach(rules, i, r) {
    const char *act = json_string_value(json_object_get(r, "action"));
    json_t *names = json_object_get(r, "names");
    if (act == NULL || strcmp(act, "SCMP_ACT_ALLOW") != 0 || !json_is_array(names))
      continue;
    for (size_t k = json_array_size(names); k-- > 0;) {
      const char *n = json_string_value(json_array_get(names, k));
      size_t len = strlen(name);
      /* the i386 spellings (setuid32) go with their native name */
      if (n && strncmp(n, name, len) == 0 && (n[len] == '\0' || strcmp(n + len, "32") == 0))
        json_array_remove(names, k);
    }
  }
  for (size_t k = json_array_size(rules); k-- > 0;)
    if (json_array_size(json_object_get(json_array_get(rules, k), "names")) == 0)
      json_array_remove(rules, k);
}

static int compile_seccomp(const struct ward_template *t, struct ward_template_rules *r, ward_error_t *err)
{
  struct ward_seccomp *s = NULL;
  if (ward_seccomp_default(ward_seccomp_docker_default_caps(), &s, err) < 0)
    return -1;
  int rc = ward_seccomp_to_oci(s, &r->seccomp, err);
  ward_seccomp_free(s);
  if (rc < 0)
    return -1;
  json_t *rules = json_object_get(r->seccomp, "syscalls");
  for (size_t i = 0; i < t->complete.n; i++) {
    const char *n = t->complete.v[i];
    if (tpl_set_has(&t->syscalls, n))
      continue;
    strip_name(rules, n);
    if (ward_strv_append(&r->seccomp_denied, n) < 0)
      return ward_error(err, ENOMEM, "seccomp");
  }
  return 0;
}

/* ---- Landlock --------------------------------------------------------- */

struct ll_rule {
  char *path;
  const char *access;
};
struct ll_rules {
  struct tpl_set seen;   /* "access\tpath" */
  struct ll_rule *v;
  size_t n, cap;
};

static int ll_add(struct ll_rules *l, const char *path, const char *access)
{
  _cleanup_free_ char *key = NULL;
  if (asprintf(&key, "%s\t%s", access, path) < 0)
    return -1;
  int added = tpl_set_add(&l->seen, key);
  if (added <= 0)
    return added;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 32;
    struct ll_rule *v = realloc(l->v, cap * sizeof(*v));
    if (v == NULL)
      return -1;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n].path = strdup(path);
  if (l->v[l->n].path == NULL)
    return -1;
  l->v[l->n++].access = access;
  return 0;
}

static void ll_free(struct ll_rules *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i].path);
  free(l->v);
  tpl_set_free(&l->seen);
}

static bool exists_in(int root_fd, const char *path)
{
  if (root_fd == AT_FDCWD)
    return access(path, F_OK) == 0;
  int fd = ward_open_in_root(root_fd, path, O_PATH, 0);
  if (fd < 0)
    return false;
  close(fd);
  return true;
}

/* The literal directory a pattern starts with: "/var/log/app.#" -> /var/log,
 * "/proc/PID/status" patterns -> /proc. Exact paths give their directory, except where
 * the file itself is the better rule (devices, files in /). */
static char *fixed_dir(const char *pattern, bool *is_file)
{
  *is_file = false;
  size_t n = strcspn(pattern, "*#\\");
  bool literal = pattern[n] == '\0';
  if (literal && (strncmp(pattern, "/dev/", 5) == 0 || strchr(pattern, '/') == strrchr(pattern, '/'))) {
    *is_file = true;
    return strdup(pattern);
  }
  char *d = strndup(pattern, n);
  if (d == NULL)
    return NULL;
  char *slash = strrchr(d, '/');
  if (slash == d)
    slash[1] = '\0';
  else if (slash)
    *slash = '\0';
  return d;
}

/* Walks up to a directory that exists in the root; NULL when only "/" is
 * left, which would grant everything. */
static char *existing(int root_fd, char *path)
{
  while (path && !exists_in(root_fd, path)) {
    char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path) {
      free(path);
      return NULL;
    }
    *slash = '\0';
  }
  if (path && strcmp(path, "/") == 0) {
    free(path);
    return NULL;
  }
  return path;
}

static int add_pattern(struct ll_rules *l, int root_fd, const char *pattern, const char *access)
{
  bool is_file;
  char *d = fixed_dir(pattern, &is_file);
  if (d == NULL)
    return -1;
  if (strncmp(d, "/proc", 5) == 0 && (d[5] == '/' || d[5] == '\0')) {
    /* /proc/self resolves to the init at apply time: name procfs itself */
    free(d);
    return ll_add(l, "/proc", strcmp(access, "ro") == 0 ? "ro" : "ro,write_file");
  }
  if (is_file && !exists_in(root_fd, d)) {
    char *slash = strrchr(d, '/');
    if (slash && slash != d)
      *slash = '\0';
  }
  _cleanup_free_ char *p = existing(root_fd, d);
  return p ? ll_add(l, p, access) : 0;
}

/* Needed before any event the template could have learned: the loader runs
 * before the probe, and glibc reads these without the interposed symbols. */
static const char *const loader_exec[] = {
  "/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1", "/lib/ld-linux-armhf.so.3", "/lib/ld-linux.so.2",
  "/lib/ld-musl-x86_64.so.1", "/lib/ld-musl-aarch64.so.1", NULL,
};
static const char *const base_ro[] = {
  "/lib", "/lib64", "/lib32", "/usr/lib", "/usr/lib64", "/usr/lib32", "/etc/ld.so.cache", "/etc/ld.so.preload",
  "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/hosts", "/etc/resolv.conf", "/etc/host.conf",
  "/etc/gai.conf", "/etc/localtime", "/etc/services", "/etc/protocols", "/usr/share/zoneinfo",
  "/usr/lib/locale", "/proc", NULL,
};
static const char *const base_rw[] = {"/dev/null", NULL};

static bool port_of(const char *ep, long *port)
{
  if (strncmp(ep, "inet", 4) != 0)
    return false;
  const char *c = strrchr(ep, ':');
  if (c == NULL)
    return false;
  if (strcmp(c + 1, "*") == 0) {
    *port = -1;
    return true;
  }
  *port = strtol(c + 1, NULL, 10);
  return true;
}

static int compile_landlock(const struct ward_template *t, int root_fd, unsigned flags,
                            struct ward_template_rules *r, ward_error_t *err)
{
  struct ll_rules l = {0};
  int rc = 0;
  bool dynamic = false;  /* a loader: the runtime binds the probe (engine part) */
  for (const char *const *p = loader_exec; *p && rc == 0; p++)
    if (exists_in(root_fd, *p))
      rc = ll_add(&l, *p, "exec"), dynamic = true;
  for (const char *const *p = base_ro; *p && rc == 0; p++)
    if (exists_in(root_fd, *p))
      rc = ll_add(&l, *p, "ro");
  for (const char *const *p = base_rw; *p && rc == 0; p++)
    if (exists_in(root_fd, *p))
      rc = ll_add(&l, *p, "rw");
  /* the probe's library, ring and control page: bound by the runtime after
   * this check could see them, so named without looking; but only where
   * the runtime binds them (images with a dynamic loader): Landlock refuses
   * a path that does not exist, and static images get no probe */
  if (rc == 0 && dynamic && !(flags & WARD_TEMPLATE_NO_PROBE))
    rc = ll_add(&l, WARD_PROBE_DIR, "rw");
  for (size_t i = 0; i < t->exec.n && rc == 0; i++) {
    const char *e = t->exec.v[i];
    if (strcspn(e, "*#\\") == strlen(e) && exists_in(root_fd, e))
      rc = ll_add(&l, e, "exec");
    else
      rc = add_pattern(&l, root_fd, e, "exec");
  }
  for (size_t i = 0; i < t->files[TPL_READ].n && rc == 0; i++)
    rc = add_pattern(&l, root_fd, t->files[TPL_READ].v[i], "ro");
  for (int m = TPL_WRITE; m < TPL_FMODE_COUNT && rc == 0; m++)
    for (size_t i = 0; i < t->files[m].n && rc == 0; i++)
      rc = add_pattern(&l, root_fd, t->files[m].v[i], "rw");
  if (rc < 0) {
    ll_free(&l);
    return ward_error(err, ENOMEM, "landlock rules");
  }

  _cleanup_landlock_ struct ward_landlock *ll = NULL;
  _cleanup_free_ char *rules_ann = NULL;
  size_t ann_len = 0;
  FILE *ann = open_memstream(&rules_ann, &ann_len);
  if (ann == NULL || ward_landlock_new(&ll, err) < 0) {
    if (ann)
      fclose(ann);
    ll_free(&l);
    return ann ? -1 : ward_error(err, errno, "landlock rules");
  }
  for (size_t i = 0; i < l.n && rc == 0; i++) {
    _cleanup_free_ char *rw = NULL, *ex = NULL;
    if (strcmp(l.v[i].access, "ro") == 0 && asprintf(&rw, "rw\t%s", l.v[i].path) >= 0 &&
        asprintf(&ex, "exec\t%s", l.v[i].path) >= 0 && (tpl_set_has(&l.seen, rw) || tpl_set_has(&l.seen, ex)))
      continue;   /* rw and exec both include ro */
    rc = ward_landlock_add_path_from(ll, "template", l.v[i].path, l.v[i].access, err);
    const char *flag = strcmp(l.v[i].access, "ro") == 0 ? "--ro" : strcmp(l.v[i].access, "exec") == 0 ? "--exec"
                                                                                                       : "--rw";
    if (rc == 0 && (ward_strv_append(&r->landlock_flags, flag) < 0 ||
                    ward_strv_append(&r->landlock_flags, l.v[i].path) < 0))
      rc = ward_error(err, ENOMEM, "landlock rules");
    fprintf(ann, "%s%s=%s", ftell(ann) ? ";" : "", l.v[i].path, l.v[i].access);
  }
  ll_free(&l);
  fclose(ann);
  if (rc < 0)
    return -1;

  /* TCP: a wildcard port cannot be a Landlock rule, and any port rule
   * denies every other port for bind and connect alike */
  bool wildcard = false;
  long port;
  for (size_t i = 0; i < t->connect.n; i++)
    if (port_of(t->connect.v[i], &port) && port < 0)
      wildcard = true;
  for (size_t i = 0; i < t->listen.n; i++)
    if (port_of(t->listen.v[i], &port) && port < 0)
      wildcard = true;
  json_t *a = json_object();
  r->landlock_annotations = a;
  if (a == NULL)
    return ward_error(err, ENOMEM, "landlock rules");
  json_object_set_new(a, "run.ward.landlock", json_string("best-effort"));
  json_object_set_new(a, "run.ward.landlock.rules", json_string(rules_ann ? rules_ann : ""));
  if (!wildcard) {
    _cleanup_free_ char *cports = NULL, *bports = NULL;
    struct tpl_set cs = {0}, bs = {0};
    char num[24];
    for (size_t i = 0; i < t->connect.n; i++)
      if (port_of(t->connect.v[i], &port) && port > 0) {
        snprintf(num, sizeof(num), "%05ld", port);
        tpl_set_add(&cs, num);
      }
    for (size_t i = 0; i < t->listen.n; i++)
      if (port_of(t->listen.v[i], &port)) {
        snprintf(num, sizeof(num), "%05ld", port);
        tpl_set_add(&bs, num);
      }
    size_t ncl = 0, nbl = 0;
    FILE *cf = open_memstream(&cports, &ncl), *bf = open_memstream(&bports, &nbl);
    for (size_t i = 0; cf && i < cs.n && rc == 0; i++) {
      long p = strtol(cs.v[i], NULL, 10);
      rc = ward_landlock_add_port(ll, "connect", p, err);
      fprintf(cf, "%s%ld", i ? "," : "", p);
      snprintf(num, sizeof(num), "%ld", p);
      if (rc == 0 && (ward_strv_append(&r->landlock_flags, "--connect") < 0 ||
                      ward_strv_append(&r->landlock_flags, num) < 0))
        rc = ward_error(err, ENOMEM, "landlock rules");
    }
    for (size_t i = 0; bf && i < bs.n && rc == 0; i++) {
      long p = strtol(bs.v[i], NULL, 10);
      rc = ward_landlock_add_port(ll, "bind", p, err);
      fprintf(bf, "%s%ld", i ? "," : "", p);
      snprintf(num, sizeof(num), "%ld", p);
      if (rc == 0 && (ward_strv_append(&r->landlock_flags, "--bind-port") < 0 ||
                      ward_strv_append(&r->landlock_flags, num) < 0))
        rc = ward_error(err, ENOMEM, "landlock rules");
    }
    bool none = cs.n == 0 && bs.n == 0;
    tpl_set_free(&cs);
    tpl_set_free(&bs);
    if (cf)
      fclose(cf);
    if (bf)
      fclose(bf);
    if (!cf || !bf)
      return ward_error(err, ENOMEM, "landlock rules");
    if (rc < 0)
      return -1;
    if (none) {
      ward_landlock_deny_net(ll);
      if (ward_strv_append(&r->landlock_flags, "--connect") < 0 || ward_strv_append(&r->landlock_flags, "none") < 0)
        return ward_error(err, ENOMEM, "landlock rules");
      json_object_set_new(a, "run.ward.landlock.connect", json_string("none"));
    } else {
      if (cports && cports[0])
        json_object_set_new(a, "run.ward.landlock.connect", json_string(cports));
      if (bports && bports[0])
        json_object_set_new(a, "run.ward.landlock.bind", json_string(bports));
    }
  }
  r->landlock = steal_pointer(&ll);
  return 0;
}

/* ---- probe and supervisor tables -------------------------------------- */

static int compile_tables(const struct ward_template *t, struct ward_template_rules *r, ward_error_t *err)
{
  for (size_t i = 0; i < t->deny_paths.n; i++)
    if (ward_strv_append(&r->deny_paths, t->deny_paths.v[i]) < 0)
      return ward_error(err, ENOMEM, "deny paths");
  for (size_t i = 0; i < t->deny_connect.n; i++)
    if (ward_strv_append(&r->deny_connect, t->deny_connect.v[i]) < 0)
      return ward_error(err, ENOMEM, "deny connect");
  for (size_t i = 0; i < t->exec.n; i++)
    if (ward_strv_append(&r->supervisor_exec_allow, t->exec.v[i]) < 0)
      return ward_error(err, ENOMEM, "exec allow-list");
  r->connect_ports = calloc(t->connect.n + 1, sizeof(uint16_t));
  if (r->connect_ports == NULL)
    return ward_error(err, ENOMEM, "connect ports");
  for (size_t i = 0; i < t->connect.n; i++) {
    long port;
    if (!port_of(t->connect.v[i], &port) || port <= 0)
      continue;
    /* insertion into a sorted, duplicate-free array */
    size_t k = 0;
    while (k < r->n_connect_ports && r->connect_ports[k] < port)
      k++;
    if (k < r->n_connect_ports && r->connect_ports[k] == port)
      continue;
    memmove(r->connect_ports + k + 1, r->connect_ports + k, (r->n_connect_ports - k) * sizeof(uint16_t));
    r->connect_ports[k] = (uint16_t) port;
    r->n_connect_ports++;
  }
  r->connect_allowlist = true;
  return 0;
}

int ward_template_compile_ex(const struct ward_template *t, int root_fd, unsigned flags,
                             struct ward_template_rules *out, ward_error_t *err)
{
  *out = (struct ward_template_rules) {0};
  if (compile_seccomp(t, out, err) < 0 || compile_landlock(t, root_fd, flags, out, err) < 0 ||
      compile_tables(t, out, err) < 0) {
    ward_template_rules_free(out);
    return ward_error_prefix(err, "template %s", t->app);
  }
  return 0;
}

int ward_template_compile_at(const struct ward_template *t, int root_fd, struct ward_template_rules *out,
                             ward_error_t *err)
{
  return ward_template_compile_ex(t, root_fd, 0, out, err);
}

int ward_template_compile(const struct ward_template *t, struct ward_template_rules *out, ward_error_t *err)
{
  return ward_template_compile_at(t, AT_FDCWD, out, err);
}

void ward_template_rules_free(struct ward_template_rules *r)
{
  if (r->seccomp)
    json_decref(r->seccomp);
  if (r->landlock)
    ward_landlock_free(r->landlock);
  if (r->landlock_annotations)
    json_decref(r->landlock_annotations);
  ward_strv_free(r->deny_paths);
  ward_strv_free(r->supervisor_exec_allow);
  ward_strv_free(r->deny_connect);
  ward_strv_free(r->landlock_flags);
  ward_strv_free(r->seccomp_denied);
  free(r->connect_ports);
  *r = (struct ward_template_rules) {0};
}

json_t *ward_template_seccomp_docker(const struct ward_template_rules *r)
{
  /* ward's Docker reader takes the OCI form (a subset of moby's) as is */
  return r->seccomp ? json_deep_copy(r->seccomp) : NULL;
}
