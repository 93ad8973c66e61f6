/* Scope-bound release of resources, so error paths need no goto ladders. */
#ifndef WARD_CLEANUP_H
#define WARD_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void ward_freep(void *p) { free(*(void **)p); }
static inline void ward_closep(int *fd)
{
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}
static inline void ward_fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void ward_closedirp(DIR **d) { if (*d) closedir(*d); }
static inline void ward_strvfreep(char ***v)
{
  if (*v) {
    for (char **p = *v; *p; p++)
      free(*p);
    free(*v);
  }
}

#define _cleanup_free_ _cleanup_(ward_freep)
#define _cleanup_close_ _cleanup_(ward_closep)
#define _cleanup_fclose_ _cleanup_(ward_fclosep)
#define _cleanup_closedir_ _cleanup_(ward_closedirp)
#define _cleanup_strv_ _cleanup_(ward_strvfreep)

/* Hand ownership out of a cleanup-managed variable. */
#define steal_pointer(pp) ({ __typeof__(*(pp)) _p = *(pp); *(pp) = NULL; _p; })
#define steal_fd(fdp) ({ int _fd = *(fdp); *(fdp) = -1; _fd; })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
