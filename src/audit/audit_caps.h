/* Capability names both ways, shared by the audit model and `ward check`.
 * Kept here rather than libcap's cap_to_name so names are the upper-case
 * form every input kind uses and capabilities newer than libcap still map. */
#ifndef WARD_AUDIT_CAPS_H
#define WARD_AUDIT_CAPS_H

#include <stdint.h>

#define WARD_CAP_COUNT 41
#define WARD_CAPS_ALL ((UINT64_C(1) << WARD_CAP_COUNT) - 1)

/* "SYS_ADMIN" (no CAP_ prefix), or NULL when unknown. */
const char *audit_cap_short_name(int cap);
/* Accepts "SYS_ADMIN", "CAP_SYS_ADMIN", "sys_admin"; -1 when unknown. */
int ward_cap_parse(const char *s);
/* The set Docker, containerd's CRI plugin and podman < 4 grant by default. */
uint64_t ward_caps_runtime_default(void);

#endif
