/* The ring's seen-set (ring_seen.h): the producer's key of a slot and the
 * consumer's key of the event it decodes agree; repeats of one behaviour
 * share a key and different behaviours do not; an armed ring wakes its
 * consumer for a record it has not seen, not for one it has, and still for
 * execs, for the backlog and in ANY; a reset, and a new consumer, forget. */
#include "common/cleanup.h"
#include "probe/calls.h"
#include "probe/ring.h"
#include "probe/ring_write.h"
#include "tap.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

static struct ward_ring *new_ring(size_t size, int *fd_out)
{
  _cleanup_error_ ward_error_t err = NULL;
  int fd = -1;
  struct ward_ring *r = NULL;
  if (ward_ring_create_memfd(size, 512, &fd, &err) < 0 || ward_ring_open_fd(fd, 0, 0, &r, &err) < 0) {
    tap_diag("ring: %s", err ? err->msg : "?");
    abort();
  }
  if (fd_out)
    *fd_out = fd;
  else
    close(fd);
  return r;
}

/* ward_ring_write, keeping the key the producer hashed before publishing. */
static uint64_t put(const struct ward_ring_prod *p, const struct ward_rec_in *in)
{
  uint64_t ticket;
  struct ward_rec *r = ward_ring_claim(p, &ticket);
  if (r == NULL)
    abort();
  ward_rec_fill_in(r, p->slot_size, in);
  uint64_t key = ward_seen_key_rec(r, p->slot_size);
  ward_ring_publish(p, r, ticket);
  return key;
}

/* The consumer's key of the next event in r. */
static uint64_t take(struct ward_ring *r)
{
  static struct ward_event ev;
  if (ward_ring_consume(r, &ev, 1) != 1)
    return ~0ull;
  return ward_event_seen_key(&ev);
}

#define S(str) {.part = {str}, .len = {sizeof(str) - 1}}

static struct ward_rec_addr inet(const char *ip, uint16_t port)
{
  struct ward_rec_addr a = {.family = AF_INET, .port = port};
  inet_pton(AF_INET, ip, a.addr);
  return a;
}

static struct ward_rec_addr inet6(const char *ip, uint16_t port)
{
  struct ward_rec_addr a = {.family = AF_INET6, .port = port};
  inet_pton(AF_INET6, ip, a.addr);
  return a;
}

static void test_agreement(void)
{
  struct ward_ring *r = new_ring(1 << 20, NULL);
  struct ward_ring_prod p;
  ward_ring_producer(r, &p);
  static char longpath[700];
  memset(longpath, 'a', sizeof(longpath) - 1);
  longpath[0] = '/';
  struct ward_rec_addr a4 = inet("10.1.2.3", 443), a6 = inet6("2001:db8::7", 8080), au = {.family = AF_UNIX};
  uint64_t stack[3] = {0x401000, 0x402000, 0x403000};
  const struct {
    const char *what;
    struct ward_rec_in in;
  } cases[] = {
    {"open", {.type = WARD_EV_OPEN, .call = WARD_CALL_openat, .a_flags = 0x80000, .ret = 3, .s1 = S("/etc/hostname")}},
    {"a cut path", {.type = WARD_EV_OPEN, .call = WARD_CALL_open, .ret = -2,
                    .s1 = {.part = {longpath}, .len = {sizeof(longpath) - 1}}}},
    {"a relative path in three parts", {.type = WARD_EV_OPEN, .call = WARD_CALL_open, .flags = WARD_REC_F_REL1,
                                        .s1 = {.part = {"/srv", "/", "x"}, .len = {4, 1, 1}}}},
    {"rename", {.type = WARD_EV_RENAME, .call = WARD_CALL_rename, .s1 = S("/tmp/a"), .s2 = S("/tmp/b")}},
    {"connect inet with a stack", {.type = WARD_EV_CONNECT, .call = WARD_CALL_connect, .arg = 7, .addr = &a4,
                                   .stack = stack, .nstack = 3}},
    {"accept inet6", {.type = WARD_EV_ACCEPT, .call = WARD_CALL_accept4, .ret = 9, .addr = &a6}},
    {"connect unix", {.type = WARD_EV_CONNECT, .call = WARD_CALL_connect, .addr = &au, .s1 = S("/run/x.sock")}},
    {"denied", {.type = WARD_EV_CONNECT, .call = WARD_CALL_connect, .flags = WARD_REC_F_DENIED, .ret = -13,
                .addr = &a4}},
    {"redirected", {.type = WARD_EV_CONNECT, .call = WARD_CALL_connect, .flags = WARD_REC_F_REDIRECT, .addr = &a4,
                    .s2 = S("127.0.0.1:9")}},
    {"timed", {.type = WARD_EV_OPEN, .call = WARD_CALL_open, .flags = WARD_REC_F_PERF | WARD_REC_F_TIMED,
               .call_ns = 900, .s1 = S("/x")}},
    {"setuid", {.type = WARD_EV_SETID, .call = WARD_CALL_setuid, .arg = 1000}},
    {"mprotect", {.type = WARD_EV_MPROTECT_WX, .call = WARD_CALL_mprotect, .a_flags = 7, .arg = 0x7f0000}},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct ward_rec_in in = cases[i].in;
    in.pid = in.tid = 40;
    uint64_t kp = put(&p, &in), kc = take(r);
    ok(kp != 0 && kp == kc, "agreement: %s: producer %016llx, consumer %016llx", cases[i].what,
       (unsigned long long) kp, (unsigned long long) kc);
  }
  struct ward_rec_in ex = {.type = WARD_EV_EXEC, .call = WARD_CALL_execve, .pid = 1, .tid = 1, .s1 = S("/bin/sh")};
  uint64_t kp = put(&p, &ex), kc = take(r);
  ok(kp == 0 && kc == 0, "agreement: an exec has no key on either side");
  ward_ring_close(r);
}

/* The key of in, as the producer hashes it. */
static uint64_t key_of(struct ward_rec_in in)
{
  static struct ward_ring *r;
  static struct ward_ring_prod p;
  if (r == NULL) {
    r = new_ring(1 << 20, NULL);
    ward_ring_producer(r, &p);
  }
  if (in.pid == 0)
    in.pid = in.tid = 40;
  uint64_t k = put(&p, &in);
  take(r);
  return k;
}

static void test_repeats(void)
{
  struct ward_rec_in o = {.type = WARD_EV_OPEN, .call = WARD_CALL_open, .ret = 3, .s1 = S("/var/www/index.html")};
  struct ward_rec_in o2 = o;
  o2.pid = 77, o2.tid = 78, o2.ts_ns = 123456, o2.ret = 12, o2.call_ns = 5, o2.flags = WARD_REC_F_PERF;
  ok(key_of(o) == key_of(o2), "repeats: another process, time, fd and perf timing: the same key");
  struct ward_rec_in o3 = o;
  o3.s1 = (struct ward_rec_str) S("/var/www/other.html");
  ok(key_of(o) != key_of(o3), "repeats: another path: another key");
  o3 = o;
  o3.ret = -2;
  ok(key_of(o) != key_of(o3), "repeats: a failure: another key");
  o3 = o;
  o3.a_flags = 1;
  ok(key_of(o) != key_of(o3), "repeats: another access mode: another key");

  struct ward_rec_addr p1 = inet("10.0.0.1", 40001), p2 = inet("10.0.0.2", 40002);
  struct ward_rec_in ac = {.type = WARD_EV_ACCEPT, .call = WARD_CALL_accept4, .arg = 6, .ret = 10, .addr = &p1};
  struct ward_rec_in ac2 = ac;
  ac2.addr = &p2, ac2.arg = 8, ac2.ret = 11;
  ok(key_of(ac) == key_of(ac2), "repeats: accepts from other peers on another fd: the same key");

  struct ward_rec_addr d1 = inet("10.0.0.1", 5432), d2 = inet("10.0.0.1", 5433), d3 = inet("10.0.0.9", 5432);
  struct ward_rec_in co = {.type = WARD_EV_CONNECT, .call = WARD_CALL_connect, .arg = 4, .addr = &d1};
  struct ward_rec_in co2 = co;
  co2.arg = 5;
  ok(key_of(co) == key_of(co2), "repeats: a connect from another socket: the same key");
  co2.addr = &d2;
  ok(key_of(co) != key_of(co2), "repeats: a connect to another port: another key");
  co2.addr = &d3;
  ok(key_of(co) != key_of(co2), "repeats: a connect to another address: another key");

  struct ward_rec_in su = {.type = WARD_EV_SETID, .call = WARD_CALL_setuid, .arg = 1000};
  struct ward_rec_in su2 = su;
  su2.arg = 0;
  ok(key_of(su) != key_of(su2), "repeats: setuid to another id: another key");
  struct ward_rec_in rn = {.type = WARD_EV_RENAME, .call = WARD_CALL_rename, .s1 = S("/a"), .s2 = S("/bc")};
  struct ward_rec_in rn2 = {.type = WARD_EV_RENAME, .call = WARD_CALL_rename, .s1 = S("/ab"), .s2 = S("/c")};
  ok(key_of(rn) != key_of(rn2), "repeats: the same bytes split otherwise between two paths: another key");
}

static uint32_t wake_word(const struct ward_ring_prod *p)
{
  return __atomic_load_n(&p->hdr->wake, __ATOMIC_RELAXED);
}

static void write_open(const struct ward_ring_prod *p, const char *path)
{
  struct ward_rec_in in = {.type = WARD_EV_OPEN, .call = WARD_CALL_open, .pid = 3, .tid = 3, .ret = 3,
                           .s1 = {.part = {path}, .len = {strlen(path)}}};
  ward_ring_write(p, &in);
}

/* Drains r as the engine does: every key noted. Returns how many were new. */
static int drain_noting(struct ward_ring *r)
{
  static struct ward_event ev[64];
  int fresh = 0;
  size_t n;
  while ((n = ward_ring_consume(r, ev, 64)) > 0)
    for (size_t i = 0; i < n; i++) {
      uint64_t k = ward_event_seen_key(&ev[i]);
      fresh += k && !ward_ring_seen_note(r, k);
    }
  return fresh;
}

static void test_wakes(void)
{
  int fd;
  struct ward_ring *r = new_ring(1 << 20, &fd);   /* 2,048 slots */
  struct ward_ring_prod p;
  ward_ring_producer(r, &p);
  uint64_t mask = 1ull << WARD_EV_OPEN | 1ull << WARD_EV_EXEC;

  ward_ring_arm(r, WARD_RING_WAKE_URGENT, mask);
  write_open(&p, "/etc/hostname");
  ok(wake_word(&p) == WARD_RING_WAKE_OFF, "wakes: a record never seen wakes the consumer");
  is_int(drain_noting(r), 1, "wakes: its key is new to the consumer");
  ward_ring_arm(r, WARD_RING_WAKE_URGENT, mask);
  for (int i = 0; i < 100; i++)
    write_open(&p, "/etc/hostname");
  ok(wake_word(&p) == WARD_RING_WAKE_URGENT, "wakes: 100 repeats of a drained record wake nobody");
  write_open(&p, "/etc/passwd");
  ok(wake_word(&p) == WARD_RING_WAKE_OFF, "wakes: then a new path wakes it");
  is_int(drain_noting(r), 1, "wakes: the 101 records drained, one new key among them");

  ward_ring_arm(r, WARD_RING_WAKE_ANY, mask);
  write_open(&p, "/etc/hostname");
  ok(wake_word(&p) == WARD_RING_WAKE_OFF, "wakes: armed for any record, a seen one wakes too");
  drain_noting(r);

  struct ward_rec_in ex = {.type = WARD_EV_EXEC, .call = WARD_CALL_execve, .pid = 3, .tid = 3, .s1 = S("/bin/sh")};
  ward_ring_write(&p, &ex);
  drain_noting(r);
  ward_ring_arm(r, WARD_RING_WAKE_URGENT, mask);
  ward_ring_write(&p, &ex);
  ok(wake_word(&p) == WARD_RING_WAKE_OFF, "wakes: an exec always wakes, drained before or not");
  drain_noting(r);

  /* a quarter of the ring waiting wakes the consumer, seen or not */
  ward_ring_arm(r, WARD_RING_WAKE_URGENT, mask);
  int n = 0;
  while (wake_word(&p) == WARD_RING_WAKE_URGENT && n < 1024)
    write_open(&p, "/etc/hostname"), n++;
  ok(n > 256 && n <= 768 + 1, "wakes: a backlog of seen records woke the consumer after %d", n);
  drain_noting(r);

  ward_ring_seen_reset(r);
  ward_ring_arm(r, WARD_RING_WAKE_URGENT, mask);
  write_open(&p, "/etc/hostname");
  ok(wake_word(&p) == WARD_RING_WAKE_OFF, "wakes: after a reset the same record wakes again");
  drain_noting(r);

  /* the workload sets every bit: its records stop waking its consumer (the
   * positive control for what follows), until a new consumer takes over */
  ward_ring_arm(r, WARD_RING_WAKE_URGENT, mask);
  memset((uint8_t *) p.hdr + WARD_RING_SEEN_OFF, 0xff, WARD_RING_SEEN_BITS / 8);
  write_open(&p, "/never/drained");
  ok(wake_word(&p) == WARD_RING_WAKE_URGENT, "wakes: a scribbled set silences the workload's own records");
  drain_noting(r);
  ward_ring_close(r);
  _cleanup_error_ ward_error_t err = NULL;
  ok(ward_ring_open_fd(fd, 0, 0, &r, &err) == 0, "wakes: a new consumer attaches");
  ward_ring_producer(r, &p);
  ward_ring_arm(r, WARD_RING_WAKE_URGENT, mask);
  write_open(&p, "/never/drained");
  ok(wake_word(&p) == WARD_RING_WAKE_OFF, "wakes: a new consumer's first arm clears the bits it did not set");
  drain_noting(r);
  ward_ring_close(r);
  close(fd);
}

/* A consumer that arms between the producer's look at `wake` before
 * publishing (off: no key hashed) and the one after: the record has no
 * key, so it wakes the consumer even with every bit of the set on. */
static void test_hint_miss(void)
{
  struct ward_ring *r = new_ring(1 << 20, NULL);
  struct ward_ring_prod p;
  ward_ring_producer(r, &p);
  uint64_t ticket;
  struct ward_rec *rec = ward_ring_claim(&p, &ticket);
  struct ward_rec_str s1 = S("/etc/hostname"), none = {0};
  ward_rec_fill(rec, p.slot_size, 0, NULL, NULL, 0, &s1, &none);
  rec->type = WARD_EV_OPEN, rec->call = WARD_CALL_open, rec->pid = rec->tid = 3;
  uint64_t key = __atomic_load_n(&p.hdr->wake, __ATOMIC_RELAXED) == WARD_RING_WAKE_URGENT
                 ? ward_seen_key_rec(rec, p.slot_size) : 0;
  ward_ring_arm(r, WARD_RING_WAKE_URGENT, 1ull << WARD_EV_OPEN);
  memset((uint8_t *) p.hdr + WARD_RING_SEEN_OFF, 0xff, WARD_RING_SEEN_BITS / 8);
  ward_ring_publish(&p, rec, ticket);
  ward_ring_wake_check(&p, ticket, WARD_EV_OPEN, 0, key);
  ok(key == 0 && wake_word(&p) == WARD_RING_WAKE_OFF, "hint miss: armed after the first look, the record wakes the consumer");
  ward_ring_close(r);
}

/* A 128-byte slot holds the header and the address block, not eight
 * stack words beside them: the stack is cut, the next slot untouched. */
static void test_small_slot(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  int fd = -1;
  struct ward_ring *r = NULL;
  if (ward_ring_create_memfd(64 << 10, 128, &fd, &err) < 0 || ward_ring_open_fd(fd, 0, 0, &r, &err) < 0)
    abort();
  close(fd);
  struct ward_ring_prod p;
  ward_ring_producer(r, &p);
  uint64_t next_commit = ward_rec_commit_load(ward_ring_slot(&p, 1), 1, p.mask, __ATOMIC_RELAXED);
  struct ward_rec_addr a = inet("10.0.0.1", 80);
  uint64_t stack[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  struct ward_rec_in in = {.type = WARD_EV_CONNECT, .call = WARD_CALL_connect, .pid = 3, .tid = 3, .addr = &a,
                           .stack = stack, .nstack = 8};
  ward_ring_write(&p, &in);
  ok(ward_rec_commit_load(ward_ring_slot(&p, 1), 1, p.mask, __ATOMIC_RELAXED) == next_commit,
     "small slot: the next slot is untouched");
  static struct ward_event ev;
  size_t got = ward_ring_consume(r, &ev, 1);
  ok(got == 1 && ev.n_stack == 5 && ev.stack[4] == 5 && ev.port == 80,
     "small slot: the record decodes with the 5 stack words that fit (%zu record, %u words)", got, ev.n_stack);
  ward_ring_close(r);
}

/* The set holds WARD_RING_SEEN_KEYS_MAX keys, then starts afresh. */
static void test_bound(void)
{
  struct ward_ring *r = new_ring(1 << 20, NULL);
  struct ward_seen_fields f = {.type = WARD_EV_OPEN};
  uint64_t first = ward_seen_key(&f);
  uint32_t fresh = 0, collided = 0;
  int64_t i = 0;
  for (; fresh < WARD_RING_SEEN_KEYS_MAX; i++) {
    f.arg = i;
    if (ward_ring_seen_note(r, ward_seen_key(&f)))
      collided++;
    else
      fresh++;
  }
  /* two bits per key in 16,384: filling the set to its bound, about 0.5 %
   * of new keys test as seen on the way (1.4 % at the bound) */
  ok(collided < 30, "bound: %u of %lld new keys tested as seen while the set filled", collided, (long long) i);
  ok(ward_ring_seen_note(r, first), "bound: the first key is still held at the bound");
  /* the next key the set does not hold starts it afresh */
  bool noted = false;
  for (int64_t k = i; !noted && k < i + 100; k++) {
    f.arg = k;
    noted = !ward_ring_seen_note(r, ward_seen_key(&f));
  }
  ok(noted, "bound: one more key is taken");
  ok(!ward_ring_seen_note(r, first), "bound: past the bound the set started afresh");
  ward_ring_close(r);
}

int main(void)
{
  test_agreement();
  test_repeats();
  test_wakes();
  test_hint_miss();
  test_small_slot();
  test_bound();
  return tap_done();
}
