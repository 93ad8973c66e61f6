/* Filling a claimed slot from a struct ward_rec_in. Header only and libc
 * free (the musl and glibc probes include it); async-signal-safe. */
#ifndef WARD_RING_WRITE_H
#define WARD_RING_WRITE_H

#include "probe/ring_produce.h"

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
  for (int i = 0; i < 3 && n > 0; i++) {
    size_t k = s->len[i] < n ? s->len[i] : n;
    if (k) {
      __builtin_memcpy(dst, s->part[i], k);
      dst += k;
      n -= k;
    }
  }
}

/* Claims, fills and publishes one record. Returns 0, or -1 when dropped. */
static inline int ward_ring_write(const struct ward_ring_prod *p, const struct ward_rec_in *in)
{
  uint64_t ticket;
  struct ward_rec *r = ward_ring_claim(p, &ticket);
  if (r == 0)
    return -1;
  unsigned nstack = in->nstack > 8 ? 8 : in->nstack;
  size_t room = ward_rec_str_room(p->slot_size, in->addr != 0, nstack);
  size_t t1 = ward_rec_str_len(&in->s1), t2 = ward_rec_str_len(&in->s2);
  size_t n1 = t1, n2 = t2;
  if (n1 + n2 > room) {
    /* share the room, letting a short string leave its half to the other */
    size_t half = room / 2;
    n1 = t1 < half ? t1 : (t2 < half ? room - t2 : half);
    if (n1 > t1)
      n1 = t1;
    n2 = room - n1 < t2 ? room - n1 : t2;
  }
  uint16_t flags = (uint16_t) (in->flags & ~(WARD_REC_F_ADDR | WARD_REC_F_TRUNC1 | WARD_REC_F_TRUNC2 | WARD_REC_F_STACK_MASK));
  if (n1 < t1)
    flags |= WARD_REC_F_TRUNC1;
  if (n2 < t2)
    flags |= WARD_REC_F_TRUNC2;
  uint8_t *q = (uint8_t *) (r + 1);
  if (in->addr) {
    flags |= WARD_REC_F_ADDR;
    __builtin_memcpy(q, in->addr, sizeof(*in->addr));
    q += sizeof(*in->addr);
  }
  if (nstack) {
    flags |= (uint16_t) (nstack << WARD_REC_F_STACK_SHIFT);
    __builtin_memcpy(q, in->stack, 8 * nstack);
    q += 8 * nstack;
  }
  ward_rec_str_put(q, &in->s1, n1);
  ward_rec_str_put(q + n1, &in->s2, n2);
  r->type = in->type;
  r->len = (uint16_t) ((size_t) (q - (uint8_t *) r) + n1 + n2);
  r->call = in->call;
  r->flags = flags;
  r->pid = in->pid;
  r->tid = in->tid;
  r->ts_ns = in->ts_ns;
  r->ret = in->ret;
  r->a_flags = in->a_flags;
  r->a_mode = in->a_mode;
  r->arg = in->arg;
  r->call_ns = in->call_ns;
  r->len1 = (uint16_t) n1;
  r->len2 = (uint16_t) n2;
  ward_ring_publish(p, r, ticket);
  /* The next record most likely goes to the next slot, whose lines the
   * consumer released (wrote) a lap ago: fetch them for writing now, while
   * the caller goes on, instead of stalling the next claim on the miss. */
  uint8_t *next = (uint8_t *) ward_ring_slot(p, ticket + 1);
  __builtin_prefetch(next, 1, 3);
  __builtin_prefetch(next + 64, 1, 3);
  return 0;
}

#endif
