/* The producer's half of the ring's wake-ups (ring_format.h): after
 * publishing a record, wake a consumer that sleeps on this ring if the
 * record is one it asked for. Header only (the glibc and musl probes and the
 * host's tests and benchmarks share it); async-signal-safe: one load when
 * nobody sleeps, and at most one swap and one futex system call when
 * somebody does. */
#ifndef WARD_RING_WAKE_H
#define WARD_RING_WAKE_H

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe/event.h"
#include "probe/ring_produce.h"
#include "probe/ring_seen.h"

/* FUTEX_WAKE (linux/futex.h, which the musl build cannot include) */
#define WARD_FUTEX_WAKE 1

_Static_assert(WARD_EV_TYPE_COUNT < 63, "wake_mask has a bit per record type and WARD_RING_WAKE_WRITE_OPEN");

/* Whether a record of type with open flags a_flags is one mask asks to be
 * woken for. The consumer classifies what it drained with the same test.
 * The access mode is the low two bits (musl's O_ACCMODE also holds O_PATH,
 * glibc's does not: the two sides must agree). */
static inline int ward_ring_wake_wanted(uint64_t mask, unsigned type, uint32_t a_flags)
{
  if (type < 63 && (mask >> type) & 1)
    return 1;
  return type == WARD_EV_OPEN && (mask & WARD_RING_WAKE_WRITE_OPEN)
         && ((a_flags & 3) != O_RDONLY || (a_flags & (O_CREAT | O_TRUNC)));
}

/* A sleeping consumer must not let the ring fill: URGENT also wakes it once
 * a quarter of the ring waits. The consumer publishes its tail when it
 * sleeps; the backlog is looked at every eighth of the ring's tickets, so
 * the usual record costs no read of the consumer's line. (A wake-up at
 * every quarter of the tickets, backlog or not, cost a shell reading files
 * 40 wake-ups a second with 900 records waiting at most.) The tail is the
 * workload's to write like the rest: a false one only wakes the consumer
 * more often (its helper rate-limits that) or lets its own ring fill. */
static inline int ward_ring_backlog_wanted(const struct ward_ring_prod *p, uint64_t ticket)
{
  if ((ticket & (p->mask >> 3)) != 0)
    return 0;
  uint64_t tail = __atomic_load_n(&p->hdr->tail, __ATOMIC_RELAXED);
  return ticket - tail >= (p->mask + 1) / 4;
}

/* key: the record's seen-set key (ring_seen.h), 0 for none. */
static __attribute__((noinline, cold)) void ward_ring_wake_slow(const struct ward_ring_prod *p, uint64_t ticket,
                                                                unsigned type, uint32_t a_flags, uint64_t key,
                                                                uint32_t w)
{
  /* the wake mask and the seen-set are read after the `wake` that said to
   * look at them: a consumer that reset the set before arming is not
   * judged by its old bits (free on x86; arm64 needs it) */
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  if (w != WARD_RING_WAKE_ANY
      && !(ward_ring_wake_wanted(__atomic_load_n(&p->hdr->wake_mask, __ATOMIC_RELAXED), type, a_flags)
           && !(key && ward_seen_has(p->hdr, key)))
      && !ward_ring_backlog_wanted(p, ticket))
    return;
  /* one producer wakes; the rest see 0 (the consumer re-arms when it sleeps again) */
  if (__atomic_exchange_n(&p->hdr->wake, WARD_RING_WAKE_OFF, __ATOMIC_ACQ_REL) == WARD_RING_WAKE_OFF)
    return;
  /* not private: the consumer is another process with its own mapping of
   * the same file. The application's errno is left as it was. */
  int saved = errno;
  syscall(SYS_futex, &p->hdr->wake, WARD_FUTEX_WAKE, 1, (void *) 0, (void *) 0, 0);
  errno = saved;
}

/* Call after ward_ring_publish, with the type, flags and seen-set key the
 * record was published with (the slot is the consumer's by then). The
 * usual case, nobody asleep, is one load of a line the consumer writes only
 * when it goes to sleep or wakes. */
static inline __attribute__((always_inline)) void ward_ring_wake_check(const struct ward_ring_prod *p, uint64_t ticket,
                                                                       unsigned type, uint32_t a_flags, uint64_t key)
{
  uint32_t w = __atomic_load_n(&p->hdr->wake, __ATOMIC_RELAXED);
  if (__builtin_expect(w != WARD_RING_WAKE_OFF, 0))
    ward_ring_wake_slow(p, ticket, type, a_flags, key, w);
}

#endif
