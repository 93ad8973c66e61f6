/* Flight recorder: round trip, overwrite-oldest, last N, string cutting,
 * reopen continues, geometry change resets, corrupted files. */
#include "agent/flight.h"
#include "common/cleanup.h"
#include "common/util.h"
#include "tap.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static char tmpdir[] = "/tmp/ward-test-flight-XXXXXX";

struct collect { size_t n; uint64_t seqs[64]; char last_path[WARD_EVENT_STR_MAX]; char last_path2[WARD_EVENT_STR_MAX];
  uint16_t last_flags; uint64_t last_args0; uint32_t last_nstack; uint64_t last_stack1; uint16_t last_port; };

static void collect(void *opaque, const struct ward_event *ev)
{
  struct collect *c = opaque;
  if (c->n < 64)
    c->seqs[c->n] = ev->seq;
  c->n++;
  snprintf(c->last_path, sizeof(c->last_path), "%s", ev->path);
  snprintf(c->last_path2, sizeof(c->last_path2), "%s", ev->path2);
  c->last_flags = ev->rec_flags;
  c->last_args0 = ev->args[0];
  c->last_nstack = ev->n_stack;
  c->last_stack1 = ev->stack[1];
  c->last_port = ev->port;
}

static struct ward_event *mk(uint64_t seq, const char *path)
{
  static struct ward_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = WARD_EV_OPEN;
  ev.source = WARD_SRC_PROBE;
  ev.seq = seq;
  ev.pid = 7;
  snprintf(ev.path, sizeof(ev.path), "%s", path);
  return &ev;
}

static void test_roundtrip(void)
{
  ward_error_t err = NULL;
  struct ward_flight *f = NULL;
  ok(ward_flight_open(tmpdir, 8, &f, &err) == 0, "open capacity 8");
  for (uint64_t i = 1; i <= 5; i++)
    ward_flight_append(f, mk(i, "/etc/passwd"));
  struct ward_event *ev = mk(6, "/bin/sh");
  ev->type = WARD_EV_CONNECT;
  ev->port = 4444;
  ev->n_stack = 2;
  ev->stack[1] = 0xdeadbeef;
  snprintf(ev->path2, sizeof(ev->path2), "sh -c id");
  ward_flight_append(f, ev);
  is_int((long long) ward_flight_count(f), 6, "count");
  struct collect c = {0};
  ok(ward_flight_read(tmpdir, 0, collect, &c, &err) == 0, "read all");
  is_int((long long) c.n, 6, "six events");
  is_int((long long) c.seqs[0], 1, "oldest first");
  is_str(c.last_path, "/bin/sh", "path kept");
  is_str(c.last_path2, "sh -c id", "path2 kept");
  is_int(c.last_port, 4444, "port kept");
  is_int(c.last_nstack, 2, "stack depth kept");
  is_int((long long) c.last_stack1, 0xdeadbeef, "stack kept");

  /* overwrite-oldest */
  for (uint64_t i = 7; i <= 20; i++)
    ward_flight_append(f, mk(i, "/x"));
  memset(&c, 0, sizeof(c));
  ok(ward_flight_read(tmpdir, 0, collect, &c, &err) == 0, "read after wrap");
  is_int((long long) c.n, 8, "capacity events held");
  is_int((long long) c.seqs[0], 13, "oldest overwritten");
  is_int((long long) c.seqs[7], 20, "newest last");
  memset(&c, 0, sizeof(c));
  ok(ward_flight_read(tmpdir, 3, collect, &c, &err) == 0, "read last 3");
  is_int((long long) c.n, 3, "three");
  is_int((long long) c.seqs[0], 18, "the last three");

  /* a second writer is refused */
  struct ward_flight *f2 = NULL;
  ok(ward_flight_open(tmpdir, 8, &f2, &err) < 0, "second writer refused");
  contains(err ? err->msg : NULL, "already has a writer", "error says why");
  ward_error_free(&err);
  ward_flight_close(f);

  /* reopen with the same geometry continues */
  ok(ward_flight_open(tmpdir, 8, &f, &err) == 0, "reopen");
  is_int((long long) ward_flight_count(f), 20, "count continues");
  ward_flight_close(f);
  /* another geometry starts over */
  ok(ward_flight_open(tmpdir, 16, &f, &err) == 0, "reopen bigger");
  is_int((long long) ward_flight_count(f), 0, "reset");
  ward_flight_close(f);
}

static void test_cut(void)
{
  ward_error_t err = NULL;
  _cleanup_free_ char *path = NULL;
  asprintf(&path, "%s/cut", tmpdir);
  struct ward_flight *f = NULL;
  ok(ward_flight_open_path(path, 4, 256, &f, &err) == 0, "open small slots");
  struct ward_event *ev = mk(1, "");
  memset(ev->path, 'a', 3000);
  ev->path[3000] = 0;
  snprintf(ev->path2, sizeof(ev->path2), "short");
  ev->source = WARD_SRC_SUPERVISOR;
  ev->type = WARD_EV_SYSCALL;
  ev->syscall_nr = 59;
  ev->args[0] = 0x1234;
  ward_flight_append(f, ev);
  ward_flight_close(f);
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct collect c = {0};
  struct ward_flight_read_stats st;
  ok(ward_flight_read_fd(fd, path, 0, collect, &c, &st, &err) == 0, "read cut record");
  is_int((long long) c.n, 1, "one");
  is_str(c.last_path2, "short", "short string whole");
  ok(strlen(c.last_path) > 0 && strlen(c.last_path) < 256, "long string cut to the slot");
  ok((c.last_flags & WARD_EVENT_F_TRUNC1) && !(c.last_flags & WARD_EVENT_F_TRUNC2), "cut flagged");
  is_int((long long) c.last_args0, 0x1234, "syscall args kept");
}

static void test_corrupt(void)
{
  ward_error_t err = NULL;
  _cleanup_free_ char *path = NULL;
  asprintf(&path, "%s/bad", tmpdir);
  struct ward_flight *f = NULL;
  ok(ward_flight_open_path(path, 4, 256, &f, &err) == 0, "open");
  for (uint64_t i = 1; i <= 4; i++)
    ward_flight_append(f, mk(i, "/p"));
  ward_flight_close(f);
  /* scribble over slot 1's type byte and lengths */
  _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
  uint8_t junk[16];
  memset(junk, 0xff, sizeof(junk));
  ok(pwrite(fd, junk, sizeof(junk), 64 + 256 + 88) == (ssize_t) sizeof(junk), "corrupt a slot");
  struct collect c = {0};
  struct ward_flight_read_stats st;
  ok(ward_flight_read_fd(fd, path, 0, collect, &c, &st, &err) == 0, "read corrupted");
  is_int((long long) st.delivered, 3, "three good");
  is_int((long long) st.skipped, 1, "one skipped");
  /* a huge head is bounded by the capacity */
  uint64_t head = UINT64_MAX - 1;
  ok(pwrite(fd, &head, sizeof(head), 16) == 8, "wild head");
  ok(ward_flight_read_fd(fd, path, 0, collect, &c, &st, &err) == 0, "read wild head");
  ok(st.delivered + st.skipped == 4, "bounded by capacity");
  /* truncated file */
  ok(ftruncate(fd, 100) == 0, "truncate");
  ok(ward_flight_read_fd(fd, path, 0, collect, &c, &st, &err) < 0, "short file refused");
  contains(err ? err->msg : NULL, "shorter than its geometry", "names the problem");
  ward_error_free(&err);
  ok(ward_flight_read(tmpdir, 0, collect, &c, &err) == 0 || err->errnum != 0, "default path readable");
  ward_error_free(&err);
  _cleanup_free_ char *none = NULL;
  asprintf(&none, "%s/none", tmpdir);
  mkdir(none, 0700);
  ok(ward_flight_read(none, 0, collect, &c, &err) < 0 && err->errnum == ENOENT, "missing file is ENOENT");
  ward_error_free(&err);
}

int main(void)
{
  if (mkdtemp(tmpdir) == NULL)
    return 1;
  test_roundtrip();
  test_cut();
  test_corrupt();
  ward_error_t err = NULL;
  ward_remove_tree(tmpdir, &err);
  ward_error_free(&err);
  return tap_done();
}
