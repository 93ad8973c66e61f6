#include "seccomp/bpf_cache.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ward_bpf_cache_read(const char *path, const char magic[8], const char *key, struct sock_filter **insns, size_t *n,
                        const char **why)
{
  *why = NULL;
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  if (fd < 0)
    return 0;
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
    return 0;
  /* another user's file could hold any program: it would be installed */
  if (st.st_uid != geteuid() || (st.st_mode & 022)) {
    *why = "not owned by us or writable by others";
    return 0;
  }
  size_t body = st.st_size > WARD_BPF_CACHE_HEADER ? (size_t) st.st_size - WARD_BPF_CACHE_HEADER : 0;
  size_t count = body / sizeof(struct sock_filter);
  if (count == 0 || count > BPF_MAXINSNS || body % sizeof(struct sock_filter) != 0) {
    *why = "not the size of a valid program";
    return 0;
  }
  _cleanup_free_ char *buf = malloc(WARD_BPF_CACHE_HEADER + body);
  if (buf == NULL || pread(fd, buf, WARD_BPF_CACHE_HEADER + body, 0) != (ssize_t) (WARD_BPF_CACHE_HEADER + body))
    return 0;
  char digest[65];
  ward_sha256_hex(buf + WARD_BPF_CACHE_HEADER, body, digest);
  if (memcmp(buf, magic, 8) != 0 || memcmp(buf + 8, key, 64) != 0 || memcmp(buf + 8 + 64, digest, 64) != 0) {
    *why = "header or digest mismatch";
    return 0;
  }
  struct sock_filter *p = malloc(body);
  if (p == NULL)
    return 0;
  memcpy(p, buf + WARD_BPF_CACHE_HEADER, body);
  *insns = p;
  *n = count;
  return 1;
}

int ward_bpf_cache_write(const char *dir, const char *path, const char magic[8], const char *key,
                         const struct sock_filter *insns, size_t n, ward_error_t *err)
{
  size_t body = n * sizeof(struct sock_filter);
  _cleanup_free_ char *buf = malloc(WARD_BPF_CACHE_HEADER + body);
  if (buf == NULL)
    return ward_error(err, ENOMEM, "%s", path);
  char digest[65];
  ward_sha256_hex(insns, body, digest);
  memcpy(buf, magic, 8);
  memcpy(buf + 8, key, 64);
  memcpy(buf + 8 + 64, digest, 64);
  memcpy(buf + WARD_BPF_CACHE_HEADER, insns, body);
  if (ward_mkdir_p(dir, 0700, err) < 0 || ward_write_file_atomic(path, buf, WARD_BPF_CACHE_HEADER + body, 0600, err) < 0)
    return -1;
  return 0;
}
