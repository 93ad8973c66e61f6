/* Seccomp: parsing (errors name the field), Docker resolution, the default
 * profile's shape, containers-common's profile and the BPF cache. The
 * enforcement tests (filters really deny and allow) are in
 * test_seccomp_enforce.c, the command in test_seccomp_cli.c. */
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "seccomp/seccomp.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/capability.h>

void test_seccomp_enforce(void);
void test_seccomp_cli(const char *data_dir);

#define CONTAINERS_COMMON "/usr/share/containers/seccomp.json"

static char data_dir[4096];

static int parse_oci_text(const char *text, struct ward_seccomp **s, ward_error_t *err)
{
  _cleanup_json_ json_t *doc = NULL;
  if (wj_load_buffer("test", text, strlen(text), &doc, err) < 0)
    return -1;
  return ward_seccomp_parse_oci(doc, "linux.seccomp", s, err);
}

/* Expect the OCI section to be refused with a message containing `want`. */
static void oci_error(const char *text, const char *want, const char *what)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_seccomp *s = NULL;
  int rc = parse_oci_text(text, &s, &err);
  ok(rc < 0 && s == NULL, "refused: %s", what);
  contains(err ? err->msg : NULL, want, "error names the field: %s", what);
  ward_seccomp_free(s);
}

static void docker_error(const char *text, const char *want, const char *what)
{
  _cleanup_error_ ward_error_t err = NULL;
  _cleanup_json_ json_t *doc = NULL;
  struct ward_seccomp *s = NULL;
  int rc = wj_load_buffer("t", text, strlen(text), &doc, &err);
  if (rc == 0)
    rc = ward_seccomp_parse_docker(doc, "", NULL, &s, &err);
  ok(rc < 0 && s == NULL, "refused: %s", what);
  contains(err ? err->msg : NULL, want, "error names the field: %s", what);
  ward_seccomp_free(s);
}

static void test_parse_errors(void)
{
  oci_error("[]", "linux.seccomp: expected an object", "not an object");
  oci_error("{}", "linux.seccomp.defaultAction: required field is missing", "no defaultAction");
  oci_error("{\"defaultAction\":\"SCMP_ACT_FOO\"}",
            "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\"", "unknown default action");
  oci_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
            "{\"names\":[\"read\",\"foo\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
            "linux.seccomp.syscalls[1].names[1]: unknown system call \"foo\"", "unknown syscall");
  oci_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_Z80\"]}",
            "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\"", "unknown architecture");
  oci_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALOW\"}]}",
            "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_ALOW\"", "unknown action");
  oci_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
            "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_ROUGHLY\"}]}]}",
            "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_ROUGHLY\"", "bad operator");
  oci_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
            "\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
            "linux.seccomp.syscalls[0].args[0].index: 6 is out of range", "argument index 6");
  oci_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
            "\"errnoRet\":5000}]}", "linux.seccomp.syscalls[0].errnoRet: 5000 is out of range", "errno too big");
  oci_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"flags\":[\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"]}",
            "linux.seccomp.flags[0]: unknown or unsupported flag", "flag ward sets itself");
  oci_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_ALLOW\"}]}",
            "linux.seccomp.syscalls[0].names: at least one", "empty names");
  oci_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
            "\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}}]}",
            "linux.seccomp.syscalls[0].includes: a Docker profile field", "Docker conditions in the OCI form");
  oci_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
            "\"errnoRet\":1}]}", "errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE", "errnoRet on allow");
  docker_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
               "\"errno\":\"EWHATEVER\"}]}", "syscalls[0].errno: unknown errno name \"EWHATEVER\"", "errno name unknown");
  docker_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrno\":\"ENOPE\"}",
               "defaultErrno: unknown errno name \"ENOPE\"", "defaultErrno name unknown");
  docker_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
               "\"errno\":\"EPERM\",\"errnoRet\":2}]}", "syscalls[0].errno: \"EPERM\" (1) contradicts errnoRet 2",
               "errno and errnoRet disagree");
  docker_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
               "\"includes\":{\"caps\":[\"CAP_SYS_WIZARD\"]}}]}",
               "syscalls[0].includes.caps[0]: unknown capability \"CAP_SYS_WIZARD\"", "unknown capability");
  docker_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
               "\"includes\":{\"arches\":[\"vax\"]}}]}", "syscalls[0].includes.arches[0]: unknown architecture \"vax\"",
               "unknown Docker arch");
  docker_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"archMap\":[{\"architecture\":\"SCMP_ARCH_PDP11\"}]}",
               "archMap[0].architecture: unknown architecture \"SCMP_ARCH_PDP11\"", "unknown archMap arch");
  /* An entry for another machine is checked even though it is dropped. */
  docker_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"bogus_call\"],\"action\":\"SCMP_ACT_ALLOW\","
               "\"includes\":{\"arches\":[\"s390x\"]}}]}", "syscalls[0].names[0]: unknown system call \"bogus_call\"",
               "mistake in an entry that does not apply");

  /* a malformed file names file, line and column */
  char path[] = "/tmp/ward-seccomp-bad-XXXXXX";
  int fd = mkstemp(path);
  ok(fd >= 0 && write(fd, "{\n \"defaultAction\": ,\n}", 23) == 23, "wrote a malformed profile");
  close(fd);
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_seccomp *s = NULL;
  ok(ward_seccomp_read_file(path, NULL, &s, &err) < 0, "malformed JSON refused");
  char want[128];
  snprintf(want, sizeof(want), "%s:2:", path);
  contains(err ? err->msg : NULL, want, "malformed JSON: error names file and line");
  unlink(path);

  /* A file's field errors name the file, then the field. */
  char path2[] = "/tmp/ward-seccomp-bad-XXXXXX";
  fd = mkstemp(path2);
  const char *bad = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                    "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                    "{\"names\":[\"write\",\"foo\"],\"action\":\"SCMP_ACT_ALLOW\"}]}";
  ok(fd >= 0 && write(fd, bad, strlen(bad)) == (ssize_t) strlen(bad), "wrote a profile with an unknown syscall");
  close(fd);
  ok(ward_seccomp_read_file(path2, NULL, &s, &err) < 0, "unknown syscall in a file refused");
  snprintf(want, sizeof(want), "%s: syscalls[3].names[1]: unknown system call \"foo\"", path2);
  is_str(err ? err->msg : NULL, want, "message is file: field: problem");
  unlink(path2);
}

/* The rule of `oci` for `name` with action `action`, or NULL. */
static json_t *find_rule(json_t *oci, const char *name, const char *action)
{
  json_t *rules = json_object_get(oci, "syscalls");
  size_t i, j;
  json_t *r, *n;
  json_array_foreach(rules, i, r) {
    if (action && strcmp(json_string_value(json_object_get(r, "action")), action) != 0)
      continue;
    json_array_foreach(json_object_get(r, "names"), j, n)
      if (strcmp(json_string_value(n), name) == 0)
        return r;
  }
  return NULL;
}

static json_t *resolve_file(const char *file, uint64_t caps, uint32_t arch, unsigned kmaj, unsigned kmin)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_seccomp_target t = {.caps = caps, .arch = arch, .kernel_major = kmaj, .kernel_minor = kmin};
  struct ward_seccomp *s = NULL;
  json_t *oci = NULL;
  if (ward_seccomp_read_file(file, &t, &s, &err) < 0 || ward_seccomp_to_oci(s, &oci, &err) < 0)
    tap_diag("%s", err ? err->msg : "?");
  ward_seccomp_free(s);
  return oci;
}

static void test_unknown_on_this_arch(void)
{
  /* _llseek exists on x86 only: accepted, and skipped when compiling here */
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_seccomp *s = NULL;
  ok(parse_oci_text("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"_llseek\",\"breakpoint\"],"
                    "\"action\":\"SCMP_ACT_ERRNO\"}]}", &s, &err) == 0,
     "a syscall of other architectures is not an error");
  struct ward_seccomp_prog *p = NULL;
  ok(s && ward_seccomp_compile(s, NULL, &p, &err) == 0, "and it compiles (the rule is skipped here)");
  ward_seccomp_prog_free(p);
  ward_seccomp_free(s);

  /* mseal is newer than this libseccomp: known to ward, so not an error;
   * a single-arch filter names it by number, a multi-arch one leaves it to
   * the default action */
  static const char *const newer[] = {
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mseal\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],"
    "\"syscalls\":[{\"names\":[\"mseal\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
  };
  size_t n[2] = {0, 0};
  for (size_t i = 0; i < 2; i++) {
    s = NULL;
    p = NULL;
    ok(parse_oci_text(newer[i], &s, &err) == 0 && ward_seccomp_compile(s, NULL, &p, &err) == 0,
       "a syscall newer than libseccomp parses and compiles (%s)", i ? "multi-arch" : "single arch");
    if (p)
      ward_seccomp_prog_insns(p, &n[i]);
    ward_seccomp_prog_free(p);
    ward_seccomp_free(s);
  }
  ok(n[0] > 4, "single-arch filter carries a rule for it (%zu instructions)", n[0]);
}

static void test_docker_conditions(void)
{
  char file[4200];
  snprintf(file, sizeof(file), "%s/docker-conditional.json", data_dir);
  json_t *amd = resolve_file(file, 0, SCMP_ARCH_X86_64, 6, 1);
  ok(amd != NULL, "Docker profile resolves for amd64 without capabilities");
  ok(find_rule(amd, "read", "SCMP_ACT_ALLOW") != NULL, "unconditional entry kept");
  ok(find_rule(amd, "mount", "SCMP_ACT_ALLOW") == NULL, "includes.caps: mount not allowed without CAP_SYS_ADMIN");
  json_t *m = find_rule(amd, "mount", "SCMP_ACT_ERRNO");
  ok(m && json_integer_value(json_object_get(m, "errnoRet")) == EACCES, "excludes.caps: errno name resolved to EACCES");
  ok(find_rule(amd, "arch_prctl", NULL) != NULL, "includes.arches amd64 applies on amd64");
  ok(find_rule(amd, "breakpoint", NULL) == NULL, "includes.arches arm does not apply on amd64");
  ok(find_rule(amd, "kcmp", NULL) == NULL, "excludes.arches amd64 drops the entry on amd64");
  ok(find_rule(amd, "ptrace", NULL) != NULL, "minKernel 4.8 applies on 6.1");
  ok(find_rule(amd, "getpid", NULL) != NULL, "old single \"name\" entries read");
  json_t *arches = json_object_get(amd, "architectures");
  ok(json_array_size(arches) == 2 && strcmp(json_string_value(json_array_get(arches, 1)), "SCMP_ARCH_X86") == 0,
     "archMap picks x86_64 and its sub-architecture");
  is_int(json_integer_value(json_object_get(amd, "defaultErrnoRet")), EPERM, "defaultErrno name resolved");
  json_decref(amd);

  json_t *arm = resolve_file(file, 1ULL << CAP_SYS_ADMIN, SCMP_ARCH_AARCH64, 4, 4);
  ok(arm != NULL, "Docker profile resolves for arm64 with CAP_SYS_ADMIN on 4.4");
  ok(find_rule(arm, "mount", "SCMP_ACT_ALLOW") != NULL, "includes.caps: mount allowed with CAP_SYS_ADMIN");
  ok(find_rule(arm, "mount", "SCMP_ACT_ERRNO") == NULL, "excludes.caps: the errno entry is dropped");
  ok(find_rule(arm, "breakpoint", NULL) != NULL && find_rule(arm, "arch_prctl", NULL) == NULL,
     "arch entries follow the target");
  ok(find_rule(arm, "kcmp", NULL) != NULL, "excludes.arches amd64 keeps the entry on arm64");
  ok(find_rule(arm, "ptrace", NULL) == NULL, "minKernel 4.8 does not apply on 4.4");
  arches = json_object_get(arm, "architectures");
  ok(json_array_size(arches) == 2 && strcmp(json_string_value(json_array_get(arches, 0)), "SCMP_ARCH_AARCH64") == 0,
     "archMap picks aarch64");
  json_decref(arm);
}

static void test_default_shape(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_seccomp *s = NULL;
  json_t *oci = NULL;
  ok(ward_seccomp_default(ward_seccomp_docker_default_caps(), &s, &err) == 0 && ward_seccomp_to_oci(s, &oci, &err) == 0,
     "default resolves for Docker's capabilities");
  is_str(json_string_value(json_object_get(oci, "defaultAction")), "SCMP_ACT_ERRNO", "default denies");
  is_int(json_integer_value(json_object_get(oci, "defaultErrnoRet")), EPERM, "with EPERM");
  static const char *const blocked[] = {"keyctl", "add_key", "request_key", "bpf", "perf_event_open", "kexec_load",
                                        "kexec_file_load", "open_by_handle_at", "init_module", "finit_module",
                                        "delete_module", "mount", "umount2", "unshare", "setns", "userfaultfd",
                                        "clock_settime", "reboot", "swapon", "swapoff", "io_uring_setup",
                                        "io_uring_enter", "io_uring_register"};
  int allowed = 0;
  for (size_t i = 0; i < ARRAY_SIZE(blocked); i++)
    if (find_rule(oci, blocked[i], "SCMP_ACT_ALLOW")) {
      tap_diag("allowed: %s", blocked[i]);
      allowed++;
    }
  is_int(allowed, 0, "none of Docker's blocked syscalls is allowed");
  json_t *clone = find_rule(oci, "clone", "SCMP_ACT_ALLOW");
  json_t *arg = json_array_get(json_object_get(clone, "args"), 0);
  ok(arg && json_integer_value(json_object_get(arg, "value")) == 0x7E020000 &&
     strcmp(json_string_value(json_object_get(arg, "op")), "SCMP_CMP_MASKED_EQ") == 0,
     "clone allowed only without namespace flags");
  json_t *c3 = find_rule(oci, "clone3", "SCMP_ACT_ERRNO");
  ok(c3 && json_integer_value(json_object_get(c3, "errnoRet")) == ENOSYS, "clone3 gets ENOSYS");
  ok(find_rule(oci, "getpid", "SCMP_ACT_ALLOW") && find_rule(oci, "chroot", "SCMP_ACT_ALLOW"),
     "ordinary calls and CAP_SYS_CHROOT's chroot allowed");

  /* the OCI form reads back to the same profile (same cache key) */
  _cleanup_free_ char *text = json_dumps(oci, JSON_COMPACT);
  struct ward_seccomp *back = NULL;
  char k1[65] = "", k2[65] = "";
  ok(parse_oci_text(text, &back, &err) == 0, "default's OCI form parses as OCI");
  ok(back && ward_seccomp_cache_key(s, k1, &err) == 0 && ward_seccomp_cache_key(back, k2, &err) == 0 &&
     strcmp(k1, k2) == 0, "round trip keeps the cache key");
  ward_seccomp_free(back);
  ward_seccomp_free(s);
  json_decref(oci);

  ok(ward_seccomp_default(1ULL << CAP_SYS_ADMIN, &s, &err) == 0 && ward_seccomp_to_oci(s, &oci, &err) == 0,
     "default resolves with CAP_SYS_ADMIN");
  ok(find_rule(oci, "unshare", "SCMP_ACT_ALLOW") && find_rule(oci, "mount", "SCMP_ACT_ALLOW") &&
     find_rule(oci, "setns", "SCMP_ACT_ALLOW"), "CAP_SYS_ADMIN opens mount, unshare, setns");
  ok(find_rule(oci, "clone3", "SCMP_ACT_ERRNO") == NULL && find_rule(oci, "chroot", NULL) == NULL,
     "and drops the clone3 errno rule; chroot needs CAP_SYS_CHROOT");
  ward_seccomp_free(s);
  json_decref(oci);

  struct ward_seccomp_target t = {.arch = SCMP_ARCH_AARCH64, .kernel_major = 4, .kernel_minor = 4};
  ok(ward_seccomp_default_for(&t, &s, &err) == 0 && ward_seccomp_to_oci(s, &oci, &err) == 0, "default for arm64 on 4.4");
  ok(find_rule(oci, "breakpoint", NULL) && !find_rule(oci, "arch_prctl", NULL) && !find_rule(oci, "ptrace", NULL),
     "arm64 groups in, amd64 groups out, no ptrace before 4.8");
  ward_seccomp_free(s);
  json_decref(oci);
}

static void test_containers_common(void)
{
  if (access(CONTAINERS_COMMON, R_OK) != 0) {
    ok(true, "# SKIP %s not installed", CONTAINERS_COMMON);
    return;
  }
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_seccomp *s = NULL;
  ok(ward_seccomp_read_file(CONTAINERS_COMMON, NULL, &s, &err) == 0, "containers-common profile loads");
  if (err)
    tap_diag("%s", err->msg);
  struct ward_seccomp_prog *p = NULL;
  size_t n = 0;
  bool compiled = s && ward_seccomp_compile(s, NULL, &p, &err) == 0 && ward_seccomp_prog_insns(p, &n) && n > 100;
  ok(compiled, "and compiles (%zu instructions)", n);
  json_t *oci = NULL;
  ok(s && ward_seccomp_to_oci(s, &oci, &err) == 0, "converts to the OCI form");
  is_int(json_integer_value(json_object_get(oci, "defaultErrnoRet")), ENOSYS, "string defaultErrno ENOSYS read");
  json_t *k = find_rule(oci, "kexec_load", "SCMP_ACT_ERRNO");
  ok(k && json_integer_value(json_object_get(k, "errnoRet")) == EPERM, "string errno EPERM read");
  _cleanup_free_ char *text = json_dumps(oci, JSON_COMPACT);
  struct ward_seccomp *back = NULL;
  ok(parse_oci_text(text, &back, &err) == 0, "its OCI form reads back as OCI");
  ward_seccomp_free(back);
  json_decref(oci);
  ward_seccomp_prog_free(p);
  ward_seccomp_free(s);
}

static bool same_prog(const struct ward_seccomp_prog *a, const struct ward_seccomp_prog *b)
{
  size_t na, nb;
  const void *ia = ward_seccomp_prog_insns(a, &na), *ib = ward_seccomp_prog_insns(b, &nb);
  return na == nb && memcmp(ia, ib, na * 8) == 0;
}

static void test_cache(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  char dir[] = "/tmp/ward-seccomp-cache-XXXXXX";
  ok(mkdtemp(dir) != NULL, "cache directory");
  char cache[64];
  snprintf(cache, sizeof(cache), "%s/sub", dir);  /* compile creates it */
  struct ward_seccomp *s = NULL;
  ok(ward_seccomp_default(0, &s, &err) == 0, "default profile");
  struct ward_seccomp_prog *first = NULL, *again = NULL, *fixed = NULL, *nocache = NULL;
  ok(ward_seccomp_compile(s, cache, &first, &err) == 0 && !ward_seccomp_prog_from_cache(first), "first compile builds");
  ok(ward_seccomp_compile(s, NULL, &nocache, &err) == 0 && same_prog(first, nocache), "same program without the cache");
  char file[256];
  snprintf(file, sizeof(file), "%s/%s.bpf", cache, ward_seccomp_prog_key(first));
  struct stat st;
  ok(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600, "cache file <key>.bpf written, mode 0600");
  ok(ward_seccomp_compile(s, cache, &again, &err) == 0 && ward_seccomp_prog_from_cache(again), "second compile hits");
  ok(again && same_prog(first, again), "cache hit returns identical BPF");
  ward_seccomp_prog_free(again);

  /* a flipped byte in the program: the digest catches it */
  int fd = open(file, O_RDWR | O_CLOEXEC);
  char byte = 0;
  ok(fd >= 0 && pread(fd, &byte, 1, st.st_size - 3) == 1, "read a byte of the program");
  byte ^= 0x5a;
  ok(pwrite(fd, &byte, 1, st.st_size - 3) == 1, "corrupted the cache file");
  close(fd);
  ok(ward_seccomp_compile(s, cache, &fixed, &err) == 0 && !ward_seccomp_prog_from_cache(fixed) &&
     same_prog(first, fixed), "corrupt cache detected, recompiled");
  ward_seccomp_prog_free(fixed);
  ok(ward_seccomp_compile(s, cache, &again, &err) == 0 && ward_seccomp_prog_from_cache(again) && same_prog(first, again),
     "and the file was replaced with a good one");
  ward_seccomp_prog_free(again);

  /* a torn file: size not header + n instructions */
  ok(truncate(file, st.st_size - 5) == 0, "truncated the cache file");
  ok(ward_seccomp_compile(s, cache, &fixed, &err) == 0 && !ward_seccomp_prog_from_cache(fixed) &&
     same_prog(first, fixed), "short cache file ignored");
  ward_seccomp_prog_free(fixed);
  ok(stat(file, &st) == 0 && chmod(file, 0666) == 0, "cache file made world-writable");
  ok(ward_seccomp_compile(s, cache, &fixed, &err) == 0 && !ward_seccomp_prog_from_cache(fixed),
     "a cache file others could write is not trusted");
  ward_seccomp_prog_free(fixed);

  /* a different profile has a different key */
  struct ward_seccomp *other = NULL;
  char k1[65], k2[65];
  ok(ward_seccomp_default(1ULL << CAP_SYS_ADMIN, &other, &err) == 0 && ward_seccomp_cache_key(s, k1, &err) == 0 &&
     ward_seccomp_cache_key(other, k2, &err) == 0 && strcmp(k1, k2) != 0, "different capabilities, different key");
  ward_seccomp_free(other);
  ward_seccomp_prog_free(first);
  ward_seccomp_prog_free(nocache);
  ward_seccomp_free(s);
  ward_remove_tree(dir, &err);
}

static void test_caps_parsing(void)
{
  _cleanup_error_ ward_error_t err = NULL;
  uint64_t caps = 0;
  ok(ward_seccomp_parse_caps("CAP_SYS_ADMIN,net_raw", &caps, &err) == 0 &&
     caps == ((1ULL << CAP_SYS_ADMIN) | (1ULL << CAP_NET_RAW)), "capability list parsed");
  ok(ward_seccomp_parse_caps("default", &caps, &err) == 0 && __builtin_popcountll(caps) == 14, "Docker's 14 defaults");
  ok(ward_seccomp_parse_caps("CAP_NOPE", &caps, &err) < 0, "unknown capability refused");
  contains(err ? err->msg : NULL, "unknown capability \"CAP_NOPE\"", "and named");
}

int main(int argc, char **argv)
{
  (void) argc;
  /* the data directory sits beside this file's directory */
  char self[4096];
  snprintf(self, sizeof(self), "%s", __FILE__);
  snprintf(data_dir, sizeof(data_dir), "%s/../data/seccomp", dirname(self));
  if (access(data_dir, R_OK) != 0 && getenv("MESON_SOURCE_ROOT"))
    snprintf(data_dir, sizeof(data_dir), "%s/tests/data/seccomp", getenv("MESON_SOURCE_ROOT"));
  (void) argv;
  test_parse_errors();
  test_unknown_on_this_arch();
  test_docker_conditions();
  test_default_shape();
  test_containers_common();
  test_cache();
  test_caps_parsing();
  test_seccomp_enforce();
  test_seccomp_cli(data_dir);
  return tap_done();
}
