/* vm_file: files through the page cache. usage: vm_file DIR (an empty, writable directory)
   write() and read() and a MAP_SHARED mapping of one file agree with each other at once; a
   MAP_PRIVATE mapping copies on write and leaves the file alone; msync and munmap write the
   shared pages back (a fresh open reads them); a page past the end of the file is SIGBUS;
   a read() into a copy-on-write page after fork changes the child's copy only. Also
   O_CREAT|O_EXCL, O_TRUNC, O_APPEND, lseek and fstat's size. */
#include "vm.h"

static char path[512];
static char path2[512];
static char buf[3 * PAGE];
static u64 st[18]; /* struct stat: st_size is st[6] */

static void join(char *out, const char *dir, const char *name) {
	u64 k = 0;
	while (*dir && k < 400)
		out[k++] = *dir++;
	out[k++] = '/';
	while (*name)
		out[k++] = *name++;
	out[k] = 0;
}

static u64 count(const char *p, u64 n, char c) {
	u64 k = 0;
	for (u64 i = 0; i < n; i++)
		k += p[i] == c;
	return k;
}

int main(int argc, char **argv, char **envp) {
	(void)envp;
	if (argc < 2)
		fail("usage: vm_file DIR");
	join(path, argv[1], "data");
	join(path2, argv[1], "short");

	int fd = (int)sys_open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	say("open O_CREAT|O_EXCL", fd >= 0 ? 0 : fd);
	say("again with O_EXCL", sys_open(path, O_RDWR | O_CREAT | O_EXCL, 0644));
	for (u64 i = 0; i < sizeof buf; i++)
		buf[i] = 'a' + (char)(i / PAGE);
	say("write 3 pages", sys_write(fd, buf, sizeof buf));
	say("fstat", sys_fstat(fd, st));
	put_str("size: ");
	put_u64(st[6]);
	put_str("\n");

	char *sh = sys_mmap(0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *pr = sys_mmap(0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (MAP_FAILED_(sh) || MAP_FAILED_(pr))
		fail("mmap");
	put_str("mapped bytes: ");
	sys_write(1, sh, 1);
	sys_write(1, sh + PAGE, 1);
	sys_write(1, pr + 2 * PAGE, 1);
	put_str("\n");

	/* A store through the shared mapping is what read() returns at once. */
	sh[PAGE + 5] = 'X';
	char c = 0;
	sys_lseek(fd, PAGE + 5, SEEK_SET);
	sys_read(fd, &c, 1);
	put_str("read() after a store to the shared mapping: ");
	sys_write(1, &c, 1);
	put_str("\n");
	/* A write() is what both mappings show (the private one has not copied that page). */
	sys_lseek(fd, 2 * PAGE + 7, SEEK_SET);
	sys_write(fd, "W", 1);
	put_str("shared and private mappings after write(): ");
	sys_write(1, sh + 2 * PAGE + 7, 1);
	sys_write(1, pr + 2 * PAGE + 7, 1);
	put_str("\n");
	/* A store to the private mapping copies the page: nobody else sees it. */
	pr[10] = 'P';
	sys_lseek(fd, 10, SEEK_SET);
	sys_read(fd, &c, 1);
	put_str("private store seen by read(): ");
	put_str(c == 'P' ? "yes" : "no");
	put_str(", by the shared mapping: ");
	put_str(sh[10] == 'P' ? "yes" : "no");
	put_str("\n");
	/* After the private copy, the file's later changes no longer show in that page. */
	sh[11] = 'S';
	put_str("private copy sees a later shared store: ");
	put_str(pr[11] == 'S' ? "yes" : "no");
	put_str("\n");

	/* Shared mapping written back: msync, then munmap. */
	sh[0] = 'M';
	say("msync MS_SYNC", sys_msync(sh, 3 * PAGE, MS_SYNC));
	sh[PAGE] = 'N';
	say("munmap shared", sys_munmap(sh, 3 * PAGE));
	say("munmap private", sys_munmap(pr, 3 * PAGE));
	say("close", sys_close(fd));
	fd = (int)sys_open(path, O_RDONLY, 0);
	sys_read(fd, buf, sizeof buf);
	put_str("reopened: ");
	sys_write(1, buf, 1);
	sys_write(1, buf + 5, 1);
	sys_write(1, buf + PAGE, 1);
	sys_write(1, buf + PAGE + 5, 1);
	sys_write(1, buf + 2 * PAGE + 7, 1);
	sys_write(1, buf + 10, 2);
	put_str("\n");

	/* read() into a copy-on-write page after fork changes only the child's copy. */
	static char target[PAGE];
	for (u64 i = 0; i < PAGE; i++)
		target[i] = '.';
	i64 pid = sys_fork();
	if (pid == 0) {
		sys_lseek(fd, 0, SEEK_SET);
		sys_read(fd, target, 100);
		put_str("child's buffer after read(): ");
		sys_write(1, target, 3);
		put_str("\n");
		sys_exit(0);
	}
	int ws;
	sys_wait4((int)pid, &ws, 0, 0);
	put_str("parent's buffer: ");
	sys_write(1, target, 3);
	put_str("\n");
	sys_close(fd);

	/* O_TRUNC, O_APPEND, SEEK_END. */
	fd = (int)sys_open(path, O_WRONLY | O_TRUNC | O_APPEND, 0);
	sys_write(fd, "one ", 4);
	sys_lseek(fd, 0, SEEK_SET);
	sys_write(fd, "two", 3);
	say("lseek SEEK_END", sys_lseek(fd, 0, SEEK_END));
	say("read from O_WRONLY", sys_read(fd, buf, 1));
	say("mmap of O_WRONLY", (i64)sys_mmap(0, PAGE, PROT_READ, MAP_PRIVATE, fd, 0));
	sys_close(fd);
	fd = (int)sys_open(path, O_RDONLY, 0);
	i64 n = sys_read(fd, buf, sizeof buf);
	put_str("after O_TRUNC and O_APPEND: ");
	sys_write(1, buf, (u64)n);
	put_str("\n");
	say("MAP_SHARED PROT_WRITE of O_RDONLY", (i64)sys_mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	char *ro = sys_mmap(0, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	say("mprotect it writable", sys_mprotect(ro, PAGE, PROT_READ | PROT_WRITE));
	sys_close(fd);
	put_str("mapping outlives close: ");
	sys_write(1, ro, 3);
	put_str("\n");

	/* SIGBUS: a mapping longer than its file. */
	fd = (int)sys_open(path2, O_RDWR | O_CREAT | O_TRUNC, 0644);
	sys_write(fd, "short file", 10);
	char *two = sys_mmap(0, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	put_str("last page reads past the end as zero: ");
	put_u64(count(two, PAGE, 0));
	put_str(" zero bytes\n");
	pid = sys_fork();
	if (pid == 0) {
		volatile char x = two[PAGE];
		(void)x;
		sys_exit(0);
	}
	sys_wait4((int)pid, &ws, 0, 0);
	put_str("touching the page past the end: ");
	put_status(ws);
	put_str("\n");
	say("unlink", sys_unlink(path2));
	say("unlink again", sys_unlink(path2));
	return 0;
}
