/*
 * The phase attack's C server (cmd/sysrec TestPhaseAttack), built dynamic
 * and static: an ordinary line server that, on request, does what an
 * attacker who took it over would do.
 *
 *   server PORT init|plain
 *
 * With "init" it makes the attack's calls during its start-up, before it
 * listens (a child it forks runs /bin/sh, a socket(AF_INET), setuid):
 * sysrec records them there and lets them run there. Then it listens on
 * 127.0.0.1:PORT, says "listening" on stderr, and answers one request
 * line per connection:
 *
 *   ping           pong
 *   fork           forks a child that exits 7: "child exited 7"
 *   attack CALL    makes CALL itself: "CALL ok" (execve runs sh -c 'exit 42')
 *   child CALL     a child it forks makes CALL: "child exited 0" when it could
 *
 * CALL is execve, socket or setuid. SIGTERM ends it with status 0.
 */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) { (void)sig; _exit(0); }

/* uid is the server's own user, read at start-up: the attack's setuid
 * is the one call it makes in serving. */
static uid_t uid;

/* call makes CALL and says whether it succeeded; execve does not return
 * when it does. */
static int call(const char *name) {
	if (strcmp(name, "execve") == 0) {
		char *argv[] = {"sh", "-c", "exit 42", NULL};
		char *envp[] = {NULL};
		execve("/bin/sh", argv, envp);
		return 0;
	}
	if (strcmp(name, "socket") == 0) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return 0;
		close(fd);
		return 1;
	}
	if (strcmp(name, "setuid") == 0)
		return setuid(uid) == 0;
	return 0;
}

/* inchild forks a child that makes CALL (or, for "exit", just exits 7)
 * and describes how it ended. */
static void inchild(const char *name, char *out, size_t n) {
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(out, n, "fork failed\n");
		return;
	}
	if (pid == 0) {
		if (strcmp(name, "exit") == 0)
			_exit(7);
		if (strcmp(name, "execve") == 0) {
			char *argv[] = {"sh", "-c", "exit 0", NULL};
			char *envp[] = {NULL};
			execve("/bin/sh", argv, envp);
			_exit(1);
		}
		_exit(call(name) ? 0 : 1);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		snprintf(out, n, "wait failed\n");
	else if (WIFSIGNALED(st))
		snprintf(out, n, "child killed by signal %d\n", WTERMSIG(st));
	else
		snprintf(out, n, "child exited %d\n", WEXITSTATUS(st));
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: server PORT init|plain\n");
		return 2;
	}
	signal(SIGTERM, stop);
	uid = getuid();
	if (strcmp(argv[2], "init") == 0) {
		char out[64];
		inchild("execve", out, sizeof out);
		if (strcmp(out, "child exited 0\n") != 0 || !call("socket") || !call("setuid")) {
			fprintf(stderr, "init calls failed: %s", out);
			return 1;
		}
	}
	int l = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 16) < 0) {
		perror("listen");
		return 1;
	}
	fprintf(stderr, "listening\n");
	for (;;) {
		int c = accept(l, NULL, NULL);
		if (c < 0)
			continue;
		char req[64] = {0}, out[96];
		ssize_t n = read(c, req, sizeof req - 1);
		if (n > 0 && req[n - 1] == '\n')
			req[n - 1] = 0;
		if (strcmp(req, "ping") == 0)
			snprintf(out, sizeof out, "pong\n");
		else if (strcmp(req, "fork") == 0)
			inchild("exit", out, sizeof out);
		else if (strncmp(req, "attack ", 7) == 0)
			snprintf(out, sizeof out, "%s %s\n", req + 7, call(req + 7) ? "ok" : "failed");
		else if (strncmp(req, "child ", 6) == 0)
			inchild(req + 6, out, sizeof out);
		else
			snprintf(out, sizeof out, "unknown request\n");
		write(c, out, strlen(out));
		close(c);
	}
}
