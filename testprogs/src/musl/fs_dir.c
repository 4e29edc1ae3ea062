/* fs_dir: directories, names and descriptors. usage: fs_dir DIR (an empty, writable
   directory). Directory listing (opendir/readdir over getdents64, sorted here since the
   order is the file system's), mkdir, rmdir, unlink, rename and renameat2, symbolic and
   hard links, stat/lstat/fstatat/statx, access, chdir/fchdir/getcwd, the *at calls with
   directory descriptors, open flags (O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY,
   O_NOFOLLOW, O_CLOEXEC), dup and fcntl, readv/writev, truncate, chmod, umask and
   utimensat, with the errno of each failure. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static const char *dir;

static void say(const char *what, long r) {
	if (r < 0)
		printf("%-48s -1 %s\n", what, strerror(errno));
	else
		printf("%-48s %ld\n", what, r);
}

/* rel prints a host path with DIR replaced by "DIR", so runs in different directories
   print the same. */
static const char *rel(const char *p) {
	static char buf[4096];
	size_t n = strlen(dir);
	if (strncmp(p, dir, n) == 0) {
		snprintf(buf, sizeof buf, "DIR%s", p + n);
		return buf;
	}
	return p;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *path) {
	DIR *d = opendir(path);
	if (!d) {
		printf("opendir %s: %s\n", path, strerror(errno));
		return;
	}
	char *names[64];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 64) {
		char t = e->d_type == DT_DIR ? 'd' : e->d_type == DT_LNK ? 'l' : e->d_type == DT_REG ? 'f' : '?';
		asprintf(&names[n++], "%s(%c)", e->d_name, t);
	}
	closedir(d);
	qsort(names, n, sizeof names[0], cmp);
	printf("ls %s:", rel(path));
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	putchar('\n');
}

static void mode(const char *what, const char *path, int follow) {
	struct stat st;
	int r = follow ? stat(path, &st) : lstat(path, &st);
	if (r < 0)
		printf("%-48s -1 %s\n", what, strerror(errno));
	else
		printf("%-48s mode %06o size %lld nlink %ld\n", what, (unsigned)st.st_mode, (long long)st.st_size,
		       (long)st.st_nlink);
}

static void put(const char *name, const char *text) {
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	write(fd, text, strlen(text));
	close(fd);
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: fs_dir DIR\n");
		return 2;
	}
	dir = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	say("chdir DIR", chdir(dir));
	char cwd[4096];
	printf("getcwd: %s\n", rel(getcwd(cwd, sizeof cwd)));
	umask(022);

	puts("-- creating");
	say("mkdir d", mkdir("d", 0777));
	say("mkdir d again", mkdir("d", 0777));
	say("mkdir d/ (trailing slash)", mkdir("d/", 0777));
	say("mkdir missing/x", mkdir("missing/x", 0777));
	mode("d", "d", 1);
	umask(077);
	put("d/b", "bee");
	umask(0);
	put("d/a", "a-file");
	umask(022);
	put("d/c", "sea");
	mode("d/b (umask 077)", "d/b", 1);
	mode("d/a (umask 0)", "d/a", 1);
	say("open d/a O_CREAT|O_EXCL", open("d/a", O_RDWR | O_CREAT | O_EXCL, 0644));
	say("open d/nothing", open("d/nothing", O_RDONLY));
	say("open d/a/ (trailing slash)", open("d/a/", O_RDONLY));
	say("open d/a O_DIRECTORY", open("d/a", O_RDONLY | O_DIRECTORY));
	say("open d O_WRONLY", open("d", O_WRONLY));
	say("open d O_CREAT", open("d", O_RDONLY | O_CREAT, 0644));
	umask(0);
	say("open d O_CREAT, umask 0", open("d", O_RDONLY | O_CREAT, 0666));
	umask(022);
	list("d");
	list(".");

	puts("-- renaming and removing");
	say("rename d/a d/z", rename("d/a", "d/z"));
	say("rename d/b d/z (replaces)", rename("d/b", "d/z"));
	mode("d/z now b's", "d/z", 1);
	say("rename d/nothing d/y", rename("d/nothing", "d/y"));
	say("rename d d/sub (into itself)", rename("d", "d/sub"));
	say("rename d/z d/z2/ (not a directory)", rename("d/z", "d/z2/"));
	say("rename . x", rename(".", "x"));
	say("renameat2 NOREPLACE over d/c", syscall(SYS_renameat2, AT_FDCWD, "d/z", AT_FDCWD, "d/c", 1));
	say("renameat2 EXCHANGE d/z d/c", syscall(SYS_renameat2, AT_FDCWD, "d/z", AT_FDCWD, "d/c", 2));
	mode("d/c after the exchange", "d/c", 1);
	say("unlink d", unlink("d"));
	say("unlink d/c/", unlink("d/c/"));
	say("rmdir d (not empty)", rmdir("d"));
	say("rmdir d/c (a file)", rmdir("d/c"));
	say("rmdir .", rmdir("."));
	say("rmdir d/..", rmdir("d/.."));
	say("mkdir d/e, rmdir d/e", mkdir("d/e", 0700) | rmdir("d/e"));
	list("d");

	puts("-- links");
	say("symlink c d/lc", symlink("c", "d/lc"));
	say("symlink nowhere d/dangling", symlink("nowhere", "d/dangling"));
	say("symlink loop d/loop", symlink("loop", "d/loop"));
	say("symlink d/lc again", symlink("c", "d/lc"));
	mode("stat d/lc", "d/lc", 1);
	mode("lstat d/lc", "d/lc", 0);
	mode("stat d/dangling", "d/dangling", 1);
	mode("lstat d/dangling", "d/dangling", 0);
	mode("stat d/loop", "d/loop", 1);
	char buf[256];
	long n = readlink("d/lc", buf, sizeof buf);
	printf("readlink d/lc: %.*s (%ld)\n", (int)(n > 0 ? n : 0), buf, n);
	say("readlink d/c (not a link)", readlink("d/c", buf, sizeof buf));
	say("readlink with a 2-byte buffer", readlink("d/dangling", buf, 2));
	say("open d/lc O_NOFOLLOW", open("d/lc", O_RDONLY | O_NOFOLLOW));
	say("open d/dangling O_CREAT creates the target", open("d/dangling", O_WRONLY | O_CREAT, 0600));
	mode("d/nowhere", "d/nowhere", 1);
	say("open d/lc O_CREAT|O_EXCL", open("d/lc", O_WRONLY | O_CREAT | O_EXCL, 0600));
	say("link d/c d/hard", link("d/c", "d/hard"));
	mode("d/c has two links", "d/c", 1);
	say("link d d/hd (a directory)", link("d", "d/hd"));
	say("mkfifo d/fifo", mkfifo("d/fifo", 0666));
	mode("d/fifo", "d/fifo", 0);
	say("mknod d/reg (a regular file)", mknod("d/reg", S_IFREG | 0640, 0));
	mode("d/reg", "d/reg", 0);
	say("mknod d/dir (a directory)", mknod("d/dir", S_IFDIR | 0755, 0));
	say("mkfifo d/fifo again", mkfifo("d/fifo", 0666));
	list("d");

	puts("-- directories as places");
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	say("openat(d, c)", openat(dfd, "c", O_RDONLY) >= 0);
	say("mkdirat(d, sub)", mkdirat(dfd, "sub", 0755));
	say("fstatat(d, lc, NOFOLLOW) is a link", ({
		    struct stat st;
		    fstatat(dfd, "lc", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
	    }));
	say("faccessat(d, c, R_OK)", faccessat(dfd, "c", R_OK, 0));
	say("access d/missing F_OK", access("d/missing", F_OK));
	say("chdir d/sub", chdir("d/sub"));
	printf("getcwd: %s\n", rel(getcwd(cwd, sizeof cwd)));
	say("chdir ../lc (a link to a file)", chdir("../lc"));
	say("chdir ..", chdir(".."));
	printf("getcwd: %s\n", rel(getcwd(cwd, sizeof cwd)));
	say("symlink sub d/ls; chdir ls", symlink("sub", "ls") | chdir("ls"));
	printf("getcwd (no symlinks): %s\n", rel(getcwd(cwd, sizeof cwd)));
	say("open ../c from inside the link", open("../c", O_RDONLY) >= 0);
	say("fchdir to the DIR descriptor's d", fchdir(dfd));
	printf("getcwd: %s\n", rel(getcwd(cwd, sizeof cwd)));
	say("unlinkat(d, sub, AT_REMOVEDIR)", unlinkat(dfd, "sub", AT_REMOVEDIR));
	say("unlinkat(d, ls, 0)", unlinkat(dfd, "ls", 0));
	char tiny[8];
	say("getdents64 with an 8-byte buffer", syscall(SYS_getdents64, dfd, tiny, sizeof tiny));
	say("getcwd into 2 bytes", getcwd(tiny, 2) ? 0 : -1);
	say("fchdir to a file", fchdir(open("c", O_RDONLY)));
	close(dfd);

	puts("-- descriptors");
	int fd = open("log", O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	say("F_GETFD of O_CLOEXEC", fcntl(fd, F_GETFD));
	say("F_GETFL of O_RDWR|O_APPEND", fcntl(fd, F_GETFL));
	write(fd, "one ", 4);
	lseek(fd, 0, SEEK_SET);
	write(fd, "two ", 4);
	pwrite(fd, "P", 1, 0);
	struct iovec iov[3] = {{"three", 5}, {" ", 1}, {"four", 4}};
	say("writev", writev(fd, iov, 3));
	char x[6] = {0}, y[32] = {0};
	struct iovec in[2] = {{x, 5}, {y, sizeof y - 1}};
	lseek(fd, 0, SEEK_SET);
	say("readv", readv(fd, in, 2));
	printf("readv: [%s] [%s]\n", x, y);
	say("lseek SEEK_END", lseek(fd, 0, SEEK_END));
	say("lseek to -1", lseek(fd, -1, SEEK_SET));
	int d2 = dup(fd);
	say("dup shares the offset", lseek(d2, 0, SEEK_CUR));
	say("F_GETFD of a dup", fcntl(d2, F_GETFD));
	say("dup3 with O_CLOEXEC to 40", dup3(fd, 40, O_CLOEXEC));
	say("F_GETFD of 40", fcntl(40, F_GETFD));
	say("dup3 onto itself", dup3(40, 40, 0));
	say("F_DUPFD_CLOEXEC from 50", fcntl(fd, F_DUPFD_CLOEXEC, 50));
	say("F_SETFL O_NONBLOCK", fcntl(fd, F_SETFL, O_NONBLOCK));
	say("F_GETFL after it", fcntl(fd, F_GETFL));
	say("close 40", close(40));
	say("close 40 again", close(40));
	say("dup2 to 60 and 62", dup2(fd, 60) + dup2(fd, 62));
	say("close_range 61..62 CLOEXEC", syscall(436, 61, 62, 4));
	say("F_GETFD of 62", fcntl(62, F_GETFD));
	say("close_range 60..70", syscall(436, 60, 70, 0));
	say("close 60 after it", close(60));
	say("close_range 5..4", syscall(436, 5, 4, 0));
	say("read from O_WRONLY", read(open("log", O_WRONLY), x, 1));
	say("write to O_RDONLY", write(open("log", O_RDONLY), x, 1));
	say("read a directory", read(open(".", O_RDONLY), x, 1));

	struct statfs sf1, sf2;
	say("statfs . and fstatfs log agree", statfs(".", &sf1) == 0 && fstatfs(fd, &sf2) == 0 &&
						 sf1.f_type == sf2.f_type && sf1.f_bsize == sf2.f_bsize);
	int pp[2];
	pipe(pp);
	say("fstatfs of a pipe: PIPEFS_MAGIC", fstatfs(pp[0], &sf1) == 0 && sf1.f_type == 0x50495045);
	say("statfs of a missing path", statfs("nothing", &sf1));
	close(pp[0]);
	close(pp[1]);

	puts("-- sizes, modes and times");
	say("truncate log to 3", truncate("log", 3));
	mode("log", "log", 1);
	say("ftruncate to 10000", ftruncate(fd, 10000));
	mode("log", "log", 1);
	say("pread of the grown part (zeros)", pread(fd, x, 4, 5000) == 4 && x[0] == 0 && x[3] == 0);
	say("ftruncate of O_RDONLY", ftruncate(open("log", O_RDONLY), 1));
	say("truncate a directory", truncate(".", 1));
	say("chmod log 0604", chmod("log", 0604));
	mode("log", "log", 1);
	struct timespec ts[2] = {{1000000000, 5}, {1234567890, 123456789}};
	say("utimensat", utimensat(AT_FDCWD, "log", ts, 0));
	struct stat st;
	stat("log", &st);
	printf("mtime %lld.%09ld atime %lld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
	       (long long)st.st_atim.tv_sec);
	/* struct statx by offset: musl's headers may not have it. */
	union {
		unsigned char b[256];
		unsigned long long q[32];
		unsigned int w[64];
		unsigned short h[128];
	} sx;
	say("statx", syscall(SYS_statx, AT_FDCWD, "log", 0, 0x7ff /* STATX_BASIC_STATS */, &sx));
	printf("statx: size %llu mode %o nlink %u mtime %lld\n", sx.q[5], sx.h[14], sx.w[4], (long long)sx.q[14]);
	say("statx of an empty path, AT_EMPTY_PATH", syscall(SYS_statx, fd, "", 0x1000, 0x7ff, &sx));
	printf("statx: size %llu\n", sx.q[5]);
	return 0;
}
