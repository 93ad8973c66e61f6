/* ward check: what confines this process; see src/audit/check.h. */
#include "cli/commands.h"
#include "audit/check.h"

#include <stdio.h>

int cmd_check(struct ward_global *g, int argc, char **argv)
{
  (void) g;
  return ward_check_main(argc, argv, stdout, stderr);
}
