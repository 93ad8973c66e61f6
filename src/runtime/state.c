#include "runtime/state.h"
#include "runtime/config.h"
#include "cgroup/cgroup.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/rundir.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

char *ward_state_default_root(void)
{
  char *root = NULL;
  if (geteuid() == 0)
    return strdup("/run/ward");
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  if (xdg && *xdg && access(xdg, W_OK) == 0) {
    if (asprintf(&root, "%s/ward", xdg) < 0)
      return NULL;
    return root;
  }
  if (asprintf(&root, "/tmp/ward-%u", (unsigned) geteuid()) < 0)
    return NULL;
  return root;
}

int ward_state_create_dir(const char *root, const char *id, char **dir, ward_error_t *err)
{
  if (!ward_valid_id(id))
    return ward_error(err, EINVAL, "invalid container id \"%s\": use letters, digits and _.+- (at most 128)", id);
  /* Search-only for others: an init that runs as an unprivileged host id
   * must still reach its own root mount point beneath; listing stays
   * private and every file inside is 0600. */
  if (ward_mkdir_p(root, 0711, err) < 0)
    return ward_error_prefix(err, "state root");
  struct stat sb;
  if (stat(root, &sb) == 0 && sb.st_uid == geteuid() && (sb.st_mode & 0777) != 0711 && chmod(root, 0711) < 0)
    return ward_error_sys(err, "chmod %s", root);
  _cleanup_free_ char *path = NULL;
  if (asprintf(&path, "%s/%s", root, id) < 0)
    return ward_error(err, ENOMEM, "state");
  if (mkdir(path, 0711) < 0) {
    if (errno == EEXIST)
      return ward_error(err, EEXIST, "container \"%s\" already exists", id);
    return ward_error_sys(err, "create state directory %s", path);
  }
  *dir = steal_pointer(&path);
  return 0;
}

char *ward_state_path(const struct ward_state *st, const char *file)
{
  char *p = NULL;
  if (asprintf(&p, "%s/%s", st->dir, file) < 0)
    return NULL;
  return p;
}

int ward_state_save(const struct ward_state *st, ward_error_t *err)
{
  json_t *cg = st->cgroup ? ward_cgroup_to_json(st->cgroup) : json_null();
  _cleanup_json_ json_t *o = json_pack("{s:s, s:i, s:I, s:s, s:s, s:i, s:b, s:b, s:O?, s:o, s:s?}",
                                       "id", st->id, "pid", (int) st->pid, "pid_start", (json_int_t) st->pid_start,
                                       "bundle", st->bundle ? st->bundle : "", "created", st->created ? st->created : "",
                                       "owner", (int) st->owner, "rootless", st->rootless, "sandbox", st->sandbox,
                                       "annotations", st->annotations, "cgroup", cg, "status_hint", st->status_hint);
  if (o == NULL || (st->hooks >= 0 && json_object_set_new(o, "hooks", json_integer(st->hooks)) < 0))
    return ward_error(err, ENOMEM, "state.json");
  _cleanup_free_ char *text = json_dumps(o, JSON_COMPACT);
  _cleanup_free_ char *path = ward_state_path(st, "state.json");
  if (text == NULL || path == NULL)
    return ward_error(err, ENOMEM, "state.json");
  return ward_write_file_atomic(path, text, strlen(text), 0600, err);
}

void ward_state_free(struct ward_state *st)
{
  if (st == NULL)
    return;
  free(st->id);
  free(st->dir);
  free(st->bundle);
  free(st->created);
  free(st->status_hint);
  json_decref(st->annotations);
  if (st->cgroup)
    ward_cgroup_free(st->cgroup);
  free(st);
}

int ward_state_load(const char *root, const char *id, struct ward_state **out, ward_error_t *err)
{
  if (!ward_valid_id(id))
    return ward_error(err, EINVAL, "invalid container id \"%s\"", id);
  _cleanup_state_ struct ward_state *st = calloc(1, sizeof(*st));
  if (st == NULL || (st->id = strdup(id)) == NULL || asprintf(&st->dir, "%s/%s", root, id) < 0)
    return ward_error(err, ENOMEM, "state");
  _cleanup_free_ char *path = ward_state_path(st, "state.json");
  struct stat sb;
  if (stat(st->dir, &sb) < 0)
    return ward_error(err, ENOENT, "container \"%s\" does not exist", id);
  _cleanup_json_ json_t *o = NULL;
  if (wj_load_file(path, 1 << 20, &o, err) < 0) {
    /* A directory without state is a container still being created, or
     * one whose creation died: either way not usable. */
    if ((*err)->errnum == ENOENT)
      return ward_error(err, ENOENT, "container \"%s\" is still being created or its creation failed", id);
    return -1;
  }
  uint32_t pid = 0, owner = 0, hooks = 0;
  bool has_hooks = false;
  uint64_t start = 0;
  if (wj_opt_uint32(o, "pid", "state", &pid, NULL, err) < 0 || wj_opt_uint64(o, "pid_start", "state", &start, NULL, err) < 0 ||
      wj_opt_string(o, "bundle", "state", &st->bundle, err) < 0 || wj_opt_string(o, "created", "state", &st->created, err) < 0 ||
      wj_opt_uint32(o, "owner", "state", &owner, NULL, err) < 0 || wj_opt_bool(o, "rootless", "state", &st->rootless, err) < 0 ||
      wj_opt_bool(o, "sandbox", "state", &st->sandbox, err) < 0 ||
      wj_opt_string(o, "status_hint", "state", &st->status_hint, err) < 0 ||
      wj_opt_uint32(o, "hooks", "state", &hooks, &has_hooks, err) < 0)
    return ward_error_prefix(err, "%s", path);
  st->hooks = has_hooks ? (int) (hooks & ((1u << WARD_HOOK_COUNT) - 1)) : -1;
  st->pid = (pid_t) pid;
  st->pid_start = start;
  st->owner = owner;
  json_t *ann = json_object_get(o, "annotations");
  st->annotations = json_is_object(ann) ? json_incref(ann) : NULL;
  json_t *cg = json_object_get(o, "cgroup");
  if (json_is_object(cg) && ward_cgroup_from_json(cg, &st->cgroup, err) < 0)
    return ward_error_prefix(err, "%s", path);
  ward_run_dir_adopt_legacy(st->dir);
  *out = steal_pointer(&st);
  return 0;
}

/* Field 22 (start time) and the state letter of /proc/PID/stat, in one
 * read; false if the process is gone or the file unreadable. */
static bool proc_stat(pid_t pid, uint64_t *start, char *state)
{
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
  _cleanup_free_ char *buf = NULL;
  _cleanup_error_ ward_error_t ignored = NULL;
  if (ward_read_file(path, 8192, &buf, NULL, &ignored) < 0)
    return false;
  /* The command name may contain spaces and parentheses: skip to the last ')'. */
  char *p = strrchr(buf, ')');
  unsigned long long st = 0;
  /* the state, then field 22 (starttime), the 20th after the state */
  if (p == NULL || p[1] != ' ' ||
      sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", state, &st) != 2)
    return false;
  *start = st;
  return true;
}

uint64_t ward_proc_start_time(pid_t pid)
{
  uint64_t start = 0;
  char state;
  return proc_stat(pid, &start, &state) ? start : 0;
}

bool ward_state_pid_alive(const struct ward_state *st)
{
  if (st->pid <= 0)
    return false;
  if (kill(st->pid, 0) < 0 && errno == ESRCH)
    return false;
  uint64_t start = 0;
  char state = 0;
  if (!proc_stat(st->pid, &start, &state) || start == 0 || (st->pid_start && start != st->pid_start))
    return false;
  /* A zombie has exited; only its parent has not collected it yet. */
  return state != 'Z' && state != 'X';
}

enum ward_status ward_state_status(const struct ward_state *st)
{
  if (st->status_hint && strcmp(st->status_hint, "creating") == 0 && st->pid <= 0)
    return WARD_CREATING;
  if (!ward_state_pid_alive(st))
    return WARD_STOPPED;
  _cleanup_free_ char *fifo = ward_state_path(st, "exec.fifo");
  if (fifo && access(fifo, F_OK) == 0)
    return WARD_CREATED;
  if (st->cgroup && ward_cgroup_is_frozen(st->cgroup) == 1)
    return WARD_PAUSED;
  return WARD_RUNNING;
}

const char *ward_status_name(enum ward_status s)
{
  static const char *names[] = {"creating", "created", "running", "paused", "stopped"};
  return names[s];
}

int ward_state_lock(const char *dir, ward_error_t *err)
{
  _cleanup_free_ char *path = NULL;
  if (asprintf(&path, "%s/lock", dir) < 0)
    return ward_error(err, ENOMEM, "lock");
  _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return ward_error_sys(err, "open %s", path);
  if (flock(fd, LOCK_EX) < 0)
    return ward_error_sys(err, "lock %s", path);
  return steal_fd(&fd);
}

int ward_state_remove_dir(const char *dir, ward_error_t *err)
{
  if (ward_run_dir_remove(dir, err) < 0)
    return -1;
  return ward_remove_tree(dir, err);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

int ward_state_list(const char *root, char ***ids, ward_error_t *err)
{
  *ids = calloc(1, sizeof(char *));
  if (*ids == NULL)
    return ward_error(err, ENOMEM, "list");
  _cleanup_closedir_ DIR *d = opendir(root);
  if (d == NULL)
    return errno == ENOENT ? 0 : ward_error_sys(err, "open %s", root);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || !ward_valid_id(de->d_name))
      continue;
    if (ward_strv_append(ids, de->d_name) < 0)
      return ward_error(err, ENOMEM, "list");
  }
  qsort(*ids, ward_strv_len(*ids), sizeof(char *), cmp_str);
  return 0;
}

json_t *ward_state_oci_json(const struct ward_state *st)
{
  return ward_state_oci_json_as(st, ward_state_status(st));
}

json_t *ward_state_oci_json_as(const struct ward_state *st, enum ward_status s)
{
  json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "ociVersion", WARD_OCI_SPEC_VERSION, "id", st->id,
                        "status", ward_status_name(s), "bundle", st->bundle ? st->bundle : "");
  if (o && s != WARD_STOPPED && st->pid > 0)
    json_object_set_new(o, "pid", json_integer(st->pid));
  if (o)
    json_object_set_new(o, "annotations", st->annotations ? json_incref(st->annotations) : json_object());
  return o;
}
