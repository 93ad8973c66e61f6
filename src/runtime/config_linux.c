/* config.json: the "mounts" array and the "linux" object. */
#include "runtime/config_parse.h"
#include "seccomp/seccomp.h"
#include "common/util.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct { const char *name; enum ward_ns_kind kind; int flag; } ns_table[] = {
  {"user", WARD_NS_USER, CLONE_NEWUSER}, {"mount", WARD_NS_MOUNT, CLONE_NEWNS},
  {"pid", WARD_NS_PID, CLONE_NEWPID}, {"network", WARD_NS_NET, CLONE_NEWNET},
  {"ipc", WARD_NS_IPC, CLONE_NEWIPC}, {"uts", WARD_NS_UTS, CLONE_NEWUTS},
  {"cgroup", WARD_NS_CGROUP, CLONE_NEWCGROUP}, {"time", WARD_NS_TIME, CLONE_NEWTIME},
};

const char *ward_ns_name(enum ward_ns_kind kind)
{
  for (size_t i = 0; i < ARRAY_SIZE(ns_table); i++)
    if (ns_table[i].kind == kind)
      return ns_table[i].name;
  return "?";
}

int ward_ns_clone_flag(enum ward_ns_kind kind)
{
  for (size_t i = 0; i < ARRAY_SIZE(ns_table); i++)
    if (ns_table[i].kind == kind)
      return ns_table[i].flag;
  return 0;
}

static const struct { const char *name; unsigned long flag; bool clear; } mount_flags[] = {
  {"ro", MS_RDONLY, false}, {"rw", MS_RDONLY, true},
  {"nosuid", MS_NOSUID, false}, {"suid", MS_NOSUID, true},
  {"nodev", MS_NODEV, false}, {"dev", MS_NODEV, true},
  {"noexec", MS_NOEXEC, false}, {"exec", MS_NOEXEC, true},
  {"sync", MS_SYNCHRONOUS, false}, {"async", MS_SYNCHRONOUS, true},
  {"dirsync", MS_DIRSYNC, false},
  {"remount", MS_REMOUNT, false},
  {"mand", MS_MANDLOCK, false}, {"nomand", MS_MANDLOCK, true},
  {"noatime", MS_NOATIME, false}, {"atime", MS_NOATIME, true},
  {"nodiratime", MS_NODIRATIME, false}, {"diratime", MS_NODIRATIME, true},
  {"relatime", MS_RELATIME, false}, {"norelatime", MS_RELATIME, true},
  {"strictatime", MS_STRICTATIME, false}, {"nostrictatime", MS_STRICTATIME, true},
  {"silent", MS_SILENT, false}, {"loud", MS_SILENT, true},
};

static const struct { const char *name; unsigned long flags; } propagations[] = {
  {"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC},
  {"shared", MS_SHARED}, {"rshared", MS_SHARED | MS_REC},
  {"slave", MS_SLAVE}, {"rslave", MS_SLAVE | MS_REC},
  {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

/* Options other runtimes define that change nothing for us, accepted so that
 * bundles written for them run unchanged. */
static const char *const ignored_options[] = {"tmpcopyup", "notmpcopyup", "copy-symlink", "rro", "rrw", NULL};

static int append_data(char **data, const char *opt)
{
  char *joined = NULL;
  if (*data == NULL)
    joined = strdup(opt);
  else if (asprintf(&joined, "%s,%s", *data, opt) < 0)
    joined = NULL;
  if (joined == NULL)
    return -1;
  free(*data);
  *data = joined;
  return 0;
}

int ward_mount_parse_options(struct ward_mount *m, char **options, const char *path, ward_error_t *err)
{
  for (size_t i = 0; options && options[i]; i++) {
    const char *o = options[i];
    bool known = false;
    if (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0) {
      m->bind = true;
      m->recursive |= o[0] == 'r';
      continue;
    }
    for (size_t k = 0; k < ARRAY_SIZE(mount_flags) && !known; k++) {
      if (strcmp(o, mount_flags[k].name) == 0) {
        known = true;
        if (mount_flags[k].clear) {
          m->flags &= ~mount_flags[k].flag;
          m->clear_flags |= mount_flags[k].flag;
        } else {
          m->flags |= mount_flags[k].flag;
          m->clear_flags &= ~mount_flags[k].flag;
        }
      }
    }
    for (size_t k = 0; k < ARRAY_SIZE(propagations) && !known; k++) {
      if (strcmp(o, propagations[k].name) == 0) {
        known = true;
        m->propagation = propagations[k].flags;
      }
    }
    for (size_t k = 0; ignored_options[k] && !known; k++)
      known = strcmp(o, ignored_options[k]) == 0;
    if (strcmp(o, "idmap") == 0 || strcmp(o, "ridmap") == 0)
      return ward_error(err, 0, "%s.options[%zu]: idmapped mounts are not supported", path, i);
    if (!known && append_data(&m->data, o) < 0)
      return ward_error(err, ENOMEM, "%s", path);
  }
  return 0;
}

int ward_config_parse_mounts(json_t *doc, struct ward_config *cfg, ward_error_t *err)
{
  int rc;
  json_t *arr = wj_opt_member(doc, "mounts", JSON_ARRAY, "", &rc, err);
  if (rc < 0 || arr == NULL)
    return rc;
  size_t n = json_array_size(arr);
  cfg->mounts = calloc(n ? n : 1, sizeof(struct ward_mount));
  if (cfg->mounts == NULL)
    return ward_error(err, ENOMEM, "mounts");
  for (size_t i = 0; i < n; i++) {
    _cleanup_free_ char *ip = NULL;
    if (asprintf(&ip, "mounts[%zu]", i) < 0)
      return ward_error(err, ENOMEM, "mounts");
    json_t *e = json_array_get(arr, i);
    struct ward_mount *m = &cfg->mounts[i];
    cfg->n_mounts++;
    if (wj_expect(e, JSON_OBJECT, ip, err) < 0 || wj_req_string(e, "destination", ip, &m->destination, err) < 0 ||
        wj_opt_string(e, "type", ip, &m->type, err) < 0 || wj_opt_string(e, "source", ip, &m->source, err) < 0 ||
        wj_opt_strv(e, "options", ip, &m->options, NULL, err) < 0)
      return -1;
    if (m->destination[0] != '/')
      return ward_error(err, 0, "%s.destination: \"%s\" must be an absolute path", ip, m->destination);
    if (json_object_get(e, "uidMappings") || json_object_get(e, "gidMappings"))
      return ward_error(err, 0, "%s: idmapped mounts (uidMappings) are not supported", ip);
    if (ward_mount_parse_options(m, m->options, ip, err) < 0)
      return -1;
    if (m->type && strcmp(m->type, "bind") == 0)
      m->bind = true;
    if (m->bind && (m->source == NULL || m->source[0] == '\0'))
      return ward_error(err, 0, "%s.source: a bind mount needs a source", ip);
    if (!m->bind && (m->type == NULL || m->type[0] == '\0'))
      return ward_error(err, 0, "%s.type: required unless the mount is a bind mount", ip);
    if (m->flags & MS_REMOUNT)
      return ward_error(err, 0, "%s.options: \"remount\" cannot create a mount", ip);
  }
  return 0;
}

static int parse_namespaces(json_t *linux_obj, struct ward_config *cfg, ward_error_t *err)
{
  int rc;
  json_t *arr = wj_opt_member(linux_obj, "namespaces", JSON_ARRAY, "linux", &rc, err);
  if (rc < 0 || arr == NULL)
    return rc;
  for (size_t i = 0; i < json_array_size(arr); i++) {
    _cleanup_free_ char *ip = NULL, *type = NULL, *path = NULL;
    if (asprintf(&ip, "linux.namespaces[%zu]", i) < 0)
      return ward_error(err, ENOMEM, "namespaces");
    json_t *e = json_array_get(arr, i);
    if (wj_expect(e, JSON_OBJECT, ip, err) < 0 || wj_req_string(e, "type", ip, &type, err) < 0 ||
        wj_opt_string(e, "path", ip, &path, err) < 0)
      return -1;
    int kind = -1;
    for (size_t k = 0; k < ARRAY_SIZE(ns_table); k++)
      if (strcmp(ns_table[k].name, type) == 0)
        kind = (int) ns_table[k].kind;
    if (kind < 0)
      return ward_error(err, 0, "%s.type: unknown namespace \"%s\"", ip, type);
    if (cfg->ns[kind].requested)
      return ward_error(err, 0, "%s.type: namespace \"%s\" is listed twice", ip, type);
    if (path && path[0] != '/')
      return ward_error(err, 0, "%s.path: \"%s\" must be absolute", ip, path);
    cfg->ns[kind].requested = true;
    cfg->ns[kind].path = (path && *path) ? steal_pointer(&path) : NULL;
  }
  return 0;
}

static int parse_id_maps(json_t *linux_obj, const char *key, struct ward_id_map **out, size_t *n, ward_error_t *err)
{
  int rc;
  json_t *arr = wj_opt_member(linux_obj, key, JSON_ARRAY, "linux", &rc, err);
  if (rc < 0 || arr == NULL)
    return rc;
  size_t count = json_array_size(arr);
  if (count > 340)  /* the kernel's limit on map lines */
    return ward_error(err, 0, "linux.%s: %zu entries exceed the kernel's limit of 340", key, count);
  *out = calloc(count ? count : 1, sizeof(struct ward_id_map));
  if (*out == NULL)
    return ward_error(err, ENOMEM, "linux.%s", key);
  for (size_t i = 0; i < count; i++) {
    _cleanup_free_ char *ip = NULL;
    if (asprintf(&ip, "linux.%s[%zu]", key, i) < 0)
      return ward_error(err, ENOMEM, "%s", key);
    json_t *e = json_array_get(arr, i);
    struct ward_id_map *m = &(*out)[i];
    bool a = false, b = false, c = false;
    if (wj_expect(e, JSON_OBJECT, ip, err) < 0 || wj_opt_uint32(e, "containerID", ip, &m->container_id, &a, err) < 0 ||
        wj_opt_uint32(e, "hostID", ip, &m->host_id, &b, err) < 0 || wj_opt_uint32(e, "size", ip, &m->size, &c, err) < 0)
      return -1;
    if (!a || !b || !c)
      return ward_error(err, 0, "%s: containerID, hostID and size are required", ip);
    if (m->size == 0 || (uint64_t) m->container_id + m->size > UINT32_MAX || (uint64_t) m->host_id + m->size > UINT32_MAX)
      return ward_error(err, 0, "%s: the range is empty or overflows 32 bits", ip);
    (*n)++;
  }
  return 0;
}

static int parse_devices(json_t *linux_obj, struct ward_config *cfg, ward_error_t *err)
{
  int rc;
  json_t *arr = wj_opt_member(linux_obj, "devices", JSON_ARRAY, "linux", &rc, err);
  if (rc < 0 || arr == NULL)
    return rc;
  size_t n = json_array_size(arr);
  cfg->devices = calloc(n ? n : 1, sizeof(struct ward_device));
  if (cfg->devices == NULL)
    return ward_error(err, ENOMEM, "linux.devices");
  for (size_t i = 0; i < n; i++) {
    _cleanup_free_ char *ip = NULL, *type = NULL;
    if (asprintf(&ip, "linux.devices[%zu]", i) < 0)
      return ward_error(err, ENOMEM, "devices");
    json_t *e = json_array_get(arr, i);
    struct ward_device *d = &cfg->devices[i];
    cfg->n_devices++;
    uint32_t mode = 0, uid = 0, gid = 0;
    bool has_major = false, has_minor = false;
    if (wj_expect(e, JSON_OBJECT, ip, err) < 0 || wj_req_string(e, "path", ip, &d->path, err) < 0 ||
        wj_req_string(e, "type", ip, &type, err) < 0 ||
        wj_opt_int64(e, "major", ip, &d->major, &has_major, err) < 0 ||
        wj_opt_int64(e, "minor", ip, &d->minor, &has_minor, err) < 0 ||
        wj_opt_uint32(e, "fileMode", ip, &mode, &d->has_file_mode, err) < 0 ||
        wj_opt_uint32(e, "uid", ip, &uid, &d->has_uid, err) < 0 || wj_opt_uint32(e, "gid", ip, &gid, &d->has_gid, err) < 0)
      return -1;
    if (d->path[0] != '/')
      return ward_error(err, 0, "%s.path: \"%s\" must be absolute", ip, d->path);
    if (strlen(type) != 1 || !strchr("cbup", type[0]))
      return ward_error(err, 0, "%s.type: \"%s\" is not one of c, b, u, p", ip, type);
    d->type = type[0];
    if (d->type != 'p' && (!has_major || !has_minor))
      return ward_error(err, 0, "%s: major and minor are required for type %c", ip, d->type);
    if (d->major < 0 || d->minor < 0 || d->major > 0xfff || d->minor > 0xfffff)
      return ward_error(err, 0, "%s: device number out of range", ip);
    if (mode > 07777)
      return ward_error(err, 0, "%s.fileMode: %o is not a permission mode", ip, mode);
    d->file_mode = mode;
    d->uid = uid;
    d->gid = gid;
  }
  return 0;
}

static int parse_int_or_null(json_t *obj, const char *key, const char *path, int64_t *out, ward_error_t *err)
{
  bool have = false;
  int64_t v = 0;
  if (wj_opt_int64(obj, key, path, &v, &have, err) < 0)
    return -1;
  if (have)
    *out = v;
  return 0;
}

/* OCI: allow is required; type a|b|c (absent: a); major and minor absent
 * or -1 for any; access a subset of "rwm" (absent or empty: all three). */
static int parse_device_rules(json_t *res, struct ward_resources *r, ward_error_t *err)
{
  int rc;
  json_t *arr = wj_opt_member(res, "devices", JSON_ARRAY, "linux.resources", &rc, err);
  if (rc < 0 || arr == NULL)
    return rc;
  size_t n = json_array_size(arr);
  r->devices = calloc(n ? n : 1, sizeof(struct ward_device_rule));
  if (r->devices == NULL)
    return ward_error(err, ENOMEM, "linux.resources.devices");
  for (size_t i = 0; i < n; i++) {
    _cleanup_free_ char *ip = NULL, *type = NULL, *access = NULL;
    if (asprintf(&ip, "linux.resources.devices[%zu]", i) < 0)
      return ward_error(err, ENOMEM, "linux.resources.devices");
    json_t *e = json_array_get(arr, i);
    struct ward_device_rule *d = &r->devices[i];
    bool has_major = false, has_minor = false;
    if (wj_expect(e, JSON_OBJECT, ip, err) < 0)
      return -1;
    if (!json_is_boolean(json_object_get(e, "allow")))
      return ward_error(err, 0, "%s.allow: required, true or false", ip);
    if (wj_opt_bool(e, "allow", ip, &d->allow, err) < 0 || wj_opt_string(e, "type", ip, &type, err) < 0 ||
        wj_opt_int64(e, "major", ip, &d->major, &has_major, err) < 0 ||
        wj_opt_int64(e, "minor", ip, &d->minor, &has_minor, err) < 0 || wj_opt_string(e, "access", ip, &access, err) < 0)
      return -1;
    if (type == NULL || strcmp(type, "a") == 0 || strcmp(type, "b") == 0 || strcmp(type, "c") == 0)
      d->type = type ? type[0] : 'a';
    else
      return ward_error(err, 0, "%s.type: \"%s\" is not one of a, b, c", ip, type);
    if (!has_major)
      d->major = -1;
    if (!has_minor)
      d->minor = -1;
    if (d->major < -1 || d->major > 0xfff)
      return ward_error(err, 0, "%s.major: %lld is not a device major (-1 for any)", ip, (long long) d->major);
    if (d->minor < -1 || d->minor > 0xfffff)
      return ward_error(err, 0, "%s.minor: %lld is not a device minor (-1 for any)", ip, (long long) d->minor);
    if (access == NULL || access[0] == '\0')
      d->access = WARD_DEV_MKNOD | WARD_DEV_READ | WARD_DEV_WRITE;
    for (const char *a = access; a && *a; a++) {
      if (*a == 'r')
        d->access |= WARD_DEV_READ;
      else if (*a == 'w')
        d->access |= WARD_DEV_WRITE;
      else if (*a == 'm')
        d->access |= WARD_DEV_MKNOD;
      else
        return ward_error(err, 0, "%s.access: \"%s\" is not a combination of r, w and m", ip, access);
    }
    r->n_devices++;
  }
  return 0;
}

static int parse_resources(json_t *linux_obj, struct ward_resources *r, ward_error_t *err)
{
  int rc;
  json_t *res = wj_opt_member(linux_obj, "resources", JSON_OBJECT, "linux", &rc, err);
  if (rc < 0 || res == NULL)
    return rc;
  json_t *mem = wj_opt_member(res, "memory", JSON_OBJECT, "linux.resources", &rc, err);
  if (rc < 0)
    return -1;
  const char *mp = "linux.resources.memory";
  if (mem && (parse_int_or_null(mem, "limit", mp, &r->memory_limit, err) < 0 ||
              parse_int_or_null(mem, "reservation", mp, &r->memory_reservation, err) < 0 ||
              parse_int_or_null(mem, "swap", mp, &r->memory_swap, err) < 0))
    return -1;
  if (r->memory_limit < -1 || r->memory_limit == 0)
    return ward_error(err, 0, "%s.limit: %lld is not a valid limit", mp, (long long) r->memory_limit);
  if (r->memory_swap >= 0 && r->memory_limit > 0 && r->memory_swap < r->memory_limit)
    return ward_error(err, 0, "%s.swap: must be at least the memory limit (it counts memory plus swap)", mp);
  json_t *pids = wj_opt_member(res, "pids", JSON_OBJECT, "linux.resources", &rc, err);
  if (rc < 0)
    return -1;
  if (pids && parse_int_or_null(pids, "limit", "linux.resources.pids", &r->pids_limit, err) < 0)
    return -1;
  if (r->pids_limit == 0)
    r->pids_limit = -1;  /* runtime-spec: 0 means no limit */
  json_t *cpu = wj_opt_member(res, "cpu", JSON_OBJECT, "linux.resources", &rc, err);
  if (rc < 0)
    return -1;
  const char *cp = "linux.resources.cpu";
  if (cpu && (wj_opt_uint64(cpu, "shares", cp, &r->cpu_shares, NULL, err) < 0 ||
              parse_int_or_null(cpu, "quota", cp, &r->cpu_quota, err) < 0 ||
              wj_opt_uint64(cpu, "period", cp, &r->cpu_period, NULL, err) < 0 ||
              wj_opt_string(cpu, "cpus", cp, &r->cpu_cpus, err) < 0 || wj_opt_string(cpu, "mems", cp, &r->cpu_mems, err) < 0))
    return -1;
  if (r->cpu_period && (r->cpu_period < 1000 || r->cpu_period > 1000000))
    return ward_error(err, 0, "%s.period: %llu is outside 1000..1000000 microseconds", cp, (unsigned long long) r->cpu_period);
  if (r->cpu_quota == 0 || r->cpu_quota < -1)
    return ward_error(err, 0, "%s.quota: %lld is not a valid quota", cp, (long long) r->cpu_quota);
  if (parse_device_rules(res, r, err) < 0)
    return -1;
  r->any = r->memory_limit > 0 || r->memory_reservation > 0 || r->memory_swap >= 0 || r->pids_limit > 0 ||
           r->cpu_shares || r->cpu_quota > 0 || r->cpu_period || r->cpu_cpus || r->cpu_mems;
  return 0;
}

static int parse_sysctl(json_t *linux_obj, struct ward_config *cfg, ward_error_t *err)
{
  int rc;
  json_t *o = wj_opt_member(linux_obj, "sysctl", JSON_OBJECT, "linux", &rc, err);
  if (rc < 0 || o == NULL)
    return rc;
  cfg->sysctl = calloc(json_object_size(o) + 1, sizeof(struct ward_kv));
  if (cfg->sysctl == NULL)
    return ward_error(err, ENOMEM, "linux.sysctl");
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    if (!json_is_string(v))
      return ward_error(err, 0, "linux.sysctl.%s: expected a string", k);
    if (k[0] == '\0' || strstr(k, "..") || k[0] == '/' || k[0] == '.')
      return ward_error(err, 0, "linux.sysctl: \"%s\" is not a sysctl name", k);
    struct ward_kv *kv = &cfg->sysctl[cfg->n_sysctl++];
    kv->key = strdup(k);
    kv->value = strdup(json_string_value(v));
    if (kv->key == NULL || kv->value == NULL)
      return ward_error(err, ENOMEM, "linux.sysctl");
  }
  return 0;
}

static int parse_time_offsets(json_t *linux_obj, struct ward_config *cfg, ward_error_t *err)
{
  int rc;
  json_t *o = wj_opt_member(linux_obj, "timeOffsets", JSON_OBJECT, "linux", &rc, err);
  if (rc < 0 || o == NULL)
    return rc;
  static const char *clocks[] = {"boottime", "monotonic"};
  int64_t *dst[] = {&cfg->time_offset_boottime_s, &cfg->time_offset_monotonic_s};
  for (int i = 0; i < 2; i++) {
    json_t *c = wj_opt_member(o, clocks[i], JSON_OBJECT, "linux.timeOffsets", &rc, err);
    if (rc < 0)
      return -1;
    _cleanup_free_ char *p = wj_path("linux.timeOffsets", clocks[i]);
    if (c && parse_int_or_null(c, "secs", p, dst[i], err) < 0)
      return -1;
  }
  if (!cfg->ns[WARD_NS_TIME].requested)
    return ward_error(err, 0, "linux.timeOffsets: requires a new time namespace");
  return 0;
}

int ward_config_parse_linux(json_t *doc, struct ward_config *cfg, ward_error_t *err)
{
  int rc;
  json_t *l = wj_opt_member(doc, "linux", JSON_OBJECT, "", &rc, err);
  if (rc < 0 || l == NULL)
    return rc;
  if (parse_namespaces(l, cfg, err) < 0 ||
      parse_id_maps(l, "uidMappings", &cfg->uid_maps, &cfg->n_uid_maps, err) < 0 ||
      parse_id_maps(l, "gidMappings", &cfg->gid_maps, &cfg->n_gid_maps, err) < 0 || parse_devices(l, cfg, err) < 0 ||
      wj_opt_strv(l, "maskedPaths", "linux", &cfg->masked_paths, NULL, err) < 0 ||
      wj_opt_strv(l, "readonlyPaths", "linux", &cfg->readonly_paths, NULL, err) < 0 || parse_sysctl(l, cfg, err) < 0 ||
      wj_opt_string(l, "cgroupsPath", "linux", &cfg->cgroups_path, err) < 0 || parse_resources(l, &cfg->resources, err) < 0 ||
      parse_time_offsets(l, cfg, err) < 0)
    return -1;
  if ((cfg->n_uid_maps || cfg->n_gid_maps) && !cfg->ns[WARD_NS_USER].requested)
    return ward_error(err, 0, "linux.uidMappings: id mappings require a new user namespace");
  if (cfg->ns[WARD_NS_USER].requested && !cfg->ns[WARD_NS_USER].path && (!!cfg->n_uid_maps != !!cfg->n_gid_maps))
    return ward_error(err, 0, "linux.gidMappings: uidMappings and gidMappings must be given together");
  if (cfg->cgroups_path && (strstr(cfg->cgroups_path, "..") || strchr(cfg->cgroups_path, ':')))
    return ward_error(err, 0, "linux.cgroupsPath: \"%s\" is not a cgroupfs path (systemd slice:prefix:name is not supported)", cfg->cgroups_path);
  _cleanup_free_ char *prop = NULL;
  if (wj_opt_string(l, "rootfsPropagation", "linux", &prop, err) < 0)
    return -1;
  if (prop) {
    static const struct { const char *n; unsigned long f; } table[] = {
      {"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC}, {"slave", MS_SLAVE}, {"rslave", MS_SLAVE | MS_REC},
      {"shared", MS_SHARED}, {"rshared", MS_SHARED | MS_REC}, {"unbindable", MS_UNBINDABLE},
      {"runbindable", MS_UNBINDABLE | MS_REC}};
    for (size_t i = 0; i < ARRAY_SIZE(table); i++)
      if (strcmp(table[i].n, prop) == 0)
        cfg->rootfs_propagation = table[i].f;
    if (cfg->rootfs_propagation == 0)
      return ward_error(err, 0, "linux.rootfsPropagation: unknown propagation \"%s\"", prop);
  }
  json_t *sc = wj_opt_member(l, "seccomp", JSON_OBJECT, "linux", &rc, err);
  if (rc < 0)
    return -1;
  if (sc && ward_seccomp_parse_oci(sc, "linux.seccomp", &cfg->seccomp, err) < 0)
    return -1;
  return 0;
}
