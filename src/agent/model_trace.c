/* Traces in the common research format (one trace per file, whitespace-
 * separated system-call names or numbers) and the mapping from events to
 * the tokens of such traces. Trace files come from anywhere: every byte is
 * checked and the first bad one is reported as file:line. */
#include "agent/model.h"
#include "common/cleanup.h"
#include "probe/calls.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool token_byte(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-' || c == ':';
}

static bool blank(unsigned char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int ward_trace_parse(struct ward_seq_model *m, bool add, const char *what, const char *buf, size_t len,
                     uint16_t **ids_out, size_t *n_out, ward_error_t *err)
{
  size_t cap = 0, n = 0, line = 1;
  _cleanup_free_ uint16_t *ids = NULL;
  for (size_t i = 0; i < len;) {
    unsigned char c = (unsigned char) buf[i];
    if (blank(c)) {
      line += c == '\n';
      i++;
      continue;
    }
    size_t start = i;
    while (i < len && token_byte((unsigned char) buf[i]))
      i++;
    if (i < len && !blank((unsigned char) buf[i]))
      return ward_error(err, 0, "%s:%zu: unexpected byte 0x%02x (a trace holds system-call names or numbers)", what,
                        line, (unsigned char) buf[i]);
    if (i - start > WARD_SEQ_TOKEN_MAX)
      return ward_error(err, 0, "%s:%zu: a token of %zu bytes (at most %d)", what, line, i - start,
                        WARD_SEQ_TOKEN_MAX);
    if (n == cap) {
      cap = cap ? cap * 2 : 256;
      uint16_t *bigger = realloc(ids, cap * sizeof(*ids));
      if (bigger == NULL)
        return ward_error(err, ENOMEM, "%s", what);
      ids = bigger;
    }
    ids[n++] = ward_seq_model_token(m, buf + start, i - start, add);
  }
  *ids_out = steal_pointer(&ids);
  *n_out = n;
  return 0;
}

int ward_trace_read_file(struct ward_seq_model *m, bool add, const char *file, uint16_t **ids, size_t *n,
                         ward_error_t *err)
{
  _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return ward_error(err, errno, "%s", file);
  if (!S_ISREG(st.st_mode))
    return ward_error(err, 0, "%s: not a regular file", file);
  if ((uint64_t) st.st_size > WARD_TRACE_FILE_MAX)
    return ward_error(err, 0, "%s: %lld bytes, larger than a trace may be (%u)", file, (long long) st.st_size,
                      WARD_TRACE_FILE_MAX);
  size_t len = (size_t) st.st_size;
  _cleanup_free_ char *buf = malloc(len + 1);
  if (buf == NULL)
    return ward_error(err, ENOMEM, "%s", file);
  size_t got = 0;
  while (got < len) {
    ssize_t r = read(fd, buf + got, len - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return ward_error(err, errno, "%s", file);
    if (r == 0)
      break;
    got += (size_t) r;
  }
  return ward_trace_parse(m, add, file, buf, got, ids, n, err);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

int ward_trace_read_dir(struct ward_seq_model *m, bool add, const char *dir, struct ward_trace_set *set,
                        ward_error_t *err)
{
  _cleanup_closedir_ DIR *d = opendir(dir);
  if (d == NULL)
    return ward_error(err, errno, "%s", dir);
  _cleanup_strv_ char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    if (n + 1 >= cap) {
      cap = cap ? cap * 2 : 64;
      char **bigger = realloc(names, cap * sizeof(char *));
      if (bigger == NULL)
        return ward_error(err, ENOMEM, "%s", dir);
      names = bigger;
    }
    if ((names[n] = strdup(de->d_name)) == NULL)
      return ward_error(err, ENOMEM, "%s", dir);
    names[++n] = NULL;
  }
  if (n)
    qsort(names, n, sizeof(char *), cmp_str);
  for (size_t i = 0; i < n; i++) {
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
      return ward_error(err, ENOMEM, "%s", dir);
    struct stat st;
    if (stat(path, &st) < 0)
      return ward_error(err, errno, "%s", path);
    if (!S_ISREG(st.st_mode))
      continue;   /* "every regular file in the dirs is a trace" */
    uint16_t *ids = NULL;
    size_t len = 0;
    if (ward_trace_read_file(m, add, path, &ids, &len, err) < 0)
      return -1;
    if (ward_trace_set_add(set, path, ids, len) < 0) {
      free(ids);
      return ward_error(err, ENOMEM, "%s", path);
    }
  }
  return 0;
}

/* System-call names by number, resolved once: libseccomp allocates. */
#define SYSCALL_NAMES 1024
static const char *syscall_names[SYSCALL_NAMES];
static pthread_once_t syscall_once = PTHREAD_ONCE_INIT;

static void load_syscall_names(void)
{
  for (int i = 0; i < SYSCALL_NAMES; i++)
    syscall_names[i] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, i);
}

/* The system call each interposed function makes (the probe's tokens are
 * libc entry points; traces speak system calls). Functions that are not one
 * call keep their own name: posix_spawn, system, dlopen. */
static const char *call_token(unsigned call)
{
  switch (call) {
  case WARD_CALL_execve: case WARD_CALL_execv: case WARD_CALL_execvp: case WARD_CALL_execvpe:
  case WARD_CALL_execl: case WARD_CALL_execlp: case WARD_CALL_execle:
    return "execve";
  case WARD_CALL_execveat: case WARD_CALL_fexecve: return "execveat";
  case WARD_CALL_open: case WARD_CALL_open64: case WARD_CALL_openat: case WARD_CALL_openat64:
  case WARD_CALL_fopen: case WARD_CALL_fopen64: case WARD_CALL_freopen: case WARD_CALL_freopen64:
  case WARD_CALL___open_2: case WARD_CALL___open64_2: case WARD_CALL___openat_2: case WARD_CALL___openat64_2:
    return "openat";
  case WARD_CALL_creat: case WARD_CALL_creat64: return "creat";
  case WARD_CALL_truncate: case WARD_CALL_truncate64: return "truncate";
  case WARD_CALL_mmap: case WARD_CALL_mmap64: return "mmap";
  default: {
    const char *n = ward_probe_call_name(call);
    return n;
  }
  }
}

const char *ward_event_token(const struct ward_event *ev)
{
  if (ev->type == WARD_EV_CALL_TIME || ev->type <= WARD_EV_INVALID || ev->type >= WARD_EV_TYPE_COUNT)
    return NULL;
  if (ev->type == WARD_EV_SYSCALL) {
    pthread_once(&syscall_once, load_syscall_names);
    if (ev->syscall_nr >= 0 && ev->syscall_nr < SYSCALL_NAMES && syscall_names[ev->syscall_nr])
      return syscall_names[ev->syscall_nr];
    return "syscall_unknown";
  }
  const char *t = ev->call ? call_token(ev->call) : NULL;
  /* events without a call number (older probes, runtime events): the type */
  return t ? t : ward_event_type_name(ev->type);
}
