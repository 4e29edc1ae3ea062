/* hard_etxtbsy: a file a process executes cannot be written (ETXTBSY), and a file open for
   writing cannot be executed. usage: hard_etxtbsy DIR SELF
   Copies SELF to DIR/prog, runs it (it waits on a pipe), and meanwhile tries to open it for
   writing, with O_TRUNC, to truncate it, and to open it for reading; then lets it finish and
   tries again. Last, it holds DIR/prog open for writing and tries to execute it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, long r) {
	if (r < 0)
		printf("%-34s -1 %s\n", what, strerror(errno));
	else
		printf("%-34s ok\n", what);
}

static long size_of(const char *path) {
	struct stat st;
	return stat(path, &st) < 0 ? -1 : (long)st.st_size;
}

static void attempts(const char *prog) {
	int fd;
	show("open(O_WRONLY)", fd = open(prog, O_WRONLY));
	if (fd >= 0)
		close(fd);
	show("open(O_RDWR|O_TRUNC)", fd = open(prog, O_RDWR | O_TRUNC));
	if (fd >= 0)
		close(fd);
	printf("size kept: %s\n", size_of(prog) > 0 ? "yes" : "no");
	show("truncate(0)", truncate(prog, 0));
	printf("size kept: %s\n", size_of(prog) > 0 ? "yes" : "no");
	show("open(O_RDONLY)", fd = open(prog, O_RDONLY));
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv) {
	if (argc == 4 && strcmp(argv[1], "wait") == 0) {
		/* The running copy: say so on one pipe, then wait until the parent closes the other. */
		int ready = atoi(argv[2]), go = atoi(argv[3]);
		char c;
		write(ready, "r", 1);
		close(ready);
		read(go, &c, 1);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: hard_etxtbsy DIR SELF\n");
		return 2;
	}
	char prog[4096];
	snprintf(prog, sizeof prog, "%s/prog", argv[1]);
	int in = open(argv[2], O_RDONLY), out = open(prog, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (in < 0 || out < 0) {
		perror("copy");
		return 1;
	}
	char buf[65536];
	long n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		write(out, buf, n);
	close(in);
	close(out);

	int ready[2], go[2];
	if (pipe(ready) < 0 || pipe(go) < 0) {
		perror("pipe");
		return 1;
	}
	char rnum[16], gnum[16];
	snprintf(rnum, sizeof rnum, "%d", ready[1]);
	snprintf(gnum, sizeof gnum, "%d", go[0]);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		execl(prog, "prog", "wait", rnum, gnum, (char *)0);
		dprintf(1, "execve: %s\n", strerror(errno));
		_exit(127);
	}
	close(ready[1]);
	close(go[0]);
	char c;
	if (read(ready[0], &c, 1) != 1) {
		printf("the copy did not start\n");
		return 1;
	}
	printf("while it runs:\n");
	attempts(prog);
	close(go[1]);
	int st;
	waitpid(pid, &st, 0);
	printf("it exited %d\n", WEXITSTATUS(st));
	printf("after it exited:\n");
	attempts(prog);

	/* Reinstate the copy, hold it open for writing, and execute it. */
	in = open(argv[2], O_RDONLY);
	out = open(prog, O_WRONLY | O_TRUNC);
	while ((n = read(in, buf, sizeof buf)) > 0)
		write(out, buf, n);
	close(in);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl(prog, "prog", "wait", "-1", "-1", (char *)0);
		dprintf(1, "execve while open for writing: %s\n", strerror(errno));
		_exit(0);
	}
	waitpid(pid, &st, 0);
	close(out);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl(prog, "prog", (char *)0);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	printf("execve after close: exit %d\n", WEXITSTATUS(st));
	return 0;
}
