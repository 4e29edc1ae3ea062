/* vm_cow: copy-on-write fork. A buffer of N pages (default 1024, 4 MiB) is filled before
   fork; then the child writes its own pattern over every page and the parent (in mode
   "both") writes another. Each process checks that it sees only its own writes; the parent
   checks after the child exited too. In mode "child" only the child writes, so the child
   copies every page once (N copy-on-write copies) and the parent's pages stay as they were.
   usage: vm_cow [N] [both|child] */
#include "vm.h"

#define MAXPAGES 4096
static unsigned char buf[MAXPAGES * PAGE];

static void fill(u64 pages, u64 pat) {
	for (u64 i = 0; i < pages; i++)
		for (u64 j = 0; j < PAGE; j += 512)
			*(volatile u64 *)&buf[i * PAGE + j] = pat ^ (i << 16) ^ j;
}

/* check counts the pages that do not hold pattern pat. */
static u64 check(u64 pages, u64 pat) {
	u64 bad = 0;
	for (u64 i = 0; i < pages; i++) {
		int ok = 1;
		for (u64 j = 0; j < PAGE; j += 512)
			ok &= *(volatile u64 *)&buf[i * PAGE + j] == (pat ^ (i << 16) ^ j);
		bad += !ok;
	}
	return bad;
}

int main(int argc, char **argv, char **envp) {
	(void)envp;
	u64 pages = argc > 1 ? parse_u64(argv[1]) : 1024;
	int both = argc <= 2 || !str_eq(argv[2], "child");
	if (pages == 0 || pages > MAXPAGES)
		fail("page count");
	const u64 before = 0x1111111111111111, inchild = 0x2222222222222222, inparent = 0x3333333333333333;
	fill(pages, before);
	i64 pid = sys_fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		u64 stale = check(pages, before);
		fill(pages, inchild);
		u64 bad = check(pages, inchild);
		put_str("child: saw the parent's data on ");
		put_u64(pages - stale);
		put_str(" pages before writing; pages not holding its own writes: ");
		put_u64(bad);
		put_str("\n");
		sys_exit(bad == 0 && stale == 0 ? 0 : 1);
	}
	u64 expect = before;
	if (both) {
		fill(pages, inparent);
		expect = inparent;
	}
	int st = 0;
	i64 w = sys_wait4((int)pid, &st, 0, 0);
	put_str("parent: waited for the child: ");
	put_str(w == pid ? "yes" : "no");
	put_str(", child ");
	put_status(st);
	put_str("\nparent: pages not holding its own data: ");
	put_u64(check(pages, expect));
	put_str("\n");
	return 0;
}
