/* vm.h: system calls and helpers for the virtual-memory test programs (vm_*.c). Raw
   syscalls, no libc: each program behaves the same natively and on the emulator, and a
   failed call returns -errno, which the programs print by name. Only general-purpose
   registers are used, so the compiler emits no SSE. */
#ifndef VM_H
#define VM_H
#pragma GCC target("general-regs-only")
#include "sys.h"

static inline i64 syscall6(i64 n, i64 a, i64 b, i64 c, i64 d, i64 e, i64 f) {
	i64 ret;
	register i64 r10 __asm__("r10") = d;
	register i64 r8 __asm__("r8") = e;
	register i64 r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define PROT_NONE 0
#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_SHARED_VALIDATE 0x03
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_GROWSDOWN 0x100
#define MAP_NORESERVE 0x4000
#define MAP_POPULATE 0x8000
#define MAP_STACK 0x20000
#define MAP_HUGETLB 0x40000
#define MAP_FIXED_NOREPLACE 0x100000
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#define MREMAP_DONTUNMAP 4
#define MADV_DONTNEED 4
#define MADV_NOHUGEPAGE 15
#define MS_ASYNC 1
#define MS_INVALIDATE 2
#define MS_SYNC 4
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_EXCL 0200
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_CLOEXEC 02000000
#define AT_FDCWD (-100)
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define WNOHANG 1
#define SIGKILL 9
#define SIGSEGV 11
#define SIGTERM 15
#define SIGCHLD 17
#define PAGE 4096UL

#define MAP_FAILED_(p) ((u64)(p) > (u64)-4096)

static inline void *sys_mmap(void *a, u64 len, int prot, int flags, int fd, i64 off) {
	return (void *)syscall6(9, (i64)a, (i64)len, prot, flags, fd, off);
}
static inline i64 sys_munmap(void *a, u64 len) { return syscall6(11, (i64)a, (i64)len, 0, 0, 0, 0); }
static inline i64 sys_mprotect(void *a, u64 len, int prot) { return syscall6(10, (i64)a, (i64)len, prot, 0, 0, 0); }
static inline void *sys_mremap(void *a, u64 old, u64 nw, int flags, void *na) {
	return (void *)syscall6(25, (i64)a, (i64)old, (i64)nw, flags, (i64)na, 0);
}
static inline i64 sys_madvise(void *a, u64 len, int adv) { return syscall6(28, (i64)a, (i64)len, adv, 0, 0, 0); }
static inline i64 sys_msync(void *a, u64 len, int flags) { return syscall6(26, (i64)a, (i64)len, flags, 0, 0, 0); }
static inline i64 sys_mincore(void *a, u64 len, unsigned char *vec) { return syscall6(27, (i64)a, (i64)len, (i64)vec, 0, 0, 0); }
static inline i64 sys_read(int fd, void *buf, u64 n) { return syscall6(0, fd, (i64)buf, (i64)n, 0, 0, 0); }
static inline i64 sys_open(const char *path, int flags, int mode) { return syscall6(2, (i64)path, flags, mode, 0, 0, 0); }
static inline i64 sys_close(int fd) { return syscall6(3, fd, 0, 0, 0, 0, 0); }
static inline i64 sys_lseek(int fd, i64 off, int whence) { return syscall6(8, fd, off, whence, 0, 0, 0); }
static inline i64 sys_fstat(int fd, void *st) { return syscall6(5, fd, (i64)st, 0, 0, 0, 0); }
static inline i64 sys_unlink(const char *path) { return syscall6(87, (i64)path, 0, 0, 0, 0, 0); }
static inline i64 sys_fork(void) { return syscall6(57, 0, 0, 0, 0, 0, 0); }
static inline i64 sys_vfork(void) { return syscall6(58, 0, 0, 0, 0, 0, 0); }
static inline i64 sys_clone(u64 flags, void *sp, int *ptid, int *ctid, u64 tls) {
	return syscall6(56, (i64)flags, (i64)sp, (i64)ptid, (i64)ctid, (i64)tls, 0);
}
static inline i64 sys_execve(const char *path, char *const argv[], char *const envp[]) {
	return syscall6(59, (i64)path, (i64)argv, (i64)envp, 0, 0, 0);
}
static inline i64 sys_wait4(int pid, int *status, int options, void *ru) {
	return syscall6(61, pid, (i64)status, options, (i64)ru, 0, 0);
}
static inline i64 sys_getpid(void) { return syscall6(39, 0, 0, 0, 0, 0, 0); }
static inline i64 sys_getppid(void) { return syscall6(110, 0, 0, 0, 0, 0, 0); }
static inline i64 sys_kill(int pid, int sig) { return syscall6(62, pid, sig, 0, 0, 0, 0); }
static inline i64 sys_sched_yield(void) { return syscall6(24, 0, 0, 0, 0, 0, 0); }
static inline i64 sys_prlimit(int pid, int res, const u64 *nw, u64 *old) {
	return syscall6(302, pid, res, (i64)nw, (i64)old, 0, 0);
}

/* Wait-status macros, as <sys/wait.h> defines them. */
#define WIFEXITED(s) (((s) & 0x7f) == 0)
#define WEXITSTATUS(s) (((s) >> 8) & 0xff)
#define WIFSIGNALED(s) (((s) & 0x7f) != 0 && ((s) & 0x7f) != 0x7f)
#define WTERMSIG(s) ((s) & 0x7f)

static inline const char *errname(i64 r) {
	switch (-r) {
	case 1: return "EPERM";
	case 2: return "ENOENT";
	case 3: return "ESRCH";
	case 7: return "E2BIG";
	case 8: return "ENOEXEC";
	case 9: return "EBADF";
	case 10: return "ECHILD";
	case 11: return "EAGAIN";
	case 12: return "ENOMEM";
	case 13: return "EACCES";
	case 14: return "EFAULT";
	case 17: return "EEXIST";
	case 19: return "ENODEV";
	case 20: return "ENOTDIR";
	case 21: return "EISDIR";
	case 22: return "EINVAL";
	case 25: return "ENOTTY";
	case 29: return "ESPIPE";
	case 34: return "ERANGE";
	case 36: return "ENAMETOOLONG";
	case 38: return "ENOSYS";
	case 75: return "EOVERFLOW";
	case 95: return "EOPNOTSUPP";
	}
	return "E?";
}

/* put_ret prints a system call's result: "0", a small number, or the errno's name. */
static inline void put_ret(i64 r) {
	if (r < 0 && r > -4096) {
		put_str(errname(r));
		return;
	}
	put_u64((u64)r);
}

static inline void say(const char *what, i64 r) {
	put_str(what);
	put_str(": ");
	put_ret(r);
	put_str("\n");
}

/* put_status prints a wait status the way a shell describes it. */
static inline void put_status(int st) {
	if (WIFEXITED(st)) {
		put_str("exited ");
		put_u64(WEXITSTATUS(st));
	} else if (WIFSIGNALED(st)) {
		put_str("killed by signal ");
		put_u64(WTERMSIG(st));
	} else {
		put_str("status ");
		put_hex((u64)st);
	}
}

static inline int str_eq(const char *a, const char *b) {
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static inline u64 parse_u64(const char *s) {
	u64 v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (u64)(*s++ - '0');
	return v;
}

static inline void fail(const char *why) {
	put_str("FAIL: ");
	put_str(why);
	put_str("\n");
	sys_exit(1);
}

#endif
