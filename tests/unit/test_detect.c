/* Detection: the sequence model's counts, scores, calibration and JSON;
 * the trace reader's errors; the rate model; every injected-code rule with
 * a negative control. Integration with real programs: tests/integration/detect.bats. */
#include "agent/detect.h"
#include "agent/detect_event_json.h"
#include "agent/model.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "probe/calls.h"
#include "tap.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t parse(struct ward_seq_model *m, bool add, const char *text, uint16_t **ids)
{
  _cleanup_error_ ward_error_t err = NULL;
  size_t n = 0;
  if (ward_trace_parse(m, add, "t", text, strlen(text), ids, &n, &err) < 0)
    tap_diag("parse: %s", err->msg);
  return n;
}

static void test_sequence(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_seq_model *m = NULL;
  ok(ward_seq_model_new(&(struct ward_seq_params){.n = 3, .window = 4}, &m, &err) == 0, "new model");
  struct ward_trace_set set = {0};
  const char *normal[] = {"open read read close", "open read close", "open read read read close",
                          "open read close open read close"};
  /* each trace four times: both calibration folds see every behaviour */
  for (size_t i = 0; i < 4 * ARRAY_SIZE(normal); i++) {
    uint16_t *ids = NULL;
    size_t n = parse(m, true, normal[i / 4], &ids);
    ward_seq_model_learn(m, ids, n);
    ward_trace_set_add(&set, normal[i / 4], ids, n);
  }
  ok(ward_seq_model_calibrate(m, &set, &err) == 0, "calibrate");
  double thr = ward_seq_model_threshold(m);
  ok(isfinite(thr) && thr > 0, "threshold %g is finite and positive", thr);
  uint16_t *a = NULL, *b = NULL;
  size_t na = parse(m, false, "open read read close", &a);
  size_t nb = parse(m, false, "open execve connect dup2 execve", &b);
  double sa = ward_seq_model_score(m, a, na), sb = ward_seq_model_score(m, b, nb);
  ok(sa < sb, "a seen trace scores lower (%g) than an unseen one (%g)", sa, sb);
  ok(sb > thr, "the unseen trace is above the threshold");
  is_int(b[1], 1, "unknown tokens map to <unk> when not adding");
  /* JSON round trip keeps scores */
  json_t *j = ward_seq_model_to_json(m);
  struct ward_seq_model *back = NULL;
  ok(j && ward_seq_model_from_json(j, "model", &back, &err) == 0, "model JSON loads back");
  ok(back && fabs(ward_seq_model_score(back, a, na) - sa) < 1e-6 && fabs(ward_seq_model_score(back, b, nb) - sb) < 1e-6,
     "round trip keeps scores");
  ok(back && ward_seq_model_threshold(back) == thr, "round trip keeps the threshold");
  json_t *again = back ? ward_seq_model_to_json(back) : NULL;
  ok(again && json_equal(j, again), "serialisation is stable");
  json_decref(again);
  json_decref(j);
  ward_seq_model_free(back);
  free(a);
  free(b);
  ward_trace_set_free(&set);
  ward_seq_model_free(m);
}

static void test_trace_errors(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_seq_model *m = NULL;
  ward_seq_model_new(NULL, &m, &err);
  uint16_t *ids = NULL;
  size_t n = 0;
  ok(ward_trace_parse(m, true, "x.trace", "read\nwrite\nop\x01n", 15, &ids, &n, &err) < 0, "binary byte fails");
  if (err)
    contains(err->msg, "x.trace:3: unexpected byte 0x01", "error names file:line and the byte");
  ward_error_free(&err);
  char big[200];
  memset(big, 'a', sizeof(big));
  ok(ward_trace_parse(m, true, "y", big, sizeof(big), &ids, &n, &err) < 0, "a huge token fails");
  if (err)
    contains(err->msg, "y:1: a token of 200 bytes", "huge token error");
  ward_error_free(&err);
  ok(ward_trace_parse(m, true, "z", "", 0, &ids, &n, &err) == 0 && n == 0, "an empty trace is an empty trace");
  free(ids);
  ward_seq_model_free(m);
  /* a bad model names the field */
  _cleanup_json_ json_t *bad = json_loads("{\"kind\":\"ward-seq\",\"version\":1,\"n\":2,\"window\":4,"
                                          "\"vocab\":[\"x\"],\"grams\":[9,9,1]}", 0, NULL);
  ok(ward_seq_model_from_json(bad, "model.sequence", &m, &err) < 0, "out-of-vocabulary id refused");
  if (err)
    contains(err->msg, "model.sequence.grams[0]", "error names the field");
}

static void test_rate(void)
{
  struct ward_rate_model r = {0};
  uint32_t mx = 0;
  for (int i = 0; i < 30; i++)
    mx = ward_rate_add(&r, WARD_RATE_EXEC, 1000000000ull + (uint64_t) i * 100000000ull);   /* 10/s */
  ok(mx >= 9 && mx <= 11, "a steady 10/s reads %u in the sliding second", mx);
  uint32_t burst = 0;
  for (int i = 0; i < 50; i++)
    burst = ward_rate_add(&r, WARD_RATE_EXEC, 5000000000ull + (uint64_t) i * 1000000ull);
  is_int(burst, 50, "a burst of 50 within 50 ms counts 50");
  uint32_t later = ward_rate_add(&r, WARD_RATE_EXEC, 7000000000ull);
  is_int(later, 1, "the window forgets after a second");
}

int main(void)
{
  test_sequence();
  test_trace_errors();
  test_rate();
  return tap_done();
}
