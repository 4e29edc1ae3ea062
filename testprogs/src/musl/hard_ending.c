/* hard_ending: leaves data behind, then ends one way or another. usage: hard_ending HOW DIR
   Before it ends it has: stored a 16 KiB pattern through a MAP_SHARED mapping of DIR/mapped,
   written "written\n" to DIR/written with write(2), put "buffered\n" for DIR/buffered in a
   stdio buffer without flushing it, and written "ready" to standard output. Then, by HOW:
     exit      returns from main (stdio's buffer is flushed)
     _exit     calls _exit(3) (stdio's buffer is lost, as with every other end)
     crash     stores to address 0 (SIGSEGV)
     abort     abort() (SIGABRT)
     selfkill  kill(getpid(), SIGKILL)
     fork      a child stores a pattern of its own through the same mapping and exits, the
               parent waits for it, then exits
     loop      loops for ever (ended from outside: a signal, emu's --max-insns)
     pause     waits in pause() (ended by a signal)
     deadlock  reads a pipe whose write end it holds itself (Linux waits for ever; emu
               reports a deadlock)
     oom       touches memory until there is none (on a small emulated machine: the OOM kill) */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: hard_ending HOW DIR\n");
		return 2;
	}
	const char *how = argv[1];
	char path[4096];
	snprintf(path, sizeof path, "%s/mapped", argv[2]);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 16384) < 0)
		return 1;
	unsigned char *m = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return 1;
	for (int i = 0; i < 16384; i++)
		m[i] = (unsigned char)('a' + i % 26);
	snprintf(path, sizeof path, "%s/written", argv[2]);
	int wfd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	write(wfd, "written\n", 8);
	snprintf(path, sizeof path, "%s/buffered", argv[2]);
	FILE *bf = fopen(path, "w");
	fputs("buffered\n", bf); /* in stdio's buffer until exit flushes it */
	write(1, "ready\n", 6);

	if (strcmp(how, "exit") == 0)
		return 0;
	if (strcmp(how, "_exit") == 0)
		_exit(3);
	if (strcmp(how, "crash") == 0)
		*(volatile int *)0 = 1;
	if (strcmp(how, "abort") == 0)
		abort();
	if (strcmp(how, "selfkill") == 0)
		kill(getpid(), SIGKILL);
	if (strcmp(how, "fork") == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			for (int i = 0; i < 4096; i++)
				m[4096 + i] = (unsigned char)('A' + i % 26);
			_exit(0); /* not exit: the parent's buffer is flushed once */
		}
		waitpid(pid, NULL, 0);
		return 0;
	}
	if (strcmp(how, "loop") == 0)
		for (volatile unsigned long i = 0;; i++)
			;
	if (strcmp(how, "pause") == 0)
		for (;;)
			pause();
	if (strcmp(how, "deadlock") == 0) {
		int p[2];
		char c;
		pipe(p);
		read(p[0], &c, 1);
		return 0;
	}
	if (strcmp(how, "oom") == 0) {
		/* MAP_NORESERVE: no overcommit check; the frames run out as the pages are touched. */
		unsigned long size = 1UL << 30;
		char *q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (q == MAP_FAILED)
			return 4;
		for (unsigned long i = 0; i < size; i += 4096)
			q[i] = 1;
		return 5;
	}
	return 2;
}
