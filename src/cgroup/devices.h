/* The device cgroup: which device nodes a container may create (mknod),
 * read and write. Every container with a writable cgroup gets, in order,
 *   deny all;
 *   linux.resources.devices, in order;
 *   the runtime's default devices (null, zero, full, random, urandom, tty,
 *   console 5:1, ptmx 5:2, pts 136:*), rwm;
 *   linux.devices (their type and numbers), rwm;
 * as runc orders them. On cgroup v1 (and hybrid hosts with the v1 devices
 * controller) the rules are written to devices.deny/devices.allow; on
 * cgroup v2 a BPF_PROG_TYPE_CGROUP_DEVICE program built from them is
 * attached to the container's cgroup. The program decides each requested
 * access bit (m, r, w) by the last rule that matches the device and names
 * that bit, and denies what no rule names (docs/cgroups.md). */
#ifndef WARD_CGROUP_DEVICES_H
#define WARD_CGROUP_DEVICES_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "runtime/config.h"

struct ward_cgroup;

/* The full ordered rule list for cfg; the caller frees *out. */
int ward_devices_rules(const struct ward_config *cfg, struct ward_device_rule **out, size_t *n, ward_error_t *err);

/* The decision the BPF program makes, in C: type 'b' or 'c', access a set
 * of WARD_DEV_* bits. For tests and for explaining a denial. */
bool ward_devices_allowed(const struct ward_device_rule *r, size_t n, char type, unsigned major, unsigned minor,
                          unsigned access);

/* Assembles the program into out (cap instructions); returns the count, or
 * 0 when cap is too small. */
size_t ward_devices_bpf(const struct ward_device_rule *r, size_t n, struct bpf_insn *out, size_t cap);

/* Applies the rules to the container's cgroup (v1 files, or the v2 program). */
int ward_cgroup_devices_apply(const struct ward_cgroup *cg, const struct ward_device_rule *r, size_t n, ward_error_t *err);

#endif
