#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/rundir.h"
#include "common/util.h"
#include "tap.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

static void test_errors(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  is_int(ward_error(&err, 0, "field %s", "x"), -1, "ward_error returns -1");
  is_str(err->msg, "field x", "message formatted");
  ward_error_prefix(&err, "config.json");
  is_str(err->msg, "config.json: field x", "prefix adds context");
  ward_error(&err, ENOENT, "open %s", "/nope");
  is_str(err->msg, "open /nope: No such file or directory", "errno appended, old error replaced");
  is_int(err->errnum, ENOENT, "errno kept");
}

static void test_json(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  _cleanup_json_ json_t *doc = NULL;
  const char *text = "{\"s\":\"v\",\"n\":-3,\"u\":5,\"b\":true,\"a\":[\"x\",\"y\"],\"bad\":[1]}";
  ok(wj_load_buffer("t.json", text, strlen(text), &doc, &err) == 0, "valid JSON loads");
  _cleanup_free_ char *s = NULL;
  ok(wj_req_string(doc, "s", "root", &s, &err) == 0 && strcmp(s, "v") == 0, "required string read");
  uint64_t u = 0;
  ok(wj_opt_uint64(doc, "n", "root", &u, NULL, &err) < 0, "negative refused as unsigned");
  is_str(err->msg, "root.n: expected a non-negative integer, found -3", "error names the field");
  ok(wj_opt_uint64(doc, "u", "root", &u, NULL, &err) == 0 && u == 5, "unsigned read");
  ok(wj_req_string(doc, "missing", "root", &s, &err) < 0, "missing required field fails");
  is_str(err->msg, "root.missing: required field is missing", "missing field named");
  _cleanup_strv_ char **v = NULL;
  size_t n = 0;
  ok(wj_opt_strv(doc, "a", "root", &v, &n, &err) == 0 && n == 2 && strcmp(v[1], "y") == 0, "string array read");
  ok(wj_opt_strv(doc, "bad", "root", &v, &n, &err) < 0, "non-string element refused");
  contains(err->msg, "root.bad[0]", "error names the element");
  bool b = false;
  ok(wj_opt_bool(doc, "s", "root", &b, &err) < 0, "string is not a boolean");
  json_t *bad = NULL;
  ok(wj_load_buffer("t.json", "{\n \"a\": ,}", 10, &bad, &err) < 0, "syntax error fails");
  contains(err->msg, "t.json:2:", "syntax error names file and line");
  ok(wj_load_buffer("t.json", "{\"a\":1,\"a\":2}", 13, &bad, &err) < 0, "duplicate keys refused");
}

static void test_remove_tree_kinds(void);

static void test_util(void)
{
  is_int(ward_parse_signal("KILL"), SIGKILL, "KILL");
  is_int(ward_parse_signal("SIGTERM"), SIGTERM, "SIGTERM");
  is_int(ward_parse_signal("hup"), SIGHUP, "hup");
  is_int(ward_parse_signal("9"), 9, "numeric");
  is_int(ward_parse_signal("RTMIN+2"), SIGRTMIN + 2, "RTMIN+2");
  is_int(ward_parse_signal("NOPE"), -1, "unknown name");
  is_int(ward_parse_signal("0"), -1, "zero refused");
  is_int(ward_parse_signal("99999"), -1, "out of range refused");
  uint64_t sz = 0;
  ok(ward_parse_size("64m", &sz) == 0 && sz == 64ull << 20, "64m");
  ok(ward_parse_size("1G", &sz) == 0 && sz == 1ull << 30, "1G");
  ok(ward_parse_size("12x", &sz) < 0, "bad suffix refused");
  ok(ward_parse_size("-1", &sz) < 0, "negative refused");
  ok(ward_valid_id("web-1.a_b+c"), "valid id");
  ok(!ward_valid_id("../etc"), "path id refused");
  ok(!ward_valid_id(""), "empty id refused");
  ok(!ward_valid_id("a/b"), "slash refused");
  char hex[65];
  ward_sha256_hex("abc", 3, hex);
  is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256(abc)");
  _cleanup_strv_ char **v = NULL;
  ok(ward_strv_append(&v, "a") == 0 && ward_strv_append(&v, "b") == 0 && ward_strv_len(v) == 2, "strv append");
  ok(ward_strv_contains(v, "b") && !ward_strv_contains(v, "c"), "strv contains");

  char dir[] = "/tmp/ward-test-XXXXXX";
  ok(mkdtemp(dir) != NULL, "mkdtemp");
  _cleanup_free_ char *deep = NULL;
  asprintf(&deep, "%s/a/b/c", dir);
  _cleanup_error_ ward_error_t err = NULL;
  ok(ward_mkdir_p(deep, 0755, &err) == 0, "mkdir -p");
  _cleanup_free_ char *file = NULL;
  asprintf(&file, "%s/a/f", dir);
  ok(ward_write_file_atomic(file, "hello", 5, 0644, &err) == 0, "atomic write");
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  ok(ward_read_file(file, 0, &buf, &len, &err) == 0 && len == 5 && strcmp(buf, "hello") == 0, "read back");
  free(buf);
  buf = NULL;
  ok(ward_read_file(file, 3, &buf, &len, &err) < 0, "size cap enforced");
  ok(ward_remove_tree(dir, &err) == 0, "remove tree");
  struct stat st;
  ok(stat(dir, &st) < 0, "tree gone");
  test_remove_tree_kinds();
}

/* Every kind of entry goes (files, links, fifos, nested directories) by
 * the type its directory listing gives, without following a link; a mount
 * point inside is still refused (its device is looked at). */
static void test_remove_tree_kinds(void)
{
  char dir[] = "/tmp/ward-test-XXXXXX", outside[] = "/tmp/ward-test-out-XXXXXX";
  ok(mkdtemp(dir) != NULL && mkdtemp(outside) != NULL, "mkdtemp (kinds)");
  _cleanup_free_ char *keep = NULL, *p = NULL;
  asprintf(&keep, "%s/keep", outside);
  close(open(keep, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  asprintf(&p, "%s/d1/d2/d3", dir);
  _cleanup_error_ ward_error_t err = NULL;
  ok(ward_mkdir_p(p, 0755, &err) == 0, "nested directories");
  const char *names[] = {"f", "d1/f", "d1/d2/f", "d1/d2/d3/f"};
  for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
    free(p);
    asprintf(&p, "%s/%s", dir, names[i]);
    close(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  }
  free(p);
  asprintf(&p, "%s/d1/to-outside", dir);
  ok(symlink(outside, p) == 0, "a link to a directory outside");
  free(p);
  asprintf(&p, "%s/d1/d2/fifo", dir);
  ok(mkfifo(p, 0600) == 0, "a fifo");
  ok(ward_remove_tree(dir, &err) == 0, "tree of every kind removed");
  struct stat st;
  ok(stat(dir, &st) < 0 && errno == ENOENT, "tree of every kind gone");
  ok(stat(keep, &st) == 0, "what the link pointed at is left alone");

  /* a mount point below: refused, in a mount namespace of a child's own */
  free(p);
  asprintf(&p, "%s/m", dir);
  ok(ward_mkdir_p(p, 0755, &err) == 0, "a directory to mount on");
  pid_t pid = fork();
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("tmpfs", p, "tmpfs", 0, NULL) < 0)
      _exit(77);
    ward_error_t e = NULL;
    int r = ward_remove_tree(dir, &e);
    if (!(r < 0 && e && e->errnum == EXDEV && stat(p, &st) == 0))
      _exit(1);
    ward_error_free(&e);
    /* a bind mount from the same file system: the same device, so only
     * the kernel's mount-root attribute gives it away */
    if (umount(p) < 0 || mount(outside, p, NULL, MS_BIND, NULL) < 0)
      _exit(77);
    r = ward_remove_tree(dir, &e);
    _exit(r < 0 && e && e->errnum == EXDEV && stat(keep, &st) == 0 ? 0 : 2);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ok(WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 77),
     "a mount point inside the tree, another file system's or a bind mount of the same one's, is refused "
     "and what it shows survives (exit %d; 77: no mount namespace here)", WEXITSTATUS(status));
  ok(ward_remove_tree(dir, &err) == 0 && ward_remove_tree(outside, &err) == 0, "clean up");

  /* Deep trees: the walk keeps one fd per level, and little stack. 2,500
   * levels with 4 KiB of stack each would overflow the main thread's 8 MiB;
   * run where the fd limit can be raised that far (it can on every
   * machine this runs on: the hard limit here is 20000). */
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  enum { DEPTH = 2500 };
  if (rl.rlim_cur < DEPTH + 64 && rl.rlim_max >= DEPTH + 64) {
    rl.rlim_cur = DEPTH + 64;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  getrlimit(RLIMIT_NOFILE, &rl);
  ok(rl.rlim_cur >= DEPTH + 64, "fd limit %llu allows %d levels", (unsigned long long) rl.rlim_cur, DEPTH);
  char deep[] = "/tmp/ward-test-deep-XXXXXX";
  ok(mkdtemp(deep) != NULL, "mkdtemp (deep)");
  int at = open(deep, O_PATH | O_DIRECTORY | O_CLOEXEC);
  bool made = at >= 0;
  for (int i = 0; i < DEPTH && made; i++) {
    int next = mkdirat(at, "d", 0700) == 0 ? openat(at, "d", O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
    close(at);
    at = next;
    made = at >= 0;
  }
  if (at >= 0)
    close(at);
  ok(made, "a tree %d levels deep", DEPTH);
  ok(ward_remove_tree(deep, &err) == 0 && stat(deep, &st) < 0, "removed whole (%s)", err ? err->msg : "no error");
}

/* A memory directory is found from the state directory alone, and only
 * while its "state" link leads back to that very directory. */
static void test_run_dir(void)
{
  char sd[] = "/tmp/ward-test-rd-XXXXXX";
  ok(mkdtemp(sd) != NULL, "run dir: state directory");
  _cleanup_error_ ward_error_t err = NULL;
  char dir[4096], found[4096], plain[4096];
  snprintf(plain, sizeof(plain), "%s/run", sd);
  ok(ward_run_dir_create(sd, (const char *const[]) {"/nonexistent-bind-source", NULL}, dir, sizeof(dir), &err) == 0,
     "run dir: made");
  struct stat st;
  if (strcmp(dir, plain) == 0) {
    /* a state root on tmpfs, or no tmpfs base: the plain directory */
    ok(stat(plain, &st) == 0 && S_ISDIR(st.st_mode), "run dir: plain directory (no memory base here)");
  } else {
    ok(lstat(plain, &st) < 0 && errno == ENOENT, "run dir: nothing in the state directory leads to %s", dir);
    ok(ward_run_dir_path(sd, found, sizeof(found)) == 0 && strcmp(found, dir) == 0, "run dir: found again");
    /* a directory under that name whose link leads elsewhere (left by
     * another state directory) is not ours */
    char back[4200];
    snprintf(back, sizeof(back), "%s/state", dir);
    ok(unlink(back) == 0 && symlink("/tmp", back) == 0, "run dir: back-link replaced");
    ok(ward_run_dir_path(sd, found, sizeof(found)) == 0 && strcmp(found, plain) == 0, "run dir: a foreign link is not followed");
    _cleanup_free_ char *p = ward_run_path(sd, "probe/ring");
    ok(p && strncmp(p, plain, strlen(plain)) == 0, "run dir: paths in it fall back to the state directory");
    ok(ward_run_dir_remove(sd, &err) == 0 && stat(dir, &st) == 0, "run dir: a foreign one is not removed");
    ok(unlink(back) == 0 && symlink(sd, back) == 0, "run dir: back-link restored");
    /* what ward puts there goes by name; what a honeypot added to the
     * decoys, and a file it does not know, by the generic removal */
    char p1[4300], p2[4300], p3[4300], p4[4300];
    snprintf(p1, sizeof(p1), "%s/probe", dir);
    snprintf(p2, sizeof(p2), "%s/probe/decoys", dir);
    snprintf(p3, sizeof(p3), "%s/probe/decoys/shadow", dir);
    snprintf(p4, sizeof(p4), "%s/probe/ring", dir);
    ok(mkdir(p1, 0711) == 0 && mkdir(p2, 0755) == 0 && ward_write_file_atomic(p3, "x", 1, 0644, &err) == 0 &&
       ward_write_file_atomic(p4, "r", 1, 0644, &err) == 0, "run dir: probe files and a decoy");
    ok(ward_run_dir_remove(sd, &err) == 0 && stat(dir, &st) < 0, "run dir: removed through its state directory");
  }
  /* a state_dir/run link ward did not make is not followed (a rootless
   * user's state directory is theirs to fill, and a root agent serves it) */
  struct stat keep;
  char dir2[] = "/tmp/ward-test-rd-other-XXXXXX";
  ok(mkdtemp(dir2) != NULL && stat(dir2, &keep) == 0, "run dir: a directory to point at");
  unlink(plain);
  rmdir(plain);
  ok(symlink(dir2, plain) == 0, "run dir: state_dir/run made a link elsewhere");
  errno = 0;
  ok(ward_run_dir_path(sd, found, sizeof(found)) < 0 && errno == ELOOP, "run dir: a foreign link is refused");
  _cleanup_free_ char *via = ward_run_path(sd, "probe/control");
  ok(via == NULL, "run dir: no path through a foreign link");
  ok(ward_run_dir_ensure(sd, found, sizeof(found), &err) < 0, "run dir: ensure refuses it");
  ward_error_free(&err);
  ok(ward_run_dir_remove(sd, &err) == 0 && stat(dir2, &st) == 0 && st.st_ino == keep.st_ino,
     "run dir: removal leaves what a foreign link names");
  ok(unlink(plain) == 0 && symlink(".", plain) == 0, "run dir: the link an adopted legacy directory gets");
  ok(ward_run_dir_path(sd, found, sizeof(found)) == 0 && strcmp(found, sd) == 0, "run dir: \".\" is the state directory");
  rmdir(dir2);
  ok(ward_remove_tree(sd, &err) == 0, "run dir: state directory removed");
}

/* Last (it is for good): once told the process only exits from now on,
 * ward_free_lazy leaves the mapping to the exit. */
static void test_leave_mappings(void)
{
  size_t len = 4 * 4096;
  unsigned char *p = ward_zalloc_lazy(len), *q = ward_zalloc_lazy(len);
  ok(p && q, "lazy tables mapped");
  ward_free_lazy(q, len);
  unsigned char vec[4];
  ok(!ward_mappings_left() && mincore(q, len, vec) < 0 && errno == ENOMEM, "freed: unmapped");
  ward_leave_mappings();
  p[0] = 1;
  ward_free_lazy(p, len);
  ok(ward_mappings_left() && mincore(p, len, vec) == 0 && p[0] == 1, "after ward_leave_mappings: left to the exit");
}

int main(void)
{
  test_errors();
  test_json();
  test_util();
  test_run_dir();
  test_leave_mappings();
  return tap_done();
}
