/* Container lifecycle operations shared by the commands: create (run,
 * create, sandbox), start, kill, delete, wait. Each either completes or
 * leaves nothing behind: no state directory, cgroup or process. */
#ifndef WARD_LIFECYCLE_H
#define WARD_LIFECYCLE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "runtime/config.h"
#include "runtime/launch.h"
#include "runtime/state.h"

struct ward_landlock;
struct ward_seccomp_prog;
struct ward_container;

struct ward_create_opts {
  const char *root;            /* state root (--root) */
  const char *id;
  const char *bundle;          /* NULL for a sandbox (cfg given instead) */
  struct ward_config *cfg;     /* sandbox: a config built in memory (taken over) */
  const char *host_root_bind;  /* sandbox: "/" */
  enum ward_launch_mode mode;
  bool no_pivot, no_new_keyring;
  bool default_seccomp;        /* apply ward's default profile when the config has none */
  bool no_cgroup;              /* --cgroup-manager disabled */
  int preserve_fds;
  const char *console_socket;
  const char *pid_file;
  struct ward_landlock *landlock;  /* taken over; NULL: from annotations */
  bool no_probe;               /* per-container opt-out of libward-probe.so */
  const char *probe_groups;    /* initial groups ("exec,net"); NULL: run.ward.probe or the default */
  const char *probe_ring;      /* ring size ("16m"); NULL: run.ward.probe-ring or 4 MiB */
  /* The seccomp-notify supervisor: its listener reaches the caller in
   * c->launch.listener_fd, and the caller must answer it (the container's
   * first execve is notified). Installed only when the process runs with
   * no_new_privs (see docs/supervisor.md) and annotations.run.ward.supervisor
   * is not "off"; without no_new_privs it is skipped with a debug note. */
  bool supervisor;
  /* Take the ring's consumer lock as soon as the ring exists, before the
   * container is visible to `ward events` (which would otherwise become its
   * consumer): the caller's engine consumes it. */
  bool lock_ring;
  /* Called once the config is loaded, before anything is created: the
   * caller reads annotations (policies) and may set supervisor and the
   * extra layers below. */
  int (*configure)(void *opaque, struct ward_config *cfg, struct ward_create_opts *o, ward_error_t *err);
  /* Called once the init is on its way, while it sets itself up (its
   * namespaces, root and filters are not there yet; its pid and pidfd are,
   * and the state says "creating"): for work that overlaps that set-up. */
  void (*launched)(void *opaque, const struct ward_create_opts *o, struct ward_container *c);
  /* Called once the init is ready (its root and listener are there) and the
   * state is saved: for RUN it goes on to exec at once, and with a
   * supervisor that execve waits for whoever answers the listener. */
  void (*ready)(void *opaque, const struct ward_create_opts *o, struct ward_container *c);
  void *opaque;
  struct ward_seccomp_prog *extra_seccomp;  /* taken over: stacked on the config's filter */
  struct ward_landlock *extra_landlock;     /* taken over: a second ruleset */
};

/* Creates the container and starts its init; for WARD_LAUNCH_RUN the init
 * goes on to exec at once. On return *out owns the state and the launch. */
#include "probe/prepare.h"

struct ward_container {
  struct ward_probe_setup probe;
  struct ward_config *cfg;
  struct ward_state *state;
  struct ward_launch launch;
  char *seccomp_cache;
  int ring_lock_fd;            /* holds RUN_DIR/probe/ring.lock (lock_ring), else -1 */
  char *run_dir;               /* the memory directory (common/rundir.h); NULL: none made */
};
/* Releases the ring lock (before handing the ring to an agent) and takes it
 * again (when no agent took it). */
void ward_container_unlock_ring(struct ward_container *c);
int ward_container_lock_ring(struct ward_container *c, ward_error_t *err);
int ward_container_create(struct ward_create_opts *opts, struct ward_container **out, ward_error_t *err);
void ward_container_free(struct ward_container *c);
/* Removes everything a container left: processes, cgroup, state. */
int ward_container_destroy(const char *root, struct ward_state *st, bool run_poststop, ward_error_t *err);

/* Waits for pid (whose pidfd is given), forwarding SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT, SIGUSR1/2 and SIGWINCH to it; returns the exit status the way a
 * shell reports it (128+N). Shared by the container's init and `ward exec`. */
int ward_wait_forwarding(pid_t pid, int pidfd);
/* The signals ward_wait_forwarding passes on to the container. */
void ward_forwarded_signals(sigset_t *set);
/* Waits for pid; its exit status, or 128 + the signal that killed it. */
int ward_reap_status(pid_t pid);
/* The same for the container's init. */
int ward_container_wait(struct ward_container *c);

int ward_container_start(const char *root, const char *id, ward_error_t *err);
int ward_container_signal(const char *root, const char *id, int sig, bool all, ward_error_t *err);
int ward_container_delete(const char *root, const char *id, bool force, ward_error_t *err);
/* Loads the config copy kept in the state directory. */
int ward_container_config(const struct ward_state *st, struct ward_config **out, ward_error_t *err);

#endif
