/* Probe host side: names, ring write/decode, drops, bad records, recovery,
 * JSON, control page, image variant detection, prepare, symbolisation. */
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "probe/calls.h"
#include "probe/control.h"
#include "probe/event_json.h"
#include "probe/prepare.h"
#include "probe/ring.h"
#include "probe/symbolize.h"
#include "tap.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char tmpdir[] = "/tmp/ward-test-probe-XXXXXX";

static void test_names(void)
{
  is_str(ward_event_type_name(WARD_EV_OPEN), "open", "type name");
  is_str(ward_event_type_name(WARD_EV_CALL_TIME), "call_time", "perf type name");
  is_str(ward_event_type_name((enum ward_event_type) 999), "unknown", "bad type named unknown");
  is_int(ward_event_type_from_name("connect"), WARD_EV_CONNECT, "type from name");
  is_int(ward_event_group(WARD_EV_CONNECT), WARD_GROUP_NET, "connect is net");
  is_int(ward_event_group(WARD_EV_SYSCALL), WARD_GROUP_COUNT, "syscall has no probe group");
  is_int(ward_probe_groups_parse("exec,file"), 3, "group list parsed");
  is_int(ward_probe_groups_parse("all"), (1 << WARD_GROUP_COUNT) - 1, "all groups");
  is_int(ward_probe_groups_parse("exec,bogus"), -1, "unknown group refused");
  is_int(ward_probe_groups_parse(""), -1, "empty list refused");
  is_int(ward_probe_groups_parse("exec,"), -1, "trailing comma refused");
  is_int(ward_event_types_parse("exec,connect"), (1 << WARD_EV_EXEC) | (1 << WARD_EV_CONNECT), "stack types parsed");
  is_int(ward_event_types_parse("none"), 0, "no stack types");
  int64_t all = ward_event_types_parse("all");
  ok(all > 0 && (all & (1 << WARD_EV_DLOPEN)) && !(all & (1 << WARD_EV_CALL_TIME)) && !(all & (1ll << WARD_EV_SYSCALL))
     && !(all & 1), "all: every type a probe records, without call_time and syscall");
  is_int(ward_event_types_parse("syscall"), -1, "the supervisor's type has no probe stack");
  is_int(ward_event_types_parse("open,"), -1, "trailing comma refused");
  is_int(ward_event_types_parse("open,bogus"), -1, "unknown type refused");
  char tb[64];
  is_str(ward_event_types_format((1 << WARD_EV_EXEC) | (1 << WARD_EV_OPEN), tb, sizeof(tb)), "exec,open", "types named");
  is_str(ward_event_types_format(0, tb, sizeof(tb)), "none", "no types named none");
  is_str(ward_probe_call_name(WARD_CALL_openat), "openat", "call name");
  ok(ward_probe_call_name(WARD_CALL_COUNT) == NULL, "unknown call has no name");
}

static struct ward_ring *new_ring(size_t size, uint32_t slot)
{
  _cleanup_error_ ward_error_t err = NULL;
  int fd = -1;
  struct ward_ring *r = NULL;
  if (ward_ring_create_memfd(size, slot, &fd, &err) < 0 || ward_ring_open_fd(fd, 0, 0, &r, &err) < 0)
    tap_diag("ring: %s", err ? err->msg : "?");
  if (fd >= 0)
    close(fd);
  return r;
}

static int put(struct ward_ring *r, uint16_t type, const char *path, int64_t arg)
{
  struct ward_ring_prod p;
  ward_ring_producer(r, &p);
  struct ward_rec_in in = {.type = type, .call = WARD_CALL_open, .pid = 42, .tid = 43, .ts_ns = 7, .ret = 3,
                           .a_flags = O_RDONLY, .a_mode = 0644, .arg = arg};
  if (path) {
    in.s1.part[0] = path;
    in.s1.len[0] = strlen(path);
  }
  return ward_ring_write(&p, &in);
}

static void test_ring_basic(void)
{
  _cleanup_ring_ struct ward_ring *r = new_ring(8 * 512, 512);
  ok(r != NULL, "sealed memfd ring opens");
  if (!r)
    return;
  is_int(ward_ring_nslots(r), 8, "geometry: 8 slots");
  struct ward_event *ev = calloc(16, sizeof(*ev));
  is_int(ward_ring_consume(r, ev, 16), 0, "empty ring yields nothing");
  ok(put(r, WARD_EV_OPEN, "/etc/passwd", 0) == 0, "write");
  struct ward_ring_prod p;
  ward_ring_producer(r, &p);
  struct ward_rec_addr a = {.family = AF_INET, .port = 443, .addr = {10, 0, 0, 1}};
  uint64_t stack[2] = {0x1234, 0x5678};
  struct ward_rec_in in = {.type = WARD_EV_CONNECT, .call = WARD_CALL_connect, .pid = 1, .tid = 1, .ret = -111,
                           .addr = &a, .stack = stack, .nstack = 2};
  ok(ward_ring_write(&p, &in) == 0, "write with address and stack");
  size_t n = ward_ring_consume(r, ev, 16);
  is_int(n, 2, "two events");
  is_int(ev[0].type, WARD_EV_OPEN, "type");
  is_str(ev[0].path, "/etc/passwd", "path");
  is_int(ev[0].pid, 42, "pid");
  is_int(ev[0].ret, 3, "ret");
  is_int(ev[0].mode, 0644, "mode");
  is_int(ev[0].seq, 0, "first seq 0");
  is_int(ev[0].source, WARD_SRC_PROBE, "source probe");
  is_int(ev[1].seq, 1, "second seq 1");
  is_int(ev[1].family, AF_INET, "family");
  is_int(ev[1].port, 443, "port");
  is_int(ev[1].addr[3], 1, "address");
  is_int(ev[1].n_stack, 2, "stack depth");
  ok(ev[1].stack[1] == 0x5678, "stack word");
  /* json */
  _cleanup_json_ json_t *j = ward_event_to_json(&ev[1]);
  _cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  contains(s, "\"addr\":\"10.0.0.1\"", "json address");
  contains(s, "\"errno\":\"ECONNREFUSED\"", "json errno name");
  contains(s, "\"type\":\"connect\"", "json type");
  contains(s, "\"stack\":[\"0x1234\",\"0x5678\"]", "json stack");
  free(ev);
}

static void test_ring_full_and_trunc(void)
{
  _cleanup_ring_ struct ward_ring *r = new_ring(8 * 128, 128);
  if (!r)
    return;
  int dropped = 0;
  for (int i = 0; i < 18; i++)
    dropped += put(r, WARD_EV_OPEN, "/x", i) < 0;
  is_int(dropped, 10, "writes past capacity are dropped, never block");
  struct ward_event *ev = calloc(32, sizeof(*ev));
  size_t n = ward_ring_consume(r, ev, 32);
  is_int(n, 8, "the first 8 survive");
  bool mono = true;
  for (size_t i = 0; i < n; i++)
    mono &= ev[i].seq == i && ev[i].arg == (int64_t) i;
  ok(mono, "sequence numbers monotone, oldest kept");
  struct ward_ring_stats st;
  ward_ring_get_stats(r, &st);
  is_int(st.drops, 10, "drops counted");
  /* long path cut to the slot */
  char big[1000];
  memset(big, 'a', sizeof(big) - 1);
  big[0] = '/';
  big[sizeof(big) - 1] = 0;
  ok(put(r, WARD_EV_OPEN, big, 0) == 0, "long path written");
  n = ward_ring_consume(r, ev, 32);
  is_int(n, 1, "long path decoded");
  ok(n == 1 && strlen(ev[0].path) == 128 - 64 && (ev[0].rec_flags & WARD_EVENT_F_TRUNC1), "cut to fit and flagged");
  free(ev);
}

static void test_ring_hostile(void)
{
  _cleanup_ring_ struct ward_ring *r = new_ring(8 * 256, 256);
  if (!r)
    return;
  size_t len;
  uint8_t *m = ward_ring_map(r, &len);
  struct ward_ring_hdr *h = (struct ward_ring_hdr *) m;
  struct ward_event *ev = calloc(32, sizeof(*ev));
  struct ward_ring_stats st;
  /* a committed record with a bad type is skipped, the next one decodes */
  put(r, WARD_EV_OPEN, "/a", 0);
  put(r, WARD_EV_OPEN, "/b", 1);
  ((struct ward_rec *) (m + 4096))->type = 999;
  size_t n = ward_ring_consume(r, ev, 32);
  ward_ring_get_stats(r, &st);
  ok(n == 1 && strcmp(ev[0].path, "/b") == 0, "bad record skipped, next decoded");
  is_int(st.bad, 1, "bad record counted");
  /* length lies, embedded NUL, unknown flags, supervisor type */
  put(r, WARD_EV_OPEN, "/c", 0);
  put(r, WARD_EV_OPEN, "/dd", 0);
  put(r, WARD_EV_OPEN, "/e", 0);
  put(r, WARD_EV_OPEN, "/f", 0);
  ((struct ward_rec *) (m + 4096 + 2 * 256))->len = 255;
  ((char *) (m + 4096 + 3 * 256 + 64))[1] = 0;
  ((struct ward_rec *) (m + 4096 + 4 * 256))->flags = 0x0800;
  ((struct ward_rec *) (m + 4096 + 5 * 256))->type = WARD_EV_SYSCALL;
  n = ward_ring_consume(r, ev, 32);
  ward_ring_get_stats(r, &st);
  is_int(n, 0, "four malformed records rejected");
  is_int(st.bad, 5, "all counted");
  /* garbage commit words and a wild head: skipped, head repaired, ring usable */
  for (int i = 0; i < 8; i++)
    ((struct ward_rec *) (m + 4096 + i * 256))->commit = 0xdeadbeefull * (i + 1);
  h->head = 1ull << 60;
  h->drops = 5;
  n = ward_ring_consume(r, ev, 32);
  ward_ring_get_stats(r, &st);
  is_int(n, 0, "nothing decoded from garbage");
  is_int(st.bad, 5 + 8, "garbage slots counted");
  ok(st.repairs >= 1, "wild head repaired");
  n = ward_ring_consume(r, ev, 32);
  ok(put(r, WARD_EV_OPEN, "/after", 0) == 0, "producer claims again after repair");
  n = ward_ring_consume(r, ev, 32);
  ok(n == 1 && strcmp(ev[0].path, "/after") == 0, "and the consumer decodes it");
  /* a producer that dies between claim and publish: skipped after the stall timeout */
  struct ward_ring_prod p;
  ward_ring_producer(r, &p);
  uint64_t t;
  ok(ward_ring_claim(&p, &t) != NULL, "claim without publish");
  put(r, WARD_EV_OPEN, "/behind", 0);
  ward_ring_set_stall_timeout(r, 1000000);
  n = ward_ring_consume(r, ev, 32);
  is_int(n, 0, "stalled slot blocks in order at first");
  usleep(3000);
  n = ward_ring_consume(r, ev, 32);
  ward_ring_get_stats(r, &st);
  ok(n == 1 && strcmp(ev[0].path, "/behind") == 0, "after the timeout the next record flows");
  is_int(st.lost, 1, "the stalled slot counted as lost");
  /* drop counter reset by the workload: counted afresh, never negative */
  uint64_t before = st.drops;
  h->drops = 2;
  ward_ring_get_stats(r, &st);
  ok(st.drops >= before, "drop count never goes backwards");
  free(ev);
}

static void test_ring_open_checks(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  char path[128];
  snprintf(path, sizeof(path), "%s/ring", tmpdir);
  ok(ward_ring_create_file(path, 0, 0, NULL, &err) == 0, "file ring created");
  struct stat st;
  ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0666 && st.st_size == 4096 + 8192 * 512,
     "default size 4 MiB of 512-byte slots + header, mode 0666");
  struct ward_ring *r = NULL;
  ok(ward_ring_open(path, 0, &r, &err) < 0, "unsealed ring refused by default");
  contains(err ? err->msg : NULL, "not sealed", "error says why");
  ok(ward_ring_open(path, WARD_RING_ALLOW_UNSEALED, &r, &err) == 0, "unsealed ring allowed on request");
  ward_ring_close(r);
  int fd = -1;
  ok(ward_ring_create_memfd(0, 0, &fd, &err) == 0, "memfd ring");
  ok(ftruncate(fd, 4096) < 0 && errno == EPERM, "sealed ring cannot shrink");
  /* a foreign header is refused */
  uint32_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  m[0] = 0x41414141;
  r = NULL;
  ok(ward_ring_open_fd(fd, 0, 0, &r, &err) < 0, "bad magic refused");
  munmap(m, 4096);
  close(fd);
  ok(ward_ring_create_memfd(600, 0, &fd, &err) < 0, "too small refused");
  ok(ward_ring_create_memfd(0, 100, &fd, &err) < 0, "slot size not a power of two refused");
  int lfd1 = -1, lfd2 = -1;
  snprintf(path, sizeof(path), "%s/ring.lock", tmpdir);
  ok(ward_ring_lock_consumer(path, &lfd1, &err) == 0, "consumer lock taken");
  ok(ward_ring_lock_consumer(path, &lfd2, &err) < 0, "second consumer refused");
  close(lfd1);
}

static void test_json_bytes(void)
{
  struct ward_event *ev = calloc(1, sizeof(*ev));
  ev->type = WARD_EV_OPEN;
  ev->source = WARD_SRC_PROBE;
  ev->pid = ev->tid = 1;
  strcpy(ev->path, "/tmp/\xff\x01x");
  ev->call = WARD_CALL_openat;
  _cleanup_json_ json_t *j = ward_event_to_json(ev);
  _cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
  contains(s, "\"path\":\"/tmp/\\\\xff\\\\x01x\"", "invalid UTF-8 escaped, not dropped");
  contains(s, "\"call\":\"openat\"", "call named");
  contains(s, "\"group\":\"file\"", "group named");
  ok(s && !strstr(s, "\"addr\""), "no address for a file event");
  free(ev);
}

static void test_control(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  char path[128];
  snprintf(path, sizeof(path), "%s/control", tmpdir);
  ok(ward_control_create(path, 1 << WARD_GROUP_EXEC, &err) == 0, "control created");
  ok(ward_control_create(path, 0, &err) < 0, "never recreated over a live page");
  uint32_t now = 0;
  ok(ward_probe_set_groups(path, (1 << WARD_GROUP_NET) | (1 << WARD_GROUP_FILE), true, &now, &err) == 0, "groups on");
  is_int(now, 7, "exec|file|net");
  ok(ward_probe_set_groups(path, 1 << WARD_GROUP_EXEC, false, &now, &err) == 0, "group off");
  is_int(now, 6, "file|net");
  ok(ward_probe_set_stacks(path, 1ull << WARD_EV_EXEC, 4, &err) == 0, "stacks set");
  ok(ward_probe_set_stacks(path, 1, 99, &err) < 0, "silly depth refused");
  struct ward_control c;
  ok(ward_control_read(path, &c, &err) == 0 && c.groups == 6 && c.stack_depth == 4 && (c.generation & 1) == 0
     && c.generation > 2, "page read back, generation even and bumped");
  struct stat st;
  ok(stat(path, &st) == 0 && st.st_size == 4096 && (st.st_mode & 0777) == 0644, "one page, world-readable");
  snprintf(path, sizeof(path), "%s/nocontrol", tmpdir);
  ok(ward_probe_set_groups(path, 1, true, NULL, &err) < 0, "missing control page is an error");
}

static void mkfile(const char *path)
{
  int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
  if (fd >= 0)
    close(fd);
}

/* ROOT/REL as an empty file, with the directories on the way. */
static void put_in_root(const char *root, const char *rel)
{
  char p[512];
  mkdir(root, 0755);
  snprintf(p, sizeof(p), "%s/%s", root, rel);
  for (char *slash = p + strlen(root); (slash = strchr(slash + 1, '/')) != NULL;) {
    *slash = 0;
    mkdir(p, 0755);
    *slash = '/';
  }
  mkfile(p);
}

static void test_variant(void)
{
  char root[256], p[512];
  snprintf(root, sizeof(root), "%s/rootfs-musl", tmpdir);
  mkdir(root, 0755);
  snprintf(p, sizeof(p), "%s/lib", root);
  mkdir(p, 0755);
  snprintf(p, sizeof(p), "%s/lib/ld-musl-x86_64.so.1", root);
  mkfile(p);
  is_int(ward_probe_variant_for_rootfs(root), WARD_PROBE_MUSL, "musl loader detected");
  snprintf(root, sizeof(root), "%s/rootfs-glibc", tmpdir);
  mkdir(root, 0755);
  snprintf(p, sizeof(p), "%s/usr", root);
  mkdir(p, 0755);
  snprintf(p, sizeof(p), "%s/usr/lib64", root);
  mkdir(p, 0755);
  snprintf(p, sizeof(p), "%s/usr/lib64/ld-linux-x86-64.so.2", root);
  mkfile(p);
  snprintf(p, sizeof(p), "%s/lib64", root);
  ok(symlink("usr/lib64", p) == 0, "usrmerge symlink");
  is_int(ward_probe_variant_for_rootfs(root), WARD_PROBE_GLIBC, "glibc loader detected through usrmerge");
  snprintf(root, sizeof(root), "%s/rootfs-escape", tmpdir);
  mkdir(root, 0755);
  snprintf(p, sizeof(p), "%s/lib", root);
  ok(symlink("/lib", p) == 0, "absolute symlink out of the rootfs");
  is_int(ward_probe_variant_for_rootfs(root), WARD_PROBE_NONE, "the host's /lib is not consulted");
  snprintf(p, sizeof(p), "%s/lib64", root);
  ok(symlink("/lib64", p) == 0, "absolute lib64 symlink");
  is_int(ward_probe_variant_for_rootfs(root), WARD_PROBE_NONE, "the host's /lib64 loader is not seen either");
  /* both loaders by their usual names: musl wins, as in a full scan */
  snprintf(root, sizeof(root), "%s/rootfs-both", tmpdir);
  put_in_root(root, "lib64/ld-linux-x86-64.so.2");
  put_in_root(root, "usr/lib/ld-musl-x86_64.so.1");
  is_int(ward_probe_variant_for_rootfs(root), WARD_PROBE_MUSL, "musl in usr/lib beside glibc in lib64");
  /* a loader by another name (32-bit glibc): found by listing */
  snprintf(root, sizeof(root), "%s/rootfs-other", tmpdir);
  put_in_root(root, "lib/ld-linux.so.2");
  is_int(ward_probe_variant_for_rootfs(root), WARD_PROBE_GLIBC, "a loader under another name is found by listing");
}

static void test_prepare(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  char root[256], state[256];
  snprintf(root, sizeof(root), "%s/rootfs-glibc", tmpdir);
  snprintf(state, sizeof(state), "%s/state", tmpdir);
  mkdir(state, 0700);
  const char *so = getenv("WARD_TEST_PROBE_SO");
  if (so == NULL || !*so) {
    ok(1, "# SKIP prepare: WARD_TEST_PROBE_SO unset");
    return;
  }
  setenv("WARD_PROBE_LIB", so, 1);
  struct ward_probe_setup s;
  struct ward_probe_opts o = {.groups = 1};
  ok(ward_probe_prepare(state, root, &o, &s, &err) == 0, "prepare");
  if (err)
    tap_diag("%s", err->msg);
  is_int(s.variant, WARD_PROBE_GLIBC, "variant");
  is_int(s.n_mounts, 5, "ring, control, library, decoys, ld.so.preload");
  ok(s.ring_fd >= 0 && (fcntl(s.ring_fd, F_GET_SEALS) & F_SEAL_SHRINK), "ring is a sealed memfd");
  is_str(s.n_mounts == 5 ? s.mounts[4].target : NULL, "/etc/ld.so.preload", "preload file target");
  is_str(s.n_mounts == 5 ? s.mounts[3].target : NULL, "/run/ward-probe/decoys", "decoys directory target");
  ok(s.n_mounts == 5 && s.mounts[1].readonly && !s.mounts[0].readonly && !s.mounts[2].noexec && s.mounts[3].readonly
     && s.mounts[3].noexec, "mount flags");
  _cleanup_free_ char *pre = NULL;
  ok(s.preload && ward_read_file(s.preload, 0, &pre, NULL, &err) == 0, "preload file written");
  is_str(pre, "/run/ward-probe/libward-probe.so\n", "preload names the mounted library");
  ok(s.env == NULL, "no LD_PRELOAD for glibc");
  ward_probe_setup_free(&s);
  struct ward_probe_opts off = {.disabled = true};
  ok(ward_probe_prepare(state, root, &off, &s, &err) == 0 && s.n_mounts == 0 && s.ring_fd == -1, "opt-out prepares nothing");
}

static __attribute__((noinline)) uint64_t return_address(void)
{
  return (uint64_t) (uintptr_t) __builtin_return_address(0);
}

static void test_symbolize(void)
{
  char buf[256];
  ward_symbolize(getpid(), return_address(), buf, sizeof(buf));
  contains(buf, "test-probe!test_symbolize+0x", "own return address symbolised from .symtab");
  ward_symbolize(getpid(), (uint64_t) (uintptr_t) &getppid, buf, sizeof(buf));
  contains(buf, "libc.so.6!", "libc address names libc");
  ward_symbolize(getpid(), 8, buf, sizeof(buf));
  is_str(buf, "0x8", "unmapped address stays numeric");
  /* a whole stack at once: two frames in this file, one in libc, one
   * unmapped, in their order (and a file's frames from one open) */
  uint64_t st[4] = {return_address(), 8, (uint64_t) (uintptr_t) &getppid, return_address() + 1};
  char names[4][256];
  ward_symbolize_stack(getpid(), st, 4, &names[0][0], sizeof(names[0]));
  contains(names[0], "test-probe!test_symbolize+0x", "stack: frame 0 named");
  is_str(names[1], "0x8", "stack: the unmapped frame stays numeric");
  contains(names[2], "libc.so.6!", "stack: the libc frame names libc");
  contains(names[3], "test-probe!test_symbolize+0x", "stack: frame 3, same file, named");
  ok(strcmp(names[0], names[3]) != 0, "stack: each frame its own offset");
}

/* A record's pid is the one its process sees: mapped back through the
 * container init's pid namespace. */
static void test_host_pid(void)
{
  is_int(ward_host_pid_in_ns(getpid(), getpid(), 0), getpid(), "same namespace: the same pid");
  is_int(ward_host_pid_in_ns(getpid(), 0x3ffffff0, 0), 0, "no such process: 0");
  /* a helper makes the namespace (its later children are in it, not ours):
   * init (pid 1) and a second process (pid 2) wait on the go pipe */
  int go[2], rep[2];
  if (pipe2(go, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) {
    ok(0, "pipes");
    return;
  }
  pid_t helper = fork();
  if (helper == 0) {
    close(go[1]);
    close(rep[0]);
    if (unshare(CLONE_NEWPID) < 0)
      _exit(1);
    pid_t init = fork();
    if (init == 0) {
      pid_t two = fork();
      char c;
      if (two == 0)
        _exit(read(go[0], &c, 1) < 0);
      _exit(read(go[0], &c, 1) < 0 || waitpid(two, NULL, 0) != two);
    }
    _exit(init < 0 || write(rep[1], &init, sizeof(init)) != sizeof(init) || waitpid(init, NULL, 0) != init);
  }
  close(go[0]);
  close(rep[1]);
  pid_t init = 0;
  ok(read(rep[0], &init, sizeof(init)) == sizeof(init) && init > 0, "a pid namespace");
  close(rep[0]);
  pid_t two = 0;
  for (int i = 0; init > 0 && i < 200 && two == 0; i++) {
    two = ward_host_pid_in_ns(init, 2, 0);
    if (two == 0)
      usleep(10000);
  }
  is_int(ward_host_pid_in_ns(init, 1, 0), init, "pid 1 of the namespace is the init");
  ok(two > 0 && two != 2 && two != init, "pid 2 found by scanning /proc (host pid %d)", (int) two);
  is_int(ward_host_pid_in_ns(init, 2, two), two, "the remembered answer is checked and kept");
  close(go[1]);
  int st = -1;
  ok(waitpid(helper, &st, 0) == helper && WIFEXITED(st) && WEXITSTATUS(st) == 0, "namespace processes done");
}

int main(void)
{
  if (!mkdtemp(tmpdir))
    return 1;
  test_names();
  test_ring_basic();
  test_ring_full_and_trunc();
  test_ring_hostile();
  test_ring_open_checks();
  test_json_bytes();
  test_control();
  test_variant();
  test_prepare();
  test_symbolize();
  test_host_pid();
  _cleanup_error_ ward_error_t err = NULL;
  ward_remove_tree(tmpdir, &err);
  return tap_done();
}
