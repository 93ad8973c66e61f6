/* Runs a copy of a program from a file descriptor:
 *   fdexec memfd PROG ARGS...     from a memfd (inject.exec_memfd)
 *   fdexec deleted PROG ARGS...   from a file unlinked after opening (inject.exec_deleted)
 *   fdexec plain PROG ARGS...     execv of PROG itself (negative control) */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  if (argc < 3)
    return 2;
  if (strcmp(argv[1], "plain") == 0) {
    execv(argv[2], argv + 2);
    return 127;
  }
  int src = open(argv[2], O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (src < 0 || fstat(src, &st) < 0)
    return 1;
  int fd;
  if (strcmp(argv[1], "memfd") == 0) {
    fd = memfd_create("payload", MFD_CLOEXEC);
  } else {
    /* a rw copy is not executable while open for writing (ETXTBSY): write,
     * close, reopen read-only, unlink */
    int w = open("/tmp/fdexec-copy", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (w < 0 || sendfile(w, src, NULL, (size_t) st.st_size) != st.st_size)
      return 1;
    close(w);
    fd = open("/tmp/fdexec-copy", O_RDONLY | O_CLOEXEC);
    unlink("/tmp/fdexec-copy");
    if (fd < 0)
      return 1;
    return fexecve(fd, argv + 2, (char *[]){NULL}), 127;
  }
  if (fd < 0 || sendfile(fd, src, NULL, (size_t) st.st_size) != st.st_size)
    return 1;
  fexecve(fd, argv + 2, (char *[]){NULL});
  perror("fexecve");
  return 127;
}
