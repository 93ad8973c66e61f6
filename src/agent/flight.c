/* The flight recorder (flight.h): a fixed array of slots in a shared
 * mapping, one writer, seqlocked slots, pread-only readers that trust
 * nothing they read. */
#include "agent/flight.h"

#include "common/cleanup.h"
#include "common/rundir.h"
#include "common/util.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FLIGHT_MAGIC 0x524c4657u  /* "WFLR" */
#define FLIGHT_VERSION 1u
#define FLIGHT_HDR 64u

struct flight_hdr {
  uint32_t magic;
  uint16_t version;
  uint16_t hdr_size;
  uint32_t capacity;
  uint32_t slot_size;
  uint64_t head;        /* tickets handed out; slot = ticket % capacity */
  uint64_t created_ns;
  uint8_t reserved[32];
};
_Static_assert(sizeof(struct flight_hdr) == FLIGHT_HDR, "flight header layout");

/* One slot: this record header, then n_stack return addresses, the six
 * syscall arguments when has_args, then len1 bytes of path and len2 of path2
 * (no terminators). */
struct flight_rec {
  uint64_t commit;      /* 0 while written, ticket + 1 once complete */
  uint64_t seq, ts_ns;
  int64_t ret, arg;
  uint32_t pid, tid, flags, mode;
  int32_t syscall_nr;
  uint32_t call_ns;
  uint16_t family, port;
  uint8_t addr[16];
  uint8_t type, source, n_stack, has_args;
  uint16_t call, rec_flags;
  uint16_t len1, len2;
  uint8_t denied;
  uint8_t reserved[31];
};
_Static_assert(sizeof(struct flight_rec) == 128, "flight record layout");

struct ward_flight {
  int fd;
  uint8_t *map;
  size_t len;
  struct flight_hdr *hdr;
  uint32_t capacity, slot_size;
  /* the one writer's own copy of head and of its slot index: no division
   * and no read of the shared header per event */
  uint64_t head;
  uint32_t next;
};

static size_t file_size(uint32_t capacity, uint32_t slot_size)
{
  return FLIGHT_HDR + (size_t) capacity * slot_size;
}

static bool geometry_ok(uint32_t capacity, uint32_t slot_size)
{
  return capacity >= 1 && capacity <= WARD_FLIGHT_CAPACITY_MAX && slot_size >= WARD_FLIGHT_SLOT_MIN &&
         slot_size <= WARD_FLIGHT_SLOT_MAX && slot_size % 8 == 0;
}

/* A new recorder's header, written rather than stored through the mapping,
 * with the first slots' pages (ward_prefill_file says why). The magic goes
 * last, so a reader never takes a half-written header. */
static int write_header(int fd, size_t capacity, uint32_t slot_size, size_t len)
{
  _Alignas(8) uint8_t page[4096] = {0};
  struct flight_hdr *h = (struct flight_hdr *) page;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  h->hdr_size = FLIGHT_HDR;
  h->capacity = (uint32_t) capacity;
  h->slot_size = slot_size;
  h->created_ns = (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
  h->version = FLIGHT_VERSION;
  if (ward_prefill_file(fd, page, sizeof(page), len) < 0)
    return -1;
  uint32_t magic = FLIGHT_MAGIC;
  ssize_t w = pwrite(fd, &magic, sizeof(magic), offsetof(struct flight_hdr, magic));
  if (w >= 0 && w != (ssize_t) sizeof(magic))
    errno = EIO;
  return w == (ssize_t) sizeof(magic) ? 0 : -1;
}

int ward_flight_open_path(const char *path, size_t capacity, uint32_t slot_size, struct ward_flight **out,
                          ward_error_t *err)
{
  if (capacity == 0)
    capacity = WARD_FLIGHT_CAPACITY_DEFAULT;
  if (slot_size == 0)
    slot_size = WARD_FLIGHT_SLOT_DEFAULT;
  if (capacity > WARD_FLIGHT_CAPACITY_MAX || !geometry_ok((uint32_t) capacity, slot_size))
    return ward_error(err, 0, "%s: flight recorder capacity %zu or slot size %u out of range (1..%u slots, %u..%u bytes)",
                      path, capacity, slot_size, WARD_FLIGHT_CAPACITY_MAX, WARD_FLIGHT_SLOT_MIN, WARD_FLIGHT_SLOT_MAX);
  _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return ward_error_sys(err, "%s: open", path);
  /* one writer: two engines on one container would interleave tickets */
  if (flock(fd, LOCK_EX | LOCK_NB) < 0)
    return ward_error_sys(err, "%s: the flight recorder already has a writer", path);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return ward_error_sys(err, "%s: fstat", path);
  if (!S_ISREG(st.st_mode))
    return ward_error(err, 0, "%s: not a regular file", path);
  size_t len = file_size((uint32_t) capacity, slot_size);
  struct flight_hdr old = {0};
  bool keep = st.st_size == (off_t) len && pread(fd, &old, sizeof(old), 0) == (ssize_t) sizeof(old) &&
              old.magic == FLIGHT_MAGIC && old.version == FLIGHT_VERSION && old.hdr_size == FLIGHT_HDR &&
              old.capacity == capacity && old.slot_size == slot_size;
  /* an empty file (the usual case: just made) needs no emptying first */
  if (!keep && ((st.st_size != 0 && ftruncate(fd, 0) < 0) || ftruncate(fd, (off_t) len) < 0))
    return ward_error_sys(err, "%s: resize to %zu bytes", path, len);
  if (!keep && write_header(fd, capacity, slot_size, len) < 0)
    return ward_error_sys(err, "%s: write the header", path);
  void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED)
    return ward_error_sys(err, "%s: mmap", path);
  struct ward_flight *f = calloc(1, sizeof(*f));
  if (f == NULL) {
    munmap(m, len);
    return ward_error(err, ENOMEM, "flight recorder");
  }
  /* the header and the first slots: written by the first event */
  ward_populate_head(m, len, true);
  f->fd = steal_fd(&fd);
  f->map = m;
  f->len = len;
  f->hdr = m;
  f->capacity = (uint32_t) capacity;
  f->slot_size = slot_size;
  /* the head comes from the pread copy: a read through the mapping would
   * fault in (around) all the pre-written pages, 64 KiB of RSS for each of
   * the hundreds of containers an agent holds; stores fault in one page */
  f->head = keep ? old.head : 0;
  f->next = (uint32_t) (f->head % f->capacity);
  *out = f;
  return 0;
}

int ward_flight_open(const char *state_dir, size_t capacity, struct ward_flight **out, ward_error_t *err)
{
  char dir[PATH_MAX];
  if (ward_run_dir_ensure(state_dir, dir, sizeof(dir), err) < 0)
    return ward_error_prefix(err, "flight recorder");
  _cleanup_free_ char *path = NULL;
  if (asprintf(&path, "%s/" WARD_FLIGHT_FILE, dir) < 0)
    return ward_error(err, ENOMEM, "flight recorder path");
  return ward_flight_open_path(path, capacity, 0, out, err);
}

/* The line in exclusive state: it is about to be written. (PREFETCHW is a
 * no-op on the few x86-64 processors without it; __builtin_prefetch only
 * emits it when the build targets such a processor.) */
static inline void prefetch_write(const void *p)
{
#if defined(__x86_64__)
  __asm__ volatile("prefetchw %0" : : "m"(*(const char *) p));
#else
  __builtin_prefetch(p, 1);
#endif
}

/* How many bytes of each string fit in room: both whole if they fit, else
 * each gets half and the shorter one's leftover goes to the other. */
static void fit_strings(size_t l1, size_t l2, size_t room, size_t *o1, size_t *o2)
{
  if (l1 + l2 <= room) {
    *o1 = l1, *o2 = l2;
    return;
  }
  size_t half = room / 2;
  if (l1 <= half)
    *o1 = l1, *o2 = room - l1;
  else if (l2 <= half)
    *o2 = l2, *o1 = room - l2;
  else
    *o1 = half, *o2 = room - half;
}

void ward_flight_append(struct ward_flight *f, const struct ward_event *ev)
{
  uint64_t ticket = f->head;
  uint8_t *slot = f->map + FLIGHT_HDR + (size_t) f->next * f->slot_size;
  struct flight_rec *r = (struct flight_rec *) slot;
  _Atomic uint64_t *commit = (_Atomic uint64_t *) &r->commit;
  atomic_store_explicit(commit, 0, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);

  uint8_t n_stack = (uint8_t) (ev->n_stack <= WARD_EVENT_STACK_MAX ? ev->n_stack : WARD_EVENT_STACK_MAX);
  bool has_args = ev->source == WARD_SRC_SUPERVISOR || ev->syscall_nr != 0;
  size_t fixed = sizeof(*r) + n_stack * sizeof(uint64_t) + (has_args ? sizeof(ev->args) : 0);
  size_t l1 = strnlen(ev->path, WARD_EVENT_STR_MAX - 1), l2 = strnlen(ev->path2, WARD_EVENT_STR_MAX - 1), o1, o2;
  fit_strings(l1, l2, f->slot_size - fixed, &o1, &o2);

  r->seq = ev->seq;
  r->ts_ns = ev->ts_ns;
  r->ret = ev->ret;
  r->arg = ev->arg;
  r->pid = ev->pid;
  r->tid = ev->tid;
  r->flags = ev->flags;
  r->mode = ev->mode;
  r->syscall_nr = ev->syscall_nr;
  r->call_ns = ev->call_ns;
  r->family = ev->family;
  r->port = ev->port;
  memcpy(r->addr, ev->addr, sizeof(r->addr));
  r->type = (uint8_t) ev->type;
  r->source = (uint8_t) ev->source;
  r->n_stack = n_stack;
  r->has_args = has_args;
  r->call = ev->call;
  r->rec_flags = (uint16_t) (ev->rec_flags | (o1 < l1 ? WARD_EVENT_F_TRUNC1 : 0) | (o2 < l2 ? WARD_EVENT_F_TRUNC2 : 0));
  r->len1 = (uint16_t) o1;
  r->len2 = (uint16_t) o2;
  r->denied = ev->denied;
  uint8_t *p = slot + sizeof(*r);
  memcpy(p, ev->stack, n_stack * sizeof(uint64_t));
  p += n_stack * sizeof(uint64_t);
  if (has_args) {
    memcpy(p, ev->args, sizeof(ev->args));
    p += sizeof(ev->args);
  }
  memcpy(p, ev->path, o1);
  memcpy(p + o1, ev->path2, o2);

  atomic_store_explicit(commit, ticket + 1, memory_order_release);
  atomic_store_explicit((_Atomic uint64_t *) &f->hdr->head, ticket + 1, memory_order_release);
  f->head = ticket + 1;
  f->next = f->next + 1 == f->capacity ? 0 : f->next + 1;
  /* the recorder is megabytes per container, written once per lap: the
   * next record's lines are fetched for writing while the engine works on
   * this event, not when the next append stalls on them */
  uint32_t ahead = f->next + 1 == f->capacity ? 0 : f->next + 1;
  uint8_t *nx = f->map + FLIGHT_HDR + (size_t) ahead * f->slot_size;
  prefetch_write(nx);
  prefetch_write(nx + 64);
  prefetch_write(nx + 128);
}

uint64_t ward_flight_count(const struct ward_flight *f)
{
  return f->head;
}

void ward_flight_close(struct ward_flight *f)
{
  if (!ward_mappings_left())
    munmap(f->map, f->len);
  close(f->fd);
  free(f);
}

/* Decodes one slot image; -1 when it is malformed. */
static int decode(const uint8_t *slot, uint32_t slot_size, struct ward_event *ev)
{
  struct flight_rec r;
  memcpy(&r, slot, sizeof(r));
  if (r.type == WARD_EV_INVALID || r.type >= WARD_EV_TYPE_COUNT || r.source < WARD_SRC_PROBE ||
      r.source > WARD_SRC_RUNTIME || r.n_stack > WARD_EVENT_STACK_MAX || r.has_args > 1 || r.denied > 1 ||
      r.len1 >= WARD_EVENT_STR_MAX || r.len2 >= WARD_EVENT_STR_MAX)
    return -1;
  size_t need = sizeof(r) + r.n_stack * sizeof(uint64_t) + (r.has_args ? sizeof(ev->args) : 0) + r.len1 + r.len2;
  if (need > slot_size)
    return -1;
  memset(ev, 0, sizeof(*ev));
  ev->type = (enum ward_event_type) r.type;
  ev->source = (enum ward_event_source) r.source;
  ev->seq = r.seq;
  ev->ts_ns = r.ts_ns;
  ev->pid = r.pid;
  ev->tid = r.tid;
  ev->ret = r.ret;
  ev->flags = r.flags;
  ev->mode = r.mode;
  ev->arg = r.arg;
  ev->family = r.family;
  ev->port = r.port;
  memcpy(ev->addr, r.addr, sizeof(ev->addr));
  ev->syscall_nr = r.syscall_nr;
  ev->call_ns = r.call_ns;
  ev->n_stack = r.n_stack;
  ev->denied = r.denied;
  ev->call = r.call;
  ev->rec_flags = r.rec_flags;
  const uint8_t *p = slot + sizeof(r);
  memcpy(ev->stack, p, r.n_stack * sizeof(uint64_t));
  p += r.n_stack * sizeof(uint64_t);
  if (r.has_args) {
    memcpy(ev->args, p, sizeof(ev->args));
    p += sizeof(ev->args);
  }
  memcpy(ev->path, p, r.len1);
  memcpy(ev->path2, p + r.len1, r.len2);
  return 0;
}

int ward_flight_read_fd(int fd, const char *what, size_t last_n, ward_event_sink_fn sink, void *opaque,
                        struct ward_flight_read_stats *stats, ward_error_t *err)
{
  struct ward_flight_read_stats local = {0};
  struct ward_flight_read_stats *s = stats ? stats : &local;
  memset(s, 0, sizeof(*s));
  struct stat st;
  if (fstat(fd, &st) < 0)
    return ward_error_sys(err, "%s: fstat", what);
  struct flight_hdr h;
  if (pread(fd, &h, sizeof(h), 0) != (ssize_t) sizeof(h))
    return ward_error(err, 0, "%s: not a flight recorder (short header)", what);
  if (h.magic != FLIGHT_MAGIC || h.version != FLIGHT_VERSION || h.hdr_size != FLIGHT_HDR)
    return ward_error(err, 0, "%s: not a flight recorder of version %u (bad magic or version)", what, FLIGHT_VERSION);
  if (!geometry_ok(h.capacity, h.slot_size))
    return ward_error(err, 0, "%s: bad geometry (%u slots of %u bytes)", what, h.capacity, h.slot_size);
  if (!S_ISREG(st.st_mode) || st.st_size < (off_t) file_size(h.capacity, h.slot_size))
    return ward_error(err, 0, "%s: file is shorter than its geometry (%u slots of %u bytes)", what, h.capacity,
                      h.slot_size);
  s->capacity = h.capacity;
  s->total = h.head;
  uint64_t n = h.head < h.capacity ? h.head : h.capacity;
  if (last_n != 0 && last_n < n)
    n = last_n;
  _cleanup_free_ uint8_t *slot = malloc(h.slot_size);
  _cleanup_free_ struct ward_event *ev = malloc(sizeof(*ev));
  if (slot == NULL || ev == NULL)
    return ward_error(err, ENOMEM, "%s", what);
  for (uint64_t t = h.head - n; t != h.head; t++) {
    off_t off = (off_t) (FLIGHT_HDR + (t % h.capacity) * h.slot_size);
    uint64_t before, after;
    if (pread(fd, &before, sizeof(before), off) != (ssize_t) sizeof(before) ||
        pread(fd, slot, h.slot_size, off) != (ssize_t) h.slot_size ||
        pread(fd, &after, sizeof(after), off) != (ssize_t) sizeof(after)) {
      s->skipped++;
      continue;
    }
    /* being rewritten, overwritten since the header was read, or garbage */
    if (before != t + 1 || after != before || decode(slot, h.slot_size, ev) < 0) {
      s->skipped++;
      continue;
    }
    s->delivered++;
    sink(opaque, ev);
  }
  return 0;
}

int ward_flight_read(const char *state_dir, size_t last_n, ward_event_sink_fn sink, void *opaque, ward_error_t *err)
{
  _cleanup_free_ char *path = ward_run_path(state_dir, WARD_FLIGHT_FILE);
  if (path == NULL)
    return ward_error_sys(err, "%s: the memory directory", state_dir);
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return ward_error_sys(err, "%s", path);
  return ward_flight_read_fd(fd, path, last_n, sink, opaque, NULL, err);
}
