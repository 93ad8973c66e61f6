/* Landlock: unprivileged, stackable file-system, TCP-port and IPC-scope
 * restrictions applied by the container's init after its mounts are final
 * and right before exec. Degrades by ABI version, reporting what it could
 * not enforce. */
#ifndef WARD_LANDLOCK_H
#define WARD_LANDLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

struct ward_kv;  /* runtime/config.h */
struct ward_landlock;

int ward_landlock_new(struct ward_landlock **out, ward_error_t *err);
void ward_landlock_free(struct ward_landlock *ll);
/* Rules, with access given as a comma list: "read_file,read_dir,execute" or
 * the shorthands "ro", "rw", "exec". The path must exist at apply time. */
int ward_landlock_add_path(struct ward_landlock *ll, const char *path, const char *access, ward_error_t *err);
int ward_landlock_add_port(struct ward_landlock *ll, const char *kind /* "connect" or "bind" */, long port, ward_error_t *err);
int ward_landlock_set_scope(struct ward_landlock *ll, bool abstract_unix, bool signal, ward_error_t *err);
/* Reads the run.ward.landlock.* annotations (docs/landlock.md); *out stays
 * NULL when the bundle asks for no Landlock. */
int ward_landlock_from_annotations(const struct ward_kv *ann, size_t n, struct ward_landlock **out, ward_error_t *err);
/* Enforces on the calling thread; writes a one-line report of anything the
 * running kernel's ABI could not enforce into report (may be NULL). */
int ward_landlock_apply(const struct ward_landlock *ll, char *report, size_t report_len, ward_error_t *err);
int ward_landlock_abi(void);

#endif
