/* Compilation: what each layer gets, and real enforcement in a child
 * process: the seccomp allow-list (a complete call never seen is EPERM, a
 * seen one works) and the Landlock ruleset (learned reads, writes and ports
 * work, others are EACCES). */
#include "agent/template.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "landlock/landlock.h"
#include "seccomp/seccomp.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

void test_template_compile(void);

static struct ward_template *load_text(const char *text)
{
  struct ward_template *t = NULL;
  _cleanup_error_ ward_error_t err = NULL;
  if (ward_template_load_buffer("t.yaml", text, strlen(text), &t, &err) < 0)
    tap_diag("%s", err->msg);
  return t;
}

static bool names_have(json_t *seccomp, const char *name)
{
  size_t i, k;
  json_t *r, *n;
  json_array_foreach(json_object_get(seccomp, "syscalls"), i, r) {
    if (strcmp(json_string_value(json_object_get(r, "action")), "SCMP_ACT_ALLOW") != 0)
      continue;
    json_array_foreach(json_object_get(r, "names"), k, n)
      if (strcmp(json_string_value(n), name) == 0)
        return true;
  }
  return false;
}

static bool strv_has_pair(char **v, const char *a, const char *b)
{
  for (size_t i = 0; v && v[i] && v[i + 1]; i += 2)
    if (strcmp(v[i], a) == 0 && strcmp(v[i + 1], b) == 0)
      return true;
  return false;
}

/* Runs fn in a child after no_new_privs; returns its exit status. */
static int in_child(int (*fn)(void *), void *arg)
{
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
      _exit(100);
    _exit(fn(arg));
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 200;
}

static int seccomp_child(void *arg)
{
  const struct ward_seccomp_prog *p = arg;
  int listener = -1;
  if (ward_seccomp_load(p, &listener, NULL) < 0)
    return 101;
  if (getpid() <= 0)
    return 102;
  errno = 0;
  long r = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
  return r == 0 ? 0 : errno == EPERM ? 1 : 103;
}

static int run_seccomp(const struct ward_template_rules *r)
{
  struct ward_seccomp *s = NULL;
  struct ward_seccomp_prog *p = NULL;
  _cleanup_error_ ward_error_t err = NULL;
  if (ward_seccomp_parse_oci(r->seccomp, "linux.seccomp", &s, &err) < 0 || ward_seccomp_compile(s, NULL, &p, &err) < 0) {
    tap_diag("%s", err ? err->msg : "?");
    ward_seccomp_free(s);
    return -1;
  }
  ward_seccomp_free(s);
  int rc = in_child(seccomp_child, p);
  ward_seccomp_prog_free(p);
  return rc;
}

static void test_seccomp(void)
{
  _cleanup_template_ struct ward_template *t = load_text("version: 1\napp: x\nsyscalls:\n  seen: [openat]\n  complete: [ptrace, setuid]\n");
  struct ward_template_rules r;
  _cleanup_error_ ward_error_t err = NULL;
  ok(t && ward_template_compile_ex(t, AT_FDCWD, WARD_TEMPLATE_NO_PROBE, &r, &err) == 0, "compiles");
  if (t == NULL || err)
    return;
  ok(!names_have(r.seccomp, "ptrace") && !names_have(r.seccomp, "setuid") && !names_have(r.seccomp, "setuid32"),
     "complete calls never seen leave the allow-list");
  ok(names_have(r.seccomp, "openat") && names_have(r.seccomp, "connect") && names_have(r.seccomp, "setgid"),
     "everything else of the default stays");
  ok(r.seccomp_denied && strcmp(r.seccomp_denied[0], "ptrace") == 0, "the removed calls are listed");
  is_int(run_seccomp(&r), 1, "under the profile ptrace fails with EPERM, getpid works");
  ward_template_rules_free(&r);

  /* positive control: the same template having seen ptrace */
  _cleanup_template_ struct ward_template *u = load_text("version: 1\napp: x\nsyscalls:\n  seen: [ptrace]\n  complete: [ptrace, setuid]\n");
  ok(u && ward_template_compile_ex(u, AT_FDCWD, WARD_TEMPLATE_NO_PROBE, &r, &err) == 0, "compiles");
  if (u == NULL || err)
    return;
  ok(names_have(r.seccomp, "ptrace"), "a seen call stays");
  is_int(run_seccomp(&r), 0, "and works under the profile");
  /* Docker form: what `ward seccomp convert` reads */
  _cleanup_json_ json_t *docker = ward_template_seccomp_docker(&r);
  struct ward_seccomp *s = NULL;
  ok(docker && ward_seccomp_parse_docker(docker, "export", NULL, &s, &err) == 0, "the export reads as a Docker profile");
  ward_seccomp_free(s);
  ward_template_rules_free(&r);
}

struct ll_arg {
  const struct ward_template_rules *r;
  const char *dir;
};

static int try_open(const char *dir, const char *name, int flags)
{
  char p[512];
  snprintf(p, sizeof(p), "%s/%s", dir, name);
  int fd = open(p, flags | O_CLOEXEC, 0600);
  if (fd < 0)
    return errno;
  close(fd);
  return 0;
}

static int try_connect(uint16_t port)
{
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int r = connect(s, (struct sockaddr *) &a, sizeof(a));
  int e = r < 0 ? errno : 0;
  close(s);
  return e;
}

/* Exit code: one bit per expectation that failed. */
static int landlock_child(void *arg)
{
  struct ll_arg *a = arg;
  char report[256];
  if (ward_landlock_apply(a->r->landlock, report, sizeof(report), NULL) < 0)
    return 255;
  int bad = 0;
  if (try_open(a->dir, "ro/conf", O_RDONLY) != 0)
    bad |= 1;
  if (try_open(a->dir, "ro/new", O_WRONLY | O_CREAT) != EACCES)
    bad |= 2;
  if (try_open(a->dir, "rw/out.9", O_WRONLY | O_CREAT) != 0)
    bad |= 4;
  if (try_open(a->dir, "elsewhere", O_WRONLY | O_CREAT) != EACCES)
    bad |= 8;
  if (try_connect(1) != ECONNREFUSED)   /* learned: reaches the stack, nothing listens */
    bad |= 16;
  if (try_connect(2) != EACCES)
    bad |= 32;
  return bad;
}

static void test_landlock(void)
{
  char dir[] = "/tmp/ward-tpl-ll.XXXXXX";
  ok(mkdtemp(dir) != NULL, "temp dir");
  char p[512];
  snprintf(p, sizeof(p), "%s/ro", dir);
  mkdir(p, 0755);
  snprintf(p, sizeof(p), "%s/rw", dir);
  mkdir(p, 0755);
  snprintf(p, sizeof(p), "%s/ro/conf", dir);
  _cleanup_error_ ward_error_t err = NULL;
  ward_write_file_atomic(p, "x", 1, 0644, &err);
  _cleanup_free_ char *text = NULL;
  ok(asprintf(&text, "version: 1\napp: x\nexec: [/bin/true]\nfiles:\n  read: [%s/ro/conf]\n  write: [\"%s/rw/out.#\"]\n"
                     "network:\n  connect: [\"inet:127.0.0.1:1\"]\n", dir, dir) > 0, "template text");
  _cleanup_template_ struct ward_template *t = load_text(text);
  struct ward_template_rules r;
  ok(t && ward_template_compile_ex(t, AT_FDCWD, WARD_TEMPLATE_NO_PROBE, &r, &err) == 0, "compiles%s%s",
     err ? ": " : "", err ? err->msg : "");
  if (t == NULL || err)
    return;
  snprintf(p, sizeof(p), "%s/ro", dir);
  ok(strv_has_pair(r.landlock_flags, "--ro", p), "read pattern -> --ro on its directory");
  snprintf(p, sizeof(p), "%s/rw", dir);
  ok(strv_has_pair(r.landlock_flags, "--rw", p), "write pattern -> --rw on its directory");
  ok(strv_has_pair(r.landlock_flags, "--exec", "/bin/true"), "exec -> --exec on the file");
  ok(strv_has_pair(r.landlock_flags, "--connect", "1"), "connect port");
  is_int(r.n_connect_ports, 1, "probe connect allow-list");
  ok(r.connect_allowlist && r.connect_ports[0] == 1, "port 1");
  contains(json_string_value(json_object_get(r.landlock_annotations, "run.ward.landlock.rules")), "/ro=ro",
           "annotations");
  if (ward_landlock_abi() >= 4) {
    struct ll_arg a = {.r = &r, .dir = dir};
    is_int(in_child(landlock_child, &a), 0, "Landlock: learned read/write/connect work, others are EACCES");
  } else {
    ok(1, "# SKIP Landlock ABI %d < 4 on this kernel", ward_landlock_abi());
  }
  ward_template_rules_free(&r);

  /* deny entries go to the probe tables; an empty network denies TCP */
  _cleanup_template_ struct ward_template *d =
    load_text("version: 1\napp: x\ndeny:\n  paths: [/etc/shadow]\n  connect: [\"inet:169.254.169.254:80\"]\n");
  ok(d && ward_template_compile_ex(d, AT_FDCWD, 0, &r, &err) == 0, "compiles");
  if (d == NULL || err)
    return;
  ok(r.deny_paths && strcmp(r.deny_paths[0], "/etc/shadow") == 0 && r.deny_paths[1] == NULL, "deny paths");
  ok(r.deny_connect && strcmp(r.deny_connect[0], "inet:169.254.169.254:80") == 0, "deny connect");
  ok(strv_has_pair(r.landlock_flags, "--connect", "none"), "no learned TCP: --connect none");
  ok(strv_has_pair(r.landlock_flags, "--rw", "/run/ward-probe"), "the probe directory by default");
  ward_template_rules_free(&r);
  snprintf(p, sizeof(p), "%s/ro/conf", dir);
  unlink(p);
  snprintf(p, sizeof(p), "%s/rw/out.9", dir);
  unlink(p);
  snprintf(p, sizeof(p), "%s/ro", dir);
  rmdir(p);
  snprintf(p, sizeof(p), "%s/rw", dir);
  rmdir(p);
  rmdir(dir);
}

void test_template_compile(void)
{
  test_seccomp();
  test_landlock();
}
