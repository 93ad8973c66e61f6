/* ward probe mode|deny|sink|stack|show: the control page beyond the group
 * bits (docs/probes.md "Enforcement", "Call stacks"), by hand. Thin over
 * probe/control.h.
 *
 *   ward probe mode ID [none|protect|quarantine|restrict|honeypot[,no-loopback]...]
 *   ward probe deny ID [--path P]... [--port N]... [--addr A]... [--allow-port N]... [--errno EACCES|EPERM]
 *   ward probe sink ID ADDR:PORT
 *   ward probe stack ID [TYPE,...|all|none] [--depth N]
 *   ward probe show ID
 * --control PATH (before the ID) names a control page directly. */
#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/util.h"
#include "probe/control.h"
#include "probe/event.h"
#include "probe/prepare.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *probe_state_dir(const struct ward_global *g, const char *id);
int cmd_probe_enforce(struct ward_global *g, int argc, char **argv);

#define USAGE \
  "usage: ward probe mode ID [none|protect|quarantine|restrict|honeypot[,no-loopback]]\n" \
  "       ward probe deny ID [--path P]... [--port N]... [--addr A[/BITS][:PORT]]... [--allow-port N]... [--errno EACCES|EPERM]\n" \
  "       ward probe sink ID ADDR:PORT\n" \
  "       ward probe stack ID [TYPE,...|all|none] [--depth N]  (call stacks for those event types)\n" \
  "       ward probe show ID\n" \
  "  (--control PATH instead of ID: a control page file)\n"

static char *control_for(const struct ward_global *g, const char *control, const char *id, const char *cmd)
{
  if (control)
    return strdup(control);
  if (id == NULL) {
    cli_usage_error(cmd, "missing container id");
    return NULL;
  }
  _cleanup_free_ char *sd = probe_state_dir(g, id);
  return sd ? ward_probe_control_path(sd) : NULL;
}

static int show(const char *cp)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_control c;
  if (ward_control_read(cp, &c, &err) < 0)
    return cli_fail(&err);
  char m[96], a[96];
  printf("mode: %s\ngroups:", ward_control_mode_format(c.mode, m, sizeof(m)));
  for (unsigned i = 0; i < WARD_GROUP_COUNT; i++)
    if (c.groups & (1u << i))
      printf(" %s", ward_probe_group_name((enum ward_probe_group) i));
  printf("\nperf timing: 1 call in %u", ward_probe_perf_every(&c));
  printf("\ndeny_errno: %s\ndeny_paths: %u (hashes)\n", c.deny_errno == EPERM ? "EPERM" : "EACCES", c.n_deny_paths);
  printf("connect_allowlist: %s\nconnect_ports:", (c.policy_flags & WARD_CTL_POL_CONNECT_ALLOWLIST) ? "on" : "off");
  for (uint32_t i = 0; i < c.n_connect_ports && i < WARD_CTL_CONNECT_PORTS; i++)
    printf(" %u", c.connect_port[i]);
  printf("\ndeny_addrs:");
  for (uint32_t i = 0; i < c.n_deny_addrs && i < WARD_CTL_DENY_ADDRS; i++)
    printf(" %s", ward_ctl_addr_format(&c.deny_addr[i], a, sizeof(a)));
  printf("\nhoneypot_sink: %s\n", c.honeypot_sink.family ? ward_ctl_addr_format(&c.honeypot_sink, a, sizeof(a)) : "none");
  char t[512];
  uint64_t chosen;
  uint32_t depth;
  ward_control_chosen_stacks(&c, &chosen, &depth);
  if (c.mode & WARD_CTL_MODE_HONEYPOT)
    printf("stacks: every type, depth %u (honeypot); afterwards %s, depth %u\n", c.stack_depth,
           ward_event_types_format(chosen, t, sizeof(t)), depth);
  else
    printf("stacks: %s, depth %u\n", ward_event_types_format(depth ? chosen : 0, t, sizeof(t)), depth);
  return 0;
}

/* ward probe stack ID [TYPES] [--depth N]: without TYPES it shows the
 * setting; TYPES alone captures 4 frames (the depth that names the caller
 * and its caller through a libc wrapper or two). */
static int stack(const char *cmd, const char *cp, int argc, char **argv, int first)
{
  const char *types = NULL;
  long depth = -1;
  for (int i = first; i < argc; i++) {
    if (strcmp(argv[i], "--depth") == 0) {
      if (++i == argc)
        return cli_usage_error(cmd, "stack: --depth needs a number (0..%d)", WARD_EVENT_STACK_MAX);
      char *end;
      errno = 0;
      depth = strtol(argv[i], &end, 10);
      if (errno || *end || end == argv[i] || depth < 0 || depth > WARD_EVENT_STACK_MAX)
        return cli_usage_error(cmd, "stack: --depth \"%s\" (0..%d)", argv[i], WARD_EVENT_STACK_MAX);
    } else if (types == NULL) {
      types = argv[i];
    } else {
      return cli_usage_error(cmd, "stack: unexpected \"%s\"", argv[i]);
    }
  }
  if (types == NULL && depth < 0)
    return show(cp);
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_control c;
  if (ward_control_read(cp, &c, &err) < 0)
    return cli_fail(&err);
  uint64_t mask;
  ward_control_chosen_stacks(&c, &mask, NULL);
  if (types) {
    int64_t m = ward_event_types_parse(types);
    if (m < 0)
      return cli_usage_error(cmd, "stack: \"%s\": not a list of probe event types (exec, open, connect, ...; all; none)",
                             types);
    mask = (uint64_t) m;
  }
  if (depth < 0)
    depth = mask ? 4 : 0;
  if (ward_probe_set_stacks(cp, mask, (uint32_t) depth, &err) < 0)
    return cli_fail(&err);
  return show(cp);
}

static int parse_port(const char *cmd, const char *flag, const char *s, uint16_t *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || end == s || v < 1 || v > 65535)
    return cli_usage_error(cmd, "%s: \"%s\" is not a port (1..65535)", flag, s);
  *out = (uint16_t) v;
  return 0;
}

static int deny(const struct ward_global *g, const char *cmd, int argc, char **argv, const char *control)
{
  enum { O_PATH_ = 256, O_PORT, O_ADDR, O_ALLOW, O_ERRNO };
  static const struct option opts[] = {
    {"path", required_argument, NULL, O_PATH_}, {"port", required_argument, NULL, O_PORT},
    {"addr", required_argument, NULL, O_ADDR}, {"allow-port", required_argument, NULL, O_ALLOW},
    {"errno", required_argument, NULL, O_ERRNO}, {NULL, 0, NULL, 0},
  };
  const char *paths[WARD_CTL_DENY_PATHS + 1];
  uint16_t ports[WARD_CTL_CONNECT_PORTS + 1];
  struct ward_ctl_addr addrs[WARD_CTL_DENY_ADDRS + 1];
  struct ward_control_policy p = {.deny_paths = paths, .connect_ports = ports, .deny_addrs = addrs};
  _cleanup_error_ ward_error_t err = NULL;
  int c;
  optind = 0;  /* full re-initialisation: cmd_probe parsed before; options may follow the ID */
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case O_PATH_:
      if (p.n_deny_paths == WARD_CTL_DENY_PATHS)
        return cli_usage_error(cmd, "--path: at most %d", WARD_CTL_DENY_PATHS);
      paths[p.n_deny_paths++] = optarg;
      break;
    case O_PORT:  /* a denied port: any address, that port */
      if (p.n_deny_addrs == WARD_CTL_DENY_ADDRS)
        return cli_usage_error(cmd, "--port/--addr: at most %d", WARD_CTL_DENY_ADDRS);
      memset(&addrs[p.n_deny_addrs], 0, sizeof(addrs[0]));
      if (parse_port(cmd, "--port", optarg, &addrs[p.n_deny_addrs].port))
        return 2;
      p.n_deny_addrs++;
      break;
    case O_ADDR:
      if (p.n_deny_addrs == WARD_CTL_DENY_ADDRS)
        return cli_usage_error(cmd, "--port/--addr: at most %d", WARD_CTL_DENY_ADDRS);
      if (ward_ctl_addr_parse(optarg, &addrs[p.n_deny_addrs], &err) < 0)
        return cli_usage_error(cmd, "--addr: %s", err->msg);
      p.n_deny_addrs++;
      break;
    case O_ALLOW:
      if (p.n_connect_ports == WARD_CTL_CONNECT_PORTS)
        return cli_usage_error(cmd, "--allow-port: at most %d", WARD_CTL_CONNECT_PORTS);
      if (parse_port(cmd, "--allow-port", optarg, &ports[p.n_connect_ports]))
        return 2;
      p.n_connect_ports++;
      p.connect_allowlist = true;
      break;
    case O_ERRNO:
      if (strcmp(optarg, "EACCES") == 0)
        p.deny_errno = EACCES;
      else if (strcmp(optarg, "EPERM") == 0)
        p.deny_errno = EPERM;
      else
        return cli_usage_error(cmd, "--errno: \"%s\" (EACCES or EPERM)", optarg);
      break;
    default:
      return 2;
    }
  }
  _cleanup_free_ char *cp = control_for(g, control, optind < argc ? argv[optind] : NULL, cmd);
  if (cp == NULL)
    return 1;
  if (ward_control_set_policy(cp, &p, &err) < 0)
    return cli_fail(&err);
  return show(cp);
}

int cmd_probe_enforce(struct ward_global *g, int argc, char **argv)
{
  const char *cmd = "probe";
  const char *verb = argv[0];
  const char *control = NULL;
  /* --control PATH right after the verb */
  if (argc >= 3 && strcmp(argv[1], "--control") == 0) {
    control = argv[2];
    argv[2] = argv[0];
    argv += 2;
    argc -= 2;
  }
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    printf(USAGE);
    return 0;
  }
  if (strcmp(verb, "deny") == 0)
    return deny(g, cmd, argc, argv, control);
  const char *id = control ? NULL : (argc >= 2 ? argv[1] : NULL);
  int first = control ? 1 : 2;  /* index of the verb's argument */
  _cleanup_free_ char *cp = control_for(g, control, id, cmd);
  if (cp == NULL)
    return 1;
  _cleanup_error_ ward_error_t err = NULL;
  if (strcmp(verb, "show") == 0)
    return show(cp);
  if (strcmp(verb, "stack") == 0)
    return stack(cmd, cp, argc, argv, first);
  if (strcmp(verb, "mode") == 0) {
    if (argc <= first) {
      uint32_t m;
      char buf[96];
      if (ward_control_get_mode(cp, &m, &err) < 0)
        return cli_fail(&err);
      printf("%s\n", ward_control_mode_format(m, buf, sizeof(buf)));
      return 0;
    }
    int64_t m = ward_control_mode_parse(argv[first]);
    if (m < 0)
      return cli_usage_error(cmd, "mode: unknown \"%s\" (none, protect, quarantine, restrict, honeypot, no-loopback; comma list)",
                             argv[first]);
    if (ward_control_set_mode(cp, (uint32_t) m, &err) < 0)
      return cli_fail(&err);
    char buf[96];
    printf("%s\n", ward_control_mode_format((uint32_t) m, buf, sizeof(buf)));
    return 0;
  }
  if (strcmp(verb, "sink") == 0) {
    if (argc <= first)
      return cli_usage_error(cmd, "sink: missing ADDR:PORT");
    struct ward_ctl_addr a;
    if (ward_ctl_addr_parse(argv[first], &a, &err) < 0)
      return cli_usage_error(cmd, "sink: %s", err->msg);
    if (ward_control_set_honeypot_sink(cp, &a, &err) < 0)
      return cli_fail(&err);
    return show(cp);
  }
  return cli_usage_error(cmd, "unknown verb \"%s\"", verb);
}
