/* A tiny TCP server that runs a command through a shell for each client
 * (inject.server_shell): "server PORT CMD". With "server PORT -" it answers
 * without a shell (the negative control). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  if (argc < 3)
    return 2;
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t) atoi(argv[1])),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(s, (struct sockaddr *) &a, sizeof(a)) < 0 || listen(s, 4) < 0)
    return 1;
  /* one client, then exit */
  int c = accept(s, NULL, NULL);
  if (c < 0)
    return 1;
  if (strcmp(argv[2], "-") == 0) {
    write(c, "hello\n", 6);
  } else {
    pid_t p = fork();
    if (p == 0) {
      dup2(c, 1);
      execl("/bin/sh", "sh", "-c", argv[2], (char *) NULL);
      _exit(127);
    }
    waitpid(p, NULL, 0);
  }
  close(c);
  return 0;
}
