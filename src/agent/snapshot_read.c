/* Reading a snapshot archive back (`ward snapshot show`). The archive may
 * come from anywhere, so: tar only, no decompression filters, nothing
 * extracted to disk, a bounded number of entries, the manifest read with a
 * size bound and checked field by field, entry names relative without ".."
 * and only regular files or symlinks, and the manifest's entry list must
 * match the archive exactly. */
#include "agent/snapshot_internal.h"

#include "common/cleanup.h"
#include "common/json.h"

#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENTRIES 1000000

static int want(json_t *obj, const char *key, json_type type, bool required, const char *where, json_t **out,
                ward_error_t *err)
{
  json_t *v = json_object_get(obj, key);
  *out = v;
  if (v == NULL)
    return required ? ward_error(err, 0, "manifest.json: %s%s%s: missing", where, *where ? "." : "", key) : 0;
  if (json_typeof(v) != type && !(type == JSON_REAL && json_is_integer(v)))
    return ward_error(err, 0, "manifest.json: %s%s%s: expected %s, got %s", where, *where ? "." : "", key,
                      wj_type_name(type), wj_type_name(json_typeof(v)));
  return 0;
}

static int check_array_of(json_t *arr, const char *name, int (*fn)(json_t *, const char *, ward_error_t *),
                          ward_error_t *err)
{
  size_t i;
  json_t *item;
  json_array_foreach(arr, i, item) {
    char where[64];
    snprintf(where, sizeof(where), "%s[%zu]", name, i);
    if (!json_is_object(item))
      return ward_error(err, 0, "manifest.json: %s: expected an object", where);
    if (fn(item, where, err) < 0)
      return -1;
  }
  return 0;
}

static int check_entry(json_t *e, const char *where, ward_error_t *err)
{
  json_t *name, *size, *link;
  if (want(e, "name", JSON_STRING, true, where, &name, err) < 0 || want(e, "size", JSON_INTEGER, true, where, &size, err) < 0 ||
      want(e, "symlink", JSON_STRING, false, where, &link, err) < 0)
    return -1;
  if (!snap_name_ok(json_string_value(name)))
    return ward_error(err, 0, "manifest.json: %s.name: \"%.64s\" is not a safe relative name", where,
                      json_string_value(name));
  if (json_integer_value(size) < 0)
    return ward_error(err, 0, "manifest.json: %s.size: negative", where);
  return 0;
}

static int check_skip(json_t *e, const char *where, ward_error_t *err)
{
  json_t *v;
  return want(e, "what", JSON_STRING, true, where, &v, err) < 0 || want(e, "reason", JSON_STRING, true, where, &v, err) < 0
           ? -1 : 0;
}

static int check_process(json_t *p, const char *where, ward_error_t *err)
{
  json_t *v;
  if (want(p, "pid", JSON_INTEGER, true, where, &v, err) < 0 || want(p, "cmdline", JSON_ARRAY, false, where, &v, err) < 0)
    return -1;
  size_t i;
  json_t *a;
  json_array_foreach(v, i, a) if (!json_is_string(a))
    return ward_error(err, 0, "manifest.json: %s.cmdline[%zu]: expected a string", where, i);
  if (want(p, "comm", JSON_STRING, false, where, &v, err) < 0 || want(p, "uid", JSON_ARRAY, false, where, &v, err) < 0 ||
      want(p, "ppid", JSON_INTEGER, false, where, &v, err) < 0)
    return -1;
  return 0;
}

static int check_exe(json_t *x, const char *where, ward_error_t *err)
{
  json_t *v;
  if (want(x, "path", JSON_STRING, true, where, &v, err) < 0 || want(x, "sha256", JSON_STRING, false, where, &v, err) < 0)
    return -1;
  if (v && (strlen(json_string_value(v)) != 64 || strspn(json_string_value(v), "0123456789abcdef") != 64))
    return ward_error(err, 0, "manifest.json: %s.sha256: not a lowercase hex SHA-256", where);
  return 0;
}

int ward_snapshot_manifest_check(const char *buf, size_t len, json_t **out, ward_error_t *err)
{
  json_error_t jerr;
  _cleanup_json_ json_t *m = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
  if (m == NULL)
    return ward_error(err, 0, "manifest.json:%d: %s", jerr.line, jerr.text);
  if (!json_is_object(m))
    return ward_error(err, 0, "manifest.json: expected an object");
  json_t *v, *entries, *skipped, *procs, *exes;
  if (want(m, "format", JSON_STRING, true, "", &v, err) < 0)
    return -1;
  if (strcmp(json_string_value(v), "ward-snapshot") != 0)
    return ward_error(err, 0, "manifest.json: format: \"%.64s\" is not \"ward-snapshot\"", json_string_value(v));
  if (want(m, "version", JSON_INTEGER, true, "", &v, err) < 0)
    return -1;
  if (json_integer_value(v) != 1)
    return ward_error(err, 0, "manifest.json: version: %lld is not supported (1 is)", (long long) json_integer_value(v));
  if (want(m, "id", JSON_STRING, true, "", &v, err) < 0 || want(m, "created", JSON_STRING, true, "", &v, err) < 0 ||
      want(m, "entries", JSON_ARRAY, true, "", &entries, err) < 0 ||
      want(m, "skipped", JSON_ARRAY, true, "", &skipped, err) < 0 ||
      want(m, "processes", JSON_ARRAY, false, "", &procs, err) < 0 ||
      want(m, "executables", JSON_ARRAY, false, "", &exes, err) < 0 ||
      want(m, "events", JSON_OBJECT, false, "", &v, err) < 0 || want(m, "bytes", JSON_INTEGER, false, "", &v, err) < 0 ||
      want(m, "seconds", JSON_REAL, false, "", &v, err) < 0 || want(m, "criu", JSON_OBJECT, false, "", &v, err) < 0 ||
      want(m, "rootfs_diff", JSON_OBJECT, false, "", &v, err) < 0)
    return -1;
  if (check_array_of(entries, "entries", check_entry, err) < 0 || check_array_of(skipped, "skipped", check_skip, err) < 0 ||
      (procs && check_array_of(procs, "processes", check_process, err) < 0) ||
      (exes && check_array_of(exes, "executables", check_exe, err) < 0))
    return -1;
  *out = steal_pointer(&m);
  return 0;
}

static void archive_freep(struct archive **a)
{
  if (*a)
    archive_read_free(*a);
}

int ward_snapshot_read_manifest(const char *path, json_t **manifest, ward_error_t *err)
{
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return ward_error_sys(err, "%s", path);
  struct stat sb;
  if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
    return ward_error(err, 0, "%s: not a regular file", path);
  if (ward_archive_load(err) < 0)
    return -1;
  __attribute__((cleanup(archive_freep))) struct archive *a = archive_read_new();
  if (a == NULL || archive_read_support_format_tar(a) != ARCHIVE_OK || archive_read_open_fd(a, fd, 10240) != ARCHIVE_OK)
    return ward_error(err, 0, "%s: not a tar archive: %s", path, a ? archive_error_string(a) : "out of memory");
  _cleanup_json_ json_t *seen = json_object();
  _cleanup_free_ char *mtext = NULL;
  size_t mlen = 0;
  struct archive_entry *e;
  size_t count = 0;
  int rc;
  while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
    const char *name = archive_entry_pathname(e);
    if (++count > MAX_ENTRIES)
      return ward_error(err, 0, "%s: more than %d entries", path, MAX_ENTRIES);
    if (name == NULL || !snap_name_ok(name))
      return ward_error(err, 0, "%s: entry %zu: unsafe name \"%.64s\" (absolute, \"..\" or control characters)", path,
                        count, name ? name : "");
    mode_t type = archive_entry_filetype(e);
    if (type != AE_IFREG && type != AE_IFLNK)
      return ward_error(err, 0, "%s: %s: only regular files and symlinks belong in a snapshot", path, name);
    la_int64_t size = archive_entry_size(e);
    if (size < 0 || (type == AE_IFLNK && size != 0))
      return ward_error(err, 0, "%s: %s: bad size", path, name);
    if (json_object_get(seen, name))
      return ward_error(err, 0, "%s: %s: duplicate entry", path, name);
    json_object_set_new(seen, name, json_integer(size));
    if (strcmp(name, "manifest.json") != 0) {
      if (archive_read_data_skip(a) != ARCHIVE_OK)
        return ward_error(err, 0, "%s: %s: %s", path, name, archive_error_string(a));
      continue;
    }
    if (type != AE_IFREG || size > WARD_SNAPSHOT_MANIFEST_MAX)
      return ward_error(err, 0, "%s: manifest.json: larger than %u bytes", path, WARD_SNAPSHOT_MANIFEST_MAX);
    mtext = malloc((size_t) size + 1);
    if (mtext == NULL)
      return ward_error(err, ENOMEM, "manifest");
    for (;;) {
      la_ssize_t n = archive_read_data(a, mtext + mlen, (size_t) size - mlen);
      if (n < 0)
        return ward_error(err, 0, "%s: manifest.json: %s", path, archive_error_string(a));
      if (n == 0)
        break;
      mlen += (size_t) n;
      if (mlen == (size_t) size)
        break;
    }
    if (mlen != (size_t) size)
      return ward_error(err, 0, "%s: manifest.json: truncated", path);
  }
  if (rc != ARCHIVE_EOF)
    return ward_error(err, 0, "%s: %s", path, archive_error_string(a));
  if (mtext == NULL)
    return ward_error(err, 0, "%s: no manifest.json: not a ward snapshot", path);
  _cleanup_json_ json_t *m = NULL;
  if (ward_snapshot_manifest_check(mtext, mlen, &m, err) < 0)
    return ward_error_prefix(err, "%s", path);
  /* the manifest and the archive must agree, entry for entry */
  size_t i;
  json_t *entry;
  json_array_foreach(json_object_get(m, "entries"), i, entry) {
    const char *name = json_string_value(json_object_get(entry, "name"));
    json_t *size = json_object_get(seen, name);
    if (size == NULL)
      return ward_error(err, 0, "%s: manifest.json: entries[%zu]: \"%s\" is not in the archive", path, i, name);
    if (json_integer_value(size) != json_integer_value(json_object_get(entry, "size")))
      return ward_error(err, 0, "%s: %s: size differs from the manifest", path, name);
    json_object_del(seen, name);
  }
  json_object_del(seen, "manifest.json");
  if (json_object_size(seen) > 0)
    return ward_error(err, 0, "%s: %s: in the archive but not in the manifest", path, json_object_iter_key(json_object_iter(seen)));
  *manifest = steal_pointer(&m);
  return 0;
}

void ward_snapshot_print(FILE *out, const json_t *mc)
{
  json_t *m = (json_t *) mc;
  fprintf(out, "snapshot of %s, taken %s by ward %s\n", json_string_value(json_object_get(m, "id")),
          json_string_value(json_object_get(m, "created")),
          json_string_value(json_object_get(m, "ward_version")) ? json_string_value(json_object_get(m, "ward_version")) : "?");
  fprintf(out, "  %zu entries, %lld bytes, %.2f s\n", json_array_size(json_object_get(m, "entries")) + 1,
          (long long) json_integer_value(json_object_get(m, "bytes")), json_number_value(json_object_get(m, "seconds")));
  json_t *procs = json_object_get(m, "processes"), *p;
  size_t i;
  fprintf(out, "processes (%zu):\n  %7s %7s %6s  %-16s %s\n", json_array_size(procs), "PID", "PPID", "UID", "COMM", "CMDLINE");
  json_array_foreach(procs, i, p) {
    char cmd[256] = "";
    size_t k, used = 0;
    json_t *a;
    json_array_foreach(json_object_get(p, "cmdline"), k, a) {
      int n = snprintf(cmd + used, sizeof(cmd) - used, "%s%s", k ? " " : "", json_string_value(a));
      if (n < 0 || (size_t) n >= sizeof(cmd) - used)
        break;
      used += (size_t) n;
    }
    fprintf(out, "  %7lld %7lld %6lld  %-16.16s %s\n", (long long) json_integer_value(json_object_get(p, "pid")),
            (long long) json_integer_value(json_object_get(p, "ppid")),
            (long long) json_integer_value(json_array_get(json_object_get(p, "uid"), 0)),
            json_string_value(json_object_get(p, "comm")) ? json_string_value(json_object_get(p, "comm")) : "?", cmd);
  }
  json_t *exes = json_object_get(m, "executables"), *x;
  fprintf(out, "executables (%zu):\n", json_array_size(exes));
  json_array_foreach(exes, i, x) {
    const char *h = json_string_value(json_object_get(x, "sha256"));
    const char *e = json_string_value(json_object_get(x, "error"));
    fprintf(out, "  %-64s %s\n", h ? h : (e ? e : "-"), json_string_value(json_object_get(x, "path")));
  }
  json_t *ev = json_object_get(m, "events");
  const char *note = json_string_value(json_object_get(ev, "note"));
  fprintf(out, "events: %lld%s%s\n", (long long) json_integer_value(json_object_get(ev, "count")), note ? " - " : "",
          note ? note : "");
  json_t *diff = json_object_get(m, "rootfs_diff");
  if (json_is_true(json_object_get(diff, "overlay")))
    fprintf(out, "rootfs diff: %s: %lld files, %lld symlinks, %zu deleted\n",
            json_string_value(json_object_get(diff, "upperdir")), (long long) json_integer_value(json_object_get(diff, "files")),
            (long long) json_integer_value(json_object_get(diff, "symlinks")),
            json_array_size(json_object_get(diff, "deleted")));
  else
    fprintf(out, "rootfs diff: none (the root is not an overlay)\n");
  json_t *criu = json_object_get(m, "criu");
  if (!json_is_true(json_object_get(criu, "requested")))
    fprintf(out, "criu: not requested\n");
  else if (json_is_true(json_object_get(criu, "ok")))
    fprintf(out, "criu: checkpoint in criu/\n");
  else
    fprintf(out, "criu: failed: %s\n", json_string_value(json_object_get(criu, "error")) ? json_string_value(json_object_get(criu, "error")) : "?");
  json_t *skipped = json_object_get(m, "skipped"), *s;
  fprintf(out, "left out (%zu):\n", json_array_size(skipped));
  json_array_foreach(skipped, i, s)
    fprintf(out, "  %s: %s\n", json_string_value(json_object_get(s, "what")), json_string_value(json_object_get(s, "reason")));
}
