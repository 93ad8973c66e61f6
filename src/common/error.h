/* Errors are values: a failing function returns a negative number and fills
 * a ward_error_t that carries the message (and errno) up to the caller, who
 * may prefix context ("config.json: process.args: ...") before printing it. */
#ifndef WARD_ERROR_H
#define WARD_ERROR_H

#include <stdarg.h>

struct ward_error {
  int errnum;  /* errno at the failure, 0 if not a system error */
  char *msg;
};
typedef struct ward_error *ward_error_t;

/* Sets *err (freeing any previous error) and returns -1. When errnum is
 * non-zero, ": strerror(errnum)" is appended. */
int ward_error(ward_error_t *err, int errnum, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
/* Prepends "context: " to an existing error; returns -1. */
int ward_error_prefix(ward_error_t *err, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
void ward_error_free(ward_error_t *err);
/* Prints "ward: msg" to stderr and into the log (see log.h); frees it. */
void ward_error_report(ward_error_t *err);

/* errno-style propagation helpers */
#define ward_error_sys(err, ...) ward_error((err), errno, __VA_ARGS__)

static inline void ward_error_freep(ward_error_t *err) { ward_error_free(err); }
#define _cleanup_error_ __attribute__((cleanup(ward_error_freep)))

#endif
