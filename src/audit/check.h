/* ward check: what confines the calling process, as seen from inside.
 * Everything here is inferred from /proc, from harmless syscall probes and
 * from open() attempts that never write; docs/audit.md says how each field
 * is inferred and where the inference stops. */
#ifndef WARD_CHECK_H
#define WARD_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/error.h"

enum ward_ns_state { WARD_NS_UNKNOWN, WARD_NS_HOST, WARD_NS_PRIVATE };
struct ward_check_ns {
  const char *name;
  unsigned long ino;
  enum ward_ns_state state;
  int same_as_pid1;          /* 1, 0, -1 when /proc/1/ns is unreadable */
};

enum ward_probe_verdict { WARD_PROBE_REACHABLE, WARD_PROBE_BLOCKED, WARD_PROBE_KILLED, WARD_PROBE_UNAVAILABLE };
struct ward_check_probe {
  const char *name;
  int err;                   /* errno the probe got, 0 on success */
  int sig;                   /* signal that killed the probe child */
  enum ward_probe_verdict verdict;
};

struct ward_check_path { const char *path; const char *state; };
struct ward_check_socket { char path[256]; const char *found_by; bool writable; };

#define WARD_CHECK_MAX_PROBES 24
#define WARD_CHECK_MAX_PATHS 16
#define WARD_CHECK_MAX_SOCKETS 16

struct ward_check_report {
  uid_t uid, euid;
  gid_t gid;
  char uid_map[256], gid_map[256];
  bool uid_map_identity;     /* "0 0 4294967295": the initial mapping */
  struct ward_check_ns ns[8];
  size_t nns;
  char nspid[64];
  bool kthreadd_visible;     /* kernel threads in our /proc: host PID ns */
  uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
  int seccomp_mode, seccomp_filters;   /* -1 unknown */
  int no_new_privs;
  char lsm_label[128];
  int landlock_abi;          /* < 0: -errno from landlock_create_ruleset */
  int landlock_domain;       /* 1 evidence of a domain, 0 none found */
  char landlock_evidence[192];
  bool userns_create;        /* a child could unshare(CLONE_NEWUSER) */
  int userns_create_err;
  struct ward_check_probe probes[WARD_CHECK_MAX_PROBES];
  size_t nprobes;
  struct ward_check_path masked[WARD_CHECK_MAX_PATHS];
  size_t nmasked;
  struct ward_check_path writable[WARD_CHECK_MAX_PATHS];
  size_t nwritable;
  struct ward_check_socket sockets[WARD_CHECK_MAX_SOCKETS];
  size_t nsockets;
};

int ward_check_collect(struct ward_check_report *r, ward_error_t *err);
/* Syscall probes and the Landlock inference (part of collect). */
void ward_check_probe_syscalls(struct ward_check_report *r);
void ward_check_probe_landlock(struct ward_check_report *r);
const struct ward_check_probe *ward_check_find_probe(const struct ward_check_report *r, const char *name);
const char *ward_probe_verdict_name(enum ward_probe_verdict v);

json_t *ward_check_json(const struct ward_check_report *r);
void ward_check_render(FILE *out, const struct ward_check_report *r, bool color);
/* The whole `ward check` command; returns the exit status. */
int ward_check_main(int argc, char **argv, FILE *out, FILE *errout);

#endif
