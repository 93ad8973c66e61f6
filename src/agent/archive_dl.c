/* libarchive through dlopen: see archive_dl.h for why. */
#define WARD_ARCHIVE_DL_IMPL
#include "agent/archive_dl.h"

#include <dlfcn.h>
#include <pthread.h>

struct ward_archive_api ward_archive;

#define WARD_ARCHIVE_SONAME "libarchive.so.13"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *load_error;  /* NULL: loaded */

static void load(void)
{
  /* RTLD_NODELETE: the table stays valid for the life of the process */
  void *h = dlopen(WARD_ARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (h == NULL) {
    load_error = WARD_ARCHIVE_SONAME " cannot be loaded (apt-get install libarchive13)";
    return;
  }
#define X(f)                                          \
  if ((ward_archive.f = (__typeof__(&f)) dlsym(h, #f)) == NULL) { \
    load_error = WARD_ARCHIVE_SONAME " lacks " #f;    \
    return;                                           \
  }
  WARD_ARCHIVE_FUNCS(X)
#undef X
}

int ward_archive_load(ward_error_t *err)
{
  pthread_once(&once, load);
  return load_error ? ward_error(err, 0, "snapshot: %s", load_error) : 0;
}
