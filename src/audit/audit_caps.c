#include "audit/audit_caps.h"
#include "common/cleanup.h"

#include <string.h>
#include <strings.h>

static const char *const names[WARD_CAP_COUNT] = {
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
  "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
  "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
  "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
  "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
  "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};

const char *audit_cap_short_name(int cap)
{
  return cap >= 0 && cap < WARD_CAP_COUNT ? names[cap] : NULL;
}

int ward_cap_parse(const char *s)
{
  if (s == NULL)
    return -1;
  if (strncasecmp(s, "CAP_", 4) == 0)
    s += 4;
  for (int i = 0; i < WARD_CAP_COUNT; i++)
    if (strcasecmp(s, names[i]) == 0)
      return i;
  return -1;
}

uint64_t ward_caps_runtime_default(void)
{
  static const char *const def[] = {
    "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
    "NET_BIND_SERVICE", "NET_RAW", "SYS_CHROOT", "MKNOD", "AUDIT_WRITE", "SETFCAP",
  };
  uint64_t m = 0;
  for (size_t i = 0; i < ARRAY_SIZE(def); i++)
    m |= UINT64_C(1) << ward_cap_parse(def[i]);
  return m;
}
