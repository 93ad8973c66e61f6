/* User-namespace id maps. Root writes any map itself. An unprivileged user
 * may write only a map of its own uid and gid (after denying setgroups);
 * anything wider goes through the setuid helpers newuidmap/newgidmap, which
 * check /etc/subuid and /etc/subgid. */
#include "ns/ns.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static bool is_own_single(const struct ward_id_map *maps, size_t n, uint32_t own)
{
  return n == 1 && maps[0].size == 1 && maps[0].host_id == own;
}

/* Is [start, start+size) inside one of the user's ranges in /etc/subXid? */
static bool sub_range_allows(const char *file, const char *user, uid_t uid, uint32_t start, uint32_t size)
{
  _cleanup_fclose_ FILE *f = fopen(file, "re");
  if (f == NULL)
    return false;
  char line[512], num[32];
  snprintf(num, sizeof(num), "%u", (unsigned) uid);
  while (fgets(line, sizeof(line), f)) {
    char name[256];
    unsigned long long first, count;
    if (sscanf(line, "%255[^:]:%llu:%llu", name, &first, &count) != 3)
      continue;
    if (strcmp(name, user) != 0 && strcmp(name, num) != 0)
      continue;
    if (start >= first && (unsigned long long) start + size <= first + count)
      return true;
  }
  return false;
}

static int find_helper(const char *name, char **out)
{
  static const char *dirs[] = {"/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"};
  for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dirs[i], name) < 0)
      return -1;
    if (access(p, X_OK) == 0) {
      *out = p;
      return 0;
    }
    free(p);
  }
  return -1;
}

static int validate_maps(const char *field, const char *subfile, const char *helper, const struct ward_id_map *maps,
                         size_t n, uint32_t own, ward_error_t *err)
{
  if (n == 0 || is_own_single(maps, n, own))
    return 0;
  struct passwd *pw = getpwuid(getuid());
  const char *user = pw ? pw->pw_name : "?";
  for (size_t i = 0; i < n; i++) {
    if (maps[i].size == 1 && maps[i].host_id == own)
      continue;
    if (!sub_range_allows(subfile, user, getuid(), maps[i].host_id, maps[i].size))
      return ward_error(err, EPERM, "linux.%s[%zu]: host ids %u-%u cannot be mapped by %s: not delegated in %s", field, i,
                        maps[i].host_id, maps[i].host_id + maps[i].size - 1, user, subfile);
  }
  _cleanup_free_ char *path = NULL;
  if (find_helper(helper, &path) < 0)
    return ward_error(err, ENOENT, "linux.%s: mapping more than your own id needs %s (Debian package uidmap)", field, helper);
  return 0;
}

int ward_userns_validate(const struct ward_config *cfg, ward_error_t *err)
{
  if (!cfg->ns[WARD_NS_USER].requested || cfg->ns[WARD_NS_USER].path || geteuid() == 0)
    return 0;
  if (validate_maps("uidMappings", "/etc/subuid", "newuidmap", cfg->uid_maps, cfg->n_uid_maps, getuid(), err) < 0 ||
      validate_maps("gidMappings", "/etc/subgid", "newgidmap", cfg->gid_maps, cfg->n_gid_maps, getgid(), err) < 0)
    return -1;
  return 0;
}

static int format_map(const struct ward_id_map *maps, size_t n, char **out)
{
  size_t cap = n * 40 + 1, used = 0;
  char *buf = calloc(1, cap);
  if (buf == NULL)
    return -1;
  for (size_t i = 0; i < n; i++)
    used += (size_t) snprintf(buf + used, cap - used, "%u %u %u\n", maps[i].container_id, maps[i].host_id, maps[i].size);
  *out = buf;
  return 0;
}

static int write_proc(pid_t pid, const char *file, const char *data, ward_error_t *err)
{
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, file);
  if (ward_write_string_at(AT_FDCWD, path, data, err) < 0)
    return ward_error_prefix(err, "write %s", file);
  return 0;
}

static int run_helper(const char *helper, pid_t pid, const struct ward_id_map *maps, size_t n, ward_error_t *err)
{
  _cleanup_free_ char *path = NULL;
  if (find_helper(helper, &path) < 0)
    return ward_error(err, ENOENT, "%s not found (Debian package uidmap)", helper);
  size_t argc = 2 + 3 * n;
  _cleanup_strv_ char **argv = calloc(argc + 1, sizeof(char *));
  if (argv == NULL)
    return ward_error(err, ENOMEM, "%s", helper);
  if (asprintf(&argv[0], "%s", helper) < 0 || asprintf(&argv[1], "%d", (int) pid) < 0)
    return ward_error(err, ENOMEM, "%s", helper);
  for (size_t i = 0; i < n; i++) {
    if (asprintf(&argv[2 + 3 * i], "%u", maps[i].container_id) < 0 || asprintf(&argv[3 + 3 * i], "%u", maps[i].host_id) < 0 ||
        asprintf(&argv[4 + 3 * i], "%u", maps[i].size) < 0)
      return ward_error(err, ENOMEM, "%s", helper);
  }
  pid_t child;
  int rc = posix_spawn(&child, path, NULL, NULL, argv, environ);
  if (rc != 0)
    return ward_error(err, rc, "run %s", path);
  int status;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR)
      return ward_error_sys(err, "wait for %s", helper);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return ward_error(err, EPERM, "%s failed (status %d): check /etc/sub%cid", helper, status, helper[3]);
  return 0;
}

int ward_userns_write_maps(pid_t pid, const struct ward_config *cfg, ward_error_t *err)
{
  bool root = geteuid() == 0;
  bool own_uid = is_own_single(cfg->uid_maps, cfg->n_uid_maps, getuid());
  bool own_gid = is_own_single(cfg->gid_maps, cfg->n_gid_maps, getgid());
  _cleanup_free_ char *uids = NULL, *gids = NULL;
  if (format_map(cfg->uid_maps, cfg->n_uid_maps, &uids) < 0 || format_map(cfg->gid_maps, cfg->n_gid_maps, &gids) < 0)
    return ward_error(err, ENOMEM, "id maps");
  if (root || own_uid) {
    if (write_proc(pid, "uid_map", uids, err) < 0)
      return ward_error_prefix(err, "linux.uidMappings");
  } else if (run_helper("newuidmap", pid, cfg->uid_maps, cfg->n_uid_maps, err) < 0) {
    return ward_error_prefix(err, "linux.uidMappings");
  }
  if (root) {
    if (write_proc(pid, "gid_map", gids, err) < 0)
      return ward_error_prefix(err, "linux.gidMappings");
  } else if (own_gid) {
    /* The kernel lets an unprivileged user map its own gid only once
     * setgroups is denied, so it cannot drop a group to gain access. */
    if (write_proc(pid, "setgroups", "deny", err) < 0 || write_proc(pid, "gid_map", gids, err) < 0)
      return ward_error_prefix(err, "linux.gidMappings");
  } else if (run_helper("newgidmap", pid, cfg->gid_maps, cfg->n_gid_maps, err) < 0) {
    return ward_error_prefix(err, "linux.gidMappings");
  }
  return 0;
}

int ward_userns_default_maps(struct ward_config *cfg, uid_t container_uid, uid_t host_uid, gid_t host_gid, ward_error_t *err)
{
  free(cfg->uid_maps);
  free(cfg->gid_maps);
  cfg->uid_maps = calloc(1, sizeof(struct ward_id_map));
  cfg->gid_maps = calloc(1, sizeof(struct ward_id_map));
  if (cfg->uid_maps == NULL || cfg->gid_maps == NULL)
    return ward_error(err, ENOMEM, "id maps");
  cfg->uid_maps[0] = (struct ward_id_map) {.container_id = container_uid, .host_id = host_uid, .size = 1};
  cfg->gid_maps[0] = (struct ward_id_map) {.container_id = container_uid, .host_id = host_gid, .size = 1};
  cfg->n_uid_maps = cfg->n_gid_maps = 1;
  return 0;
}
