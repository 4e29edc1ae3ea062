/* vm_limits: the emulator's limits keep the machine alive. usage: vm_limits oom|forkbomb|mmap
   oom:      a child touches memory until none is left; the kernel kills it (SIGKILL, "out of
             memory") and the parent carries on.
   forkbomb: fork until fork fails (EAGAIN at the process limit), then kill and reap all.
   mmap:     map 1 GiB areas until mmap fails (ENOMEM: more than free memory), then 64 GiB
             MAP_NORESERVE areas until the address space is full (ENOMEM).
   Only for the emulator: natively these would use up the host. */
#include "vm.h"

static i64 pids[4096];

int main(int argc, char **argv, char **envp) {
	(void)envp;
	if (argc < 2)
		fail("usage: vm_limits oom|forkbomb|mmap");
	if (str_eq(argv[1], "oom")) {
		i64 pid = sys_fork();
		if (pid == 0) {
			char *p = sys_mmap(0, 1UL << 36, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
			for (u64 off = 0;; off += PAGE)
				p[off] = 1;
		}
		int st = 0;
		sys_wait4((int)pid, &st, 0, 0);
		put_str("memory eater: ");
		put_status(st);
		put_str("\nparent still runs and can fork: ");
		pid = sys_fork();
		if (pid == 0)
			sys_exit(0);
		sys_wait4((int)pid, &st, 0, 0);
		put_status(st);
		put_str("\n");
	} else if (str_eq(argv[1], "forkbomb")) {
		u64 n = 0;
		i64 r;
		for (;;) {
			r = sys_fork();
			if (r == 0)
				for (;;)
					sys_sched_yield();
			if (r < 0 || n == 4096)
				break;
			pids[n++] = r;
		}
		put_str("forked ");
		put_u64(n);
		put_str(" children, then fork said ");
		put_str(errname(r));
		put_str("\n");
		u64 killed = 0;
		for (u64 i = 0; i < n; i++) {
			int st = 0;
			sys_kill((int)pids[i], SIGKILL);
			sys_wait4((int)pids[i], &st, 0, 0);
			killed += WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
		}
		put_str("killed and reaped ");
		put_u64(killed);
		put_str("\n");
	} else if (str_eq(argv[1], "mmap")) {
		u64 n = 0;
		void *p;
		while (!MAP_FAILED_(p = sys_mmap(0, 1UL << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)))
			n++;
		put_str("1 GiB mappings: ");
		put_u64(n);
		put_str(", then ");
		put_str(errname((i64)p));
		put_str("\n");
		n = 0;
		while (!MAP_FAILED_(p = sys_mmap(0, 1UL << 36, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)))
			n++;
		put_str("64 GiB MAP_NORESERVE mappings: ");
		put_u64(n);
		put_str(", then ");
		put_str(errname((i64)p));
		put_str("\n");
	}
	return 0;
}
