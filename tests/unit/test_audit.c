/* ward audit: pipeline, input errors, output formats, exit status, --host
 * version logic. Rule coverage is in test_audit_rules.c, ward check in
 * test_audit_check.c; each defines its own entry point below. */
#include "audit/audit.h"
#include "audit/audit_test_paths.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "tap.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void test_audit_rules(void);
void test_audit_check(void);

static char *fixture(const char *rel)
{
  char *p = NULL;
  if (asprintf(&p, "%s/%s", WARD_AUDIT_FIXTURES, rel) < 0)
    abort();
  return p;
}

/* Runs `ward audit ARGS...` in-process, capturing stdout and stderr. */
static int run(char **out, char **errout, const char *first, ...)
{
  char *argv[32] = {"audit"};
  int argc = 1;
  va_list ap;
  va_start(ap, first);
  for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
    argv[argc++] = (char *) a;
  va_end(ap);
  size_t ol = 0, el = 0;
  char *ob = NULL, *eb = NULL;
  FILE *o = open_memstream(&ob, &ol), *e = open_memstream(&eb, &el);
  int rc = ward_audit_main(argc, argv, o, e);
  fclose(o);
  fclose(e);
  *out = ob;
  if (errout)
    *errout = eb;
  else
    free(eb);
  return rc;
}

static const struct ward_audit_finding *find(const struct ward_audit_file *f, const char *rule, const char *container)
{
  for (size_t i = 0; i < f->nfindings; i++)
    if (strcmp(f->findings[i].rule->id, rule) == 0 && (container == NULL || strstr(f->findings[i].container, container)))
      return &f->findings[i];
  return NULL;
}

static void test_locations(void)
{
  _cleanup_free_ char *k8s = fixture("k8s/bad.yaml");
  struct ward_audit_file f;
  is_int(ward_audit_path(k8s, &f), 0, "k8s multi-document file audits");
  is_int(f.kind, WARD_AUDIT_K8S, "detected as kubernetes");
  const struct ward_audit_finding *p = find(&f, "WARD-A001", "sidecar");
  ok(p != NULL, "privileged sidecar found");
  if (p) {
    is_int(p->line, 51, "privileged finding names its line");
    is_str(p->field, "spec.template.spec.containers[1].securityContext.privileged", "and its field path");
    contains(p->container, "deployment/web", "and its owner");
  }
  p = find(&f, "WARD-A026", "app");
  ok(p && p->line == 41 && strstr(p->field, "volumeMounts[0]"), "docker.sock hostPath mount located at its volumeMount");
  p = find(&f, "WARD-A049", "app");
  ok(p && p->line == 29, "hostPort located");
  p = find(&f, "WARD-A047", "agent");
  ok(p && p->line == 91 && strstr(p->detail, "kernel.core_pattern"), "unsafe sysctl located, the safe one not reported");
  ok(find(&f, "WARD-A002", "sidecar") == NULL, "privileged container reports A001, not every capability");
  ok(find(&f, "WARD-A018", "pod/debug") != NULL, "List items are audited");
  ok(find(&f, "WARD-A009", "init container tune") != NULL, "initContainers are audited");
  size_t n = 0;
  for (char **c = f.containers; c && *c; c++)
    n++;
  is_int(n, 7, "services and namespaces contribute no containers");
  ward_audit_file_clear(&f);

  _cleanup_free_ char *compose = fixture("compose/bad.yaml");
  is_int(ward_audit_path(compose, &f), 0, "compose file audits");
  p = find(&f, "WARD-A035", "monitor");
  ok(p && p->line == 22, "legacy seccomp:unconfined located");
  ok(find(&f, "WARD-A002", "monitor") != NULL, "YAML merge key brings cap_add from the anchor");
  p = find(&f, "WARD-A028", "monitor");
  ok(p && p->line == 36, "read-only / mount located");
  ward_audit_file_clear(&f);

  _cleanup_free_ char *oci = fixture("oci/bad.json");
  is_int(ward_audit_path(oci, &f), 0, "OCI config audits");
  p = find(&f, "WARD-A002", NULL);
  ok(p && p->line == 12 && strcmp(p->field, "process.capabilities.bounding[1]") == 0, "JSON input gets JSON path and line");
  p = find(&f, "WARD-A047", NULL);
  ok(p && strcmp(p->field, "linux.sysctl[\"kernel.core_pattern\"]") == 0, "dotted keys quoted in paths");
  ward_audit_file_clear(&f);

  _cleanup_free_ char *dock = fixture("docker/bad.json");
  is_int(ward_audit_path(dock, &f), 0, "docker inspect audits");
  ok(find(&f, "WARD-A001", "priv") && find(&f, "WARD-A018", "all"), "each array element is a container");
  ward_audit_file_clear(&f);
}

static void test_errors(void)
{
  struct ward_audit_file f;
  _cleanup_free_ char *my = fixture("errors/malformed.yaml");
  ok(ward_audit_path(my, &f) < 0, "malformed YAML fails");
  ok(f.error && strstr(f.error, "malformed.yaml:9:10") && strstr(f.error, "line 8"), "with file, line and column");
  ward_audit_file_clear(&f);
  _cleanup_free_ char *mj = fixture("errors/malformed.json");
  ok(ward_audit_path(mj, &f) < 0 && f.error && strstr(f.error, "malformed.json:4:"), "malformed JSON names its line");
  ward_audit_file_clear(&f);
  _cleanup_free_ char *wk = fixture("errors/wrong-kind.yaml");
  ok(ward_audit_path(wk, &f) < 0 && f.error && strstr(f.error, "not a recognised input"), "wrong kind is explained");
  ward_audit_file_clear(&f);
  ok(ward_audit_path("/nonexistent/x.yaml", &f) < 0 && f.error && strstr(f.error, "/nonexistent/x.yaml"), "unreadable names the path");
  ward_audit_file_clear(&f);
  _cleanup_free_ char *cyc = fixture("errors/alias-cycle.yaml");
  ok(ward_audit_path(cyc, &f) < 0 && f.error && strstr(f.error, "aliases"), "alias cycles are bounded");
  ward_audit_file_clear(&f);
  const char bomb[] = "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n";
  ok(ward_audit_buffer("bomb.yaml", bomb, strlen(bomb), &f) < 0, "billion laughs refused");
  ward_audit_file_clear(&f);
  const char mixed[] = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  hostPID: true\n  containers: [{name: c}]\n---\nfoo: bar\n";
  ok(ward_audit_buffer("mixed.yaml", mixed, strlen(mixed), &f) < 0 && strstr(f.error, "mixed.yaml:8:1"), "bad document in a stream named by line");
  ok(find(&f, "WARD-A020", NULL) != NULL, "the good documents before it are still audited");
  ward_audit_file_clear(&f);

  /* The CLI keeps going after a bad file, and 2 wins over 1. */
  _cleanup_free_ char *bad = fixture("oci/bad.json");
  char *out = NULL, *err = NULL;
  is_int(run(&out, &err, my, bad, NULL), 2, "bad file among others: exit 2");
  contains(out, "malformed.yaml:9:10", "error printed with its location");
  contains(out, "WARD-A002", "the other file is still audited");
  free(out);
  free(err);
}

static void test_exit_and_formats(void)
{
  _cleanup_free_ char *bad = fixture("oci/bad.json");
  _cleanup_free_ char *good = fixture("oci/hardened.json");
  _cleanup_free_ char *cgood = fixture("compose/hardened.yaml");
  char *out = NULL;
  is_int(run(&out, NULL, bad, NULL), 1, "default --fail-on high: exit 1");
  free(out);
  is_int(run(&out, NULL, "--fail-on", "never", bad, NULL), 0, "--fail-on never: exit 0");
  free(out);
  is_int(run(&out, NULL, good, cgood, NULL), 0, "hardened fixtures: exit 0");
  contains(out, "0 findings", "and no findings");
  ok(strstr(out, "\033[") == NULL, "no colour when not a terminal");
  free(out);
  is_int(run(&out, NULL, "--color", "always", bad, NULL), 1, "--color always");
  contains(out, "\033[1;31m", "colour codes present");
  free(out);
  is_int(run(&out, NULL, "--fail-on", "bogus", bad, NULL), 2, "bad --fail-on: exit 2");
  free(out);
  is_int(run(&out, NULL, "--format", "xml", bad, NULL), 2, "bad --format: exit 2");
  free(out);
  is_int(run(&out, NULL, NULL), 2, "no files: exit 2");
  free(out);

  /* JSON: stable names, parses back. */
  is_int(run(&out, NULL, "--format", "json", "--fail-on", "critical", bad, NULL), 1, "json run, critical finding: exit 1");
  _cleanup_error_ ward_error_t err = NULL;
  _cleanup_json_ json_t *j = NULL;
  ok(wj_load_buffer("out.json", out, strlen(out), &j, &err) == 0, "JSON output parses");
  json_t *f0 = json_array_get(json_object_get(j, "files"), 0);
  json_t *x = json_array_get(json_object_get(f0, "findings"), 0);
  ok(json_is_string(json_object_get(x, "rule_id")) && json_is_string(json_object_get(x, "severity")) &&
     json_is_integer(json_object_get(x, "line")) && json_is_string(json_object_get(x, "field")) &&
     json_is_string(json_object_get(x, "fix")), "finding carries rule_id, severity, field, line, fix");
  is_str(json_string_value(json_object_get(f0, "kind")), "oci", "kind named");
  ok(json_integer_value(json_object_get(json_object_get(j, "summary"), "critical")) > 0, "summary counts");
  free(out);

  /* SARIF 2.1.0: the fields code-scanning services require. */
  _cleanup_free_ char *k8s = fixture("k8s/bad.yaml");
  _cleanup_free_ char *mal = fixture("errors/malformed.yaml");
  is_int(run(&out, NULL, "--format", "sarif", k8s, mal, NULL), 2, "sarif run with a bad file: exit 2");
  _cleanup_json_ json_t *s = NULL;
  ok(wj_load_buffer("out.sarif", out, strlen(out), &s, &err) == 0, "SARIF output parses");
  is_str(json_string_value(json_object_get(s, "version")), "2.1.0", "version 2.1.0");
  ok(json_is_string(json_object_get(s, "$schema")), "$schema present");
  json_t *run0 = json_array_get(json_object_get(s, "runs"), 0);
  json_t *rules = json_object_get(json_object_get(json_object_get(run0, "tool"), "driver"), "rules");
  size_t nrules = 0;
  ward_audit_rules(&nrules);
  is_int(json_array_size(rules), nrules, "every rule described");
  bool rules_ok = true;
  size_t i;
  json_t *r;
  json_array_foreach(rules, i, r)
    rules_ok &= json_is_string(json_object_get(r, "id")) &&
                json_is_string(json_object_get(json_object_get(r, "shortDescription"), "text")) &&
                json_is_string(json_object_get(json_object_get(r, "help"), "text")) &&
                json_is_string(json_object_get(json_object_get(r, "properties"), "security-severity"));
  ok(rules_ok, "rules have id, shortDescription, help, security-severity");
  json_t *results = json_object_get(run0, "results");
  ok(json_array_size(results) > 50, "results present");
  bool res_ok = true;
  json_array_foreach(results, i, r) {
    json_t *pl = json_object_get(json_array_get(json_object_get(r, "locations"), 0), "physicalLocation");
    const char *level = json_string_value(json_object_get(r, "level"));
    int idx = (int) json_integer_value(json_object_get(r, "ruleIndex"));
    res_ok &= json_is_string(json_object_get(r, "ruleId")) && level &&
              (!strcmp(level, "error") || !strcmp(level, "warning") || !strcmp(level, "note")) &&
              json_is_string(json_object_get(json_object_get(r, "message"), "text")) &&
              json_is_string(json_object_get(json_object_get(pl, "artifactLocation"), "uri")) &&
              json_integer_value(json_object_get(json_object_get(pl, "region"), "startLine")) >= 1 &&
              strcmp(json_string_value(json_object_get(json_array_get(rules, (size_t) idx), "id")),
                     json_string_value(json_object_get(r, "ruleId"))) == 0;
  }
  ok(res_ok, "results have ruleId, matching ruleIndex, level, message, uri, startLine >= 1");
  json_t *inv = json_array_get(json_object_get(run0, "invocations"), 0);
  ok(json_is_false(json_object_get(inv, "executionSuccessful")) &&
     json_array_size(json_object_get(inv, "toolExecutionNotifications")) == 1, "failed file reported as a notification");
  free(out);
}

static void test_versions(void)
{
  ok(ward_version_cmp("1.0.0-rc6", "1.0.0-rc7") < 0, "rc6 < rc7");
  ok(ward_version_cmp("1.0.0-rc93", "1.0.0-rc95") < 0, "rc93 < rc95");
  ok(ward_version_cmp("1.0.0-rc95", "1.0.0") < 0, "pre-release < release");
  ok(ward_version_cmp("1.0-rc7", "1.0.0-rc7") == 0, "1.0-rc7 == 1.0.0-rc7");
  ok(ward_version_cmp("1.1.5+ds1", "1.1.12") < 0, "debian suffix ignored, numeric compare");
  ok(ward_version_cmp("1.6.20~ds1", "1.6.20") == 0, "~ds1 ignored");
  ok(ward_version_cmp("6.18.44-fc-v782", "6.7.3") > 0, "kernel local version ignored");
  ok(ward_version_cmp("1.4.0-rc.2", "1.4.0-rc.3") < 0, "rc.N");
  ok(ward_version_cmp("v1.3.3", "1.3.3") == 0, "leading v");
  ok(ward_version_cmp("5.10.102", "5.10.99") > 0, "numeric, not lexical");

  _cleanup_error_ ward_error_t err = NULL;
  _cleanup_json_ json_t *data = NULL;
  const char *cve = ward_audit_cve_data();
  ok(wj_load_buffer("cve", cve, strlen(cve), &data, &err) == 0, "built-in CVE data parses");
  is_str(json_string_value(json_object_get(data, "data_as_of")), "2026-11-23", "data as of date");
  const char *need[] = {"CVE-2019-5736", "CVE-2022-0492", "CVE-2022-0847", "CVE-2024-21626", "CVE-2020-15257",
                        "CVE-2019-14271", "CVE-2022-0185", "CVE-2021-22555", "CVE-2024-1086", "CVE-2022-23648",
                        "CVE-2023-2640", "CVE-2023-32629", "CVE-2022-27650", "CVE-2019-16884"};
  size_t have = 0, i;
  json_t *e;
  json_array_foreach(json_object_get(data, "cves"), i, e)
    for (size_t k = 0; k < ARRAY_SIZE(need); k++)
      have += strcmp(json_string_value(json_object_get(e, "id")), need[k]) == 0;
  is_int(have, ARRAY_SIZE(need), "required CVEs present");

  _cleanup_json_ json_t *comps = json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]",
    "name", "runc", "version", "1.0.0-rc6", "name", "kernel", "version", "5.10.101",
    "name", "containerd", "version", "1.4.2", "name", "crun", "version", "1.8.1", "name", "docker", "version", "19.03.0");
  _cleanup_json_ json_t *ex = ward_audit_host_evaluate(data, comps, "#1 SMP Ubuntu 5.19.0-41");
  bool rc6 = false, dirty = false, shim = false, crun_ok = true, ubuntu = false, dockercp = false;
  json_array_foreach(ex, i, e) {
    const char *id = json_string_value(json_object_get(e, "id"));
    const char *st = json_string_value(json_object_get(e, "status"));
    rc6 |= !strcmp(id, "CVE-2019-5736") && !strcmp(st, "affected");
    dirty |= !strcmp(id, "CVE-2022-0847") && !strcmp(st, "affected");
    shim |= !strcmp(id, "CVE-2020-15257") && !strcmp(st, "affected");
    crun_ok &= !(!strcmp(id, "CVE-2022-27650") && strcmp(st, "not-affected"));
    ubuntu |= !strcmp(id, "CVE-2023-2640") && !strcmp(st, "check-distro-advisory");
    dockercp |= !strcmp(id, "CVE-2019-14271") && !strcmp(st, "affected");
  }
  ok(rc6, "runc 1.0.0-rc6 affected by CVE-2019-5736");
  ok(dirty, "5.10.101 affected by Dirty Pipe");
  ok(shim, "containerd 1.4.2 affected by CVE-2020-15257");
  ok(crun_ok, "crun 1.8.1 not affected by CVE-2022-27650");
  ok(ubuntu, "Ubuntu-only CVEs flagged for a manual check on Ubuntu");
  ok(dockercp, "docker 19.03.0 affected by docker cp CVE");
  _cleanup_json_ json_t *comps2 = json_pack("[{s:s, s:s}, {s:s, s:s}]", "name", "kernel", "version", "5.10.102",
                                            "name", "runc", "version", "1.1.5+ds1");
  _cleanup_json_ json_t *ex2 = ward_audit_host_evaluate(data, comps2, "#1 SMP Debian");
  bool dirty2 = false, leaky = false, ub2 = false;
  json_array_foreach(ex2, i, e) {
    const char *id = json_string_value(json_object_get(e, "id"));
    const char *st = json_string_value(json_object_get(e, "status"));
    dirty2 |= !strcmp(id, "CVE-2022-0847") && !strcmp(st, "affected");
    leaky |= !strcmp(id, "CVE-2024-21626") && !strcmp(st, "affected");
    ub2 |= !strncmp(id, "CVE-2023-", 9) && strstr(id, "2640");
  }
  ok(!dirty2, "5.10.102 has the Dirty Pipe fix");
  ok(leaky, "runc 1.1.5+ds1 affected by CVE-2024-21626 (indicative)");
  ok(!ub2, "Ubuntu-only CVEs not shown elsewhere");

  char *out = NULL;
  int rc = run(&out, NULL, "--host", "--format", "json", "--fail-on", "never", NULL);
  is_int(rc, 0, "--host runs");
  _cleanup_json_ json_t *h = NULL;
  ok(wj_load_buffer("host.json", out, strlen(out), &h, &err) == 0, "--host JSON parses");
  ok(json_is_string(json_object_get(json_object_get(h, "host"), "kernel_release")), "kernel release reported");
  ok(json_array_size(json_object_get(h, "components")) >= 2, "kernel and ward at least");
  free(out);
}

int main(void)
{
  test_locations();
  test_errors();
  test_exit_and_formats();
  test_versions();
  test_audit_rules();
  test_audit_check();
  return tap_done();
}
