/* Return address -> "file!symbol+off", on the host (see symbolize.h). The
 * mapped file belongs to the container, so it is read with bounded preads
 * (never mmap: a truncated file would fault us) and every offset checked. */
#include "probe/symbolize.h"
#include "common/cleanup.h"

#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYMTAB_MAX (64u << 20)

static bool rd(int fd, void *buf, size_t n, uint64_t off)
{
  return pread(fd, buf, n, (off_t) off) == (ssize_t) n;
}

/* The function containing file offset foff, into out; false if none. */
static bool elf_lookup(int fd, uint64_t foff, char *name, size_t cap, uint64_t *delta)
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
    for (unsigned i = 0; i < eh.e_shnum && !found; i++) {
      Elf64_Shdr sh, strh;
      if (!rd(fd, &sh, sizeof(sh), eh.e_shoff + (uint64_t) i * sizeof(sh)))
        return false;
      if (sh.sh_type != want || sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_size > SYMTAB_MAX
          || sh.sh_link >= eh.e_shnum)
        continue;
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
        name[strnlen(name, (size_t) got)] = 0;
        *delta = vaddr - best;
      }
    }
  }
  return found;
}

void ward_symbolize(pid_t pid, uint64_t addr, char *out, size_t cap)
{
  snprintf(out, cap, "0x%" PRIx64, addr);
  char p[64];
  snprintf(p, sizeof(p), "/proc/%d/maps", (int) pid);
  _cleanup_fclose_ FILE *f = fopen(p, "re");
  if (f == NULL)
    return;
  char line[4096 + 256];
  while (fgets(line, sizeof(line), f)) {
    unsigned long long lo, hi, off;
    int path_at = 0;
    if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %n", &lo, &hi, &off, &path_at) < 3 || addr < lo || addr >= hi)
      continue;
    char *path = path_at > 0 ? line + path_at : NULL;
    if (path == NULL || path[0] != '/') {
      snprintf(out, cap, "0x%" PRIx64, addr);
      return;
    }
    path[strcspn(path, "\n")] = 0;
    /* map_files names the exact mapped inode, even one the container
     * replaced or deleted; it needs privilege, so fall back to the root */
    char mf[128];
    snprintf(mf, sizeof(mf), "/proc/%d/map_files/%llx-%llx", (int) pid, lo, hi);
    _cleanup_close_ int fd = open(mf, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      char rp[4096 + 64];
      snprintf(rp, sizeof(rp), "/proc/%d/root%s", (int) pid, path);
      fd = open(rp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    }
    const char *base = strrchr(path, '/') + 1;
    char sym[256];
    uint64_t delta = 0;
    uint64_t foff = addr - lo + off;
    if (fd >= 0 && elf_lookup(fd, foff, sym, sizeof(sym), &delta))
      snprintf(out, cap, "%s!%s+0x%" PRIx64, base, sym, delta);
    else
      snprintf(out, cap, "%s+0x%" PRIx64, base, foff);
    return;
  }
}
