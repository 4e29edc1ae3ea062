/* icase_sse.h: shared helpers of the SSE instruction-case programs (icase_sse_*.c).
   Output is buffered and written in large pieces; each case prints one line of hex, and
   the program ends with "cases: N". The first argument names the instruction-set
   extensions the host has ("sse3,ssse3,sse4_1,sse4_2", as /proc/cpuinfo spells them); cases
   needing a missing one are skipped and the skip is printed. */
#ifndef ICASE_SSE_H
#define ICASE_SSE_H

#include "sys.h"

typedef long long v2di __attribute__((vector_size(16)));
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

static char obuf[1 << 16];
static u64 olen;
static u64 ncases;

static __attribute__((unused)) void flush(void) {
	u64 off = 0;
	while (off < olen) {
		i64 n = sys_write(1, obuf + off, olen - off);
		if (n <= 0) sys_exit(2);
		off += (u64)n;
	}
	olen = 0;
}

static __attribute__((unused)) void out_c(char c) {
	if (olen == sizeof obuf) flush();
	obuf[olen++] = c;
}

static __attribute__((unused)) void out_s(const char *s) {
	while (*s) out_c(*s++);
}

static __attribute__((unused)) void out_hex(u64 v, int digits) {
	for (int i = digits - 1; i >= 0; i--) out_c("0123456789abcdef"[(v >> (4 * i)) & 15]);
}

static __attribute__((unused)) void out_dec(u64 v) {
	char b[24];
	int i = 0;
	do {
		b[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i) out_c(b[--i]);
}

static __attribute__((unused)) void out_vec(v2di v) {
	out_hex((u64)v[1], 16);
	out_c('_');
	out_hex((u64)v[0], 16);
}

/* A case line: "name args... : results". */
static __attribute__((unused)) void case_begin(const char *name) {
	out_s(name);
}

static __attribute__((unused)) void case_end(void) {
	out_c('\n');
	ncases++;
}

static __attribute__((unused)) void sp_hex(u64 v, int digits) {
	out_c(' ');
	out_hex(v, digits);
}

/* Extensions: bit per feature. */
enum { F_SSE3 = 1, F_SSSE3 = 2, F_SSE41 = 4, F_SSE42 = 8 };
static unsigned have = F_SSE3 | F_SSSE3 | F_SSE41 | F_SSE42;
static unsigned skipped;

static __attribute__((unused)) int has_word(const char *list, const char *w) {
	for (const char *p = list; *p;) {
		const char *q = w;
		const char *s = p;
		while (*q && *s == *q) s++, q++;
		if (!*q && (*s == ',' || !*s)) return 1;
		while (*p && *p != ',') p++;
		if (*p == ',') p++;
	}
	return 0;
}

static __attribute__((unused)) void parse_features(int argc, char **argv) {
	if (argc < 2) return;
	have = 0;
	if (has_word(argv[1], "sse3")) have |= F_SSE3;
	if (has_word(argv[1], "ssse3")) have |= F_SSSE3;
	if (has_word(argv[1], "sse4_1")) have |= F_SSE41;
	if (has_word(argv[1], "sse4_2")) have |= F_SSE42;
}

/* need reports whether the cases of feature f may run, remembering skipped ones. */
static __attribute__((unused)) int need(unsigned f) {
	if ((have & f) == f) return 1;
	skipped |= f;
	return 0;
}

static __attribute__((unused)) void finish(void) {
	if (skipped) {
		out_s("skipped (host lacks):");
		if (skipped & F_SSE3) out_s(" sse3");
		if (skipped & F_SSSE3) out_s(" ssse3");
		if (skipped & F_SSE41) out_s(" sse4_1");
		if (skipped & F_SSE42) out_s(" sse4_2");
		out_c('\n');
	}
	out_s("cases: ");
	out_dec(ncases);
	out_c('\n');
	flush();
}

static __attribute__((unused)) inline v2di vec2(u64 lo, u64 hi) {
	v2di v = {(long long)lo, (long long)hi};
	return v;
}

static __attribute__((unused)) inline v2di vec4(u32 a, u32 b, u32 c, u32 d) {
	return vec2((u64)a | (u64)b << 32, (u64)c | (u64)d << 32);
}

#endif
