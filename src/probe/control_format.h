/* The control page: one 4 KiB file the host writes and every probe maps
 * read-only. Probes read `groups` on every interposed call (one load, one
 * predictable branch), so the host flips groups on and off in running
 * processes without restarting anything.
 *
 * The page is laid out for the features that build on it (protect-mode
 * denials, quarantine/restrict/honeypot modes, per-type call stacks); version
 * 1 probes implement `groups` and the stack fields and ignore the rest, which
 * the host keeps zero. Table updates use `generation` as a seqlock (odd while
 * the host writes), so a probe can take a consistent copy without a lock.
 * Layout in docs/events.md. Compiler-only includes: the musl build uses it. */
#ifndef WARD_CONTROL_FORMAT_H
#define WARD_CONTROL_FORMAT_H

#include <stdint.h>

#define WARD_CTL_MAGIC 0x4c544357u    /* "WCTL" */
#define WARD_CTL_VERSION 1u
#define WARD_CTL_SIZE 4096u
#define WARD_CTL_DENY_PATHS 128
#define WARD_CTL_DENY_PORTS 64
#define WARD_CTL_DENY_ADDRS 32

/* mode bits (reserved in version 1, issue 6) */
#define WARD_CTL_MODE_PROTECT    0x1u  /* deny what the tables below list */
#define WARD_CTL_MODE_QUARANTINE 0x2u  /* deny connect/send, writes outside /tmp */
#define WARD_CTL_MODE_RESTRICT   0x4u  /* stricter policy from the tables */
#define WARD_CTL_MODE_HONEYPOT   0x8u  /* full detail, stacks, redirect to sink */

struct ward_ctl_addr {
  uint16_t family;
  uint16_t port;               /* 0: any port */
  uint8_t prefix;              /* prefix length in bits */
  uint8_t reserved[3];
  uint8_t addr[16];
};

struct ward_control {
  uint32_t magic;
  uint16_t version;
  uint16_t size;
  uint32_t groups;             /* bit per enum ward_probe_group */
  uint32_t generation;         /* bumped on every change; odd while writing */
  uint32_t mode;               /* WARD_CTL_MODE_* */
  uint32_t stack_depth;        /* return addresses per record, 0..8 */
  uint64_t stack_mask;         /* bit per enum ward_event_type: capture stack */
  uint32_t reserved_flags[8];
  /* offset 64: protect-mode tables (issue 5/6), sorted for binary search */
  uint32_t n_deny_paths;
  uint32_t n_deny_ports;
  uint32_t n_deny_addrs;
  uint32_t deny_errno;         /* EACCES or EPERM */
  uint8_t pad0[48];
  uint64_t deny_path_hash[WARD_CTL_DENY_PATHS];   /* FNV-1a 64 of resolved path */
  uint16_t deny_port[WARD_CTL_DENY_PORTS];        /* connect/bind destination ports */
  struct ward_ctl_addr deny_addr[WARD_CTL_DENY_ADDRS];
  struct ward_ctl_addr honeypot_sink;             /* where honeypot connects go */
  uint8_t reserved[4096 - 2072];
};

_Static_assert(sizeof(struct ward_ctl_addr) == 24, "ctl addr layout");
_Static_assert(__builtin_offsetof(struct ward_control, deny_path_hash) == 128, "ctl layout");
_Static_assert(__builtin_offsetof(struct ward_control, deny_port) == 1152, "ctl layout");
_Static_assert(__builtin_offsetof(struct ward_control, deny_addr) == 1280, "ctl layout");
_Static_assert(__builtin_offsetof(struct ward_control, honeypot_sink) == 2048, "ctl layout");
_Static_assert(sizeof(struct ward_control) == WARD_CTL_SIZE, "control page is one page");

#endif
