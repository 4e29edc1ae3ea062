/* sig_fault: signals that instructions raise, caught by SA_SIGINFO handlers. For each
   fault the handler records siginfo (si_signo, si_code, si_addr) and the frame's trapno, err
   and cr2 (uc_mcontext.gregs), then siglongjmps out; the program prints what Linux's
   arch/x86/kernel/traps.c and mm/fault.c report: SIGSEGV SEGV_MAPERR/SEGV_ACCERR with the
   address and the page-fault error code, SIGSEGV SI_KERNEL for #GP, SIGILL ILL_ILLOPN for
   #UD, SIGFPE FPE_INTDIV for #DE, SIGTRAP SI_KERNEL for int3 (RIP after it), SIGBUS
   BUS_ADRALN for #AC and BUS_ADRERR past the end of a mapped file. Then two handlers that
   return: one mprotects the page (the store is retried and succeeds), one moves RIP past
   a ud2 in the saved context. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

/* Code whose addresses the handler compares with si_addr and the saved RIP. */
__asm__(".text\n"
	".globl do_ud2\n do_ud2:\n ud2\n ret\n"
	".globl do_int3\n do_int3:\n int3\n .globl after_int3\n after_int3:\n ret\n"
	".globl do_div\n do_div:\n mov %edi, %eax\n cltd\n .globl div_insn\n div_insn:\n idivl %esi\n ret\n"
	".globl do_ac\n do_ac:\n pushfq\n orq $0x40000, (%rsp)\n popfq\n .globl ac_insn\n ac_insn:\n"
	" movl 1(%rdi), %eax\n pushfq\n andq $~0x40000, (%rsp)\n popfq\n ret\n");
void do_ud2(void), do_int3(void);
int do_div(int, int), do_ac(void *);
extern char after_int3[], div_insn[], ac_insn[];

static sigjmp_buf env;
static volatile int sig, code, ret_mode;
static volatile uintptr_t addr, trapno, err, cr2, rip;
static char *ro_page;

static void catcher(int s, siginfo_t *si, void *ctx) {
	/* Clear RFLAGS.AC first: the handler runs with the interrupted RFLAGS, and with AC
	   set (after #AC) any misaligned access would fault again. */
	__asm__ volatile("pushfq\n andq $~0x40000, (%%rsp)\n popfq" ::: "cc");
	ucontext_t *uc = ctx;
	sig = s, code = si->si_code, addr = (uintptr_t)si->si_addr;
	trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	err = uc->uc_mcontext.gregs[REG_ERR];
	cr2 = uc->uc_mcontext.gregs[REG_CR2];
	rip = uc->uc_mcontext.gregs[REG_RIP];
	if (ret_mode == 1) { /* make the page writable: the store is retried */
		mprotect(ro_page, 4096, PROT_READ | PROT_WRITE);
		return;
	}
	if (ret_mode == 2) { /* skip the 2-byte ud2 */
		uc->uc_mcontext.gregs[REG_RIP] += 2;
		return;
	}
	if (ret_mode == 3) /* int3 is a trap: returning continues after it */
		return;
	siglongjmp(env, 1);
}

static const char *name(int s) {
	switch (s) {
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	case SIGILL: return "SIGILL";
	case SIGFPE: return "SIGFPE";
	case SIGTRAP: return "SIGTRAP";
	}
	return "?";
}

static void report(const char *what, uintptr_t want_addr, uintptr_t want_rip) {
	printf("%-34s %s si_code=%d si_addr%s trapno=%lu err=%#lx", what, name(sig), code,
	       addr == want_addr ? "=expected" : "=WRONG", (unsigned long)trapno, (unsigned long)err);
	if (sig == SIGSEGV && code != SI_KERNEL)
		printf(" cr2%s", cr2 == want_addr ? "=si_addr" : "=WRONG");
	if (want_rip)
		printf(" rip%s", rip == want_rip ? "=expected" : "=WRONG");
	printf("\n");
	sig = 0;
}

#define TRY(what, stmt, want_addr, want_rip)                      \
	do {                                                      \
		if (!sigsetjmp(env, 1)) {                         \
			stmt;                                     \
			printf("%s: no signal\n", what);          \
		} else                                            \
			report(what, (uintptr_t)(want_addr), (uintptr_t)(want_rip)); \
	} while (0)

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = catcher;
	sa.sa_flags = SA_SIGINFO;
	for (int s = 1; s < 32; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &sa, 0);

	ro_page = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *nx = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	nx[0] = (char)0xc3; /* ret, on a page that is not executable */
	char *gone = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, 4096); /* nothing is mapped there until the next mmap */

	TRY("read of an unmapped page", (void)*(volatile char *)(gone + 8), gone + 8, 0);
	TRY("write to a read-only page", *(volatile char *)(ro_page + 16) = 1, ro_page + 16, 0);
	TRY("call into a no-exec page", ((void (*)(void))nx)(), nx, nx);
	TRY("non-canonical address (#GP)", (void)*(volatile long *)0x8000000000000000UL, 0, 0);
	TRY("ud2 (#UD)", do_ud2(), do_ud2, do_ud2);
	TRY("divide by zero (#DE)", do_div(7, 0), div_insn, div_insn);
	TRY("INT_MIN / -1 (#DE)", do_div(-2147483647 - 1, -1), div_insn, div_insn);
	TRY("misaligned load with AC set (#AC)", do_ac(nx), 0, ac_insn);

	char path[] = "/tmp/sig_fault_XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	if (write(fd, "short file", 10) != 10)
		return 1;
	char *f = mmap(0, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
	printf("file page 0 reads '%.5s'\n", f);
	TRY("read past the end of a file", (void)*(volatile char *)(f + 4096 + 5), f + 4096 + 5, 0);

	ret_mode = 3;
	do_int3();
	report("int3 (#BP), handler returns", 0, (uintptr_t)after_int3);

	ret_mode = 1;
	*(volatile char *)(ro_page + 100) = 42;
	report("store to a read-only page, retried", (uintptr_t)(ro_page + 100), 0);
	printf("after mprotect in the handler the store landed: %d\n", ro_page[100]);

	ret_mode = 2;
	do_ud2();
	report("ud2, handler skips it", (uintptr_t)do_ud2, (uintptr_t)do_ud2);
	printf("done\n");
	return 0;
}
