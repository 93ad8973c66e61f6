/* Typed access to jansson values that names the offending field on error.
 * Every reader takes the dotted path of the value it reads ("process.user")
 * so messages point at the exact field: "process.user.uid: expected an
 * unsigned integer". Optional readers leave *out untouched when absent. */
#ifndef WARD_JSON_H
#define WARD_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "common/error.h"

static inline void ward_json_decrefp(json_t **j) { if (*j) json_decref(*j); }
#define _cleanup_json_ __attribute__((cleanup(ward_json_decrefp)))

/* A string from outside (any bytes, up to maxlen or a NUL) as a JSON
 * string: unchanged when it is UTF-8, else with every byte outside
 * printable ASCII written as \xNN (docs/events.md). NULL only when out of
 * memory. */
json_t *ward_json_bytes(const char *s, size_t maxlen);
/* Whether s can be a JSON string as it is (jansson takes only UTF-8). */
bool ward_json_is_utf8(const char *s);

/* Loads a file; a syntax error names file:line:column. Hostile sizes are
 * refused above max_bytes. */
int wj_load_file(const char *path, size_t max_bytes, json_t **out, ward_error_t *err);
int wj_load_buffer(const char *what, const char *buf, size_t len, json_t **out, ward_error_t *err);

int wj_expect(json_t *v, json_type type, const char *path, ward_error_t *err);
const char *wj_type_name(json_type type);

int wj_opt_string(json_t *obj, const char *key, const char *path, char **out, ward_error_t *err);
int wj_req_string(json_t *obj, const char *key, const char *path, char **out, ward_error_t *err);
int wj_opt_bool(json_t *obj, const char *key, const char *path, bool *out, ward_error_t *err);
int wj_opt_int64(json_t *obj, const char *key, const char *path, int64_t *out, bool *present, ward_error_t *err);
int wj_opt_uint64(json_t *obj, const char *key, const char *path, uint64_t *out, bool *present, ward_error_t *err);
int wj_opt_uint32(json_t *obj, const char *key, const char *path, uint32_t *out, bool *present, ward_error_t *err);
/* NULL-terminated string vector; *count gets its length when non-NULL. */
int wj_opt_strv(json_t *obj, const char *key, const char *path, char ***out, size_t *count, ward_error_t *err);
/* Returns the member if present and of the given type, NULL if absent, and
 * fails (returns -1 via *rc) on a type mismatch. */
json_t *wj_opt_member(json_t *obj, const char *key, json_type type, const char *path, int *rc, ward_error_t *err);

/* "a.b" or "a[3]" style path joins; the caller frees. */
char *wj_path(const char *base, const char *key);
char *wj_path_index(const char *base, size_t index);

#endif
