/* hard_hintnop: the hint-NOP space 0F 18 - 0F 1F (SDM Vol. 2B NOP; Vol. 2 Table A-3, group
   16 and "Reserved-NOP"): every ModRM form is a NOP (the prefetches of 0F 18 /0-/3 are hints
   too) and none touches memory, whatever the address. Each encoding runs from a scratch code
   page with RAX pointing at good memory, then at an unmapped address; the table shows "."
   for a NOP, "U" for SIGILL, "S" for SIGSEGV, per reg field 0-7.
   0F 1A and 0F 1B (MPX's BND instructions on some Intel parts) are left out: what they do
   depends on the vendor and on whether MPX is enabled. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static sigjmp_buf env;
static void handler(int sig) { siglongjmp(env, sig); }

static char run(unsigned char *code, unsigned char op, unsigned char modrm, unsigned long rax) {
	unsigned char *p = code;
	*p++ = 0x0f;
	*p++ = op;
	*p++ = modrm;
	if ((modrm & 0xc0) == 0x40) /* disp8 */
		*p++ = 0x10;
	*p++ = 0xc3; /* ret */
	__builtin___clear_cache((char *)code, (char *)p);
	int sig = sigsetjmp(env, 1);
	if (sig == 0) {
		__asm__ volatile("call *%1" : "+a"(rax) : "r"(code) : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
		return '.';
	}
	return sig == SIGILL ? 'U' : sig == SIGSEGV ? 'S' : '?';
}

int main(void) {
	signal(SIGILL, handler);
	signal(SIGSEGV, handler);
	unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static unsigned long good[64];
	static const unsigned char ops[] = {0x18, 0x19, 0x1c, 0x1d, 0x1e, 0x1f};
	static const struct {
		const char *name;
		unsigned char mod;
		unsigned long rax;
	} forms[] = {
		{"reg (mod 3)", 0xc0, 0},
		{"[rax] good", 0x00, 0},
		{"[rax] unmapped", 0x00, 0x10},
		{"[rax+8] kernel", 0x40, 0xffff800000000000UL},
		{"[rax] non-canonical", 0x00, 0x8000000000000000UL},
	};
	for (unsigned i = 0; i < sizeof ops; i++)
		for (unsigned f = 0; f < sizeof forms / sizeof forms[0]; f++) {
			char row[9] = {0};
			unsigned long rax = forms[f].rax ? forms[f].rax : (unsigned long)good;
			for (int reg = 0; reg < 8; reg++)
				row[reg] = run(code, ops[i], forms[f].mod | reg << 3, rax);
			printf("0f %02x %-20s %s\n", ops[i], forms[f].name, row);
		}
	return 0;
}
