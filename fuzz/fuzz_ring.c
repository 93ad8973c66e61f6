/* The ring decoder reads memory the workload writes. Input layout: bytes
 * 0..23 become the header's head, tail and drops words, the rest is laid
 * over the slot area of a small sealed ring (8 slots of 128 bytes), and the
 * whole input is also decoded as one record. The ring is read by both
 * readers in turn (ward_ring_consume into an array, ward_ring_drain into a
 * sink). The consumer must stay within bounds and bounded in time, whatever
 * it finds. Every decoded event is also hashed for the seen-set, and the
 * first slot of input hashed as the producer would hash its slot (its
 * lengths can be rewritten by another thread of the workload). */
#include "probe/event_json.h"
#include "probe/ring.h"
#include "probe/ring_seen.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLOTS 8
#define SLOT 128
#define LEN (WARD_RING_HDR_SIZE + SLOTS * SLOT)

static void serialise(const struct ward_event *ev)
{
  json_t *j = ward_event_to_json(ev);
  char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
  if (j && s == NULL)
    abort();  /* every decoded event must serialise */
  free(s);
  json_decref(j);
}

static void sink(void *opaque, const struct ward_event *ev)
{
  (*(size_t *) opaque)++;
  serialise(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static int fd = -1;
  static struct ward_event ev[4];
  if (fd < 0) {
    /* a plain memfd: the fuzzer rewrites the header between runs */
    fd = memfd_create("fuzz-ring", MFD_CLOEXEC);
    ward_error_t err = NULL;
    if (fd < 0 || ward_ring_init_fd(fd, LEN, SLOT, &err) < 0)
      abort();
  }
  ward_rec_decode(data, size, 0, &ev[0]);
  /* the producer's key of a slot and the consumer's key of what it decodes
   * from it must agree, or repeats would wake the consumer (or not) at random */
  _Alignas(64) uint8_t slot[SLOT] = {0};
  memcpy(slot, data, size < SLOT ? size : SLOT);
  uint64_t kp = ward_seen_key_rec((const struct ward_rec *) (const void *) slot, SLOT);
  if (ward_rec_decode(slot, SLOT, 0, &ev[1]) == 0 && kp != ward_event_seen_key(&ev[1]))
    abort();
  uint8_t *m = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED)
    abort();
  struct ward_ring_hdr *h = (struct ward_ring_hdr *) m;
  uint64_t words[3] = {0, 0, 0};
  memcpy(words, data, size < sizeof(words) ? size : sizeof(words));
  h->head = words[0];
  h->tail = words[1];
  h->drops = words[2];
  memset(m + WARD_RING_HDR_SIZE, 0, SLOTS * SLOT);
  if (size > sizeof(words))
    memcpy(m + WARD_RING_HDR_SIZE, data + sizeof(words), size - sizeof(words) < SLOTS * SLOT ? size - sizeof(words) : SLOTS * SLOT);
  ward_error_t err = NULL;
  struct ward_ring *r = NULL;
  if (ward_ring_open_fd(fd, WARD_RING_ALLOW_UNSEALED, SLOT, &r, &err) == 0) {
    ward_ring_set_stall_timeout(r, 0);
    for (int round = 0; round < 4; round++) {
      if (round % 2) {
        size_t seen = 0, n = ward_ring_drain(r, sink, &seen, 4);
        if (n != seen || n > 4)
          abort();  /* the count returned is the count delivered */
        continue;
      }
      size_t n = ward_ring_consume(r, ev, 4);
      for (size_t i = 0; i < n; i++)
        serialise(&ev[i]);
    }
    ward_ring_close(r);
  }
  ward_error_free(&err);
  munmap(m, LEN);
  return 0;
}
