/* The symboliser's ELF reader (ward_elf_symbol): it reads files from the
 * container's root, so every header, table and string offset in them is
 * the workload's. The input is the file; lookups are made at offsets taken
 * from its end and at the start of each page, and the name must come back
 * NUL-terminated within its buffer. */
#include "probe/symbolize.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void look(int fd, uint64_t off)
{
  char name[64];
  memset(name, 'x', sizeof(name));
  uint64_t delta = 0;
  if (ward_elf_symbol(fd, off, name, sizeof(name), &delta) && memchr(name, 0, sizeof(name)) == NULL)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static int fd = -1;
  if (fd < 0 && (fd = memfd_create("fuzz-elf", MFD_CLOEXEC)) < 0)
    abort();
  if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t) size)
    abort();
  if (size >= 8) {
    uint64_t off;
    memcpy(&off, data + size - 8, 8);
    look(fd, off);
    look(fd, off % (size + 1));
  }
  for (uint64_t off = 0; off < size && off < (16u << 12); off += 4096)
    look(fd, off + 0x40);
  return 0;
}
