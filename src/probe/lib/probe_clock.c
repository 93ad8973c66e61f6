/* The probe's clock: CLOCK_MONOTONIC nanoseconds from the TSC.
 *
 * A record with the perf group on takes two timestamps; through the vDSO
 * each costs about 30 ns in a KVM guest, a TSC read about half of that. The
 * TSC is turned into CLOCK_MONOTONIC nanoseconds by extrapolating from an
 * anchor (a TSC value taken together with clock_gettime) with a rate measured
 * against clock_gettime since the process started. An anchor is only used
 * for PROBE_CLK_WINDOW_NS: then the next call re-anchors (one vDSO call per
 * window and process), so the clock can never drift from CLOCK_MONOTONIC by
 * more than the rate error over that window (well under a microsecond), NTP
 * slewing included. A TSC that jumps (a VM restored or migrated, a CPU
 * whose counter is off) shows up at the next re-anchor as a wrong
 * extrapolation and throws the rate away; a backward step is outside the
 * window at once. Until a rate is known, and on CPUs without an invariant
 * TSC, every timestamp comes from clock_gettime, as before.
 *
 * The shared state is a seqlock with a try-lock writer: a reader never
 * waits, and one that finds a writer active (another thread, or the thread
 * it interrupted as a signal handler) uses clock_gettime for that call. */
#include "probe/lib/probe.h"

#if PROBE_CLK_TSC

HIDDEN struct probe_clock probe_clk;

/* the rate is first measured over this much time (each anchor pair is good
 * to half a microsecond: 0.1 % at worst, 1 us over a window), then over the
 * process's life */
#define PROBE_CLK_CAL_NS 500000u
/* an extrapolation this far off at a re-anchor means the TSC jumped */
#define PROBE_CLK_JUMP_NS 20000u

static int tsc_usable = -1;    /* -1: not checked yet */

static int invariant_tsc(void)
{
  /* CPUID 0x80000007 EDX bit 8: the TSC ticks at a constant rate in every
   * P-, C- and T-state (Linux's constant_tsc + nonstop_tsc) */
  uint32_t a, b, c, d;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u), "c"(0));
  if (a < 0x80000007u)
    return 0;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000007u), "c"(0));
  return (d >> 8) & 1;
}

/* Calibration state, only touched under the write lock. */
static uint64_t base_tsc, base_ns;    /* base_ns == 0: no baseline */

static void reset_locked(void)
{
  base_tsc = base_ns = 0;
  __atomic_store_n(&probe_clk.window, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&probe_clk.mult, 0, __ATOMIC_RELAXED);
}

static void recalibrate_locked(uint64_t t, uint64_t ns)
{
  if (base_ns == 0 || (int64_t) (t - base_tsc) <= 0 || ns <= base_ns) {
    base_tsc = t;
    base_ns = ns;
    return;
  }
  uint64_t dt = t - base_tsc, dn = ns - base_ns;
  uint64_t mult = __atomic_load_n(&probe_clk.mult, __ATOMIC_RELAXED);
  uint64_t window = __atomic_load_n(&probe_clk.window, __ATOMIC_RELAXED);
  if (mult && window) {
    uint64_t a_tsc = __atomic_load_n(&probe_clk.tsc, __ATOMIC_RELAXED);
    uint64_t a_ns = __atomic_load_n(&probe_clk.ns, __ATOMIC_RELAXED);
    uint64_t guess = a_ns + (uint64_t) (((unsigned __int128) (t - a_tsc) * mult) >> 32);
    uint64_t off = guess > ns ? guess - ns : ns - guess;
    if ((int64_t) (t - a_tsc) < 0 || off > PROBE_CLK_JUMP_NS) {
      reset_locked();
      base_tsc = t;
      base_ns = ns;
      return;
    }
  }
  if (dn < PROBE_CLK_CAL_NS)
    return;
  mult = (uint64_t) (((unsigned __int128) dn << 32) / dt);
  if (mult == 0)
    return;
  window = (uint64_t) (((unsigned __int128) PROBE_CLK_WINDOW_NS << 32) / mult);
  __atomic_store_n(&probe_clk.tsc, t, __ATOMIC_RELAXED);
  __atomic_store_n(&probe_clk.ns, ns, __ATOMIC_RELAXED);
  __atomic_store_n(&probe_clk.mult, mult, __ATOMIC_RELAXED);
  __atomic_store_n(&probe_clk.window, window, __ATOMIC_RELAXED);
}

static uint64_t clock_slow(void);

/* errno is the caller's (a wrapper's record must not change it), and the
 * vDSO may fall back to a system call */
HIDDEN uint64_t probe_clock_slow(void)
{
  int saved = errno;
  uint64_t ns = clock_slow();
  errno = saved;
  return ns;
}

static uint64_t clock_slow(void)
{
  int usable = __atomic_load_n(&tsc_usable, __ATOMIC_RELAXED);
  if (UNLIKELY(usable < 0)) {
    usable = invariant_tsc();   /* the same answer in every thread */
    __atomic_store_n(&tsc_usable, usable, __ATOMIC_RELAXED);
  }
  if (!usable)
    return probe_vdso_now();
  /* take the TSC on both sides of the vDSO call: the midpoint pairs best */
  uint64_t t1 = __builtin_ia32_rdtsc();
  uint64_t ns = probe_vdso_now();
  uint64_t t2 = __builtin_ia32_rdtsc();
  uint32_t s = __atomic_load_n(&probe_clk.seq, __ATOMIC_RELAXED);
  if ((s & 1) || !__atomic_compare_exchange_n(&probe_clk.seq, &s, s + 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
    return ns;
  if (t2 - t1 < 2048)    /* not interrupted in between: a pair good to 1 us */
    recalibrate_locked(t1 + (t2 - t1) / 2, ns);
  __atomic_store_n(&probe_clk.seq, s + 2, __ATOMIC_RELEASE);
  return ns;
}

HIDDEN void probe_clock_after_fork_child(void)
{
  /* only this thread survives: a writer that was active in another one
   * left the lock odd and its words half-written (the same TSC keeps a
   * consistent state valid in the child) */
  if (__atomic_load_n(&probe_clk.seq, __ATOMIC_RELAXED) & 1) {
    reset_locked();
    __atomic_store_n(&probe_clk.seq, 0, __ATOMIC_RELEASE);
  }
}

#else

HIDDEN void probe_clock_after_fork_child(void) {}

#endif
