/* ward run / ward create: a container from an OCI bundle. */
#include "cli/cli.h"
#include "agent/agent_client_ct.h"
#include "common/log.h"
#include "runtime/lifecycle.h"
#include "agent/engine.h"
#include "agent/engine_local.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A `ward agent` listens where the handover would go. */
static bool agent_listening(const char *root)
{
  char *path = NULL;
  if (ward_agent_socket_path(root, &path) < 0 || path == NULL)
    return false;
  ward_error_t err = NULL;
  int sock = -1;
  int r = ward_agent_connect(path, &sock, &err);
  free(path);
  ward_error_free(&err);
  if (sock >= 0)
    close(sock);
  return r == 1;
}

static int run_or_create(struct ward_global *g, int argc, char **argv, bool create)
{
  struct ward_create_opts o = {.root = cli_root(g), .bundle = ".", .mode = create ? WARD_LAUNCH_CREATE : WARD_LAUNCH_RUN,
                               .no_cgroup = g->cgroup_manager == WARD_CGM_DISABLED};
  bool detach = create;
  enum { OPT_PID_FILE = 256, OPT_CONSOLE, OPT_NO_PIVOT, OPT_NO_KEYRING, OPT_PRESERVE, OPT_DEFAULT_SECCOMP, OPT_MODE,
         OPT_TEMPLATE, OPT_POLICY, OPT_ALERTS, OPT_NO_SV, OPT_POLL_MAX, OPT_HELP };
  struct ward_engine_cli cli = {0};
  static const struct option opts[] = {
    {"bundle", required_argument, NULL, 'b'},
    {"detach", no_argument, NULL, 'd'},
    {"pid-file", required_argument, NULL, OPT_PID_FILE},
    {"console-socket", required_argument, NULL, OPT_CONSOLE},
    {"no-pivot", no_argument, NULL, OPT_NO_PIVOT},
    {"no-new-keyring", no_argument, NULL, OPT_NO_KEYRING},
    {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
    {"default-seccomp", no_argument, NULL, OPT_DEFAULT_SECCOMP},
    {"mode", required_argument, NULL, OPT_MODE},
    {"template", required_argument, NULL, OPT_TEMPLATE},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"alerts", required_argument, NULL, OPT_ALERTS},
    {"no-supervisor", no_argument, NULL, OPT_NO_SV},
    {"poll-max-us", required_argument, NULL, OPT_POLL_MAX},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "+b:d", opts, NULL)) != -1) {
    switch (c) {
    case 'b': o.bundle = optarg; break;
    case 'd': detach = true; break;
    case OPT_PID_FILE: o.pid_file = optarg; break;
    case OPT_CONSOLE: o.console_socket = optarg; break;
    case OPT_NO_PIVOT: o.no_pivot = true; break;
    case OPT_NO_KEYRING: o.no_new_keyring = true; break;
    case OPT_PRESERVE: {
      char *end;
      long n = strtol(optarg, &end, 10);
      if (*end || n < 0 || n > 1000)
        return cli_usage_error(argv[0], "--preserve-fds takes a number from 0 to 1000");
      o.preserve_fds = (int) n;
      break;
    }
    case OPT_DEFAULT_SECCOMP: o.default_seccomp = true; break;
    case OPT_MODE: cli.mode = optarg; break;
    case OPT_TEMPLATE: cli.template_path = optarg; break;
    case OPT_POLICY: cli.policy_file = optarg; break;
    case OPT_ALERTS: cli.alerts = optarg; break;
    case OPT_NO_SV: cli.no_supervisor = true; break;
    case OPT_POLL_MAX:
      if (cli_poll_max(argv[0], optarg, &cli.poll_max_us) != 0)
        return 2;   /* cli_poll_max reported it */
      break;
    case OPT_HELP:
      printf("usage: ward %s [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] [--no-pivot]\n"
             "       [--no-new-keyring] [--preserve-fds N] [--default-seccomp]%s ID\n", argv[0],
             create ? "" : " [--detach]\n       [--mode off|learn|monitor|protect] [--template FILE] [--policy FILE]\n"
                           "       [--alerts stdout|stderr|syslog|FILE] [--no-supervisor] [--poll-max-us N]");
      return 0;
    default:
      return 2;
    }
  }
  if (optind != argc - 1)
    return cli_usage_error(argv[0], "expects exactly one container id");
  o.id = argv[optind];
  if (cli.poll_max_us && (detach || create))
    return cli_usage_error(argv[0], "--poll-max-us needs an attached run (an agent polls with its own --poll-max-us)");
  if (detach && !create)
    o.mode = WARD_LAUNCH_CREATE;
  bool engine_opts = cli.mode || cli.template_path || cli.policy_file || cli.alerts || cli.no_supervisor;
  /* Attached runs serve the supervisor and the policy in-process. Detached
   * ones (create, run -d) exit: only a running `ward agent` can answer the
   * listener, so without one they get no supervisor (and no policy). */
  cli.detached = detach;
  cli.agent = detach && agent_listening(o.root);
  if (detach && engine_opts && !cli.agent)
    return cli_usage_error(argv[0], "--mode/--template/--policy/--alerts/--no-supervisor need an attached run or a running ward agent");
  o.configure = ward_engine_cli_configure;
  o.launched = ward_engine_cli_launched;
  o.ready = ward_engine_cli_ready;
  o.opaque = &cli;
  o.lock_ring = !detach;

  ward_error_t err = NULL;
  struct ward_container *ct = NULL;
  /* An attached run holds the signals it forwards from here to the end: a
   * SIGTERM during create reaches the container once it runs instead of
   * killing us half-way, and one after it exited cannot cut the removal
   * short (agent_client_ct.h: ward_container_serve). */
  bool attached = !create && !detach;
  sigset_t fwd, old_mask;
  ward_forwarded_signals(&fwd);
  if (attached)
    sigprocmask(SIG_BLOCK, &fwd, &old_mask);
  if (ward_container_create(&o, &ct, &err) < 0) {
    if (attached)
      sigprocmask(SIG_SETMASK, &old_mask, NULL);
    ward_engine_cli_release(&cli);
    return cli_error(&err);
  }
  if (create || detach) {
    if (!cli.agent && cli.policy && cli.policy->mode != WARD_MODE_OFF)
      ward_warn("container \"%s\": mode %s from its annotations needs a running ward agent for a detached "
                "container; only its kernel layers apply", o.id, ward_mode_name(cli.policy->mode));
    /* detached: a running agent serves it, through a keeper process that
     * re-registers it if the agent restarts (agent_client.h) */
    struct ward_agent_handover *unused = NULL;
    int handed = ward_agent_handover_container(ct, cli.policy, cli.policy_file, o.root, true, &unused, &err);
    if (handed <= 0 && ct->launch.listener_fd >= 0) {
      /* the agent went away after we looked: nobody would answer the
       * container's first execve, so it must not stay */
      if (handed == 0)
        ward_error(&err, 0, "container \"%s\": the agent stopped listening; nothing would serve its supervisor", o.id);
      ward_error_t derr = NULL;
      if (ward_container_destroy(o.root, ct->state, false, &derr) < 0)
        ward_error_report(&derr);
      ward_container_free(ct);
      ward_engine_cli_release(&cli);
      return cli_error(&err);
    }
    if (handed < 0) {
      ward_warn("%s; the container is not served by the agent", err->msg);
      ward_error_free(&err);
    }
  }
  if (create) {
    ward_container_free(ct);
    return 0;
  }
  if (detach) {
    /* run -d: create, then start at once. */
    char *id = strdup(o.id);
    ward_container_free(ct);
    int rc = ward_container_start(o.root, id, &err);
    free(id);
    return rc < 0 ? cli_error(&err) : 0;
  }
  /* a running `ward agent` serves the container; else this process does */
  int rc = ward_container_serve(ct, &cli, o.root, true);
  if (attached)
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
  return rc;
}

int cmd_run(struct ward_global *g, int argc, char **argv) { return run_or_create(g, argc, argv, false); }
int cmd_create(struct ward_global *g, int argc, char **argv) { return run_or_create(g, argc, argv, true); }
