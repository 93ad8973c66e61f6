/* The run.ward.landlock.* annotations come from whoever wrote the bundle.
 * Input: one annotation a line, "suffix=value" (key run.ward.landlock.suffix),
 * "=value" (key run.ward.landlock) or a full "run.key=value". */
#include "landlock/landlock.h"
#include "runtime/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

#define MAX_ANN 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  _cleanup_free_ char *text = malloc(size + 1);
  if (text == NULL)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';

  struct ward_kv ann[MAX_ANN];
  char *keys[MAX_ANN];
  size_t n = 0;
  char *rest = text, *line;
  while ((line = strsep(&rest, "\n")) != NULL && n < MAX_ANN) {
    char *eq = strchr(line, '=');
    if (eq == NULL)
      continue;
    *eq = '\0';
    const char *sep = strncmp(line, "run.", 4) == 0 ? "" : line[0] ? "run.ward.landlock." : "run.ward.landlock";
    size_t klen = strlen(sep) + strlen(line) + 1;
    keys[n] = malloc(klen);
    if (keys[n] == NULL)
      break;
    snprintf(keys[n], klen, "%s%s", sep, line);
    ann[n] = (struct ward_kv) { .key = keys[n], .value = eq + 1 };
    n++;
  }

  _cleanup_error_ ward_error_t err = NULL;
  struct ward_landlock *ll = NULL;
  if (ward_landlock_from_annotations(ann, n, &ll, &err) == 0 && ll) {
    char report[256];
    ward_landlock_set_abi_max(ll, 3);
    ward_landlock_check(ll, report, sizeof(report), &err);
    ward_landlock_check(ll, NULL, 0, &err);
    ward_landlock_free(ll);
  }
  for (size_t i = 0; i < n; i++)
    free(keys[i]);
  return 0;
}
