/* sig_pipe: signals and pipes. A read of an empty pipe interrupted by a handled SIGUSR1
   fails with EINTR, or restarts and returns the data when the handler has SA_RESTART (a
   child sends the signal while its parent reads, then writes); a write that filled the
   pipe and was interrupted returns the bytes it had moved; a write to a pipe with no
   reader is EPIPE with SIGPIPE (si_code SI_USER, si_pid the writer), and SIGPIPE's default
   action kills. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int usr1;
static volatile siginfo_t pipe_info;
static void on_usr1(int sig) { (void)sig, usr1++; }
static void on_pipe(int sig, siginfo_t *si, void *uc) { (void)sig, (void)uc, pipe_info = *si; }

static void handle(int sig, void (*h)(int), int flags) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sa.sa_flags = flags;
	sigaction(sig, &sa, 0);
}

static void ms(long n) {
	struct timespec ts = {n / 1000, n % 1000 * 1000000};
	nanosleep(&ts, 0);
}

/* A child that signals its parent after 0.1 s, then writes "x" to fd (if >= 0). */
static pid_t child(int fd, int other) {
	pid_t parent = getpid(), c = fork();
	if (c == 0) {
		close(other);
		ms(100);
		kill(parent, SIGUSR1);
		ms(100);
		if (fd >= 0 && write(fd, "x", 1) != 1)
			_exit(1);
		_exit(0);
	}
	return c;
}

int main(void) {
	int fds[2], st;
	char buf[16];
	for (int restart = 0; restart <= 1; restart++) {
		handle(SIGUSR1, on_usr1, restart ? SA_RESTART : 0);
		usr1 = 0;
		if (pipe(fds) != 0)
			return 1;
		pid_t c = child(fds[1], fds[0]);
		close(fds[1]);
		ssize_t n = read(fds[0], buf, sizeof buf);
		printf("read %s SA_RESTART: %zd %s, handler ran %d\n", restart ? "with" : "without", n,
		       n < 0 && errno == EINTR ? "EINTR" : n == 1 && buf[0] == 'x' ? "(the data)" : "?", usr1);
		if (n < 0) {
			n = read(fds[0], buf, sizeof buf);
			printf("  read again: %zd\n", n);
		}
		waitpid(c, &st, 0);
		close(fds[0]);
	}

	/* A big write fills the pipe, sleeps, and is interrupted: it returns what it moved. */
	handle(SIGUSR1, on_usr1, SA_RESTART);
	if (pipe(fds) != 0)
		return 1;
	pid_t c = child(-1, fds[1]);
	size_t big = 200000;
	char *data = calloc(1, big);
	ssize_t n = write(fds[1], data, big);
	printf("write of %zu bytes interrupted after filling the pipe: %zd\n", big, n);
	waitpid(c, &st, 0);
	close(fds[0]);

	/* No reader left: EPIPE and SIGPIPE. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_pipe;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGPIPE, &sa, 0);
	n = write(fds[1], "y", 1);
	printf("write with no reader: %zd %s; SIGPIPE si_code %d, si_pid is the writer %d\n", n,
	       n < 0 && errno == EPIPE ? "EPIPE" : "?", pipe_info.si_code, pipe_info.si_pid == getpid());
	close(fds[1]);
	c = fork();
	if (c == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (pipe(fds) != 0)
			_exit(1);
		close(fds[0]);
		n = write(fds[1], "z", 1);
		_exit(2);
	}
	waitpid(c, &st, 0);
	printf("SIGPIPE's default action: killed by %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 0;
}
