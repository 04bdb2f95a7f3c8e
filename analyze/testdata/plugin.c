// The plugin dlopen.c loads, and the library origin.c links with.
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

long run(void) { return syscall(SYS_kcmp, 0, 0, 0, 0, 0); }
