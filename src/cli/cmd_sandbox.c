/* ward sandbox [OPTIONS] -- CMD ARGS...: the zero-setup main job. */
#include "cli/cli.h"
#include "agent/agent_client_ct.h"
#include "common/log.h"
#include "caps/caps.h"
#include "runtime/lifecycle.h"
#include "runtime/sandbox.h"
#include "agent/engine.h"
#include "agent/engine_local.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
  fprintf(out,
          "usage: ward sandbox [OPTIONS] -- CMD [ARGS...]\n\n"
          "  --name ID          container id (default sandbox-PID), for state/kill/events\n"
          "  --net none|host    network namespace: loopback only (default) or the host's\n"
          "  --cap-add CAPS     capabilities to keep (comma list; default none)\n"
          "  --memory SIZE      memory limit (e.g. 256m)\n"
          "  --pids N           process limit\n"
          "  --cpus N           CPU limit (e.g. 0.5)\n"
          "  --ro PATH          Landlock: allow reading PATH\n"
          "  --rw PATH          Landlock: allow reading and writing PATH\n"
          "  --exec PATH        Landlock: allow running programs under PATH\n"
          "  --connect PORT     Landlock: allow TCP connect to PORT (others denied)\n"
          "  --bind-port PORT   Landlock: allow TCP bind to PORT (others denied)\n"
          "  --no-landlock      no Landlock ruleset\n"
          "  --probe GROUPS     probe groups on at start (exec,file,net,mem,identity,dl,perf; all; off)\n"
          "  --no-probe         do not preload libward-probe.so\n"
          "  --probe-ring SIZE  event ring size, 64k to 1g (default 4m)\n"
          "  --mode MODE        off, learn, monitor or protect (docs/agent.md)\n"
          "  --template FILE    the behavioural template learn writes and monitor/protect use\n"
          "  --policy FILE      a policy file (YAML or JSON)\n"
          "  --alerts OUT       alert lines to stdout, stderr (default), syslog or a file\n"
          "  --no-supervisor    do not install the seccomp-notify supervisor\n"
          "  --poll-max-us N    longest any record waits for the engine (default 10 ms;\n"
          "                     records that can alert wake it at once)\n");
}

static int add_port(long **ports, size_t *n, const char *arg, const char *flag)
{
  char *end;
  long v = strtol(arg, &end, 10);
  if (*end || end == arg)
    return cli_usage_error("sandbox", "%s: \"%s\" is not a port number", flag, arg);
  long *bigger = realloc(*ports, (*n + 1) * sizeof(long));
  if (bigger == NULL)
    return 1;
  bigger[(*n)++] = v;
  *ports = bigger;
  return 0;
}

int cmd_sandbox(struct ward_global *g, int argc, char **argv)
{
  struct ward_sandbox_opts o = {.memory = -1, .pids = -1};
  _cleanup_strv_ char **ro = NULL, **rw = NULL, **ex = NULL;
  _cleanup_free_ long *connect_ports = NULL, *bind_ports = NULL;
  enum { OPT_NAME = 256, OPT_NET, OPT_CAP, OPT_MEM, OPT_PIDS, OPT_CPUS, OPT_RO, OPT_RW, OPT_EXEC, OPT_CONNECT, OPT_BIND,
         OPT_NO_LL, OPT_PROBE, OPT_NO_PROBE, OPT_PROBE_RING, OPT_MODE, OPT_TEMPLATE, OPT_POLICY, OPT_ALERTS, OPT_NO_SV, OPT_POLL_MAX, OPT_HELP };
  static const struct option opts[] = {
    {"name", required_argument, NULL, OPT_NAME}, {"net", required_argument, NULL, OPT_NET},
    {"cap-add", required_argument, NULL, OPT_CAP}, {"memory", required_argument, NULL, OPT_MEM},
    {"pids", required_argument, NULL, OPT_PIDS}, {"cpus", required_argument, NULL, OPT_CPUS},
    {"ro", required_argument, NULL, OPT_RO}, {"rw", required_argument, NULL, OPT_RW},
    {"exec", required_argument, NULL, OPT_EXEC}, {"connect", required_argument, NULL, OPT_CONNECT},
    {"bind-port", required_argument, NULL, OPT_BIND}, {"no-landlock", no_argument, NULL, OPT_NO_LL},
    {"probe", required_argument, NULL, OPT_PROBE}, {"no-probe", no_argument, NULL, OPT_NO_PROBE},
    {"probe-ring", required_argument, NULL, OPT_PROBE_RING},
    {"mode", required_argument, NULL, OPT_MODE}, {"template", required_argument, NULL, OPT_TEMPLATE},
    {"policy", required_argument, NULL, OPT_POLICY}, {"alerts", required_argument, NULL, OPT_ALERTS},
    {"no-supervisor", no_argument, NULL, OPT_NO_SV},
    {"poll-max-us", required_argument, NULL, OPT_POLL_MAX},
    {"help", no_argument, NULL, OPT_HELP}, {NULL, 0, NULL, 0},
  };
  ward_error_t err = NULL;
  struct ward_engine_cli cli = {0};
  const char *probe_groups = NULL, *probe_ring = NULL;
  bool no_probe = false;
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    switch (c) {
    case OPT_NAME: o.name = optarg; break;
    case OPT_NET:
      if (ward_sandbox_set_net(&o, optarg) < 0)
        return cli_usage_error(argv[0], "--net takes none or host, not \"%s\"", optarg);
      break;
    case OPT_CAP:
      if (ward_caps_parse_list(optarg, &o.caps, &err) < 0)
        return ward_error_prefix(&err, "--cap-add"), cli_error(&err);
      break;
    case OPT_MEM: {
      uint64_t v;
      if (ward_parse_size(optarg, &v) < 0 || v == 0 || v > INT64_MAX)
        return cli_usage_error(argv[0], "--memory: \"%s\" is not a size such as 256m", optarg);
      o.memory = (int64_t) v;
      break;
    }
    case OPT_PIDS: {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || v <= 0)
        return cli_usage_error(argv[0], "--pids: \"%s\" is not a positive number", optarg);
      o.pids = v;
      break;
    }
    case OPT_CPUS: {
      char *end;
      double v = strtod(optarg, &end);
      if (*end || v <= 0 || v > 1024)
        return cli_usage_error(argv[0], "--cpus: \"%s\" is not a positive number", optarg);
      o.cpus = v;
      break;
    }
    case OPT_RO: if (ward_strv_append(&ro, optarg) < 0) return 1; break;
    case OPT_RW: if (ward_strv_append(&rw, optarg) < 0) return 1; break;
    case OPT_EXEC: if (ward_strv_append(&ex, optarg) < 0) return 1; break;
    case OPT_CONNECT: if (add_port(&connect_ports, &o.n_connect, optarg, "--connect")) return 2; break;
    case OPT_BIND: if (add_port(&bind_ports, &o.n_bind, optarg, "--bind-port")) return 2; break;
    case OPT_NO_LL: o.no_landlock = true; break;
    case OPT_PROBE: probe_groups = optarg; break;
    case OPT_NO_PROBE: no_probe = true; break;
    case OPT_PROBE_RING: probe_ring = optarg; break;
    case OPT_MODE: cli.mode = optarg; break;
    case OPT_TEMPLATE: cli.template_path = optarg; break;
    case OPT_POLICY: cli.policy_file = optarg; break;
    case OPT_ALERTS: cli.alerts = optarg; break;
    case OPT_NO_SV: cli.no_supervisor = true; break;
    case OPT_POLL_MAX:
      if (cli_poll_max(argv[0], optarg, &cli.poll_max_us) != 0)
        return 2;   /* cli_poll_max reported it */
      break;
    case OPT_HELP: usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind >= argc) {
    usage(stderr);
    return 2;
  }
  o.argv = argv + optind;
  o.ro = ro;
  o.rw = rw;
  o.exec_paths = ex;
  o.connect_ports = connect_ports;
  o.bind_ports = bind_ports;
  char default_name[64];
  snprintf(default_name, sizeof(default_name), "sandbox-%d", (int) getpid());
  if (o.name == NULL)
    o.name = default_name;

  /* the state root and the agent's socket must not be reachable inside */
  _cleanup_strv_ char **hide = NULL;
  char *root_real = realpath(cli_root(g), NULL);  /* created by the launch when missing */
  const char *root_hide = root_real ? root_real : cli_root(g)[0] == '/' ? cli_root(g) : NULL;
  if (root_hide && ward_strv_append(&hide, root_hide) < 0)
    return free(root_real), 1;
  free(root_real);
  const char *agent_sock = getenv("WARD_AGENT_SOCKET");
  if (agent_sock && agent_sock[0] == '/') {
    _cleanup_free_ char *copy = strdup(agent_sock);
    char *slash = copy ? strrchr(copy, '/') : NULL;
    if (slash && slash != copy) {
      *slash = '\0';
      char *dir_real = realpath(copy, NULL);
      if (dir_real && ward_strv_append(&hide, dir_real) < 0)
        return free(dir_real), 1;
      free(dir_real);
    }
  }
  o.hide = hide;
  struct ward_create_opts co = {.root = cli_root(g), .id = o.name, .host_root_bind = "/", .mode = WARD_LAUNCH_RUN,
                                .default_seccomp = true, .no_cgroup = g->cgroup_manager == WARD_CGM_DISABLED,
                                .no_probe = no_probe, .probe_groups = probe_groups,
                                .probe_ring = probe_ring,
                                .configure = ward_engine_cli_configure, .launched = ward_engine_cli_launched,
                                .ready = ward_engine_cli_ready,
                                .opaque = &cli, .lock_ring = true};
  if (ward_sandbox_config(&o, &co.cfg, &err) < 0 || ward_sandbox_landlock(&o, &co.landlock, &err) < 0) {
    if (co.cfg)
      ward_config_free(co.cfg);
    return cli_error(&err);
  }
  struct ward_container *ct = NULL;
  /* a SIGTERM during create reaches the container once it runs, instead of
   * killing us half-way, and one after it exited cannot cut the removal
   * short (agent_client_ct.h: ward_container_serve) */
  sigset_t fwd, old_mask;
  ward_forwarded_signals(&fwd);
  sigprocmask(SIG_BLOCK, &fwd, &old_mask);
  if (ward_container_create(&co, &ct, &err) < 0) {
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    ward_engine_cli_release(&cli);
    return cli_error(&err);
  }
  /* a running `ward agent` serves the container; else this process does */
  int rc = ward_container_serve(ct, &cli, co.root, false);
  sigprocmask(SIG_SETMASK, &old_mask, NULL);
  return rc;
}
