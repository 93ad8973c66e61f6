/* ward top [--interval MS] [--count N] [--ring PATH] ID
 *
 * Per-call counts and latency histograms from the perf group: every call
 * made with perf on is counted (its own event's record, or a call_time
 * record when its group is off), and the ones perf timed (all of them, or
 * one in N with `ward probe on --perf-every N`) are binned by interposed
 * call into power-of-two nanosecond buckets. Shares ring lookup with
 * `ward events`. */
#include "cli/commands.h"
#include "common/cleanup.h"
#include "common/util.h"
#include "probe/calls.h"
#include "probe/ring.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/probe_src.h"

#define BUCKETS 33   /* [2^k, 2^(k+1)) ns, the last one open-ended */

struct call_stat {
  uint64_t count, timed, total_ns, max_ns;
  uint64_t hist[BUCKETS];
  double est_ns;   /* time in this call, the timed sample scaled to all calls */
};

static void add(void *opaque, const struct ward_event *ev)
{
  struct call_stat *st = opaque;
  /* records from before the flags: a duration, or a call_time record, was
   * one timed call */
  bool legacy = !(ev->rec_flags & (WARD_EVENT_F_PERF | WARD_EVENT_F_TIMED));
  bool timed = (ev->rec_flags & WARD_EVENT_F_TIMED) || (legacy && (ev->call_ns || ev->type == WARD_EV_CALL_TIME));
  bool counted = timed || (ev->rec_flags & WARD_EVENT_F_PERF);
  if (ev->call == 0 || ev->call >= WARD_CALL_COUNT || !counted)
    return;
  struct call_stat *s = &st[ev->call];
  s->count++;
  if (!timed)
    return;
  s->timed++;
  s->total_ns += ev->call_ns;
  if (ev->call_ns > s->max_ns)
    s->max_ns = ev->call_ns;
  unsigned b = ev->call_ns ? 63 - (unsigned) __builtin_clzll(ev->call_ns) : 0;
  s->hist[b < BUCKETS ? b : BUCKETS - 1]++;
}

/* upper bound of the bucket holding the q-quantile */
static uint64_t quantile(const struct call_stat *s, double q)
{
  uint64_t want = (uint64_t) (q * (double) s->timed), seen = 0;
  for (unsigned b = 0; b < BUCKETS; b++) {
    seen += s->hist[b];
    if (seen > want)
      return 2ull << b;
  }
  return s->max_ns;
}

static int by_total(const void *a, const void *b)
{
  const struct call_stat *x = *(const struct call_stat *const *) a, *y = *(const struct call_stat *const *) b;
  return x->est_ns < y->est_ns ? 1 : x->est_ns > y->est_ns ? -1 : 0;
}

static void report(struct call_stat *st, uint64_t window_ns, const struct ward_ring_stats *rs)
{
  const struct call_stat *rows[WARD_CALL_COUNT];
  size_t n = 0;
  for (unsigned i = 1; i < WARD_CALL_COUNT; i++)
    if (st[i].count) {
      st[i].est_ns = st[i].timed ? (double) st[i].total_ns * (double) st[i].count / (double) st[i].timed : 0;
      rows[n++] = &st[i];
    }
  qsort(rows, n, sizeof(rows[0]), by_total);
  printf("%-14s %10s %10s %10s %9s %9s %9s %9s %9s  histogram (log2 ns)\n", "CALL", "COUNT", "CALLS/S", "TIMED",
         "AVG ns", "P50<", "P90<", "P99<", "MAX");
  for (size_t i = 0; i < n; i++) {
    const struct call_stat *s = rows[i];
    char bar[BUCKETS + 1];
    unsigned lo = BUCKETS, hi = 0;
    for (unsigned b = 0; b < BUCKETS; b++)
      if (s->hist[b]) {
        lo = b < lo ? b : lo;
        hi = b;
      }
    size_t k = 0;
    static const char shades[] = " .:-=+*#%@";
    uint64_t peak = 0;
    for (unsigned b = lo; b <= hi && b < BUCKETS; b++)
      peak = s->hist[b] > peak ? s->hist[b] : peak;
    for (unsigned b = lo; b <= hi && b < BUCKETS && peak; b++)
      bar[k++] = shades[(s->hist[b] * 9 + peak - 1) / peak];
    bar[k] = 0;
    printf("%-14s %10llu %10.0f %10llu %9llu %9llu %9llu %9llu %9llu  2^%u [%s]\n",
           ward_probe_call_name((unsigned) (s - st)), (unsigned long long) s->count,
           window_ns ? (double) s->count * 1e9 / (double) window_ns : 0.0, (unsigned long long) s->timed,
           (unsigned long long) (s->timed ? s->total_ns / s->timed : 0), (unsigned long long) quantile(s, 0.5),
           (unsigned long long) quantile(s, 0.9), (unsigned long long) quantile(s, 0.99),
           (unsigned long long) s->max_ns, lo < BUCKETS ? lo : 0, bar);
  }
  if (n == 0)
    printf("(no calls counted: is the perf group on? ward probe on --group perf ID)\n");
  printf("ring: %llu events, %llu dropped, %llu bad\n\n", (unsigned long long) rs->events,
         (unsigned long long) rs->drops, (unsigned long long) rs->bad);
  fflush(stdout);
}

int cmd_top(struct ward_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    {"interval", required_argument, NULL, 'i'},
    {"count", required_argument, NULL, 'n'},
    {"ring", required_argument, NULL, 'r'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  long interval_ms = 1000, count = 0;
  const char *ring_path = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "+i:n:r:h", opts, NULL)) != -1) {
    switch (c) {
    case 'i':
      interval_ms = strtol(optarg, NULL, 10);
      if (interval_ms <= 0 || interval_ms > 3600000)
        return cli_usage_error(argv[0], "--interval: milliseconds, 1..3600000");
      break;
    case 'n':
      count = strtol(optarg, NULL, 10);
      if (count <= 0)
        return cli_usage_error(argv[0], "--count: a positive number");
      break;
    case 'r': ring_path = optarg; break;
    case 'h':
      printf("usage: ward top [--interval MS] [--count N] ID\n");
      return 0;
    default:
      return 2;
    }
  }
  const char *id = optind < argc ? argv[optind] : NULL;
  if (id == NULL && ring_path == NULL)
    return cli_usage_error(argv[0], "missing container id");
  _cleanup_probe_src_ struct probe_src src;
  int rc = probe_cli_open_ring(g, argv[0], ring_path, id, &src);
  if (rc != 0)
    return rc;
  _cleanup_free_ struct call_stat *st = calloc(WARD_CALL_COUNT, sizeof(*st));
  if (st == NULL)
    return 1;
  for (long round = 0; !probe_cli_stop && (count == 0 || round < count); round++) {
    memset(st, 0, WARD_CALL_COUNT * sizeof(*st));
    uint64_t start = ward_now_ns(), end = start + (uint64_t) interval_ms * 1000000u;
    while (!probe_cli_stop && ward_now_ns() < end) {
      if (probe_src_drain(&src, add, st, 65536) == 0) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
      }
    }
    struct ward_ring_stats rs;
    probe_src_stats(&src, &rs);
    report(st, ward_now_ns() - start, &rs);
  }
  return 0;
}
