/* vm_sparse: an 8 GiB MAP_NORESERVE mapping costs only the pages touched. One byte is
   written every 256 MiB (32 pages in all); mincore reports exactly those pages resident.
   The emulator's test checks the frames it used. */
#include "vm.h"

#define SIZE (8UL << 30)
#define STRIDE (256UL << 20)

static unsigned char vec[(STRIDE / PAGE)];

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	unsigned char *p = sys_mmap(0, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (MAP_FAILED_(p))
		fail("mmap 8 GiB");
	/* No transparent huge pages: one touched byte must make one resident page natively too. */
	sys_madvise(p, SIZE, MADV_NOHUGEPAGE);
	u64 touched = 0;
	for (u64 off = 0; off < SIZE; off += STRIDE) {
		p[off + 123] = (unsigned char)(off >> 28);
		touched++;
	}
	u64 sum = 0;
	for (u64 off = 0; off < SIZE; off += STRIDE)
		sum += p[off + 123];
	put_str("touched ");
	put_u64(touched);
	put_str(" pages, sum ");
	put_u64(sum);
	put_str("\n");
	/* mincore over the first 256 MiB: only its first page is in memory. */
	u64 resident = 0;
	say("mincore", sys_mincore(p, STRIDE, vec));
	for (u64 i = 0; i < sizeof vec; i++)
		resident += vec[i] & 1;
	put_str("resident in the first 256 MiB: ");
	put_u64(resident);
	put_str("\n");
	say("munmap", sys_munmap(p, SIZE));
	return 0;
}
