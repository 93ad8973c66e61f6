/* Inside the sequence model: shared by model_seq.c and model_json.c. */
#ifndef WARD_MODEL_INTERNAL_H
#define WARD_MODEL_INTERNAL_H

#include "agent/model.h"

struct seq_gram {
  uint16_t ids[WARD_SEQ_N_MAX];   /* n ids (prefix table: n-1), zero beyond */
  uint32_t count;                 /* 0: empty slot */
  float nll;                      /* cached score (model_seq.c prepare) */
};

struct seq_tab {
  struct seq_gram *slots;
  size_t cap, used;               /* cap a power of two, load <= 3/4 */
};

struct ward_seq_model {
  struct ward_seq_params p;
  double threshold;               /* INFINITY until calibrated */
  char **vocab;                   /* id - 2 -> token */
  size_t vocab_n;
  uint16_t *vocab_hash;           /* open addressing: 0 empty, else id */
  struct seq_tab grams, prefixes;
  uint64_t dropped;               /* n-grams not counted: table full */
  float unseen_prefix_nll;
  bool dirty;                     /* counts changed since the nll cache */
};

/* Adds count for an n-gram read from a model file; false when full. */
bool ward_seq_model_add_gram(struct ward_seq_model *m, const uint16_t *ids, uint32_t count);

#endif
