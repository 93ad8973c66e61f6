/* Template files: JSON and YAML round trips, stable output, and errors that
 * name FILE:LINE: FIELD. */
#include "agent/template.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "tap.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void test_template_io(void);

static const char *const sample_json =
  "{\n"
  "  \"version\": 1,\n"
  "  \"app\": \"web\",\n"
  "  \"exec\": [{\"path\": \"/usr/bin/nginx\", \"sha256\": [\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"]},\n"
  "           \"/bin/sh\"],\n"
  "  \"files\": {\"read\": [\"/etc/nginx/**\", \"/proc/*/status\"], \"write\": [\"/var/log/nginx/access.log.#\"]},\n"
  "  \"network\": {\"listen\": [\"inet:0.0.0.0:80\"], \"connect\": [\"inet6:[::1]:5432\", \"unix:/run/app.sock\", \"inet:*:53\"]},\n"
  "  \"syscalls\": {\"seen\": [\"connect\"], \"complete\": [\"ptrace\"]},\n"
  "  \"identity\": [\"setuid:101\", \"1000\", \"true\"],\n"
  "  \"tree\": [\"/bin/sh -> /usr/bin/nginx\"],\n"
  "  \"deny\": {\"paths\": [\"/etc/shadow\"], \"connect\": [\"inet:169.254.169.254:80\"]},\n"
  "  \"model\": {\"anything\": [1, 2, {\"x\": null}]}\n"
  "}\n";

static int load(const char *name, const char *text, struct ward_template **t, ward_error_t *err)
{
  return ward_template_load_buffer(name, text, strlen(text), t, err);
}

static void expect_error(const char *name, const char *text, const char *want)
{
  _cleanup_template_ struct ward_template *t = NULL;
  _cleanup_error_ ward_error_t err = NULL;
  int rc = load(name, text, &t, &err);
  ok(rc < 0 && t == NULL, "%s is refused", name);
  contains(err ? err->msg : NULL, want, "%s: error names the place", name);
}

static void test_round_trip(void)
{
  _cleanup_template_ struct ward_template *t = NULL;
  _cleanup_error_ ward_error_t err = NULL;
  ok(load("sample.json", sample_json, &t, &err) == 0, "sample loads%s%s", err ? ": " : "", err ? err->msg : "");
  if (t == NULL)
    return;
  char dir[] = "/tmp/ward-tpl-io.XXXXXX";
  ok(mkdtemp(dir) != NULL, "temp dir");
  char jpath[64], ypath[64];
  snprintf(jpath, sizeof(jpath), "%s/t.json", dir);
  snprintf(ypath, sizeof(ypath), "%s/t.yaml", dir);
  ok(ward_template_save(t, jpath, &err) == 0 && ward_template_save(t, ypath, &err) == 0, "saved as JSON and YAML");
  _cleanup_template_ struct ward_template *j = NULL, *y = NULL;
  ok(ward_template_load(jpath, &j, &err) == 0, "JSON reloads");
  ok(ward_template_load(ypath, &y, &err) == 0, "YAML reloads%s%s", err ? ": " : "", err ? err->msg : "");
  ok(j && y && ward_template_diff(t, j, NULL) == 0 && ward_template_diff(t, y, NULL) == 0, "both equal the original");
  ok(y && json_equal(ward_template_model(t), ward_template_model(y)), "the model survives YAML");
  _cleanup_free_ char *yaml = NULL, *json1 = NULL, *json2 = NULL;
  size_t len;
  ok(ward_read_file(ypath, 0, &yaml, &len, &err) == 0, "read YAML back");
  contains(yaml, "version: 1\napp: web\nexec:\n- path: /bin/sh\n- path: /usr/bin/nginx\n", "YAML is block style, sorted");
  contains(yaml, "- \"1000\"\n- setuid:101\n- \"true\"\n", "strings YAML would misread are quoted");
  ok(ward_read_file(jpath, 0, &json1, &len, &err) == 0, "read JSON back");
  ok(j && ward_template_save(j, jpath, &err) == 0 && ward_read_file(jpath, 0, &json2, &len, &err) == 0,
     "save again");
  is_str(json1, json2, "saving is stable (byte for byte)");
  contains(json1, "\"version\": 1,\n  \"app\": \"web\",\n  \"exec\": [", "version and app first");
  unlink(jpath);
  unlink(ypath);
  rmdir(dir);

  /* YAML written by hand, with comments and flow lists */
  const char *hand = "# reviewed by ops\nversion: 1\napp: db\nfiles:\n  read: [/etc/db.conf]\n"
                     "network:\n  listen:\n    - inet:0.0.0.0:5432\n";
  _cleanup_template_ struct ward_template *h = NULL;
  ok(load("db.yaml", hand, &h, &err) == 0, "hand-written YAML loads");
  is_str(h ? ward_template_app(h) : NULL, "db", "app name");
}

/* A path the workload named with bytes that are not UTF-8 cannot be
 * written into a template file: left out with a warning (counted), and so
 * a deviation after reload; the other entries are kept. */
static void test_not_utf8(void)
{
  _cleanup_template_ struct ward_template *t = ward_template_new("odd");
  struct ward_event ev = {.type = WARD_EV_OPEN, .source = WARD_SRC_PROBE, .pid = 1, .tid = 1, .ret = 3,
                          .flags = O_RDONLY};
  strcpy(ev.path, "/data/ok");
  ward_template_learn(t, &ev, -1);
  strcpy(ev.path, "/data/\xff");
  ward_template_learn(t, &ev, -1);
  char dir[] = "/tmp/ward-tpl-utf.XXXXXX";
  ok(mkdtemp(dir) != NULL, "not UTF-8: temp dir");
  char path[64];
  snprintf(path, sizeof(path), "%s/t.json", dir);
  /* the warning goes to stderr: read it back through a pipe */
  int p[2];
  fflush(stderr);
  int saved = dup(2);
  ok(pipe2(p, O_CLOEXEC) == 0 && dup2(p[1], 2) == 2, "not UTF-8: stderr captured");
  _cleanup_error_ ward_error_t err = NULL;
  int rc = ward_template_save(t, path, &err);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(p[1]);
  char msg[512] = "";
  ssize_t n = read(p[0], msg, sizeof(msg) - 1);
  msg[n > 0 ? n : 0] = 0;
  close(p[0]);
  ok(rc == 0, "not UTF-8: the template is saved");
  contains(msg, "1 learned entry is not UTF-8", "not UTF-8: a warning says one entry was left out");
  _cleanup_template_ struct ward_template *back = NULL;
  ok(ward_template_load(path, &back, &err) == 0, "not UTF-8: the file reloads");
  struct ward_deviation d;
  strcpy(ev.path, "/data/ok");
  ok(back && ward_template_check(back, &ev, &d) == 0, "not UTF-8: the other entry is kept");
  strcpy(ev.path, "/data/\xff");
  ok(back && ward_template_check(back, &ev, &d) == 1, "not UTF-8: the one left out deviates");
  unlink(path);
  rmdir(dir);
}

static void test_errors(void)
{
  expect_error("a.json", "{\"version\": 1, \"app\": \"x\",\n \"exex\": []}", "a.json:2: exex: unknown field");
  expect_error("b.json", "{\"version\": 1, \"app\": \"x\",\n \"files\": {\n  \"raed\": []}}", "b.json:3: files.raed: unknown field");
  expect_error("c.json", "{\"version\": 1, \"app\": \"x\",\n \"files\": {\"read\": [\n \"/a\",\n 7]}}",
               "c.json:4: files.read[1]: expected a string, found an integer");
  expect_error("d.json", "{\"version\": 2, \"app\": \"x\"}", "d.json:1: version: unsupported version");
  expect_error("e.json", "{\"app\": \"x\"}", "e.json: version: missing");
  expect_error("f.json", "{\"version\": 1,\n \"app\": \"x\",", "f.json:2:");
  expect_error("g.yaml", "version: 1\napp: x\nnetwork:\n  connect:\n    - inet:1.2.3.4\n",
               "g.yaml:5: network.connect[0]: \"inet:1.2.3.4\": expected inet:ADDR:PORT");
  expect_error("h.yaml", "version: 1\napp: x\nnetwork:\n  listen: [\"inet:0.0.0.0:70000\"]\n",
               "h.yaml:4: network.listen[0]: \"inet:0.0.0.0:70000\": port must be 0-65535");
  expect_error("i.yaml", "version: 1\napp: x\ndeny:\n  paths:\n  - /etc/*\n", "i.yaml:5: deny.paths[0]: \"/etc/*\": deny paths are exact");
  expect_error("j.yaml", "version: 1\napp: x\nfiles:\n  write:\n  - relative/path\n",
               "j.yaml:5: files.write[0]: \"relative/path\" is not an absolute path");
  expect_error("k.yaml", "version: 1\napp: &a x\nidentity: [*a]\n", "k.yaml:3: identity[0]: aliases are not supported");
  expect_error("l.yaml", "version: 1\napp: x\ntree:\n- /bin/sh /bin/ls\n", "l.yaml:4: tree[0]: \"/bin/sh /bin/ls\": expected \"PARENT -> CHILD\"");
  expect_error("m.yaml", "version: 1\napp: x\nexec:\n- path: /bin/ls\n  sha256: [abc]\n", "m.yaml:5: exec[0].sha256[0]: expected 64 lowercase hex digits");
  expect_error("n.yaml", "version: 1\napp: x\nexec:\n- path: /bin/ls\n  hash: y\n", "n.yaml:5: exec[0].hash: unknown field");
  expect_error("o.yaml", "version: 1\napp: x\n  bad indent: [\n", "o.yaml:3:");
  expect_error("p.yaml", "version: 1\napp: x\napp: y\n", "p.yaml:3: app: duplicate key");
  expect_error("q.yaml", "- 1\n- 2\n", "q.yaml:1: (top): expected an object, found an array");
  expect_error("r.yaml", "", "r.yaml:1: empty document");
  expect_error("s.json", "{\"version\": 1, \"app\": \"\"}", "s.json:1: app: empty");
  _cleanup_template_ struct ward_template *t = NULL;
  _cleanup_error_ ward_error_t err = NULL;
  ok(ward_template_load("/nonexistent/t.json", &t, &err) < 0, "missing file");
  contains(err ? err->msg : NULL, "/nonexistent/t.json", "error names the file");
}

static void test_event_json(void)
{
  const char *line = "{\"seq\":23,\"source\":\"probe\",\"type\":\"connect\",\"pid\":7,\"tid\":7,\"ret\":-111,"
                     "\"errno\":\"ECONNREFUSED\",\"call\":\"connect\",\"arg\":3,\"family\":\"inet\","
                     "\"addr\":\"127.0.0.1\",\"port\":7777,\"future_field\":1}";
  struct ward_event *ev = calloc(1, sizeof(*ev));
  _cleanup_json_ json_t *o = json_loads(line, 0, NULL);
  _cleanup_error_ ward_error_t err = NULL;
  ok(ev && o && ward_template_event_from_json(o, ev, &err) == 0, "an events line decodes (unknown fields ignored)");
  ok(ev && ev->type == WARD_EV_CONNECT && ev->pid == 7 && ev->ret == -111 && ev->port == 7777 &&
     ev->addr[0] == 127 && ev->addr[3] == 1 && ev->call != 0, "its fields");
  _cleanup_json_ json_t *bad = json_loads("{\"type\":\"open\",\"pid\":\"one\"}", 0, NULL);
  ok(ward_template_event_from_json(bad, ev, &err) < 0, "a wrongly typed field is refused");
  contains(err ? err->msg : NULL, "pid: expected an integer", "naming the field");
  _cleanup_json_ json_t *bad2 = json_loads("{\"type\":\"connect\",\"family\":\"inet\",\"addr\":\"::1\"}", 0, NULL);
  ok(ward_template_event_from_json(bad2, ev, &err) < 0, "an address of the wrong family is refused");
  contains(err ? err->msg : NULL, "addr: \"::1\" is not an IPv4 address", "naming it");
  free(ev);
}

void test_template_io(void)
{
  test_round_trip();
  test_not_utf8();
  test_errors();
  test_event_json();
}
