/* A small positioned document tree shared by every input kind. YAML and JSON
 * both load into it (JSON is valid flow-style YAML, so libyaml gives JSON
 * inputs line and column marks too), and the normalisers read it without
 * caring which syntax it came from. */
#ifndef WARD_AUDIT_TREE_H
#define WARD_AUDIT_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

enum anode_type { AN_SCALAR, AN_MAP, AN_SEQ };

struct anode {
  enum anode_type type;
  char *text;            /* scalars only */
  bool plain;            /* unquoted scalar: may be null, bool or number */
  size_t n;
  char **keys;           /* maps: keys[i] names kids[i] */
  struct anode **kids;
  int line, col;         /* 1-based; 0 when unknown. Map members carry
                          * their key's position: findings name the key. */
};

/* Loads every document of a YAML (or JSON) stream. A syntax error reports
 * what:line:column from libyaml's problem mark. */
int atree_load(const char *what, const char *buf, size_t len,
               struct anode ***docs, size_t *ndocs, ward_error_t *err);
void atree_free(struct anode *n);
void atree_free_docs(struct anode **docs, size_t n);

struct anode *anode_get(const struct anode *map, const char *key);
/* Scalar text, or NULL for a non-scalar or a YAML null. */
const char *anode_str(const struct anode *n);
bool anode_is_null(const struct anode *n);
/* 1 true, 0 false, -1 absent or not a boolean (YAML 1.1 spellings too, as
 * Kubernetes' YAML decoder accepts them). */
int anode_bool(const struct anode *n);
bool anode_int(const struct anode *n, int64_t *out);
static inline bool anode_is_map(const struct anode *n) { return n && n->type == AN_MAP; }
static inline bool anode_is_seq(const struct anode *n) { return n && n->type == AN_SEQ; }

#endif
