/* ward events [--follow] [--json] [--ring PATH] ID
 *
 * Decodes the container's events. A ring has one consumer (lock file next to
 * it). When the container is served by an engine (`ward run`/`ward sandbox`
 * in-process, or `ward agent`), the engine holds that lock and records every
 * event it consumed in the container's flight recorder (in its memory
 * directory, common/rundir.h):
 * then this command, and `ward top`, read the flight recorder instead and
 * check the ring file only for its health (a workload that truncates it).
 * Without an engine they consume the ring themselves, as before. */
#include "cli/cli.h"
#include "common/rundir.h"
#include "cli/probe_src.h"
#include "agent/flight.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "probe/calls.h"
#include "probe/event_json.h"
#include "probe/ring.h"
#include "probe/symbolize.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *probe_state_dir_pid(const struct ward_global *g, const char *id, pid_t *init);

volatile sig_atomic_t probe_cli_stop;
static void on_signal(int sig) { (void) sig; probe_cli_stop = 1; }

void probe_src_close(struct probe_src *s)
{
  if (s->ring)
    ward_ring_close(s->ring);
  if (s->lock_fd >= 0)
    close(s->lock_fd);
  if (s->flight_fd >= 0)
    close(s->flight_fd);
  free(s->ring_path);
  s->ring = NULL;
  s->lock_fd = s->flight_fd = -1;
  s->ring_path = NULL;
}

static int open_flight(struct probe_src *s, const char *dir, ward_error_t *err)
{
  _cleanup_free_ char *path = NULL;
  if ((path = ward_run_path(dir, WARD_FLIGHT_FILE)) == NULL)
    return ward_error_sys(err, "%s: the memory directory", dir);
  /* the runtime takes the lock when the ring is made; the engine creates
   * the recorder a moment later, when it takes the container over */
  for (int i = 0; i < 300 && (s->flight_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno == ENOENT; i++) {
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
  }
  if (s->flight_fd < 0)
    return ward_error_sys(err, "the ring is consumed by an engine, but its flight recorder %s", path);
  /* the ring's health is still ours to report: the same checks a consumer
   * makes when it maps the file */
  _cleanup_ring_ struct ward_ring *probe = NULL;
  if (ward_ring_open(s->ring_path, WARD_RING_ALLOW_UNSEALED, &probe, err) < 0)
    return -1;
  struct stat st;
  s->ring_size = stat(s->ring_path, &st) == 0 ? st.st_size : 0;
  return 0;
}

int probe_cli_open_ring(const struct ward_global *g, const char *cmd, const char *ring_path, const char *id,
                        struct probe_src *out)
{
  _cleanup_error_ ward_error_t err = NULL;
  _cleanup_free_ char *dir = NULL;
  *out = (struct probe_src) {.lock_fd = -1, .flight_fd = -1};
  if (ring_path == NULL) {
    if (id == NULL)
      return cli_usage_error(cmd, "expects a container id (or --ring PATH)");
    dir = probe_state_dir_pid(g, id, &out->init);
    if (dir == NULL)
      return 1;
    if ((out->ring_path = ward_run_path(dir, WARD_STATE_PROBE "/" WARD_PROBE_RING)) == NULL)
      return ward_error_sys(&err, "container \"%s\": its memory directory", id), cli_fail(&err);
    if (access(out->ring_path, F_OK) < 0)
      return ward_error(&err, 0, "container \"%s\" runs without probes (static image, or probes opted out)", id), cli_fail(&err);
  } else if ((out->ring_path = strdup(ring_path)) == NULL) {
    return 1;
  }
  /* one consumer per ring; a lock we cannot create (read-only dir) is not
   * fatal for a debugging option */
  _cleanup_free_ char *lock = NULL;
  if (asprintf(&lock, "%s.lock", out->ring_path) < 0)
    return 1;
  if (ward_ring_lock_consumer(lock, &out->lock_fd, &err) < 0) {
    if (err->errnum == 0 && dir) {
      ward_error_free(&err);
      if (open_flight(out, dir, &err) < 0)
        return probe_src_close(out), cli_fail(&err);
    } else if (err->errnum == 0) {
      return probe_src_close(out), cli_fail(&err);
    } else {
      ward_error_free(&err);
      out->lock_fd = -1;
    }
  }
  if (out->flight_fd < 0 && ward_ring_open(out->ring_path, WARD_RING_ALLOW_UNSEALED, &out->ring, &err) < 0)
    return probe_src_close(out), cli_fail(&err);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  return 0;
}

static void count_only(void *opaque, const struct ward_event *ev) { (void) opaque; (void) ev; }

size_t probe_src_drain(struct probe_src *s, ward_event_sink_fn sink, void *opaque, size_t max)
{
  if (s->ring)
    return ward_ring_drain(s->ring, sink, opaque, max);
  /* the flight recorder: only what was appended since the last call */
  struct ward_flight_read_stats st = {0};
  _cleanup_error_ ward_error_t err = NULL;
  if (ward_flight_read_fd(s->flight_fd, "flight", 1, count_only, NULL, &st, &err) < 0 || st.total <= s->seen_total)
    return 0;
  uint64_t fresh = st.total - s->seen_total;
  if (fresh > max)
    fresh = max;
  struct ward_flight_read_stats got = {0};
  if (ward_flight_read_fd(s->flight_fd, "flight", (size_t) fresh, sink, opaque, &got, &err) < 0)
    return 0;
  s->seen_total += fresh;
  s->events += got.delivered;
  return got.delivered ? got.delivered : 1;
}

bool probe_src_truncated(struct probe_src *s)
{
  if (s->ring)
    return ward_ring_truncated(s->ring);
  struct stat st;
  return stat(s->ring_path, &st) == 0 && st.st_size < s->ring_size;
}

void probe_src_stats(struct probe_src *s, struct ward_ring_stats *out)
{
  memset(out, 0, sizeof(*out));
  if (s->ring)
    ward_ring_get_stats(s->ring, out);
  else
    out->events = s->events;
}

/* Return addresses are named on the host (never in the probe), from the
 * process's maps while it still runs: its pid in the record is the one the
 * container sees, mapped to the host's through the init's pid namespace and
 * remembered (a miss too: 0: a process that has gone stays gone), since
 * that can take a scan of /proc. */
#define PID_CACHE 64
struct stack_names {
  pid_t init;
  struct { uint32_t ns_pid; pid_t host; } pid[PID_CACHE];
  unsigned next;
};

static pid_t host_pid(struct stack_names *sn, uint32_t ns_pid)
{
  for (unsigned i = 0; i < PID_CACHE; i++)
    if (sn->pid[i].ns_pid == ns_pid) {
      /* the pid may have been reused since: the answer is re-checked */
      if (sn->pid[i].host > 0)
        sn->pid[i].host = ward_host_pid_in_ns(sn->init, (pid_t) ns_pid, sn->pid[i].host);
      return sn->pid[i].host;
    }
  pid_t h = ward_host_pid_in_ns(sn->init, (pid_t) ns_pid, 0);
  sn->pid[sn->next].ns_pid = ns_pid;
  sn->pid[sn->next].host = h;
  sn->next = (sn->next + 1) % PID_CACHE;
  return h;
}

/* The host pid whose maps name ev's stack (0: the process is gone or the
 * container unknown), looked up once per event. */
static pid_t stack_owner(struct stack_names *sn, const struct ward_event *ev)
{
  return ev->n_stack && sn->init > 0 && ev->source == WARD_SRC_PROBE ? host_pid(sn, ev->pid) : 0;
}

#define FRAME_NAME_MAX 512

/* ev's frames as "file!symbol+0x12" (their addresses without an owner),
 * name i at names[i]; returns how many */
static unsigned frame_names(struct stack_names *sn, const struct ward_event *ev,
                            char (*names)[FRAME_NAME_MAX])
{
  unsigned n = ev->n_stack < WARD_EVENT_STACK_MAX ? ev->n_stack : WARD_EVENT_STACK_MAX;
  pid_t owner = stack_owner(sn, ev);
  if (owner > 0) {
    ward_symbolize_stack(owner, ev->stack, n, &names[0][0], FRAME_NAME_MAX);
    return n;
  }
  for (unsigned i = 0; i < n; i++)
    snprintf(names[i], FRAME_NAME_MAX, "0x%llx", (unsigned long long) ev->stack[i]);
  return n;
}

static void print_text(struct stack_names *sn, const struct ward_event *ev)
{
  const char *call = ward_probe_call_name(ev->call);
  printf("%llu %llu.%09llu %u/%u %s %s", (unsigned long long) ev->seq, (unsigned long long) (ev->ts_ns / 1000000000u),
         (unsigned long long) (ev->ts_ns % 1000000000u), ev->pid, ev->tid, ward_event_type_name(ev->type),
         call ? call : "-");
  if (ev->path[0])
    printf(" %s", ev->path);
  if (ev->path2[0])
    printf(" -> %s", ev->path2);
  if (ev->family && ev->type != WARD_EV_SOCKET && ev->family != 1) {
    char a[64] = "";
    json_t *j = ward_event_to_json(ev);
    json_t *addr = j ? json_object_get(j, "addr") : NULL;
    if (addr)
      snprintf(a, sizeof(a), "%s", json_string_value(addr));
    json_decref(j);
    printf(" %s port %u", a, ev->port);
  }
  printf(" = %lld", (long long) ev->ret);
  if (ev->ret < 0 && ev->ret >= -4095 && ward_errno_name((int) -ev->ret))
    printf(" %s", ward_errno_name((int) -ev->ret));
  if (ev->call_ns || (ev->rec_flags & WARD_EVENT_F_TIMED))
    printf(" (%u ns)", ev->call_ns);
  if (ev->denied)
    printf(" [denied]");
  if (ev->rec_flags & WARD_EVENT_F_REDIRECTED)
    printf(" [redirected to %s]", ev->path2);
  printf("\n");
  char names[WARD_EVENT_STACK_MAX][FRAME_NAME_MAX];
  unsigned n = frame_names(sn, ev, names);
  for (unsigned i = 0; i < n; i++)
    printf("    at %s\n", names[i]);
}

struct sink_ctx { bool json; bool failed; struct stack_names names; };

/* "stack_sym": the names of "stack", entry for entry */
static int add_stack_names(struct stack_names *sn, const struct ward_event *ev, json_t *j)
{
  if (ev->n_stack == 0)
    return 0;
  json_t *a = json_array();
  if (a == NULL || json_object_set_new(j, "stack_sym", a) < 0)
    return -1;
  char names[WARD_EVENT_STACK_MAX][FRAME_NAME_MAX];
  unsigned n = frame_names(sn, ev, names);
  for (unsigned i = 0; i < n; i++)
    if (json_array_append_new(a, ward_json_bytes(names[i], FRAME_NAME_MAX)) < 0)
      return -1;
  return 0;
}

static void sink(void *opaque, const struct ward_event *ev)
{
  struct sink_ctx *c = opaque;
  if (!c->json) {
    print_text(&c->names, ev);
    return;
  }
  _cleanup_json_ json_t *j = ward_event_to_json(ev);
  if (j && add_stack_names(&c->names, ev, j) < 0) {
    c->failed = true;
    return;
  }
  _cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
  if (s == NULL) {
    c->failed = true;
    return;
  }
  puts(s);
}

int cmd_events(struct ward_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    {"follow", no_argument, NULL, 'f'},
    {"json", no_argument, NULL, 'j'},
    {"ring", required_argument, NULL, 'r'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  struct sink_ctx ctx = {0};
  bool follow = false;
  const char *ring_path = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "+fjr:h", opts, NULL)) != -1) {
    switch (c) {
    case 'f': follow = true; break;
    case 'j': ctx.json = true; break;
    case 'r': ring_path = optarg; break;
    case 'h':
      printf("usage: ward events [--follow] [--json] ID\n");
      return 0;
    default:
      return 2;
    }
  }
  const char *id = optind < argc ? argv[optind] : NULL;
  if (id == NULL && ring_path == NULL)
    return cli_usage_error(argv[0], "missing container id");
  _cleanup_probe_src_ struct probe_src src;
  int rc = probe_cli_open_ring(g, argv[0], ring_path, id, &src);
  if (rc != 0)
    return rc;
  ctx.names.init = src.init;
  unsigned idle = 0;
  while (!probe_cli_stop) {
    size_t n = probe_src_drain(&src, sink, &ctx, 4096);
    if (n > 0) {
      idle = 0;
      continue;
    }
    if (!follow || probe_src_truncated(&src))
      break;
    fflush(stdout);
    /* back off to 20 ms when quiet: producers never wait on us */
    struct timespec ts = {0, (idle < 20 ? 1 + idle++ : 20) * 1000000L};
    nanosleep(&ts, NULL);
  }
  fflush(stdout);
  struct ward_ring_stats st;
  probe_src_stats(&src, &st);
  if (probe_src_truncated(&src)) {
    fprintf(stderr, "ward events: the container truncated its ring: no further events can be read from it\n");
    return 1;
  }
  if (st.drops || st.bad || st.lost)
    fprintf(stderr, "ward events: %llu events, %llu dropped (ring full), %llu bad, %llu lost\n",
            (unsigned long long) st.events, (unsigned long long) st.drops, (unsigned long long) st.bad,
            (unsigned long long) st.lost);
  return ctx.failed ? 1 : 0;
}
