/* Text forms of Landlock rules: access-right lists, port lists, scopes and
 * the run.ward.landlock.* bundle annotations. Everything a bundle author can
 * get wrong is refused here, naming the annotation, before anything starts. */
#include "landlock/landlock.h"
#include "landlock/landlock_internal.h"
#include "landlock/landlock_sys.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "runtime/config.h"

static const struct {
  const char *name;
  uint64_t mask;
} fs_rights[] = {
  { "execute", LANDLOCK_ACCESS_FS_EXECUTE },
  { "write_file", LANDLOCK_ACCESS_FS_WRITE_FILE },
  { "read_file", LANDLOCK_ACCESS_FS_READ_FILE },
  { "read_dir", LANDLOCK_ACCESS_FS_READ_DIR },
  { "remove_dir", LANDLOCK_ACCESS_FS_REMOVE_DIR },
  { "remove_file", LANDLOCK_ACCESS_FS_REMOVE_FILE },
  { "make_char", LANDLOCK_ACCESS_FS_MAKE_CHAR },
  { "make_dir", LANDLOCK_ACCESS_FS_MAKE_DIR },
  { "make_reg", LANDLOCK_ACCESS_FS_MAKE_REG },
  { "make_sock", LANDLOCK_ACCESS_FS_MAKE_SOCK },
  { "make_fifo", LANDLOCK_ACCESS_FS_MAKE_FIFO },
  { "make_block", LANDLOCK_ACCESS_FS_MAKE_BLOCK },
  { "make_sym", LANDLOCK_ACCESS_FS_MAKE_SYM },
  { "refer", LANDLOCK_ACCESS_FS_REFER },
  { "truncate", LANDLOCK_ACCESS_FS_TRUNCATE },
  { "ioctl_dev", LANDLOCK_ACCESS_FS_IOCTL_DEV },
  /* shorthands */
  { "ro", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR },
  { "rw", WARD_LL_FS_ALL },
  { "exec", LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR },
};

/* Bounded append for the fixed buffers of error and report text. */
static void buf_add(char *buf, size_t len, const char *s)
{
  size_t used = strnlen(buf, len);
  if (used + 1 < len)
    snprintf(buf + used, len - used, "%s", s);
}

void ward_ll_access_names(uint64_t mask, char *buf, size_t len)
{
  if (len == 0)
    return;
  buf[0] = '\0';
  for (size_t i = 0; i < ARRAY_SIZE(fs_rights); i++) {
    uint64_t m = fs_rights[i].mask;
    if ((m & (m - 1)) != 0 || !(mask & m))  /* single rights only */
      continue;
    if (buf[0])
      buf_add(buf, len, ",");
    buf_add(buf, len, fs_rights[i].name);
  }
}

/* Trims spaces in place so "80, 443" and "ro, execute" read naturally. */
static char *trim(char *s)
{
  while (isspace((unsigned char) *s))
    s++;
  size_t n = strlen(s);
  while (n > 0 && isspace((unsigned char) s[n - 1]))
    s[--n] = '\0';
  return s;
}

int ward_ll_parse_access(const char *access, uint64_t *mask, ward_error_t *err)
{
  if (access == NULL || *access == '\0')
    return ward_error(err, 0, "empty access list (use e.g. ro, rw, exec or read_file,read_dir)");
  _cleanup_free_ char *copy = strdup(access);
  if (copy == NULL)
    return ward_error(err, ENOMEM, "access list");
  uint64_t m = 0;
  char *rest = copy, *tok;
  while ((tok = strsep(&rest, ",")) != NULL) {
    tok = trim(tok);
    if (*tok == '\0')
      return ward_error(err, 0, "empty entry in access list \"%s\"", access);
    size_t i;
    for (i = 0; i < ARRAY_SIZE(fs_rights); i++)
      if (strcmp(tok, fs_rights[i].name) == 0)
        break;
    if (i == ARRAY_SIZE(fs_rights))
      return ward_error(err, 0, "unknown access right \"%s\" (known: read_file, read_dir, write_file, execute, "
                        "make_char, make_dir, make_reg, make_sock, make_fifo, make_block, make_sym, remove_file, "
                        "remove_dir, refer, truncate, ioctl_dev, and ro, rw, exec)", tok);
    m |= fs_rights[i].mask;
  }
  *mask = m;
  return 0;
}

/* Decimal digits only: no sign, no hex, no trailing junk. */
static int parse_port(const char *s, long *out)
{
  if (*s == '\0' || strlen(s) > 6)
    return -1;
  long v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9')
      return -1;
    v = v * 10 + (*p - '0');
  }
  *out = v;
  return 0;
}

int ward_ll_parse_ports(struct ward_landlock *ll, const char *kind, const char *list, ward_error_t *err)
{
  _cleanup_free_ char *copy = strdup(list);
  if (copy == NULL)
    return ward_error(err, ENOMEM, "port list");
  if (strcmp(trim(copy), "none") == 0) {
    ward_landlock_deny_net(ll);
    return 0;
  }
  char *rest = copy, *tok;
  while ((tok = strsep(&rest, ",")) != NULL) {
    tok = trim(tok);
    if (*tok == '\0')
      return ward_error(err, 0, "empty entry in port list \"%s\"", list);
    long lo, hi;
    char *dash = strchr(tok, '-');
    if (dash)
      *dash = '\0';
    if (parse_port(tok, &lo) < 0 || (dash && parse_port(trim(dash + 1), &hi) < 0))
      return ward_error(err, 0, "\"%s%s%s\" is not a port or a port range (e.g. 443 or 8000-8010)",
                        tok, dash ? "-" : "", dash ? dash + 1 : "");
    if (!dash)
      hi = lo;
    if (hi < lo)
      return ward_error(err, 0, "port range %ld-%ld is reversed", lo, hi);
    for (long p = lo; p <= hi; p++)
      if (ward_landlock_add_port(ll, kind, p, err) < 0)
        return -1;
  }
  return 0;
}

int ward_ll_parse_scopes(const char *list, bool *abstract_unix, bool *signal, ward_error_t *err)
{
  _cleanup_free_ char *copy = strdup(list);
  if (copy == NULL)
    return ward_error(err, ENOMEM, "scope list");
  *abstract_unix = *signal = false;
  if (strcmp(trim(copy), "none") == 0)
    return 0;
  char *rest = copy, *tok;
  while ((tok = strsep(&rest, ",")) != NULL) {
    tok = trim(tok);
    if (strcmp(tok, "abstract-unix") == 0)
      *abstract_unix = true;
    else if (strcmp(tok, "signal") == 0)
      *signal = true;
    else if (strcmp(tok, "all") == 0)
      *abstract_unix = *signal = true;
    else
      return ward_error(err, 0, "unknown scope \"%s\" (known: abstract-unix, signal, all, none)", tok);
  }
  return 0;
}

/* "/usr:/lib" - colon separated like PATH, every entry absolute. */
static int parse_path_list(struct ward_landlock *ll, const char *key, const char *value, const char *access,
                           ward_error_t *err)
{
  _cleanup_free_ char *copy = strdup(value);
  if (copy == NULL)
    return ward_error(err, ENOMEM, "%s", key);
  char *rest = copy, *tok;
  while ((tok = strsep(&rest, ":")) != NULL)
    if (ward_landlock_add_path_from(ll, key, tok, access, err) < 0)
      return -1;
  return 0;
}

/* "/data=read_file,write_file;/srv=ro" - per-path rights for what the
 * shorthands cannot say. The last '=' splits, as rights never contain one. */
static int parse_rules(struct ward_landlock *ll, const char *key, const char *value, ward_error_t *err)
{
  _cleanup_free_ char *copy = strdup(value);
  if (copy == NULL)
    return ward_error(err, ENOMEM, "%s", key);
  char *rest = copy, *tok;
  while ((tok = strsep(&rest, ";")) != NULL) {
    tok = trim(tok);
    char *eq = strrchr(tok, '=');
    if (eq == NULL)
      return ward_error(err, 0, "\"%s\": expected PATH=RIGHTS (e.g. /data=read_file,write_file)", tok);
    *eq = '\0';
    if (ward_landlock_add_path_from(ll, key, tok, eq + 1, err) < 0)
      return -1;
  }
  return 0;
}

static int parse_bool(const char *v, bool *out)
{
  if (strcmp(v, "on") == 0 || strcmp(v, "true") == 0) {
    *out = true;
    return 0;
  }
  if (strcmp(v, "off") == 0 || strcmp(v, "false") == 0) {
    *out = false;
    return 0;
  }
  return -1;
}

#define ANN_PREFIX "run.ward.landlock"

static int parse_annotation(struct ward_landlock *ll, const char *key, const char *value, ward_error_t *err)
{
  const char *sub = key + strlen(ANN_PREFIX ".");
  if (strcmp(sub, "ro") == 0 || strcmp(sub, "rw") == 0 || strcmp(sub, "exec") == 0)
    return parse_path_list(ll, key, value, sub, err);
  if (strcmp(sub, "rules") == 0)
    return parse_rules(ll, key, value, err);
  if (strcmp(sub, "connect") == 0 || strcmp(sub, "bind") == 0)
    return ward_ll_parse_ports(ll, sub, value, err);
  if (strcmp(sub, "scope") == 0) {
    bool au, sig;
    if (ward_ll_parse_scopes(value, &au, &sig, err) < 0)
      return -1;
    return ward_landlock_set_scope(ll, au, sig, err);
  }
  if (strcmp(sub, "audit") == 0) {
    bool on;
    if (parse_bool(value, &on) < 0)
      return ward_error(err, 0, "expected on or off, found \"%s\"", value);
    ward_landlock_set_audit(ll, on);
    return 0;
  }
  /* A typo must not silently drop a restriction. */
  return ward_error(err, 0, "unknown annotation (known suffixes: ro, rw, exec, rules, connect, bind, scope, audit)");
}

int ward_landlock_from_annotations(const struct ward_kv *ann, size_t n, struct ward_landlock **out, ward_error_t *err)
{
  *out = NULL;
  _cleanup_landlock_ struct ward_landlock *ll = NULL;
  bool any = false, off = false;
  for (size_t i = 0; i < n; i++) {
    const char *key = ann[i].key, *value = ann[i].value ? ann[i].value : "";
    if (key == NULL || !ward_has_prefix(key, ANN_PREFIX))
      continue;
    if (strcmp(key, ANN_PREFIX) != 0 && key[strlen(ANN_PREFIX)] != '.')
      continue;  /* run.ward.landlockfoo belongs to nobody here */
    if (ll == NULL && ward_landlock_new(&ll, err) < 0)
      return -1;
    any = true;
    if (strcmp(key, ANN_PREFIX) == 0) {
      if (strcmp(value, "off") == 0)
        off = true;
      else if (strcmp(value, "strict") == 0)
        ward_landlock_set_strict(ll, true);
      else if (strcmp(value, "best-effort") != 0)
        return ward_error(err, 0, "annotation %s: expected off, strict or best-effort, found \"%s\"", key, value);
      continue;
    }
    /* Keys are validated even under "off": garbage stays garbage. */
    if (parse_annotation(ll, key, value, err) < 0)
      return ward_error_prefix(err, "annotation %s", key);
  }
  if (any && !off)
    *out = steal_pointer(&ll);
  return 0;
}
