/* Return address -> "file!symbol+off", on the host (see symbolize.h). The
 * mapped file belongs to the container, so it is read with bounded preads
 * (never mmap: a truncated file would fault us) and every offset checked. */
#include "probe/symbolize.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/openat2.h>

#define SYMTAB_MAX (64u << 20)

static bool rd(int fd, void *buf, size_t n, uint64_t off)
{
  return pread(fd, buf, n, (off_t) off) == (ssize_t) n;
}

bool ward_elf_symbol(int fd, uint64_t foff, char *name, size_t cap, uint64_t *delta)
{
  Elf64_Ehdr eh;
  if (!rd(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64
      || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_phnum > 256
      || eh.e_shnum > 4096)
    return false;
  uint64_t vaddr = 0;
  bool mapped = false;
  for (unsigned i = 0; i < eh.e_phnum && !mapped; i++) {
    Elf64_Phdr ph;
    if (!rd(fd, &ph, sizeof(ph), eh.e_phoff + (uint64_t) i * sizeof(ph)))
      return false;
    if (ph.p_type == PT_LOAD && foff >= ph.p_offset && foff - ph.p_offset < ph.p_filesz) {
      vaddr = foff - ph.p_offset + ph.p_vaddr;
      mapped = true;
    }
  }
  if (!mapped)
    return false;
  bool found = false;
  uint64_t best = 0;
  /* prefer .symtab (all functions), fall back to .dynsym */
  static const unsigned kinds[] = {SHT_SYMTAB, SHT_DYNSYM};
  for (unsigned kind = 0; kind < 2 && !found; kind++) {
    unsigned want = kinds[kind];
    /* a file has one table of each kind: a hostile one listing thousands
     * would otherwise be read thousands of times */
    bool seen = false;
    for (unsigned i = 0; i < eh.e_shnum && !found && !seen; i++) {
      Elf64_Shdr sh, strh;
      if (!rd(fd, &sh, sizeof(sh), eh.e_shoff + (uint64_t) i * sizeof(sh)))
        return false;
      if (sh.sh_type != want || sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_size > SYMTAB_MAX
          || sh.sh_link >= eh.e_shnum)
        continue;
      seen = true;
      if (!rd(fd, &strh, sizeof(strh), eh.e_shoff + (uint64_t) sh.sh_link * sizeof(strh)) || strh.sh_size > SYMTAB_MAX)
        continue;
      _cleanup_free_ Elf64_Sym *syms = malloc(sh.sh_size ? sh.sh_size : 1);
      if (syms == NULL || !rd(fd, syms, sh.sh_size, sh.sh_offset))
        continue;
      size_t n = sh.sh_size / sizeof(Elf64_Sym);
      uint32_t best_name = 0;
      for (size_t k = 0; k < n; k++) {
        const Elf64_Sym *s = &syms[k];
        if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_value == 0 || vaddr < s->st_value)
          continue;
        if ((s->st_size && vaddr - s->st_value < s->st_size) || (!s->st_size && vaddr - s->st_value < 64)) {
          if (!found || s->st_value > best) {
            best = s->st_value;
            best_name = s->st_name;
            found = true;
          }
        }
      }
      if (found) {
        if (best_name >= strh.sh_size || cap < 2)
          return false;
        size_t len = cap - 1;
        if (len > strh.sh_size - best_name)
          len = strh.sh_size - best_name;
        ssize_t got = pread(fd, name, len, (off_t) (strh.sh_offset + best_name));
        if (got <= 0)
          return false;
        name[got] = 0;
        if (name[0] == 0)
          return false;   /* a name the table does not hold */
        *delta = vaddr - best;
      }
    }
  }
  return found;
}

/* The mapped file of one maps line, opened for reading: through
 * /proc/PID/map_files, which names the exact mapped inode even one the
 * container replaced or deleted (it needs privilege), else by its path
 * inside the process's root, where the container's symlinks resolve and a
 * FIFO planted there must not block. Regular files only; -1 otherwise. */
static int open_mapped(pid_t pid, unsigned long long lo, unsigned long long hi, const char *path)
{
  char mf[128];
  snprintf(mf, sizeof(mf), "/proc/%d/map_files/%llx-%llx", (int) pid, lo, hi);
  int fd = open(mf, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    char rp[64];
    snprintf(rp, sizeof(rp), "/proc/%d/root", (int) pid);
    _cleanup_close_ int root = open(rp, O_PATH | O_DIRECTORY | O_CLOEXEC);
    fd = root < 0 ? -1 : ward_open_in_root(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, RESOLVE_NO_MAGICLINKS);
  }
  struct stat st;
  if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
    close(fd);
    fd = -1;
  }
  return fd;
}

void ward_symbolize_stack(pid_t pid, const uint64_t *addrs, unsigned n, char *out, size_t cap)
{
  for (unsigned i = 0; i < n; i++)
    snprintf(out + (size_t) i * cap, cap, "0x%" PRIx64, addrs[i]);
  char p[64];
  snprintf(p, sizeof(p), "/proc/%d/maps", (int) pid);
  _cleanup_fclose_ FILE *f = fopen(p, "re");
  if (f == NULL)
    return;
  unsigned left = n;
  /* whole lines, however long: a path with escaped characters can be three
   * times PATH_MAX, and a line read in pieces would parse its tail as a
   * mapping of its own */
  _cleanup_free_ char *line = NULL;
  size_t line_cap = 0;
  while (left > 0 && getline(&line, &line_cap, f) > 0) {
    unsigned long long lo, hi, off;
    int path_at = 0;
    if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %n", &lo, &hi, &off, &path_at) < 3)
      continue;
    char *path = path_at > 0 ? line + path_at : NULL;
    path = path && path[0] == '/' ? path : NULL;   /* anonymous: the address stays */
    if (path)
      path[strcspn(path, "\n")] = 0;
    int fd = -2;   /* not opened yet: one open per mapping, for all its frames */
    for (unsigned i = 0; i < n; i++) {
      if (addrs[i] < lo || addrs[i] >= hi)
        continue;
      left--;
      if (path == NULL)
        continue;
      if (fd == -2)
        fd = open_mapped(pid, lo, hi, path);
      char sym[256];
      uint64_t delta = 0, foff = addrs[i] - lo + off;
      const char *base = strrchr(path, '/') + 1;
      if (fd >= 0 && ward_elf_symbol(fd, foff, sym, sizeof(sym), &delta))
        snprintf(out + (size_t) i * cap, cap, "%s!%s+0x%" PRIx64, base, sym, delta);
      else
        snprintf(out + (size_t) i * cap, cap, "%s+0x%" PRIx64, base, foff);
    }
    if (fd >= 0)
      close(fd);
  }
}

void ward_symbolize(pid_t pid, uint64_t addr, char *out, size_t cap)
{
  ward_symbolize_stack(pid, &addr, 1, out, cap);
}

/* ns_pid of the process whose /proc directory is dirfd, when it is in the
 * pid namespace (dev, ino); 0 otherwise. Both reads go through the same
 * directory fd, so a pid reused in between fails them rather than mixing
 * two processes. */
static pid_t ns_pid_of(int dirfd, dev_t dev, ino_t ino)
{
  struct stat st;
  if (fstatat(dirfd, "ns/pid", &st, 0) < 0 || st.st_dev != dev || st.st_ino != ino)
    return 0;
  _cleanup_close_ int fd = openat(dirfd, "status", O_RDONLY | O_CLOEXEC);
  char buf[4096];
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
  if (n <= 0)
    return 0;
  buf[n] = 0;
  uint32_t id;
  return ward_status_ns_id(buf, "\nNSpid:", 0, &id) < 0 ? 0 : (pid_t) id;
}

static bool is_ns_pid(pid_t host, const struct stat *ns, pid_t ns_pid)
{
  char p[32];
  snprintf(p, sizeof(p), "/proc/%d", (int) host);
  _cleanup_close_ int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return fd >= 0 && ns_pid_of(fd, ns->st_dev, ns->st_ino) == ns_pid;
}

pid_t ward_host_pid_in_ns(pid_t init, pid_t ns_pid, pid_t hint)
{
  if (init <= 0 || ns_pid <= 0)
    return 0;
  char p[64];
  struct stat ns;
  snprintf(p, sizeof(p), "/proc/%d/ns/pid", (int) init);
  if (stat(p, &ns) < 0)
    return 0;
  if (hint > 0 && is_ns_pid(hint, &ns, ns_pid))
    return hint;
  /* a container sharing the host's pid namespace: the same number */
  if (is_ns_pid(ns_pid, &ns, ns_pid))
    return ns_pid;
  _cleanup_closedir_ DIR *d = opendir("/proc");
  if (d == NULL)
    return 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    char *end;
    long host = strtol(de->d_name, &end, 10);
    if (*end || host <= 0)
      continue;
    _cleanup_close_ int fd = openat(dirfd(d), de->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && ns_pid_of(fd, ns.st_dev, ns.st_ino) == ns_pid)
      return (pid_t) host;
  }
  return 0;
}
