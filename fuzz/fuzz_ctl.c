/* Control-page text and path handling: ward_ctl_addr_parse (CLI, policies),
 * ward_control_mode_parse, and the lexical path normalisation both the host
 * and the probe apply before hashing. Checks invariants, not just crashes:
 * a parsed address formats to text that parses back to the same address,
 * and normalisation yields a canonical absolute path and is idempotent. */
#include "probe/control.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char s[512];
  size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
  memcpy(s, data, n);
  s[n] = 0;

  ward_error_t err = NULL;
  struct ward_ctl_addr a, b;
  if (ward_ctl_addr_parse(s, &a, &err) == 0) {
    char txt[128];
    ward_ctl_addr_format(&a, txt, sizeof(txt));
    if (ward_ctl_addr_parse(txt, &b, &err) != 0 || memcmp(&a, &b, sizeof(a)) != 0)
      abort();
  } else {
    if (err == NULL || err->msg == NULL)
      abort();
    ward_error_free(&err);
  }

  int64_t m = ward_control_mode_parse(s);
  if (m > 0 && (m & ~(int64_t) WARD_CTL_MODE_KNOWN))
    abort();
  if (m >= 0) {
    char txt[128];
    if (ward_control_mode_parse(ward_control_mode_format((uint32_t) m, txt, sizeof(txt))) != m)
      abort();
  }

  /* paths reach the normaliser as C strings (strlen on the host, strnlen in
   * the probe): never with a NUL inside */
  char out[PATH_MAX], again[PATH_MAX];
  size_t k = ward_ctl_path_norm(out, sizeof(out), (const char *) data, strnlen((const char *) data, size));
  if (k) {
    if (out[0] != '/' || strlen(out) != k || strstr(out, "//") || strstr(out, "/./") || strstr(out, "/../")
        || (k > 1 && out[k - 1] == '/') || (k >= 2 && strcmp(out + k - 2, "/.") == 0)
        || (k >= 3 && strcmp(out + k - 3, "/..") == 0))
      abort();
    if (ward_ctl_path_norm(again, sizeof(again), out, k) != k || memcmp(out, again, k) != 0)
      abort();
  }
  return 0;
}
