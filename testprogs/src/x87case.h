/* x87case.h: helpers for the x87 instruction-case programs (icase_x87_*.c): an output
   buffer, hex printing of 80-bit values and status words, and the edge values the cases
   run over. Only integer C and inline x87 assembly: no float or double (they would use
   SSE), so the programs run on an emulator without SSE. */
#ifndef X87CASE_H
#define X87CASE_H

/* Keep the compiler from using SSE for copies and clears (the emulated CPU may not have
   it; these programs test the x87). */
#pragma GCC target("no-sse")

#include "sys.h"

typedef unsigned short u16;
typedef unsigned int u32;

/* An 80-bit extended value as it lies in memory (padded to 16 bytes). */
typedef struct {
	u64 m;
	u16 se;
	u16 pad[3];
} u80;

static char outbuf[1 << 16];
static u64 outlen;
static u64 ncases;

static inline void flush(void) {
	sys_write(1, outbuf, outlen);
	outlen = 0;
}

static inline void out(const char *s) {
	while (*s) {
		if (outlen == sizeof outbuf) flush();
		outbuf[outlen++] = *s++;
	}
}

static inline void outhex(u64 v, int digits) {
	char b[17];
	for (int i = digits - 1; i >= 0; i--) {
		b[i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	}
	b[digits] = 0;
	out(b);
}

static inline void outdec(u64 v) {
	char b[24];
	int i = sizeof b;
	b[--i] = 0;
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out(b + i);
}

/* out80 prints an 80-bit value as 20 hex digits: sign+exponent, then the significand. */
static inline void out80(const u80 *v) {
	outhex(v->se, 4);
	outhex(v->m, 16);
}

/* finish prints the case count and flushes. */
static inline int finish(void) {
	out("cases: ");
	outdec(ncases);
	out("\n");
	flush();
	return 0;
}

#define V(se, m) {(m), (se), {0, 0, 0}}

/* Edge values: zeros, ones, fractions, extremes, denormals, pseudo-denormals, unnormals,
   infinities, NaNs with payloads, the real indefinite, rounding-boundary significands. */
__attribute__((unused)) static const u80 edge[] = {
	V(0x0000, 0),                     /* +0 */
	V(0x8000, 0),                     /* -0 */
	V(0x3fff, 0x8000000000000000ULL), /* 1 */
	V(0xbfff, 0x8000000000000000ULL), /* -1 */
	V(0x3fff, 0xc000000000000000ULL), /* 1.5 */
	V(0x4000, 0xc000000000000000ULL), /* 3 */
	V(0x4002, 0xa000000000000000ULL), /* 10 */
	V(0x3ffd, 0xaaaaaaaaaaaaaaabULL), /* 1/3 */
	V(0x4000, 0xc90fdaa22168c235ULL), /* pi */
	V(0xc00a, 0xf4c0000000000000ULL), /* -1958 */
	V(0x3fff, 0x8000008000000000ULL), /* 1 + 2^-24: a tie at 24 bits */
	V(0x3fff, 0x8000000000000400ULL), /* 1 + 2^-53: a tie at 53 bits */
	V(0x3fff, 0xffffffffffffffffULL), /* 2 - 2^-63 */
	V(0x3ffe, 0x8000018000000001ULL), /* rounding bits set at 24 and below */
	V(0x7ffe, 0xffffffffffffffffULL), /* largest finite */
	V(0x0001, 0x8000000000000000ULL), /* smallest normal */
	V(0x0000, 0x0000000000000001ULL), /* smallest denormal */
	V(0x8000, 0x4000000000000000ULL), /* -denormal */
	V(0x0000, 0x8000000000000001ULL), /* pseudo-denormal */
	V(0x4000, 0x4000000000000000ULL), /* unnormal */
	V(0x7fff, 0x8000000000000000ULL), /* +inf */
	V(0xffff, 0x8000000000000000ULL), /* -inf */
	V(0x7fff, 0xc000000000000123ULL), /* QNaN with payload */
	V(0xffff, 0x8000000000000456ULL), /* SNaN with payload */
	V(0xffff, 0xc000000000000000ULL), /* real indefinite */
	V(0x7fff, 0x4000000000000000ULL), /* pseudo-NaN */
	V(0x403e, 0xfffffffffffffffeULL), /* 2^64 - 2 */
	V(0x401d, 0xc000000000000000ULL), /* 1.5 * 2^30 */
	V(0xbffe, 0xc000000000000000ULL), /* -0.75 */
	V(0x3ffe, 0x8000000000000000ULL), /* 0.5 */
};
#define NEDGE (sizeof edge / sizeof edge[0])

/* Finite nonzero values for the precision and rounding sweeps. */
__attribute__((unused)) static const u80 finite[] = {
	V(0x3fff, 0x8000000000000000ULL), V(0x4000, 0xc000000000000000ULL),
	V(0x3ffd, 0xaaaaaaaaaaaaaaabULL), V(0x4000, 0xc90fdaa22168c235ULL),
	V(0xbfff, 0x8000008000000000ULL), V(0x3fff, 0x8000000000000400ULL),
	V(0xc005, 0xd9b1e3a5c07f1123ULL), V(0x3ffe, 0x8000018000000001ULL),
	V(0x7ffe, 0xf000000000000000ULL), V(0x0002, 0x8000000000000003ULL),
	V(0x3fbf, 0xffffffffffffffffULL),
};
#define NFINITE (sizeof finite / sizeof finite[0])

/* Control words: all exceptions masked, each precision and rounding control. */
__attribute__((unused)) static const u16 pcs[] = {0x0000, 0x0200, 0x0300};
__attribute__((unused)) static const u16 rcs[] = {0x0000, 0x0400, 0x0800, 0x0c00};

#endif
