/* swap_cow: pages shared copy-on-write by a parent and its child go to swap once, and come
   back shared. The parent fills 16 pages, forks, and waits; the child walks 64 pages of its
   own (which, under `emu run --frames N` with a small N, pushes the shared pages out to
   swap while both processes map them), then reads the shared pages back and exits; the
   parent then reads them too. Both check every word. mlockall(MCL_CURRENT) keeps the rest of
   the program out of the way. Prints the same on Linux and on the emulator. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHARED 16
#define OWN 64
#define PAGE 4096

static size_t check(volatile uint64_t *p, unsigned pages, uint64_t seed) {
	size_t bad = 0;
	for (unsigned i = 0; i < pages * PAGE / 8; i++)
		bad += p[i] != seed * 1000003 + i;
	return bad;
}

int main(void) {
	if (mlockall(MCL_CURRENT) != 0)
		printf("mlockall: %s\n", strerror(errno));
	volatile uint64_t *s = mmap(NULL, SHARED * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile uint64_t *own = mmap(NULL, OWN * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED || own == MAP_FAILED) {
		printf("mmap: %s\n", strerror(errno));
		return 1;
	}
	for (unsigned i = 0; i < SHARED * PAGE / 8; i++)
		s[i] = 7 * 1000003 + i;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		for (unsigned i = 0; i < OWN * PAGE / 8; i++)
			own[i] = 9 * 1000003 + i;
		size_t bad = check(own, OWN, 9) + check(s, SHARED, 7);
		printf("child: %d own pages and %d shared pages read back: %zu bad words\n", OWN, SHARED, bad);
		fflush(stdout);
		_exit(bad != 0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("parent: child exited %d; the shared pages read back: %zu bad words\n",
	       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), check(s, SHARED, 7));
	return 0;
}
