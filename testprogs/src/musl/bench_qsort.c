/* bench_qsort: libc's qsort of N thousand pseudo-random ints (argv[1], default 2000), through a
   comparison function: calls, returns, loads, stores and unpredictable branches. Prints a
   checksum of the sorted array. */
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b) {
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv) {
	size_t n = (argc > 1 ? strtoul(argv[1], 0, 10) : 2000) * 1000;
	int *v = malloc(n * sizeof *v);
	if (!v)
		return 1;
	unsigned x = 2463534242u;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		v[i] = (int)x;
	}
	qsort(v, n, sizeof *v, cmp);
	unsigned long sum = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && v[i - 1] > v[i]) {
			printf("not sorted at %zu\n", i);
			return 1;
		}
		sum = sum * 31 + (unsigned)v[i];
	}
	printf("bench_qsort checksum %lx\n", sum);
	return 0;
}
