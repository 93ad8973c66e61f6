/* Behavioural templates: what one application normally does (executables
 * and their hashes, files by access mode as generalised patterns, network
 * endpoints, system calls, identity changes, the process tree), learned from
 * struct ward_event, kept as a reviewable JSON or YAML file, checked against
 * live events (monitor) and compiled into enforcement layers (protect).
 * docs/templates.md describes the file format, the pattern syntax, the rules
 * and what compilation can and cannot promise. */
#ifndef WARD_TEMPLATE_H
#define WARD_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/severity.h"
#include "common/error.h"
#include "probe/event.h"

struct ward_template;
struct ward_landlock;

#define WARD_TEMPLATE_VERSION 1

struct ward_template *ward_template_new(const char *app);
void ward_template_free(struct ward_template *t);
static inline void ward_template_freep(struct ward_template **t)
{
  if (*t)
    ward_template_free(*t);
}
#define _cleanup_template_ __attribute__((cleanup(ward_template_freep)))

const char *ward_template_app(const struct ward_template *t);

/* JSON or YAML (by content: a file whose first non-blank byte is '{' is
 * JSON). Errors read "FILE:LINE: FIELD: what is wrong"; unknown fields are
 * errors that name them. */
int ward_template_load(const char *path, struct ward_template **out, ward_error_t *err);
/* The same from memory; `name` stands for the file in messages. */
int ward_template_load_buffer(const char *name, const char *buf, size_t len, struct ward_template **out,
                              ward_error_t *err);
/* Sorted, stable output with "version": 1; YAML when path ends in .yaml or
 * .yml, JSON otherwise. Written atomically. */
int ward_template_save(const struct ward_template *t, const char *path, ward_error_t *err);
/* The JSON document (a new reference) and YAML text (malloc'd). */
json_t *ward_template_to_json(const struct ward_template *t);
char *ward_template_to_yaml(const struct ward_template *t);

/* Learning. A template tracks pids to learn the process tree; one template
 * learning from several containers at once should use one tracker per
 * container (ward_template_learn uses the template's own). exe_fd: -1, or an
 * fd of the executed file (read from offset 0) for the content hash. */
void ward_template_learn(struct ward_template *t, const struct ward_event *ev, int exe_fd);
struct ward_template_tracker;
struct ward_template_tracker *ward_template_tracker_new(void);
void ward_template_tracker_free(struct ward_template_tracker *tr);
void ward_template_learn_tracked(struct ward_template *t, struct ward_template_tracker *tr,
                                 const struct ward_event *ev, int exe_fd);
/* Tells the tracker what pid already runs (the entry point as pid 1), so
 * the edges from it name it instead of "?". */
int ward_template_tracker_set_exe(struct ward_template_tracker *tr, uint32_t pid, const char *exe);
/* Adds an executable by hand (the container's entry point, which no probe
 * sees being exec'd); sha256 may be NULL. */
int ward_template_add_exec(struct ward_template *t, const char *path, const char *sha256);
/* Which system calls learning saw completely (every call reported), by name;
 * replaces the list. Compilation denies the complete ones never seen. */
int ward_template_set_complete(struct ward_template *t, const char *const *names);

/* Monitoring. */
struct ward_deviation {
  const char *rule;                /* "template.exec", ... (static string) */
  enum ward_severity severity;
  char detail[256];
};
/* 0: the event fits; 1: a deviation, described in *dev. Without a tracker
 * the template.tree rule is not evaluated (it needs pid history). */
int ward_template_check(const struct ward_template *t, const struct ward_event *ev, struct ward_deviation *dev);
int ward_template_check_tracked(const struct ward_template *t, struct ward_template_tracker *tr,
                                const struct ward_event *ev, struct ward_deviation *dev);

/* Union of `from` into `into`. Different app names or versions are errors. */
int ward_template_merge(struct ward_template *into, const struct ward_template *from, ward_error_t *err);
/* Writes "+ section: entry" / "- section: entry" lines for what b has that a
 * lacks and the reverse; returns the number of differing entries. */
size_t ward_template_diff(const struct ward_template *a, const struct ward_template *b, FILE *out);
/* A readable summary (counts and entries). */
void ward_template_show(const struct ward_template *t, FILE *out);

/* The detection part's opaque model section. */
json_t *ward_template_model(const struct ward_template *t);          /* borrowed; NULL if none */
int ward_template_set_model(struct ward_template *t, json_t *model);  /* takes a reference */

/* Patterns (docs/templates.md): `*` any run without '/', `**` any run,
 * `#` one or more digits, `\` escapes the next character. */
bool ward_template_pattern_match(const char *pattern, const char *path);
/* The generalised pattern of a concrete path (malloc'd, NULL on ENOMEM). */
char *ward_template_generalise(const char *path);

/* Protect. */
struct ward_template_rules {
  json_t *seccomp;                 /* OCI linux.seccomp object */
  struct ward_landlock *landlock;
  char **deny_paths;               /* NULL-terminated exact paths for the probe */
  uint16_t *connect_ports;         /* learned TCP/UDP connect ports, sorted */
  size_t n_connect_ports;
  bool connect_allowlist;
  char **supervisor_exec_allow;    /* learned exec paths (may hold patterns) */
  /* Extensions. */
  char **deny_connect;             /* "inet:ADDR:PORT" entries of deny.connect */
  char **landlock_flags;           /* the Landlock part as ward sandbox flags: "--ro", "/etc", ... */
  json_t *landlock_annotations;    /* the same as run.ward.landlock.* annotations */
  char **seccomp_denied;           /* complete syscalls never seen: removed from the allow-list */
};

/* root_fd: the container's root as seen from here, to drop Landlock paths
 * that do not exist there (Landlock refuses them); AT_FDCWD for the host. */
int ward_template_compile_at(const struct ward_template *t, int root_fd, struct ward_template_rules *out,
                             ward_error_t *err);
/* flags: WARD_TEMPLATE_NO_PROBE leaves out the Landlock rule for the
 * probe's directory, for containers that run without probes (the rule
 * would name a path that does not exist). */
#define WARD_TEMPLATE_NO_PROBE 0x1u
int ward_template_compile_ex(const struct ward_template *t, int root_fd, unsigned flags,
                             struct ward_template_rules *out, ward_error_t *err);
int ward_template_compile(const struct ward_template *t, struct ward_template_rules *out, ward_error_t *err);
void ward_template_rules_free(struct ward_template_rules *r);
/* The Docker/moby JSON profile of the compiled seccomp rules (new ref). */
json_t *ward_template_seccomp_docker(const struct ward_template_rules *r);

/* Offline learning: one `ward events --json` object -> event. Errors name the
 * field. */
int ward_template_event_from_json(json_t *o, struct ward_event *ev, ward_error_t *err);

#endif
