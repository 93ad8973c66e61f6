/* ward audit --host: the host kernel and installed runtime versions checked
 * against a small data file of container-escape CVEs. Version numbers only
 * say so much (distributions backport fixes), and the report says so. */
#include "audit/audit.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "audit/cve_data.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VERSION_TIMEOUT_MS 3000

const char *ward_audit_cve_data(void) { return ward_cve_json; }

struct ver { long num[8]; int n; bool pre; long prenum; };

static void ver_parse(const char *s, struct ver *v)
{
  memset(v, 0, sizeof(*v));
  if (*s == 'v' || *s == 'V')
    s++;
  while (v->n < 8 && isdigit((unsigned char) *s)) {
    v->num[v->n++] = strtol(s, (char **) &s, 10);
    if (*s != '.' || !isdigit((unsigned char) s[1]))
      break;
    s++;
  }
  /* A pre-release tag right after the numbers; anything else that follows
   * is a packaging suffix. "1.0-rc7" and "1.0.0-rc.7" read the same. */
  if (*s == '-' || *s == '~' || *s == '.') {
    const char *t = s + 1;
    static const char *const tags[] = {"rc", "alpha", "beta", "pre"};
    for (size_t i = 0; i < ARRAY_SIZE(tags); i++)
      if (strncmp(t, tags[i], strlen(tags[i])) == 0) {
        v->pre = true;
        t += strlen(tags[i]);
        if (*t == '.')
          t++;
        v->prenum = isdigit((unsigned char) *t) ? strtol(t, NULL, 10) : 0;
        break;
      }
  }
}

int ward_version_cmp(const char *a, const char *b)
{
  struct ver va, vb;
  ver_parse(a, &va);
  ver_parse(b, &vb);
  int n = va.n > vb.n ? va.n : vb.n;
  for (int i = 0; i < n; i++) {
    long x = i < va.n ? va.num[i] : 0, y = i < vb.n ? vb.num[i] : 0;
    if (x != y)
      return x < y ? -1 : 1;
  }
  if (va.pre != vb.pre)
    return va.pre ? -1 : 1;
  if (va.pre && va.prenum != vb.prenum)
    return va.prenum < vb.prenum ? -1 : 1;
  return 0;
}

static const char *find_in_path(const char *name, char *buf, size_t len)
{
  const char *path = getenv("PATH");
  _cleanup_free_ char *copy = strdup(path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  if (copy == NULL)
    return NULL;
  for (char *save = NULL, *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    snprintf(buf, len, "%s/%s", d, name);
    if (access(buf, X_OK) == 0)
      return buf;
  }
  return NULL;
}

/* Runs `path --version` with stdin on /dev/null, collecting up to a page of
 * output; a hung binary is killed at the deadline. */
static int run_version(const char *path, char *out, size_t outlen)
{
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return -1;
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return -1;
  }
  if (pid == 0) {
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0)
      dup2(null, 0);
    dup2(p[1], 1);
    dup2(p[1], 2);
    execl(path, path, "--version", (char *) NULL);
    _exit(127);
  }
  close(p[1]);
  size_t got = 0;
  uint64_t deadline = ward_now_ns() + (uint64_t) VERSION_TIMEOUT_MS * 1000000;
  for (;;) {
    uint64_t now = ward_now_ns();
    if (now >= deadline)
      break;
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    int r = poll(&pfd, 1, (int) ((deadline - now) / 1000000) + 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    ssize_t n = read(p[0], out + got, outlen - 1 - got);
    if (n <= 0)
      break;
    got += (size_t) n;
    if (got >= outlen - 1)
      break;
  }
  out[got] = '\0';
  close(p[0]);
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  return got > 0 ? 0 : -1;
}

/* The first word that starts with a digit and has a dot: "runc version
 * 1.1.5+ds1", "Docker version 20.10.24+dfsg1, build", "containerd
 * github.com/containerd/containerd 1.6.20~ds1 ...". */
static bool version_token(const char *text, char *out, size_t len)
{
  for (const char *p = text; *p; p++) {
    if ((p == text || isspace((unsigned char) p[-1])) &&
        (isdigit((unsigned char) *p) || (*p == 'v' && isdigit((unsigned char) p[1])))) {
      size_t n = strcspn(p, " \t\r\n,");
      if (memchr(p, '.', n) && n < len) {
        memcpy(out, p, n);
        out[n] = '\0';
        return true;
      }
    }
  }
  return false;
}

/* Debian's uname -r is the ABI name ("6.1.0-13-amd64"); the upstream
 * version is in uname -v ("... Debian 6.1.55-1 (2023-09-29)"). */
static void kernel_version(const struct utsname *u, char *out, size_t len)
{
  const char *deb = strstr(u->version, "Debian ");
  if (deb && version_token(deb + 7, out, len))
    return;
  snprintf(out, len, "%s", u->release);
}

json_t *ward_audit_host_evaluate(json_t *cvedata, json_t *components, const char *uname_v)
{
  json_t *out = json_array();
  json_t *cves = json_object_get(cvedata, "cves"), *e, *c;
  size_t i, k;
  json_array_foreach(cves, i, e) {
    const char *comp = json_string_value(json_object_get(e, "component"));
    const char *distro = json_string_value(json_object_get(e, "distro"));
    json_array_foreach(components, k, c) {
      const char *name = json_string_value(json_object_get(c, "name"));
      const char *ver = json_string_value(json_object_get(c, "version"));
      if (comp == NULL || name == NULL || ver == NULL || strcmp(comp, name) != 0)
        continue;
      const char *status = "not-affected", *fixed = NULL;
      if (distro) {
        /* Not decidable from a version: flag it on that distribution only. */
        if (uname_v == NULL || strstr(uname_v, distro) == NULL)
          continue;
        status = "check-distro-advisory";
      } else {
        json_t *r;
        size_t ri;
        json_array_foreach(json_object_get(e, "affected"), ri, r) {
          const char *from = json_string_value(json_object_get(r, "from"));
          const char *fx = json_string_value(json_object_get(r, "fixed"));
          if (from && fx && ward_version_cmp(ver, from) >= 0 && ward_version_cmp(ver, fx) < 0) {
            status = "affected";
            fixed = fx;
            break;
          }
        }
      }
      json_array_append_new(out, json_pack("{s:O, s:s, s:s, s:O, s:O, s:s, s:s?, s:O}",
        "id", json_object_get(e, "id"), "component", name, "version", ver,
        "severity", json_object_get(e, "severity"), "title", json_object_get(e, "title"), "status", status,
        "fixed_in", fixed, "verified", json_object_get(e, "verified") ? json_object_get(e, "verified") : json_false()));
    }
  }
  return out;
}

int ward_audit_host(const char *cve_file, json_t **report, ward_error_t *err)
{
  _cleanup_json_ json_t *data = NULL;
  if (cve_file) {
    if (wj_load_file(cve_file, 4u << 20, &data, err) < 0)
      return -1;
  } else if (wj_load_buffer("built-in CVE data", ward_cve_json, strlen(ward_cve_json), &data, err) < 0) {
    return -1;
  }
  if (!json_is_array(json_object_get(data, "cves")))
    return ward_error(err, 0, "%s: cves: expected an array", cve_file ? cve_file : "built-in CVE data");
  struct utsname u;
  if (uname(&u) < 0)
    return ward_error_sys(err, "uname");
  char kver[128];
  kernel_version(&u, kver, sizeof(kver));
  json_t *components = json_array();
  json_array_append_new(components, json_pack("{s:s, s:s, s:s, s:s}", "name", "kernel", "version", kver,
                                              "raw", u.release, "path", "uname"));
  json_array_append_new(components, json_pack("{s:s, s:s, s:s, s:s}", "name", "ward", "version", WARD_VERSION,
                                              "raw", WARD_VERSION, "path", "self"));
  static const char *const bins[] = {"runc", "crun", "containerd", "podman", "docker"};
  for (size_t i = 0; i < ARRAY_SIZE(bins); i++) {
    char path[4096], text[4096], ver[128];
    if (find_in_path(bins[i], path, sizeof(path)) == NULL)
      continue;
    json_t *c = json_pack("{s:s, s:s}", "name", bins[i], "path", path);
    if (run_version(path, text, sizeof(text)) == 0 && version_token(text, ver, sizeof(ver))) {
      json_object_set_new(c, "version", json_string(ver));
      text[strcspn(text, "\n")] = '\0';
      json_object_set_new(c, "raw", json_string(text));
    } else {
      json_object_set_new(c, "version", json_null());
      json_object_set_new(c, "raw", json_string("(no version output)"));
    }
    json_array_append_new(components, c);
  }
  json_t *exp = ward_audit_host_evaluate(data, components, u.version);
  *report = json_pack("{s:{s:s, s:s, s:s}, s:o, s:O, s:O, s:O, s:o}",
                      "host", "kernel_release", u.release, "kernel_build", u.version, "machine", u.machine,
                      "components", components, "data_as_of", json_object_get(data, "data_as_of"),
                      "caveat", json_object_get(data, "caveat"), "sources", json_object_get(data, "sources"),
                      "exposures", exp);
  if (*report == NULL)
    return ward_error(err, ENOMEM, "host report");
  return 0;
}

enum ward_audit_sev ward_audit_host_max_sev(json_t *report)
{
  enum ward_audit_sev max = WARD_SEV_NONE;
  json_t *e;
  size_t i;
  json_array_foreach(json_object_get(report, "exposures"), i, e) {
    const char *st = json_string_value(json_object_get(e, "status"));
    int s = ward_audit_sev_parse(json_string_value(json_object_get(e, "severity")));
    if (st && strcmp(st, "not-affected") != 0 && s > (int) max)
      max = (enum ward_audit_sev) s;
  }
  return max;
}

void ward_audit_host_render(FILE *out, json_t *report, bool color)
{
  const char *red = color ? "\033[1;31m" : "", *yel = color ? "\033[33m" : "", *dim = color ? "\033[2m" : "",
             *off = color ? "\033[0m" : "";
  json_t *c, *e;
  size_t i;
  fprintf(out, "host kernel: %s (%s)\n", json_string_value(json_object_get(json_object_get(report, "host"), "kernel_release")),
          json_string_value(json_object_get(json_object_get(report, "host"), "machine")));
  fprintf(out, "components:\n");
  json_array_foreach(json_object_get(report, "components"), i, c) {
    const char *v = json_string_value(json_object_get(c, "version"));
    fprintf(out, "  %-11s %-22s %s%s%s\n", json_string_value(json_object_get(c, "name")), v ? v : "unknown", dim,
            json_string_value(json_object_get(c, "path")), off);
  }
  size_t affected = 0, clean = 0;
  fprintf(out, "exposure (CVE data as of %s):\n", json_string_value(json_object_get(report, "data_as_of")));
  json_array_foreach(json_object_get(report, "exposures"), i, e) {
    const char *st = json_string_value(json_object_get(e, "status"));
    if (strcmp(st, "not-affected") == 0) {
      clean++;
      continue;
    }
    affected++;
    const char *fixed = json_string_value(json_object_get(e, "fixed_in"));
    fprintf(out, "  %s%-8s%s %-15s %s %s: %s%s%s\n", strcmp(st, "affected") == 0 ? red : yel,
            json_string_value(json_object_get(e, "severity")), off, json_string_value(json_object_get(e, "id")),
            json_string_value(json_object_get(e, "component")), json_string_value(json_object_get(e, "version")),
            json_string_value(json_object_get(e, "title")), fixed ? "; fixed in " : " (check the distribution advisory)",
            fixed ? fixed : "");
  }
  if (affected == 0)
    fprintf(out, "  no known exposure among the listed CVEs\n");
  fprintf(out, "%zu checks passed. %s%s%s\n", clean, dim, json_string_value(json_object_get(report, "caveat")), off);
}
