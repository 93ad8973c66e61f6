/* The control page calls the actions make, through the probe-enforce
 * part's host API (probe/control.h). Until that part is merged the symbols
 * are weak, and an action that needs a mode says so instead of pretending. */
#include "agent/action_internal.h"

#include "probe/control.h"

int ward_control_set_mode(const char *control_path, uint32_t mode, ward_error_t *err) __attribute__((weak));
int ward_control_set_honeypot_sink(const char *control_path, const struct ward_ctl_addr *sink, ward_error_t *err)
  __attribute__((weak));

int ctl_set_mode(const char *control, uint32_t mode, ward_error_t *err)
{
  if (ward_control_set_mode == NULL)
    return ward_error(err, ENOTSUP, "%s: this build has no control page modes (probe enforcement not built in)", control);
  return ward_control_set_mode(control, mode, err);
}

int ctl_set_sink(const char *control, const struct ward_ctl_addr *sink, ward_error_t *err)
{
  if (ward_control_set_honeypot_sink == NULL)
    return ward_error(err, ENOTSUP, "%s: this build has no honeypot sink on the control page (probe enforcement not built in)",
                      control);
  return ward_control_set_honeypot_sink(control, sink, err);
}
