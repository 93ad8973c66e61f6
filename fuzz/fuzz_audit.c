/* The whole audit pipeline on hostile bytes: kind detection, JSON and YAML
 * parsing (aliases, merge keys, multi-document), normalisation, rules and
 * all three renderers. */
#include "audit/audit.h"
#include "common/cleanup.h"

#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct ward_audit_file f;
  ward_audit_buffer("fuzz.yaml", (const char *) data, size, &f);
  FILE *null = fopen("/dev/null", "we");
  if (null) {
    ward_audit_render(null, WARD_AUDIT_TEXT, &f, 1, true);
    ward_audit_render(null, WARD_AUDIT_JSON, &f, 1, false);
    ward_audit_render(null, WARD_AUDIT_SARIF, &f, 1, false);
    fclose(null);
  }
  ward_audit_file_clear(&f);
  return 0;
}
