#include "tap.h"

#include <stdarg.h>
#include <stdio.h>

static int count, failed;

void tap_diag(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  printf("# ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
}

void tap_ok(bool cond, const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  count++;
  if (!cond)
    failed++;
  printf("%s %d - ", cond ? "ok" : "not ok", count);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  if (!cond)
    printf("#   at %s:%d\n", file, line);
  fflush(stdout);
}

int tap_done(void)
{
  printf("1..%d\n", count);
  return failed ? 1 : 0;
}
