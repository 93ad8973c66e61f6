/* The runtime's side of a handover to `ward agent` (agent_client.h). */
#ifndef WARD_AGENT_CLIENT_CT_H
#define WARD_AGENT_CLIENT_CT_H

#include <stdbool.h>

#include "agent/agent_client.h"
#include "agent/policy.h"
#include "runtime/lifecycle.h"

/* Registers ct with the agent at $WARD_AGENT_SOCKET (a path; "none": never)
 * or <root>/.agent/agent.sock, passing its ring, listener and pidfd
 * (duplicated: ct keeps its own) and the resolved policy (mode, template,
 * policy file: policy_path, or the bundle's run.ward.policy annotation).
 * Returns 0 when no agent listens, 1 when the agent serves the container:
 * then *out keeps the fds for re-registration after an agent restart and
 * must be freed after the container exited, or with detach (ward create,
 * run -d) a keeper process does that and *out stays NULL. -1: the agent
 * refused (the error says why). */
int ward_agent_handover_container(struct ward_container *ct, const struct ward_policy *policy, const char *policy_path,
                                  const char *root, bool detach, struct ward_agent_handover **out, ward_error_t *err);

/* ward run and ward sandbox, once the container runs: hand it to a running
 * agent or serve it with the in-process engine (the same engine), wait for
 * it, then remove everything it left and free ct. The caller blocks
 * ward_forwarded_signals from before ward_container_create to after this:
 * a signal during the create then reaches the container once it runs, and
 * one that comes after the container exited cannot kill us half-way
 * through the removal and leave its state behind; those are dropped here.
 * Returns the exit status the way a shell reports it. */
struct ward_engine_cli;
int ward_container_serve(struct ward_container *ct, struct ward_engine_cli *cli, const char *root, bool run_poststop);

#endif
