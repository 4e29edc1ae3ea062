/* vm_errno: the error numbers of bad arguments, one line per case, for the mm system calls
   and the rest of the calls the emulator implements. Natively this is what Linux answers;
   the emulator must answer the same. Run from the testprogs directory (it opens src/vm.h
   as an ordinary file). */
#include "vm.h"

static char longpath[5000];
static unsigned char vec[64];
static u64 stbuf[18];
static void *volatile bad = (void *)8;

#define CASE(name, expr) say(name, (i64)(expr))

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	char *m = sys_mmap(0, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sys_munmap(m + 4 * PAGE, PAGE); /* a hole at page 4 */
	int file = (int)sys_open("src/vm.h", O_RDONLY, 0);
	int dir = (int)sys_open("src", O_RDONLY, 0);

	CASE("mmap length 0", sys_mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CASE("mmap offset not page-aligned", sys_mmap(0, PAGE, PROT_READ, MAP_PRIVATE, file, 100));
	CASE("mmap neither shared nor private", sys_mmap(0, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0));
	CASE("mmap anonymous MAP_SHARED_VALIDATE", sys_mmap(0, PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0));
	CASE("mmap bad fd", sys_mmap(0, PAGE, PROT_READ, MAP_PRIVATE, 999, 0));
	CASE("mmap bad fd, length 0", sys_mmap(0, 0, PROT_READ, MAP_PRIVATE, 999, 0));
	CASE("mmap a directory", sys_mmap(0, PAGE, PROT_READ, MAP_PRIVATE, dir, 0));
	CASE("mmap standard input (a pipe)", sys_mmap(0, PAGE, PROT_READ, MAP_PRIVATE, 0, 0));
	CASE("mmap standard output (write-only)", sys_mmap(0, PAGE, PROT_READ, MAP_PRIVATE, 1, 0));
	CASE("mmap MAP_FIXED unaligned", sys_mmap(m + 1, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	CASE("mmap MAP_FIXED past user space", sys_mmap((void *)0x7ffffffff000UL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	CASE("mmap MAP_FIXED_NOREPLACE over a mapping", sys_mmap(m, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
	CASE("mmap length -1", sys_mmap(0, ~0UL, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CASE("mmap length 2^62", sys_mmap(0, 1UL << 62, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
	CASE("mmap 1 TiB private writable", sys_mmap(0, 1UL << 40, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	void *big = sys_mmap(0, 1UL << 40, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	say("mmap 1 TiB MAP_NORESERVE succeeds", !MAP_FAILED_(big));
	sys_munmap(big, 1UL << 40);
	CASE("mmap MAP_SHARED_VALIDATE with an unknown flag", sys_mmap(0, PAGE, PROT_READ, MAP_SHARED_VALIDATE | 0x80000, file, 0));
	CASE("mmap a file MAP_GROWSDOWN", sys_mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, file, 0));
	CASE("mmap offset beyond the largest file", sys_mmap(0, PAGE, PROT_READ, MAP_PRIVATE, file, (i64)(1UL << 63)));

	CASE("munmap unaligned", sys_munmap(m + 1, PAGE));
	CASE("munmap length 0", sys_munmap(m, 0));
	CASE("munmap past user space", sys_munmap((void *)0x7ffffffff000UL, 2 * PAGE));
	CASE("munmap nothing mapped", sys_munmap((void *)0x100000000UL, PAGE));

	CASE("mprotect unaligned", sys_mprotect(m + 1, PAGE, PROT_READ));
	CASE("mprotect length 0", sys_mprotect(m, 0, PROT_READ));
	CASE("mprotect unknown bit", sys_mprotect(m, PAGE, 0x10));
	CASE("mprotect GROWSDOWN|GROWSUP", sys_mprotect(m, PAGE, PROT_READ | 0x01000000 | 0x02000000));
	CASE("mprotect GROWSDOWN on a plain mapping", sys_mprotect(m, PAGE, PROT_READ | 0x01000000));
	CASE("mprotect unmapped", sys_mprotect((void *)0x100000000UL, PAGE, PROT_READ));
	CASE("mprotect across a hole", sys_mprotect(m, 8 * PAGE, PROT_READ | PROT_WRITE));
	CASE("mprotect wrapping", sys_mprotect(m, ~0UL - 2 * PAGE, PROT_READ));

	char *b0 = (char *)sys_brk(0);
	say("brk below the start leaves it", sys_brk((void *)PAGE) == (i64)b0);
	say("brk far beyond leaves it", sys_brk((void *)0x7fff00000000UL) == (i64)b0);

	CASE("mremap unknown flag", sys_mremap(m, PAGE, PAGE, 8, 0));
	CASE("mremap unaligned", sys_mremap(m + 1, PAGE, PAGE, 0, 0));
	CASE("mremap new size 0", sys_mremap(m, PAGE, 0, 0, 0));
	CASE("mremap FIXED without MAYMOVE", sys_mremap(m, PAGE, PAGE, MREMAP_FIXED, (void *)0x100000000UL));
	CASE("mremap DONTUNMAP resizing", sys_mremap(m, PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0));
	CASE("mremap FIXED onto itself", sys_mremap(m, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, m + PAGE));
	CASE("mremap FIXED unaligned target", sys_mremap(m, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)0x100000001UL));
	CASE("mremap unmapped", sys_mremap((void *)0x100000000UL, PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0));
	CASE("mremap across a hole", sys_mremap(m + 2 * PAGE, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE, 0));
	CASE("mremap old size 0 of private memory", sys_mremap(m, 0, PAGE, MREMAP_MAYMOVE, 0));

	CASE("madvise unknown advice", sys_madvise(m, PAGE, 999));
	CASE("madvise unaligned", sys_madvise(m + 1, PAGE, MADV_DONTNEED));
	CASE("madvise length 0", sys_madvise(m, 0, MADV_DONTNEED));
	CASE("madvise unmapped", sys_madvise((void *)0x100000000UL, PAGE, MADV_DONTNEED));
	CASE("madvise across a hole", sys_madvise(m, 8 * PAGE, MADV_DONTNEED));
	CASE("madvise length -1", sys_madvise(m, ~0UL, MADV_DONTNEED));
	char *fm = sys_mmap(0, PAGE, PROT_READ, MAP_PRIVATE, file, 0);
	CASE("madvise MADV_FREE on a file mapping", sys_madvise(fm, PAGE, 8));
	CASE("madvise MADV_WIPEONFORK on a file mapping", sys_madvise(fm, PAGE, 18));
	CASE("madvise MADV_REMOVE on a private file mapping", sys_madvise(fm, PAGE, 9));
	CASE("madvise MADV_REMOVE on private anonymous memory", sys_madvise(m, PAGE, 9));
	char *shm = sys_mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CASE("madvise MADV_REMOVE on shared anonymous memory", sys_madvise(shm, PAGE, 9));
	CASE("madvise MADV_DONTFORK", sys_madvise(m, PAGE, 10));

	CASE("msync unknown flag", sys_msync(m, PAGE, 8));
	CASE("msync MS_ASYNC|MS_SYNC", sys_msync(m, PAGE, MS_ASYNC | MS_SYNC));
	CASE("msync unaligned", sys_msync(m + 1, PAGE, MS_SYNC));
	CASE("msync unmapped", sys_msync((void *)0x100000000UL, PAGE, MS_SYNC));
	CASE("msync across a hole", sys_msync(m, 8 * PAGE, MS_SYNC));
	CASE("msync length 0", sys_msync(m, 0, MS_SYNC));
	CASE("msync private anonymous memory", sys_msync(m, PAGE, MS_SYNC));

	CASE("mincore unaligned", sys_mincore(m + 1, PAGE, vec));
	CASE("mincore unmapped", sys_mincore((void *)0x100000000UL, PAGE, vec));
	CASE("mincore across a hole", sys_mincore(m, 8 * PAGE, vec));
	CASE("mincore bad vector", sys_mincore(m, PAGE, bad));
	CASE("mincore past user space", sys_mincore((void *)0x7ffffffff000UL, 2 * PAGE, vec));

	CASE("open missing file", sys_open("src/no such file", O_RDONLY, 0));
	CASE("open a directory for writing", sys_open("src", O_WRONLY, 0));
	CASE("open bad path pointer", sys_open(bad, O_RDONLY, 0));
	for (u64 i = 0; i < sizeof longpath - 1; i++)
		longpath[i] = 'a';
	CASE("open path longer than PATH_MAX", sys_open(longpath, O_RDONLY, 0));
	CASE("open empty path", sys_open("", O_RDONLY, 0));
	CASE("open O_DIRECTORY of a file", sys_open("src/vm.h", O_RDONLY | 0200000, 0));
	CASE("openat relative to a file", syscall6(257, file, (i64)"x", O_RDONLY, 0, 0, 0));
	CASE("openat relative to a bad fd", syscall6(257, 999, (i64)"x", O_RDONLY, 0, 0, 0));

	CASE("read bad fd", sys_read(999, vec, 1));
	CASE("read into a bad pointer", sys_read(file, bad, 10));
	CASE("read a directory", sys_read(dir, vec, 1));
	CASE("write from a bad pointer", sys_write(1, bad, 10));
	CASE("write to a read-only fd", sys_write(file, "x", 1));
	CASE("write to standard input", sys_write(0, "x", 1));
	CASE("lseek bad fd", sys_lseek(999, 0, SEEK_SET));
	CASE("lseek bad whence", sys_lseek(file, 0, 7));
	CASE("lseek before the start", sys_lseek(file, -1, SEEK_SET));
	CASE("lseek on a pipe", sys_lseek(0, 0, SEEK_SET));
	CASE("fstat bad fd", sys_fstat(999, stbuf));
	CASE("fstat bad pointer", sys_fstat(file, bad));
	CASE("close bad fd", sys_close(999));
	CASE("pread negative offset", syscall6(17, file, (i64)vec, 1, -1, 0, 0));
	CASE("pread on a pipe", syscall6(17, 0, (i64)vec, 1, 0, 0, 0));
	CASE("readv too many vectors", syscall6(19, file, (i64)vec, 5000, 0, 0, 0));
	CASE("dup2 to a bad fd", syscall6(33, file, -1, 0, 0, 0, 0));
	CASE("dup3 same fd", syscall6(292, file, file, 0, 0, 0, 0));

	CASE("wait4 no children", sys_wait4(-1, 0, 0, 0));
	CASE("wait4 bad options", sys_wait4(-1, 0, 0x100, 0));
	CASE("kill bad signal", sys_kill((int)sys_getpid(), 65));
	CASE("kill no such process", sys_kill(0x3ffffff0, 0));
	CASE("clock_gettime bad clock", syscall6(228, 999, (i64)stbuf, 0, 0, 0, 0));
	CASE("clock_gettime bad pointer", syscall6(228, 1, (i64)bad, 0, 0, 0, 0));
	CASE("getrandom bad flags", syscall6(318, (i64)vec, 8, 0x10, 0, 0, 0));
	CASE("getrandom RANDOM|INSECURE", syscall6(318, (i64)vec, 8, 6, 0, 0, 0));
	CASE("getrandom bad pointer", syscall6(318, (i64)bad, 8, 0, 0, 0, 0));
	CASE("rt_sigaction SIGKILL", syscall6(13, SIGKILL, (i64)stbuf, 0, 8, 0, 0));
	CASE("rt_sigaction signal 0", syscall6(13, 0, 0, (i64)stbuf, 8, 0, 0));
	CASE("rt_sigaction bad sigsetsize", syscall6(13, SIGTERM, 0, (i64)stbuf, 4, 0, 0));
	CASE("rt_sigprocmask bad how", syscall6(14, 7, (i64)stbuf, 0, 8, 0, 0));
	CASE("rt_sigprocmask bad sigsetsize", syscall6(14, 0, (i64)stbuf, 0, 4, 0, 0));
	CASE("ioctl TIOCGWINSZ on a pipe", syscall6(16, 1, 0x5413, (i64)stbuf, 0, 0, 0));
	CASE("ioctl TIOCGWINSZ on a file", syscall6(16, file, 0x5413, (i64)stbuf, 0, 0, 0));
	CASE("ioctl bad fd", syscall6(16, 999, 0x5413, (i64)stbuf, 0, 0, 0));
	CASE("uname bad pointer", syscall6(63, (i64)bad, 0, 0, 0, 0, 0));
	CASE("arch_prctl bad code", syscall6(158, 0x9999, 0, 0, 0, 0, 0));
	u64 ts[2] = {0, 2000000000};
	CASE("nanosleep bad nanoseconds", syscall6(35, (i64)ts, 0, 0, 0, 0, 0));
	CASE("prlimit bad resource", sys_prlimit(0, 99, 0, stbuf));
	u64 lim[2] = {2, 1};
	CASE("prlimit soft above hard", sys_prlimit(0, 3, lim, 0));
	CASE("set_robust_list bad length", syscall6(273, 0, 7, 0, 0, 0, 0));
	CASE("getcwd buffer too small", syscall6(79, (i64)vec, 1, 0, 0, 0, 0));
	return 0;
}
