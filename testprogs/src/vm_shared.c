/* vm_shared: MAP_SHARED|MAP_ANONYMOUS memory stays shared across fork, also on pages
   nobody touched before the fork, while MAP_PRIVATE memory is copied. The child writes
   both; the parent, after waiting, sees the child's writes only in the shared area. The
   parent then writes the shared area and a second child reads it. */
#include "vm.h"

#define PAGES 16

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	u64 *shared = sys_mmap(0, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	u64 *private = sys_mmap(0, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (MAP_FAILED_(shared) || MAP_FAILED_(private))
		fail("mmap");
	/* Touch only the first half before fork. */
	for (u64 i = 0; i < PAGES / 2; i++)
		shared[i * PAGE / 8] = private[i * PAGE / 8] = 100 + i;
	i64 pid = sys_fork();
	if (pid == 0) {
		for (u64 i = 0; i < PAGES; i++)
			shared[i * PAGE / 8] = private[i * PAGE / 8] = 1000 + i;
		sys_exit(0);
	}
	int st;
	sys_wait4((int)pid, &st, 0, 0);
	u64 s = 0, p = 0;
	for (u64 i = 0; i < PAGES; i++) {
		s += shared[i * PAGE / 8];
		p += private[i * PAGE / 8];
	}
	put_str("after the child wrote: shared sum ");
	put_u64(s);
	put_str(", private sum ");
	put_u64(p);
	put_str("\n");
	for (u64 i = 0; i < PAGES; i++)
		shared[i * PAGE / 8 + 1] = 7 * i;
	pid = sys_fork();
	if (pid == 0) {
		u64 t = 0;
		for (u64 i = 0; i < PAGES; i++)
			t += shared[i * PAGE / 8 + 1];
		put_str("second child reads the parent's later writes: sum ");
		put_u64(t);
		put_str("\n");
		sys_exit(0);
	}
	sys_wait4((int)pid, &st, 0, 0);
	say("munmap shared", sys_munmap(shared, PAGES * PAGE));
	return 0;
}
