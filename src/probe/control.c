/* Control page: created once, then edited in place (see control.h). */
#include "probe/control.h"
#include "probe/decoys.h"
#include "probe/event.h"
#include "common/cleanup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define GROUP_BITS ((1u << WARD_GROUP_COUNT) - 1)

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
  c.groups = groups & GROUP_BITS;
  c.generation = 2;
  if (write(fd, &c, sizeof(c)) != (ssize_t) sizeof(c))
    return ward_error_sys(err, "%s: write", path);
  return 0;
}

/* A mapped page and its fd, locked against other host writers: two writers
 * at once would break the seqlock (the generation must go odd, even). */
struct ctl_map {
  struct ward_control *c;
  int fd;
};

static void ctl_unmap(struct ctl_map *m)
{
  if (m->c)
    munmap(m->c, WARD_CTL_SIZE);
  if (m->fd >= 0)
    close(m->fd);  /* drops the flock */
  m->c = NULL;
  m->fd = -1;
}
#define _cleanup_ctl_ __attribute__((cleanup(ctl_unmap)))

static int map_control(const char *path, bool write_lock, struct ctl_map *m, ward_error_t *err)
{
  m->c = NULL;
  m->fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (m->fd < 0)
    return ward_error_sys(err, "%s", path);
  struct stat st;
  if (fstat(m->fd, &st) < 0)
    return ward_error_sys(err, "%s", path);
  if (!S_ISREG(st.st_mode) || st.st_size != WARD_CTL_SIZE)
    return ward_error(err, 0, "%s: not a control page", path);
  if (write_lock && flock(m->fd, LOCK_EX) < 0)
    return ward_error_sys(err, "%s: lock", path);
  struct ward_control *c = mmap(NULL, WARD_CTL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
  if (c == MAP_FAILED)
    return ward_error_sys(err, "%s: map", path);
  m->c = c;
  /* version 1 pages have the same layout with the enforcement fields zero */
  if (c->magic != WARD_CTL_MAGIC || (c->version != 1 && c->version != WARD_CTL_VERSION))
    return ward_error(err, 0, "%s: bad magic or version", path);
  return 0;
}

/* Seqlock write side: odd generation while fields change, so probes reading
 * more than one word (the deny tables) can detect a torn copy. */
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
  _cleanup_ctl_ struct ctl_map m = {NULL, -1};
  if (map_control(control_path, true, &m, err) < 0)
    return -1;
  struct ward_control *c = m.c;
  mask &= GROUP_BITS;  /* never the enforce bit: that follows the mode */
  begin_update(c);
  uint32_t v = on ? __atomic_or_fetch(&c->groups, mask, __ATOMIC_RELEASE)
                  : __atomic_and_fetch(&c->groups, ~mask, __ATOMIC_RELEASE);
  end_update(c);
  if (now)
    *now = v & GROUP_BITS;
  return 0;
}

int ward_probe_set_stacks(const char *control_path, uint64_t type_mask, uint32_t depth, ward_error_t *err)
{
  if (depth > WARD_EVENT_STACK_MAX)
    return ward_error(err, EINVAL, "stack depth %u: at most %d", depth, WARD_EVENT_STACK_MAX);
  if (type_mask & (1ull | ~((1ull << WARD_EV_TYPE_COUNT) - 1)))
    return ward_error(err, EINVAL, "stack types: mask 0x%llx names no event type", (unsigned long long) type_mask);
  _cleanup_ctl_ struct ctl_map m = {NULL, -1};
  if (map_control(control_path, true, &m, err) < 0)
    return -1;
  struct ward_control *c = m.c;
  begin_update(c);
  if (c->mode & WARD_CTL_MODE_HONEYPOT) {
    /* honeypot captures every stack and restores the saved settings when
     * it ends: a change made meanwhile is what it restores */
    c->saved_stack_depth = depth;
    c->saved_stack_mask = type_mask;
  } else {
    __atomic_store_n(&c->stack_depth, depth, __ATOMIC_RELAXED);
    __atomic_store_n(&c->stack_mask, type_mask, __ATOMIC_RELEASE);
  }
  end_update(c);
  return 0;
}

void ward_control_chosen_stacks(const struct ward_control *c, uint64_t *type_mask, uint32_t *depth)
{
  bool honeypot = c->mode & WARD_CTL_MODE_HONEYPOT;
  if (type_mask)
    *type_mask = honeypot ? c->saved_stack_mask : c->stack_mask;
  if (depth)
    *depth = honeypot ? c->saved_stack_depth : c->stack_depth;
}

int ward_probe_set_perf_every(const char *control_path, uint32_t every, ward_error_t *err)
{
  if (!ward_probe_perf_every_valid(every))
    return ward_error(err, EINVAL, "perf sampling: %u is not a power of two from 1 to %u", every,
                      1u << WARD_CTL_PERF_SHIFT_MAX);
  _cleanup_ctl_ struct ctl_map m = {NULL, -1};
  if (map_control(control_path, true, &m, err) < 0)
    return -1;
  begin_update(m.c);
  __atomic_store_n(&m.c->perf_sample_shift, (uint32_t) __builtin_ctz(every), __ATOMIC_RELEASE);
  end_update(m.c);
  return 0;
}

int ward_control_read(const char *path, struct ward_control *out, ward_error_t *err)
{
  _cleanup_ctl_ struct ctl_map m = {NULL, -1};
  if (map_control(path, false, &m, err) < 0)
    return -1;
  /* a consistent copy: retry while a writer is in the middle */
  for (int tries = 0; tries < 1000; tries++) {
    uint32_t g = __atomic_load_n(&m.c->generation, __ATOMIC_ACQUIRE);
    if (g & 1)
      continue;
    memcpy(out, m.c, sizeof(*out));
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&m.c->generation, __ATOMIC_RELAXED) == g)
      return 0;
  }
  memcpy(out, m.c, sizeof(*out));
  return 0;
}

/* ---- enforcement ---------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
  return x < y ? -1 : x > y;
}

static int cmp_u16(const void *a, const void *b)
{
  return (int) *(const uint16_t *) a - (int) *(const uint16_t *) b;
}

static int check_addr(const struct ward_ctl_addr *a, const char *field, bool any_family, ward_error_t *err)
{
  if (a->reserved[0] || a->reserved[1] || a->reserved[2])
    return ward_error(err, EINVAL, "%s: reserved bytes must be zero", field);
  if (a->family == AF_INET && a->prefix <= 32)
    return 0;
  if (a->family == AF_INET6 && a->prefix <= 128)
    return 0;
  if (a->family == 0 && any_family && a->prefix == 0)
    return 0;
  if (a->family != AF_INET && a->family != AF_INET6 && !(any_family && a->family == 0))
    return ward_error(err, EINVAL, "%s: family %u (AF_INET or AF_INET6%s)", field, a->family,
                      any_family ? ", or 0 with prefix 0 for any" : "");
  return ward_error(err, EINVAL, "%s: prefix /%u too long for the family", field, a->prefix);
}

int ward_control_set_policy(const char *control_path, const struct ward_control_policy *p, ward_error_t *err)
{
  if (p->n_deny_paths > WARD_CTL_DENY_PATHS)
    return ward_error(err, EINVAL, "deny_paths: %zu entries, at most %d", p->n_deny_paths, WARD_CTL_DENY_PATHS);
  if (p->n_connect_ports > WARD_CTL_CONNECT_PORTS)
    return ward_error(err, EINVAL, "connect_ports: %zu entries, at most %d", p->n_connect_ports, WARD_CTL_CONNECT_PORTS);
  if (p->n_deny_addrs > WARD_CTL_DENY_ADDRS)
    return ward_error(err, EINVAL, "deny_addrs: %zu entries, at most %d", p->n_deny_addrs, WARD_CTL_DENY_ADDRS);
  if (p->deny_errno != 0 && p->deny_errno != EACCES && p->deny_errno != EPERM)
    return ward_error(err, EINVAL, "deny_errno: %d (EACCES or EPERM)", p->deny_errno);
  uint64_t hashes[WARD_CTL_DENY_PATHS];
  size_t nh = 0;
  for (size_t i = 0; i < p->n_deny_paths; i++) {
    const char *s = p->deny_paths[i];
    char norm[PATH_MAX];
    size_t n = s ? ward_ctl_path_norm(norm, sizeof(norm), s, strlen(s)) : 0;
    if (n == 0)
      return ward_error(err, EINVAL, "deny_paths[%zu]: \"%s\" is not an absolute path", i, s ? s : "(null)");
    hashes[nh++] = ward_ctl_path_hash(norm, n);
  }
  qsort(hashes, nh, sizeof(hashes[0]), cmp_u64);
  size_t uh = 0;
  for (size_t i = 0; i < nh; i++)
    if (uh == 0 || hashes[uh - 1] != hashes[i])
      hashes[uh++] = hashes[i];
  uint16_t ports[WARD_CTL_CONNECT_PORTS];
  for (size_t i = 0; i < p->n_connect_ports; i++) {
    if (p->connect_ports[i] == 0)
      return ward_error(err, EINVAL, "connect_ports[%zu]: port 0", i);
    ports[i] = p->connect_ports[i];
  }
  qsort(ports, p->n_connect_ports, sizeof(ports[0]), cmp_u16);
  size_t up = 0;
  for (size_t i = 0; i < p->n_connect_ports; i++)
    if (up == 0 || ports[up - 1] != ports[i])
      ports[up++] = ports[i];
  for (size_t i = 0; i < p->n_deny_addrs; i++) {
    char field[48];
    snprintf(field, sizeof(field), "deny_addrs[%zu]", i);
    if (check_addr(&p->deny_addrs[i], field, true, err) < 0)
      return -1;
  }

  _cleanup_ctl_ struct ctl_map m = {NULL, -1};
  if (map_control(control_path, true, &m, err) < 0)
    return -1;
  struct ward_control *c = m.c;
  begin_update(c);
  memset(c->deny_path_hash, 0, sizeof(c->deny_path_hash));
  memcpy(c->deny_path_hash, hashes, uh * sizeof(hashes[0]));
  memset(c->connect_port, 0, sizeof(c->connect_port));
  memcpy(c->connect_port, ports, up * sizeof(ports[0]));
  memset(c->deny_addr, 0, sizeof(c->deny_addr));
  if (p->n_deny_addrs)
    memcpy(c->deny_addr, p->deny_addrs, p->n_deny_addrs * sizeof(p->deny_addrs[0]));
  c->n_deny_paths = (uint32_t) uh;
  c->n_connect_ports = (uint32_t) up;
  c->n_deny_addrs = (uint32_t) p->n_deny_addrs;
  c->deny_errno = (uint32_t) (p->deny_errno ? p->deny_errno : EACCES);
  c->policy_flags = p->connect_allowlist ? WARD_CTL_POL_CONNECT_ALLOWLIST : 0;
  c->version = WARD_CTL_VERSION;
  end_update(c);
  return 0;
}

/* The decoy files live next to the control page (probe/decoys in the
 * memory directory, already mounted into the container); written on first use, then kept so
 * their canary tokens stay the same for the container's life. */
static int ensure_decoys(const char *control_path, ward_error_t *err)
{
  const char *slash = strrchr(control_path, '/');
  int dirlen = slash ? (int) (slash - control_path) : 1;
  const char *dir = slash ? control_path : ".";
  _cleanup_free_ char *decoys = NULL, *probe = NULL;
  if (asprintf(&decoys, "%.*s/decoys", dirlen, dir) < 0 || asprintf(&probe, "%s/shadow", decoys) < 0)
    return ward_error(err, ENOMEM, "decoys");
  struct stat st;
  if (stat(probe, &st) == 0)
    return 0;
  if (ward_probe_write_decoys(decoys, err) < 0)
    return ward_error_prefix(err, "honeypot decoys");
  return 0;
}

int ward_control_set_mode(const char *control_path, uint32_t mode, ward_error_t *err)
{
  if (mode & ~WARD_CTL_MODE_KNOWN)
    return ward_error(err, EINVAL, "mode: unknown bits 0x%x", mode & ~WARD_CTL_MODE_KNOWN);
  if ((mode & WARD_CTL_MODE_HONEYPOT) && ensure_decoys(control_path, err) < 0)
    return -1;
  _cleanup_ctl_ struct ctl_map m = {NULL, -1};
  if (map_control(control_path, true, &m, err) < 0)
    return -1;
  struct ward_control *c = m.c;
  uint32_t old = c->mode;
  begin_update(c);
  uint32_t groups = c->groups & GROUP_BITS;
  if ((mode & WARD_CTL_MODE_HONEYPOT) && !(old & WARD_CTL_MODE_HONEYPOT)) {
    c->saved_groups = groups;
    c->saved_stack_depth = c->stack_depth;
    c->saved_stack_mask = c->stack_mask;
    groups = GROUP_BITS;
    c->stack_depth = WARD_EVENT_STACK_MAX;
    c->stack_mask = ((1ull << WARD_EV_TYPE_COUNT) - 1) & ~1ull;
  } else if (!(mode & WARD_CTL_MODE_HONEYPOT) && (old & WARD_CTL_MODE_HONEYPOT)) {
    groups = c->saved_groups & GROUP_BITS;
    c->stack_depth = c->saved_stack_depth <= WARD_EVENT_STACK_MAX ? c->saved_stack_depth : 0;
    c->stack_mask = c->saved_stack_mask;
    c->saved_groups = 0;
    c->saved_stack_depth = 0;
    c->saved_stack_mask = 0;
  }
  if (c->deny_errno == 0)
    c->deny_errno = EACCES;
  c->version = WARD_CTL_VERSION;
  c->mode = mode;
  __atomic_store_n(&c->groups, groups | (mode ? WARD_CTL_GROUP_ENFORCE : 0), __ATOMIC_RELEASE);
  end_update(c);
  return 0;
}

int ward_control_get_mode(const char *control_path, uint32_t *mode, ward_error_t *err)
{
  _cleanup_ctl_ struct ctl_map m = {NULL, -1};
  if (map_control(control_path, false, &m, err) < 0)
    return -1;
  const volatile uint32_t *p = &m.c->mode;  /* one aligned word: no seqlock needed */
  *mode = *p;
  return 0;
}

int ward_control_set_honeypot_sink(const char *control_path, const struct ward_ctl_addr *sink, ward_error_t *err)
{
  if (check_addr(sink, "honeypot_sink", false, err) < 0)
    return -1;
  if (sink->port == 0)
    return ward_error(err, EINVAL, "honeypot_sink: port 0 (a sink needs a port)");
  _cleanup_ctl_ struct ctl_map m = {NULL, -1};
  if (map_control(control_path, true, &m, err) < 0)
    return -1;
  begin_update(m.c);
  m.c->honeypot_sink = *sink;
  m.c->honeypot_sink.prefix = sink->family == AF_INET ? 32 : 128;
  m.c->version = WARD_CTL_VERSION;
  end_update(m.c);
  return 0;
}
