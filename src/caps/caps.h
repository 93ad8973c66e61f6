/* Capabilities: names, the Docker default set, and the exact order of
 * operations that leaves the workload with the five configured sets. */
#ifndef WARD_CAPS_H
#define WARD_CAPS_H

#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/config.h"

/* The 14 capabilities Docker grants by default. */
uint64_t ward_caps_docker_default(void);
/* Highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap). */
int ward_caps_last(void);
/* Comma-separated "CAP_CHOWN,CAP_KILL"; "ALL" and "default" are understood. */
int ward_caps_parse_list(const char *list, uint64_t *out, ward_error_t *err);

/* Run in the container's init while it still holds every capability of its
 * user namespace: prepares to keep capabilities across the uid switch and
 * trims the bounding set. */
int ward_caps_prepare(const struct ward_caps *caps, ward_error_t *err);
/* After setresuid/setresgid: sets effective/permitted/inheritable, then the
 * ambient set. */
int ward_caps_apply(const struct ward_caps *caps, ward_error_t *err);

#endif
