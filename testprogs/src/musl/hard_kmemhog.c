/* hard_kmemhog: processes that fill kernel memory. usage: hard_kmemhog pipes|signals N
     pipes    N children each make pipes and fill them (non-blocking writes) until the
              kernel says no (EMFILE, ENFILE, ENOMEM), and report how much they buffered
     signals  N children each block SIGRTMIN and queue it to themselves until the kernel
              says no (EAGAIN), and report how many it queued
   The children hold what they made until every child has reported (or, killed for want of
   memory, cannot); then all exit. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *errname(int e) {
	switch (e) {
	case EMFILE: return "EMFILE";
	case ENFILE: return "ENFILE";
	case ENOMEM: return "ENOMEM";
	case EAGAIN: return "EAGAIN";
	}
	return strerror(e);
}

static void pipes(int i, int report) {
	static char buf[65536];
	long total = 0, npipes = 0;
	int err = 0;
	for (;;) {
		int p[2];
		if (pipe2(p, O_NONBLOCK) < 0) {
			err = errno;
			break;
		}
		npipes++;
		long n;
		while ((n = write(p[1], buf, sizeof buf)) > 0)
			total += n;
		if (errno != EAGAIN) {
			err = errno;
			break;
		}
	}
	char line[128];
	int len = snprintf(line, sizeof line, "child %d: %ld pipes, %ld KiB buffered, then %s\n", i, npipes, total >> 10, errname(err));
	write(report, line, len);
}

static void signals(int i, int report) {
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	long n = 0;
	union sigval v = {0};
	while (sigqueue(getpid(), SIGRTMIN, v) == 0)
		n++;
	char line[128];
	int len = snprintf(line, sizeof line, "child %d: %ld signals queued, then %s\n", i, n, errname(errno));
	write(report, line, len);
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: hard_kmemhog pipes|signals N\n");
		return 2;
	}
	int n = atoi(argv[2]);
	int report[2], go[2];
	if (pipe(report) < 0 || pipe(go) < 0)
		return 1;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			printf("fork: %s\n", strerror(errno));
			break;
		}
		if (pid == 0) {
			close(report[0]);
			close(go[1]);
			if (strcmp(argv[1], "pipes") == 0)
				pipes(i, report[1]);
			else
				signals(i, report[1]);
			char c;
			read(go[0], &c, 1);
			_exit(0);
		}
	}
	close(report[1]);
	close(go[0]);
	char buf[8192];
	int got = 0, lines = 0;
	while (lines < n) {
		/* A child the OOM killer took never reports: stop when none has for a second. */
		struct pollfd pfd = {report[0], POLLIN, 0};
		if (poll(&pfd, 1, 1000) <= 0)
			break;
		int r = read(report[0], buf + got, sizeof buf - 1 - got);
		if (r <= 0)
			break;
		for (int j = got; j < got + r; j++)
			lines += buf[j] == '\n';
		got += r;
	}
	buf[got] = 0;
	fputs(buf, stdout);
	close(go[1]);
	while (wait(NULL) > 0)
		;
	printf("done\n");
	return 0;
}
