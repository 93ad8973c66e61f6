/* Honeypot decoys: plausible fake secrets the probe serves in place of the
 * real files (probe_enforce.c maps /etc/shadow, ~/.ssh/id_*, ... to these
 * names). Every container gets fresh random tokens, so a decoy that shows
 * up later (exfiltrated, replayed against a registry or cloud API) names
 * the container it was taken from: the tokens are canaries. */
#include "probe/decoys.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

static void rand_chars(char *out, size_t n, const char *alphabet)
{
  size_t k = strlen(alphabet);
  uint8_t buf[256];
  size_t have = 0, used = 0;
  for (size_t i = 0; i < n; i++) {
    if (used == have) {
      ssize_t r = getrandom(buf, sizeof(buf), 0);
      have = r > 0 ? (size_t) r : 0;
      used = 0;
      if (have == 0) {  /* no entropy source: still plausible, not unique */
        buf[0] = (uint8_t) (i * 131 + 7);
        have = 1;
      }
    }
    out[i] = alphabet[buf[used++] % k];
  }
  out[n] = 0;
}

#define B64 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#define B64URL "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#define CRYPT "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

static char *pem(const char *kind, size_t chars)
{
  _cleanup_free_ char *body = malloc(chars + 1);
  if (body == NULL)
    return NULL;
  rand_chars(body, chars, B64);
  size_t cap = chars + chars / 70 + 256;
  char *out = malloc(cap);
  if (out == NULL)
    return NULL;
  size_t o = (size_t) snprintf(out, cap, "-----BEGIN %s PRIVATE KEY-----\n", kind);
  for (size_t i = 0; i < chars; i += 70) {
    size_t n = chars - i < 70 ? chars - i : 70;
    memcpy(out + o, body + i, n);
    o += n;
    out[o++] = '\n';
  }
  snprintf(out + o, cap - o, "-----END %s PRIVATE KEY-----\n", kind);
  return out;
}

static int put(const char *dir, const char *name, const char *text, ward_error_t *err)
{
  if (text == NULL)
    return ward_error(err, ENOMEM, "decoy %s", name);
  _cleanup_free_ char *p = NULL;
  if (asprintf(&p, "%s/%s", dir, name) < 0)
    return ward_error(err, ENOMEM, "decoy %s", name);
  return ward_write_file_atomic(p, text, strlen(text), 0644, err);
}

int ward_probe_write_decoys(const char *dir, ward_error_t *err)
{
  if (mkdir(dir, 0755) < 0 && errno != EEXIST)
    return ward_error_sys(err, "%s", dir);
  if (chmod(dir, 0755) < 0)
    return ward_error_sys(err, "%s: chmod", dir);
  char salt[17], hash[87], salt2[17], hash2[87], akid[17], secret[41], tok[37], auth[33], jwt1[120], jwt2[342];
  rand_chars(salt, 16, CRYPT);
  rand_chars(hash, 86, CRYPT);
  rand_chars(salt2, 16, CRYPT);
  rand_chars(hash2, 86, CRYPT);
  rand_chars(akid, 16, UPPER);
  rand_chars(secret, 40, B64);
  rand_chars(tok, 36, ALNUM);
  rand_chars(auth, 32, B64);
  rand_chars(jwt1, 119, B64URL);
  rand_chars(jwt2, 341, B64URL);
  _cleanup_free_ char *shadow = NULL, *aws = NULL, *docker = NULL, *kube = NULL, *netrc = NULL, *gitc = NULL,
                      *k8s = NULL;
  if (asprintf(&shadow,
               "root:$6$%s$%s:19834:0:99999:7:::\n"
               "daemon:*:19834:0:99999:7:::\nbin:*:19834:0:99999:7:::\nsys:*:19834:0:99999:7:::\n"
               "www-data:*:19834:0:99999:7:::\nnobody:*:19834:0:99999:7:::\n"
               "deploy:$6$%s$%s:19901:0:99999:7:::\n", salt, hash, salt2, hash2) < 0
      || asprintf(&aws, "[default]\naws_access_key_id = AKIA%s\naws_secret_access_key = %s\nregion = us-east-1\n",
                  akid, secret) < 0
      || asprintf(&docker, "{\n\t\"auths\": {\n\t\t\"https://index.docker.io/v1/\": {\n\t\t\t\"auth\": \"%s\"\n\t\t}\n\t}\n}\n",
                  auth) < 0
      || asprintf(&kube,
                  "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://10.96.0.1:443\n  name: prod\n"
                  "contexts:\n- context:\n    cluster: prod\n    user: deploy\n  name: prod\ncurrent-context: prod\n"
                  "users:\n- name: deploy\n  user:\n    token: eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.%s.%s\n", jwt1, jwt2) < 0
      || asprintf(&netrc, "machine github.com\n  login deploy\n  password ghp_%s\n", tok) < 0
      || asprintf(&gitc, "https://deploy:ghp_%s@github.com\n", tok) < 0
      || asprintf(&k8s, "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.%s.%s", jwt1, jwt2) < 0)
    return ward_error(err, ENOMEM, "decoys");
  _cleanup_free_ char *rsa = pem("RSA", 1624), *ed = pem("OPENSSH", 350), *ec = pem("EC", 160);
  if (put(dir, "shadow", shadow, err) < 0
      || put(dir, "gshadow", "root:*::\ndaemon:*::\nbin:*::\nsys:*::\nadm:*::\nsudo:*::deploy\nwww-data:*::\n", err) < 0
      || put(dir, "id_rsa", rsa, err) < 0 || put(dir, "id_ed25519", ed, err) < 0 || put(dir, "id_ecdsa", ec, err) < 0
      || put(dir, "aws_credentials", aws, err) < 0 || put(dir, "docker_config.json", docker, err) < 0
      || put(dir, "kube_config", kube, err) < 0 || put(dir, "netrc", netrc, err) < 0
      || put(dir, "git-credentials", gitc, err) < 0 || put(dir, "k8s_token", k8s, err) < 0)
    return -1;
  return 0;
}
