/* pie_hello: a static position-independent executable (gcc -static-pie, no libc). The
   kernel chooses its load address (ET_DYN): Linux places it like an mmap of the whole image,
   high in the address space. It has no relocations to apply (no pointers in its data), so it
   needs no self-relocation: only RIP-relative addressing. */
#include "../vm.h"

static const char msg[] = "hello from a static PIE\n";
static u64 counter;

int main(int argc, char **argv, char **envp) {
	(void)argv, (void)envp;
	sys_write(1, msg, sizeof msg - 1);
	counter += (u64)argc;
	u64 here = (u64)&main;
	put_str("loaded high: ");
	put_str(here > 0x500000000000UL ? "yes" : "no");
	put_str("; bss works: ");
	put_u64(counter);
	put_str("\n");
	return 0;
}
