/* A program for enforcement tests (test_enforce.c, probe_enforce.bats):
 * each command makes one call and prints what came back, so the test can
 * tell a refusal (errno) from a success. Built without sanitizers.
 *
 *   open PATH [r|w]        first line read, or "errno=N"
 *   fopen PATH r|w
 *   connect IP PORT        TCP; "connected" + first line the peer sends
 *   udp IP PORT            sendto
 *   sendmsg IP PORT        UDP sendmsg with a destination
 *   exec PATH | execvp NAME | spawn PATH | system CMD
 *   unlink PATH | rename A B | mkdir PATH
 *   restrict FILE          waits for FILE, makes one interposed call, then
 *                          reports the seccomp filter count of itself and of
 *                          a second thread and a fork child, and tries raw
 *                          execve/ptrace
 *   restrict-vfork FILE    the same with a vfork child making the first call */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int report(int r)
{
  if (r < 0)
    printf("errno=%d\n", errno);
  else
    printf("ok\n");
  return 0;
}

static int first_line(int fd)
{
  char buf[256];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  buf[n > 0 ? n : 0] = 0;
  char *nl = strchr(buf, '\n');
  if (nl)
    *nl = 0;
  printf("%s\n", buf);
  return 0;
}

static int sock_addr(const char *ip, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
  memset(ss, 0, sizeof(*ss));
  struct sockaddr_in *in = (struct sockaddr_in *) ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;
  if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t) atoi(port));
    *len = sizeof(*in);
    return AF_INET;
  }
  if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t) atoi(port));
    *len = sizeof(*in6);
    return AF_INET6;
  }
  exit(2);
}

static void status_line(const char *file, char *out, size_t cap)
{
  FILE *f = fopen(file, "r");
  char line[256];
  snprintf(out, cap, "?");
  while (f && fgets(line, sizeof(line), f))
    if (strncmp(line, "Seccomp_filters:", 16) == 0) {
      snprintf(out, cap, "%d", atoi(line + 16));
      break;
    }
  if (f)
    fclose(f);
}

static volatile int thread_go, thread_done;
static char thread_filters[16];
static long thread_execve_errno;

static void *side_thread(void *arg)
{
  (void) arg;
  while (!__atomic_load_n(&thread_go, __ATOMIC_ACQUIRE))
    usleep(1000);
  char p[64];
  snprintf(p, sizeof(p), "/proc/self/task/%ld/status", (long) syscall(SYS_gettid));
  status_line(p, thread_filters, sizeof(thread_filters));
  char *argv[] = {"/nonexistent/ward-x", NULL};
  long r = syscall(SYS_execve, "/nonexistent/ward-x", argv, environ);
  thread_execve_errno = r < 0 ? errno : 0;
  __atomic_store_n(&thread_done, 1, __ATOMIC_RELEASE);
  return NULL;
}

static int restrict_check(const char *file)
{
  pthread_t t;
  pthread_create(&t, NULL, side_thread, NULL);
  char before[16], after[16];
  status_line("/proc/self/status", before, sizeof(before));
  struct stat st;
  for (int i = 0; i < 10000 && syscall(SYS_newfstatat, AT_FDCWD, file, &st, 0) != 0; i++)
    usleep(1000);
  /* the first interposed call after the mode changed installs the layer */
  int fd = open("/dev/null", O_RDONLY);
  if (fd >= 0)
    close(fd);
  status_line("/proc/self/status", after, sizeof(after));
  __atomic_store_n(&thread_go, 1, __ATOMIC_RELEASE);
  pthread_join(t, NULL);
  char *argv[] = {"/nonexistent/ward-x", NULL};
  long r = syscall(SYS_execve, "/nonexistent/ward-x", argv, environ);
  long ex = r < 0 ? errno : 0;
  r = syscall(SYS_ptrace, PTRACE_PEEKUSER, 1, 0, 0);
  long pt = r < 0 ? errno : 0;
  /* a fork child inherits the filter and must not stack a second one */
  int p[2];
  char child[16] = "?";
  if (pipe(p) == 0) {
    pid_t c = fork();
    if (c == 0) {
      int f = open("/dev/null", O_RDONLY);
      if (f >= 0)
        close(f);
      char cf[16];
      status_line("/proc/self/status", cf, sizeof(cf));
      ssize_t w = write(p[1], cf, strlen(cf) + 1);
      _exit(w > 0 ? 0 : 1);
    }
    ssize_t n = read(p[0], child, sizeof(child) - 1);
    child[n > 0 ? n : 0] = 0;
    waitpid(c, NULL, 0);
  }
  printf("filters-before=%s filters-after=%s thread-filters=%s raw-execve-errno=%ld thread-execve-errno=%ld "
         "raw-ptrace-errno=%ld fork-child-filters=%s\n", before, after, thread_filters, ex, thread_execve_errno, pt, child);
  return 0;
}

/* vfork child first: it shares the probe's memory with its parent, so what
 * it installs must not make the parent believe it has the filter too. */
static int restrict_vfork(const char *file)
{
  char before[16], after[16];
  status_line("/proc/self/status", before, sizeof(before));
  struct stat st;
  for (int i = 0; i < 10000 && syscall(SYS_newfstatat, AT_FDCWD, file, &st, 0) != 0; i++)
    usleep(1000);
  static char *av[] = {"/bin/true", NULL};
  pid_t c = vfork();
  if (c == 0) {
    execv("/bin/true", av);  /* refused by the probe: restrict allows no exec */
    _exit(errno);
  }
  int ws = 0;
  waitpid(c, &ws, 0);
  int f = open("/dev/null", O_RDONLY);
  if (f >= 0)
    close(f);
  status_line("/proc/self/status", after, sizeof(after));
  char *argv[] = {"/nonexistent/ward-x", NULL};
  long r = syscall(SYS_execve, "/nonexistent/ward-x", argv, environ);
  printf("vfork-child-exit=%d filters-before=%s filters-after=%s raw-execve-errno=%ld\n",
         WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, before, after, r < 0 ? (long) errno : 0L);
  return 0;
}

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc < 3)
    return 2;
  const char *m = argv[1];
  if (!strcmp(m, "open")) {
    int w = argc > 3 && argv[3][0] == 'w';
    int fd = w ? open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : open(argv[2], O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return report(-1);
    return w ? report(0) : first_line(fd);
  }
  if (!strcmp(m, "fopen") && argc > 3) {
    FILE *f = fopen(argv[2], argv[3]);
    if (f == NULL)
      return report(-1);
    return argv[3][0] == 'r' ? first_line(fileno(f)) : report(0);
  }
  if ((!strcmp(m, "connect") || !strcmp(m, "udp") || !strcmp(m, "sendmsg")) && argc > 3) {
    struct sockaddr_storage ss;
    socklen_t len;
    int fam = sock_addr(argv[2], argv[3], &ss, &len);
    int tcp = !strcmp(m, "connect");
    int s = socket(fam, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
    if (tcp) {
      if (connect(s, (struct sockaddr *) &ss, len) < 0)
        return report(-1);
      printf("connected\n");
      return first_line(s);
    }
    if (!strcmp(m, "udp"))
      return report((int) sendto(s, "x", 1, 0, (struct sockaddr *) &ss, len));
    struct iovec iov = {"x", 1};
    struct msghdr msg = {.msg_name = &ss, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1};
    return report((int) sendmsg(s, &msg, 0));
  }
  if (!strcmp(m, "exec")) {
    char *av[] = {argv[2], NULL};
    execv(argv[2], av);
    return report(-1);
  }
  if (!strcmp(m, "execvp")) {
    char *av[] = {argv[2], NULL};
    execvp(argv[2], av);
    return report(-1);
  }
  if (!strcmp(m, "spawn")) {
    pid_t pid;
    char *av[] = {argv[2], NULL};
    int r = posix_spawn(&pid, argv[2], NULL, NULL, av, environ);
    if (r) {
      errno = r;
      return report(-1);
    }
    return report(0);
  }
  if (!strcmp(m, "system")) {
    int r = system(argv[2]);
    return report(r == -1 ? -1 : 0);
  }
  if (!strcmp(m, "unlink"))
    return report(unlink(argv[2]));
  if (!strcmp(m, "mkdir"))
    return report(mkdir(argv[2], 0755));
  if (!strcmp(m, "rename") && argc > 3)
    return report(rename(argv[2], argv[3]));
  if (!strcmp(m, "restrict"))
    return restrict_check(argv[2]);
  if (!strcmp(m, "restrict-vfork"))
    return restrict_vfork(argv[2]);
  return 2;
}
