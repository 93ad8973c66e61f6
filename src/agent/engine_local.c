/* The in-process engine of `ward run` and `ward sandbox` (engine_local.h). */
#include "agent/engine_local.h"
#include "agent/agent_client.h"
#include "agent/engine.h"
#include "agent/template.h"
#include "landlock/landlock.h"
#include "probe/event.h"
#include "probe/prepare.h"
#include "seccomp/seccomp.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <unistd.h>

static bool learned_files(const struct ward_template *t)
{
  _cleanup_json_ json_t *j = ward_template_to_json(t);
  json_t *files = json_object_get(j, "files");
  const char *k;
  json_t *v;
  json_object_foreach(files, k, v)
    if (json_array_size(v) > 0)
      return true;
  return false;
}

/* Protect: the template's seccomp allow-list and Landlock ruleset, stacked
 * on the container's own before it starts. The probe tables and the
 * supervisor's rules are the engine's (engine_pipeline.c). */
static int compile_layers(const struct ward_policy *p, const struct ward_config *cfg, struct ward_create_opts *o,
                          ward_error_t *err)
{
  _cleanup_template_ struct ward_template *t = NULL;
  if (ward_template_load(p->template_path, &t, err) < 0)
    return -1;
  _cleanup_close_ int root = o->host_root_bind ? -1 : open(cfg->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (!o->host_root_bind && root < 0)
    return ward_error_sys(err, "root.path: %s", cfg->root_path);
  struct ward_template_rules r = {0};
  /* The compiler names the probe directory (ward mounts it, so it cannot
   * look), unless the container runs without probes: then NO_PROBE, as
   * Landlock refuses a path that does not exist. */
  const char *probe_ann = ward_config_annotation(cfg, "run.ward.probe");
  bool probes = !o->no_probe && !(probe_ann && strcmp(probe_ann, "off") == 0) &&
                !(o->probe_groups && strcmp(o->probe_groups, "off") == 0) &&
                (o->host_root_bind || ward_probe_variant_for_rootfs(cfg->root_path) != WARD_PROBE_NONE);
  if (ward_template_compile_ex(t, o->host_root_bind ? AT_FDCWD : root, probes ? 0 : WARD_TEMPLATE_NO_PROBE, &r, err) < 0)
    return ward_error_prefix(err, "%s", p->template_path);
  struct ward_seccomp *sc = NULL;
  int rc = 0;
  if (r.seccomp && (rc = ward_seccomp_parse_oci(r.seccomp, "template.seccomp", &sc, err)) == 0) {
    rc = ward_seccomp_compile(sc, NULL, &o->extra_seccomp, err);
    ward_seccomp_free(sc);
  }
  if (rc == 0 && !learned_files(t)) {
    /* learning saw no file access at all (no probe: a static image), so
     * a file ruleset would deny everything the workload does */
    ward_warn("%s: no file access was learned (no probe?): the template's Landlock layer is left out",
              p->template_path);
  } else if (rc == 0) {
    o->extra_landlock = r.landlock;
    r.landlock = NULL;
  }
  ward_template_rules_free(&r);
  return rc < 0 ? ward_error_prefix(err, "%s: seccomp layer", p->template_path) : 0;
}

int ward_engine_cli_configure(void *opaque, struct ward_config *cfg, struct ward_create_opts *o, ward_error_t *err)
{
  struct ward_engine_cli *cli = opaque;
  struct ward_policy *p = NULL;
  json_t *ann = cfg->raw ? json_object_get(cfg->raw, "annotations") : NULL;
  if (ward_policy_from_annotations(ann, &p, err) < 0)
    return ward_policy_free(p), -1;
  if (cli->policy_file) {
    ward_policy_free(p);
    p = NULL;
    if (ward_policy_load(cli->policy_file, &p, err) < 0)
      return ward_error_prefix(err, "--policy");
  }
  if ((cli->mode || cli->template_path || cli->no_supervisor) && p == NULL && (p = ward_policy_new()) == NULL)
    return ward_error(err, ENOMEM, "policy");
  if (cli->mode) {
    int m = ward_mode_parse(cli->mode);
    if (m < 0) {
      ward_policy_free(p);
      return ward_error(err, 0, "--mode: \"%s\" is not off, learn, monitor or protect", cli->mode);
    }
    p->mode = (enum ward_mode) m;
  }
  if (cli->template_path) {
    free(p->template_path);
    if ((p->template_path = strdup(cli->template_path)) == NULL)
      return ward_policy_free(p), ward_error(err, ENOMEM, "policy");
  }
  if (cli->no_supervisor)
    p->supervisor = false;
  if (cli->alerts && p) {
    free(p->alerts);  /* the command line's --alerts wins over the file's */
    p->alerts = NULL;
  }
  if (p && ward_policy_validate(p, err) < 0)
    return ward_policy_free(p), -1;
  o->supervisor = (p ? p->supervisor : true) && (!cli->detached || cli->agent);
  if (p && p->mode == WARD_MODE_PROTECT && compile_layers(p, cfg, o, err) < 0)
    return ward_policy_free(p), -1;
  ward_policy_free(cli->policy);
  cli->policy = p;
  return 0;
}

struct ward_engine_local {
  struct ward_engine *e;
  char *id;
  bool held;                   /* added while the init sets up, not armed yet */
  bool summary;
  struct ward_alert_out *alerts;
  pid_t pid;                   /* the container's init */
  int sigfd;                   /* forwarded signals, while serving */
  bool ignoring;               /* SIGPIPE and SIGTTOU ignored since serve, until finish */
  struct sigaction old_pipe, old_ttou;
  int rc;
  ward_error_t err;
};

static void local_free(struct ward_engine_local *l)
{
  free(l->id);
  ward_engine_free(l->e);
  ward_alert_out_free(l->alerts);
  ward_error_free(&l->err);
  free(l);
}

/* The engine, served by the thread that waits for the container: a
 * second thread would cost more to start and stop than the engine itself
 * on a small VM (a quarter of a millisecond each way, docs/benchmarks.md). */
static int local_new(const char *id, const struct ward_policy *p, const char *alerts, const char *root,
                     uint32_t poll_max_us, struct ward_engine_local **out, ward_error_t *err)
{
  struct ward_engine_local *l = calloc(1, sizeof(*l));
  if (l == NULL)
    return ward_error(err, ENOMEM, "engine");
  l->sigfd = -1;
  const char *spec = alerts ? alerts : "stderr";
  struct ward_alert_limits lim = {.burst = p ? p->alert_burst : 0, .per_second = p ? p->alert_per_second : 0};
  struct ward_engine_opts eo = {.state_root = root, .exit_after = true};
  ward_engine_opts_poll_max(&eo, poll_max_us);
  if (ward_alert_out_open(spec, &lim, &l->alerts, err) < 0 || (eo.alerts = l->alerts, ward_engine_new(&eo, &l->e, err)) < 0) {
    local_free(l);
    return -1;
  }
  l->summary = p && p->mode != WARD_MODE_OFF;
  l->id = strdup(id);
  if (l->id == NULL) {
    local_free(l);
    return ward_error(err, ENOMEM, "engine");
  }
  *out = l;
  return 0;
}

/* What `ward_agent_handover_container` would try: a running agent is
 * given the container instead. */
static bool agent_may_take(const char *root)
{
  _cleanup_free_ char *path = NULL;
  if (ward_agent_socket_path(root, &path) < 0)
    return true;  /* the handover reports it */
  return path && access(path, F_OK) == 0;
}

/* The init's pid as its own pid namespace sees it: 1 in a new one, ours
 * in ours; unknown in one it joined. */
static pid_t init_ns_pid(const struct ward_container *ct)
{
  const struct ward_namespace *ns = &ct->launch.cfg->ns[WARD_NS_PID];
  if (!ns->requested)
    return ct->launch.pid;
  return ns->path ? 0 : 1;
}

/* The engine and the container in it: its ring fd, listener and a dup of
 * its pidfd, and the resolved policy (cli->policy becomes NULL). Held: the
 * listener is not there yet and the container not served (engine.h). */
static int local_start(struct ward_container *ct, struct ward_engine_cli *cli, const char *root, bool held,
                       struct ward_engine_local **out, ward_error_t *err)
{
  struct ward_engine_local *l = NULL;
  if (local_new(ct->state->id, cli->policy, cli->alerts, root, cli->poll_max_us, &l, err) < 0)
    return -1;
  /* the loop ends with the container, which it learns from the pidfd */
  int pidfd = fcntl(ct->launch.pidfd, F_DUPFD_CLOEXEC, 3);
  if (pidfd < 0) {
    local_free(l);
    return ward_error_sys(err, "engine: the container's pidfd");
  }
  int lock_fd = steal_fd(&ct->ring_lock_fd);  /* (initializers are unordered) */
  struct ward_engine_container c = {
    .id = ct->state->id, .state_dir = ct->state->dir, .run_dir = ct->run_dir, .ring_fd = steal_fd(&ct->probe.ring_fd),
    .have_ring_lock = lock_fd >= 0, .ring_lock_fd = lock_fd,
    .listener_fd = held ? -1 : steal_fd(&ct->launch.listener_fd), .pidfd = pidfd, .pid = ct->launch.pid,
    .ns_pid = init_ns_pid(ct),
    .policy = steal_pointer(&cli->policy), .held = held,
  };
  l->pid = ct->launch.pid;
  if (ward_engine_add(l->e, &c, err) < 0) {
    local_free(l);
    return -1;
  }
  l->held = held;
  *out = l;
  return 0;
}

bool ward_engine_cli_idle(const struct ward_engine_cli *cli, const struct ward_container *ct)
{
  const struct ward_policy *p = cli->policy;
  return ct->probe.ring_fd < 0 && ct->launch.supervisor == NULL && (p == NULL || p->mode == WARD_MODE_OFF);
}

/* Whether this process serves the container itself, and something is
 * there to serve. */
static bool serve_here(const struct ward_engine_cli *cli, const struct ward_create_opts *o, const struct ward_container *ct)
{
  return !cli->detached && !cli->local && !cli->early_err && !ward_engine_cli_idle(cli, ct) && !agent_may_take(o->root);
}

void ward_engine_cli_launched(void *opaque, const struct ward_create_opts *o, struct ward_container *ct)
{
  struct ward_engine_cli *cli = opaque;
  if (serve_here(cli, o, ct))
    local_start(ct, cli, o->root, true, &cli->local, &cli->early_err);
}

void ward_engine_cli_ready(void *opaque, const struct ward_create_opts *o, struct ward_container *ct)
{
  struct ward_engine_cli *cli = opaque;
  struct ward_engine_local *l = cli->local;
  if (l && l->held) {
    if (ward_engine_arm(l->e, l->id, steal_fd(&ct->launch.listener_fd), &cli->early_err) == 0)
      l->held = false;
    return;
  }
  if (serve_here(cli, o, ct))
    local_start(ct, cli, o->root, false, &cli->local, &cli->early_err);
}

int ward_engine_local_start(struct ward_container *ct, struct ward_engine_cli *cli, const char *root,
                            struct ward_engine_local **out, ward_error_t *err)
{
  if (cli->early_err) {
    *err = steal_pointer(&cli->early_err);
    return -1;
  }
  if (cli->local && cli->local->held)
    return ward_error(err, EINVAL, "engine: container \"%s\" was never armed", cli->local->id);
  if (cli->local) {
    *out = steal_pointer(&cli->local);
    return 0;
  }
  return local_start(ct, cli, root, false, out, err);
}

static void forward_signals(void *opaque)
{
  struct ward_engine_local *l = opaque;
  struct signalfd_siginfo si;
  while (read(l->sigfd, &si, sizeof(si)) == sizeof(si))
    kill(l->pid, (int) si.ssi_signo);
}

int ward_engine_local_serve(struct ward_engine_local *l)
{
  sigset_t mask, old;
  ward_forwarded_signals(&mask);
  sigprocmask(SIG_BLOCK, &mask, &old);
  /* Alerts go to a pipe or terminal the workload can make us write to at
   * will: a closed reader (`ward run ... | head`) must give EPIPE, and a
   * background job with tostop must not be stopped (the supervisor with
   * it), not kill or stop ward with the container's state left behind. */
  struct sigaction ign = {.sa_handler = SIG_IGN};
  if (!l->ignoring) {
    sigaction(SIGPIPE, &ign, &l->old_pipe);
    sigaction(SIGTTOU, &ign, &l->old_ttou);
    l->ignoring = true;
  }
  l->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (l->sigfd >= 0 && ward_engine_watch(l->e, l->sigfd, forward_signals, l, NULL) < 0)
    ward_warn("engine: signals are not forwarded to the container");
  /* until the container's init exits: its ring is drained to the end then,
   * and it is finalised (learn: the template saved) */
  l->rc = ward_engine_run(l->e, -1, &l->err);
  ward_engine_watch(l->e, -1, NULL, NULL, NULL);
  if (l->sigfd >= 0)
    close(l->sigfd);
  l->sigfd = -1;
  int status = ward_reap_status(l->pid);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return status;
}

int ward_engine_local_finish(struct ward_engine_local *l)
{
  if (l == NULL)
    return 0;
  int rc = l->rc;
  if (l->summary) {
    /* one line for people and tests: what the engine saw of this run */
    struct ward_engine_stats st;
    struct ward_alert_stats as;
    struct rusage ru;
    ward_engine_get_stats(l->e, &st);
    ward_alert_get_stats(l->alerts, &as);
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr, "ward: engine: %s: events=%llu alerts=%llu suppressed=%llu denied=%llu drops=%llu bad=%llu lost=%llu "
            "supervised=%llu maxrss_kb=%ld\n", l->id ? l->id : "?", (unsigned long long) st.events,
            (unsigned long long) st.alerts, (unsigned long long) as.suppressed, (unsigned long long) st.denied,
            (unsigned long long) st.ring_drops, (unsigned long long) st.ring_bad, (unsigned long long) st.ring_lost,
            (unsigned long long) st.sv_notifications, ru.ru_maxrss);
  }
  if (rc < 0)
    ward_error_report(&l->err);
  if (l->ignoring) {
    sigaction(SIGPIPE, &l->old_pipe, NULL);
    sigaction(SIGTTOU, &l->old_ttou, NULL);
  }
  local_free(l);
  return rc;
}

void ward_engine_cli_release(struct ward_engine_cli *cli)
{
  ward_policy_free(cli->policy);
  cli->policy = NULL;
  if (cli->local) {
    local_free(cli->local);
    cli->local = NULL;
  }
  ward_error_free(&cli->early_err);
}
