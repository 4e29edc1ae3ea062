/* shm_pressure: shared memory larger than a 16 MiB machine's RAM. A child fills 24 MiB of a
   MAP_SHARED|MAP_ANONYMOUS mapping; the parent checks every word after the child exits.
   Then a 12 MiB memfd is written with write(), checked through a shared mapping, shrunk
   with ftruncate, and read back with pread. Under `emu run --ram 16M --swap 64M` the pages
   go to swap and come back as Linux's shmem's do; the output is the same as on Linux. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1u << 20)
#define SHM (24 * MiB)
#define MFD (12 * MiB)

static uint64_t word(uint64_t seed, uint64_t i) { return seed * 0x100000001b3ull ^ (i * 0x9e3779b97f4a7c15ull); }

int main(void) {
	volatile uint64_t *s = mmap(NULL, SHM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED) {
		printf("mmap of %u MiB of shared memory: %s\n", SHM / MiB, strerror(errno));
		return 1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		for (size_t i = 0; i < SHM / 8; i++)
			s[i] = word(5, i);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	size_t bad = 0;
	for (size_t i = 0; i < SHM / 8; i++)
		bad += s[i] != word(5, i);
	printf("shared anonymous %u MiB written by the child: %zu bad words\n", SHM / MiB, bad);
	munmap((void *)s, SHM);

	int fd = memfd_create("pressure", 0);
	if (fd < 0) {
		printf("memfd_create: %s\n", strerror(errno));
		return 1;
	}
	static uint64_t buf[4096 / 8];
	for (size_t off = 0; off < MFD; off += sizeof buf) {
		for (size_t i = 0; i < 512; i++)
			buf[i] = word(6, off / 8 + i);
		if (write(fd, buf, sizeof buf) != sizeof buf) {
			printf("write: %s\n", strerror(errno));
			return 1;
		}
	}
	volatile uint64_t *m = mmap(NULL, MFD, PROT_READ, MAP_SHARED, fd, 0);
	bad = 0;
	for (size_t i = 0; i < MFD / 8; i++)
		bad += m[i] != word(6, i);
	printf("memfd %u MiB written with write(), read through a mapping: %zu bad words\n", MFD / MiB, bad);
	munmap((void *)m, MFD);
	if (ftruncate(fd, 4 * MiB + 100) != 0) {
		printf("ftruncate: %s\n", strerror(errno));
		return 1;
	}
	bad = 0;
	size_t got = 0;
	for (size_t off = 0;; off += sizeof buf) {
		ssize_t n = pread(fd, buf, sizeof buf, off);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n / 8; i++)
			bad += buf[i] != word(6, off / 8 + i);
		got += n;
	}
	printf("after ftruncate to 4 MiB + 100: read %zu bytes back, %zu bad words\n", got, bad);
	return 0;
}
