#include "common/util.h"
#include "common/cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <linux/close_range.h>
#include <linux/magic.h>
#include <linux/openat2.h>

#define DEFAULT_MAX_READ (64u << 20)

int ward_read_file_at(int dirfd, const char *path, size_t max_bytes, char **buf, size_t *len, ward_error_t *err)
{
  if (max_bytes == 0)
    max_bytes = DEFAULT_MAX_READ;
  _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return ward_error_sys(err, "open %s", path);
  size_t cap = 4096, used = 0;
  _cleanup_free_ char *data = malloc(cap + 1);
  if (data == NULL)
    return ward_error(err, ENOMEM, "read %s", path);
  for (;;) {
    if (used > max_bytes)
      return ward_error(err, EFBIG, "read %s: larger than %zu bytes", path, max_bytes);
    if (used == cap) {
      cap *= 2;
      char *bigger = realloc(data, cap + 1);
      if (bigger == NULL)
        return ward_error(err, ENOMEM, "read %s", path);
      data = bigger;
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
  if (used > max_bytes)
    return ward_error(err, EFBIG, "read %s: larger than %zu bytes", path, max_bytes);
  data[used] = '\0';
  *buf = steal_pointer(&data);
  if (len)
    *len = used;
  return 0;
}

int ward_read_file(const char *path, size_t max_bytes, char **buf, size_t *len, ward_error_t *err)
{
  return ward_read_file_at(AT_FDCWD, path, max_bytes, buf, len, err);
}

int ward_write_file_at(int dirfd, const char *path, const char *data, size_t len, ward_error_t *err)
{
  _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return ward_error_sys(err, "open %s", path);
  ssize_t n = write(fd, data, len);
  if (n < 0)
    return ward_error_sys(err, "write %s", path);
  if ((size_t) n != len)
    return ward_error(err, EIO, "write %s: short write", path);
  return 0;
}

int ward_write_string_at(int dirfd, const char *path, const char *s, ward_error_t *err)
{
  return ward_write_file_at(dirfd, path, s, strlen(s), err);
}

int ward_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode, ward_error_t *err)
{
  _cleanup_free_ char *tmp = NULL;
  if (asprintf(&tmp, "%s.tmp.%d", path, (int) getpid()) < 0)
    return ward_error(err, ENOMEM, "write %s", path);
  _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return ward_error_sys(err, "create %s", tmp);
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int saved = errno;
      unlink(tmp);
      return ward_error(err, saved, "write %s", tmp);
    }
    off += (size_t) n;
  }
  if (rename(tmp, path) < 0) {
    int saved = errno;
    unlink(tmp);
    return ward_error(err, saved, "rename %s", path);
  }
  return 0;
}

int ward_mkdir_p(const char *path, mode_t mode, ward_error_t *err)
{
  /* Usually only the last component is missing (a container's cgroup in
   * each of up to a dozen hierarchies): one mkdir instead of one per
   * ancestor. */
  if (mkdir(path, mode) == 0 || errno == EEXIST)
    return 0;
  if (errno != ENOENT)
    return ward_error_sys(err, "mkdir %s", path);
  _cleanup_free_ char *copy = strdup(path);
  if (copy == NULL)
    return ward_error(err, ENOMEM, "mkdir %s", path);
  for (char *p = copy + 1; ; p++) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      if (mkdir(copy, mode) < 0 && errno != EEXIST)
        return ward_error_sys(err, "mkdir %s", copy);
      *p = saved;
      if (saved == '\0')
        break;
    }
  }
  return 0;
}

/* type: the entry's d_type (DT_UNKNOWN when not known). Anything but a
 * directory is unlinked as it is; a directory is emptied first, unless it
 * is a mount point. Its entries are read with getdents64 itself: fdopendir
 * adds a stat, two fcntls and a 32 KiB buffer for every directory, and a
 * container's removal walks four of them. */
static int remove_at(int parent, const char *name, unsigned char type, dev_t dev, ward_error_t *err)
{
  if (type != DT_DIR) {
    if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
      return 0;
    if (errno != EISDIR)  /* a directory listed as something else, or replaced by one */
      return ward_error_sys(err, "unlink %s", name);
  }
  _cleanup_close_ int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && (errno == ENOTDIR || errno == ELOOP)) {
    /* no longer a directory since it was listed (a link, say): unlinked as it is now */
    if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
      return 0;
    return ward_error_sys(err, "unlink %s", name);
  }
  if (fd < 0)
    return errno == ENOENT ? 0 : ward_error_sys(err, "open %s", name);
  /* a mount point below the top: another device, or (where the kernel
   * says) any mount root, a bind mount from the same file system too */
  struct statx stx;
  if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) < 0)
    return ward_error_sys(err, "stat %s", name);
  bool top = parent == AT_FDCWD;
  if (!top && (makedev(stx.stx_dev_major, stx.stx_dev_minor) != dev ||
               (stx.stx_attributes_mask & stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)))
    return ward_error(err, EXDEV, "refusing to remove %s: it is a mount point", name);
  /* on the heap: a deep tree must not take 4 KiB of stack per level */
  enum { DENTS_BUF = 4096 };
  _cleanup_free_ char *buf = malloc(DENTS_BUF);
  if (buf == NULL)
    return ward_error(err, ENOMEM, "remove %s", name);
  for (;;) {
    ssize_t n = getdents64(fd, buf, DENTS_BUF);
    if (n < 0)
      return ward_error_sys(err, "read %s", name);
    if (n == 0)
      break;
    for (ssize_t off = 0; off < n;) {
      const struct dirent64 *de = (const struct dirent64 *) (buf + off);
      off += de->d_reclen;
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
        continue;
      if (remove_at(fd, de->d_name, de->d_type, dev, err) < 0)
        return ward_error_prefix(err, "%s", name);
    }
  }
  if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return ward_error_sys(err, "rmdir %s", name);
  return 0;
}

int ward_remove_tree(const char *path, ward_error_t *err)
{
  struct stat st;
  if (lstat(path, &st) < 0)
    return errno == ENOENT ? 0 : ward_error_sys(err, "stat %s", path);
  return remove_at(AT_FDCWD, path, S_ISDIR(st.st_mode) ? DT_DIR : DT_REG, st.st_dev, err);
}

size_t ward_strv_len(char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

void ward_strv_free(char **v)
{
  ward_strvfreep(&v);
}

char **ward_strv_dup(char *const *v)
{
  size_t n = ward_strv_len(v);
  char **out = calloc(n + 1, sizeof(char *));
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    out[i] = strdup(v[i]);
    if (out[i] == NULL) {
      ward_strv_free(out);
      return NULL;
    }
  }
  return out;
}

int ward_strv_append(char ***v, const char *s)
{
  size_t n = ward_strv_len(*v);
  char *copy = strdup(s);
  if (copy == NULL)
    return -1;
  char **bigger = realloc(*v, (n + 2) * sizeof(char *));
  if (bigger == NULL) {
    free(copy);
    return -1;
  }
  bigger[n] = copy;
  bigger[n + 1] = NULL;
  *v = bigger;
  return 0;
}

bool ward_strv_contains(char *const *v, const char *s)
{
  for (size_t i = 0; v && v[i]; i++)
    if (strcmp(v[i], s) == 0)
      return true;
  return false;
}

bool ward_has_prefix(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool ward_has_suffix(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

static const struct { const char *name; int sig; } signals[] = {
  {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL}, {"TRAP", SIGTRAP},
  {"ABRT", SIGABRT}, {"IOT", SIGIOT}, {"BUS", SIGBUS}, {"FPE", SIGFPE}, {"KILL", SIGKILL},
  {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
  {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP},
  {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU}, {"URG", SIGURG}, {"XCPU", SIGXCPU},
  {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
  {"POLL", SIGPOLL}, {"PWR", SIGPWR}, {"SYS", SIGSYS},
};

void ward_child_reset_signals(void)
{
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  sigaction(SIGPIPE, &dfl, NULL);
  sigaction(SIGTTOU, &dfl, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

int ward_parse_signal(const char *s)
{
  if (s == NULL || *s == '\0')
    return -1;
  if (isdigit((unsigned char) *s)) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v <= 0 || v > SIGRTMAX)
      return -1;
    return (int) v;
  }
  const char *name = s;
  if (strncasecmp(name, "SIG", 3) == 0)
    name += 3;
  for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
    if (strcasecmp(name, signals[i].name) == 0)
      return signals[i].sig;
  if (strncasecmp(name, "RTMIN", 5) == 0 || strncasecmp(name, "RTMAX", 5) == 0) {
    bool max = strncasecmp(name, "RTMAX", 5) == 0;
    int off = 0;
    if (name[5] == '+' || name[5] == '-') {
      char *end;
      long v = strtol(name + 5, &end, 10);
      if (*end)
        return -1;
      off = (int) v;
    } else if (name[5] != '\0')
      return -1;
    int sig = (max ? SIGRTMAX : SIGRTMIN) + off;
    return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
  }
  return -1;
}

const char *ward_signal_name(int sig)
{
  for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
    if (signals[i].sig == sig)
      return signals[i].name;
  return NULL;
}

int ward_cloexec_from(int from, ward_error_t *err)
{
  if (syscall(SYS_close_range, (unsigned) from, ~0u, CLOSE_RANGE_CLOEXEC) == 0)
    return 0;
  /* Kernels before 5.11: walk /proc/self/fd. */
  _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    return ward_error_sys(err, "open /proc/self/fd");
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    int fd = atoi(de->d_name);
    if (fd >= from && fd != dirfd(d)) {
      int flags = fcntl(fd, F_GETFD);
      if (flags >= 0 && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
        return ward_error_sys(err, "mark fd %d close-on-exec", fd);
    }
  }
  return 0;
}

int ward_parse_size(const char *s, uint64_t *out)
{
  if (s == NULL || !isdigit((unsigned char) *s))
    return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno)
    return -1;
  unsigned shift = 0;
  switch (tolower((unsigned char) *end)) {
  case '\0': break;
  case 'k': shift = 10; end++; break;
  case 'm': shift = 20; end++; break;
  case 'g': shift = 30; end++; break;
  default: return -1;
  }
  if (*end == 'b' || *end == 'B')
    end++;
  if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
    return -1;
  *out = (uint64_t) v << shift;
  return 0;
}

bool ward_valid_id(const char *id)
{
  if (id == NULL || !isalnum((unsigned char) id[0]))
    return false;
  size_t n = 0;
  for (const char *p = id; *p; p++, n++) {
    if (n >= 128)
      return false;
    if (!isalnum((unsigned char) *p) && !strchr("_.+-", *p))
      return false;
  }
  return true;
}

void ward_sha256_digest_hex(const uint8_t digest[32], char out[65])
{
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    out[2 * i] = digits[digest[i] >> 4];
    out[2 * i + 1] = digits[digest[i] & 15];
  }
  out[64] = '\0';
}

void ward_sha256_hex(const void *data, size_t len, char out[65])
{
  struct sha256_ctx ctx;
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_init(&ctx);
  sha256_update(&ctx, len, data);
  sha256_digest(&ctx, sizeof(digest), digest);
  ward_sha256_digest_hex(digest, out);
}

int ward_sha256_fd(int fd, uint64_t max_bytes, char out[65], ward_error_t *err)
{
  struct sha256_ctx ctx;
  uint8_t digest[SHA256_DIGEST_SIZE];
  uint8_t buf[65536];
  uint64_t total = 0;
  sha256_init(&ctx);
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof(buf), (off_t) total);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return ward_error_sys(err, "hash: read");
    }
    if (n == 0)
      break;
    sha256_update(&ctx, (size_t) n, buf);
    total += (uint64_t) n;
    if (max_bytes && total >= max_bytes)
      return ward_error(err, EFBIG, "hash: larger than %llu bytes", (unsigned long long) max_bytes);
  }
  sha256_digest(&ctx, sizeof(digest), digest);
  ward_sha256_digest_hex(digest, out);
  return 0;
}

static uint64_t clock_ns(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

uint64_t ward_now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
uint64_t ward_realtime_ns(void) { return clock_ns(CLOCK_REALTIME); }

char *ward_rfc3339_now(char buf[WARD_RFC3339_MAX], int digits)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  int n = snprintf(buf, WARD_RFC3339_MAX, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (n < 0 || n >= WARD_RFC3339_MAX)
    n = 0;
  if (digits == 9)
    snprintf(buf + n, WARD_RFC3339_MAX - (size_t) n, ".%09ldZ", ts.tv_nsec);
  else
    snprintf(buf + n, WARD_RFC3339_MAX - (size_t) n, "Z");
  return buf;
}

char *ward_rfc3339_dup(int digits)
{
  char buf[WARD_RFC3339_MAX];
  return strdup(ward_rfc3339_now(buf, digits));
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif

void ward_populate_head(const void *map, size_t len, bool write)
{
  size_t page = (size_t) sysconf(_SC_PAGESIZE);
  (void) madvise((void *) map, len < page ? len : page, write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
}

void *ward_zalloc_lazy(size_t size)
{
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static bool mappings_left;

void ward_leave_mappings(void) { __atomic_store_n(&mappings_left, true, __ATOMIC_RELAXED); }

bool ward_mappings_left(void) { return __atomic_load_n(&mappings_left, __ATOMIC_RELAXED); }

void ward_free_lazy(void *p, size_t size)
{
  if (p && !ward_mappings_left())
    munmap(p, size);
}

int ward_prefill_file(int fd, const void *head, size_t head_len, size_t file_len)
{
  static const uint8_t zero[4096];
  struct iovec iov[WARD_PREFILL_PAGES] = {{(void *) head, head_len < file_len ? head_len : file_len}};
  size_t n = 1, bytes = iov[0].iov_len;
  /* in memory a hole costs a page allocation whoever stores into it first:
   * written here, it would cost it on the start-up path instead, and be
   * faulted around into every process that maps the file */
  struct statfs fs;
  size_t pages = fstatfs(fd, &fs) == 0 && fs.f_type == TMPFS_MAGIC ? 1 : WARD_PREFILL_PAGES;
  for (; n < pages && bytes + sizeof(zero) <= file_len; n++, bytes += sizeof(zero))
    iov[n] = (struct iovec) {(void *) zero, sizeof(zero)};
  ssize_t w = pwritev(fd, iov, (int) n, 0);
  if (w >= 0 && w != (ssize_t) bytes)
    errno = EIO;
  return w == (ssize_t) bytes ? 0 : -1;
}

int ward_open_in_root(int root_fd, const char *path, int flags, uint64_t resolve)
{
  struct open_how how = {.flags = (uint64_t) (flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | resolve};
  return (int) syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
}

int ward_status_ns_id(const char *status, const char *key, int depth, uint32_t *out)
{
  const char *line = strstr(status, key);
  if (!line)
    return -1;
  line += strlen(key);
  const char *eol = strchr(line, '\n');
  if (!eol)
    eol = line + strlen(line);
  unsigned long ids[32];
  int n = 0;
  const char *p = line;
  while (p < eol && n < 32) {
    char *end;
    while (p < eol && (*p == ' ' || *p == '\t'))
      p++;
    if (p >= eol)
      break;
    unsigned long v = strtoul(p, &end, 10);
    if (end == p)
      break;
    ids[n++] = v;
    p = end;
  }
  if (n == 0)
    return -1;
  int idx = depth <= 0 || depth >= n ? n - 1 : depth;
  *out = (uint32_t)ids[idx];
  return 0;
}
