/* ward model train|score|eval|detect: the detector's models offline.
 *
 *   ward model train [-n N] [--window W] [--margin M] [--percentile P] DIR... -o MODEL
 *   ward model score MODEL FILE|DIR...        one line per trace: "SCORE FILE"
 *   ward model eval MODEL --normal DIR --abnormal DIR   ROC AUC, detection at 5 % false alarms
 *   ward model detect [--model MODEL] [--learn -o MODEL] EVENTS.jsonl   detections as JSON lines */
#include "agent/detect.h"
#include "agent/detect_event_json.h"
#include "agent/model.h"
#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/json.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *out)
{
  fprintf(out, "usage: ward model train [-n N] [--window W] [--margin M] [--percentile P] DIR... -o MODEL\n"
               "       ward model score MODEL FILE|DIR...\n"
               "       ward model eval MODEL --normal DIR... --abnormal DIR...\n"
               "       ward model detect [--model MODEL] [--learn -o MODEL] EVENTS.jsonl\n");
}

static int parse_double(const char *cmd, const char *flag, const char *arg, double *out)
{
  char *end;
  double v = strtod(arg, &end);
  if (*arg == 0 || *end || !isfinite(v))
    return cli_usage_error(cmd, "%s: \"%s\" is not a number", flag, arg);
  *out = v;
  return 0;
}

static int model_train(int argc, char **argv)
{
  static const struct option opts[] = {
    {"output", required_argument, NULL, 'o'}, {"n", required_argument, NULL, 'n'},
    {"window", required_argument, NULL, 'w'}, {"margin", required_argument, NULL, 'm'},
    {"percentile", required_argument, NULL, 'p'}, {NULL, 0, NULL, 0},
  };
  struct ward_seq_params p = {0};
  const char *out = NULL;
  double v = 0;
  int c;
  while ((c = getopt_long(argc, argv, "o:n:w:m:p:", opts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 'n': if (parse_double("model train", "-n", optarg, &v)) return 2; p.n = (unsigned) v; break;
    case 'w': if (parse_double("model train", "--window", optarg, &v)) return 2; p.window = (unsigned) v; break;
    case 'm': if (parse_double("model train", "--margin", optarg, &p.margin)) return 2; break;
    case 'p': if (parse_double("model train", "--percentile", optarg, &p.percentile)) return 2; break;
    default: usage(stderr); return 2;
    }
  }
  if (out == NULL || optind >= argc)
    return cli_usage_error("model train", "expects trace directories and -o MODEL");
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_seq_model *m = NULL;
  if (ward_seq_model_new(&p, &m, &err) < 0)
    return cli_fail(&err);
  struct ward_trace_set set = {0};
  int rc = 0;
  for (int i = optind; i < argc && rc == 0; i++)
    rc = ward_trace_read_dir(m, true, argv[i], &set, &err);
  if (rc == 0 && set.n == 0)
    rc = ward_error(&err, 0, "no trace files in the given directories");
  for (size_t i = 0; rc == 0 && i < set.n; i++)
    ward_seq_model_learn(m, set.ids[i], set.len[i]);
  if (rc == 0)
    rc = ward_seq_model_calibrate(m, &set, &err);
  if (rc == 0)
    rc = ward_seq_model_save(m, out, &err);
  if (rc == 0)
    fprintf(stderr, "ward model: %zu traces, %zu n-grams, threshold %.4f -> %s\n", set.n,
            ward_seq_model_grams(m), ward_seq_model_threshold(m), out);
  ward_trace_set_free(&set);
  ward_seq_model_free(m);
  return rc < 0 ? cli_fail(&err) : 0;
}

/* Scores FILE, or every regular file of a directory; scores[] grows. */
static int score_path(struct ward_seq_model *m, const char *path, bool print, double **scores, size_t *n,
                      size_t *cap, ward_error_t *err)
{
  struct stat st;
  if (stat(path, &st) < 0)
    return ward_error(err, errno, "%s", path);
  struct ward_trace_set set = {0};
  int rc;
  if (S_ISDIR(st.st_mode)) {
    rc = ward_trace_read_dir(m, false, path, &set, err);
  } else {
    uint16_t *ids = NULL;
    size_t len = 0;
    rc = ward_trace_read_file(m, false, path, &ids, &len, err);
    if (rc == 0 && ward_trace_set_add(&set, path, ids, len) < 0) {
      free(ids);
      rc = ward_error(err, ENOMEM, "%s", path);
    }
  }
  for (size_t i = 0; rc == 0 && i < set.n; i++) {
    double s = ward_seq_model_score(m, set.ids[i], set.len[i]);
    if (print)
      printf("%.6f %s\n", s, set.name[i]);
    if (scores) {
      if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        double *b = realloc(*scores, *cap * sizeof(double));
        if (b == NULL) {
          rc = ward_error(err, ENOMEM, "scores");
          break;
        }
        *scores = b;
      }
      (*scores)[(*n)++] = s;
    }
  }
  ward_trace_set_free(&set);
  return rc;
}

static int model_score(int argc, char **argv)
{
  if (argc < 3)
    return cli_usage_error("model score", "expects MODEL FILE...");
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_seq_model *m = NULL;
  if (ward_seq_model_load(argv[1], &m, &err) < 0)
    return cli_fail(&err);
  int status = 0;
  for (int i = 2; i < argc; i++)
    if (score_path(m, argv[i], true, NULL, NULL, NULL, &err) < 0) {
      ward_error_report(&err);   /* the others still get scored */
      status = 1;
    }
  ward_seq_model_free(m);
  return status;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* ROC AUC as the Mann-Whitney statistic: the probability that an abnormal
 * trace outscores a normal one, ties counting half. */
static double auc(double *neg, size_t nn, double *pos, size_t np)
{
  qsort(neg, nn, sizeof(double), cmp_double);
  double sum = 0;
  for (size_t i = 0; i < np; i++) {
    size_t lo = 0, hi = nn;
    while (lo < hi) {   /* first neg >= pos[i] */
      size_t mid = (lo + hi) / 2;
      if (neg[mid] < pos[i]) lo = mid + 1; else hi = mid;
    }
    size_t below = lo, eq = 0;
    while (lo + eq < nn && neg[lo + eq] == pos[i])
      eq++;
    sum += (double) below + 0.5 * (double) eq;
  }
  return sum / ((double) nn * (double) np);
}

static int model_eval(int argc, char **argv)
{
  static const struct option opts[] = {
    {"normal", required_argument, NULL, 'n'}, {"abnormal", required_argument, NULL, 'a'},
    {"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0},
  };
  _cleanup_strv_ char **normal = NULL, **abnormal = NULL;
  size_t nn_dirs = 0, na_dirs = 0;
  bool json = false;
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    char ***v = c == 'n' ? &normal : &abnormal;
    size_t *k = c == 'n' ? &nn_dirs : &na_dirs;
    if (c == 'j') {
      json = true;
      continue;
    }
    if (c != 'n' && c != 'a') {
      usage(stderr);
      return 2;
    }
    char **b = realloc(*v, (*k + 2) * sizeof(char *));
    if (b == NULL)
      return 1;
    *v = b;
    b[(*k)++] = strdup(optarg);
    b[*k] = NULL;
  }
  if (optind + 1 != argc || !nn_dirs || !na_dirs)
    return cli_usage_error("model eval", "expects MODEL --normal DIR... --abnormal DIR...");
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_seq_model *m = NULL;
  if (ward_seq_model_load(argv[optind], &m, &err) < 0)
    return cli_fail(&err);
  _cleanup_free_ double *neg = NULL, *pos = NULL;
  size_t nn = 0, np = 0, cn = 0, cp = 0;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < nn_dirs; i++)
    rc = score_path(m, normal[i], false, &neg, &nn, &cn, &err);
  for (size_t i = 0; rc == 0 && i < na_dirs; i++)
    rc = score_path(m, abnormal[i], false, &pos, &np, &cp, &err);
  double thr = ward_seq_model_threshold(m);
  ward_seq_model_free(m);
  if (rc < 0)
    return cli_fail(&err);
  if (nn == 0 || np == 0)
    return ward_error(&err, 0, "eval needs at least one normal and one abnormal trace"), cli_fail(&err);
  double a = auc(neg, nn, pos, np);   /* sorts neg */
  /* the operating point at <= 5 % false alarms: threshold = the score that
   * at most 5 % of normal traces exceed */
  size_t allowed = (size_t) floor(0.05 * (double) nn);
  double t5 = neg[nn - 1 - allowed];
  size_t det5 = 0, det_thr = 0, fa_thr = 0;
  for (size_t i = 0; i < np; i++) {
    det5 += pos[i] > t5;
    det_thr += pos[i] > thr;
  }
  size_t fa5 = 0;
  for (size_t i = 0; i < nn; i++) {
    fa5 += neg[i] > t5;
    fa_thr += neg[i] > thr;
  }
  if (json) {
    json_t *j = json_pack("{s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "normal", (json_int_t) nn, "abnormal",
                          (json_int_t) np, "auc", a, "threshold_5pct", t5, "detection_at_5pct", (double) det5 / np,
                          "false_alarms_at_5pct", (double) fa5 / nn, "threshold", thr, "detection_at_threshold",
                          (double) det_thr / np, "false_alarms_at_threshold", (double) fa_thr / nn);
    return cli_print_json(j, 0);
  }
  printf("normal traces:   %zu\nabnormal traces: %zu\nROC AUC:         %.4f\n", nn, np, a);
  printf("at <= 5%% false alarms (score > %.4f): detection %.1f%%, false alarms %.1f%%\n", t5, 100.0 * det5 / np,
         100.0 * fa5 / nn);
  printf("at the model's threshold (%.4f): detection %.1f%%, false alarms %.1f%%\n", thr, 100.0 * det_thr / np,
         100.0 * fa_thr / nn);
  return 0;
}

struct detect_ctx { struct ward_detector *d; size_t n; bool failed; };

static void print_detection(void *opaque, const struct ward_event *ev, const struct ward_detection *det)
{
  struct detect_ctx *c = opaque;
  _cleanup_json_ json_t *j = ward_detection_to_json(ev, det);
  _cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
  if (s == NULL) {
    c->failed = true;
    return;
  }
  puts(s);
  c->n++;
}

static void detect_sink(void *opaque, const struct ward_event *ev)
{
  struct detect_ctx *c = opaque;
  ward_detector_event(c->d, ev, print_detection, c);
}

static int model_detect(int argc, char **argv)
{
  static const struct option opts[] = {
    {"model", required_argument, NULL, 'm'}, {"learn", no_argument, NULL, 'l'},
    {"output", required_argument, NULL, 'o'}, {NULL, 0, NULL, 0},
  };
  const char *model = NULL, *out = NULL;
  bool learn = false;
  int c;
  while ((c = getopt_long(argc, argv, "+m:lo:", opts, NULL)) != -1) {
    switch (c) {
    case 'm': model = optarg; break;
    case 'l': learn = true; break;
    case 'o': out = optarg; break;
    default: usage(stderr); return 2;
    }
  }
  if (optind + 1 != argc || (learn && out == NULL))
    return cli_usage_error("model detect", "expects EVENTS.jsonl (and -o MODEL with --learn)");
  _cleanup_error_ ward_error_t err = NULL;
  _cleanup_json_ json_t *mj = NULL;
  if (model && wj_load_file(model, 256u << 20, &mj, &err) < 0)
    return cli_fail(&err);
  /* a template: its "model" section */
  json_t *section = mj && json_object_get(mj, "model") ? json_object_get(mj, "model") : mj;
  struct detect_ctx ctx = {0};
  struct ward_detect_config cfg = {.root_fd = -1, .model = section, .learn = learn};
  if (ward_detector_new(&cfg, &ctx.d, &err) < 0)
    return ward_error_prefix(&err, "%s", model), cli_fail(&err);
  const char *in = argv[optind];
  _cleanup_fclose_ FILE *f = strcmp(in, "-") == 0 ? NULL : fopen(in, "re");
  if (strcmp(in, "-") != 0 && f == NULL) {
    ward_detector_free(ctx.d);
    return ward_error(&err, errno, "%s", in), cli_fail(&err);
  }
  int rc = ward_event_read_jsonl(f ? f : stdin, in, detect_sink, &ctx, &err);
  if (rc == 0 && learn) {
    _cleanup_json_ json_t *lm = ward_detector_model(ctx.d);
    if (lm == NULL || json_dump_file(lm, out, JSON_COMPACT | JSON_SORT_KEYS) < 0)
      rc = ward_error(&err, errno, "%s", out);
  }
  ward_detector_free(ctx.d);
  fflush(stdout);
  if (rc < 0)
    return cli_fail(&err);
  return ctx.failed ? 1 : 0;
}

int cmd_model(struct ward_global *g, int argc, char **argv)
{
  (void) g;
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char *sub = argv[1];
  argc--;
  argv++;
  optind = 0;   /* 0: GNU getopt reinitialises (main parsed the global options) */
  if (strcmp(sub, "train") == 0)
    return model_train(argc, argv);
  if (strcmp(sub, "score") == 0)
    return model_score(argc, argv);
  if (strcmp(sub, "eval") == 0)
    return model_eval(argc, argv);
  if (strcmp(sub, "detect") == 0)
    return model_detect(argc, argv);
  return cli_usage_error("model", "unknown subcommand \"%s\" (train, score, eval, detect)", sub);
}
