/* The flight recorder: the last N decoded events of one container, kept in
 * "flight" in the container's memory directory (common/rundir.h) so that a
 * snapshot or `ward events` can show what led up to an alert after the ring
 * consumer has moved on.
 *
 * The file lives on the host side (never mounted into the container) and
 * has exactly one writer, the engine consuming the
 * container's ring. It is a fixed-size array of fixed-size slots, mapped
 * shared, overwrite-oldest. Events are stored compactly: the numeric fields,
 * then only the bytes of the strings in use (cut to fit the slot, with
 * WARD_EVENT_F_TRUNC1/2 set), never a whole struct ward_event.
 *
 * Readers run in other processes while the engine writes, so each slot
 * carries a commit word (a seqlock: 0 while written, ticket + 1 once
 * complete); a reader keeps a slot only when the word is the same before
 * and after its copy. Readers use pread, not a mapping, and treat the whole
 * file as untrusted: a truncated, corrupted or hostile file yields fewer
 * events or an error, never a crash. Layout in docs/actions.md. */
#ifndef WARD_FLIGHT_H
#define WARD_FLIGHT_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "probe/event.h"

#define WARD_FLIGHT_FILE "flight"  /* in the memory directory (common/rundir.h) */
#define WARD_FLIGHT_CAPACITY_DEFAULT 4096u
#define WARD_FLIGHT_CAPACITY_MAX (1u << 20)
/* bytes per slot: a record header of 128 bytes, stack and syscall
 * arguments when present, then the strings */
#define WARD_FLIGHT_SLOT_DEFAULT 1024u
#define WARD_FLIGHT_SLOT_MIN 256u
#define WARD_FLIGHT_SLOT_MAX 16384u

struct ward_flight;

/* Opens (creating it mode 0600 if needed) the flight recorder in
 * state_dir's memory directory (common/rundir.h; made plain if there is
 * none), with capacity
 * slots (0: WARD_FLIGHT_CAPACITY_DEFAULT) of the default slot size. An
 * existing recorder of the same geometry is continued; any other file is
 * replaced. */
int ward_flight_open(const char *state_dir, size_t capacity, struct ward_flight **out, ward_error_t *err);
/* Same with a chosen slot size (bytes, WARD_FLIGHT_SLOT_MIN..MAX) and path. */
int ward_flight_open_path(const char *path, size_t capacity, uint32_t slot_size, struct ward_flight **out,
                          ward_error_t *err);
/* Records one event, overwriting the oldest when full. Never fails: a
 * string that does not fit is cut. */
void ward_flight_append(struct ward_flight *f, const struct ward_event *ev);
/* Events appended since the file was created (not only those still held). */
uint64_t ward_flight_count(const struct ward_flight *f);
void ward_flight_close(struct ward_flight *f);
static inline void ward_flight_closep(struct ward_flight **f) { if (*f) ward_flight_close(*f); }
#define _cleanup_flight_ __attribute__((cleanup(ward_flight_closep)))

struct ward_flight_read_stats {
  uint64_t delivered;  /* events handed to the sink */
  uint64_t skipped;    /* slots being rewritten or failing validation */
  uint64_t total;      /* events ever appended, per the header */
  uint32_t capacity;
};

/* Hands the last last_n (0: all held) events of the flight recorder in
 * state_dir's memory directory to sink,
 * oldest first. A missing file is an error with errnum ENOENT. */
int ward_flight_read(const char *state_dir, size_t last_n, ward_event_sink_fn sink, void *opaque, ward_error_t *err);
/* Same on an open file (the fuzzer's entry), with statistics (may be NULL). */
int ward_flight_read_fd(int fd, const char *what, size_t last_n, ward_event_sink_fn sink, void *opaque,
                        struct ward_flight_read_stats *stats, ward_error_t *err);

#endif
