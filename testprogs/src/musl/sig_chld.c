/* sig_chld: SIGCHLD as Linux's do_notify_parent() sends it. A SA_SIGINFO handler counts
   children and reads si_pid, si_code (CLD_EXITED, CLD_KILLED) and si_status (the exit
   status, or the signal); the parent waits for each notification with sigsuspend, then
   reaps the child. With SA_NOCLDWAIT children leave no zombie (wait4 says ECHILD) but the
   handler still runs; with SIGCHLD blocked and its default action, the signal is still
   queued (blocked signals are never ignored) and shows in sigpending. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int count, last_code, last_status;
static volatile pid_t last_pid;

static void chld(int sig, siginfo_t *si, void *uc) {
	(void)sig, (void)uc;
	count++;
	last_pid = si->si_pid;
	last_code = si->si_code;
	last_status = si->si_status;
}

static const char *code_name(int c) {
	return c == CLD_EXITED ? "CLD_EXITED" : c == CLD_KILLED ? "CLD_KILLED" : c == CLD_DUMPED ? "CLD_DUMPED" : "?";
}

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = chld;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGCHLD, &sa, 0);

	sigset_t block, empty;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigemptyset(&empty);
	sigprocmask(SIG_BLOCK, &block, 0);

	for (int i = 0; i < 4; i++) {
		int before = count;
		pid_t c = fork();
		if (c == 0) {
			if (i == 3)
				raise(SIGTERM);
			_exit(10 + i);
		}
		while (count == before)
			sigsuspend(&empty); /* SIGCHLD can only arrive in here */
		int st;
		pid_t w = waitpid(c, &st, 0);
		printf("child %d: si_pid is the child %d, %s si_status=%d; waitpid %d, status %#x\n", i,
		       last_pid == c, code_name(last_code), last_status, w == c, st);
	}
	printf("SIGCHLD handled %d times\n", count);

	sa.sa_flags |= SA_NOCLDWAIT;
	sigaction(SIGCHLD, &sa, 0);
	int before = count;
	pid_t c = fork();
	if (c == 0)
		_exit(1);
	while (count == before)
		sigsuspend(&empty);
	pid_t w = waitpid(-1, 0, 0);
	printf("SA_NOCLDWAIT: the handler ran %d, si_pid is the child %d, waitpid %d %s\n", count - before,
	       last_pid == c, w, w < 0 && errno == ECHILD ? "ECHILD" : "?");

	signal(SIGCHLD, SIG_DFL); /* default action: ignore; but it is blocked */
	c = fork();
	if (c == 0)
		_exit(2);
	int st;
	waitpid(c, &st, 0);
	sigset_t pend;
	sigpending(&pend);
	printf("blocked SIGCHLD with SIG_DFL is pending: %d\n", sigismember(&pend, SIGCHLD));
	signal(SIGCHLD, SIG_IGN);
	sigpending(&pend);
	printf("after SIG_IGN it is discarded: pending %d\n", sigismember(&pend, SIGCHLD));
	return 0;
}
