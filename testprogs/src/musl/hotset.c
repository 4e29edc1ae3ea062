/* hotset: a loop over a hot set of 32 pages, with one page of a cold stream of 512 touched
   after each pass, for 1024 passes; it prints the page faults the loop cost (getrusage) and
   a checksum. Everything else is locked (mlockall(MCL_CURRENT)), so under
   `emu run --frames 48` the hot set and the cold stream share 48 frames: a policy that reads
   accessed bits keeps the hot set resident and faults about once per cold page; FIFO evicts
   hot pages in turn and faults them back. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define HOT 32
#define COLD 512
#define PASSES 1024

int main(void) {
	if (mlockall(MCL_CURRENT) != 0)
		printf("mlockall: %s (the count may include faults on other pages)\n", strerror(errno));
	volatile unsigned long *hot = mmap(NULL, HOT * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile unsigned long *cold = mmap(NULL, COLD * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hot == MAP_FAILED || cold == MAP_FAILED) {
		printf("mmap: %s\n", strerror(errno));
		return 1;
	}
	struct rusage before, after;
	getrusage(RUSAGE_SELF, &before);
	unsigned long sum = 0;
	for (unsigned pass = 0; pass < PASSES; pass++) {
		for (unsigned h = 0; h < HOT; h++) {
			hot[h * 512] = pass + h; /* a store first: one fault when not resident */
			sum += hot[h * 512];
		}
		cold[(pass % COLD) * 512] = pass;
	}
	getrusage(RUSAGE_SELF, &after);
	printf("hot set %d pages, cold stream %d pages, %d passes: checksum %lu\n", HOT, COLD, PASSES, sum);
	printf("page faults: %ld (major %ld)\n", (after.ru_minflt + after.ru_majflt) - (before.ru_minflt + before.ru_majflt),
	       after.ru_majflt - before.ru_majflt);
	return 0;
}
