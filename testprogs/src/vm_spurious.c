/* vm_spurious: permissions that grow need no TLB invalidation. A page is read while it is
   read-only (the TLB caches "read-only"), then mprotect makes it writable, and the write
   that follows finds the stale entry: the processor faults, the kernel sees that the page
   tables already allow the write (a spurious fault) and lets it retry. */
#include "vm.h"

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	volatile u64 *p = sys_mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = 1;
	say("mprotect read-only", sys_mprotect((void *)p, PAGE, PROT_READ));
	u64 v = p[0];
	say("mprotect read-write", sys_mprotect((void *)p, PAGE, PROT_READ | PROT_WRITE));
	p[0] = v + 1;
	put_str("value: ");
	put_u64(p[0]);
	put_str("\n");
	return 0;
}
