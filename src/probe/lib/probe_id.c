/* identity group (the setuid family, setgroups, capset, prctl, ptrace) and
 * dl group (dlopen, entered through probe_vfork.S so glibc still sees the
 * real caller). */
#include "probe/lib/probe.h"

#include <dlfcn.h>
#include <grp.h>
#include <stdarg.h>
#include <unistd.h>

/* setid: arg, mode, flags = the first, second and third id argument, in
 * the order the call takes them (unused ones 0) */
#define SETID(cl, invoke, a, b, c) do { \
    uint32_t want = probe_want(WARD_GROUP_IDENTITY); \
    if (LIKELY(!want)) return invoke; \
    uint64_t t0 = probe_now(); \
    int ret_ = invoke; \
    struct probe_ev ev_ = {.in = {.type = WARD_EV_SETID, .call = cl, .arg = (int64_t) (uint32_t) (a), \
                                  .a_mode = (uint32_t) (b), .a_flags = (uint32_t) (c)}, \
                           .fp = __builtin_frame_address(0)}; \
    probe_finish(&ev_, WARD_GROUP_IDENTITY, want, t0, ret_); \
    return ret_; } while (0)

EXPORT int setuid(uid_t u) { GET_REAL(fn, setuid, -1); SETID(WARD_CALL_setuid, fn(u), u, 0, 0); }
EXPORT int setgid(gid_t g) { GET_REAL(fn, setgid, -1); SETID(WARD_CALL_setgid, fn(g), g, 0, 0); }
EXPORT int seteuid(uid_t u) { GET_REAL(fn, seteuid, -1); SETID(WARD_CALL_seteuid, fn(u), u, 0, 0); }
EXPORT int setegid(gid_t g) { GET_REAL(fn, setegid, -1); SETID(WARD_CALL_setegid, fn(g), g, 0, 0); }
EXPORT int setreuid(uid_t r, uid_t e) { GET_REAL(fn, setreuid, -1); SETID(WARD_CALL_setreuid, fn(r, e), r, e, 0); }
EXPORT int setregid(gid_t r, gid_t e) { GET_REAL(fn, setregid, -1); SETID(WARD_CALL_setregid, fn(r, e), r, e, 0); }
EXPORT int setresuid(uid_t r, uid_t e, uid_t s)
{
  GET_REAL(fn, setresuid, -1);
  SETID(WARD_CALL_setresuid, fn(r, e, s), r, e, s);
}
EXPORT int setresgid(gid_t r, gid_t e, gid_t s)
{
  GET_REAL(fn, setresgid, -1);
  SETID(WARD_CALL_setresgid, fn(r, e, s), r, e, s);
}

/* setgroups: arg = count, mode = the first group */
EXPORT int setgroups(size_t n, const gid_t *list)
{
  GET_REAL(fn, setgroups, -1);
  uint32_t want = probe_want(WARD_GROUP_IDENTITY);
  if (LIKELY(!want))
    return fn(n, list);
  uint64_t t0 = probe_now();
  int r = fn(n, list);
  struct probe_ev e = {.in = {.type = WARD_EV_SETID, .call = WARD_CALL_setgroups, .arg = (int64_t) n,
                              .a_mode = r == 0 && n && list ? (uint32_t) list[0] : 0},
                       .fp = __builtin_frame_address(0)};
  probe_finish(&e, WARD_GROUP_IDENTITY, want, t0, r);
  return r;
}

/* capset: flags = effective, mode = permitted, arg = inheritable (the low
 * 32 capabilities). Own structs: the musl build has no linux/ headers. */
struct probe_cap_hdr { uint32_t version; int pid; };
struct probe_cap_data { uint32_t effective, permitted, inheritable; };
int capset(struct probe_cap_hdr *hdr, const struct probe_cap_data *data);

EXPORT int capset(struct probe_cap_hdr *hdr, const struct probe_cap_data *data)
{
  GET_REAL(fn, capset, -1);
  uint32_t want = probe_want(WARD_GROUP_IDENTITY);
  if (LIKELY(!want))
    return fn(hdr, data);
  uint64_t t0 = probe_now();
  int r = fn(hdr, data);
  struct probe_ev e = {.in = {.type = WARD_EV_CAPSET, .call = WARD_CALL_capset}, .fp = __builtin_frame_address(0)};
  if (r == 0 && data) {
    e.in.a_flags = data->effective;
    e.in.a_mode = data->permitted;
    e.in.arg = data->inheritable;
  }
  probe_finish(&e, WARD_GROUP_IDENTITY, want, t0, r);
  return r;
}

/* prctl: flags = option, arg = the second argument */
EXPORT int prctl(int option, ...)
{
  va_list ap;
  va_start(ap, option);
  unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long);
  unsigned long a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
  va_end(ap);
  GET_REAL(fn, prctl, -1);
  uint32_t want = probe_want(WARD_GROUP_IDENTITY);
  if (LIKELY(!want))
    return fn(option, a2, a3, a4, a5);
  uint64_t t0 = probe_now();
  int r = fn(option, a2, a3, a4, a5);
  struct probe_ev e = {.in = {.type = WARD_EV_PRCTL, .call = WARD_CALL_prctl, .a_flags = (uint32_t) option,
                              .arg = (int64_t) a2},
                       .fp = __builtin_frame_address(0)};
  probe_finish(&e, WARD_GROUP_IDENTITY, want, t0, r);
  return r;
}

/* ptrace: flags = request, arg = target pid. PEEK requests return data, so
 * ret is only meaningful as an error for them. */
long ptrace(int request, ...);
EXPORT long ptrace(int request, ...)
{
  va_list ap;
  va_start(ap, request);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *), *data = va_arg(ap, void *);
  va_end(ap);
  GET_REAL(fn, ptrace, -1);
  uint32_t want = probe_want(WARD_GROUP_IDENTITY);
  if (LIKELY(!want))
    return fn(request, pid, addr, data);
  uint64_t t0 = probe_now();
  errno = 0;
  long r = fn(request, pid, addr, data);
  struct probe_ev e = {.in = {.type = WARD_EV_PTRACE, .call = WARD_CALL_ptrace, .a_flags = (uint32_t) request,
                              .arg = pid},
                       .fp = __builtin_frame_address(0)};
  probe_finish(&e, WARD_GROUP_IDENTITY, want, t0, r == -1 && errno ? -1 : (r == -1 ? 0 : r));
  return r;
}

/* dlopen: recorded before loading (ret 0: attempted), path = the name as
 * given (the loader searches for it), flags = mode. */
static void *dlopen_failed(const char *file, int mode)
{
  (void) file;
  (void) mode;
  return NULL;
}

HIDDEN void *probe_dlopen_pre(const char *file, int mode)
{
  int saved = errno;
  uint32_t want = probe_want(WARD_GROUP_DL) & (1u << WARD_GROUP_DL);
  if (UNLIKELY(want) && file) {
    struct probe_ev e = {.in = {.type = WARD_EV_DLOPEN, .call = WARD_CALL_dlopen, .a_flags = (uint32_t) mode},
                         .p1 = file, .dirfd1 = PROBE_VERBATIM};
    probe_emit_now(&e, WARD_GROUP_DL, want, 0);
  }
  errno = saved;
  void *p = probe_real(WARD_CALL_dlopen);
  return p ? p : (void *) dlopen_failed;
}
