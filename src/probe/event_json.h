/* struct ward_event as one JSON object with stable field names
 * (docs/events.md lists them per event type). */
#ifndef WARD_EVENT_JSON_H
#define WARD_EVENT_JSON_H

#include <jansson.h>

#include "common/json.h"
#include "probe/event.h"

/* A new object, or NULL when out of memory. */
json_t *ward_event_to_json(const struct ward_event *ev);
/* "ENOENT" for 2; NULL when unknown. */
const char *ward_errno_name(int e);

#endif
