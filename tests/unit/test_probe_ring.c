/* The ring under concurrency: many producer threads, producer processes,
 * and a thread scribbling random bytes over the ring while it is decoded. */
#include "common/cleanup.h"
#include "common/util.h"
#include "probe/calls.h"
#include "probe/ring.h"
#include "tap.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define PRODUCERS 4
#define PER_PRODUCER 200000

static uint64_t thread_cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static struct ward_ring *ring;
static atomic_int producers_done;
static atomic_bool stop;

static struct ward_ring *new_ring(size_t size, uint32_t slot)
{
  _cleanup_error_ ward_error_t err = NULL;
  int fd = -1;
  struct ward_ring *r = NULL;
  if (ward_ring_create_memfd(size, slot, &fd, &err) < 0 || ward_ring_open_fd(fd, 0, 0, &r, &err) < 0)
    tap_diag("ring: %s", err ? err->msg : "?");
  close(fd);
  return r;
}

static void *producer(void *arg)
{
  struct ward_ring_prod p;
  ward_ring_producer(ring, &p);
  uint32_t id = (uint32_t) (uintptr_t) arg;
  for (int64_t i = 0; i < PER_PRODUCER; i++) {
    struct ward_rec_in in = {.type = WARD_EV_OPEN, .call = WARD_CALL_open, .pid = 100 + id, .tid = 100 + id,
                             .arg = i, .s1 = {.part = {"/some/path"}, .len = {10}}};
    ward_ring_write(&p, &in);
  }
  atomic_fetch_add(&producers_done, 1);
  return NULL;
}

/* Consumes until the producers are done and the ring is empty; checks per
 * producer that the values arrive in order (no duplicates, no reordering) and
 * that the ring's sequence numbers never go backwards. */
static void consume_all(int nprod, uint64_t *got, bool *in_order, bool *seq_mono)
{
  struct ward_event *ev = calloc(256, sizeof(*ev));
  int64_t last[64];
  for (int i = 0; i < 64; i++)
    last[i] = -1;
  uint64_t last_seq = 0;
  bool first = true;
  *got = 0;
  *in_order = *seq_mono = true;
  for (;;) {
    bool done = atomic_load(&producers_done) >= nprod;
    size_t n = ward_ring_consume(ring, ev, 256);
    for (size_t i = 0; i < n; i++) {
      uint32_t id = ev[i].pid - 100;
      if (id >= 64 || ev[i].arg <= last[id] || strcmp(ev[i].path, "/some/path") != 0)
        *in_order = false;
      else
        last[id] = ev[i].arg;
      if (!first && ev[i].seq <= last_seq)
        *seq_mono = false;
      first = false;
      last_seq = ev[i].seq;
    }
    *got += n;
    if (n == 0 && done)
      break;
    if (n == 0)
      sched_yield();
  }
  free(ev);
}

static void test_threads(void)
{
  ring = new_ring(1 << 20, 256);
  ward_ring_set_stall_timeout(ring, 30000000000ull);  /* as in test_processes */
  atomic_store(&producers_done, 0);
  pthread_t t[PRODUCERS];
  for (int i = 0; i < PRODUCERS; i++)
    pthread_create(&t[i], NULL, producer, (void *) (uintptr_t) i);
  uint64_t got;
  bool in_order, mono;
  consume_all(PRODUCERS, &got, &in_order, &mono);
  for (int i = 0; i < PRODUCERS; i++)
    pthread_join(t[i], NULL);
  struct ward_ring_stats st;
  ward_ring_get_stats(ring, &st);
  ok(in_order, "threads: each producer's records arrive once and in order");
  ok(mono, "threads: sequence numbers strictly increase");
  is_int(got + st.drops, (uint64_t) PRODUCERS * PER_PRODUCER, "threads: every record delivered or counted as dropped");
  is_int(st.bad + st.lost, 0, "threads: no bad or lost records from honest producers");
  is_int(st.events, got, "events counter matches");
  tap_diag("threads: %llu delivered, %llu dropped", (unsigned long long) got, (unsigned long long) st.drops);
  ward_ring_close(ring);
}

static void test_processes(void)
{
  ring = new_ring(1 << 20, 256);
  /* honest producers: on a loaded machine one can be preempted mid-record
   * for longer than the default stall timeout, which would count it lost */
  ward_ring_set_stall_timeout(ring, 30000000000ull);
  pid_t kids[3];
  for (int i = 0; i < 3; i++) {
    kids[i] = fork();
    if (kids[i] == 0) {
      producer((void *) (uintptr_t) (10 + i));
      _exit(0);
    }
  }
  /* the children's "done" is their exit */
  struct ward_event *ev = calloc(256, sizeof(*ev));
  uint64_t got = 0;
  int64_t last[3] = {-1, -1, -1};
  bool in_order = true;
  int alive = 3;
  for (;;) {
    size_t n = ward_ring_consume(ring, ev, 256);
    for (size_t i = 0; i < n; i++) {
      uint32_t id = ev[i].pid - 110;
      if (id >= 3 || ev[i].arg <= last[id])
        in_order = false;
      else
        last[id] = ev[i].arg;
    }
    got += n;
    while (alive && waitpid(-1, NULL, WNOHANG) > 0)
      alive--;
    if (n == 0 && alive == 0 && ward_ring_consume(ring, ev, 256) == 0)
      break;
  }
  struct ward_ring_stats st;
  ward_ring_get_stats(ring, &st);
  ok(in_order, "processes: per-process order kept across address spaces");
  is_int(got + st.drops, 3ull * PER_PRODUCER, "processes: delivered + dropped = written");
  ward_ring_close(ring);
  free(ev);
}

static void *scribbler(void *arg)
{
  size_t len;
  uint8_t *m = ward_ring_map(ring, &len);
  uint64_t x = (uintptr_t) arg | 1;
  while (!atomic_load(&stop)) {
    for (int k = 0; k < 64; k++) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      size_t off = x % len;
      /* mostly single bytes; sometimes a plausible commit word or header */
      if (x & 0x100)
        m[off] = (uint8_t) (x >> 24);
      else if (off + 8 <= len)
        __atomic_store_n((uint64_t *) (void *) (m + (off & ~7ul)), x >> 40, __ATOMIC_RELAXED);
    }
  }
  return NULL;
}

static void *honest(void *arg)
{
  (void) arg;
  struct ward_ring_prod p;
  ward_ring_producer(ring, &p);
  for (int64_t i = 0; !atomic_load(&stop); i++) {
    struct ward_rec_in in = {.type = WARD_EV_CONNECT, .call = WARD_CALL_connect, .pid = 7, .tid = 7, .arg = i};
    ward_ring_write(&p, &in);
  }
  return NULL;
}

static void test_scribble(void)
{
  /* the scribbler must not rewrite the consumer's private geometry, so the
   * ring is opened first, then attacked */
  ring = new_ring(64 * 256, 256);
  ward_ring_set_stall_timeout(ring, 1000000);
  atomic_store(&stop, false);
  pthread_t s1, s2, h;
  pthread_create(&s1, NULL, scribbler, (void *) 12345);
  pthread_create(&s2, NULL, scribbler, (void *) 999);
  pthread_create(&h, NULL, honest, NULL);
  struct ward_event *ev = calloc(64, sizeof(*ev));
  uint64_t t0 = ward_now_ns(), calls = 0, got = 0, worst = 0;
  while (ward_now_ns() - t0 < 1500000000ull) {
    /* CPU time of this thread, not wall time: on a loaded machine the
     * scribblers preempt the consumer, which says nothing about its work */
    uint64_t a = thread_cpu_ns();
    size_t n = ward_ring_consume(ring, ev, 64);
    uint64_t d = thread_cpu_ns() - a;
    worst = d > worst ? d : worst;
    for (size_t i = 0; i < n; i++) {
      /* whatever got through is a validated event */
      if (ev[i].type <= WARD_EV_INVALID || ev[i].type >= WARD_EV_TYPE_COUNT || ev[i].pid == 0
          || strnlen(ev[i].path, sizeof(ev[i].path)) >= sizeof(ev[i].path))
        got = UINT64_MAX / 2;
    }
    got += n;
    calls++;
  }
  atomic_store(&stop, true);
  pthread_join(s1, NULL);
  pthread_join(s2, NULL);
  pthread_join(h, NULL);
  struct ward_ring_stats st;
  ward_ring_get_stats(ring, &st);
  ok(got < UINT64_MAX / 4, "scribbled ring: every delivered event is well-formed");
  ok(st.bad > 0, "scribbled ring: bad records counted");
  ok(worst < 50000000ull, "scribbled ring: each consume call is bounded (worst %llu us of CPU)", (unsigned long long) worst / 1000);
  tap_diag("scribble: %llu calls, %llu events, %llu bad, %llu lost, %llu repairs", (unsigned long long) calls,
           (unsigned long long) got, (unsigned long long) st.bad, (unsigned long long) st.lost,
           (unsigned long long) st.repairs);
  /* once the attack stops, honest producers get through again */
  struct ward_ring_prod p;
  ward_ring_producer(ring, &p);
  bool recovered = false;
  for (int i = 0; i < 2000 && !recovered; i++) {
    struct ward_rec_in in = {.type = WARD_EV_OPEN, .call = WARD_CALL_open, .pid = 9, .tid = 9, .arg = 424242};
    ward_ring_write(&p, &in);
    size_t n = ward_ring_consume(ring, ev, 64);
    for (size_t k = 0; k < n; k++)
      recovered |= ev[k].arg == 424242 && ev[k].pid == 9;
    usleep(1000);
  }
  ok(recovered, "scribbled ring recovers once the scribbling stops");
  free(ev);
  ward_ring_close(ring);
}

int main(void)
{
  test_threads();
  test_processes();
  test_scribble();
  return tap_done();
}
