/* Path resolution that can never leave the container's root: symlinks, ".."
 * and absolute links all resolve as if the root were "/" (openat2
 * RESOLVE_IN_ROOT). Every mount target is opened this way and then mounted
 * through its fd, so a hostile image cannot aim a mount at the host. */
#ifndef WARD_RESOLVE_H
#define WARD_RESOLVE_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

enum ward_resolve_create { WARD_NO_CREATE, WARD_CREATE_DIR, WARD_CREATE_FILE };

/* Returns an O_PATH fd for path (absolute, taken relative to rootfd),
 * creating missing directories (and the final file or directory) when asked.
 * *out is -1 and the result 0 when the path does not exist and nothing was
 * to be created. */
int ward_resolve_in_root(int rootfd, const char *path, enum ward_resolve_create create, int *out, ward_error_t *err);

/* "/proc/self/fd/N" for mounting onto an fd with mount(2). */
#define WARD_FD_PATH_MAX 32
void ward_fd_path(int fd, char buf[WARD_FD_PATH_MAX]);

#endif
