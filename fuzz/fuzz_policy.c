/* Policy files (YAML or JSON, src/agent/policy_load.c): whatever the bytes,
 * the parser returns a policy or an error naming a line, never crashes. */
#include "agent/policy.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct ward_policy *p = NULL;
  ward_error_t err = NULL;
  if (ward_policy_parse("fuzz.yaml", (const char *) data, size, &p, &err) == 0) {
    struct ward_policy *d = ward_policy_dup(p);
    ward_policy_free(d);
    ward_policy_free(p);
  } else if (err == NULL || strncmp(err->msg, "fuzz.yaml:", 10) != 0) {
    __builtin_trap();  /* every error names file:line */
  }
  ward_error_free(&err);
  return 0;
}
