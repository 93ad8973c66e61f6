/* Seccomp profiles come from bundle authors (OCI) and from files users
 * download (Docker/containers-common). Both readers take the input; what
 * they accept must convert to the OCI form and read back as OCI with the
 * same cache key. Nothing is compiled or loaded here. */
#include "common/cleanup.h"
#include "common/json.h"
#include "seccomp/seccomp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void round_trip(const struct ward_seccomp *s)
{
  _cleanup_error_ ward_error_t err = NULL;
  _cleanup_json_ json_t *oci = NULL;
  if (ward_seccomp_to_oci(s, &oci, &err) < 0)
    return;  /* only allocation can fail here */
  struct ward_seccomp *back = NULL;
  if (ward_seccomp_parse_oci(oci, "fuzz", &back, &err) < 0)
    abort();  /* the writer produced something the reader refuses */
  char k1[65], k2[65];
  if (ward_seccomp_cache_key(s, k1, &err) == 0 && ward_seccomp_cache_key(back, k2, &err) == 0 &&
      strcmp(k1, k2) != 0)
    abort();
  ward_seccomp_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  _cleanup_error_ ward_error_t err = NULL;
  _cleanup_json_ json_t *doc = NULL;
  if (wj_load_buffer("fuzz.json", (const char *) data, size, &doc, &err) < 0)
    return 0;
  struct ward_seccomp *s = NULL;
  if (ward_seccomp_parse_oci(doc, "linux.seccomp", &s, &err) == 0) {
    round_trip(s);
    ward_seccomp_free(s);
  }
  /* a fixed target keeps runs reproducible across machines */
  struct ward_seccomp_target t = {.caps = 1ULL << 21, .arch = 0xc000003e /* x86_64 */,
                                  .kernel_major = 5, .kernel_minor = 10};
  s = NULL;
  if (ward_seccomp_parse_docker(doc, "", &t, &s, &err) == 0) {
    round_trip(s);
    ward_seccomp_free(s);
  }
  return 0;
}
