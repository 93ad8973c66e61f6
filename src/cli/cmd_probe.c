/* ward probe on|off [--group G,...] [--perf-every N] [--control PATH] ID|--all
 *
 * Flips group bits in the container's control page; running probes see the
 * change at their next call. --perf-every N: the perf group times one call
 * in N (per thread, at random; every call is still counted). NOTE for the lead: container id -> state dir is
 * done by probe_state_dir() below as <--root>/<id> (default /run/ward);
 * switch it to ward_state_dir_for() when the runtime provides it. */
#include "cli/cli.h"
#include "runtime/state.h"
#include "common/cleanup.h"
#include "common/util.h"
#include "probe/control.h"
#include "probe/event.h"
#include "probe/prepare.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* shared with cmd_events.c, cmd_top.c and cmd_probe_enforce.c */
char *probe_state_dir(const struct ward_global *g, const char *id);
char *probe_state_dir_pid(const struct ward_global *g, const char *id, pid_t *init);
int cmd_probe_enforce(struct ward_global *g, int argc, char **argv);

/* The state directory of a container known to ward (NULL after reporting
 * an unknown id), and the host pid of its init when it still runs (0 when
 * not; init may be NULL). */
char *probe_state_dir_pid(const struct ward_global *g, const char *id, pid_t *init)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_state *st = NULL;
  if (ward_state_load(cli_root((struct ward_global *) g), id, &st, &err) < 0) {
    ward_error_report(&err);
    return NULL;
  }
  char *dir = strdup(st->dir);
  if (init)
    *init = ward_state_pid_alive(st) ? st->pid : 0;
  ward_state_free(st);
  return dir;
}

char *probe_state_dir(const struct ward_global *g, const char *id)
{
  return probe_state_dir_pid(g, id, NULL);
}

/* every: 0 leaves perf's sampling as it is */
static int flip(const char *control, uint32_t mask, bool on, uint32_t every)
{
  _cleanup_error_ ward_error_t err = NULL;
  uint32_t now = 0;
  struct ward_control c;
  if ((every && ward_probe_set_perf_every(control, every, &err) < 0)
      || ward_probe_set_groups(control, mask, on, &now, &err) < 0 || ward_control_read(control, &c, &err) < 0)
    return cli_fail(&err);
  printf("%s:", control);
  for (unsigned i = 0; i < WARD_GROUP_COUNT; i++)
    if (now & (1u << i))
      printf(" %s", ward_probe_group_name((enum ward_probe_group) i));
  if (now & (1u << WARD_GROUP_PERF))
    printf(" (timing 1 call in %u)", ward_probe_perf_every(&c));
  printf("%s\n", now ? "" : " (all off)");
  return 0;
}

int cmd_probe(struct ward_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    {"group", required_argument, NULL, 'g'},
    {"control", required_argument, NULL, 'c'},
    {"all", no_argument, NULL, 'a'},
    {"perf-every", required_argument, NULL, 'p'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  int64_t mask = (1 << WARD_GROUP_COUNT) - 1;
  const char *control = NULL;
  bool all = false;
  uint32_t every = 0;
  if (argc >= 2 && (!strcmp(argv[1], "mode") || !strcmp(argv[1], "deny") || !strcmp(argv[1], "sink")
                    || !strcmp(argv[1], "show") || !strcmp(argv[1], "stack")))
    return cmd_probe_enforce(g, argc - 1, argv + 1);
  if (argc < 2 || (strcmp(argv[1], "on") != 0 && strcmp(argv[1], "off") != 0)) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
      printf("usage: ward probe on|off [--group G,...] [--perf-every N] ID|--all\n"
             "       ward probe mode|deny|sink|stack|show ID ... (ward probe mode --help)\n");
      return 0;
    }
    return cli_usage_error(argv[0], "expected on, off, mode, deny, sink, stack or show");
  }
  bool on = strcmp(argv[1], "on") == 0;
  const char *cmd = argv[0];
  argc--;
  argv++;
  int c;
  while ((c = getopt_long(argc, argv, "+g:c:ap:h", opts, NULL)) != -1) {
    switch (c) {
    case 'g':
      mask = ward_probe_groups_parse(optarg);
      if (mask < 0)
        return cli_usage_error(cmd, "unknown group in '%s' (exec, file, net, mem, identity, dl, perf, all)", optarg);
      break;
    case 'c': control = optarg; break;
    case 'a': all = true; break;
    case 'p': {
      char *end;
      errno = 0;
      unsigned long v = strtoul(optarg, &end, 10);
      if (errno || *end || end == optarg || !ward_probe_perf_every_valid(v))
        return cli_usage_error(cmd, "--perf-every: \"%s\" is not a power of two from 1 to %u", optarg,
                               1u << WARD_CTL_PERF_SHIFT_MAX);
      every = (uint32_t) v;
      break;
    }
    case 'h':
      printf("usage: ward probe on|off [--group G,...] [--perf-every N] ID|--all\n");
      return 0;
    default:
      return 2;
    }
  }
  if (control)
    return flip(control, (uint32_t) mask, on, every);
  if (all) {
    const char *root = g->root ? g->root : "/run/ward";
    _cleanup_closedir_ DIR *d = opendir(root);
    if (d == NULL) {
      _cleanup_error_ ward_error_t err = NULL;
      ward_error_sys(&err, "%s", root);
      return cli_fail(&err);
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (!ward_valid_id(de->d_name))
        continue;
      _cleanup_free_ char *sd = probe_state_dir(g, de->d_name);
      _cleanup_free_ char *cp = sd ? ward_probe_control_path(sd) : NULL;
      struct stat st;
      if (cp && stat(cp, &st) == 0 && flip(cp, (uint32_t) mask, on, every) != 0)
        rc = 1;
    }
    return rc;
  }
  if (optind >= argc)
    return cli_usage_error(cmd, "missing container id (or --all)");
  _cleanup_free_ char *sd = probe_state_dir(g, argv[optind]);
  if (sd == NULL)
    return cli_usage_error(cmd, "invalid container id '%s'", argv[optind]);
  _cleanup_free_ char *cp = ward_probe_control_path(sd);
  return flip(cp, (uint32_t) mask, on, every);
}
