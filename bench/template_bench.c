/* Template check and learn throughput on synthetic events: a template
 * learned from a realistic mix (exact files, numbered logs, /proc of many
 * pids, execs, connects), then checked against a stream where 1 event in 64
 * deviates. Prints events per second for learn and for check (tracked). No
 * reference tool exists; the figure is for docs/benchmarks.md.
 *   ninja -C build bench-template && build/src/agent/bench-template [EVENTS] */
#include "agent/template.h"
#include "common/util.h"
#include "probe/calls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void make_event(struct ward_event *ev, unsigned i, bool deviate)
{
  /* only the fields the generator sets: a memset of the 8 KiB event would
   * dominate the measurement */
  ev->type = WARD_EV_INVALID;
  ev->flags = 0;
  ev->ret = 0;
  ev->family = 0;
  ev->path[0] = ev->path2[0] = '\0';
  ev->source = WARD_SRC_PROBE;
  ev->pid = ev->tid = 1 + i % 50;
  ev->seq = i;
  unsigned kind = i % 16;
  if (kind < 10) {
    ev->type = WARD_EV_OPEN;
    ev->call = WARD_CALL_openat;
    ev->ret = 3;
    if (deviate)
      snprintf(ev->path, sizeof(ev->path), "/etc/evil%u", i);
    else if (kind < 6)
      snprintf(ev->path, sizeof(ev->path), "/srv/app/static/file%03u.html", i % 200);
    else if (kind < 8)
      snprintf(ev->path, sizeof(ev->path), "/proc/%u/status", 1 + i % 4000);
    else {
      snprintf(ev->path, sizeof(ev->path), "/var/log/app/log.%u", i % 10);
      ev->flags = O_WRONLY | O_CREAT | O_APPEND;
    }
  } else if (kind < 12) {
    ev->type = WARD_EV_EXEC;
    ev->call = WARD_CALL_execve;
    snprintf(ev->path, sizeof(ev->path), deviate ? "/tmp/x%u" : "/usr/bin/tool%u", i % 8);
  } else if (kind < 14) {
    ev->type = WARD_EV_FORK;
    ev->call = WARD_CALL_fork;
    ev->ret = 1 + (i + 7) % 50;
  } else {
    ev->type = WARD_EV_CONNECT;
    ev->call = WARD_CALL_connect;
    ev->family = AF_INET;
    ev->port = deviate ? 4444 : (uint16_t) (5432 + i % 3);
    inet_pton(AF_INET, "10.0.0.7", ev->addr);
  }
}

int main(int argc, char **argv)
{
  unsigned n = argc > 1 ? (unsigned) strtoul(argv[1], NULL, 10) : 2000000;
  struct ward_template *t = ward_template_new("bench");
  struct ward_event *ev = calloc(1, sizeof(*ev));
  if (t == NULL || ev == NULL)
    return 1;
  uint64_t t0 = ward_now_ns();
  for (unsigned i = 0; i < n; i++) {
    make_event(ev, i, false);
    ward_template_learn(t, ev, -1);
  }
  double learn_s = (double) (ward_now_ns() - t0) / 1e9;
  struct ward_template_tracker *tr = ward_template_tracker_new();
  unsigned devs = 0;
  t0 = ward_now_ns();
  for (unsigned i = 0; i < n; i++) {
    make_event(ev, i, i % 64 == 0);
    struct ward_deviation d;
    devs += (unsigned) ward_template_check_tracked(t, tr, ev, &d);
  }
  double check_s = (double) (ward_now_ns() - t0) / 1e9;
  json_t *j = ward_template_to_json(t);
  json_t *files = json_object_get(j, "files");
  printf("template: %zu read, %zu write entries\n", json_array_size(json_object_get(files, "read")),
         json_array_size(json_object_get(files, "write")));
  printf("learn: %u events in %.3f s = %.2f M events/s\n", n, learn_s, n / learn_s / 1e6);
  printf("check: %u events in %.3f s = %.2f M events/s (%u deviations)\n", n, check_s, n / check_s / 1e6, devs);
  json_decref(j);
  ward_template_tracker_free(tr);
  ward_template_free(t);
  free(ev);
  return 0;
}
