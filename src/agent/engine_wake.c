/* Sleeping until a ring has something worth waking for (ring_format.h,
 * "Wake-ups"), instead of polling every ring on a timer.
 *
 * Why: every timed wake-up of the engine costs the workload CPU (in a small
 * VM a busy nginx lost 7-12 % to 500-1,100 empty wake-ups a second,
 * docs/benchmarks.md), and a polling engine wakes that often whether or not
 * anything happened. Armed, the engine sleeps until a producer publishes a
 * record that can raise an alert (the container's wake mask), a quarter of
 * the ring waits, or, when the ring was empty, any record at all. The rest
 * waits for the lazy timeout.
 *
 * epoll cannot wait on a futex, so one helper thread waits on every ring's
 * wake word at once (futex_waitv, Linux 5.16) and turns a producer's wake
 * into a write to the engine's eventfd, which the loop's epoll already
 * watches. A ring whose producers cannot wake (an older probe, or a
 * workload that cleared `caps`) or whose wake-ups find nothing is left
 * unarmed and looked at every lazy timeout; the others stay armed. Without
 * futex_waitv, or with more wakeable rings than one futex_waitv takes, the
 * engine polls as before. */
#include "agent/engine_internal.h"
#include "common/util.h"

#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* one entry is the kick word */
#define WAKE_RINGS_MAX (FUTEX_WAITV_MAX - 1)
/* A workload can call FUTEX_WAKE on its own ring's word at will, or keep
 * changing it. A wake-up no producer made is not passed on (word_swapped);
 * what is passed on, at most one per this many microseconds; and the
 * helper naps that long after each, doubling while nothing but noise
 * comes, so a flood costs the helper at most one wake-up per gap and the
 * engine none. */
#define WAKE_FORWARD_GAP_US 100
#define WAKE_FORWARD_GAP_MAX_US 1600

static uint64_t mono_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* Whether c's word has woken the helper since the engine last armed it
 * (a producer's swap left it 0 until the next arm). */
static bool woke_in_this_arm(const struct ctr *c)
{
  return c->armed_stamp != 0 && c->woke_stamp == c->armed_stamp;
}

/* The kick word plus the wake word of every served ring, each expected to
 * hold what the engine last stored there (its private copy): the helper
 * never reads the shared header, which the workload may have truncated
 * (the kernel reports that as EFAULT; a read here would be SIGBUS). A
 * producer that swapped an armed word to 0 before the helper slept makes
 * the wait fail with EAGAIN, which is passed on like its wake-up.
 *
 * After a producer's wake-up, its word holds 0 until the engine re-arms
 * it: waiting on it for the armed value would fail at once with EAGAIN, a
 * second wake-up of both threads for nothing. So a ring whose word woke
 * the helper in its current arm (woke_stamp, set by woken_arm before the
 * wake-up is passed on) is waited on for 0, and marked as expecting 0, so
 * that the engine's next arm, with a new stamp, kicks. Every other ring is
 * waited on for what the engine stored. Both sides hold the lock: either
 * the engine re-armed the ring before this look (a new stamp: its value is
 * waited for) or its arm kicks. */
static size_t collect(struct ward_engine *e, struct futex_waitv *w)
{
  size_t n = 0;
  w[n++] = (struct futex_waitv){.val = __atomic_load_n(&e->waker_kick, __ATOMIC_ACQUIRE),
                                .uaddr = (uintptr_t) &e->waker_kick, .flags = FUTEX_32 | FUTEX_PRIVATE_FLAG};
  for (struct ctr *c = e->list; c && n < FUTEX_WAITV_MAX; c = c->next) {
    uint32_t *word = ctr_ring_served(c) && !c->wake_off ? ward_ring_wake_word(c->ring) : NULL;
    if (word == NULL) {
      c->waiter_val = WARD_RING_WAKE_OFF;
      continue;
    }
    c->waiter_val = woke_in_this_arm(c) ? WARD_RING_WAKE_OFF : c->armed_mode;
    w[n++] = (struct futex_waitv){.val = c->waiter_val, .uaddr = (uintptr_t) word, .flags = FUTEX_32};
  }
  return n;
}

/* Marks the ring of a woken word as woken in its current arm, before the
 * wake-up is passed on, so before the engine can re-arm in answer. If the
 * engine's own timeout re-armed it first, that later arm is marked: its
 * word is waited on for 0 although a producer may not have swapped it,
 * and the wait fails at once (one wake-up more). If a producer has swapped
 * it too, its FUTEX_WAKE may come before the helper waits again; its record
 * is drained all the same, in answer to the wake-up being passed on or
 * right after the engine's next arm, which kicks. (A word that already
 * woke the helper in this arm is waited on for 0, so its wake-ups never get
 * here: they are noise, waker_main.) */
static void woken_arm(struct ward_engine *e, uintptr_t word)
{
  pthread_mutex_lock(&e->lock);
  for (struct ctr *c = e->list; c; c = c->next)
    if (ctr_ring_served(c) && (uintptr_t) ward_ring_wake_word(c->ring) == word) {
      c->woke_stamp = c->armed_stamp;
      break;
    }
  pthread_mutex_unlock(&e->lock);
}

/* Whether a producer swapped this ring word to 0, read through the kernel:
 * a wait for 0 with no time to sleep fails with EAGAIN only when the word
 * holds something else. Otherwise it times out, or returns early when the
 * workload's FUTEX_WAKE comes first, or fails with EFAULT on a truncated
 * ring (where a load would raise SIGBUS: the engine must look then too).
 * A word that still holds the armed value, or anything else but 0, was
 * woken or written by the workload: noise. */
static bool word_swapped(uintptr_t word)
{
  struct timespec zero = {0, 0};
  long r = syscall(SYS_futex, (uint32_t *) word, FUTEX_WAIT, WARD_RING_WAKE_OFF, &zero, NULL, 0);
  return !(r < 0 && errno == EAGAIN);
}

/* Whether any armed word of w holds 0 (or faults): what a producer's
 * wake-up that came before the helper slept looks like. Each such ring is
 * marked woken in its arm, as a wake-up on its word would mark it, so the
 * next wait expects the 0 and does not pass the same wake-up on twice. */
static bool mark_swapped(struct ward_engine *e, const struct futex_waitv *w, size_t n)
{
  bool any = false;
  for (size_t i = 1; i < n; i++)
    if (w[i].val != WARD_RING_WAKE_OFF && word_swapped((uintptr_t) w[i].uaddr)) {
      woken_arm(e, (uintptr_t) w[i].uaddr);
      any = true;
    }
  return any;
}

/* Passes a wake-up on to the engine's eventfd (pass_on), at most one per
 * *gap_us, or only naps (noise). A producer's wake-up resets the gap;
 * noise doubles it (up to the maximum) unless nothing came for 10 ms. */
static void forward(struct ward_engine *e, uint64_t *last_us, uint32_t *gap_us, bool noise, bool pass_on)
{
  if (!noise || mono_us() - *last_us > 10000)
    *gap_us = WAKE_FORWARD_GAP_US;
  uint64_t one = 1;
  if (!pass_on)
    __atomic_add_fetch(&e->waker_noise, 1, __ATOMIC_RELAXED);
  else if (write(e->wake_fd, &one, sizeof(one)) < 0)
    (void) 0;   /* already pending */
  else
    __atomic_add_fetch(&e->waker_forwarded, 1, __ATOMIC_RELAXED);
  uint64_t now = mono_us();
  if (*last_us && now - *last_us < *gap_us) {
    struct timespec gap = {0, (long) (*gap_us - (now - *last_us)) * 1000};
    nanosleep(&gap, NULL);
    now = mono_us();
  }
  *last_us = now;
  if (noise)
    *gap_us = *gap_us * 2 > WAKE_FORWARD_GAP_MAX_US ? WAKE_FORWARD_GAP_MAX_US : *gap_us * 2;
}

static void *waker_main(void *arg)
{
  struct ward_engine *e = arg;
  struct futex_waitv w[FUTEX_WAITV_MAX];
  uint64_t last_us = 0;
  uint32_t gap_us = WAKE_FORWARD_GAP_US;
  int failures = 0;
  for (;;) {
    /* told to end while the engine holds the lock (its last container's
     * final drain): gone before that is over, not after */
    if (__atomic_load_n(&e->waker_stop, __ATOMIC_ACQUIRE))
      break;
    pthread_mutex_lock(&e->lock);
    bool stop = e->waker_stop;
    size_t n = stop ? 0 : collect(e, w);
    pthread_mutex_unlock(&e->lock);
    if (stop)
      break;
    /* the timeout only bounds how long a missed kick could leave a stale
     * set of words: the engine kicks whenever it stores a value the helper
     * does not expect (engine_arm), and when the ring set changes */
    struct timespec to;
    clock_gettime(CLOCK_MONOTONIC, &to);
    to.tv_sec += 1;
    long r = syscall(SYS_futex_waitv, w, (unsigned) n, 0u, &to, CLOCK_MONOTONIC);
    int err = r < 0 ? errno : 0;
    if (r == 0) {
      continue;   /* kicked: the ring set or the armed modes changed */
    } else if (r > 0) {
      failures = 0;
      /* A producer wakes only a word it swapped from the armed value to 0.
       * A FUTEX_WAKE on an armed word that still holds its value (or
       * anything but 0), or on a word that already woke the helper in this
       * arm (waited on for 0), came from the workload: it is not passed on,
       * and the ring is not marked. If the engine re-armed that word
       * meanwhile and a producer swapped it again, the next wait finds it
       * 0 where the armed value is expected (EAGAIN, below). */
      if ((size_t) r >= n || w[r].val == WARD_RING_WAKE_OFF || !word_swapped((uintptr_t) w[r].uaddr)) {
        /* no nap when the engine armed meanwhile: the wake-up may be its
         * producer's, which the next wait finds */
        if (__atomic_load_n(&e->waker_kick, __ATOMIC_ACQUIRE) == w[0].val)
          forward(e, &last_us, &gap_us, true, false);
        continue;
      }
      woken_arm(e, (uintptr_t) w[r].uaddr);
      forward(e, &last_us, &gap_us, false, true);
    } else if (err == EAGAIN || err == EFAULT) {
      /* EAGAIN with the same kick: a word is not what the engine stored, a
       * producer swapped it to 0 (passed on) or the workload wrote
       * something else (noise: only a nap); EFAULT: a ring was truncated,
       * and the engine's next drain finds out. Noise backs off. */
      if (__atomic_load_n(&e->waker_kick, __ATOMIC_ACQUIRE) == w[0].val)
        forward(e, &last_us, &gap_us, true, err == EFAULT || mark_swapped(e, w, n));
    } else if (err != ETIMEDOUT && err != EINTR && ++failures >= 16) {
      /* denied (a seccomp profile without futex_waitv) or broken: the
       * engine polls instead of trusting a helper that cannot wait */
      __atomic_store_n(&e->waker_broken, true, __ATOMIC_RELEASE);
      forward(e, &last_us, &gap_us, false, true);
      break;
    }
  }
  return NULL;
}

void engine_waker_kick(struct ward_engine *e)
{
  __atomic_add_fetch(&e->waker_kick, 1, __ATOMIC_RELEASE);
  syscall(SYS_futex, &e->waker_kick, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

bool engine_waker_start(struct ward_engine *e)
{
  if (e->waker_on)
    return true;
  if (e->waker_failed)
    return false;
  /* zero waiters is EINVAL where the call exists and is allowed */
  if (syscall(SYS_futex_waitv, NULL, 0u, 0u, NULL, CLOCK_MONOTONIC) == 0 || errno != EINVAL) {
    e->waker_failed = true;
    return false;
  }
  e->waker_stop = false;
  e->waker_broken = false;
  /* signals stay with the threads that handle them (ward run forwards
   * them to the container); the synchronous ones cannot be blocked
   * usefully (a blocked SIGBUS or SIGSEGV kills the process) */
  sigset_t all, old;
  sigfillset(&all);
  sigdelset(&all, SIGBUS);
  sigdelset(&all, SIGSEGV);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  e->waker_on = pthread_create(&e->waker, NULL, waker_main, e) == 0;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  e->waker_failed = !e->waker_on;
  return e->waker_on;
}

bool engine_waker_usable(struct ward_engine *e)
{
  return e->waker_on && !e->waker_stop && !__atomic_load_n(&e->waker_broken, __ATOMIC_ACQUIRE);
}

void engine_waker_stop(struct ward_engine *e)
{
  if (!e->waker_on)
    return;
  pthread_mutex_lock(&e->lock);
  engine_waker_let_go(e);
  pthread_mutex_unlock(&e->lock);
  pthread_join(e->waker, NULL);
  e->waker_on = false;
}

void engine_waker_let_go(struct ward_engine *e)
{
  if (!e->waker_on || e->waker_stop)
    return;
  __atomic_store_n(&e->waker_stop, true, __ATOMIC_RELEASE);
  engine_waker_kick(e);
}

/* Empty wake-ups (no drain took a record from the ring since the arm they
 * woke), net of those that found records, after which a ring is left
 * unarmed, and for how long. A producer's wake-up always follows its
 * record; a workload that swaps its word to 0 and wakes it without one
 * cannot be told from a producer, and passed on, each of its wake-ups
 * cost the engine a drain, up to 600 a second. */
#define WAKE_EMPTY_STREAK 4
#define WAKE_QUIET_NS 100000000ull

/* Each ring on its own: one that cannot wake the engine (its producer does
 * not announce wake-ups: an older probe, or a workload that cleared
 * `caps`) or that woke it for nothing lately is left unarmed, and the
 * helper does not wait on its word, so nothing the workload does with that
 * word wakes anyone; the engine then looks every lazy timeout
 * (e->arm_partial), which only delays that ring's records. The others
 * sleep armed. Decided before any header is written: more wakeable rings
 * than one futex_waitv takes and the engine polls them all. A truncated
 * ring delivers nothing more: it is neither armed nor waited on. */
bool engine_arm(struct ward_engine *e, uint32_t mode)
{
  if (!engine_waker_usable(e))
    return false;
  size_t n = 0;
  for (struct ctr *c = e->list; c; c = c->next)
    if (ctr_ring_served(c) && ward_ring_can_arm(c->ring) > 0 && ++n > WAKE_RINGS_MAX)
      return false;
  bool stale = false;
  uint64_t now = 0;
  e->arm_partial = false;
  for (struct ctr *c = e->list; c; c = c->next) {
    if (!ctr_ring_served(c))
      continue;
    int can = ward_ring_can_arm(c->ring);
    if (can > 0 && c->quiet_until_ns && c->quiet_until_ns > (now ? now : (now = ward_now_ns())))
      can = 0;
    c->wake_off = can <= 0;
    if (c->wake_off) {
      e->arm_partial |= can == 0;
      c->armed_mode = WARD_RING_WAKE_OFF;
      c->armed_stamp = 0;
      stale |= c->waiter_val != WARD_RING_WAKE_OFF;
      continue;
    }
    /* what was seen under another judgement of records may deviate now */
    uint64_t mask = pipeline_wake_mask(c);
    uint32_t ctl_mode = c->ctl ? __atomic_load_n(&c->ctl->mode, __ATOMIC_ACQUIRE) : 0;
    if (mask != c->wake_mask || ctl_mode != c->seen_ctl_mode)
      ward_ring_seen_reset(c->ring);
    c->wake_mask = mask;
    c->seen_ctl_mode = ctl_mode;
    bool ok = ward_ring_arm(c->ring, mode, c->wake_mask);
    c->armed_mode = ok ? mode : WARD_RING_WAKE_OFF;
    c->armed_stamp = ok ? ++e->arm_stamps : 0;
    c->drained_in_arm = 0;
    stale |= c->waiter_val != c->armed_mode;
  }
  /* The helper must wait for the words to hold what was just stored, or a
   * producer's swap back to 0 before it sleeps goes unseen. When it already
   * expects these values, it sleeps on (a disarm and re-arm to the same
   * mode is invisible to it; a producer's swap in between fails its wait
   * with EAGAIN, which it passes on), and kicking it would cost a wake-up of
   * its own at every sleep of the engine. An armed mode is never OFF, so a
   * ring the helper has not looked at yet, or waits on for 0 after its
   * wake-up, always kicks; so does one it waits on that is left unarmed
   * now. */
  if (stale)
    engine_waker_kick(e);
  return true;
}

/* Judged once per wake-up, after the loop's drain that follows it, by the
 * records drained from the ring since the arm it woke: the supervisor's
 * handling of a notification drains the ring first, so that drain may
 * find nothing after a producer's wake-up. A wake-up of an arm since
 * replaced is not judged. One that found records forgives one that did
 * not, so a workload cannot hide a stream of empty ones behind an
 * occasional record: it pays a real record for every empty wake-up it is
 * forgiven. */
void engine_wake_judge(struct ctr *c)
{
  if (c->woke_stamp == 0 || c->woke_stamp == c->judged_stamp)
    return;
  c->judged_stamp = c->woke_stamp;
  if (c->woke_stamp != c->armed_stamp)
    return;
  if (c->drained_in_arm) {
    if (c->empty_wakes)
      c->empty_wakes--;
    return;
  }
  if (c->empty_wakes < 2 * WAKE_EMPTY_STREAK)
    c->empty_wakes++;
  if (c->empty_wakes >= WAKE_EMPTY_STREAK) {
    c->quiet_until_ns = ward_now_ns() + WAKE_QUIET_NS;
    c->e->waker_quiet++;
  }
}

void engine_disarm(struct ward_engine *e)
{
  for (struct ctr *c = e->list; c; c = c->next)
    if (ctr_ring_served(c) && c->armed_mode != WARD_RING_WAKE_OFF) {
      ward_ring_disarm(c->ring);
      c->armed_mode = WARD_RING_WAKE_OFF;
    }
}
