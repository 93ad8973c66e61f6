/* `ward agent`: one daemon per node and uid that serves every container
 * registered with it through one engine (agent/engine.h).
 *
 *   main thread    the registration socket (SOCK_SEQPACKET, 0600 in a 0700
 *                  directory, SO_PEERCRED checked on every connection), the
 *                  metrics responder (metrics.h), signals
 *   engine thread  ward_engine_run: rings, supervisor listeners, exits
 *
 * A registration is validated before the engine sees it (agentd_check.c):
 * the pidfd is a pidfd of a live process that is the init recorded in the
 * container's state directory, of the peer's uid; the ring is the sealed
 * file recorded there; the listener is a seccomp notify fd. The agent writes
 * agent.json into the state directory, so that after a restart it re-attaches
 * to running containers (agentd_reattach.c). docs/agent.md has the story. */
#ifndef WARD_AGENTD_H
#define WARD_AGENTD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/agent_proto.h"
#include "common/error.h"

#define WARD_AGENTD_DIR ".agent"
#define WARD_AGENTD_SOCK "agent.sock"
/* In each registered container's state directory. */
#define WARD_AGENTD_RECORD_FILE "agent.json"
#define WARD_AGENTD_KEEPER_FILE "agent.keeper"
/* Rings are polled (producers make no system calls): the engine sleeps at
 * most this long between polls when idle. It bounds the alert latency
 * (bench/agent-ingest: p99 under 1 ms needs it well below 1000). */
#define WARD_AGENTD_POLL_MAX_US 500

struct ward_agentd_opts {
  const char *socket_path;   /* NULL: <state_root>/.agent/agent.sock */
  const char *state_root;    /* NULL: ward_state_default_root() */
  const char *alerts;        /* alert output spec (alert.h); NULL: stdout */
  const char *metrics;       /* "127.0.0.1:PORT", "[::1]:PORT", "unix:PATH"; NULL: none */
  int ready_fd;              /* written "R\n" once listening (tests); -1: none */
  uint32_t max_containers;   /* 0: 4096 */
  uint32_t poll_max_us;      /* longest ring-poll sleep (ward_engine_opts_poll_max; 0: WARD_AGENTD_POLL_MAX_US idle) */
};

/* Runs until SIGTERM/SIGINT; returns 0 on a clean stop. */
int ward_agentd_run(const struct ward_agentd_opts *o, ward_error_t *err);

/* ---- internals shared by the agentd*.c files ------------------------ */

struct ward_agentd;

/* The peer's credentials on a connection. */
struct ward_agentd_peer {
  pid_t pid;
  uid_t uid;
  gid_t gid;
};

/* Checks the registration's fds and state directory against the peer;
 * on success *pid_out is the init's host pid. */
int ward_agentd_check_register(const struct ward_agent_register *r, const int *fds, size_t nfds,
                               const struct ward_agentd_peer *peer, pid_t *pid_out, ward_error_t *err);
/* 0 when the fd is what the role needs (for the fuzz-free checks in tests). */
int ward_agentd_check_fd_kind(int fd, enum ward_agent_fd_role role, ward_error_t *err);
/* The pid a pidfd refers to (fdinfo "Pid:"), -1 if it has exited. */
pid_t ward_agentd_pidfd_pid(int pidfd, ward_error_t *err);

#endif
