/* ward: parse the global options, then hand over to one command. */
#include "cli/commands.h"
#include "agent/engine.h"
#include "common/error.h"
#include "common/log.h"
#include "runtime/exe_seal.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct ward_command commands[] = {
#define X(name, summary) {#name, cmd_##name, summary},
  WARD_COMMANDS(X)
#undef X
};

int cli_poll_max(const char *cmd, const char *arg, uint32_t *us)
{
  if (ward_poll_max_parse(arg, us) < 0)
    return cli_usage_error(cmd, "--poll-max-us: \"%s\" is not a number from %u to %u", arg, WARD_POLL_MAX_MIN_US,
                           WARD_POLL_MAX_MAX_US);
  return 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
  char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  ward_log(WARD_LOG_ERROR, "%s: %s (see 'ward %s --help')", cmd, msg ? msg : "usage error", cmd);
  free(msg);
  return 2;
}

int cli_fail(void *errp)
{
  ward_error_report((ward_error_t *) errp);
  return 1;
}

static void usage(FILE *out)
{
  fprintf(out,
          "usage: ward [GLOBAL OPTIONS] COMMAND [ARGS...]\n\n"
          "Global options:\n"
          "  --root DIR             state directory (default /run/ward, or $XDG_RUNTIME_DIR/ward)\n"
          "  --log FILE             write log records to FILE\n"
          "  --log-format text|json\n"
          "  --debug\n"
          "  --systemd-cgroup       refused: this build manages cgroups itself\n"
          "  --cgroup-manager cgroupfs|systemd|disabled\n"
          "  --rootless true|false|auto\n\n"
          "Commands:\n");
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
  /* CVE-2019-5736: before anything else, make sure the binary any container
   * process could reach through /proc/PID/exe is a sealed, read-only copy. */
  ward_exe_ensure_sealed(argc, argv);

  static struct ward_global g = {.rootless = -1};
  enum { OPT_ROOT = 256, OPT_LOG, OPT_LOG_FORMAT, OPT_DEBUG, OPT_SYSTEMD, OPT_CGM, OPT_ROOTLESS, OPT_VERSION, OPT_HELP };
  static const struct option opts[] = {
    {"root", required_argument, NULL, OPT_ROOT},
    {"log", required_argument, NULL, OPT_LOG},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"debug", no_argument, NULL, OPT_DEBUG},
    {"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD},
    {"cgroup-manager", required_argument, NULL, OPT_CGM},
    {"rootless", required_argument, NULL, OPT_ROOTLESS},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
    switch (c) {
    case OPT_ROOT: g.root = optarg; break;
    case OPT_LOG: g.log = optarg; break;
    case OPT_LOG_FORMAT:
      if (strcmp(optarg, "json") == 0)
        g.log_json = true;
      else if (strcmp(optarg, "text") != 0)
        return cli_usage_error("ward", "--log-format must be text or json, not '%s'", optarg);
      break;
    case OPT_DEBUG: g.debug = true; break;
    case OPT_SYSTEMD: g.cgroup_manager = WARD_CGM_SYSTEMD; break;
    case OPT_CGM:
      if (strcmp(optarg, "cgroupfs") == 0)
        g.cgroup_manager = WARD_CGM_CGROUPFS;
      else if (strcmp(optarg, "systemd") == 0)
        g.cgroup_manager = WARD_CGM_SYSTEMD;
      else if (strcmp(optarg, "disabled") == 0)
        g.cgroup_manager = WARD_CGM_DISABLED;
      else
        return cli_usage_error("ward", "--cgroup-manager must be cgroupfs, systemd or disabled, not '%s'", optarg);
      break;
    case OPT_ROOTLESS:
      g.rootless = strcmp(optarg, "true") == 0 ? 1 : strcmp(optarg, "false") == 0 ? 0 : -1;
      break;
    case 'v':
    case OPT_VERSION:
      printf("ward version %s\nspec: %s\n", WARD_VERSION, WARD_OCI_SPEC_VERSION);
      return 0;
    case 'h':
    case OPT_HELP:
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (ward_log_init(g.log, g.log_json ? WARD_LOG_JSON : WARD_LOG_TEXT, g.debug) < 0) {
    fprintf(stderr, "ward: cannot open log file %s: %m\n", g.log);
    return 1;
  }
  if (optind >= argc) {
    usage(stderr);
    return 2;
  }
  const char *name = argv[optind];
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
    if (strcmp(commands[i].name, name) == 0) {
      if (g.cgroup_manager == WARD_CGM_SYSTEMD) {
        ward_log(WARD_LOG_ERROR, "the systemd cgroup manager is not supported: no systemd is running here; use --cgroup-manager cgroupfs");
        return 1;
      }
      optind++;
      int sub_argc = argc - optind + 1;
      char **sub_argv = argv + optind - 1;
      optind = 0;  /* reset getopt for the command's own parsing */
      return commands[i].fn(&g, sub_argc, sub_argv);
    }
  }
  return cli_usage_error("ward", "unknown command '%s'", name);
}
