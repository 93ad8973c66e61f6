/* `ward seccomp convert` and `check`, driven through cmd_seccomp() with the
 * CLI's two helpers stubbed (main.c is not linked into unit tests). */
#include "cli/commands.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "seccomp/seccomp.h"
#include "tap.h"

#include <getopt.h>
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void test_seccomp_cli(const char *data_dir);

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "# ward %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  return 2;
}

int cli_fail(void *errp)
{
  ward_error_t *err = errp;
  fprintf(stderr, "# ward: %s\n", *err ? (*err)->msg : "?");
  ward_error_free(err);
  return 1;
}

/* The command's own stdout would corrupt the TAP stream: send it away. */
static int run(int argc, const char **argv)
{
  optind = 0;  /* as main() does before a command */
  fflush(stdout);
  int saved = dup(STDOUT_FILENO);
  int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  dup2(devnull, STDOUT_FILENO);
  int rc = cmd_seccomp(NULL, argc, (char **) argv);
  fflush(stdout);
  dup2(saved, STDOUT_FILENO);
  close(saved);
  close(devnull);
  return rc;
}

void test_seccomp_cli(const char *data_dir)
{
  char out[] = "/tmp/ward-seccomp-cli-XXXXXX";
  int fd = mkstemp(out);
  close(fd);
  char profile[4200];
  snprintf(profile, sizeof(profile), "%s/docker-conditional.json", data_dir);

  const char *conv[] = {"seccomp", "convert", profile, "--caps", "CAP_SYS_ADMIN", "-o", out};
  is_int(run(7, conv), 0, "ward seccomp convert PROFILE --caps CAP_SYS_ADMIN -o FILE");
  _cleanup_error_ ward_error_t err = NULL;
  _cleanup_json_ json_t *doc = NULL;
  struct ward_seccomp *s = NULL;
  ok(wj_load_file(out, 0, &doc, &err) == 0 && ward_seccomp_parse_oci(doc, "out", &s, &err) == 0,
     "its output is a valid OCI section");
  _cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
  contains(text, "\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ALLOW\"", "resolved for the capabilities given");
  ward_seccomp_free(s);

  const char *def[] = {"seccomp", "convert", "--default", "--caps", "none", "--arch", "arm64", "-o", out};
  is_int(run(9, def), 0, "ward seccomp convert --default --arch arm64");
  json_decref(doc);
  doc = NULL;
  ok(wj_load_file(out, 0, &doc, &err) == 0, "default written");
  free(text);
  text = json_dumps(doc, JSON_COMPACT);
  contains(text, "\"SCMP_ARCH_AARCH64\"", "for arm64");

  if (access("/usr/share/containers/seccomp.json", R_OK) == 0) {
    const char *cc[] = {"seccomp", "check", "/usr/share/containers/seccomp.json"};
    is_int(run(3, cc), 0, "ward seccomp check containers-common's profile");
  }
  const char *bad_caps[] = {"seccomp", "convert", profile, "--caps", "CAP_FLY"};
  is_int(run(5, bad_caps), 1, "unknown capability: exit 1");
  const char *bad_arch[] = {"seccomp", "convert", profile, "--arch", "z80"};
  is_int(run(5, bad_arch), 1, "unknown architecture: exit 1");
  const char *missing[] = {"seccomp", "convert", "/nonexistent/profile.json"};
  is_int(run(3, missing), 1, "missing profile: exit 1");
  const char *none[] = {"seccomp", "convert"};
  is_int(run(2, none), 2, "no profile: usage error");
  const char *sub[] = {"seccomp", "frobnicate"};
  is_int(run(2, sub), 2, "unknown subcommand: usage error");
  unlink(out);
}
