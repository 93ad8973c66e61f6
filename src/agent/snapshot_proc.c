/* The process part of a snapshot: per process its /proc files, credentials
 * and links, open fds with fdinfo, sockets as its network namespace sees
 * them, memory maps, and the SHA-256 of every executable mapping. All read
 * from the host's /proc with bounds; a process that exits meanwhile leaves
 * a "skipped" line, not an error. */
#include "agent/snapshot_internal.h"

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FDS 4096
#define MAX_EXECUTABLES 4096
#define HASH_MAX_BYTES (256ull << 20)

static int cmp_pid(const void *a, const void *b)
{
  pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
  return (x > y) - (x < y);
}

static json_t *link_of(pid_t pid, const char *what)
{
  char path[64], target[PATH_MAX];
  snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, what);
  ssize_t n = readlink(path, target, sizeof(target) - 1);
  if (n < 0)
    return json_null();
  target[n] = 0;
  return json_string(target);
}

/* "Uid:\t0\t0\t0\t0" -> [0,0,0,0]; "CapEff:\t..." -> string */
static void parse_status(const char *buf, json_t *p)
{
  static const char *const numeric[] = {"PPid", "Uid", "Gid", "NSpid", "Groups"};
  static const char *const text[] = {"Name", "State", "CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb", "Seccomp", "NoNewPrivs"};
  for (const char *line = buf; line && *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t) (end - line) : strlen(line);
    const char *colon = memchr(line, ':', len);
    if (colon) {
      size_t klen = (size_t) (colon - line);
      const char *v = colon + 1;
      while (v < line + len && (*v == '\t' || *v == ' '))
        v++;
      for (size_t i = 0; i < ARRAY_SIZE(numeric); i++) {
        if (strlen(numeric[i]) != klen || strncmp(line, numeric[i], klen) != 0)
          continue;
        json_t *arr = json_array();
        for (const char *q = v; q < line + len;) {
          char *next;
          long long x = strtoll(q, &next, 10);
          if (next == q)
            break;
          json_array_append_new(arr, json_integer(x));
          q = next;
        }
        if (strcmp(numeric[i], "PPid") == 0) {
          json_object_set(p, "ppid", json_array_size(arr) ? json_array_get(arr, 0) : json_null());
          json_decref(arr);
        } else {
          char key[16];
          snprintf(key, sizeof(key), "%s", numeric[i]);
          for (char *k = key; *k; k++)
            *k = (char) tolower((unsigned char) *k);
          json_object_set_new(p, key, arr);
        }
      }
      for (size_t i = 0; i < ARRAY_SIZE(text); i++) {
        if (strlen(text[i]) != klen || strncmp(line, text[i], klen) != 0)
          continue;
        char key[16];
        snprintf(key, sizeof(key), "%s", text[i]);
        for (char *k = key; *k; k++)
          *k = (char) tolower((unsigned char) *k);
        json_object_set_new(p, strcmp(key, "name") == 0 ? "comm" : key,
                            json_stringn_nocheck(v, (size_t) (line + len - v)));
      }
    }
    line = end ? end + 1 : NULL;
  }
}

static json_t *split_nul(const char *buf, size_t len)
{
  json_t *arr = json_array();
  for (size_t i = 0; i < len && json_array_size(arr) < 4096;) {
    size_t n = strnlen(buf + i, len - i);
    json_array_append_new(arr, json_stringn_nocheck(buf + i, n));
    i += n + 1;
  }
  return arr;
}

static int add_fds(struct snap *s, pid_t pid, json_t *p, ward_error_t *err)
{
  char path[PATH_MAX], target[PATH_MAX], name[96];
  snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
  _cleanup_closedir_ DIR *d = opendir(path);
  if (d == NULL) {
    snprintf(name, sizeof(name), "proc/%d/fds.json", (int) pid);
    snap_skip(s, name, strerror(errno));
    return 0;
  }
  _cleanup_json_ json_t *fds = json_array();
  size_t sockets = 0, total = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!isdigit((unsigned char) e->d_name[0]))
      continue;
    total++;
    if (json_array_size(fds) >= MAX_FDS || snap_out_of_time(s))
      continue;
    snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int) pid, e->d_name);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    if (n < 0)
      continue;
    target[n] = 0;
    if (strncmp(target, "socket:", 7) == 0)
      sockets++;
    snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int) pid, e->d_name);
    _cleanup_free_ char *info = NULL;
    size_t ilen = 0;
    bool cut;
    _cleanup_error_ ward_error_t ignored = NULL;
    json_t *fd = json_pack("{s:i, s:s}", "fd", atoi(e->d_name), "target", target);
    if (snap_read_bounded(AT_FDCWD, path, 4096, &info, &ilen, &cut, &ignored) == 0)
      json_object_set_new(fd, "fdinfo", json_stringn_nocheck(info, ilen));
    json_array_append_new(fds, fd);
  }
  json_object_set_new(p, "fds", json_integer((json_int_t) total));
  json_object_set_new(p, "sockets", json_integer((json_int_t) sockets));
  if (total > json_array_size(fds)) {
    snprintf(name, sizeof(name), "proc/%d/fds.json", (int) pid);
    snap_skip(s, name, "fd limit or time limit: some fds left out");
  }
  _cleanup_free_ char *text = json_dumps(fds, JSON_INDENT(1));
  snprintf(name, sizeof(name), "proc/%d/fds.json", (int) pid);
  return text ? snap_add(s, name, text, strlen(text), err) : ward_error(err, ENOMEM, "fds");
}

/* Executable file mappings of one process, from its maps text, into exes
 * (keyed "dev:inode"): path, the map_files name, the pids mapping it. */
static void note_executables(pid_t pid, const char *maps, json_t *exes)
{
  for (const char *line = maps; line && *line;) {
    const char *end = strchr(line, '\n');
    char buf[PATH_MAX + 256];
    size_t len = end ? (size_t) (end - line) : strlen(line);
    if (len < sizeof(buf)) {
      memcpy(buf, line, len);
      buf[len] = 0;
      char range[64], perms[8], dev[16];
      unsigned long long off, ino;
      int consumed = 0;
      if (sscanf(buf, "%63s %7s %llx %15s %llu %n", range, perms, &off, dev, &ino, &consumed) == 5 && consumed > 0 &&
          perms[2] == 'x' && buf[consumed] == '/' && ino != 0) {
        char key[48];
        snprintf(key, sizeof(key), "%s:%llu", dev, ino);
        json_t *x = json_object_get(exes, key);
        if (x == NULL && json_object_size(exes) < MAX_EXECUTABLES) {
          x = json_pack("{s:s, s:s, s:i, s:[]}", "path", buf + consumed, "map", range, "via_pid", (int) pid, "pids");
          json_object_set_new(exes, key, x);
        }
        json_t *pids = x ? json_object_get(x, "pids") : NULL;
        if (pids && (json_array_size(pids) == 0 ||
                     json_integer_value(json_array_get(pids, json_array_size(pids) - 1)) != pid))
          json_array_append_new(pids, json_integer(pid));
      }
    }
    line = end ? end + 1 : NULL;
  }
}

static void hash_executables(struct snap *s, json_t *exes)
{
  json_t *list = json_array();
  json_object_set_new(s->manifest, "executables", list);
  const char *key;
  json_t *x;
  json_object_foreach(exes, key, x) {
    const char *path = json_string_value(json_object_get(x, "path"));
    const char *map = json_string_value(json_object_get(x, "map"));
    int pid = (int) json_integer_value(json_object_get(x, "via_pid"));
    json_t *out = json_pack("{s:s, s:O}", "path", path, "pids", json_object_get(x, "pids"));
    json_array_append_new(list, out);
    if (snap_out_of_time(s)) {
      json_object_set_new(out, "error", json_string("time limit"));
      snap_skip(s, path, "hash: time limit");
      continue;
    }
    /* map_files names the mapped inode even when the path was replaced or
     * deleted; it needs CAP_SYS_ADMIN, so fall back to the root link */
    char via[PATH_MAX + 64];
    snprintf(via, sizeof(via), "/proc/%d/map_files/%s", pid, map);
    _cleanup_close_ int fd = open(via, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      snprintf(via, sizeof(via), "/proc/%d/root%s", pid, path);
      fd = open(via, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    }
    struct stat sb;
    char hex[65];
    _cleanup_error_ ward_error_t herr = NULL;
    if (fd < 0) {
      json_object_set_new(out, "error", json_string(strerror(errno)));
    } else if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
      json_object_set_new(out, "error", json_string("not a regular file"));
    } else if (ward_sha256_fd(fd, HASH_MAX_BYTES, hex, &herr) < 0) {
      json_object_set_new(out, "error", json_string(herr->msg));
      snap_skip(s, path, herr->msg);
    } else {
      json_object_set_new(out, "sha256", json_string(hex));
      json_object_set_new(out, "size", json_integer((json_int_t) sb.st_size));
    }
    if (strstr(path, " (deleted)"))
      json_object_set_new(out, "deleted", json_true());
  }
}

static int add_net(struct snap *s, pid_t pid, json_t *seen, json_t *p, ward_error_t *err)
{
  static const char *const files[] = {"tcp", "tcp6", "udp", "udp6", "raw", "raw6", "unix", "packet"};
  char path[96], name[96];
  struct stat sb;
  snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) pid);
  if (stat(path, &sb) < 0)
    return 0;
  char key[32];
  snprintf(key, sizeof(key), "%llu", (unsigned long long) sb.st_ino);
  json_object_set_new(p, "netns", json_integer((json_int_t) sb.st_ino));
  if (json_object_get(seen, key))
    return 0;
  json_object_set_new(seen, key, json_integer(pid));
  for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
    snprintf(path, sizeof(path), "/proc/%d/net/%s", (int) pid, files[i]);
    snprintf(name, sizeof(name), "net/%s/%s", key, files[i]);
    if (snap_add_file(s, name, path, 4u << 20, err) < 0)
      return -1;
  }
  return 0;
}

static int add_process(struct snap *s, pid_t pid, bool first, json_t *procs, json_t *exes, json_t *netns,
                       ward_error_t *err)
{
  char path[64], name[96];
  json_t *p = json_pack("{s:i}", "pid", (int) pid);
  json_array_append_new(procs, p);
  _cleanup_free_ char *status = NULL, *cmdline = NULL, *maps = NULL;
  size_t len = 0;
  bool cut;
  _cleanup_error_ ward_error_t rerr = NULL;
  snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
  if (snap_read_bounded(AT_FDCWD, path, 65536, &status, &len, &cut, &rerr) < 0) {
    json_object_set_new(p, "error", json_string(rerr->msg));
    snprintf(name, sizeof(name), "proc/%d", (int) pid);
    snap_skip(s, name, "exited during the snapshot");
    return 0;
  }
  parse_status(status, p);
  snprintf(path, sizeof(path), "/proc/%d/cmdline", (int) pid);
  if (snap_read_bounded(AT_FDCWD, path, 65536, &cmdline, &len, &cut, &rerr) == 0)
    json_object_set_new(p, "cmdline", split_nul(cmdline, len));
  ward_error_free(&rerr);
  json_object_set_new(p, "cwd", link_of(pid, "cwd"));
  json_object_set_new(p, "root", link_of(pid, "root"));
  json_object_set_new(p, "exe", link_of(pid, "exe"));
  json_object_set_new(p, "entry", json_sprintf("proc/%d/", (int) pid));

  static const struct { const char *file; size_t cap; } files[] = {
    {"status", 65536}, {"cmdline", 65536}, {"environ", 262144}, {"stat", 4096}, {"cgroup", 65536},
    {"maps", 4u << 20}, {"limits", 8192}, {"mountinfo", 1u << 20},
  };
  for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
    /* the mount table is the same for most processes: the init's is enough */
    if (strcmp(files[i].file, "mountinfo") == 0 && !first)
      continue;
    snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, files[i].file);
    snprintf(name, sizeof(name), "proc/%d/%s", (int) pid, files[i].file);
    if (snap_add_file(s, name, path, files[i].cap, err) < 0)
      return -1;
  }
  if (add_fds(s, pid, p, err) < 0 || add_net(s, pid, netns, p, err) < 0)
    return -1;
  snprintf(path, sizeof(path), "/proc/%d/maps", (int) pid);
  if (snap_read_bounded(AT_FDCWD, path, 4u << 20, &maps, &len, &cut, &rerr) == 0)
    note_executables(pid, maps, exes);
  return 0;
}

int snap_processes(struct snap *s, const pid_t *pids_in, size_t n, ward_error_t *err)
{
  _cleanup_free_ pid_t *pids = n ? malloc(n * sizeof(pid_t)) : NULL;
  if (n && pids == NULL)
    return ward_error(err, ENOMEM, "pids");
  if (n)
    memcpy(pids, pids_in, n * sizeof(pid_t));
  qsort(pids, n, sizeof(pid_t), cmp_pid);
  json_t *procs = json_array();
  json_object_set_new(s->manifest, "processes", procs);
  _cleanup_json_ json_t *exes = json_object();
  _cleanup_json_ json_t *netns = json_object();
  /* the init first: its mount table and network namespace */
  bool have_init = false;
  for (size_t i = 0; i < n; i++)
    have_init |= pids[i] == s->st->pid;
  if (have_init && add_process(s, s->st->pid, true, procs, exes, netns, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (pids[i] == s->st->pid)
      continue;
    if (snap_out_of_time(s)) {
      char name[64];
      snprintf(name, sizeof(name), "proc/%d", (int) pids[i]);
      snap_skip(s, name, "time limit");
      continue;
    }
    if (add_process(s, pids[i], !have_init && i == 0, procs, exes, netns, err) < 0)
      return -1;
  }
  hash_executables(s, exes);
  return 0;
}
