/* Event JSON lines (ward model detect) are recordings a user points at. */
#include "agent/detect.h"
#include "agent/detect_event_json.h"
#include "common/cleanup.h"

#include <stdint.h>
#include <stdio.h>

static void sink(void *opaque, const struct ward_event *ev)
{
  ward_detector_event(opaque, ev, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  _cleanup_error_ ward_error_t err = NULL;
  FILE *f = fmemopen((void *) data, size ? size : 1, "r");
  if (f == NULL)
    return 0;
  struct ward_detector *d = NULL;
  if (ward_detector_new(&(struct ward_detect_config){.root_fd = -1}, &d, &err) == 0) {
    ward_event_read_jsonl(f, "fuzz", sink, d, &err);
    ward_detector_free(d);
  }
  fclose(f);
  return 0;
}
