/* Asks for writable+executable memory two ways (inject.wx_mapping), or with
 * "benign" only for W and X separately (the negative control). With
 * "afterexec", first an execve of a file that does not exist, which fails
 * and must not be taken for this process's program. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  int benign = argc > 1 && strcmp(argv[1], "benign") == 0;
  if (argc > 1 && strcmp(argv[1], "afterexec") == 0) {
    char *const args[] = {"ward-missing-exe", NULL};
    execv("/nonexistent/ward-missing-exe", args);
  }
  void *a = mmap(NULL, 4096, benign ? PROT_READ | PROT_WRITE : PROT_READ | PROT_WRITE | PROT_EXEC,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  void *b = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED || b == MAP_FAILED)
    return 1;
  memset(b, 0xc3, 16);   /* ret */
  int r = mprotect(b, 4096, benign ? PROT_READ | PROT_EXEC : PROT_READ | PROT_WRITE | PROT_EXEC);
  printf("mmap %s, mprotect %d\n", benign ? "rw" : "rwx", r);
  return 0;
}
