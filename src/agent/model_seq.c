/* The n-gram sequence model (model.h): counts, smoothed scores, leave-one-out
 * calibration and the JSON form. Counting and scoring are table lookups;
 * the logarithms are cached per entry once learning stops, so scoring a
 * call costs two hash probes. */
#include "agent/model.h"
#include "agent/model_internal.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix64(uint64_t x)
{
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

static uint64_t gram_hash(const uint16_t *ids)
{
  uint64_t a, b;
  memcpy(&a, ids, 8);
  memcpy(&b, ids + 4, 8);
  return mix64(a ^ mix64(b + 0x9e3779b97f4a7c15ull));
}

static struct seq_gram *tab_find(const struct seq_tab *t, const uint16_t *ids)
{
  if (t->cap == 0)
    return NULL;
  size_t mask = t->cap - 1;
  for (size_t i = gram_hash(ids) & mask;; i = (i + 1) & mask) {
    struct seq_gram *g = &t->slots[i];
    if (g->count == 0)
      return NULL;
    if (memcmp(g->ids, ids, sizeof(g->ids)) == 0)
      return g;
  }
}

static int tab_grow(struct seq_tab *t)
{
  size_t ncap = t->cap ? t->cap * 2 : 1024;
  struct seq_gram *n = calloc(ncap, sizeof(*n));
  if (n == NULL)
    return -1;
  for (size_t i = 0; i < t->cap; i++) {
    struct seq_gram *g = &t->slots[i];
    if (g->count == 0)
      continue;
    for (size_t j = gram_hash(g->ids) & (ncap - 1);; j = (j + 1) & (ncap - 1))
      if (n[j].count == 0) {
        n[j] = *g;
        break;
      }
  }
  free(t->slots);
  t->slots = n;
  t->cap = ncap;
  return 0;
}

/* Adds c to the entry for ids; false when the table is full or OOM. */
static bool tab_add(struct seq_tab *t, const uint16_t *ids, uint32_t c)
{
  struct seq_gram *g = tab_find(t, ids);
  if (g) {
    g->count = g->count > UINT32_MAX - c ? UINT32_MAX : g->count + c;
    return true;
  }
  if (t->used >= WARD_SEQ_GRAMS_MAX)
    return false;
  if ((t->used + 1) * 4 > t->cap * 3 && tab_grow(t) < 0)
    return false;
  size_t mask = t->cap - 1;
  for (size_t i = gram_hash(ids) & mask;; i = (i + 1) & mask)
    if (t->slots[i].count == 0) {
      memcpy(t->slots[i].ids, ids, sizeof(t->slots[i].ids));
      t->slots[i].count = c;
      t->used++;
      return true;
    }
}

int ward_seq_model_new(const struct ward_seq_params *p, struct ward_seq_model **out, ward_error_t *err)
{
  struct ward_seq_params d = p ? *p : (struct ward_seq_params){0};
  if (d.n == 0)
    d.n = 4;
  if (d.window == 0)
    d.window = 16;
  if (d.alpha == 0)
    d.alpha = 0.01;
  if (d.margin == 0)
    d.margin = 1.1;
  if (d.percentile == 0)
    d.percentile = 99;
  if (d.n < 2 || d.n > WARD_SEQ_N_MAX)
    return ward_error(err, 0, "n: %u is outside 2..%d", d.n, WARD_SEQ_N_MAX);
  if (d.window > WARD_SEQ_WINDOW_MAX)
    return ward_error(err, 0, "window: %u is outside 1..%d", d.window, WARD_SEQ_WINDOW_MAX);
  if (!(d.alpha > 0 && d.alpha <= 1))
    return ward_error(err, 0, "alpha: %g is outside (0, 1]", d.alpha);
  if (!(d.margin >= 1 && d.margin <= 100))
    return ward_error(err, 0, "margin: %g is outside [1, 100]", d.margin);
  if (!(d.percentile > 0 && d.percentile <= 100))
    return ward_error(err, 0, "percentile: %g is outside (0, 100]", d.percentile);
  struct ward_seq_model *m = calloc(1, sizeof(*m));
  if (m == NULL)
    return ward_error(err, ENOMEM, "sequence model");
  m->p = d;
  m->threshold = INFINITY;
  m->dirty = true;
  *out = m;
  return 0;
}

void ward_seq_model_free(struct ward_seq_model *m)
{
  if (m == NULL)
    return;
  free(m->grams.slots);
  free(m->prefixes.slots);
  for (size_t i = 0; i < m->vocab_n; i++)
    free(m->vocab[i]);
  free(m->vocab);
  free(m->vocab_hash);
  free(m);
}

unsigned ward_seq_model_n(const struct ward_seq_model *m) { return m->p.n; }
unsigned ward_seq_model_window(const struct ward_seq_model *m) { return m->p.window; }
double ward_seq_model_threshold(const struct ward_seq_model *m) { return m->threshold; }
void ward_seq_model_set_threshold(struct ward_seq_model *m, double t) { m->threshold = t; }
size_t ward_seq_model_grams(const struct ward_seq_model *m) { return m->grams.used; }

#define VOCAB_HASH_CAP 8192u   /* twice WARD_SEQ_VOCAB_MAX: probes stay short */

uint16_t ward_seq_model_token(struct ward_seq_model *m, const char *tok, size_t len, bool add)
{
  if (m->vocab_hash == NULL) {
    if (!add)
      return WARD_SEQ_ID_UNK;
    m->vocab_hash = calloc(VOCAB_HASH_CAP, sizeof(uint16_t));
    m->vocab = calloc(WARD_SEQ_VOCAB_MAX, sizeof(char *));
    if (m->vocab_hash == NULL || m->vocab == NULL)
      return WARD_SEQ_ID_UNK;
  }
  for (size_t i = ward_fnv1a(tok, len, WARD_FNV1A_BASIS) & (VOCAB_HASH_CAP - 1);; i = (i + 1) & (VOCAB_HASH_CAP - 1)) {
    uint16_t id = m->vocab_hash[i];
    if (id == 0) {
      if (!add || m->vocab_n >= WARD_SEQ_VOCAB_MAX)
        return WARD_SEQ_ID_UNK;
      char *s = strndup(tok, len);
      if (s == NULL)
        return WARD_SEQ_ID_UNK;
      m->vocab[m->vocab_n++] = s;
      m->vocab_hash[i] = (uint16_t) (m->vocab_n + 1);   /* ids 0 and 1 are reserved */
      m->dirty = true;
      return m->vocab_hash[i];
    }
    const char *v = m->vocab[id - 2];
    if (strncmp(v, tok, len) == 0 && v[len] == 0)
      return id;
  }
}

const char *ward_seq_model_token_name(const struct ward_seq_model *m, uint16_t id)
{
  if (id == WARD_SEQ_ID_PAD)
    return "<pad>";
  if (id == WARD_SEQ_ID_UNK || (size_t) id - 2 >= m->vocab_n)
    return "<unk>";
  return m->vocab[id - 2];
}

/* n-gram key: the n ids, zero beyond; the prefix key: the first n-1 ids */
static void push(uint16_t *hist, unsigned n, uint16_t id)
{
  memmove(hist, hist + 1, (n - 2) * sizeof(uint16_t));
  hist[n - 2] = id;
}

static void count_gram(struct ward_seq_model *m, const uint16_t *hist, uint16_t id)
{
  uint16_t key[WARD_SEQ_N_MAX] = {0};
  unsigned n = m->p.n;
  memcpy(key, hist, (n - 1) * sizeof(uint16_t));
  if (!tab_add(&m->prefixes, key, 1)) {
    m->dropped++;
    return;
  }
  key[n - 1] = id;
  if (!tab_add(&m->grams, key, 1))
    m->dropped++;
  m->dirty = true;
}

void ward_seq_model_learn(struct ward_seq_model *m, const uint16_t *ids, size_t len)
{
  uint16_t hist[WARD_SEQ_N_MAX] = {0};
  for (size_t i = 0; i < len; i++) {
    count_gram(m, hist, ids[i]);
    push(hist, m->p.n, ids[i]);
  }
}

/* Caches each entry's score so that scoring needs no logarithm: a gram's
 * nll in .nll, a prefix's nll for an unseen next call in its .nll. */
static void prepare(const struct ward_seq_model *cm)
{
  struct ward_seq_model *m = (struct ward_seq_model *) cm;
  if (!m->dirty)
    return;
  double a = m->p.alpha, v1 = (double) m->vocab_n + 1;
  /* a prefix never seen is as surprising as the most surprising novelty:
   * an unseen continuation of the most frequent prefix. Cheaper would let a
   * run of unknown calls score below one odd call in familiar code. */
  float unseen = (float) -log(a / (1 + a * v1));
  for (size_t i = 0; i < m->prefixes.cap; i++) {
    struct seq_gram *g = &m->prefixes.slots[i];
    if (g->count) {
      g->nll = (float) -log(a / (g->count + a * v1));
      if (g->nll > unseen)
        unseen = g->nll;
    }
  }
  for (size_t i = 0; i < m->grams.cap; i++) {
    struct seq_gram *g = &m->grams.slots[i];
    if (!g->count)
      continue;
    uint16_t key[WARD_SEQ_N_MAX] = {0};
    memcpy(key, g->ids, (m->p.n - 1) * sizeof(uint16_t));
    struct seq_gram *p = tab_find(&m->prefixes, key);
    double cp = p ? p->count : g->count;
    g->nll = (float) -log((g->count + a) / (cp + a * v1));
  }
  m->unseen_prefix_nll = unseen;
  m->dirty = false;
}

static float transition_nll(const struct ward_seq_model *m, const uint16_t *hist, uint16_t id)
{
  uint16_t key[WARD_SEQ_N_MAX] = {0};
  unsigned n = m->p.n;
  memcpy(key, hist, (n - 1) * sizeof(uint16_t));
  key[n - 1] = id;
  const struct seq_gram *g = tab_find(&m->grams, key);
  if (g)
    return g->nll;
  key[n - 1] = 0;
  const struct seq_gram *p = tab_find(&m->prefixes, key);
  return p ? p->nll : m->unseen_prefix_nll;
}

void ward_seq_ctx_init(struct ward_seq_ctx *c, float *wbuf)
{
  c->wbuf = wbuf;
  memset(c->hist, 0, sizeof(c->hist));
  c->count = 0;
  c->wpos = 0;
  c->wsum = 0;
}

/* Adds one transition's nll to the window; the window score or -1. */
static double window_push(const struct ward_seq_model *m, struct ward_seq_ctx *c, float x)
{
  unsigned w = m->p.window;
  if (c->count >= w)
    c->wsum -= c->wbuf[c->wpos];
  c->wbuf[c->wpos] = x;
  c->wpos = c->wpos + 1 == w ? 0 : c->wpos + 1;
  c->wsum += x;
  c->count++;
  /* a running sum drifts; the window is small enough to resum now and then */
  if ((c->count & 1023) == 0) {
    double s = 0;
    for (unsigned i = 0; i < w && i < c->count; i++)
      s += c->wbuf[i];
    c->wsum = s;
  }
  /* a window is judged once it holds n transitions (or all of a shorter
   * trace, see ward_seq_model_score): one novel call at a process's start
   * must not weigh as much as a run of them */
  if (c->count < m->p.n && c->count < w)
    return -1;
  return c->wsum / (c->count < w ? c->count : w);
}

double ward_seq_ctx_step(struct ward_seq_model *m, struct ward_seq_ctx *c, uint16_t id, bool learn)
{
  if (learn) {
    count_gram(m, c->hist, id);
    push(c->hist, m->p.n, id);
    c->count++;
    return -1;
  }
  prepare(m);
  float x = transition_nll(m, c->hist, id);
  push(c->hist, m->p.n, id);
  return window_push(m, c, x);
}

/* The score of one training trace by the model without that trace: counts
 * minus the trace's own (held in own), computed without the cache. */
static double score_left_out(const struct ward_seq_model *m, const struct ward_seq_model *own, const uint16_t *ids,
                             size_t len)
{
  struct ward_seq_ctx c;
  float wbuf[WARD_SEQ_WINDOW_MAX];
  ward_seq_ctx_init(&c, wbuf);
  double best = 0, a = m->p.alpha, v1 = (double) m->vocab_n + 1;
  unsigned n = m->p.n;
  for (size_t i = 0; i < len; i++) {
    uint16_t key[WARD_SEQ_N_MAX] = {0};
    memcpy(key, c.hist, (n - 1) * sizeof(uint16_t));
    const struct seq_gram *p = tab_find(&m->prefixes, key), *po = tab_find(&own->prefixes, key);
    double cp = (p ? p->count : 0) - (po ? po->count : 0);
    key[n - 1] = ids[i];
    const struct seq_gram *g = tab_find(&m->grams, key), *go = tab_find(&own->grams, key);
    double cg = (g ? g->count : 0) - (go ? go->count : 0);
    float x = cp <= 0 ? m->unseen_prefix_nll : (float) -log((cg + a) / (cp + a * v1));
    push(c.hist, n, ids[i]);
    double sc = window_push(m, &c, x);
    if (sc > best)
      best = sc;
  }
  if (len > 0 && len < n && len < m->p.window)
    best = c.wsum / (double) len;
  return best;
}

double ward_seq_model_score(const struct ward_seq_model *m, const uint16_t *ids, size_t len)
{
  struct ward_seq_ctx c;
  float wbuf[WARD_SEQ_WINDOW_MAX];
  ward_seq_ctx_init(&c, wbuf);
  double best = 0;
  for (size_t i = 0; i < len; i++) {
    double s = ward_seq_ctx_step((struct ward_seq_model *) m, &c, ids[i], false);
    if (s > best)
      best = s;
  }
  /* shorter than n: the mean of all its transitions */
  if (len > 0 && len < m->p.n && len < m->p.window)
    best = c.wsum / (double) len;
  return best;
}

void ward_trace_set_free(struct ward_trace_set *s)
{
  for (size_t i = 0; i < s->n; i++) {
    free(s->ids[i]);
    free(s->name[i]);
  }
  free(s->ids);
  free(s->len);
  free(s->name);
  memset(s, 0, sizeof(*s));
}

int ward_trace_set_add(struct ward_trace_set *s, const char *name, uint16_t *ids, size_t len)
{
  if (s->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 64;
    uint16_t **a = realloc(s->ids, nc * sizeof(*a));
    if (a)
      s->ids = a;
    size_t *b = realloc(s->len, nc * sizeof(*b));
    if (b)
      s->len = b;
    char **c = realloc(s->name, nc * sizeof(*c));
    if (c)
      s->name = c;
    if (!a || !b || !c)
      return -1;
    s->cap = nc;
  }
  char *nm = strdup(name ? name : "");
  if (nm == NULL)
    return -1;
  s->ids[s->n] = ids;
  s->len[s->n] = len;
  s->name[s->n++] = nm;
  return 0;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* A model of the same geometry and vocabulary size, without the strings. */
static struct ward_seq_model *shadow(const struct ward_seq_model *m)
{
  struct ward_seq_model *s = calloc(1, sizeof(*s));
  if (s) {
    s->p = m->p;
    s->vocab_n = m->vocab_n;   /* scores depend on V only */
    s->dirty = true;
  }
  return s;
}

static void shadow_free(struct ward_seq_model *s)
{
  if (s) {
    free(s->grams.slots);
    free(s->prefixes.slots);
    free(s);
  }
}

int ward_seq_model_calibrate(struct ward_seq_model *m, const struct ward_trace_set *set, ward_error_t *err)
{
  if (set->n == 0)
    return ward_error(err, 0, "no training traces to calibrate the threshold on");
  _cleanup_free_ double *scores = calloc(set->n, sizeof(double));
  if (scores == NULL)
    return ward_error(err, ENOMEM, "calibration");
  prepare(m);
  for (size_t i = 0; i < set->n; i++) {
    if (set->n < 2) {
      scores[i] = ward_seq_model_score(m, set->ids[i], set->len[i]);
      break;
    }
    /* leave this trace out: its own counts are subtracted */
    struct ward_seq_model *own = shadow(m);
    if (own == NULL)
      return ward_error(err, ENOMEM, "calibration");
    ward_seq_model_learn(own, set->ids[i], set->len[i]);
    scores[i] = score_left_out(m, own, set->ids[i], set->len[i]);
    shadow_free(own);
  }
  qsort(scores, set->n, sizeof(double), cmp_double);
  size_t k = (size_t) ceil(m->p.percentile / 100.0 * (double) set->n);
  k = k == 0 ? 0 : k - 1;
  if (k >= set->n)
    k = set->n - 1;
  m->threshold = scores[k] * m->p.margin;
  /* every score is >= 0; a zero threshold would alert on any call */
  if (m->threshold <= 0)
    m->threshold = 1e-3;
  return 0;
}

static int cmp_gram(const void *a, const void *b, void *n)
{
  return memcmp(((const struct seq_gram *) a)->ids, ((const struct seq_gram *) b)->ids,
                *(unsigned *) n * sizeof(uint16_t));
}

json_t *ward_seq_model_to_json(const struct ward_seq_model *m)
{
  _cleanup_free_ struct seq_gram *all = malloc((m->grams.used + 1) * sizeof(*all));
  if (all == NULL)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < m->grams.cap; i++)
    if (m->grams.slots[i].count)
      all[k++] = m->grams.slots[i];
  unsigned n = m->p.n;
  qsort_r(all, k, sizeof(*all), cmp_gram, &n);
  _cleanup_json_ json_t *vocab = json_array(), *grams = json_array();
  if (!vocab || !grams)
    return NULL;
  for (size_t i = 0; i < m->vocab_n; i++)
    if (json_array_append_new(vocab, json_string(m->vocab[i])) < 0)
      return NULL;
  for (size_t i = 0; i < k; i++) {
    for (unsigned j = 0; j < n; j++)
      if (json_array_append_new(grams, json_integer(all[i].ids[j])) < 0)
        return NULL;
    if (json_array_append_new(grams, json_integer(all[i].count)) < 0)
      return NULL;
  }
  return json_pack("{s:s, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:O, s:O}", "kind", "ward-seq", "version", 1,
                   "n", (int) n, "window", (int) m->p.window, "alpha", m->p.alpha, "margin", m->p.margin,
                   "percentile", m->p.percentile, "threshold", isfinite(m->threshold) ? m->threshold : -1.0,
                   "vocab", vocab, "grams", grams);
}

bool ward_seq_model_add_gram(struct ward_seq_model *m, const uint16_t *ids, uint32_t count)
{
  uint16_t key[WARD_SEQ_N_MAX] = {0};
  unsigned n = m->p.n;
  memcpy(key, ids, (n - 1) * sizeof(uint16_t));
  if (!tab_add(&m->prefixes, key, count))
    return false;
  key[n - 1] = ids[n - 1];
  m->dirty = true;
  return tab_add(&m->grams, key, count);
}
