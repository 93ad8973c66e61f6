/* Detector throughput: events/s through ward_detector_event on one core,
 * for a synthetic mix shaped like a web server's (opens, accepts, sends,
 * mmaps, the odd fork and exec) over 64 processes. Three configurations:
 * learn (training the models), monitor (trained sequence and rate models
 * scoring every event, rules on) and rules only (no model).
 *
 * usage: detect-bench [EVENTS]   (default 20M per configuration) */
#include "agent/detect.h"
#include "agent/model.h"
#include "common/cleanup.h"
#include "probe/calls.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL 256   /* a consumer batch: events are decoded into a reused array */

static uint64_t xorshift(uint64_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void fill(struct ward_event *evs)
{
  static const struct { enum ward_event_type t; unsigned call; unsigned weight; } mix[] = {
    {WARD_EV_OPEN, WARD_CALL_openat, 40}, {WARD_EV_ACCEPT, WARD_CALL_accept4, 15},
    {WARD_EV_SENDTO, WARD_CALL_sendto, 15}, {WARD_EV_CONNECT, WARD_CALL_connect, 8},
    {WARD_EV_OPEN, WARD_CALL_fopen, 8}, {WARD_EV_UNLINK, WARD_CALL_unlink, 5},
    {WARD_EV_SOCKET, WARD_CALL_socket, 5}, {WARD_EV_FORK, WARD_CALL_fork, 1},
    {WARD_EV_EXEC, WARD_CALL_execve, 1}, {WARD_EV_MEMFD, WARD_CALL_memfd_create, 1},
    {WARD_EV_SETID, WARD_CALL_setuid, 1},
  };
  unsigned total = 0;
  for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++)
    total += mix[i].weight;
  uint64_t s = 88172645463325252ull;
  for (size_t i = 0; i < POOL; i++) {
    struct ward_event *e = &evs[i];
    memset(e, 0, offsetof(struct ward_event, path));
    e->path[0] = e->path2[0] = 0;
    /* processes keep habits: the next call depends on the last one */
    unsigned r = (unsigned) (xorshift(&s) % total), k = 0;
    while (r >= mix[k].weight)
      r -= mix[k++].weight;
    e->type = mix[k].t;
    e->call = (uint16_t) mix[k].call;
    e->pid = 1 + (uint32_t) (xorshift(&s) % 64);
    e->tid = e->pid;
    e->seq = i;
    e->ts_ns = i * 2000ull;   /* 500k events/s of workload time */
    e->flags = e->type == WARD_EV_OPEN ? (i % 5 == 0 ? O_CREAT | O_WRONLY : O_RDONLY) : 0;
    e->ret = e->type == WARD_EV_FORK ? 100 + (int64_t) (i % 1000) : 3;
    if (e->type == WARD_EV_EXEC) {
      e->ret = 0;
      strcpy(e->path, "/usr/bin/true");
      strcpy(e->path2, "true");
    }
    if (e->type == WARD_EV_OPEN)
      strcpy(e->path, "/var/www/index.html");
  }
}

static uint64_t detections;
static void count(void *o, const struct ward_event *ev, const struct ward_detection *d)
{
  (void) o, (void) ev, (void) d;
  detections++;
}

static double run(struct ward_detector *d, const struct ward_event *evs, uint64_t n)
{
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (uint64_t i = 0; i < n; i++)
    ward_detector_event(d, &evs[i & (POOL - 1)], count, NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double secs = (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9;
  return (double) n / secs;
}

int main(int argc, char **argv)
{
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000ull;
  struct ward_event *evs = calloc(POOL, sizeof(*evs));
  if (evs == NULL)
    return 1;
  fill(evs);
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_detector *learn = NULL;
  if (ward_detector_new(&(struct ward_detect_config){.root_fd = -1, .learn = true}, &learn, &err) < 0)
    return fprintf(stderr, "%s\n", err->msg), 1;
  double r_learn = run(learn, evs, n);
  json_t *model = ward_detector_model(learn);
  ward_detector_free(learn);
  struct ward_detector *mon = NULL, *rules = NULL;
  if (ward_detector_new(&(struct ward_detect_config){.root_fd = -1, .model = model}, &mon, &err) < 0 ||
      ward_detector_new(&(struct ward_detect_config){.root_fd = -1}, &rules, &err) < 0)
    return fprintf(stderr, "%s\n", err->msg), 1;
  json_decref(model);
  detections = 0;
  double r_mon = run(mon, evs, n);
  uint64_t det_mon = detections;
  double r_rules = run(rules, evs, n);
  struct ward_detector_stats st;
  ward_detector_get_stats(mon, &st);
  printf("detector, %llu events per configuration, 64 processes, one core:\n", (unsigned long long) n);
  printf("  learn           %6.2f M events/s\n", r_learn / 1e6);
  printf("  monitor         %6.2f M events/s  (%llu scored, %llu detections)\n", r_mon / 1e6,
         (unsigned long long) st.scored, (unsigned long long) det_mon);
  printf("  rules only      %6.2f M events/s\n", r_rules / 1e6);
  printf("  ratio to the 5 M events/s target (monitor): %.2f\n", r_mon / 5e6);
  ward_detector_free(mon);
  ward_detector_free(rules);
  free(evs);
  return 0;
}
