/* icase_sse_str: the SSE4.2 string compares PCMPISTRI, PCMPISTRM, PCMPESTRI and PCMPESTRM
   under every imm8 control value that matters (bits 6:0: data format, aggregation,
   polarity, output selection), on pairs of string fragments built to exercise each
   aggregation (character sets, ranges, string equality, substring search, signed words,
   empty and full fragments), and for the explicit-length forms on lengths that are zero,
   short, full, negative and saturating. Each case prints the index (ECX) or mask (XMM0) and
   the flags CF ZF SF OF (and PF, AF through the cleared PF). */
#include "icase_sse.h"

struct pair {
	const char *what;
	u8 a[16], b[16];
};

static const struct pair pairs[] = {
	{"set", "aeiou", "hello, world!xyz"},
	{"ranges", "azAZ09", "Hi There, 42 go!"},
	{"substring", "wor", "hello world wor\0"},
	{"equal", "abcdefghijklmnop", "abcdefghijkXmnop"},
	{"empty", "", "abc"},
	{"full", "0123456789abcdef", "fedcba9876543210"},
	{"signed", {0x80, 0xff, 0x7f, 0x01, 0xfe, 0x80, 0x00, 0x80, 0x01, 0x00, 0xff, 0x7f, 0x02, 0x00, 0x00, 0x00},
	 {0x00, 0x80, 0x01, 0x80, 0xff, 0x7f, 0xfe, 0xff, 0x02, 0x00, 0x03, 0x00, 0x7f, 0x80, 0x05, 0x00}},
};

static const i64 lens[] = {0, 3, 8, 16, -5, 100, -100, 0x80000000LL, 7, 17};

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct res {
	u64 idx;
	v2di mask;
	u32 flags;
};

/* One asm block per imm8 value: the control byte is an immediate. */
#define FLAGS_OUT "\n\tsetc %b[cf]\n\tsetz %b[zf]\n\tsets %b[sf]\n\tseto %b[of]\n\tsetp %b[pf]"
#define ISTRI(imm)                                                                             \
	case imm:                                                                              \
		__asm__ volatile("cmp %%eax, %%eax\n\tpcmpistri $" #imm ", %[b], %[a]" FLAGS_OUT  \
				 : "=c"(idx), [cf] "=q"(cf), [zf] "=q"(zf), [sf] "=q"(sf), [of] "=q"(of), \
				   [pf] "=q"(pf)                                               \
				 : [a] "x"(a), [b] "x"(b)                                      \
				 : "cc");                                                      \
		break;
#define ISTRM(imm)                                                                             \
	case imm:                                                                              \
		__asm__ volatile("cmp %%eax, %%eax\n\tpcmpistrm $" #imm ", %[b], %[a]" FLAGS_OUT  \
				 : "=Yz"(m), [cf] "=q"(cf), [zf] "=q"(zf), [sf] "=q"(sf), [of] "=q"(of), \
				   [pf] "=q"(pf)                                               \
				 : [a] "x"(a), [b] "m"(b)                                      \
				 : "cc");                                                      \
		break;
#define ESTRI(imm)                                                                             \
	case imm:                                                                              \
		__asm__ volatile("cmp %%eax, %%eax\n\tpcmpestri $" #imm ", %[b], %[a]" FLAGS_OUT  \
				 : "=c"(idx), [cf] "=q"(cf), [zf] "=q"(zf), [sf] "=q"(sf), [of] "=q"(of), \
				   [pf] "=q"(pf)                                               \
				 : [a] "x"(a), [b] "m"(b), "a"(la), "d"(lb)                    \
				 : "cc");                                                      \
		break;
#define ESTRM(imm)                                                                             \
	case imm:                                                                              \
		__asm__ volatile("cmp %%eax, %%eax\n\tpcmpestrm $" #imm ", %[b], %[a]" FLAGS_OUT  \
				 : "=Yz"(m), [cf] "=q"(cf), [zf] "=q"(zf), [sf] "=q"(sf), [of] "=q"(of), \
				   [pf] "=q"(pf)                                               \
				 : [a] "x"(a), [b] "x"(b), "a"(la), "d"(lb)                    \
				 : "cc");                                                      \
		break;

#define R8(X, b) X(b + 0) X(b + 1) X(b + 2) X(b + 3) X(b + 4) X(b + 5) X(b + 6) X(b + 7)
#define R128(X)                                                                                \
	R8(X, 0) R8(X, 8) R8(X, 16) R8(X, 24) R8(X, 32) R8(X, 40) R8(X, 48) R8(X, 56) R8(X, 64) \
	R8(X, 72) R8(X, 80) R8(X, 88) R8(X, 96) R8(X, 104) R8(X, 112) R8(X, 120)

static struct res run(int kind, int imm, v2di a, v2di b, i64 la, i64 lb) {
	u64 idx = 0;
	v2di m = {0, 0};
	u8 cf = 0, zf = 0, sf = 0, of = 0, pf = 0;
	switch (kind) {
	case 0:
		switch (imm) { R128(ISTRI) }
		break;
	case 1:
		switch (imm) { R128(ISTRM) }
		break;
	case 2:
		switch (imm) { R128(ESTRI) }
		break;
	default:
		switch (imm) { R128(ESTRM) }
		break;
	}
	struct res r = {idx, m, (u32)cf | (u32)pf << 2 | (u32)zf << 6 | (u32)sf << 7 | (u32)of << 11};
	return r;
}

static v2di load(const u8 *p) {
	u64 lo = 0, hi = 0;
	for (int i = 0; i < 8; i++) {
		lo |= (u64)p[i] << (8 * i);
		hi |= (u64)p[8 + i] << (8 * i);
	}
	return vec2(lo, hi);
}

int main(int argc, char **argv, char **envp) {
	(void)envp;
	parse_features(argc, argv);
	static const char *names[] = {"pcmpistri", "pcmpistrm", "pcmpestri", "pcmpestrm"};
	if (need(F_SSE42))
		for (int kind = 0; kind < 4; kind++)
			for (u64 p = 0; p < N(pairs); p++)
				for (int imm = 0; imm < 128; imm++) {
					/* Vary the explicit lengths with the case. */
					i64 la = lens[(imm + p) % N(lens)], lb = lens[(imm / 3 + 2 * p + kind) % N(lens)];
					v2di a = load(pairs[p].a), b = load(pairs[p].b);
					struct res r = run(kind, imm, a, b, la, lb);
					case_begin(names[kind]);
					out_c(' ');
					out_s(pairs[p].what);
					sp_hex((u64)imm, 2);
					if (kind >= 2) {
						sp_hex((u64)la, 16);
						sp_hex((u64)lb, 16);
					}
					out_s(" :");
					if (kind & 1) {
						out_c(' ');
						out_vec(r.mask);
					} else {
						sp_hex(r.idx, 8);
					}
					out_s(" flags");
					sp_hex(r.flags, 3);
					case_end();
				}
	finish();
	return 0;
}
