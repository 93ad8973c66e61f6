/* A stand-in for the ward binary until the lead wires cmd_probe, cmd_events
 * and cmd_top into src/cli/main.c: same signatures, same helpers. */
#include "cli/commands.h"
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_probe(struct ward_global *g, int argc, char **argv);
int cmd_events(struct ward_global *g, int argc, char **argv);
int cmd_top(struct ward_global *g, int argc, char **argv);

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "ward %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return 2;
}

int cli_fail(void *err)
{
  ward_error_t *e = err;
  fprintf(stderr, "ward: %s\n", *e && (*e)->msg ? (*e)->msg : "error");
  ward_error_free(e);
  return 1;
}

int main(int argc, char **argv)
{
  struct ward_global g = {.rootless = -1, .root = getenv("WARD_ROOT")};
  if (argc < 2)
    return 2;
  if (!strcmp(argv[1], "probe"))
    return cmd_probe(&g, argc - 1, argv + 1);
  if (!strcmp(argv[1], "events"))
    return cmd_events(&g, argc - 1, argv + 1);
  if (!strcmp(argv[1], "top"))
    return cmd_top(&g, argc - 1, argv + 1);
  return 2;
}
