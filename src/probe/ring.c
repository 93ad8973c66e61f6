/* Host side of the event ring: creation, mapping and the hostile-input
 * consumer. See ring.h for the contract and ring_format.h for the layout. */
#include "probe/ring.h"
#include "probe/ring_seen.h"
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include "probe/calls.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

struct ward_ring {
  int fd;
  uint8_t *map;
  size_t map_len;
  struct ward_ring_hdr *hdr;
  uint8_t *slots;
  uint32_t slot_size, nslots;
  uint64_t mask;
  /* authoritative consumer state: never read back from the shared header */
  uint64_t tail;
  uint64_t stall_ticket, stall_since, stall_timeout;
  bool stalling;
  uint64_t drops_seen;
  struct ward_ring_stats st;
  bool truncated;  /* the workload shrank the file under us: stop reading */
  /* Allocated by the first note: a consumer that never notes (mode off
   * without the detector) keeps this struct and its neighbours' layout. */
  struct ring_seen *seen;
  bool seen_stale;  /* the header's set holds bits this consumer did not set */
};

/* The seen-set: this private copy is the truth, the header's a published
 * hint; words changed since the last publish are marked in dirty. */
struct ring_seen {
  uint64_t bits[WARD_RING_SEEN_BITS / 64];
  uint64_t dirty[WARD_RING_SEEN_BITS / 64 / 64];
  uint32_t keys;
};

static bool is_pow2(uint64_t v) { return v && (v & (v - 1)) == 0; }

static int geometry(size_t *size, uint32_t *slot_size, uint32_t *nslots, ward_error_t *err)
{
  if (*size == 0)
    *size = WARD_RING_SIZE_DEFAULT;
  if (*slot_size == 0)
    *slot_size = WARD_RING_SLOT_DEFAULT;
  if (!is_pow2(*slot_size) || *slot_size < WARD_RING_SLOT_MIN || *slot_size > WARD_RING_SLOT_MAX)
    return ward_error(err, EINVAL, "ring slot size %u: must be a power of two between %u and %u",
                      *slot_size, WARD_RING_SLOT_MIN, WARD_RING_SLOT_MAX);
  /* size is the room for records; the header page comes on top */
  if (*size < 2 * (size_t) *slot_size)
    return ward_error(err, EINVAL, "ring size %zu: too small for two %u-byte slots", *size, *slot_size);
  uint64_t n = *size / *slot_size;
  uint64_t p = 1;
  while (p * 2 <= n && p * 2 <= WARD_RING_NSLOTS_MAX)
    p *= 2;
  *nslots = (uint32_t) p;
  *size = WARD_RING_HDR_SIZE + (size_t) p * *slot_size;
  return 0;
}

/* fd: empty (just created), or emptied first (fresh false). */
static int init_fd(int fd, bool fresh, size_t size, uint32_t slot_size, ward_error_t *err)
{
  uint32_t nslots = 0;
  if (geometry(&size, &slot_size, &nslots, err) < 0)
    return -1;
  /* zero-filled from scratch: all-zero slots are free (ring_format.h) */
  if ((!fresh && ftruncate(fd, 0) < 0) || ftruncate(fd, (off_t) size) < 0)
    return ward_error_sys(err, "ring: resize to %zu bytes", size);
  /* Written, not stored through a mapping, and the first slots with it
   * (ward_prefill_file says why); the slots stay zero (free). */
  _Alignas(64) uint8_t buf[WARD_RING_HDR_SIZE];
  memset(buf, 0, sizeof(buf));
  struct ward_ring_hdr *h = (struct ward_ring_hdr *) buf;
  h->magic = WARD_RING_MAGIC;
  h->version = WARD_RING_VERSION;
  h->hdr_size = WARD_RING_HDR_SIZE;
  h->slot_size = slot_size;
  h->nslots = nslots;
  h->created_ns = ward_now_ns();
  if (ward_prefill_file(fd, buf, sizeof(buf), size) < 0)
    return ward_error_sys(err, "ring: write its header");
  return 0;
}

int ward_ring_init_fd(int fd, size_t size, uint32_t slot_size, ward_error_t *err)
{
  return init_fd(fd, false, size, slot_size, err);
}

int ward_ring_create_memfd(size_t size, uint32_t slot_size, int *fd_out, ward_error_t *err)
{
  _cleanup_close_ int fd = memfd_create("ward-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return ward_error_sys(err, "ring: memfd_create");
  if (init_fd(fd, true, size, slot_size, err) < 0)
    return -1;
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
    return ward_error_sys(err, "ring: seal");
  *fd_out = steal_fd(&fd);
  return 0;
}

int ward_ring_create_file(const char *path, size_t size, uint32_t slot_size, int *fd_out, ward_error_t *err)
{
  _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (fd < 0)
    return ward_error_sys(err, "%s", path);
  /* umask must not take write access away from the container's other uids */
  if (fchmod(fd, 0666) < 0)
    return ward_error_sys(err, "%s: chmod", path);
  if (init_fd(fd, true, size, slot_size, err) < 0)
    return ward_error_prefix(err, "%s", path);
  if (fd_out)
    *fd_out = steal_fd(&fd);
  return 0;
}

int ward_ring_open_fd(int fd, unsigned flags, uint32_t expect_slot_size, struct ward_ring **out, ward_error_t *err)
{
  struct stat st;
  if (fstat(fd, &st) < 0)
    return ward_error_sys(err, "ring: stat");
  if (!S_ISREG(st.st_mode))
    return ward_error(err, 0, "ring: not a regular file");
  int seals = fcntl(fd, F_GET_SEALS);
  if ((seals < 0 || !(seals & F_SEAL_SHRINK)) && !(flags & WARD_RING_ALLOW_UNSEALED))
    return ward_error(err, 0, "ring: not sealed against shrinking (a producer could fault the consumer)");
  if ((uint64_t) st.st_size < WARD_RING_HDR_SIZE + 2 * WARD_RING_SLOT_MIN || (uint64_t) st.st_size > (1ull << 36))
    return ward_error(err, 0, "ring: implausible size %lld", (long long) st.st_size);
  size_t len = (size_t) st.st_size;
  uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED)
    return ward_error_sys(err, "ring: map");
  ward_populate_head(m, len, false);
  /* read the geometry once, then only ever use the private copy */
  struct ward_ring_hdr h;
  memcpy(&h, m, sizeof(h));
  bool okh = h.magic == WARD_RING_MAGIC && h.version == WARD_RING_VERSION && h.hdr_size == WARD_RING_HDR_SIZE
             && is_pow2(h.slot_size) && h.slot_size >= WARD_RING_SLOT_MIN && h.slot_size <= WARD_RING_SLOT_MAX
             && is_pow2(h.nslots) && h.nslots >= 2 && h.nslots <= WARD_RING_NSLOTS_MAX
             && WARD_RING_HDR_SIZE + (uint64_t) h.nslots * h.slot_size <= len
             && (expect_slot_size == 0 || expect_slot_size == h.slot_size);
  if (!okh) {
    munmap(m, len);
    return ward_error(err, 0, "ring: bad or foreign header");
  }
  struct ward_ring *r = calloc(1, sizeof(*r));
  int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (r == NULL || dfd < 0) {
    int e = dfd < 0 ? errno : ENOMEM;
    free(r);
    munmap(m, len);
    if (dfd >= 0)
      close(dfd);
    return ward_error(err, e, "ring: open");
  }
  r->fd = dfd;
  r->map = m;
  r->map_len = len;
  r->hdr = (struct ward_ring_hdr *) m;
  r->slots = m + WARD_RING_HDR_SIZE;
  r->slot_size = h.slot_size;
  r->nslots = h.nslots;
  r->mask = h.nslots - 1;
  r->stall_timeout = 500 * 1000000ull;
  /* An attaching consumer starts where the previous one stopped (a hint:
   * a wrong value only costs the workload its own events). */
  r->tail = __atomic_load_n((flags & WARD_RING_FROM_HEAD) ? &r->hdr->head : &r->hdr->tail, __ATOMIC_ACQUIRE);
  r->drops_seen = __atomic_load_n(&r->hdr->drops, __ATOMIC_RELAXED);
  r->st.drops = r->drops_seen;
  /* a previous consumer's (or the workload's) bits must not silence this one */
  r->seen_stale = true;
  *out = r;
  return 0;
}

int ward_ring_open(const char *path, unsigned flags, struct ward_ring **out, ward_error_t *err)
{
  _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return ward_error_sys(err, "%s", path);
  if (ward_ring_open_fd(fd, flags, 0, out, err) < 0)
    return ward_error_prefix(err, "%s", path);
  return 0;
}

void ward_ring_close(struct ward_ring *r)
{
  if (r == NULL)
    return;
  if (!ward_mappings_left())
    munmap(r->map, r->map_len);
  close(r->fd);
  free(r->seen);
  free(r);
}

int ward_ring_lock_consumer(const char *lock_path, int *fd_out, ward_error_t *err)
{
  _cleanup_close_ int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return ward_error_sys(err, "%s", lock_path);
  if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK)
      return ward_error(err, 0, "%s: the ring already has a consumer", lock_path);
    return ward_error_sys(err, "%s: lock", lock_path);
  }
  *fd_out = steal_fd(&fd);
  return 0;
}

/* buf may be the shared slot itself: every byte is read once (the header
 * and address into locals, the strings and stack straight into ev) and only
 * those private copies are validated, so a workload rewriting the slot
 * meanwhile cannot get past a check (no double fetch). The caller rejects a
 * record whose commit word moved during the read. */
int ward_rec_decode(const void *buf, size_t len, uint64_t ticket, struct ward_event *ev)
{
  const uint8_t *b = buf;
  struct ward_rec h;
  if (len < sizeof(h))
    return -1;
  memcpy(&h, b, sizeof(h));
  if (h.len < sizeof(h) || h.len > len)
    return -1;
  if (h.type == WARD_EV_INVALID || h.type >= WARD_EV_TYPE_COUNT || h.type == WARD_EV_SYSCALL)
    return -1;
  if (h.call >= WARD_CALL_COUNT || (h.flags & ~WARD_REC_F_KNOWN) || h.pid == 0 || h.tid == 0)
    return -1;
  unsigned nstack = (h.flags & WARD_REC_F_STACK_MASK) >> WARD_REC_F_STACK_SHIFT;
  if (nstack > WARD_EVENT_STACK_MAX)
    return -1;
  size_t off = sizeof(h);
  struct ward_rec_addr a = {0};
  if (h.flags & WARD_REC_F_ADDR) {
    if (off + sizeof(a) > h.len)
      return -1;
    memcpy(&a, b + off, sizeof(a));
    off += sizeof(a);
    if (a.reserved != 0 || (a.family != AF_INET && a.family != AF_INET6 && a.family != AF_UNIX))
      return -1;
  }
  /* h.len <= len bounds both strings: each is shorter than a slot, and a
   * slot (SLOT_MAX) is shorter than WARD_EVENT_STR_MAX */
  if (off + 8u * nstack + h.len1 + h.len2 != h.len || h.len1 >= WARD_EVENT_STR_MAX || h.len2 >= WARD_EVENT_STR_MAX)
    return -1;
  const uint8_t *s1 = b + off + 8u * nstack, *s2 = s1 + h.len1;
  memcpy(ev->path, s1, h.len1);
  memcpy(ev->path2, s2, h.len2);
  if ((h.len1 && memchr(ev->path, 0, h.len1) != NULL) || (h.len2 && memchr(ev->path2, 0, h.len2) != NULL))
    return -1;
  ev->path[h.len1] = 0;
  ev->path2[h.len2] = 0;
  /* Only the fixed fields are cleared: zeroing two 4 KiB strings per event
   * would dominate the consumer's cost. Strings are NUL-terminated. */
  memset(ev, 0, offsetof(struct ward_event, path));
  ev->type = (enum ward_event_type) h.type;
  ev->source = WARD_SRC_PROBE;
  ev->seq = ticket;
  ev->ts_ns = h.ts_ns;
  ev->pid = h.pid;
  ev->tid = h.tid;
  ev->ret = h.ret;
  ev->flags = h.a_flags;
  ev->mode = h.a_mode;
  ev->arg = h.arg;
  ev->family = a.family;
  ev->port = a.port;
  memcpy(ev->addr, a.addr, sizeof(ev->addr));
  ev->syscall_nr = 0;
  memset(ev->args, 0, sizeof(ev->args));
  ev->call_ns = h.call_ns;
  ev->n_stack = nstack;
  memcpy(ev->stack, b + off, 8u * nstack);
  memset(ev->stack + nstack, 0, 8u * (WARD_EVENT_STACK_MAX - nstack));
  ev->denied = (h.flags & WARD_REC_F_DENIED) != 0;
  ev->call = h.call;
  ev->rec_flags = h.flags & (WARD_REC_F_TRUNC1 | WARD_REC_F_TRUNC2 | WARD_REC_F_REL1 | WARD_REC_F_REL2 | WARD_REC_F_REDIRECT
                             | WARD_REC_F_PERF | WARD_REC_F_TIMED);
  return 0;
}

static inline struct ward_rec *slot_at(struct ward_ring *r, uint64_t ticket)
{
  return (struct ward_rec *) (void *) (r->slots + (size_t) (ticket & r->mask) * r->slot_size);
}

static void release_slot(struct ward_ring *r, struct ward_rec *rec)
{
  ward_rec_commit_store(rec, r->tail, r->mask, r->tail + r->nslots, __ATOMIC_RELEASE);
  r->tail++;
  r->stalling = false;
}

/* One step at the tail: 1 = event decoded, 0 = slot skipped, -1 = stop. */
static int step(struct ward_ring *r, struct ward_event *ev)
{
  uint64_t t = r->tail;
  struct ward_rec *rec = slot_at(r, t);
  uint64_t c = ward_rec_commit_load(rec, t, r->mask, __ATOMIC_ACQUIRE);
  if (c == t + 1) {
    /* the next slots' lines load while this one is decoded */
    const uint8_t *ahead = (const uint8_t *) slot_at(r, t + 4);
    __builtin_prefetch(ahead);
    __builtin_prefetch(ahead + 64);
    /* Decoded straight out of the slot (ward_rec_decode reads each byte
     * once and validates its private copy), then the commit word must not
     * have moved under the read: a torn record is never accepted. */
    int ok = ward_rec_decode(rec, r->slot_size, t, ev) == 0;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    ok = ok && ward_rec_commit_load(rec, t, r->mask, __ATOMIC_RELAXED) == c;
    release_slot(r, rec);
    if (ok) {
      r->st.events++;
      return 1;
    }
    r->st.bad++;
    return 0;
  }
  if (c != t) {
    /* Neither free-for-t nor published-for-t: no producer can own it for
     * this lap, so it is garbage (or a late write to a skipped slot). */
    r->st.bad++;
    release_slot(r, rec);
    return 0;
  }
  uint64_t h = __atomic_load_n(&r->hdr->head, __ATOMIC_RELAXED);
  int64_t ahead = (int64_t) (h - t);
  if (ahead == 0)
    return -1;  /* empty */
  if (ahead < 0 || (uint64_t) ahead > r->nslots) {
    /* a legitimate head is always within one lap ahead of the tail */
    if (__atomic_compare_exchange_n(&r->hdr->head, &h, t, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
      r->st.repairs++;
    return -1;
  }
  /* claimed but not yet published: wait, but not forever */
  uint64_t now = ward_now_ns();
  if (!r->stalling || r->stall_ticket != t) {
    r->stalling = true;
    r->stall_ticket = t;
    r->stall_since = now;
    return -1;
  }
  if (now - r->stall_since < r->stall_timeout)
    return -1;
  r->st.lost++;
  release_slot(r, rec);
  return 0;
}

/* The geometry words are the consumer's to define: a workload that
 * rewrote them would keep every process started afterwards from mapping the
 * ring, so they are put back from the private copy. */
static void repair_header(struct ward_ring *r)
{
  struct ward_ring_hdr *h = r->hdr;
  if (h->magic == WARD_RING_MAGIC && h->version == WARD_RING_VERSION && h->hdr_size == WARD_RING_HDR_SIZE
      && h->slot_size == r->slot_size && h->nslots == r->nslots)
    return;
  h->magic = WARD_RING_MAGIC;
  h->version = WARD_RING_VERSION;
  h->hdr_size = WARD_RING_HDR_SIZE;
  h->slot_size = r->slot_size;
  h->nslots = r->nslots;
  r->st.repairs++;
}

static void account_drops(struct ward_ring *r)
{
  uint64_t d = __atomic_load_n(&r->hdr->drops, __ATOMIC_RELAXED);
  /* a counter that went backwards was reset by the workload: count afresh */
  r->st.drops += d >= r->drops_seen ? d - r->drops_seen : d;
  r->drops_seen = d;
}

/* A ring that is a plain file can be truncated by the workload, and touching
 * the mapping past the new end raises SIGBUS in the consumer. The consumer
 * catches that (only inside ward_ring_drain, only for its own thread),
 * stops reading that ring for good and reports it as truncated: hostile
 * ring data may cost its container its events, never the host its monitor. */
/* volatile: between setting and clearing it there may be nothing but a
 * relaxed store to the mapping, and the compiler would drop the set */
static __thread sigjmp_buf *volatile bus_guard;
static struct sigaction bus_previous;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
  if (bus_guard)
    siglongjmp(*bus_guard, 1);
  /* not ours: behave as before we were installed */
  if (bus_previous.sa_flags & SA_SIGINFO && bus_previous.sa_sigaction)
    bus_previous.sa_sigaction(sig, si, uc);
  else if (bus_previous.sa_handler != SIG_IGN && bus_previous.sa_handler != SIG_DFL && bus_previous.sa_handler)
    bus_previous.sa_handler(sig);
  else {
    signal(SIGBUS, SIG_DFL);
    raise(SIGBUS);
  }
}

static void install_bus_handler(void)
{
  struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_NODEFER};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, &bus_previous);
}

/* Once per process, whoever reads or arms first: a second install would
 * take our own handler for the previous one. */
static void bus_handler_once(void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, install_bus_handler);
}

bool ward_ring_truncated(const struct ward_ring *r)
{
  return r->truncated;
}

/* How often the consumer's tail is published to the header while it reads:
 * the hint an attaching consumer starts from after a crash. */
#define TAIL_PUBLISH_EVERY 32

/* Copies the changed words of the private seen-set to the header (under
 * the bus guard, like every write to it). A workload's scribbles on a word
 * stay until that word changes again or the set is reset: they only delay
 * its own records. */
static void publish_seen(struct ward_ring *r)
{
  uint64_t *w = (uint64_t *) (void *) ((uint8_t *) r->hdr + WARD_RING_SEEN_OFF);
  if (r->seen_stale) {
    for (size_t i = 0; i < WARD_RING_SEEN_BITS / 64; i++)
      __atomic_store_n(&w[i], r->seen ? r->seen->bits[i] : 0, __ATOMIC_RELAXED);
    r->seen_stale = false;
    if (r->seen)
      memset(r->seen->dirty, 0, sizeof(r->seen->dirty));
    return;
  }
  if (r->seen == NULL)
    return;
  for (size_t d = 0; d < sizeof(r->seen->dirty) / sizeof(r->seen->dirty[0]); d++) {
    for (uint64_t m = r->seen->dirty[d]; m; m &= m - 1) {
      size_t i = d * 64 + (size_t) __builtin_ctzll(m);
      __atomic_store_n(&w[i], r->seen->bits[i], __ATOMIC_RELAXED);
    }
    r->seen->dirty[d] = 0;
  }
}

bool ward_ring_seen_note(struct ward_ring *r, uint64_t key)
{
  /* no memory for the set: every record counts as new, as before it */
  if (r->seen == NULL && (r->seen = calloc(1, sizeof(*r->seen))) == NULL)
    return false;
  struct ring_seen *s = r->seen;
  if (ward_seen_in(s->bits, key))
    return true;
  if (s->keys >= WARD_RING_SEEN_KEYS_MAX)
    ward_ring_seen_reset(r);
  s->keys++;
  uint32_t b[2];
  ward_seen_bits(key, b);
  for (int k = 0; k < 2; k++) {
    s->bits[b[k] / 64] |= 1ull << (b[k] % 64);
    s->dirty[b[k] / 64 / 64] |= 1ull << (b[k] / 64 % 64);
  }
  return false;
}

void ward_ring_seen_reset(struct ward_ring *r)
{
  if (r->seen) {
    memset(r->seen->bits, 0, sizeof(r->seen->bits));
    r->seen->keys = 0;
  }
  r->seen_stale = true;
}

uint64_t ward_event_seen_key(const struct ward_event *ev)
{
  if (!ward_seen_type(ev->type))
    return 0;
  unsigned flags = (ev->rec_flags & WARD_SEEN_REC_FLAGS) | (ev->denied ? WARD_REC_F_DENIED : 0);
  struct ward_seen_fields f = {.type = ev->type, .call = ev->call, .flags = flags, .a_flags = ev->flags,
                               .a_mode = ev->mode, .arg = ev->arg, .ret = ev->ret, .family = ev->family,
                               .port = ev->port, .addr = ev->family ? ev->addr : NULL,
                               .s1 = (const uint8_t *) ev->path, .n1 = (uint32_t) strlen(ev->path),
                               .s2 = (const uint8_t *) ev->path2, .n2 = (uint32_t) strlen(ev->path2)};
  return ward_seen_key(&f);
}

static void finish_read(struct ward_ring *r)
{
  __atomic_store_n(&r->hdr->tail, r->tail, __ATOMIC_RELEASE);
  account_drops(r);
  repair_header(r);
  publish_seen(r);
}

static pthread_key_t event_key;
static void make_event_key(void) { pthread_key_create(&event_key, free); }

size_t ward_ring_drain(struct ward_ring *r, ward_event_sink_fn sink, void *opaque, size_t max)
{
  static pthread_once_t key_once = PTHREAD_ONCE_INIT;
  bus_handler_once();
  pthread_once(&key_once, make_event_key);
  if (r->truncated)
    return 0;
  /* One event per thread, decoded into and handed on at once, so the few
   * lines of it an event touches stay in the L1 cache (a batch of decoded
   * events is 270 KiB); malloc'd once, as the struct is 8.5 KiB. */
  struct ward_event *ev = pthread_getspecific(event_key);
  if (ev == NULL) {
    if ((ev = malloc(sizeof(*ev))) == NULL)
      return 0;
    if (pthread_setspecific(event_key, ev) != 0) {
      free(ev);
      return 0;
    }
  }
  volatile size_t n = 0;
  sigjmp_buf jb;
  /* The guard covers the ring's reads only (set and cleared around each
   * step; one sigsetjmp per call, and no signal mask saved, which would be
   * a system call per call: the handler runs with SA_NODEFER, so the jump
   * back leaves the mask as it was anyway): a fault in
   * the sink is not the ring's and must not be taken for a truncation. */
  if (sigsetjmp(jb, 0)) {
    bus_guard = NULL;
    r->truncated = true;
    r->st.bad++;
    return n;
  }
  for (size_t steps = 0; n < max && steps < max + r->nslots; steps++) {
    bus_guard = &jb;
    int s = step(r, ev);
    if (steps % TAIL_PUBLISH_EVERY == TAIL_PUBLISH_EVERY - 1)
      __atomic_store_n(&r->hdr->tail, r->tail, __ATOMIC_RELEASE);
    bus_guard = NULL;
    if (s < 0)
      break;
    if (s > 0) {
      n++;
      sink(opaque, ev);
    }
  }
  bus_guard = &jb;
  finish_read(r);
  bus_guard = NULL;
  return n;
}

/* Arming and disarming touch the shared header, which a truncated plain
 * file no longer backs: fn runs on it under the same guard as reading.
 * False (and the ring marked truncated) when the file no longer backs it. */
static bool with_header(struct ward_ring *r, void (*fn)(struct ward_ring_hdr *h, void *arg), void *arg)
{
  bus_handler_once();
  if (r->truncated)
    return false;
  sigjmp_buf jb;
  if (sigsetjmp(jb, 0)) {
    bus_guard = NULL;
    r->truncated = true;
    return false;
  }
  bus_guard = &jb;
  fn(r->hdr, arg);
  bus_guard = NULL;
  return true;
}

static void read_caps(struct ward_ring_hdr *h, void *arg)
{
  *(uint32_t *) arg = __atomic_load_n(&h->caps, __ATOMIC_ACQUIRE);
}

int ward_ring_can_arm(struct ward_ring *r)
{
  uint32_t caps = 0;
  if (!with_header(r, read_caps, &caps))
    return -1;
  /* a producer that cannot wake has written here (an older probe): it would
   * leave a sleeping consumer asleep, so this ring is polled */
  return (caps & WARD_RING_CAP_WAKE) || r->tail == 0;
}

struct arm_args {
  struct ward_ring *r;
  uint32_t mode;
  uint64_t mask;
};

static void store_wake(struct ward_ring_hdr *h, void *arg)
{
  const struct arm_args *a = arg;
  publish_seen(a->r);
  __atomic_store_n(&h->wake_mask, a->mask, __ATOMIC_RELAXED);
  /* seq_cst: ordered before the consumer's next look at the slots, so a
   * record published after that look finds the ring armed */
  __atomic_store_n(&h->wake, a->mode, __ATOMIC_SEQ_CST);
}

static void clear_wake(struct ward_ring_hdr *h, void *arg)
{
  (void) arg;
  __atomic_store_n(&h->wake, WARD_RING_WAKE_OFF, __ATOMIC_RELAXED);
}

bool ward_ring_arm(struct ward_ring *r, uint32_t mode, uint64_t mask)
{
  return with_header(r, store_wake, &(struct arm_args) {r, mode, mask});
}

void ward_ring_disarm(struct ward_ring *r)
{
  with_header(r, clear_wake, NULL);
}

uint32_t *ward_ring_wake_word(struct ward_ring *r)
{
  return r->truncated ? NULL : &r->hdr->wake;
}

/* The array form, for callers that take events in batches (tests, the
 * fuzzer): one reader, so both forms share the bus guard and the bounds. */
struct consume_into {
  struct ward_event *evs;
  size_t n;
};

static void copy_event(void *opaque, const struct ward_event *ev)
{
  struct consume_into *c = opaque;
  c->evs[c->n++] = *ev;
}

size_t ward_ring_consume(struct ward_ring *r, struct ward_event *evs, size_t max)
{
  struct consume_into c = {evs, 0};
  return ward_ring_drain(r, copy_event, &c, max);
}

static void read_drops(struct ward_ring_hdr *h, void *arg)
{
  (void) h;
  account_drops(arg);
}

void ward_ring_get_stats(struct ward_ring *r, struct ward_ring_stats *out)
{
  with_header(r, read_drops, r);
  *out = r->st;
  out->tail = r->tail;
}

void ward_ring_set_stall_timeout(struct ward_ring *r, uint64_t ns) { r->stall_timeout = ns; }
uint32_t ward_ring_nslots(const struct ward_ring *r) { return r->nslots; }
uint32_t ward_ring_slot_size(const struct ward_ring *r) { return r->slot_size; }

void ward_ring_producer(struct ward_ring *r, struct ward_ring_prod *out)
{
  out->hdr = r->hdr;
  out->slots = r->slots;
  out->mask = r->mask;
  out->slot_size = r->slot_size;
}

void *ward_ring_map(struct ward_ring *r, size_t *len)
{
  *len = r->map_len;
  return r->map;
}
