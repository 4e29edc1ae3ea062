/* bench_int: a CPU-bound integer workload for timing the emulator: a xorshift generator,
   FNV-1a hashing, insertion sort of small arrays, Euclid's GCD, Collatz chains and bit
   counting, repeated N times (argv[1], default 20). Prints a checksum, the same natively
   and emulated. Integer instructions only (general-regs-only), so it runs before the SSE
   work lands; drop the pragma to time compiler-chosen SSE code too. */
#pragma GCC target("general-regs-only")
#include "sys.h"

static u64 rng = 88172645463325252UL;

static u64 xorshift(void) {
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static u64 fnv(const unsigned char *p, u64 n) {
	u64 h = 1469598103934665603UL;
	for (u64 i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211UL;
	return h;
}

static void isort(u64 *a, int n) {
	for (int i = 1; i < n; i++) {
		u64 v = a[i];
		int j = i - 1;
		while (j >= 0 && a[j] > v) {
			a[j + 1] = a[j];
			j--;
		}
		a[j + 1] = v;
	}
}

static u64 gcd(u64 a, u64 b) {
	while (b) {
		u64 t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static u64 collatz(u64 n) {
	u64 steps = 0;
	while (n != 1) {
		n = (n & 1) ? 3 * n + 1 : n >> 1;
		steps++;
	}
	return steps;
}

static u64 popcount(u64 v) {
	u64 c = 0;
	while (v) {
		v &= v - 1;
		c++;
	}
	return c;
}

static u64 parse(const char *s) {
	u64 v = 0;
	while (*s >= '0' && *s <= '9') v = v * 10 + (u64)(*s++ - '0');
	return v;
}

int main(int argc, char **argv, char **envp) {
	(void)envp;
	u64 rounds = argc > 1 ? parse(argv[1]) : 20;
	u64 sum = 0;
	u64 arr[48];
	unsigned char buf[256];
	for (u64 r = 0; r < rounds; r++) {
		for (int k = 0; k < 200; k++) {
			for (int i = 0; i < 48; i++) arr[i] = xorshift() % 100000;
			isort(arr, 48);
			sum += arr[0] + arr[47] * 3;
			for (int i = 0; i < 256; i++) buf[i] = (unsigned char)xorshift();
			sum ^= fnv(buf, sizeof buf);
			sum += gcd(xorshift() % 1000000 + 1, xorshift() % 1000000 + 1);
			sum += collatz(xorshift() % 100000 + 1);
			sum += popcount(xorshift());
		}
	}
	put_str("bench_int checksum ");
	put_hex(sum);
	put_str("\n");
	return 0;
}
