/* vm_touch: map N pages (default 16384, 64 MiB) and write one byte to each: N demand-zero
   faults; unmap them and do it again, R times in all (default 1), for the fault
   benchmark. usage: vm_touch [N [R]] */
#include "vm.h"

int main(int argc, char **argv, char **envp) {
	(void)envp;
	u64 n = argc > 1 ? parse_u64(argv[1]) : 16384;
	u64 rounds = argc > 2 ? parse_u64(argv[2]) : 1;
	for (u64 r = 0; r < rounds; r++) {
		volatile char *p = sys_mmap(0, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (MAP_FAILED_(p))
			fail("mmap");
		for (u64 i = 0; i < n; i++)
			p[i * PAGE] = 1;
		sys_munmap((void *)p, n * PAGE);
	}
	return 0;
}
