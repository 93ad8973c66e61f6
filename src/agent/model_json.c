/* Loading and saving the sequence model. The model section of a template
 * is written by anyone who can edit the template, so every field and
 * bound is checked and errors name the field. */
#include "agent/model.h"
#include "agent/model_internal.h"
#include "common/cleanup.h"
#include "common/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MODEL_FILE_MAX (256u << 20)

static int get_num(json_t *j, const char *key, const char *path, double lo, double hi, double *out, bool req,
                   ward_error_t *err)
{
  json_t *v = json_object_get(j, key);
  if (v == NULL) {
    if (req)
      return ward_error(err, 0, "%s.%s: missing", path, key);
    return 0;
  }
  if (!json_is_number(v))
    return ward_error(err, 0, "%s.%s: expected a number, not %s", path, key, wj_type_name(json_typeof(v)));
  double d = json_number_value(v);
  if (!(d >= lo && d <= hi))
    return ward_error(err, 0, "%s.%s: %g is outside [%g, %g]", path, key, d, lo, hi);
  *out = d;
  return 0;
}

int ward_seq_model_from_json(json_t *j, const char *path, struct ward_seq_model **out, ward_error_t *err)
{
  if (!json_is_object(j))
    return ward_error(err, 0, "%s: expected an object", path);
  json_t *kind = json_object_get(j, "kind");
  if (!json_is_string(kind) || strcmp(json_string_value(kind), "ward-seq") != 0)
    return ward_error(err, 0, "%s.kind: expected \"ward-seq\"", path);
  double version = 0, n = 0, window = 0, alpha = 0, margin = 0, pct = 0, thr = -1;
  if (get_num(j, "version", path, 1, 1, &version, true, err) < 0 ||
      get_num(j, "n", path, 2, WARD_SEQ_N_MAX, &n, true, err) < 0 ||
      get_num(j, "window", path, 1, WARD_SEQ_WINDOW_MAX, &window, true, err) < 0 ||
      get_num(j, "alpha", path, 1e-9, 1, &alpha, false, err) < 0 ||
      get_num(j, "margin", path, 1, 100, &margin, false, err) < 0 ||
      get_num(j, "percentile", path, 1e-9, 100, &pct, false, err) < 0 ||
      get_num(j, "threshold", path, -1, 1e6, &thr, false, err) < 0)
    return -1;
  if (n != floor(n) || window != floor(window))
    return ward_error(err, 0, "%s: n and window must be integers", path);
  struct ward_seq_params p = {.n = (unsigned) n, .window = (unsigned) window, .alpha = alpha, .margin = margin,
                              .percentile = pct};
  struct ward_seq_model *m = NULL;
  if (ward_seq_model_new(&p, &m, err) < 0)
    return ward_error_prefix(err, "%s", path);
  m->threshold = thr < 0 ? INFINITY : thr;
  json_t *vocab = json_object_get(j, "vocab");
  if (!json_is_array(vocab) || json_array_size(vocab) > WARD_SEQ_VOCAB_MAX) {
    ward_seq_model_free(m);
    return ward_error(err, 0, "%s.vocab: expected an array of at most %d tokens", path, WARD_SEQ_VOCAB_MAX);
  }
  size_t i;
  json_t *v;
  json_array_foreach(vocab, i, v) {
    const char *s = json_string_value(v);
    size_t len = s ? strlen(s) : 0;
    if (s == NULL || len == 0 || len > WARD_SEQ_TOKEN_MAX || strpbrk(s, " \t\r\n\v\f") ||
        ward_seq_model_token(m, s, len, false) != WARD_SEQ_ID_UNK ||
        ward_seq_model_token(m, s, len, true) != i + 2) {
      ward_seq_model_free(m);
      return ward_error(err, 0, "%s.vocab[%zu]: expected a new token without blanks of 1..%d bytes", path, i,
                        WARD_SEQ_TOKEN_MAX);
    }
  }
  json_t *grams = json_object_get(j, "grams");
  size_t stride = p.n + 1;
  if (!json_is_array(grams) || json_array_size(grams) % stride != 0 ||
      json_array_size(grams) / stride > WARD_SEQ_GRAMS_MAX) {
    ward_seq_model_free(m);
    return ward_error(err, 0, "%s.grams: expected an array of (%u ids, count) groups, at most %u", path, p.n,
                      WARD_SEQ_GRAMS_MAX);
  }
  size_t ng = json_array_size(grams) / stride;
  for (size_t g = 0; g < ng; g++) {
    uint16_t ids[WARD_SEQ_N_MAX] = {0};
    for (size_t k = 0; k < stride; k++) {
      json_t *e = json_array_get(grams, g * stride + k);
      json_int_t x = json_is_integer(e) ? json_integer_value(e) : -1;
      json_int_t hi = k < p.n ? (json_int_t) m->vocab_n + 1 : UINT32_MAX;
      if (x < (k < p.n ? 0 : 1) || x > hi) {
        ward_seq_model_free(m);
        return ward_error(err, 0, "%s.grams[%zu]: expected %s", path, g * stride + k,
                          k < p.n ? "a token id of the vocabulary" : "a count >= 1");
      }
      if (k < p.n)
        ids[k] = (uint16_t) x;
      else if (!ward_seq_model_add_gram(m, ids, (uint32_t) x)) {
        ward_seq_model_free(m);
        return ward_error(err, ENOMEM, "%s.grams", path);
      }
    }
  }
  *out = m;
  return 0;
}

int ward_seq_model_load(const char *file, struct ward_seq_model **out, ward_error_t *err)
{
  _cleanup_json_ json_t *j = NULL;
  if (wj_load_file(file, MODEL_FILE_MAX, &j, err) < 0)
    return -1;
  /* a whole template or detector model: take its sequence section */
  json_t *seq = json_object_get(j, "model");
  const char *path = "model";
  if (json_is_object(seq)) {
    json_t *inner = json_object_get(seq, "sequence");
    seq = inner ? inner : seq;
    path = inner ? "model.sequence" : "model";
  } else if (json_is_object(json_object_get(j, "sequence"))) {
    seq = json_object_get(j, "sequence");
    path = "sequence";
  } else {
    seq = j;
  }
  if (ward_seq_model_from_json(seq, path, out, err) < 0)
    return ward_error_prefix(err, "%s", file);
  return 0;
}

int ward_seq_model_save(const struct ward_seq_model *m, const char *file, ward_error_t *err)
{
  _cleanup_json_ json_t *j = ward_seq_model_to_json(m);
  if (j == NULL)
    return ward_error(err, ENOMEM, "%s", file);
  _cleanup_free_ char *tmp = NULL;
  if (asprintf(&tmp, "%s.tmp", file) < 0)
    return ward_error(err, ENOMEM, "%s", file);
  /* written aside and renamed: a reader never sees half a model */
  if (json_dump_file(j, tmp, JSON_COMPACT | JSON_SORT_KEYS) < 0) {
    unlink(tmp);
    return ward_error(err, errno, "%s: cannot write", tmp);
  }
  if (rename(tmp, file) < 0) {
    int e = errno;
    unlink(tmp);
    return ward_error(err, e, "%s", file);
  }
  return 0;
}
