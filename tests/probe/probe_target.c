/* A program for the probe to watch: each mode makes a known set of calls so
 * test_preload.c can check the decoded events. Built without sanitizers. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void files(const char *dir)
{
  char p[512], q[512];
  if (chdir(dir) < 0)
    exit(2);
  close(open("rel-open", O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  snprintf(p, sizeof(p), "%s/abs-openat", dir);
  close(openat(AT_FDCWD, p, O_CREAT | O_RDWR | O_CLOEXEC, 0640));
  close(creat("created", 0600));
  FILE *f = fopen("fopened", "we");
  if (f)
    fclose(f);
  /* the probe hands the call's errno back untouched, and leaves it alone
   * when the call succeeds */
  if (open("/nonexistent/x", O_RDONLY) != -1 || errno != ENOENT)
    exit(3);
  errno = EXDEV;
  int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (nul < 0 || errno != EXDEV)
    exit(3);
  close(nul);
  mkdir("sub", 0750);
  chmod("created", 0700);
  rename("created", "renamed");
  symlink("target-text", "a-link");
  link("renamed", "hard");
  truncate("renamed", 5);
  unlink("hard");
  snprintf(q, sizeof(q), "%s/sub", dir);
  if (chdir(q) < 0)
    exit(2);
  close(open("in-sub", O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
}

static void net(const char *dir)
{
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof(un.sun_path), "%s/sock", dir);
  bind(s, (struct sockaddr *) &un, sizeof(un));
  listen(s, 4);
  int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  connect(c, (struct sockaddr *) &un, sizeof(un));
  /* a relative socket name is recorded joined to the cwd */
  if (chdir(dir) < 0)
    exit(2);
  struct sockaddr_un rel = {.sun_family = AF_UNIX, .sun_path = "./sock"};
  int r = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  connect(r, (struct sockaddr *) &rel, sizeof(rel));
  int a = accept4(s, NULL, NULL, SOCK_CLOEXEC);
  close(r);
  close(a);
  close(c);
  close(s);
  int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(1)};
  inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
  connect(t, (struct sockaddr *) &in, sizeof(in));  /* refused */
  close(t);
  int u = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(9), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  sendto(u, "x", 1, 0, (struct sockaddr *) &in6, sizeof(in6));
  close(u);
}

static void mem(void)
{
  void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  void *q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  mprotect(q, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
  int fd = memfd_create("payload", MFD_CLOEXEC);
  close(fd);
  munmap(p, 4096);
  munmap(q, 4096);
}

static void identity(void)
{
  if (setuid(getuid()) < 0 || setresgid(getgid(), getgid(), getgid()) < 0)
    exit(3);
  prctl(PR_SET_NAME, "probe-target");
  ptrace(PTRACE_PEEKDATA, 1, NULL, NULL);
}

static void dl(void)
{
  void *h = dlopen("libm.so.6", RTLD_NOW);
  if (h == NULL || dlsym(h, "cos") == NULL)
    exit(4);
  dlopen("libdoesnotexist.so", RTLD_NOW);
}

static int clone_child(void *arg)
{
  (void) arg;
  return 7;
}

static void exec_group(void)
{
  pid_t p = fork();
  if (p == 0) {
    char *argv[] = {"true", "from-fork", NULL};
    execve("/bin/true", argv, environ);
    _exit(127);
  }
  waitpid(p, NULL, 0);
  char *argv[] = {"true", "spawned", NULL};
  if (posix_spawn(&p, "/bin/true", NULL, NULL, argv, environ) == 0)
    waitpid(p, NULL, 0);
  if (system("exit 0") != 0)
    exit(5);
  p = vfork();
  if (p == 0)
    _exit(0);
  waitpid(p, NULL, 0);
  static char stack[65536];
  p = clone(clone_child, stack + sizeof(stack), SIGCHLD, NULL);
  int st = 0;
  waitpid(p, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 7)
    exit(6);
  execl("/bin/does-not-exist", "x", (char *) NULL);
}

/* opens /dev/null every 5 ms until the stop file appears (or 10 s) */
static void loop(const char *stopfile)
{
  for (int i = 0; i < 2000 && access(stopfile, F_OK) != 0; i++) {
    close(open("/dev/null", O_RDONLY | O_CLOEXEC));
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
  }
}

/* n opens of /dev/null, each us microseconds (busy-waited) after the last */
static void paced(long n, long us)
{
  struct timespec a, b;
  for (long i = 0; i < n; i++) {
    clock_gettime(CLOCK_MONOTONIC, &a);
    close(open("/dev/null", O_RDONLY | O_CLOEXEC));
    do
      clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < us * 1000L);
  }
}

static void flood(long n)
{
  for (long i = 0; i < n; i++)
    close(open("/dev/null", O_RDONLY | O_CLOEXEC));
}

/* finds our own mapping of the ring (/proc/self/maps names the memfd) */
static void *find_ring(size_t *len)
{
  FILE *f = fopen("/proc/self/maps", "re");
  char line[1024];
  void *r = NULL;
  while (f && fgets(line, sizeof(line), f)) {
    unsigned long lo, hi;
    if (strstr(line, "ward-ring") && sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
      r = (void *) lo;
      *len = hi - lo;
      break;
    }
  }
  if (f)
    fclose(f);
  return r;
}

static void unmap(void)
{
  size_t len = 0;
  void *r = find_ring(&len);
  if (r == NULL)
    exit(8);
  if (munmap(r, len) < 0)
    exit(9);
  flood(100);
}

static void garbage(void)
{
  size_t len = 0;
  unsigned char *r = find_ring(&len);
  if (r == NULL)
    exit(8);
  unsigned x = 12345;
  for (size_t i = 0; i < len; i++) {
    x = x * 1103515245 + 12345;
    r[i] = (unsigned char) (x >> 16);
  }
  flood(1000);
}

static __attribute__((noinline)) void nested_open(void)
{
  close(open("/dev/null", O_RDONLY | O_CLOEXEC));
  __asm__ volatile("");
}

/* For `ward probe stack` seen from the host: one open per line on stdin
 * (each after the test has changed the capture setting), and the process
 * stays until stdin closes, so ward can still read its maps. */
static void stack_on_cue(void)
{
  char buf[64];
  while (read(0, buf, sizeof(buf)) > 0)
    nested_open();
}

int main(int argc, char **argv)
{
  if (argc < 2)
    return 1;
  const char *m = argv[1];
  if (!strcmp(m, "files") && argc > 2)
    files(argv[2]);
  else if (!strcmp(m, "net") && argc > 2)
    net(argv[2]);
  else if (!strcmp(m, "mem"))
    mem();
  else if (!strcmp(m, "id"))
    identity();
  else if (!strcmp(m, "dl"))
    dl();
  else if (!strcmp(m, "exec"))
    exec_group();
  else if (!strcmp(m, "loop") && argc > 2)
    loop(argv[2]);
  else if (!strcmp(m, "paced") && argc > 3)
    paced(atol(argv[2]), atol(argv[3]));
  else if (!strcmp(m, "flood") && argc > 2)
    flood(atol(argv[2]));
  else if (!strcmp(m, "unmap"))
    unmap();
  else if (!strcmp(m, "garbage"))
    garbage();
  else if (!strcmp(m, "stack"))
    nested_open();
  else if (!strcmp(m, "stack-cue"))
    stack_on_cue();
  else
    return 1;
  return 0;
}
