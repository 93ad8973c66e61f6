/* The template's in-memory model, shared by the template*.c files only. */
#ifndef WARD_TEMPLATE_INTERNAL_H
#define WARD_TEMPLATE_INTERNAL_H

#include "agent/template.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A sorted set of unique strings: sorted so files come out in a stable
 * order and lookups are binary searches. */
struct tpl_set {
  char **v;
  size_t n, cap;
  /* the entries holding pattern characters (pointers into v): only these
   * need a pattern match, the rest a binary search */
  char **wild;
  size_t n_wild, cap_wild;
  /* a new value from a process-wide counter at every add and remove (0:
   * never changed, so empty): a verdict cached against (set, gen) cannot
   * outlive the set's contents */
  uint64_t gen;
};

int tpl_set_add(struct tpl_set *s, const char *str);   /* 1 added, 0 present, -1 ENOMEM */
bool tpl_set_has(const struct tpl_set *s, const char *str);
int tpl_set_remove(struct tpl_set *s, const char *str);
void tpl_set_free(struct tpl_set *s);
int tpl_set_union(struct tpl_set *into, const struct tpl_set *from);
/* True when some entry, read as a pattern, matches str. */
bool tpl_set_match(const struct tpl_set *s, const char *str);

enum tpl_fmode { TPL_READ, TPL_WRITE, TPL_CREATE, TPL_REMOVE, TPL_ATTR, TPL_FMODE_COUNT };
extern const char *const tpl_fmode_names[TPL_FMODE_COUNT];

/* One named list of the file format, for I/O, merge, diff and show alike. */
struct ward_template {
  char *app;
  int version;
  struct tpl_set exec;        /* executable paths (patterns allowed) */
  struct tpl_set exec_hash;   /* "PATH\tSHA256" */
  struct tpl_set files[TPL_FMODE_COUNT];
  struct tpl_set listen;      /* "inet:0.0.0.0:8080" */
  struct tpl_set connect;     /* "inet:10.0.0.1:443", "unix:/run/x.sock" */
  struct tpl_set syscalls;    /* names seen */
  struct tpl_set complete;    /* names whose every call learning saw */
  struct tpl_set identity;    /* "setuid:1000", "capset" */
  struct tpl_set tree;        /* "PARENT -> CHILD" */
  struct tpl_set deny_paths;  /* hand-written */
  struct tpl_set deny_connect;
  json_t *model;
  struct ward_template_tracker *tracker;   /* learning state, never saved */
  bool complete_probe, complete_supervisor; /* their sets are in `complete` already */
};

/* Every list with its place in the file, in file order. */
struct tpl_list {
  const char *section;   /* "files" */
  const char *key;       /* "read", or NULL for a top-level array */
  size_t offset;         /* of the struct tpl_set in struct ward_template */
};
extern const struct tpl_list tpl_lists[];
extern const size_t tpl_n_lists;
static inline struct tpl_set *tpl_list_set(struct ward_template *t, const struct tpl_list *l)
{
  return (struct tpl_set *) ((char *) t + l->offset);
}
static inline const struct tpl_set *tpl_list_cset(const struct ward_template *t, const struct tpl_list *l)
{
  return (const struct tpl_set *) ((const char *) t + l->offset);
}

/* Endpoint strings: "inet:1.2.3.4:80", "inet6:[::1]:80", "unix:/path". */
int tpl_endpoint(const struct ward_event *ev, char *buf, size_t len);
/* The name of the call an event reports: probe libc call or supervisor
 * syscall; NULL when neither is known. */
const char *tpl_call_name(const struct ward_event *ev);
/* File access modes an event exercises, as a bit mask of 1 << tpl_fmode. */
unsigned tpl_event_fmodes(const struct ward_event *ev);
/* tpl_set_match through the tracker's cache of matches (per container;
 * tr may be NULL: no cache). Only matches are kept: a miss is a deviation,
 * rare, and checked in full every time. */
bool tpl_set_match_cached(struct ward_template_tracker *tr, const struct tpl_set *s, const char *str);
/* Pid bookkeeping for the process tree. */
const char *tpl_tracker_exe(struct ward_template_tracker *tr, uint32_t pid);
/* Records an event; true when it completes a process-tree edge: *parent
 * ("?" when unknown) started *child (both borrowed until the next call). */
bool tpl_tracker_event(struct ward_template_tracker *tr, const struct ward_event *ev, const char **parent,
                       const char **child);
/* Generalisation (template_pattern.c); digits: numbered names become '#'.
 * Executables keep their numbers outside temp places (python3.11 is one
 * binary, not a family, and a '#' would widen the Landlock exec rule to
 * the whole directory); pids and generated names are generalised. */
char *tpl_generalise(const char *path, bool digits);
char *tpl_generalise_exec(const char *path);
/* "PARENT -> CHILD" with both generalised as executables (malloc'd). */
char *tpl_edge(const char *parent, const char *child);

/* YAML <-> JSON with a map from field paths to lines. */
struct tpl_linemap {
  char **paths;
  int *lines;
  size_t n, cap;
};
void tpl_linemap_free(struct tpl_linemap *m);
int tpl_linemap_add(struct tpl_linemap *m, const char *path, int line);
int tpl_linemap_find(const struct tpl_linemap *m, const char *path);   /* 0 unknown */
int tpl_yaml_parse(const char *name, const char *buf, size_t len, json_t **out, struct tpl_linemap *map,
                   ward_error_t *err);
char *tpl_yaml_emit(json_t *doc);

#endif
