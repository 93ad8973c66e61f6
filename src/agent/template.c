/* The template model: sorted string sets, construction, learning from
 * events and the pid bookkeeping behind the process-tree edges. */
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
  memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof(*s->v));
  s->v[at] = copy;
  s->n++;
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
  free(s->v[at]);
  memmove(s->v + at, s->v + at + 1, (s->n - at - 1) * sizeof(*s->v));
  s->n--;
  return 1;
}

void tpl_set_free(struct tpl_set *s)
{
  for (size_t i = 0; i < s->n; i++)
    free(s->v[i]);
  free(s->v);
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
  for (size_t i = 0; i < s->n; i++)
    if (ward_template_pattern_match(s->v[i], str))
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

/* ---- pid tracker ------------------------------------------------------ */

/* Open addressing keyed by pid; cleared when full, since pids are reused
 * and stale entries only cost an unknown ("?") parent. */
#define TR_SLOTS 8192u
struct tr_ent {
  uint32_t pid, ppid;
  char *exe;
  bool known;     /* exe is this pid's image (or its parent's, after fork) */
  bool pending;   /* exec'd, waiting for the fork record naming the parent */
};
struct ward_template_tracker {
  struct tr_ent ents[TR_SLOTS];
  size_t used;
  uint32_t vfork_parent;  /* last pid that called vfork (its child's pid is not reported) */
};

struct ward_template_tracker *ward_template_tracker_new(void)
{
  return calloc(1, sizeof(struct ward_template_tracker));
}

static void tr_clear(struct ward_template_tracker *tr)
{
  for (size_t i = 0; i < TR_SLOTS; i++) {
    free(tr->ents[i].exe);
    tr->ents[i] = (struct tr_ent) {0};
  }
  tr->used = 0;
}

void ward_template_tracker_free(struct ward_template_tracker *tr)
{
  if (tr == NULL)
    return;
  tr_clear(tr);
  free(tr);
}

static struct tr_ent *tr_get(struct ward_template_tracker *tr, uint32_t pid, bool create)
{
  if (pid == 0)
    return NULL;
  for (unsigned k = 0; k < TR_SLOTS; k++) {
    struct tr_ent *e = &tr->ents[(pid * 2654435761u + k) & (TR_SLOTS - 1)];
    if (e->pid == pid)
      return e;
    if (e->pid == 0) {
      if (!create)
        return NULL;
      if (tr->used >= TR_SLOTS * 3 / 4) {
        tr_clear(tr);
        return tr_get(tr, pid, true);
      }
      e->pid = pid;
      tr->used++;
      return e;
    }
  }
  return NULL;
}

int ward_template_tracker_set_exe(struct ward_template_tracker *tr, uint32_t pid, const char *exe)
{
  struct tr_ent *e = tr_get(tr, pid, true);
  if (e == NULL)
    return -1;
  char *copy = strdup(exe);
  if (copy == NULL)
    return -1;
  free(e->exe);
  e->exe = copy;
  e->known = true;
  e->pending = false;
  return 0;
}

const char *tpl_tracker_exe(struct ward_template_tracker *tr, uint32_t pid)
{
  struct tr_ent *e = tr ? tr_get(tr, pid, false) : NULL;
  return e ? e->exe : NULL;
}

/* Records of a fork and of its child's exec can reach the consumer in
 * either order (they come from two processes), so an exec by an unknown
 * pid waits for the fork that names its parent. */
bool tpl_tracker_event(struct ward_template_tracker *tr, const struct ward_event *ev, const char **parent,
                       const char **child)
{
  static __thread char prev[WARD_EVENT_STR_MAX];
  if (tr == NULL)
    return false;
  if ((ev->type == WARD_EV_FORK || ev->type == WARD_EV_CLONE) && ev->ret >= 0) {
    if (ev->ret == 0) {
      if (ev->call == WARD_CALL_vfork)
        tr->vfork_parent = ev->pid;
      return false;
    }
    struct tr_ent *p = tr_get(tr, ev->pid, false);
    struct tr_ent *c = tr_get(tr, (uint32_t) ev->ret, true);
    if (c == NULL)
      return false;
    c->ppid = ev->pid;
    if (c->pending && c->exe) {
      /* the child exec'd before we saw this fork */
      c->pending = false;
      snprintf(prev, sizeof(prev), "%s", p && p->exe ? p->exe : "?");
      *parent = prev;
      *child = c->exe;
      return true;
    }
    free(c->exe);
    c->exe = p && p->exe ? strdup(p->exe) : NULL;
    c->known = true;
    return false;
  }
  if ((ev->type != WARD_EV_EXEC) || ev->ret < 0)
    return false;
  struct tr_ent *e = tr_get(tr, ev->pid, false);
  bool pending = false;
  if ((e == NULL || !e->known) && tr->vfork_parent && tr->vfork_parent != ev->pid) {
    /* a vfork child's first sign of life is its exec */
    struct tr_ent *p = tr_get(tr, tr->vfork_parent, false);
    e = e ? e : tr_get(tr, ev->pid, true);
    if (e) {
      e->ppid = tr->vfork_parent;
      free(e->exe);
      e->exe = p && p->exe ? strdup(p->exe) : NULL;
      e->known = true;
    }
    tr->vfork_parent = 0;
  } else if (e == NULL || !e->known) {
    e = e ? e : tr_get(tr, ev->pid, true);
    /* pid 1 is the entry point: nobody in the container forked it */
    pending = ev->pid != 1;
    if (e)
      e->known = true;
  }
  if (e == NULL)
    return false;
  snprintf(prev, sizeof(prev), "%s", e->exe ? e->exe : "?");
  free(e->exe);
  e->exe = strdup(ev->path);
  e->pending = pending;
  if (pending || e->exe == NULL)
    return false;
  *parent = prev;
  *child = e->exe;
  return true;
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
  if (ev->source == WARD_SRC_SUPERVISOR) {
    for (const char *const *n = ward_supervisor_default_syscalls(); *n; n++)
      if (strcmp(*n, "clone") != 0)   /* only namespace-creating clones are watched */
        tpl_set_add(&t->complete, *n);
  } else if (ev->source == WARD_SRC_PROBE && ev->call) {
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
  _cleanup_free_ char *pg = strcmp(parent, "?") ? ward_template_generalise(parent) : strdup("?");
  _cleanup_free_ char *cg = ward_template_generalise(child);
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
    if (ev->ret < 0 || rel || ev->path[0] != '/')
      return;
    _cleanup_free_ char *g = tpl_set_match(&t->exec, ev->path) ? NULL : ward_template_generalise(ev->path);
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
