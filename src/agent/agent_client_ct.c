/* ward run / sandbox / create: hand a freshly created container to the
 * node agent when one listens, instead of serving it in-process. */
#include "agent/agent_client.h"
#include "agent/agent_client_ct.h"
#include "agent/engine_local.h"
#include "probe/event.h"
#include "common/cleanup.h"
#include "common/log.h"

#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The agent wants absolute, normalised paths; a template being learnt may
 * not exist yet, so its directory is resolved instead. */
static char *absolute(const char *path)
{
  if (path == NULL)
    return NULL;
  char *r = realpath(path, NULL);
  if (r)
    return r;
  _cleanup_free_ char *copy = strdup(path);
  if (copy == NULL)
    return NULL;
  char *slash = strrchr(copy, '/');
  const char *base = slash ? slash + 1 : copy;
  if (slash)
    *slash = '\0';
  _cleanup_free_ char *dir = realpath(slash ? (*copy ? copy : "/") : ".", NULL);
  if (dir == NULL || *base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
    return NULL;
  char *out = NULL;
  if (asprintf(&out, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, base) < 0)
    return NULL;
  return out;
}

int ward_agent_handover_container(struct ward_container *ct, const struct ward_policy *policy, const char *policy_path,
                                  const char *root, bool detach, struct ward_agent_handover **out, ward_error_t *err)
{
  *out = NULL;
  _cleanup_free_ char *path = NULL;
  if (ward_agent_socket_path(root, &path) < 0)
    return ward_error(err, ENOMEM, "agent socket");
  if (path == NULL || access(path, F_OK) != 0)
    return 0;
  if (policy_path == NULL)
    policy_path = ward_config_annotation(ct->cfg, "run.ward.policy");
  _cleanup_free_ char *state_dir = realpath(ct->state->dir, NULL);
  _cleanup_free_ char *tpl = absolute(policy ? policy->template_path : NULL);
  _cleanup_free_ char *pol = absolute(policy_path);
  if (state_dir == NULL || (policy && policy->template_path && tpl == NULL) || (policy_path && pol == NULL))
    return ward_error(err, errno ? errno : ENOMEM, "agent handover: resolving paths");
  int mode = policy ? ward_agent_mode_parse(ward_mode_name(policy->mode)) : WARD_AGENT_MODE_OFF;
  struct ward_agent_register r = {.id = ct->state->id, .state_dir = state_dir,
                                  .app = policy && policy->app ? policy->app : ct->state->id,
                                  .mode = mode < 0 ? WARD_AGENT_MODE_OFF : (enum ward_agent_mode) mode,
                                  .template_path = tpl, .policy_path = pol};
  int fds[WARD_AGENT_FD_ROLES] = {ct->probe.ring_fd, ct->launch.listener_fd, ct->launch.pidfd};
  struct ward_agent_handover *h = NULL;
  int rc = ward_agent_handover(path, &r, fds, &h, err);
  if (rc <= 0)
    return rc;
  ward_debug("container %s handed over to the agent at %s", r.id, path);
  if (detach) {
    if (ward_agent_handover_detach(h, err) < 0)
      return -1;
  } else {
    *out = h;
  }
  return 1;
}

int ward_container_serve(struct ward_container *ct, struct ward_engine_cli *cli, const char *root, bool run_poststop)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_agent_handover *agent = NULL;
  /* an engine begun while the init set itself up (no agent was there)
   * serves it; else an agent, if one takes it */
  bool early = cli->local || cli->early_err;
  int handed = 0;
  if (!early) {
    ward_container_unlock_ring(ct);  /* the agent's engine takes it */
    handed = ward_agent_handover_container(ct, cli->policy, cli->policy_file, root, false, &agent, &err);
    if (handed < 0) {
      ward_warn("%s; serving the container in-process", err->msg);
      ward_error_free(&err);
    }
    if (handed <= 0 && ward_container_lock_ring(ct, &err) < 0) {
      /* someone else consumes the ring now: the engine below reports it */
      ward_error_free(&err);
    }
  }
  struct ward_engine_local *engine = NULL;
  int status;
  bool idle = !early && ward_engine_cli_idle(cli, ct);
  if (handed > 0 && cli->poll_max_us)
    ward_warn("container \"%s\": --poll-max-us is not applied: the running ward agent serves it with its own",
              ct->state->id);
  if (handed > 0 || idle) {
    ward_engine_cli_release(cli);
    status = ward_container_wait(ct);
  } else if (ward_engine_local_start(ct, cli, root, &engine, &err) < 0) {
    ward_engine_cli_release(cli);
    ward_error_report(&err);
    status = 1;
  } else {
    status = ward_engine_local_serve(engine);
  }
  ward_agent_handover_free(agent);
  if (ward_container_destroy(root, ct->state, run_poststop, &err) < 0)
    ward_error_report(&err);
  if (engine && ward_engine_local_finish(engine) < 0 && status == 0)
    status = 1;
  ward_container_free(ct);
  /* what came after the container exited was meant for it: dropped */
  sigset_t fwd;
  ward_forwarded_signals(&fwd);
  struct timespec now = {0, 0};
  while (sigtimedwait(&fwd, NULL, &now) > 0)
    ;
  return status;
}
