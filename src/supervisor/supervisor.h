/* Seccomp user-notification supervisor: a second seccomp filter, installed in
 * the container's init right before exec, that hands a small set of
 * security-relevant system calls (execve, connect, mount, ...) to a process
 * outside the container. It is how ward sees what static binaries and raw
 * system calls do, without privileges and without ptrace.
 *
 * Lifecycle (docs/supervisor.md has the full story):
 *   parent, before clone:  ward_supervisor_build()   compiles the BPF
 *   init, before exec:     ward_supervisor_install() (after no_new_privs,
 *                          before the runtime's main filter), then
 *                          ward_send_fd() of the listener to the parent
 *   parent / agent:        ward_supervisor_new() on the received listener,
 *                          ward_supervisor_handle_one() whenever poll() says
 *                          it is readable (or ward_supervisor_run()).
 *
 * Allow means SECCOMP_USER_NOTIF_FLAG_CONTINUE: observation, not a security
 * boundary for pointer arguments (the workload can change the memory after
 * the supervisor read it). Deny is safe: the call never runs. */
#ifndef WARD_SUPERVISOR_H
#define WARD_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "probe/event.h"

/* ---- filter side ---------------------------------------------------- */

struct ward_supervisor_config {
  /* NULL-terminated syscall names replacing the default watched set;
   * NULL: the default set (ward_supervisor_default_syscalls()). */
  const char *const *syscalls;
  /* Names added to / removed from the set above. */
  const char *const *add;
  const char *const *remove;
  /* Watch only the native ABI. By default the compat ABIs the kernel runs
   * (i386 and x32 on x86_64) are watched too, so `int $0x80` is no way
   * around the supervisor. */
  bool native_only;
};

struct ward_supervisor_prog;

/* Compiles the filter: every watched syscall returns SECCOMP_RET_USER_NOTIF,
 * everything else SECCOMP_RET_ALLOW (the runtime's main filter is what
 * restricts). Unknown names and hot syscalls (read, write, futex, ...) are
 * refused with an error naming them. Runs in the parent before clone. */
int ward_supervisor_build(const struct ward_supervisor_config *cfg,
                          struct ward_supervisor_prog **out, ward_error_t *err);
/* The same, through a cache of compiled programs in cache_dir (NULL: no
 * cache): libseccomp takes about a millisecond to build the filter cold, on
 * every supervised container's start-up path. A cached copy is used only
 * when it is ours (owner, mode), its key covers every input of the build
 * and its digest matches; else it is rebuilt and replaced. */
int ward_supervisor_build_cached(const struct ward_supervisor_config *cfg, const char *cache_dir,
                                 struct ward_supervisor_prog **out, ward_error_t *err);
void ward_supervisor_prog_free(struct ward_supervisor_prog *p);
/* Number of BPF instructions, for tests and `ward seccomp` style dumps. */
size_t ward_supervisor_prog_len(const struct ward_supervisor_prog *p);

/* Installs the filter in the calling thread and returns the listener
 * (close-on-exec) in *listener. Needs no_new_privs or CAP_SYS_ADMIN.
 * Allocates nothing on success, so it may run in the container's init after
 * clone; only a failure formats a message into *err. Uses
 * SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV when the kernel has it (5.19+). */
int ward_supervisor_install(const struct ward_supervisor_prog *p, int *listener, ward_error_t *err);

/* NULL-terminated default watched set, and the hot set that is refused. */
const char *const *ward_supervisor_default_syscalls(void);
bool ward_supervisor_is_hot(const char *name);

/* ---- supervisor side ------------------------------------------------ */

enum ward_supervisor_action {
  WARD_SV_CONTINUE = 0, /* let the call run (observe only) */
  WARD_SV_DENY,         /* fail it with -error; nothing executes */
  WARD_SV_KILL,         /* SIGKILL the calling process, then fail the call */
};

struct ward_supervisor_verdict {
  enum ward_supervisor_action action;
  int error;            /* errno for DENY/KILL; 0 means EPERM */
};

/* What the decide callback sees for one notification. */
struct ward_supervisor_call {
  const struct ward_event *ev; /* decoded; ev->denied not yet set */
  const char *name;      /* syscall name ("execve"), NULL if unknown */
  uint32_t arch;         /* AUDIT_ARCH_* of the call */
  int32_t nr;            /* raw syscall number in that arch */
  pid_t host_pid;        /* tgid and tid in the supervisor's pid namespace */
  pid_t host_tid;
  /* Fields of ev that came from the target's memory (path, path2, address):
   * safe to DENY on, only advisory to CONTINUE on (TOCTOU). */
  bool from_memory;
  bool mem_fault;        /* a pointer argument could not be read */
};

/* Called once per notification, synchronously, before the target resumes:
 * it must be quick and must not block (the target and, in the agent, every
 * other container multiplexed on this thread wait for it). Returns the
 * verdict by filling *v, which starts as CONTINUE. */
typedef void (*ward_supervisor_decide_fn)(void *opaque, const struct ward_supervisor_call *call,
                                          struct ward_supervisor_verdict *v);

struct ward_supervisor_options {
  ward_supervisor_decide_fn decide; /* NULL: continue everything */
  ward_event_sink_fn sink;          /* NULL: no events */
  void *opaque;                     /* passed to both */
  /* Which pid namespace ev->pid/tid are reported in, by /proc/PID/status
   * NSpid: 0 = the task's innermost one (the container's, unless the
   * workload nested another), k > 0 = k levels below the supervisor's,
   * < 0 = the supervisor's own. */
  int pidns_depth;
  /* Skip reading argv for exec events (path2). */
  bool no_argv;
};

struct ward_supervisor_stats {
  uint64_t notifications;  /* received */
  uint64_t continued, denied, killed;
  uint64_t gone;           /* target died or was interrupted mid-flight */
  uint64_t mem_faults;     /* pointer arguments that could not be read */
  uint64_t unknown;        /* calls the filter notified but the table lacks */
};

struct ward_supervisor;

/* Takes ownership of listener (closed by ward_supervisor_free). listener
 * may be -1: everything but the listener is made now (allocations, /proc,
 * the syscall map), off the path of the first notification, and
 * ward_supervisor_attach gives it the listener when there is one. */
int ward_supervisor_new(int listener, const struct ward_supervisor_options *opts,
                        struct ward_supervisor **out, ward_error_t *err);
/* Takes ownership of listener; fails (closing it) if one is attached. */
int ward_supervisor_attach(struct ward_supervisor *sv, int listener, ward_error_t *err);
/* What the supervisor would read from /proc for a single-threaded process
 * it knows (the container's init, whose first execve is always notified):
 * its host pid and its pid in its own namespace. Kept for as long as any
 * cached entry (pidns_depth 0 only). */
void ward_supervisor_seed_ids(struct ward_supervisor *sv, pid_t host_pid, pid_t ns_pid);
void ward_supervisor_free(struct ward_supervisor *sv);
int ward_supervisor_fd(const struct ward_supervisor *sv);
const struct ward_supervisor_stats *ward_supervisor_stats(const struct ward_supervisor *sv);

#define WARD_SUPERVISOR_IDLE 0     /* nothing pending (or the target vanished) */
#define WARD_SUPERVISOR_HANDLED 1  /* one notification answered */
#define WARD_SUPERVISOR_HANGUP 2   /* no task uses the filter any more */

/* Handles at most one notification without blocking: call it when poll()
 * or epoll reports the listener readable. < 0 only on a supervisor-side
 * failure (bad fd, out of memory); a dying target is not an error. */
int ward_supervisor_handle_one(struct ward_supervisor *sv, ward_error_t *err);

/* Loop for a dedicated thread or process: handles notifications until the
 * filter hangs up or stop_fd (an eventfd, a pipe, the init's pidfd; -1:
 * none) becomes readable, then drains what is pending and returns 0. */
int ward_supervisor_run(struct ward_supervisor *sv, int stop_fd, ward_error_t *err);

/* Name of a syscall in the supervisor's table by native number, or NULL. */
const char *ward_supervisor_syscall_name(int nr);

#endif
