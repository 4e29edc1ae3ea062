/* swap_threads: two threads of one process, each looping over a hot set of its own pages
   with a cold stream alongside, in one address space. Under `emu run --frames N` with
   several CPUs the threads run at once on different CPUs, so page reclaim's clearing of
   accessed bits and its evictions must reach the other CPU's TLB (a shootdown). Each
   thread checks every word it reads; the program prints the same on Linux and the
   emulator. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define HOT 16
#define COLD 128
#define PASSES 400
#define PAGE 4096

struct work {
	volatile uint64_t *hot, *cold;
	uint64_t seed, bad, sum;
};

static void *run(void *arg) {
	struct work *w = arg;
	for (unsigned pass = 0; pass < PASSES; pass++) {
		for (unsigned h = 0; h < HOT; h++) {
			volatile uint64_t *p = w->hot + h * (PAGE / 8);
			if (pass > 0 && *p != w->seed + h + pass - 1)
				w->bad++;
			*p = w->seed + h + pass;
			w->sum += *p;
		}
		volatile uint64_t *c = w->cold + (pass % COLD) * (PAGE / 8);
		if (pass >= COLD && *c != w->seed * 7 + pass - COLD)
			w->bad++;
		*c = w->seed * 7 + pass;
	}
	return NULL;
}

int main(void) {
	struct work w[2];
	for (int i = 0; i < 2; i++) {
		w[i].hot = mmap(NULL, HOT * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		w[i].cold = mmap(NULL, COLD * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (w[i].hot == MAP_FAILED || w[i].cold == MAP_FAILED) {
			printf("mmap: %s\n", strerror(errno));
			return 1;
		}
		w[i].seed = 1000 * (i + 1);
		w[i].bad = w[i].sum = 0;
	}
	pthread_t t;
	if (pthread_create(&t, NULL, run, &w[1]) != 0) {
		printf("pthread_create failed\n");
		return 1;
	}
	run(&w[0]);
	pthread_join(t, NULL);
	for (int i = 0; i < 2; i++)
		printf("thread %d: %llu bad words, sum %llu\n", i, (unsigned long long)w[i].bad, (unsigned long long)w[i].sum);
	return 0;
}
