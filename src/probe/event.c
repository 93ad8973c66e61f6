/* Names for the event model: types, groups, sources, interposed calls. The
 * strings are part of the JSON output (docs/events.md): never rename one. */
#include "probe/event.h"
#include "probe/calls.h"

#include <stdio.h>
#include <string.h>

_Static_assert(WARD_EV_TYPE_COUNT <= 64, "a stack mask has a bit per event type");

static const char *const type_names[WARD_EV_TYPE_COUNT] = {
  [WARD_EV_INVALID] = "invalid",
  [WARD_EV_EXEC] = "exec", [WARD_EV_FORK] = "fork", [WARD_EV_CLONE] = "clone",
  [WARD_EV_SPAWN] = "spawn", [WARD_EV_SYSTEM] = "system",
  [WARD_EV_OPEN] = "open", [WARD_EV_UNLINK] = "unlink", [WARD_EV_RENAME] = "rename",
  [WARD_EV_CHMOD] = "chmod", [WARD_EV_CHOWN] = "chown", [WARD_EV_MKDIR] = "mkdir",
  [WARD_EV_SYMLINK] = "symlink", [WARD_EV_LINK] = "link", [WARD_EV_TRUNCATE] = "truncate",
  [WARD_EV_SOCKET] = "socket", [WARD_EV_CONNECT] = "connect", [WARD_EV_BIND] = "bind",
  [WARD_EV_LISTEN] = "listen", [WARD_EV_ACCEPT] = "accept", [WARD_EV_SENDTO] = "sendto",
  [WARD_EV_MMAP_WX] = "mmap_wx", [WARD_EV_MPROTECT_WX] = "mprotect_wx", [WARD_EV_MEMFD] = "memfd",
  [WARD_EV_SETID] = "setid", [WARD_EV_CAPSET] = "capset", [WARD_EV_PRCTL] = "prctl",
  [WARD_EV_PTRACE] = "ptrace",
  [WARD_EV_DLOPEN] = "dlopen",
  [WARD_EV_CALL_TIME] = "call_time",
  [WARD_EV_SYSCALL] = "syscall",
};

static const char *const group_names[WARD_GROUP_COUNT] = {
  [WARD_GROUP_EXEC] = "exec", [WARD_GROUP_FILE] = "file", [WARD_GROUP_NET] = "net",
  [WARD_GROUP_MEM] = "mem", [WARD_GROUP_IDENTITY] = "identity", [WARD_GROUP_DL] = "dl",
  [WARD_GROUP_PERF] = "perf",
};

static const char *const call_names[WARD_CALL_COUNT] = {
  [WARD_CALL_NONE] = "none",
#define X(name) [WARD_CALL_##name] = #name,
  WARD_PROBE_CALLS(X)
#undef X
};

const char *ward_event_type_name(enum ward_event_type type)
{
  if ((unsigned) type >= WARD_EV_TYPE_COUNT)
    return "unknown";
  return type_names[type];
}

enum ward_event_type ward_event_type_from_name(const char *name)
{
  for (unsigned i = 1; i < WARD_EV_TYPE_COUNT; i++)
    if (strcmp(type_names[i], name) == 0)
      return (enum ward_event_type) i;
  return WARD_EV_INVALID;
}

enum ward_probe_group ward_event_group(enum ward_event_type type)
{
  switch (type) {
  case WARD_EV_EXEC: case WARD_EV_FORK: case WARD_EV_CLONE: case WARD_EV_SPAWN: case WARD_EV_SYSTEM:
    return WARD_GROUP_EXEC;
  case WARD_EV_OPEN: case WARD_EV_UNLINK: case WARD_EV_RENAME: case WARD_EV_CHMOD: case WARD_EV_CHOWN:
  case WARD_EV_MKDIR: case WARD_EV_SYMLINK: case WARD_EV_LINK: case WARD_EV_TRUNCATE:
    return WARD_GROUP_FILE;
  case WARD_EV_SOCKET: case WARD_EV_CONNECT: case WARD_EV_BIND: case WARD_EV_LISTEN:
  case WARD_EV_ACCEPT: case WARD_EV_SENDTO:
    return WARD_GROUP_NET;
  case WARD_EV_MMAP_WX: case WARD_EV_MPROTECT_WX: case WARD_EV_MEMFD:
    return WARD_GROUP_MEM;
  case WARD_EV_SETID: case WARD_EV_CAPSET: case WARD_EV_PRCTL: case WARD_EV_PTRACE:
    return WARD_GROUP_IDENTITY;
  case WARD_EV_DLOPEN:
    return WARD_GROUP_DL;
  case WARD_EV_CALL_TIME:
    return WARD_GROUP_PERF;
  default:
    return WARD_GROUP_COUNT;  /* no probe group: supervisor or invalid */
  }
}

const char *ward_probe_group_name(enum ward_probe_group g)
{
  if ((unsigned) g >= WARD_GROUP_COUNT)
    return "unknown";
  return group_names[g];
}

int64_t ward_probe_groups_parse(const char *list)
{
  if (list == NULL || *list == 0)
    return -1;
  int64_t mask = 0;
  const char *p = list;
  for (;;) {
    size_t n = strcspn(p, ",");
    bool found = false;
    if (n == 3 && strncmp(p, "all", 3) == 0) {
      mask |= (1 << WARD_GROUP_COUNT) - 1;
      found = true;
    }
    for (unsigned g = 0; g < WARD_GROUP_COUNT && !found; g++) {
      if (strlen(group_names[g]) == n && strncmp(p, group_names[g], n) == 0) {
        mask |= 1 << g;
        found = true;
      }
    }
    if (!found)
      return -1;
    if (p[n] == 0)
      return mask;
    p += n + 1;
  }
}

/* event types a probe record can have, so a stack can be captured for */
static bool stack_capable(unsigned type)
{
  enum ward_probe_group g = ward_event_group((enum ward_event_type) type);
  return g != WARD_GROUP_COUNT && g != WARD_GROUP_PERF;
}

int64_t ward_event_types_parse(const char *list)
{
  if (list == NULL || *list == 0)
    return -1;
  if (strcmp(list, "none") == 0)
    return 0;
  int64_t mask = 0;
  for (const char *p = list;; p++) {
    size_t n = strcspn(p, ",");
    if (n == 3 && strncmp(p, "all", 3) == 0) {
      for (unsigned t = 1; t < WARD_EV_TYPE_COUNT; t++)
        if (stack_capable(t))
          mask |= (int64_t) 1 << t;
    } else {
      unsigned t = 1;
      while (t < WARD_EV_TYPE_COUNT && !(strlen(type_names[t]) == n && strncmp(p, type_names[t], n) == 0))
        t++;
      if (t == WARD_EV_TYPE_COUNT || !stack_capable(t))
        return -1;
      mask |= (int64_t) 1 << t;
    }
    p += n;
    if (*p == 0)
      return mask;
  }
}

const char *ward_event_types_format(uint64_t mask, char *buf, size_t cap)
{
  size_t o = 0;
  if (cap == 0)
    return buf;
  buf[0] = 0;
  for (unsigned t = 1; t < WARD_EV_TYPE_COUNT && t < 64; t++) {
    if (!(mask & (1ull << t)))
      continue;
    int w = snprintf(buf + o, cap - o, "%s%s", o ? "," : "", type_names[t]);
    if (w < 0 || (size_t) w >= cap - o)
      break;
    o += (size_t) w;
  }
  if (o == 0)
    snprintf(buf, cap, "none");
  return buf;
}

const char *ward_probe_call_name(unsigned call)
{
  return call < WARD_CALL_COUNT ? call_names[call] : NULL;
}

const char *ward_event_source_name(enum ward_event_source s)
{
  switch (s) {
  case WARD_SRC_PROBE: return "probe";
  case WARD_SRC_SUPERVISOR: return "supervisor";
  case WARD_SRC_RUNTIME: return "runtime";
  default: return "unknown";
  }
}
