/* int_traps: raises the exception argv[1] names, after printing a line, so the signal that
   ends it (and so its exit status, 128 + signal) can be compared natively and emulated:
   ac (RFLAGS.AC and a misaligned load: #AC, SIGBUS), tf (RFLAGS.TF: #DB after the next
   instruction, SIGTRAP), int3 (#BP, SIGTRAP), ud2 (#UD, SIGILL), hlt (#GP, SIGSEGV),
   cli (#GP), in (#GP), lock (LOCK on a register add: #UD), div (#DE, SIGFPE),
   cmpxchg16b (misaligned: #GP, SIGSEGV). */
#pragma GCC target("general-regs-only") /* integer instructions only */
#include "sys.h"

static int eq(const char *a, const char *b) {
	while (*a && *a == *b) a++, b++;
	return *a == *b;
}

static unsigned long long words[4] __attribute__((aligned(16)));

int main(int argc, char **argv, char **envp) {
	(void)envp;
	const char *what = argc > 1 ? argv[1] : "";
	put_str("raising ");
	put_str(what);
	put_str("\n");
	if (eq(what, "ac")) {
		volatile char buf[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
		unsigned long v;
		__asm__ volatile("pushfq\n\torq $0x40000, (%%rsp)\n\tpopfq\n\tmovl 1(%1), %k0"
				 : "=r"(v) : "r"(buf) : "memory", "cc");
		put_str("not reached\n");
	} else if (eq(what, "tf")) {
		__asm__ volatile("pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\tnop\n\tnop" ::: "memory", "cc");
	} else if (eq(what, "int3")) {
		__asm__ volatile("int3");
	} else if (eq(what, "ud2")) {
		__asm__ volatile("ud2");
	} else if (eq(what, "hlt")) {
		__asm__ volatile("hlt");
	} else if (eq(what, "cli")) {
		__asm__ volatile("cli");
	} else if (eq(what, "in")) {
		__asm__ volatile("inb $0x80, %%al" ::: "rax");
	} else if (eq(what, "lock")) {
		__asm__ volatile(".byte 0xf0, 0x48, 0x01, 0xc0" ::: "rax", "cc"); /* lock add rax, rax */
	} else if (eq(what, "div")) {
		unsigned long d = (unsigned long)argc - 2, q = 7;
		__asm__ volatile("xor %%edx, %%edx\n\tdivq %1" : "+a"(q) : "r"(d) : "rdx", "cc");
	} else if (eq(what, "cmpxchg16b")) {
		__asm__ volatile("lock cmpxchg16b 8(%0)" : : "r"(words), "a"(0), "d"(0), "b"(1), "c"(2) : "memory", "cc");
	}
	put_str("no trap\n");
	return 0;
}
