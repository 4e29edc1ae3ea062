/* icase.h: helpers for the instruction-case programs (icase_*.c). Each program executes
   instructions with chosen operands and flags, and prints one line per case: the operands,
   the result and the flags the SDM defines for that instruction (undefined ones masked),
   so its output is the same on any x86-64 processor and must be the same on the emulator.
   The last line is "cases: N".

   Output is buffered and written in large chunks. Inline assembly that sets the flags with
   POPF first moves RSP below the 128-byte red zone, so the compiler's locals stay intact. */
#ifndef ICASE_H
#define ICASE_H

/* Integer instructions only: the compiler must not bring in SSE for copies or constants. */
#pragma GCC target("general-regs-only")

#include "sys.h"

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;

#define CF 0x001UL
#define PF 0x004UL
#define AF 0x010UL
#define ZF 0x040UL
#define SF 0x080UL
#define DF 0x400UL
#define OF 0x800UL
#define ARITH (CF | PF | AF | ZF | SF | OF)

/* The two flag images every case starts from: all arithmetic flags clear, and all set. */
#define FLAGS0 0x202UL
#define FLAGS1 (0x202UL | ARITH)

/* FLAGS_AROUND wraps an instruction: load RFLAGS from %[f], run it, store RFLAGS in %[f]. */
#define FLAGS_AROUND(body) \
	"lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopfq\n\t" body "\n\tpushfq\n\tpop %[f]\n\tlea 128(%%rsp), %%rsp"

static char obuf[1 << 16];
static u64 olen, ncases;

static void flush(void) {
	u64 off = 0;
	while (off < olen) {
		i64 n = sys_write(1, obuf + off, olen - off);
		if (n <= 0) sys_exit(99);
		off += (u64)n;
	}
	olen = 0;
}

static void out_c(char c) {
	if (olen == sizeof obuf) flush();
	obuf[olen++] = c;
}

static void out_s(const char *s) {
	while (*s) out_c(*s++);
}

static void out_x(u64 v) {
	char buf[16];
	int i = 0;
	out_s("0x");
	do {
		buf[i++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	while (i) out_c(buf[--i]);
}

static void out_u(u64 v) {
	char buf[24];
	int i = 0;
	do {
		buf[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i) out_c(buf[--i]);
}

/* out_flags prints the flags in mask as letters (upper case when set): "cPaZsO". */
static void out_flags(u64 f, u64 mask) {
	static const struct { u64 bit; char c; } names[] = {
		{CF, 'c'}, {PF, 'p'}, {AF, 'a'}, {ZF, 'z'}, {SF, 's'}, {DF, 'd'}, {OF, 'o'}};
	out_c(' ');
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(mask & names[i].bit)) continue;
		out_c((f & names[i].bit) ? (char)(names[i].c - 32) : names[i].c);
	}
}

/* begin starts a case line with the instruction's name. */
static void begin(const char *name) {
	ncases++;
	out_s(name);
}

static void arg(u64 v) {
	out_c(' ');
	out_x(v);
}

static void end(void) { out_c('\n'); }

static int finish(void) {
	out_s("cases: ");
	out_u(ncases);
	out_c('\n');
	flush();
	return 0;
}

static u64 size_mask(int size) { return size == 8 ? ~0UL : (1UL << (size * 8)) - 1; }

/* Edge values of an operand of size bytes: zero, one, the sign boundaries, all ones and a
   couple of mixed patterns. */
static const u64 edge_src[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
	0x7fffffff, 0x80000000, 0xffffffff, 0x7fffffffffffffff, 0x8000000000000000,
	0xffffffffffffffff, 0x5a5a5a5a5a5a5a5a, 0xa5c3e1f0f1e3c5a7};

/* edges fills out with n distinct edge values for size and returns n. */
__attribute__((unused)) static int edges(int size, u64 *out, int max) {
	int n = 0;
	for (unsigned i = 0; i < sizeof edge_src / sizeof edge_src[0] && n < max; i++) {
		u64 v = edge_src[i] & size_mask(size);
		int dup = 0;
		for (int j = 0; j < n; j++) dup |= out[j] == v;
		if (!dup) out[n++] = v;
	}
	return n;
}

#endif
