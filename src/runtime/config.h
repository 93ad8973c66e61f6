/* The OCI runtime-spec config.json, parsed and validated up front so that
 * every mistake is reported (naming its field) before anything is created. */
#ifndef WARD_CONFIG_H
#define WARD_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"

struct ward_seccomp;  /* seccomp/seccomp.h */

enum ward_ns_kind {
  WARD_NS_USER, WARD_NS_MOUNT, WARD_NS_PID, WARD_NS_NET, WARD_NS_IPC,
  WARD_NS_UTS, WARD_NS_CGROUP, WARD_NS_TIME, WARD_NS_COUNT
};

struct ward_namespace {
  bool requested;  /* listed in linux.namespaces */
  char *path;      /* join this one instead of creating a new one */
};

struct ward_id_map {
  uint32_t container_id, host_id, size;
};

struct ward_mount {
  char *destination;
  char *type;
  char *source;
  unsigned long flags;        /* MS_* set by options */
  unsigned long clear_flags;  /* MS_* that options turn off (rw, suid, ...) */
  unsigned long propagation;  /* MS_PRIVATE/SLAVE/SHARED/UNBINDABLE | MS_REC */
  bool bind;                  /* bind or rbind */
  bool recursive;             /* rbind, or r* propagation */
  char *data;                 /* options the kernel takes as data */
  char **options;             /* as written, for state/audit */
};

struct ward_device {
  char *path;
  char type;  /* c, b, u or p */
  int64_t major, minor;
  mode_t file_mode;
  bool has_file_mode;
  uid_t uid;
  gid_t gid;
  bool has_uid, has_gid;
};

struct ward_rlimit {
  int resource;
  uint64_t soft, hard;
};

struct ward_caps {
  uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct ward_user {
  uid_t uid;
  gid_t gid;
  mode_t umask;
  bool has_umask;
  gid_t *additional_gids;
  size_t n_additional_gids;
};

struct ward_process {
  bool terminal;
  unsigned console_height, console_width;
  char **args;
  char **env;
  char *cwd;
  struct ward_user user;
  struct ward_caps caps;
  bool has_caps;
  struct ward_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  int oom_score_adj;
  bool has_oom_score_adj;
};

struct ward_hook {
  char *path;
  char **args;
  char **env;
  int timeout;  /* seconds, 0: none */
};

enum ward_hook_kind {
  WARD_HOOK_PRESTART, WARD_HOOK_CREATE_RUNTIME, WARD_HOOK_CREATE_CONTAINER,
  WARD_HOOK_START_CONTAINER, WARD_HOOK_POSTSTART, WARD_HOOK_POSTSTOP, WARD_HOOK_COUNT
};

struct ward_hooks {
  struct ward_hook *list[WARD_HOOK_COUNT];
  size_t count[WARD_HOOK_COUNT];
};

/* One rule of linux.resources.devices (the device cgroup). */
#define WARD_DEV_MKNOD 1u  /* the BPF_DEVCG_ACC_* bit values */
#define WARD_DEV_READ 2u
#define WARD_DEV_WRITE 4u
struct ward_device_rule {
  bool allow;
  char type;              /* 'a' (any), 'b' or 'c' */
  int64_t major, minor;   /* -1: any */
  unsigned access;        /* WARD_DEV_* bits */
};

/* -1 (or UINT64_MAX for unsigned) means "not set". */
struct ward_resources {
  int64_t memory_limit, memory_reservation, memory_swap;
  int64_t pids_limit;
  uint64_t cpu_shares;
  int64_t cpu_quota;
  uint64_t cpu_period;
  char *cpu_cpus, *cpu_mems;
  struct ward_device_rule *devices;  /* linux.resources.devices, in order */
  size_t n_devices;
  bool any;  /* a limit that needs a writable cgroup (not the device rules) */
};

struct ward_kv {
  char *key, *value;
};

struct ward_config {
  char *oci_version;
  char *bundle;     /* absolute bundle directory */
  char *root_path;  /* absolute rootfs path */
  bool root_readonly;
  char *hostname, *domainname;

  struct ward_process process;
  bool has_process;

  struct ward_mount *mounts;
  size_t n_mounts;

  struct ward_namespace ns[WARD_NS_COUNT];
  struct ward_id_map *uid_maps, *gid_maps;
  size_t n_uid_maps, n_gid_maps;

  struct ward_device *devices;
  size_t n_devices;
  char **masked_paths, **readonly_paths;
  struct ward_kv *sysctl;
  size_t n_sysctl;
  char *cgroups_path;
  struct ward_resources resources;
  unsigned long rootfs_propagation;
  struct ward_seccomp *seccomp;  /* NULL: no seccomp section */
  struct ward_kv *annotations;
  size_t n_annotations;
  struct ward_hooks hooks;
  int64_t time_offset_boottime_s, time_offset_monotonic_s;

  json_t *raw;  /* the document as read, kept for state and snapshots */
};

/* Reads bundle/config.json; the bundle is made absolute. */
int ward_config_load(const char *bundle, struct ward_config **out, ward_error_t *err);
/* Parses a document; `what` names it in errors (a file path usually). */
int ward_config_parse_buffer(const char *what, const char *buf, size_t len, struct ward_config **out, ward_error_t *err);
int ward_config_parse_json(const char *what, json_t *doc, struct ward_config **out, ward_error_t *err);
void ward_config_free(struct ward_config *cfg);
static inline void ward_config_freep(struct ward_config **c) { if (*c) ward_config_free(*c); }
#define _cleanup_config_ __attribute__((cleanup(ward_config_freep)))

const char *ward_config_annotation(const struct ward_config *cfg, const char *key);
const char *ward_ns_name(enum ward_ns_kind kind);
int ward_ns_clone_flag(enum ward_ns_kind kind);
/* "CAP_SYS_ADMIN" -> 21; -1 when unknown. */
int ward_cap_from_name(const char *name);
const char *ward_cap_name(int cap);
/* The parsing of a single process object, shared with `exec --process`. */
int ward_process_parse(json_t *obj, const char *path, struct ward_process *out, ward_error_t *err);
void ward_process_clear(struct ward_process *p);

#endif
