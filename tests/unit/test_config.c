/* config.json parsing: every field the runtime honours, and bad input that
 * must fail with an error naming the field. */
#include "runtime/config.h"
#include "runtime/config_parse.h"
#include "common/cleanup.h"
#include "tap.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>

static struct ward_config *parse(const char *text, char **msg)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_config *cfg = NULL;
  if (ward_config_parse_buffer("config.json", text, strlen(text), &cfg, &err) < 0) {
    if (msg)
      *msg = strdup(err->msg);
    return NULL;
  }
  return cfg;
}

static void expect_error(const char *text, const char *needle, const char *what)
{
  char *msg = NULL;
  struct ward_config *cfg = parse(text, &msg);
  ok(cfg == NULL, "%s: refused", what);
  contains(msg, needle, "%s: error names the field", what);
  free(msg);
  ward_config_free(cfg);
}

static const char *full =
  "{\"ociVersion\":\"1.0.2-dev\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"h\","
  "\"process\":{\"terminal\":false,\"args\":[\"sh\",\"-c\",\"x\"],\"env\":[\"A=1\"],\"cwd\":\"/w\","
  " \"user\":{\"uid\":1,\"gid\":2,\"umask\":18,\"additionalGids\":[5,6]},"
  " \"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"],\"effective\":[\"CAP_KILL\"],\"ambient\":[]},"
  " \"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":20}],\"noNewPrivileges\":true,\"oomScoreAdj\":100},"
  "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
  " {\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/tmp\",\"options\":[\"rbind\",\"ro\",\"nosuid\",\"rslave\"]},"
  " {\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"mode=755\",\"size=65536k\"]}],"
  "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},{\"type\":\"user\"},"
  "  {\"type\":\"network\",\"path\":\"/proc/1/ns/net\"}],"
  " \"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
  " \"devices\":[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229,\"fileMode\":438}],"
  " \"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"],\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},"
  " \"cgroupsPath\":\"/ward/t\",\"resources\":{\"memory\":{\"limit\":1048576},\"pids\":{\"limit\":10},"
  "  \"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000,\"cpus\":\"0\"}},\"rootfsPropagation\":\"rslave\"},"
  "\"annotations\":{\"k\":\"v\"},"
  "\"hooks\":{\"poststart\":[{\"path\":\"/bin/true\",\"args\":[\"true\"],\"timeout\":5}]}}";

static void test_full(void)
{
  char *msg = NULL;
  struct ward_config *cfg = parse(full, &msg);
  ok(cfg != NULL, "full config parses");
  if (cfg == NULL) {
    tap_diag("%s", msg);
    free(msg);
    return;
  }
  is_str(cfg->root_path, "rootfs", "root.path");
  ok(cfg->root_readonly, "root.readonly");
  is_str(cfg->process.args[2], "x", "process.args");
  is_str(cfg->process.cwd, "/w", "process.cwd");
  is_int(cfg->process.user.uid, 1, "uid");
  is_int(cfg->process.user.gid, 2, "gid");
  is_int(cfg->process.user.umask, 18, "umask");
  is_int(cfg->process.user.n_additional_gids, 2, "additionalGids");
  ok(cfg->process.caps.bounding == ((1ull << 5) | (1ull << 0)), "bounding set has KILL and CHOWN");
  ok(cfg->process.caps.effective == (1ull << 5), "effective set has KILL");
  is_int(cfg->process.n_rlimits, 1, "one rlimit");
  is_int(cfg->process.rlimits[0].resource, RLIMIT_NOFILE, "RLIMIT_NOFILE");
  ok(cfg->process.no_new_privileges, "noNewPrivileges");
  is_int(cfg->process.oom_score_adj, 100, "oomScoreAdj");
  is_int(cfg->n_mounts, 3, "three mounts");
  struct ward_mount *b = &cfg->mounts[1];
  ok(b->bind && b->recursive, "rbind is a recursive bind");
  ok((b->flags & (MS_RDONLY | MS_NOSUID)) == (MS_RDONLY | MS_NOSUID), "ro,nosuid flags");
  ok(b->propagation == (MS_SLAVE | MS_REC), "rslave propagation");
  is_str(cfg->mounts[2].data, "mode=755,size=65536k", "unknown options become data");
  ok(cfg->ns[WARD_NS_PID].requested && !cfg->ns[WARD_NS_PID].path, "new pid namespace");
  is_str(cfg->ns[WARD_NS_NET].path, "/proc/1/ns/net", "join network namespace by path");
  ok(!cfg->ns[WARD_NS_IPC].requested, "ipc not requested");
  is_int(cfg->n_uid_maps, 1, "uid map");
  is_int(cfg->uid_maps[0].host_id, 1000, "uid map host id");
  is_int(cfg->n_devices, 1, "one device");
  is_int(cfg->devices[0].file_mode, 0666, "device mode");
  is_str(cfg->masked_paths[0], "/proc/kcore", "maskedPaths");
  is_str(cfg->sysctl[0].key, "net.ipv4.ip_forward", "sysctl");
  is_int(cfg->resources.memory_limit, 1048576, "memory limit");
  is_int(cfg->resources.pids_limit, 10, "pids limit");
  is_int(cfg->resources.cpu_quota, 50000, "cpu quota");
  ok(cfg->rootfs_propagation == (MS_SLAVE | MS_REC), "rootfsPropagation");
  is_str(ward_config_annotation(cfg, "k"), "v", "annotation");
  is_int(cfg->hooks.count[WARD_HOOK_POSTSTART], 1, "poststart hook");
  is_int(cfg->hooks.list[WARD_HOOK_POSTSTART][0].timeout, 5, "hook timeout");
  ward_config_free(cfg);
}

static void test_errors(void)
{
  expect_error("{", "config.json:1:", "malformed JSON");
  expect_error("[]", "expected an object", "not an object");
  expect_error("{\"root\":{\"path\":\"r\"}}", "ociVersion: required", "missing ociVersion");
  expect_error("{\"ociVersion\":\"2.0.0\",\"root\":{\"path\":\"r\"}}", "not a 1.x version", "ociVersion 2");
  expect_error("{\"ociVersion\":\"1.0.0\"}", "root: required", "missing root");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[]}}", "process.args", "empty args");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\"],\"cwd\":\"rel\"}}",
               "process.cwd", "relative cwd (CVE-2024-21626)");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\"],\"user\":{\"uid\":-1}}}",
               "process.user.uid", "negative uid");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\"],\"capabilities\":{\"bounding\":[\"CAP_NOPE\"]}}}",
               "process.capabilities.bounding[0]", "unknown capability");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":\"RLIMIT_X\",\"soft\":1,\"hard\":1}]}}",
               "process.rlimits[0].type", "unknown rlimit");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"soft\":2,\"hard\":1}]}}",
               "soft limit", "soft above hard");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"linux\":{\"namespaces\":[{\"type\":\"bogus\"}]}}",
               "linux.namespaces[0].type: unknown namespace", "unknown namespace");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}}",
               "listed twice", "duplicate namespace");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"rel\",\"type\":\"tmpfs\"}]}",
               "mounts[0].destination", "relative mount destination");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\"}]}",
               "mounts[0].source", "bind without source");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":1}]}}",
               "require a new user namespace", "maps without user namespace");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":0}],\"gidMappings\":[]}}",
               "linux.uidMappings[0]", "empty map range");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"z\",\"major\":1,\"minor\":1}]}}",
               "linux.devices[0].type", "bad device type");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"linux\":{\"resources\":{\"cpu\":{\"period\":5}}}}",
               "linux.resources.cpu.period", "cpu period out of range");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"linux\":{\"rootfsPropagation\":\"sideways\"}}",
               "linux.rootfsPropagation", "unknown propagation");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"hostname\":\"h\"}", "uts namespace", "hostname without uts");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"no_such_syscall\"],\"action\":\"SCMP_ACT_ALLOW\"}]}}}",
               "linux.seccomp.syscalls[0]", "unknown syscall in seccomp");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"hooks\":{\"prestart\":[{\"path\":\"rel\"}]}}",
               "hooks.prestart[0].path", "relative hook path");
  expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"annotations\":{\"a\":1}}", "annotations.a", "non-string annotation");
}

static void test_any_1x(void)
{
  const char *versions[] = {"1.0.0", "1.0.2-dev", "1.1.0", "1.2.0", "1.3.0-rc.1"};
  for (size_t i = 0; i < 5; i++) {
    char buf[128];
    snprintf(buf, sizeof(buf), "{\"ociVersion\":\"%s\",\"root\":{\"path\":\"r\"}}", versions[i]);
    struct ward_config *cfg = parse(buf, NULL);
    ok(cfg != NULL, "ociVersion %s accepted", versions[i]);
    ward_config_free(cfg);
  }
}

int main(void)
{
  test_full();
  test_errors();
  test_any_1x();
  return tap_done();
}
