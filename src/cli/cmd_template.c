/* ward template: show, diff, merge, learn (offline, from `ward events
 * --json`), check (offline monitor) and export (seccomp profile, Landlock
 * flags or annotations) of behavioural templates. The work is in
 * src/agent/template*.c. */
#include "agent/template.h"
#include "cli/commands.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
  fprintf(out,
          "usage: ward template show FILE\n"
          "       ward template diff A B                 (exit 1 when they differ)\n"
          "       ward template merge A B... -o OUT\n"
          "       ward template learn --events EVENTS.jsonl [--app NAME] [--exec PATH]...\n"
          "                           [--rootfs DIR] [--complete LIST|none] -o OUT\n"
          "       ward template check TEMPLATE --events EVENTS.jsonl   (exit 1 on deviations)\n"
          "       ward template export --seccomp [-o OUT] FILE\n"
          "       ward template export --landlock [--annotations] [--rootfs DIR] [--no-probe] FILE\n\n"
          "Templates are JSON, or YAML when the file name ends in .yaml/.yml\n"
          "(docs/templates.md). learn reads `ward events --json` lines ('-' is stdin);\n"
          "--exec adds executables no probe saw start (the first is the entry point,\n"
          "pid 1), --rootfs hashes\n"
          "executables inside DIR and, for export, keeps Landlock rules to paths there;\n"
          "--no-probe drops the rule for the probe's directory (containers without probes).\n");
}

static void freep_file(FILE **f)
{
  if (*f && *f != stdin)
    fclose(*f);
}

static int open_in_root(int root_fd, const char *path)
{
  if (root_fd < 0)
    return -1;
  return ward_open_in_root(root_fd, path, O_RDONLY, 0);
}

struct event_loop {
  const char *path;
  int root_fd;
  struct ward_template *t;
  struct ward_template_tracker *tr;
  size_t deviations;
};

/* Calls learn or check for every event line; errors name FILE:LINE. */
static int each_event(struct event_loop *l, bool learn, ward_error_t *err)
{
  _cleanup_(freep_file) FILE *f = strcmp(l->path, "-") == 0 ? stdin : fopen(l->path, "re");
  if (f == NULL)
    return ward_error_sys(err, "%s", l->path);
  _cleanup_free_ char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  struct ward_event *ev = malloc(sizeof(*ev));
  if (ev == NULL)
    return ward_error(err, ENOMEM, "events");
  _cleanup_free_ struct ward_event *evp = ev;
  for (unsigned long lineno = 1; (n = getline(&line, &cap, f)) >= 0; lineno++) {
    size_t k = 0;
    while (k < (size_t) n && (line[k] == ' ' || line[k] == '\t' || line[k] == '\n' || line[k] == '\r'))
      k++;
    if (k == (size_t) n)
      continue;
    _cleanup_json_ json_t *o = NULL;
    json_error_t jerr;
    o = json_loadb(line, (size_t) n, 0, &jerr);
    if (o == NULL)
      return ward_error(err, 0, "%s:%lu: invalid JSON: %s", l->path, lineno, jerr.text);
    if (ward_template_event_from_json(o, ev, err) < 0)
      return ward_error_prefix(err, "%s:%lu", l->path, lineno);
    if (learn) {
      _cleanup_close_ int fd = -1;
      if ((ev->type == WARD_EV_EXEC || ev->type == WARD_EV_SPAWN) && ev->ret >= 0)
        fd = open_in_root(l->root_fd, ev->path);
      ward_template_learn_tracked(l->t, l->tr, ev, fd);
      continue;
    }
    struct ward_deviation dev;
    if (ward_template_check_tracked(l->t, l->tr, ev, &dev) == 1) {
      l->deviations++;
      printf("%s %s: %s (seq %llu, pid %u)\n", ward_severity_name(dev.severity), dev.rule, dev.detail,
             (unsigned long long) ev->seq, ev->pid);
    }
  }
  if (ferror(f))
    return ward_error_sys(err, "%s", l->path);
  return 0;
}

static int do_learn(int argc, char **argv, ward_error_t *err)
{
  static const struct option opts[] = {
    {"events", required_argument, NULL, 'e'}, {"app", required_argument, NULL, 'a'},
    {"exec", required_argument, NULL, 'x'}, {"rootfs", required_argument, NULL, 'r'},
    {"complete", required_argument, NULL, 'c'}, {"output", required_argument, NULL, 'o'},
    {NULL, 0, NULL, 0},
  };
  const char *events = NULL, *app = "app", *rootfs = NULL, *complete = NULL, *output = NULL;
  _cleanup_strv_ char **execs = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
    switch (c) {
    case 'e': events = optarg; break;
    case 'a': app = optarg; break;
    case 'x':
      if (optarg[0] != '/')
        return ward_error(err, 0, "--exec: %s is not an absolute path", optarg);
      if (ward_strv_append(&execs, optarg) < 0)
        return ward_error(err, ENOMEM, "--exec");
      break;
    case 'r': rootfs = optarg; break;
    case 'c': complete = optarg; break;
    case 'o': output = optarg; break;
    default: return 2;
    }
  }
  if (events == NULL || output == NULL || optind != argc)
    return 2;
  _cleanup_close_ int root_fd = -1;
  if (rootfs && (root_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    return ward_error_sys(err, "--rootfs %s", rootfs);
  _cleanup_template_ struct ward_template *t = ward_template_new(app);
  struct ward_template_tracker *tr = ward_template_tracker_new();
  if (t == NULL || tr == NULL) {
    ward_template_tracker_free(tr);
    return ward_error(err, ENOMEM, "template");
  }
  /* the first --exec is the entry point: pid 1's image */
  if (execs && ward_template_tracker_set_exe(tr, 1, execs[0]) < 0) {
    ward_template_tracker_free(tr);
    return ward_error(err, ENOMEM, "template");
  }
  struct event_loop l = {.path = events, .root_fd = root_fd, .t = t, .tr = tr};
  int rc = each_event(&l, true, err);
  ward_template_tracker_free(tr);
  if (rc < 0)
    return -1;
  for (size_t i = 0; execs && execs[i]; i++) {
    char hex[65] = "";
    _cleanup_close_ int fd = open_in_root(root_fd, execs[i]);
    _cleanup_error_ ward_error_t ignored = NULL;
    if (fd >= 0 && ward_sha256_fd(fd, 0, hex, &ignored) < 0)
      hex[0] = '\0';
    if (ward_template_add_exec(t, execs[i], hex[0] ? hex : NULL) < 0)
      return ward_error(err, ENOMEM, "--exec");
  }
  if (complete) {
    _cleanup_strv_ char **names = NULL;
    _cleanup_free_ char *copy = strdup(complete);
    char *save = NULL;
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save))
      if (strcmp(tok, "none") != 0 && ward_strv_append(&names, tok) < 0)
        return ward_error(err, ENOMEM, "--complete");
    if (ward_template_set_complete(t, (const char *const *) names) < 0)
      return ward_error(err, ENOMEM, "--complete");
  }
  return ward_template_save(t, output, err);
}

static int do_check(int argc, char **argv, ward_error_t *err)
{
  static const struct option opts[] = {{"events", required_argument, NULL, 'e'}, {NULL, 0, NULL, 0}};
  const char *events = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c != 'e')
      return 2;
    events = optarg;
  }
  if (events == NULL || optind + 1 != argc)
    return 2;
  _cleanup_template_ struct ward_template *t = NULL;
  if (ward_template_load(argv[optind], &t, err) < 0)
    return -1;
  struct ward_template_tracker *tr = ward_template_tracker_new();
  if (tr == NULL)
    return ward_error(err, ENOMEM, "template");
  struct event_loop l = {.path = events, .root_fd = -1, .t = t, .tr = tr};
  int rc = each_event(&l, false, err);
  ward_template_tracker_free(tr);
  if (rc < 0)
    return -1;
  return l.deviations ? 1 : 0;
}

static int write_out(const char *output, const char *text, ward_error_t *err)
{
  if (output)
    return ward_write_file_atomic(output, text, strlen(text), 0644, err);
  if (fputs(text, stdout) == EOF || fflush(stdout) != 0)
    return ward_error_sys(err, "writing to standard output");
  return 0;
}

static int do_export(int argc, char **argv, ward_error_t *err)
{
  static const struct option opts[] = {
    {"seccomp", no_argument, NULL, 's'}, {"landlock", no_argument, NULL, 'l'},
    {"annotations", no_argument, NULL, 'a'}, {"rootfs", required_argument, NULL, 'r'},
    {"output", required_argument, NULL, 'o'}, {"no-probe", no_argument, NULL, 'n'}, {NULL, 0, NULL, 0},
  };
  bool seccomp = false, landlock = false, annotations = false;
  unsigned flags = 0;
  const char *output = NULL, *rootfs = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
    switch (c) {
    case 's': seccomp = true; break;
    case 'l': landlock = true; break;
    case 'a': annotations = true; break;
    case 'r': rootfs = optarg; break;
    case 'o': output = optarg; break;
    case 'n': flags |= WARD_TEMPLATE_NO_PROBE; break;
    default: return 2;
    }
  }
  if (seccomp == landlock || optind + 1 != argc || (annotations && !landlock))
    return 2;
  _cleanup_template_ struct ward_template *t = NULL;
  if (ward_template_load(argv[optind], &t, err) < 0)
    return -1;
  _cleanup_close_ int root_fd = AT_FDCWD;
  if (rootfs && (root_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    return ward_error_sys(err, "--rootfs %s", rootfs);
  struct ward_template_rules r;
  if (ward_template_compile_ex(t, root_fd, flags, &r, err) < 0)
    return -1;
  _cleanup_free_ char *text = NULL;
  if (seccomp) {
    _cleanup_json_ json_t *doc = ward_template_seccomp_docker(&r);
    char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (s && asprintf(&text, "%s\n", s) < 0)
      text = NULL;
    free(s);
  } else if (annotations) {
    char *s = json_dumps(r.landlock_annotations, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s && asprintf(&text, "%s\n", s) < 0)
      text = NULL;
    free(s);
  } else {
    /* one flag or value a line: `mapfile -t` or `xargs -d '\n'` keep paths whole */
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    for (size_t i = 0; m && r.landlock_flags && r.landlock_flags[i]; i++)
      fprintf(m, "%s\n", r.landlock_flags[i]);
    if (m)
      fclose(m);
  }
  ward_template_rules_free(&r);
  if (text == NULL)
    return ward_error(err, ENOMEM, "export");
  return write_out(output, text, err);
}

static int do_merge(int argc, char **argv, ward_error_t *err)
{
  const char *output = NULL;
  int c;
  while ((c = getopt(argc, argv, "o:")) != -1) {
    if (c != 'o')
      return 2;
    output = optarg;
  }
  if (output == NULL || argc - optind < 1)
    return 2;
  _cleanup_template_ struct ward_template *all = NULL;
  for (int i = optind; i < argc; i++) {
    _cleanup_template_ struct ward_template *t = NULL;
    if (ward_template_load(argv[i], &t, err) < 0)
      return -1;
    if (all == NULL)
      all = steal_pointer(&t);
    else if (ward_template_merge(all, t, err) < 0)
      return ward_error_prefix(err, "%s", argv[i]);
  }
  return ward_template_save(all, output, err);
}

int cmd_template(struct ward_global *g, int argc, char **argv)
{
  (void) g;
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char *sub = argv[1];
  _cleanup_error_ ward_error_t err = NULL;
  int rc;
  optind = 0;  /* 0: a full reset of GNU getopt, which main already ran */
  if (strcmp(sub, "show") == 0 || strcmp(sub, "diff") == 0) {
    bool diff = sub[0] == 'd';
    if (argc != (diff ? 4 : 3))
      return cli_usage_error(argv[0], diff ? "diff takes two files" : "show takes one file");
    _cleanup_template_ struct ward_template *a = NULL, *b = NULL;
    if (ward_template_load(argv[2], &a, &err) < 0 || (diff && ward_template_load(argv[3], &b, &err) < 0))
      return cli_fail(&err);
    if (!diff) {
      ward_template_show(a, stdout);
      return 0;
    }
    return ward_template_diff(a, b, stdout) ? 1 : 0;
  } else if (strcmp(sub, "merge") == 0) {
    rc = do_merge(argc - 1, argv + 1, &err);
  } else if (strcmp(sub, "learn") == 0) {
    rc = do_learn(argc - 1, argv + 1, &err);
  } else if (strcmp(sub, "check") == 0) {
    rc = do_check(argc - 1, argv + 1, &err);
  } else if (strcmp(sub, "export") == 0) {
    rc = do_export(argc - 1, argv + 1, &err);
  } else {
    return cli_usage_error(argv[0], "unknown subcommand '%s' (show, diff, merge, learn, check, export)", sub);
  }
  if (rc == 2)
    return cli_usage_error(argv[0], "%s: bad arguments (see ward template --help)", sub);
  if (rc < 0)
    return cli_fail(&err);
  return rc;
}
