/* Recording traces from live events (`ward trace`). Not on the agent's hot
 * path: a trace per process is a growing buffer of tokens. */
#include "agent/model.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rec_trace {
  uint32_t pid;
  uint64_t first_ts;   /* ts_ns of its first event */
  unsigned gen;
  char *buf;
  size_t len, cap;
};

struct ward_trace_rec {
  char *dir, *prefix;
  bool per_run;
  struct rec_trace *t;
  size_t n, cap;
  size_t written;
  uint64_t cut;
  int werr;            /* first write error (errno), reported at finish */
  char *werr_file;
};

int ward_trace_rec_new(const char *dir, const char *prefix, bool per_run, struct ward_trace_rec **out,
                       ward_error_t *err)
{
  struct ward_trace_rec *r = calloc(1, sizeof(*r));
  if (r == NULL || (r->dir = strdup(dir)) == NULL || (r->prefix = strdup(prefix ? prefix : "trace")) == NULL) {
    ward_trace_rec_free(r);
    return ward_error(err, ENOMEM, "trace recorder");
  }
  r->per_run = per_run;
  *out = r;
  return 0;
}

void ward_trace_rec_free(struct ward_trace_rec *r)
{
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n; i++)
    free(r->t[i].buf);
  free(r->t);
  free(r->dir);
  free(r->prefix);
  free(r->werr_file);
  free(r);
}

static void write_trace(struct ward_trace_rec *r, struct rec_trace *t)
{
  if (t->len == 0)
    return;
  char base[256];
  if (r->per_run)
    snprintf(base, sizeof(base), "%s", r->prefix);
  else
    snprintf(base, sizeof(base), "%s-%u", r->prefix, t->pid);
  for (unsigned k = 1; k < 10000; k++) {
    _cleanup_free_ char *path = NULL;
    if ((k == 1 ? asprintf(&path, "%s/%s", r->dir, base) : asprintf(&path, "%s/%s-%u", r->dir, base, k)) < 0)
      break;
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST)
      continue;
    if (fd >= 0) {
      t->buf[t->len - 1] = '\n';   /* the last separator ends the line */
      size_t off = 0;
      while (off < t->len) {
        ssize_t w = write(fd, t->buf + off, t->len - off);
        if (w < 0 && errno == EINTR)
          continue;
        if (w <= 0)
          break;
        off += (size_t) w;
      }
      if (off == t->len) {
        r->written++;
        t->len = 0;
        return;
      }
    }
    if (!r->werr) {
      r->werr = errno ? errno : EIO;
      r->werr_file = strdup(path);
    }
    break;
  }
  t->len = 0;
}

static struct rec_trace *find(struct ward_trace_rec *r, uint32_t pid, bool create)
{
  if (r->per_run)
    pid = 0;
  for (size_t i = r->n; i-- > 0;)
    if (r->t[i].pid == pid)
      return &r->t[i];
  if (!create)
    return NULL;
  if (r->n == r->cap) {
    size_t nc = r->cap ? r->cap * 2 : 64;
    struct rec_trace *b = realloc(r->t, nc * sizeof(*b));
    if (b == NULL)
      return NULL;
    r->t = b;
    r->cap = nc;
  }
  r->t[r->n] = (struct rec_trace){.pid = pid};
  return &r->t[r->n++];
}

void ward_trace_rec_event(struct ward_trace_rec *r, const struct ward_event *ev)
{
  char tok[WARD_EVENT_TOKEN_MAX + 1];
  size_t l = ward_event_token(ev, tok);
  if (l == 0)
    return;
  /* a fork that returns a pid we hold a trace for, begun before the fork
   * started: that process is gone (a trace begun after it is the child's
   * own: the parent records the fork once it returns) */
  if (!r->per_run && (ev->type == WARD_EV_FORK || ev->type == WARD_EV_CLONE) && ev->ret > 0 &&
      (uint32_t) ev->ret != ev->pid) {
    struct rec_trace *old = find(r, (uint32_t) ev->ret, false);
    if (old && old->len && old->first_ts < ev->ts_ns)
      write_trace(r, old);
  }
  struct rec_trace *t = find(r, ev->pid, true);
  if (t == NULL) {
    r->cut++;
    return;
  }
  if (t->len + l + 1 > t->cap) {
    if (t->len + l + 1 > WARD_TRACE_FILE_MAX) {
      r->cut++;
      return;
    }
    size_t nc = t->cap ? t->cap * 2 : 4096;
    char *b = realloc(t->buf, nc);
    if (b == NULL) {
      r->cut++;
      return;
    }
    t->buf = b;
    t->cap = nc;
  }
  if (t->len == 0)
    t->first_ts = ev->ts_ns;
  memcpy(t->buf + t->len, tok, l);
  t->buf[t->len + l] = ' ';
  t->len += l + 1;
}

int ward_trace_rec_finish(struct ward_trace_rec *r, size_t *n_traces, uint64_t *n_cut, ward_error_t *err)
{
  for (size_t i = 0; i < r->n; i++)
    write_trace(r, &r->t[i]);
  if (n_traces)
    *n_traces = r->written;
  if (n_cut)
    *n_cut = r->cut;
  if (r->werr)
    return ward_error(err, r->werr, "%s", r->werr_file ? r->werr_file : r->dir);
  return 0;
}
