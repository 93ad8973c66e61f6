/* The ruleset as ward holds it between parsing and apply: everything is
 * validated and turned into masks up front, so apply only opens the paths,
 * issues the syscalls and formats into the caller's buffer. */
#ifndef WARD_LANDLOCK_INTERNAL_H
#define WARD_LANDLOCK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct ward_ll_path {
  char *path;      /* absolute, inside the container */
  char *origin;    /* the option or annotation it came from, for errors */
  uint64_t access; /* WARD_LL_FS_* as asked, before ABI and file masking */
};

struct ward_ll_port {
  uint64_t port;
  uint64_t access;  /* LANDLOCK_ACCESS_NET_* */
};

struct ward_landlock {
  struct ward_ll_path *paths;
  size_t n_paths;
  struct ward_ll_port *ports;
  size_t n_ports;
  bool handle_net;  /* a port rule or an explicit "no network" was given */
  uint64_t scoped;  /* LANDLOCK_SCOPE_* */
  bool strict;
  bool audit;
  int abi_max;      /* -1: no cap */
};

/* Cap on port rules, so a range like 1-65535 cannot make apply issue tens of
 * thousands of syscalls (handling net without rules is the way to deny). */
#define WARD_LL_MAX_PORTS 1024

/* "read_file,read_dir" or "ro" / "rw" / "exec" into a WARD_LL_FS_* mask. */
int ward_ll_parse_access(const char *access, uint64_t *mask, ward_error_t *err);
/* "80,443,8000-8010" or "none" for connect/bind; adds the ports. */
int ward_ll_parse_ports(struct ward_landlock *ll, const char *kind, const char *list, ward_error_t *err);
/* "abstract-unix,signal" or "none". */
int ward_ll_parse_scopes(const char *list, bool *abstract_unix, bool *signal, ward_error_t *err);
/* Names the rights in mask, comma separated, into buf. */
void ward_ll_access_names(uint64_t mask, char *buf, size_t len);

#endif
