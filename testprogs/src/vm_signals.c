/* vm_signals: signal dispositions and masks without handlers. An ignored SIGTERM does
   nothing; a blocked one waits, pending, until it is unblocked; with SIGCHLD ignored,
   children leave no zombie (wait4 finds none: ECHILD); tgkill sends to oneself; SIGUSR1's
   default action ends the process. Also reads standard input. */
#include "vm.h"

#define SIGUSR1 10
#define SIG_IGN 1UL
#define SIG_DFL 0UL

static u64 act[4]; /* struct kernel_sigaction: handler, flags, restorer, mask */

static i64 sigaction_(int sig, u64 handler) {
	act[0] = handler;
	act[1] = 0x04000000; /* SA_RESTORER, as libcs pass it */
	return syscall6(13, sig, (i64)act, 0, 8, 0, 0);
}

static i64 sigprocmask_(int how, u64 set) { return syscall6(14, how, (i64)&set, 0, 8, 0, 0); }

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	char in[64];
	i64 n = sys_read(0, in, sizeof in);
	put_str("read from standard input: ");
	if (n > 0)
		sys_write(1, in, (u64)n);
	say("read at end of input", sys_read(0, in, sizeof in));

	i64 me = sys_getpid();
	say("SIGTERM ignored", sigaction_(SIGTERM, SIG_IGN));
	say("kill(self, SIGTERM)", sys_kill((int)me, SIGTERM));
	put_str("still here after an ignored SIGTERM\n");

	say("SIGCHLD ignored", sigaction_(SIGCHLD, SIG_IGN));
	i64 c = sys_fork();
	if (c == 0)
		sys_exit(3);
	say("wait4 with SIGCHLD ignored", sys_wait4(-1, 0, 0, 0));
	say("SIGCHLD default again", sigaction_(SIGCHLD, SIG_DFL));

	/* In a child: block SIGTERM, send it, restore the default action, unblock: it ends. */
	c = sys_fork();
	if (c == 0) {
		sigaction_(SIGTERM, SIG_DFL);
		sigprocmask_(0 /* SIG_BLOCK */, 1UL << (SIGTERM - 1));
		sys_kill((int)sys_getpid(), SIGTERM);
		put_str("child: SIGTERM is pending while blocked\n");
		sigprocmask_(1 /* SIG_UNBLOCK */, 1UL << (SIGTERM - 1));
		put_str("child: not reached\n");
		sys_exit(0);
	}
	int st = 0;
	sys_wait4((int)c, &st, 0, 0);
	put_str("child with the blocked SIGTERM: ");
	put_status(st);
	put_str("\n");

	c = sys_fork();
	if (c == 0) {
		syscall6(234, sys_getpid(), sys_getpid(), SIGUSR1, 0, 0, 0);
		sys_exit(0);
	}
	sys_wait4((int)c, &st, 0, 0);
	put_str("child after tgkill(self, SIGUSR1): ");
	put_status(st);
	put_str("\n");
	say("tgkill with a wrong thread group", syscall6(234, me + 100000, me, SIGUSR1, 0, 0, 0));
	return 0;
}
