/* Alert severities, shared by every part of the agent that raises one
 * (templates, detection rules, models) and by the policies that map a
 * severity to an action. */
#ifndef WARD_SEVERITY_H
#define WARD_SEVERITY_H

#include <string.h>

enum ward_severity { WARD_SEV_INFO, WARD_SEV_LOW, WARD_SEV_MEDIUM, WARD_SEV_HIGH, WARD_SEV_CRITICAL, WARD_SEV_COUNT };

static inline const char *ward_severity_name(enum ward_severity s)
{
  static const char *const names[] = {"info", "low", "medium", "high", "critical"};
  return (unsigned) s < WARD_SEV_COUNT ? names[s] : "unknown";
}

/* -1 for an unknown name. */
static inline int ward_severity_parse(const char *name)
{
  for (int s = 0; s < WARD_SEV_COUNT; s++)
    if (strcmp(name, ward_severity_name((enum ward_severity) s)) == 0)
      return s;
  return -1;
}

#endif
