/* Merging templates across runs and replicas, diffing two templates entry by
 * entry, and a readable summary. */
#include "agent/template_internal.h"
#include "common/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int ward_template_merge(struct ward_template *into, const struct ward_template *from, ward_error_t *err)
{
  if (strcmp(into->app, from->app) != 0)
    return ward_error(err, 0, "app: \"%s\" and \"%s\" are different applications", into->app, from->app);
  if (into->version != from->version)
    return ward_error(err, 0, "version: %d and %d differ", into->version, from->version);
  for (size_t i = 0; i < tpl_n_lists; i++)
    if (tpl_set_union(tpl_list_set(into, &tpl_lists[i]), tpl_list_cset(from, &tpl_lists[i])) < 0)
      return ward_error(err, ENOMEM, "merging %s", tpl_lists[i].section);
  if (tpl_set_union(&into->exec_hash, &from->exec_hash) < 0)
    return ward_error(err, ENOMEM, "merging exec hashes");
  /* The model belongs to the detection part, which has no merge of its own
   * here: keep ours, or take theirs when we have none. */
  if (into->model == NULL && from->model)
    ward_template_set_model(into, from->model);
  return 0;
}

static void list_name(const struct tpl_list *l, char *buf, size_t len)
{
  if (l->key)
    snprintf(buf, len, "%s.%s", l->section, l->key);
  else
    snprintf(buf, len, "%s", l->section);
}

static size_t diff_set(const char *name, const struct tpl_set *a, const struct tpl_set *b, FILE *out)
{
  size_t n = 0, i = 0, j = 0;
  /* both sorted: one merge pass prints in order */
  while (i < a->n || j < b->n) {
    int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->v[i], b->v[j]);
    if (c == 0) {
      i++;
      j++;
      continue;
    }
    n++;
    if (out) {
      if (c < 0)
        fprintf(out, "- %s: %s\n", name, a->v[i]);
      else
        fprintf(out, "+ %s: %s\n", name, b->v[j]);
    }
    if (c < 0)
      i++;
    else
      j++;
  }
  return n;
}

size_t ward_template_diff(const struct ward_template *a, const struct ward_template *b, FILE *out)
{
  size_t n = 0;
  if (strcmp(a->app, b->app) != 0) {
    n++;
    if (out)
      fprintf(out, "- app: %s\n+ app: %s\n", a->app, b->app);
  }
  if (a->version != b->version) {
    n++;
    if (out)
      fprintf(out, "- version: %d\n+ version: %d\n", a->version, b->version);
  }
  for (size_t i = 0; i < tpl_n_lists; i++) {
    char name[64];
    list_name(&tpl_lists[i], name, sizeof(name));
    n += diff_set(name, tpl_list_cset(a, &tpl_lists[i]), tpl_list_cset(b, &tpl_lists[i]), out);
  }
  n += diff_set("exec.sha256", &a->exec_hash, &b->exec_hash, out);
  bool ma = a->model != NULL, mb = b->model != NULL;
  if (ma != mb || (ma && !json_equal(a->model, b->model))) {
    n++;
    if (out)
      fprintf(out, "~ model: differs\n");
  }
  return n;
}

void ward_template_show(const struct ward_template *t, FILE *out)
{
  fprintf(out, "app %s (template version %d)\n", t->app, t->version);
  for (size_t i = 0; i < tpl_n_lists; i++) {
    const struct tpl_set *s = tpl_list_cset(t, &tpl_lists[i]);
    char name[64];
    list_name(&tpl_lists[i], name, sizeof(name));
    fprintf(out, "%s (%zu)\n", name, s->n);
    for (size_t k = 0; k < s->n; k++) {
      fprintf(out, "  %s", s->v[k]);
      if (i == 0) {
        size_t plen = strlen(s->v[k]);
        for (size_t h = 0; h < t->exec_hash.n; h++)
          if (strncmp(t->exec_hash.v[h], s->v[k], plen) == 0 && t->exec_hash.v[h][plen] == '\t')
            fprintf(out, "  sha256:%.16s...", t->exec_hash.v[h] + plen + 1);
      }
      fputc('\n', out);
    }
  }
  fprintf(out, "model %s\n", t->model ? "present" : "none");
}
