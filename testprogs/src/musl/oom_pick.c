/* oom_pick: the OOM killer chooses by badness, not by who faulted. The parent forks, then
   fills 10 MiB; the child then fills 12 MiB of its own. On a 16 MiB machine without swap the
   child's faults find no frame, and the OOM killer ends the process whose death frees the
   most: the parent, with its 10 MiB. The child carries on and says so. (On a machine with
   room, nobody is killed and the parent reports the child's exit.)
   With the argument "adj" the child first raises its /proc/self/oom_score_adj to 1000 (after
   two values the file refuses), which makes it the first choice: the child is killed, and
   the parent reports it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

/* set writes text to /proc/self/oom_score_adj and says what came of it. */
static void set(const char *text) {
	int fd = open("/proc/self/oom_score_adj", O_WRONLY);
	if (fd < 0) {
		printf("child: open oom_score_adj: %s\n", strerror(errno));
		return;
	}
	if (write(fd, text, strlen(text)) < 0)
		printf("child: oom_score_adj %s: %s\n", text, strerror(errno));
	close(fd);
}

/* show prints the child's oom_score_adj as the file reads. */
static void show(void) {
	char buf[32] = "";
	int fd = open("/proc/self/oom_score_adj", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	printf("child: oom_score_adj reads %s", n > 0 ? buf : "nothing\n");
}

/* score reads the child's /proc/self/oom_score (badness scaled into 0..2000: about 667 for a
   small process, above 1000 with oom_score_adj 1000). */
static long score(void) {
	char buf[32] = "";
	int fd = open("/proc/self/oom_score", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

int main(int argc, char **argv) {
	int adj = argc > 1 && strcmp(argv[1], "adj") == 0;
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
		if (adj) {
			long before = score();
			printf("child: oom_score from 500 to 1000: %s\n", before >= 500 && before <= 1000 ? "yes" : "no");
			set("1001");
			set("ten");
			set("1000\n");
			show();
			long after = score();
			printf("child: oom_score now from 1000 to 2000: %s\n", after > 1000 && after <= 2000 ? "yes" : "no");
			fflush(stdout); /* before the OOM killer may strike */
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
