/* vm_malloc: malloc, realloc and free at many sizes, from a few bytes (musl's heap, grown
   with brk and mmap'd groups) to several MiB (single mmap'd chunks, moved by mremap on
   realloc). Every block is filled with a pattern and checked before it is freed or grown. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 512

static unsigned char *blk[SLOTS];
static size_t len[SLOTS];

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void) {
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t pick_size(void) {
	switch (next() % 8) {
	case 0: return next() % 16 + 1;
	case 1: case 2: return next() % 256 + 1;
	case 3: case 4: return next() % 4096 + 1;
	case 5: return next() % 65536 + 1;
	case 6: return next() % (256 << 10) + 1;
	default: return next() % (2 << 20) + 1;
	}
}

static void fill(int i) {
	for (size_t j = 0; j < len[i]; j += 509)
		blk[i][j] = (unsigned char)(i + j / 509);
}

static int intact(int i, size_t n) {
	for (size_t j = 0; j < n; j += 509)
		if (blk[i][j] != (unsigned char)(i + j / 509))
			return 0;
	return 1;
}

int main(void) {
	long allocs = 0, reallocs = 0, frees = 0, bad = 0;
	for (int round = 0; round < 2500; round++) {
		int i = (int)(next() % SLOTS);
		if (!blk[i]) {
			len[i] = pick_size();
			blk[i] = malloc(len[i]);
			if (!blk[i])
				return 2;
			fill(i);
			allocs++;
		} else if (next() % 3 == 0) {
			size_t n = pick_size();
			bad += !intact(i, len[i]);
			unsigned char *p = realloc(blk[i], n);
			if (!p)
				return 3;
			blk[i] = p;
			bad += !intact(i, n < len[i] ? n : len[i]);
			len[i] = n;
			fill(i);
			reallocs++;
		} else {
			bad += !intact(i, len[i]);
			free(blk[i]);
			blk[i] = NULL;
			frees++;
		}
	}
	for (int i = 0; i < SLOTS; i++)
		if (blk[i]) {
			bad += !intact(i, len[i]);
			free(blk[i]);
		}
	char *s = calloc(1000, 1000);
	size_t zeros = 0;
	for (size_t j = 0; j < 1000000; j++)
		zeros += s[j] == 0;
	free(s);
	printf("mallocs %ld, reallocs %ld, frees %ld, corrupted blocks %ld, calloc zeros %zu\n",
	       allocs, reallocs, frees, bad, zeros);
	return bad != 0;
}
