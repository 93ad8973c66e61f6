/* The event model shared by every producer (the in-container probe, the
 * seccomp supervisor) and every consumer (ward events, the agent, snapshots).
 *
 * Producers inside the container write raw records into the ring
 * (probe/ring.h, docs/events.md); the host decodes them, treating every byte
 * as hostile, into struct ward_event. Host-side producers such as the
 * supervisor build struct ward_event directly. */
#ifndef WARD_EVENT_H
#define WARD_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Where a container's probe files appear inside it. The probe also honours
 * $WARD_PROBE_DIR, which only ever lets a process blind itself. */
#define WARD_PROBE_DIR "/run/ward-probe"
#define WARD_PROBE_RING "ring"
#define WARD_PROBE_CONTROL "control"
#define WARD_PROBE_LIB "libward-probe.so"
#define WARD_PROBE_DECOYS "decoys"      /* honeypot decoy files (directory) */
/* Where they are on the host: in the container's memory directory
 * (common/rundir.h). */
#define WARD_STATE_PROBE "probe"

/* Probe groups: bit N of the control page's group mask enables group N. */
enum ward_probe_group {
  WARD_GROUP_EXEC, WARD_GROUP_FILE, WARD_GROUP_NET, WARD_GROUP_MEM,
  WARD_GROUP_IDENTITY, WARD_GROUP_DL, WARD_GROUP_PERF, WARD_GROUP_COUNT
};

enum ward_event_type {
  WARD_EV_INVALID = 0,
  /* exec group */
  WARD_EV_EXEC, WARD_EV_FORK, WARD_EV_CLONE, WARD_EV_SPAWN, WARD_EV_SYSTEM,
  /* file group */
  WARD_EV_OPEN, WARD_EV_UNLINK, WARD_EV_RENAME, WARD_EV_CHMOD, WARD_EV_CHOWN,
  WARD_EV_MKDIR, WARD_EV_SYMLINK, WARD_EV_LINK, WARD_EV_TRUNCATE,
  /* net group */
  WARD_EV_SOCKET, WARD_EV_CONNECT, WARD_EV_BIND, WARD_EV_LISTEN, WARD_EV_ACCEPT, WARD_EV_SENDTO,
  /* mem group */
  WARD_EV_MMAP_WX, WARD_EV_MPROTECT_WX, WARD_EV_MEMFD,
  /* identity group */
  WARD_EV_SETID, WARD_EV_CAPSET, WARD_EV_PRCTL, WARD_EV_PTRACE,
  /* dl group */
  WARD_EV_DLOPEN,
  /* perf group: one interposed call's duration */
  WARD_EV_CALL_TIME,
  /* from the seccomp supervisor: a watched system call */
  WARD_EV_SYSCALL,
  WARD_EV_TYPE_COUNT
};

enum ward_event_source { WARD_SRC_PROBE = 1, WARD_SRC_SUPERVISOR = 2, WARD_SRC_RUNTIME = 3 };

#define WARD_EVENT_STR_MAX 4096
#define WARD_EVENT_STACK_MAX 8

/* A decoded, validated event. Strings are NUL-terminated copies bounded by
 * WARD_EVENT_STR_MAX; fields a type does not use are zero. */
struct ward_event {
  enum ward_event_type type;
  enum ward_event_source source;
  uint64_t seq;        /* per-container sequence number */
  uint64_t ts_ns;      /* CLOCK_MONOTONIC */
  uint32_t pid, tid;   /* as seen inside the container's pid namespace */
  int64_t ret;         /* return value of the call, or -errno */
  uint32_t flags;      /* open flags, prot, clone flags, socket type, ... */
  uint32_t mode;       /* file mode, or socket family */
  int64_t arg;         /* a further numeric argument: uid, ptrace request, ... */
  char path[WARD_EVENT_STR_MAX];   /* resolved path, exec file, dlopen name */
  char path2[WARD_EVENT_STR_MAX];  /* rename/link target, argv summary */
  /* Network endpoint, for the net group: family AF_INET/AF_INET6/AF_UNIX. */
  uint16_t family;
  uint16_t port;
  uint8_t addr[16];
  /* Supervisor: the system call and its raw arguments. */
  int32_t syscall_nr;
  uint64_t args[6];
  /* perf group: the interposed function and how long it took. */
  uint32_t call_ns;
  /* Optional return addresses, symbolised on the host. */
  uint32_t n_stack;
  uint64_t stack[WARD_EVENT_STACK_MAX];
  bool denied;         /* a probe or the supervisor refused the call */
  /* Appended by the probe area. call: the interposed libc function (enum
   * ward_probe_call, probe/calls.h; ward_probe_call_name), 0 for other
   * sources. rec_flags: WARD_EVENT_F_* details about the strings. */
  uint16_t call;
  uint16_t rec_flags;
};

#define WARD_EVENT_F_TRUNC1 0x0002u  /* path was cut to fit the ring slot */
#define WARD_EVENT_F_TRUNC2 0x0004u  /* path2 was cut */
#define WARD_EVENT_F_REL1   0x0010u  /* path is relative to a directory the probe could not name */
#define WARD_EVENT_F_REL2   0x0020u
#define WARD_EVENT_F_REDIRECTED 0x0040u  /* honeypot: the call went to path2 (sink address or decoy file) instead */
#define WARD_EVENT_F_PERF   0x0080u  /* made with the perf group on: counted by `ward top` */
#define WARD_EVENT_F_TIMED  0x0100u  /* call_ns was measured (perf times one call in 2^perf_sample_shift) */

/* Consumers take events through a sink so producers need not know whether
 * they feed `ward events`, the in-process policy engine or the agent. */
typedef void (*ward_event_sink_fn)(void *opaque, const struct ward_event *ev);

const char *ward_event_type_name(enum ward_event_type type);
enum ward_probe_group ward_event_group(enum ward_event_type type);
const char *ward_probe_group_name(enum ward_probe_group g);
/* "exec,file" -> bit mask; -1 on an unknown name. "all" is every group. */
int64_t ward_probe_groups_parse(const char *list);
/* Appended by the probe area. */
const char *ward_probe_call_name(unsigned call);   /* "openat", NULL if unknown */
enum ward_event_type ward_event_type_from_name(const char *name);  /* INVALID if unknown */
/* "exec,connect" -> bit per event type, for call-stack capture: only types
 * the probe records (not call_time, not the supervisor's syscall); "all" is
 * every one of them, "none" is 0. -1 on an unknown or unfit name. */
int64_t ward_event_types_parse(const char *list);
/* The names of the types set in mask, comma-separated, into buf ("none"). */
const char *ward_event_types_format(uint64_t mask, char *buf, size_t cap);
const char *ward_event_source_name(enum ward_event_source s);

#endif
