/* The device cgroup: the rule list's order, the parser's errors, and the BPF
 * program: run by a small interpreter over every device class and access
 * combination against ward_devices_allowed(), and (as root) through the
 * kernel's verifier. */
#include "cgroup/devices.h"
#include "runtime/config.h"
#include "common/cleanup.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct ward_config *parse(const char *resources_devices, const char *devices, char **msg)
{
  _cleanup_free_ char *text = NULL;
  if (asprintf(&text, "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"linux\":{\"devices\":%s,"
                      "\"resources\":{\"devices\":%s}}}", devices, resources_devices) < 0)
    return NULL;
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_config *cfg = NULL;
  if (ward_config_parse_buffer("config.json", text, strlen(text), &cfg, &err) < 0 && msg)
    *msg = strdup(err->msg);
  return cfg;
}

static void expect_error(const char *rules, const char *needle)
{
  char *msg = NULL;
  struct ward_config *cfg = parse(rules, "[]", &msg);
  ok(cfg == NULL, "refused: %s", rules);
  contains(msg, needle, "the error names the field");
  free(msg);
  if (cfg)
    ward_config_free(cfg);
}

static void test_parse(void)
{
  struct ward_config *cfg = parse("[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":1,"
                                  "\"minor\":-1,\"access\":\"r\"},{\"allow\":true,\"type\":\"b\",\"major\":7,\"minor\":0}]",
                                  "[{\"path\":\"/dev/x\",\"type\":\"u\",\"major\":10,\"minor\":200},{\"path\":\"/dev/f\",\"type\":\"p\"}]",
                                  NULL);
  ok(cfg != NULL, "a rule list parses");
  if (cfg == NULL)
    return;
  const struct ward_resources *r = &cfg->resources;
  is_int(r->n_devices, 3, "three rules");
  ok(!r->devices[0].allow && r->devices[0].type == 'a' && r->devices[0].major == -1 && r->devices[0].access == 7,
     "type absent: a, numbers absent: any");
  ok(r->devices[1].type == 'c' && r->devices[1].major == 1 && r->devices[1].minor == -1 && r->devices[1].access == WARD_DEV_READ,
     "minor -1 is any, access r");
  is_int(r->devices[2].access, WARD_DEV_MKNOD | WARD_DEV_READ | WARD_DEV_WRITE, "access absent: rwm");
  ok(!r->any, "device rules are no limit that needs a writable cgroup");

  struct ward_device_rule *rules = NULL;
  size_t n = 0;
  _cleanup_error_ ward_error_t err = NULL;
  ok(ward_devices_rules(cfg, &rules, &n, &err) == 0, "rule list built");
  is_int(n, 1 + 3 + 9 + 1, "deny all, 3 config rules, 9 defaults, 1 device (the FIFO needs none)");
  ok(!rules[0].allow && rules[0].type == 'a', "first: deny all");
  ok(rules[1].allow == false && rules[2].major == 1, "then the config's rules in order");
  ok(rules[4].allow && rules[4].major == 1 && rules[4].minor == 3, "then the defaults (null first)");
  ok(rules[13].type == 'c' && rules[13].major == 10 && rules[13].minor == 200, "then linux.devices (u is a char device)");
  free(rules);
  ward_config_free(cfg);

  expect_error("[{\"type\":\"c\"}]", "linux.resources.devices[0].allow: required");
  expect_error("[{\"allow\":true},{\"allow\":true,\"type\":\"x\"}]", "linux.resources.devices[1].type: \"x\" is not one of a, b, c");
  expect_error("[{\"allow\":true},{\"allow\":true},{\"allow\":true,\"access\":\"rwx\"}]",
               "linux.resources.devices[2].access: \"rwx\" is not a combination of r, w and m");
  expect_error("[{\"allow\":true,\"major\":-2}]", "linux.resources.devices[0].major: -2");
  expect_error("[{\"allow\":true,\"minor\":1048576}]", "linux.resources.devices[0].minor");
  expect_error("[{\"allow\":\"yes\"}]", "linux.resources.devices[0].allow");
  expect_error("{}", "linux.resources.devices");
}

/* The instructions ward_devices_bpf emits, and nothing else. */
static int interpret(const struct bpf_insn *p, size_t n, const struct bpf_cgroup_dev_ctx *ctx, bool *bad)
{
  uint64_t reg[11] = {0};
  for (size_t pc = 0, steps = 0; pc < n && steps < 100000; pc++, steps++) {
    const struct bpf_insn *i = &p[pc];
    uint64_t imm = (uint64_t) (int64_t) i->imm;
    switch (i->code) {
    case BPF_LDX | BPF_W | BPF_MEM:
      if (i->src_reg != BPF_REG_1 || i->off < 0 || (size_t) i->off + 4 > sizeof(*ctx)) {
        *bad = true;
        return -1;
      }
      reg[i->dst_reg] = *(const uint32_t *) ((const char *) ctx + i->off);
      break;
    case BPF_ALU64 | BPF_MOV | BPF_X: reg[i->dst_reg] = reg[i->src_reg]; break;
    case BPF_ALU64 | BPF_MOV | BPF_K: reg[i->dst_reg] = imm; break;
    case BPF_ALU64 | BPF_AND | BPF_K: reg[i->dst_reg] &= imm; break;
    case BPF_ALU64 | BPF_RSH | BPF_K: reg[i->dst_reg] >>= i->imm; break;
    case BPF_JMP | BPF_JA: pc += i->off; break;
    case BPF_JMP | BPF_JSET | BPF_K: if (reg[i->dst_reg] & imm) pc += i->off; break;
    case BPF_JMP | BPF_JNE | BPF_K: if (reg[i->dst_reg] != imm) pc += i->off; break;
    case BPF_JMP | BPF_EXIT: return (int) reg[0];
    default: *bad = true; return -1;
    }
  }
  *bad = true;
  return -1;
}

static const struct ward_device_rule set_a[] = {
  {false, 'a', -1, -1, 7}, {true, 'c', 1, 3, 7}, {true, 'c', 136, -1, 7}, {true, 'b', 7, 0, WARD_DEV_READ},
  {false, 'c', 136, 5, WARD_DEV_WRITE}, {true, 'a', 10, -1, WARD_DEV_MKNOD},
};
/* an allow-all in the middle: what comes before it is unreachable */
static const struct ward_device_rule set_b[] = {
  {false, 'a', -1, -1, 7}, {true, 'c', 1, 3, 7}, {true, 'a', -1, -1, 7}, {false, 'b', 8, -1, 7}, {true, 'c', 1, 5, 2},
};
static const struct ward_device_rule set_c[] = {{false, 'a', -1, -1, 7}};

static long prog_load(const struct bpf_insn *insn, size_t n)
{
  union bpf_attr a = {0};
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (uint64_t) (uintptr_t) insn;
  a.insn_cnt = (uint32_t) n;
  a.license = (uint64_t) (uintptr_t) "GPL";
  return syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
}

static void check_program(const char *name, const struct ward_device_rule *r, size_t n)
{
  struct bpf_insn prog[512];
  size_t len = ward_devices_bpf(r, n, prog, 512);
  ok(len > 0, "%s: assembled (%zu instructions)", name, len);
  static const unsigned majors[] = {1, 5, 7, 8, 10, 136, 254};
  static const unsigned minors[] = {0, 3, 5, 200};
  size_t cases = 0, wrong = 0;
  bool bad = false;
  for (int t = 0; t < 2; t++)
    for (size_t ma = 0; ma < ARRAY_SIZE(majors); ma++)
      for (size_t mi = 0; mi < ARRAY_SIZE(minors); mi++)
        for (unsigned acc = 1; acc <= 7; acc++) {
          struct bpf_cgroup_dev_ctx ctx = {
            .access_type = (acc << 16) | (t ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR), .major = majors[ma], .minor = minors[mi]};
          int got = interpret(prog, len, &ctx, &bad);
          bool want = ward_devices_allowed(r, n, t ? 'b' : 'c', majors[ma], minors[mi], acc);
          cases++;
          if (got != (want ? 1 : 0)) {
            if (wrong++ < 3)
              tap_diag("  %c %u:%u access %u: program %d, rules %d", t ? 'b' : 'c', majors[ma], minors[mi], acc, got, want);
          }
        }
  ok(!bad && wrong == 0, "%s: the program decides as the rules do in all %zu cases", name, cases);
  if (geteuid() != 0) {
    ok(true, "%s: # SKIP the verifier needs root", name);
    return;
  }
  long fd = prog_load(prog, len);
  ok(fd >= 0, "%s: the kernel's verifier accepts it", name);
  if (fd < 0)
    tap_diag("  bpf: %s", strerror(errno));
  else
    close((int) fd);
}

static void test_semantics(void)
{
  const struct ward_device_rule *r = set_a;
  size_t n = ARRAY_SIZE(set_a);
  ok(ward_devices_allowed(r, n, 'c', 1, 3, 7), "null: rwm");
  ok(!ward_devices_allowed(r, n, 'c', 1, 5, 2), "zero: no rule");
  ok(ward_devices_allowed(r, n, 'c', 136, 4, 6), "pts/4 rw");
  ok(ward_devices_allowed(r, n, 'c', 136, 5, 2) && !ward_devices_allowed(r, n, 'c', 136, 5, 6),
     "pts/5: read stays, the later deny takes write");
  ok(ward_devices_allowed(r, n, 'b', 7, 0, 2) && !ward_devices_allowed(r, n, 'b', 7, 0, 1), "loop0: read, no mknod");
  ok(ward_devices_allowed(r, n, 'b', 10, 9, 1) && ward_devices_allowed(r, n, 'c', 10, 9, 1) &&
     !ward_devices_allowed(r, n, 'c', 10, 9, 2), "type a: both kinds, only the access named");
  ok(ward_devices_allowed(set_b, ARRAY_SIZE(set_b), 'c', 9, 9, 7) && !ward_devices_allowed(set_b, ARRAY_SIZE(set_b), 'b', 8, 1, 2),
     "allow all, then a deny after it");
  ok(!ward_devices_allowed(set_c, 1, 'c', 1, 3, 2), "deny all alone");
}

int main(void)
{
  test_parse();
  test_semantics();
  check_program("mixed rules", set_a, ARRAY_SIZE(set_a));
  check_program("allow all in the middle", set_b, ARRAY_SIZE(set_b));
  check_program("deny all alone", set_c, ARRAY_SIZE(set_c));
  /* the list a real config gets */
  struct ward_config *cfg = parse("[{\"allow\":true,\"type\":\"b\",\"major\":7,\"minor\":0,\"access\":\"rwm\"}]",
                                  "[{\"path\":\"/dev/kvm\",\"type\":\"c\",\"major\":10,\"minor\":232}]", NULL);
  struct ward_device_rule *rules = NULL;
  size_t n = 0;
  _cleanup_error_ ward_error_t err = NULL;
  if (cfg && ward_devices_rules(cfg, &rules, &n, &err) == 0) {
    check_program("a config's list", rules, n);
    free(rules);
  }
  if (cfg)
    ward_config_free(cfg);
  struct bpf_insn small[4];
  is_int(ward_devices_bpf(set_a, ARRAY_SIZE(set_a), small, 4), 0, "too small a buffer: 0, nothing overrun");
  return tap_done();
}
