#include "common/error.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    return NULL;
  return s;
}

int ward_error(ward_error_t *err, int errnum, const char *fmt, ...)
{
  if (err == NULL)
    return -1;
  ward_error_free(err);
  va_list ap;
  va_start(ap, fmt);
  char *msg = vformat(fmt, ap);
  va_end(ap);

  struct ward_error *e = calloc(1, sizeof(*e));
  if (e == NULL) {
    free(msg);
    return -1;
  }
  e->errnum = errnum;
  if (msg && errnum) {
    char *full = NULL;
    if (asprintf(&full, "%s: %s", msg, strerror(errnum)) >= 0) {
      free(msg);
      msg = full;
    }
  }
  e->msg = msg ? msg : strdup("out of memory formatting an error");
  *err = e;
  return -1;
}

int ward_error_prefix(ward_error_t *err, const char *fmt, ...)
{
  if (err == NULL || *err == NULL)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  char *ctx = vformat(fmt, ap);
  va_end(ap);
  char *full = NULL;
  if (ctx && asprintf(&full, "%s: %s", ctx, (*err)->msg ? (*err)->msg : "") >= 0) {
    free((*err)->msg);
    (*err)->msg = full;
  }
  free(ctx);
  return -1;
}

void ward_error_free(ward_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  free((*err)->msg);
  free(*err);
  *err = NULL;
}

void ward_error_report(ward_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  ward_log(WARD_LOG_ERROR, "%s", (*err)->msg);
  ward_error_free(err);
}
