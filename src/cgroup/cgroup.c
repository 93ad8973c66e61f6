/* Creation, limits, membership and removal of a container's cgroups. */
#include "cgroup/cgroup.h"
#include "cgroup/devices.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

const char *ward_cgroup_mode_name(enum ward_cgroup_mode mode)
{
  switch (mode) {
  case WARD_CGROUP_V1: return "v1";
  case WARD_CGROUP_V2: return "v2";
  case WARD_CGROUP_HYBRID: return "hybrid";
  default: return "none";
  }
}

enum ward_cgroup_mode ward_cgroup_detect(void)
{
  struct statfs st;
  if (statfs(CGROUP_ROOT, &st) < 0)
    return WARD_CGROUP_NONE;
  if (st.f_type == CGROUP2_SUPER_MAGIC)
    return WARD_CGROUP_V2;
  if (st.f_type != TMPFS_MAGIC)
    return WARD_CGROUP_NONE;
  struct statfs u;
  if (statfs(CGROUP_ROOT "/unified", &u) == 0 && u.f_type == CGROUP2_SUPER_MAGIC)
    return WARD_CGROUP_HYBRID;
  return WARD_CGROUP_V1;
}

void ward_cgroup_free(struct ward_cgroup *cg)
{
  if (cg == NULL)
    return;
  free(cg->path);
  free(cg->unified);
  for (size_t i = 0; i < cg->n_v1; i++) {
    free(cg->v1[i].name);
    free(cg->v1[i].dir);
    free(cg->v1[i].mount);
  }
  free(cg->warnings);
  free(cg);
}

static void add_warning(struct ward_cgroup *cg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_warning(struct ward_cgroup *cg, const char *fmt, ...)
{
  va_list ap;
  char *msg = NULL, *joined = NULL;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  if (msg == NULL)
    return;
  if (cg->warnings == NULL)
    joined = msg;
  else if (asprintf(&joined, "%s; %s", cg->warnings, msg) >= 0)
    free(msg);
  else
    joined = NULL;
  if (joined) {
    free(cg->warnings);
    cg->warnings = joined;
  }
}

/* The v1 hierarchies mounted on this host, from mountinfo. */
static int list_v1(struct ward_cgroup *cg, ward_error_t *err)
{
  _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL)
    return ward_error_sys(err, "open /proc/self/mountinfo");
  _cleanup_free_ char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    /* ... mountpoint ... - fstype source superoptions */
    char *sep = strstr(line, " - ");
    if (sep == NULL)
      continue;
    char fstype[32], source[64], opts[512], mnt[512];
    if (sscanf(sep + 3, "%31s %63s %511s", fstype, source, opts) != 3 || strcmp(fstype, "cgroup") != 0)
      continue;
    if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 || !ward_has_prefix(mnt, CGROUP_ROOT "/"))
      continue;
    if (cg->n_v1 >= WARD_CGROUP_MAX_V1)
      break;
    struct ward_cgroup_v1 *h = &cg->v1[cg->n_v1];
    h->mount = strdup(mnt);
    h->name = strdup(mnt + strlen(CGROUP_ROOT "/"));
    if (h->mount == NULL || h->name == NULL)
      return ward_error(err, ENOMEM, "cgroup");
    cg->n_v1++;
  }
  return 0;
}

static int mkdir_tree(const char *base, const char *rel, char **out, ward_error_t *err)
{
  _cleanup_free_ char *dir = NULL;
  if (asprintf(&dir, "%s/%s", base, rel) < 0)
    return ward_error(err, ENOMEM, "cgroup");
  if (ward_mkdir_p(dir, 0755, err) < 0)
    return -1;
  *out = steal_pointer(&dir);
  return 0;
}

/* A new v1 cpuset starts with empty cpus and mems, and no task can join it
 * until they are filled: copy them down from the nearest ancestor. */
static int cpuset_inherit(const char *mount, const char *rel, ward_error_t *err)
{
  _cleanup_free_ char *walk = strdup(rel);
  if (walk == NULL)
    return ward_error(err, ENOMEM, "cpuset");
  size_t len = strlen(walk);
  for (size_t i = 0; i <= len; i++) {
    if (walk[i] != '/' && walk[i] != '\0')
      continue;
    char saved = walk[i];
    walk[i] = '\0';
    static const char *files[] = {"cpuset.cpus", "cpuset.mems"};
    for (int k = 0; k < 2; k++) {
      _cleanup_free_ char *child = NULL, *parent = NULL, *value = NULL, *mine = NULL;
      const char *slash = strrchr(walk, '/');
      if (asprintf(&child, "%s/%s/%s", mount, walk, files[k]) < 0 ||
          asprintf(&parent, "%s/%.*s/%s", mount, slash ? (int) (slash - walk) : 0, walk, files[k]) < 0)
        return ward_error(err, ENOMEM, "cpuset");
      if (ward_read_file(child, 4096, &mine, NULL, err) < 0)
        return -1;
      if (mine[0] != '\n' && mine[0] != '\0')
        continue;
      if (ward_read_file(parent, 4096, &value, NULL, err) < 0 || ward_write_string_at(AT_FDCWD, child, value, err) < 0)
        return -1;
    }
    walk[i] = saved;
  }
  return 0;
}

static int write_knob(const char *dir, const char *file, const char *value, ward_error_t *err)
{
  _cleanup_free_ char *path = NULL;
  if (asprintf(&path, "%s/%s", dir, file) < 0)
    return ward_error(err, ENOMEM, "cgroup");
  return ward_write_string_at(AT_FDCWD, path, value, err);
}

static int write_num(const char *dir, const char *file, long long v, ward_error_t *err)
{
  char buf[32];
  snprintf(buf, sizeof(buf), "%lld", v);
  return write_knob(dir, file, buf, err);
}

static const char *v1_dir(const struct ward_cgroup *cg, const char *controller)
{
  for (size_t i = 0; i < cg->n_v1; i++) {
    const char *name = cg->v1[i].name;
    size_t n = strlen(controller);
    /* "cpu" must match "cpu" and "cpu,cpuacct" but not "cpuset" */
    for (const char *p = name; (p = strstr(p, controller)) != NULL; p += n)
      if ((p == name || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
        return cg->v1[i].dir;
  }
  return NULL;
}

unsigned long ward_cgroup_shares_to_weight(unsigned long shares)
{
  if (shares == 0)
    return 0;
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

static int need(const struct ward_cgroup *cg, const char *dir, const char *what, ward_error_t *err)
{
  (void) cg;
  if (dir == NULL)
    return ward_error(err, ENOTSUP, "the %s controller is not available on this host", what);
  return 0;
}

static int update_v1(const struct ward_cgroup *cg, const struct ward_resources *r, ward_error_t *err)
{
  const char *mem = v1_dir(cg, "memory"), *pids = v1_dir(cg, "pids"), *cpu = v1_dir(cg, "cpu"),
             *cpuset = v1_dir(cg, "cpuset");
  if (r->memory_limit > 0 || r->memory_reservation > 0 || r->memory_swap >= 0) {
    if (need(cg, mem, "memory", err) < 0)
      return -1;
    if (r->memory_limit > 0 && write_num(mem, "memory.limit_in_bytes", r->memory_limit, err) < 0)
      return -1;
    if (r->memory_reservation > 0 && write_num(mem, "memory.soft_limit_in_bytes", r->memory_reservation, err) < 0)
      return -1;
    if (r->memory_swap >= 0) {
      _cleanup_free_ char *p = NULL;
      if (asprintf(&p, "%s/memory.memsw.limit_in_bytes", mem) < 0)
        return ward_error(err, ENOMEM, "cgroup");
      if (access(p, F_OK) < 0)
        return ward_error(err, ENOTSUP, "linux.resources.memory.swap: swap accounting is off on this host");
      if (write_num(mem, "memory.memsw.limit_in_bytes", r->memory_swap, err) < 0)
        return -1;
    }
  }
  if (r->pids_limit > 0 && (need(cg, pids, "pids", err) < 0 || write_num(pids, "pids.max", r->pids_limit, err) < 0))
    return -1;
  if (r->cpu_shares || r->cpu_period || r->cpu_quota > 0) {
    if (need(cg, cpu, "cpu", err) < 0)
      return -1;
    if (r->cpu_shares && write_num(cpu, "cpu.shares", (long long) r->cpu_shares, err) < 0)
      return -1;
    if (r->cpu_period && write_num(cpu, "cpu.cfs_period_us", (long long) r->cpu_period, err) < 0)
      return -1;
    if (r->cpu_quota > 0 && write_num(cpu, "cpu.cfs_quota_us", r->cpu_quota, err) < 0)
      return -1;
  }
  if (r->cpu_cpus && (need(cg, cpuset, "cpuset", err) < 0 || write_knob(cpuset, "cpuset.cpus", r->cpu_cpus, err) < 0))
    return -1;
  if (r->cpu_mems && (need(cg, cpuset, "cpuset", err) < 0 || write_knob(cpuset, "cpuset.mems", r->cpu_mems, err) < 0))
    return -1;
  return 0;
}

static int update_v2(const struct ward_cgroup *cg, const struct ward_resources *r, ward_error_t *err)
{
  const char *d = cg->unified;
  if (r->memory_limit > 0 && write_num(d, "memory.max", r->memory_limit, err) < 0)
    return -1;
  if (r->memory_reservation > 0 && write_num(d, "memory.low", r->memory_reservation, err) < 0)
    return -1;
  if (r->memory_swap >= 0 && r->memory_limit > 0 && write_num(d, "memory.swap.max", r->memory_swap - r->memory_limit, err) < 0)
    return -1;
  if (r->pids_limit > 0 && write_num(d, "pids.max", r->pids_limit, err) < 0)
    return -1;
  if (r->cpu_shares && write_num(d, "cpu.weight", (long long) ward_cgroup_shares_to_weight(r->cpu_shares), err) < 0)
    return -1;
  if (r->cpu_quota > 0 || r->cpu_period) {
    char buf[64];
    unsigned long long period = r->cpu_period ? r->cpu_period : 100000;
    if (r->cpu_quota > 0)
      snprintf(buf, sizeof(buf), "%lld %llu", (long long) r->cpu_quota, period);
    else
      snprintf(buf, sizeof(buf), "max %llu", period);
    if (write_knob(d, "cpu.max", buf, err) < 0)
      return -1;
  }
  if (r->cpu_cpus && write_knob(d, "cpuset.cpus", r->cpu_cpus, err) < 0)
    return -1;
  if (r->cpu_mems && write_knob(d, "cpuset.mems", r->cpu_mems, err) < 0)
    return -1;
  return 0;
}

int ward_cgroup_update(const struct ward_cgroup *cg, const struct ward_resources *res, ward_error_t *err)
{
  int rc = 0;
  if (cg->mode == WARD_CGROUP_V2)
    rc = update_v2(cg, res, err);
  else if (cg->mode == WARD_CGROUP_V1 || cg->mode == WARD_CGROUP_HYBRID)
    rc = update_v1(cg, res, err);
  else if (res->any)
    rc = ward_error(err, ENOTSUP, "no writable cgroup hierarchy: resource limits cannot be enforced");
  return rc < 0 ? ward_error_prefix(err, "linux.resources") : 0;
}

static void enable_in(const char *dir)
{
  _cleanup_error_ ward_error_t ignored = NULL;
  _cleanup_free_ char *ctl = NULL, *avail = NULL;
  if (asprintf(&ctl, "%s/cgroup.controllers", dir) < 0 || ward_read_file(ctl, 4096, &avail, NULL, &ignored) < 0)
    return;
  static const char *wanted[] = {"cpu", "cpuset", "memory", "pids", "io"};
  for (size_t i = 0; i < ARRAY_SIZE(wanted); i++) {
    char token[16];
    snprintf(token, sizeof(token), "+%s", wanted[i]);
    if (strstr(avail, wanted[i]))
      write_knob(dir, "cgroup.subtree_control", token, &ignored);
  }
}

/* cgroup2's "no internal processes" rule means controllers are enabled from
 * the root down to the container's parent, never in the leaf itself. */
static void enable_v2_controllers(const char *rel)
{
  _cleanup_free_ char *walk = strdup(rel), *dir = strdup(CGROUP_ROOT);
  if (walk == NULL || dir == NULL)
    return;
  for (char *p = walk;;) {
    enable_in(dir);
    char *slash = strchr(p, '/');
    if (slash == NULL)
      return;
    *slash = '\0';
    char *deeper = NULL;
    if (asprintf(&deeper, "%s/%s", dir, p) < 0)
      return;
    free(dir);
    dir = deeper;
    p = slash + 1;
  }
}

static bool denied(int errnum)
{
  return errnum == EACCES || errnum == EPERM || errnum == EROFS;
}

int ward_cgroup_create(const char *path, const struct ward_resources *res, const struct ward_device_rule *devices,
                       size_t n_devices, bool required_limits, struct ward_cgroup **out, ward_error_t *err)
{
  _cleanup_cgroup_ struct ward_cgroup *cg = calloc(1, sizeof(*cg));
  if (cg == NULL || (cg->path = strdup(path[0] == '/' ? path + 1 : path)) == NULL)
    return ward_error(err, ENOMEM, "cgroup");
  enum ward_cgroup_mode mode = ward_cgroup_detect();
  int rc = 0;
  if (mode == WARD_CGROUP_V2) {
    rc = mkdir_tree(CGROUP_ROOT, cg->path, &cg->unified, err);
    if (rc == 0)
      enable_v2_controllers(cg->path);
  } else if (mode == WARD_CGROUP_V1 || mode == WARD_CGROUP_HYBRID) {
    rc = list_v1(cg, err);
    for (size_t i = 0; rc == 0 && i < cg->n_v1; i++) {
      rc = mkdir_tree(cg->v1[i].mount, cg->path, &cg->v1[i].dir, err);
      if (rc == 0 && strcmp(cg->v1[i].name, "cpuset") == 0)
        rc = cpuset_inherit(cg->v1[i].mount, cg->path, err);
    }
    if (rc == 0 && mode == WARD_CGROUP_HYBRID)
      rc = mkdir_tree(CGROUP_ROOT "/unified", cg->path, &cg->unified, err);
  }
  cg->mode = mode;
  if (rc < 0) {
    int errnum = (*err)->errnum;
    /* Partially created directories go again before we report. */
    _cleanup_error_ ward_error_t ignored = NULL;
    ward_cgroup_destroy(cg, &ignored);
    if (!denied(errnum))
      return ward_error_prefix(err, "create cgroup %s", path);
    if (res->any && required_limits)
      return ward_error_prefix(err, "cgroup %s is not delegated to this user, so resource limits cannot be enforced", path);
    ward_error_free(err);
    for (size_t i = 0; i < cg->n_v1; i++) {
      free(cg->v1[i].dir);
      cg->v1[i].dir = NULL;
    }
    cg->mode = WARD_CGROUP_NONE;
    if (res->any)
      add_warning(cg, "cgroups are not delegated to this user: memory/pids/cpu limits are not enforced by cgroups");
  }
  if (cg->mode != WARD_CGROUP_NONE && ward_cgroup_update(cg, res, err) < 0) {
    _cleanup_error_ ward_error_t ignored = NULL;
    ward_cgroup_destroy(cg, &ignored);
    return -1;
  }
  if (devices && ward_cgroup_devices_apply(cg, devices, n_devices, err) < 0) {
    if ((*err)->errnum != ENOTSUP) {
      _cleanup_error_ ward_error_t ignored = NULL;
      ward_cgroup_destroy(cg, &ignored);
      return ward_error_prefix(err, "linux.resources.devices");
    }
    add_warning(cg, "%s: device nodes are not restricted", (*err)->msg);
    ward_error_free(err);
  }
  *out = steal_pointer(&cg);
  return 0;
}

int ward_cgroup_enter(const struct ward_cgroup *cg, pid_t pid, ward_error_t *err)
{
  char buf[32];
  snprintf(buf, sizeof(buf), "%d", (int) pid);
  for (size_t i = 0; i < cg->n_v1; i++)
    if (cg->v1[i].dir && write_knob(cg->v1[i].dir, "cgroup.procs", buf, err) < 0)
      return ward_error_prefix(err, "join cgroup %s", cg->v1[i].dir);
  if (cg->unified && write_knob(cg->unified, "cgroup.procs", buf, err) < 0)
    return ward_error_prefix(err, "join cgroup %s", cg->unified);
  return 0;
}

void ward_cgroup_join_close(struct ward_cgroup_join *j)
{
  for (size_t i = 0; i < j->n_tasks; i++)
    if (j->tasks[i] >= 0)
      close(j->tasks[i]);
  j->n_tasks = 0;
  if (j->unified_fd >= 0)
    close(j->unified_fd);
  j->unified_fd = -1;
}

bool ward_cgroup_join_begin(const struct ward_cgroup *cg, struct ward_cgroup_join *j)
{
  *j = (struct ward_cgroup_join) {.unified_fd = -1};
  if (cg == NULL || cg->mode == WARD_CGROUP_NONE)
    return false;
  for (size_t i = 0; i < cg->n_v1; i++) {
    if (cg->v1[i].dir == NULL)
      continue;
    _cleanup_free_ char *path = NULL;
    int fd = asprintf(&path, "%s/tasks", cg->v1[i].dir) < 0 ? -1 : open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      ward_cgroup_join_close(j);
      return false;
    }
    j->tasks[j->n_tasks++] = fd;
  }
  if (cg->unified && (j->unified_fd = open(cg->unified, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
    ward_cgroup_join_close(j);
    return false;
  }
  return true;
}

bool ward_cgroup_join_refused(struct ward_cgroup_join *j, int errnum)
{
  if (errnum != EINVAL && errnum != E2BIG && errnum != ENOSYS && errnum != EOPNOTSUPP && errnum != EBUSY)
    return false;
  ward_cgroup_join_close(j);
  return true;
}

int ward_cgroup_join_self(struct ward_cgroup_join *j, ward_error_t *err)
{
  for (size_t i = 0; i < j->n_tasks; i++) {
    if (write(j->tasks[i], "0", 1) != 1) {
      int saved = errno;
      ward_cgroup_join_close(j);
      return ward_error(err, saved, "join the container's cgroup (v1 tasks)");
    }
  }
  ward_cgroup_join_close(j);
  return 0;
}

static const char *member_dir(const struct ward_cgroup *cg)
{
  if (cg->unified)
    return cg->unified;
  const char *d = v1_dir(cg, "pids");
  if (d == NULL)
    d = v1_dir(cg, "memory");
  if (d == NULL && cg->n_v1 > 0)
    d = cg->v1[0].dir;
  return d;
}

int ward_cgroup_pids(const struct ward_cgroup *cg, pid_t **pids, size_t *n, ward_error_t *err)
{
  *pids = NULL;
  *n = 0;
  const char *dir = member_dir(cg);
  if (dir == NULL)
    return 0;
  _cleanup_free_ char *path = NULL, *buf = NULL;
  if (asprintf(&path, "%s/cgroup.procs", dir) < 0)
    return ward_error(err, ENOMEM, "cgroup");
  if (ward_read_file(path, 0, &buf, NULL, err) < 0)
    return -1;
  size_t cap = 0;
  for (char *save = NULL, *tok = strtok_r(buf, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
    if (*n == cap) {
      cap = cap ? cap * 2 : 16;
      pid_t *bigger = realloc(*pids, cap * sizeof(pid_t));
      if (bigger == NULL) {
        free(*pids);
        *pids = NULL;
        return ward_error(err, ENOMEM, "cgroup");
      }
      *pids = bigger;
    }
    (*pids)[(*n)++] = (pid_t) atoi(tok);
  }
  return 0;
}

static void sleep_ms(long ms)
{
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int ward_cgroup_kill(const struct ward_cgroup *cg, int sig, ward_error_t *err)
{
  /* cgroup.kill (5.14+) is atomic against forks; elsewhere freeze, signal
   * every member, thaw, and repeat until nothing is left. */
  if (sig == SIGKILL && cg->unified) {
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/cgroup.kill", cg->unified) >= 0 && access(path, F_OK) == 0)
      return write_knob(cg->unified, "cgroup.kill", "1", err);
  }
  /* A paused container stays paused: only thaw what we froze. */
  bool frozen = ward_cgroup_is_frozen(cg) != 1 && ward_cgroup_freeze(cg, true, err) == 0;
  ward_error_free(err);
  pid_t *pids = NULL;
  size_t n = 0;
  int rc = ward_cgroup_pids(cg, &pids, &n, err);
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (kill(pids[i], sig) < 0 && errno != ESRCH)
      rc = ward_error_sys(err, "kill %d", (int) pids[i]);
  free(pids);
  if (frozen) {
    _cleanup_error_ ward_error_t ignored = NULL;
    ward_cgroup_freeze(cg, false, &ignored);
  }
  return rc;
}

int ward_cgroup_is_frozen(const struct ward_cgroup *cg)
{
  _cleanup_error_ ward_error_t ignored = NULL;
  _cleanup_free_ char *path = NULL, *buf = NULL;
  const char *freezer = v1_dir(cg, "freezer");
  if (cg->unified) {
    if (asprintf(&path, "%s/cgroup.events", cg->unified) < 0 || ward_read_file(path, 4096, &buf, NULL, &ignored) < 0)
      return -1;
    return strstr(buf, "frozen 1") != NULL;
  }
  if (freezer) {
    if (asprintf(&path, "%s/freezer.state", freezer) < 0 || ward_read_file(path, 4096, &buf, NULL, &ignored) < 0)
      return -1;
    return ward_has_prefix(buf, "FROZEN");
  }
  return -1;
}

int ward_cgroup_freeze(const struct ward_cgroup *cg, bool freeze, ward_error_t *err)
{
  const char *freezer = v1_dir(cg, "freezer");
  int rc;
  if (cg->unified)
    rc = write_knob(cg->unified, "cgroup.freeze", freeze ? "1" : "0", err);
  else if (freezer)
    rc = write_knob(freezer, "freezer.state", freeze ? "FROZEN" : "THAWED", err);
  else
    return ward_error(err, ENOTSUP, "no freezer: the container has no cgroup2 directory or v1 freezer");
  if (rc < 0)
    return -1;
  /* Freezing is asynchronous; report only once every task has stopped. */
  for (int i = 0; i < 1000; i++) {
    int state = ward_cgroup_is_frozen(cg);
    if (state == (freeze ? 1 : 0))
      return 0;
    sleep_ms(2);
  }
  return ward_error(err, ETIMEDOUT, "the cgroup did not %s within 2 s", freeze ? "freeze" : "thaw");
}

static int remove_dir(const char *dir, ward_error_t *err)
{
  /* Members killed a moment ago may take a while to be reaped on a loaded
   * host; wait up to 5 s before calling the cgroup busy. */
  for (int i = 0; i < 2500; i++) {
    if (rmdir(dir) == 0 || errno == ENOENT)
      return 0;
    if (errno != EBUSY)
      return ward_error_sys(err, "remove cgroup %s", dir);
    sleep_ms(2);
  }
  return ward_error(err, EBUSY, "remove cgroup %s: still has members", dir);
}

int ward_cgroup_destroy(struct ward_cgroup *cg, ward_error_t *err)
{
  int rc = 0;
  for (size_t i = 0; i < cg->n_v1; i++)
    if (cg->v1[i].dir && remove_dir(cg->v1[i].dir, err) < 0)
      rc = -1;
  if (cg->unified && remove_dir(cg->unified, err) < 0)
    rc = -1;
  return rc;
}

json_t *ward_cgroup_to_json(const struct ward_cgroup *cg)
{
  json_t *v1 = json_array();
  for (size_t i = 0; i < cg->n_v1; i++)
    if (cg->v1[i].dir)
      json_array_append_new(v1, json_pack("{s:s, s:s, s:s}", "name", cg->v1[i].name, "dir", cg->v1[i].dir,
                                          "mount", cg->v1[i].mount));
  return json_pack("{s:s, s:s, s:s?, s:o}", "mode", ward_cgroup_mode_name(cg->mode), "path", cg->path,
                   "unified", cg->unified, "v1", v1);
}

int ward_cgroup_from_json(json_t *j, struct ward_cgroup **out, ward_error_t *err)
{
  _cleanup_cgroup_ struct ward_cgroup *cg = calloc(1, sizeof(*cg));
  if (cg == NULL)
    return ward_error(err, ENOMEM, "cgroup");
  _cleanup_free_ char *mode = NULL;
  if (wj_expect(j, JSON_OBJECT, "cgroup", err) < 0 || wj_req_string(j, "mode", "cgroup", &mode, err) < 0 ||
      wj_req_string(j, "path", "cgroup", &cg->path, err) < 0 || wj_opt_string(j, "unified", "cgroup", &cg->unified, err) < 0)
    return -1;
  cg->mode = strcmp(mode, "v2") == 0 ? WARD_CGROUP_V2 : strcmp(mode, "v1") == 0 ? WARD_CGROUP_V1
             : strcmp(mode, "hybrid") == 0 ? WARD_CGROUP_HYBRID : WARD_CGROUP_NONE;
  json_t *v1 = json_object_get(j, "v1");
  for (size_t i = 0; json_is_array(v1) && i < json_array_size(v1) && cg->n_v1 < WARD_CGROUP_MAX_V1; i++) {
    json_t *e = json_array_get(v1, i);
    struct ward_cgroup_v1 *h = &cg->v1[cg->n_v1++];
    if (wj_req_string(e, "name", "cgroup.v1", &h->name, err) < 0 || wj_req_string(e, "dir", "cgroup.v1", &h->dir, err) < 0 ||
        wj_req_string(e, "mount", "cgroup.v1", &h->mount, err) < 0)
      return -1;
  }
  *out = steal_pointer(&cg);
  return 0;
}
