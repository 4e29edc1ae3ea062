/* bss_sum: a loop that fills and sums a 1 MiB array in .bss. Every one of its 256 pages
   starts as a demand-zero fault; the first loop checks the pages read as zero. */
#include "sys.h"

#define N (1 << 17) /* 131072 u64 = 1 MiB */
static u64 table[N];

int main(int argc, char **argv, char **envp) {
	(void)argv, (void)envp;
	u64 zeros = 0;
	for (u64 i = 0; i < N; i++)
		zeros += table[i] == 0;
	for (u64 i = 0; i < N; i++)
		table[i] = i * (u64)argc + (i >> 3);
	u64 sum = 0;
	for (u64 i = 0; i < N; i += 7)
		sum += table[i] ^ (sum << 1);
	put_str("zero words: ");
	put_u64(zeros);
	put_str("\nsum: ");
	put_u64(sum);
	put_str("\n");
	return (int)(sum & 0x3f);
}
