/* Renders audit results: text for people (grouped by file and container,
 * coloured on a terminal), JSON with stable field names for scripts, and
 * SARIF 2.1.0 for code-scanning services. */
#include "audit/audit.h"
#include "common/cleanup.h"
#include "common/json.h"

#include <stdlib.h>
#include <string.h>

static const char *sarif_level(enum ward_audit_sev s)
{
  return s >= WARD_SEV_HIGH ? "error" : s == WARD_SEV_MEDIUM ? "warning" : "note";
}

/* GitHub code scanning maps security-severity onto its own scale:
 * >= 9.0 critical, >= 7.0 high, >= 4.0 medium, else low. */
static const char *security_severity(enum ward_audit_sev s)
{
  switch (s) {
  case WARD_SEV_CRITICAL: return "9.5";
  case WARD_SEV_HIGH: return "8.0";
  case WARD_SEV_MEDIUM: return "5.5";
  default: return "3.0";
  }
}

static json_t *finding_json(const struct ward_audit_finding *f)
{
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:s}",
                   "rule_id", f->rule->id, "severity", ward_audit_sev_name(f->rule->sev), "title", f->rule->title,
                   "container", f->container, "field", f->field, "line", f->line, "column", f->col,
                   "message", f->detail, "technique", f->rule->technique, "fix", f->rule->fix);
}

json_t *ward_audit_json(const struct ward_audit_file *files, size_t n)
{
  json_t *jfiles = json_array();
  size_t counts[5] = {0}, failed = 0, total = 0;
  for (size_t i = 0; i < n; i++) {
    const struct ward_audit_file *f = &files[i];
    json_t *cs = json_array(), *fs = json_array();
    for (char **c = f->containers; c && *c; c++)
      json_array_append_new(cs, json_string(*c));
    for (size_t k = 0; k < f->nfindings; k++) {
      json_array_append_new(fs, finding_json(&f->findings[k]));
      counts[f->findings[k].rule->sev]++;
      total++;
    }
    failed += f->error != NULL;
    json_array_append_new(jfiles, json_pack("{s:s, s:s, s:o, s:o, s:o}", "path", f->path ? f->path : "",
                                            "kind", ward_audit_kind_name(f->kind),
                                            "error", f->error ? json_string(f->error) : json_null(),
                                            "containers", cs, "findings", fs));
  }
  return json_pack("{s:i, s:s, s:o, s:{s:i, s:i, s:i, s:i, s:i, s:i, s:i}}", "schema_version", 1,
                   "ward_version", WARD_VERSION, "files", jfiles, "summary", "files", (int) n, "failed",
                   (int) failed, "findings", (int) total, "critical", (int) counts[WARD_SEV_CRITICAL], "high",
                   (int) counts[WARD_SEV_HIGH], "medium", (int) counts[WARD_SEV_MEDIUM], "low",
                   (int) counts[WARD_SEV_LOW]);
}

/* artifactLocation.uri is a URI reference: escape what would change its
 * meaning; paths stay relative so the scanning service resolves them
 * against the checkout. */
static char *uri_of(const char *path)
{
  size_t len = strlen(path);
  char *out = malloc(len * 3 + 1), *o = out;
  if (out == NULL)
    return NULL;
  for (const unsigned char *p = (const unsigned char *) path; *p; p++) {
    if (*p <= ' ' || *p == '%' || *p == '#' || *p == '?' || *p >= 0x7f) {
      o += sprintf(o, "%%%02X", *p);
    } else {
      *o++ = (char) *p;
    }
  }
  *o = '\0';
  return out;
}

static json_t *location(const char *path, int line, int col, const char *field)
{
  _cleanup_free_ char *uri = uri_of(path);
  json_t *region = json_pack("{s:i}", "startLine", line > 0 ? line : 1);
  if (col > 0)
    json_object_set_new(region, "startColumn", json_integer(col));
  json_t *loc = json_pack("{s:{s:{s:s}, s:o}}", "physicalLocation", "artifactLocation", "uri", uri ? uri : "",
                          "region", region);
  if (field)
    json_object_set_new(loc, "logicalLocations", json_pack("[{s:s, s:s}]", "fullyQualifiedName", field, "kind", "member"));
  return loc;
}

json_t *ward_audit_sarif(const struct ward_audit_file *files, size_t n)
{
  size_t nrules = 0;
  const struct ward_audit_rule *rules = ward_audit_rules(&nrules);
  json_t *jrules = json_array();
  for (size_t i = 0; i < nrules; i++) {
    const struct ward_audit_rule *r = &rules[i];
    json_array_append_new(jrules, json_pack(
      "{s:s, s:s, s:{s:s}, s:{s:s}, s:{s:s, s:s}, s:{s:s}, s:{s:s, s:[s, s], s:s}}",
      "id", r->id, "name", r->title, "shortDescription", "text", r->title, "fullDescription", "text", r->technique,
      "help", "text", r->fix, "markdown", r->fix, "defaultConfiguration", "level", sarif_level(r->sev),
      "properties", "security-severity", security_severity(r->sev), "tags", "security", "container",
      "precision", "high"));
  }
  json_t *results = json_array(), *notes = json_array();
  bool ok = true;
  for (size_t i = 0; i < n; i++) {
    const struct ward_audit_file *f = &files[i];
    if (f->error) {
      ok = false;
      json_array_append_new(notes, json_pack("{s:s, s:{s:s}, s:[o]}", "level", "error", "message", "text", f->error,
                                             "locations", location(f->path ? f->path : "", 1, 0, NULL)));
    }
    for (size_t k = 0; k < f->nfindings; k++) {
      const struct ward_audit_finding *fd = &f->findings[k];
      int index = 0;
      for (size_t r = 0; r < nrules; r++)
        if (strcmp(rules[r].id, fd->rule->id) == 0)
          index = (int) r;
      _cleanup_free_ char *msg = NULL;
      if (asprintf(&msg, "%s: %s (%s). %s", fd->container, fd->detail, fd->field, fd->rule->fix) < 0)
        msg = NULL;
      json_array_append_new(results, json_pack("{s:s, s:i, s:s, s:{s:s}, s:[o]}", "ruleId", fd->rule->id,
                                               "ruleIndex", index, "level", sarif_level(fd->rule->sev), "message",
                                               "text", msg ? msg : fd->detail, "locations",
                                               location(f->path, fd->line, fd->col, fd->field)));
    }
  }
  return json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:o, s:[{s:b, s:o}]}]}",
                   "version", "2.1.0", "$schema", "https://json.schemastore.org/sarif-2.1.0.json", "runs",
                   "tool", "driver", "name", "ward", "version", WARD_VERSION, "informationUri",
                   "https://github.com/ward-runtime/ward/blob/main/docs/audit.md", "rules", jrules,
                   "results", results, "invocations", "executionSuccessful", ok, "toolExecutionNotifications", notes);
}

struct palette { const char *sev[5], *dim, *bold, *err, *off; };

static void render_text(FILE *out, const struct ward_audit_file *files, size_t n, bool color)
{
  static const struct palette on = {{"", "\033[36m", "\033[33m", "\033[31m", "\033[1;31m"},
                                    "\033[2m", "\033[1m", "\033[1;31m", "\033[0m"};
  static const struct palette offp = {{"", "", "", "", ""}, "", "", "", ""};
  const struct palette *p = color ? &on : &offp;
  size_t counts[5] = {0}, failed = 0, total = 0;
  for (size_t i = 0; i < n; i++) {
    const struct ward_audit_file *f = &files[i];
    size_t nc = 0;
    for (char **c = f->containers; c && *c; c++)
      nc++;
    if (f->error) {
      failed++;
      fprintf(out, "%serror:%s %s\n", p->err, p->off, f->error);
    }
    if (f->error && nc == 0)
      continue;
    fprintf(out, "%s%s%s (%s, %zu container%s, %zu finding%s)\n", p->bold, f->path, p->off,
            ward_audit_kind_name(f->kind), nc, nc == 1 ? "" : "s", f->nfindings, f->nfindings == 1 ? "" : "s");
    /* Findings were appended container by container: group on change. */
    const char *current = NULL;
    for (size_t k = 0; k < f->nfindings; k++) {
      const struct ward_audit_finding *fd = &f->findings[k];
      if (current == NULL || strcmp(current, fd->container) != 0) {
        current = fd->container;
        fprintf(out, "  %s%s%s\n", p->bold, current, p->off);
      }
      enum ward_audit_sev s = fd->rule->sev;
      counts[s]++;
      total++;
      char sevbuf[16];
      snprintf(sevbuf, sizeof(sevbuf), "%s", ward_audit_sev_name(s));
      for (char *c = sevbuf; *c; c++)
        *c = (char) (*c - 'a' + 'A');
      fprintf(out, "    %s%-8s%s %s %s: %s\n", p->sev[s], sevbuf, p->off, fd->rule->id, fd->rule->title, fd->detail);
      if (fd->line)
        fprintf(out, "             %sat %s (%s:%d:%d)%s\n", p->dim, fd->field, f->path, fd->line, fd->col, p->off);
      else
        fprintf(out, "             %sat %s%s\n", p->dim, fd->field, p->off);
      fprintf(out, "             %sfix:%s %s\n", p->dim, p->off, fd->rule->fix);
    }
  }
  fprintf(out, "%zu finding%s (%zu critical, %zu high, %zu medium, %zu low) in %zu file%s",
          total, total == 1 ? "" : "s", counts[WARD_SEV_CRITICAL], counts[WARD_SEV_HIGH], counts[WARD_SEV_MEDIUM],
          counts[WARD_SEV_LOW], n, n == 1 ? "" : "s");
  if (failed)
    fprintf(out, "; %s%zu file%s could not be audited%s", p->err, failed, failed == 1 ? "" : "s", p->off);
  fputc('\n', out);
}

int ward_audit_render(FILE *out, enum ward_audit_format fmt, const struct ward_audit_file *files, size_t n, bool color)
{
  if (fmt == WARD_AUDIT_TEXT) {
    render_text(out, files, n, color);
    return 0;
  }
  _cleanup_json_ json_t *j = fmt == WARD_AUDIT_JSON ? ward_audit_json(files, n) : ward_audit_sarif(files, n);
  if (j == NULL || json_dumpf(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
    return -1;
  fputc('\n', out);
  return 0;
}
