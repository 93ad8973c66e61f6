#include "supervisor/table.h"

#include <pthread.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define E(n, t, d, p, p2, fdp, a, f, def) \
  { .name = n, .type = t, .decode = d, .path_arg = p, .path2_arg = p2, \
    .fd_path_arg = fdp, .arg_idx = a, .flags_idx = f, .dflt = def }
#define SETID32(n, nat) \
  { .name = n, .native = nat, .type = WARD_EV_SETID, .decode = SV_DEC_RAW, .path_arg = -1, \
    .path2_arg = -1, .fd_path_arg = -1, .arg_idx = 0, .flags_idx = -1, .dflt = false }

/* Why each default is here is in docs/supervisor.md. Everything in the
 * default set is rare in a healthy workload (at most a few calls per
 * process lifetime) except connect, which is per outgoing connection and
 * costs one round trip (~ a few µs) on top of a TCP handshake. */
const struct sv_syscall sv_table[] = {
  /* exec */
  E("execve", WARD_EV_EXEC, SV_DEC_EXECVE, 0, -1, -1, -1, -1, true),
  E("execveat", WARD_EV_EXEC, SV_DEC_EXECVEAT, 1, -1, -1, 0, 4, true),
  /* network: the addresses the workload talks to and serves on */
  E("connect", WARD_EV_CONNECT, SV_DEC_SOCKADDR, -1, -1, -1, 0, -1, true),
  E("bind", WARD_EV_BIND, SV_DEC_SOCKADDR, -1, -1, -1, 0, -1, true),
  E("listen", WARD_EV_LISTEN, SV_DEC_RAW, -1, -1, -1, 0, 1, false),
  /* other processes' memory and descriptors */
  E("ptrace", WARD_EV_PTRACE, SV_DEC_RAW, -1, -1, -1, 0, -1, true),
  E("process_vm_writev", WARD_EV_SYSCALL, SV_DEC_RAW, -1, -1, -1, 0, -1, true),
  E("process_vm_readv", WARD_EV_SYSCALL, SV_DEC_RAW, -1, -1, -1, 0, -1, false),
  E("pidfd_getfd", WARD_EV_SYSCALL, SV_DEC_RAW, -1, -1, -1, 1, -1, true),
  /* mounts, old and new API, and root changes */
  E("mount", WARD_EV_SYSCALL, SV_DEC_RAW, 1, 0, -1, -1, 3, true),
  E("umount2", WARD_EV_SYSCALL, SV_DEC_RAW, 0, -1, -1, -1, 1, true),
  E("move_mount", WARD_EV_SYSCALL, SV_DEC_RAW, 3, 1, -1, -1, 4, true),
  E("fsmount", WARD_EV_SYSCALL, SV_DEC_RAW, -1, -1, -1, 0, 1, true),
  E("open_tree", WARD_EV_SYSCALL, SV_DEC_RAW, 1, -1, -1, 0, 2, true),
  E("mount_setattr", WARD_EV_SYSCALL, SV_DEC_RAW, 1, -1, -1, 0, 2, true),
  E("pivot_root", WARD_EV_SYSCALL, SV_DEC_RAW, 0, 1, -1, -1, -1, true),
  E("chroot", WARD_EV_SYSCALL, SV_DEC_RAW, 0, -1, -1, -1, -1, true),
  /* the kernel itself */
  E("init_module", WARD_EV_SYSCALL, SV_DEC_RAW, 2, -1, -1, 1, -1, true),
  E("finit_module", WARD_EV_SYSCALL, SV_DEC_RAW, 1, -1, 0, 0, 2, true),
  E("delete_module", WARD_EV_SYSCALL, SV_DEC_RAW, 0, -1, -1, -1, 1, true),
  E("kexec_load", WARD_EV_SYSCALL, SV_DEC_RAW, -1, -1, -1, 1, 3, true),
  E("kexec_file_load", WARD_EV_SYSCALL, SV_DEC_RAW, 3, -1, 0, 0, 4, true),
  E("bpf", WARD_EV_SYSCALL, SV_DEC_RAW, -1, -1, -1, 0, -1, true),
  E("perf_event_open", WARD_EV_SYSCALL, SV_DEC_RAW, -1, -1, -1, 1, 4, true),
  E("userfaultfd", WARD_EV_SYSCALL, SV_DEC_RAW, -1, -1, -1, -1, 0, true),
  E("io_uring_setup", WARD_EV_SYSCALL, SV_DEC_RAW, -1, -1, -1, 0, -1, true),
  E("keyctl", WARD_EV_SYSCALL, SV_DEC_RAW, -1, -1, -1, 0, -1, true),
  E("add_key", WARD_EV_SYSCALL, SV_DEC_RAW, 0, 1, -1, 4, -1, true),
  E("request_key", WARD_EV_SYSCALL, SV_DEC_RAW, 0, 1, -1, 3, -1, true),
  E("open_by_handle_at", WARD_EV_SYSCALL, SV_DEC_RAW, -1, -1, 0, 0, 2, true),
  /* namespaces: clone only when it asks for new namespaces (filter.c) */
  E("setns", WARD_EV_SYSCALL, SV_DEC_RAW, -1, -1, 0, 0, 1, true),
  E("unshare", WARD_EV_SYSCALL, SV_DEC_RAW, -1, -1, -1, -1, 0, true),
  E("clone", WARD_EV_CLONE, SV_DEC_RAW, -1, -1, -1, -1, 0, true),
  /* memory that can be executed without a file on disk */
  E("memfd_create", WARD_EV_MEMFD, SV_DEC_RAW, 0, -1, -1, -1, 1, true),
  /* identity */
  E("setuid", WARD_EV_SETID, SV_DEC_RAW, -1, -1, -1, 0, -1, true),
  E("setgid", WARD_EV_SETID, SV_DEC_RAW, -1, -1, -1, 0, -1, true),
  E("setreuid", WARD_EV_SETID, SV_DEC_RAW, -1, -1, -1, 1, -1, true),
  E("setregid", WARD_EV_SETID, SV_DEC_RAW, -1, -1, -1, 1, -1, true),
  E("setresuid", WARD_EV_SETID, SV_DEC_RAW, -1, -1, -1, 1, -1, true),
  E("setresgid", WARD_EV_SETID, SV_DEC_RAW, -1, -1, -1, 1, -1, true),
  E("setgroups", WARD_EV_SETID, SV_DEC_RAW, -1, -1, -1, 0, -1, true),
  E("capset", WARD_EV_CAPSET, SV_DEC_RAW, -1, -1, -1, -1, -1, true),
  /* i386 spellings: the filter adds them whenever their native name is watched */
  SETID32("setuid32", "setuid"), SETID32("setgid32", "setgid"),
  SETID32("setreuid32", "setreuid"), SETID32("setregid32", "setregid"),
  SETID32("setresuid32", "setresuid"), SETID32("setresgid32", "setresgid"),
  SETID32("setgroups32", "setgroups"),
  { .name = "socketcall", .type = WARD_EV_SYSCALL, .decode = SV_DEC_SOCKETCALL, .path_arg = -1,
    .path2_arg = -1, .fd_path_arg = -1, .arg_idx = 0, .flags_idx = -1, .dflt = false },
};
const unsigned sv_table_len = sizeof(sv_table) / sizeof(sv_table[0]);

const struct sv_syscall *sv_find(const char *name)
{
  for (unsigned i = 0; i < sv_table_len; i++)
    if (strcmp(sv_table[i].name, name) == 0)
      return &sv_table[i];
  return NULL;
}

/* (arch, nr) -> entry, learned through libseccomp as notifications come:
 * a container makes a few distinct watched calls, and resolving every
 * entry for every ABI up front (some 240 name look-ups) took tens of
 * microseconds of each start-up with a supervisor. A call the table lacks
 * is kept too (idx -1), with its name: it is reported raw. The filter
 * notifies only watched calls of its own ABIs, so the map stays small; when
 * full, answers are still right, only not kept. */
struct sv_map { uint32_t arch; int nr; int native_nr; int idx; char name[SV_NAME_MAX]; };
static struct sv_map sv_maps[3 * sizeof(sv_table) / sizeof(sv_table[0]) + 16];
static unsigned sv_nmaps;
static pthread_mutex_t sv_maps_lock = PTHREAD_MUTEX_INITIALIZER;

static struct sv_map sv_resolve(uint32_t arch, int nr)
{
  struct sv_map m = {arch, nr, -1, -1, ""};
  uint32_t scmp_arch = arch;
#if defined(__x86_64__)
  /* x32 shares the audit arch token with x86_64; its numbers carry
   * __X32_SYSCALL_BIT, as libseccomp's x32 numbers do */
  if (arch == SCMP_ARCH_X86_64 && (nr & 0x40000000))
    scmp_arch = SCMP_ARCH_X32;
#endif
  char *name = seccomp_syscall_resolve_num_arch(scmp_arch, nr);
  if (name == NULL)
    return m;
  snprintf(m.name, sizeof(m.name), "%s", name);
  free(name);
  const struct sv_syscall *s = sv_find(m.name);
  if (s)
    m.idx = (int) (s - sv_table);
  int native_nr = seccomp_syscall_resolve_name(s && s->native ? s->native : m.name);
  m.native_nr = native_nr < 0 ? -1 : native_nr;  /* a pseudo number: not a call of this ABI */
  return m;
}

const struct sv_syscall *sv_lookup(uint32_t arch, int nr, int *native_nr, char name[SV_NAME_MAX])
{
  pthread_mutex_lock(&sv_maps_lock);
  struct sv_map m = {0};
  bool found = false;
  for (unsigned i = 0; i < sv_nmaps && !found; i++)
    if (sv_maps[i].arch == arch && sv_maps[i].nr == nr) {
      m = sv_maps[i];
      found = true;
    }
  if (!found) {
    m = sv_resolve(arch, nr);
    if (sv_nmaps < sizeof(sv_maps) / sizeof(sv_maps[0]))
      sv_maps[sv_nmaps++] = m;
  }
  pthread_mutex_unlock(&sv_maps_lock);
  *native_nr = m.native_nr;
  if (name)
    memcpy(name, m.name, sizeof(m.name));
  return m.idx >= 0 ? &sv_table[m.idx] : NULL;
}
