/* A static workload for the supervisor tests: every operation is a raw
 * syscall(2), as a static or hand-written binary would make it, so nothing
 * but the seccomp filter can see it. Operations run in argv order; each
 * prints one line "op ret=R errno=E" to stdout for the test to check.
 *
 *   connect IP PORT | bind IP PORT | mount DIR | umount DIR | ptrace |
 *   memfd NAME | hot N | getppid N | flood-exec N | flood-connect N PORT |
 *   weird | int80-execve | x32-sethostname | exec-memfd | exec PATH ARG... (last) */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *op, long r)
{
  dprintf(1, "%s ret=%ld errno=%d\n", op, r, r < 0 ? errno : 0);
}

static long raw_connect(const char *ip, int port)
{
  int fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
  inet_pton(AF_INET, ip, &sin.sin_addr);
  long r = syscall(SYS_connect, fd, &sin, sizeof(sin));
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

static char *const empty_env[] = { NULL };

static void weird(void)
{
  /* Arguments a hostile or broken workload can pass: the supervisor must
   * neither crash nor hang on any of them. */
  long page = sysconf(_SC_PAGESIZE);
  char *map = mmap(NULL, 3 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(map + 2 * page, (size_t)page);        /* a hole right after map[2 pages) */
  memset(map, 'A', 2 * (size_t)page);          /* a "path" with no NUL before the hole */
  char *unmapped = map + 2 * page;
  report("weird-exec-null", syscall(SYS_execve, NULL, NULL, NULL));
  report("weird-exec-one", syscall(SYS_execve, (char *)1, NULL, NULL));
  report("weird-exec-unmapped", syscall(SYS_execve, unmapped, NULL, NULL));
  report("weird-exec-nonul", syscall(SYS_execve, map, NULL, NULL));
  char *argv_bad[] = { "x", unmapped, NULL };
  report("weird-exec-argv", syscall(SYS_execve, "/nonexistent", argv_bad, NULL));
  report("weird-exec-argvptr", syscall(SYS_execve, "/nonexistent", (char **)unmapped, NULL));
  report("weird-exec-kernelptr", syscall(SYS_execve, (char *)0xffffffffff600000ul, NULL, NULL));
  int fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  report("weird-connect-null", syscall(SYS_connect, fd, NULL, 16));
  report("weird-connect-unmapped", syscall(SYS_connect, fd, unmapped, 16));
  report("weird-connect-hugelen", syscall(SYS_connect, fd, map, 0xffffffffu));
  report("weird-connect-short", syscall(SYS_connect, fd, map, 1));
  close(fd);
  fd = (int)syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  memset(sun.sun_path, 'u', sizeof(sun.sun_path));   /* no NUL terminator */
  report("weird-connect-unix-nonul", syscall(SYS_connect, fd, &sun, sizeof(sun)));
  /* addr crossing into the hole: first bytes readable, rest not */
  report("weird-connect-straddle", syscall(SYS_connect, fd, unmapped - 4, 110));
  close(fd);
  report("weird-mount-garbage", syscall(SYS_mount, map, unmapped, (char *)1, 0, unmapped));
  munmap(map, 2 * (size_t)page);
}

/* execve through the i386 entry point (int $0x80): the classic way around a
 * filter that only knows the native ABI. In a child, since a kernel without
 * IA32 emulation answers with SIGSEGV. */
static char int80_path[] = "/nonexistent-int80";
static void int80_execve(void)
{
  pid_t pid = fork();
  if (pid == 0) {
    long r;
    __asm__ volatile ("int $0x80" : "=a"(r) : "a"(11), "b"(int80_path), "c"(0), "d"(0) : "memory");
    _exit(r == -ENOENT ? 0 : r == -ENOSYS ? 2 : 3);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  dprintf(1, "int80-execve ret=%d errno=0\n", WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st));
}

static void exec_memfd(void)
{
  int in = open("/bin/true", O_RDONLY | O_CLOEXEC);
  int mfd = (int)syscall(SYS_memfd_create, "ward-test", 0);
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof(buf))) > 0)
    if (write(mfd, buf, (size_t)n) != n)
      break;
  close(in);
  char *argv[] = { "true-from-memfd", NULL };
  pid_t pid = fork();
  if (pid == 0) {
    syscall(SYS_execveat, mfd, "", argv, empty_env, AT_EMPTY_PATH);
    _exit(99);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  close(mfd);
  dprintf(1, "exec-memfd ret=%d errno=0\n", WIFEXITED(st) ? WEXITSTATUS(st) : 100);
}

int main(int argc, char **argv)
{
  for (int i = 1; i < argc; i++) {
    const char *op = argv[i];
    if (!strcmp(op, "connect") && i + 2 < argc) {
      report(op, raw_connect(argv[i + 1], atoi(argv[i + 2])));
      i += 2;
    } else if (!strcmp(op, "mount") && i + 1 < argc) {
      report(op, syscall(SYS_mount, "ward-test", argv[++i], "tmpfs", 0, NULL));
    } else if (!strcmp(op, "umount") && i + 1 < argc) {
      report(op, syscall(SYS_umount2, argv[++i], 0));
    } else if (!strcmp(op, "ptrace")) {
      report(op, syscall(SYS_ptrace, PTRACE_PEEKDATA, 0x3ffffff0, 0, 0));
    } else if (!strcmp(op, "memfd") && i + 1 < argc) {
      long r = syscall(SYS_memfd_create, argv[++i], MFD_CLOEXEC);
      report(op, r);
      if (r >= 0)
        close((int)r);
    } else if (!strcmp(op, "hot") && i + 1 < argc) {
      long n = atol(argv[++i]);
      int z = open("/dev/zero", O_RDONLY | O_CLOEXEC), nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
      char c;
      long bad = 0;
      for (long k = 0; k < n; k++) {
        bad += syscall(SYS_read, z, &c, 1) != 1;
        bad += syscall(SYS_write, nul, &c, 1) != 1;
        syscall(SYS_getpid);
      }
      close(z);
      close(nul);
      report(op, -bad);
    } else if (!strcmp(op, "getppid") && i + 1 < argc) {
      long n = atol(argv[++i]);
      for (long k = 0; k < n; k++)
        syscall(SYS_getppid);
      report(op, 0);
    } else if (!strcmp(op, "flood-exec") && i + 1 < argc) {
      long n = atol(argv[++i]), enoent = 0;
      char *av[] = { "/nonexistent/flood", NULL };
      for (long k = 0; k < n; k++)
        enoent += syscall(SYS_execve, av[0], av, empty_env) < 0 && errno == ENOENT;
      report(op, enoent);
    } else if (!strcmp(op, "flood-connect") && i + 2 < argc) {
      long n = atol(argv[i + 1]), refused = 0;
      int port = atoi(argv[i + 2]);
      i += 2;
      for (long k = 0; k < n; k++)
        refused += raw_connect("127.0.0.1", port) < 0 && errno == ECONNREFUSED;
      report(op, refused);
    } else if (!strcmp(op, "weird")) {
      weird();
    } else if (!strcmp(op, "int80-execve")) {
      int80_execve();
    } else if (!strcmp(op, "x32-sethostname")) {
      /* x32's number of the call (x86_64's with __X32_SYSCALL_BIT): seccomp
       * sees it even where the kernel runs no x32 code (ENOSYS after); the
       * length is too long for a host name, so a kernel that does run x32
       * refuses it (EINVAL) instead of renaming the machine */
      report(op, syscall(0x40000000 | SYS_sethostname, "x32", 1000));
    } else if (!strcmp(op, "exec-memfd")) {
      exec_memfd();
    } else if (!strcmp(op, "exec") && i + 1 < argc) {
      syscall(SYS_execve, argv[i + 1], &argv[i + 1], empty_env);
      report(op, -1);
      return 99;
    } else {
      dprintf(2, "sv-helper: bad operation %s\n", op);
      return 2;
    }
  }
  return 0;
}
