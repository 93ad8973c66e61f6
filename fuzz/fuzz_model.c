/* A model comes from a template anyone with write access may have edited:
 * load it as a detector would, then score a short trace with it. */
#include "agent/detect.h"
#include "agent/model.h"
#include "common/cleanup.h"
#include "common/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  _cleanup_error_ ward_error_t err = NULL;
  _cleanup_json_ json_t *j = NULL;
  if (wj_load_buffer("fuzz", (const char *) data, size, &j, &err) < 0)
    return 0;
  struct ward_detector *d = NULL;
  if (ward_detector_new(&(struct ward_detect_config){.root_fd = -1, .model = j}, &d, &err) == 0) {
    static struct ward_event ev;
    ev.type = WARD_EV_OPEN;
    for (uint32_t i = 0; i < 64; i++) {
      ev.pid = 1 + i % 3;
      ev.ts_ns = i * 1000000ull;
      ev.call = (uint16_t) (1 + i % 40);
      ward_detector_event(d, &ev, NULL, NULL);
    }
    json_decref(ward_detector_model(d));
    ward_detector_free(d);
  }
  struct ward_seq_model *m = NULL;
  if (ward_seq_model_from_json(j, "model", &m, &err) == 0) {
    uint16_t ids[32];
    for (int i = 0; i < 32; i++)
      ids[i] = (uint16_t) (i % 7);
    ward_seq_model_score(m, ids, 32);
    ward_seq_model_free(m);
  }
  return 0;
}
