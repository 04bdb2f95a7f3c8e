// An NSS module "sysrectest": libc calls _nss_sysrectest_getpwnam_r.
#define _GNU_SOURCE
#include <errno.h>
#include <nss.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <unistd.h>

enum nss_status _nss_sysrectest_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, int *err) {
	syscall(SYS_kcmp, 0, 0, 0, 0, 0);
	*err = ENOENT;
	return NSS_STATUS_NOTFOUND;
}
