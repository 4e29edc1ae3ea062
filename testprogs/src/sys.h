/* sys.h: the few Linux system calls freestanding test programs need, and a _start that
   calls main(argc, argv, envp) and exits with its result. No libc. */
#ifndef SYS_H
#define SYS_H

typedef unsigned long u64;
typedef long i64;

static inline i64 syscall3(i64 n, i64 a, i64 b, i64 c) {
	i64 ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static inline i64 sys_write(int fd, const void *buf, u64 n) { return syscall3(1, fd, (i64)buf, (i64)n); }
static inline i64 sys_brk(void *addr) { return syscall3(12, (i64)addr, 0, 0); }
static inline __attribute__((noreturn)) void sys_exit(int code) {
	for (;;) syscall3(231, code, 0, 0);
}

static inline u64 str_len(const char *s) {
	u64 n = 0;
	while (s[n]) n++;
	return n;
}

static inline void put_str(const char *s) { sys_write(1, s, str_len(s)); }

/* put_u64 prints v in decimal. */
static inline void put_u64(u64 v) {
	char buf[24];
	int i = sizeof buf;
	buf[--i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_str(buf + i);
}

static inline void put_hex(u64 v) {
	char buf[19];
	int i = sizeof buf;
	buf[--i] = 0;
	do {
		buf[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	put_str(buf + i);
}

/* The compiler may emit calls to these even in freestanding code. */
void *memset(void *d, int c, u64 n) {
	unsigned char *p = d;
	while (n--) *p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, u64 n) {
	unsigned char *p = d;
	const unsigned char *q = s;
	while (n--) *p++ = *q++;
	return d;
}

int main(int argc, char **argv, char **envp);

/* _start: the kernel leaves argc at (%rsp), argv after it, then envp. */
__asm__(".globl _start\n"
	"_start:\n"
	"  xor %ebp, %ebp\n"
	"  mov (%rsp), %rdi\n"
	"  lea 8(%rsp), %rsi\n"
	"  lea 8(%rsi,%rdi,8), %rdx\n"
	"  and $-16, %rsp\n"
	"  call main\n"
	"  mov %eax, %edi\n"
	"  mov $231, %eax\n"
	"  syscall\n"
	"  hlt\n");

#endif
