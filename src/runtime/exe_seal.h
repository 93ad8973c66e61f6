/* CVE-2019-5736: a container process that can open /proc/PID/exe of a
 * runtime process inside the container could overwrite the runtime binary
 * on the host. ward runs from a sealed, read-only memfd copy of itself, so
 * there is nothing on the host to reach through that link. */
#ifndef WARD_EXE_SEAL_H
#define WARD_EXE_SEAL_H

#include <stdbool.h>

/* Re-executes from a sealed memfd unless already running from one. Only the
 * commands that put processes into containers need it; others return at
 * once. Never returns on successful re-exec. */
void ward_exe_ensure_sealed(int argc, char **argv);
/* True when /proc/self/exe is a memfd sealed against writes. */
bool ward_exe_is_sealed(void);

#endif
