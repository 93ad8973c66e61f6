/* Text forms of control-page values: mode names and addresses, for the CLI,
 * policies and actions. */
#include "probe/control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const struct { const char *name; uint32_t bit; } mode_names[] = {
  {"protect", WARD_CTL_MODE_PROTECT}, {"quarantine", WARD_CTL_MODE_QUARANTINE},
  {"restrict", WARD_CTL_MODE_RESTRICT}, {"honeypot", WARD_CTL_MODE_HONEYPOT},
  {"no-loopback", WARD_CTL_MODE_NO_LOOPBACK},
};

int64_t ward_control_mode_parse(const char *list)
{
  if (list == NULL || *list == 0)
    return -1;
  if (strcmp(list, "none") == 0 || strcmp(list, "off") == 0)
    return 0;
  uint32_t mode = 0;
  const char *p = list;
  for (;;) {
    size_t n = strcspn(p, ",");
    bool found = false;
    for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
      if (strlen(mode_names[i].name) == n && strncmp(p, mode_names[i].name, n) == 0) {
        mode |= mode_names[i].bit;
        found = true;
      }
    if (!found)
      return -1;
    if (p[n] == 0)
      return mode;
    p += n + 1;
  }
}

const char *ward_control_mode_format(uint32_t mode, char *buf, size_t cap)
{
  size_t o = 0;
  if (cap == 0)
    return buf;
  buf[0] = 0;
  if (mode == 0) {
    snprintf(buf, cap, "none");
    return buf;
  }
  for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
    if (mode & mode_names[i].bit) {
      int k = snprintf(buf + o, cap - o, "%s%s", o ? "," : "", mode_names[i].name);
      if (k < 0 || (size_t) k >= cap - o)
        break;
      o += (size_t) k;
    }
  return buf;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
  char *end;
  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || v > max)
    return -1;
  *out = v;
  return 0;
}

int ward_ctl_addr_parse(const char *text, struct ward_ctl_addr *out, ward_error_t *err)
{
  memset(out, 0, sizeof(*out));
  char buf[128];
  if (text == NULL || strlen(text) >= sizeof(buf) || *text == 0)
    return ward_error(err, EINVAL, "address \"%s\": empty or too long", text ? text : "");
  snprintf(buf, sizeof(buf), "%s", text);
  char *host = buf, *port = NULL;
  if (buf[0] == '[') {
    char *close = strchr(buf, ']');
    if (close == NULL)
      return ward_error(err, EINVAL, "address \"%s\": missing ']'", text);
    *close = 0;
    host = buf + 1;
    if (close[1] == ':')
      port = close + 2;
    else if (close[1])
      return ward_error(err, EINVAL, "address \"%s\": junk after ']'", text);
  } else {
    char *colon = strrchr(buf, ':');
    /* one colon: host:port; more: a bare IPv6 address */
    if (colon && strchr(buf, ':') == colon) {
      *colon = 0;
      port = colon + 1;
    }
  }
  if (port) {
    unsigned long v;
    if (parse_uint(port, 65535, &v) < 0)
      return ward_error(err, EINVAL, "address \"%s\": port \"%s\" is not 0..65535", text, port);
    out->port = (uint16_t) v;
  }
  if (strcmp(host, "*") == 0)
    return 0;  /* any family, any address */
  char *slash = strchr(host, '/');
  unsigned long prefix = 1000;
  if (slash) {
    *slash = 0;
    if (parse_uint(slash + 1, 128, &prefix) < 0)
      return ward_error(err, EINVAL, "address \"%s\": prefix \"%s\" is not a number of bits", text, slash + 1);
  }
  if (inet_pton(AF_INET, host, out->addr) == 1) {
    if (prefix != 1000 && prefix > 32)
      return ward_error(err, EINVAL, "address \"%s\": prefix /%lu longer than 32", text, prefix);
    out->family = AF_INET;
    out->prefix = (uint8_t) (prefix == 1000 ? 32 : prefix);
  } else if (inet_pton(AF_INET6, host, out->addr) == 1) {
    out->family = AF_INET6;
    out->prefix = (uint8_t) (prefix == 1000 ? 128 : prefix);
  } else {
    return ward_error(err, EINVAL, "address \"%s\": \"%s\" is not an IPv4 or IPv6 address", text, host);
  }
  return 0;
}

const char *ward_ctl_addr_format(const struct ward_ctl_addr *a, char *buf, size_t cap)
{
  char h[INET6_ADDRSTRLEN] = "*";
  if (a->family == AF_INET || a->family == AF_INET6)
    inet_ntop(a->family, a->addr, h, sizeof(h));
  bool full = (a->family == AF_INET && a->prefix == 32) || (a->family == AF_INET6 && a->prefix == 128) || a->family == 0;
  char pfx[8] = "";
  if (!full)
    snprintf(pfx, sizeof(pfx), "/%u", a->prefix);
  if (a->family == AF_INET6)
    snprintf(buf, cap, "[%s%s]:%u", h, pfx, a->port);
  else
    snprintf(buf, cap, "%s%s:%u", h, pfx, a->port);
  return buf;
}
