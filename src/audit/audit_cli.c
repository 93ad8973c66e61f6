/* `ward audit` argument handling and exit status, kept in the library so
 * tests drive the real command without a binary. */
#include "audit/audit.h"
#include "common/cleanup.h"
#include "common/json.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
  fputs("usage: ward audit [--format text|json|sarif] [--fail-on low|medium|high|critical|never]\n"
        "                  [--color auto|always|never] FILE...\n"
        "       ward audit --host [--format text|json] [--fail-on SEVERITY] [--cve-data FILE]\n\n"
        "Finds breakout-enabling misconfigurations in OCI config.json, docker/podman inspect\n"
        "output, Kubernetes manifests and compose files (kind detected per file).\n"
        "Exit status: 0 clean, 1 a finding at or above --fail-on (default high),\n"
        "2 usage error or a file that could not be audited (2 wins over 1).\n", f);
}

static bool want_color(const char *mode, FILE *out)
{
  if (strcmp(mode, "always") == 0)
    return true;
  if (strcmp(mode, "never") == 0)
    return false;
  const char *nc = getenv("NO_COLOR");
  return (nc == NULL || *nc == '\0') && isatty(fileno(out));
}

static int host_main(FILE *out, FILE *errout, enum ward_audit_format fmt, int fail_on, const char *cve_file,
                     bool color)
{
  _cleanup_error_ ward_error_t err = NULL;
  _cleanup_json_ json_t *report = NULL;
  if (ward_audit_host(cve_file, &report, &err) < 0) {
    fprintf(errout, "ward audit: %s\n", err->msg);
    return 2;
  }
  if (fmt == WARD_AUDIT_TEXT) {
    ward_audit_host_render(out, report, color);
  } else {
    json_dumpf(report, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', out);
  }
  enum ward_audit_sev max = ward_audit_host_max_sev(report);
  fflush(out);
  return fail_on != WARD_SEV_NONE && (int) max >= fail_on ? 1 : 0;
}

int ward_audit_main(int argc, char **argv, FILE *out, FILE *errout)
{
  static const struct option opts[] = {
    {"format", required_argument, NULL, 'f'}, {"fail-on", required_argument, NULL, 'F'},
    {"host", no_argument, NULL, 'H'},          {"cve-data", required_argument, NULL, 'D'},
    {"color", required_argument, NULL, 'C'},   {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  enum ward_audit_format fmt = WARD_AUDIT_TEXT;
  int fail_on = WARD_SEV_HIGH;
  bool host = false;
  const char *cve_file = NULL, *color = "auto";
  optind = 0; /* the global options were parsed with getopt already */
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      if (strcmp(optarg, "text") == 0)
        fmt = WARD_AUDIT_TEXT;
      else if (strcmp(optarg, "json") == 0)
        fmt = WARD_AUDIT_JSON;
      else if (strcmp(optarg, "sarif") == 0)
        fmt = WARD_AUDIT_SARIF;
      else {
        fprintf(errout, "ward audit: --format: expected text, json or sarif, not '%s'\n", optarg);
        return 2;
      }
      break;
    case 'F':
      fail_on = ward_audit_sev_parse(optarg);
      if (fail_on < 0) {
        fprintf(errout, "ward audit: --fail-on: expected low, medium, high, critical or never, not '%s'\n", optarg);
        return 2;
      }
      break;
    case 'H': host = true; break;
    case 'D': cve_file = optarg; break;
    case 'C':
      if (strcmp(optarg, "auto") && strcmp(optarg, "always") && strcmp(optarg, "never")) {
        fprintf(errout, "ward audit: --color: expected auto, always or never\n");
        return 2;
      }
      color = optarg;
      break;
    case 'h': usage(out); return 0;
    default:
      fprintf(errout, "ward audit: unknown option or missing argument '%s'\n", argv[optind - 1]);
      usage(errout);
      return 2;
    }
  }
  bool col = want_color(color, out);
  if (host) {
    if (optind < argc || fmt == WARD_AUDIT_SARIF) {
      fprintf(errout, "ward audit: --host takes no files and supports text or json\n");
      return 2;
    }
    return host_main(out, errout, fmt, fail_on, cve_file, col);
  }
  if (optind >= argc) {
    fprintf(errout, "ward audit: no files given\n");
    usage(errout);
    return 2;
  }
  size_t n = (size_t) (argc - optind);
  struct ward_audit_file *files = calloc(n, sizeof(*files));
  if (files == NULL)
    return 2;
  bool failed = false;
  for (size_t i = 0; i < n; i++) {
    if (ward_audit_path(argv[optind + (int) i], &files[i]) < 0) {
      failed = true;
      /* Machine formats carry the error inside; say it on stderr too so a
       * pipeline into a file does not swallow it. */
      if (fmt != WARD_AUDIT_TEXT)
        fprintf(errout, "ward audit: %s\n", files[i].error ? files[i].error : files[i].path);
    }
  }
  int rc = ward_audit_render(out, fmt, files, n, col) < 0 ? 2 : 0;
  enum ward_audit_sev max = ward_audit_max_sev(files, n);
  if (rc == 0 && fail_on != WARD_SEV_NONE && (int) max >= fail_on)
    rc = 1;
  if (failed)
    rc = 2;
  for (size_t i = 0; i < n; i++)
    ward_audit_file_clear(&files[i]);
  free(files);
  fflush(out);
  return rc;
}
