/* sig_deliver: how Linux delivers signals to handlers. The siginfo of kill (SI_USER with
   the sender's pid and uid), raise (SI_TKILL) and sigqueue (SI_QUEUE with a value); the
   registers at a handler's first instruction (RDI = signal, RAX = 0, RSP + 8 a multiple of
   16, below the interrupted code's 128-byte red zone, DF clear), and the interrupted DF
   back after rt_sigreturn, which restores only the flags a program may change (CF set in the
   frame by the handler comes back, ID does not); the ucontext's saved RSP and uc_stack; blocked signals pending (sigpending) and delivered when
   unblocked, in Linux's order: the thread's own queue before the process's, the lowest
   number first, each handler's frame on top of the last (so the last set up runs first),
   real-time signals queued once per sending; the mask while a handler runs (its sa_mask and
   the signal itself) and after it; SA_NODEFER, SA_RESETHAND; rt_sigtimedwait;
   rt_sigsuspend restoring the mask; SA_RESTORER-less actions are refused at delivery. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* probe is a handler in assembly that records the registers it starts with, then returns
   to sa_restorer. kill_df sends a signal to its own process with DF set and the stack
   pointer recorded, and stores RFLAGS after the system call (DF must be set again). */
__asm__(".text\n"
	".globl probe\n probe:\n"
	" mov %rsp, probe_rsp(%rip)\n mov %rax, probe_rax(%rip)\n mov %rdi, probe_rdi(%rip)\n"
	" pushfq\n popq probe_flags(%rip)\n mov 160(%rdx), %rax\n mov %rax, probe_ucrsp(%rip)\n"
	" movl 24(%rdx), %eax\n movl %eax, probe_ssflags(%rip)\n"
	" orq $0x200001, 176(%rdx)\n ret\n" /* set CF and ID in the saved RFLAGS */
	".globl kill_df\n kill_df:\n"
	" mov %edi, %r8d\n mov $39, %eax\n syscall\n mov %eax, %edi\n mov %r8d, %esi\n"
	" std\n mov %rsp, sender_rsp(%rip)\n mov $62, %eax\n syscall\n"
	" pushfq\n popq flags_after(%rip)\n cld\n ret\n");
void probe(int);
void kill_df(int sig);
uintptr_t probe_rsp, probe_rax, probe_rdi, probe_flags, probe_ucrsp, sender_rsp, flags_after;
int probe_ssflags;

/* What handlers record: volatile, since libc declares raise() and friends as leaf
   functions, after which the compiler could otherwise reuse values read before the call. */
static char order[256];
static volatile int olen;
static volatile siginfo_t info;
static volatile int depth, maxdepth, raised;

static void note(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	olen += sprintf(order + olen, "%d ", sig);
	if (si)
		info = *si;
}

static void nested(int sig) {
	depth++;
	maxdepth = depth > maxdepth ? depth : maxdepth;
	if (!raised) {
		raised = 1;
		raise(sig);
	}
	olen += sprintf(order + olen, "d%d ", depth);
	depth--;
}

static volatile sigset_t during;
static void look_at_mask(int sig, siginfo_t *si, void *ctx) {
	(void)si;
	ucontext_t *uc = ctx;
	if (sig == SIGUSR1)
		sigprocmask(SIG_BLOCK, 0, (sigset_t *)&during);
	olen += sprintf(order + olen, "in %d (uc_sigmask has USR1: %d) ", sig, sigismember(&uc->uc_sigmask, SIGUSR1));
	if (sig == SIGUSR1)
		raise(SIGUSR2); /* blocked by sa_mask: runs after this handler returns */
}

static void action(int sig, void (*h)(int, siginfo_t *, void *), int flags, int masksig) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = h;
	sa.sa_flags = flags | SA_SIGINFO;
	if (masksig)
		sigaddset(&sa.sa_mask, masksig);
	sigaction(sig, &sa, 0);
}

static void show_order(const char *what) {
	printf("%s: %s\n", what, order);
	olen = 0;
	order[0] = 0;
}

int main(void) {
	pid_t me = getpid();
	action(SIGUSR1, note, 0, 0);

	kill(me, SIGUSR1);
	printf("kill:     si_signo=%d si_code=%d si_pid is me: %d, si_uid is my uid: %d\n", info.si_signo,
	       info.si_code, info.si_pid == me, info.si_uid == getuid());
	raise(SIGUSR1);
	printf("raise:    si_code=%d (SI_TKILL %d) si_pid is me: %d\n", info.si_code, SI_TKILL, info.si_pid == me);
	sigqueue(me, SIGUSR1, (union sigval){.sival_int = 42});
	printf("sigqueue: si_code=%d (SI_QUEUE %d) si_value=%d\n", info.si_code, SI_QUEUE, info.si_value.sival_int);
	show_order("handled");

	/* The registers at the handler's first instruction. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = probe;
	sigaction(SIGUSR2, &sa, 0);
	kill_df(SIGUSR2);
	printf("handler entry: rdi=%lu rax=%lu (rsp+8)%%16=%lu below the red zone: %d DF=%lu\n",
	       (unsigned long)probe_rdi, (unsigned long)probe_rax, (unsigned long)((probe_rsp + 8) % 16),
	       probe_rsp + 128 <= sender_rsp, (unsigned long)(probe_flags >> 10 & 1));
	printf("  uc_mcontext rsp is the sender's: %d, uc_stack.ss_flags=%d\n", probe_ucrsp == sender_rsp,
	       probe_ssflags);
	printf("  after rt_sigreturn DF=%lu, CF set in the frame comes back: %lu, ID set there does not: %lu\n",
	       (unsigned long)(flags_after >> 10 & 1), (unsigned long)(flags_after & 1),
	       (unsigned long)(flags_after >> 21 & 1));

	/* Pending while blocked, then delivered in Linux's order when unblocked. */
	for (int s = 1; s <= 40; s++)
		if (s != SIGKILL && s != SIGSTOP && s < 32 ? 1 : s >= SIGRTMIN)
			action(s, note, 0, 0);
	sigset_t all, old, pend;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	kill(me, SIGUSR2);
	kill(me, SIGUSR1);
	raise(SIGTERM);
	kill(me, SIGSEGV);
	raise(SIGHUP);
	kill(me, SIGRTMIN + 2);
	kill(me, SIGRTMIN + 2);
	raise(SIGRTMIN + 3);
	kill(me, SIGUSR1); /* a standard signal is pending once */
	sigpending(&pend);
	printf("pending:");
	for (int s = 1; s <= 40; s++)
		if (sigismember(&pend, s))
			printf(" %d", s);
	printf("\n");
	sigprocmask(SIG_SETMASK, &old, 0);
	show_order("delivered (handlers run in this order)");
	signal(SIGCHLD, SIG_DFL);

	/* sa_mask and the signal itself are blocked while the handler runs. */
	action(SIGUSR1, look_at_mask, 0, SIGUSR2);
	action(SIGUSR2, look_at_mask, 0, 0);
	raise(SIGUSR1);
	sigset_t now;
	sigprocmask(SIG_BLOCK, 0, &now);
	printf("during the USR1 handler USR1 blocked: %d, USR2 blocked: %d; after it: %d %d\n",
	       sigismember((sigset_t *)&during, SIGUSR1), sigismember((sigset_t *)&during, SIGUSR2), sigismember(&now, SIGUSR1),
	       sigismember(&now, SIGUSR2));
	show_order("sa_mask");

	/* SA_NODEFER lets the handler interrupt itself; without it the second one waits. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = nested;
	sigaction(SIGUSR1, &sa, 0);
	raise(SIGUSR1);
	printf("without SA_NODEFER the deepest nesting was %d\n", maxdepth);
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGUSR1, &sa, 0);
	maxdepth = raised = 0;
	raise(SIGUSR1);
	printf("with SA_NODEFER the deepest nesting was %d\n", maxdepth);
	show_order("nesting");

	/* SA_RESETHAND: the first delivery restores SIG_DFL. */
	action(SIGUSR1, note, SA_RESETHAND, 0);
	raise(SIGUSR1);
	struct sigaction cur;
	sigaction(SIGUSR1, 0, &cur);
	printf("after a SA_RESETHAND delivery the handler is SIG_DFL: %d, SA_RESETHAND kept: %d\n",
	       cur.sa_handler == SIG_DFL, (cur.sa_flags & SA_RESETHAND) != 0);
	pid_t c = fork();
	if (c == 0) {
		raise(SIGUSR1);
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("a child raising SIGUSR1 with SIG_DFL: killed by %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	show_order("SA_RESETHAND");

	/* rt_sigtimedwait takes a blocked pending signal without running its handler. */
	action(SIGUSR1, note, 0, 0);
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, 0);
	raise(SIGUSR1);
	siginfo_t got;
	int r = sigwaitinfo(&usr1, &got);
	printf("sigwaitinfo: %d si_code=%d; handler ran: %d\n", r, got.si_code, olen > 0);
	struct timespec zero = {0, 0};
	r = sigtimedwait(&usr1, &got, &zero);
	printf("sigtimedwait with nothing pending: %d %s\n", r, r < 0 && errno == EAGAIN ? "EAGAIN" : "?");

	/* rt_sigsuspend: the handler runs with the temporary mask, the old one comes back. */
	raise(SIGUSR1);
	sigset_t empty;
	sigemptyset(&empty);
	r = sigsuspend(&empty);
	sigprocmask(SIG_BLOCK, 0, &now);
	printf("sigsuspend: %d %s, handler ran: %d, USR1 blocked again: %d\n", r, errno == EINTR ? "EINTR" : "?",
	       olen > 0, sigismember(&now, SIGUSR1));
	show_order("sigsuspend");
	sigprocmask(SIG_UNBLOCK, &usr1, 0);

	/* x86-64 requires SA_RESTORER: a raw rt_sigaction without it is accepted, but the
	   signal cannot be delivered to the handler and the process gets SIGSEGV instead. */
	c = fork();
	if (c == 0) {
		signal(SIGSEGV, SIG_DFL); /* else SIGSEGV goes to its handler */
		struct { void (*h)(int); unsigned long flags; void (*restorer)(void); unsigned long mask; } k = {probe, 0, 0, 0};
		syscall(SYS_rt_sigaction, SIGUSR2, &k, 0, 8);
		raise(SIGUSR2);
		_exit(0);
	}
	waitpid(c, &st, 0);
	printf("a handler without SA_RESTORER: the child was killed by %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 0;
}
