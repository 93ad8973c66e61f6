/* The device cgroup: the rule list, the v1 files and the v2 BPF program.
 * The program is assembled by hand (a few instruction kinds, see
 * ward_devices_bpf) and loaded with the raw bpf(2) syscall: libbpf would
 * add a dependency for two syscalls and has no device-rule generator. */
#include "cgroup/devices.h"
#include "cgroup/cgroup.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RWM (WARD_DEV_MKNOD | WARD_DEV_READ | WARD_DEV_WRITE)

/* What every container may use: the runtime-spec defaults, the console and
 * the devpts instance's ptmx and pty slaves. */
static const struct ward_device_rule default_rules[] = {
  {true, 'c', 1, 3, RWM},   /* null */
  {true, 'c', 1, 5, RWM},   /* zero */
  {true, 'c', 1, 7, RWM},   /* full */
  {true, 'c', 1, 8, RWM},   /* random */
  {true, 'c', 1, 9, RWM},   /* urandom */
  {true, 'c', 5, 0, RWM},   /* tty */
  {true, 'c', 5, 1, RWM},   /* console */
  {true, 'c', 5, 2, RWM},   /* ptmx */
  {true, 'c', 136, -1, RWM}, /* pts/N */
};

int ward_devices_rules(const struct ward_config *cfg, struct ward_device_rule **out, size_t *n, ward_error_t *err)
{
  const struct ward_resources *res = &cfg->resources;
  size_t cap = 1 + res->n_devices + ARRAY_SIZE(default_rules) + cfg->n_devices;
  _cleanup_free_ struct ward_device_rule *r = calloc(cap, sizeof(*r));
  if (r == NULL)
    return ward_error(err, ENOMEM, "device rules");
  size_t k = 0;
  r[k++] = (struct ward_device_rule) {false, 'a', -1, -1, RWM};
  for (size_t i = 0; i < res->n_devices; i++)
    r[k++] = res->devices[i];
  for (size_t i = 0; i < ARRAY_SIZE(default_rules); i++)
    r[k++] = default_rules[i];
  for (size_t i = 0; i < cfg->n_devices; i++) {
    const struct ward_device *d = &cfg->devices[i];
    if (d->type == 'p')  /* a FIFO is no device */
      continue;
    r[k++] = (struct ward_device_rule) {true, d->type == 'b' ? 'b' : 'c', d->major, d->minor, RWM};
  }
  *out = steal_pointer(&r);
  *n = k;
  return 0;
}

static bool rule_matches(const struct ward_device_rule *r, char type, unsigned major, unsigned minor)
{
  return (r->type == 'a' || r->type == type) && (r->major < 0 || (unsigned) r->major == major) &&
         (r->minor < 0 || (unsigned) r->minor == minor);
}

bool ward_devices_allowed(const struct ward_device_rule *r, size_t n, char type, unsigned major, unsigned minor,
                          unsigned access)
{
  for (unsigned bit = 1; bit <= WARD_DEV_WRITE; bit <<= 1) {
    if (!(access & bit))
      continue;
    bool allowed = false;
    for (size_t i = n; i-- > 0;) {
      if ((r[i].access & bit) && rule_matches(&r[i], type, major, minor)) {
        allowed = r[i].allow;
        break;
      }
    }
    if (!allowed)
      return false;
  }
  return true;
}

/* ---- the BPF program ---- */

struct asm_buf {
  struct bpf_insn *insn;
  size_t n, cap;
  bool overflow;
};

static size_t emit(struct asm_buf *a, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  if (a->n >= a->cap) {
    a->overflow = true;
    return a->n;
  }
  a->insn[a->n] = (struct bpf_insn) {.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
  return a->n++;
}

/* Registers: r1 the context (struct bpf_cgroup_dev_ctx), r2 the requested
 * access bits, r3 the device type, r4 major, r5 minor, r0 the verdict.
 *
 *   for each access bit m, r, w:
 *       if the bit is not requested: next bit
 *       for each rule naming the bit, last to first:
 *           if type, major and minor match: allow -> next bit; deny -> return 0
 *       return 0                 (no rule names it)
 *   return 1
 *
 * The verifier refuses unreachable instructions, so a pass stops after a
 * rule that matches every device. */
size_t ward_devices_bpf(const struct ward_device_rule *r, size_t n, struct bpf_insn *out, size_t cap)
{
  struct asm_buf a = {.insn = out, .cap = cap};
  _cleanup_free_ size_t *fix = calloc(n + 1, sizeof(size_t));  /* jumps to the next pass */
  if (fix == NULL)
    return 0;
  emit(&a, BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
  emit(&a, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0);
  emit(&a, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xffff);
  emit(&a, BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_2, 0, 0, 16);
  emit(&a, BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major), 0);
  emit(&a, BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
  static const unsigned bits[] = {BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE};
  _Static_assert(BPF_DEVCG_ACC_MKNOD == WARD_DEV_MKNOD && BPF_DEVCG_ACC_READ == WARD_DEV_READ &&
                 BPF_DEVCG_ACC_WRITE == WARD_DEV_WRITE, "WARD_DEV_* are the kernel's bits");
  for (size_t b = 0; b < ARRAY_SIZE(bits); b++) {
    size_t nfix = 0;
    emit(&a, BPF_JMP | BPF_JSET | BPF_K, BPF_REG_2, 0, 1, (int32_t) bits[b]);
    fix[nfix++] = emit(&a, BPF_JMP | BPF_JA, 0, 0, 0, 0);
    bool ended = false;
    for (size_t i = n; i-- > 0 && !ended;) {
      const struct ward_device_rule *d = &r[i];
      if (!(d->access & bits[b]))
        continue;
      int checks = (d->type != 'a') + (d->major >= 0) + (d->minor >= 0);
      int tail = d->allow ? 1 : 2;
      int left = checks;
      if (d->type != 'a')
        emit(&a, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, (int16_t) (--left + tail),
             d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
      if (d->major >= 0)
        emit(&a, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, (int16_t) (--left + tail), (int32_t) d->major);
      if (d->minor >= 0)
        emit(&a, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, (int16_t) (--left + tail), (int32_t) d->minor);
      if (d->allow) {
        fix[nfix++] = emit(&a, BPF_JMP | BPF_JA, 0, 0, 0, 0);
      } else {
        emit(&a, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
        emit(&a, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
      }
      ended = checks == 0;
    }
    if (!ended) {
      emit(&a, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
      emit(&a, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    }
    if (a.overflow || a.n > INT16_MAX)
      return 0;
    for (size_t f = 0; f < nfix; f++)
      out[fix[f]].off = (int16_t) (a.n - fix[f] - 1);
  }
  emit(&a, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
  emit(&a, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  return a.overflow ? 0 : a.n;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
  return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int attach_program(const char *dir, const struct ward_device_rule *r, size_t n, ward_error_t *err)
{
  size_t cap = 16 + 3 * (2 + 5 * n + 2);
  _cleanup_free_ struct bpf_insn *insn = calloc(cap, sizeof(*insn));
  if (insn == NULL)
    return ward_error(err, ENOMEM, "device program");
  size_t count = ward_devices_bpf(r, n, insn, cap);
  if (count == 0)
    return ward_error(err, E2BIG, "the device rules make a program too long for BPF");
  union bpf_attr load = {0};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (uint64_t) (uintptr_t) insn;
  load.insn_cnt = (uint32_t) count;
  load.license = (uint64_t) (uintptr_t) "GPL";
  /* bpf(2) file descriptors are always close-on-exec. */
  _cleanup_close_ int prog = (int) sys_bpf(BPF_PROG_LOAD, &load);
  if (prog < 0) {
    /* Again with the verifier's log, for the error message: only its
     * last line (the reason) fits, so the log is kept short (level 1 logs
     * every instruction and fails with ENOSPC when the buffer fills). */
    int saved = errno;
    static char log[1 << 16];
    log[0] = '\0';
    load.log_buf = (uint64_t) (uintptr_t) log;
    load.log_size = sizeof(log);
    load.log_level = 1;
    if (sys_bpf(BPF_PROG_LOAD, &load) < 0 && errno == saved) {
      size_t len = strlen(log);
      while (len > 0 && log[len - 1] == '\n')
        log[--len] = '\0';
      const char *last = strrchr(log, '\n');
      return ward_error(err, saved, "load the device cgroup program (%zu instructions): %.200s", count, last ? last + 1 : log);
    }
    return ward_error(err, saved, "load the device cgroup program (%zu instructions)", count);
  }
  _cleanup_close_ int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0)
    return ward_error_sys(err, "open %s", dir);
  union bpf_attr attach = {0};
  attach.target_fd = (uint32_t) cgfd;
  attach.attach_bpf_fd = (uint32_t) prog;
  attach.attach_type = BPF_CGROUP_DEVICE;
  /* Programs of the ancestors (systemd's) keep running too: both must allow. */
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, &attach) < 0)
    return ward_error_sys(err, "attach the device cgroup program to %s", dir);
  return 0;
}

static const char *v1_devices_dir(const struct ward_cgroup *cg)
{
  for (size_t i = 0; i < cg->n_v1; i++) {
    const char *name = cg->v1[i].name;
    const char *p = strstr(name, "devices");
    if (p && (p == name || p[-1] == ',') && (p[7] == '\0' || p[7] == ','))
      return cg->v1[i].dir;
  }
  return NULL;
}

static void number(char *buf, size_t n, int64_t v)
{
  if (v < 0)
    snprintf(buf, n, "*");
  else
    snprintf(buf, n, "%lld", (long long) v);
}

/* One rule as the v1 files take it. "a" alone resets the whole list, as
 * runc writes it; an "a" rule narrowed in any way is written as its b and c
 * halves, because the kernel reads nothing after an "a". */
static int write_v1_rule(const char *dir, const struct ward_device_rule *r, ward_error_t *err)
{
  _cleanup_free_ char *path = NULL;
  if (asprintf(&path, "%s/%s", dir, r->allow ? "devices.allow" : "devices.deny") < 0)
    return ward_error(err, ENOMEM, "cgroup");
  if (r->type == 'a' && r->major < 0 && r->minor < 0 && r->access == RWM)
    return ward_write_string_at(AT_FDCWD, path, "a", err);
  char maj[24], min[24], acc[4] = "";
  number(maj, sizeof(maj), r->major);
  number(min, sizeof(min), r->minor);
  size_t k = 0;
  if (r->access & WARD_DEV_READ)
    acc[k++] = 'r';
  if (r->access & WARD_DEV_WRITE)
    acc[k++] = 'w';
  if (r->access & WARD_DEV_MKNOD)
    acc[k++] = 'm';
  const char *types = r->type == 'a' ? "bc" : r->type == 'b' ? "b" : "c";
  for (const char *t = types; *t; t++) {
    char line[80];
    snprintf(line, sizeof(line), "%c %s:%s %s", *t, maj, min, acc);
    if (ward_write_string_at(AT_FDCWD, path, line, err) < 0)
      return ward_error_prefix(err, "\"%s\"", line);
  }
  return 0;
}

int ward_cgroup_devices_apply(const struct ward_cgroup *cg, const struct ward_device_rule *r, size_t n, ward_error_t *err)
{
  if (cg->mode == WARD_CGROUP_NONE)
    return 0;  /* rootless: the user namespace already refuses mknod */
  const char *v1 = cg->mode == WARD_CGROUP_V2 ? NULL : v1_devices_dir(cg);
  if (v1) {
    for (size_t i = 0; i < n; i++)
      if (write_v1_rule(v1, &r[i], err) < 0)
        return ward_error_prefix(err, "device cgroup %s", v1);
    return 0;
  }
  if (cg->unified)
    return attach_program(cg->unified, r, n, err);
  return ward_error(err, ENOTSUP, "no device cgroup: neither the v1 devices controller nor cgroup2 is mounted");
}
