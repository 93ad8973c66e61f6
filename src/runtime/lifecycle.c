#include "runtime/lifecycle.h"
#include "runtime/hooks.h"
#include "cgroup/cgroup.h"
#include "cgroup/devices.h"
#include "caps/caps.h"
#include "landlock/landlock.h"
#include "probe/event.h"
#include "probe/ring.h"
#include "seccomp/seccomp.h"
#include "supervisor/supervisor.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/rundir.h"
#include "common/util.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

void ward_container_free(struct ward_container *c)
{
  if (c == NULL)
    return;
  ward_launch_release(&c->launch);
  ward_container_unlock_ring(c);
  for (size_t i = 0; i < c->launch.n_binds; i++)
    if (c->launch.binds[i].tree_fd >= 0)
      close(c->launch.binds[i].tree_fd);
  ward_probe_setup_free(&c->probe);
  free(c->run_dir);
  if (c->launch.seccomp)
    ward_seccomp_prog_free(c->launch.seccomp);
  if (c->launch.landlock)
    ward_landlock_free(c->launch.landlock);
  if (c->launch.extra_seccomp)
    ward_seccomp_prog_free(c->launch.extra_seccomp);
  if (c->launch.extra_landlock)
    ward_landlock_free(c->launch.extra_landlock);
  if (c->launch.supervisor)
    ward_supervisor_prog_free(c->launch.supervisor);
  ward_strv_free(c->launch.extra_env);
  free(c->launch.binds);
  ward_config_free(c->cfg);
  ward_state_free(c->state);
  free(c->seccomp_cache);
  free(c);
}

static char *seccomp_cache_dir(const char *root)
{
  char *dir = NULL;
  if (asprintf(&dir, "%s/.seccomp-cache", root) < 0)
    return NULL;
  return dir;
}

static int prepare_seccomp(struct ward_container *c, const struct ward_create_opts *o, ward_error_t *err)
{
  struct ward_config *cfg = c->cfg;
  const char *ann = ward_config_annotation(cfg, "run.ward.seccomp");
  bool want_default = o->default_seccomp || (ann && strcmp(ann, "default") == 0);
  if (ann && strcmp(ann, "default") != 0 && strcmp(ann, "config") != 0)
    return ward_error(err, 0, "annotations.run.ward.seccomp: \"%s\" is not \"default\" or \"config\"", ann);
  if (cfg->seccomp == NULL && want_default) {
    uint64_t caps = cfg->process.caps.bounding | cfg->process.caps.effective | cfg->process.caps.permitted;
    if (ward_seccomp_default(caps, &cfg->seccomp, err) < 0)
      return -1;
  }
  if (cfg->seccomp == NULL)
    return 0;
  c->seccomp_cache = seccomp_cache_dir(o->root);
  _cleanup_error_ ward_error_t mkerr = NULL;
  if (c->seccomp_cache && ward_mkdir_p(c->seccomp_cache, 0700, &mkerr) < 0) {
    free(c->seccomp_cache);
    c->seccomp_cache = NULL;
  }
  if (ward_seccomp_compile(cfg->seccomp, c->seccomp_cache, &c->launch.seccomp, err) < 0)
    return ward_error_prefix(err, "linux.seccomp");
  return 0;
}

/* A bundle without process.capabilities that asks for the default with the
 * run.ward.capabilities annotation gets Docker's 14; otherwise none. */
static int default_caps(struct ward_config *cfg, ward_error_t *err)
{
  const char *ann = ward_config_annotation(cfg, "run.ward.capabilities");
  if (ann == NULL)
    return 0;
  if (strcmp(ann, "default") != 0)
    return ward_error(err, 0, "annotations.run.ward.capabilities: \"%s\" is not \"default\"", ann);
  if (cfg->process.has_caps)
    return 0;
  uint64_t d = ward_caps_docker_default();
  cfg->process.caps = (struct ward_caps) {.bounding = d, .effective = d, .permitted = d};
  cfg->process.has_caps = true;
  return 0;
}

static int save_config_copy(struct ward_container *c, ward_error_t *err)
{
  _cleanup_free_ char *path = ward_state_path(c->state, "config.json");
  _cleanup_free_ char *text = json_dumps(c->cfg->raw ? c->cfg->raw : json_object(), JSON_COMPACT);
  if (path == NULL || text == NULL)
    return ward_error(err, ENOMEM, "config copy");
  return ward_write_file_atomic(path, text, strlen(text), 0600, err);
}

static int write_pid_file(const char *path, pid_t pid, ward_error_t *err)
{
  char buf[32];
  int n = snprintf(buf, sizeof(buf), "%d", (int) pid);
  return ward_write_file_atomic(path, buf, (size_t) n, 0644, err);
}

/* Landlock rules are checked before anything exists: their paths must be
 * in the rootfs (or under a mount the config makes), and a strict ruleset
 * must be fully enforceable on this kernel. */
static int check_landlock(const struct ward_container *c, const struct ward_create_opts *o, ward_error_t *err)
{
  const struct ward_landlock *ll = c->launch.landlock;
  if (ll == NULL)
    return 0;
  const struct ward_config *cfg = c->cfg;
  _cleanup_free_ const char **dests = calloc(cfg->n_mounts + 2, sizeof(char *));
  if (dests == NULL)
    return ward_error(err, ENOMEM, "landlock");
  for (size_t i = 0; i < cfg->n_mounts; i++)
    dests[i] = cfg->mounts[i].destination;
  /* the probe's files are bound there later (prepare_probes); compiled
   * templates name the directory */
  dests[cfg->n_mounts] = WARD_PROBE_DIR;
  _cleanup_close_ int root = o->host_root_bind ? -1 : open(cfg->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (!o->host_root_bind && root < 0)
    return ward_error_sys(err, "root.path: %s", cfg->root_path);
  char summary[256];
  if (ward_landlock_check_paths(ll, o->host_root_bind ? AT_FDCWD : root, dests, cfg->n_mounts + 1, err) < 0 ||
      ward_landlock_check(ll, summary, sizeof(summary), err) < 0)
    return ward_error_prefix(err, "landlock");
  ward_debug("%s", summary);
  return 0;
}

/* Without a writable cgroup (rootless, no delegation) the process limits
 * fall back to rlimits, which are coarser: say so. */
static int rlimit_fallback(struct ward_config *cfg, const struct ward_cgroup *cg, ward_error_t *err)
{
  const struct ward_resources *r = &cfg->resources;
  if ((cg && cg->mode != WARD_CGROUP_NONE) || !r->any)
    return 0;
  struct ward_process *p = &cfg->process;
  struct { bool want; int resource; uint64_t value; const char *what; } fallbacks[] = {
    {r->pids_limit > 0, RLIMIT_NPROC, (uint64_t) r->pids_limit, "the pids limit is enforced with RLIMIT_NPROC instead (it counts every process of the user)"},
    {r->memory_limit > 0, RLIMIT_AS, (uint64_t) r->memory_limit, "the memory limit is enforced with RLIMIT_AS instead (per process, address space)"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(fallbacks); i++) {
    if (!fallbacks[i].want)
      continue;
    struct ward_rlimit *bigger = realloc(p->rlimits, (p->n_rlimits + 1) * sizeof(*bigger));
    if (bigger == NULL)
      return ward_error(err, ENOMEM, "rlimits");
    p->rlimits = bigger;
    p->rlimits[p->n_rlimits++] = (struct ward_rlimit) {fallbacks[i].resource, fallbacks[i].value, fallbacks[i].value};
    ward_warn("no cgroup: %s", fallbacks[i].what);
  }
  if (r->cpu_quota > 0 || r->cpu_shares || r->cpu_cpus)
    ward_warn("no cgroup: the cpu limit is NOT enforced");
  return 0;
}

/* Every process is probed unless the container opts out: the ring, control
 * page and library are bound under WARD_PROBE_DIR, and glibc images get a
 * read-only /etc/ld.so.preload naming the library (a sandbox, whose root is
 * the host's read-only /, gets LD_PRELOAD instead). */
#define DEFAULT_PROBE_GROUPS ((1u << WARD_GROUP_COUNT) - 1 - (1u << WARD_GROUP_PERF))

/* The memory directory for the probe files and the flight recorder
 * (common/rundir.h), unless the container will see where it would go:
 * through a bind, the sandbox's host root, or a joined mount namespace. */
static int create_run_dir(struct ward_container *c, const struct ward_create_opts *o, ward_error_t *err)
{
  const struct ward_config *cfg = c->cfg;
  _cleanup_free_ const char **exposed = calloc(cfg->n_mounts + 2, sizeof(char *));
  if (exposed == NULL)
    return ward_error(err, ENOMEM, "state");
  size_t n = 0;
  if (o->host_root_bind || cfg->ns[WARD_NS_MOUNT].path)
    exposed[n++] = "/";
  else if (cfg->root_path)
    exposed[n++] = cfg->root_path;
  for (size_t i = 0; i < cfg->n_mounts; i++)
    if (cfg->mounts[i].bind && cfg->mounts[i].source)
      exposed[n++] = cfg->mounts[i].source;
  char dir[PATH_MAX];
  if (ward_run_dir_create(c->state->dir, exposed, dir, sizeof(dir), err) < 0)
    return -1;
  c->run_dir = strdup(dir);
  return c->run_dir ? 0 : ward_error(err, ENOMEM, "state");
}

/* Whatever its own probes, a container that binds the host's /dev/shm (or
 * a directory above it) must not reach the other containers' memory
 * directories there (common/rundir.h). */
static int mask_run_dirs(struct ward_container *c, const struct ward_create_opts *o, ward_error_t *err)
{
  struct ward_config *cfg = c->cfg;
  if (!o->host_root_bind && cfg->root_path && ward_run_dir_masks(cfg->root_path, "/", &cfg->masked_paths, err) < 0)
    return ward_error_prefix(err, "root.path");
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    const struct ward_mount *m = &cfg->mounts[i];
    if (m->bind && m->source && ward_run_dir_masks(m->source, m->destination, &cfg->masked_paths, err) < 0)
      return ward_error_prefix(err, "mounts[%zu].source", i);
  }
  return 0;
}

static int prepare_probes(struct ward_container *c, const struct ward_create_opts *o, ward_error_t *err)
{
  const struct ward_config *cfg = c->cfg;
  const char *ann = ward_config_annotation(cfg, "run.ward.probe");
  const char *groups_text = o->probe_groups ? o->probe_groups : ann;
  bool off = o->no_probe || (groups_text && strcmp(groups_text, "off") == 0);
  uint32_t groups = DEFAULT_PROBE_GROUPS;
  if (!off && groups_text && strcmp(groups_text, "on") != 0) {
    int64_t mask = ward_probe_groups_parse(groups_text);
    if (mask < 0)
      return ward_error(err, 0, "%s: unknown probe group in \"%s\" (exec, file, net, mem, identity, dl, perf, all, off)",
                        o->probe_groups ? "--probe" : "annotations.run.ward.probe", groups_text);
    groups = (uint32_t) mask;
  }
  /* A busy container writes faster than the engine's 200 us naps drain a
   * 4 MiB ring (a tight loop: 40 M records/s); records it cannot hold are
   * dropped and counted, never waited for, so the ring is sized per
   * container. Memory is used as the ring fills, not up front. */
  const char *ring_text = o->probe_ring ? o->probe_ring : ward_config_annotation(cfg, "run.ward.probe-ring");
  uint64_t ring_size = 0;
  if (!off && ring_text &&
      (ward_parse_size(ring_text, &ring_size) < 0 || ring_size < WARD_PROBE_RING_MIN || ring_size > WARD_PROBE_RING_MAX))
    return ward_error(err, 0, "%s: \"%s\" is not a ring size from 64k to 1g", o->probe_ring ? "--probe-ring" : "annotations.run.ward.probe-ring",
                      ring_text);
  if (mask_run_dirs(c, o, err) < 0 || ((!off || c->launch.supervisor) && create_run_dir(c, o, err) < 0))
    return -1;
  /* A sandbox runs the host's own programs: glibc, even where musl is
   * installed beside it. */
  struct ward_probe_opts po = {.ring_size = ring_size, .groups = groups, .disabled = off,
                               .variant = o->host_root_bind ? WARD_PROBE_GLIBC : WARD_PROBE_NONE};
  if (ward_probe_prepare(c->run_dir, o->host_root_bind ? o->host_root_bind : cfg->root_path, &po, &c->probe, err) < 0)
    return ward_error_prefix(err, "probes");
  struct ward_launch *L = &c->launch;
  L->binds = calloc((size_t) c->probe.n_mounts + 1, sizeof(struct ward_bind));
  if (L->binds == NULL)
    return ward_error(err, ENOMEM, "probes");
  for (int i = 0; i < c->probe.n_mounts; i++) {
    const struct ward_probe_mount *m = &c->probe.mounts[i];
    if (o->host_root_bind && strcmp(m->target, "/etc/ld.so.preload") == 0) {
      if (ward_strv_append(&L->extra_env, "LD_PRELOAD=" WARD_PROBE_DIR "/" WARD_PROBE_LIB) < 0)
        return ward_error(err, ENOMEM, "probes");
      continue;
    }
    struct ward_bind *b = &L->binds[L->n_binds++];
    *b = (struct ward_bind) {.source = m->source, .dest = m->target, .readonly = m->readonly, .is_dir = m->is_dir,
                             .kind_known = true, .tree_fd = -1};
    if (ward_bind_prepare(b, err) < 0)
      return ward_error_prefix(err, "probes");
  }
  if (c->probe.env && ward_strv_append(&L->extra_env, c->probe.env) < 0)
    return ward_error(err, ENOMEM, "probes");
  return 0;
}

/* The supervisor filter goes in after the identity switch, which needs
 * no_new_privs (init.c); without it the runtime's own setresuid/capset
 * would be notified while the parent still waits in the handshake. */
static int prepare_supervisor(struct ward_container *c, const struct ward_create_opts *o, ward_error_t *err)
{
  const struct ward_config *cfg = c->cfg;
  const char *ann = ward_config_annotation(cfg, "run.ward.supervisor");
  if (ann && strcmp(ann, "on") != 0 && strcmp(ann, "off") != 0)
    return ward_error(err, 0, "annotations.run.ward.supervisor: \"%s\" is not \"on\" or \"off\"", ann);
  if (!o->supervisor || (ann && strcmp(ann, "off") == 0))
    return 0;
  const struct ward_process *p = &cfg->process;
  bool nnp = p->no_new_privileges ||
             ((c->launch.landlock || c->launch.extra_landlock) && !(p->caps.effective & (1ull << CAP_SYS_ADMIN)));
  if (!nnp) {
    ward_debug("supervisor: not installed (process.noNewPrivileges is false)");
    return 0;
  }
  _cleanup_free_ char *cache = seccomp_cache_dir(o->root);
  return ward_supervisor_build_cached(NULL, cache, &c->launch.supervisor, err) < 0 ? ward_error_prefix(err, "supervisor") : 0;
}

struct launched_call {
  struct ward_container *c;
  const struct ward_create_opts *o;
};

static void call_launched(void *arg)
{
  struct launched_call *x = arg;
  x->o->launched(x->o->opaque, x->o, x->c);
}

static int create_steps(struct ward_container *c, struct ward_create_opts *o, ward_error_t *err)
{
  struct ward_config *cfg = c->cfg;
  if (o->configure && o->configure(o->opaque, cfg, o, err) < 0)
    return -1;
  c->launch.extra_seccomp = steal_pointer(&o->extra_seccomp);
  c->launch.extra_landlock = steal_pointer(&o->extra_landlock);
  if (o->landlock)
    c->launch.landlock = steal_pointer(&o->landlock);
  else if (ward_landlock_from_annotations(cfg->annotations, cfg->n_annotations, &c->launch.landlock, err) < 0)
    return -1;
  if (check_landlock(c, o, err) < 0 || default_caps(cfg, err) < 0)
    return -1;
  if (prepare_seccomp(c, o, err) < 0 || prepare_supervisor(c, o, err) < 0)
    return -1;

  c->state = calloc(1, sizeof(*c->state));
  if (c->state == NULL || (c->state->id = strdup(o->id)) == NULL)
    return ward_error(err, ENOMEM, "state");
  if (ward_state_create_dir(o->root, o->id, &c->state->dir, err) < 0)
    return -1;
  c->state->bundle = cfg->bundle ? strdup(cfg->bundle) : NULL;
  c->state->created = ward_rfc3339_dup(9);
  c->state->owner = geteuid();
  c->state->rootless = geteuid() != 0;
  c->state->sandbox = o->host_root_bind != NULL;
  c->state->status_hint = strdup("creating");
  for (int k = 0; k < WARD_HOOK_COUNT; k++)
    if (cfg->hooks.count[k])
      c->state->hooks |= 1 << k;
  if (cfg->raw)
    c->state->annotations = json_incref(json_object_get(cfg->raw, "annotations"));
  if (ward_state_save(c->state, err) < 0 || save_config_copy(c, err) < 0)
    return -1;
  /* `ward exec` re-creates the filter from the config copy; a profile that
   * is not in it (--default-seccomp) is recorded by this marker. */
  if (o->default_seccomp && cfg->seccomp && !json_object_get(json_object_get(cfg->raw, "linux"), "seccomp")) {
    _cleanup_free_ char *marker = ward_state_path(c->state, "seccomp.default");
    _cleanup_close_ int fd = marker ? open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) : -1;
    if (fd < 0)
      return ward_error_sys(err, "record the default seccomp profile");
  }

  if (o->host_root_bind) {
    /* The sandbox's root is a mount point inside its state directory. */
    free(cfg->root_path);
    cfg->root_path = ward_state_path(c->state, "rootfs");
    if (cfg->root_path == NULL || mkdir(cfg->root_path, 0755) < 0)
      return ward_error_sys(err, "create the sandbox root");
  }
  if (prepare_probes(c, o, err) < 0 || (o->lock_ring && c->probe.ring_fd >= 0 && ward_container_lock_ring(c, err) < 0))
    return -1;
  if (!o->no_cgroup) {
    _cleanup_free_ char *path = NULL;
    if (cfg->cgroups_path)
      path = strdup(cfg->cgroups_path[0] == '/' ? cfg->cgroups_path : cfg->cgroups_path);
    else if (asprintf(&path, "ward/%s", o->id) < 0)
      path = NULL;
    if (path == NULL)
      return ward_error(err, ENOMEM, "cgroup");
    _cleanup_free_ struct ward_device_rule *rules = NULL;
    size_t n_rules = 0;
    if (ward_devices_rules(cfg, &rules, &n_rules, err) < 0 ||
        ward_cgroup_create(path, &cfg->resources, rules, n_rules, false, &c->state->cgroup, err) < 0)
      return -1;
    if (c->state->cgroup->warnings)
      ward_warn("%s", c->state->cgroup->warnings);
  }
  if (rlimit_fallback(cfg, c->state->cgroup, err) < 0)
    return -1;

  struct ward_launch *L = &c->launch;
  L->cfg = cfg;
  L->state = c->state;
  L->mode = o->mode;
  L->no_pivot = o->no_pivot;
  L->no_new_keyring = o->no_new_keyring;
  L->preserve_fds = o->preserve_fds;
  L->console_socket = o->console_socket;
  L->host_root_bind = o->host_root_bind;
  L->close_in_init = c->ring_lock_fd;
  struct launched_call launched = {c, o};
  if (o->launched) {
    L->on_the_way = call_launched;
    L->on_the_way_arg = &launched;
  }
  int started = ward_launch_prepare(L, err) < 0 ? -1 : ward_launch_start(L, err);
  L->on_the_way = NULL;
  L->on_the_way_arg = NULL;
  if (started < 0)
    return -1;
  free(c->state->status_hint);
  c->state->status_hint = NULL;
  /* The engine may act (kill, quarantine) on the first event, which the
   * init's execve can raise at once: the state it loads must say running
   * with a pid by then. */
  if (ward_state_save(c->state, err) < 0)
    return -1;
  /* before ready: what fails after it has been served by an engine */
  if (o->pid_file && write_pid_file(o->pid_file, L->pid, err) < 0)
    return ward_error_prefix(err, "--pid-file");
  if (o->ready)
    o->ready(o->opaque, o, c);
  return 0;
}

void ward_container_unlock_ring(struct ward_container *c)
{
  if (c->ring_lock_fd >= 0)
    close(c->ring_lock_fd);
  c->ring_lock_fd = -1;
}

int ward_container_lock_ring(struct ward_container *c, ward_error_t *err)
{
  if (c->ring_lock_fd >= 0 || c->probe.dir == NULL)
    return 0;
  _cleanup_free_ char *lock = NULL;
  if (asprintf(&lock, "%s/" WARD_PROBE_RING ".lock", c->probe.dir) < 0)
    return ward_error(err, ENOMEM, "ring lock");
  return ward_ring_lock_consumer(lock, &c->ring_lock_fd, err);
}

int ward_container_create(struct ward_create_opts *o, struct ward_container **out, ward_error_t *err)
{
  struct ward_container *c = calloc(1, sizeof(*c));
  if (c == NULL)
    return ward_error(err, ENOMEM, "container");
  c->ring_lock_fd = -1;
  ward_launch_init(&c->launch);
  c->probe.ring_fd = -1;
  int rc;
  if (o->cfg)
    c->cfg = steal_pointer(&o->cfg), rc = 0;
  else
    rc = ward_config_load(o->bundle, &c->cfg, err);
  if (rc == 0)
    rc = create_steps(c, o, err);
  if (rc < 0) {
    /* Undo in reverse: the init (killed by the launch), the cgroup, the
     * state directory. Nothing of a failed create may remain. */
    /* state->dir is set only once we created the directory ourselves. */
    bool owned_dir = c->state && c->state->dir;
    if (c->state && c->state->cgroup) {
      _cleanup_error_ ward_error_t ignored = NULL;
      ward_cgroup_kill(c->state->cgroup, SIGKILL, &ignored);
      ward_error_free(&ignored);
      ward_cgroup_destroy(c->state->cgroup, &ignored);
    }
    if (owned_dir) {
      _cleanup_error_ ward_error_t ignored = NULL;
      ward_state_remove_dir(c->state->dir, &ignored);
    }
    if (o->landlock) {
      ward_landlock_free(o->landlock);
      o->landlock = NULL;
    }
    if (o->extra_landlock) {
      ward_landlock_free(o->extra_landlock);
      o->extra_landlock = NULL;
    }
    if (o->extra_seccomp) {
      ward_seccomp_prog_free(o->extra_seccomp);
      o->extra_seccomp = NULL;
    }
    ward_container_free(c);
    return -1;
  }
  *out = c;
  return 0;
}

int ward_container_config(const struct ward_state *st, struct ward_config **out, ward_error_t *err)
{
  _cleanup_free_ char *path = ward_state_path(st, "config.json");
  _cleanup_json_ json_t *doc = NULL;
  if (path == NULL)
    return ward_error(err, ENOMEM, "config");
  if (wj_load_file(path, 16u << 20, &doc, err) < 0)
    return -1;
  return ward_config_parse_json(path, doc, out, err);
}

/* Only a config with hooks of this kind is worth parsing again (states
 * written before the mask existed say -1: parse to find out). */
static bool may_have_hooks(const struct ward_state *st, enum ward_hook_kind kind)
{
  return st->hooks < 0 || (st->hooks & (1 << kind)) != 0;
}

static void run_poststop(struct ward_state *st)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_config *cfg = NULL;
  if (!may_have_hooks(st, WARD_HOOK_POSTSTOP) || ward_container_config(st, &cfg, &err) < 0)
    return;
  if (cfg->hooks.count[WARD_HOOK_POSTSTOP]) {
    _cleanup_json_ json_t *sj = ward_state_oci_json(st);
    json_object_set_new(sj, "status", json_string("stopped"));
    _cleanup_free_ char *text = json_dumps(sj, JSON_COMPACT);
    if (text && ward_hooks_run(&cfg->hooks, WARD_HOOK_POSTSTOP, text, &err) < 0)
      ward_warn("%s", err->msg);
  }
  ward_config_free(cfg);
}

/* A v1 cgroup whose members have all exited needs no kill: the freeze and
 * thaw around it cost milliseconds each. (cgroup.kill, where there is a
 * cgroup2 directory, is one write and needs no check.) */
static bool v1_cgroup_empty(const struct ward_cgroup *cg)
{
  if (cg->unified)
    return false;
  _cleanup_error_ ward_error_t ignored = NULL;
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  return ward_cgroup_pids(cg, &pids, &n, &ignored) == 0 && n == 0;
}

int ward_container_destroy(const char *root, struct ward_state *st, bool run_hooks, ward_error_t *err)
{
  (void) root;
  if (st->cgroup) {
    if (!v1_cgroup_empty(st->cgroup) && ward_cgroup_kill(st->cgroup, SIGKILL, err) < 0)
      ward_error_free(err);
    if (ward_cgroup_destroy(st->cgroup, err) < 0)
      return -1;
  } else if (ward_state_pid_alive(st)) {
    kill(st->pid, SIGKILL);
  }
  if (run_hooks)
    run_poststop(st);
  return ward_state_remove_dir(st->dir, err);
}

void ward_forwarded_signals(sigset_t *set)
{
  sigemptyset(set);
  int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
  for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
    sigaddset(set, forwarded[i]);
}

int ward_reap_status(pid_t pid)
{
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return 1;
}

int ward_wait_forwarding(pid_t pid, int pidfd)
{
  sigset_t mask, old;
  ward_forwarded_signals(&mask);
  sigprocmask(SIG_BLOCK, &mask, &old);
  _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  struct pollfd fds[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
  for (;;) {
    int r = poll(fds, sfd >= 0 ? 2 : 1, -1);
    if (r < 0 && errno != EINTR)
      break;
    if (sfd >= 0 && (fds[1].revents & POLLIN)) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof(si)) == sizeof(si))
        kill(pid, (int) si.ssi_signo);
    }
    if (fds[0].revents & (POLLIN | POLLHUP))
      break;
  }
  int status = ward_reap_status(pid);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return status;
}

int ward_container_wait(struct ward_container *c) { return ward_wait_forwarding(c->launch.pid, c->launch.pidfd); }

int ward_container_start(const char *root, const char *id, ward_error_t *err)
{
  _cleanup_state_ struct ward_state *st = NULL;
  if (ward_state_load(root, id, &st, err) < 0)
    return -1;
  _cleanup_close_ int lock = ward_state_lock(st->dir, err);
  if (lock < 0)
    return -1;
  enum ward_status s = ward_state_status(st);
  if (s != WARD_CREATED)
    return ward_error(err, 0, "container \"%s\" is %s, not created: only a created container can be started", id,
                      ward_status_name(s));
  _cleanup_free_ char *fifo = ward_state_path(st, "exec.fifo");
  /* The init blocks opening the fifo for writing; our open releases it. */
  _cleanup_close_ int fd = open(fifo, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ward_error_sys(err, "open %s", fifo);
  char c;
  ssize_t n = read(fd, &c, 1);
  unlink(fifo);
  if (n != 1)
    return ward_error(err, EIO, "container \"%s\": the init exited before it was started", id);
  _cleanup_config_ struct ward_config *cfg = NULL;
  if (may_have_hooks(st, WARD_HOOK_POSTSTART) && ward_container_config(st, &cfg, err) == 0 &&
      cfg->hooks.count[WARD_HOOK_POSTSTART]) {
    _cleanup_json_ json_t *sj = ward_state_oci_json(st);
    _cleanup_free_ char *text = json_dumps(sj, JSON_COMPACT);
    _cleanup_error_ ward_error_t herr = NULL;
    if (text && ward_hooks_run(&cfg->hooks, WARD_HOOK_POSTSTART, text, &herr) < 0)
      ward_warn("%s", herr->msg);
  }
  ward_error_free(err);
  return 0;
}

int ward_container_signal(const char *root, const char *id, int sig, bool all, ward_error_t *err)
{
  _cleanup_state_ struct ward_state *st = NULL;
  if (ward_state_load(root, id, &st, err) < 0)
    return -1;
  enum ward_status s = ward_state_status(st);
  if (s == WARD_STOPPED && !all)
    return ward_error(err, ESRCH, "container \"%s\" is not running", id);
  if (all && st->cgroup)
    return ward_cgroup_kill(st->cgroup, sig, err);
  if (s == WARD_STOPPED)
    return 0;
  if (kill(st->pid, sig) < 0)
    return ward_error_sys(err, "kill container \"%s\"", id);
  return 0;
}

int ward_container_delete(const char *root, const char *id, bool force, ward_error_t *err)
{
  _cleanup_state_ struct ward_state *st = NULL;
  if (ward_state_load(root, id, &st, err) < 0) {
    /* A directory left by a creation that died can always be removed. */
    _cleanup_free_ char *dir = NULL;
    struct stat sb;
    if (force && (*err)->errnum == ENOENT && ward_valid_id(id) && asprintf(&dir, "%s/%s", root, id) >= 0 &&
        stat(dir, &sb) == 0) {
      ward_error_free(err);
      return ward_state_remove_dir(dir, err);
    }
    return -1;
  }
  _cleanup_close_ int lock = ward_state_lock(st->dir, err);
  if (lock < 0)
    return -1;
  enum ward_status s = ward_state_status(st);
  if (s != WARD_STOPPED && s != WARD_CREATED && !force)
    return ward_error(err, EBUSY, "container \"%s\" is %s: stop it first or use --force", id, ward_status_name(s));
  if (s == WARD_PAUSED && st->cgroup) {
    _cleanup_error_ ward_error_t ignored = NULL;
    ward_cgroup_freeze(st->cgroup, false, &ignored);
  }
  int rc = ward_container_destroy(root, st, true, err);
  /* what containers whose state directory was removed by hand left in
   * memory (common/rundir.h): `ward delete` is run for every container an
   * engine like containerd or podman removes, `ward run` is not slowed */
  ward_run_dir_sweep();
  return rc;
}
