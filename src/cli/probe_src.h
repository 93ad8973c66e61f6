/* Where `ward events` and `ward top` read a container's events from: its
 * ring, when no engine consumes it, or else the flight recorder the engine
 * keeps (cmd_events.c explains). */
#ifndef WARD_CLI_PROBE_SRC_H
#define WARD_CLI_PROBE_SRC_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cli/commands.h"
#include "probe/ring.h"

struct probe_src {
  struct ward_ring *ring;    /* we are the consumer */
  int lock_fd;
  int flight_fd;             /* an engine is: read its flight recorder */
  char *ring_path;
  off_t ring_size;
  uint64_t seen_total, events;
  pid_t init;                /* host pid of the container's init; 0: unknown or gone */
};

/* 0, or the exit status after reporting the error. */
int probe_cli_open_ring(const struct ward_global *g, const char *cmd, const char *ring_path, const char *id,
                        struct probe_src *out);
size_t probe_src_drain(struct probe_src *s, ward_event_sink_fn sink, void *opaque, size_t max);
bool probe_src_truncated(struct probe_src *s);
void probe_src_stats(struct probe_src *s, struct ward_ring_stats *out);
void probe_src_close(struct probe_src *s);
#define _cleanup_probe_src_ __attribute__((cleanup(probe_src_close)))

extern volatile sig_atomic_t probe_cli_stop;

#endif
