/* The producer side of the ring: claim a slot, fill it, publish it. Header
 * only and free of libc so the preload library (glibc and musl builds) and
 * the host's tests and benchmarks share the exact same code. Lock-free,
 * allocation-free, system-call-free and async-signal-safe: a signal handler
 * that interrupts a write simply claims the next ticket. (Waking a sleeping
 * consumer after publishing is ring_wake.h.) */
#ifndef WARD_RING_PRODUCE_H
#define WARD_RING_PRODUCE_H

#include <stddef.h>
#include <stdint.h>

#include "probe/ring_format.h"

/* The producer's private copy of the geometry, validated once at map time;
 * the shared header is never trusted again, so a workload rewriting it can
 * at worst make its own events go missing. */
struct ward_ring_prod {
  struct ward_ring_hdr *hdr;
  uint8_t *slots;
  uint64_t mask;            /* nslots - 1 */
  uint32_t slot_size;
};

/* The commit word of slot k holds commit - k (ring_format.h). */
static inline uint64_t ward_rec_commit_load(const struct ward_rec *r, uint64_t ticket, uint64_t mask, int order)
{
  return __atomic_load_n(&r->commit, order) + (ticket & mask);
}

static inline void ward_rec_commit_store(struct ward_rec *r, uint64_t ticket, uint64_t mask, uint64_t value, int order)
{
  __atomic_store_n(&r->commit, value - (ticket & mask), order);
}

/* A hostile head/commit pattern could otherwise keep a producer retrying. */
#define WARD_RING_CLAIM_TRIES 64

static inline struct ward_rec *ward_ring_slot(const struct ward_ring_prod *p, uint64_t ticket)
{
  return (struct ward_rec *) (void *) (p->slots + (size_t) (ticket & p->mask) * p->slot_size);
}

/* Returns the claimed slot, or NULL (and counts a drop) when the ring is full
 * or its shared words are corrupt. */
static inline struct ward_rec *ward_ring_claim(const struct ward_ring_prod *p, uint64_t *ticket)
{
  uint64_t pos = __atomic_load_n(&p->hdr->head, __ATOMIC_RELAXED);
  for (int tries = 0; tries < WARD_RING_CLAIM_TRIES; tries++) {
    struct ward_rec *r = ward_ring_slot(p, pos);
    uint64_t seq = ward_rec_commit_load(r, pos, p->mask, __ATOMIC_ACQUIRE);
    int64_t dif = (int64_t) (seq - pos);
    if (dif == 0) {
      if (__atomic_compare_exchange_n(&p->hdr->head, &pos, pos + 1, 1,
                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        *ticket = pos;
        return r;
      }
      /* lost the race: pos now holds the current head */
    } else if (dif < 0) {
      break;                /* the slot still holds last lap's record: full */
    } else {
      pos = __atomic_load_n(&p->hdr->head, __ATOMIC_RELAXED);
    }
  }
  __atomic_fetch_add(&p->hdr->drops, 1, __ATOMIC_RELAXED);
  return NULL;
}

static inline void ward_ring_publish(const struct ward_ring_prod *p, struct ward_rec *r, uint64_t ticket)
{
  ward_rec_commit_store(r, ticket, p->mask, ticket + 1, __ATOMIC_RELEASE);
}

/* The next record most likely goes to the next slot, whose lines the
 * consumer released (wrote) a lap ago: fetch them for writing now, while
 * the caller goes on, instead of stalling the next claim on the miss.
 * (Four slots ahead and prefetchw measured the same on the 2-core VM of
 * docs/benchmarks.md, within its noise.) */
static inline void ward_ring_prefetch(const struct ward_ring_prod *p, uint64_t ticket)
{
  const uint8_t *next = (const uint8_t *) ward_ring_slot(p, ticket + 1);
  __builtin_prefetch(next, 1, 3);
  __builtin_prefetch(next + 64, 1, 3);
}

/* Room for strings in a slot once the fixed parts are accounted for. */
static inline uint32_t ward_rec_str_room(uint32_t slot_size, int has_addr, unsigned nstack)
{
  uint32_t fixed = (uint32_t) sizeof(struct ward_rec) + (has_addr ? (uint32_t) sizeof(struct ward_rec_addr) : 0)
                   + 8u * nstack;
  return slot_size > fixed ? slot_size - fixed : 0;
}

#endif
