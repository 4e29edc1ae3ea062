/* hard_fdhog: processes that open files until they cannot. usage: hard_fdhog N
   N children each open /dev/null until open fails, report how many they got and the errno,
   and hold them until the parent has heard from all; then they exit, and the parent opens
   one more file. On Linux a process past its RLIMIT_NOFILE gets EMFILE; when the system's
   file table is full, any process gets ENFILE. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 4;
	int report[2], go[2];
	if (pipe(report) < 0 || pipe(go) < 0) {
		perror("pipe");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			printf("fork: %s\n", strerror(errno));
			return 1;
		}
		if (pid == 0) {
			close(report[0]);
			close(go[1]);
			int got = 0, fd;
			while ((fd = open("/dev/null", O_RDONLY)) >= 0)
				got++;
			int err = errno;
			char line[128];
			int len = snprintf(line, sizeof line, "child %d: opened %d, then %s\n", i, got,
			                   err == EMFILE ? "EMFILE" : err == ENFILE ? "ENFILE" : strerror(err));
			write(report[1], line, len);
			char c;
			read(go[0], &c, 1); /* hold them until the parent says go */
			_exit(0);
		}
	}
	close(report[1]);
	close(go[0]);
	char buf[4096];
	int total = 0, lines = 0;
	while (lines < n) {
		int r = read(report[0], buf + total, sizeof buf - 1 - total);
		if (r <= 0)
			break;
		for (int i = total; i < total + r; i++)
			lines += buf[i] == '\n';
		total += r;
	}
	buf[total] = 0;
	fputs(buf, stdout);
	close(go[1]);
	while (wait(NULL) > 0)
		;
	int fd = open("/dev/null", O_RDONLY);
	printf("parent after they exit: %s\n", fd >= 0 ? "open ok" : strerror(errno));
	return 0;
}
