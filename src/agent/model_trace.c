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
#include <sys/socket.h>
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

static bool loopback(const struct ward_event *ev)
{
  static const uint8_t v6lo[16] = {[15] = 1};
  if (ev->family == AF_INET)
    return ev->addr[0] == 127;
  return ev->family == AF_INET6 && memcmp(ev->addr, v6lo, 16) == 0;
}

static unsigned family_class(unsigned family)
{
  return family == AF_INET ? 1 : family == AF_INET6 ? 2 : family == AF_UNIX ? 3 : 0;
}

/* bits 0-1: open mode (1 r, 2 w, 3 create) or family (1 inet, 2 inet6,
 * 3 unix); bit 2: loopback; bit 3: the call failed */
unsigned ward_event_token_class(const struct ward_event *ev, bool *uncacheable)
{
  *uncacheable = false;
  if (ev->type == WARD_EV_SYSCALL)
    return 0;
  unsigned c = ev->ret < 0 ? 8 : 0;
  switch (ev->type) {
  case WARD_EV_OPEN:
    if (ev->flags & O_CREAT)
      return c | 3;
    return c | (((ev->flags & O_ACCMODE) != O_RDONLY || (ev->flags & O_TRUNC)) ? 2 : 1);
  case WARD_EV_CONNECT: case WARD_EV_BIND: case WARD_EV_SENDTO: case WARD_EV_ACCEPT:
    return c | family_class(ev->family) | (loopback(ev) ? 4 : 0);
  case WARD_EV_SOCKET:
    return c | family_class(ev->mode);
  case WARD_EV_EXEC: case WARD_EV_SPAWN:
    *uncacheable = ev->ret >= 0;
    return c;
  default:
    return c;
  }
}

size_t ward_event_token(const struct ward_event *ev, char *buf)
{
  if (ev->type == WARD_EV_CALL_TIME || ev->type <= WARD_EV_INVALID || ev->type >= WARD_EV_TYPE_COUNT)
    return 0;
  const char *base;
  if (ev->type == WARD_EV_SYSCALL) {
    pthread_once(&syscall_once, load_syscall_names);
    base = ev->syscall_nr >= 0 && ev->syscall_nr < SYSCALL_NAMES && syscall_names[ev->syscall_nr]
             ? syscall_names[ev->syscall_nr] : "syscall_unknown";
    return (size_t) snprintf(buf, WARD_EVENT_TOKEN_MAX + 1, "%s", base);
  }
  base = ev->call ? call_token(ev->call) : NULL;
  /* the supervisor's typed events (exec, connect, ...): the system call */
  if (base == NULL && ev->source == WARD_SRC_SUPERVISOR) {
    pthread_once(&syscall_once, load_syscall_names);
    if (ev->syscall_nr >= 0 && ev->syscall_nr < SYSCALL_NAMES)
      base = syscall_names[ev->syscall_nr];
  }
  /* events without a call number (older probes, runtime events): the type */
  if (base == NULL)
    base = ward_event_type_name(ev->type);
  bool name;
  unsigned c = ward_event_token_class(ev, &name);
  size_t n = (size_t) snprintf(buf, WARD_EVENT_TOKEN_MAX + 1, "%s", base);
  static const char *const modes[] = {"", ".r", ".w", ".c"};
  static const char *const fams[] = {"", ".inet", ".inet6", ".unix"};
  const char *suffix = "";
  if (ev->type == WARD_EV_OPEN)
    suffix = modes[c & 3];
  else if (ev->type == WARD_EV_CONNECT || ev->type == WARD_EV_BIND || ev->type == WARD_EV_SENDTO ||
           ev->type == WARD_EV_ACCEPT || ev->type == WARD_EV_SOCKET)
    suffix = fams[c & 3];
  n += (size_t) snprintf(buf + n, WARD_EVENT_TOKEN_MAX + 1 - n, "%s%s%s", suffix, (c & 4) ? ".lo" : "",
                         (c & 8) ? ".err" : "");
  if (name && n < WARD_EVENT_TOKEN_MAX - 1) {
    /* the program's base name, reduced to token bytes, at most 24 */
    const char *p = ev->path, *slash = strrchr(p, '/');
    p = slash ? slash + 1 : p;
    buf[n++] = '.';
    for (size_t k = 0; p[k] && k < 24 && n < WARD_EVENT_TOKEN_MAX; k++) {
      unsigned char ch = (unsigned char) p[k];
      buf[n++] = token_byte(ch) ? (char) ch : '_';
    }
    buf[n] = 0;
  }
  return n;
}
