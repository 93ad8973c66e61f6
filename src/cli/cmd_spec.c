/* ward spec / ward features / ward update: runc-compatible helpers. */
#include "cli/cli.h"
#include "caps/caps.h"
#include "cgroup/cgroup.h"
#include "runtime/lifecycle.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static json_t *cap_names(uint64_t mask)
{
  json_t *a = json_array();
  for (int cap = 0; cap < 64; cap++)
    if (mask & (1ull << cap))
      json_array_append_new(a, json_string(ward_cap_name(cap)));
  return a;
}

static json_t *default_spec(bool rootless)
{
  uint64_t caps = ward_caps_docker_default();
  json_t *ns = json_pack("[{s:s},{s:s},{s:s},{s:s},{s:s},{s:s}]", "type", "pid", "type", "network", "type", "ipc",
                         "type", "uts", "type", "mount", "type", "cgroup");
  json_t *mounts = json_pack(
    "[{s:s,s:s,s:s,s:[sss]},"
    "{s:s,s:s,s:s,s:[ssss]},"
    "{s:s,s:s,s:s,s:[sssss]},"
    "{s:s,s:s,s:s,s:[sssss]},"
    "{s:s,s:s,s:s,s:[sss]},"
    "{s:s,s:s,s:s,s:[ssss]}]",
    "destination", "/proc", "type", "proc", "source", "proc", "options", "nosuid", "noexec", "nodev",
    "destination", "/dev", "type", "tmpfs", "source", "tmpfs", "options", "nosuid", "strictatime", "mode=755", "size=65536k",
    "destination", "/dev/pts", "type", "devpts", "source", "devpts", "options", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
    "destination", "/dev/shm", "type", "tmpfs", "source", "shm", "options", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k",
    "destination", "/dev/mqueue", "type", "mqueue", "source", "mqueue", "options", "nosuid", "noexec", "nodev",
    "destination", "/sys", "type", "sysfs", "source", "sysfs", "options", "nosuid", "noexec", "nodev", "ro");
  json_t *linux_obj = json_pack("{s:o, s:[sssssssssss], s:[sssss]}", "namespaces", ns,
    "maskedPaths", "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    "readonlyPaths", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");
  if (rootless) {
    json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
    json_object_set_new(linux_obj, "uidMappings", json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", (int) getuid(), "size", 1));
    json_object_set_new(linux_obj, "gidMappings", json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", (int) getgid(), "size", 1));
  }
  json_t *process = json_pack("{s:b, s:{s:i, s:i}, s:[s], s:[ss], s:s, s:{s:o, s:o, s:o}, s:[{s:s, s:i, s:i}], s:b}",
    "terminal", 0, "user", "uid", 0, "gid", 0, "args", "sh", "env",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "cwd", "/",
    "capabilities", "bounding", cap_names(caps), "effective", cap_names(caps), "permitted", cap_names(caps),
    "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges", 1);
  /* OCI says a config without linux.seccomp runs unfiltered, and ward obeys
   * that for bundles from elsewhere; a bundle ward writes itself asks for
   * ward's default profile, so it is hardened unless its author says no. */
  return json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o, s:{s:s}}", "ociVersion", WARD_OCI_SPEC_VERSION, "process",
                   process, "root", "path", "rootfs", "readonly", 1, "hostname", "ward", "mounts", mounts, "linux",
                   linux_obj, "annotations", "run.ward.seccomp", "default");
}

int cmd_spec(struct ward_global *g, int argc, char **argv)
{
  static const struct option opts[] = {{"rootless", no_argument, NULL, 'r'}, {"bundle", required_argument, NULL, 'b'}, {NULL, 0, NULL, 0}};
  bool rootless = g->rootless == 1;
  const char *bundle = ".";
  int c;
  while ((c = getopt_long(argc, argv, "+b:", opts, NULL)) != -1) {
    if (c == 'r')
      rootless = true;
    else if (c == 'b')
      bundle = optarg;
    else
      return 2;
  }
  _cleanup_free_ char *path = NULL;
  if (asprintf(&path, "%s/config.json", bundle) < 0)
    return 1;
  ward_error_t err = NULL;
  struct stat st;
  if (stat(path, &st) == 0)
    return ward_error(&err, EEXIST, "%s already exists", path), cli_error(&err);
  _cleanup_json_ json_t *spec = default_spec(rootless);
  _cleanup_free_ char *text = json_dumps(spec, JSON_INDENT(2));
  if (text == NULL || ward_write_file_atomic(path, text, strlen(text), 0644, &err) < 0)
    return cli_error(&err);
  return 0;
}

int cmd_features(struct ward_global *g, int argc, char **argv)
{
  (void) g;
  (void) argc;
  (void) argv;
  uint64_t all = 0;
  ward_error_t err = NULL;
  ward_caps_parse_list("ALL", &all, &err);
  json_t *j = json_pack(
    "{s:s, s:s, s:[sssssssssssssssssssssssssssssss], s:[s], s:[sssssssss],"
    " s:{s:[ssssssss], s:o, s:{s:{s:b, s:b}}, s:{s:b, s:[ssssssss], s:[ss], s:[ss]}, s:{s:b}},"
    " s:{s:s, s:s, s:s}}",
    "ociVersionMin", "1.0.0", "ociVersionMax", WARD_OCI_SPEC_VERSION,
    "mountOptions", "async", "atime", "bind", "dev", "diratime", "dirsync", "exec", "mand", "noatime", "nodev",
    "nodiratime", "noexec", "nomand", "norelatime", "nostrictatime", "nosuid", "private", "rbind", "relatime",
    "remount", "ro", "rprivate", "rshared", "rslave", "runbindable", "rw", "shared", "slave", "strictatime",
    "suid", "sync",
    "hooks", "prestart",
    "hooks2", "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop", "", "", "",
    "linux", "namespaces", "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts",
    "capabilities", cap_names(all),
    "cgroup", "v1", "v1", 1, "v2", 1,
    "seccomp", "enabled", 1, "actions", "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP", "operators", "SCMP_CMP_EQ", "SCMP_CMP_NE",
    "archs", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
    "landlock", "enabled", 1,
    "annotations", "run.ward.seccomp", "default|config", "run.ward.landlock", "see docs/landlock.md",
    "io.github.seccomp.libseccomp.version", "2.5");
  /* runc's "hooks" key lists every hook; build it from the second list. */
  json_t *hooks = json_array();
  const char *names[] = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};
  for (size_t i = 0; i < ARRAY_SIZE(names); i++)
    json_array_append_new(hooks, json_string(names[i]));
  json_object_set_new(j, "hooks", hooks);
  json_object_del(j, "hooks2");
  return cli_print_json(j, 1);
}

int cmd_update(struct ward_global *g, int argc, char **argv)
{
  static const struct option opts[] = {{"resources", required_argument, NULL, 'r'}, {NULL, 0, NULL, 0}};
  const char *file = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "+r:", opts, NULL)) != -1) {
    if (c == 'r')
      file = optarg;
    else
      return 2;
  }
  if (file == NULL || optind != argc - 1)
    return cli_usage_error(argv[0], "usage: ward update --resources FILE|- ID");
  ward_error_t err = NULL;
  _cleanup_state_ struct ward_state *st = NULL;
  if (ward_state_load(cli_root(g), argv[optind], &st, &err) < 0)
    return cli_error(&err);
  _cleanup_json_ json_t *res = NULL;
  if (strcmp(file, "-") == 0) {
    json_error_t jerr;
    res = json_loadf(stdin, 0, &jerr);
    if (res == NULL)
      return ward_error(&err, 0, "<stdin>:%d:%d: invalid JSON: %s", jerr.line, jerr.column, jerr.text), cli_error(&err);
  } else if (wj_load_file(file, 1 << 20, &res, &err) < 0) {
    return cli_error(&err);
  }
  /* Reuse the config parser: wrap the resources in a minimal document. */
  _cleanup_json_ json_t *doc = json_pack("{s:s, s:{s:s}, s:{s:O}}", "ociVersion", "1.0.0", "root", "path", "/", "linux", "resources", res);
  _cleanup_config_ struct ward_config *cfg = NULL;
  if (ward_config_parse_json(strcmp(file, "-") == 0 ? "<stdin>" : file, doc, &cfg, &err) < 0)
    return cli_error(&err);
  if (st->cgroup == NULL)
    return ward_error(&err, ENOTSUP, "container \"%s\" has no cgroup to update", st->id), cli_error(&err);
  /* As with runc: device rules are set once, at create (docs/cgroups.md). */
  if (cfg->resources.n_devices)
    ward_warn("%s: devices: not changed by update", strcmp(file, "-") == 0 ? "<stdin>" : file);
  return ward_cgroup_update(st->cgroup, &cfg->resources, &err) < 0 ? cli_error(&err) : 0;
}
