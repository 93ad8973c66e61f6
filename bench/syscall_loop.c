/* Per-syscall cost under a seccomp filter: a tight loop of getppid(2)
 * through syscall(2) (no libc caching), run as the container's process
 * under each runtime with the same profile. Prints nanoseconds per call.
 *
 *   syscall-loop [ITERATIONS] [ROUNDS]   (default 5000000 x 5, median printed)
 *
 * getppid is cheap and in every allow list, so the time is dominated by
 * kernel entry plus the filter's walk to the rule that allows it; the
 * difference between runtimes for one profile is the filter's layout. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
  long iterations = argc > 1 ? atol(argv[1]) : 5000000;
  int rounds = argc > 2 ? atoi(argv[2]) : 5;
  if (iterations <= 0 || rounds <= 0 || rounds > 101) {
    fprintf(stderr, "usage: syscall-loop [ITERATIONS] [ROUNDS<=101]\n");
    return 2;
  }
  double per_call[101];
  for (int r = 0; r < rounds; r++) {
    double start = now_ns();
    for (long i = 0; i < iterations; i++)
      syscall(SYS_getppid);
    per_call[r] = (now_ns() - start) / (double) iterations;
  }
  qsort(per_call, (size_t) rounds, sizeof(double), cmp);
  printf("getppid: %.1f ns/call (median of %d x %ld)\n", per_call[rounds / 2], rounds, iterations);
  return 0;
}
