/* hard_sysfuzz: system calls from a script on standard input, for the fuzzers. No libc: the
   calls may unmap, remap or overwrite anything, and nothing must depend on them working.
   The script is bytes: each call takes one byte for the call (a table of interesting calls,
   or any number below 460), then one selector byte per argument: a boundary value (0, -1,
   1, INT_MAX, page-sized, TASK_SIZE edges, non-canonical), a pointer into a buffer of the
   program's (start, middle, near its end, a path string), a small descriptor number, a
   random-looking value from the next 8 bytes, or a flag mask. exit and exit_group are only
   ever the last call. The program ends when the script does: the emulator must neither
   crash nor hang whatever it meets. usage: hard_sysfuzz < SCRIPT */
#include "sys.h"

static inline i64 sc6(i64 n, i64 a, i64 b, i64 c, i64 d, i64 e, i64 f) {
	i64 ret;
	register i64 r10 __asm__("r10") = d;
	register i64 r8 __asm__("r8") = e;
	register i64 r9 __asm__("r9") = f;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
	                 : "rcx", "r11", "memory");
	return ret;
}

static unsigned char script[65536];
static unsigned long len, pos;
static char buf[3 * 4096] __attribute__((aligned(4096)));
static const char path[] = "fuzzfile";
static const char dpath[] = "fuzzdir/../fuzzfile2";

static unsigned char next(void) { return pos < len ? script[pos++] : 0; }

static u64 next64(void) {
	u64 v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | next();
	return v;
}

/* The calls most worth hitting; other numbers come from the byte itself. */
static const unsigned short calls[] = {
	0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
	26, 27, 28, 32, 33, 34, 35, 39, 41, 42, 53, 56, 57, 59, 61, 62, 72, 73, 74, 75, 76, 77,
	78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 95, 96, 97, 98, 99, 102,
	110, 111, 112, 127, 128, 129, 130, 131, 137, 138, 157, 158, 186, 200, 202, 204, 217, 218,
	228, 230, 234, 257, 258, 259, 260, 262, 263, 264, 265, 266, 267, 268, 269, 270, 271, 273,
	275, 276, 278, 280, 281, 284, 285, 288, 290, 291, 292, 293, 295, 296, 302, 316, 318, 319,
	322, 324, 325, 326, 332, 334, 424, 425, 434, 435, 436, 437, 438, 439, 441,
};

static u64 arg(void) {
	unsigned char s = next();
	switch (s & 31) {
	case 0: return 0;
	case 1: return (u64)-1;
	case 2: return 1;
	case 3: return 0x7fffffff;
	case 4: return 4096;
	case 5: return 0x7ffffffff000UL;
	case 6: return 0x800000000000UL;
	case 7: return 0xffff800000000000UL;
	case 8: return (u64)buf;
	case 9: return (u64)buf + 4096;
	case 10: return (u64)buf + sizeof buf - 8;
	case 11: return (u64)path;
	case 12: return (u64)dpath;
	case 13: return (u64)(s >> 5); /* a descriptor 0-7 */
	case 14: return 3 + (s >> 5);
	case 15: return (u64)-100; /* AT_FDCWD */
	case 16: return 0x1000;
	case 17: return 0x10000;
	case 18: return (u64)script;
	case 19: return 0x400000;
	case 20: return (u64)1 << (s >> 2 & 63);
	case 21: return 0xfffffffffffff000UL;
	case 22: return (u64)buf + (s >> 5) * 512;
	default: return next64();
	}
}

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	long n;
	while (len < sizeof script && (n = sc6(0, 0, (i64)script + len, sizeof script - len, 0, 0, 0)) > 0)
		len += n;
	while (pos < len) {
		unsigned char c = next();
		i64 nr = c < sizeof calls / sizeof calls[0] ? calls[c] : (i64)(c * 2 + next()) % 460;
		if (nr == 60 || nr == 231 || nr == 34 || nr == 130)
			continue; /* exit, exit_group: only at the end; pause, rt_sigsuspend: would wait */
		u64 a[6];
		for (int i = 0; i < 6; i++)
			a[i] = arg();
		sc6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
	return 0;
}
