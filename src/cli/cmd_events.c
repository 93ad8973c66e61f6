/* ward events [--follow] [--json] [--ring PATH] ID
 *
 * Decodes the container's ring. A ring has one consumer (lock file next to
 * it). NOTE for the lead: without --ring the ring is reopened through the
 * container's init (ward_probe_open_ring(state_dir, init_pid)); the init pid
 * comes from the runtime's state, read by probe_init_pid() once the state
 * format exists. Until then, ID needs --ring. */
#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "probe/calls.h"
#include "probe/event_json.h"
#include "probe/ring.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *probe_state_dir(const struct ward_global *g, const char *id);
/* shared with cmd_top.c */
int probe_cli_open_ring(const struct ward_global *g, const char *cmd, const char *ring_path, const char *id,
                        struct ward_ring **out, int *lock_fd);
extern volatile sig_atomic_t probe_cli_stop;

volatile sig_atomic_t probe_cli_stop;
static void on_signal(int sig) { (void) sig; probe_cli_stop = 1; }

int probe_cli_open_ring(const struct ward_global *g, const char *cmd, const char *ring_path, const char *id,
                        struct ward_ring **out, int *lock_fd)
{
  _cleanup_error_ ward_error_t err = NULL;
  _cleanup_free_ char *by_id = NULL;
  if (ring_path == NULL) {
    if (id == NULL)
      return cli_usage_error(cmd, "expects a container id (or --ring PATH)");
    _cleanup_free_ char *dir = probe_state_dir(g, id);
    if (dir == NULL)
      return 1;
    if (asprintf(&by_id, "%s/probe/" WARD_PROBE_RING, dir) < 0)
      return 1;
    if (access(by_id, F_OK) < 0)
      return ward_error(&err, 0, "container \"%s\" runs without probes (static image, or probes opted out)", id), cli_fail(&err);
    ring_path = by_id;
  }
  /* one consumer per ring; a lock we cannot create (read-only dir) is not
   * fatal for a debugging option */
  _cleanup_free_ char *lock = NULL;
  if (asprintf(&lock, "%s.lock", ring_path) < 0)
    return 1;
  if (ward_ring_lock_consumer(lock, lock_fd, &err) < 0) {
    if (err->errnum == 0)
      return cli_fail(&err);
    ward_error_free(&err);
    *lock_fd = -1;
  }
  if (ward_ring_open(ring_path, WARD_RING_ALLOW_UNSEALED, out, &err) < 0)
    return cli_fail(&err);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  return 0;
}

static void print_text(const struct ward_event *ev)
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
  if (ev->call_ns)
    printf(" (%u ns)", ev->call_ns);
  if (ev->denied)
    printf(" [denied]");
  if (ev->rec_flags & WARD_EVENT_F_REDIRECTED)
    printf(" [redirected to %s]", ev->path2);
  printf("\n");
}

struct sink_ctx { bool json; bool failed; };

static void sink(void *opaque, const struct ward_event *ev)
{
  struct sink_ctx *c = opaque;
  if (!c->json) {
    print_text(ev);
    return;
  }
  _cleanup_json_ json_t *j = ward_event_to_json(ev);
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
  _cleanup_ring_ struct ward_ring *r = NULL;
  _cleanup_close_ int lock = -1;
  int rc = probe_cli_open_ring(g, argv[0], ring_path, id, &r, &lock);
  if (rc != 0)
    return rc;
  unsigned idle = 0;
  while (!probe_cli_stop) {
    size_t n = ward_ring_drain(r, sink, &ctx, 4096);
    if (n > 0) {
      idle = 0;
      continue;
    }
    if (!follow || ward_ring_truncated(r))
      break;
    fflush(stdout);
    /* back off to 20 ms when quiet: producers never wait on us */
    struct timespec ts = {0, (idle < 20 ? 1 + idle++ : 20) * 1000000L};
    nanosleep(&ts, NULL);
  }
  fflush(stdout);
  struct ward_ring_stats st;
  ward_ring_get_stats(r, &st);
  if (ward_ring_truncated(r)) {
    fprintf(stderr, "ward events: the container truncated its ring: no further events can be read from it\n");
    return 1;
  }
  if (st.drops || st.bad || st.lost)
    fprintf(stderr, "ward events: %llu events, %llu dropped (ring full), %llu bad, %llu lost\n",
            (unsigned long long) st.events, (unsigned long long) st.drops, (unsigned long long) st.bad,
            (unsigned long long) st.lost);
  return ctx.failed ? 1 : 0;
}
