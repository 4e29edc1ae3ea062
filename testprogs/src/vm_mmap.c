/* vm_mmap: changing a mapping in the middle. munmap and mprotect of pages inside a larger
   mapping split it and leave the rest untouched; PROT_NONE and back keeps the data;
   MAP_FIXED replaces what was there; MAP_FIXED_NOREPLACE refuses to; a free hint is
   honoured; mremap grows, shrinks and moves a mapping with its data (MREMAP_MAYMOVE,
   MREMAP_FIXED, MREMAP_DONTUNMAP). Faults are tried in children. */
#include "vm.h"

#define N 16

static u64 *page(void *base, u64 i) { return (u64 *)((char *)base + i * PAGE); }

static void fill(void *base, u64 from, u64 to, u64 seed) {
	for (u64 i = from; i < to; i++)
		*page(base, i) = seed + i;
}

/* intact counts the pages in [from, to) that still hold seed + i. */
static u64 intact(void *base, u64 from, u64 to, u64 seed) {
	u64 n = 0;
	for (u64 i = from; i < to; i++)
		n += *page(base, i) == seed + i;
	return n;
}

/* try runs an access in a child and prints how it ended. */
static void try(const char *what, volatile u64 *p, int write) {
	i64 pid = sys_fork();
	if (pid == 0) {
		if (write)
			*p = 1;
		else
			(void)*p;
		sys_exit(0);
	}
	int st = 0;
	sys_wait4((int)pid, &st, 0, 0);
	put_str(what);
	put_str(": ");
	put_status(st);
	put_str("\n");
}

static void yesno(const char *what, int ok) {
	put_str(what);
	put_str(ok ? ": yes\n" : ": no\n");
}

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	char *m = sys_mmap(0, N * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fill(m, 0, N, 100);

	say("munmap pages 4-5", sys_munmap(m + 4 * PAGE, 2 * PAGE));
	put_str("pages intact around the hole: ");
	put_u64(intact(m, 0, 4, 100) + intact(m, 6, N, 100));
	put_str(" of 14\n");
	try("read in the hole", page(m, 4), 0);

	say("mprotect pages 8-9 read-only", sys_mprotect(m + 8 * PAGE, 2 * PAGE, PROT_READ));
	put_str("read-only pages still hold their data: ");
	put_u64(intact(m, 8, 10, 100));
	put_str("\n");
	try("write to a read-only page", page(m, 8), 1);
	try("write just below it", page(m, 7), 1);
	try("write just above it", page(m, 10), 1);
	say("mprotect pages 11-12 PROT_NONE", sys_mprotect(m + 11 * PAGE, 2 * PAGE, PROT_NONE));
	try("read a PROT_NONE page", page(m, 11), 0);
	say("mprotect them back to read-write", sys_mprotect(m + 11 * PAGE, 2 * PAGE, PROT_READ | PROT_WRITE));
	put_str("data kept across PROT_NONE: ");
	put_u64(intact(m, 11, 13, 100));
	put_str(" of 2\n");
	say("mprotect across the hole", sys_mprotect(m, 8 * PAGE, PROT_READ));
	try("write to page 0 (before the hole, now read-only)", page(m, 0), 1);
	say("mprotect back", sys_mprotect(m, 4 * PAGE, PROT_READ | PROT_WRITE));

	void *r = sys_mmap(m + 13 * PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	say("MAP_FIXED_NOREPLACE over page 13", (i64)r);
	r = sys_mmap(m + 13 * PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	yesno("MAP_FIXED over page 13 lands there", r == m + 13 * PAGE);
	put_str("page 13 after MAP_FIXED reads ");
	put_u64(*page(m, 13));
	put_str(", page 14 still ");
	put_u64(*page(m, 14));
	put_str("\n");
	r = sys_mmap(m + 4 * PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	yesno("a hint into the hole is honoured", r == m + 4 * PAGE);

	/* mremap: a fresh 4-page area, grown in place (the pages above are kept free), shrunk,
	   then moved. */
	char *a = sys_mmap(0, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sys_munmap(a + 4 * PAGE, 4 * PAGE);
	fill(a, 0, 4, 500);
	char *b = sys_mremap(a, 4 * PAGE, 8 * PAGE, 0, 0);
	yesno("mremap grows in place", b == a);
	fill(a, 4, 8, 500);
	b = sys_mremap(a, 8 * PAGE, 2 * PAGE, 0, 0);
	yesno("mremap shrinks in place", b == a);
	try("read past the shrunk end", page(a, 2), 0);
	char *blocker = sys_mmap(a + 2 * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	(void)blocker;
	say("mremap grow without MAYMOVE when blocked", (i64)sys_mremap(a, 2 * PAGE, 6 * PAGE, 0, 0));
	b = sys_mremap(a, 2 * PAGE, 6 * PAGE, MREMAP_MAYMOVE, 0);
	yesno("mremap MAYMOVE moves it", !MAP_FAILED_(b) && b != a);
	put_str("moved pages keep their data: ");
	put_u64(intact(b, 0, 2, 500));
	put_str(" of 2; new pages read ");
	put_u64(*page(b, 5));
	put_str("\n");
	try("read the old address", page(a, 0), 0);
	char *c = sys_mmap(0, 4 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *d = sys_mremap(b, 6 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, c);
	yesno("mremap FIXED lands on the target", d == c);
	put_str("and keeps the data: ");
	put_u64(intact(d, 0, 2, 500));
	put_str(" of 2\n");
	char *e = sys_mremap(d, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
	yesno("mremap DONTUNMAP moves", !MAP_FAILED_(e) && e != d);
	put_str("the old range stays mapped and reads ");
	put_u64(*page(d, 0));
	put_str("; the new one holds ");
	put_u64(intact(e, 0, 2, 500));
	put_str(" of 2\n");
	return 0;
}
