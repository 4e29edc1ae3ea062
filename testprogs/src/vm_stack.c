/* vm_stack: the stack grows on demand, page by page, through deep recursion: 6 MiB of
   frames under an 8 MiB RLIMIT_STACK (set here, so the host's limit does not matter). Each
   frame holds a kilobyte that is written and read back after the deeper calls return. */
#include "vm.h"

static volatile u64 limit;

static u64 deep(u64 depth) {
	volatile u64 frame[128];
	for (u64 i = 0; i < 128; i += 16)
		frame[i] = depth * 31 + i;
	u64 below = depth < limit ? deep(depth + 1) : 0;
	u64 s = 0;
	for (u64 i = 0; i < 128; i += 16)
		s += frame[i] == depth * 31 + i;
	return below + s;
}

int main(int argc, char **argv, char **envp) {
	(void)envp;
	u64 lim[2] = {8UL << 20, ~0UL};
	say("prlimit RLIMIT_STACK 8 MiB", sys_prlimit(0, 3, lim, 0));
	limit = argc > 1 ? parse_u64(argv[1]) : 6000; /* about 6 MiB of 1 KiB frames */
	u64 good = deep(0);
	put_str("frames checked: ");
	put_u64(good / 8);
	put_str(" of ");
	put_u64(limit + 1);
	put_str("\n");
	return good == (limit + 1) * 8 ? 0 : 1;
}
