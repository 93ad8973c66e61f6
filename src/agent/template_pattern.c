/* Path patterns: generalising concrete paths so that a replay of the same
 * workload fits (pids, counters, temp-file suffixes change between runs),
 * and matching paths against patterns. Syntax (docs/templates.md):
 *   *   any run of characters other than '/' (possibly empty)
 *   **  any run of characters, '/' included
 *   #   one or more decimal digits
 *   \c  the character c literally (\*, \#, \\)
 * Everything else matches itself. */
#include "agent/template_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Bounded so a hostile pattern ("*a*a*a*a...") cannot stall the agent. */
static bool match_at(const char *p, const char *s, unsigned *budget)
{
  while (*p) {
    if (*budget == 0)
      return false;
    (*budget)--;
    if (p[0] == '*' && p[1] == '*') {
      p += 2;
      for (const char *k = s;; k++) {
        if (match_at(p, k, budget))
          return true;
        if (*k == '\0')
          return false;
      }
    }
    if (*p == '*') {
      p++;
      for (const char *k = s;; k++) {
        if (match_at(p, k, budget))
          return true;
        if (*k == '\0' || *k == '/')
          return false;
      }
    }
    if (*p == '#') {
      p++;
      if (!isdigit((unsigned char) *s))
        return false;
      for (const char *k = s + 1;; k++) {
        if (match_at(p, k, budget))
          return true;
        if (!isdigit((unsigned char) *k))
          return false;
      }
    }
    if (*p == '\\' && p[1])
      p++;
    if (*p != *s)
      return false;
    p++;
    s++;
  }
  return *s == '\0';
}

bool ward_template_pattern_match(const char *pattern, const char *path)
{
  unsigned budget = 100000;
  return match_at(pattern, path, &budget);
}

/* ---- generalisation --------------------------------------------------- */

struct buf {
  char *p;
  size_t n, cap;
  bool oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
  if (b->oom)
    return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = (b->n + n + 1) * 2;
    char *q = realloc(b->p, cap);
    if (q == NULL) {
      b->oom = true;
      return;
    }
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void put_lit(struct buf *b, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '*' || s[i] == '#' || s[i] == '\\')
      put(b, "\\", 1);
    put(b, s + i, 1);
  }
}

static bool all_digits(const char *s, size_t n)
{
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isdigit((unsigned char) s[i]))
      return false;
  return true;
}

static bool is_word(char c) { return isalnum((unsigned char) c) || c == '_'; }

/* A run that looks generated: mixed letters and digits, or mixed case. Long
 * hex runs (hashes) count anywhere; shorter ones only in temp places. */
static bool looks_random(const char *s, size_t n, bool temp)
{
  bool up = false, lo = false, dig = false, hex = true;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char) s[i];
    up |= isupper(c) != 0;
    lo |= islower(c) != 0;
    dig |= isdigit(c) != 0;
    hex &= isxdigit(c) != 0;
  }
  if (temp)
    return n >= 6 && ((dig && (up || lo)) || (up && lo));
  return (n >= 8 && up && lo && dig) || (n >= 16 && hex && dig && (up || lo));
}

static bool temp_prefix(const char *c, size_t n, size_t *skip)
{
  static const char *const pre[] = {".tmp", "tmp", "temp", ".temp"};
  for (size_t i = 0; i < 4; i++) {
    size_t k = strlen(pre[i]);
    if (n > k && strncmp(c, pre[i], k) == 0) {
      *skip = k;
      return true;
    }
  }
  return false;
}

/* One path component, word run by word run ([A-Za-z0-9_]+ between other
 * characters): a run of digits becomes '#', a run that looks generated
 * becomes '*', anything else is kept literally. A temp-file prefix
 * ("tmp" in "tmpab3xk9q2") is split off the first run first. */
static void component(struct buf *b, const char *c, size_t n, bool in_temp, bool digits)
{
  size_t skip = 0;
  bool temp = temp_prefix(c, n, &skip) || in_temp;
  size_t i = 0;
  while (i < n) {
    if (!is_word(c[i])) {
      put_lit(b, c + i, 1);
      i++;
      continue;
    }
    size_t j = i;
    while (j < n && is_word(c[j]))
      j++;
    size_t start = i;
    if (i == 0 && skip && skip < j && is_word(c[skip - 1])) {
      put_lit(b, c, skip);
      start = skip;
    }
    if (digits && all_digits(c + start, j - start))
      put(b, "#", 1);
    else if (looks_random(c + start, j - start, temp))
      put(b, "*", 1);
    else
      put_lit(b, c + start, j - start);
    i = j;
  }
}

char *ward_template_generalise(const char *path)
{
  return tpl_generalise(path, true);
}

char *tpl_generalise_exec(const char *path)
{
  return tpl_generalise(path, false);
}

char *tpl_generalise(const char *path, bool digits)
{
  struct buf b = {0};
  put(&b, "", 0);
  bool in_temp = strncmp(path, "/tmp/", 5) == 0 || strncmp(path, "/var/tmp/", 9) == 0 ||
                 strncmp(path, "/dev/shm/", 9) == 0;
  bool proc = strncmp(path, "/proc/", 6) == 0;
  const char *s = path;
  unsigned idx = 0;
  const char *prev = NULL;
  size_t prev_n = 0;
  while (*s) {
    if (*s == '/') {
      put(&b, "/", 1);
      s++;
      continue;
    }
    const char *e = strchrnul(s, '/');
    size_t n = (size_t) (e - s);
    idx++;
    /* /proc/PID/... and /proc/PID/task/TID/...: any process, not this one */
    bool pid = proc && all_digits(s, n) &&
               (idx == 2 || (idx == 4 && prev && prev_n == 4 && strncmp(prev, "task", 4) == 0));
    if (pid)
      put(&b, "*", 1);
    else
      component(&b, s, n, in_temp && idx >= 2, digits || in_temp);
    prev = s;
    prev_n = n;
    s = e;
  }
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  return b.p;
}
