/* OCI hooks: each runs with the container's state JSON on stdin, its own
 * args and env, and a timeout; a failing hook fails the operation (except
 * poststart and poststop, whose failures are only logged). */
#ifndef WARD_HOOKS_H
#define WARD_HOOKS_H

#include "common/error.h"
#include "runtime/config.h"

int ward_hooks_run(const struct ward_hooks *hooks, enum ward_hook_kind kind, const char *state_json, ward_error_t *err);
const char *ward_hook_kind_name(enum ward_hook_kind kind);

#endif
