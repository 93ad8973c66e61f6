/* ward snapshot ID [-o FILE] [--every SECONDS [--keep K]] [--criu]
 *                  [--max-bytes N] [--max-seconds S] [--events N] [--template FILE] [--json]
 * ward snapshot show FILE [--json] */
#include "agent/snapshot.h"
#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void) sig; stop = 1; }

static void usage(FILE *out)
{
  fprintf(out, "usage: ward snapshot ID [OPTIONS]\n"
               "       ward snapshot show FILE [--json]\n\n"
               "  -o, --output FILE    the archive (default ./ward-snapshot-ID-TIME.tar); with --every, a directory\n"
               "  --every SECONDS      take one every SECONDS until the container stops or ^C\n"
               "  --keep K             with --every: keep the last K archives (default 5)\n"
               "  --criu               add a CRIU checkpoint (criu dump --leave-running)\n"
               "  --max-bytes N        bound the archive's content (default 64m)\n"
               "  --max-seconds S      bound the collection time (default 10)\n"
               "  --events N           flight recorder events to include (default 1000)\n"
               "  --template FILE      include this template\n"
               "  --json               print the report (or, for show, the manifest) as JSON\n");
}

static int show(int argc, char **argv)
{
  bool json = false;
  const char *file = NULL;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0)
      json = true;
    else if (file == NULL)
      file = argv[i];
    else
      return cli_usage_error("snapshot show", "unexpected argument \"%s\"", argv[i]);
  }
  if (file == NULL)
    return cli_usage_error("snapshot show", "expects a snapshot archive");
  ward_error_t err = NULL;
  json_t *m = NULL;
  if (ward_snapshot_read_manifest(file, &m, &err) < 0)
    return cli_error(&err);
  if (json)
    return cli_print_json(m, 1);
  ward_snapshot_print(stdout, m);
  json_decref(m);
  return 0;
}

static char *stamp(void)
{
  char buf[32];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  strftime(buf, sizeof(buf), "%Y%m%dT%H%M%S", &tm);
  char *out = NULL;
  return asprintf(&out, "%s.%03ldZ", buf, ts.tv_nsec / 1000000) < 0 ? NULL : out;
}

static void print_report(json_t *r)
{
  printf("%s: %lld bytes, %lld entries, %lld processes, %lld left out, %.2f s\n", json_string_value(json_object_get(r, "path")),
         (long long) json_integer_value(json_object_get(r, "bytes")),
         (long long) json_integer_value(json_object_get(r, "entries")),
         (long long) json_integer_value(json_object_get(r, "processes")),
         (long long) json_integer_value(json_object_get(r, "skipped")), json_real_value(json_object_get(r, "seconds")));
}

int cmd_snapshot(struct ward_global *g, int argc, char **argv)
{
  if (argc >= 2 && strcmp(argv[1], "show") == 0)
    return show(argc, argv);
  static const struct option opts[] = {
    {"output", required_argument, NULL, 'o'}, {"every", required_argument, NULL, 'e'},
    {"keep", required_argument, NULL, 'k'}, {"criu", no_argument, NULL, 'c'},
    {"max-bytes", required_argument, NULL, 'b'}, {"max-seconds", required_argument, NULL, 's'},
    {"events", required_argument, NULL, 'n'}, {"template", required_argument, NULL, 't'},
    {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
  };
  struct ward_snapshot_opts o = {0};
  const char *output = NULL;
  unsigned long every = 0, keep = 5;
  bool json = false;
  int c;
  char *end;
  while ((c = getopt_long(argc, argv, "o:jh", opts, NULL)) != -1) {
    switch (c) {
    case 'o': output = optarg; break;
    case 'e':
      every = strtoul(optarg, &end, 10);
      if (*end || every == 0 || every > 86400)
        return cli_usage_error(argv[0], "--every: \"%s\" is not a number of seconds (1..86400)", optarg);
      break;
    case 'k':
      keep = strtoul(optarg, &end, 10);
      if (*end || keep == 0 || keep > 10000)
        return cli_usage_error(argv[0], "--keep: \"%s\" is not a count (1..10000)", optarg);
      break;
    case 'c': o.criu = true; break;
    case 'b':
      if (ward_parse_size(optarg, &o.max_bytes) < 0 || o.max_bytes < 4096)
        return cli_usage_error(argv[0], "--max-bytes: \"%s\" is not a size of at least 4k", optarg);
      break;
    case 's': {
      unsigned long v = strtoul(optarg, &end, 10);
      if (*end || v == 0 || v > 3600)
        return cli_usage_error(argv[0], "--max-seconds: \"%s\" is not a number of seconds (1..3600)", optarg);
      o.max_seconds = (uint32_t) v;
      break;
    }
    case 'n': {
      unsigned long v = strtoul(optarg, &end, 10);
      if (*end || v == 0 || v > 1000000)
        return cli_usage_error(argv[0], "--events: \"%s\" is not a count (1..1000000)", optarg);
      o.events = (uint32_t) v;
      break;
    }
    case 't': o.template_path = optarg; break;
    case 'j': json = true; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (argc - optind != 1)
    return cli_usage_error(argv[0], "expects one container id");
  const char *id = argv[optind];
  ward_error_t err = NULL;
  if (every == 0) {
    _cleanup_free_ char *def = NULL, *ts = stamp();
    if (output == NULL && asprintf(&def, "ward-snapshot-%s-%s.tar", id, ts ? ts : "now") < 0)
      return 1;
    json_t *report = NULL;
    if (ward_snapshot_take(cli_root(g), id, output ? output : def, &o, &report, &err) < 0)
      return cli_error(&err);
    if (json)
      return cli_print_json(report, 1);
    print_report(report);
    json_decref(report);
    return 0;
  }
  /* periodic: rotate, keeping the last `keep` archives of this run */
  const char *dir = output ? output : ".";
  if (ward_mkdir_p(dir, 0700, &err) < 0)
    return cli_error(&err);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  _cleanup_strv_ char **made = calloc(1, sizeof(char *));
  size_t taken = 0;
  while (!stop) {
    _cleanup_free_ char *ts = stamp(), *path = NULL;
    if (asprintf(&path, "%s/%s-%s.tar", dir, id, ts ? ts : "now") < 0)
      return 1;
    json_t *report = NULL;
    if (ward_snapshot_take(cli_root(g), id, path, &o, &report, &err) < 0) {
      if (taken > 0 && err->errnum == ESRCH) {
        fprintf(stderr, "ward snapshot: %s\n", err->msg);
        ward_error_free(&err);
        return 0;
      }
      return cli_error(&err);
    }
    taken++;
    if (json) {
      _cleanup_free_ char *s = json_dumps(report, JSON_COMPACT);
      puts(s ? s : "{}");
    } else {
      print_report(report);
    }
    json_decref(report);
    fflush(stdout);
    if (ward_strv_append(&made, path) < 0)
      return 1;
    while (ward_strv_len(made) > keep) {
      unlink(made[0]);
      free(made[0]);
      memmove(made, made + 1, ward_strv_len(made) * sizeof(char *));
    }
    for (unsigned long t = 0; t < every * 10 && !stop; t++)
      usleep(100000);
  }
  return 0;
}
