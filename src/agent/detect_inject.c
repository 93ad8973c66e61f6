/* Injected-code rules: signs that code which was not in the image runs in
 * the container. They need no model and are on by default. Exec events are
 * rare, so an exec may cost a stat through the container's root; every
 * other event is a few comparisons. docs/detection.md lists what each rule
 * sees and misses. */
#include "agent/detect_internal.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <unistd.h>

#define WX (0x2 | 0x4)   /* PROT_WRITE | PROT_EXEC */

static bool has_prefix(const char *s, const char *p)
{
  return strncmp(s, p, strlen(p)) == 0;
}

static const char *base_name(const char *path, size_t *len)
{
  const char *end = path + strcspn(path, " ");
  const char *b = end;
  while (b > path && b[-1] != '/')
    b--;
  *len = (size_t) (end - b);
  return b;
}

static bool shell_name(const char *b, size_t len)
{
  static const char *const shells[] = {"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish",
                                       "rbash", "yash", "busybox-sh"};
  for (size_t i = 0; i < ARRAY_SIZE(shells); i++)
    if (strlen(shells[i]) == len && memcmp(shells[i], b, len) == 0)
      return true;
  return false;
}

/* path: the executed file; argv: "argv0 argv1 ..." (busybox picks the
 * applet from argv[0], or from argv[1] when run as busybox) */
static bool is_shell(const char *path, const char *argv)
{
  size_t len;
  const char *b = base_name(path, &len);
  if (shell_name(b, len))
    return true;
  if (len == 7 && memcmp(b, "busybox", 7) == 0 && argv[0]) {
    const char *a0 = base_name(argv, &len);
    if (shell_name(a0, len))
      return true;
    const char *sp = strchr(argv, ' ');
    if (sp) {
      const char *a1 = base_name(sp + 1, &len);
      return shell_name(a1, len);
    }
  }
  return false;
}

static bool fd_path(const char *p)
{
  if (has_prefix(p, "/dev/fd/") || has_prefix(p, "/proc/self/fd/") || has_prefix(p, "/proc/thread-self/fd/"))
    return true;
  if (!has_prefix(p, "/proc/"))
    return false;
  p += 6;
  if (*p < '0' || *p > '9')
    return false;
  while (*p >= '0' && *p <= '9')
    p++;
  return has_prefix(p, "/fd/") || has_prefix(p, "/task/");
}

static bool preload_path(const char *p)
{
  return strcmp(p, "/etc/ld.so.preload") == 0 || has_prefix(p, WARD_PROBE_DIR "/");
}

static int open_in_root(int root_fd, const char *path, int flags)
{
  return ward_open_in_root(root_fd, path, flags, RESOLVE_NO_MAGICLINKS);
}

static bool after(const struct timespec *a, const struct timespec *b)
{
  return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* ppid of a container process through the container's own /proc; 0 when
 * unknown (exited already, no /proc in the container) */
static uint32_t parent_of(int root_fd, uint32_t pid)
{
  char path[48];
  snprintf(path, sizeof(path), "/proc/%u/stat", pid);
  _cleanup_close_ int fd = open_in_root(root_fd, path, O_RDONLY);
  if (fd < 0)
    return 0;
  char buf[512];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  if (n <= 0)
    return 0;
  buf[n] = 0;
  char *rp = strrchr(buf, ')');
  unsigned ppid = 0;
  if (rp == NULL || sscanf(rp + 1, " %*c %u", &ppid) != 1)
    return 0;
  return ppid;
}

/* True when this exec alert repeats the last one of the process within a
 * second (the same exec seen by the probe and by the supervisor). */
static bool repeated(struct proc *p, enum ward_detect_rule rule, const char *path, uint64_t ts)
{
  uint64_t h = ward_fnv1a(path, strlen(path), WARD_FNV1A_BASIS ^ (uint64_t) rule) | 1;
  bool rep = p->exec_alert_key == h && (ts > p->exec_alert_ts ? ts - p->exec_alert_ts : p->exec_alert_ts - ts) < 1000000000ull;
  p->exec_alert_key = h;
  p->exec_alert_ts = ts;
  return rep;
}

/* The slot of path in the cache of unmodified executables, or NULL when
 * the path is too long to be kept (or there is no memory for the cache). */
static struct exec_clean *exec_clean_slot(struct ward_detector *d, const char *path, size_t len)
{
  if (len >= EXEC_CLEAN_PATH)
    return NULL;
  if (d->exec_clean == NULL && (d->exec_clean = calloc(EXEC_CLEAN_SLOTS, sizeof(*d->exec_clean))) == NULL)
    return NULL;
  uint64_t h = ward_fnv1a(path, len, WARD_FNV1A_BASIS);
  return &d->exec_clean[(h ^ (h >> 32)) & (EXEC_CLEAN_SLOTS - 1)];
}

/* A write-open of path, or a call that can change what any path names
 * (rename, link, unlink, chmod, ...; path NULL), drops the kept verdicts. */
static void exec_clean_forget(struct ward_detector *d, const char *path)
{
  if (d->exec_clean == NULL)
    return;
  if (path == NULL || path[0] != '/') {
    memset(d->exec_clean, 0, EXEC_CLEAN_SLOTS * sizeof(*d->exec_clean));
    return;
  }
  size_t len = strlen(path);
  struct exec_clean *c = exec_clean_slot(d, path, len);
  if (c && c->len == len && memcmp(c->path, path, len) == 0)
    c->until = 0;
}

/* True when path was found unmodified less than EXEC_CLEAN_NS ago: within
 * that window the check is not repeated (the check runs when the engine
 * consumes the exec, so it always saw the file somewhat after the exec;
 * this widens that by at most the window). */
static bool exec_clean_fresh(const struct exec_clean *c, const char *path, size_t len, uint64_t now)
{
  return c && c->until > now && c->len == len && memcmp(c->path, path, len) == 0;
}

static void check_exec(struct ward_detector *d, const struct ward_event *ev, struct proc *p, ward_detect_fn fn,
                       void *opaque, const char *path, const char *argv)
{
  enum ward_detect_rule rule = WARD_RULE_COUNT;
  const char *why = NULL;
  if (has_prefix(path, "/memfd:"))
    rule = WARD_RULE_EXEC_MEMFD, why = "exec of memfd";
  else if (fd_path(path))
    rule = WARD_RULE_EXEC_MEMFD, why = (p->flags & PROC_MEMFD) ? "exec through the file descriptor path (by a process that created a memfd)"
                                                               : "exec through the file descriptor path";
  else if (strlen(path) > 10 && strcmp(path + strlen(path) - 10, " (deleted)") == 0)
    rule = WARD_RULE_EXEC_DELETED, why = "exec of a deleted file";
  if (rule != WARD_RULE_COUNT && !repeated(p, rule, path, ev->ts_ns))
    detect_emit(d, ev, fn, opaque, rule, rule == WARD_RULE_EXEC_MEMFD ? WARD_SEV_CRITICAL : WARD_SEV_HIGH, 1, "%s %s",
                why, path);
  if (rule == WARD_RULE_COUNT && path[0] == '/' && d->cfg.root_fd >= 0 && d->cfg.started.tv_sec > 0 &&
      d->enabled[WARD_RULE_EXEC_MODIFIED]) {
    size_t len = strlen(path);
    uint64_t now = ward_now_ns();
    struct exec_clean *cached = exec_clean_slot(d, path, len);
    if (!exec_clean_fresh(cached, path, len, now)) {
      _cleanup_close_ int fd = open_in_root(d->cfg.root_fd, path, O_PATH);
      struct stat st;
      bool regular = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
      bool modified = regular && (after(&st.st_mtim, &d->cfg.started) || after(&st.st_ctim, &d->cfg.started));
      if (modified && !repeated(p, WARD_RULE_EXEC_MODIFIED, path, ev->ts_ns))
        detect_emit(d, ev, fn, opaque, WARD_RULE_EXEC_MODIFIED, WARD_SEV_HIGH, 1,
                    "exec of %s, %s after the container started", path,
                    after(&st.st_mtim, &d->cfg.started) ? "written" : "changed (mode, owner or link)");
      /* only "there, regular and unmodified" is kept: a modified file
       * alerts on every exec (subject to repeated()), and a missing one
       * may be written next */
      if (cached && regular && !modified) {
        cached->until = now + EXEC_CLEAN_NS;
        cached->len = (uint32_t) len;
        memcpy(cached->path, path, len);
      }
    }
  }
  if (argv && strstr(argv, "LD_PRELOAD="))
    detect_emit(d, ev, fn, opaque, WARD_RULE_PRELOAD_CHANGE, WARD_SEV_HIGH, 1, "exec with LD_PRELOAD in its arguments: %.180s",
                argv);
  if (!d->enabled[WARD_RULE_SERVER_SHELL] || !is_shell(path, argv ? argv : ""))
    return;
  p->flags |= PROC_SHELL_SEEN;
  uint32_t server = (p->flags & PROC_SERVER) ? p->pid : 0;
  if (!server && !(p->flags & PROC_SHELL_ALERTED) && d->cfg.root_fd >= 0) {
    /* a child we did not see forked (raw clone, events dropped): ask /proc */
    uint32_t ppid = parent_of(d->cfg.root_fd, p->pid);
    struct proc *pp = ppid ? detect_proc(d, ppid, false) : NULL;
    if (pp && (pp->flags & PROC_SERVER) && !(pp->flags & PROC_SHELL_ALERTED))
      server = ppid;
  }
  if (server && !(p->flags & PROC_SHELL_ALERTED)) {
    p->flags |= PROC_SHELL_ALERTED;
    detect_emit(d, ev, fn, opaque, WARD_RULE_SERVER_SHELL, WARD_SEV_CRITICAL, 1,
                "shell %s started by server process %u: %.160s", path, server, argv ? argv : "");
  }
}

/* The fork record is written by the parent after fork returns, with the
 * time the call started; the child may have recorded events before it
 * (ring order is claim order). An entry for the child's pid whose first
 * event is older than the fork is a process that died: start afresh. */
static void fork_child(struct ward_detector *d, const struct ward_event *ev, struct proc *parent, uint32_t child,
                       uint64_t ts, ward_detect_fn fn, void *opaque)
{
  uint32_t inherit = parent->flags & (PROC_SERVER | PROC_SHELL_ALERTED);
  uint32_t serial = d->next_serial;
  struct proc *c = detect_proc(d, child, true);
  bool created = d->next_serial != serial;
  if (!created && c->first_ts < ts) {
    uint32_t keep = c->pid;
    float *wbuf = c->seq.wbuf;
    memset(c, 0, sizeof(*c));
    c->pid = keep;
    c->serial = ++d->next_serial;
    c->last = d->clock;
    ward_seq_ctx_init(&c->seq, wbuf);
  }
  if (c->first_ts == 0 || c->first_ts > ts)
    c->first_ts = ts;
  c->flags |= inherit;
  /* the child exec'd a shell before its parent's fork record arrived */
  if ((inherit & PROC_SERVER) && (c->flags & (PROC_SHELL_SEEN | PROC_SHELL_ALERTED)) == PROC_SHELL_SEEN) {
    c->flags |= PROC_SHELL_ALERTED;
    detect_emit(d, ev, fn, opaque, WARD_RULE_SERVER_SHELL, WARD_SEV_CRITICAL, 1,
                "shell started as process %u by server process %u", child, parent->pid);
  }
}

void detect_inject(struct ward_detector *d, const struct ward_event *ev, struct proc *p, ward_detect_fn fn,
                   void *opaque)
{
  switch (ev->type) {
  case WARD_EV_LISTEN:
    if (ev->ret == 0)
      p->flags |= PROC_SERVER;
    break;
  case WARD_EV_ACCEPT:
    if (ev->ret >= 0)
      p->flags |= PROC_SERVER;
    break;
  case WARD_EV_FORK:
    if (ev->ret > 0 && ev->ret != ev->pid)
      fork_child(d, ev, p, (uint32_t) ev->ret, ev->ts_ns, fn, opaque);
    break;
  case WARD_EV_CLONE:
    if (ev->ret > 0 && !(ev->flags & CLONE_THREAD) && ev->ret != ev->pid)
      fork_child(d, ev, p, (uint32_t) ev->ret, ev->ts_ns, fn, opaque);
    break;
  case WARD_EV_MEMFD:
    if (ev->ret >= 0)
      p->flags |= PROC_MEMFD;
    break;
  case WARD_EV_EXEC:
    if (ev->ret == 0)   /* the attempt; a failure is recorded again with -errno */
      check_exec(d, ev, p, fn, opaque, ev->path, ev->path2);
    break;
  case WARD_EV_SPAWN:
    check_exec(d, ev, p, fn, opaque, ev->path, ev->path2);
    break;
  case WARD_EV_SYSTEM:
    /* system() runs /bin/sh -c COMMAND */
    check_exec(d, ev, p, fn, opaque, "/bin/sh", ev->path);
    break;
  case WARD_EV_MMAP_WX:
  case WARD_EV_MPROTECT_WX:
    if ((ev->flags & WX) == WX)
      detect_emit(d, ev, fn, opaque, WARD_RULE_WX_MAPPING, WARD_SEV_HIGH, 1, "%s asking for a writable and executable mapping (prot 0x%x)%s",
                  ev->type == WARD_EV_MMAP_WX ? "mmap" : "mprotect", ev->flags, ev->ret < 0 ? ", failed" : "");
    break;
  case WARD_EV_OPEN: {
    bool writes = (ev->flags & O_ACCMODE) != O_RDONLY || (ev->flags & (O_CREAT | O_TRUNC));
    if (writes)
      exec_clean_forget(d, (ev->rec_flags & (WARD_EVENT_F_REL1 | WARD_EVENT_F_TRUNC1)) ? NULL : ev->path);
    if (writes && preload_path(ev->path))
      detect_emit(d, ev, fn, opaque, WARD_RULE_PRELOAD_CHANGE, WARD_SEV_CRITICAL, 1, "open of %s for writing%s", ev->path,
                  ev->ret < 0 ? " (failed)" : "");
    break;
  }
  case WARD_EV_RENAME: case WARD_EV_UNLINK: case WARD_EV_LINK: case WARD_EV_SYMLINK:
  case WARD_EV_CHMOD: case WARD_EV_CHOWN: case WARD_EV_TRUNCATE:
    exec_clean_forget(d, NULL);
    if (preload_path(ev->path) || preload_path(ev->path2))
      detect_emit(d, ev, fn, opaque, WARD_RULE_PRELOAD_CHANGE, WARD_SEV_CRITICAL, 1, "%s of %s%s%s%s",
                  ward_event_type_name(ev->type), ev->path, ev->path2[0] ? " -> " : "", ev->path2,
                  ev->ret < 0 ? " (failed)" : "");
    break;
  case WARD_EV_SYSCALL:   /* a watched raw call (mount, rename...) may change what paths name */
    exec_clean_forget(d, NULL);
    break;
  case WARD_EV_PTRACE: {
    long req = (long) ev->flags;
    if (req != PTRACE_TRACEME && ev->arg > 0 && (uint64_t) ev->arg != ev->pid)
      detect_emit(d, ev, fn, opaque, WARD_RULE_PTRACE, WARD_SEV_HIGH, 1, "ptrace request %ld on process %lld%s", req,
                  (long long) ev->arg, ev->ret < 0 ? " (failed)" : "");
    break;
  }
  default:
    break;
  }
}
