/* sig_altstack: the alternate signal stack. sigaltstack's answers (SS_DISABLE at first,
   ENOMEM below MINSIGSTKSZ, EINVAL for unknown flags, SS_ONSTACK and EPERM while a handler
   runs on it); a stack overflow (infinite recursion under a 1 MiB RLIMIT_STACK) caught by a
   SIGSEGV handler that runs on the alternate stack and siglongjmps out; SS_AUTODISARM
   (the stack is disarmed while the handler runs and comes back with rt_sigreturn); and the
   same overflow without an alternate stack, where the kernel cannot write the frame and the
   process dies of SIGSEGV. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define ALT_SIZE (64 * 1024)
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31) /* Linux 4.7; glibc's headers lack it */
#endif

static char *alt;
static sigjmp_buf env;
static volatile int on_alt, flags_in_handler, eperm, code, addr_below_sp;
static volatile uintptr_t deepest;

static void segv(int sig, siginfo_t *si, void *uc) {
	(void)sig, (void)uc;
	char here;
	on_alt = &here >= alt && &here < alt + ALT_SIZE;
	stack_t cur, other = {.ss_sp = alt, .ss_size = ALT_SIZE};
	sigaltstack(0, &cur);
	flags_in_handler = cur.ss_flags;
	eperm = sigaltstack(&other, 0) == -1 && errno == EPERM;
	code = si->si_code;
	addr_below_sp = (uintptr_t)si->si_addr < deepest;
	siglongjmp(env, 1);
}

static volatile int limit = 1 << 30; /* never reached: the stack runs out first */

static int recurse(int n) {
	volatile char pad[256];
	pad[0] = (char)n;
	deepest = (uintptr_t)pad;
	if (n == limit)
		return 0;
	return recurse(n + 1) + pad[0];
}

static void autodisarm(int sig) {
	(void)sig;
	stack_t cur;
	sigaltstack(0, &cur);
	printf("  in an SS_AUTODISARM handler: ss_flags=%d ss_size=%zu\n", cur.ss_flags, cur.ss_size);
}

int main(void) {
	struct rlimit rl = {1 << 20, RLIM_INFINITY};
	setrlimit(RLIMIT_STACK, &rl);
	stack_t cur;
	sigaltstack(0, &cur);
	printf("at first: ss_flags=%d ss_size=%zu\n", cur.ss_flags, cur.ss_size);

	alt = malloc(ALT_SIZE);
	stack_t small = {.ss_sp = alt, .ss_size = 1024}, bad = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 5};
	int r = sigaltstack(&small, 0);
	printf("1024 bytes: %d %s\n", r, r < 0 && errno == ENOMEM ? "ENOMEM" : "?");
	r = sigaltstack(&bad, 0);
	printf("flags 5: %d %s\n", r, r < 0 && errno == EINVAL ? "EINVAL" : "?");
	stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE};
	printf("64 KiB: %d\n", sigaltstack(&ss, 0));
	sigaltstack(0, &cur);
	printf("now: ss_flags=%d ss_size=%zu ss_sp is ours: %d\n", cur.ss_flags, cur.ss_size, cur.ss_sp == alt);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigaction(SIGSEGV, &sa, 0);
	if (!sigsetjmp(env, 1))
		recurse(0);
	printf("stack overflow caught: on the alternate stack %d, ss_flags there %d (SS_ONSTACK %d), "
	       "changing it there EPERM %d, si_code %d, fault below the deepest frame %d\n",
	       on_alt, flags_in_handler, SS_ONSTACK, eperm, code, addr_below_sp);
	sigaltstack(0, &cur);
	printf("after siglongjmp: ss_flags=%d\n", cur.ss_flags);

	/* SS_AUTODISARM: while the handler runs the alternate stack is disarmed; rt_sigreturn
	   puts it back from uc_stack. */
	ss.ss_flags = SS_AUTODISARM;
	printf("SS_AUTODISARM: %d\n", sigaltstack(&ss, 0));
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = autodisarm;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, 0);
	raise(SIGUSR1);
	sigaltstack(0, &cur);
	printf("  after the handler: ss_flags=%#x ss_size=%zu\n", (unsigned)cur.ss_flags, cur.ss_size);

	/* Without an alternate stack the frame for the overflow's SIGSEGV has nowhere to go. */
	pid_t c = fork();
	if (c == 0) {
		stack_t off = {.ss_flags = SS_DISABLE};
		sigaltstack(&off, 0);
		recurse(0);
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("overflow without an alternate stack: killed by signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 0;
}
