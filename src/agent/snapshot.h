/* Forensic snapshots: one tar archive of a running container.
 *
 *   manifest.json          what the archive holds, entry by entry, and what
 *                          was left out and why (written last, listed first
 *                          by `ward snapshot show`)
 *   container/state.json, container/config.json, container/template.json,
 *   container/action.json  the state directory's copies
 *   proc/<pid>/{status,cmdline,environ,maps,fds.json,mountinfo,...}
 *                          one directory per process (host pids)
 *   net/<pid>/{tcp,tcp6,udp,udp6,unix}  sockets as the container's netns sees them
 *   exe/<sha256>           nothing: executables are hashed, not copied; the
 *                          hashes are in manifest.json "executables"
 *   events.jsonl           the flight recorder's last events
 *   rootfs-diff/...        the overlay upper directory, for overlay roots
 *   criu/...               a CRIU image directory (--criu, when criu works)
 *
 * Bounded: max_bytes of archive content and max_seconds of collection; what
 * did not fit is listed in the manifest's "skipped" with the reason. The
 * reader (`ward snapshot show`) never extracts anything to disk, reads each
 * entry with a bound, and rejects absolute or ".." entry names. */
#ifndef WARD_SNAPSHOT_H
#define WARD_SNAPSHOT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"

#define WARD_SNAPSHOT_MAX_BYTES_DEFAULT (64u << 20)
#define WARD_SNAPSHOT_MAX_SECONDS_DEFAULT 10u
#define WARD_SNAPSHOT_EVENTS_DEFAULT 1000u
#define WARD_SNAPSHOT_MANIFEST_MAX (16u << 20)

struct ward_snapshot_opts {
  uint64_t max_bytes;       /* 0: default */
  uint32_t max_seconds;     /* 0: default */
  uint32_t events;          /* flight recorder events to include; 0: default */
  bool criu;                /* try `criu dump --leave-running` */
  const char *template_path;/* a template to include (NULL: state_dir/template.json if any) */
};

/* Writes the archive to path (replaced atomically: written next to it, then
 * renamed; NULL: <root>/.snapshots/<id>/<UTC time>.tar, which outlives the
 * container). *report (may be NULL) gets a summary: path, bytes, entries,
 * skipped, seconds. */
int ward_snapshot_take(const char *root, const char *id, const char *path, const struct ward_snapshot_opts *o,
                       json_t **report, ward_error_t *err);

/* Validates an archive (bounded reads, no extraction, safe names, every
 * entry listed in the manifest and the other way round) and returns its
 * manifest. */
int ward_snapshot_read_manifest(const char *path, json_t **manifest, ward_error_t *err);
/* The manifest as text for people. */
void ward_snapshot_print(FILE *out, const json_t *manifest);
/* Parses and checks a manifest's structure (the fuzzer's entry). */
int ward_snapshot_manifest_check(const char *buf, size_t len, json_t **out, ward_error_t *err);

#endif
