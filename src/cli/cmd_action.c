/* ward action ID kill|quarantine|restrict|honeypot|resume|status
 *   [--form freeze|nonet] [--loopback yes|no] [--reason TEXT] [--json] */
#include "agent/action.h"
#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/json.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
  fprintf(out, "usage: ward action ID kill|quarantine|restrict|honeypot|resume|status [OPTIONS]\n\n"
               "  --form freeze|nonet  quarantine: freeze the cgroup (default) or cut the network\n"
               "  --loopback yes|no    nonet: keep loopback connects (default yes)\n"
               "  --reason TEXT        recorded with the action\n"
               "  --json               print the report as JSON\n");
}

static void print_list(const char *label, json_t *arr)
{
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) printf("%s%s%s", i ? ", " : label, json_string_value(v), i + 1 == json_array_size(arr) ? "\n" : "");
}

static void print_report(json_t *r)
{
  const char *id = json_string_value(json_object_get(r, "id"));
  const char *action = json_string_value(json_object_get(r, "action"));
  const char *form = json_string_value(json_object_get(r, "form"));
  if (json_is_true(json_object_get(r, "already"))) {
    printf("%s: %s%s%s%s already in effect since %s\n", id, action, form ? " (" : "", form ? form : "", form ? ")" : "",
           json_string_value(json_object_get(r, "since")));
    return;
  }
  if (strcmp(action, "kill") == 0) {
    json_t *killed = json_object_get(r, "killed"), *k;
    size_t i;
    printf("killed %zu process%s of %s (%s)%s", json_array_size(killed), json_array_size(killed) == 1 ? "" : "es", id,
           json_string_value(json_object_get(r, "method")), json_array_size(killed) ? ":" : "");
    json_array_foreach(killed, i, k)
      printf(" %lld/%s", (long long) json_integer_value(json_object_get(k, "pid")),
             json_string_value(json_object_get(k, "comm")));
    printf("\n");
    print_list("stopped what outlives it: ", json_object_get(r, "done"));
  } else if (strcmp(action, "resume") == 0) {
    printf("%s: %s undone\n", id, json_string_value(json_object_get(r, "resumed")));
    print_list("  undid: ", json_object_get(r, "done"));
  } else {
    printf("%s: %s%s%s%s in effect\n", id, action, form ? " (" : "", form ? form : "", form ? ")" : "");
    if (json_object_get(r, "replaced"))
      printf("  replaced: %s\n", json_string_value(json_object_get(r, "replaced")));
    print_list("  done: ", json_object_get(r, "done"));
    if (json_object_get(r, "frozen"))
      printf("  processes frozen: %lld\n", (long long) json_integer_value(json_object_get(r, "frozen")));
    json_t *sink = json_object_get(r, "sink");
    if (sink)
      printf("  sink: %s:%lld\n", json_string_value(json_object_get(sink, "addr")),
             (long long) json_integer_value(json_object_get(sink, "port")));
  }
  size_t i;
  json_t *w;
  json_array_foreach(json_object_get(r, "warnings"), i, w) printf("  warning: %s\n", json_string_value(w));
}

int cmd_action(struct ward_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    {"form", required_argument, NULL, 'f'}, {"loopback", required_argument, NULL, 'l'},
    {"reason", required_argument, NULL, 'r'}, {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
  };
  struct ward_action_opts o = {.freeze = true, .allow_loopback = true, .reason = "by hand (ward action)"};
  bool json = false, form_given = false, loopback_given = false;
  int c;
  while ((c = getopt_long(argc, argv, "f:l:r:jh", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      if (strcmp(optarg, "freeze") != 0 && strcmp(optarg, "nonet") != 0)
        return cli_usage_error(argv[0], "--form: \"%s\" is neither freeze nor nonet", optarg);
      o.freeze = strcmp(optarg, "freeze") == 0;
      form_given = true;
      break;
    case 'l':
      if (strcmp(optarg, "yes") != 0 && strcmp(optarg, "no") != 0)
        return cli_usage_error(argv[0], "--loopback: \"%s\" is neither yes nor no", optarg);
      o.allow_loopback = strcmp(optarg, "yes") == 0;
      loopback_given = true;
      break;
    case 'r': o.reason = optarg; break;
    case 'j': json = true; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (argc - optind != 2) {
    usage(stderr);
    return cli_usage_error(argv[0], "expects a container id and an action");
  }
  const char *id = argv[optind], *name = argv[optind + 1];
  ward_error_t err = NULL;
  if (strcmp(name, "status") == 0) {
    json_t *st = NULL;
    if (ward_action_status(cli_root(g), id, &st, &err) < 0)
      return cli_error(&err);
    return cli_print_json(st, 1);
  }
  int kind = ward_action_kind_parse(name);
  if (kind < 0 || kind == WARD_ACTION_SNAPSHOT)
    return cli_usage_error(argv[0], "unknown action \"%s\" (kill, quarantine, restrict, honeypot, resume, status; "
                                    "snapshots: ward snapshot)", name);
  if ((form_given || loopback_given) && kind != WARD_ACTION_QUARANTINE)
    return cli_usage_error(argv[0], "--form and --loopback only apply to quarantine");
  if (loopback_given && o.freeze)
    return cli_usage_error(argv[0], "--loopback only applies to --form nonet");
  json_t *report = NULL;
  o.report = &report;
  int rc = ward_action_run(cli_root(g), id, (enum ward_action_kind) kind, &o, &err);
  _cleanup_json_ json_t *r = report;
  if (rc < 0)
    return cli_error(&err);
  if (json)
    return cli_print_json(json_incref(r), 1);
  print_report(r);
  return 0;
}
