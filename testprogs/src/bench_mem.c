/* bench_mem: a memory-heavy workload for timing the emulator's loads, stores and TLB: a
   sieve of Eratosthenes over a 4 MiB byte array, random updates of a 2 MiB hash table,
   chasing a shuffled linked list through 1 MiB of nodes, and block copies, repeated N
   times (argv[1], default 1). The arrays live in the BSS, so the first pass also takes the
   demand-zero page faults. Prints a checksum. */
#pragma GCC target("general-regs-only")
#include "sys.h"

#define SIEVE (4u << 20)
#define TABLE (1u << 18) /* 2 MiB of u64 */
#define NODES (1u << 16) /* 16-byte nodes: 1 MiB */

static unsigned char sieve[SIEVE];
static u64 table[TABLE];
static struct node { struct node *next; u64 val; } nodes[NODES];
static u64 copybuf[2][1 << 15];

static u64 rng = 0x9e3779b97f4a7c15UL;
static u64 xorshift(void) {
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static u64 parse(const char *s) {
	u64 v = 0;
	while (*s >= '0' && *s <= '9') v = v * 10 + (u64)(*s++ - '0');
	return v;
}

int main(int argc, char **argv, char **envp) {
	(void)envp;
	u64 rounds = argc > 1 ? parse(argv[1]) : 1;
	u64 sum = 0;
	/* A random cyclic order of the nodes. */
	static unsigned order[NODES];
	for (unsigned i = 0; i < NODES; i++) order[i] = i;
	for (unsigned i = NODES - 1; i > 0; i--) {
		unsigned j = (unsigned)(xorshift() % (i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (unsigned i = 0; i < NODES; i++) {
		nodes[order[i]].next = &nodes[order[(i + 1) % NODES]];
		nodes[order[i]].val = i;
	}
	for (u64 r = 0; r < rounds; r++) {
		for (u64 i = 0; i < SIEVE; i++) sieve[i] = 1;
		sieve[0] = sieve[1] = 0;
		for (u64 i = 2; i * i < SIEVE; i++)
			if (sieve[i])
				for (u64 j = i * i; j < SIEVE; j += i) sieve[j] = 0;
		u64 primes = 0;
		for (u64 i = 0; i < SIEVE; i++) primes += sieve[i];
		sum += primes;
		for (u64 k = 0; k < 1000000; k++) {
			u64 x = xorshift();
			table[x & (TABLE - 1)] += x >> 32;
		}
		for (u64 i = 0; i < TABLE; i += 64) sum ^= table[i];
		struct node *n = &nodes[0];
		for (u64 k = 0; k < 1000000; k++) {
			sum += n->val;
			n = n->next;
		}
		for (int k = 0; k < 16; k++) {
			u64 *src = copybuf[k & 1], *dst = copybuf[!(k & 1)];
			for (unsigned i = 0; i < (1 << 15); i++) dst[i] = src[i] + (u64)i;
		}
		sum += copybuf[0][12345];
	}
	put_str("bench_mem checksum ");
	put_hex(sum);
	put_str("\n");
	return 0;
}
