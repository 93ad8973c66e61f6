/* The compiled program, shared by the compiler and the loader. */
#ifndef WARD_SECCOMP_PROG_H
#define WARD_SECCOMP_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/filter.h>

struct ward_seccomp_prog {
  struct sock_filter *insns;
  size_t n_insns;
  unsigned flags;    /* SECCOMP_FILTER_FLAG_* from the profile */
  bool listener;     /* NOTIFY rules: load asks for a listener fd */
  bool from_cache;
  char key[65];
};

#endif
