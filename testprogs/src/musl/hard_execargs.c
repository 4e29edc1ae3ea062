/* hard_execargs: execve with a large argument list, for the memory-pressure tests.
   usage: hard_execargs SELF
   The parent forks a child that execs SELF with 64 arguments of 4,000 bytes each; the new
   image checks them and exits 0. The parent reports how the child ended: "child exited N",
   "child killed by signal N", or the errno of a failed execve ("child execve: ERR"). Under a
   machine with too few frames the child may be OOM-killed or get ENOMEM; the parent and the
   machine run on either way. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { NARG = 64, ARGLEN = 4000 };

int main(int argc, char **argv) {
	if (argc == NARG + 1) {
		for (int i = 1; i <= NARG; i++)
			if (strlen(argv[i]) != ARGLEN - 1 || argv[i][0] != 'a' + i % 26)
				return 3;
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: hard_execargs SELF\n");
		return 2;
	}
	static char bufs[NARG][ARGLEN];
	char *args[NARG + 2];
	args[0] = argv[1];
	for (int i = 1; i <= NARG; i++) {
		memset(bufs[i - 1], 'a' + i % 26, ARGLEN - 1);
		args[i] = bufs[i - 1];
	}
	args[NARG + 1] = NULL;
	pid_t pid = fork();
	if (pid < 0) {
		printf("fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execv(argv[1], args);
		printf("child execve: %s\n", strerror(errno));
		_exit(1);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		printf("waitpid: %s\n", strerror(errno));
		return 1;
	}
	if (WIFSIGNALED(st))
		printf("child killed by signal %d\n", WTERMSIG(st));
	else
		printf("child exited %d\n", WEXITSTATUS(st));
	return 0;
}
