/* A container's memory directory (rundir.h). */
#include "common/rundir.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

static const char *const bases[] = {"/run", "/dev/shm"};
/* BASE/ward-run-UID: one user's memory directories on one base */
#define BASE_PREFIX "ward-run-"
/* in each memory directory: a symlink to its state directory */
#define STATE_LINK "state"

/* Our effective uid, asked once: every look-up of a memory directory
 * checks it several times, each a system call. Only the container's init
 * and the honeypot's sink change theirs, and neither comes here. */
static uid_t euid(void)
{
  static int cached = -1;
  int u = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (u < 0) {
    u = (int) geteuid();
    __atomic_store_n(&cached, u, __ATOMIC_RELAXED);
  }
  return (uid_t) u;
}

/* BASE/ward-run-UID for our uid, or -1 when it does not fit. */
static int own_base(const char *base, char *out, size_t size)
{
  int n = snprintf(out, size, "%s/" BASE_PREFIX "%u", base, (unsigned) euid());
  return n > 0 && (size_t) n < size ? 0 : -1;
}

static bool on_tmpfs(const char *path)
{
  struct statfs fs;
  return statfs(path, &fs) == 0 && fs.f_type == TMPFS_MAGIC;
}

/* Whether a and b are the same path or one lies beneath the other. */
static bool overlaps(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  const char *longer = la >= lb ? a : b;
  size_t n = la < lb ? la : lb;
  if (strncmp(a, b, n) != 0)
    return false;
  return longer[n] == 0 || longer[n] == '/' || (n > 0 && longer[n - 1] == '/');
}

/* Whether the container would see BASE/ward-run-UID: a path it is given
 * contains it or lies inside it (a bind of /run/foo.sock does not). The
 * paths are resolved on the heap: several PATH_MAX buffers on the stack
 * cost a fresh page fault each on the first run through here. */
static bool exposed_to(const char *base, const char *const *exposed)
{
  _cleanup_free_ char *resolved = realpath(base, NULL), *real = NULL;
  if (resolved == NULL || asprintf(&real, "%s/" BASE_PREFIX "%u", resolved, (unsigned) euid()) < 0) {
    real = NULL;
    return true;
  }
  for (size_t i = 0; exposed && exposed[i]; i++) {
    /* a source that does not resolve cannot be mounted either */
    _cleanup_free_ char *src = realpath(exposed[i], NULL);
    if (src && overlaps(src, real))
      return true;
  }
  return false;
}

/* BASE/ward-run-UID: 0700 (a rootless init that binds a probe file itself
 * runs as our uid), and used only if it is a real directory of ours that
 * nobody else may enter. */
static int base_dir(const char *base, char *out, size_t size)
{
  if (!on_tmpfs(base))
    return -1;
  if (own_base(base, out, size) < 0)
    return -1;
  if (mkdir(out, 0700) < 0 && errno != EEXIST)
    return -1;
  struct stat st;
  if (lstat(out, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != euid())
    return -1;
  /* ours (in a sticky directory nobody else can rename it), but opened up
   * by someone: close it again */
  if ((st.st_mode & 077) && chmod(out, 0700) < 0)
    return -1;
  return 0;
}

/* The memory directory's path for this state directory on this base. */
static int target_name(const char *base_path, const struct stat *sd, char *out, size_t size)
{
  int n = snprintf(out, size, "%s/%llx-%llx", base_path, (unsigned long long) sd->st_dev,
                   (unsigned long long) sd->st_ino);
  return n > 0 && (size_t) n < size ? 0 : -1;
}

/* Makes the directory, replacing one a crashed run left under this name
 * (the name is the live state directory's, so nothing else can own it). */
static int make_target(const char *target)
{
  if (mkdir(target, 0711) == 0)
    return 0;
  if (errno != EEXIST)
    return -1;
  _cleanup_error_ ward_error_t ignored = NULL;
  if (ward_remove_tree(target, &ignored) < 0)
    return -1;
  return mkdir(target, 0711);
}

int ward_run_dir_masks(const char *source, const char *dest, char ***masks, ward_error_t *err)
{
  char src[PATH_MAX];
  if (realpath(source, src) == NULL)
    return 0;  /* the mount itself will fail, with its own error */
  size_t ls = strlen(src);
  for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
    char real[PATH_MAX], own[PATH_MAX];
    if (realpath(bases[i], real) == NULL)
      continue;
    size_t lr = strlen(real);
    if (strncmp(src, real, lr) == 0 && src[lr] == '/' && strncmp(src + lr + 1, BASE_PREFIX, strlen(BASE_PREFIX)) == 0)
      return ward_error(err, EPERM, "%s lies in ward's memory directories, which hold other containers' probe files",
                        source);
    /* only a bind of the base or of a directory above it shows the base */
    if (!(strcmp(src, "/") == 0 || (strncmp(real, src, ls) == 0 && (real[ls] == '/' || real[ls] == 0))))
      continue;
    base_dir(bases[i], own, sizeof(own));
    _cleanup_closedir_ DIR *d = opendir(real);
    if (d == NULL)
      continue;
    const char *rel = strcmp(src, "/") == 0 ? real : real + ls;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (strncmp(de->d_name, BASE_PREFIX, strlen(BASE_PREFIX)) != 0)
        continue;
      _cleanup_free_ char *path = NULL;
      if (asprintf(&path, "%s%s%s/%s", strcmp(dest, "/") == 0 ? "" : dest, *rel == '/' || *rel == 0 ? "" : "/", rel,
                   de->d_name) < 0 ||
          ward_strv_append(masks, path) < 0)
        return ward_error(err, ENOMEM, "masks");
    }
  }
  return 0;
}

void ward_run_dir_adopt_legacy(const char *state_dir)
{
  char path[PATH_MAX];
  struct stat st;
  if ((size_t) snprintf(path, sizeof(path), "%s/" WARD_RUN_DIR, state_dir) >= sizeof(path) ||
      lstat(path, &st) == 0 || errno != ENOENT)
    return;
  bool legacy = false;
  const char *const old[] = {"probe", "flight"};
  for (size_t i = 0; i < ARRAY_SIZE(old) && !legacy; i++) {
    char p[PATH_MAX];
    legacy = (size_t) snprintf(p, sizeof(p), "%s/%s", state_dir, old[i]) < sizeof(p) && lstat(p, &st) == 0;
  }
  if (legacy)
    (void) symlink(".", path);
}

/* Whether base (BASE/ward-run-UID) is a directory of ours that nobody
 * else may enter: only then is what it holds taken as ours. */
static bool base_ours_alone(const char *base)
{
  struct stat st;
  return lstat(base, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == euid() && !(st.st_mode & 077);
}

/* The memory directory of the state directory sd on one of the bases: a
 * directory named after its DEV-INO in a base that is ours alone, whose
 * back-link leads to this very state directory (not only to one that had
 * its name). Only root makes them (ward_run_dir_create). */
static int find_memory_dir(const struct stat *sd, char *out, size_t size)
{
  if (euid() != 0)
    return -1;
  for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
    char base[128], back[256];
    struct stat st;
    if (own_base(bases[i], base, sizeof(base)) < 0 || !base_ours_alone(base) ||
        target_name(base, sd, out, size) < 0 ||
        (size_t) snprintf(back, sizeof(back), "%s/" STATE_LINK, out) >= sizeof(back))
      continue;
    if (stat(back, &st) == 0 && st.st_dev == sd->st_dev && st.st_ino == sd->st_ino)
      return 0;
  }
  return -1;
}

/* Where a state_dir/run link leads, if it is one ward made: "." (a state
 * directory adopted from before state_dir/run) or an older ward's link to
 * the memory directory named after sd, in a base that is still ours alone.
 * Anything else is not followed: a state directory can be filled by its
 * owner (a rootless container's user), and whoever reads it (`ward probe`,
 * `ward events`, a snapshot, possibly as root) would otherwise map and
 * write files wherever the link points, another container's control page
 * among them. (The agent itself serves only its own uid and root.) */
static int run_link_target(const char *link, const char *state_dir, const struct stat *sd, char *out, size_t size)
{
  char dest[256], base[128], target[192];
  ssize_t n = readlink(link, dest, sizeof(dest) - 1);
  if (n < 0 || n == (ssize_t) sizeof(dest) - 1)
    return -1;
  dest[n] = 0;
  if (strcmp(dest, ".") == 0)
    return (size_t) snprintf(out, size, "%s", state_dir) < size ? 0 : -1;
  for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
    if (own_base(bases[i], base, sizeof(base)) < 0 || target_name(base, sd, target, sizeof(target)) < 0 ||
        strcmp(dest, target) != 0)
      continue;
    if (!base_ours_alone(base))
      return -1;
    return (size_t) snprintf(out, size, "%s", target) < size ? 0 : -1;
  }
  return -1;
}

int ward_run_dir_path(const char *state_dir, char *out, size_t size)
{
  int n = snprintf(out, size, "%s/" WARD_RUN_DIR, state_dir);
  if (n < 0 || (size_t) n >= size) {
    errno = ENAMETOOLONG;
    return -1;
  }
  /* a plain one, or the link an older ward made: the way it was made */
  struct stat st, sd;
  if (lstat(out, &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return 0;
    char link[PATH_MAX];
    memcpy(link, out, (size_t) n + 1);
    if (S_ISLNK(st.st_mode) && stat(state_dir, &sd) == 0 && run_link_target(link, state_dir, &sd, out, size) == 0)
      return 0;
    errno = ELOOP;
    return -1;
  }
  if (errno != ENOENT)
    return -1;
  char mem[192];
  if (stat(state_dir, &sd) == 0 && find_memory_dir(&sd, mem, sizeof(mem)) == 0 && strlen(mem) < size)
    memcpy(out, mem, strlen(mem) + 1);
  return 0;
}

char *ward_run_path(const char *state_dir, const char *name)
{
  char dir[PATH_MAX];
  char *p = NULL;
  if (ward_run_dir_path(state_dir, dir, sizeof(dir)) < 0 || asprintf(&p, "%s/%s", dir, name) < 0)
    return NULL;
  return p;
}

int ward_run_dir_ensure(const char *state_dir, char *out, size_t size, ward_error_t *err)
{
  if (ward_run_dir_path(state_dir, out, size) < 0)
    return errno == ELOOP ? ward_error(err, ELOOP, "%s/" WARD_RUN_DIR ": not a directory ward made", state_dir)
                          : ward_error_sys(err, "%s", state_dir);
  if (mkdir(out, 0711) < 0 && errno != EEXIST)
    return ward_error_sys(err, "%s", out);
  return 0;
}

int ward_run_dir_create(const char *state_dir, const char *const *exposed, char *out, size_t size,
                        ward_error_t *err)
{
  char plain[PATH_MAX];
  if ((size_t) snprintf(plain, sizeof(plain), "%s/" WARD_RUN_DIR, state_dir) >= sizeof(plain) ||
      strlen(plain) >= size)
    return ward_error(err, ENAMETOOLONG, "%s", state_dir);
  struct stat st;
  if (lstat(plain, &st) == 0) {
    memcpy(out, plain, strlen(plain) + 1);
    return 0;
  }
  if (errno != ENOENT)
    return ward_error_sys(err, "%s", plain);
  struct stat sd;
  if (stat(state_dir, &sd) < 0)
    return ward_error_sys(err, "%s", state_dir);
  /* Only root's: /dev/shm is anyone's to write, and a rootless user's base
   * there could be made or emptied (logind's RemoveIPC) by someone else. */
  if (euid() == 0 && !on_tmpfs(state_dir)) {
    /* bases[] are short constants: so are the names made from them */
    char base[128], target[192];
    for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
      /* the cheap test first: a base that is not tmpfs needs no paths resolved */
      if (!on_tmpfs(bases[i]) || exposed_to(bases[i], exposed) || base_dir(bases[i], base, sizeof(base)) < 0 ||
          target_name(base, &sd, target, sizeof(target)) < 0 || strlen(target) >= size || make_target(target) < 0)
        continue;
      /* The way back: how readers know the directory is this state
       * directory's (ward_run_dir_path), and ward_run_dir_sweep that it is
       * stale. No link the other way: on a disk file system it would be an
       * inode allocated for every container (on this VM's ext4 without a
       * journal, a scan past every inode freed in the last minute). */
      char back[sizeof(target) + sizeof(STATE_LINK) + 1];
      _cleanup_free_ char *abs_state = realpath(state_dir, NULL);
      if (abs_state == NULL ||
          (size_t) snprintf(back, sizeof(back), "%s/" STATE_LINK, target) >= sizeof(back) ||
          symlink(abs_state, back) < 0) {
        int saved = errno;
        _cleanup_error_ ward_error_t ignored = NULL;
        ward_remove_tree(target, &ignored);
        return ward_error(err, saved, "%s", target);
      }
      /* a plain one made meanwhile by another writer is what readers find:
       * ours goes unused */
      if (lstat(plain, &st) == 0) {
        _cleanup_error_ ward_error_t ignored = NULL;
        ward_remove_tree(target, &ignored);
        break;
      }
      memcpy(out, target, strlen(target) + 1);
      return 0;
    }
  }
  if (mkdir(plain, 0711) < 0 && errno != EEXIST)
    return ward_error_sys(err, "%s", plain);
  memcpy(out, plain, strlen(plain) + 1);
  return 0;
}

/* Removes a memory directory: what ward puts there by name first (listing
 * each directory cost three more system calls than the entries it found,
 * on the path of every `ward run`), then, if anything is left (decoys a
 * honeypot wrote, a newer ward's files), the generic removal. An unlink by
 * name never goes through a mount, and a mount point is not removed. */
static int remove_memory_dir(const char *target, ward_error_t *err)
{
  static const char *const probe_files[] = {"control", "ring", "ring.lock", "ld.so.preload"};
  _cleanup_close_ int dfd = open(target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd >= 0) {
    _cleanup_close_ int pfd = openat(dfd, "probe", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    for (size_t i = 0; pfd >= 0 && i < ARRAY_SIZE(probe_files); i++)
      (void) unlinkat(pfd, probe_files[i], 0);
    if (pfd >= 0)
      (void) unlinkat(pfd, "decoys", AT_REMOVEDIR);
    (void) unlinkat(dfd, "probe", AT_REMOVEDIR);
    (void) unlinkat(dfd, "flight", 0);
    (void) unlinkat(dfd, STATE_LINK, 0);
    if (rmdir(target) == 0 || errno == ENOENT)
      return 0;
  }
  return ward_remove_tree(target, err);
}

int ward_run_dir_remove(const char *state_dir, ward_error_t *err)
{
  char link[PATH_MAX], dest[256], target[192];
  if ((size_t) snprintf(link, sizeof(link), "%s/" WARD_RUN_DIR, state_dir) >= sizeof(link))
    return 0;
  struct stat sd;
  if (stat(state_dir, &sd) < 0)
    return ward_error_sys(err, "%s", state_dir);
  struct stat st;
  if (lstat(link, &st) < 0) {
    /* none: the memory directory, if this state directory has one */
    return errno == ENOENT && find_memory_dir(&sd, target, sizeof(target)) == 0 ? remove_memory_dir(target, err) : 0;
  }
  /* The link of an older ward to the directory this state directory would
   * have made, through a base that is still ours alone (a reboot empties
   * tmpfs): the link's word alone is not enough to remove a tree. A plain
   * directory, and "." links, go with the state directory. */
  if (!S_ISLNK(st.st_mode) || run_link_target(link, state_dir, &sd, dest, sizeof(dest)) < 0 ||
      strcmp(dest, state_dir) == 0)
    return 0;
  return remove_memory_dir(dest, err);
}

/* A memory directory is stale when the state directory its link names is
 * gone or is another one (not the DEV-INO it is named after). One being
 * made has no link yet and is left alone. Known gap: between this check
 * and the removal, a new state directory can be made with the same DEV-INO
 * (inode reuse) and lose its files; and a state root that is not mounted,
 * or not visible in this mount namespace, reads as gone. Both need a state
 * directory removed by hand or a root unmounted under running containers. */
static bool stale(int basefd, const char *name)
{
  char link[PATH_MAX], state[PATH_MAX];
  if ((size_t) snprintf(link, sizeof(link), "%s/" STATE_LINK, name) >= sizeof(link))
    return false;
  ssize_t n = readlinkat(basefd, link, state, sizeof(state) - 1);
  if (n < 0)
    return false;
  state[n] = 0;
  struct stat sd;
  if (stat(state, &sd) < 0)
    return errno == ENOENT || errno == ENOTDIR;
  char expect[64];
  snprintf(expect, sizeof(expect), "%llx-%llx", (unsigned long long) sd.st_dev, (unsigned long long) sd.st_ino);
  return strcmp(expect, name) != 0;
}

void ward_run_dir_sweep(void)
{
  for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
    char base[PATH_MAX];
    if (own_base(bases[i], base, sizeof(base)) < 0)
      continue;
    struct stat st;
    if (lstat(base, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != euid())
      continue;
    _cleanup_closedir_ DIR *d = opendir(base);
    if (d == NULL)
      continue;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (de->d_name[0] == '.' || !stale(dirfd(d), de->d_name))
        continue;
      char path[PATH_MAX];
      _cleanup_error_ ward_error_t ignored = NULL;
      if ((size_t) snprintf(path, sizeof(path), "%s/%s", base, de->d_name) < sizeof(path))
        ward_remove_tree(path, &ignored);
    }
  }
}
