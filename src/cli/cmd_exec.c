/* ward exec: a process in a running container (runc-compatible flags). */
#include "cli/cli.h"
#include "caps/caps.h"
#include "runtime/exec.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_user(const char *s, struct ward_exec_opts *o)
{
  char *end;
  errno = 0;
  unsigned long uid = strtoul(s, &end, 10);
  if (errno || end == s || (*end && *end != ':') || uid > UINT32_MAX - 1)
    return -1;
  o->has_user = true;
  o->uid = (uid_t) uid;
  if (*end == ':') {
    const char *g = end + 1;
    unsigned long gid = strtoul(g, &end, 10);
    if (errno || end == g || *end || gid > UINT32_MAX - 1)
      return -1;
    o->gid = (gid_t) gid;
    o->has_gid = true;
  }
  return 0;
}

int cmd_exec(struct ward_global *g, int argc, char **argv)
{
  struct ward_exec_opts o = {.root = cli_root(g)};
  _cleanup_strv_ char **env = NULL;
  enum { OPT_PROCESS = 256, OPT_PID_FILE, OPT_CONSOLE, OPT_CWD, OPT_CAP, OPT_NNP, OPT_PRESERVE, OPT_IGNORED, OPT_HELP };
  static const struct option opts[] = {
    {"process", required_argument, NULL, OPT_PROCESS}, {"pid-file", required_argument, NULL, OPT_PID_FILE},
    {"console-socket", required_argument, NULL, OPT_CONSOLE}, {"detach", no_argument, NULL, 'd'},
    {"tty", no_argument, NULL, 't'}, {"env", required_argument, NULL, 'e'}, {"cwd", required_argument, NULL, OPT_CWD},
    {"user", required_argument, NULL, 'u'}, {"cap", required_argument, NULL, OPT_CAP},
    {"no-new-privs", no_argument, NULL, OPT_NNP}, {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
    /* runc flags for LSMs ward does not use: accepted so that clients work */
    {"process-label", required_argument, NULL, OPT_IGNORED}, {"apparmor", required_argument, NULL, OPT_IGNORED},
    {"help", no_argument, NULL, OPT_HELP}, {NULL, 0, NULL, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "+dte:u:", opts, NULL)) != -1) {
    switch (c) {
    case OPT_PROCESS: o.process_file = optarg; break;
    case OPT_PID_FILE: o.pid_file = optarg; break;
    case OPT_CONSOLE: o.console_socket = optarg; break;
    case 'd': o.detach = true; break;
    case 't': o.tty = true; break;
    case 'e':
      if (ward_strv_append(&env, optarg) < 0)
        return cli_usage_error(argv[0], "out of memory");
      break;
    case OPT_CWD: o.cwd = optarg; break;
    case 'u':
      if (parse_user(optarg, &o) < 0)
        return cli_usage_error(argv[0], "--user takes UID[:GID] (numbers), not \"%s\"", optarg);
      break;
    case OPT_CAP: {
      uint64_t caps = 0;
      ward_error_t err = NULL;
      if (ward_caps_parse_list(optarg, &caps, &err) < 0)
        return ward_error_prefix(&err, "--cap"), cli_error(&err);
      o.add_caps |= caps;
      break;
    }
    case OPT_NNP: o.no_new_privs = true; break;
    case OPT_PRESERVE: {
      char *end;
      long n = strtol(optarg, &end, 10);
      if (*end || n < 0 || n > 1000)
        return cli_usage_error(argv[0], "--preserve-fds takes a number from 0 to 1000");
      o.preserve_fds = (int) n;
      break;
    }
    case OPT_IGNORED: break;
    case OPT_HELP:
      printf("usage: ward exec [--process FILE | -e NAME=VALUE --cwd DIR -u UID[:GID] --cap CAP --no-new-privs]\n"
             "                 [-d] [-t] [--console-socket SOCK] [--pid-file FILE] [--preserve-fds N] ID [ARGS...]\n");
      return 0;
    default:
      return 2;
    }
  }
  if (optind >= argc)
    return cli_usage_error(argv[0], "expects a container id");
  o.id = argv[optind];
  o.args = argv + optind + 1;
  o.env = env;
  if (o.process_file && o.args[0])
    return cli_usage_error(argv[0], "give either --process FILE or ARGS, not both");
  ward_error_t err = NULL;
  int status = 0;
  if (ward_exec(&o, &status, &err) < 0)
    return cli_error(&err);
  return status;
}
