#include "audit/audit_model.h"
#include "audit/audit_caps.h"
#include "common/cleanup.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct arena_block { struct arena_block *next; size_t used, size; char data[]; };
struct arena { struct arena_block *head; bool oom; };

static void *arena_alloc(struct arena *a, size_t size)
{
  size = (size + 15) & ~(size_t) 15;
  struct arena_block *b = a->head;
  if (b == NULL || b->size - b->used < size) {
    size_t bs = size > 16384 ? size : 16384;
    b = malloc(sizeof(*b) + bs);
    if (b == NULL) {
      a->oom = true;
      return NULL;
    }
    b->next = a->head;
    b->used = 0;
    b->size = bs;
    a->head = b;
  }
  void *p = b->data + b->used;
  b->used += size;
  memset(p, 0, size);
  return p;
}

int amodel_init(struct amodel *m)
{
  memset(m, 0, sizeof(*m));
  m->arena = calloc(1, sizeof(*m->arena));
  return m->arena ? 0 : -1;
}

void amodel_free(struct amodel *m)
{
  if (m->arena) {
    for (struct arena_block *b = m->arena->head, *next; b; b = next) {
      next = b->next;
      free(b);
    }
    free(m->arena);
  }
  memset(m, 0, sizeof(*m));
}

bool amodel_oom(const struct amodel *m) { return m->arena == NULL || m->arena->oom; }

const char *astr(struct amodel *m, const char *s)
{
  if (s == NULL)
    return NULL;
  size_t len = strlen(s);
  char *p = arena_alloc(m->arena, len + 1);
  if (p == NULL)
    return "";
  memcpy(p, s, len + 1);
  return p;
}

const char *aprintf(struct amodel *m, const char *fmt, ...)
{
  _cleanup_free_ char *tmp = NULL;
  va_list ap;
  va_start(ap, fmt);
  int rc = vasprintf(&tmp, fmt, ap);
  va_end(ap);
  if (rc < 0) {
    m->arena->oom = true;
    return "";
  }
  return astr(m, tmp);
}

const char *apath(struct amodel *m, const char *base, const char *key)
{
  bool odd = strpbrk(key, ".[]\" ") != NULL;
  if (base == NULL || *base == '\0')
    return odd ? aprintf(m, "[\"%s\"]", key) : astr(m, key);
  return odd ? aprintf(m, "%s[\"%s\"]", base, key) : aprintf(m, "%s.%s", base, key);
}

const char *ajoin(struct amodel *m, const char *base, const char *suffix)
{
  return base && *base ? aprintf(m, "%s.%s", base, suffix) : astr(m, suffix);
}

const char *apath_idx(struct amodel *m, const char *base, size_t i)
{
  return aprintf(m, "%s[%zu]", base ? base : "", i);
}

struct aloc aloc_at(const char *path, const struct anode *n)
{
  return (struct aloc){.path = path, .line = n ? n->line : 0, .col = n ? n->col : 0};
}

struct acontainer *amodel_add(struct amodel *m, enum ward_audit_kind kind, const char *name,
                              const char *base, const struct anode *where)
{
  if (m->n == m->cap) {
    size_t ncap = m->cap ? m->cap * 2 : 4;
    struct acontainer *c = arena_alloc(m->arena, ncap * sizeof(*c));
    if (c == NULL)
      return NULL;
    if (m->n)
      memcpy(c, m->c, m->n * sizeof(*c));
    m->c = c;
    m->cap = ncap;
  }
  struct acontainer *c = &m->c[m->n++];
  memset(c, 0, sizeof(*c));
  c->kind = kind;
  c->name = astr(m, name);
  c->loc = aloc_at(astr(m, base ? base : ""), where);
  return c;
}

void aitems_add(struct amodel *m, struct aitems *it, const char *name, const char *value, struct aloc loc)
{
  if (it->n == it->cap) {
    size_t ncap = it->cap ? it->cap * 2 : 8;
    struct aitem *v = arena_alloc(m->arena, ncap * sizeof(*v));
    if (v == NULL)
      return;
    if (it->n)
      memcpy(v, it->v, it->n * sizeof(*v));
    it->v = v;
    it->cap = ncap;
  }
  it->v[it->n++] = (struct aitem){.name = astr(m, name ? name : ""), .value = astr(m, value), .loc = loc};
}

bool aitems_has(const struct aitems *it, const char *name, struct aloc *loc)
{
  for (size_t i = 0; i < it->n; i++)
    if (strcmp(it->v[i].name, name) == 0) {
      if (loc)
        *loc = it->v[i].loc;
      return true;
    }
  return false;
}

void aitems_from_seq(struct amodel *m, struct aitems *it, const struct anode *seq, const char *path)
{
  if (!anode_is_seq(seq))
    return;
  it->present = true;
  it->loc = aloc_at(path, seq);
  for (size_t i = 0; i < seq->n; i++) {
    const char *s = anode_str(seq->kids[i]);
    if (s)
      aitems_add(m, it, s, NULL, aloc_at(apath_idx(m, path, i), seq->kids[i]));
  }
}

void amount_add(struct amodel *m, struct acontainer *c, const char *src, const char *dst,
                bool ro, bool host, struct aloc loc)
{
  if (c->nmounts == c->mounts_cap) {
    size_t ncap = c->mounts_cap ? c->mounts_cap * 2 : 8;
    struct amount *v = arena_alloc(m->arena, ncap * sizeof(*v));
    if (v == NULL)
      return;
    if (c->nmounts)
      memcpy(v, c->mounts, c->nmounts * sizeof(*v));
    c->mounts = v;
    c->mounts_cap = ncap;
  }
  c->mounts[c->nmounts++] = (struct amount){
    .src = astr(m, src ? src : ""), .dst = astr(m, dst ? dst : ""), .ro = ro, .host = host, .loc = loc};
}

void afield_set(struct afield *f, enum atri v, struct aloc loc)
{
  f->v = v;
  f->loc = loc;
}

/* Accepts both the current "key=value" and the legacy "key:value" forms. */
static bool opt_split(const char *opt, const char *key, const char **val)
{
  size_t k = strlen(key);
  if (strncmp(opt, key, k) != 0)
    return false;
  if (opt[k] == '\0') {
    *val = NULL;
    return true;
  }
  if (opt[k] != '=' && opt[k] != ':')
    return false;
  *val = opt + k + 1;
  return true;
}

void amodel_security_opt(struct amodel *m, struct acontainer *c, const char *opt, struct aloc loc)
{
  const char *v = NULL;
  (void) m;
  if (opt_split(opt, "seccomp", &v) && v) {
    c->seccomp.v = strcmp(v, "unconfined") == 0 ? PROF_UNCONFINED : PROF_CUSTOM;
    c->seccomp.loc = loc;
  } else if (opt_split(opt, "apparmor", &v) && v) {
    c->apparmor.v = strcmp(v, "unconfined") == 0 ? PROF_UNCONFINED : PROF_CUSTOM;
    c->apparmor.loc = loc;
  } else if (opt_split(opt, "label", &v) && v) {
    if (strcmp(v, "disable") == 0 || strcmp(v, "type:spc_t") == 0)
      afield_set(&c->selinux_off, T_YES, loc);
  } else if (opt_split(opt, "no-new-privileges", &v)) {
    afield_set(&c->nnp, v == NULL || strcmp(v, "true") == 0 ? T_YES : T_NO, loc);
  } else if (opt_split(opt, "systempaths", &v) && v && strcmp(v, "unconfined") == 0) {
    afield_set(&c->unmask_all, T_YES, loc);
  }
}

/* Host paths are absolute or relative ("./data", "~/x"); anything else is a
 * named volume, which lives under the runtime's own directory. */
static bool is_host_source(const char *s)
{
  return s[0] == '/' || s[0] == '.' || s[0] == '~';
}

void amodel_bind_spec(struct amodel *m, struct acontainer *c, const char *spec, struct aloc loc)
{
  _cleanup_free_ char *copy = strdup(spec);
  if (copy == NULL) {
    m->arena->oom = true;
    return;
  }
  char *src = copy, *dst = strchr(copy, ':');
  if (dst == NULL) { /* anonymous volume: no host path */
    amount_add(m, c, "", copy, false, false, loc);
    return;
  }
  *dst++ = '\0';
  char *opts = strchr(dst, ':');
  bool ro = false;
  if (opts) {
    *opts++ = '\0';
    for (char *save = NULL, *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save))
      if (strcmp(o, "ro") == 0 || strcmp(o, "readonly") == 0)
        ro = true;
  }
  amount_add(m, c, src, dst, ro, is_host_source(src), loc);
}

uint64_t acontainer_caps(const struct acontainer *c, struct aloc loc[64], uint64_t *from_default)
{
  uint64_t caps = 0, dflt = 0;
  for (int i = 0; i < 64; i++)
    loc[i] = c->loc;
  if (c->privileged.v == T_YES) {
    for (int i = 0; i < WARD_CAP_COUNT; i++)
      loc[i] = c->privileged.loc;
    *from_default = 0;
    return WARD_CAPS_ALL;
  }
  if (c->cap_set.present) {
    for (size_t i = 0; i < c->cap_set.n; i++) {
      int cap = ward_cap_parse(c->cap_set.v[i].name);
      if (strcasecmp(c->cap_set.v[i].name, "ALL") == 0) {
        for (int k = 0; k < WARD_CAP_COUNT; k++)
          loc[k] = c->cap_set.v[i].loc;
        caps = WARD_CAPS_ALL;
      } else if (cap >= 0 && !(caps & (UINT64_C(1) << cap))) {
        caps |= UINT64_C(1) << cap;
        loc[cap] = c->cap_set.v[i].loc;
      }
    }
    *from_default = 0;
    return caps;
  }
  if (c->caps_from_default && !aitems_has(&c->cap_drop, "ALL", NULL) && !aitems_has(&c->cap_drop, "all", NULL))
    caps = dflt = ward_caps_runtime_default();
  for (size_t i = 0; i < c->cap_drop.n; i++) {
    int cap = ward_cap_parse(c->cap_drop.v[i].name);
    if (cap >= 0) {
      caps &= ~(UINT64_C(1) << cap);
      dflt &= ~(UINT64_C(1) << cap);
    }
  }
  for (size_t i = 0; i < c->cap_add.n; i++) {
    const char *name = c->cap_add.v[i].name;
    if (strcasecmp(name, "ALL") == 0) {
      for (int k = 0; k < WARD_CAP_COUNT; k++)
        if (!(dflt & (UINT64_C(1) << k)))
          loc[k] = c->cap_add.v[i].loc;
      caps = WARD_CAPS_ALL;
      continue;
    }
    int cap = ward_cap_parse(name);
    if (cap < 0)
      continue;
    caps |= UINT64_C(1) << cap;
    dflt &= ~(UINT64_C(1) << cap);
    loc[cap] = c->cap_add.v[i].loc;
  }
  *from_default = dflt;
  return caps;
}
