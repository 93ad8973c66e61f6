/* Finding the container being acted on and its processes. */
#include "agent/action_internal.h"

#include "cgroup/cgroup.h"
#include "common/cleanup.h"
#include "probe/event.h"
#include "probe/prepare.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int action_load_running(const char *root, const char *id, struct ward_state **out, ward_error_t *err)
{
  _cleanup_state_ struct ward_state *st = NULL;
  if (ward_state_load(root, id, &st, err) < 0)
    return -1;
  enum ward_status s = ward_state_status(st);
  if (s != WARD_RUNNING && s != WARD_PAUSED)
    return ward_error(err, ESRCH, "container \"%s\" is %s, not running", id, ward_status_name(s));
  *out = steal_pointer(&st);
  return 0;
}

static bool ns_ino(pid_t pid, const char *ns, dev_t *dev, ino_t *ino)
{
  char path[64];
  struct stat sb;
  if (pid > 0)
    snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int) pid, ns);
  else
    snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
  if (stat(path, &sb) < 0)
    return false;
  *dev = sb.st_dev;
  *ino = sb.st_ino;
  return true;
}

bool action_own_ns(pid_t pid, const char *ns)
{
  dev_t d1, d2;
  ino_t i1, i2;
  return ns_ino(pid, ns, &d1, &i1) && ns_ino(0, ns, &d2, &i2) && (d1 != d2 || i1 != i2);
}

/* An exited process waiting for its parent is not there any more. */
static bool zombie(pid_t pid)
{
  char path[64], buf[512];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return true;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return true;
  buf[n] = 0;
  char *rp = strrchr(buf, ')');
  return rp == NULL || rp[1] == 0 || rp[2] == 'Z' || rp[2] == 'X';
}

/* Without a cgroup: every process whose pid namespace is the init's. */
static int pidns_members(pid_t init, pid_t **pids, size_t *n, ward_error_t *err)
{
  dev_t dev;
  ino_t ino;
  *pids = NULL;
  *n = 0;
  if (!ns_ino(init, "pid", &dev, &ino))
    return ward_error_sys(err, "/proc/%d/ns/pid", (int) init);
  bool own = action_own_ns(init, "pid");
  _cleanup_closedir_ DIR *d = opendir("/proc");
  if (d == NULL)
    return ward_error_sys(err, "/proc");
  size_t cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!isdigit((unsigned char) e->d_name[0]))
      continue;
    pid_t p = (pid_t) atoi(e->d_name);
    dev_t pd;
    ino_t pi;
    /* sharing our pid namespace, only the init itself is the container's */
    if (!own ? p != init : (!ns_ino(p, "pid", &pd, &pi) || pd != dev || pi != ino))
      continue;
    if (zombie(p))
      continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 16;
      pid_t *np = realloc(*pids, cap * sizeof(pid_t));
      if (np == NULL)
        return ward_error(err, ENOMEM, "pids");
      *pids = np;
    }
    (*pids)[(*n)++] = p;
  }
  return 0;
}

int action_container_pids(const struct ward_state *st, pid_t **pids, size_t *n, ward_error_t *err)
{
  if (st->cgroup && st->cgroup->mode != WARD_CGROUP_NONE)
    return ward_cgroup_pids(st->cgroup, pids, n, err);
  return pidns_members(st->pid, pids, n, err);
}

char *action_control_path(const struct ward_state *st)
{
  char *path = ward_probe_control_path(st->dir);
  if (path && access(path, F_OK) < 0) {
    free(path);
    return NULL;
  }
  return path;
}
