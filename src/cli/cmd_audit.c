/* ward audit: the command is implemented in the audit library
 * (ward_audit_main) so unit tests run the real thing. */
#include "cli/commands.h"
#include "audit/audit.h"

#include <stdio.h>

int cmd_audit(struct ward_global *g, int argc, char **argv)
{
  (void) g;
  return ward_audit_main(argc, argv, stdout, stderr);
}
