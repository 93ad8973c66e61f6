/* ward trace: record traces (one per process, research format) from a ward
 * container, optionally with the events as JSON lines and the detector's
 * findings live.
 *
 *   ward trace -o DIR [OPTIONS] -- CMD ARGS...   runs CMD in a sandbox and
 *       consumes its ring itself (a ring has one consumer: this command)
 *   ward trace -o DIR [OPTIONS] ID               a running container whose
 *       ring no engine consumes; until SIGINT/SIGTERM or --duration */
#include "agent/detect.h"
#include "agent/detect_event_json.h"
#include "agent/model.h"
#include "cli/cli.h"
#include "cli/probe_src.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "probe/event_json.h"
#include "probe/ring.h"
#include "runtime/lifecycle.h"
#include "runtime/sandbox.h"
#include "supervisor/supervisor.h"

#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


static void usage(FILE *out)
{
  fprintf(out,
          "usage: ward trace -o DIR [OPTIONS] -- CMD [ARGS...]\n"
          "       ward trace -o DIR [OPTIONS] [--ring PATH] ID\n\n"
          "  -o, --output DIR    write traces here (created if missing)\n"
          "  --prefix NAME       trace file names NAME-PID (default trace)\n"
          "  --per-run           one trace for the whole run instead of one per process\n"
          "  --events FILE       also write every event as a JSON line (ward events --json format)\n"
          "  --detect FILE       run the detector live, detections as JSON lines to FILE (- stdout)\n"
          "  --model FILE        model for --detect (ward model train, or a detector model)\n"
          "  --duration SEC      ID mode: stop after SEC seconds\n"
          "  --supervisor        CMD mode: also record the seccomp supervisor's events (its watched\n"
          "                      system calls, static binaries included)\n"
          "  --source S          keep only probe or supervisor events (default: all; with both, an\n"
          "                      exec or connect of a dynamic binary is seen by each)\n"
          "sandbox options (CMD mode): --name ID, --net none|host, --ro PATH, --rw PATH,\n"
          "  --no-landlock, --probe GROUPS (default exec,file,net,mem,identity,dl)\n");
}

struct trace_ctx {
  int source;          /* 0: every event, else only this enum ward_event_source */
  struct ward_trace_rec *rec;
  FILE *events;
  FILE *alerts;
  struct ward_detector *det;
  uint64_t n, n_detections;
  bool failed;
};

static void on_detection(void *opaque, const struct ward_event *ev, const struct ward_detection *d)
{
  struct trace_ctx *c = opaque;
  _cleanup_json_ json_t *j = ward_detection_to_json(ev, d);
  _cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
  c->n_detections++;
  if (s) {
    fputs(s, c->alerts);
    fputc('\n', c->alerts);
    fflush(c->alerts);
  }
}

static void sink(void *opaque, const struct ward_event *ev)
{
  struct trace_ctx *c = opaque;
  if (c->source && (int) ev->source != c->source)
    return;
  c->n++;
  ward_trace_rec_event(c->rec, ev);
  if (c->det)
    ward_detector_event(c->det, ev, on_detection, c);
  if (c->events) {
    _cleanup_json_ json_t *j = ward_event_to_json(ev);
    _cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (s == NULL || fputs(s, c->events) < 0 || fputc('\n', c->events) < 0)
      c->failed = true;
  }
}

static size_t drain_all(struct ward_ring *r, struct trace_ctx *c)
{
  size_t total = 0, n;
  while ((n = ward_ring_drain(r, sink, c, 4096)) > 0)
    total += n;
  return total;
}

/* Consumes the ring until the container's init exits, forwarding
 * SIGINT/SIGTERM to it; returns its exit status like a shell. */
static void sv_sink(void *opaque, const struct ward_event *ev)
{
  sink(opaque, ev);
}

/* Consumes the ring (and answers the supervisor, whose events join the
 * same sink) until the container's init exits, forwarding SIGINT/SIGTERM
 * to it; returns its exit status like a shell. */
static int run_and_consume(struct ward_container *ct, struct ward_ring *r, struct ward_supervisor *sv,
                           struct trace_ctx *c)
{
  sigset_t mask, old;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, &old);
  _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  unsigned idle = 0;
  for (;;) {
    struct pollfd fds[3] = {{.fd = ct->launch.pidfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN},
                            {.fd = sv ? ward_supervisor_fd(sv) : -1, .events = POLLIN}};
    int timeout = idle < 20 ? 1 + (int) idle : 20;   /* producers never wait on us; back off when quiet */
    int pr = poll(fds, 3, timeout);
    if (pr > 0 && sfd >= 0 && (fds[1].revents & POLLIN)) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof(si)) == sizeof(si))
        kill(ct->launch.pid, (int) si.ssi_signo);
    }
    if (pr > 0 && sv && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      _cleanup_error_ ward_error_t err = NULL;
      int h = ward_supervisor_handle_one(sv, &err);
      if (h < 0 || h == WARD_SUPERVISOR_HANGUP) {
        if (h < 0)
          ward_error_report(&err);
        sv = NULL;   /* freed by the caller */
      }
    }
    idle = drain_all(r, c) ? 0 : idle + 1;
    if (pr > 0 && (fds[0].revents & (POLLIN | POLLHUP)))
      break;
  }
  int status = 0;
  while (waitpid(ct->launch.pid, &status, 0) < 0 && errno == EINTR)
    ;
  drain_all(r, c);
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

static int trace_sandbox(struct ward_global *g, char **cmd, struct ward_sandbox_opts *o, const char *groups,
                         struct trace_ctx *c, const char *model_file, bool supervisor)
{
  _cleanup_error_ ward_error_t err = NULL;
  char default_name[64];
  snprintf(default_name, sizeof(default_name), "trace-%d", (int) getpid());
  o->argv = cmd;
  if (o->name == NULL)
    o->name = default_name;
  struct ward_create_opts co = {.root = cli_root(g), .id = o->name, .host_root_bind = "/", .mode = WARD_LAUNCH_RUN,
                                .default_seccomp = true, .no_cgroup = g->cgroup_manager == WARD_CGM_DISABLED,
                                .probe_groups = groups, .supervisor = supervisor};
  if (ward_sandbox_config(o, &co.cfg, &err) < 0 || ward_sandbox_landlock(o, &co.landlock, &err) < 0) {
    if (co.cfg)
      ward_config_free(co.cfg);
    return cli_error(&err);
  }
  struct timespec started;
  clock_gettime(CLOCK_REALTIME, &started);
  struct ward_container *ct = NULL;
  if (ward_container_create(&co, &ct, &err) < 0)
    return cli_error(&err);
  _cleanup_ring_ struct ward_ring *r = NULL;
  int status = 1;
  _cleanup_close_ int root_fd = -1;
  _cleanup_json_ json_t *mj = NULL;
  if (ct->probe.ring_fd < 0)
    ward_error(&err, 0, "the sandbox runs without probes: nothing to trace");
  else
    ward_ring_open_fd(ct->probe.ring_fd, WARD_RING_ALLOW_UNSEALED, 0, &r, &err);
  if (r && c->alerts) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/root", (int) ct->launch.pid);
    root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    json_t *section = NULL;
    if (model_file && wj_load_file(model_file, 256u << 20, &mj, &err) == 0)
      section = json_object_get(mj, "model") ? json_object_get(mj, "model") : mj;
    struct ward_detect_config dc = {.root_fd = root_fd, .started = started, .model = section};
    if ((model_file && mj == NULL) || ward_detector_new(&dc, &c->det, &err) < 0) {
      ward_ring_close(r);
      r = NULL;
    }
  }
  struct ward_supervisor *sv = NULL;
  if (r && ct->launch.listener_fd >= 0) {
    /* observe only: every call continues */
    struct ward_supervisor_options so = {.sink = sv_sink, .opaque = c};
    if (ward_supervisor_new(steal_fd(&ct->launch.listener_fd), &so, &sv, &err) < 0) {
      ward_ring_close(r);
      r = NULL;
    }
  } else if (r && supervisor) {
    fprintf(stderr, "ward trace: the supervisor is not installed (see docs/supervisor.md): probe events only\n");
  }
  if (r) {
    status = run_and_consume(ct, r, sv, c);
    ward_supervisor_free(sv);
  } else {
    ward_error_report(&err);
    kill(ct->launch.pid, SIGKILL);
    waitpid(ct->launch.pid, NULL, 0);
  }
  if (ward_container_destroy(co.root, ct->state, false, &err) < 0)
    ward_error_report(&err);
  ward_container_free(ct);
  return status;
}

/* A running container: its ring when no engine consumes it, else the
 * engine's flight recorder (probe_src.h; events between two reads beyond
 * the recorder's capacity are lost and counted by it). */
static int trace_id(struct ward_global *g, const char *id, const char *ring_path, double duration,
                    struct trace_ctx *c, const char *model_file)
{
  _cleanup_probe_src_ struct probe_src src = {.lock_fd = -1, .flight_fd = -1};
  int rc = probe_cli_open_ring(g, "trace", ring_path, id, &src);
  if (rc != 0)
    return rc;
  _cleanup_error_ ward_error_t err = NULL;
  _cleanup_json_ json_t *mj = NULL;
  if (c->alerts) {
    if (model_file && wj_load_file(model_file, 256u << 20, &mj, &err) < 0)
      return cli_fail(&err);
    json_t *section = mj && json_object_get(mj, "model") ? json_object_get(mj, "model") : mj;
    struct ward_detect_config dc = {.root_fd = -1, .model = section};
    if (ward_detector_new(&dc, &c->det, &err) < 0)
      return cli_fail(&err);
  }
  if (src.flight_fd >= 0)
    fprintf(stderr, "ward trace: an engine consumes the ring of \"%s\"; reading its flight recorder\n", id);
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  unsigned idle = 0;
  while (!probe_cli_stop && !probe_src_truncated(&src)) {
    size_t n, got = 0;
    while ((n = probe_src_drain(&src, sink, c, 4096)) > 0)
      got += n;
    idle = got ? 0 : idle + 1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (duration > 0 && (double) (now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9 >= duration)
      break;
    struct timespec ts = {0, (idle < 20 ? 1 + idle : 20) * 1000000L};
    nanosleep(&ts, NULL);
  }
  while (probe_src_drain(&src, sink, c, 4096) > 0)
    ;
  return 0;
}

int cmd_trace(struct ward_global *g, int argc, char **argv)
{
  enum { OPT_PREFIX = 256, OPT_PER_RUN, OPT_EVENTS, OPT_DETECT, OPT_MODEL, OPT_DURATION, OPT_RING, OPT_NAME,
         OPT_NET, OPT_RO, OPT_RW, OPT_NO_LL, OPT_PROBE, OPT_SV, OPT_SOURCE, OPT_HELP };
  static const struct option opts[] = {
    {"output", required_argument, NULL, 'o'}, {"prefix", required_argument, NULL, OPT_PREFIX},
    {"per-run", no_argument, NULL, OPT_PER_RUN}, {"events", required_argument, NULL, OPT_EVENTS},
    {"detect", required_argument, NULL, OPT_DETECT}, {"model", required_argument, NULL, OPT_MODEL},
    {"duration", required_argument, NULL, OPT_DURATION}, {"ring", required_argument, NULL, OPT_RING},
    {"name", required_argument, NULL, OPT_NAME}, {"net", required_argument, NULL, OPT_NET},
    {"ro", required_argument, NULL, OPT_RO}, {"rw", required_argument, NULL, OPT_RW},
    {"no-landlock", no_argument, NULL, OPT_NO_LL}, {"probe", required_argument, NULL, OPT_PROBE},
    {"supervisor", no_argument, NULL, OPT_SV}, {"source", required_argument, NULL, OPT_SOURCE},
    {"help", no_argument, NULL, OPT_HELP}, {NULL, 0, NULL, 0},
  };
  struct ward_sandbox_opts o = {.memory = -1, .pids = -1};
  _cleanup_strv_ char **ro = NULL, **rw = NULL;
  const char *out = NULL, *prefix = "trace", *events = NULL, *detect = NULL, *model = NULL, *ring = NULL;
  const char *groups = "exec,file,net,mem,identity,dl";
  bool per_run = false, supervisor = false;
  int source = 0;
  double duration = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+o:", opts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case OPT_PREFIX:
      if (strchr(optarg, '/') || !optarg[0] || strlen(optarg) > 128)
        return cli_usage_error(argv[0], "--prefix: \"%s\" is not a file name", optarg);
      prefix = optarg;
      break;
    case OPT_PER_RUN: per_run = true; break;
    case OPT_EVENTS: events = optarg; break;
    case OPT_DETECT: detect = optarg; break;
    case OPT_MODEL: model = optarg; break;
    case OPT_DURATION: {
      char *end;
      duration = strtod(optarg, &end);
      if (*end || duration <= 0)
        return cli_usage_error(argv[0], "--duration: \"%s\" is not a positive number", optarg);
      break;
    }
    case OPT_RING: ring = optarg; break;
    case OPT_NAME: o.name = optarg; break;
    case OPT_NET:
      if (ward_sandbox_set_net(&o, optarg) < 0)
        return cli_usage_error(argv[0], "--net takes none or host, not \"%s\"", optarg);
      break;
    case OPT_RO: if (ward_strv_append(&ro, optarg) < 0) return 1; break;
    case OPT_RW: if (ward_strv_append(&rw, optarg) < 0) return 1; break;
    case OPT_NO_LL: o.no_landlock = true; break;
    case OPT_PROBE: groups = optarg; break;
    case OPT_SV: supervisor = true; break;
    case OPT_SOURCE:
      if (strcmp(optarg, "probe") == 0)
        source = WARD_SRC_PROBE;
      else if (strcmp(optarg, "supervisor") == 0)
        source = WARD_SRC_SUPERVISOR;
      else if (strcmp(optarg, "all") != 0)
        return cli_usage_error(argv[0], "--source takes probe, supervisor or all, not \"%s\"", optarg);
      break;
    case OPT_HELP: usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (out == NULL)
    return cli_usage_error(argv[0], "missing -o DIR");
  if (optind >= argc && ring == NULL) {
    usage(stderr);
    return 2;
  }
  if (model && !detect)
    return cli_usage_error(argv[0], "--model goes with --detect");
  _cleanup_error_ ward_error_t err = NULL;
  if (mkdir(out, 0755) < 0 && errno != EEXIST)
    return ward_error(&err, errno, "%s", out), cli_fail(&err);
  struct trace_ctx ctx = {.source = source};
  if (ward_trace_rec_new(out, prefix, per_run, &ctx.rec, &err) < 0)
    return cli_fail(&err);
  _cleanup_fclose_ FILE *ef = NULL, *af = NULL;
  if (events && (ef = fopen(events, "we")) == NULL) {
    ward_trace_rec_free(ctx.rec);
    return ward_error(&err, errno, "%s", events), cli_fail(&err);
  }
  if (detect && strcmp(detect, "-") != 0 && (af = fopen(detect, "we")) == NULL) {
    ward_trace_rec_free(ctx.rec);
    return ward_error(&err, errno, "%s", detect), cli_fail(&err);
  }
  ctx.events = ef;
  ctx.alerts = detect ? (af ? af : stdout) : NULL;
  o.ro = ro;
  o.rw = rw;
  /* CMD mode when a command follows "--" or the first operand is not the only one */
  bool cmd_mode = optind < argc && (strcmp(argv[optind - 1], "--") == 0 || argc - optind > 1);
  int status = cmd_mode ? trace_sandbox(g, argv + optind, &o, groups, &ctx, model, supervisor)
                        : trace_id(g, optind < argc ? argv[optind] : NULL, ring, duration, &ctx, model);
  size_t n_traces = 0;
  uint64_t cut = 0;
  if (ward_trace_rec_finish(ctx.rec, &n_traces, &cut, &err) < 0) {
    ward_error_report(&err);
    status = status ? status : 1;
  }
  fprintf(stderr, "ward trace: %llu events, %zu traces in %s", (unsigned long long) ctx.n, n_traces, out);
  if (cut)
    fprintf(stderr, ", %llu calls cut (trace size limit)", (unsigned long long) cut);
  if (ctx.det)
    fprintf(stderr, ", %llu detections", (unsigned long long) ctx.n_detections);
  fprintf(stderr, "\n");
  if (ctx.failed) {
    fprintf(stderr, "ward trace: writing %s failed\n", events);
    status = status ? status : 1;
  }
  ward_detector_free(ctx.det);
  ward_trace_rec_free(ctx.rec);
  return status;
}
