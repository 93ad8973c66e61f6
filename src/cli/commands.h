/* The command-line front end: global options (runc-compatible) and one
 * function per command. Each command lives in its own cmd_*.c file and only
 * parses arguments, then calls into the library. */
#ifndef WARD_COMMANDS_H
#define WARD_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>

enum ward_cgroup_manager { WARD_CGM_CGROUPFS, WARD_CGM_SYSTEMD, WARD_CGM_DISABLED };

struct ward_global {
  const char *root;        /* state directory (--root) */
  const char *log;         /* --log file */
  bool log_json;           /* --log-format json */
  bool debug;
  enum ward_cgroup_manager cgroup_manager;
  int rootless;            /* -1: auto, 0/1 as given */
};

/* Each returns the process exit status. argv[0] is the command name. */
typedef int (*ward_command_fn)(struct ward_global *g, int argc, char **argv);

struct ward_command {
  const char *name;
  ward_command_fn fn;
  const char *summary;
};

#define WARD_COMMANDS(X) \
  X(run, "create and start a container from a bundle, wait for it") \
  X(sandbox, "run a host command in a fresh hardened sandbox") \
  X(create, "create a container from a bundle (runc-compatible)") \
  X(start, "start a created container") \
  X(state, "print a container's state as JSON") \
  X(exec, "run a process in a running container") \
  X(kill, "send a signal to a container's processes") \
  X(delete, "delete a container and everything it left") \
  X(list, "list containers") \
  X(ps, "list a container's processes") \
  X(pause, "freeze a container") \
  X(resume, "thaw a container") \
  X(update, "change a container's resource limits") \
  X(spec, "write a default config.json") \
  X(features, "print the runtime's features as JSON") \
  X(seccomp, "convert and inspect seccomp profiles") \
  X(audit, "find breakout-enabling misconfigurations")     \
  X(check, "show what confines this process")             \
  X(probe, "switch probe groups on or off")              \
  X(events, "stream a container's probe events")         \
  X(top, "per-call counts and latencies from the probes") \
  X(action, "kill, quarantine, restrict, honeypot or resume a container") \
  X(snapshot, "a forensic snapshot of a container; show one") \
  X(agent, "the node agent: serve many containers; status, deregister") \
  X(template, "learn, show, diff, merge, check and export behavioural templates") \
  X(model, "train, score and evaluate behaviour models; replay events through the detector") \
  X(trace, "record system-call traces (one per process) from a container")

#define X(name, summary) int cmd_##name(struct ward_global *g, int argc, char **argv);
WARD_COMMANDS(X)
#undef X

/* A usage error: prints "ward CMD: msg" and returns the exit status 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* --poll-max-us's value into *us: 0, or the usage error reported and its
 * exit status 2 (one message for run, sandbox and agent). */
int cli_poll_max(const char *cmd, const char *arg, uint32_t *us);
/* Reports err (text or runc JSON log) and returns exit status 1. */
int cli_fail(void *err /* ward_error_t * */);

#endif
