/* The steps that turn a process into the container's process, shared by the
 * init (init.c) and `ward exec` (exec.c): terminal, limits, cwd, identity,
 * executable lookup, fd hygiene. They run after clone/fork in a
 * single-threaded child, between namespace entry and execve. */
#ifndef WARD_PROCESS_SETUP_H
#define WARD_PROCESS_SETUP_H

#include <stdbool.h>

#include "common/error.h"
#include "runtime/config.h"

/* process.terminal: a new pty from the container's /dev/ptmx; its master
 * goes to *console_fd (the runc --console-socket protocol, which is then
 * closed and set to -1), the slave
 * becomes stdio and the controlling terminal. bind_console: also bind it at
 * /dev/console (the init only). Does nothing without process.terminal. */
int ward_proc_console(const struct ward_process *p, int *console_fd, bool bind_console, ward_error_t *err);
/* process.rlimits and process.oomScoreAdj. */
int ward_proc_limits(const struct ward_process *p, ward_error_t *err);
/* chdir to process.cwd (created if missing), refusing a cwd that resolves
 * outside the root (CVE-2024-21626). */
int ward_proc_enter_cwd(const struct ward_process *p, ward_error_t *err);
/* Groups, gid, uid, umask, then the capability sets. in_new_userns: a
 * rootless single-id namespace denies setgroups; not an error then unless
 * additionalGids asks for groups. */
int ward_proc_switch_user(const struct ward_process *p, bool in_new_userns, ward_error_t *err);
/* process.args[0] looked up in the PATH of env (or a default PATH). */
int ward_proc_find_executable(const char *name, char *const *env, char **out, ward_error_t *err);
/* Every fd above stdio and the preserved ones becomes close-on-exec; the
 * preserved ones (3 .. 3+preserve_fds-1) lose it. */
int ward_proc_close_fds(int preserve_fds, ward_error_t *err);

#endif
