/* Host side of the control page (layout: probe/control_format.h). The file
 * is created once and then only changed in place through a shared mapping:
 * the container's bind mount holds the inode, so it must never be replaced.
 * Every writer takes an flock on the file and writes under the seqlock on
 * `generation`; probes see a change at their next interposed call. */
#ifndef WARD_CONTROL_H
#define WARD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "probe/control_format.h"

/* Creates path (O_EXCL, mode 0644) with the given group mask. */
int ward_control_create(const char *path, uint32_t groups, ward_error_t *err);
/* Turns the groups in mask on (on=true) or off; *now (may be NULL) gets the
 * resulting mask. Takes effect in running probes at their next call. */
int ward_probe_set_groups(const char *control_path, uint32_t mask, bool on, uint32_t *now, ward_error_t *err);
/* Sets the call-stack capture mask (bit per enum ward_event_type) and depth
 * (0..8). While honeypot is on (it captures every stack) the setting is
 * kept for when it ends. */
int ward_probe_set_stacks(const char *control_path, uint64_t type_mask, uint32_t depth, ward_error_t *err);
/* The call-stack setting last chosen with ward_probe_set_stacks, from a
 * copy of the page: the one in effect, or while honeypot is on, the one it
 * restores. Either pointer may be NULL. */
void ward_control_chosen_stacks(const struct ward_control *c, uint64_t *type_mask, uint32_t *depth);
/* perf times one call in `every` per thread (a power of two, 1..65536; 1
 * is every call): the second timestamp is the perf group's main cost, and
 * a sampled latency histogram is as good as a full one for a busy call.
 * Every call is still counted. */
int ward_probe_set_perf_every(const char *control_path, uint32_t every, ward_error_t *err);
/* Whether ward_probe_set_perf_every takes every. */
static inline bool ward_probe_perf_every_valid(unsigned long every)
{
  return every != 0 && (every & (every - 1)) == 0 && every <= (1ul << WARD_CTL_PERF_SHIFT_MAX);
}
/* 2^shift as the "every" above, for printing. */
static inline uint32_t ward_probe_perf_every(const struct ward_control *c)
{
  return c->perf_sample_shift <= WARD_CTL_PERF_SHIFT_MAX ? 1u << c->perf_sample_shift : 0;
}
/* A validated copy of the page. */
int ward_control_read(const char *path, struct ward_control *out, ward_error_t *err);

/* ---- enforcement (version 2; docs/probes.md "Enforcement") ---- */

/* What protect (and restrict) deny. Replaces the page's tables as a whole. */
struct ward_control_policy {
  const char *const *deny_paths; size_t n_deny_paths;  /* absolute; normalised lexically, at most 128 */
  const uint16_t *connect_ports; size_t n_connect_ports; /* at most 64, 1..65535 */
  bool connect_allowlist;      /* inet/inet6 connect/sendto to a port not listed -> denied (loopback too) */
  const struct ward_ctl_addr *deny_addrs; size_t n_deny_addrs; /* at most 32; family 0 = any family */
  int deny_errno;              /* EACCES (0 means EACCES) or EPERM */
};

int ward_control_set_policy(const char *control_path, const struct ward_control_policy *p, ward_error_t *err);
/* Replaces the mode (WARD_CTL_MODE_* bits; 0 = none). Entering honeypot
 * saves groups and stack settings and turns everything on (stacks depth 8
 * for every type); leaving it restores them. Honeypot also writes the decoy
 * files into decoys/ beside the control page if they are not there yet
 * (probe/decoys in the memory directory, mounted into the container). */
int ward_control_set_mode(const char *control_path, uint32_t mode, ward_error_t *err);
int ward_control_get_mode(const char *control_path, uint32_t *mode, ward_error_t *err);
/* Where honeypot connects are redirected: AF_INET or AF_INET6, port 1..65535. */
int ward_control_set_honeypot_sink(const char *control_path, const struct ward_ctl_addr *sink, ward_error_t *err);

/* "protect", "quarantine,no-loopback", "none" -> mode bits; -1 if unknown. */
int64_t ward_control_mode_parse(const char *list);
/* Mode bits as "protect,honeypot" ("none" for 0) into buf. */
const char *ward_control_mode_format(uint32_t mode, char *buf, size_t cap);
/* "10.0.0.0/8:443", "1.2.3.4", "[::1]:80", "::/0", "*:25" (any address,
 * port 25) -> a deny/sink address. Returns 0, or -1 with err naming it. */
int ward_ctl_addr_parse(const char *text, struct ward_ctl_addr *out, ward_error_t *err);
/* "1.2.3.4/32:80" style, for printing. */
const char *ward_ctl_addr_format(const struct ward_ctl_addr *a, char *buf, size_t cap);

#endif
