/* Compile time of the default profile against a cache hit. Each sample is
 * a full ward_seccomp_compile(): for "compile" with no cache, for "cached"
 * with a warm cache directory (key hashing, file read, digest check).
 *
 *   bench-seccomp [SAMPLES]   (default 50; median printed)
 */
#include "common/cleanup.h"
#include "common/util.h"
#include "seccomp/seccomp.h"

#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
  return x < y ? -1 : x > y;
}

static int sample(const struct ward_seccomp *s, const char *cache, int n, uint64_t *median, bool *hit)
{
  _cleanup_free_ uint64_t *t = calloc((size_t) n, sizeof(*t));
  if (t == NULL)
    return -1;
  for (int i = 0; i < n; i++) {
    _cleanup_error_ ward_error_t err = NULL;
    struct ward_seccomp_prog *p = NULL;
    uint64_t start = ward_now_ns();
    if (ward_seccomp_compile(s, cache, &p, &err) < 0) {
      fprintf(stderr, "bench-seccomp: %s\n", err->msg);
      return -1;
    }
    t[i] = ward_now_ns() - start;
    *hit = ward_seccomp_prog_from_cache(p);
    ward_seccomp_prog_free(p);
  }
  qsort(t, (size_t) n, sizeof(*t), cmp);
  *median = t[n / 2];
  return 0;
}

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 50;
  if (n <= 0)
    return 2;
  _cleanup_error_ ward_error_t err = NULL;
  struct ward_seccomp *s = NULL;
  if (ward_seccomp_default(ward_seccomp_docker_default_caps(), &s, &err) < 0) {
    fprintf(stderr, "bench-seccomp: %s\n", err->msg);
    return 1;
  }
  char dir[] = "/tmp/ward-bench-seccomp-XXXXXX";
  if (mkdtemp(dir) == NULL)
    return 1;
  struct ward_seccomp_prog *p = NULL;
  size_t insns = 0;
  if (ward_seccomp_compile(s, dir, &p, &err) < 0)  /* warms the cache */
    return 1;
  ward_seccomp_prog_insns(p, &insns);
  ward_seccomp_prog_free(p);
  uint64_t compile_ns = 0, cached_ns = 0;
  bool hit_compile = false, hit_cached = false;
  int rc = sample(s, NULL, n, &compile_ns, &hit_compile) < 0 || sample(s, dir, n, &cached_ns, &hit_cached) < 0;
  ward_seccomp_free(s);
  ward_remove_tree(dir, &err);
  if (rc || hit_compile || !hit_cached)
    return 1;
  printf("default profile: %zu BPF instructions\n", insns);
  printf("compile: %.1f us (median of %d)\n", compile_ns / 1e3, n);
  printf("cached:  %.1f us (median of %d)\n", cached_ns / 1e3, n);
  printf("ratio:   %.1fx\n", cached_ns ? (double) compile_ns / (double) cached_ns : 0.0);
  return 0;
}
