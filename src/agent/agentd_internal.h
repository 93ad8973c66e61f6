/* Shared by agentd.c (socket, loop), agentd_registry.c (what the agent
 * knows of each container, replies, metrics) and agentd_reattach.c. */
#ifndef WARD_AGENTD_INTERNAL_H
#define WARD_AGENTD_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/agent_client.h"
#include "agent/agentd.h"
#include "agent/alert.h"
#include "agent/engine.h"
#include "agent/metrics.h"

struct agentd_conn {
  int fd;
  struct ward_agentd_peer peer;
};

/* What the agent knows of one registered container beyond the engine. */
struct agentd_entry {
  char *id, *app, *state_dir;
  enum ward_agent_mode mode;
  char *template_path, *policy_path;
  pid_t pid;
  bool has_ring, has_listener;
  const char *source;      /* "client", "reattach" (client came back), "state" (from the state dir) */
  uint64_t registered_real_ns;
  struct agentd_entry *next;
};

struct agentd_stats {
  uint64_t registrations, reattached, deregistrations, exits;
  uint64_t refused_peers, refused_registrations, bad_messages;
  uint64_t loop_iterations, loop_ns_sum, loop_ns_max;
  uint64_t loop_buckets[6];  /* <= 10us, 100us, 1ms, 10ms, 100ms, +Inf */
};

struct ward_agentd {
  char *socket_path, *state_root;
  int listen_fd, ep, sig_fd, lock_fd;
  struct agentd_conn *conns;
  int n_conns;
  char *buf;                       /* one datagram */
  struct ward_alert_out *alerts;
  struct ward_engine *engine;
  pthread_t engine_thread;
  int engine_stop;
  volatile bool engine_failed, stopping;
  struct ward_metrics_server *metrics;
  uint32_t max_containers;
  uint64_t started_ns, started_real_ns;
  pthread_mutex_t lock;            /* entries and stats: the engine thread's on_exit writes them */
  struct agentd_entry *entries;
  size_t n_entries;
  struct agentd_stats stats;
};

/* agentd_registry.c; fds are taken over (closed on failure). */
int agentd_register(struct ward_agentd *a, const struct ward_agent_register *r, int *fds, size_t nfds,
                    const struct ward_agentd_peer *peer, json_t **reply, ward_error_t *err);
int agentd_deregister(struct ward_agentd *a, const char *id, json_t **reply, ward_error_t *err);
int agentd_status(struct ward_agentd *a, const char *id, json_t **reply, ward_error_t *err);
void agentd_on_exit(void *opaque, const char *id);
void agentd_render_metrics(void *opaque, FILE *out);
void agentd_loop_sample(struct ward_agentd *a, uint64_t ns);
void agentd_registry_free(struct ward_agentd *a);
/* Hands a validated container to the engine and records it. */
int agentd_add(struct ward_agentd *a, const struct ward_agent_register *r, int ring_fd, int listener_fd, int pidfd,
               pid_t pid, const char *source, ward_error_t *err);

/* agentd_reattach.c */
void agentd_reattach_all(struct ward_agentd *a);
/* agent.json in the container's state directory. */
int agentd_record_write(const struct ward_agent_register *r, ward_error_t *err);

#endif
