/* Attaches to a sibling process with ptrace (inject.ptrace); with "self"
 * only PTRACE_TRACEME in a child (the negative control). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  int self = argc > 1 && strcmp(argv[1], "self") == 0;
  pid_t victim = fork();
  if (victim == 0) {
    if (self)
      ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    pause();
    _exit(0);
  }
  if (victim < 0)
    return 1;
  int rc = 0;
  if (!self) {
    pid_t tracer = fork();
    if (tracer == 0) {
      long r = ptrace(PTRACE_ATTACH, victim, NULL, NULL);
      printf("attach %ld\n", r);
      if (r == 0) {
        waitpid(victim, NULL, 0);
        ptrace(PTRACE_DETACH, victim, NULL, NULL);
      }
      _exit(r == 0 ? 0 : 1);
    }
    int st;
    waitpid(tracer, &st, 0);
    rc = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
  }
  kill(victim, SIGKILL);
  waitpid(victim, NULL, 0);
  return rc;
}
