/* Runtime-facing setup: files, ring, what to mount (see prepare.h). */
#include "probe/prepare.h"
#include "probe/control.h"
#include "probe/event.h"
#include "probe/ring.h"
#include "common/cleanup.h"
#include "common/rundir.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef WARD_PROBE_LIBDIR
#define WARD_PROBE_LIBDIR "/usr/local/lib/ward"
#endif

static int open_in_root(int rootfd, const char *path, int flags)
{
  return ward_open_in_root(rootfd, path, flags, RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
}

const char *ward_probe_variant_name(enum ward_probe_variant v)
{
  return v == WARD_PROBE_GLIBC ? "glibc" : v == WARD_PROBE_MUSL ? "musl" : "none";
}

static const char *const loader_dirs[] = {"lib", "lib64", "usr/lib", "usr/lib64"};

/* The dynamic loaders this build's probe can be loaded by, named exactly
 * (a loader for another architecture could not load it anyway). */
#if defined(__x86_64__)
#define MUSL_LOADER "ld-musl-x86_64.so.1"
#define GLIBC_LOADER "lib64/ld-linux-x86-64.so.2"
#elif defined(__aarch64__)
#define MUSL_LOADER "ld-musl-aarch64.so.1"
#define GLIBC_LOADER "lib/ld-linux-aarch64.so.1"
#endif

static bool in_root_exists(int root, const char *path)
{
  _cleanup_close_ int fd = open_in_root(root, path, O_PATH);
  return fd >= 0;
}

/* The loaders' usual places, without listing directories: a merged-/usr
 * image's usr/lib holds hundreds of entries, read twice (lib links to it). */
static enum ward_probe_variant variant_by_name(int root)
{
#ifdef MUSL_LOADER
  char path[64];
  for (size_t i = 0; i < ARRAY_SIZE(loader_dirs); i++) {
    snprintf(path, sizeof(path), "%s/" MUSL_LOADER, loader_dirs[i]);
    if (in_root_exists(root, path))
      return WARD_PROBE_MUSL;  /* an image with both runs musl binaries */
  }
  if (in_root_exists(root, GLIBC_LOADER))
    return WARD_PROBE_GLIBC;
#else
  (void) root;
#endif
  return WARD_PROBE_NONE;
}

enum ward_probe_variant ward_probe_variant_for_rootfs(const char *rootfs)
{
  _cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return WARD_PROBE_NONE;
  enum ward_probe_variant found = variant_by_name(root);
  if (found != WARD_PROBE_NONE)
    return found;
  for (size_t i = 0; i < ARRAY_SIZE(loader_dirs) && found != WARD_PROBE_MUSL; i++) {
    int dfd = open_in_root(root, loader_dirs[i], O_RDONLY | O_DIRECTORY);
    if (dfd < 0)
      continue;
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
      close(dfd);
      continue;
    }
    struct dirent *de;
    /* bounded: a hostile image may hold a huge directory */
    for (int n = 0; n < 100000 && (de = readdir(d)) != NULL; n++) {
      if (ward_has_prefix(de->d_name, "ld-musl-") && ward_has_suffix(de->d_name, ".so.1"))
        found = WARD_PROBE_MUSL;  /* an image with both runs musl binaries */
      else if (ward_has_prefix(de->d_name, "ld-linux") && strstr(de->d_name, ".so.") && found == WARD_PROBE_NONE)
        found = WARD_PROBE_GLIBC;
    }
    closedir(d);
  }
  return found;
}

static bool is_file(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int ward_probe_lib_path(enum ward_probe_variant v, char **out, ward_error_t *err)
{
  const char *name = v == WARD_PROBE_MUSL ? "libward-probe-musl.so" : WARD_PROBE_LIB;
  const char *env = getenv(v == WARD_PROBE_MUSL ? "WARD_PROBE_MUSL_LIB" : "WARD_PROBE_LIB");
  if (env && env[0] == '/' && is_file(env)) {
    *out = strdup(env);
    return *out ? 0 : ward_error(err, ENOMEM, "probe library path");
  }
  /* ward runs from a sealed memfd copy (runtime/exe_seal.c), which records
   * where it was copied from in $WARD_SELF. */
  char exe[PATH_MAX];
  const char *self = getenv("WARD_SELF");
  ssize_t n = self && self[0] == '/' && strlen(self) < sizeof(exe) ? (ssize_t) strlen(self) : -1;
  if (n > 0)
    memcpy(exe, self, (size_t) n);
  else
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  char cand[PATH_MAX + 64];
  if (n > 0) {
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) {
      *slash = 0;
      /* installed next to ward; or ward in build/src/cli, the library in
       * build/src/probe. Not made canonical: the kernel resolves the ".."
       * where the bind mount opens it, as realpath would with a lstat of
       * every component on every start-up. */
      const char *rel[] = {"", "/../probe", "/../lib/ward", "/../lib64/ward"};
      for (size_t i = 0; i < ARRAY_SIZE(rel); i++) {
        snprintf(cand, sizeof(cand), "%s%s/%s", exe, rel[i], name);
        if (is_file(cand)) {
          *out = strdup(cand);
          return *out ? 0 : ward_error(err, ENOMEM, "probe library path");
        }
      }
    }
  }
  snprintf(cand, sizeof(cand), "%s/%s", WARD_PROBE_LIBDIR, name);
  if (is_file(cand)) {
    *out = strdup(cand);
    return *out ? 0 : ward_error(err, ENOMEM, "probe library path");
  }
  return ward_error(err, ENOENT, "%s not found next to ward or in %s", name, WARD_PROBE_LIBDIR);
}

char *ward_probe_control_path(const char *state_dir)
{
  return ward_run_path(state_dir, WARD_STATE_PROBE "/" WARD_PROBE_CONTROL);
}

static int add_mount(struct ward_probe_setup *s, const char *src, const char *target, bool ro, bool noexec, bool is_dir)
{
  struct ward_probe_mount *m = &s->mounts[s->n_mounts];
  m->source = strdup(src);
  m->target = strdup(target);
  m->readonly = ro;
  m->noexec = noexec;
  m->is_dir = is_dir;
  s->n_mounts++;
  return m->source && m->target ? 0 : -1;
}

void ward_probe_setup_free(struct ward_probe_setup *s)
{
  if (s->ring_fd >= 0)
    close(s->ring_fd);
  s->ring_fd = -1;
  free(s->dir);
  free(s->control);
  free(s->preload);
  free(s->env);
  for (int i = 0; i < s->n_mounts; i++) {
    free(s->mounts[i].source);
    free(s->mounts[i].target);
  }
  memset(s, 0, sizeof(*s));
  s->ring_fd = -1;
}

/* A small file in the fresh probe directory: nothing reads it before the
 * container exists, so it is written in place; the write-and-rename of
 * ward_write_file_atomic (a second inode and a rename on a disk file
 * system) is kept for a directory left from an earlier create. */
static int write_new_file(const char *path, const char *data, size_t len, mode_t mode, ward_error_t *err)
{
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0 && errno == EEXIST)
    return ward_write_file_atomic(path, data, len, mode, err);
  if (fd < 0)
    return ward_error_sys(err, "create %s", path);
  ssize_t n = write(fd, data, len);
  if (n != (ssize_t) len) {
    int saved = n < 0 ? errno : EIO;
    unlink(path);
    return ward_error(err, saved, "write %s", path);
  }
  return 0;
}

int ward_probe_prepare(const char *run_dir, const char *rootfs, const struct ward_probe_opts *opts,
                       struct ward_probe_setup *out, ward_error_t *err)
{
  memset(out, 0, sizeof(*out));
  out->ring_fd = -1;
  if (opts->disabled)
    return 0;
  out->variant = opts->variant != WARD_PROBE_NONE ? opts->variant : ward_probe_variant_for_rootfs(rootfs);
  if (out->variant == WARD_PROBE_NONE)
    return 0;  /* static binaries only: the supervisor is what sees them */
  _cleanup_free_ char *lib = NULL;
  if (ward_probe_lib_path(out->variant, &lib, err) < 0)
    return -1;
  if (run_dir == NULL)
    return ward_error(err, EINVAL, "probes: no memory directory");
  if (asprintf(&out->dir, "%s/" WARD_STATE_PROBE, run_dir) < 0 || asprintf(&out->control, "%s/" WARD_PROBE_CONTROL, out->dir) < 0)
    return ward_error(err, ENOMEM, "probe paths");
  bool fresh = mkdir(out->dir, 0711) == 0;
  if (!fresh && errno != EEXIST)
    return ward_error_sys(err, "%s", out->dir);
  if (ward_control_create(out->control, opts->groups, err) < 0)
    return -1;
  /* A plain file, not a sealed memfd: the kernel refuses to bind-mount a
   * memfd (it lives on an internal mount), and a bind mount is what makes
   * the ring reachable by every process of the container whatever fds or
   * environment it keeps. The price, truncation by the workload, is borne
   * by the workload (docs/probes.md); the host consumer survives it. */
  _cleanup_free_ char *ring = NULL;
  if (asprintf(&ring, "%s/" WARD_PROBE_RING, out->dir) < 0)
    return ward_error(err, ENOMEM, "probe paths");
  if (!fresh)
    unlink(ring);
  if (ward_ring_create_file(ring, opts->ring_size, opts->slot_size, &out->ring_fd, err) < 0)
    return -1;
  const char *lib_target = out->variant == WARD_PROBE_MUSL ? WARD_PROBE_DIR "/libward-probe-musl.so"
                                                           : WARD_PROBE_DIR "/" WARD_PROBE_LIB;
  /* honeypot decoys: the directory is mounted now, so switching a running
   * container to honeypot needs no new mount; its files are written by
   * ward_control_set_mode when honeypot is first entered (writing them
   * here would cost every start-up a few milliseconds) */
  _cleanup_free_ char *decoys = NULL;
  if (asprintf(&decoys, "%s/" WARD_PROBE_DECOYS, out->dir) < 0)
    return ward_error(err, ENOMEM, "probe paths");
  if ((mkdir(decoys, 0755) < 0 && errno != EEXIST) || chmod(decoys, 0755) < 0)
    return ward_error_sys(err, "%s", decoys);
  if (add_mount(out, ring, WARD_PROBE_DIR "/" WARD_PROBE_RING, false, true, false) < 0
      || add_mount(out, out->control, WARD_PROBE_DIR "/" WARD_PROBE_CONTROL, true, true, false) < 0
      || add_mount(out, lib, lib_target, true, false, false) < 0
      || add_mount(out, decoys, WARD_PROBE_DIR "/" WARD_PROBE_DECOYS, true, true, true) < 0)
    return ward_error(err, ENOMEM, "probe mounts");
  if (out->variant == WARD_PROBE_GLIBC) {
    /* musl reads no ld.so.preload; glibc reads it for every dynamic exec,
     * and a read-only bind mount cannot be edited from inside */
    if (asprintf(&out->preload, "%s/ld.so.preload", out->dir) < 0)
      return ward_error(err, ENOMEM, "probe paths");
    char buf[sizeof(WARD_PROBE_DIR "/libward-probe-musl.so\n")];
    int n = snprintf(buf, sizeof(buf), "%s\n", lib_target);
    if (write_new_file(out->preload, buf, (size_t) n, 0644, err) < 0)
      return -1;
    if (add_mount(out, out->preload, "/etc/ld.so.preload", true, true, false) < 0)
      return ward_error(err, ENOMEM, "probe mounts");
  } else if (asprintf(&out->env, "LD_PRELOAD=%s", lib_target) < 0) {
    return ward_error(err, ENOMEM, "probe environment");
  }
  return 0;
}

/* The ring file itself is the record: it lies in the memory directory,
 * which no container can reach, and only whoever could replace it could
 * have rewritten a note of its dev:ino beside it (the ring.id of older
 * wards, one more file made on every start-up). */
int ward_probe_check_ring(const char *state_dir, int fd, ward_error_t *err)
{
  _cleanup_free_ char *p = ward_run_path(state_dir, WARD_STATE_PROBE "/" WARD_PROBE_RING);
  if (p == NULL)
    return ward_error_sys(err, "%s: the memory directory", state_dir);
  struct stat want, st;
  if (lstat(p, &want) < 0)
    return ward_error_sys(err, "%s", p);
  if (!S_ISREG(want.st_mode))
    return ward_error(err, 0, "%s: not a regular file", p);
  if (fstat(fd, &st) < 0)
    return ward_error_sys(err, "ring fd");
  if (st.st_dev != want.st_dev || st.st_ino != want.st_ino)
    return ward_error(err, 0, "ring fd: not the ring at %s", p);
  return 0;
}

int ward_probe_open_ring(const char *state_dir, int init_pid, int *fd_out, ward_error_t *err)
{
  /* The ring is a file in the container's memory directory
   * (common/rundir.h), which no container can reach; the check still
   * guards against a file swapped between the open and now. */
  _cleanup_free_ char *p = ward_run_path(state_dir, WARD_STATE_PROBE "/" WARD_PROBE_RING);
  if (p == NULL)
    return ward_error_sys(err, "%s: the memory directory", state_dir);
  _cleanup_close_ int fd = open(p, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return ward_error_sys(err, "%s", p);
  if (ward_probe_check_ring(state_dir, fd, err) < 0)
    return ward_error_prefix(err, "container %d", init_pid);
  *fd_out = steal_fd(&fd);
  return 0;
}
