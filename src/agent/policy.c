/* Policies: defaults, names, annotations, validation (policy.h). The file
 * parser is policy_load.c. */
#include "agent/policy.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const mode_names[] = {"off", "learn", "monitor", "protect"};
static const char *const action_names[] = {"none", "kill", "quarantine", "restrict", "honeypot", "snapshot"};

const char *ward_mode_name(enum ward_mode m) { return (unsigned) m < WARD_MODE_COUNT ? mode_names[m] : "unknown"; }

int ward_mode_parse(const char *name)
{
  for (int m = 0; m < WARD_MODE_COUNT; m++)
    if (strcmp(name, mode_names[m]) == 0)
      return m;
  return -1;
}

const char *ward_policy_action_name(enum ward_policy_action a)
{
  return (unsigned) a < WARD_PACT_COUNT ? action_names[a] : "unknown";
}

int ward_policy_action_parse(const char *name)
{
  for (int a = 0; a < WARD_PACT_COUNT; a++)
    if (strcmp(name, action_names[a]) == 0)
      return a;
  return -1;
}

struct ward_policy *ward_policy_new(void)
{
  struct ward_policy *p = calloc(1, sizeof(*p));
  if (p == NULL)
    return NULL;
  p->mode = WARD_MODE_OFF;
  p->detect = true;
  p->supervisor = true;
  return p;
}

struct ward_policy *ward_policy_new_mode(int mode, const char *template_path)
{
  struct ward_policy *p = ward_policy_new();
  if (p == NULL)
    return NULL;
  p->mode = (enum ward_mode) mode;
  if (template_path && (p->template_path = strdup(template_path)) == NULL) {
    ward_policy_free(p);
    return NULL;
  }
  return p;
}

void ward_policy_free(struct ward_policy *p)
{
  if (p == NULL)
    return;
  free(p->app);
  free(p->template_path);
  free(p->alerts);
  free(p->source);
  free(p);
}

static int dup_str(char **dst, const char *src)
{
  *dst = NULL;
  return src && (*dst = strdup(src)) == NULL ? -1 : 0;
}

struct ward_policy *ward_policy_dup(const struct ward_policy *p)
{
  struct ward_policy *d = malloc(sizeof(*d));
  if (d == NULL)
    return NULL;
  *d = *p;
  if (dup_str(&d->app, p->app) | dup_str(&d->template_path, p->template_path) | dup_str(&d->alerts, p->alerts) |
      dup_str(&d->source, p->source)) {
    ward_policy_free(d);
    return NULL;
  }
  return d;
}

static const char *ann_get(json_t *annotations, const char *key)
{
  json_t *v = annotations ? json_object_get(annotations, key) : NULL;
  return json_is_string(v) ? json_string_value(v) : NULL;
}

static int set_str(char **dst, const char *v, ward_error_t *err)
{
  char *copy = strdup(v);
  if (copy == NULL)
    return ward_error(err, ENOMEM, "policy");
  free(*dst);
  *dst = copy;
  return 0;
}

int ward_policy_from_annotations(json_t *annotations, struct ward_policy **p, ward_error_t *err)
{
  const char *file = ann_get(annotations, "run.ward.policy");
  const char *mode = ann_get(annotations, "run.ward.mode");
  const char *tpl = ann_get(annotations, "run.ward.template");
  const char *sv = ann_get(annotations, "run.ward.supervisor");
  if (!file && !mode && !tpl && !sv)
    return 0;
  if (file) {
    struct ward_policy *loaded = NULL;
    if (ward_policy_load(file, &loaded, err) < 0)
      return ward_error_prefix(err, "annotations.run.ward.policy");
    ward_policy_free(*p);
    *p = loaded;
  }
  if (*p == NULL && (*p = ward_policy_new()) == NULL)
    return ward_error(err, ENOMEM, "policy");
  if (mode) {
    int m = ward_mode_parse(mode);
    if (m < 0)
      return ward_error(err, 0, "annotations.run.ward.mode: \"%s\" is not off, learn, monitor or protect", mode);
    (*p)->mode = (enum ward_mode) m;
  }
  if (tpl && set_str(&(*p)->template_path, tpl, err) < 0)
    return -1;
  if (sv) {
    if (strcmp(sv, "on") != 0 && strcmp(sv, "off") != 0)
      return ward_error(err, 0, "annotations.run.ward.supervisor: \"%s\" is not on or off", sv);
    (*p)->supervisor = strcmp(sv, "on") == 0;
  }
  return 0;
}

int ward_policy_validate(const struct ward_policy *p, ward_error_t *err)
{
  const char *src = p->source ? p->source : "policy";
  if (p->mode == WARD_MODE_OFF)
    return 0;
  if (p->template_path == NULL)
    return ward_error(err, 0, "%s: mode %s needs a template (--template FILE or run.ward.template)", src,
                      ward_mode_name(p->mode));
  struct stat st;
  if (p->mode != WARD_MODE_LEARN && stat(p->template_path, &st) < 0)
    return ward_error_sys(err, "%s: mode %s: template %s", src, ward_mode_name(p->mode), p->template_path);
  return 0;
}
