/* made: a program that makes files in $HOME and /tmp as real programs
 * do (less's history, php's mkstemp lock), and the attacks on sysrec's
 * supervisor that makes them (pipeline's TestMade*). Each mode prints
 * one line: "ok ..." or the error. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what) {
	printf("%s: %s\n", what, strerror(errno));
	return 1;
}

/* history NAME: as less does with ~/.lesshst: read the old one, write
 * ~/.NAMEhsQ with fopen "w", rename it over ~/.NAMEhst. */
static int history(const char *name) {
	const char *home = getenv("HOME");
	char hst[4096], tmp[4096], old[256] = "";
	snprintf(hst, sizeof hst, "%s/.%shst", home, name);
	snprintf(tmp, sizeof tmp, "%s/.%shsQ", home, name);
	FILE *f = fopen(hst, "r");
	if (f) {
		size_t n = fread(old, 1, sizeof old - 1, f);
		old[n] = 0;
		fclose(f);
	} else if (errno != ENOENT) {
		return fail("read history");
	}
	if (!(f = fopen(tmp, "w")))
		return fail("fopen w");
	fprintf(f, "%sentry\n", old);
	if (fclose(f))
		return fail("fclose");
	if (rename(tmp, hst))
		return fail("rename");
	printf("ok %zu old bytes\n", strlen(old));
	return 0;
}

/* mkstemp: as php's opcache does: a lock file in /tmp, unlinked at once,
 * locked through its descriptor. */
static int lock(void) {
	char t[] = "/tmp/.Test.XXXXXX";
	int fd = mkstemp(t);
	if (fd < 0)
		return fail("mkstemp");
	if (unlink(t))
		return fail("unlink");
	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(fd, F_SETLK, &l))
		return fail("lock");
	printf("ok\n");
	return 0;
}

static char racepath[4096];
static const char *good, *bad;
static atomic_int stop;

static void *flip(void *arg) {
	(void)arg;
	while (!atomic_load(&stop)) {
		strcpy(racepath, bad);
		strcpy(racepath, good);
	}
	return NULL;
}

/* race GOOD BAD N: a thread flips the path between GOOD and BAD while
 * the main thread creates it N times; every descriptor must be GOOD's. */
static int race(int n) {
	pthread_t th;
	strcpy(racepath, good);
	pthread_create(&th, NULL, flip, NULL);
	int ok = 0, wrong = 0;
	for (int i = 0; i < n; i++) {
		int fd = open(racepath, O_CREAT | O_WRONLY, 0600);
		if (fd < 0)
			continue;
		char proc[64], link[4096];
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
		ssize_t k = readlink(proc, link, sizeof link - 1);
		link[k < 0 ? 0 : k] = 0;
		if (strcmp(link, good)) {
			printf("wrong %s\n", link);
			wrong++;
		} else {
			ok++;
		}
		close(fd);
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	printf("ok %d opened, %d wrong\n", ok, wrong);
	return wrong != 0;
}

/* append PATH DATA: O_CREAT|O_APPEND, as a history or log is written. */
static int append(const char *path, const char *data) {
	int fd = open(path, O_CREAT | O_WRONLY | O_APPEND, 0600);
	if (fd < 0)
		return fail("open");
	if (write(fd, data, strlen(data)) < 0)
		return fail("write");
	printf("ok\n");
	return 0;
}

static long long now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* cost N A B: ns per open+close: of A with O_CREAT, of B with O_CREAT,
 * of B without, interleaved in rounds so all see the same machine. */
static int cost(int n, const char *a, const char *b) {
	long long t[3] = {0, 0, 0};
	for (int r = 0; r < 10; r++) {
		for (int k = 0; k < 3; k++) {
			const char *p = k ? b : a;
			int flags = k == 2 ? O_WRONLY : O_CREAT | O_WRONLY;
			long long t0 = now();
			for (int i = 0; i < n / 10; i++) {
				int fd = open(p, flags, 0600);
				if (fd < 0)
					return fail(p);
				close(fd);
			}
			t[k] += now() - t0;
		}
	}
	printf("ok %lld %lld %lld\n", t[0] / n, t[1] / n, t[2] / n);
	return 0;
}

/* lose HOW: a root target gives up its rights over the host's files
 * while its ids stay 0: "nocaps" drops every capability, "userns"
 * moves to a user namespace of its own (whose capabilities count for
 * nothing on the host's files). */
static int lose(const char *how) {
	if (!strcmp(how, "nocaps")) {
		struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
		struct __user_cap_data_struct d[2] = {0};
		return syscall(SYS_capset, &h, d) ? fail("capset") : 0;
	}
	if (!strcmp(how, "userns"))
		return unshare(CLONE_NEWUSER) ? fail("unshare") : 0;
	if (!strcmp(how, "sandbox")) {
		/* A Landlock domain of its own that allows no write anywhere. */
		struct landlock_ruleset_attr a = {.handled_access_fs = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REMOVE_FILE};
		int rs = syscall(SYS_landlock_create_ruleset, &a, sizeof a, 0);
		if (rs < 0 || syscall(SYS_landlock_restrict_self, rs, 0))
			return fail("landlock");
		close(rs);
		return 0;
	}
	return 2;
}

int main(int argc, char **argv) {
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "nocaps") || !strcmp(argv[1], "userns") || !strcmp(argv[1], "sandbox")) {
		/* nocaps|userns|sandbox MODE ARGS...: MODE once the rights are
		 * lost (sandbox: a Landlock domain of its own). */
		if (argc < 3 || lose(argv[1]))
			return 2;
		argc--;
		argv++;
	}
	const char *m = argv[1];
	if (!strcmp(m, "history") && argc == 3)
		return history(argv[2]);
	if (!strcmp(m, "mkstemp"))
		return lock();
	if (!strcmp(m, "create") && argc >= 3) {
		mode_t mode = argc > 3 ? strtol(argv[3], NULL, 8) : 0644;
		int fd = open(argv[2], O_CREAT | O_WRONLY, mode);
		if (fd < 0)
			return fail("create");
		struct stat st;
		fstat(fd, &st);
		printf("ok mode %o\n", st.st_mode & 07777);
		return 0;
	}
	if (!strcmp(m, "openat2") && argc == 3) {
		struct open_how how = {.flags = O_CREAT | O_WRONLY | O_CLOEXEC, .mode = 0640};
		int fd = syscall(SYS_openat2, AT_FDCWD, argv[2], &how, sizeof how);
		if (fd < 0)
			return fail("create");
		struct stat st;
		fstat(fd, &st);
		int cloexec = fcntl(fd, F_GETFD) & FD_CLOEXEC;
		printf("ok mode %o%s\n", st.st_mode & 07777, cloexec ? " cloexec" : "");
		return 0;
	}
	if (!strcmp(m, "scratch") && argc == 3) {
		/* scratch TEMPLATE: mkstemp(TEMPLATE), removed at once. */
		int fd = mkstemp(argv[2]);
		if (fd < 0)
			return fail("mkstemp");
		if (unlink(argv[2]))
			return fail("unlink");
		printf("ok\n");
		return 0;
	}
	if (!strcmp(m, "reuse") && argc == 5) {
		/* reuse SCRATCH EXACT VICTIM: makes SCRATCH (a mkstemp name)
		 * new, renames it to EXACT and removes that, so the inode the
		 * supervisor made is free; once a line arrives (another file
		 * got the inode meanwhile), removes VICTIM. */
		int fd = open(argv[2], O_CREAT | O_EXCL | O_RDWR, 0600);
		if (fd < 0)
			return fail("create");
		struct stat st;
		fstat(fd, &st);
		close(fd);
		if (rename(argv[2], argv[3]))
			return fail("rename");
		if (unlink(argv[3]))
			return fail("unlink exact");
		char line[16];
		printf("ready\n");
		fflush(stdout);
		if (!fgets(line, sizeof line, stdin))
			return fail("wait");
		printf("freed %lu\n", (unsigned long)st.st_ino);
		return unlink(argv[4]) ? fail("unlink") : (printf("ok\n"), 0);
	}
	if (!strcmp(m, "touch") && argc >= 3) {
		/* touch PATH...: writes each, as a program writes its state:
		 * what the recording sees it make. */
		for (int i = 2; i < argc; i++) {
			int fd = open(argv[i], O_CREAT | O_WRONLY | O_TRUNC, 0644);
			if (fd < 0)
				return fail("create");
			if (write(fd, "x\n", 2) != 2)
				return fail("write");
			close(fd);
		}
		printf("ok\n");
		return 0;
	}
	if (!strcmp(m, "append") && argc == 4)
		return append(argv[2], argv[3]);
	if (!strcmp(m, "wait-append") && argc == 4) {
		/* As append, once a line arrives: what the caller plants at
		 * the path meanwhile is there after the rules were made. */
		char line[16];
		printf("ready\n");
		fflush(stdout);
		if (!fgets(line, sizeof line, stdin))
			return fail("wait");
		return append(argv[2], argv[3]);
	}
	if (!strcmp(m, "excl") && argc == 3) {
		int fd = open(argv[2], O_CREAT | O_EXCL | O_RDWR, 0600);
		if (fd < 0)
			return fail("create");
		printf("ok\n");
		return 0;
	}
	if (!strcmp(m, "rename") && argc == 4)
		return rename(argv[2], argv[3]) ? fail("rename") : (printf("ok\n"), 0);
	if (!strcmp(m, "unlink") && argc == 3)
		return unlink(argv[2]) ? fail("unlink") : (printf("ok\n"), 0);
	if (!strcmp(m, "dirfd") && argc == 4) {
		int d = open(argv[2], O_RDONLY | O_DIRECTORY);
		if (d < 0)
			return fail("open dir");
		int fd = openat(d, argv[3], O_CREAT | O_WRONLY, 0644);
		if (fd < 0)
			return fail("create");
		printf("ok\n");
		return 0;
	}
	if (!strcmp(m, "cost") && argc == 5)
		return cost(atoi(argv[2]), argv[3], argv[4]);
	if (!strcmp(m, "race") && argc == 5) {
		good = argv[2];
		bad = argv[3];
		return race(atoi(argv[4]));
	}
	return 2;
}
