#define _GNU_SOURCE
/* hard_noncanon: near branches to non-canonical addresses. SDM Vol. 2A (CALL, JMP) and 2B
   (RET): in 64-bit mode a target that is not canonical raises #GP(0) on the branch itself,
   which then has no effect: RIP stays at the branch and CALL pushes nothing. Linux turns the
   #GP into SIGSEGV with si_code SI_KERNEL and si_addr 0. A canonical kernel address is a page
   fault at the target instead, after the branch (CALL has pushed). */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

unsigned long saved_rsp;
extern char call_site[], jmp_site[], ret_site[], callm_site[];
static sigjmp_buf env;
static volatile unsigned long got_rip, got_rsp, got_addr;
static volatile int got_code;

static void handler(int sig, siginfo_t *si, void *ucv) {
	ucontext_t *uc = ucv;
	(void)sig;
	got_rip = uc->uc_mcontext.gregs[REG_RIP];
	got_rsp = uc->uc_mcontext.gregs[REG_RSP];
	got_code = si->si_code;
	got_addr = (unsigned long)si->si_addr;
	siglongjmp(env, 1);
}

__attribute__((noinline)) static void do_call(unsigned long t) {
	__asm__ volatile("mov %%rsp, saved_rsp(%%rip)\n.globl call_site\ncall_site: call *%0" : : "r"(t) : "memory");
}
__attribute__((noinline)) static void do_jmp(unsigned long t) {
	__asm__ volatile("mov %%rsp, saved_rsp(%%rip)\n.globl jmp_site\njmp_site: jmp *%0" : : "r"(t) : "memory");
}
__attribute__((noinline)) static void do_ret(unsigned long t) {
	__asm__ volatile("push %0\nmov %%rsp, saved_rsp(%%rip)\n.globl ret_site\nret_site: ret" : : "r"(t) : "memory");
}
unsigned long slot;
__attribute__((noinline)) static void do_callm(unsigned long t) {
	slot = t;
	__asm__ volatile("mov %%rsp, saved_rsp(%%rip)\n.globl callm_site\ncallm_site: call *slot(%%rip)" : : : "memory");
}

static void where(const char *what, unsigned long t, void (*fn)(unsigned long), char *site) {
	printf("%-5s %#018lx: ", what, t);
	if (sigsetjmp(env, 1) == 0) {
		fn(t);
		printf("returned?\n");
		return;
	}
	if (got_rip == (unsigned long)site)
		printf("rip at the branch, ");
	else if (got_rip == t)
		printf("rip at the target, ");
	else
		printf("rip elsewhere (site%+ld), ", (long)(got_rip - (unsigned long)site));
	printf("rsp %+ld, si_code %d, si_addr %#lx\n", (long)(got_rsp - saved_rsp), got_code, got_addr);
}

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	static const unsigned long targets[] = {
		0x0000800000000000UL, /* just above the lower half */
		0xffff7fffffffffffUL, /* just below the upper half */
		0x8000000000000000UL,
		0xffff800000000000UL, /* canonical, a kernel address: #PF at the target */
		0x0000000000001000UL, /* canonical, unmapped user address: #PF at the target */
	};
	for (unsigned i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		where("call", targets[i], do_call, call_site);
		where("callm", targets[i], do_callm, callm_site);
		where("jmp", targets[i], do_jmp, jmp_site);
		where("ret", targets[i], do_ret, ret_site);
	}
	return 0;
}
