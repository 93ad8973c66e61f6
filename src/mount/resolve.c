#include "mount/resolve.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

void ward_fd_path(int fd, char buf[WARD_FD_PATH_MAX])
{
  snprintf(buf, WARD_FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

static int open_in_root(int rootfd, const char *path)
{
  struct open_how how = {
    .flags = O_PATH | O_CLOEXEC,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  const char *rel = path;
  while (*rel == '/')
    rel++;
  if (*rel == '\0')
    rel = ".";
  long fd;
  do
    fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
  while (fd < 0 && errno == EAGAIN);  /* a concurrent rename; just retry */
  return (int) fd;
}

static int resolve(int rootfd, const char *path, enum ward_resolve_create create, int depth, int *out, ward_error_t *err);

/* A dangling symlink on the way: create what it points to, inside the
 * root, then go on from there. */
static int follow_dangling(int rootfd, int parent, const char *name, const char *prefix, const char *rest,
                           enum ward_resolve_create create, int depth, int *out, ward_error_t *err)
{
  char target[4096];
  ssize_t n = readlinkat(parent, name, target, sizeof(target) - 1);
  if (n < 0)
    return ward_error_sys(err, "resolve %s inside the container root", prefix);
  target[n] = '\0';
  _cleanup_free_ char *next = NULL;
  size_t dir_len = strlen(prefix) - strlen(name);
  int rc = target[0] == '/' ? asprintf(&next, "%s%s", target, rest)
                            : asprintf(&next, "%.*s%s%s", (int) dir_len, prefix, target, rest);
  if (rc < 0)
    return ward_error(err, ENOMEM, "%s", prefix);
  return resolve(rootfd, next, create, depth + 1, out, err);
}

int ward_resolve_in_root(int rootfd, const char *path, enum ward_resolve_create create, int *out, ward_error_t *err)
{
  return resolve(rootfd, path, create, 0, out, err);
}

static int resolve(int rootfd, const char *path, enum ward_resolve_create create, int depth, int *out, ward_error_t *err)
{
  *out = -1;
  if (depth > 40)
    return ward_error(err, ELOOP, "resolve %s inside the container root", path);
  int fd = open_in_root(rootfd, path);
  if (fd >= 0) {
    *out = fd;
    return 0;
  }
  if (errno == ENOSYS)
    return ward_error(err, ENOSYS, "openat2 (Linux 5.6 or later is required)");
  if (errno != ENOENT)
    return ward_error_sys(err, "resolve %s inside the container root", path);
  if (create == WARD_NO_CREATE)
    return 0;

  /* Create component by component; each prefix is re-resolved in the root,
   * so a symlink among the existing components still cannot escape. */
  size_t len = strlen(path);
  _cleanup_free_ char *prefix = strdup(path);
  if (prefix == NULL)
    return ward_error(err, ENOMEM, "%s", path);
  _cleanup_close_ int parent = dup(rootfd);
  if (parent < 0)
    return ward_error_sys(err, "dup");
  size_t i = 0;
  while (i < len) {
    while (i < len && path[i] == '/')
      i++;
    size_t start = i;
    while (i < len && path[i] != '/')
      i++;
    if (start == i)
      break;
    bool last = i >= len || path[i + strspn(path + i, "/")] == '\0';
    prefix[i] = '\0';
    int next = open_in_root(rootfd, prefix);
    if (next < 0 && errno == ENOENT) {
      const char *name = prefix + start;
      if (strcmp(name, "..") == 0 || strcmp(name, ".") == 0)
        return ward_error(err, EINVAL, "resolve %s: cannot create \"%s\"", path, name);
      if (last && create == WARD_CREATE_FILE) {
        int f = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (f < 0 && errno != EEXIST)
          return ward_error_sys(err, "create %s inside the container root", prefix);
        if (f >= 0)
          close(f);
      } else if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
        return ward_error_sys(err, "mkdir %s inside the container root", prefix);
      }
      next = open_in_root(rootfd, prefix);
      struct stat st;
      if (next < 0 && errno == ENOENT && fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return follow_dangling(rootfd, parent, name, prefix, path + i, create, depth, out, err);
    }
    if (next < 0)
      return ward_error_sys(err, "resolve %s inside the container root", prefix);
    close(parent);
    parent = next;
    prefix[i] = path[i];
  }
  *out = steal_fd(&parent);
  return 0;
}
