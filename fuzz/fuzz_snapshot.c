/* Snapshot reading on hostile input: the bytes as a manifest, and the
 * bytes as a whole archive (through a memfd), must give a result or an
 * error, never a crash, an unbounded read or a file on disk. */
#include "agent/snapshot.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ward_error_t err = NULL;
  json_t *m = NULL;
  if (ward_snapshot_manifest_check((const char *) data, size, &m, &err) == 0) {
    FILE *null = fopen("/dev/null", "we");
    if (null) {
      ward_snapshot_print(null, m);
      fclose(null);
    }
    json_decref(m);
  }
  ward_error_free(&err);
  int fd = memfd_create("fuzz-snapshot", MFD_CLOEXEC);
  if (fd < 0)
    abort();
  if (size && write(fd, data, size) != (ssize_t) size)
    abort();
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  m = NULL;
  if (ward_snapshot_read_manifest(path, &m, &err) == 0) {
    FILE *null = fopen("/dev/null", "we");
    if (null) {
      ward_snapshot_print(null, m);
      fclose(null);
    }
    json_decref(m);
  }
  ward_error_free(&err);
  close(fd);
  return 0;
}
