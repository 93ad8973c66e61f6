/* The ring's seen-set (ring_format.h): a Bloom filter in the header page
 * of the keys of records the consumer has already drained, so that an
 * armed consumer is not woken again for a record like one it has looked at
 * (a web server reading the same file for every request, in monitor mode
 * where every record type may deviate). Header only and free of libc: the
 * glibc and musl probes hash the record they are about to publish, the
 * consumer hashes the event it decoded, and both must agree to the bit.
 *
 * A key is the record without what differs between repeats of the same
 * behaviour: pid, tid, time, sequence, stack and duration always; the file
 * descriptor of the net calls and the address of an mprotect; the peer of
 * an accept; a successful call's return value. Execs, forks, clones, spawns
 * and system() never count as seen: the template judges them by their
 * parent, which the record does not carry.
 *
 * The consumer notes only records that raised no alert, so a repeat of
 * one that did still wakes it. The set only decides how soon the consumer
 * looks, never what it finds: every record is still drained and checked
 * in order. A key the set holds by collision, by a workload writing bits
 * into its own ring's header, or because a repeat deviates where the first
 * did not (a rate, a sequence) waits for the consumer's next timed look
 * (--poll-max-us, 25 ms by default; up to the 100 ms idle timeout in the
 * unfenced race docs/events.md describes, as for any record). */
#ifndef WARD_RING_SEEN_H
#define WARD_RING_SEEN_H

#include <stdint.h>

#include "probe/event.h"
#include "probe/ring_format.h"

/* The parts of a record a key is made of: one form for both sides. */
struct ward_seen_fields {
  unsigned type, call, flags;  /* flags: WARD_REC_F_* */
  uint32_t a_flags, a_mode;
  int64_t arg, ret;
  uint16_t family, port;
  const uint8_t *addr;         /* 16 bytes, or NULL for none */
  const uint8_t *s1, *s2;
  uint32_t n1, n2;
};

/* The record flags a repeat must share: what was cut or relative, denied or
 * redirected (not perf timing or the stack depth). */
#define WARD_SEEN_REC_FLAGS (WARD_REC_F_TRUNC1 | WARD_REC_F_TRUNC2 | WARD_REC_F_DENIED | WARD_REC_F_REL1 \
                             | WARD_REC_F_REL2 | WARD_REC_F_REDIRECT)

static inline int ward_seen_type(unsigned type)
{
  return type != WARD_EV_EXEC && type != WARD_EV_FORK && type != WARD_EV_CLONE && type != WARD_EV_SPAWN
         && type != WARD_EV_SYSTEM && type < WARD_EV_TYPE_COUNT;
}

static inline uint64_t ward_seen_mix(uint64_t h, uint64_t v)
{
  h ^= v;
  h *= 0x9e3779b97f4a7c15ull;
  return h ^ (h >> 29);
}

/* Eight bytes at a time (a path is hashed in a few nanoseconds); the tail
 * is zero-padded, and the length is mixed in by the caller. */
static inline uint64_t ward_seen_mix_bytes(uint64_t h, const uint8_t *p, uint32_t n)
{
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    __builtin_memcpy(&v, p, 8);
    h = ward_seen_mix(h, v);
  }
  if (n) {
    uint64_t v = 0;
    for (uint32_t i = 0; i < n; i++)
      v |= (uint64_t) p[i] << (8 * i);
    h = ward_seen_mix(h, v);
  }
  return h;
}

/* Never 0: 0 means "no key" to the producer's wake-up check. */
static inline uint64_t ward_seen_key(const struct ward_seen_fields *f)
{
  int net_fd = f->type == WARD_EV_CONNECT || f->type == WARD_EV_BIND || f->type == WARD_EV_LISTEN
               || f->type == WARD_EV_ACCEPT || f->type == WARD_EV_SENDTO;
  int64_t arg = net_fd || f->type == WARD_EV_MPROTECT_WX ? 0 : f->arg;
  int peer = f->type == WARD_EV_ACCEPT;
  uint64_t h = 0x77617264u;  /* "ward" */
  h = ward_seen_mix(h, (uint64_t) f->type | (uint64_t) f->call << 16 | (uint64_t) (f->flags & WARD_SEEN_REC_FLAGS) << 32);
  h = ward_seen_mix(h, (uint64_t) f->a_flags | (uint64_t) f->a_mode << 32);
  h = ward_seen_mix(h, (uint64_t) arg);
  h = ward_seen_mix(h, (uint64_t) (f->ret < 0 ? f->ret : 0));
  h = ward_seen_mix(h, (uint64_t) f->family | (uint64_t) (peer ? 0 : f->port) << 16);
  if (f->addr && !peer)
    h = ward_seen_mix_bytes(h, f->addr, 16);
  h = ward_seen_mix(h, (uint64_t) f->n1 | (uint64_t) f->n2 << 32);
  h = ward_seen_mix_bytes(h, f->s1, f->n1);
  h = ward_seen_mix_bytes(h, f->s2, f->n2);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h | 1;
}

/* Two bits of the set per key (k = 2: at the reset bound of
 * WARD_RING_SEEN_KEYS_MAX keys, about 1.4 % of unseen keys test as seen and
 * wait for the timed look). */
static inline void ward_seen_bits(uint64_t key, uint32_t bit[2])
{
  bit[0] = (uint32_t) (key >> 8) & (WARD_RING_SEEN_BITS - 1);
  bit[1] = (uint32_t) (key >> 36) & (WARD_RING_SEEN_BITS - 1);
}

static inline const uint64_t *ward_seen_words(const struct ward_ring_hdr *h)
{
  return (const uint64_t *) (const void *) ((const uint8_t *) h + WARD_RING_SEEN_OFF);
}

/* Whether both of key's bits are set in the set's words w: the header's
 * (shared, hence the atomic loads) or the consumer's private copy. */
static inline int ward_seen_in(const uint64_t *w, uint64_t key)
{
  uint32_t b[2];
  ward_seen_bits(key, b);
  return (__atomic_load_n(&w[b[0] / 64], __ATOMIC_RELAXED) >> (b[0] % 64) & 1)
         && (__atomic_load_n(&w[b[1] / 64], __ATOMIC_RELAXED) >> (b[1] % 64) & 1);
}

static inline int ward_seen_has(const struct ward_ring_hdr *h, uint64_t key)
{
  return ward_seen_in(ward_seen_words(h), key);
}

/* The producer's key of claimed slot r, before it publishes it (after, the
 * slot is the consumer's). The lengths are the producer's own, but another
 * thread of the workload could rewrite them: they are cut to the slot. */
static __attribute__((cold, noinline, unused)) uint64_t ward_seen_key_rec(const struct ward_rec *r, uint32_t slot_size)
{
  struct ward_seen_fields f = {.type = r->type, .call = r->call, .flags = __atomic_load_n(&r->flags, __ATOMIC_RELAXED),
                               .a_flags = r->a_flags, .a_mode = r->a_mode, .arg = r->arg, .ret = r->ret};
  if (!ward_seen_type(f.type))
    return 0;
  const uint8_t *q = (const uint8_t *) (r + 1);
  uint32_t room = slot_size - (uint32_t) sizeof(*r);
  if (f.flags & WARD_REC_F_ADDR) {
    const struct ward_rec_addr *a = (const struct ward_rec_addr *) (const void *) q;
    f.family = __atomic_load_n(&a->family, __ATOMIC_RELAXED);
    f.port = a->port;
    f.addr = f.family ? a->addr : 0;  /* as the consumer has it: no family, no address */
    q += sizeof(*a);
    room -= (uint32_t) sizeof(*a);
  }
  uint32_t stack = 8u * ((f.flags & WARD_REC_F_STACK_MASK) >> WARD_REC_F_STACK_SHIFT);
  if (stack > room)
    return 0;
  q += stack;
  room -= stack;
  /* each length loaded once: another thread could change it between a
   * check and a use */
  uint32_t len1 = __atomic_load_n(&r->len1, __ATOMIC_RELAXED), len2 = __atomic_load_n(&r->len2, __ATOMIC_RELAXED);
  f.n1 = len1 < room ? len1 : room;
  f.n2 = len2 < room - f.n1 ? len2 : room - f.n1;
  f.s1 = q;
  f.s2 = q + f.n1;
  return ward_seen_key(&f);
}

#endif
