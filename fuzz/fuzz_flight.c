/* The flight recorder reader on a hostile file: the input is the whole file
 * (header and slots), read with every last_n the reader distinguishes. It
 * must stay in bounds and bounded in time whatever the header claims. */
#include "agent/flight.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void sink(void *opaque, const struct ward_event *ev)
{
  /* touch the strings: they must be terminated */
  *(size_t *) opaque += strlen(ev->path) + strlen(ev->path2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int fd = memfd_create("fuzz-flight", MFD_CLOEXEC);
  if (fd < 0)
    abort();
  if (size && write(fd, data, size) != (ssize_t) size)
    abort();
  size_t total = 0;
  for (size_t last = 0; last < 3; last++) {
    ward_error_t err = NULL;
    ward_flight_read_fd(fd, "fuzz", last, sink, &total, NULL, &err);
    ward_error_free(&err);
  }
  close(fd);
  return 0;
}
