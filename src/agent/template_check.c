/* Monitoring: does one event fit the template? One deviation per event, the
 * most specific rule first. Severities (docs/templates.md):
 *   template.exec        high      a binary the template never ran
 *   template.tree        medium    a known binary started by a new parent
 *   template.file.write  high under system directories, medium elsewhere
 *   template.file.read   high for credentials and kernel memory, low else
 *   template.connect     high (unix sockets: medium)
 *   template.listen      high
 *   template.identity    high
 *   template.syscall     high for supervisor-watched calls, medium for
 *                        other probe calls (ptrace is high)
 * Failed calls (ret < 0) and denied ones are not deviations: they did
 * not happen; the denial itself is reported by whoever denied it. */
#include "agent/template_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int deviate(struct ward_deviation *dev, const char *rule, enum ward_severity sev, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
static int deviate(struct ward_deviation *dev, const char *rule, enum ward_severity sev, const char *fmt, ...)
{
  dev->rule = rule;
  dev->severity = sev;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(dev->detail, sizeof(dev->detail), fmt, ap);
  va_end(ap);
  return 1;
}

static bool under(const char *path, const char *const *dirs)
{
  for (; *dirs; dirs++) {
    size_t n = strlen(*dirs);
    if (strncmp(path, *dirs, n) == 0 && (path[n] == '/' || path[n] == '\0'))
      return true;
  }
  return false;
}

static const char *const system_dirs[] = {"/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/boot",
                                          "/root", "/var/spool/cron", "/var/lib", NULL};
static const char *const secret_paths[] = {"/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/root/.ssh",
                                           "/proc/kcore", "/dev/mem", "/dev/kmem", "/var/run/secrets",
                                           "/run/secrets", NULL};

static bool edge_known(const struct ward_template *t, const char *parent, const char *child)
{
  /* the common case: the edge as learning would have written it */
  char *edge = tpl_edge(parent, child);
  bool exact = edge && tpl_set_has(&t->tree, edge);
  free(edge);
  if (exact)
    return true;
  for (size_t i = 0; i < t->tree.n; i++) {
    const char *e = t->tree.v[i];
    const char *arrow = strstr(e, " -> ");
    if (arrow == NULL)
      continue;
    /* an unknown parent on either side is a wildcard: the entry point's
     * own image is never seen being exec'd */
    char p[WARD_EVENT_STR_MAX];
    snprintf(p, sizeof(p), "%.*s", (int) (arrow - e), e);
    bool pmatch = strcmp(p, "?") == 0 || strcmp(parent, "?") == 0 || ward_template_pattern_match(p, parent);
    if (pmatch && ward_template_pattern_match(arrow + 4, child))
      return true;
  }
  return false;
}

static int check_files(const struct ward_template *t, struct ward_template_tracker *tr, const struct ward_event *ev,
                       const char *path, unsigned modes, struct ward_deviation *dev)
{
  if (path[0] != '/' || (ev->rec_flags & (WARD_EVENT_F_REL1 | WARD_EVENT_F_TRUNC1)))
    return 0;
  static const enum tpl_fmode order[] = {TPL_WRITE, TPL_CREATE, TPL_REMOVE, TPL_ATTR, TPL_READ};
  for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
    enum tpl_fmode m = order[k];
    if (!(modes & (1u << m)) || tpl_set_match_cached(tr, &t->files[m], path))
      continue;
    if (m == TPL_READ) {
      bool secret = under(path, secret_paths);
      return deviate(dev, "template.file.read", secret ? WARD_SEV_HIGH : WARD_SEV_LOW, "read of %s", path);
    }
    return deviate(dev, "template.file.write", under(path, system_dirs) ? WARD_SEV_HIGH : WARD_SEV_MEDIUM,
                   "%s of %s", tpl_fmode_names[m], path);
  }
  return 0;
}

int ward_template_check(const struct ward_template *t, const struct ward_event *ev, struct ward_deviation *dev)
{
  return ward_template_check_tracked(t, NULL, ev, dev);
}

int ward_template_check_tracked(const struct ward_template *t, struct ward_template_tracker *tr,
                                const struct ward_event *ev, struct ward_deviation *dev)
{
  const char *parent = NULL, *child = NULL;
  bool edge = tpl_tracker_event(tr, ev, &parent, &child);
  if (ev->denied)
    return 0;
  /* an exec's own rule comes first; a tree edge completed by a late fork
   * record is judged on that record */
  if (edge && ev->type != WARD_EV_EXEC && tpl_set_match(&t->exec, child) && !edge_known(t, parent, child))
    return deviate(dev, "template.tree", WARD_SEV_MEDIUM, "%s started %s", parent, child);
  const char *call = tpl_call_name(ev);
  char ep[WARD_EVENT_STR_MAX + 64];

  switch (ev->type) {
  case WARD_EV_EXEC:
  case WARD_EV_SPAWN:
    /* an absolute path that was cut (or flagged relative) is judged as it
     * reads, and learning never takes one: an exec of a path too long to
     * record always deviates (with the supervisor on, its own record has
     * the whole path) */
    if (ev->ret < 0 || ev->path[0] != '/')
      return 0;
    if (!tpl_set_match_cached(tr, &t->exec, ev->path))
      return deviate(dev, "template.exec", WARD_SEV_HIGH, "exec of %s, not in the template", ev->path);
    if (ev->type == WARD_EV_SPAWN) {
      const char *p = tpl_tracker_exe(tr, ev->pid);
      parent = p ? p : "?";
      edge = tr != NULL;
    }
    /* (pid 1's entry-point exec is no edge: the tracker says so) */
    if (edge && !edge_known(t, parent, ev->path))
      return deviate(dev, "template.tree", WARD_SEV_MEDIUM, "%s started %s", parent, ev->path);
    return 0;
  case WARD_EV_CONNECT:
  case WARD_EV_SENDTO:
    if (tpl_endpoint(ev, ep, sizeof(ep)) < 0)
      return 0;
    if (!tpl_set_match(&t->connect, ep) && !tpl_set_has(&t->connect, ep))
      return deviate(dev, "template.connect", ev->family == AF_UNIX ? WARD_SEV_MEDIUM : WARD_SEV_HIGH,
                     "connect to %s", ep);
    return 0;
  case WARD_EV_BIND:
    if (ev->ret < 0 || tpl_endpoint(ev, ep, sizeof(ep)) < 0)
      return 0;
    if (!tpl_set_match(&t->listen, ep))
      return deviate(dev, "template.listen", WARD_SEV_HIGH, "bind to %s", ep);
    return 0;
  case WARD_EV_SETID:
  case WARD_EV_CAPSET:
    if (ev->ret < 0)
      return 0;
    if (ev->type == WARD_EV_SETID)
      snprintf(ep, sizeof(ep), "%s:%lld", call ? call : "setid", (long long) ev->arg);
    else
      snprintf(ep, sizeof(ep), "capset");
    if (!tpl_set_match(&t->identity, ep))
      return deviate(dev, "template.identity", WARD_SEV_HIGH, "identity change %s", ep);
    return 0;
  case WARD_EV_RENAME:
  case WARD_EV_LINK:
  case WARD_EV_SYMLINK:
    if (ev->ret < 0)
      return 0;
    if (ev->type == WARD_EV_RENAME && check_files(t, tr, ev, ev->path, 1u << TPL_REMOVE, dev))
      return 1;
    if (!(ev->rec_flags & (WARD_EVENT_F_REL2 | WARD_EVENT_F_TRUNC2)))
      return check_files(t, tr, ev, ev->path2, 1u << TPL_CREATE, dev);
    return 0;
  case WARD_EV_SYSCALL:
  case WARD_EV_PTRACE:
  case WARD_EV_MEMFD:
  case WARD_EV_MMAP_WX:
  case WARD_EV_MPROTECT_WX:
    if (call && !tpl_set_has(&t->syscalls, call)) {
      bool high = ev->type == WARD_EV_SYSCALL || ev->type == WARD_EV_PTRACE;
      return deviate(dev, "template.syscall", high ? WARD_SEV_HIGH : WARD_SEV_MEDIUM, "%s, never seen", call);
    }
    return 0;
  default:
    break;
  }
  unsigned modes = tpl_event_fmodes(ev);
  if (modes && ev->ret >= 0)
    return check_files(t, tr, ev, ev->path, modes, dev);
  return 0;
}
