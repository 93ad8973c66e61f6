/* The metrics responder parses request heads from whoever can reach the
 * loopback port. Any input must give 0 (need more) or one of the statuses,
 * and a full buffer must never ask for more. */
#include "agent/metrics.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char buf[WARD_METRICS_REQ_MAX];
  size_t n = size < sizeof(buf) ? size : sizeof(buf);
  memcpy(buf, data, n);
  int s = ward_metrics_parse_request(buf, n);
  if (s != 0 && s != 200 && s != 400 && s != 404 && s != 405)
    abort();
  if (n == sizeof(buf) && s == 0)
    abort();
  return 0;
}
