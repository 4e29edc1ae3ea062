/* fs_map: a file and its mappings, kept coherent as Linux keeps them. usage: fs_map DIR
   (an empty, writable directory). read(), write() and MAP_SHARED stores see each other at
   once; a MAP_PRIVATE page follows the file until the process writes it; the partial page
   past the end of the file reads zeros and never reaches the file; whole pages past the end
   are SIGBUS; ftruncate shrinking a mapped file takes the pages away from every mapping, in
   every process; MAP_SHARED with PROT_WRITE needs a descriptor open for writing; an
   unlinked file lives on while mapped; two processes that map the same file see each
   other's stores; fsync writes a shared mapping's stores to the file; what a shared mapping
   stored reaches the file by exit without msync (the test reads DIR/final afterwards). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

static const char *dir;

static char *in_dir(const char *name) {
	static char buf[8][4096];
	static int n;
	char *p = buf[n++ % 8];
	snprintf(p, 4096, "%s/%s", dir, name);
	return p;
}

static void say(const char *what, long r) {
	if (r < 0)
		printf("%-58s -1 %s\n", what, strerror(errno));
	else
		printf("%-58s %ld\n", what, r);
}

static void show(const char *what, const char *p, size_t n) {
	printf("%-58s ", what);
	for (size_t i = 0; i < n; i++)
		putchar(p[i] >= 32 && p[i] < 127 ? p[i] : '.');
	putchar('\n');
}

/* status reports how a child ended. */
static void status(const char *what, int st) {
	if (WIFSIGNALED(st))
		printf("%-58s killed by signal %d\n", what, WTERMSIG(st));
	else
		printf("%-58s exit %d\n", what, WEXITSTATUS(st));
}

/* touch reads one byte at p in a child process and reports how the child ended. */
static void touch(const char *what, volatile char *p) {
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char c = *p;
		_exit(c == 0 ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	status(what, st);
}

static int make(const char *name, const char *fill, size_t len) {
	int fd = open(in_dir(name), O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(name);
		exit(1);
	}
	char *b = malloc(len);
	for (size_t i = 0; i < len; i++)
		b[i] = fill[(i / PG) % strlen(fill)];
	if (write(fd, b, len) != (ssize_t)len) {
		perror("write");
		exit(1);
	}
	free(b);
	return fd;
}

static void coherence(void) {
	puts("-- read, write and mappings");
	int fd = make("data", "abc", 2 * PG + PG / 2); /* 2.5 pages */
	char *sh = mmap(0, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *pr = mmap(0, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (sh == MAP_FAILED || pr == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	show("first byte of each page, shared", (char[]){sh[0], sh[PG], sh[2 * PG]}, 3);
	char c = 0;
	sh[PG + 5] = 'X';
	pread(fd, &c, 1, PG + 5);
	show("pread after a shared store", &c, 1);
	pwrite(fd, "W", 1, 2 * PG + 7);
	show("shared, private (unwritten) after pwrite", (char[]){sh[2 * PG + 7], pr[2 * PG + 7]}, 2);
	pr[10] = 'P';
	pread(fd, &c, 1, 10);
	show("pread, shared after a private store", (char[]){c, sh[10]}, 2);
	pwrite(fd, "L", 1, 11);
	show("private copy after a later pwrite (keeps its own)", &pr[11], 1);
	pwrite(fd, "M", 1, PG + 1);
	show("private unwritten page after a later pwrite", &pr[PG + 1], 1);

	puts("-- the partial page past the end of the file");
	int zeros = 1;
	for (int i = 2 * PG + PG / 2; i < 3 * PG; i++)
		zeros &= sh[i] == 0 && pr[i] == 0;
	say("bytes past the end read as zero", zeros);
	sh[3 * PG - 1] = 'T';
	say("msync", msync(sh, 3 * PG, MS_SYNC));
	struct stat st;
	fstat(fd, &st);
	say("size after a store past the end and msync", st.st_size);
	say("pread past the end", pread(fd, &c, 1, 3 * PG - 1));

	puts("-- write-back");
	sh[0] = 'S';
	say("munmap shared", munmap(sh, 3 * PG));
	say("munmap private", munmap(pr, 3 * PG));
	close(fd);
	fd = open(in_dir("data"), O_RDONLY);
	char b[16];
	pread(fd, b, 3, 0);
	show("reopened: bytes 0-2", b, 3);
	pread(fd, b, 2, PG + 5);
	show("reopened: the shared store", b, 1);

	puts("-- permissions");
	say("MAP_SHARED|PROT_WRITE of O_RDONLY", (long)mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	char *ro = mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0);
	say("mprotect it writable", mprotect(ro, PG, PROT_READ | PROT_WRITE));
	char *cow = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	cow[0] = 'C';
	show("MAP_PRIVATE|PROT_WRITE of O_RDONLY, written", cow, 1);
	close(fd);
	show("a mapping outlives close", ro, 3);
	munmap(ro, PG);
	munmap(cow, PG);
}

static void sigbus(void) {
	puts("-- SIGBUS past the end");
	int fd = make("short", "s", 100);
	char *m = mmap(0, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *p = mmap(0, 3 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	show("first page", m, 4);
	touch("shared, second page", m + PG);
	touch("private, third page", p + 2 * PG + 17);
	say("ftruncate to 2 pages", ftruncate(fd, 2 * PG));
	touch("shared, second page after growing", m + PG);
	touch("shared, third page after growing", m + 2 * PG);
	close(fd);
}

static void truncate_mapped(void) {
	puts("-- ftruncate while mapped, in two processes");
	int fd = make("trunc", "tuv", 3 * PG);
	char *sh = mmap(0, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *pr = mmap(0, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	pr[2 * PG] = 'p'; /* a private copy of the last page */
	show("before: last page, shared and private", (char[]){sh[2 * PG], pr[2 * PG]}, 2);
	int ready[2], go[2];
	pipe(ready);
	pipe(go);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		/* The child maps the file itself and uses the last page, then waits. */
		int cfd = open(in_dir("trunc"), O_RDONLY);
		volatile char *m = mmap(0, 3 * PG, PROT_READ, MAP_SHARED, cfd, 0);
		char c = m[2 * PG] + m[PG + 100];
		write(ready[1], &c, 1);
		read(go[0], &c, 1);
		printf("child: partial page after the shrink: %c %d\n", m[PG], m[PG + PG / 2 + 1]);
		fflush(stdout);
		c = m[2 * PG]; /* SIGBUS */
		_exit(3);
	}
	char c;
	read(ready[0], &c, 1);
	say("ftruncate to 1.5 pages", ftruncate(fd, PG + PG / 2));
	write(go[1], &c, 1);
	int st;
	waitpid(pid, &st, 0);
	status("child touching the last page", st);
	show("parent: first page still mapped", sh, 1);
	say("parent: tail of the partial page is zero", sh[PG + PG / 2] == 0 && sh[2 * PG - 1] == 0);
	touch("parent: shared, last page", sh + 2 * PG);
	touch("parent: private copy of the last page", pr + 2 * PG);
	show("parent: private page 0 (unwritten) still the file's", pr, 1);
	sh[PG + 1] = 'Y';
	pread(fd, &c, 1, PG + 1);
	show("a store to the surviving partial page, seen by pread", &c, 1);
	munmap(sh, 3 * PG);
	munmap(pr, 3 * PG);
	close(fd);

	/* The TLB holds a translation of the page when the process truncates it away. */
	fflush(stdout);
	if ((pid = fork()) == 0) {
		int fd2 = make("trunc2", "w", 2 * PG);
		volatile char *m = mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd2, 0);
		c = m[PG];
		ftruncate(fd2, PG);
		c = m[PG]; /* SIGBUS: the translation must be gone */
		_exit(c);
	}
	waitpid(pid, &st, 0);
	status("own page read, truncated, read again", st);
}

static void two_processes(void) {
	puts("-- two processes, one file");
	int fd = make("shared", "0", PG);
	char *m = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *p = mmap(0, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	show("before", m, 4);
	fflush(stdout);
	if (fork() == 0) {
		int cfd = open(in_dir("shared"), O_RDWR);
		char *cm = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
		memcpy(cm + 1, "kid", 3);
		_exit(0);
	}
	wait(NULL);
	show("the parent's shared mapping after the child's store", m, 4);
	show("the parent's private unwritten mapping too", p, 4);
	munmap(m, PG);
	munmap(p, PG);
	close(fd);
}

static void unlinked(void) {
	puts("-- an unlinked file lives while open and mapped");
	int fd = make("gone", "g", PG);
	char *m = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	say("unlink", unlink(in_dir("gone")));
	say("open it again", open(in_dir("gone"), O_RDONLY));
	memcpy(m, "still", 5);
	char b[8] = {0};
	pread(fd, b, 5, 0);
	show("pread of a store after unlink", b, 5);
	close(fd);
	show("mapping after close", m, 5);
	struct stat st;
	say("stat of the name", stat(in_dir("gone"), &st));
	munmap(m, PG);
}

static void final(void) {
	puts("-- stores left for exit to write back");
	int fd = make("final", "f", 2 * PG);
	char *m = mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	memcpy(m + 3, "synced", 6);
	say("fsync", fsync(fd)); /* the host file has "synced" now (the test looks) */
	memcpy(m + 3, "written at exit", 15);
	memcpy(m + PG + 9, "and here", 8);
	close(fd);
	/* No msync, no munmap: exit writes the pages back. */
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: fs_map DIR\n");
		return 2;
	}
	dir = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	coherence();
	sigbus();
	truncate_mapped();
	two_processes();
	unlinked();
	final();
	return 0;
}
