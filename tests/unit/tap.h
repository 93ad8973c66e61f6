/* A minimal TAP producer for unit tests; meson reads the TAP stream. */
#ifndef WARD_TAP_H
#define WARD_TAP_H

#include <stdbool.h>
#include <string.h>

void tap_ok(bool cond, const char *file, int line, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
int tap_done(void);

#define ok(cond, ...) tap_ok((cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(a, b, ...) do { long long _a = (a), _b = (b); \
    tap_ok(_a == _b, __FILE__, __LINE__, __VA_ARGS__); \
    if (_a != _b) tap_diag("  got %lld, expected %lld", _a, _b); } while (0)
#define is_str(a, b, ...) do { const char *_a = (a), *_b = (b); \
    bool _eq = _a && _b && strcmp(_a, _b) == 0; \
    tap_ok(_eq, __FILE__, __LINE__, __VA_ARGS__); \
    if (!_eq) tap_diag("  got \"%s\", expected \"%s\"", _a ? _a : "(null)", _b ? _b : "(null)"); } while (0)
#define contains(hay, needle, ...) do { const char *_h = (hay), *_n = (needle); \
    bool _in = _h && _n && strstr(_h, _n) != NULL; \
    tap_ok(_in, __FILE__, __LINE__, __VA_ARGS__); \
    if (!_in) tap_diag("  \"%s\" does not contain \"%s\"", _h ? _h : "(null)", _n ? _n : "(null)"); } while (0)

void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
