/* mem group: mmap/mprotect asking for write+exec, memfd_create; and the
 * guards that keep a process which unmaps or remaps its own view of the ring
 * or control page from faulting in the probe afterwards. */
#include "probe/lib/probe.h"

#include <stdarg.h>
#include <sys/mman.h>

#define WX (PROT_WRITE | PROT_EXEC)

/* mmap_wx: flags = prot, mode = map flags, arg = length, ret = address */
static inline __attribute__((always_inline)) void *mmap_common(unsigned call, void *(*fn)(void *, size_t, int, int, int, off_t),
                                                               void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
  if (UNLIKELY(flags & MAP_FIXED))
    probe_guard_range(addr, len);
  uint32_t want = probe_want(WARD_GROUP_MEM);
  if (LIKELY(!want))
    return fn(addr, len, prot, flags, fd, off);
  uint64_t t0 = probe_now();
  void *r = fn(addr, len, prot, flags, fd, off);
  if ((prot & WX) != WX)
    want &= ~(1u << WARD_GROUP_MEM);  /* perf only */
  if (want) {
    struct probe_ev e = {.in = {.type = WARD_EV_MMAP_WX, .call = (uint16_t) call, .a_flags = (uint32_t) prot,
                                .a_mode = (uint32_t) flags, .arg = (int64_t) len},
                         .fp = __builtin_frame_address(0)};
    probe_finish(&e, WARD_GROUP_MEM, want, t0, r == MAP_FAILED ? -1 : (int64_t) (intptr_t) r);
  }
  return r;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
  GET_REAL(fn, mmap, MAP_FAILED);
  return mmap_common(WARD_CALL_mmap, fn, addr, len, prot, flags, fd, off);
}

#ifdef __GLIBC__
EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
  GET_REAL(fn, mmap64, MAP_FAILED);
  return mmap_common(WARD_CALL_mmap64, (void *(*)(void *, size_t, int, int, int, off_t)) fn,
                     addr, len, prot, flags, fd, off);
}
#endif

/* mprotect_wx: flags = prot, arg = address, mode = length (capped at 4 GiB) */
EXPORT int mprotect(void *addr, size_t len, int prot)
{
  GET_REAL(fn, mprotect, -1);
  if (UNLIKELY(!(prot & PROT_WRITE)))
    probe_guard_range(addr, len);
  uint32_t want = probe_want(WARD_GROUP_MEM);
  if (LIKELY(!want))
    return fn(addr, len, prot);
  uint64_t t0 = probe_now();
  int r = fn(addr, len, prot);
  if ((prot & WX) != WX)
    want &= ~(1u << WARD_GROUP_MEM);
  if (want) {
    struct probe_ev e = {.in = {.type = WARD_EV_MPROTECT_WX, .call = WARD_CALL_mprotect, .a_flags = (uint32_t) prot,
                                .a_mode = len > UINT32_MAX ? UINT32_MAX : (uint32_t) len,
                                .arg = (int64_t) (intptr_t) addr},
                         .fp = __builtin_frame_address(0)};
    probe_finish(&e, WARD_GROUP_MEM, want, t0, r);
  }
  return r;
}

/* memfd: path = the name given (verbatim), flags */
EXPORT int memfd_create(const char *name, unsigned flags)
{
  GET_REAL(fn, memfd_create, -1);
  uint32_t want = probe_want(WARD_GROUP_MEM);
  if (LIKELY(!want))
    return fn(name, flags);
  uint64_t t0 = probe_now();
  int r = fn(name, flags);
  struct probe_ev e = {.in = {.type = WARD_EV_MEMFD, .call = WARD_CALL_memfd_create, .a_flags = flags},
                       .p1 = name, .dirfd1 = PROBE_VERBATIM, .fp = __builtin_frame_address(0)};
  probe_finish(&e, WARD_GROUP_MEM, want, t0, r);
  return r;
}

EXPORT int munmap(void *addr, size_t len)
{
  GET_REAL(fn, munmap, -1);
  probe_guard_range(addr, len);
  return fn(addr, len);
}

EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
  va_list ap;
  va_start(ap, flags);
  void *new_addr = va_arg(ap, void *);
  va_end(ap);
  GET_REAL(fn, mremap, MAP_FAILED);
  probe_guard_range(old, old_len);
  if (flags & MREMAP_FIXED)
    probe_guard_range(new_addr, new_len);
  return fn(old, old_len, new_len, flags, new_addr);
}
