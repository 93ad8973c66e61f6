/* The interposed libc entry points, numbered. The number travels in every
 * ring record (the "call" field) so the host can name the function and `ward
 * top` can aggregate per call; both sides build from this one list, and new
 * calls are only ever appended (the numbers are part of the ring format). */
#ifndef WARD_PROBE_CALLS_H
#define WARD_PROBE_CALLS_H

#define WARD_PROBE_CALLS(X) \
  X(execve) X(execveat) X(fexecve) X(execv) X(execvp) X(execvpe) \
  X(execl) X(execlp) X(execle) X(posix_spawn) X(posix_spawnp) X(system) \
  X(fork) X(vfork) X(clone) \
  X(open) X(open64) X(openat) X(openat64) X(creat) X(creat64) \
  X(fopen) X(fopen64) X(freopen) X(freopen64) \
  X(unlink) X(unlinkat) X(rename) X(renameat) X(renameat2) \
  X(chmod) X(fchmodat) X(chown) X(lchown) X(fchownat) \
  X(mkdir) X(mkdirat) X(symlink) X(symlinkat) X(link) X(linkat) \
  X(truncate) X(truncate64) \
  X(socket) X(connect) X(bind) X(listen) X(accept) X(accept4) X(sendto) \
  X(mmap) X(mmap64) X(mprotect) X(memfd_create) \
  X(setuid) X(setgid) X(seteuid) X(setegid) X(setreuid) X(setregid) \
  X(setresuid) X(setresgid) X(setgroups) X(capset) X(prctl) X(ptrace) \
  X(dlopen) \
  X(__open_2) X(__open64_2) X(__openat_2) X(__openat64_2) \
  X(chdir) X(fchdir) X(munmap) X(mremap) \
  X(sendmsg)

enum ward_probe_call {
  WARD_CALL_NONE = 0,
#define X(name) WARD_CALL_##name,
  WARD_PROBE_CALLS(X)
#undef X
  WARD_CALL_COUNT
};

#endif
