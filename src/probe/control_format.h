/* The control page: one 4 KiB file the host writes and every probe maps
 * read-only. Probes read `groups` on every interposed call (one load, one
 * predictable branch), so the host flips groups on and off in running
 * processes without restarting anything.
 *
 * Version 2 adds enforcement (issues 5 and 6): `mode` selects protect,
 * quarantine, restrict and honeypot behaviour, the tables below say what
 * protect denies, and `honeypot_sink` is where honeypot connects go. The
 * host sets WARD_CTL_GROUP_ENFORCE in `groups` exactly when `mode` is not
 * zero, so the probe's fast path stays one load and one branch: a wrapper
 * that can deny looks at the mode only when that bit (or its group) is on.
 * Table updates use `generation` as a seqlock (odd while the host writes);
 * probes read the tables in place and retry when it moved. Layout in
 * docs/events.md; version-1 fields keep their offsets and meaning.
 * Compiler-only includes: the musl build uses it. */
#ifndef WARD_CONTROL_FORMAT_H
#define WARD_CONTROL_FORMAT_H

#include <stdint.h>

#define WARD_CTL_MAGIC 0x4c544357u    /* "WCTL" */
#define WARD_CTL_VERSION 2u
#define WARD_CTL_SIZE 4096u
#define WARD_CTL_DENY_PATHS 128
#define WARD_CTL_CONNECT_PORTS 64
#define WARD_CTL_DENY_ADDRS 32
#define WARD_CTL_PERF_SHIFT_MAX 16

/* groups bit 31: a mode is on; wrappers that can deny take their slow path */
#define WARD_CTL_GROUP_ENFORCE   0x80000000u

/* mode bits (docs/probes.md "Enforcement") */
#define WARD_CTL_MODE_PROTECT     0x01u  /* deny what the tables below list */
#define WARD_CTL_MODE_QUARANTINE  0x02u  /* deny non-loopback connect/send, writes outside /tmp */
#define WARD_CTL_MODE_RESTRICT    0x04u  /* tables + no exec + in-process seccomp layer */
#define WARD_CTL_MODE_HONEYPOT    0x08u  /* full detail, stacks, redirect to sink, decoys */
#define WARD_CTL_MODE_NO_LOOPBACK 0x10u  /* quarantine/honeypot: loopback treated like the rest */
#define WARD_CTL_MODE_KNOWN       0x1fu

/* policy_flags */
#define WARD_CTL_POL_CONNECT_ALLOWLIST 0x1u  /* inet connects only to connect_port[] */
#define WARD_CTL_POL_KNOWN             0x1u

struct ward_ctl_addr {
  uint16_t family;             /* AF_INET, AF_INET6; 0 in deny_addr: any */
  uint16_t port;               /* host byte order; 0: any port */
  uint8_t prefix;              /* prefix length in bits */
  uint8_t reserved[3];
  uint8_t addr[16];            /* IPv4 in the first four bytes */
};

struct ward_control {
  uint32_t magic;
  uint16_t version;
  uint16_t size;
  uint32_t groups;             /* bit per enum ward_probe_group, + WARD_CTL_GROUP_ENFORCE */
  uint32_t generation;         /* bumped on every change; odd while writing */
  uint32_t mode;               /* WARD_CTL_MODE_* */
  uint32_t stack_depth;        /* return addresses per record, 0..8 */
  uint64_t stack_mask;         /* bit per enum ward_event_type: capture stack */
  /* offset 32 (version 2) */
  uint32_t policy_flags;       /* WARD_CTL_POL_* */
  uint32_t saved_groups;       /* honeypot: groups to restore when it ends */
  uint32_t saved_stack_depth;  /* honeypot: stack settings to restore */
  uint32_t perf_sample_shift;  /* perf times one call in 2^this per thread (0: every call), 0..16 */
  uint64_t saved_stack_mask;
  uint32_t reserved1[2];
  /* offset 64: tables, sorted */
  uint32_t n_deny_paths;
  uint32_t n_connect_ports;
  uint32_t n_deny_addrs;
  uint32_t deny_errno;         /* EACCES or EPERM (0 reads as EACCES) */
  uint8_t pad0[48];
  uint64_t deny_path_hash[WARD_CTL_DENY_PATHS];   /* FNV-1a 64 of normalised absolute paths, ascending */
  uint16_t connect_port[WARD_CTL_CONNECT_PORTS];  /* allow-list, ascending */
  struct ward_ctl_addr deny_addr[WARD_CTL_DENY_ADDRS];
  struct ward_ctl_addr honeypot_sink;             /* where honeypot connects go */
  uint8_t reserved[4096 - 2072];
};

_Static_assert(sizeof(struct ward_ctl_addr) == 24, "ctl addr layout");
_Static_assert(__builtin_offsetof(struct ward_control, mode) == 16, "ctl layout");
_Static_assert(__builtin_offsetof(struct ward_control, stack_mask) == 24, "ctl layout");
_Static_assert(__builtin_offsetof(struct ward_control, policy_flags) == 32, "ctl layout");
_Static_assert(__builtin_offsetof(struct ward_control, perf_sample_shift) == 44, "ctl layout");
_Static_assert(__builtin_offsetof(struct ward_control, saved_stack_mask) == 48, "ctl layout");
_Static_assert(__builtin_offsetof(struct ward_control, n_deny_paths) == 64, "ctl layout");
_Static_assert(__builtin_offsetof(struct ward_control, deny_errno) == 76, "ctl layout");
_Static_assert(__builtin_offsetof(struct ward_control, deny_path_hash) == 128, "ctl layout");
_Static_assert(__builtin_offsetof(struct ward_control, connect_port) == 1152, "ctl layout");
_Static_assert(__builtin_offsetof(struct ward_control, deny_addr) == 1280, "ctl layout");
_Static_assert(__builtin_offsetof(struct ward_control, honeypot_sink) == 2048, "ctl layout");
_Static_assert(sizeof(struct ward_control) == WARD_CTL_SIZE, "control page is one page");

/* FNV-1a 64 over the bytes of a path: what deny_path_hash holds. */
static inline uint64_t ward_ctl_path_hash(const char *s, unsigned long n)
{
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned long i = 0; i < n; i++) {
    h ^= (uint8_t) s[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/* Lexical normalisation both sides apply before hashing: an absolute path
 * with "//", "/./" and "/../" folded and no trailing slash ("/" stays).
 * Symlinks are not resolved (that takes system calls; Landlock, which
 * works on inodes, is the layer for them). Returns the length written to
 * dst (< cap), or 0 if src is not absolute or does not fit. dst may be
 * src (the output never runs ahead of the input). */
static inline unsigned long ward_ctl_path_norm(char *dst, unsigned long cap, const char *src, unsigned long n)
{
  unsigned long o = 0, i = 0;
  if (n == 0 || src[0] != '/' || cap < 2)
    return 0;
  while (i < n) {
    while (i < n && src[i] == '/')
      i++;
    unsigned long s = i;
    while (i < n && src[i] != '/')
      i++;
    unsigned long l = i - s;
    if (l == 0 || (l == 1 && src[s] == '.'))
      continue;
    if (l == 2 && src[s] == '.' && src[s + 1] == '.') {
      while (o > 0 && dst[o - 1] != '/')
        o--;
      if (o > 0)
        o--;  /* the slash before the removed component */
      continue;
    }
    if (o + 1 + l + 1 > cap)
      return 0;
    dst[o++] = '/';
    for (unsigned long k = 0; k < l; k++)
      dst[o++] = src[s + k];
  }
  if (o == 0)
    dst[o++] = '/';
  dst[o] = 0;
  return o;
}

#endif
