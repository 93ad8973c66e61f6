/* Name tables: OCI/Docker spellings of actions, architectures, operators,
 * filter flags and errno values, and syscall names (libseccomp's table plus
 * the syscalls newer than the libseccomp we were built against). */
#include "seccomp/internal.h"
#include "common/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/seccomp.h>

static const struct {
  const char *name;
  enum ward_scmp_action action;
} actions[] = {
  {"SCMP_ACT_KILL", WARD_SCMP_KILL_THREAD},  /* the spec's older spelling */
  {"SCMP_ACT_KILL_THREAD", WARD_SCMP_KILL_THREAD},
  {"SCMP_ACT_KILL_PROCESS", WARD_SCMP_KILL_PROCESS},
  {"SCMP_ACT_TRAP", WARD_SCMP_TRAP},
  {"SCMP_ACT_ERRNO", WARD_SCMP_ERRNO},
  {"SCMP_ACT_TRACE", WARD_SCMP_TRACE},
  {"SCMP_ACT_LOG", WARD_SCMP_LOG},
  {"SCMP_ACT_ALLOW", WARD_SCMP_ALLOW},
  {"SCMP_ACT_NOTIFY", WARD_SCMP_NOTIFY},
};

int ward_scmp_action_from_name(const char *name, enum ward_scmp_action *out)
{
  for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
    if (strcmp(actions[i].name, name) == 0) {
      *out = actions[i].action;
      return 0;
    }
  return -1;
}

const char *ward_scmp_action_name(enum ward_scmp_action a)
{
  /* skip the first entry so KILL_THREAD prints under its explicit name */
  for (size_t i = 1; i < ARRAY_SIZE(actions); i++)
    if (actions[i].action == a)
      return actions[i].name;
  return "SCMP_ACT_KILL_PROCESS";
}

/* token 0: an architecture the spec names but this libseccomp cannot build
 * filters for; it is kept in the profile and skipped when compiling. The
 * short names are Docker's (Go's GOARCH) followed by common aliases. */
static const struct {
  const char *name;
  uint32_t token;
  const char *shorts[3];
} arches[] = {
  {"SCMP_ARCH_X86", SCMP_ARCH_X86, {"x86", "386", "i386"}},
  {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64, {"amd64", "x86_64"}},
  {"SCMP_ARCH_X32", SCMP_ARCH_X32, {"x32"}},
  {"SCMP_ARCH_ARM", SCMP_ARCH_ARM, {"arm"}},
  {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64, {"arm64", "aarch64"}},
  {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS, {"mips"}},
  {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64, {"mips64"}},
  {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32, {"mips64n32"}},
  {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL, {"mipsle", "mipsel"}},
  {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64, {"mips64le", "mipsel64"}},
  {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32, {"mips64len32", "mipsel64n32"}},
  {"SCMP_ARCH_PPC", SCMP_ARCH_PPC, {"ppc"}},
  {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64, {"ppc64"}},
  {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE, {"ppc64le"}},
  {"SCMP_ARCH_S390", SCMP_ARCH_S390, {"s390"}},
  {"SCMP_ARCH_S390X", SCMP_ARCH_S390X, {"s390x"}},
  {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC, {"parisc"}},
  {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64, {"parisc64"}},
  {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64, {"riscv64"}},
  {"SCMP_ARCH_LOONGARCH64", 0, {"loong64", "loongarch64"}},
  {"SCMP_ARCH_M68K", 0, {"m68k"}},
  {"SCMP_ARCH_SH", 0, {"sh"}},
  {"SCMP_ARCH_SHEB", 0, {"sheb"}},
};

int ward_scmp_arch_from_name(const char *name, uint32_t *token)
{
  for (size_t i = 0; i < ARRAY_SIZE(arches); i++)
    if (strcmp(arches[i].name, name) == 0) {
      *token = arches[i].token;
      return 0;
    }
  return -1;
}

const char *ward_scmp_arch_name(uint32_t token)
{
  for (size_t i = 0; i < ARRAY_SIZE(arches); i++)
    if (arches[i].token == token && token != 0)
      return arches[i].name;
  return NULL;
}

bool ward_scmp_arch_short_known(const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE(arches); i++)
    for (size_t j = 0; j < ARRAY_SIZE(arches[i].shorts) && arches[i].shorts[j]; j++)
      if (strcmp(arches[i].shorts[j], name) == 0)
        return true;
  return false;
}

int ward_scmp_arch_any_name(const char *name, uint32_t *token)
{
  for (size_t i = 0; i < ARRAY_SIZE(arches); i++) {
    bool hit = strcmp(arches[i].name, name) == 0;
    for (size_t j = 0; !hit && j < ARRAY_SIZE(arches[i].shorts) && arches[i].shorts[j]; j++)
      hit = strcmp(arches[i].shorts[j], name) == 0;
    if (hit) {
      *token = arches[i].token;
      return 0;
    }
  }
  return -1;
}

bool ward_scmp_arch_short_matches(const char *name, uint32_t token)
{
  for (size_t i = 0; i < ARRAY_SIZE(arches); i++) {
    if (arches[i].token != token || token == 0)
      continue;
    for (size_t j = 0; j < ARRAY_SIZE(arches[i].shorts) && arches[i].shorts[j]; j++)
      if (strcmp(arches[i].shorts[j], name) == 0)
        return true;
  }
  return false;
}

static const struct {
  const char *name;
  enum scmp_compare op;
} ops[] = {
  {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
  {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
  {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
  {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

int ward_scmp_op_from_name(const char *name, enum scmp_compare *out)
{
  for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
    if (strcmp(ops[i].name, name) == 0) {
      *out = ops[i].op;
      return 0;
    }
  return -1;
}

const char *ward_scmp_op_name(enum scmp_compare op)
{
  for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
    if (ops[i].op == op)
      return ops[i].name;
  return "SCMP_CMP_EQ";
}

/* NEW_LISTENER and TSYNC_ESRCH are not listed: ward sets them itself when
 * the profile has notify rules, they are not the profile author's call. */
static const struct {
  const char *name;
  unsigned flag;
} flags[] = {
  {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
  {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
  {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
  {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

int ward_scmp_flag_from_name(const char *name, unsigned *flag)
{
  for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
    if (strcmp(flags[i].name, name) == 0) {
      *flag = flags[i].flag;
      return 0;
    }
  return -1;
}

const char *ward_scmp_flag_name(unsigned flag)
{
  for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
    if (flags[i].flag == flag)
      return flags[i].name;
  return NULL;
}

int ward_scmp_errno_from_name(const char *name)
{
  /* glibc >= 2.32 names every errno it knows; no table to keep in sync */
  for (int e = 1; e < 4096; e++) {
    const char *n = strerrorname_np(e);
    if (n && strcmp(n, name) == 0)
      return e;
  }
  return -1;
}

/* Syscalls added after the libseccomp we may be built against knew them.
 * Since Linux 5.1 (io_uring, 425) new syscalls share one number on every
 * architecture libseccomp builds a filter for except mips and x32, which
 * offset it. A filter that cannot name one leaves it to the default action. */
static const struct {
  const char *name;
  int nr;
} newer[] = {
  {"cachestat", 451}, {"fchmodat2", 452}, {"map_shadow_stack", 453},
  {"futex_wake", 454}, {"futex_wait", 455}, {"futex_requeue", 456},
  {"statmount", 457}, {"listmount", 458}, {"lsm_get_self_attr", 459},
  {"lsm_set_self_attr", 460}, {"lsm_list_modules", 461}, {"mseal", 462},
  {"setxattrat", 463}, {"getxattrat", 464}, {"listxattrat", 465},
  {"removexattrat", 466}, {"open_tree_attr", 467}, {"file_getattr", 468},
  {"file_setattr", 469},
};

static int newer_nr(const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE(newer); i++)
    if (strcmp(newer[i].name, name) == 0)
      return newer[i].nr;
  return -1;
}

bool ward_scmp_syscall_known(const char *name)
{
  return seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR || newer_nr(name) >= 0;
}

static bool unified_numbering(uint32_t arch)
{
  switch (arch) {
  case SCMP_ARCH_X86: case SCMP_ARCH_X86_64: case SCMP_ARCH_ARM: case SCMP_ARCH_AARCH64:
  case SCMP_ARCH_PPC: case SCMP_ARCH_PPC64: case SCMP_ARCH_PPC64LE: case SCMP_ARCH_S390:
  case SCMP_ARCH_S390X: case SCMP_ARCH_PARISC: case SCMP_ARCH_PARISC64: case SCMP_ARCH_RISCV64:
    return true;
  default:
    return false;
  }
}

bool ward_scmp_syscall_resolve(const char *name, const uint32_t *arch_list, size_t n_arches, int *nr)
{
  int n = seccomp_syscall_resolve_name(name);
  if (n != __NR_SCMP_ERROR) {
    /* A pseudo-number on every arch of the filter would only add dead
     * comparisons: the syscall does not exist there. */
    bool real = false;
    for (size_t i = 0; i < n_arches && !real; i++)
      real = seccomp_syscall_resolve_name_arch(arch_list[i], name) >= 0;
    if (!real)
      return false;
    *nr = n;
    return true;
  }
  /* libseccomp translates a number between the arches of a filter by its
   * name, which it lacks for these: only a single-arch filter can take one */
  n = newer_nr(name);
  if (n < 0 || n_arches != 1 || !unified_numbering(arch_list[0]))
    return false;
  *nr = n;
  return true;
}

int ward_seccomp_arch_from_name(const char *name, uint32_t *token, ward_error_t *err)
{
  if (ward_scmp_arch_any_name(name, token) < 0)
    return ward_error(err, 0, "unknown architecture \"%s\"", name);
  if (*token == 0)
    return ward_error(err, 0, "architecture \"%s\" is not supported by libseccomp %u.%u.%u", name,
                      seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro);
  return 0;
}

int ward_seccomp_parse_kernel(const char *version, struct ward_seccomp_target *t, ward_error_t *err)
{
  unsigned maj, min;
  char extra;
  if (sscanf(version, "%u.%u%c", &maj, &min, &extra) != 2)
    return ward_error(err, 0, "kernel version \"%s\": expected major.minor", version);
  t->kernel_major = maj;
  t->kernel_minor = min;
  return 0;
}
