/* ward check against confinement this test applies itself: a forked child
 * enters a user namespace, sets no_new_privs, loads a seccomp filter that
 * returns EPERM for keyctl and enforces a Landlock ruleset, then reports
 * as JSON through a pipe; an unconfined child is the control. */
#include "audit/check.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

void test_audit_check(void);

static int landlock_read_only_under(const char *const *paths, size_t n)
{
  struct landlock_ruleset_attr attr = {
    .handled_access_fs = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR};
  int rs = (int) syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
  if (rs < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    struct landlock_path_beneath_attr pb = {.allowed_access = attr.handled_access_fs};
    pb.parent_fd = open(paths[i], O_PATH | O_CLOEXEC);
    if (pb.parent_fd < 0 || syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
      return -1;
    close(pb.parent_fd);
  }
  int rc = (int) syscall(SYS_landlock_restrict_self, rs, 0);
  close(rs);
  return rc;
}

static int confine(void)
{
  if (unshare(CLONE_NEWUSER) < 0)
    return 10;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return 11;
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == NULL || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(keyctl), 0) < 0 ||
      seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(bpf), 0) < 0 || seccomp_load(ctx) < 0)
    return 12;
  seccomp_release(ctx);
  static const char *const allowed[] = {"/proc", "/dev", "/sys"};
  if (landlock_read_only_under(allowed, 3) < 0)
    return 13;
  return 0;
}

/* A profile like podman's, whose default action is an errno, but an odd one
 * (ENOLINK) that ward check can only know by asking the filter: every
 * syscall this kernel numbers is allowed except the capability-gated ones
 * probed below, which fall to the default. */
static int odd_errno_filter(void)
{
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return 11;
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOLINK));
  if (ctx == NULL)
    return 12;
  const int denied[] = {SCMP_SYS(mount), SCMP_SYS(bpf), SCMP_SYS(perf_event_open), SCMP_SYS(setns),
                        SCMP_SYS(open_by_handle_at)};
  for (int nr = 0; nr < 1024; nr++) {
    bool deny = false;
    for (size_t i = 0; i < ARRAY_SIZE(denied); i++)
      deny |= denied[i] == nr;
    if (!deny)
      seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);  /* numbers libseccomp does not know are refused: fine */
  }
  int rc = seccomp_load(ctx);
  seccomp_release(ctx);
  return rc < 0 ? 13 : 0;
}

/* Runs ward_check_collect in a child (confined or not); returns its JSON. */
static json_t *child_report_with(int (*setup)(void), int *setup_rc)
{
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return NULL;
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    int rc = setup ? setup() : 0;
    if (rc != 0)
      _exit(rc);
    struct ward_check_report r;
    ward_check_collect(&r, NULL);
    json_t *j = ward_check_json(&r);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (s == NULL || write(p[1], s, strlen(s)) < 0)
      _exit(20);
    _exit(0);
  }
  close(p[1]);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = fdopen(p[0], "r");
  char chunk[4096];
  size_t n;
  while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    buf = realloc(buf, len + n + 1);
    memcpy(buf + len, chunk, n);
    len += n;
  }
  if (f)
    fclose(f);
  int status = 0;
  waitpid(pid, &status, 0);
  *setup_rc = WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
  json_t *j = NULL;
  if (buf) {
    buf[len] = '\0';
    j = json_loads(buf, 0, NULL);
  }
  free(buf);
  return j;
}

static json_t *child_report(bool confined, int *setup_rc)
{
  return child_report_with(confined ? confine : NULL, setup_rc);
}

static const char *verdict(json_t *r, const char *sys)
{
  return json_string_value(json_object_get(json_object_get(json_object_get(r, "syscalls"), sys), "verdict"));
}

void test_audit_check(void)
{
  int rc = 0;
  _cleanup_json_ json_t *open_ = child_report(false, &rc);
  is_int(rc, 0, "unconfined child reported");
  ok(open_ != NULL, "unconfined report is JSON");
  is_str(verdict(open_, "keyctl"), "reachable", "unconfined: keyctl reachable");
  is_str(verdict(open_, "bpf"), "reachable", "unconfined: bpf reachable");
  is_str(verdict(open_, "ptrace"), "reachable", "unconfined: ptrace reachable (ESRCH)");
  /* The capability-gated probes: as root with every capability they reach
   * the call's body (the positive control for the user namespace below). */
  static const char *const gated[] = {"mount", "bpf", "setns", "perf_event_open", "open_by_handle_at", "clock_settime"};
  bool root = geteuid() == 0;
  for (size_t i = 0; i < ARRAY_SIZE(gated); i++) {
    if (root)
      is_str(verdict(open_, gated[i]), "reachable", "unconfined root: %s reachable", gated[i]);
    else
      is_str(verdict(open_, gated[i]), "blocked", "unconfined, not root: %s blocked by the missing capability", gated[i]);
  }
  is_int(json_integer_value(json_object_get(json_object_get(open_, "seccomp"), "mode")), 0, "unconfined: seccomp disabled");
  ok(json_is_false(json_object_get(open_, "no_new_privs")), "unconfined: no_new_privs off");
  is_str(json_string_value(json_object_get(json_object_get(open_, "landlock"), "domain")), "not-detected",
         "unconfined: no Landlock domain");
  ok(json_is_false(json_object_get(json_object_get(open_, "identity"), "user_namespace")), "unconfined: no user namespace");
  is_str(json_string_value(json_object_get(json_object_get(json_object_get(open_, "namespaces"), "user"), "state")),
         "host", "unconfined: initial user namespace recognised by inode");
  ok(json_is_array(json_object_get(json_object_get(open_, "capabilities"), "effective")), "capabilities by name");

  _cleanup_json_ json_t *conf = child_report(true, &rc);
  is_int(rc, 0, "confined child set up userns, NNP, seccomp, Landlock and reported");
  if (conf == NULL) {
    ok(false, "confined report missing");
    return;
  }
  is_str(verdict(conf, "keyctl"), "blocked", "confined: keyctl blocked by seccomp");
  is_str(verdict(conf, "bpf"), "blocked", "confined: bpf blocked by seccomp");
  is_str(verdict(conf, "ptrace"), "reachable", "confined: ptrace still reachable (not in the filter)");
  /* Not in the filter either, but a user namespace's capabilities do not
   * cover the host's mount namespace, UTS namespace or file systems: the
   * kernel's capability checks block them (these read "reachable" while the
   * probes' bad arguments came before the checks). */
  for (size_t i = 0; i < ARRAY_SIZE(gated); i++)
    if (strcmp(gated[i], "bpf") != 0)
      is_str(verdict(conf, gated[i]), "blocked", "confined: %s blocked by the missing capability", gated[i]);
  json_t *sc = json_object_get(conf, "seccomp");
  is_int(json_integer_value(json_object_get(sc, "mode")), 2, "confined: seccomp mode filter");
  ok(json_integer_value(json_object_get(sc, "filters")) >= 1, "confined: filter counted");
  ok(json_is_true(json_object_get(conf, "no_new_privs")), "confined: no_new_privs on");
  ok(json_is_true(json_object_get(json_object_get(conf, "identity"), "user_namespace")), "confined: user namespace detected");
  is_str(json_string_value(json_object_get(json_object_get(json_object_get(conf, "namespaces"), "user"), "state")),
         "private", "confined: user namespace is private");
  json_t *ll = json_object_get(conf, "landlock");
  is_str(json_string_value(json_object_get(ll, "domain")), "likely", "confined: Landlock domain inferred");
  contains(json_string_value(json_object_get(ll, "evidence")), "/etc", "confined: evidence names a denied path");

  /* A filter whose default errno is ENOLINK: the probes see ENOLINK, and
   * ward check learns from a syscall number no kernel has that it is the
   * filter's answer. */
  _cleanup_json_ json_t *odd = child_report_with(odd_errno_filter, &rc);
  is_int(rc, 0, "odd-errno filter child reported");
  if (odd == NULL) {
    ok(false, "odd-errno report missing");
    return;
  }
  static const char *const filtered[] = {"mount", "bpf", "setns", "perf_event_open", "open_by_handle_at"};
  for (size_t i = 0; i < ARRAY_SIZE(filtered); i++) {
    json_t *p = json_object_get(json_object_get(odd, "syscalls"), filtered[i]);
    is_str(json_string_value(json_object_get(p, "errno")), "ENOLINK", "odd-errno filter: %s got the filter's errno", filtered[i]);
    is_str(verdict(odd, filtered[i]), "blocked", "odd-errno filter: %s blocked", filtered[i]);
  }
  is_str(verdict(odd, "keyctl"), "reachable", "odd-errno filter: keyctl (allowed) reachable");
  if (root)
    is_str(verdict(odd, "clock_settime"), "reachable", "odd-errno filter: clock_settime (allowed, root) reachable");
}
