// names: a process that names its worker threads from its main thread,
// as memcached does (pthread_setname_np on another thread writes
// /proc/self/task/TID/comm), and the attacks on the supervisor that
// opens those files for it.
//
//   names N           start N workers, name them "worker-I" from main,
//                     print each worker's name as it reads it itself
//   names attack      try what the supervisor must not open: another
//                     thread file than comm, another process's thread,
//                     a path around the pattern; print "refused" or
//                     "opened" for each
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_barrier_t named, printed;
static pid_t tids[64];

static void *worker(void *arg) {
	long i = (long)arg;
	tids[i] = (pid_t)syscall(SYS_gettid);
	pthread_barrier_wait(&named); /* main has its tid */
	pthread_barrier_wait(&named); /* main has named it */
	char name[16] = {0};
	prctl(PR_GET_NAME, name);
	printf("%ld %s\n", i, name);
	fflush(stdout);
	pthread_barrier_wait(&printed);
	return NULL;
}

static void try(const char *what, const char *path, int flags) {
	int fd = open(path, flags | O_CLOEXEC);
	if (fd >= 0) {
		printf("%s opened\n", what);
		close(fd);
	} else {
		printf("%s refused (%s)\n", what, strerror(errno));
	}
}

int main(int argc, char **argv) {
	if (argc == 2 && strcmp(argv[1], "attack") == 0) {
		pthread_t t;
		pthread_barrier_init(&named, NULL, 2);
		pthread_barrier_init(&printed, NULL, 2);
		pthread_create(&t, NULL, worker, (void *)0);
		pthread_barrier_wait(&named);
		char p[128];
		snprintf(p, sizeof p, "/proc/self/task/%d/mem", tids[0]);
		try("mem", p, O_RDWR);
		snprintf(p, sizeof p, "/proc/%d/task/%d/comm", getppid(), getppid());
		try("parent", p, O_WRONLY);
		snprintf(p, sizeof p, "/proc/self/task/%d/../../../%d/comm", tids[0], getppid());
		try("dotdot", p, O_WRONLY);
		snprintf(p, sizeof p, "/proc/%d/task/%d/comm", getpid(), getppid());
		try("foreign", p, O_WRONLY);
		/* The same through its own pid, as the supervisor would see it. */
		snprintf(p, sizeof p, "/proc/%d/task/%d/mem", getpid(), tids[0]);
		try("pid-mem", p, O_RDWR);
		snprintf(p, sizeof p, "/proc/%d/task/%d/../../../%d/comm", getpid(), tids[0], getppid());
		try("pid-dotdot", p, O_WRONLY);
		snprintf(p, sizeof p, "/proc/%d/task/%d/comm/", getpid(), tids[0]);
		try("slash", p, O_WRONLY);
		snprintf(p, sizeof p, "/proc/self/task/%d/comm", tids[0]);
		try("own", p, O_WRONLY);
		pthread_barrier_wait(&named);
		pthread_barrier_wait(&printed);
		pthread_join(t, NULL);
		return 0;
	}
	int n = argc == 2 ? atoi(argv[1]) : 0;
	if (n < 1 || n > 64) {
		fprintf(stderr, "usage: names N | names attack\n");
		return 2;
	}
	pthread_t t[64];
	pthread_barrier_init(&named, NULL, n + 1);
	pthread_barrier_init(&printed, NULL, n + 1);
	for (long i = 0; i < n; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	pthread_barrier_wait(&named);
	int status = 0;
	for (int i = 0; i < n; i++) {
		char name[16];
		snprintf(name, sizeof name, "worker-%d", i);
		int err = pthread_setname_np(t[i], name);
		if (err) {
			fprintf(stderr, "pthread_setname_np %d: %s\n", i, strerror(err));
			status = 1;
		}
	}
	pthread_barrier_wait(&named);
	pthread_barrier_wait(&printed);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return status;
}
