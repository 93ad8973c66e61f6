#include "runtime/hooks.h"
#include "common/cleanup.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *ward_hook_kind_name(enum ward_hook_kind kind)
{
  static const char *names[WARD_HOOK_COUNT] = {"prestart", "createRuntime", "createContainer",
                                               "startContainer", "poststart", "poststop"};
  return names[kind];
}

static int run_one(const struct ward_hook *h, const char *state_json, ward_error_t *err)
{
  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0)
    return ward_error_sys(err, "pipe");
  pid_t pid = fork();
  if (pid < 0) {
    close(in[0]);
    close(in[1]);
    return ward_error_sys(err, "fork");
  }
  if (pid == 0) {
    ward_child_reset_signals();
    dup2(in[0], STDIN_FILENO);
    char *const empty[] = {NULL};
    char *const argv0[] = {h->path, NULL};
    execve(h->path, h->args ? h->args : argv0, h->env ? h->env : empty);
    _exit(127);
  }
  close(in[0]);
  /* A hook that does not read stdin must not block us: ignore EPIPE. */
  size_t len = strlen(state_json), off = 0;
  struct sigaction ign = {.sa_handler = SIG_IGN}, old;
  sigaction(SIGPIPE, &ign, &old);
  while (off < len) {
    ssize_t n = write(in[1], state_json + off, len - off);
    if (n <= 0)
      break;
    off += (size_t) n;
  }
  sigaction(SIGPIPE, &old, NULL);
  close(in[1]);

  _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
  int timeout_ms = h->timeout > 0 ? h->timeout * 1000 : -1;
  if (pidfd >= 0) {
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int r;
    do
      r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      return ward_error(err, ETIMEDOUT, "hook %s timed out after %d s", h->path, h->timeout);
    }
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return ward_error_sys(err, "wait for hook %s", h->path);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  if (WIFEXITED(status))
    return ward_error(err, 0, "hook %s exited with status %d", h->path, WEXITSTATUS(status));
  return ward_error(err, 0, "hook %s killed by signal %d", h->path, WTERMSIG(status));
}

int ward_hooks_run(const struct ward_hooks *hooks, enum ward_hook_kind kind, const char *state_json, ward_error_t *err)
{
  for (size_t i = 0; i < hooks->count[kind]; i++)
    if (run_one(&hooks->list[kind][i], state_json, err) < 0)
      return ward_error_prefix(err, "hooks.%s[%zu]", ward_hook_kind_name(kind), i);
  return 0;
}
