/* The shared-memory ring: its binary layout, shared by the in-container
 * producer (libward-probe.so, built for glibc and musl, so this header needs
 * nothing but the compiler) and the host-side consumer (ring.c).
 * docs/events.md describes the same layout for people.
 *
 * The file is a header page followed by nslots fixed-size slots. Slot
 * claiming follows Vyukov's bounded MPMC queue: every slot starts with a
 * 64-bit commit word. For ticket p the slot (p mod nslots) is free when
 * commit == p; a producer claims ticket p by CAS on head (p -> p+1), fills
 * the slot and publishes with a release store of commit = p+1. The consumer
 * accepts the slot at its own tail t only when commit == t+1, copies it out,
 * then releases it for the next lap with commit = t+nslots. The word stored
 * in slot k is commit - k (version 2), so a freshly truncated, all-zero file
 * is already a valid empty ring: creating one touches no slot page, which
 * keeps a 4 MiB ring off the container's start-up path. The ticket is the
 * per-container sequence number. A full ring fails the claim and the producer
 * counts a drop; nothing ever waits.
 *
 * Wake-ups: a consumer about to sleep sets `wake` (and `wake_mask`, the
 * record types that must reach it at once) and waits on it as a futex; a
 * producer that publishes a record the mode asks for swaps `wake` to 0 and
 * wakes it (ward_ring_wake_check, ring_wake.h). URGENT wakes for the types
 * in wake_mask and when a quarter of the ring waits behind the consumer's
 * published tail (looked at every eighth of the tickets, so a sleeping
 * consumer cannot let it fill); ANY wakes for every record (the ring was empty).
 * Producers that can wake set WARD_RING_CAP_WAKE in `caps` when they map
 * the ring. These fields sit in what was zero padding: a producer that
 * predates them never wakes, and a consumer that predates them never arms.
 *
 * The seen-set (ring_seen.h): 2 KiB of the header page from
 * WARD_RING_SEEN_OFF, a Bloom filter of the keys of records the consumer
 * has drained since it last reset the set. In URGENT a producer does not
 * wake the consumer for a record whose key tests as seen: it waits for the
 * consumer's next timed look.
 *
 * Every byte here is writable by the workload: the consumer validates each
 * record and keeps its own tail; header counters are hints. A workload that
 * clears `wake` or `wake_mask`, or sets bits of the seen-set, only delays
 * its own records to the consumer's timeout; one that clears `caps` makes
 * the consumer poll, as consumers did before these fields. */
#ifndef WARD_RING_FORMAT_H
#define WARD_RING_FORMAT_H

#include <stdint.h>

#define WARD_RING_MAGIC 0x474e5257u          /* "WRNG" little-endian */
#define WARD_RING_VERSION 2u
#define WARD_RING_HDR_SIZE 4096u
#define WARD_RING_SLOT_MIN 128u
#define WARD_RING_SLOT_MAX 4096u
#define WARD_RING_SLOT_DEFAULT 512u
#define WARD_RING_SIZE_DEFAULT (4u << 20)
#define WARD_RING_NSLOTS_MAX (1u << 24)

struct ward_ring_hdr {
  uint32_t magic;
  uint16_t version;
  uint16_t hdr_size;
  uint32_t slot_size;       /* power of two, SLOT_MIN..SLOT_MAX */
  uint32_t nslots;          /* power of two */
  uint64_t created_ns;      /* CLOCK_MONOTONIC at creation (informational) */
  uint32_t wake;            /* WARD_RING_WAKE_*: consumer sets, the waking producer clears */
  uint32_t caps;            /* WARD_RING_CAP_*: what the ring's producers can do */
  uint64_t wake_mask;       /* bit per record type (+ WARD_RING_WAKE_WRITE_OPEN) that wakes in URGENT */
  uint8_t pad0[24];
  /* Each hot word on its own cache line so producers claiming tickets do
   * not false-share with the consumer's tail or the drop counter. */
  uint64_t head;            /* next ticket to claim (producers, CAS) */
  uint8_t pad1[56];
  uint64_t tail;            /* consumer's published tail (hint only) */
  uint8_t pad2[56];
  uint64_t drops;           /* producer-counted drops: ring full or corrupt */
  uint8_t pad3[56];
};

#define WARD_RING_WAKE_OFF     0u   /* consumer awake or polling: producers do nothing */
#define WARD_RING_WAKE_URGENT  1u   /* wake for wake_mask types and a quarter ring of backlog */
#define WARD_RING_WAKE_ANY     2u   /* wake for any record */
#define WARD_RING_CAP_WAKE     0x1u /* a producer honours `wake` */
#define WARD_RING_WAKE_WRITE_OPEN (1ull << 63)  /* wake_mask: opens for writing, creating or truncating */

#define WARD_RING_SEEN_OFF     2048u   /* in the header page, past the fields above */
#define WARD_RING_SEEN_BITS    16384u  /* 2 KiB */
#define WARD_RING_SEEN_KEYS_MAX 1024u  /* the consumer starts the set afresh past this many keys */

/* Record header: the first 64 bytes of a used slot. */
struct ward_rec {
  uint64_t commit;          /* see above (stored minus the slot index); also the busy marker */
  uint16_t type;            /* enum ward_event_type */
  uint16_t len;             /* bytes used in the slot, header included */
  uint16_t call;            /* enum ward_probe_call */
  uint16_t flags;           /* WARD_REC_F_* */
  uint32_t pid, tid;
  uint64_t ts_ns;           /* CLOCK_MONOTONIC when the call began */
  int64_t ret;              /* return value, or -errno */
  uint32_t a_flags;         /* -> ward_event.flags */
  uint32_t a_mode;          /* -> ward_event.mode */
  int64_t arg;              /* -> ward_event.arg */
  uint32_t call_ns;         /* perf group: duration of the call */
  uint16_t len1, len2;      /* string lengths (no NUL) */
};

/* Optional blocks follow the header in this order: address (F_ADDR), then
 * nstack return addresses (8 bytes each), then string 1, then string 2. */
struct ward_rec_addr {
  uint16_t family;
  uint16_t port;            /* host byte order */
  uint32_t reserved;        /* zero */
  uint8_t addr[16];         /* IPv4 in the first 4 bytes */
};

#define WARD_REC_F_ADDR      0x0001u  /* a struct ward_rec_addr follows */
#define WARD_REC_F_TRUNC1    0x0002u  /* string 1 was cut to fit */
#define WARD_REC_F_TRUNC2    0x0004u
#define WARD_REC_F_DENIED    0x0008u  /* the probe refused the call (never made) */
#define WARD_REC_F_REL1      0x0010u  /* string 1 is relative to an unknown dir */
#define WARD_REC_F_REL2      0x0020u
#define WARD_REC_F_REDIRECT  0x0040u  /* honeypot: made with string 2 as the destination/file */
#define WARD_REC_F_PERF      0x0080u  /* made with the perf group on: one call for `ward top` */
#define WARD_REC_F_TIMED     0x0100u  /* call_ns is a measured duration (perf timed this call) */
#define WARD_REC_F_STACK_SHIFT 12     /* bits 12..15: number of stack words */
#define WARD_REC_F_STACK_MASK 0xf000u
#define WARD_REC_F_KNOWN     (0x01ffu | WARD_REC_F_STACK_MASK)

_Static_assert(sizeof(struct ward_ring_hdr) == 256, "ring header layout");
_Static_assert(sizeof(struct ward_rec) == 64, "record header layout");
_Static_assert(__builtin_offsetof(struct ward_ring_hdr, wake) == 24, "ring header layout");
_Static_assert(__builtin_offsetof(struct ward_ring_hdr, wake_mask) == 32, "ring header layout");
_Static_assert(__builtin_offsetof(struct ward_ring_hdr, head) == 64, "ring header layout");
_Static_assert(WARD_RING_SEEN_OFF >= sizeof(struct ward_ring_hdr)
               && WARD_RING_SEEN_OFF + WARD_RING_SEEN_BITS / 8 <= WARD_RING_HDR_SIZE, "seen-set layout");
_Static_assert(sizeof(struct ward_rec_addr) == 24, "address block layout");

#endif
