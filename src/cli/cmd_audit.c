/* Placeholder until the audit area lands its command. */
#include "cli/commands.h"
int cmd_audit(struct ward_global *g, int argc, char **argv) { (void) g; (void) argc; return cli_usage_error(argv[0], "not built yet"); }
