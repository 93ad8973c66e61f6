/* Micro-benchmark for the interposed calls: a tight loop of open+close of
 * /dev/null, or of connect on a unix datagram socket. Prints ns per
 * iteration. Run under the three variants by bench/probe-micro.sh. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

int main(int argc, char **argv)
{
  if (argc < 3)
    return 2;
  long n = atol(argv[2]);
  double best = 1e30;
  if (!strcmp(argv[1], "open")) {
    for (int rep = 0; rep < 5; rep++) {
      double t = now();
      for (long i = 0; i < n; i++)
        close(open("/dev/null", O_RDONLY | O_CLOEXEC));
      t = (now() - t) / (double) n;
      best = t < best ? t : best;
    }
  } else if (!strcmp(argv[1], "openonly")) {
    /* with bench/probe_fake.c preloaded: no system call at all */
    for (int rep = 0; rep < 5; rep++) {
      double t = now();
      for (long i = 0; i < n; i++) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        __asm__ volatile("" : : "r"(fd) : "memory");
      }
      t = (now() - t) / (double) n;
      best = t < best ? t : best;
    }
  } else if (!strcmp(argv[1], "connect")) {
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof(un.sun_path), "/tmp/ward-bench-%d.sock", getpid());
    int srv = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    unlink(un.sun_path);
    if (bind(srv, (struct sockaddr *) &un, sizeof(un)) < 0)
      return 1;
    int c = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    for (int rep = 0; rep < 5; rep++) {
      double t = now();
      for (long i = 0; i < n; i++)
        connect(c, (struct sockaddr *) &un, sizeof(un));
      t = (now() - t) / (double) n;
      best = t < best ? t : best;
    }
    unlink(un.sun_path);
  } else if (!strcmp(argv[1], "connect4")) {
    /* with bench/probe_fake.c preloaded: an inet destination the enforcement
     * check has to parse and look up, without a system call */
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(443), .sin_addr.s_addr = htonl(0x0a010203)};
    for (int rep = 0; rep < 5; rep++) {
      double t = now();
      for (long i = 0; i < n; i++) {
        int r = connect(3, (struct sockaddr *) &in, sizeof(in));
        __asm__ volatile("" : : "r"(r) : "memory");
      }
      t = (now() - t) / (double) n;
      best = t < best ? t : best;
    }
  } else {
    return 2;
  }
  printf("%.1f\n", best);
  return 0;
}
