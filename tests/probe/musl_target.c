/* Built with musl-gcc (dynamic): proves the musl probe loads and records. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
  close(open("/dev/null", O_RDONLY | O_CLOEXEC));
  FILE *f = fopen("/etc/hostname", "re");
  if (f)
    fclose(f);
  return 0;
}
