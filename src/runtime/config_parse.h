/* The parts of config.json parsing split out of config.c by section. */
#ifndef WARD_CONFIG_PARSE_H
#define WARD_CONFIG_PARSE_H

#include "runtime/config.h"

int ward_config_parse_mounts(json_t *doc, struct ward_config *cfg, ward_error_t *err);
int ward_config_parse_linux(json_t *doc, struct ward_config *cfg, ward_error_t *err);
/* Mount option list -> flags, propagation and data (exposed for tests). */
int ward_mount_parse_options(struct ward_mount *m, char **options, const char *path, ward_error_t *err);

#endif
