/* The supervisor's syscall table: which calls it knows how to decode, which
 * are watched by default, and how a (arch, nr) pair from a notification maps
 * back to an entry. Shared by the filter builder and the notification loop. */
#ifndef WARD_SUPERVISOR_TABLE_H
#define WARD_SUPERVISOR_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "probe/event.h"

enum sv_decode {
  SV_DEC_RAW,        /* numeric arguments only */
  SV_DEC_EXECVE,     /* path = filename, path2 = argv */
  SV_DEC_EXECVEAT,   /* same, relative to a dirfd, AT_EMPTY_PATH */
  SV_DEC_SOCKADDR,   /* fd, struct sockaddr *, socklen_t */
  SV_DEC_SOCKETCALL, /* i386 multiplexer: args[0] = call, args[1] = ulong[] */
};

struct sv_syscall {
  const char *name;
  const char *native;        /* native name when this is a compat-only alias */
  enum ward_event_type type;
  enum sv_decode decode;
  int8_t path_arg, path2_arg; /* string arguments read into path/path2, -1: none */
  int8_t fd_path_arg;         /* fd argument whose /proc link goes into path */
  int8_t arg_idx, flags_idx;  /* copied into ev.arg / ev.flags, -1: none */
  bool dflt;                  /* in the default watched set */
};

extern const struct sv_syscall sv_table[];
extern const unsigned sv_table_len;

/* Entry for a call in the given audit arch, NULL when the table lacks it.
 * *native_nr gets the native number of the same call (-1 when unknown),
 * name (unless NULL) its name in that ABI, table or not ("" when libseccomp
 * does not know the number): x32 numbers, which share x86_64's arch token,
 * are resolved as x32's. */
#define SV_NAME_MAX 48
const struct sv_syscall *sv_lookup(uint32_t arch, int nr, int *native_nr, char name[SV_NAME_MAX]);
const struct sv_syscall *sv_find(const char *name);

#endif
