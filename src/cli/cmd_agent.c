/* ward agent [OPTIONS]            run the node agent
 * ward agent status|list [ID]     what a running agent serves
 * ward agent deregister ID        stop serving a container */
#include "cli/cli.h"
#include "agent/agent_client.h"
#include "agent/agentd.h"
#include "agent/engine.h"
#include "common/cleanup.h"
#include "common/json.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
  fprintf(out,
          "usage: ward agent [--socket PATH] [--alerts stdout|FILE|syslog] [--metrics 127.0.0.1:PORT|unix:PATH]\n"
          "                  [--state DIR] [--max-containers N] [--poll-max-us N] [--ready-fd FD]\n"
          "       ward agent status|list [--socket PATH] [--json] [ID]\n"
          "       ward agent deregister [--socket PATH] ID\n\n"
          "  --socket PATH   registration socket (default STATE/.agent/agent.sock)\n"
          "  --state DIR     state root of the containers served (default: --root)\n"
          "  --alerts SPEC   where alert lines go (default stdout)\n"
          "  --metrics ADDR  Prometheus text format on GET /metrics (loopback or unix socket only)\n"
          "  --poll-max-us N longest any record waits for the engine (default 10 ms; records that can\n"
          "                  alert wake it at once; rings it must poll: 500 idle, adaptive under load)\n");
}

static void print_status(json_t *reply)
{
  json_t *agent = json_object_get(reply, "agent");
  printf("agent pid %lld, up %llds, %lld containers, socket %s\n",
         (long long) json_integer_value(json_object_get(agent, "pid")),
         (long long) json_integer_value(json_object_get(agent, "uptime_s")),
         (long long) json_integer_value(json_object_get(agent, "containers")),
         json_string_value(json_object_get(agent, "socket")));
  printf("%-24s %-16s %-8s %-8s %-9s %10s %8s %8s %8s\n", "ID", "APP", "MODE", "PID", "SOURCE", "EVENTS", "ALERTS",
         "DENIED", "DROPS");
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(reply, "containers"), i, c) {
    printf("%-24s %-16s %-8s %-8lld %-9s %10lld %8lld %8lld %8lld\n", json_string_value(json_object_get(c, "id")),
           json_string_value(json_object_get(c, "app")), json_string_value(json_object_get(c, "mode")),
           (long long) json_integer_value(json_object_get(c, "pid")), json_string_value(json_object_get(c, "source")),
           (long long) json_integer_value(json_object_get(c, "events")),
           (long long) json_integer_value(json_object_get(c, "alerts")),
           (long long) json_integer_value(json_object_get(c, "denied")),
           (long long) json_integer_value(json_object_get(c, "drops")));
  }
}

static int client_cmd(struct ward_global *g, int argc, char **argv)
{
  const char *sock_path = NULL;
  bool json_out = false;
  enum { OPT_SOCKET = 256, OPT_JSON };
  static const struct option opts[] = {
    {"socket", required_argument, NULL, OPT_SOCKET}, {"json", no_argument, NULL, OPT_JSON}, {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    if (c == OPT_SOCKET)
      sock_path = optarg;
    else if (c == OPT_JSON)
      json_out = true;
    else
      return 2;
  }
  bool dereg = strcmp(argv[0], "deregister") == 0;
  if (argc - optind > 1 || (dereg && argc - optind != 1))
    return cli_usage_error("agent", "%s takes %s", argv[0], dereg ? "one container id" : "at most one container id");
  const char *id = optind < argc ? argv[optind] : NULL;
  _cleanup_free_ char *def = sock_path ? NULL : ward_agent_default_socket(cli_root(g));
  const char *path = sock_path ? sock_path : def;
  ward_error_t err = NULL;
  _cleanup_close_ int sock = -1;
  int r = ward_agent_connect(path, &sock, &err);
  if (r < 0)
    return cli_error(&err);
  if (r == 0) {
    fprintf(stderr, "ward agent: no agent is listening on %s\n", path);
    return 1;
  }
  json_t *body = id ? json_pack("{s:s}", "id", id) : json_object();
  json_t *reply = NULL;
  int rc = ward_agent_call(sock, dereg ? WARD_AGENT_DEREGISTER : WARD_AGENT_STATUS, body, NULL, 0, &reply, &err);
  json_decref(body);
  if (rc < 0)
    return cli_error(&err);
  if (json_out)
    return cli_print_json(reply, 1);
  if (dereg)
    printf("%s deregistered\n", id);
  else
    print_status(reply);
  json_decref(reply);
  return 0;
}

int cmd_agent(struct ward_global *g, int argc, char **argv)
{
  if (argc > 1 && (strcmp(argv[1], "status") == 0 || strcmp(argv[1], "list") == 0 || strcmp(argv[1], "deregister") == 0))
    return client_cmd(g, argc - 1, argv + 1);
  struct ward_agentd_opts o = {.ready_fd = -1, .state_root = g->root};
  enum { OPT_SOCKET = 256, OPT_ALERTS, OPT_METRICS, OPT_STATE, OPT_MAX, OPT_READY, OPT_POLL, OPT_HELP };
  static const struct option opts[] = {
    {"socket", required_argument, NULL, OPT_SOCKET}, {"alerts", required_argument, NULL, OPT_ALERTS},
    {"metrics", required_argument, NULL, OPT_METRICS}, {"state", required_argument, NULL, OPT_STATE},
    {"max-containers", required_argument, NULL, OPT_MAX}, {"ready-fd", required_argument, NULL, OPT_READY},
    {"poll-max-us", required_argument, NULL, OPT_POLL}, {"help", no_argument, NULL, OPT_HELP}, {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    char *end;
    long v;
    switch (c) {
    case OPT_SOCKET: o.socket_path = optarg; break;
    case OPT_ALERTS: o.alerts = optarg; break;
    case OPT_METRICS: o.metrics = optarg; break;
    case OPT_STATE: o.state_root = optarg; break;
    case OPT_MAX:
      v = strtol(optarg, &end, 10);
      if (*end || v <= 0 || v > 1000000)
        return cli_usage_error("agent", "--max-containers: \"%s\" is not a positive number", optarg);
      o.max_containers = (uint32_t) v;
      break;
    case OPT_POLL:
      if (cli_poll_max("agent", optarg, &o.poll_max_us) != 0)
        return 2;   /* cli_poll_max reported it */
      break;
    case OPT_READY:
      v = strtol(optarg, &end, 10);
      if (*end || v < 0 || fcntl(v, F_GETFD) < 0)
        return cli_usage_error("agent", "--ready-fd: \"%s\" is not an open descriptor", optarg);
      o.ready_fd = (int) v;
      break;
    case OPT_HELP: usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind != argc)
    return cli_usage_error("agent", "unexpected argument \"%s\"", argv[optind]);
  if (o.state_root && o.state_root[0] != '/')
    return cli_usage_error("agent", "--state: \"%s\" is not an absolute path", o.state_root);
  ward_error_t err = NULL;
  if (ward_agentd_run(&o, &err) < 0)
    return cli_error(&err);
  return 0;
}
