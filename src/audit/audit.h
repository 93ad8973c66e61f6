/* ward audit: finds breakout-enabling misconfigurations in OCI configs,
 * Docker/podman inspect output, Kubernetes manifests and compose files.
 * Every input kind is normalised into one container model (audit_model.h)
 * that a single rule set (audit_rules.c) reads, so a rule is written once. */
#ifndef WARD_AUDIT_H
#define WARD_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/error.h"

enum ward_audit_sev { WARD_SEV_NONE = 0, WARD_SEV_LOW, WARD_SEV_MEDIUM, WARD_SEV_HIGH, WARD_SEV_CRITICAL };
enum ward_audit_kind { WARD_AUDIT_UNKNOWN = 0, WARD_AUDIT_OCI, WARD_AUDIT_DOCKER, WARD_AUDIT_K8S, WARD_AUDIT_COMPOSE };
enum ward_audit_format { WARD_AUDIT_TEXT, WARD_AUDIT_JSON, WARD_AUDIT_SARIF };

struct ward_audit_rule {
  const char *id;           /* WARD-Annn, stable */
  enum ward_audit_sev sev;
  const char *title;
  const char *technique;    /* the escape it enables */
  const char *fix;
};

struct ward_audit_finding {
  const struct ward_audit_rule *rule;
  char *container;          /* "deployment/web container app" */
  char *field;              /* dotted path of the offending (or missing) field */
  int line, col;            /* 0 when unknown */
  char *detail;
};

struct ward_audit_file {
  char *path;
  enum ward_audit_kind kind;
  char **containers;        /* NULL-terminated */
  struct ward_audit_finding *findings;
  size_t nfindings;
  char *error;              /* the file could not be audited (NULL: fine) */
};

const struct ward_audit_rule *ward_audit_rules(size_t *n);
const struct ward_audit_rule *ward_audit_rule_find(const char *id);
const char *ward_audit_sev_name(enum ward_audit_sev s);
/* "low".."critical", or "never" (WARD_SEV_NONE); -1 when unknown. */
int ward_audit_sev_parse(const char *s);
const char *ward_audit_kind_name(enum ward_audit_kind k);

/* Detects the kind, parses and applies every rule. Always fills *out (so a
 * failed file is still reported); returns -1 and sets out->error when the
 * input is unreadable, malformed or of an unknown kind. */
int ward_audit_buffer(const char *path, const char *buf, size_t len, struct ward_audit_file *out);
int ward_audit_path(const char *path, struct ward_audit_file *out);
void ward_audit_file_clear(struct ward_audit_file *f);

json_t *ward_audit_json(const struct ward_audit_file *files, size_t n);
json_t *ward_audit_sarif(const struct ward_audit_file *files, size_t n);
int ward_audit_render(FILE *out, enum ward_audit_format fmt, const struct ward_audit_file *files,
                      size_t n, bool color);
/* Highest severity found across files (WARD_SEV_NONE when clean). */
enum ward_audit_sev ward_audit_max_sev(const struct ward_audit_file *files, size_t n);

/* The whole `ward audit` command, so tests can drive it: returns the exit
 * status (0 clean, 1 finding at/above --fail-on, 2 usage or input error). */
int ward_audit_main(int argc, char **argv, FILE *out, FILE *errout);

#endif

/* ---- ward audit --host: runtime and kernel CVE exposure ---- */

/* Compares upstream versions: numeric components, then pre-releases
 * (-rc7, -rc.3, -alpha) before the release; distro suffixes (+ds1, ~ds1,
 * -1, -fc-v782) are ignored. <0, 0, >0 like strcmp. */
int ward_version_cmp(const char *a, const char *b);
/* The CVE data built into the binary (data/cve.json at build time). */
const char *ward_audit_cve_data(void);
/* Pure evaluation, for tests: components is [{"name","version"}], uname_v
 * the kernel build string (distro detection). Returns a new array of
 * {"id","component","version","fixed","severity","status",...}. */
json_t *ward_audit_host_evaluate(json_t *cvedata, json_t *components, const char *uname_v);
/* Collects uname and runtime versions (running each `X --version` with a
 * timeout) and evaluates them; cve_file NULL uses the built-in data. */
int ward_audit_host(const char *cve_file, json_t **report, ward_error_t *err);
void ward_audit_host_render(FILE *out, json_t *report, bool color);
/* Highest severity among exposures whose status is "affected". */
enum ward_audit_sev ward_audit_host_max_sev(json_t *report);
