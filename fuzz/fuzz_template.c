/* The template parser (JSON and YAML, then validation) on hostile input; a
 * template that loads must also save, reload to the same thing and compile. */
#include "agent/template.h"
#include "common/cleanup.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  _cleanup_template_ struct ward_template *t = NULL;
  _cleanup_error_ ward_error_t err = NULL;
  if (ward_template_load_buffer("fuzz", (const char *) data, size, &t, &err) < 0)
    return 0;
  _cleanup_free_ char *yaml = ward_template_to_yaml(t);
  if (yaml == NULL)
    return 0;
  _cleanup_template_ struct ward_template *again = NULL;
  if (ward_template_load_buffer("fuzz.yaml", yaml, strlen(yaml), &again, &err) < 0) {
    fprintf(stderr, "saved YAML does not load: %s\n%s\n", err->msg, yaml);
    abort();
  }
  if (ward_template_diff(t, again, NULL) != 0)
    abort();
  _cleanup_fclose_ FILE *null = fopen("/dev/null", "we");
  if (null)
    ward_template_show(t, null);
  struct ward_template_rules r;
  if (ward_template_compile(t, &r, &err) == 0)
    ward_template_rules_free(&r);
  return 0;
}
