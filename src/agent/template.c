/* The template model: sorted string sets, construction, and learning from
 * events (the pid tracker is in template_tracker.c). */
#include "agent/template_internal.h"
#include "common/cleanup.h"
#include "common/util.h"
#include "probe/calls.h"
#include "supervisor/supervisor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

const char *const tpl_fmode_names[TPL_FMODE_COUNT] = {"read", "write", "create", "remove", "attr"};

#define L(sec, k, field) {sec, k, offsetof(struct ward_template, field)}
const struct tpl_list tpl_lists[] = {
  L("exec", NULL, exec),
  L("files", "read", files[TPL_READ]), L("files", "write", files[TPL_WRITE]),
  L("files", "create", files[TPL_CREATE]), L("files", "remove", files[TPL_REMOVE]),
  L("files", "attr", files[TPL_ATTR]),
  L("network", "listen", listen), L("network", "connect", connect),
  L("syscalls", "seen", syscalls), L("syscalls", "complete", complete),
  L("identity", NULL, identity), L("tree", NULL, tree),
  L("deny", "paths", deny_paths), L("deny", "connect", deny_connect),
};
const size_t tpl_n_lists = ARRAY_SIZE(tpl_lists);

/* ---- sorted sets ------------------------------------------------------ */

static uint64_t set_gen;

static void set_changed(struct tpl_set *s)
{
  s->gen = __atomic_add_fetch(&set_gen, 1, __ATOMIC_RELAXED);
}

static size_t set_lower(const struct tpl_set *s, const char *str, bool *found)
{
  size_t lo = 0, hi = s->n;
  *found = false;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(s->v[mid], str);
    if (c == 0) {
      *found = true;
      return mid;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

int tpl_set_add(struct tpl_set *s, const char *str)
{
  bool found;
  size_t at = set_lower(s, str, &found);
  if (found)
    return 0;
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 8;
    char **v = realloc(s->v, cap * sizeof(*v));
    if (v == NULL)
      return -1;
    s->v = v;
    s->cap = cap;
  }
  char *copy = strdup(str);
  if (copy == NULL)
    return -1;
  if (strpbrk(copy, "*#\\")) {
    if (s->n_wild == s->cap_wild) {
      size_t cap = s->cap_wild ? 2 * s->cap_wild : 8;
      char **w = realloc(s->wild, cap * sizeof(*w));
      if (w == NULL) {
        free(copy);
        return -1;
      }
      s->wild = w;
      s->cap_wild = cap;
    }
    s->wild[s->n_wild++] = copy;
  }
  memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof(*s->v));
  s->v[at] = copy;
  s->n++;
  set_changed(s);
  return 1;
}

bool tpl_set_has(const struct tpl_set *s, const char *str)
{
  bool found;
  set_lower(s, str, &found);
  return found;
}

int tpl_set_remove(struct tpl_set *s, const char *str)
{
  bool found;
  size_t at = set_lower(s, str, &found);
  if (!found)
    return 0;
  for (size_t k = 0; k < s->n_wild; k++)
    if (s->wild[k] == s->v[at]) {
      s->wild[k] = s->wild[--s->n_wild];
      break;
    }
  free(s->v[at]);
  memmove(s->v + at, s->v + at + 1, (s->n - at - 1) * sizeof(*s->v));
  s->n--;
  set_changed(s);
  return 1;
}

void tpl_set_free(struct tpl_set *s)
{
  for (size_t i = 0; i < s->n; i++)
    free(s->v[i]);
  free(s->v);
  free(s->wild);
  *s = (struct tpl_set) {0};
}

int tpl_set_union(struct tpl_set *into, const struct tpl_set *from)
{
  for (size_t i = 0; i < from->n; i++)
    if (tpl_set_add(into, from->v[i]) < 0)
      return -1;
  return 0;
}

bool tpl_set_match(const struct tpl_set *s, const char *str)
{
  if (tpl_set_has(s, str))
    return true;
  for (size_t i = 0; i < s->n_wild; i++)
    if (ward_template_pattern_match(s->wild[i], str))
      return true;
  return false;
}

/* ---- life cycle ------------------------------------------------------- */

struct ward_template *ward_template_new(const char *app)
{
  struct ward_template *t = calloc(1, sizeof(*t));
  if (t == NULL)
    return NULL;
  t->version = WARD_TEMPLATE_VERSION;
  t->app = strdup(app ? app : "");
  if (t->app == NULL) {
    free(t);
    return NULL;
  }
  return t;
}

void ward_template_free(struct ward_template *t)
{
  if (t == NULL)
    return;
  free(t->app);
  tpl_set_free(&t->exec_hash);
  for (size_t i = 0; i < tpl_n_lists; i++)
    tpl_set_free(tpl_list_set(t, &tpl_lists[i]));
  if (t->model)
    json_decref(t->model);
  ward_template_tracker_free(t->tracker);
  free(t);
}

const char *ward_template_app(const struct ward_template *t) { return t->app; }

json_t *ward_template_model(const struct ward_template *t) { return t->model; }

int ward_template_set_model(struct ward_template *t, json_t *model)
{
  if (t->model)
    json_decref(t->model);
  t->model = model ? json_incref(model) : NULL;
  return 0;
}

int ward_template_add_exec(struct ward_template *t, const char *path, const char *sha256)
{
  if (tpl_set_add(&t->exec, path) < 0)
    return -1;
  if (sha256 && sha256[0]) {
    _cleanup_free_ char *e = NULL;
    if (asprintf(&e, "%s\t%s", path, sha256) < 0 || tpl_set_add(&t->exec_hash, e) < 0)
      return -1;
  }
  return 0;
}

int ward_template_set_complete(struct ward_template *t, const char *const *names)
{
  tpl_set_free(&t->complete);
  for (; names && *names; names++)
    if (tpl_set_add(&t->complete, *names) < 0)
      return -1;
  return 0;
}

/* ---- event helpers ---------------------------------------------------- */

int tpl_endpoint(const struct ward_event *ev, char *buf, size_t len)
{
  char a[INET6_ADDRSTRLEN] = "";
  switch (ev->family) {
  case AF_INET:
    inet_ntop(AF_INET, ev->addr, a, sizeof(a));
    snprintf(buf, len, "inet:%s:%u", a, ev->port);
    return 0;
  case AF_INET6:
    inet_ntop(AF_INET6, ev->addr, a, sizeof(a));
    snprintf(buf, len, "inet6:[%s]:%u", a, ev->port);
    return 0;
  case AF_UNIX:
    snprintf(buf, len, "unix:%s", ev->path);
    return 0;
  default:
    return -1;
  }
}

const char *tpl_call_name(const struct ward_event *ev)
{
  if (ev->source == WARD_SRC_SUPERVISOR || ev->type == WARD_EV_SYSCALL) {
    static __thread char name[64];
    char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, ev->syscall_nr);
    if (n == NULL)
      return NULL;
    snprintf(name, sizeof(name), "%s", n);
    free(n);
    return name;
  }
  return ev->call ? ward_probe_call_name(ev->call) : NULL;
}

unsigned tpl_event_fmodes(const struct ward_event *ev)
{
  switch (ev->type) {
  case WARD_EV_OPEN: {
    unsigned m = 0, acc = ev->flags & O_ACCMODE;
    if (acc == O_RDONLY || acc == O_RDWR)
      m |= 1u << TPL_READ;
    if (acc == O_WRONLY || acc == O_RDWR || (ev->flags & O_TRUNC))
      m |= 1u << TPL_WRITE;
    if (ev->flags & O_CREAT)
      m |= 1u << TPL_CREATE;
    return m;
  }
  case WARD_EV_DLOPEN:
    return 1u << TPL_READ;
  case WARD_EV_UNLINK:
    return 1u << TPL_REMOVE;
  case WARD_EV_MKDIR:
    return 1u << TPL_CREATE;
  case WARD_EV_TRUNCATE:
    return 1u << TPL_WRITE;
  case WARD_EV_CHMOD:
  case WARD_EV_CHOWN:
    return 1u << TPL_ATTR;
  default:
    return 0;
  }
}

/* ---- learning --------------------------------------------------------- */

/* Syscalls whose every call the probe sees in a dynamically linked program:
 * glibc never makes them internally, so a program that never called the
 * wrapper never made them (static binaries and raw syscall(2) excepted:
 * docs/templates.md). connect, socket, bind and open are NOT here: glibc's
 * resolver, NSS and syslog call them without the interposable symbol. */
static const char *const probe_complete[] = {
  "ptrace", "memfd_create", "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", NULL,
};

static void add_complete(struct ward_template *t, const struct ward_event *ev)
{
  if (ev->source == WARD_SRC_SUPERVISOR && !t->complete_supervisor) {
    t->complete_supervisor = true;
    for (const char *const *n = ward_supervisor_default_syscalls(); *n; n++)
      if (strcmp(*n, "clone") != 0)   /* only namespace-creating clones are watched */
        tpl_set_add(&t->complete, *n);
  } else if (ev->source == WARD_SRC_PROBE && ev->call && !t->complete_probe) {
    t->complete_probe = true;
    for (const char *const *n = probe_complete; *n; n++)
      tpl_set_add(&t->complete, *n);
  }
}

static void learn_path(struct tpl_set *s, const char *path)
{
  if (path[0] != '/' || tpl_set_match(s, path))
    return;
  _cleanup_free_ char *g = ward_template_generalise(path);
  if (g)
    tpl_set_add(s, g);
}

char *tpl_edge(const char *parent, const char *child)
{
  _cleanup_free_ char *pg = strcmp(parent, "?") ? tpl_generalise_exec(parent) : strdup("?");
  _cleanup_free_ char *cg = tpl_generalise_exec(child);
  char *edge = NULL;
  if (pg == NULL || cg == NULL || asprintf(&edge, "%s -> %s", pg, cg) < 0)
    return NULL;
  return edge;
}

static void learn_edge(struct ward_template *t, const char *parent, const char *child)
{
  _cleanup_free_ char *edge = tpl_edge(parent, child);
  if (edge)
    tpl_set_add(&t->tree, edge);
}

void ward_template_learn(struct ward_template *t, const struct ward_event *ev, int exe_fd)
{
  if (t->tracker == NULL)
    t->tracker = ward_template_tracker_new();
  ward_template_learn_tracked(t, t->tracker, ev, exe_fd);
}

void ward_template_learn_tracked(struct ward_template *t, struct ward_template_tracker *tr,
                                 const struct ward_event *ev, int exe_fd)
{
  if (ev->denied)
    return;
  const char *parent = NULL, *child = NULL;
  if (tpl_tracker_event(tr, ev, &parent, &child))
    learn_edge(t, parent, child);
  add_complete(t, ev);
  const char *call = tpl_call_name(ev);
  if (call)
    tpl_set_add(&t->syscalls, call);
  bool rel = ev->rec_flags & (WARD_EVENT_F_REL1 | WARD_EVENT_F_TRUNC1);
  char ep[WARD_EVENT_STR_MAX + 64];

  switch (ev->type) {
  case WARD_EV_EXEC:
  case WARD_EV_SPAWN: {
    /* A cut path (too long for the record) names no file, and compiled
     * into Landlock it would grant exec on the nearest existing directory:
     * never learned, so checking flags it (template_check.c). */
    if (ev->ret < 0 || rel || ev->path[0] != '/')
      return;
    _cleanup_free_ char *g = tpl_set_match(&t->exec, ev->path) ? NULL : tpl_generalise_exec(ev->path);
    if (g)
      tpl_set_add(&t->exec, g);
    if (exe_fd >= 0) {
      char hex[65];
      _cleanup_error_ ward_error_t e = NULL;
      _cleanup_free_ char *entry = NULL;
      if (ward_sha256_fd(exe_fd, 0, hex, &e) == 0 && asprintf(&entry, "%s\t%s", g ? g : ev->path, hex) >= 0)
        tpl_set_add(&t->exec_hash, entry);
    }
    if (ev->type == WARD_EV_SPAWN) {
      const char *p = tpl_tracker_exe(tr, ev->pid);
      learn_edge(t, p ? p : "?", ev->path);
    }
    return;
  }
  case WARD_EV_RENAME:
  case WARD_EV_LINK:
  case WARD_EV_SYMLINK:
    if (ev->ret < 0)
      return;
    if (ev->type == WARD_EV_RENAME && !rel)
      learn_path(&t->files[TPL_REMOVE], ev->path);
    if (!(ev->rec_flags & (WARD_EVENT_F_REL2 | WARD_EVENT_F_TRUNC2)))
      learn_path(&t->files[TPL_CREATE], ev->path2);
    return;
  case WARD_EV_CONNECT:
  case WARD_EV_SENDTO:
    if (tpl_endpoint(ev, ep, sizeof(ep)) == 0)
      tpl_set_add(&t->connect, ep);
    return;
  case WARD_EV_BIND:
    if (ev->ret >= 0 && tpl_endpoint(ev, ep, sizeof(ep)) == 0)
      tpl_set_add(&t->listen, ep);
    return;
  case WARD_EV_SETID:
  case WARD_EV_CAPSET:
    if (ev->type == WARD_EV_SETID)
      snprintf(ep, sizeof(ep), "%s:%lld", call ? call : "setid", (long long) ev->arg);
    else
      snprintf(ep, sizeof(ep), "capset");
    tpl_set_add(&t->identity, ep);
    return;
  default:
    break;
  }
  unsigned modes = tpl_event_fmodes(ev);
  if (modes == 0 || ev->ret < 0 || rel)
    return;
  for (int m = 0; m < TPL_FMODE_COUNT; m++)
    if (modes & (1u << m))
      learn_path(&t->files[m], ev->path);
}
