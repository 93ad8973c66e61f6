/* Applies every rule to one normalised container, appending findings. */
#ifndef WARD_AUDIT_RULES_H
#define WARD_AUDIT_RULES_H

#include "audit/audit_model.h"

int audit_apply_rules(struct amodel *m, const struct acontainer *c, struct ward_audit_file *out);

#endif
