/* Filling a claimed slot (from a struct ward_rec_in, or field by field with
 * ward_rec_fill as the probe does). Header only (the musl and glibc probes
 * include it); async-signal-safe. */
#ifndef WARD_RING_WRITE_H
#define WARD_RING_WRITE_H

#include "probe/ring_produce.h"
#include "probe/ring_wake.h"

/* Producer-side record builder shared by tests, benchmarks and the probe:
 * strings are given in up to three pieces that are concatenated (so the
 * probe can join cwd + "/" + path without a copy) and cut to fit the slot. */
struct ward_rec_str {
  const char *part[3];
  size_t len[3];
};
struct ward_rec_in {
  uint16_t type, call, flags;
  uint32_t pid, tid;
  uint64_t ts_ns;
  int64_t ret;
  uint32_t a_flags, a_mode;
  int64_t arg;
  uint32_t call_ns;
  const struct ward_rec_addr *addr;
  const uint64_t *stack;
  unsigned nstack;
  struct ward_rec_str s1, s2;
};

static inline size_t ward_rec_str_len(const struct ward_rec_str *s)
{
  return s->len[0] + s->len[1] + s->len[2];
}

static inline void ward_rec_str_put(uint8_t *dst, const struct ward_rec_str *s, size_t n)
{
  if (__builtin_expect(n <= s->len[0], 1)) {
    /* the usual case: one piece (an absolute path, a name) */
    if (n)
      __builtin_memcpy(dst, s->part[0], n);
    return;
  }
  for (int i = 0; i < 3 && n > 0; i++) {
    size_t k = s->len[i] < n ? s->len[i] : n;
    if (k) {
      __builtin_memcpy(dst, s->part[i], k);
      dst += k;
      n -= k;
    }
  }
}

/* How much of two strings of t1 and t2 bytes goes into room bytes: the
 * room is shared, a short string leaving its half to the other. Returns
 * the TRUNC flags for what was cut. Lengths capped at any bound > room
 * (e.g. a bounded strlen) give the same answer as the full lengths. */
static inline uint16_t ward_rec_fit(size_t room, size_t t1, size_t t2, size_t *n1, size_t *n2)
{
  size_t a = t1, b = t2;
  if (a + b > room) {
    size_t half = room / 2;
    a = t1 < half ? t1 : (t2 < half ? room - t2 : half);
    if (a > t1)
      a = t1;
    b = room - a < t2 ? room - a : t2;
  }
  *n1 = a;
  *n2 = b;
  return (uint16_t) ((a < t1 ? WARD_REC_F_TRUNC1 : 0) | (b < t2 ? WARD_REC_F_TRUNC2 : 0));
}

/* Fills everything of claimed slot r but the caller's own fields (type,
 * call, pid, tid, ts_ns, ret, a_flags, a_mode, arg, call_ns) and the commit
 * word: the optional blocks and strings, cut to fit the slot, then len,
 * len1, len2 and flags (the caller's flags with ADDR, TRUNC and the stack
 * count set from what was written). */
static inline __attribute__((always_inline)) void ward_rec_fill(struct ward_rec *r, uint32_t slot_size, uint16_t flags,
                                                                const struct ward_rec_addr *addr, const uint64_t *stack,
                                                                unsigned nstack, const struct ward_rec_str *s1,
                                                                const struct ward_rec_str *s2)
{
  if (nstack > 8)
    nstack = 8;
  /* a small slot (128 bytes) holds the address block but not eight stack
   * words beside it: the stack is cut, never written past the slot */
  uint32_t fixed = (uint32_t) sizeof(*r) + (addr ? (uint32_t) sizeof(*addr) : 0u);
  if (nstack > (slot_size - fixed) / 8)
    nstack = (slot_size - fixed) / 8;
  size_t room = ward_rec_str_room(slot_size, addr != 0, nstack);
  size_t n1, n2;
  flags = (uint16_t) (flags & ~(WARD_REC_F_ADDR | WARD_REC_F_TRUNC1 | WARD_REC_F_TRUNC2 | WARD_REC_F_STACK_MASK));
  flags |= ward_rec_fit(room, ward_rec_str_len(s1), ward_rec_str_len(s2), &n1, &n2);
  uint8_t *q = (uint8_t *) (r + 1);
  if (addr) {
    flags |= WARD_REC_F_ADDR;
    __builtin_memcpy(q, addr, sizeof(*addr));
    q += sizeof(*addr);
  }
  if (nstack) {
    flags |= (uint16_t) (nstack << WARD_REC_F_STACK_SHIFT);
    __builtin_memcpy(q, stack, 8 * nstack);
    q += 8 * nstack;
  }
  ward_rec_str_put(q, s1, n1);
  ward_rec_str_put(q + n1, s2, n2);
  r->len = (uint16_t) ((size_t) (q - (uint8_t *) r) + n1 + n2);
  r->flags = flags;
  r->len1 = (uint16_t) n1;
  r->len2 = (uint16_t) n2;
}

/* Publishes claimed slot r, wakes a consumer that asked for it
 * (ring_wake.h), then fetches the lines the next records most likely go to
 * (ward_ring_prefetch). The seen-set key is only worth hashing when the
 * consumer sleeps for what can alert and the record is of a type it asked
 * for; these looks at `wake` and `wake_mask` are hints (the ones after
 * publishing decide), so a consumer that arms in between is woken as if the
 * record had no key. */
static inline __attribute__((always_inline)) void ward_ring_commit(const struct ward_ring_prod *p, struct ward_rec *r,
                                                                   uint64_t ticket)
{
  unsigned type = r->type;
  uint32_t a_flags = r->a_flags;
  uint64_t key = 0;
  if (__builtin_expect(__atomic_load_n(&p->hdr->wake, __ATOMIC_RELAXED) == WARD_RING_WAKE_URGENT, 0)
      && ward_ring_wake_wanted(__atomic_load_n(&p->hdr->wake_mask, __ATOMIC_RELAXED), type, a_flags))
    key = ward_seen_key_rec(r, p->slot_size);
  ward_ring_publish(p, r, ticket);
  ward_ring_wake_check(p, ticket, type, a_flags, key);
  ward_ring_prefetch(p, ticket);
}

/* Fills claimed slot r from in, all but the commit word. */
static inline __attribute__((always_inline)) void ward_rec_fill_in(struct ward_rec *r, uint32_t slot_size,
                                                                   const struct ward_rec_in *in)
{
  ward_rec_fill(r, slot_size, in->flags, in->addr, in->stack, in->nstack, &in->s1, &in->s2);
  r->type = in->type;
  r->call = in->call;
  r->pid = in->pid;
  r->tid = in->tid;
  r->ts_ns = in->ts_ns;
  r->ret = in->ret;
  r->a_flags = in->a_flags;
  r->a_mode = in->a_mode;
  r->arg = in->arg;
  r->call_ns = in->call_ns;
}

/* Claims, fills and publishes one record. Returns 0, or -1 when dropped. */
static inline __attribute__((always_inline)) int ward_ring_write(const struct ward_ring_prod *p, const struct ward_rec_in *in)
{
  uint64_t ticket;
  struct ward_rec *r = ward_ring_claim(p, &ticket);
  if (r == 0)
    return -1;
  ward_rec_fill_in(r, p->slot_size, in);
  ward_ring_commit(p, r, ticket);
  return 0;
}

#endif
