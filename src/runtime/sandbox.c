#include "runtime/sandbox.h"
#include "caps/caps.h"
#include "landlock/landlock.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* Docker's masked and read-only /proc and /sys paths. */
static const char *const masked[] = {
  "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap", NULL};
static const char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};

static json_t *strv_json(const char *const *v)
{
  json_t *a = json_array();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

/* The caller's environment, less ward's own variables. A variable that is
 * not UTF-8 cannot be written into the config: it is left out, and said. */
static json_t *host_env(void)
{
  json_t *a = json_array();
  for (size_t i = 0; environ && environ[i]; i++) {
    if (ward_has_prefix(environ[i], "WARD_SELF="))
      continue;
    json_t *v = json_string(environ[i]);
    if (v == NULL)
      ward_warn("sandbox: environment entry %zu is not UTF-8 and is not passed on", i);
    else
      json_array_append_new(a, v);
  }
  return a;
}

static json_t *mount_json(const char *dest, const char *type, const char *source, const char *const *options)
{
  return json_pack("{s:s, s:s, s:s, s:o}", "destination", dest, "type", type, "source", source, "options", strv_json(options));
}

static json_t *caps_json(uint64_t caps)
{
  json_t *a = json_array();
  for (int cap = 0; cap < 64; cap++)
    if (caps & (1ull << cap) && ward_cap_name(cap))
      json_array_append_new(a, json_string(ward_cap_name(cap)));
  return a;
}

/* Under a directory the sandbox mounts afresh: nothing of the host's
 * shows there. */
static bool sandbox_hidden_already(const char *path)
{
  static const char *const fresh[] = {"/run", "/tmp", "/dev", "/proc", "/sys"};
  for (size_t i = 0; i < ARRAY_SIZE(fresh); i++) {
    size_t n = strlen(fresh[i]);
    if (strncmp(path, fresh[i], n) == 0 && (path[n] == '/' || path[n] == '\0'))
      return true;
  }
  return path[0] != '/' || strcmp(path, "/") == 0;
}

static json_t *build_doc(const struct ward_sandbox_opts *o)
{
  static const char *const tmp_opts[] = {"nosuid", "nodev", "mode=1777", NULL};
  static const char *const run_opts[] = {"nosuid", "nodev", "mode=755", NULL};
  static const char *const dev_opts[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
  static const char *const pts_opts[] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL};
  static const char *const shm_opts[] = {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL};
  static const char *const proc_opts[] = {"nosuid", "noexec", "nodev", NULL};
  json_t *mounts = json_array();
  json_array_append_new(mounts, mount_json("/proc", "proc", "proc", proc_opts));
  json_array_append_new(mounts, mount_json("/dev", "tmpfs", "tmpfs", dev_opts));
  json_array_append_new(mounts, mount_json("/dev/pts", "devpts", "devpts", pts_opts));
  json_array_append_new(mounts, mount_json("/dev/shm", "tmpfs", "shm", shm_opts));
  json_array_append_new(mounts, mount_json("/dev/mqueue", "mqueue", "mqueue", proc_opts));
  json_array_append_new(mounts, mount_json("/tmp", "tmpfs", "tmpfs", tmp_opts));
  /* A fresh sysfs shows the sandbox's own network devices; with the
   * host's network the runtime falls back to the host's, read-only. */
  static const char *const sys_opts[] = {"nosuid", "noexec", "nodev", "ro", NULL};
  json_array_append_new(mounts, mount_json("/sys", "sysfs", "sysfs", sys_opts));
  /* /run holds the host's sockets (ward's agent among them): hide it. */
  json_array_append_new(mounts, mount_json("/run", "tmpfs", "tmpfs", run_opts));
  static const char *const hide_opts[] = {"nosuid", "nodev", "noexec", "mode=000", "size=4k", NULL};
  for (size_t i = 0; o->hide && o->hide[i]; i++)
    if (!sandbox_hidden_already(o->hide[i]))
      json_array_append_new(mounts, mount_json(o->hide[i], "tmpfs", "tmpfs", hide_opts));

  json_t *ns = json_array();
  const char *kinds[] = {"user", "mount", "pid", "ipc", "uts", "cgroup", o->net_host ? NULL : "network"};
  for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
    if (kinds[i])
      json_array_append_new(ns, json_pack("{s:s}", "type", kinds[i]));

  /* Root inside maps to the caller; for a root caller to nobody, so the
   * sandbox never holds the host root's file access. */
  uid_t host_uid = geteuid() == 0 ? 65534 : geteuid();
  gid_t host_gid = geteuid() == 0 ? 65534 : getegid();
  json_t *uids = json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", (int) host_uid, "size", 1);
  json_t *gids = json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", (int) host_gid, "size", 1);

  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == NULL)
    strcpy(cwd, "/");
  json_t *caps = json_pack("{s:o, s:o, s:o, s:o, s:o}", "bounding", caps_json(o->caps), "effective", caps_json(o->caps),
                           "permitted", caps_json(o->caps), "inheritable", caps_json(o->caps), "ambient", caps_json(o->caps));
  json_t *process = json_pack("{s:b, s:o, s:o, s:s, s:{s:i, s:i}, s:o, s:b}", "terminal", 0,
                              "args", strv_json((const char *const *) o->argv), "env", host_env(),
                              "cwd", cwd, "user", "uid", 0, "gid", 0, "capabilities", caps, "noNewPrivileges", 1);
  json_t *resources = json_object();
  if (o->memory > 0)
    json_object_set_new(resources, "memory", json_pack("{s:I}", "limit", (json_int_t) o->memory));
  if (o->pids > 0)
    json_object_set_new(resources, "pids", json_pack("{s:I}", "limit", (json_int_t) o->pids));
  if (o->cpus > 0)
    json_object_set_new(resources, "cpu", json_pack("{s:I, s:I}", "quota", (json_int_t) (o->cpus * 100000), "period", (json_int_t) 100000));
  json_t *linux_obj = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "namespaces", ns, "uidMappings", uids,
                                "gidMappings", gids, "maskedPaths", strv_json(masked), "readonlyPaths", strv_json(readonly),
                                "resources", resources);
  return json_pack("{s:s, s:{s:s, s:b}, s:o, s:s, s:o, s:o, s:{s:s}}", "ociVersion", WARD_OCI_SPEC_VERSION, "root", "path",
                   "/", "readonly", 1, "process", process, "hostname", o->name ? o->name : "sandbox", "mounts", mounts,
                   "linux", linux_obj, "annotations", "run.ward.sandbox", "true");
}

int ward_sandbox_config(const struct ward_sandbox_opts *o, struct ward_config **out, ward_error_t *err)
{
  if (o->argv == NULL || o->argv[0] == NULL)
    return ward_error(err, 0, "sandbox: no command given (ward sandbox [OPTIONS] -- CMD ARGS...)");
  /* the command goes through an OCI config, whose strings are UTF-8: an
   * argument that is not must be refused, not dropped (the rest would
   * shift into its place) */
  for (size_t i = 0; o->argv[i]; i++)
    if (!ward_json_is_utf8(o->argv[i]))
      return ward_error(err, 0, "sandbox: argument %zu of the command is not UTF-8 (a config's process.args are "
                        "JSON strings); pass it through a shell variable or a file", i);
  _cleanup_json_ json_t *doc = build_doc(o);
  if (doc == NULL)
    return ward_error(err, ENOMEM, "sandbox config");
  return ward_config_parse_json("sandbox", doc, out, err);
}

int ward_sandbox_landlock(const struct ward_sandbox_opts *o, struct ward_landlock **out, ward_error_t *err)
{
  *out = NULL;
  if (o->no_landlock)
    return 0;
  _cleanup_landlock_ struct ward_landlock *ll = NULL;
  if (ward_landlock_new(&ll, err) < 0)
    return -1;
  /* Without path flags: read and run anything, write only the sandbox's
   * scratch places. With them, reading shrinks to what programs need to
   * start (the system directories), plus the paths given. */
  static const struct { const char *path, *access; } open_base[] = {
    {"/", "exec"}, {"/tmp", "rw"}, {"/dev", "rw"}, {"/run", "rw"}, {"/proc", "ro,write_file"},
  };
  static const struct { const char *path, *access; } tight_base[] = {
    {"/usr", "exec"}, {"/bin", "exec"}, {"/sbin", "exec"}, {"/lib", "exec"}, {"/lib64", "exec"}, {"/lib32", "exec"},
    {"/etc", "ro"}, {"/tmp", "rw"}, {"/dev", "rw"}, {"/run", "rw"}, {"/proc", "ro,write_file"},
  };
  bool tight = (o->ro && o->ro[0]) || (o->rw && o->rw[0]) || (o->exec_paths && o->exec_paths[0]);
  size_t n = tight ? ARRAY_SIZE(tight_base) : ARRAY_SIZE(open_base);
  for (size_t i = 0; i < n; i++) {
    const char *path = tight ? tight_base[i].path : open_base[i].path;
    const char *access_list = tight ? tight_base[i].access : open_base[i].access;
    if (access(path, F_OK) == 0 && ward_landlock_add_path_from(ll, "sandbox default", path, access_list, err) < 0)
      return -1;
  }
  for (size_t i = 0; o->ro && o->ro[i]; i++)
    if (ward_landlock_add_path_from(ll, "--ro", o->ro[i], "ro", err) < 0)
      return -1;
  for (size_t i = 0; o->rw && o->rw[i]; i++)
    if (ward_landlock_add_path_from(ll, "--rw", o->rw[i], "rw", err) < 0)
      return -1;
  for (size_t i = 0; o->exec_paths && o->exec_paths[i]; i++)
    if (ward_landlock_add_path_from(ll, "--exec", o->exec_paths[i], "exec", err) < 0)
      return -1;
  for (size_t i = 0; i < o->n_connect; i++)
    if (ward_landlock_add_port(ll, "connect", o->connect_ports[i], err) < 0)
      return ward_error_prefix(err, "--connect");
  for (size_t i = 0; i < o->n_bind; i++)
    if (ward_landlock_add_port(ll, "bind", o->bind_ports[i], err) < 0)
      return ward_error_prefix(err, "--bind-port");
  if (ward_landlock_set_scope(ll, true, true, err) < 0)
    return -1;
  *out = steal_pointer(&ll);
  return 0;
}

int ward_sandbox_set_net(struct ward_sandbox_opts *o, const char *mode)
{
  if (strcmp(mode, "host") == 0)
    o->net_host = true;
  else if (strcmp(mode, "none") == 0)
    o->net_host = false;
  else
    return -1;
  return 0;
}
