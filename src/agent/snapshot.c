/* Taking a snapshot (snapshot.h): the archive, its budget, the container's
 * own files and events, then the processes (snapshot_proc.c), the rootfs
 * diff and CRIU (snapshot_extra.c), and the manifest last. */
#include "agent/snapshot_internal.h"

#include "agent/action_internal.h"
#include "agent/flight.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "probe/event_json.h"

#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool snap_name_ok(const char *name)
{
  size_t len = strlen(name);
  if (len == 0 || len > 1024 || name[0] == '/')
    return false;
  for (const char *p = name; *p; p++)
    if ((unsigned char) *p < 0x20 || *p == 0x7f)
      return false;
  /* every component non-empty and neither "." nor ".." */
  for (const char *c = name; c && *c;) {
    const char *slash = strchr(c, '/');
    size_t n = slash ? (size_t) (slash - c) : strlen(c);
    if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
      return false;
    c = slash ? slash + 1 : NULL;
    if (slash && *c == 0)
      return false;
  }
  return true;
}

bool snap_out_of_time(struct snap *s)
{
  return ward_now_ns() > s->deadline_ns;
}

void snap_skip(struct snap *s, const char *what, const char *reason)
{
  /* the list itself is bounded: a huge container must not blow the manifest */
  if (json_array_size(s->skipped) < 10000)
    json_array_append_new(s->skipped, json_pack("{s:s, s:s}", "what", what, "reason", reason));
  else if (json_array_size(s->skipped) == 10000)
    json_array_append_new(s->skipped, json_pack("{s:s, s:s}", "what", "...", "reason", "more items left out"));
}

static int write_entry(struct snap *s, const char *name, const void *data, size_t len, const char *symlink,
                       ward_error_t *err)
{
  if (s->write_failed)
    return -1;
  struct archive_entry *e = archive_entry_new();
  if (e == NULL)
    return ward_error(err, ENOMEM, "archive entry");
  archive_entry_set_pathname(e, name);
  archive_entry_set_mtime(e, time(NULL), 0);
  if (symlink) {
    archive_entry_set_filetype(e, AE_IFLNK);
    archive_entry_set_perm(e, 0777);
    archive_entry_set_symlink(e, symlink);
    archive_entry_set_size(e, 0);
  } else {
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0600);
    archive_entry_set_size(e, (la_int64_t) len);
  }
  int rc = archive_write_header(s->ar, e);
  archive_entry_free(e);
  if (rc == ARCHIVE_OK && !symlink && len > 0 && archive_write_data(s->ar, data, len) != (la_ssize_t) len)
    rc = ARCHIVE_FATAL;
  if (rc != ARCHIVE_OK) {
    s->write_failed = true;
    return ward_error(err, archive_errno(s->ar), "write %s into the archive: %s", name, archive_error_string(s->ar));
  }
  /* a tar header per entry, and data padded to 512 */
  s->bytes += 512 + ((len + 511) & ~(size_t) 511);
  json_t *entry = json_pack("{s:s, s:I}", "name", name, "size", (json_int_t) (symlink ? 0 : len));
  if (symlink)
    json_object_set_new(entry, "symlink", json_string(symlink));
  json_array_append_new(s->entries, entry);
  return 0;
}

int snap_add(struct snap *s, const char *name, const void *data, size_t len, ward_error_t *err)
{
  if (snap_out_of_time(s)) {
    snap_skip(s, name, "time limit");
    return 0;
  }
  if (s->bytes + 512 + len > s->max_bytes) {
    snap_skip(s, name, "size limit");
    return 0;
  }
  return write_entry(s, name, data, len, NULL, err);
}

int snap_add_symlink(struct snap *s, const char *name, const char *target, ward_error_t *err)
{
  if (snap_out_of_time(s) || s->bytes + 1024 > s->max_bytes) {
    snap_skip(s, name, snap_out_of_time(s) ? "time limit" : "size limit");
    return 0;
  }
  return write_entry(s, name, NULL, 0, target, err);
}

int snap_read_bounded(int dirfd, const char *path, size_t max, char **buf, size_t *len, bool *truncated,
                      ward_error_t *err)
{
  _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return ward_error_sys(err, "open %s", path);
  size_t cap = max < 65536 ? max + 1 : 65536, used = 0;
  _cleanup_free_ char *data = malloc(cap + 1);
  if (data == NULL)
    return ward_error(err, ENOMEM, "read %s", path);
  *truncated = false;
  for (;;) {
    if (used == cap) {
      if (used > max)
        break;
      size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
      char *bigger = realloc(data, ncap + 1);
      if (bigger == NULL)
        return ward_error(err, ENOMEM, "read %s", path);
      data = bigger;
      cap = ncap;
    }
    ssize_t n = read(fd, data + used, cap - used);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return ward_error_sys(err, "read %s", path);
    }
    if (n == 0)
      break;
    used += (size_t) n;
  }
  if (used > max) {
    used = max;
    *truncated = true;
  }
  data[used] = 0;
  *buf = steal_pointer(&data);
  *len = used;
  return 0;
}

int snap_add_file(struct snap *s, const char *name, const char *path, size_t cap, ward_error_t *err)
{
  if (snap_out_of_time(s)) {
    snap_skip(s, name, "time limit");
    return 0;
  }
  uint64_t room = s->max_bytes > s->bytes + 512 ? s->max_bytes - s->bytes - 512 : 0;
  if (room == 0) {
    snap_skip(s, name, "size limit");
    return 0;
  }
  if (room < cap)
    cap = (size_t) room;
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  bool truncated = false;
  _cleanup_error_ ward_error_t rerr = NULL;
  if (snap_read_bounded(AT_FDCWD, path, cap, &buf, &len, &truncated, &rerr) < 0) {
    snap_skip(s, name, rerr->msg);
    return 0;
  }
  if (truncated) {
    char why[96];
    snprintf(why, sizeof(why), "cut at %zu bytes (%s)", len, room == cap ? "size limit" : "per-file limit");
    snap_skip(s, name, why);
  }
  return snap_add(s, name, buf, len, err);
}

/* --- the container's own files --- */

static int add_state_file(struct snap *s, const char *file, const char *name, ward_error_t *err)
{
  _cleanup_free_ char *path = ward_state_path(s->st, file);
  if (path == NULL || access(path, F_OK) < 0)
    return 0;
  return snap_add_file(s, name, path, 16u << 20, err);
}

struct ev_buf { char *data; size_t len, cap, count; bool full; size_t max; };

static void ev_sink(void *opaque, const struct ward_event *ev)
{
  struct ev_buf *b = opaque;
  _cleanup_json_ json_t *j = ward_event_to_json(ev);
  _cleanup_free_ char *line = j ? json_dumps(j, JSON_COMPACT) : NULL;
  if (line == NULL || b->full)
    return;
  size_t n = strlen(line);
  if (b->len + n + 1 > b->max) {
    b->full = true;
    return;
  }
  if (b->len + n + 1 > b->cap) {
    size_t ncap = (b->cap ? b->cap * 2 : 65536);
    while (ncap < b->len + n + 1)
      ncap *= 2;
    char *bigger = realloc(b->data, ncap);
    if (bigger == NULL) {
      b->full = true;
      return;
    }
    b->data = bigger;
    b->cap = ncap;
  }
  memcpy(b->data + b->len, line, n);
  b->data[b->len + n] = '\n';
  b->len += n + 1;
  b->count++;
}

static int add_events(struct snap *s, uint32_t last_n, ward_error_t *err)
{
  uint64_t room = s->max_bytes > s->bytes + 512 ? s->max_bytes - s->bytes - 512 : 0;
  struct ev_buf b = {.max = (size_t) room};
  _cleanup_error_ ward_error_t rerr = NULL;
  json_t *info = json_object();
  json_object_set_new(s->manifest, "events", info);
  if (ward_flight_read(s->st->dir, last_n, ev_sink, &b, &rerr) < 0) {
    json_object_set_new(info, "count", json_integer(0));
    json_object_set_new(info, "note", json_string(rerr->errnum == ENOENT ? "no flight recorder (no engine)" : rerr->msg));
    return 0;
  }
  json_object_set_new(info, "count", json_integer((json_int_t) b.count));
  json_object_set_new(info, "entry", json_string("events.jsonl"));
  if (b.full)
    snap_skip(s, "events.jsonl", "size limit: older events left out");
  int rc = snap_add(s, "events.jsonl", b.data ? b.data : "", b.len, err);
  free(b.data);
  return rc;
}

static int collect(struct snap *s, const struct ward_snapshot_opts *o, ward_error_t *err)
{
  if (add_state_file(s, "state.json", "container/state.json", err) < 0 ||
      add_state_file(s, "config.json", "container/config.json", err) < 0 ||
      add_state_file(s, WARD_ACTION_FILE, "container/action.json", err) < 0)
    return -1;
  if (o->template_path) {
    if (snap_add_file(s, "container/template", o->template_path, 16u << 20, err) < 0)
      return -1;
  } else if (add_state_file(s, "template.json", "container/template.json", err) < 0) {
    return -1;
  }
  if (add_events(s, o->events ? o->events : WARD_SNAPSHOT_EVENTS_DEFAULT, err) < 0)
    return -1;
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  _cleanup_error_ ward_error_t perr = NULL;
  if (action_container_pids(s->st, &pids, &n, &perr) < 0)
    snap_skip(s, "processes", perr->msg);
  if (snap_processes(s, pids, n, err) < 0)
    return -1;
  if (snap_rootfs_diff(s, err) < 0)
    return -1;
  if (o->criu) {
    if (snap_criu(s, err) < 0)
      return -1;
  } else {
    json_object_set_new(s->manifest, "criu", json_pack("{s:b}", "requested", false));
  }
  return 0;
}

int ward_snapshot_take(const char *root, const char *id, const char *path, const struct ward_snapshot_opts *o,
                       json_t **report, ward_error_t *err)
{
  static const struct ward_snapshot_opts defaults = {0};
  if (o == NULL)
    o = &defaults;
  _cleanup_state_ struct ward_state *st = NULL;
  if (action_load_running(root, id, &st, err) < 0)
    return ward_error_prefix(err, "snapshot");
  _cleanup_free_ char *def = NULL;
  if (path == NULL) {
    /* outside the container's state directory, which goes with it; no id
     * starts with a dot, so this is never taken for a container */
    _cleanup_free_ char *now = ward_rfc3339_dup(0), *dir = NULL;
    if (asprintf(&dir, "%s/.snapshots/%s", root, id) < 0 || asprintf(&def, "%s/%s.tar", dir, now ? now : "snapshot") < 0)
      return ward_error(err, ENOMEM, "snapshot path");
    if (ward_mkdir_p(dir, 0700, err) < 0)
      return -1;
    path = def;
  }
  _cleanup_free_ char *tmp = NULL;
  if (asprintf(&tmp, "%s.tmp.%d", path, (int) getpid()) < 0)
    return ward_error(err, ENOMEM, "snapshot path");
  _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return ward_error_sys(err, "snapshot: create %s", tmp);

  struct snap s = {.st = st};
  s.max_bytes = o->max_bytes ? o->max_bytes : WARD_SNAPSHOT_MAX_BYTES_DEFAULT;
  uint32_t secs = o->max_seconds ? o->max_seconds : WARD_SNAPSHOT_MAX_SECONDS_DEFAULT;
  s.start_ns = ward_now_ns();
  s.deadline_ns = s.start_ns + (uint64_t) secs * 1000000000u;
  _cleanup_free_ char *created = ward_rfc3339_dup(0);
  s.manifest = json_pack("{s:s, s:i, s:s, s:s, s:s, s:{s:s, s:i, s:s}, s:{s:I, s:i, s:i}, s:[], s:[]}", "format",
                         "ward-snapshot", "version", 1, "id", id, "created", created ? created : "", "ward_version",
                         WARD_VERSION, "container", "status", ward_status_name(ward_state_status(st)), "pid",
                         (int) st->pid, "bundle", st->bundle ? st->bundle : "", "limits", "max_bytes",
                         (json_int_t) s.max_bytes, "max_seconds", (int) secs, "events",
                         (int) (o->events ? o->events : WARD_SNAPSHOT_EVENTS_DEFAULT), "entries", "skipped");
  _cleanup_json_ json_t *manifest = s.manifest;
  if (manifest == NULL)
    return ward_error(err, ENOMEM, "manifest");
  s.entries = json_object_get(manifest, "entries");
  s.skipped = json_object_get(manifest, "skipped");
  if (ward_archive_load(err) < 0) {
    unlink(tmp);
    return -1;
  }
  s.ar = archive_write_new();
  if (s.ar == NULL || archive_write_set_format_pax_restricted(s.ar) != ARCHIVE_OK ||
      archive_write_open_fd(s.ar, fd) != ARCHIVE_OK) {
    if (s.ar)
      archive_write_free(s.ar);
    unlink(tmp);
    return ward_error(err, 0, "snapshot: cannot start the archive");
  }
  int rc = collect(&s, o, err);
  double secs_taken = (double) (ward_now_ns() - s.start_ns) / 1e9;
  if (rc == 0) {
    json_object_set_new(manifest, "bytes", json_integer((json_int_t) s.bytes));
    json_object_set_new(manifest, "seconds", json_real(secs_taken));
    _cleanup_free_ char *text = json_dumps(manifest, JSON_INDENT(2) | JSON_SORT_KEYS);
    /* the manifest is never cut: it says what is missing */
    if (text == NULL)
      rc = ward_error(err, ENOMEM, "manifest");
    else
      rc = write_entry(&s, "manifest.json", text, strlen(text), NULL, err);
  }
  if (archive_write_close(s.ar) != ARCHIVE_OK && rc == 0)
    rc = ward_error(err, 0, "snapshot: close the archive: %s", archive_error_string(s.ar));
  archive_write_free(s.ar);
  if (rc == 0 && fsync(fd) < 0)
    rc = ward_error_sys(err, "snapshot: fsync %s", tmp);
  if (rc == 0 && rename(tmp, path) < 0)
    rc = ward_error_sys(err, "snapshot: rename to %s", path);
  if (rc < 0) {
    unlink(tmp);
    return ward_error_prefix(err, "snapshot of \"%s\"", id);
  }
  if (report) {
    struct stat sb;
    off_t size = stat(path, &sb) == 0 ? sb.st_size : 0;
    *report = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:f, s:o}", "id", id, "action", "snapshot", "path", path,
                        "bytes", (json_int_t) size, "entries", (json_int_t) json_array_size(s.entries), "skipped",
                        (json_int_t) json_array_size(s.skipped), "seconds", secs_taken, "processes",
                        json_integer((json_int_t) json_array_size(json_object_get(manifest, "processes"))));
  }
  return 0;
}
