/* Runtime logging in the two formats OCI clients expect: plain text, or the
 * runc JSON-lines format ({"level","msg","time"}) that containerd's shim and
 * conmon read back from --log to explain a failure. */
#ifndef WARD_LOG_H
#define WARD_LOG_H

enum ward_log_level { WARD_LOG_DEBUG, WARD_LOG_INFO, WARD_LOG_WARNING, WARD_LOG_ERROR };
enum ward_log_format { WARD_LOG_TEXT, WARD_LOG_JSON };

/* path NULL: stderr only. Errors and warnings always reach stderr as well. */
int ward_log_init(const char *path, enum ward_log_format format, int debug);
void ward_log(enum ward_log_level level, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
/* The log fd, so a child about to exec can mark it close-on-exec. */
int ward_log_fd(void);

#define ward_warn(...) ward_log(WARD_LOG_WARNING, __VA_ARGS__)
#define ward_debug(...) ward_log(WARD_LOG_DEBUG, __VA_ARGS__)

#endif
