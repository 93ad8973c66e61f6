/* Offline learning input: `ward events --json` lines, as `ward template
 * learn` reads them, decoded into events, learned and then checked against
 * the template they built. They must fit, except tree edges (which depend
 * on order) and exec paths that were cut or flagged relative (never
 * learned, always a deviation: template.c). */
#include "agent/template.h"
#include "common/cleanup.h"
#include "common/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  _cleanup_template_ struct ward_template *t = ward_template_new("fuzz");
  struct ward_event *ev = calloc(1, sizeof(*ev));
  struct ward_template_tracker *tr = ward_template_tracker_new();
  if (t == NULL || ev == NULL || tr == NULL) {
    free(ev);
    ward_template_tracker_free(tr);
    return 0;
  }
  const char *p = (const char *) data, *end = p + size;
  for (int pass = 0; pass < 2; pass++) {
    for (const char *line = p; line < end;) {
      const char *nl = memchr(line, '\n', (size_t) (end - line));
      size_t len = nl ? (size_t) (nl - line) : (size_t) (end - line);
      json_t *o = json_loadb(line, len, 0, NULL);
      _cleanup_error_ ward_error_t err = NULL;
      if (o && ward_template_event_from_json(o, ev, &err) == 0) {
        if (pass == 0) {
          ward_template_learn(t, ev, -1);
        } else {
          struct ward_deviation d;
          if (ward_template_check(t, ev, &d) == 1 && strcmp(d.rule, "template.tree") != 0 &&
              strcmp(d.rule, "template.syscall") != 0 && !ev->denied && ev->ret >= 0 &&
              !(strcmp(d.rule, "template.exec") == 0 && (ev->rec_flags & (WARD_EVENT_F_REL1 | WARD_EVENT_F_TRUNC1))) &&
              !(ev->type == WARD_EV_CONNECT || ev->type == WARD_EV_SENDTO)) {
            fprintf(stderr, "learned event does not fit: %s %s\n", d.rule, d.detail);
            abort();
          }
        }
      }
      if (o)
        json_decref(o);
      line += len + 1;
    }
  }
  free(ev);
  ward_template_tracker_free(tr);
  return 0;
}
