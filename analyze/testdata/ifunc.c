// An IFUNC: the resolver picks one of two implementations at load time,
// so both are reachable from a call to work().
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

volatile int ifunc_pick;

static long impl_a(void) { return syscall(SYS_kcmp, 0, 0, 0, 0, 0); }
static long impl_b(void) { return syscall(SYS_process_mrelease, -1, 0); }

static long (*resolve_work(void))(void) { return ifunc_pick ? impl_a : impl_b; }

long work(void) __attribute__((ifunc("resolve_work")));

int main(void) { return (int)work(); }
