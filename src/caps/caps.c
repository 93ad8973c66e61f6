#include "caps/caps.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int ward_cap_from_name(const char *name)
{
  if (name == NULL || strncasecmp(name, "CAP_", 4) != 0)
    return -1;
  char lower[64];
  size_t n = strlen(name);
  if (n >= sizeof(lower))
    return -1;
  for (size_t i = 0; i <= n; i++)
    lower[i] = (char) tolower((unsigned char) name[i]);
  cap_value_t v;
  if (cap_from_name(lower, &v) < 0 || v < 0 || v > 63)
    return -1;
  return (int) v;
}

const char *ward_cap_name(int cap)
{
  static char names[64][40];
  if (cap < 0 || cap > 63)
    return NULL;
  if (names[cap][0] == '\0') {
    char *s = cap_to_name(cap);
    if (s == NULL)
      return NULL;
    size_t i = 0;
    for (; s[i] && i < sizeof(names[cap]) - 1; i++)
      names[cap][i] = (char) toupper((unsigned char) s[i]);
    names[cap][i] = '\0';
    cap_free(s);
  }
  return names[cap];
}

uint64_t ward_caps_docker_default(void)
{
  static const int defaults[] = {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID,
    CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
  };
  uint64_t mask = 0;
  for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
    mask |= 1ull << defaults[i];
  return mask;
}

int ward_caps_last(void)
{
  static int last = -1;
  if (last >= 0)
    return last;
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
  if (f) {
    if (fscanf(f, "%d", &last) != 1)
      last = -1;
    fclose(f);
  }
  if (last < 0 || last > 63)
    last = CAP_LAST_CAP;
  return last;
}

int ward_caps_parse_list(const char *list, uint64_t *out, ward_error_t *err)
{
  _cleanup_free_ char *copy = strdup(list);
  if (copy == NULL)
    return ward_error(err, ENOMEM, "capabilities");
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (strcasecmp(tok, "ALL") == 0) {
      int last = ward_caps_last();
      *out |= last >= 63 ? ~0ull : (1ull << (last + 1)) - 1;
      continue;
    }
    if (strcasecmp(tok, "default") == 0) {
      *out |= ward_caps_docker_default();
      continue;
    }
    char name[64];
    snprintf(name, sizeof(name), "%s%s", strncasecmp(tok, "CAP_", 4) == 0 ? "" : "CAP_", tok);
    int cap = ward_cap_from_name(name);
    if (cap < 0)
      return ward_error(err, 0, "unknown capability \"%s\"", tok);
    *out |= 1ull << cap;
  }
  return 0;
}

int ward_caps_prepare(const struct ward_caps *caps, ward_error_t *err)
{
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return ward_error_sys(err, "prctl(PR_SET_KEEPCAPS)");
  int last = ward_caps_last();
  for (int cap = 0; cap <= last; cap++) {
    if (caps->bounding & (1ull << cap))
      continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
      return ward_error_sys(err, "drop %s from the bounding set", ward_cap_name(cap));
  }
  return 0;
}

int ward_caps_apply(const struct ward_caps *caps, ward_error_t *err)
{
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return ward_error_sys(err, "prctl(PR_SET_KEEPCAPS)");
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  uint64_t sets[3] = {caps->effective, caps->permitted, caps->inheritable};
  for (int i = 0; i < 2; i++) {
    data[i].effective = (uint32_t) (sets[0] >> (32 * i));
    data[i].permitted = (uint32_t) (sets[1] >> (32 * i));
    data[i].inheritable = (uint32_t) (sets[2] >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) < 0)
    return ward_error_sys(err, "capset (effective/permitted/inheritable must be subsets of what the process holds)");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return ward_error_sys(err, "clear the ambient set");
  int last = ward_caps_last();
  for (int cap = 0; cap <= last; cap++) {
    if (!(caps->ambient & (1ull << cap)))
      continue;
    /* The kernel only allows ambient capabilities that are also permitted
     * and inheritable; say which one broke that rule. */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      return ward_error_sys(err, "raise ambient %s (it must also be permitted and inheritable)", ward_cap_name(cap));
  }
  return 0;
}
