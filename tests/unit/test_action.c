/* Actions and snapshots without a container runtime: a state directory
 * around a real forked process (no cgroup, the host's namespaces), so the
 * snapshot reads real /proc files and the kill really kills. The container
 * cases (cgroups, freezer, netns, probes) are in tests/integration/actions.bats. */
#include "agent/action.h"
#include "agent/flight.h"
#include "agent/snapshot.h"
#include "agent/snapshot_internal.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "runtime/state.h"
#include "tap.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/ward-test-action-XXXXXX";

static void test_names(void)
{
  is_int(ward_action_kind_parse("kill"), WARD_ACTION_KILL, "kill parsed");
  is_int(ward_action_kind_parse("honeypot"), WARD_ACTION_HONEYPOT, "honeypot parsed");
  is_int(ward_action_kind_parse("nuke"), -1, "unknown refused");
  is_str(ward_action_kind_name(WARD_ACTION_RESUME), "resume", "name");
  ok(snap_name_ok("proc/12/maps"), "plain name");
  ok(!snap_name_ok("/etc/passwd"), "absolute refused");
  ok(!snap_name_ok("a/../b"), "dotdot refused");
  ok(!snap_name_ok("a//b"), "empty component refused");
  ok(!snap_name_ok("a/"), "trailing slash refused");
  ok(!snap_name_ok("./a"), "dot refused");
  ok(!snap_name_ok("a\nb"), "control character refused");
  ok(!snap_name_ok(""), "empty refused");
}

static void test_manifest_check(void)
{
  ward_error_t err = NULL;
  json_t *m = NULL;
  const char *good = "{\"format\":\"ward-snapshot\",\"version\":1,\"id\":\"x\",\"created\":\"t\",\"entries\":[{\"name\":\"a\",\"size\":1}],\"skipped\":[]}";
  ok(ward_snapshot_manifest_check(good, strlen(good), &m, &err) == 0, "good manifest");
  json_decref(m);
  static const struct { const char *text, *msg; } bad[] = {
    {"[]", "expected an object"},
    {"{\"format\":\"tar\"}", "format"},
    {"{\"format\":\"ward-snapshot\",\"version\":2}", "version: 2"},
    {"{\"format\":\"ward-snapshot\",\"version\":1,\"id\":\"x\",\"created\":\"t\",\"entries\":[{\"name\":\"../x\",\"size\":1}],\"skipped\":[]}", "entries[0].name"},
    {"{\"format\":\"ward-snapshot\",\"version\":1,\"id\":\"x\",\"created\":\"t\",\"entries\":[],\"skipped\":[{\"what\":1}]}", "skipped[0].what"},
    {"{\"format\":\"ward-snapshot\",\"version\":1,\"id\":\"x\",\"created\":\"t\",\"entries\":[],\"skipped\":[],\"executables\":[{\"path\":\"/x\",\"sha256\":\"zz\"}]}", "executables[0].sha256"},
    {"{\"format\":\"ward-snapshot\",\"format\":\"x\"}", "manifest.json:1"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    ok(ward_snapshot_manifest_check(bad[i].text, strlen(bad[i].text), &m, &err) < 0, "bad manifest %zu refused", i);
    contains(err ? err->msg : NULL, bad[i].msg, "error names the field");
    ward_error_free(&err);
  }
}

static pid_t start_container(const char *root, const char *id)
{
  pid_t child = fork();
  if (child == 0) {
    execl("/bin/sleep", "sleep", "60", (char *) NULL);
    _exit(127);
  }
  usleep(100000);
  ward_error_t err = NULL;
  char *dir = NULL;
  ok(ward_state_create_dir(root, id, &dir, &err) == 0, "state dir");
  struct ward_state st = {.id = (char *) id, .dir = dir, .pid = child, .pid_start = ward_proc_start_time(child),
                          .bundle = (char *) "/", .created = (char *) "2026-01-01T00:00:00Z", .owner = getuid()};
  ok(ward_state_save(&st, &err) == 0, "state saved");
  if (err)
    tap_diag("%s", err->msg);
  /* a flight recorder with three events */
  struct ward_flight *f = NULL;
  ok(ward_flight_open(dir, 16, &f, &err) == 0, "flight");
  for (int i = 1; i <= 3; i++) {
    static struct ward_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = WARD_EV_EXEC;
    ev.source = WARD_SRC_PROBE;
    ev.seq = (uint64_t) i;
    snprintf(ev.path, sizeof(ev.path), "/bin/evil%d", i);
    ward_flight_append(f, &ev);
  }
  ward_flight_close(f);
  free(dir);
  return child;
}

static bool manifest_has_pid(json_t *m, pid_t pid)
{
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(m, "processes"), i, p) if (json_integer_value(json_object_get(p, "pid")) == pid)
    return true;
  return false;
}

static void test_snapshot_and_kill(void)
{
  ward_error_t err = NULL;
  _cleanup_free_ char *root = NULL, *snap = NULL, *small = NULL;
  asprintf(&root, "%s/root", tmpdir);
  asprintf(&snap, "%s/s.tar", tmpdir);
  asprintf(&small, "%s/small.tar", tmpdir);
  mkdir(root, 0700);
  pid_t child = start_container(root, "u1");

  json_t *report = NULL;
  ok(ward_snapshot_take(root, "u1", snap, NULL, &report, &err) == 0, "snapshot taken");
  if (err)
    tap_diag("%s", err->msg);
  ok(report && json_integer_value(json_object_get(report, "processes")) == 1, "report counts the process");
  json_decref(report);
  json_t *m = NULL;
  ok(ward_snapshot_read_manifest(snap, &m, &err) == 0, "archive validates");
  if (err)
    tap_diag("%s", err->msg);
  ok(m && manifest_has_pid(m, child), "manifest names the process");
  json_t *p0 = json_array_get(json_object_get(m, "processes"), 0);
  is_str(json_string_value(json_array_get(json_object_get(p0, "cmdline"), 1)), "60", "cmdline recorded");
  ok(json_is_array(json_object_get(p0, "uid")), "credentials recorded");
  is_int(json_integer_value(json_object_get(json_object_get(m, "events"), "count")), 3, "flight events included");
  /* the executable's hash matches the file's */
  char want[65] = "";
  _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  _cleanup_close_ int sfd = -1;
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  (void) n;
  char sleep_path[64];
  snprintf(sleep_path, sizeof(sleep_path), "/proc/%d/exe", (int) child);
  sfd = open(sleep_path, O_RDONLY | O_CLOEXEC);
  ok(sfd >= 0 && ward_sha256_fd(sfd, 0, want, &err) == 0, "hash sleep ourselves");
  bool found = false;
  size_t i;
  json_t *x;
  json_array_foreach(json_object_get(m, "executables"), i, x) {
    const char *h = json_string_value(json_object_get(x, "sha256"));
    found |= h && strcmp(h, want) == 0;
  }
  ok(found, "the mapped executable's sha256 is in the manifest");
  json_decref(m);

  /* bounded: a tiny budget leaves things out and says so */
  struct ward_snapshot_opts lim = {.max_bytes = 4096};
  ok(ward_snapshot_take(root, "u1", small, &lim, NULL, &err) == 0, "small snapshot taken");
  ok(ward_snapshot_read_manifest(small, &m, &err) == 0, "small archive validates");
  ok(m && json_array_size(json_object_get(m, "skipped")) > 0, "skipped entries listed");
  bool size_reason = false;
  json_t *s;
  json_array_foreach(json_object_get(m, "skipped"), i, s) size_reason |=
    strstr(json_string_value(json_object_get(s, "reason")), "size limit") != NULL;
  ok(size_reason, "the reason is the size limit");
  json_decref(m);

  /* the default place outlives the container's state directory */
  ok(ward_snapshot_take(root, "u1", NULL, NULL, &report, &err) == 0, "snapshot to the default place");
  const char *where = json_string_value(json_object_get(report, "path"));
  _cleanup_free_ char *prefix = NULL;
  asprintf(&prefix, "%s/.snapshots/u1/", root);
  ok(where && strncmp(where, prefix, strlen(prefix)) == 0 && access(where, R_OK) == 0, "under <root>/.snapshots/<id>/");
  json_decref(report);
  _cleanup_strv_ char **ids = NULL;
  ok(ward_state_list(root, &ids, &err) == 0 && ward_strv_len(ids) == 1, "not listed as a container");

  /* actions that need what this container lacks say so */
  ok(ward_action_run(root, "u1", WARD_ACTION_RESUME, NULL, &err) < 0, "resume without an action refused");
  contains(err ? err->msg : NULL, "no action in effect", "resume error");
  ward_error_free(&err);
  struct ward_action_opts fr = {.freeze = true};
  ok(ward_action_run(root, "u1", WARD_ACTION_QUARANTINE, &fr, &err) < 0, "freeze without a cgroup refused");
  contains(err ? err->msg : NULL, "has no cgroup", "freeze error");
  ward_error_free(&err);
  ok(ward_action_run(root, "u1", WARD_ACTION_RESTRICT, NULL, &err) < 0, "restrict without probes refused");
  contains(err ? err->msg : NULL, "without probes", "restrict error");
  ward_error_free(&err);
  ok(ward_action_run(root, "nosuch", WARD_ACTION_KILL, NULL, &err) < 0, "unknown id refused");
  contains(err ? err->msg : NULL, "nosuch", "error names the id");
  ward_error_free(&err);

  /* kill */
  struct ward_action_opts ko = {.report = &report};
  ok(ward_action_run(root, "u1", WARD_ACTION_KILL, &ko, &err) == 0, "kill");
  if (err)
    tap_diag("%s", err->msg);
  int status = 0;
  ok(waitpid(child, &status, 0) == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the process died of SIGKILL");
  is_int(json_integer_value(json_object_get(report, "count")), 1, "one killed, reported");
  json_decref(report);
  json_t *st = NULL;
  ok(ward_action_status(root, "u1", &st, &err) == 0, "status");
  is_str(json_string_value(json_object_get(st, "action")), "kill", "status shows the kill");
  is_str(json_string_value(json_object_get(st, "status")), "stopped", "container stopped");
  json_decref(st);
  ok(ward_action_run(root, "u1", WARD_ACTION_KILL, NULL, &err) < 0, "a stopped container is refused");
  contains(err ? err->msg : NULL, "not running", "error says why");
  ward_error_free(&err);
  ok(ward_snapshot_take(root, "u1", snap, NULL, NULL, &err) < 0, "no snapshot of a stopped container");
  ward_error_free(&err);
}

static void test_hostile_archives(void)
{
  ward_error_t err = NULL;
  _cleanup_free_ char *path = NULL;
  asprintf(&path, "%s/bad.tar", tmpdir);
  json_t *m = NULL;
  ok(ward_write_file_atomic(path, "not a tar", 9, 0600, &err) == 0, "write junk");
  ok(ward_snapshot_read_manifest(path, &m, &err) < 0, "junk refused");
  ward_error_free(&err);
  /* a real tar with a traversal name, made with tar(1) */
  _cleanup_free_ char *cmd = NULL;
  asprintf(&cmd, "cd %s && mkdir -p t/sub && echo x > t/sub/f && tar -cf trav.tar --absolute-names -C t sub/f "
                 "--transform 's,^sub,../sub,' 2>/dev/null", tmpdir);
  if (system(cmd) == 0) {
    _cleanup_free_ char *trav = NULL;
    asprintf(&trav, "%s/trav.tar", tmpdir);
    ok(ward_snapshot_read_manifest(trav, &m, &err) < 0, "traversal refused");
    contains(err ? err->msg : NULL, "unsafe name", "names the problem");
    ward_error_free(&err);
  } else {
    ok(1, "# skip tar(1) unavailable");
    ok(1, "# skip");
  }
}

int main(void)
{
  if (mkdtemp(tmpdir) == NULL)
    return 1;
  test_names();
  test_manifest_check();
  test_snapshot_and_kill();
  test_hostile_archives();
  ward_error_t err = NULL;
  ward_remove_tree(tmpdir, &err);
  ward_error_free(&err);
  return tap_done();
}
