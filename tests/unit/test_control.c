/* Control page version 2, host side: path normalisation and hashing, the
 * table encoding set_policy writes, modes (honeypot saves and restores the
 * groups), the seqlock under a concurrent writer, address and mode text,
 * and the denied/redirected record flags through the decoder and JSON. */
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "probe/calls.h"
#include "probe/control.h"
#include "probe/event.h"
#include "probe/event_json.h"
#include "probe/ring.h"
#include "probe/ring_write.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>

static char dir[] = "/tmp/ward-test-control-XXXXXX";
static char path[128];

static const char *norm(const char *s)
{
  static char out[256];
  return ward_ctl_path_norm(out, sizeof(out), s, strlen(s)) ? out : NULL;
}

static void test_norm(void)
{
  is_str(norm("/etc/shadow"), "/etc/shadow", "plain path unchanged");
  is_str(norm("/etc//./shadow"), "/etc/shadow", "// and /./ folded");
  is_str(norm("/etc/x/../shadow"), "/etc/shadow", ".. removes a component");
  is_str(norm("/../../etc/shadow"), "/etc/shadow", ".. stops at the root");
  is_str(norm("/tmp/"), "/tmp", "trailing slash dropped");
  is_str(norm("/"), "/", "root stays");
  is_str(norm("/a/.."), "/", "back to the root");
  is_str(norm("/a/..b/.c"), "/a/..b/.c", "dot-names are names");
  ok(norm("etc/shadow") == NULL, "relative refused");
  ok(norm("") == NULL, "empty refused");
  char inplace[64] = "/a//b/./c/../d/";
  size_t k = ward_ctl_path_norm(inplace, sizeof(inplace), inplace, strlen(inplace));
  ok(k == 6 && strcmp(inplace, "/a/b/d") == 0, "normalises in place");
  char small[8];
  is_int(ward_ctl_path_norm(small, sizeof(small), "/abcdefgh", 9), 0, "too long for the buffer: 0");
  ok(ward_ctl_path_hash("/etc/shadow", 11) == ward_ctl_path_hash("/etc/shadow", 11)
     && ward_ctl_path_hash("/etc/shadow", 11) != ward_ctl_path_hash("/etc/shadoW", 11), "FNV-1a is stable and discriminates");
  is_int((long long) ward_ctl_path_hash("", 0), (long long) 0xcbf29ce484222325ull, "FNV-1a 64 offset basis");
  is_int((long long) ward_ctl_path_hash("a", 1), (long long) 0xaf63dc4c8601ec8cull, "FNV-1a 64 of \"a\" (reference value)");
}

static void test_policy(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  const char *paths[] = {"/etc/shadow", "/tmp/../etc/shadow", "/bin/sh", "/root/.ssh/id_rsa"};
  uint16_t ports[] = {443, 80, 443};
  struct ward_ctl_addr addrs[2];
  ward_ctl_addr_parse("10.0.0.0/8:25", &addrs[0], &err);
  ward_ctl_addr_parse("*:6667", &addrs[1], &err);
  struct ward_control_policy p = {.deny_paths = paths, .n_deny_paths = 4, .connect_ports = ports, .n_connect_ports = 3,
                                  .connect_allowlist = true, .deny_addrs = addrs, .n_deny_addrs = 2, .deny_errno = EPERM};
  ok(ward_control_set_policy(path, &p, &err) == 0, "set_policy");
  struct ward_control c;
  ward_control_read(path, &c, &err);
  is_int(c.version, 2, "version 2 page");
  is_int(c.n_deny_paths, 3, "paths normalised and deduplicated (4 given, 3 distinct)");
  bool sorted = true, found = false;
  for (uint32_t i = 1; i < c.n_deny_paths; i++)
    sorted &= c.deny_path_hash[i - 1] < c.deny_path_hash[i];
  for (uint32_t i = 0; i < c.n_deny_paths; i++)
    found |= c.deny_path_hash[i] == ward_ctl_path_hash("/etc/shadow", 11);
  ok(sorted && found, "hashes ascending and /etc/shadow among them");
  ok(c.n_connect_ports == 2 && c.connect_port[0] == 80 && c.connect_port[1] == 443, "ports sorted, deduplicated");
  ok(c.policy_flags == WARD_CTL_POL_CONNECT_ALLOWLIST, "allow-list flag");
  ok(c.n_deny_addrs == 2 && c.deny_addr[0].family == AF_INET && c.deny_addr[0].prefix == 8 && c.deny_addr[0].port == 25
     && c.deny_addr[1].family == 0 && c.deny_addr[1].port == 6667, "addresses as given");
  is_int(c.deny_errno, EPERM, "deny_errno");
  ok(c.generation % 2 == 0 && c.generation > 2, "generation even and bumped");
  /* replacing clears what was there */
  struct ward_control_policy empty = {0};
  ward_control_set_policy(path, &empty, &err);
  ward_control_read(path, &c, &err);
  ok(c.n_deny_paths == 0 && c.deny_path_hash[0] == 0 && c.n_connect_ports == 0 && c.policy_flags == 0 && c.deny_errno == EACCES,
     "an empty policy clears the tables, errno back to EACCES");
  const char *many[WARD_CTL_DENY_PATHS + 1];
  for (int i = 0; i <= WARD_CTL_DENY_PATHS; i++)
    many[i] = "/x";
  struct ward_control_policy big = {.deny_paths = many, .n_deny_paths = WARD_CTL_DENY_PATHS + 1};
  ok(ward_control_set_policy(path, &big, &err) < 0 && strstr(err->msg, "deny_paths: 129 entries"), "too many paths refused");
}

static void test_modes(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  ward_probe_set_groups(path, 1u << WARD_GROUP_EXEC, true, NULL, &err);
  ward_probe_set_stacks(path, 1u << WARD_EV_EXEC, 2, &err);
  uint32_t m = 99;
  ok(ward_control_get_mode(path, &m, &err) == 0 && m == 0, "mode starts at none");
  struct ward_control c;
  ward_control_set_mode(path, WARD_CTL_MODE_PROTECT, &err);
  ward_control_read(path, &c, &err);
  ok(c.mode == WARD_CTL_MODE_PROTECT && (c.groups & WARD_CTL_GROUP_ENFORCE) && (c.groups & ~WARD_CTL_GROUP_ENFORCE) == 1,
     "protect: enforce bit in groups, groups otherwise unchanged");
  uint32_t now = 0;
  ward_probe_set_groups(path, 1u << WARD_GROUP_FILE, true, &now, &err);
  ward_control_read(path, &c, &err);
  ok(now == 3 && (c.groups & WARD_CTL_GROUP_ENFORCE), "set_groups keeps the enforce bit and does not report it");
  ward_control_set_mode(path, WARD_CTL_MODE_HONEYPOT | WARD_CTL_MODE_PROTECT, &err);
  ward_control_read(path, &c, &err);
  ok((c.groups & ~WARD_CTL_GROUP_ENFORCE) == (1u << WARD_GROUP_COUNT) - 1 && c.stack_depth == 8 && c.stack_mask != 0,
     "honeypot: every group, stacks at depth 8");
  ok(c.saved_groups == 3 && c.saved_stack_depth == 2 && c.saved_stack_mask == 1u << WARD_EV_EXEC, "previous settings saved");
  ward_control_set_mode(path, WARD_CTL_MODE_HONEYPOT, &err);
  ward_control_read(path, &c, &err);
  ok(c.saved_groups == 3, "staying in honeypot does not overwrite the saved settings");
  ok(ward_probe_set_stacks(path, 1u << WARD_EV_CONNECT, 3, &err) == 0, "stacks set during honeypot");
  ward_control_read(path, &c, &err);
  ok(c.stack_depth == 8 && c.saved_stack_depth == 3 && c.saved_stack_mask == 1u << WARD_EV_CONNECT,
     "honeypot keeps every stack; the new setting waits for its end");
  uint64_t chosen = 0;
  uint32_t depth = 0;
  ward_control_chosen_stacks(&c, &chosen, &depth);
  ok(chosen == 1u << WARD_EV_CONNECT && depth == 3, "the chosen setting during honeypot is the one it restores");
  ward_control_set_mode(path, 0, &err);
  ward_control_read(path, &c, &err);
  ok(c.groups == 3 && c.stack_depth == 3 && c.stack_mask == 1u << WARD_EV_CONNECT && c.mode == 0,
     "none: restored (with the stacks set meanwhile), enforce bit off");
  ward_control_chosen_stacks(&c, &chosen, NULL);
  ok(chosen == 1u << WARD_EV_CONNECT, "and outside honeypot the chosen setting is the one in effect");
  ward_error_free(&err);
  ok(ward_probe_set_stacks(path, 1ull << 63, 2, &err) < 0 && strstr(err->msg, "stack types"), "a bit past the types refused");
  ward_error_free(&err);
  ok(ward_probe_set_stacks(path, 1u << WARD_EV_EXEC, 9, &err) < 0 && strstr(err->msg, "depth"), "depth 9 refused");
  ward_error_free(&err);
  ward_probe_set_stacks(path, 1u << WARD_EV_EXEC, 2, &err);
  ok(ward_control_set_mode(path, 0x40, &err) < 0 && strstr(err->msg, "mode"), "unknown bit refused");
}

/* The writer alternates between two policies; a reader following the
 * probe's protocol must only ever see one of them whole. */
static volatile int stop;

static void *writer(void *arg)
{
  (void) arg;
  const char *a[] = {"/a1", "/a2", "/a3"};
  const char *b[] = {"/b1"};
  struct ward_control_policy pa = {.deny_paths = a, .n_deny_paths = 3, .deny_errno = EACCES};
  struct ward_control_policy pb = {.deny_paths = b, .n_deny_paths = 1, .deny_errno = EPERM};
  for (int i = 0; !stop && i < 4000; i++) {
    ward_error_t err = NULL;
    ward_control_set_policy(path, (i & 1) ? &pb : &pa, &err);
    ward_error_free(&err);
  }
  stop = 1;
  return NULL;
}

static void test_seqlock(void)
{
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  const struct ward_control *c = mmap(NULL, WARD_CTL_SIZE, PROT_READ, MAP_SHARED, fd, 0);
  if (c == MAP_FAILED) {
    ok(0, "map");
    return;
  }
  /* start from one of the two states the reader accepts */
  const char *b[] = {"/b1"};
  struct ward_control_policy pb = {.deny_paths = b, .n_deny_paths = 1, .deny_errno = EPERM};
  ward_error_t err = NULL;
  ward_control_set_policy(path, &pb, &err);
  ward_error_free(&err);
  pthread_t t;
  stop = 0;
  pthread_create(&t, NULL, writer, NULL);
  long reads = 0, torn = 0, retries = 0;
  while (!stop) {
    uint32_t g = __atomic_load_n(&c->generation, __ATOMIC_ACQUIRE);
    if (g & 1) {
      retries++;
      continue;
    }
    uint32_t n = __atomic_load_n(&c->n_deny_paths, __ATOMIC_RELAXED);
    uint32_t e = __atomic_load_n(&c->deny_errno, __ATOMIC_RELAXED);
    uint64_t h3 = __atomic_load_n(&c->deny_path_hash[2], __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&c->generation, __ATOMIC_RELAXED) != g) {
      retries++;
      continue;
    }
    reads++;
    bool is_a = n == 3 && e == EACCES && h3 != 0;
    bool is_b = n == 1 && e == EPERM && h3 == 0;
    torn += !(is_a || is_b);
  }
  pthread_join(t, NULL);
  munmap((void *) c, WARD_CTL_SIZE);
  ok(reads > 0 && torn == 0, "seqlock: %ld consistent reads, %ld torn, %ld retries under a concurrent writer", reads, torn, retries);
}

static void test_text(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_ctl_addr a;
  char buf[96];
  ok(ward_ctl_addr_parse("192.168.0.0/16:8080", &a, &err) == 0 && a.family == AF_INET && a.prefix == 16 && a.port == 8080
     && a.addr[0] == 192, "IPv4 prefix and port");
  is_str(ward_ctl_addr_format(&a, buf, sizeof(buf)), "192.168.0.0/16:8080", "formatted back");
  ok(ward_ctl_addr_parse("[2001:db8::/32]:443", &a, &err) == 0 && a.family == AF_INET6 && a.prefix == 32 && a.port == 443,
     "IPv6 in brackets with prefix and port");
  ok(ward_ctl_addr_parse("::1", &a, &err) == 0 && a.family == AF_INET6 && a.prefix == 128 && a.port == 0, "bare IPv6");
  ok(ward_ctl_addr_parse("*:53", &a, &err) == 0 && a.family == 0 && a.port == 53, "any address, one port");
  ok(ward_ctl_addr_parse("1.2.3.4:65536", &a, &err) < 0 && strstr(err->msg, "65536"), "port out of range named");
  ward_error_free(&err);
  ok(ward_ctl_addr_parse("host.example:80", &a, &err) < 0 && strstr(err->msg, "host.example"), "names refused (no DNS here)");
  ward_error_free(&err);
  is_int(ward_control_mode_parse("quarantine,no-loopback"), WARD_CTL_MODE_QUARANTINE | WARD_CTL_MODE_NO_LOOPBACK, "mode list");
  is_int(ward_control_mode_parse("none"), 0, "none");
  is_int(ward_control_mode_parse("protect,"), -1, "trailing comma refused");
  is_int(ward_control_mode_parse("sandbox"), -1, "unknown mode refused");
  is_str(ward_control_mode_format(WARD_CTL_MODE_RESTRICT | WARD_CTL_MODE_HONEYPOT, buf, sizeof(buf)), "restrict,honeypot",
         "mode formatted");
}

static void test_record_flags(void)
{
  uint8_t slot[512] = {0};
  struct ward_ring_prod p = {.slots = slot, .mask = 0, .slot_size = sizeof(slot)};
  struct ward_ring_hdr h = {0};
  p.hdr = &h;
  struct ward_rec_addr a = {.family = AF_INET, .port = 80, .addr = {10, 1, 2, 3}};
  struct ward_rec_in in = {.type = WARD_EV_CONNECT, .call = WARD_CALL_connect, .flags = WARD_REC_F_REDIRECT,
                           .pid = 7, .tid = 7, .ret = 0, .addr = &a,
                           .s2 = {.part = {"127.0.0.1:8082"}, .len = {14}}};
  ok(ward_ring_write(&p, &in) == 0, "record written");
  struct ward_event ev;
  ok(ward_rec_decode(slot, sizeof(slot), 0, &ev) == 0, "redirected record decodes");
  ok((ev.rec_flags & WARD_EVENT_F_REDIRECTED) && !ev.denied && strcmp(ev.path2, "127.0.0.1:8082") == 0 && ev.port == 80,
     "redirect flag and sink passed through");
  json_t *j = ward_event_to_json(&ev);
  ok(j && json_is_true(json_object_get(j, "redirected")) && strcmp(json_string_value(json_object_get(j, "redirect")), "127.0.0.1:8082") == 0
     && strcmp(json_string_value(json_object_get(j, "addr")), "10.1.2.3") == 0, "JSON: original addr, redirect, redirected");
  json_decref(j);
  memset(slot, 0, sizeof(slot));
  h.head = 0;
  struct ward_rec_in d = {.type = WARD_EV_OPEN, .call = WARD_CALL_open, .flags = WARD_REC_F_DENIED, .pid = 7, .tid = 7,
                          .ret = -EACCES, .s1 = {.part = {"/etc/shadow"}, .len = {11}}};
  ward_ring_write(&p, &d);
  ok(ward_rec_decode(slot, sizeof(slot), 0, &ev) == 0 && ev.denied && ev.ret == -EACCES, "denied record decodes with denied");
  j = ward_event_to_json(&ev);
  ok(j && json_is_true(json_object_get(j, "denied")) && strcmp(json_string_value(json_object_get(j, "errno")), "EACCES") == 0,
     "JSON: denied, EACCES");
  json_decref(j);
  memset(slot, 0, sizeof(slot));
  h.head = 0;
  struct ward_rec_in bad = {.type = WARD_EV_OPEN, .call = WARD_CALL_sendmsg + 1, .pid = 7, .tid = 7};
  ward_ring_write(&p, &bad);
  ok(ward_rec_decode(slot, sizeof(slot), 0, &ev) < 0, "a call number past sendmsg is still refused");
}

int main(void)
{
  if (!mkdtemp(dir))
    return 1;
  snprintf(path, sizeof(path), "%s/control", dir);
  _cleanup_error_ ward_error_t err = NULL;
  if (ward_control_create(path, 0, &err) < 0)
    return 1;
  test_norm();
  test_policy();
  test_modes();
  test_seqlock();
  test_text();
  test_record_flags();
  ward_remove_tree(dir, &err);
  return tap_done();
}
