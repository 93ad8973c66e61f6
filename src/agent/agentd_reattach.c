/* After a restart the agent finds the containers it served in their state
 * directories (agent.json, written at registration) and takes them back:
 *
 *   - the ring is reopened from the state directory
 *     (ward_probe_open_ring); the consumer starts at the ring's stored
 *     tail, so what the workload wrote while no agent ran is delivered;
 *   - the pidfd is opened anew (pidfd_open) and checked against the init's
 *     recorded start time, so a recycled pid is never adopted;
 *   - the supervisor listener cannot be reopened from anywhere. When the
 *     registering process still runs (agent.keeper names it: ward run or
 *     ward sandbox waiting for the container, or the keeper of a detached
 *     one), that process re-registers with the listener within ~100 ms and
 *     the agent leaves the container to it. Otherwise the container is
 *     re-attached without a listener: the probes, Landlock and seccomp
 *     layers and the control page's tables keep enforcing, but the
 *     supervisor's watched calls fail with ENOSYS (docs/agent.md). */
#include "agent/agentd_internal.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "probe/prepare.h"
#include "runtime/state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int agentd_record_write(const struct ward_agent_register *r, ward_error_t *err)
{
  _cleanup_json_ json_t *j = json_pack("{s:i, s:s, s:s, s:s}", "version", 1, "id", r->id, "app", r->app ? r->app : r->id,
                                       "mode", ward_agent_mode_name(r->mode));
  if (j == NULL)
    return ward_error(err, ENOMEM, "agent.json");
  if (r->template_path)
    json_object_set_new(j, "template", json_string(r->template_path));
  if (r->policy_path)
    json_object_set_new(j, "policy", json_string(r->policy_path));
  _cleanup_free_ char *text = json_dumps(j, JSON_SORT_KEYS);
  char p[4096];
  snprintf(p, sizeof(p), "%s/" WARD_AGENTD_RECORD_FILE, r->state_dir);
  return text ? ward_write_file_atomic(p, text, strlen(text), 0600, err) : ward_error(err, ENOMEM, "agent.json");
}

/* What record_read allocates in r (id and state_dir are borrowed). */
static void record_strings_free(struct ward_agent_register *r)
{
  free(r->app);
  free(r->template_path);
  free(r->policy_path);
}

static int record_read(const char *state_dir, const char *id, struct ward_agent_register *r, ward_error_t *err)
{
  char p[4096];
  snprintf(p, sizeof(p), "%s/" WARD_AGENTD_RECORD_FILE, state_dir);
  _cleanup_json_ json_t *j = NULL;
  if (wj_load_file(p, 65536, &j, err) < 0)
    return -1;
  _cleanup_free_ char *rec_id = NULL, *mode = NULL;
  if (wj_req_string(j, "id", p, &rec_id, err) < 0 || wj_opt_string(j, "app", p, &r->app, err) < 0
      || wj_opt_string(j, "mode", p, &mode, err) < 0 || wj_opt_string(j, "template", p, &r->template_path, err) < 0
      || wj_opt_string(j, "policy", p, &r->policy_path, err) < 0)
    return -1;
  if (strcmp(rec_id, id) != 0)
    return ward_error(err, 0, "%s: id \"%s\" is not the directory's %s", p, rec_id, id);
  int m = mode ? ward_agent_mode_parse(mode) : WARD_AGENT_MODE_OFF;
  if (m < 0)
    return ward_error(err, 0, "%s: mode: unknown \"%s\"", p, mode);
  r->mode = (enum ward_agent_mode) m;
  return 0;
}

/* The keeper that will re-register, if it still runs. */
static bool keeper_alive(const char *state_dir)
{
  char p[4096];
  snprintf(p, sizeof(p), "%s/" WARD_AGENTD_KEEPER_FILE, state_dir);
  _cleanup_free_ char *text = NULL;
  ward_error_t err = NULL;
  if (ward_read_file(p, 128, &text, NULL, &err) < 0) {
    ward_error_free(&err);
    return false;
  }
  int pid;
  unsigned long long start;
  if (sscanf(text, "%d %llu", &pid, &start) != 2 || pid <= 0)
    return false;
  return kill(pid, 0) == 0 && ward_proc_start_time(pid) == start;
}

static void reattach_one(struct ward_agentd *a, const char *id)
{
  _cleanup_state_ struct ward_state *st = NULL;
  ward_error_t err = NULL;
  if (ward_state_load(a->state_root, id, &st, &err) < 0) {
    ward_error_free(&err);
    return;
  }
  char rec[4096];
  snprintf(rec, sizeof(rec), "%s/" WARD_AGENTD_RECORD_FILE, st->dir);
  if (access(rec, F_OK) != 0)
    return;  /* never registered with an agent */
  if (st->owner != geteuid() && geteuid() != 0) {
    ward_warn("agent: %s: state belongs to uid %u; not re-attached", id, (unsigned) st->owner);
    return;
  }
  if (!ward_state_pid_alive(st)) {
    unlink(rec);
    return;
  }
  if (keeper_alive(st->dir)) {
    ward_log(WARD_LOG_INFO, "agent: %s: its keeper is alive and re-registers it with the listener", id);
    return;
  }
  _cleanup_(record_strings_free) struct ward_agent_register r = {.id = (char *) id, .state_dir = st->dir};
  int rc = record_read(st->dir, id, &r, &err);
  _cleanup_close_ int pidfd = rc < 0 ? -1 : (int) syscall(SYS_pidfd_open, st->pid, 0);
  if (rc == 0 && pidfd < 0)
    rc = ward_error_sys(&err, "pidfd_open %d", (int) st->pid);
  /* the pidfd pins the process: if it is still the recorded init now, it
   * is the one we hold */
  if (rc == 0 && !ward_state_pid_alive(st))
    rc = ward_error(&err, ESRCH, "init %d exited", (int) st->pid);
  int ring_fd = -1;
  if (rc == 0 && ward_probe_open_ring(st->dir, st->pid, &ring_fd, &err) < 0) {
    ward_warn("agent: %s: no ring (%s); re-attaching without events", id, err->msg);
    ward_error_free(&err);
    ring_fd = -1;
  }
  if (rc == 0 && agentd_add(a, &r, ring_fd, -1, steal_fd(&pidfd), st->pid, "state", &err) == 0) {
    pthread_mutex_lock(&a->lock);
    a->stats.reattached++;
    pthread_mutex_unlock(&a->lock);
    ward_log(WARD_LOG_INFO, "agent: %s re-attached from its state directory (no supervisor listener)", id);
    return;
  }
  ward_warn("agent: %s: not re-attached: %s", id, err ? err->msg : "?");
  ward_error_free(&err);
}

void agentd_reattach_all(struct ward_agentd *a)
{
  _cleanup_strv_ char **ids = NULL;
  ward_error_t err = NULL;
  if (ward_state_list(a->state_root, &ids, &err) < 0) {
    ward_warn("agent: re-attach: %s", err->msg);
    ward_error_free(&err);
    return;
  }
  for (size_t i = 0; ids && ids[i]; i++)
    reattach_one(a, ids[i]);
}
