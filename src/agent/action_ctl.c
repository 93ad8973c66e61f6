/* The control page calls the actions make, through the probe-enforce
 * part's host API (probe/control.h). Kept behind two names so the action
 * files depend on one small surface. */
#include "agent/action_internal.h"

#include "probe/control.h"

int ctl_set_mode(const char *control, uint32_t mode, ward_error_t *err)
{
  return ward_control_set_mode(control, mode, err);
}

int ctl_set_sink(const char *control, const struct ward_ctl_addr *sink, ward_error_t *err)
{
  return ward_control_set_honeypot_sink(control, sink, err);
}
