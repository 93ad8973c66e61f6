/* ward check output: one screen of text, or JSON with stable field names
 * (the breakout battery and integration tests read the JSON). */
#include "audit/check.h"
#include "audit/audit_caps.h"
#include "common/cleanup.h"
#include "common/json.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *ns_state(enum ward_ns_state s)
{
  return s == WARD_NS_HOST ? "host" : s == WARD_NS_PRIVATE ? "private" : "unknown";
}

static const char *seccomp_mode_name(int m)
{
  return m == 0 ? "disabled" : m == 1 ? "strict" : m == 2 ? "filter" : "unknown";
}

static const char *errname(int e)
{
  const char *n = e > 0 ? strerrorname_np(e) : NULL;
  return n ? n : e == 0 ? "success" : "?";
}

static json_t *caps_json(uint64_t set)
{
  json_t *a = json_array();
  for (int i = 0; i < 64; i++)
    if (set & (UINT64_C(1) << i)) {
      const char *n = audit_cap_short_name(i);
      char buf[16];
      if (n == NULL)
        snprintf(buf, sizeof(buf), "%d", i);
      json_array_append_new(a, json_string(n ? n : buf));
    }
  return a;
}

json_t *ward_check_json(const struct ward_check_report *r)
{
  json_t *ns = json_object();
  for (size_t i = 0; i < r->nns; i++)
    json_object_set_new(ns, r->ns[i].name, json_pack("{s:I, s:s, s:o}", "inode", (json_int_t) r->ns[i].ino,
                                                     "state", ns_state(r->ns[i].state), "same_as_pid1",
                                                     r->ns[i].same_as_pid1 < 0 ? json_null() : json_boolean(r->ns[i].same_as_pid1)));
  json_t *sys = json_object();
  for (size_t i = 0; i < r->nprobes; i++) {
    const struct ward_check_probe *p = &r->probes[i];
    json_object_set_new(sys, p->name, json_pack("{s:s, s:s, s:o}", "verdict", ward_probe_verdict_name(p->verdict),
                                                "errno", p->sig ? "" : errname(p->err), "signal",
                                                p->sig ? json_integer(p->sig) : json_null()));
  }
  json_t *masked = json_object(), *writable = json_object(), *socks = json_array();
  for (size_t i = 0; i < r->nmasked; i++)
    json_object_set_new(masked, r->masked[i].path, json_string(r->masked[i].state));
  for (size_t i = 0; i < r->nwritable; i++)
    json_object_set_new(writable, r->writable[i].path, json_string(r->writable[i].state));
  for (size_t i = 0; i < r->nsockets; i++)
    /* (a mount point's name may be any bytes) */
    json_array_append_new(socks, json_pack("{s:o, s:s, s:b}", "path", ward_json_bytes(r->sockets[i].path, SIZE_MAX), "found_by",
                                           r->sockets[i].found_by, "writable", r->sockets[i].writable));
  return json_pack(
    "{s:i, s:{s:i, s:i, s:i, s:s, s:s, s:b}, s:o, s:{s:s, s:b},"
    " s:{s:o, s:o, s:o, s:o, s:o}, s:{s:i, s:s, s:i}, s:b, s:o, s:{s:b, s:s},"
    " s:{s:i, s:b, s:s, s:s}, s:s, s:o, s:o, s:o}",
    "schema_version", 1,
    "identity", "uid", (int) r->uid, "euid", (int) r->euid, "gid", (int) r->gid, "uid_map", r->uid_map,
    "gid_map", r->gid_map, "user_namespace", !r->uid_map_identity,
    "namespaces", ns,
    "pid_namespace", "nspid", r->nspid, "kernel_threads_visible", r->kthreadd_visible,
    "capabilities", "effective", caps_json(r->cap_eff), "permitted", caps_json(r->cap_prm), "inheritable",
    caps_json(r->cap_inh), "bounding", caps_json(r->cap_bnd), "ambient", caps_json(r->cap_amb),
    "seccomp", "mode", r->seccomp_mode, "mode_name", seccomp_mode_name(r->seccomp_mode), "filters", r->seccomp_filters,
    "no_new_privs", r->no_new_privs == 1,
    "syscalls", sys,
    "user_namespace_creation", "allowed", r->userns_create, "errno",
    r->userns_create ? "success" : r->userns_create_err < 0 ? "killed" : errname(r->userns_create_err),
    "landlock", "abi", r->landlock_abi > 0 ? r->landlock_abi : 0, "supported", r->landlock_abi > 0, "domain",
    r->landlock_domain ? "likely" : "not-detected", "evidence", r->landlock_evidence,
    "lsm_label", r->lsm_label,
    "masked_paths", masked, "sensitive_paths", writable, "runtime_sockets", socks);
}

static void caps_line(FILE *out, const char *label, uint64_t set, const char *hi, const char *off)
{
  static const char *const danger[] = {"SYS_ADMIN", "SYS_MODULE", "SYS_RAWIO", "DAC_READ_SEARCH", "SYS_PTRACE",
                                       "NET_ADMIN", "BPF", "PERFMON", "SYS_BOOT", "MAC_ADMIN", "MAC_OVERRIDE"};
  fprintf(out, "  %-11s", label);
  if (set == 0) {
    fputs(" none\n", out);
    return;
  }
  if ((set & WARD_CAPS_ALL) == WARD_CAPS_ALL) {
    fprintf(out, " %sall %d%s\n", hi, WARD_CAP_COUNT, off);
    return;
  }
  int col = 13;
  for (int i = 0; i < 64; i++) {
    if (!(set & (UINT64_C(1) << i)))
      continue;
    const char *n = audit_cap_short_name(i);
    bool bad = false;
    for (size_t k = 0; n && k < ARRAY_SIZE(danger); k++)
      bad |= strcmp(n, danger[k]) == 0;
    int w = n ? (int) strlen(n) + 1 : 4;
    if (col + w > 100) {
      fputs("\n             ", out);
      col = 13;
    }
    if (n)
      fprintf(out, " %s%s%s", bad ? hi : "", n, bad ? off : "");
    else
      fprintf(out, " %d", i);
    col += w;
  }
  fputc('\n', out);
}

void ward_check_render(FILE *out, const struct ward_check_report *r, bool color)
{
  const char *red = color ? "\033[1;31m" : "", *grn = color ? "\033[32m" : "", *dim = color ? "\033[2m" : "",
             *bold = color ? "\033[1m" : "", *off = color ? "\033[0m" : "";
  fprintf(out, "%sidentity%s    uid %d euid %d gid %d; uid_map %s", bold, off, (int) r->uid, (int) r->euid, (int) r->gid,
          r->uid_map_identity ? "0 0 4294967295 (no user namespace)" : "");
  if (!r->uid_map_identity) {
    char m[256];
    snprintf(m, sizeof(m), "%s", r->uid_map);
    for (char *c = m; *c; c++)
      if (*c == '\n')
        *c = ';';
    fprintf(out, "%s(user namespace)", m);
  }
  fprintf(out, "\n%snamespaces%s ", bold, off);
  for (size_t i = 0; i < r->nns; i++)
    fprintf(out, " %s%s:%s%s", r->ns[i].state == WARD_NS_HOST ? red : r->ns[i].state == WARD_NS_PRIVATE ? grn : "",
            r->ns[i].name, ns_state(r->ns[i].state), off);
  fprintf(out, "\n            %sNSpid %s; kernel threads %s%s\n", dim, r->nspid,
          r->kthreadd_visible ? "visible (host PID namespace)" : "not visible", off);
  fprintf(out, "%scapabilities%s\n", bold, off);
  caps_line(out, "effective", r->cap_eff, red, off);
  caps_line(out, "bounding", r->cap_bnd, red, off);
  caps_line(out, "ambient", r->cap_amb, red, off);
  caps_line(out, "inheritable", r->cap_inh, red, off);
  fprintf(out, "%sseccomp%s     %s%s%s (%d filter%s); no_new_privs %s%s%s\n", bold, off,
          r->seccomp_mode == 2 ? grn : red, seccomp_mode_name(r->seccomp_mode), off, r->seccomp_filters,
          r->seccomp_filters == 1 ? "" : "s", r->no_new_privs == 1 ? grn : red, r->no_new_privs == 1 ? "on" : "off", off);
  fprintf(out, "%ssyscalls%s   ", bold, off);
  int col = 12;
  for (size_t i = 0; i < r->nprobes; i++) {
    const struct ward_check_probe *p = &r->probes[i];
    bool reach = p->verdict == WARD_PROBE_REACHABLE;
    int w = (int) strlen(p->name) + 3;
    if (col + w > 100) {
      fputs("\n            ", out);
      col = 12;
    }
    fprintf(out, " %s%s%s%s", reach ? red : grn,
            reach ? "+" : p->verdict == WARD_PROBE_UNAVAILABLE ? "~" : "-", p->name, off);
    col += w;
  }
  fprintf(out, "\n            %s(+ reachable, - blocked, ~ not in this kernel; arguments refused after the permission checks)%s\n", dim, off);
  fprintf(out, "%suserns%s      unshare(CLONE_NEWUSER) %s%s%s\n", bold, off, r->userns_create ? red : grn,
          r->userns_create ? "allowed" : "denied", off);
  if (r->landlock_abi > 0)
    fprintf(out, "%slandlock%s    ABI %d; domain %s%s%s%s%s\n", bold, off, r->landlock_abi,
            r->landlock_domain ? grn : "", r->landlock_domain ? "likely" : "not detected", off,
            *r->landlock_evidence ? " — " : "", r->landlock_evidence);
  else
    fprintf(out, "%slandlock%s    unavailable (%s)\n", bold, off, errname(-r->landlock_abi));
  fprintf(out, "%slsm%s         %s\n", bold, off, *r->lsm_label ? r->lsm_label : "none");
  fprintf(out, "%smasked%s     ", bold, off);
  for (size_t i = 0; i < r->nmasked; i++) {
    const char *s = r->masked[i].state;
    if (strcmp(s, "absent") == 0)
      continue;
    fprintf(out, " %s%s%s%s", strcmp(s, "exposed") == 0 ? red : strcmp(s, "masked") == 0 ? grn : "",
            r->masked[i].path + (strncmp(r->masked[i].path, "/proc/", 6) == 0 ? 6 : 0),
            strcmp(s, "masked") == 0 ? "" : strcmp(s, "exposed") == 0 ? "(exposed)" : "(unreadable)", off);
  }
  fprintf(out, "\n%swritable%s   ", bold, off);
  for (size_t i = 0; i < r->nwritable; i++) {
    const char *s = r->writable[i].state;
    if (strcmp(s, "absent") == 0)
      continue;
    fprintf(out, " %s%s:%s%s", strcmp(s, "writable") == 0 ? red : grn, r->writable[i].path, s, off);
  }
  fprintf(out, "\n%ssockets%s    ", bold, off);
  if (r->nsockets == 0)
    fprintf(out, " %snone found%s", grn, off);
  for (size_t i = 0; i < r->nsockets; i++)
    fprintf(out, " %s%s%s (%s%s)", red, r->sockets[i].path, off, r->sockets[i].found_by,
            r->sockets[i].writable ? ", connectable" : "");
  fputc('\n', out);
}

int ward_check_main(int argc, char **argv, FILE *out, FILE *errout)
{
  static const struct option opts[] = {
    {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  bool json = false;
  optind = 0;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
    if (c == 'j') {
      json = true;
    } else if (c == 'h') {
      fputs("usage: ward check [--json]\n\nShows what confines this process: namespaces, uid map, capabilities,\n"
            "seccomp and probed syscalls, Landlock, masked and writable paths, runtime sockets.\n", out);
      return 0;
    } else {
      fprintf(errout, "ward check: unknown option '%s'\n", argv[optind - 1]);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(errout, "ward check: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_check_report r;
  if (ward_check_collect(&r, &err) < 0) {
    fprintf(errout, "ward check: %s\n", err ? err->msg : "failed");
    return 1;
  }
  if (json) {
    _cleanup_json_ json_t *j = ward_check_json(&r);
    if (j == NULL || json_dumpf(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
      return 1;
    fputc('\n', out);
  } else {
    const char *nc = getenv("NO_COLOR");
    ward_check_render(out, &r, (nc == NULL || *nc == '\0') && isatty(fileno(out)));
  }
  return 0;
}
