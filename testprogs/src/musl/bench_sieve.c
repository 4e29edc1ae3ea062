/* bench_sieve: a sieve of Eratosthenes over a byte array of N MiB (argv[1], default 50),
   allocated with malloc, so the emulator takes its demand-zero faults and walks its page
   tables. Prints the number of primes below N MiB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
	size_t n = (argc > 1 ? strtoul(argv[1], 0, 10) : 50) << 20;
	unsigned char *s = malloc(n);
	if (!s)
		return 1;
	memset(s, 1, n);
	s[0] = s[1] = 0;
	for (size_t i = 2; i * i < n; i++)
		if (s[i])
			for (size_t j = i * i; j < n; j += i)
				s[j] = 0;
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += s[i];
	printf("bench_sieve primes below %zu: %zu\n", n, count);
	return 0;
}
