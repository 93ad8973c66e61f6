/* Every rule fires on at least one real fixture and stays quiet on the
 * hardened fixture of the same format, which triggers nothing at all. */
#include "audit/audit.h"
#include "audit/audit_test_paths.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

void test_audit_rules(void);

static const struct { const char *dir, *ext; } formats[] = {
  {"oci", "json"}, {"docker", "json"}, {"k8s", "yaml"}, {"compose", "yaml"}};

static bool has(const struct ward_audit_file *f, const char *id)
{
  for (size_t i = 0; i < f->nfindings; i++)
    if (strcmp(f->findings[i].rule->id, id) == 0)
      return true;
  return false;
}

void test_audit_rules(void)
{
  struct ward_audit_file bad[4], good[4];
  for (size_t i = 0; i < 4; i++) {
    char rel[64], path[4096];
    snprintf(rel, sizeof(rel), "%s/bad.%s", formats[i].dir, formats[i].ext);
    snprintf(path, sizeof(path), "%s/%s", WARD_AUDIT_FIXTURES, rel);
    is_int(ward_audit_path(path, &bad[i]), 0, "%s audits", rel);
    snprintf(rel, sizeof(rel), "%s/hardened.%s", formats[i].dir, formats[i].ext);
    snprintf(path, sizeof(path), "%s/%s", WARD_AUDIT_FIXTURES, rel);
    is_int(ward_audit_path(path, &good[i]), 0, "%s audits", rel);
    is_int(good[i].nfindings, 0, "%s has no findings", rel);
    is_int(ward_audit_max_sev(&good[i], 1), WARD_SEV_NONE, "%s: nothing at any severity", rel);
  }
  size_t n = 0;
  const struct ward_audit_rule *rules = ward_audit_rules(&n);
  ok(n >= 30, "at least 30 rules (%zu)", n);
  for (size_t r = 0; r < n; r++) {
    int triggered = 0;
    bool quiet = true;
    for (size_t i = 0; i < 4; i++)
      if (has(&bad[i], rules[r].id)) {
        triggered++;
        quiet &= !has(&good[i], rules[r].id);
      }
    ok(triggered > 0 && quiet, "%s (%s) fires in %d format(s), passes on the hardened ones", rules[r].id,
       rules[r].title, triggered);
    ok(rules[r].technique && strlen(rules[r].technique) > 20 && rules[r].fix && *rules[r].fix, "%s documented",
       rules[r].id);
  }
  for (size_t i = 0; i < 4; i++) {
    ward_audit_file_clear(&bad[i]);
    ward_audit_file_clear(&good[i]);
  }
}
