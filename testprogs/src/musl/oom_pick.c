/* oom_pick: the OOM killer chooses by badness, not by who faulted. The parent forks, then
   fills 10 MiB; the child then fills 12 MiB of its own. On a 16 MiB machine without swap the
   child's faults find no frame, and the OOM killer ends the process whose death frees the
   most: the parent, with its 10 MiB. The child carries on and says so. (On a machine with
   room, nobody is killed and the parent reports the child's exit.) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1u << 20)

static void fill(size_t bytes) {
	volatile char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("mmap: %s\n", strerror(errno));
		_exit(1);
	}
	for (size_t i = 0; i < bytes; i += 4096)
		p[i] = 1;
}

int main(void) {
	int go[2];
	if (pipe(go) != 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1) { /* the parent has filled its memory */
			printf("child: no word from the parent\n");
		}
		fill(12 * MiB);
		printf("child: filled 12 MiB\n");
		return 0;
	}
	close(go[0]);
	fill(10 * MiB);
	if (write(go[1], "x", 1) != 1)
		return 1;
	int st;
	waitpid(pid, &st, 0);
	printf("parent: child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}
