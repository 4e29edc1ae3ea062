/* tlb_shootdown: why a TLB is the operating system's problem. A worker thread on CPU 1
   keeps storing into a page, so CPU 1's TLB holds its translation; the main thread, on
   CPU 0, then takes the page away: munmap, and in a second round mprotect(PROT_READ). The
   kernel must make CPU 1 forget the translation (a TLB shootdown: an inter-processor
   interrupt, and INVLPG on CPU 1) before munmap returns, so the worker's very next store
   faults: SIGSEGV, which its handler reports. Run under emu with --cpus 2 it prints what
   Linux prints; with --tlb noshootdown the kernel skips the interrupt and the worker's
   stores go on through the stale TLB entry, into a frame the kernel has already freed,
   which this program then reports instead. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile int *page;
static volatile int phase;      /* 0: warm up; 1: the page is gone; 2: stop */
static volatile long warm, after; /* stores before the change, and after it */
static volatile int faulted, fault_code;
static volatile uintptr_t fault_addr;
static sigjmp_buf jb;

static void segv(int s, siginfo_t *si, void *ctx) {
	(void)s;
	(void)ctx;
	faulted = 1;
	fault_code = si->si_code;
	fault_addr = (uintptr_t)si->si_addr;
	siglongjmp(jb, 1);
}

static void pin(int cpu) {
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof set, &set); /* best effort: a one-CPU host runs it anyway */
}

static void *worker(void *arg) {
	(void)arg;
	pin(1);
	if (sigsetjmp(jb, 1) == 0) {
		for (long i = 0; phase != 2; i++) {
			page[i & 1023] = (int)i; /* the store that needs the translation */
			if (phase == 0)
				warm++;
			else if (++after >= 100000)
				break; /* no fault after 100,000 stores: the TLB was never told */
		}
	}
	return NULL;
}

static void round_(const char *what, int mprotect_it) {
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	phase = 0;
	warm = after = 0;
	faulted = 0;
	pthread_t t;
	pthread_create(&t, NULL, worker, NULL);
	while (warm < 1000)
		sched_yield();
	if (mprotect_it)
		mprotect((void *)page, 4096, PROT_READ);
	else
		munmap((void *)page, 4096);
	phase = 1;
	pthread_join(t, NULL);
	if (faulted)
		printf("%s: the worker's next store faulted: SIGSEGV %s at the page: %s\n", what,
			fault_code == SEGV_MAPERR ? "SEGV_MAPERR" : fault_code == SEGV_ACCERR ? "SEGV_ACCERR" : "?",
			fault_addr >> 12 == (uintptr_t)page >> 12 ? "yes" : "no");
	else
		printf("%s: the worker stored %ld more times through a stale TLB entry, and never faulted\n", what, after);
	if (mprotect_it)
		munmap((void *)page, 4096);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	pin(0);
	struct sigaction sa = {.sa_sigaction = segv, .sa_flags = SA_SIGINFO};
	sigaction(SIGSEGV, &sa, NULL);
	round_("munmap", 0);
	round_("mprotect(PROT_READ)", 1);
	return 0;
}
