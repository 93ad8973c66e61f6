/* Shared by the snapshot writer's files: the archive being written with its
 * byte and time budget, and the manifest being built. */
#ifndef WARD_SNAPSHOT_INTERNAL_H
#define WARD_SNAPSHOT_INTERNAL_H

#include "agent/archive_dl.h"
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/snapshot.h"
#include "common/error.h"
#include "runtime/state.h"

struct snap {
  struct archive *ar;
  const struct ward_state *st;
  json_t *manifest;     /* owned */
  json_t *entries;      /* borrowed from manifest */
  json_t *skipped;      /* borrowed from manifest */
  uint64_t bytes, max_bytes;
  uint64_t start_ns, deadline_ns;
  bool write_failed;    /* the archive itself failed: stop everything */
  char *write_error;
};

/* Adds one regular file entry; within the budget, else listed as skipped
 * with the reason. -1 only when the archive itself fails. */
int snap_add(struct snap *s, const char *name, const void *data, size_t len, ward_error_t *err);
/* Reads a host file (a /proc file: no size known up front) with the
 * remaining budget and adds it; a file that cannot be read is listed as
 * skipped with the error; one that does not fit is cut and flagged. */
int snap_add_file(struct snap *s, const char *name, const char *path, size_t cap, ward_error_t *err);
int snap_add_symlink(struct snap *s, const char *name, const char *target, ward_error_t *err);
void snap_skip(struct snap *s, const char *what, const char *reason);
bool snap_out_of_time(struct snap *s);
/* Reads up to max bytes of a file; *truncated when there was more. */
int snap_read_bounded(int dirfd, const char *path, size_t max, char **buf, size_t *len, bool *truncated,
                      ward_error_t *err);

/* snapshot_proc.c: processes, fds, sockets, maps, executable hashes. */
int snap_processes(struct snap *s, const pid_t *pids, size_t n, ward_error_t *err);
/* snapshot_extra.c: the overlay upper directory and the CRIU dump. */
int snap_rootfs_diff(struct snap *s, ward_error_t *err);
int snap_criu(struct snap *s, ward_error_t *err);

/* Entry names: relative, no "..", no empty components, printable. */
bool snap_name_ok(const char *name);

#endif
