/* fs_pipe: pipes between processes, as Linux's fs/pipe.c makes them. A pipeline of three
   processes (the last one re-executed through /proc/self/exe); end of file when every
   writer has closed; SIGPIPE, or EPIPE when it is ignored, once every reader has gone;
   O_NONBLOCK reads and writes (EAGAIN) and how much a pipe holds for writes of different
   sizes; writes of at most PIPE_BUF bytes from several processes never interleave; poll
   and select on both ends; fcntl and ioctl on pipes. usage: fs_pipe [count] */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void say(const char *what, long r) {
	if (r < 0)
		printf("%-52s -1 %s\n", what, strerror(errno));
	else
		printf("%-52s %ld\n", what, r);
}

static void status(const char *what, int st) {
	if (WIFSIGNALED(st))
		printf("%-52s killed by signal %d\n", what, WTERMSIG(st));
	else
		printf("%-52s exit %d\n", what, WEXITSTATUS(st));
}

/* count: the last stage of the pipeline, run as "fs_pipe count": counts lines, bytes and
   upper-case letters on standard input. */
static int count(void) {
	char line[256];
	long lines = 0, bytes = 0, upper = 0;
	while (fgets(line, sizeof line, stdin)) {
		lines++;
		for (char *p = line; *p; p++) {
			bytes++;
			upper += isupper((unsigned char)*p) != 0;
		}
	}
	printf("count: %ld lines, %ld bytes, %ld upper-case\n", lines, bytes, upper);
	return 0;
}

static void pipeline(void) {
	puts("-- a pipeline of three processes: produce | upcase | count");
	fflush(stdout);
	int a[2], b[2];
	pipe(a);
	pipe(b);
	pid_t p1 = fork();
	if (p1 == 0) {
		dup2(a[1], 1);
		close(a[0]), close(a[1]), close(b[0]), close(b[1]);
		for (int i = 1; i <= 3000; i++)
			printf("line %d of the producer\n", i);
		exit(0); /* flushes stdio's full buffer into the pipe */
	}
	pid_t p2 = fork();
	if (p2 == 0) {
		dup2(a[0], 0);
		dup2(b[1], 1);
		close(a[0]), close(a[1]), close(b[0]), close(b[1]);
		int c;
		while ((c = getchar()) != EOF)
			putchar(toupper(c));
		exit(0);
	}
	pid_t p3 = fork();
	if (p3 == 0) {
		dup2(b[0], 0);
		close(a[0]), close(a[1]), close(b[0]), close(b[1]);
		execl("/proc/self/exe", "fs_pipe", "count", (char *)0);
		perror("execl");
		_exit(127);
	}
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
	int st[3];
	waitpid(p1, &st[0], 0);
	waitpid(p2, &st[1], 0);
	waitpid(p3, &st[2], 0);
	status("producer", st[0]);
	status("upcase", st[1]);
	status("count", st[2]);
}

static void eof_and_epipe(void) {
	puts("-- end of file and broken pipes");
	int p[2];
	pipe(p);
	fflush(stdout);
	if (fork() == 0) {
		close(p[0]);
		struct timespec ts = {0, 5000000};
		nanosleep(&ts, NULL); /* the parent is blocked in read meanwhile */
		write(p[1], "from the child", 14);
		_exit(0);
	}
	close(p[1]);
	char buf[64];
	long n, total = 0;
	while ((n = read(p[0], buf + total, sizeof buf - total)) > 0)
		total += n;
	printf("read %.*s, then %ld (end of file)\n", (int)total, buf, n);
	close(p[0]);
	wait(NULL);

	pipe(p);
	close(p[0]);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		write(p[1], "x", 1);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	status("writer with no reader, SIGPIPE by default", st);
	signal(SIGPIPE, SIG_IGN);
	say("write with no reader, SIGPIPE ignored", write(p[1], "x", 1));
	signal(SIGPIPE, SIG_DFL);
	close(p[1]);
}

static void nonblocking(void) {
	puts("-- O_NONBLOCK and what a pipe holds");
	int p[2];
	say("pipe2 O_NONBLOCK", pipe2(p, O_NONBLOCK));
	char buf[8192];
	say("read of an empty pipe", read(p[0], buf, 1));
	memset(buf, 'n', sizeof buf);
	static const int sizes[] = {1, 100, 3000, 4096, 5000};
	for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		long total = 0, r, partial = 0;
		while ((r = write(p[1], buf, sizes[s])) > 0) {
			total += r;
			if (r < sizes[s])
				partial++;
		}
		printf("writes of %4d bytes: %6ld bytes fit (%ld short), then %s\n", sizes[s], total, partial,
		       strerror(errno));
		int avail;
		ioctl(p[0], FIONREAD, &avail);
		long drained = 0;
		while ((r = read(p[0], buf, sizes[s] == 1 ? 7 : sizeof buf)) > 0)
			drained += r;
		printf("  FIONREAD %d, drained %ld, then %s\n", avail, drained, strerror(errno));
	}
	/* A half-read page has less room to top up. */
	write(p[1], buf, 1000);
	read(p[0], buf, 600);
	long total = 0, r;
	while ((r = write(p[1], buf, 1000)) > 0)
		total += r;
	printf("after a partly read first page: %ld more bytes fit\n", total);
	say("F_GETFL of the read end", fcntl(p[0], F_GETFL));
	say("F_GETFL of the write end", fcntl(p[1], F_GETFL));
	say("F_SETFL 0 on the read end", fcntl(p[0], F_SETFL, 0));
	say("F_GETFL of the read end", fcntl(p[0], F_GETFL));
	say("F_GETPIPE_SZ", fcntl(p[0], F_GETPIPE_SZ));
	struct stat st;
	fstat(p[0], &st);
	say("fstat: a FIFO", S_ISFIFO(st.st_mode));
	say("lseek on a pipe", lseek(p[0], 0, SEEK_SET));
	say("pread on a pipe", pread(p[0], buf, 1, 0));
	close(p[0]);
	close(p[1]);
}

static void atomic(void) {
	puts("-- writes of at most PIPE_BUF bytes do not interleave");
	int p[2];
	pipe(p);
	enum { writers = 4, records = 40 };
	static const int lens[writers] = {4096, 1000, 4096, 333};
	fflush(stdout);
	for (int w = 0; w < writers; w++) {
		if (fork() == 0) {
			close(p[0]);
			char rec[4096];
			memset(rec, 'A' + w, sizeof rec);
			for (int i = 0; i < records; i++)
				if (write(p[1], rec, lens[w]) != lens[w])
					_exit(1);
			_exit(0);
		}
	}
	close(p[1]);
	static char all[writers * records * 4096];
	long n = 0, r;
	while ((r = read(p[0], all + n, 1 + (n % 5000))) > 0)
		n += r;
	close(p[0]);
	int bad = 0, seen[writers] = {0};
	for (long i = 0; i < n;) {
		int w = all[i] - 'A';
		if (w < 0 || w >= writers) {
			bad++;
			break;
		}
		for (int j = 0; j < lens[w]; j++)
			bad += all[i + j] != 'A' + w;
		seen[w]++;
		i += lens[w];
	}
	printf("%ld bytes, records intact: %s, records per writer: %d %d %d %d\n", n, bad ? "no" : "yes",
	       seen[0], seen[1], seen[2], seen[3]);
	for (int w = 0; w < writers; w++) {
		int st;
		wait(&st);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			puts("a writer failed");
	}
}

static void polling(void) {
	puts("-- poll and select");
	int p[2];
	pipe(p);
	struct pollfd fds[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
	say("poll, empty pipe, timeout 0", poll(fds, 2, 0));
	printf("  revents %#x %#x\n", fds[0].revents, fds[1].revents);
	write(p[1], "abc", 3);
	say("poll after a write", poll(fds, 2, 0));
	printf("  revents %#x %#x\n", fds[0].revents, fds[1].revents);
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	struct timeval tv = {0, 0};
	say("select, both ready", select(p[1] + 1, &r, &w, NULL, &tv));
	printf("  readable %d, writable %d\n", FD_ISSET(p[0], &r), FD_ISSET(p[1], &w));
	close(p[1]);
	fds[0].events = POLLIN;
	say("poll of the read end, writer gone, data left", poll(fds, 1, 0));
	printf("  revents %#x\n", fds[0].revents);
	char buf[8];
	read(p[0], buf, sizeof buf);
	say("poll of the read end, writer gone, empty", poll(fds, 1, -1));
	printf("  revents %#x\n", fds[0].revents);
	close(p[0]);

	pipe(p);
	close(p[0]);
	fds[0] = (struct pollfd){p[1], POLLOUT, 0};
	say("poll of the write end, reader gone", poll(fds, 1, 0));
	printf("  revents %#x\n", fds[0].revents);
	close(p[1]);
	fds[0] = (struct pollfd){999, POLLIN, 0};
	say("poll of a descriptor not open", poll(fds, 1, 0));
	printf("  revents %#x\n", fds[0].revents);
	FD_ZERO(&r);
	FD_SET(60, &r);
	say("select of a descriptor not open", select(61, &r, NULL, NULL, &tv));
	FD_ZERO(&r);
	FD_SET(900, &r);
	say("select past the descriptor table (ignored)", select(901, &r, NULL, NULL, &tv));
	say("dup2 to 200 (the table grows)", dup2(1, 200));
	FD_ZERO(&r);
	FD_SET(250, &r);
	say("select of a descriptor not open, now in the table", select(251, &r, NULL, NULL, &tv));
	close(200);

	pipe(p);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv = (struct timeval){0, 20000};
	say("select with a 20 ms timeout, nothing comes", select(p[0] + 1, &r, NULL, NULL, &tv));
	printf("  time left %ld us\n", (long)tv.tv_usec);
	fflush(stdout);
	if (fork() == 0) {
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
		write(p[1], "late", 4);
		_exit(0);
	}
	fds[0] = (struct pollfd){p[0], POLLIN, 0};
	say("poll with no timeout, a child writes later", poll(fds, 1, -1));
	printf("  revents %#x\n", fds[0].revents);
	wait(NULL);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	say("pselect, data there", pselect(p[0] + 1, &r, NULL, NULL, NULL, NULL));
	struct timespec zero = {0, 0};
	fds[0] = (struct pollfd){p[0], POLLIN, 0};
	say("ppoll, data there", ppoll(fds, 1, &zero, NULL));
	close(p[0]);
	close(p[1]);
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "count") == 0)
		return count();
	setvbuf(stdout, NULL, _IOLBF, 0);
	pipeline();
	eof_and_epipe();
	nonblocking();
	atomic();
	polling();
	return 0;
}
