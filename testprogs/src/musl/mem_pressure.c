/* mem_pressure: a working set three times the size of a 16 MiB machine's RAM, for page
   reclaim and swap (the memory issue). It fills 24 MiB of anonymous memory, forks so the
   child shares it copy-on-write, lets the child check all of it and rewrite a third, checks
   in the parent that the child's writes did not leak into its copy, then writes 16 MiB of a
   file through a shared mapping and reads the file back with read(). Every line it prints is
   a checksum or a verdict, the same on Linux and on the emulator whatever the policy; with no
   swap the emulator refuses the 24 MiB mapping as Linux's heuristic overcommit does on a
   16 MiB machine.
   usage: mem_pressure FILE [MIB]   (FILE is created and left behind; MIB, 16 by default, is
   the RAM the sizes are three times: MIB*3/2 of anonymous memory, MIB of file) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1u << 20)
#define PAGE 4096

static size_t ANON = 24 * MiB, FILESZ = 16 * MiB;

static uint64_t mix(uint64_t x) {
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ull;
	return x ^ x >> 29;
}

/* fill stores the pattern of seed in every 64-bit word of [p, p+n). */
static void fill(uint64_t *p, size_t n, uint64_t seed) {
	for (size_t i = 0; i < n / 8; i++)
		p[i] = mix(seed + i);
}

/* check counts the words of [p, p+n) that differ from seed's pattern. */
static size_t check(const uint64_t *p, size_t n, uint64_t seed) {
	size_t bad = 0;
	for (size_t i = 0; i < n / 8; i++)
		bad += p[i] != mix(seed + i);
	return bad;
}

static uint64_t sum(const uint64_t *p, size_t n) {
	uint64_t s = 0;
	for (size_t i = 0; i < n / 8; i++)
		s = s * 31 + p[i];
	return s;
}

int main(int argc, char **argv) {
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: mem_pressure FILE [MIB]\n");
		return 2;
	}
	if (argc == 3) {
		size_t mib = strtoul(argv[2], NULL, 10);
		if (mib < 1 || mib > 1024) {
			fprintf(stderr, "mem_pressure: MIB from 1 to 1024\n");
			return 2;
		}
		ANON = mib * 3 / 2 * MiB;
		FILESZ = mib * MiB;
	}
	uint64_t *a = mmap(NULL, ANON, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED) {
		printf("mmap of %zu MiB of anonymous memory: %s\n", ANON / MiB, strerror(errno));
		return 1;
	}
	fill(a, ANON, 1);
	/* A second pass over all of it: on a small machine the first pages went to swap. */
	printf("anonymous %zu MiB: %zu bad words, checksum %016llx\n", ANON / MiB, check(a, ANON, 1),
	       (unsigned long long)sum(a, ANON));
	fflush(stdout);

	pid_t pid = fork();
	if (pid < 0) {
		printf("fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		size_t bad = check(a, ANON, 1);
		/* Rewrite the middle third: those pages get copies of their own. */
		fill(a + ANON / 8 / 3, ANON / 3, 2);
		bad += check(a, ANON / 3, 1) + check(a + ANON / 8 / 3, ANON / 3, 2) +
		       check(a + 2 * (ANON / 8 / 3), ANON - 2 * (ANON / 3), 1 + 2 * (ANON / 8 / 3));
		printf("child: shared region read, a third rewritten: %zu bad words, checksum %016llx\n", bad,
		       (unsigned long long)sum(a, ANON));
		fflush(stdout);
		_exit(bad != 0);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid) {
		printf("waitpid: %s\n", strerror(errno));
		return 1;
	}
	printf("parent: child exited %d; its writes are not in my copy: %zu bad words\n",
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), check(a, ANON, 1));
	munmap(a, ANON);

	int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, FILESZ) != 0) {
		printf("%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	uint64_t *m = mmap(NULL, FILESZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		printf("mmap of the file: %s\n", strerror(errno));
		return 1;
	}
	fill(m, FILESZ, 3);
	printf("file %zu MiB written through a shared mapping: %zu bad words\n", FILESZ / MiB, check(m, FILESZ, 3));
	munmap(m, FILESZ);
	/* What the file holds now, read with read() into a small buffer. */
	static uint64_t buf[PAGE / 8];
	size_t bad = 0;
	uint64_t s = 0;
	for (size_t off = 0; off < FILESZ; off += PAGE) {
		if (pread(fd, buf, PAGE, off) != PAGE) {
			printf("pread at %zu: %s\n", off, strerror(errno));
			return 1;
		}
		bad += check(buf, PAGE, 3 + off / 8);
		for (size_t i = 0; i < PAGE / 8; i++)
			s = s * 31 + buf[i];
	}
	printf("file read back: %zu bad words, checksum %016llx\n", bad, (unsigned long long)s);
	close(fd);
	return 0;
}
