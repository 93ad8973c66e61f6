/* The optional parts of a snapshot: the overlay root's upper directory (the
 * files the container created or changed, and the whiteouts of those it
 * deleted), and a CRIU checkpoint taken with `criu dump --leave-running`. */
#include "agent/snapshot_internal.h"

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define DIFF_MAX_DEPTH 64
#define DIFF_MAX_ENTRIES 100000

/* mountinfo escapes " \t\n\\" as \ooo */
static void unescape(char *s)
{
  char *w = s;
  for (char *r = s; *r;) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
      *w++ = (char) ((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
      r += 4;
    } else {
      *w++ = *r++;
    }
  }
  *w = 0;
}

/* The upperdir of the init's root mount, if it is an overlay; NULL else. */
static char *overlay_upperdir(pid_t init)
{
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int) init);
  _cleanup_free_ char *buf = NULL;
  _cleanup_error_ ward_error_t ignored = NULL;
  if (ward_read_file(path, 4u << 20, &buf, NULL, &ignored) < 0)
    return NULL;
  char *found = NULL;
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    char mnt[PATH_MAX];
    if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 || strcmp(mnt, "/") != 0)
      continue;
    char *sep = strstr(line, " - ");
    char fstype[64], super[4096];
    if (sep == NULL || sscanf(sep + 3, "%63s %*s %4095s", fstype, super) != 2)
      continue;
    /* the last root mount wins: it is the one on top */
    free(found);
    found = NULL;
    if (strcmp(fstype, "overlay") != 0)
      continue;
    for (char *opt = super; opt;) {
      char *comma = strchr(opt, ',');
      /* overlayfs escapes commas in paths as "\," */
      while (comma && comma > opt && comma[-1] == '\\')
        comma = strchr(comma + 1, ',');
      if (comma)
        *comma = 0;
      if (strncmp(opt, "upperdir=", 9) == 0) {
        found = strdup(opt + 9);
        unescape(found);
      }
      opt = comma ? comma + 1 : NULL;
    }
  }
  return found;
}

struct diff { struct snap *s; json_t *deleted, *opaque; size_t files, symlinks, entries; bool capped; };

static int walk(struct diff *d, int fd0, const char *rel, int depth, ward_error_t *err)
{
  _cleanup_closedir_ DIR *dir = fdopendir(fd0);
  if (dir == NULL) {
    close(fd0);
    return 0;
  }
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (++d->entries > DIFF_MAX_ENTRIES || snap_out_of_time(d->s)) {
      d->capped = true;
      return 0;
    }
    _cleanup_free_ char *sub = NULL, *name = NULL;
    if (asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) < 0 || asprintf(&name, "rootfs-diff/%s", sub) < 0)
      return ward_error(err, ENOMEM, "rootfs diff");
    struct stat sb;
    if (fstatat(dirfd(dir), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    if (!snap_name_ok(name)) {
      snap_skip(d->s, "rootfs-diff entry", "a name that cannot be stored safely");
      continue;
    }
    if (S_ISDIR(sb.st_mode)) {
      char v[2];
      int sfd = openat(dirfd(dir), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sfd < 0)
        continue;
      if (fgetxattr(sfd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y')
        json_array_append_new(d->opaque, json_string(sub));
      if (depth >= DIFF_MAX_DEPTH) {
        close(sfd);
        snap_skip(d->s, name, "directory depth limit");
        continue;
      }
      if (walk(d, sfd, sub, depth + 1, err) < 0)
        return -1;
    } else if (S_ISCHR(sb.st_mode) && major(sb.st_rdev) == 0 && minor(sb.st_rdev) == 0) {
      /* a whiteout: the container deleted this path of the lower layers */
      if (json_array_size(d->deleted) < 10000)
        json_array_append_new(d->deleted, json_string(sub));
    } else if (S_ISLNK(sb.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlinkat(dirfd(dir), e->d_name, target, sizeof(target) - 1);
      if (n < 0)
        continue;
      target[n] = 0;
      d->symlinks++;
      if (snap_add_symlink(d->s, name, target, err) < 0)
        return -1;
    } else if (S_ISREG(sb.st_mode)) {
      uint64_t room = d->s->max_bytes > d->s->bytes + 512 ? d->s->max_bytes - d->s->bytes - 512 : 0;
      if ((uint64_t) sb.st_size > room) {
        snap_skip(d->s, name, "size limit");
        continue;
      }
      _cleanup_free_ char *buf = NULL;
      size_t len = 0;
      bool cut;
      _cleanup_error_ ward_error_t rerr = NULL;
      if (snap_read_bounded(dirfd(dir), e->d_name, (size_t) room, &buf, &len, &cut, &rerr) < 0) {
        snap_skip(d->s, name, rerr->msg);
        continue;
      }
      d->files++;
      if (snap_add(d->s, name, buf, len, err) < 0)
        return -1;
    } else {
      snap_skip(d->s, name, "not a regular file, directory or symlink");
    }
  }
  return 0;
}

int snap_rootfs_diff(struct snap *s, ward_error_t *err)
{
  _cleanup_free_ char *upper = overlay_upperdir(s->st->pid);
  if (upper == NULL) {
    json_object_set_new(s->manifest, "rootfs_diff", json_pack("{s:b}", "overlay", false));
    return 0;
  }
  json_t *info = json_pack("{s:b, s:s, s:s, s:[], s:[]}", "overlay", true, "upperdir", upper, "entry", "rootfs-diff/",
                           "deleted", "opaque_dirs");
  json_object_set_new(s->manifest, "rootfs_diff", info);
  int fd = upper[0] == '/' ? open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  if (fd < 0) {
    json_object_set_new(info, "error", json_string(upper[0] == '/' ? strerror(errno) : "not an absolute path"));
    snap_skip(s, "rootfs-diff", "the overlay upper directory cannot be opened from the host");
    return 0;
  }
  struct diff d = {.s = s, .deleted = json_object_get(info, "deleted"), .opaque = json_object_get(info, "opaque_dirs")};
  if (walk(&d, fd, "", 0, err) < 0)
    return -1;
  json_object_set_new(info, "files", json_integer((json_int_t) d.files));
  json_object_set_new(info, "symlinks", json_integer((json_int_t) d.symlinks));
  if (d.capped)
    snap_skip(s, "rootfs-diff", "entry or time limit: the walk stopped early");
  return 0;
}

/* --- CRIU --- */

static int add_dir_files(struct snap *s, const char *dir, const char *prefix, ward_error_t *err)
{
  _cleanup_closedir_ DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    _cleanup_free_ char *path = NULL, *name = NULL;
    if (asprintf(&path, "%s/%s", dir, e->d_name) < 0 || asprintf(&name, "%s/%s", prefix, e->d_name) < 0)
      return ward_error(err, ENOMEM, "criu");
    struct stat sb;
    if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode) || !snap_name_ok(name))
      continue;
    if (snap_add_file(s, name, path, (size_t) s->max_bytes, err) < 0)
      return -1;
  }
  return 0;
}

int snap_criu(struct snap *s, ward_error_t *err)
{
  json_t *info = json_pack("{s:b}", "requested", true);
  json_object_set_new(s->manifest, "criu", info);
  char dir[] = "/tmp/ward-criu-XXXXXX";
  if (mkdtemp(dir) == NULL) {
    json_object_set_new(info, "error", json_string(strerror(errno)));
    return 0;
  }
  char pid[16], log[sizeof(dir) + 16];
  snprintf(pid, sizeof(pid), "%d", (int) s->st->pid);
  snprintf(log, sizeof(log), "%s/dump.log", dir);
  pid_t child = fork();
  if (child < 0) {
    rmdir(dir);
    return ward_error_sys(err, "criu: fork");
  }
  if (child == 0) {
    ward_child_reset_signals();
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
    }
    execlp("criu", "criu", "dump", "--tree", pid, "--images-dir", dir, "--leave-running", "--shell-job",
           "--tcp-established", "--ext-unix-sk", "--file-locks", "-v2", "--log-file", log, (char *) NULL);
    _exit(127);
  }
  /* bounded by what is left of the snapshot's time */
  int status = 0;
  bool timed_out = false;
  for (;;) {
    pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child)
      break;
    if (r < 0 && errno != EINTR)
      break;
    if (snap_out_of_time(s)) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      timed_out = true;
      break;
    }
    usleep(10000);
  }
  bool ok = !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  json_object_set_new(info, "ok", json_boolean(ok));
  if (timed_out)
    json_object_set_new(info, "error", json_string("time limit: criu was stopped"));
  else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    json_object_set_new(info, "error", json_string("criu is not installed"));
  else if (!ok)
    json_object_set_new(info, "error", json_sprintf("criu dump failed (status %d): see criu/dump.log", status));
  json_object_set_new(info, "entry", json_string("criu/"));
  int rc = add_dir_files(s, dir, "criu", err);
  _cleanup_error_ ward_error_t ignored = NULL;
  ward_remove_tree(dir, &ignored);
  return rc;
}
