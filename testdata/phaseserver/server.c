/* server: an ordinary C server for the phase tests, dynamic or static
 * (pipeline's TestPhasesAttackC, cmd/sysrec's TestPhaseAttack).
 *
 *   server DIR [init]
 *
 * With init it first makes the attack's calls, as the test target's
 * server does: socket, setuid and an exec of DIR/no-such-program,
 * printing "init socket errno=0" and so on. It listens on a port of its
 * own on 127.0.0.1 (written to DIR/port), waits for work in epoll_wait
 * and answers one request a connection, as the test target's server
 * does: socket, setuid, exec (/bin/sh writing DIR/pwned-PID), none (no
 * call) answered "errno=N"; fork-OP the same from a child forked now,
 * answered with the child's "errno=N" or "killed by signal N"; quit. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *dir;

static int op(const char *name)
{
	errno = 0;
	if (!strcmp(name, "none")) {
		/* no call: what an ordinary request's child does */
	} else if (!strcmp(name, "socket")) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(name, "setuid")) {
		setuid(geteuid());
	} else if (!strcmp(name, "exec-missing")) {
		char path[4096];
		snprintf(path, sizeof path, "%s/no-such-program", dir);
		execl(path, "no-such-program", (char *)NULL);
	} else if (!strcmp(name, "exec")) {
		char script[4096];
		snprintf(script, sizeof script, "echo pwned > %s/pwned-$$", dir);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
	} else {
		return -1;
	}
	return errno;
}

static void answer(FILE *c, char *req)
{
	req[strcspn(req, "\r\n")] = 0;
	if (strncmp(req, "fork-", 5)) {
		fprintf(c, "errno=%d\n", op(req));
		return;
	}
	int p[2];
	if (pipe(p))
		exit(1);
	pid_t pid = fork();
	if (pid == 0) {
		unsigned char e = op(req + 5);
		write(p[1], &e, 1);
		_exit(0);
	}
	close(p[1]);
	unsigned char e;
	if (read(p[0], &e, 1) == 1) {
		fprintf(c, "errno=%d\n", e);
		waitpid(pid, NULL, 0); /* reaped, as a server reaps its children */
	} else {
		int st;
		waitpid(pid, &st, 0);
		if (WIFSIGNALED(st))
			fprintf(c, "killed by signal %d\n", WTERMSIG(st));
		else
			fprintf(c, "exited %d\n", WEXITSTATUS(st));
	}
	close(p[0]);
}

int main(int argc, char **argv)
{
	if (argc != 2 && !(argc == 3 && !strcmp(argv[2], "init")))
		return 2;
	dir = argv[1];
	if (argc == 3) {
		printf("init socket errno=%d\n", op("socket"));
		printf("init setuid errno=%d\n", op("setuid"));
		printf("init exec errno=%d\n", op("exec-missing"));
		fflush(stdout);
	}
	int ln = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	if (ln < 0 || bind(ln, (void *)&a, sizeof a) || listen(ln, 16) || getsockname(ln, (void *)&a, &len))
		return 1;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN};
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ln, &ev))
		return 1;
	char tmp[4096], path[4096];
	snprintf(tmp, sizeof tmp, "%s/port.tmp", dir);
	snprintf(path, sizeof path, "%s/port", dir);
	FILE *f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 || fclose(f) || rename(tmp, path))
		return 1;
	for (;;) {
		if (epoll_wait(ep, &ev, 1, -1) < 1)
			continue;
		int fd = accept4(ln, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return 1;
		FILE *c = fdopen(fd, "r+");
		char req[256];
		if (!fgets(req, sizeof req, c)) {
			fclose(c);
			continue;
		}
		if (!strncmp(req, "quit", 4))
			return 0;
		fseek(c, 0, SEEK_CUR); /* between reading and writing a stream */
		answer(c, req);
		fclose(c);
	}
}
