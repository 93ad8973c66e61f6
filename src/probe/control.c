/* Control page: created once, then edited in place (see control.h). */
#include "probe/control.h"
#include "probe/event.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

int ward_control_create(const char *path, uint32_t groups, ward_error_t *err)
{
  _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    return ward_error_sys(err, "%s", path);
  /* probes in the container run as any uid and must be able to read it */
  if (fchmod(fd, 0644) < 0)
    return ward_error_sys(err, "%s: chmod", path);
  struct ward_control c;
  memset(&c, 0, sizeof(c));
  c.magic = WARD_CTL_MAGIC;
  c.version = WARD_CTL_VERSION;
  c.size = WARD_CTL_SIZE;
  c.groups = groups & ((1u << WARD_GROUP_COUNT) - 1);
  c.generation = 2;
  if (write(fd, &c, sizeof(c)) != (ssize_t) sizeof(c))
    return ward_error_sys(err, "%s: write", path);
  return 0;
}

static int map_control(const char *path, struct ward_control **out, ward_error_t *err)
{
  _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return ward_error_sys(err, "%s", path);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return ward_error_sys(err, "%s", path);
  if (!S_ISREG(st.st_mode) || st.st_size != WARD_CTL_SIZE)
    return ward_error(err, 0, "%s: not a control page", path);
  struct ward_control *c = mmap(NULL, WARD_CTL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (c == MAP_FAILED)
    return ward_error_sys(err, "%s: map", path);
  if (c->magic != WARD_CTL_MAGIC || c->version != WARD_CTL_VERSION) {
    munmap(c, WARD_CTL_SIZE);
    return ward_error(err, 0, "%s: bad magic or version", path);
  }
  *out = c;
  return 0;
}

/* Seqlock write side: odd generation while fields change, so probes reading
 * more than one word (the later deny tables) can detect a torn copy. */
static void begin_update(struct ward_control *c)
{
  uint32_t g = __atomic_load_n(&c->generation, __ATOMIC_RELAXED);
  __atomic_store_n(&c->generation, (g | 1u), __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void end_update(struct ward_control *c)
{
  uint32_t g = __atomic_load_n(&c->generation, __ATOMIC_RELAXED);
  __atomic_store_n(&c->generation, (g | 1u) + 1, __ATOMIC_RELEASE);
}

int ward_probe_set_groups(const char *control_path, uint32_t mask, bool on, uint32_t *now, ward_error_t *err)
{
  struct ward_control *c;
  if (map_control(control_path, &c, err) < 0)
    return -1;
  mask &= (1u << WARD_GROUP_COUNT) - 1;
  begin_update(c);
  uint32_t v = on ? __atomic_or_fetch(&c->groups, mask, __ATOMIC_RELEASE)
                  : __atomic_and_fetch(&c->groups, ~mask, __ATOMIC_RELEASE);
  end_update(c);
  if (now)
    *now = v;
  munmap(c, WARD_CTL_SIZE);
  return 0;
}

int ward_probe_set_stacks(const char *control_path, uint64_t type_mask, uint32_t depth, ward_error_t *err)
{
  if (depth > WARD_EVENT_STACK_MAX)
    return ward_error(err, EINVAL, "stack depth %u: at most %d", depth, WARD_EVENT_STACK_MAX);
  struct ward_control *c;
  if (map_control(control_path, &c, err) < 0)
    return -1;
  begin_update(c);
  __atomic_store_n(&c->stack_depth, depth, __ATOMIC_RELAXED);
  __atomic_store_n(&c->stack_mask, type_mask, __ATOMIC_RELEASE);
  end_update(c);
  munmap(c, WARD_CTL_SIZE);
  return 0;
}

int ward_control_read(const char *path, struct ward_control *out, ward_error_t *err)
{
  struct ward_control *c;
  if (map_control(path, &c, err) < 0)
    return -1;
  memcpy(out, c, sizeof(*out));
  munmap(c, WARD_CTL_SIZE);
  return 0;
}
