/* The Landlock uAPI as the running kernel (ABI 7) knows it. Debian 12's
 * <linux/landlock.h> stops at ABI 1-2 and its landlock_ruleset_attr has only
 * the filesystem member, so the newer constants are defined here with the
 * kernel's values and the attribute structs get local, layout-compatible
 * names (the uAPI names would clash with the installed header). */
#ifndef WARD_LANDLOCK_SYS_H
#define WARD_LANDLOCK_SYS_H

#include <linux/landlock.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif

/* ABI 2 */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
/* ABI 3 */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
/* ABI 4: TCP; the rule type is an enumerator in newer headers, so it gets a
 * local name rather than a macro that would break them. */
#define WARD_LL_RULE_PATH_BENEATH 1
#define WARD_LL_RULE_NET_PORT 2
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
/* ABI 5 */
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
/* ABI 6 */
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif
/* ABI 7: audit logging of denials */
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF (1U << 0)
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1)
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF (1U << 2)
#endif

/* The newest ABI whose features ward knows; a newer kernel is used as this. */
#define WARD_LL_ABI_KNOWN 7

/* ABI 1 rights: EXECUTE (bit 0) through MAKE_SYM (bit 12). */
#define WARD_LL_FS_V1 ((1ULL << 13) - 1)
#define WARD_LL_FS_ALL (WARD_LL_FS_V1 | LANDLOCK_ACCESS_FS_REFER | \
    LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)
/* The only rights the kernel accepts on a rule for a non-directory. */
#define WARD_LL_FS_FILE (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)
#define WARD_LL_NET_ALL (LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP)
#define WARD_LL_SCOPE_ALL (LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL)

/* struct landlock_ruleset_attr as of ABI 6; the kernel takes any prefix
 * ending at a member it knows, so the size passed picks the ABI. */
struct ward_ll_ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;  /* ABI 4 */
  uint64_t scoped;              /* ABI 6 */
};

struct ward_ll_path_beneath_attr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

struct ward_ll_net_port_attr {
  uint64_t allowed_access;
  uint64_t port;  /* host byte order */
};

_Static_assert(sizeof(struct ward_ll_path_beneath_attr) == 12, "uAPI layout");
_Static_assert(sizeof(struct ward_ll_net_port_attr) == 16, "uAPI layout");
_Static_assert(sizeof(struct ward_ll_ruleset_attr) == 24, "uAPI layout");

static inline int ward_ll_create_ruleset(const struct ward_ll_ruleset_attr *attr, size_t size, uint32_t flags)
{
  return (int) syscall(__NR_landlock_create_ruleset, attr, size, flags);
}

static inline int ward_ll_add_rule(int ruleset_fd, int type, const void *attr)
{
  return (int) syscall(__NR_landlock_add_rule, ruleset_fd, type, attr, 0U);
}

static inline int ward_ll_restrict_self(int ruleset_fd, uint32_t flags)
{
  return (int) syscall(__NR_landlock_restrict_self, ruleset_fd, flags);
}

#endif
