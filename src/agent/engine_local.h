/* The engine inside `ward run` and `ward sandbox`: one container, served
 * by the parent while it waits for it. The same engine as `ward agent`.
 *
 *   struct ward_engine_cli cli = {.mode = "protect", .template_path = T};
 *   create_opts.configure = ward_engine_cli_configure; .opaque = &cli;
 *   create_opts.launched = ward_engine_cli_launched;   // optional: start early
 *   create_opts.ready = ward_engine_cli_ready;         // ... and serve it at once
 *   create_opts.supervisor = true;
 *   ward_container_create(&create_opts, &ct, &err);
 *   ward_engine_local_start(ct, &cli, root, &local, &err);
 *   status = ward_engine_local_serve(local);   // until the init exits
 *   ward_engine_local_finish(local);
 */
#ifndef WARD_ENGINE_LOCAL_H
#define WARD_ENGINE_LOCAL_H

#include <stdbool.h>

#include "agent/policy.h"
#include "common/error.h"
#include "runtime/lifecycle.h"

/* The policy options shared by run and sandbox. */
struct ward_engine_cli {
  const char *mode;            /* --mode */
  const char *template_path;   /* --template */
  const char *policy_file;     /* --policy */
  const char *alerts;          /* --alerts (default: stderr, the container owns stdout) */
  bool no_supervisor;          /* --no-supervisor */
  uint32_t poll_max_us;        /* --poll-max-us (ward_engine_opts_poll_max; 0: the defaults) */
  bool detached;               /* ward create, run -d: this process will not serve it */
  bool agent;                  /* ... but a running ward agent will */
  struct ward_policy *policy;  /* resolved by ward_engine_cli_configure */
  /* started by ward_engine_cli_launched or _ready, taken by ward_engine_local_start */
  struct ward_engine_local *local;
  ward_error_t early_err;      /* why that failed: reported by ward_engine_local_start */
};

/* A ward_create_opts.configure callback: resolves the policy from the
 * annotations, --policy, --mode/--template (later wins), validates it,
 * decides on the supervisor and, in protect mode, compiles the template
 * into the extra seccomp and Landlock layers. opaque: struct ward_engine_cli. */
int ward_engine_cli_configure(void *opaque, struct ward_config *cfg, struct ward_create_opts *o, ward_error_t *err);
/* A ward_create_opts.launched callback for attached runs: unless an agent
 * may take the container, or there is nothing for an engine to read,
 * builds the engine and the container's ring and flight recorder while the
 * init sets itself up, the container held (engine.h). A failure here is
 * reported once the init is ready (ward_engine_local_start), and the
 * container is then removed. opaque: the cli. */
void ward_engine_cli_launched(void *opaque, const struct ward_create_opts *o, struct ward_container *ct);
/* A ward_create_opts.ready callback: arms what launched held (the listener
 * is there and the state saved by now), or builds the engine now without
 * launched. The container's first execve (which the supervisor holds) is
 * answered once ward_engine_local_serve runs; nothing slow comes between.
 * ward_engine_local_start hands the engine over. */
void ward_engine_cli_ready(void *opaque, const struct ward_create_opts *o, struct ward_container *ct);
/* Whether an engine would have nothing to read: a static image (no ring)
 * with the supervisor off, in mode off. Starting one would only cost
 * start-up time. */
bool ward_engine_cli_idle(const struct ward_engine_cli *cli, const struct ward_container *ct);
/* Also frees an engine that launched or ready built (a failed create): a
 * container it never served saves no learned template. */
void ward_engine_cli_release(struct ward_engine_cli *cli);

struct ward_engine_local;
/* Takes the container's ring fd, listener and a dup of its pidfd, and the
 * resolved policy (cli->policy becomes NULL); or hands over the engine
 * launched/ready built (cli->local becomes NULL). */
int ward_engine_local_start(struct ward_container *ct, struct ward_engine_cli *cli, const char *root,
                            struct ward_engine_local **out, ward_error_t *err);
/* Serves the container from this thread until its init exits, forwarding
 * the signals ward_wait_forwarding does to it (between two engine steps: a
 * snapshot action holds them for its duration); then the engine has
 * drained its ring to the end and finalised it (learn: saved the
 * template). SIGPIPE and SIGTTOU are ignored from here to
 * ward_engine_local_finish (alerts and the summary may go to a closed pipe
 * or a terminal). Returns the init's exit status the way a
 * shell reports it (128+N). */
int ward_engine_local_serve(struct ward_engine_local *l);
/* Reports what the engine saw (a summary line when a mode is on) and frees
 * it. Returns 0, or -1 after reporting an error on stderr. */
int ward_engine_local_finish(struct ward_engine_local *l);

#endif
