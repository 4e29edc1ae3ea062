/* hard_coherent: a file shared with the host while the program runs. usage: hard_coherent MODE FILE
     mapwait    maps FILE (made 16 KiB) shared, fills it with a pattern, prints "ready" and
                waits in pause(): whatever ends it, the file must hold the pattern
     lostupdate maps FILE (made 4 KiB) shared, stores "guest" at 0, prints "ready", waits
                for a line on stdin (meanwhile the host writes "host" at 200), then stores
                "again" at 100, unmaps and exits: the file must hold all three
     follow     reads FILE to its end, maps it, prints "ready", waits for a line on stdin
                (meanwhile the host appends to the file and rewrites its first bytes), then
                reports fstat's size, a read from where it stopped, a pread at 0 and the
                mapping's first bytes, as tail -f and a reader of a changing file see them
     truncated  makes FILE 8 KiB of 'x', maps it, reads both pages, prints "ready", waits
                for a line (meanwhile the host shrinks the file to 100 bytes), then writes
                from the second page (EFAULT), reads the first page, and touches the
                second (SIGBUS); truncated-touch touches it without the write first */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void waitline(void) {
	char c;
	while (read(0, &c, 1) == 1 && c != '\n')
		;
}

static void ready(void) {
	write(1, "ready\n", 6);
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: hard_coherent mapwait|lostupdate|follow FILE\n");
		return 2;
	}
	const char *mode = argv[1], *path = argv[2];
	if (strcmp(mode, "mapwait") == 0) {
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || ftruncate(fd, 16384) < 0)
			return 1;
		unsigned char *m = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			return 1;
		for (int i = 0; i < 16384; i++)
			m[i] = (unsigned char)('a' + i % 26);
		ready();
		for (;;)
			pause();
	}
	if (strcmp(mode, "lostupdate") == 0) {
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || ftruncate(fd, 4096) < 0)
			return 1;
		char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			return 1;
		memcpy(m, "guest", 5);
		ready();
		waitline();
		memcpy(m + 100, "again", 5);
		munmap(m, 4096);
		close(fd);
		printf("done\n");
		return 0;
	}
	if (strcmp(mode, "follow") == 0) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			return 1;
		char buf[256];
		long n, total = 0;
		while ((n = read(fd, buf, sizeof buf)) > 0)
			total += n;
		printf("read %ld bytes\n", total);
		char *m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			return 1;
		fflush(stdout);
		ready();
		waitline();
		struct stat st;
		fstat(fd, &st);
		printf("fstat size %ld\n", (long)st.st_size);
		n = read(fd, buf, sizeof buf - 1);
		buf[n > 0 ? n : 0] = 0;
		printf("read %ld more: %s", n, buf);
		n = pread(fd, buf, 10, 0);
		buf[n > 0 ? n : 0] = 0;
		printf("pread at 0: %s\n", buf);
		printf("mapping at 0: %.10s\n", m);
		stat(path, &st);
		printf("stat size %ld\n", (long)st.st_size);
		return 0;
	}
	if (strncmp(mode, "truncated", 9) == 0) {
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		char page[4096];
		memset(page, 'x', sizeof page);
		if (fd < 0 || write(fd, page, 4096) != 4096 || write(fd, page, 4096) != 4096)
			return 1;
		volatile char *m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			return 1;
		printf("before: %c %c\n", m[0], m[4096]);
		fflush(stdout);
		ready();
		waitline();
		if (strcmp(mode, "truncated-touch") != 0) {
			long n = write(1, (const char *)m + 4096, 5);
			printf("write from the page past the end: %ld %s\n", n, n < 0 ? strerror(errno) : "");
		}
		printf("first page: %c\n", m[0]);
		fflush(stdout);
		printf("second page: %c\n", m[4096]);
		return 0;
	}
	return 2;
}
