/* The OCI config parser takes whatever a bundle author wrote. */
#include "runtime/config.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_config *cfg = NULL;
  if (ward_config_parse_buffer("fuzz.json", (const char *) data, size, &cfg, &err) == 0)
    ward_config_free(cfg);
  return 0;
}
