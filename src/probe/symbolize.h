/* Host-side symbolisation of return addresses captured by the probe: the
 * process's /proc/PID/maps names the mapped file, whose ELF symbol tables
 * (.symtab, else .dynsym) name the function. Nothing of this runs in the
 * container. */
#ifndef WARD_PROBE_SYMBOLIZE_H
#define WARD_PROBE_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "libc.so.6!open+0x1a", "/usr/bin/x+0x1234" (no symbol) or "0x7f..."
 * (unmapped). pid is the host pid of the process; files are opened through
 * /proc/PID/map_files or /proc/PID/root so container paths resolve. */
void ward_symbolize(pid_t pid, uint64_t addr, char *out, size_t cap);
/* The same for n addresses of one process (a call stack): its maps are read
 * once and each mapped file opened once. Name i goes to out + i * cap. */
void ward_symbolize_stack(pid_t pid, const uint64_t *addrs, unsigned n, char *out, size_t cap);

/* The function of the ELF file fd (the workload's: every field is checked,
 * reads are bounded preads) that contains file offset foff: its name into
 * name (NUL-terminated, cap >= 2) and foff's distance from its start into
 * *delta. .symtab first, else .dynsym. false when there is none. */
bool ward_elf_symbol(int fd, uint64_t foff, char *name, size_t cap, uint64_t *delta);

/* The host pid of the process whose pid is ns_pid in the pid namespace of
 * host process init (a container's init), or 0 when no such process lives
 * now. Records carry the pid the workload sees; its maps are under the
 * host's. hint (0: none), an earlier answer, is checked first; otherwise
 * /proc is scanned, so callers keep the answers. */
pid_t ward_host_pid_in_ns(pid_t init, pid_t ns_pid, pid_t hint);

#endif
