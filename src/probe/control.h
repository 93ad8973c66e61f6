/* Host side of the control page (layout: probe/control_format.h). The file
 * is created once and then only changed in place through a shared mapping:
 * the container's bind mount holds the inode, so it must never be replaced. */
#ifndef WARD_CONTROL_H
#define WARD_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "probe/control_format.h"

/* Creates path (O_EXCL, mode 0644) with the given group mask. */
int ward_control_create(const char *path, uint32_t groups, ward_error_t *err);
/* Turns the groups in mask on (on=true) or off; *now (may be NULL) gets the
 * resulting mask. Takes effect in running probes at their next call. */
int ward_probe_set_groups(const char *control_path, uint32_t mask, bool on, uint32_t *now, ward_error_t *err);
/* Sets the call-stack capture mask (bit per enum ward_event_type) and depth. */
int ward_probe_set_stacks(const char *control_path, uint64_t type_mask, uint32_t depth, ward_error_t *err);
/* A validated copy of the page. */
int ward_control_read(const char *path, struct ward_control *out, ward_error_t *err);

#endif
