/* The reverse of probe/event_json.c: `ward events --json` lines back into
 * struct ward_event, so that recorded events can be replayed through the
 * detector (`ward model detect`) and tests can feed real recordings. */
#ifndef WARD_DETECT_EVENT_JSON_H
#define WARD_DETECT_EVENT_JSON_H

#include <jansson.h>
#include <stdio.h>

#include "common/error.h"
#include "probe/event.h"

/* Fills ev (zeroed first) from one event object; errors name the field
 * ("what.path: ..."). Unknown fields are ignored (the format only grows). */
int ward_event_from_json(json_t *j, const char *what, struct ward_event *ev, ward_error_t *err);
/* Reads JSON lines from f, one event each, blank lines skipped; stops at
 * the first bad line with "name:LINE: ...". Lines longer than 64 KiB fail. */
int ward_event_read_jsonl(FILE *f, const char *name, ward_event_sink_fn sink, void *opaque, ward_error_t *err);

/* A detection as one JSON object (the alert fields the detector knows):
 * rule, severity, score, detail, and the event's seq, pid, type. */
struct ward_detection;
json_t *ward_detection_to_json(const struct ward_event *ev, const struct ward_detection *d);

#endif
