/* The trace reader takes files from research data sets and recordings of
 * unknown origin. Parse, learn from it, score it, round-trip the model. */
#include "agent/model.h"
#include "common/cleanup.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_seq_model *m = NULL;
  if (ward_seq_model_new(&(struct ward_seq_params){.n = 3, .window = 4}, &m, &err) < 0)
    abort();
  uint16_t *ids = NULL;
  size_t n = 0;
  if (ward_trace_parse(m, true, "fuzz", (const char *) data, size, &ids, &n, &err) == 0) {
    ward_seq_model_learn(m, ids, n);
    struct ward_trace_set set = {0};
    if (ward_trace_set_add(&set, "fuzz", ids, n) == 0) {
      ward_seq_model_calibrate(m, &set, &err);
      ward_trace_set_free(&set);
    } else {
      free(ids);
    }
    json_t *j = ward_seq_model_to_json(m);
    struct ward_seq_model *back = NULL;
    if (j && ward_seq_model_from_json(j, "model", &back, &err) < 0)
      abort();   /* what we write we must read */
    ward_seq_model_free(back);
    json_decref(j);
  }
  ward_seq_model_free(m);
  return 0;
}
