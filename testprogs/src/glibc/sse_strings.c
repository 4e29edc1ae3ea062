/* sse_strings: glibc's string and memory routines over many lengths and alignments. With
   SSE2, SSSE3 and SSE4.2 in CPUID (and no AVX), glibc's ifunc resolvers pick their SSE2,
   SSSE3 and SSE4.x variants (strlen, strchr, strrchr, memchr, strcmp, strncmp, memcmp,
   memcpy, memmove, memset, strcpy, strstr, strspn, strcspn ...), so this exercises the SSE
   unit as real programs do. Prints one checksum line per routine. */
#include <stdio.h>
#include <string.h>

static unsigned char a[1024 + 64], b[1024 + 64];

static unsigned long mix(unsigned long h, long v) { return (h ^ (unsigned long)v) * 0x100000001b3UL; }

static void fill(unsigned char *p, int n, int seed) {
	for (int i = 0; i < n; i++) p[i] = (unsigned char)('a' + (i * 7 + seed) % 23);
}

int main(void) {
	unsigned long h[16] = {0};
	for (int off = 0; off < 32; off++)
		for (int len = 0; len < 300; len += (len < 40 ? 1 : 13)) {
			fill(a, 1088, off);
			fill(b, 1088, off);
			char *s = (char *)a + off, *t = (char *)b + (off * 5) % 32;
			s[len] = 0;
			memcpy(t, s, (size_t)len + 1);
			h[0] = mix(h[0], (long)strlen(s));
			h[1] = mix(h[1], strchr(s, 'k') ? strchr(s, 'k') - s : -1);
			h[2] = mix(h[2], strrchr(s, 'c') ? strrchr(s, 'c') - s : -1);
			h[3] = mix(h[3], memchr(s, 'q', (size_t)len) ? (char *)memchr(s, 'q', (size_t)len) - s : -1);
			h[4] = mix(h[4], strcmp(s, t));
			if (len > 0) t[len - 1] ^= 1;
			h[5] = mix(h[5], strcmp(s, t) > 0 ? 1 : strcmp(s, t) < 0 ? -1 : 0);
			h[6] = mix(h[6], strncmp(s, t, (size_t)len / 2) != 0);
			h[7] = mix(h[7], memcmp(s, t, (size_t)len) > 0 ? 1 : memcmp(s, t, (size_t)len) < 0 ? -1 : 0);
			memmove(t + 3, t, (size_t)len);
			memset(t + len / 3, 'Z', (size_t)len / 4);
			h[8] = mix(h[8], (long)strlen(t));
			strcpy((char *)b + 600, s);
			h[9] = mix(h[9], (long)strlen((char *)b + 600));
			h[10] = mix(h[10], strstr(s, "hov") ? strstr(s, "hov") - s : -1);
			h[11] = mix(h[11], (long)strspn(s, "abcdefgh"));
			h[12] = mix(h[12], (long)strcspn(s, "xyzw"));
			h[13] = mix(h[13], strpbrk(s, "uvw") ? strpbrk(s, "uvw") - s : -1);
			h[14] = mix(h[14], (long)strnlen(s, (size_t)len / 2 + 1));
			for (int i = 0; i < len + 8; i++) h[15] = mix(h[15], b[i]);
		}
	static const char *names[16] = {"strlen", "strchr", "strrchr", "memchr", "strcmp", "strcmp2",
					 "strncmp", "memcmp", "memmove+memset", "strcpy", "strstr", "strspn",
					 "strcspn", "strpbrk", "strnlen", "bytes"};
	for (int i = 0; i < 16; i++) printf("%-15s %016lx\n", names[i], h[i]);
	return 0;
}
