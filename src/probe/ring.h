/* Host side of the event ring (format: probe/ring_format.h, docs/events.md).
 *
 * The runtime creates one ring per container, normally as a sealed memfd
 * (ward_ring_create_memfd) so that no process in the container can shrink
 * the file under the mappings of its siblings or of the host (SIGBUS); it is
 * bind-mounted read-write at WARD_PROBE_DIR/ring. One consumer per ring
 * (ward_ring_lock_consumer) decodes it into struct ward_event. The consumer
 * treats every byte as hostile: it keeps its own tail and geometry, accepts
 * a slot only when its commit word says so, validates every record, counts
 * and skips bad ones, skips slots whose producer died mid-write, and repairs
 * a corrupted head; it never blocks, never loops unboundedly, never crashes. */
#ifndef WARD_RING_H
#define WARD_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "probe/event.h"
#include "probe/ring_write.h"

struct ward_ring;

struct ward_ring_stats {
  uint64_t events;      /* valid records delivered */
  uint64_t bad;         /* committed or corrupt slots that failed validation */
  uint64_t lost;        /* claimed slots never published (producer died or stalled) */
  uint64_t drops;       /* producer-side drops (ring full), from the header hint */
  uint64_t repairs;     /* corrupted head words put right */
  uint64_t tail;        /* next ticket the consumer expects */
};

/* Geometry: bytes of record space (0: WARD_RING_SIZE_DEFAULT, 4 MiB) and
 * slot size (0: WARD_RING_SLOT_DEFAULT, a power of two). The slot count is
 * the largest power of two that fits; the file is one header page more. */
int ward_ring_init_fd(int fd, size_t size, uint32_t slot_size, ward_error_t *err);
/* A sealed memfd (F_SEAL_SHRINK|GROW|SEAL), close-on-exec. */
int ward_ring_create_memfd(size_t size, uint32_t slot_size, int *fd_out, ward_error_t *err);
/* A plain file (mode 0666: every uid in the container produces), made
 * with O_EXCL; its read-write fd in *fd_out unless that is NULL. Cannot be
 * sealed, so a workload could truncate it (docs/probes.md). */
int ward_ring_create_file(const char *path, size_t size, uint32_t slot_size, int *fd_out, ward_error_t *err);

/* Consumer flags */
#define WARD_RING_ALLOW_UNSEALED 0x1u   /* accept a file a producer could shrink */
#define WARD_RING_FROM_HEAD      0x2u   /* start at the head hint (skip the backlog) */

/* Maps a ring for consuming. The geometry is read from the header once and
 * checked against the file size; expect_slot_size (0: none) lets a consumer
 * that knows the geometry reject a header the workload rewrote. */
int ward_ring_open(const char *path, unsigned flags, struct ward_ring **out, ward_error_t *err);
int ward_ring_open_fd(int fd, unsigned flags, uint32_t expect_slot_size, struct ward_ring **out, ward_error_t *err);
void ward_ring_close(struct ward_ring *r);
static inline void ward_ring_closep(struct ward_ring **r) { if (*r) ward_ring_close(*r); }
#define _cleanup_ring_ __attribute__((cleanup(ward_ring_closep)))

/* Takes an exclusive, non-blocking lock on lock_path (created 0600): a ring
 * has one consumer. The fd holds the lock; close it to release. */
int ward_ring_lock_consumer(const char *lock_path, int *fd_out, ward_error_t *err);

/* Decodes up to max ready records into evs; returns how many. Never blocks;
 * does bounded work (at most max + nslots slots). */
size_t ward_ring_consume(struct ward_ring *r, struct ward_event *evs, size_t max);
/* Same, handing each event to a sink; the event is only valid in the call. */
size_t ward_ring_drain(struct ward_ring *r, ward_event_sink_fn sink, void *opaque, size_t max);
void ward_ring_get_stats(struct ward_ring *r, struct ward_ring_stats *out);
/* True once the ring's file was shrunk under the consumer (a SIGBUS caught
 * inside ward_ring_drain or _consume); the ring delivers nothing more. */
bool ward_ring_truncated(const struct ward_ring *r);
/* How long a claimed slot may stay unpublished before it is skipped as lost
 * (default 500 ms: a producer preempted mid-write must not lose its event). */
void ward_ring_set_stall_timeout(struct ward_ring *r, uint64_t ns);
/* Wake-ups (ring_format.h): arm (mode WARD_RING_WAKE_URGENT or _ANY, the
 * record types that wake in URGENT) before sleeping on the ring's futex
 * word, disarm on waking. can_arm: 1, 0 when the ring holds records of a
 * producer that does not set WARD_RING_CAP_WAKE (it must be polled), -1
 * when it was truncated (it delivers nothing more: neither armed nor
 * polled). Arm returns false once the ring is found truncated. Arming is
 * seq_cst: drain once more after it, a record published before it may not
 * have woken anyone. */
int ward_ring_can_arm(struct ward_ring *r);
bool ward_ring_arm(struct ward_ring *r, uint32_t mode, uint64_t mask);
void ward_ring_disarm(struct ward_ring *r);
/* The seen-set (ring_seen.h). note: adds a drained record's key
 * (ward_event_seen_key, never 0) and says whether the set already held it;
 * past WARD_RING_SEEN_KEYS_MAX keys the set starts afresh. reset: empties
 * it, for a consumer whose judgement of records changed (its policy or the
 * container's mode). Both change the consumer's copy; it reaches the header
 * at the end of the next drain or arm. */
bool ward_ring_seen_note(struct ward_ring *r, uint64_t key);
void ward_ring_seen_reset(struct ward_ring *r);
/* The key a producer computed for this record (0 for types never seen). */
uint64_t ward_event_seen_key(const struct ward_event *ev);
/* The futex word to sleep on (not private: producers map the same file);
 * NULL once the ring was found truncated. */
uint32_t *ward_ring_wake_word(struct ward_ring *r);
uint32_t ward_ring_nslots(const struct ward_ring *r);
uint32_t ward_ring_slot_size(const struct ward_ring *r);
/* A producer view of the same mapping, for tests and benchmarks. */
void ward_ring_producer(struct ward_ring *r, struct ward_ring_prod *out);
/* The raw mapping (header + slots), for tests that scribble over it. */
void *ward_ring_map(struct ward_ring *r, size_t *len);

/* Validates one record image (len bytes: a slot, or a copy of one) and
 * fills ev; -1 when it is malformed. Reads each byte once and validates
 * only what it copied, so buf may be the shared slot itself. Exposed for
 * the fuzzer. */
int ward_rec_decode(const void *buf, size_t len, uint64_t ticket, struct ward_event *ev);

#endif
