#include "cli/cli.h"
#include "runtime/state.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

const char *cli_root(struct ward_global *g)
{
  static char *root;
  if (g->root)
    return g->root;
  if (root == NULL && (root = ward_state_default_root()) == NULL) {
    fprintf(stderr, "ward: out of memory\n");
    exit(1);
  }
  return root;
}

int cli_error(ward_error_t *err)
{
  ward_error_report(err);
  return 1;
}

int cli_print_json(json_t *j, int pretty)
{
  if (j == NULL)
    return 1;
  char *s = json_dumps(j, pretty ? JSON_INDENT(2) : JSON_COMPACT);
  json_decref(j);
  if (s == NULL)
    return 1;
  puts(s);
  free(s);
  return 0;
}
