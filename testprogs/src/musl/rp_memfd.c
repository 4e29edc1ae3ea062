/* rp_memfd: anonymous files and shared anonymous memory. usage: rp_memfd DIR (an empty,
   writable directory). memfd_create (flags, name length), write/read/lseek/fstat, a shared
   mapping that sees write() and a child's stores, ftruncate growing and shrinking (SIGBUS
   past the end in a mapping), the seals (F_GET_SEALS without MFD_ALLOW_SEALING,
   F_SEAL_SHRINK/GROW/WRITE/FUTURE_WRITE refusing what they should, F_SEAL_WRITE busy while a
   writable shared mapping exists, F_SEAL_SEAL); mmap of /dev/zero (private: anonymous,
   shared: shared between parent and child); fallocate on a file and a memfd (growing,
   KEEP_SIZE, punching a hole a mapping sees); copy_file_range between a file and a memfd;
   fadvise64. */
#include "rp.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1
#define MFD_ALLOW_SEALING 2
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 8
#define MFD_EXEC 0x10
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 1
#define F_SEAL_SHRINK 2
#define F_SEAL_GROW 4
#define F_SEAL_WRITE 8
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x10
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x20
#endif
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 1
#define FALLOC_FL_PUNCH_HOLE 2
#endif

static int mfd(const char *name, unsigned flags) { return syscall(SYS_memfd_create, name, flags); }

static sigjmp_buf jb;
static void onbus(int sig) { siglongjmp(jb, sig); }

/* touch reads the byte at p and reports whether it faulted (and with which signal). */
static void touch(const char *what, volatile char *p) {
	int sig = sigsetjmp(jb, 1);
	if (sig == 0) {
		char c = *p;
		printf("%-44s read %d\n", what, c);
	} else {
		printf("%-44s signal %d\n", what, sig);
	}
	fflush(stdout);
}

static void size(const char *what, int fd) {
	struct stat st;
	must("fstat", fstat(fd, &st));
	printf("%-44s size %lld\n", what, (long long)st.st_size);
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: rp_memfd DIR\n");
		return 2;
	}
	must("chdir", chdir(argv[1]));
	signal(SIGBUS, onbus);
	signal(SIGSEGV, onbus);

	char longname[300];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	say("memfd_create(249-byte name)", (longname[249] = 0, mfd(longname, 0)) >= 0 ? 0 : -1);
	longname[249] = 'n';
	say("memfd_create(250-byte name)", mfd(longname, 0));
	say("memfd_create(bad flags)", mfd("x", 0x100));
	say("memfd_create(EXEC|NOEXEC_SEAL)", mfd("x", MFD_EXEC | MFD_NOEXEC_SEAL));
	say("memfd_create(bad name ptr)", mfd((char *)8, 0));

	int fd = mfd("data", MFD_CLOEXEC);
	must("memfd_create", fd);
	say("F_GETFD (cloexec)", fcntl(fd, F_GETFD));
	say("F_GETFL & O_ACCMODE", fcntl(fd, F_GETFL) & O_ACCMODE);
	struct stat st;
	must("fstat", fstat(fd, &st));
	printf("fstat: regular %d mode %o size %lld nlink %ld\n", S_ISREG(st.st_mode),
		st.st_mode & 0777, (long long)st.st_size, (long)st.st_nlink);
	say("F_GET_SEALS (no sealing)", fcntl(fd, F_GET_SEALS));
	say("F_ADD_SEALS (no sealing)", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	say("write 10000 bytes", write(fd, memset(malloc(10000), 'a', 10000), 10000));
	size("after write", fd);
	say("lseek(0, SEEK_CUR)", lseek(fd, 0, SEEK_CUR));
	say("pwrite \"hello\" at 5000", pwrite(fd, "hello", 5, 5000));
	char buf[16] = {0};
	say("pread 5 at 5000", pread(fd, buf, 5, 5000));
	printf("  [%s]\n", buf);
	char *m = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	say("mmap shared 16 KiB", m == MAP_FAILED ? -1 : 0);
	printf("  m[5000..5004] [%.5s]\n", m + 5000);
	pid_t pid = fork();
	if (pid == 0) {
		memcpy(m + 100, "child", 5);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	say("pread what the child stored", pread(fd, buf, 5, 100));
	printf("  [%.5s]\n", buf);
	touch("m[9999] (last byte)", m + 9999);
	touch("m[12288] (past the end's page)", m + 12288);
	say("ftruncate(4096)", ftruncate(fd, 4096));
	touch("m[5000] after shrinking", m + 5000);
	say("ftruncate(16384)", ftruncate(fd, 16384));
	touch("m[5000] after growing", m + 5000);
	say("read past the end", pread(fd, buf, 4, 20000));
	munmap(m, 16384);
	close(fd);

	/* Seals. */
	fd = mfd("sealed", MFD_ALLOW_SEALING);
	must("memfd_create", fd);
	say("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
	must("ftruncate", ftruncate(fd, 8192));
	say("F_ADD_SEALS(bad bits)", fcntl(fd, F_ADD_SEALS, 0x1000));
	say("F_ADD_SEALS(SHRINK)", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	say("ftruncate smaller", ftruncate(fd, 4096));
	say("ftruncate larger", ftruncate(fd, 12288));
	say("F_ADD_SEALS(GROW)", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	say("ftruncate larger", ftruncate(fd, 16384));
	say("write at the end (grows)", pwrite(fd, "x", 1, 12288));
	say("write inside", pwrite(fd, "x", 1, 100));
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	say("F_ADD_SEALS(WRITE) while mapped writable", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	munmap(m, 4096);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	say("F_ADD_SEALS(WRITE) with a private mapping", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	say("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
	say("write", pwrite(fd, "x", 1, 100));
	void *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	say("mmap shared writable", s == MAP_FAILED ? -1 : 0);
	s = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	say("mmap shared read-only", s == MAP_FAILED ? -1 : 0);
	say("mprotect it writable", mprotect(s, 4096, PROT_READ | PROT_WRITE));
	m[0] = 'p';
	say("private mapping still writable", m[0] == 'p' ? 0 : -1);
	say("fallocate(PUNCH_HOLE) sealed", fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, 4096));
	say("F_ADD_SEALS(SEAL)", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	say("F_ADD_SEALS(FUTURE_WRITE) after SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	int ro = open("/dev/null", O_RDONLY);
	say("F_GET_SEALS on /dev/null", fcntl(ro, F_GET_SEALS));
	close(fd);
	fd = mfd("future", MFD_ALLOW_SEALING);
	must("ftruncate", ftruncate(fd, 4096));
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	say("F_ADD_SEALS(FUTURE_WRITE) while mapped", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	m[0] = 'y';
	say("the old mapping still writes", pread(fd, buf, 1, 0) == 1 && buf[0] == 'y' ? 0 : -1);
	say("write", write(fd, "z", 1));
	close(fd);
	fd = mfd("noexec", MFD_NOEXEC_SEAL);
	must("fstat", fstat(fd, &st));
	printf("MFD_NOEXEC_SEAL mode %o\n", st.st_mode & 0777);
	say("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
	close(fd);
	fd = mfd("exec", MFD_ALLOW_SEALING | MFD_EXEC);
	say("F_ADD_SEALS(EXEC) on an executable memfd", fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC));
	say("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
	close(fd);

	/* /dev/zero. */
	int z = open("/dev/zero", O_RDWR);
	must("open /dev/zero", z);
	char *zp = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, z, 0);
	char *zs = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, z, 0);
	say("mmap /dev/zero private and shared", zp == MAP_FAILED || zs == MAP_FAILED ? -1 : 0);
	printf("  zeros %d %d\n", zp[100], zs[4100]);
	zp[0] = 1;
	zs[0] = 1;
	pid = fork();
	if (pid == 0) {
		zp[0] = 2;
		zs[0] = 2;
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("  after the child's stores: private %d shared %d\n", zp[0], zs[0]);
	int zw = open("/dev/zero", O_WRONLY);
	void *bad = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, zw, 0);
	say("mmap /dev/zero opened write-only", bad == MAP_FAILED ? -1 : 0);

	/* fallocate and copy_file_range on a file and a memfd. */
	int f = open("file", O_RDWR | O_CREAT | O_TRUNC, 0644);
	must("open file", f);
	say("fallocate(0, 0, 10000)", fallocate(f, 0, 0, 10000));
	size("file", f);
	say("fallocate(KEEP_SIZE, 0, 20000)", fallocate(f, FALLOC_FL_KEEP_SIZE, 0, 20000));
	size("file", f);
	must("write", pwrite(f, memset(malloc(10000), 'f', 10000), 10000, 0));
	char *fm = mmap(NULL, 12288, PROT_READ, MAP_SHARED, f, 0);
	printf("  before the hole: %c\n", fm[4096]);
	say("fallocate(PUNCH_HOLE, 4096, 4096)", fallocate(f, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 4096, 4096));
	printf("  mapping in the hole %d, before it %c, after it %c\n", fm[4096], fm[4095], fm[8192]);
	say("pread in the hole", pread(f, buf, 1, 5000));
	printf("  %d\n", buf[0]);
	say("fallocate(PUNCH_HOLE without KEEP_SIZE)", fallocate(f, FALLOC_FL_PUNCH_HOLE, 0, 4096));
	say("fallocate(len 0)", fallocate(f, 0, 0, 0));
	say("fallocate(negative offset)", fallocate(f, 0, -1, 10));
	say("fallocate(O_RDONLY fd)", fallocate(ro, 0, 0, 10));
	int p[2];
	must("pipe", pipe(p));
	say("fallocate(pipe)", fallocate(p[1], 0, 0, 10));
	say("fadvise(file, WILLNEED)", posix_fadvise(f, 0, 0, POSIX_FADV_WILLNEED) == 0 ? 0 : -1);
	errno = posix_fadvise(f, 0, 0, 99);
	say("fadvise(file, 99)", errno ? -1 : 0);
	errno = posix_fadvise(p[0], 0, 0, POSIX_FADV_NORMAL);
	say("fadvise(pipe)", errno ? -1 : 0);
	int mf = mfd("copy", 0);
	must("memfd", mf);
	say("fallocate(memfd, 0, 0, 5000)", fallocate(mf, 0, 0, 5000));
	size("memfd", mf);
	off_t in = 0, out = 100;
	say("copy_file_range(file -> memfd, 9000)", syscall(SYS_copy_file_range, f, &in, mf, &out, 9000, 0));
	printf("  offsets now %lld %lld\n", (long long)in, (long long)out);
	size("memfd", mf);
	say("pread memfd at 100", pread(mf, buf, 4, 100));
	printf("  [%.4s]\n", buf);
	say("copy_file_range(flags 1)", syscall(SYS_copy_file_range, f, NULL, mf, NULL, 10, 1));
	say("copy_file_range(pipe)", syscall(SYS_copy_file_range, p[0], NULL, mf, NULL, 10, 0));
	in = 0;
	out = 10;
	say("copy_file_range(same file, overlap)", syscall(SYS_copy_file_range, f, &in, f, &out, 100, 0));
	lseek(f, 0, SEEK_SET);
	lseek(mf, 0, SEEK_SET);
	say("copy_file_range(file positions)", syscall(SYS_copy_file_range, mf, NULL, f, NULL, 50, 0));
	say("lseek(file, 0, SEEK_CUR)", lseek(f, 0, SEEK_CUR));
	say("copy_file_range(O_RDONLY out)", syscall(SYS_copy_file_range, f, NULL, ro, NULL, 10, 0));
	int f2 = open("file2", O_RDWR | O_CREAT | O_TRUNC, 0644);
	must("open file2", f2);
	char *f2m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, f2, 0);
	in = 4000;
	out = 10;
	say("copy_file_range(file -> file2, 6000)", syscall(SYS_copy_file_range, f, &in, f2, &out, 6000, 0));
	printf("  offsets now %lld %lld\n", (long long)in, (long long)out);
	size("file2", f2);
	printf("  file2 mapped: [%d] [%d] [%c]\n", f2m[0], f2m[200], f2m[5000]);
	in = 9990;
	say("copy_file_range(at the input's end)", syscall(SYS_copy_file_range, f, &in, f2, NULL, 100, 0));
	say("copy_file_range(past the input's end)", syscall(SYS_copy_file_range, f, &in, f2, NULL, 100, 0));
	return 0;
}
