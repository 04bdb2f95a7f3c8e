// syscall(2) with constant numbers: kcmp and process_mrelease are reached
// only through libc's generic syscall() wrapper.
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
	long r = syscall(SYS_kcmp, getpid(), getpid(), 0, 0, 0);
	r += syscall(SYS_process_mrelease, -1, 0);
	return r == 0;
}
