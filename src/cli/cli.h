/* Helpers shared by the command implementations. */
#ifndef WARD_CLI_H
#define WARD_CLI_H

#include "cli/commands.h"
#include "common/error.h"

/* --root, or the default for this user; never NULL (exits on OOM). */
const char *cli_root(struct ward_global *g);
/* Exit status for a failed command: reports err and returns 1. */
int cli_error(ward_error_t *err);
/* Prints JSON to stdout, pretty when pretty is set; consumes j. */
struct json_t;
int cli_print_json(struct json_t *j, int pretty);

#endif
