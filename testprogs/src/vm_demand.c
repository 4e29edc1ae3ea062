/* vm_demand: demand-zero memory reads as zero wherever it comes from (an anonymous mapping,
   .bss, the heap grown with brk, a MAP_POPULATE mapping), and keeps what is written. */
#include "vm.h"

#define PAGES 64
static u64 bss[PAGES * PAGE / 8];

/* sum_words adds every word of [p, p+n) (each read touches a page the first time). */
static u64 sum_words(const volatile u64 *p, u64 n) {
	u64 s = 0;
	for (u64 i = 0; i < n; i++)
		s += p[i];
	return s;
}

static void fill(volatile u64 *p, u64 n, u64 seed) {
	for (u64 i = 0; i < n; i++)
		p[i] = seed * (i + 1);
}

static void check_area(const char *name, volatile u64 *p, u64 bytes) {
	u64 n = bytes / 8;
	put_str(name);
	put_str(": zero sum ");
	put_u64(sum_words(p, n));
	fill(p, n, 3);
	put_str(", after fill ");
	put_u64(sum_words(p, n));
	put_str("\n");
}

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	u64 *anon = sys_mmap(0, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (MAP_FAILED_(anon))
		fail("mmap");
	check_area("anonymous", anon, PAGES * PAGE);
	check_area("bss", bss, sizeof bss);

	char *brk0 = (char *)sys_brk(0);
	char *brk1 = (char *)sys_brk(brk0 + PAGES * PAGE);
	if (brk1 != brk0 + PAGES * PAGE)
		fail("brk did not grow");
	check_area("heap", (u64 *)brk0, PAGES * PAGE);
	/* Shrinking the heap and growing it again gives fresh zero pages. */
	sys_brk(brk0);
	sys_brk(brk0 + PAGES * PAGE);
	put_str("heap regrown: zero sum ");
	put_u64(sum_words((u64 *)brk0, PAGES * PAGE / 8));
	put_str("\n");

	u64 *pop = sys_mmap(0, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (MAP_FAILED_(pop))
		fail("mmap populate");
	check_area("populated", pop, PAGES * PAGE);

	/* MADV_DONTNEED gives the pages back: they read as zero again. */
	say("madvise DONTNEED", sys_madvise(anon, PAGES * PAGE, MADV_DONTNEED));
	put_str("anonymous after DONTNEED: zero sum ");
	put_u64(sum_words(anon, PAGES * PAGE / 8));
	put_str("\n");
	return 0;
}
