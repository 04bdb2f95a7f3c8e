// A call through a function pointer kept in a variable: the call site is
// indirect, the target is known only because the variable holds it.
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

static long through_pointer(void) { return syscall(SYS_kcmp, 0, 0, 0, 0, 0); }

long (*volatile hook)(void) = through_pointer;

int main(void) { return (int)hook(); }
