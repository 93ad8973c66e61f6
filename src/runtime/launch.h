/* Starting a container's init: everything is prepared and validated in the
 * parent (ward_launch_prepare), then one clone, a short handshake over a
 * socket pair, and the init (init.c) configures itself and execs.
 *
 *   parent                               init (child)
 *   ------                               ------------
 *   clone3(new namespaces) ------------>
 *   write uid/gid maps
 *   'G' + state JSON ------------------> setns, mounts, pivot_root,
 *   join cgroup (meanwhile)              hostname, sysctl
 *   'C' cgroup joined -----------------> (waits for 'C' here, or earlier:
 *                                        before a cgroup ns, hooks, or the
 *                                        mounts when there is no user ns)
 *                                        rlimits, user, caps, NNP
 *   <---------------------------------- 'L' + notify listener fd (optional)
 *   <---------------------------------- 'R' ready (or 'E' + error)
 *   (create: exit; start opens fifo) --> fifo released: Landlock, seccomp,
 *                                        execve (socket closes on exec)
 */
#ifndef WARD_LAUNCH_H
#define WARD_LAUNCH_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "common/error.h"
#include "mount/mount.h"
#include "runtime/config.h"
#include "runtime/state.h"

struct ward_seccomp_prog;
struct ward_landlock;
struct ward_supervisor_prog;

enum ward_launch_mode { WARD_LAUNCH_RUN, WARD_LAUNCH_CREATE };

struct ward_launch {
  /* filled by the caller */
  struct ward_config *cfg;
  struct ward_state *state;
  enum ward_launch_mode mode;
  bool no_pivot;
  bool no_new_keyring;
  int preserve_fds;
  const char *console_socket;
  const char *host_root_bind;      /* sandbox: rbind this host dir as the root */
  struct ward_bind *binds;         /* extra binds after the config's mounts */
  size_t n_binds;
  char **extra_env;                /* appended to process.env (probe variables) */
  struct ward_seccomp_prog *seccomp;
  struct ward_landlock *landlock;
  struct ward_supervisor_prog *supervisor;
  /* Protect mode (issue 5): layers compiled from a template, stacked on the
   * config's own: a second seccomp filter loaded after the main one and a
   * second Landlock ruleset applied after the main one. Each can only
   * narrow what the layer below allows. */
  bool ready_sent;                 /* init: 'R' is out, the parent stopped listening */
  bool in_cgroup;                  /* init: 'C' came, the parent has moved us into the cgroup */
  /* the init joins its cgroup itself (cgroup.h: no grace period), and
   * the parent neither writes cgroup.procs nor says 'C' */
  bool cgroup_self_join;
  struct ward_cgroup_join cgroup_join;
  int close_in_init;               /* the parent's ring consumer lock: the init drops its copy at once */
  struct ward_seccomp_prog *extra_seccomp;
  struct ward_landlock *extra_landlock;
  /* parent: called once the init has what it needs to set itself up,
   * before waiting for it (lifecycle.h: create_opts.launched) */
  void (*on_the_way)(void *arg);
  void *on_the_way_arg;

  /* derived by ward_launch_prepare */
  int ns_fds[WARD_NS_COUNT];
  int clone_flags;
  bool new_userns;
  int fifo_fd;                     /* O_PATH of exec.fifo (create mode) */
  int console_fd;                  /* connected console socket */
  int sync_fd;                     /* the init's end of the socket pair */

  /* results */
  pid_t pid;
  int pidfd;
  int listener_fd;                 /* seccomp notify listener, if any */
};

void ward_launch_init(struct ward_launch *L);
void ward_launch_release(struct ward_launch *L);
/* Validates against the host and prepares fds; creates nothing visible. */
int ward_launch_prepare(struct ward_launch *L, ward_error_t *err);
/* Clones the init and runs the handshake until it is ready. On failure the
 * init is gone (killed and reaped). */
int ward_launch_start(struct ward_launch *L, ward_error_t *err);

/* The init's side; never returns. */
__attribute__((noreturn)) void ward_init_main(struct ward_launch *L);

#endif
