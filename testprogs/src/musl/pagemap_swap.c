/* pagemap_swap: touches 8 pages of a fresh mapping, then reads its own /proc/self/pagemap
   entries for them and says, for each, whether it is present or swapped out (bit 62, with
   the swap type in bits 0-4 and the offset in bits 5-54). The rest of the program is locked
   (mlockall), so under `emu run --frames 3 --reclaim fifo` the first five pages are in swap
   and the last three present; on an unconstrained machine all are present. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
	if (mlockall(MCL_CURRENT) != 0)
		printf("mlockall: %s\n", strerror(errno));
	volatile char *r = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return 1;
	for (int i = 0; i < 8; i++)
		r[i * 4096] = (char)i;
	uint64_t e[8];
	int fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0 || pread(fd, e, sizeof e, (uintptr_t)r / 4096 * 8) != sizeof e) {
		printf("pagemap: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < 8; i++) {
		if (e[i] >> 63 & 1)
			printf("page %d: present\n", i);
		else if (e[i] >> 62 & 1)
			printf("page %d: swapped, type %d, offset %llu\n", i, (int)(e[i] & 31),
			       (unsigned long long)(e[i] >> 5 & ((1ull << 50) - 1)));
		else
			printf("page %d: not present\n", i);
	}
	return 0;
}
