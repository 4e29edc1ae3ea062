/* dbg_cow: the copy-on-write story in one program, for the debugger's scripted tests.
   The parent writes a page of .bss (demand-zero, then writable), forks, and both processes
   write to it again: the first write after fork copies the shared frame (cow-copy), the
   last writer finds itself the only user and gets the frame back writable (cow-reuse). */
#include "sys.h"

static inline i64 syscall4(i64 n, i64 a, i64 b, i64 c, i64 d) {
	i64 ret;
	register i64 r10 __asm__("r10") = d;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
	return ret;
}

static u64 page[512] __attribute__((aligned(4096)));

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	page[0] = 42; /* demand-zero fault: the page is now private and writable */
	i64 pid = syscall4(57, 0, 0, 0, 0); /* fork */
	if (pid < 0) {
		put_str("fork failed\n");
		return 1;
	}
	if (pid == 0) {
		page[0] = 7; /* the child's write: a copy-on-write fault */
		put_str("child sees ");
		put_u64(page[0]);
		put_str("\n");
		sys_exit(0);
	}
	int status = -1;
	syscall4(61, pid, (i64)&status, 0, 0); /* wait4 */
	put_str("parent sees ");
	put_u64(page[0]);
	page[0] = 43; /* the parent's write: the frame is its own again */
	put_str(", then ");
	put_u64(page[0]);
	put_str("; child status ");
	put_u64((u64)status);
	put_str("\n");
	return 0;
}
