/* Container state under --root: one directory per container holding
 * state.json, a copy of the config, the exec fifo of a created container and
 * a lock file. Commands on different containers never share a lock. */
#ifndef WARD_STATE_H
#define WARD_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

struct ward_cgroup;

enum ward_status { WARD_CREATING, WARD_CREATED, WARD_RUNNING, WARD_PAUSED, WARD_STOPPED };

struct ward_state {
  char *id;
  char *dir;         /* <root>/<id> */
  pid_t pid;         /* the container's init, as seen from the host */
  uint64_t pid_start;/* its start time, so a reused pid is not mistaken for it */
  char *bundle;
  char *created;     /* RFC 3339 */
  uid_t owner;
  bool rootless;
  bool sandbox;
  json_t *annotations;
  struct ward_cgroup *cgroup;
  char *status_hint; /* "creating" until the init is ready */
  /* Bit (1 << kind) per hook kind the config has, recorded at create time
   * so that start and delete need not parse the config copy to find out;
   * -1 in a state file written before the field existed. */
  int hooks;
};

/* The default --root: /run/ward for root, $XDG_RUNTIME_DIR/ward or
 * /tmp/ward-<uid> otherwise. */
char *ward_state_default_root(void);
/* mkdir <root>/<id>; an existing id is an error naming it. */
int ward_state_create_dir(const char *root, const char *id, char **dir, ward_error_t *err);
int ward_state_save(const struct ward_state *st, ward_error_t *err);
/* Unknown ids are an error naming the id. */
int ward_state_load(const char *root, const char *id, struct ward_state **out, ward_error_t *err);
void ward_state_free(struct ward_state *st);
static inline void ward_state_freep(struct ward_state **s) { if (*s) ward_state_free(*s); }
#define _cleanup_state_ __attribute__((cleanup(ward_state_freep)))

enum ward_status ward_state_status(const struct ward_state *st);
const char *ward_status_name(enum ward_status s);
bool ward_state_pid_alive(const struct ward_state *st);
uint64_t ward_proc_start_time(pid_t pid);
/* Exclusive lock on the container's directory (flock); -1 on error. */
int ward_state_lock(const char *dir, ward_error_t *err);
int ward_state_remove_dir(const char *dir, ward_error_t *err);
int ward_state_list(const char *root, char ***ids, ward_error_t *err);
/* The runtime-spec state object. */
json_t *ward_state_oci_json(const struct ward_state *st);
/* The same with a status the caller already knows (no /proc look-ups). */
json_t *ward_state_oci_json_as(const struct ward_state *st, enum ward_status s);
/* Path of a file inside the state directory; the caller frees. */
char *ward_state_path(const struct ward_state *st, const char *file);

#endif
