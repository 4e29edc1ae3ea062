/* sig_exec: what execve does to signal state (Linux's flush_signal_handlers and
   begin_new_exec): handlers go back to SIG_DFL and lose their flags, ignored signals stay
   ignored, the blocked mask and pending signals are kept, the alternate stack is gone.
   Run as "sig_exec PATH": it sets everything up, then executes PATH again with "after". */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000 /* glibc's headers keep it to themselves */
#endif

static void handler(int sig) { (void)sig; }

int main(int argc, char **argv) {
	if (argc > 2 && strcmp(argv[2], "after") == 0) {
		struct sigaction a;
		sigaction(SIGUSR1, 0, &a);
		printf("USR1 (had a handler): SIG_DFL %d, flags %#x\n", a.sa_handler == SIG_DFL, (unsigned)(a.sa_flags & ~SA_RESTORER));
		sigaction(SIGUSR2, 0, &a);
		printf("USR2 (was ignored): SIG_IGN %d\n", a.sa_handler == SIG_IGN);
		sigset_t m, p;
		sigprocmask(SIG_BLOCK, 0, &m);
		sigpending(&p);
		printf("TERM still blocked %d and pending %d\n", sigismember(&m, SIGTERM), sigismember(&p, SIGTERM));
		stack_t ss;
		sigaltstack(0, &ss);
		printf("alternate stack: ss_flags %d, ss_size %zu\n", ss.ss_flags, ss.ss_size);
		return 0;
	}
	if (argc < 2)
		return 1;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART | SA_ONSTACK;
	sigaction(SIGUSR1, &sa, 0);
	signal(SIGUSR2, SIG_IGN);
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, 0);
	raise(SIGTERM);
	stack_t ss = {.ss_sp = malloc(65536), .ss_size = 65536};
	sigaltstack(&ss, 0);
	execl(argv[1], argv[1], argv[1], "after", (char *)0);
	return 127;
}
