/* `ward exec`: a new process in a running container. It joins every
 * namespace of the container's init through a pidfd (user namespace first,
 * which setns with a pidfd does by itself) and its cgroup, and forks once
 * more so the process is inside the pid namespace. It then gets the
 * container's hardening as at create: seccomp (from the config copy in the
 * state directory), capabilities, no_new_privs, Landlock from annotations,
 * rlimits.
 *
 *   ward exec (P)              helper (A)                 process (B)
 *   fork A ------------------>
 *   put A in the cgroup
 *   'G' ---------------------> setns(pidfd, all)
 *                              clone(CLONE_PARENT) ------> (a child of P)
 *   <------------------------- 'P' + B's pid; exits       console, limits, cwd,
 *                                                          user, caps, NNP,
 *   <----------------------------------------------------- Landlock, seccomp,
 *   EOF: exec'd ('E' + error otherwise)                    execve
 */
#ifndef WARD_EXEC_H
#define WARD_EXEC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

struct ward_exec_opts {
  const char *root;
  const char *id;
  const char *process_file;   /* --process: the whole process object */
  char **args;                /* otherwise: args over the config's process */
  char **env;                 /* --env NAME=VALUE, added or replacing */
  const char *cwd;
  bool has_user;
  uid_t uid;
  gid_t gid;
  bool has_gid;
  uint64_t add_caps;          /* --cap, added to bounding/effective/permitted */
  bool no_new_privs;
  bool tty;
  bool detach;
  const char *pid_file;
  const char *console_socket;
  int preserve_fds;
};

/* Runs the process. Unless detached, waits for it and sets *status the way
 * a shell reports it (128+N for a signal); detached, returns once it has
 * called execve (errors before that are still reported). */
int ward_exec(const struct ward_exec_opts *o, int *status, ward_error_t *err);

#endif
