#include "common/log.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1;
static enum ward_log_format log_format = WARD_LOG_TEXT;
static int log_debug;

int ward_log_init(const char *path, enum ward_log_format format, int debug)
{
  log_format = format;
  log_debug = debug;
  if (path == NULL)
    return 0;
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    return -1;
  if (log_fd >= 0)
    close(log_fd);
  log_fd = fd;
  return 0;
}

int ward_log_fd(void) { return log_fd; }

static const char *level_name(enum ward_log_level level)
{
  switch (level) {
  case WARD_LOG_DEBUG: return "debug";
  case WARD_LOG_INFO: return "info";
  case WARD_LOG_WARNING: return "warning";
  default: return "error";
  }
}

static void write_all(int fd, const char *buf, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n <= 0)
      return;
    buf += n;
    len -= (size_t) n;
  }
}

static void write_record(int fd, enum ward_log_level level, const char *msg)
{
  if (log_format == WARD_LOG_JSON) {
    char when[WARD_RFC3339_MAX];
    ward_rfc3339_now(when, 0);
    json_t *o = json_pack("{s:s, s:s, s:s}", "level", level_name(level), "msg", msg, "time", when);
    _cleanup_free_ char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (line) {
      write_all(fd, line, strlen(line));
      write_all(fd, "\n", 1);
    }
  } else {
    _cleanup_free_ char *line = NULL;
    int n = asprintf(&line, "ward: %s%s\n", level == WARD_LOG_ERROR ? "" : level == WARD_LOG_WARNING ? "warning: " : "", msg);
    if (n > 0)
      write_all(fd, line, (size_t) n);
  }
}

void ward_log(enum ward_log_level level, const char *fmt, ...)
{
  if (level == WARD_LOG_DEBUG && !log_debug)
    return;
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *msg = NULL;
  int n = vasprintf(&msg, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if (log_fd >= 0)
    write_record(log_fd, level, msg);
  if (level >= WARD_LOG_WARNING || log_fd < 0) {
    enum ward_log_format saved = log_format;
    log_format = WARD_LOG_TEXT;  /* stderr is for people */
    write_record(STDERR_FILENO, level, msg);
    log_format = saved;
  }
}
