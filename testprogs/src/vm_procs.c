/* vm_procs: processes and their ends. A tree of forks reaped with wait4 (each node's exit
   status carries the size of its subtree); a zombie collected late; WNOHANG; kill with
   SIGTERM and SIGKILL on a child that loops; kill of a zombie and of a reaped child; wait4
   with no child; an orphan reparented to its grandparent (a child subreaper) and reaped
   there; getpid and getppid agreeing across fork. */
#include "vm.h"

static volatile u64 scratch[512 * 4];

/* tree forks two children down to depth 0 and returns the number of processes in the
   subtree, collected from the children's exit statuses. */
static int tree(int depth) {
	for (u64 i = 0; i < sizeof scratch / sizeof scratch[0]; i += 512)
		scratch[i] += (u64)depth; /* a copy-on-write fault in each process */
	if (depth == 0)
		return 1;
	i64 pids[2];
	for (int i = 0; i < 2; i++) {
		pids[i] = sys_fork();
		if (pids[i] == 0)
			sys_exit(tree(depth - 1));
	}
	int n = 1;
	for (int i = 1; i >= 0; i--) {
		int st = 0;
		if (sys_wait4((int)pids[i], &st, 0, 0) != pids[i] || !WIFEXITED(st))
			fail("tree wait");
		n += WEXITSTATUS(st);
	}
	return n;
}

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	i64 me = sys_getpid();
	put_str("processes in a tree of depth 4: ");
	put_u64((u64)tree(4));
	put_str("\n");

	/* A zombie: the child is gone, its status waits for us. */
	i64 z = sys_fork();
	if (z == 0)
		sys_exit(sys_getppid() == me ? 5 : 6);
	for (int i = 0; i < 20; i++)
		sys_sched_yield();
	say("kill(zombie, 0)", sys_kill((int)z, 0));
	int st = 0;
	say("wait4(zombie) is the zombie", sys_wait4(-1, &st, 0, 0) == z);
	put_str("zombie ");
	put_status(st);
	put_str("\n");
	say("kill(reaped, 0)", sys_kill((int)z, 0));
	say("wait4 with no children", sys_wait4(-1, &st, 0, 0));

	/* WNOHANG on a running child, then SIGTERM and SIGKILL. */
	i64 loopers[2];
	for (int i = 0; i < 2; i++) {
		loopers[i] = sys_fork();
		if (loopers[i] == 0)
			for (;;)
				sys_sched_yield();
	}
	say("wait4 WNOHANG on a running child", sys_wait4((int)loopers[0], &st, WNOHANG, 0));
	say("kill SIGTERM", sys_kill((int)loopers[0], SIGTERM));
	say("kill SIGKILL", sys_kill((int)loopers[1], SIGKILL));
	for (int i = 0; i < 2; i++) {
		sys_wait4((int)loopers[i], &st, 0, 0);
		put_str("looper ");
		put_u64((u64)i);
		put_str(": ");
		put_status(st);
		put_str("\n");
	}
	say("kill of no such process", sys_kill(0x3ffffff0, SIGTERM));
	say("kill with a bad signal", sys_kill((int)me, 99));

	/* An orphan: the child exits while the grandchild runs on; as a child subreaper we
	   inherit the grandchild and reap it. */
	say("prctl PR_SET_CHILD_SUBREAPER", syscall6(157, 36, 1, 0, 0, 0, 0));
	i64 c = sys_fork();
	if (c == 0) {
		i64 mid = sys_getpid();
		i64 g = sys_fork();
		if (g == 0) {
			while (sys_getppid() == mid)
				sys_sched_yield();
			put_str("grandchild: reparented to the subreaper: ");
			put_str(sys_getppid() == me ? "yes" : "no");
			put_str("\n");
			sys_exit(7);
		}
		sys_exit(3);
	}
	int cst = 0;
	sys_wait4((int)c, &cst, 0, 0);
	i64 g = sys_wait4(-1, &st, 0, 0); /* print only after this: the grandchild prints too */
	put_str("child ");
	put_status(cst);
	put_str("\norphan reaped here: ");
	put_str(g > 0 ? "yes" : "no");
	put_str(", ");
	put_status(st);
	put_str("\n");
	return 0;
}
