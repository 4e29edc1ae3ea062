/* rp_vsyscall: the vsyscall page, as old binaries use it: calling its gettimeofday, time
   and getcpu entry points works (Linux's vsyscall=xonly emulates them), reading the page or
   jumping into it elsewhere is SIGSEGV (si_code and si_addr reported). */
#include "rp.h"
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#define VSYS 0xffffffffff600000UL

static sigjmp_buf jb;
static volatile uintptr_t faultAddr;
static volatile int faultCode;

static void onsegv(int sig, siginfo_t *si, void *uc) {
	(void)sig;
	(void)uc;
	faultAddr = (uintptr_t)si->si_addr;
	faultCode = si->si_code;
	siglongjmp(jb, 1);
}

int main(void) {
	struct sigaction sa = {.sa_sigaction = onsegv, .sa_flags = SA_SIGINFO};
	sigaction(SIGSEGV, &sa, NULL);
	time_t (*vtime)(time_t *) = (time_t(*)(time_t *))(VSYS + 0x400);
	int (*vgtod)(struct timeval *, void *) = (int (*)(struct timeval *, void *))VSYS;
	long (*vgetcpu)(unsigned *, unsigned *, void *) = (long (*)(unsigned *, unsigned *, void *))(VSYS + 0x800);
	time_t t1 = time(NULL), tv = 0;
	time_t r = vtime(&tv);
	printf("vsyscall time: agrees with time() %d, stored %d\n", r - t1 <= 1 && r >= t1, tv == r);
	struct timeval g = {0};
	int gr = vgtod(&g, NULL);
	printf("vsyscall gettimeofday: %d, agrees %d\n", gr, g.tv_sec - t1 <= 1 && g.tv_sec >= t1);
	unsigned cpu = 99, node = 99;
	long cr = vgetcpu(&cpu, &node, NULL);
	printf("vsyscall getcpu: %ld, cpu is small %d, node %u\n", cr, cpu < 1024, node);
	if (sigsetjmp(jb, 1) == 0) {
		volatile unsigned char c = *(volatile unsigned char *)VSYS;
		printf("read the page: %d (no fault)\n", c);
	} else {
		printf("read the page: SIGSEGV code %d at the page %d\n", faultCode, faultAddr == VSYS);
	}
	if (sigsetjmp(jb, 1) == 0) {
		void (*mid)(void) = (void (*)(void))(VSYS + 0x100);
		mid();
		printf("jumped into the page: returned\n");
	} else {
		printf("jump into the page: SIGSEGV code %d at the address %d\n", faultCode, faultAddr == VSYS + 0x100);
	}
	return 0;
}
