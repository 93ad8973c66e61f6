/* Ring consumer throughput on one core, and helpers for probe-micro.sh:
 *   probe-ring-bench consume            events/s decoding a full ring
 *   probe-ring-bench setup DIR GROUPS [SIZE]  create DIR/ring (file) + DIR/control
 *   probe-ring-bench perf DIR EVERY           perf times one call in EVERY (DIR/control)
 *   probe-ring-bench drain DIR SECONDS [spin|release]  consume DIR/ring for a
 *     while (spin: re-poll at once after a short batch, the old policy;
 *     release: hand slots back without decoding, see release_only;
 *     release-spin: the same without sleeping, so that nothing is dropped) */
#include "common/util.h"
#include "probe/calls.h"
#include "probe/control.h"
#include "probe/event.h"
#include "probe/ring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The producer's cost per record while the consumer sleeps armed for what
 * can alert (ring_wake.h): a record of a type it did not ask for (mode off's
 * reading opens), and one of a type it asked for whose key it has drained
 * already (monitor's repeats: the seen-set, ring_seen.h), beside the
 * consumer awake. An eighth of the ring per round: no backlog wake-up. */
static void armed_bench(struct ward_ring *r, struct ward_ring_prod *p, struct ward_event *ev)
{
  static const char *const what[] = {"consumer awake", "asleep, type not asked for",
                                     "asleep, asked for, seen"};
  uint32_t n = ward_ring_nslots(r) / 8;
  struct ward_rec_in in = {.type = WARD_EV_OPEN, .call = WARD_CALL_openat, .pid = 10, .tid = 11,
                           .a_flags = 0x80000, .s1 = {.part = {"/usr/lib/x86_64-linux-gnu/libc.so.6"}, .len = {35}}};
  printf("producer, %u records a round:", n);
  for (int m = 0; m < 3; m++) {
    double best = 1e9;
    bool woke = false;
    for (int rep = 0; rep < 7; rep++) {
      if (m)
        ward_ring_arm(r, WARD_RING_WAKE_URGENT, m == 2 ? 1ull << WARD_EV_OPEN : 0);
      uint64_t t0 = ward_now_ns();
      for (uint32_t i = 0; i < n; i++)
        ward_ring_write(p, &in);
      double ns = (double) (ward_now_ns() - t0) / n;
      best = ns < best ? ns : best;
      woke |= m && __atomic_load_n(&p->hdr->wake, __ATOMIC_RELAXED) != WARD_RING_WAKE_URGENT;
      ward_ring_disarm(r);
      size_t k;
      while ((k = ward_ring_consume(r, ev, 256)) > 0)
        for (size_t i = 0; i < k; i++)
          ward_ring_seen_note(r, ward_event_seen_key(&ev[i]));
    }
    printf(" %s%s %.1f ns", m ? "| " : "", what[m], best);
    if (woke && m)
      printf(" (woke the consumer: not what this row measures)");
  }
  printf("\n");
}

static int consume_bench(void)
{
  ward_error_t err = NULL;
  int fd;
  struct ward_ring *r;
  if (ward_ring_create_memfd(64u << 20, 128, &fd, &err) < 0 || ward_ring_open_fd(fd, 0, 0, &r, &err) < 0)
    return 1;
  struct ward_ring_prod p;
  ward_ring_producer(r, &p);
  uint32_t n = ward_ring_nslots(r);
  struct ward_event *ev = malloc(256 * sizeof(*ev));
  double best = 0;
  uint64_t written_ns = 0;
  for (int rep = 0; rep < 5; rep++) {
    uint64_t w0 = ward_now_ns();
    for (uint32_t i = 0; i < n; i++) {
      struct ward_rec_in in = {.type = WARD_EV_OPEN, .call = WARD_CALL_openat, .pid = 10, .tid = 11, .ts_ns = i,
                               .a_flags = 0x80000, .s1 = {.part = {"/usr/lib/x86_64-linux-gnu/libc.so.6"}, .len = {35}}};
      ward_ring_write(&p, &in);
    }
    written_ns += ward_now_ns() - w0;
    uint64_t t0 = ward_now_ns(), got = 0;
    size_t k;
    while ((k = ward_ring_consume(r, ev, 256)) > 0)
      got += k;
    double rate = (double) got * 1e9 / (double) (ward_now_ns() - t0);
    best = rate > best ? rate : best;
  }
  printf("consumer: %.2f M events/s (one core, %u-slot ring, 35-byte path)\n", best / 1e6, n);
  printf("producer (single thread, no contention): %.1f ns/record\n", (double) written_ns / (5.0 * n));
  armed_bench(r, &p, ev);
  return 0;
}

/* A consumer that only hands slots back (reads each commit word, writes the
 * next lap's) without copying or decoding: it keeps up with any producer,
 * so the producer's figure is its own cost, the cache lines the consumer
 * takes from it included, and no record is dropped. Same sleep policy. */
static int release_only(const char *dir, int secs, int spin)
{
  ward_error_t err = NULL;
  char p[4096];
  snprintf(p, sizeof(p), "%s/ring", dir);
  struct ward_ring *r;
  if (ward_ring_open(p, WARD_RING_ALLOW_UNSEALED, &r, &err) < 0)
    return 1;
  struct ward_ring_prod prod;
  ward_ring_producer(r, &prod);
  /* start where the last consumer of this ring left off, and say where
   * this one does: the next one starts there */
  uint64_t tail = __atomic_load_n(&prod.hdr->tail, __ATOMIC_ACQUIRE), got = 0;
  uint64_t end = ward_now_ns() + (uint64_t) secs * 1000000000ull;
  while (ward_now_ns() < end) {
    size_t k = 0;
    for (; k < 256; k++) {
      struct ward_rec *rec = ward_ring_slot(&prod, tail);
      if (ward_rec_commit_load(rec, tail, prod.mask, __ATOMIC_ACQUIRE) != tail + 1)
        break;
      ward_rec_commit_store(rec, tail, prod.mask, tail + prod.mask + 1, __ATOMIC_RELEASE);
      tail++;
    }
    got += k;
    __atomic_store_n(&prod.hdr->tail, tail, __ATOMIC_RELEASE);
    if (k < 256 && !spin)
      usleep(200);
  }
  fprintf(stderr, "drain: %llu released\n", (unsigned long long) got);
  ward_ring_close(r);
  return 0;
}

int main(int argc, char **argv)
{
  ward_error_t err = NULL;
  if (argc >= 2 && !strcmp(argv[1], "consume"))
    return consume_bench();
  if (argc >= 4 && !strcmp(argv[1], "setup")) {
    char p[4096];
    snprintf(p, sizeof(p), "%s/ring", argv[2]);
    size_t size = argc >= 5 ? (size_t) strtoull(argv[4], NULL, 0) : 0;
    if (ward_ring_create_file(p, size, 0, NULL, &err) < 0)
      return 1;
    snprintf(p, sizeof(p), "%s/control", argv[2]);
    return ward_control_create(p, (uint32_t) strtoul(argv[3], NULL, 0), &err) < 0;
  }
  if (argc >= 4 && !strcmp(argv[1], "perf")) {
    char p[4096];
    snprintf(p, sizeof(p), "%s/control", argv[2]);
    if (ward_probe_set_perf_every(p, (uint32_t) strtoul(argv[3], NULL, 0), &err) < 0) {
      fprintf(stderr, "%s\n", err->msg);
      return 1;
    }
    return 0;
  }
  if (argc >= 5 && !strcmp(argv[1], "drain") && !strncmp(argv[4], "release", 7))
    return release_only(argv[2], atoi(argv[3]), !strcmp(argv[4], "release-spin"));
  if (argc >= 4 && !strcmp(argv[1], "drain")) {
    int spin = argc >= 5 && !strcmp(argv[4], "spin");
    char p[4096];
    snprintf(p, sizeof(p), "%s/ring", argv[2]);
    struct ward_ring *r;
    if (ward_ring_open(p, WARD_RING_ALLOW_UNSEALED, &r, &err) < 0)
      return 1;
    struct ward_event *ev = malloc(256 * sizeof(*ev));
    uint64_t end = ward_now_ns() + (uint64_t) atoi(argv[3]) * 1000000000ull, got = 0;
    /* the in-process engine's policy (src/agent/engine.c): drain until a
     * batch comes back short, then sleep its 200 us hot interval. A
     * consumer that re-polls at once instead sits right behind the producer
     * and pulls every line it writes across cores while it writes it. */
    while (ward_now_ns() < end) {
      size_t k = ward_ring_consume(r, ev, 256);
      got += k;
      if (k < 256 && !spin)
        usleep(200);
      else if (k == 0)
        usleep(200);
    }
    struct ward_ring_stats st;
    ward_ring_get_stats(r, &st);
    fprintf(stderr, "drain: %llu events, %llu drops\n", (unsigned long long) got, (unsigned long long) st.drops);
    return 0;
  }
  return 2;
}
