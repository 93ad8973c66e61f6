/* Supervisor side: answer notifications, one at a time, without blocking,
 * so one thread can serve many containers' listeners from one poll set. */
#include "supervisor/supervisor.h"
#include "supervisor/decode.h"
#include "supervisor/table.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/net.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* host tid -> (tgid, namespace ids), so a burst of calls from one thread
 * does not open /proc/TID/status each time. Entries live 100 ms: pids are
 * allocated cyclically, so reusing a tid needs a full wrap of pid_max
 * (>= 32768) allocations, which no fork rate reaches in 100 ms. With a
 * smaller pid_max the cache is off. */
#define SV_IDCACHE 256
#define SV_IDCACHE_TTL_NS 100000000ull
struct sv_ids { pid_t tid, tgid; uint32_t ns_tid, ns_tgid; uint64_t ts; };

struct ward_supervisor {
  int listener;
  bool idcache_on;
  struct sv_ids idcache[SV_IDCACHE];
  int proc_fd;
  struct ward_supervisor_options opts;
  struct seccomp_notif *req;
  struct seccomp_notif_resp *resp;
  size_t req_size, resp_size;
  uint64_t seq;
  struct ward_supervisor_stats stats;
  char name_buf[SV_NAME_MAX];
  /* One event reused for every notification: the loop allocates nothing,
   * so a flood costs time, never memory. */
  struct ward_event ev;
};

int ward_supervisor_new(int listener, const struct ward_supervisor_options *opts,
                        struct ward_supervisor **out, ward_error_t *err)
{
  _cleanup_close_ int lfd = listener;
  /* The kernel's structs grow; ask it how big they are now. */
  struct seccomp_notif_sizes sizes;
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
    return ward_error_sys(err, "supervisor: SECCOMP_GET_NOTIF_SIZES");
  _cleanup_free_ struct ward_supervisor *sv = calloc(1, sizeof(*sv));
  if (!sv)
    return ward_error(err, ENOMEM, "supervisor");
  sv->req_size = sizes.seccomp_notif > sizeof(struct seccomp_notif) ? sizes.seccomp_notif : sizeof(struct seccomp_notif);
  sv->resp_size = sizes.seccomp_notif_resp > sizeof(struct seccomp_notif_resp)
    ? sizes.seccomp_notif_resp : sizeof(struct seccomp_notif_resp);
  _cleanup_free_ struct seccomp_notif *req = calloc(1, sv->req_size);
  _cleanup_free_ struct seccomp_notif_resp *resp = calloc(1, sv->resp_size);
  if (!req || !resp)
    return ward_error(err, ENOMEM, "supervisor");
  sv->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (sv->proc_fd < 0)
    return ward_error_sys(err, "supervisor: /proc");
  if (opts)
    sv->opts = *opts;
  char *pm = NULL;
  size_t pmlen;
  if (ward_read_file("/proc/sys/kernel/pid_max", 64, &pm, &pmlen, NULL) == 0)
    sv->idcache_on = strtol(pm, NULL, 10) >= 32768;
  free(pm);
  sv->req = steal_pointer(&req);
  sv->resp = steal_pointer(&resp);
  sv->listener = steal_fd(&lfd);
  *out = steal_pointer(&sv);
  return 0;
}

int ward_supervisor_attach(struct ward_supervisor *sv, int listener, ward_error_t *err)
{
  if (listener < 0 || sv->listener >= 0) {
    if (listener >= 0)
      close(listener);
    return ward_error(err, EINVAL, "supervisor: %s", listener < 0 ? "no listener" : "a listener is attached already");
  }
  sv->listener = listener;
  return 0;
}

void ward_supervisor_seed_ids(struct ward_supervisor *sv, pid_t host_pid, pid_t ns_pid)
{
  if (sv->idcache_on && host_pid > 0 && ns_pid > 0 && sv->opts.pidns_depth == 0)
    sv->idcache[(unsigned)host_pid % SV_IDCACHE] =
      (struct sv_ids){ host_pid, host_pid, (uint32_t)ns_pid, (uint32_t)ns_pid, ward_now_ns() };
}

void ward_supervisor_free(struct ward_supervisor *sv)
{
  if (!sv)
    return;
  /* Closing the last reference to the listener makes every pending and
   * future notified call of the target fail with ENOSYS. */
  if (sv->listener >= 0)
    close(sv->listener);
  if (sv->proc_fd >= 0)
    close(sv->proc_fd);
  free(sv->req);
  free(sv->resp);
  free(sv);
}

int ward_supervisor_fd(const struct ward_supervisor *sv) { return sv->listener; }

const struct ward_supervisor_stats *ward_supervisor_stats(const struct ward_supervisor *sv) { return &sv->stats; }

const char *ward_supervisor_syscall_name(int nr)
{
  int native;
  const struct sv_syscall *s = sv_lookup(seccomp_arch_native(), nr, &native, NULL);
  return s ? s->name : NULL;
}

static unsigned abi_word(uint32_t arch, int nr)
{
  if (arch == AUDIT_ARCH_I386 || arch == AUDIT_ARCH_ARM)
    return 4;
#if defined(__x86_64__)
  if (arch == AUDIT_ARCH_X86_64 && (nr & 0x40000000))  /* x32 */
    return 4;
#else
  (void)nr;
#endif
  return 8;
}

static uint64_t arg_in_abi(uint64_t v, unsigned word) { return word == 4 ? (uint32_t)v : v; }

/* i386 socketcall(call, ulong args[]): fetch the real arguments so connect
 * and bind through the multiplexer decode like the direct calls. */
static const struct sv_syscall *unwrap_socketcall(pid_t tid, uint64_t *args, int *native_nr, bool *fault)
{
  uint32_t call = (uint32_t)args[0];
  const char *name = call == SYS_CONNECT ? "connect" : call == SYS_BIND ? "bind" : NULL;
  if (!name)
    return NULL;
  uint32_t a[3];
  if (sv_read_mem(tid, (uint32_t)args[1], a, sizeof(a)) != sizeof(a)) {
    *fault = true;
    return NULL;
  }
  for (int i = 0; i < 3; i++)
    args[i] = a[i];
  args[3] = args[4] = args[5] = 0;
  *native_nr = seccomp_syscall_resolve_name(name);
  return sv_find(name);
}

/* buf = dir + "/" + buf (buf holds rel_len bytes), cut at cap. */
static void join_path(char *buf, size_t cap, const char *dir, size_t rel_len)
{
  size_t dl = strnlen(dir, cap - 1);
  if (dl + 1 >= cap)
    rel_len = 0;
  else if (dl + 1 + rel_len >= cap)
    rel_len = cap - dl - 2;
  memmove(buf + dl + 1, buf, rel_len);
  memcpy(buf, dir, dl);
  buf[dl] = '/';
  buf[dl + 1 + rel_len] = '\0';
}

static void decode(struct ward_supervisor *sv, const struct sv_syscall *s, pid_t tid,
                   const uint64_t *args, unsigned word, bool *fault)
{
  struct ward_event *ev = &sv->ev;
  if (s->arg_idx >= 0)
    ev->arg = (int64_t)args[(int)s->arg_idx];
  if (s->flags_idx >= 0)
    ev->flags = (uint32_t)args[(int)s->flags_idx];
  bool trunc = false;
  switch (s->decode) {
  case SV_DEC_EXECVE:
  case SV_DEC_EXECVEAT: {
    int p = s->decode == SV_DEC_EXECVE ? 0 : 1;
    int argv_idx = p + 1;
    ssize_t n = sv_read_string(tid, args[p], ev->path, sizeof(ev->path), &trunc);
    if (n < 0)
      *fault = true;
    if (s->decode == SV_DEC_EXECVEAT && n >= 0 && ev->path[0] != '/') {
      /* fexecve and friends: what the fd points at is the interesting
       * part (a memfd or a deleted file shows as such). */
      int dirfd = (int)(int32_t)args[0];
      char link[WARD_EVENT_STR_MAX];
      if (sv_fd_path(sv->proc_fd, tid, dirfd, link, sizeof(link)) >= 0) {
        if (n == 0)
          memcpy(ev->path, link, strlen(link) + 1);
        else
          join_path(ev->path, sizeof(ev->path), link, (size_t)n);
      }
    }
    if (!sv->opts.no_argv && sv_read_argv(tid, args[argv_idx], word, 32, ev->path2, sizeof(ev->path2)) < 0 &&
        args[argv_idx])
      *fault = true;
    return;
  }
  case SV_DEC_SOCKADDR:
    if (sv_read_sockaddr(tid, args[1], args[2], ev) < 0 && args[1])
      *fault = true;
    return;
  case SV_DEC_RAW:
  case SV_DEC_SOCKETCALL:
    break;
  }
  if (s->path_arg >= 0 && args[(int)s->path_arg] &&
      sv_read_string(tid, args[(int)s->path_arg], ev->path, sizeof(ev->path), &trunc) < 0)
    *fault = true;
  if (s->path2_arg >= 0 && args[(int)s->path2_arg] &&
      sv_read_string(tid, args[(int)s->path2_arg], ev->path2, sizeof(ev->path2), &trunc) < 0)
    *fault = true;
  if (s->fd_path_arg >= 0 && !ev->path[0])
    sv_fd_path(sv->proc_fd, tid, (int)(int32_t)args[(int)s->fd_path_arg], ev->path, sizeof(ev->path));
  if (strcmp(s->name, "mount") == 0 && args[2]) {
    /* path2 = "fstype source": the type says more than the source */
    char fstype[64], src[WARD_EVENT_STR_MAX - 80];
    if (sv_read_string(tid, args[2], fstype, sizeof(fstype), NULL) >= 0) {
      memcpy(src, ev->path2, sizeof(src) - 1);
      src[sizeof(src) - 1] = '\0';
      snprintf(ev->path2, sizeof(ev->path2), "%s %s", fstype, src);
    }
  }
}

static int respond(struct ward_supervisor *sv, uint64_t id, const struct ward_supervisor_verdict *v)
{
  memset(sv->resp, 0, sv->resp_size);
  sv->resp->id = id;
  if (v->action == WARD_SV_CONTINUE) {
    sv->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  } else {
    sv->resp->error = -(v->error > 0 ? v->error : EPERM);
  }
  if (ioctl(sv->listener, SECCOMP_IOCTL_NOTIF_SEND, sv->resp) == 0)
    return 0;
  return -errno;
}

/* SIGKILL through a pidfd, re-checking the notification afterwards so the
 * signal cannot hit a process that reused the tgid. */
static void kill_target(struct ward_supervisor *sv, uint64_t id, pid_t tgid)
{
  _cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, tgid, 0);
  if (pfd < 0)
    return;
  if (ioctl(sv->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0)
    return;
  syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
}

/* revents: what the caller's poll said about the listener, or -1 to poll
 * here. */
static int handle(struct ward_supervisor *sv, int revents, ward_error_t *err)
{
  /* Never block: RECV sleeps when nothing is pending, and a caller driven
   * by a shared poll set may call us after another consumer (or a dying
   * target) took the notification away. */
  if (revents < 0) {
    struct pollfd pfd = { .fd = sv->listener, .events = POLLIN };
    if (poll(&pfd, 1, 0) < 0)
      return errno == EINTR ? WARD_SUPERVISOR_IDLE : ward_error_sys(err, "supervisor: poll");
    revents = pfd.revents;
  }
  if (revents & POLLNVAL)
    return ward_error(err, EBADF, "supervisor: listener fd is not open");
  if (!(revents & POLLIN))
    return (revents & POLLHUP) ? WARD_SUPERVISOR_HANGUP : WARD_SUPERVISOR_IDLE;

  struct seccomp_notif *req = sv->req;
  memset(req, 0, sv->req_size);  /* the kernel refuses a dirty buffer */
  if (ioctl(sv->listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
    /* ENOENT: the target was killed between poll and here. */
    if (errno == ENOENT || errno == EINTR || errno == EAGAIN)
      return WARD_SUPERVISOR_IDLE;
    return ward_error_sys(err, "supervisor: SECCOMP_IOCTL_NOTIF_RECV");
  }
  sv->stats.notifications++;

  struct ward_event *ev = &sv->ev;
  memset(ev, 0, sizeof(*ev));
  ev->source = WARD_SRC_SUPERVISOR;
  ev->ts_ns = ward_now_ns();
  ev->seq = ++sv->seq;

  uint32_t arch = req->data.arch;
  int nr = req->data.nr;
  unsigned word = abi_word(arch, nr);
  uint64_t args[6];
  for (int i = 0; i < 6; i++)
    args[i] = arg_in_abi(req->data.args[i], word);
  pid_t tid = (pid_t)req->pid;
  pid_t tgid = tid;
  bool fault = false;
  bool read_target = false;  /* anything read from the target needs ID_VALID */

  int native_nr = -1;
  const struct sv_syscall *s = sv_lookup(arch, nr, &native_nr, sv->name_buf);
  if (s && s->decode == SV_DEC_SOCKETCALL) {
    read_target = true;
    const struct sv_syscall *inner = unwrap_socketcall(tid, args, &native_nr, &fault);
    if (inner)
      s = inner;
  }
  const char *name = s ? s->name : sv->name_buf[0] ? sv->name_buf : NULL;
  if (!s)
    sv->stats.unknown++;  /* watched through config but not in the table: reported raw */
  ev->type = s ? s->type : WARD_EV_SYSCALL;
  ev->syscall_nr = native_nr >= 0 ? native_nr : nr;
  memcpy(ev->args, args, sizeof(ev->args));

  /* One /proc read gives the tgid (needed to kill, and for ev.pid) and the
   * namespace view of both ids. Reading it before NOTIF_ID_VALID is fine:
   * the check below proves the tid was not reused meanwhile. */
  uint32_t ns_tid = (uint32_t)tid, ns_tgid = (uint32_t)tid;
  bool ids_fresh = false;
  struct sv_ids *cached = &sv->idcache[(unsigned)tid % SV_IDCACHE];
  if (sv->idcache_on && cached->tid == tid && ev->ts_ns - cached->ts < SV_IDCACHE_TTL_NS) {
    tgid = cached->tgid;
    ns_tid = cached->ns_tid;
    ns_tgid = cached->ns_tgid;
  } else {
    pid_t host_tgid;
    int depth = sv->opts.pidns_depth;
    read_target = true;
    if (sv_task_ids(sv->proc_fd, tid, depth < 0 ? 0 : depth, &host_tgid, &ns_tid, &ns_tgid) == 0) {
      tgid = host_tgid;
      ids_fresh = true;
      if (depth < 0) {
        ns_tid = (uint32_t)tid;
        ns_tgid = (uint32_t)host_tgid;
      }
    }
  }
  ev->pid = ns_tgid;
  ev->tid = ns_tid;
  if (s) {
    decode(sv, s, tid, args, word, &fault);
    read_target |= s->decode != SV_DEC_RAW || s->path_arg >= 0 || s->path2_arg >= 0 || s->fd_path_arg >= 0;
  }
  if (fault)
    sv->stats.mem_faults++;

  /* Everything above was read while the target waited; if it is no longer
   * the same notification (killed, pid reused), none of it can be trusted
   * and nothing will run anyway. */
  if (read_target && ioctl(sv->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) {
    sv->stats.gone++;
    return WARD_SUPERVISOR_IDLE;
  }
  if (ids_fresh && sv->idcache_on)
    *cached = (struct sv_ids){ tid, tgid, ns_tid, ns_tgid, ev->ts_ns };

  struct ward_supervisor_verdict v = { .action = WARD_SV_CONTINUE, .error = 0 };
  if (sv->opts.decide) {
    struct ward_supervisor_call call = {
      .ev = ev, .name = name, .arch = arch, .nr = nr, .host_pid = tgid, .host_tid = tid,
      .from_memory = s && (s->decode != SV_DEC_RAW || s->path_arg >= 0 || s->path2_arg >= 0),
      .mem_fault = fault,
    };
    sv->opts.decide(sv->opts.opaque, &call, &v);
  }
  if (v.action == WARD_SV_KILL)
    kill_target(sv, req->id, tgid);

  int r = respond(sv, req->id, &v);
  if (r == -ENOENT) {
    sv->stats.gone++;  /* killed or interrupted while we decided */
  } else if (r < 0) {
    return ward_error(err, -r, "supervisor: SECCOMP_IOCTL_NOTIF_SEND");
  }
  switch (v.action) {
  case WARD_SV_CONTINUE: sv->stats.continued++; break;
  case WARD_SV_DENY: sv->stats.denied++; break;
  case WARD_SV_KILL: sv->stats.killed++; break;
  }
  if (v.action != WARD_SV_CONTINUE) {
    ev->denied = true;
    ev->ret = -(v.error > 0 ? v.error : EPERM);
  }
  /* The sink runs after the target resumed: recording is off its path. */
  if (sv->opts.sink)
    sv->opts.sink(sv->opts.opaque, ev);
  return WARD_SUPERVISOR_HANDLED;
}

int ward_supervisor_handle_one(struct ward_supervisor *sv, ward_error_t *err)
{
  if (sv->listener < 0)
    return ward_error(err, EBADF, "supervisor: no listener attached");
  return handle(sv, -1, err);
}

int ward_supervisor_run(struct ward_supervisor *sv, int stop_fd, ward_error_t *err)
{
  /* (poll skips a negative fd: without a listener this would wait forever) */
  if (sv->listener < 0)
    return ward_error(err, EBADF, "supervisor: no listener attached");
  for (;;) {
    struct pollfd pfd[2] = {
      { .fd = sv->listener, .events = POLLIN },
      { .fd = stop_fd, .events = POLLIN },
    };
    int n = poll(pfd, stop_fd >= 0 ? 2 : 1, -1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return ward_error_sys(err, "supervisor: poll");
    }
    bool stop = stop_fd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR));
    if (pfd[0].revents & (POLLIN | POLLHUP | POLLNVAL)) {
      int r = handle(sv, pfd[0].revents, err);
      if (r < 0)
        return r;
      if (r == WARD_SUPERVISOR_HANGUP)
        return 0;
    }
    if (stop) {
      /* Answer what is already queued so nothing is left hanging. */
      int r;
      while ((r = ward_supervisor_handle_one(sv, err)) == WARD_SUPERVISOR_HANDLED)
        ;
      return r < 0 ? r : 0;
    }
  }
}
