/* The pid bookkeeping behind process-tree edges: which image each pid
 * runs, from fork and exec records that may arrive in either order. */
#include "agent/template_internal.h"
#include "probe/calls.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

/* Open addressing keyed by pid; cleared when full, since pids are reused
 * and stale entries only cost an unknown ("?") parent. */
#define TR_SLOTS 8192u
struct tr_ent {
  uint32_t pid, ppid;
  char *exe;
  bool known;     /* exe is this pid's image (or its parent's, after fork) */
  bool exec_done; /* exe came from this pid's own exec, not a fork copy */
  bool pending;   /* exec'd, waiting for the fork record naming the parent */
};
/* Matches of paths against the template's sets: a service reads the same
 * files over and over, and a match is a binary search plus a pattern match
 * per wildcard entry. Direct-mapped by a hash of (set, path); the full
 * path is compared, so a collision only costs a full match. */
#define TR_VERDICTS 64u
#define TR_VERDICT_PATH 104u   /* with the rest, 128 bytes a slot: 8 KiB per container */
struct tr_verdict {
  const struct tpl_set *set;
  uint64_t gen;             /* the set's gen when it matched */
  uint32_t len;
  char path[TR_VERDICT_PATH];
};
struct ward_template_tracker {
  struct tr_verdict *verdicts;   /* TR_VERDICTS, allocated at the first check */
  struct tr_ent ents[TR_SLOTS];
  size_t used;
  char *prev;             /* the parent image of the last edge returned */
  uint32_t vfork_parent;  /* last pid that called vfork (its child's pid is not reported) */
};

struct ward_template_tracker *ward_template_tracker_new(void)
{
  return ward_zalloc_lazy(sizeof(struct ward_template_tracker));
}

static void tr_clear(struct ward_template_tracker *tr)
{
  /* only used slots are written: the others stay untouched pages */
  for (size_t i = 0; i < TR_SLOTS; i++) {
    if (memcmp(&tr->ents[i], &(struct tr_ent) {0}, sizeof(struct tr_ent)) == 0)
      continue;
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
  free(tr->prev);
  free(tr->verdicts);
  ward_free_lazy(tr, sizeof(*tr));
}

static uint64_t verdict_hash(const struct tpl_set *set, const char *str, size_t len)
{
  const uint64_t k = 0x9e3779b97f4a7c15ull;
  uint64_t h = ((uint64_t) (uintptr_t) set ^ len) * k, w;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    memcpy(&w, str + i, 8);
    h = (h ^ w) * k;
    h ^= h >> 29;
  }
  w = 0;
  memcpy(&w, str + i, len - i);
  h = (h ^ w) * k;
  return h ^ (h >> 32);
}

bool tpl_set_match_cached(struct ward_template_tracker *tr, const struct tpl_set *s, const char *str)
{
  size_t len = strlen(str);
  if (tr == NULL || len >= TR_VERDICT_PATH || s->gen == 0)
    return tpl_set_match(s, str);
  if (tr->verdicts == NULL && (tr->verdicts = calloc(TR_VERDICTS, sizeof(*tr->verdicts))) == NULL)
    return tpl_set_match(s, str);
  struct tr_verdict *v = &tr->verdicts[verdict_hash(s, str, len) & (TR_VERDICTS - 1)];
  if (v->set == s && v->gen == s->gen && v->len == len && memcmp(v->path, str, len) == 0)
    return true;
  if (!tpl_set_match(s, str))
    return false;
  v->set = s;
  v->gen = s->gen;
  v->len = (uint32_t) len;
  memcpy(v->path, str, len);
  return true;
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
  e->exec_done = true;
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
  if (tr == NULL)
    return false;
  if ((ev->type == WARD_EV_FORK || ev->type == WARD_EV_CLONE) && ev->ret >= 0) {
    if (ev->ret == 0) {
      if (ev->call == WARD_CALL_vfork)
        tr->vfork_parent = ev->pid;
      return false;
    }
    /* copied first: creating the child's entry may clear the table, and a
     * hostile record may name the parent as its own child */
    struct tr_ent *p = tr_get(tr, ev->pid, false);
    char *pexe = p && p->exe ? strdup(p->exe) : NULL;
    struct tr_ent *c = tr_get(tr, (uint32_t) ev->ret, true);
    if (c == NULL) {
      free(pexe);
      return false;
    }
    c->ppid = ev->pid;
    if (c->pending && c->exe) {
      /* the child exec'd before we saw this fork */
      c->pending = false;
      free(tr->prev);
      tr->prev = pexe;
      *parent = tr->prev ? tr->prev : "?";
      *child = c->exe;
      return true;
    }
    free(c->exe);
    c->exe = pexe;
    c->known = true;
    c->exec_done = false;
    return false;
  }
  if ((ev->type != WARD_EV_EXEC) || ev->ret < 0)
    return false;
  struct tr_ent *e = tr_get(tr, ev->pid, false);
  bool pending = false;
  if ((e == NULL || !e->known) && tr->vfork_parent && tr->vfork_parent != ev->pid) {
    /* a vfork child's first sign of life is its exec */
    struct tr_ent *p = tr_get(tr, tr->vfork_parent, false);
    char *pexe = p && p->exe ? strdup(p->exe) : NULL;
    e = e ? e : tr_get(tr, ev->pid, true);
    if (e) {
      e->ppid = tr->vfork_parent;
      free(e->exe);
      e->exe = pexe;
      e->known = true;
    } else {
      free(pexe);
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
  /* the probe and the supervisor both report one exec */
  if (e->exec_done && e->exe && strcmp(e->exe, ev->path) == 0)
    return false;
  e->exec_done = true;
  free(tr->prev);
  tr->prev = e->exe;   /* the image this pid ran before, now the parent */
  e->exe = strdup(ev->path);
  e->pending = pending;
  if (pending || e->exe == NULL)
    return false;
  /* pid 1's first image is the entry point the runtime started (the
   * supervisor reports that exec too): it has no parent to judge */
  if (ev->pid == 1 && tr->prev == NULL)
    return false;
  *parent = tr->prev ? tr->prev : "?";
  *child = e->exe;
  return true;
}

