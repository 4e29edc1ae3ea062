/* bench_loop: the integer ALU and branch loop of the speed benchmarks (issue 13): a xorshift
   generator feeding adds, multiplies, shifts, rotates and data-dependent branches, N million
   iterations (argv[1], default 100). Prints a checksum, the same natively and emulated. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
	unsigned long n = (argc > 1 ? strtoul(argv[1], 0, 10) : 100) * 1000000UL;
	unsigned long x = 88172645463325252UL, a = 0, b = 1, c = 0;
	for (unsigned long i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (x & 1)
			a += x >> 3;
		else
			b ^= x * 3;
		if ((x & 0x30) == 0x10)
			c += (a >> 5) | (b << 59);
		c = (c << 1 | c >> 63) + i;
	}
	printf("bench_loop checksum %lx\n", a ^ b ^ c);
	return 0;
}
