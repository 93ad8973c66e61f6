/* `ward sandbox -- CMD`: a host command in a fresh sandbox, no bundle. The
 * sandbox is an ordinary OCI config built in memory (so it goes through the
 * same validation and the same launch as a bundle): the host's / bound
 * read-only, private /tmp, /run and /dev, fresh /proc, every namespace, no
 * capabilities, no_new_privs, ward's default seccomp profile and a Landlock
 * ruleset. */
#ifndef WARD_SANDBOX_H
#define WARD_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "runtime/config.h"

struct ward_landlock;

struct ward_sandbox_opts {
  char **argv;
  const char *name;
  bool net_host;
  uint64_t caps;        /* --cap-add */
  int64_t memory;       /* bytes, -1: none */
  int64_t pids;         /* -1: none */
  double cpus;          /* 0: none */
  bool no_landlock;
  char **ro, **rw, **exec_paths;  /* --ro/--rw/--exec, NULL-terminated */
  long *connect_ports, *bind_ports;
  size_t n_connect, n_bind;
  /* Host directories covered by an empty tmpfs (NULL-terminated): the
   * state root and the agent's socket directory when they are not under
   * /run or /tmp, which the sandbox replaces anyway. A unix socket stays
   * connectable through a read-only bind, so hiding is what keeps the
   * agent's socket out of reach. */
  char **hide;
};

int ward_sandbox_config(const struct ward_sandbox_opts *o, struct ward_config **out, ward_error_t *err);
/* NULL in *out with --no-landlock. */
int ward_sandbox_landlock(const struct ward_sandbox_opts *o, struct ward_landlock **out, ward_error_t *err);

/* --net MODE: "none" (a private network namespace with only loopback) or
 * "host"; -1 for anything else. */
int ward_sandbox_set_net(struct ward_sandbox_opts *o, const char *mode);

#endif
