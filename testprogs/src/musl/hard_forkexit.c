/* hard_forkexit: children that exit at once, each writing its own copy of a page first.
   usage: hard_forkexit N
   Under memory pressure a child may be OOM-killed; one that exits is reported once, with
   the status it exited with (the kernel's last store for it, clear_child_tid, may fail
   without a second death). Prints how each child ended, then "done". */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static char page[4096];

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 8;
	for (int i = 0; i < n; i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			page[0] = 1; /* a copy-on-write copy of one page */
			_exit(i);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid) {
			printf("child %d: fork or wait failed\n", i);
			continue;
		}
		if (WIFSIGNALED(st))
			printf("child %d: killed by signal %d\n", i, WTERMSIG(st));
		else
			printf("child %d: exited %d\n", i, WEXITSTATUS(st));
	}
	printf("done\n");
	return 0;
}
