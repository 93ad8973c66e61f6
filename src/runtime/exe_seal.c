#include "runtime/exe_seal.h"
#include "common/cleanup.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define REQUIRED_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static const char *const container_commands[] = {"run", "create", "exec", "sandbox", NULL};

bool ward_exe_is_sealed(void)
{
  _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  int seals = fcntl(fd, F_GET_SEALS);
  return seals >= 0 && (seals & REQUIRED_SEALS) == REQUIRED_SEALS;
}

static bool needs_seal(int argc, char **argv)
{
  /* The command is the first argument that is not a global option (or the
   * value of one that takes a value). */
  static const char *const with_value[] = {"--root", "--log", "--log-format", "--cgroup-manager", "--rootless", NULL};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-') {
      for (size_t k = 0; container_commands[k]; k++)
        if (strcmp(a, container_commands[k]) == 0)
          return true;
      return false;
    }
    for (size_t k = 0; with_value[k]; k++)
      if (strcmp(a, with_value[k]) == 0)
        i++;
  }
  return false;
}

/* Only the part of the file that exec and the dynamic loader read is
 * copied: the ELF header, the program headers and every segment's file
 * contents, which the linker lays out ahead of the debug info, symbol
 * tables and section headers (more than two thirds of a debugoptimized
 * build). Our own program headers, as loaded, say where that part ends. */
static off_t loaded_extent(off_t file_size)
{
  const ElfW(Phdr) *ph = (const ElfW(Phdr) *) getauxval(AT_PHDR);
  unsigned long n = getauxval(AT_PHNUM);
  off_t end = 0;
  for (unsigned long i = 0; ph && i < n; i++) {
    off_t e = (off_t) (ph[i].p_offset + ph[i].p_filesz);
    if (e > end)
      end = e;
  }
  return end > 0 && end <= file_size ? end : file_size;
}

void ward_exe_ensure_sealed(int argc, char **argv)
{
  if (!needs_seal(argc, argv) || ward_exe_is_sealed())
    return;
  _cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0) {
    fprintf(stderr, "ward: open /proc/self/exe: %s\n", strerror(errno));
    exit(1);
  }
  struct stat st;
  _cleanup_close_ int mfd = memfd_create("ward", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0 || fstat(self, &st) < 0) {
    fprintf(stderr, "ward: cannot make a sealed copy of the runtime: %s\n", strerror(errno));
    exit(1);
  }
  off_t off = 0, size = loaded_extent(st.st_size);
  while (off < size) {
    ssize_t n = sendfile(mfd, self, &off, (size_t) (size - off));
    if (n <= 0) {
      fprintf(stderr, "ward: copy the runtime into a memfd: %s\n", n < 0 ? strerror(errno) : "short copy");
      exit(1);
    }
  }
  if (fcntl(mfd, F_ADD_SEALS, REQUIRED_SEALS) < 0) {
    fprintf(stderr, "ward: seal the runtime copy: %s\n", strerror(errno));
    exit(1);
  }
  /* Things that live next to the binary (the probe library) are found
   * through the path it was copied from. */
  char origin[4096];
  ssize_t len = readlink("/proc/self/exe", origin, sizeof(origin) - 1);
  if (len > 0) {
    origin[len] = '\0';
    setenv("WARD_SELF", origin, 1);
  }
  fexecve(mfd, argv, environ);
  fprintf(stderr, "ward: re-execute from the sealed copy: %s\n", strerror(errno));
  exit(1);
}
