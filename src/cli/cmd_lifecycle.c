/* The runc-compatible commands that act on an existing container: start,
 * state, kill, delete, list, pause, resume, ps. Each is a few lines over
 * runtime/lifecycle.h. */
#include "cli/cli.h"
#include "cgroup/cgroup.h"
#include "runtime/lifecycle.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"

#include <getopt.h>
#include <signal.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int one_id(int argc, char **argv, const char *extra_usage)
{
  if (optind != argc - 1)
    return cli_usage_error(argv[0], "expects exactly one container id%s", extra_usage);
  return 0;
}

static int parse_flags(int argc, char **argv, bool *force, bool *all)
{
  static const struct option opts[] = {
    {"force", no_argument, NULL, 'f'}, {"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "+fa", opts, NULL)) != -1) {
    if (c == 'f' && force)
      *force = true;
    else if (c == 'a' && all)
      *all = true;
    else
      return cli_usage_error(argv[0], "unknown option");
  }
  return 0;
}

int cmd_start(struct ward_global *g, int argc, char **argv)
{
  if (parse_flags(argc, argv, NULL, NULL) || one_id(argc, argv, ""))
    return 2;
  ward_error_t err = NULL;
  return ward_container_start(cli_root(g), argv[optind], &err) < 0 ? cli_error(&err) : 0;
}

int cmd_state(struct ward_global *g, int argc, char **argv)
{
  if (parse_flags(argc, argv, NULL, NULL) || one_id(argc, argv, ""))
    return 2;
  ward_error_t err = NULL;
  _cleanup_state_ struct ward_state *st = NULL;
  if (ward_state_load(cli_root(g), argv[optind], &st, &err) < 0)
    return cli_error(&err);
  json_t *j = ward_state_oci_json(st);
  json_object_set_new(j, "created", json_string(st->created ? st->created : ""));
  json_object_set_new(j, "owner", json_string(""));
  json_object_set_new(j, "rootfs", json_string(""));
  return cli_print_json(j, 1);
}

int cmd_kill(struct ward_global *g, int argc, char **argv)
{
  bool all = false;
  if (parse_flags(argc, argv, NULL, &all))
    return 2;
  if (optind != argc - 1 && optind != argc - 2)
    return cli_usage_error(argv[0], "usage: ward kill [--all] ID [SIGNAL]");
  int sig = SIGTERM;
  if (optind == argc - 2 && (sig = ward_parse_signal(argv[argc - 1])) < 0)
    return cli_usage_error(argv[0], "unknown signal \"%s\"", argv[argc - 1]);
  ward_error_t err = NULL;
  return ward_container_signal(cli_root(g), argv[optind], sig, all, &err) < 0 ? cli_error(&err) : 0;
}

int cmd_delete(struct ward_global *g, int argc, char **argv)
{
  bool force = false;
  if (parse_flags(argc, argv, &force, NULL) || one_id(argc, argv, ""))
    return 2;
  ward_error_t err = NULL;
  return ward_container_delete(cli_root(g), argv[optind], force, &err) < 0 ? cli_error(&err) : 0;
}

int cmd_list(struct ward_global *g, int argc, char **argv)
{
  static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'}, {NULL, 0, NULL, 0}};
  bool json = false, quiet = false;
  int c;
  while ((c = getopt_long(argc, argv, "+f:q", opts, NULL)) != -1) {
    if (c == 'f')
      json = strcmp(optarg, "json") == 0;
    else if (c == 'q')
      quiet = true;
    else
      return 2;
  }
  ward_error_t err = NULL;
  _cleanup_strv_ char **ids = NULL;
  const char *root = cli_root(g);
  if (ward_state_list(root, &ids, &err) < 0)
    return cli_error(&err);
  json_t *arr = json_array();
  if (!json && !quiet)
    printf("%-24s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
  for (size_t i = 0; ids[i]; i++) {
    _cleanup_state_ struct ward_state *st = NULL;
    if (ward_state_load(root, ids[i], &st, &err) < 0) {
      ward_error_free(&err);
      continue;
    }
    enum ward_status s = ward_state_status(st);
    int pid = s == WARD_STOPPED ? 0 : (int) st->pid;
    if (quiet)
      printf("%s\n", ids[i]);
    else if (!json)
      printf("%-24s %-8d %-10s %-40s %s\n", ids[i], pid, ward_status_name(s), st->bundle ? st->bundle : "",
             st->created ? st->created : "");
    json_array_append_new(arr, json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "id", ids[i], "pid", pid, "status",
                                         ward_status_name(s), "bundle", st->bundle ? st->bundle : "", "created",
                                         st->created ? st->created : "", "owner", ""));
  }
  if (json)
    return cli_print_json(arr, 0);
  json_decref(arr);
  return 0;
}

static int freeze(struct ward_global *g, int argc, char **argv, bool on)
{
  if (parse_flags(argc, argv, NULL, NULL) || one_id(argc, argv, ""))
    return 2;
  ward_error_t err = NULL;
  _cleanup_state_ struct ward_state *st = NULL;
  if (ward_state_load(cli_root(g), argv[optind], &st, &err) < 0)
    return cli_error(&err);
  enum ward_status s = ward_state_status(st);
  if (on && s != WARD_RUNNING)
    return ward_error(&err, 0, "container \"%s\" is %s, not running", st->id, ward_status_name(s)), cli_error(&err);
  if (!on && s != WARD_PAUSED)
    return ward_error(&err, 0, "container \"%s\" is %s, not paused", st->id, ward_status_name(s)), cli_error(&err);
  if (st->cgroup == NULL)
    return ward_error(&err, 0, "container \"%s\" has no cgroup to freeze", st->id), cli_error(&err);
  return ward_cgroup_freeze(st->cgroup, on, &err) < 0 ? cli_error(&err) : 0;
}

int cmd_pause(struct ward_global *g, int argc, char **argv) { return freeze(g, argc, argv, true); }
int cmd_resume(struct ward_global *g, int argc, char **argv) { return freeze(g, argc, argv, false); }

int cmd_ps(struct ward_global *g, int argc, char **argv)
{
  static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
  bool json = false;
  int c;
  while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
    if (c == 'f')
      json = strcmp(optarg, "json") == 0;
    else
      return 2;
  }
  if (optind >= argc)
    return cli_usage_error(argv[0], "expects a container id");
  ward_error_t err = NULL;
  _cleanup_state_ struct ward_state *st = NULL;
  if (ward_state_load(cli_root(g), argv[optind], &st, &err) < 0)
    return cli_error(&err);
  pid_t *pids = NULL;
  size_t n = 0;
  if (st->cgroup && ward_cgroup_pids(st->cgroup, &pids, &n, &err) < 0)
    return cli_error(&err);
  if (st->cgroup == NULL && ward_state_pid_alive(st)) {
    pids = malloc(sizeof(pid_t));
    if (pids) {
      pids[0] = st->pid;
      n = 1;
    }
  }
  json_t *arr = json_array();
  if (!json)
    printf("PID\n");
  for (size_t i = 0; i < n; i++) {
    json_array_append_new(arr, json_integer(pids[i]));
    if (!json)
      printf("%d\n", (int) pids[i]);
  }
  free(pids);
  if (json)
    return cli_print_json(arr, 0);
  json_decref(arr);
  return 0;
}
