/* icase_mmx_state: the MMX registers as the x87 registers, and the MMX instructions that
   move data between MMX, general-purpose and XMM registers and memory.

   - Aliasing (SDM Vol. 3A, Table 12-1): from an x87 state with TOP = 5 and some empty
     registers (FRSTOR), one MMX instruction runs, then FXSAVE and FNSAVE store the state:
     each case prints TOP and the status word, the full tag word FNSAVE computes from the
     registers' contents, FXSAVE's abridged tags, and the sign/exponent and significand of
     R0-R7, so what the instruction did to TOP, the tags and the exponents shows.
   - The x87 stack after MMX code, with and without EMMS.
   - MOVD/MOVQ to and from general-purpose registers (zero extension), MOVQ2DQ, MOVDQ2Q.
   - The conversions CVTPI2PS, CVTPI2PD, CVT(T)PS2PI, CVT(T)PD2PI in every rounding mode,
     with the MXCSR flags they raise.
   - PEXTRW and PINSRW with every immediate, PMOVMSKB, MASKMOVQ and MOVNTQ.

   CVTPI2PS with a memory source is left out: the SDM says it makes the transition to MMX
   state, the AMD hosts do not (the emulator follows the SDM; cpu/mmx_test.go checks it).
   The first argument lists the host's extensions as in the icase_sse programs. */
#include "icase_sse.h"

/* Operands and results, referenced by name from the asm statements. */
static u8 env_in[108] __attribute__((used));
static u8 sv[108] __attribute__((used));
static u8 fx[512] __attribute__((used, aligned(16)));
static u64 m_in __attribute__((used, aligned(16)));
static u64 m_in2 __attribute__((used));
static u64 m_out __attribute__((used));
static u64 g_in __attribute__((used));
static u64 g_out __attribute__((used));
static v2di x_in __attribute__((used));
static v2di x_out __attribute__((used));
static u8 buf[32] __attribute__((used, aligned(16)));

static void put16(u8 *p, u32 v) {
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}
static void put64(u8 *p, u64 v) {
	for (int i = 0; i < 8; i++) p[i] = (u8)(v >> (8 * i));
}
static u64 get64(const u8 *p) {
	u64 v = 0;
	for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
	return v;
}
static u32 get16(const u8 *p) { return (u32)p[0] | (u32)p[1] << 8; }

/* The starting x87 state: TOP = 5, R0-R2 empty, R3-R7 holding values of every class. */
static void make_env(void) {
	static const struct {
		u64 mant;
		u32 se;
	} regs[8] = {
		{0x0123456789abcdefULL, 0x4001}, {0x8000000000000000ULL, 0x3fff}, {0xfedcba9876543210ULL, 0xc003},
		{0, 0}, {0xc000000000000000ULL, 0x7fff}, {0x0000000000000001ULL, 0},
		{0x8080808080808080ULL, 0xbffe}, {0x7fff7fff00010002ULL, 0x4010},
	};
	for (int i = 0; i < 108; i++) env_in[i] = 0;
	put16(env_in + 0, 0x037f);
	put16(env_in + 2, 0xffff);
	put16(env_in + 4, 5 << 11);
	put16(env_in + 6, 0xffff);
	put16(env_in + 8, 0x003f); /* R0-R2 empty; the rest tagged valid (the CPU retags) */
	put16(env_in + 10, 0xffff);
	for (int st = 0; st < 8; st++) {
		int p = (5 + st) & 7;
		put64(env_in + 28 + 10 * st, regs[p].mant);
		put16(env_in + 36 + 10 * st, regs[p].se);
	}
}

/* print_state prints the FNSAVE and FXSAVE images: status, tags, R0-R7 in physical order. */
static void print_state(void) {
	u32 fsw = get16(sv + 4), top = fsw >> 11 & 7;
	sp_hex(fsw, 4);
	sp_hex(get16(sv + 8), 4);
	sp_hex(fx[4], 2);
	sp_hex(get16(fx + 2), 4);
	for (u32 p = 0; p < 8; p++) {
		u32 st = (p - top) & 7;
		out_s(" R");
		out_hex(p, 1);
		out_c('=');
		out_hex(get16(sv + 36 + 10 * st), 4);
		out_c('_');
		out_hex(get64(sv + 28 + 10 * st), 16);
	}
}

/* An aliasing case: frstor, the instruction (operands in m_in, g_in, x_in -> xmm1),
   fxsave, fnsave; results in m_out, g_out (rcx), x_out (xmm0). */
#define ALIAS(fname, insn)                                                                     \
	static void fname(void) {                                                              \
		__asm__ volatile("movdqu x_in(%%rip), %%xmm1\n\t"                              \
				 "pxor %%xmm0, %%xmm0\n\t"                                     \
				 "mov g_in(%%rip), %%rax\n\t"                                  \
				 "mov $-1, %%rcx\n\t"                                          \
				 "frstor env_in(%%rip)\n\t" insn "\n\t"                        \
				 "fxsave fx(%%rip)\n\t"                                        \
				 "fnsave sv(%%rip)\n\t"                                        \
				 "movdqu %%xmm0, x_out(%%rip)\n\t"                             \
				 "mov %%rcx, g_out(%%rip)\n\t"                                 \
				 "emms"                                                        \
				 :                                                             \
				 :                                                             \
				 : "rax", "rcx", "rdi", "xmm0", "xmm1", "mm0", "mm1", "mm2", "mm3", \
				   "mm4", "mm5", "mm6", "mm7", "memory");                      \
	}

ALIAS(a_paddb, "paddb %%mm6, %%mm0")
ALIAS(a_movq_load, "movq m_in(%%rip), %%mm2")
ALIAS(a_movd_load, "movd %%eax, %%mm3")
ALIAS(a_movq_load64, "movq %%rax, %%mm4")
ALIAS(a_movd_store, "movd %%mm5, %%ecx")
ALIAS(a_movq_store64, "movq %%mm6, %%rcx")
ALIAS(a_movq_store, "movq %%mm7, m_out(%%rip)")
ALIAS(a_movntq, "movntq %%mm3, m_out(%%rip)")
ALIAS(a_movq_rr, "movq %%mm4, %%mm1")
ALIAS(a_pmovmskb, "pmovmskb %%mm6, %%ecx")
ALIAS(a_pextrw, "pextrw $3, %%mm7, %%ecx")
ALIAS(a_pinsrw, "pinsrw $2, %%eax, %%mm7")
ALIAS(a_movq2dq, "movq2dq %%mm5, %%xmm0")
ALIAS(a_movdq2q, "movdq2q %%xmm1, %%mm1")
ALIAS(a_cvtpi2ps, "cvtpi2ps %%mm7, %%xmm0")
ALIAS(a_cvtpi2pd, "cvtpi2pd %%mm7, %%xmm0")
ALIAS(a_cvtpi2pd_m, "cvtpi2pd m_in(%%rip), %%xmm0")
ALIAS(a_cvtps2pi, "cvtps2pi %%xmm1, %%mm0")
ALIAS(a_cvttpd2pi, "cvttpd2pi %%xmm1, %%mm2")
ALIAS(a_emms, "emms")
ALIAS(a_maskmovq, "lea buf(%%rip), %%rdi\n\tmaskmovq %%mm6, %%mm7")
ALIAS(a_psllw, "psllw $3, %%mm5")
ALIAS(a_pshufw, "pshufw $0x1b, %%mm4, %%mm4")
ALIAS(a_psrlq_m, "psrlq m_in(%%rip), %%mm3")
ALIAS(a_rexb, ".byte 0x41, 0x0f, 0xfc, 0xc1") /* paddb mm0, mm1 with REX.B: the B is ignored */
ALIAS(a_rexr, ".byte 0x44, 0x0f, 0x6f, 0xd1") /* movq mm2, mm1 with REX.R */
ALIAS(a_palignr, "palignr $3, %%mm6, %%mm7")
ALIAS(a_two, "movq %%mm3, %%mm4\n\tpaddw %%mm5, %%mm5")
ALIAS(a_fld_after, "paddb %%mm0, %%mm0\n\tfld1")
ALIAS(a_fld_emms, "paddb %%mm0, %%mm0\n\temms\n\tfld1")
ALIAS(a_none, "")

static const struct {
	const char *name;
	void (*fn)(void);
	int ssse3;
} aliases[] = {
	{"no instruction", a_none, 0},
	{"paddb mm0, mm6", a_paddb, 0},
	{"movq mm2, m64", a_movq_load, 0},
	{"movd mm3, eax", a_movd_load, 0},
	{"movq mm4, rax", a_movq_load64, 0},
	{"movd ecx, mm5", a_movd_store, 0},
	{"movq rcx, mm6", a_movq_store64, 0},
	{"movq m64, mm7", a_movq_store, 0},
	{"movntq m64, mm3", a_movntq, 0},
	{"movq mm1, mm4", a_movq_rr, 0},
	{"pmovmskb ecx, mm6", a_pmovmskb, 0},
	{"pextrw ecx, mm7, 3", a_pextrw, 0},
	{"pinsrw mm7, eax, 2", a_pinsrw, 0},
	{"movq2dq xmm0, mm5", a_movq2dq, 0},
	{"movdq2q mm1, xmm1", a_movdq2q, 0},
	{"cvtpi2ps xmm0, mm7", a_cvtpi2ps, 0},
	{"cvtpi2pd xmm0, mm7", a_cvtpi2pd, 0},
	{"cvtpi2pd xmm0, m64", a_cvtpi2pd_m, 0},
	{"cvtps2pi mm0, xmm1", a_cvtps2pi, 0},
	{"cvttpd2pi mm2, xmm1", a_cvttpd2pi, 0},
	{"emms", a_emms, 0},
	{"maskmovq mm7, mm6", a_maskmovq, 0},
	{"psllw mm5, 3", a_psllw, 0},
	{"pshufw mm4, mm4, 0x1b", a_pshufw, 0},
	{"psrlq mm3, m64", a_psrlq_m, 0},
	{"paddb mm0, mm1 (REX.B)", a_rexb, 0},
	{"movq mm2, mm1 (REX.R)", a_rexr, 0},
	{"palignr mm7, mm6, 3", a_palignr, 1},
	{"movq mm4, mm3; paddw mm5, mm5", a_two, 0},
	{"paddb mm0, mm0; fld1 (no emms: stack overflow)", a_fld_after, 0},
	{"paddb mm0, mm0; emms; fld1", a_fld_emms, 0},
};

static void aliasing(void) {
	static const u64 ins[][3] = {
		{0x0000000500000007ULL, 0xfffffffe80000001ULL, 0x40490fdb3fc00000ULL},
		{0x7fffffff80000000ULL, 0x0000000000001234ULL, 0xc0000000bf800000ULL},
	};
	for (u64 k = 0; k < sizeof aliases / sizeof aliases[0]; k++) {
		if (aliases[k].ssse3 && !need(F_SSSE3)) continue;
		for (u64 j = 0; j < 2; j++) {
			make_env();
			m_in = ins[j][0];
			g_in = ins[j][1];
			x_in = vec2(ins[j][2], 0x4000000000000000ULL);
			m_out = 0x5a5a5a5a5a5a5a5aULL;
			for (int i = 0; i < 32; i++) buf[i] = (u8)(0xa0 + i);
			aliases[k].fn();
			case_begin(aliases[k].name);
			out_s(" :");
			print_state();
			sp_hex(m_out, 16);
			sp_hex(g_out, 16);
			out_c(' ');
			out_vec(x_out);
			sp_hex(get64(buf), 16);
			case_end();
		}
	}
}

/* Conversions: MXCSR is set (rounding control, flags cleared), the conversion runs, the
   result and MXCSR are printed. */
static u32 mx_in, mx_out;
#define CONV(fname, load, insn, store)                                                         \
	static void fname(void) {                                                              \
		__asm__ volatile("ldmxcsr %[mi]\n\t" load "\n\t" insn "\n\t" store "\n\t"      \
				 "stmxcsr %[mo]\n\temms"                                       \
				 : [mo] "=m"(mx_out)                                           \
				 : [mi] "m"(mx_in)                                             \
				 : "xmm0", "xmm1", "mm0", "mm1", "memory");                    \
	}
CONV(c_cvtpi2ps, "movdqu x_in(%%rip), %%xmm0\n\tmovq m_in(%%rip), %%mm1", "cvtpi2ps %%mm1, %%xmm0",
     "movdqu %%xmm0, x_out(%%rip)")
CONV(c_cvtpi2pd, "movdqu x_in(%%rip), %%xmm0\n\tmovq m_in(%%rip), %%mm1", "cvtpi2pd %%mm1, %%xmm0",
     "movdqu %%xmm0, x_out(%%rip)")
CONV(c_cvtpi2pd_m, "movdqu x_in(%%rip), %%xmm0", "cvtpi2pd m_in(%%rip), %%xmm0", "movdqu %%xmm0, x_out(%%rip)")
CONV(c_cvtps2pi, "movdqu x_in(%%rip), %%xmm1", "cvtps2pi %%xmm1, %%mm0", "movq %%mm0, m_out(%%rip)")
CONV(c_cvttps2pi, "movdqu x_in(%%rip), %%xmm1", "cvttps2pi %%xmm1, %%mm0", "movq %%mm0, m_out(%%rip)")
CONV(c_cvtps2pi_m, "", "cvtps2pi m_in(%%rip), %%mm0", "movq %%mm0, m_out(%%rip)")
CONV(c_cvtpd2pi, "movdqu x_in(%%rip), %%xmm1", "cvtpd2pi %%xmm1, %%mm0", "movq %%mm0, m_out(%%rip)")
CONV(c_cvttpd2pi, "movdqu x_in(%%rip), %%xmm1", "cvttpd2pi %%xmm1, %%mm0", "movq %%mm0, m_out(%%rip)")
CONV(c_cvtpd2pi_m, "", "cvtpd2pi x_in(%%rip), %%mm0", "movq %%mm0, m_out(%%rip)")

static void conversions(void) {
	static const u64 ints[] = {0, 0x0000000100000002ULL, 0x7fffffff80000000ULL, 0x0100000101000003ULL,
		0xfeffffff00ffffffULL, 0x8000000180000001ULL, 0x000000030000000bULL};
	static const u64 f32s[] = {0x3fc00000bfc00000ULL, 0x40200000c0200000ULL, 0x7fc0000000000000ULL,
		0x7f800000ff800000ULL, 0x4f0000004effffffULL, 0xcf000000cf000001ULL, 0x0000000180000001ULL,
		0x3f0000013effffffULL, 0x7f80000140490fdbULL};
	static const u64 f64s[][2] = {{0x3ff8000000000000ULL, 0xbff8000000000000ULL},
		{0x41dfffffffc00000ULL, 0xc1e0000000000000ULL}, {0x41e0000000000000ULL, 0xc1e0000000200000ULL},
		{0x7ff8000000000000ULL, 0xfff0000000000000ULL}, {0x4004000000000000ULL, 0xc00c000000000000ULL},
		{0x0000000000000001ULL, 0x3fe0000000000000ULL}, {0x3fe0000000000001ULL, 0xbfdfffffffffffffULL}};
	for (u32 rc = 0; rc < 4; rc++) {
		mx_in = 0x1f80 | rc << 13;
		for (u64 i = 0; i < sizeof ints / sizeof ints[0]; i++) {
			m_in = ints[i];
			x_in = vec2(0x1111111122222222ULL, 0x3333333344444444ULL);
			c_cvtpi2ps();
			case_begin("cvtpi2ps xmm, mm");
			sp_hex(rc, 1);
			sp_hex(m_in, 16);
			out_s(" : ");
			out_vec(x_out);
			sp_hex(mx_out, 4);
			case_end();
			if (rc == 0) {
				c_cvtpi2pd();
				case_begin("cvtpi2pd xmm, mm");
				sp_hex(m_in, 16);
				out_s(" : ");
				out_vec(x_out);
				sp_hex(mx_out, 4);
				case_end();
				c_cvtpi2pd_m();
				case_begin("cvtpi2pd xmm, m64");
				sp_hex(m_in, 16);
				out_s(" : ");
				out_vec(x_out);
				sp_hex(mx_out, 4);
				case_end();
			}
		}
		for (u64 i = 0; i < sizeof f32s / sizeof f32s[0]; i++) {
			static const struct {
				const char *name;
				void (*fn)(void);
			} fs[] = {{"cvtps2pi mm, xmm", c_cvtps2pi}, {"cvttps2pi mm, xmm", c_cvttps2pi},
				{"cvtps2pi mm, m64", c_cvtps2pi_m}};
			for (int k = 0; k < 3; k++) {
				x_in = vec2(f32s[i], 0x7fc000007fc00000ULL); /* the high half must not matter */
				m_in = f32s[i];
				fs[k].fn();
				case_begin(fs[k].name);
				sp_hex(rc, 1);
				sp_hex(f32s[i], 16);
				out_s(" :");
				sp_hex(m_out, 16);
				sp_hex(mx_out, 4);
				case_end();
			}
		}
		for (u64 i = 0; i < sizeof f64s / sizeof f64s[0]; i++) {
			static const struct {
				const char *name;
				void (*fn)(void);
			} fs[] = {{"cvtpd2pi mm, xmm", c_cvtpd2pi}, {"cvttpd2pi mm, xmm", c_cvttpd2pi},
				{"cvtpd2pi mm, m128", c_cvtpd2pi_m}};
			for (int k = 0; k < 3; k++) {
				x_in = vec2(f64s[i][0], f64s[i][1]);
				fs[k].fn();
				case_begin(fs[k].name);
				sp_hex(rc, 1);
				out_c(' ');
				out_vec(x_in);
				out_s(" :");
				sp_hex(m_out, 16);
				sp_hex(mx_out, 4);
				case_end();
			}
		}
	}
	/* DAZ: a denormal source converts as zero; FTZ does not apply to integers. */
	mx_in = 0x1f80 | 0x40;
	x_in = vec2(0x0000000180000001ULL, 0);
	c_cvtps2pi();
	case_begin("cvtps2pi DAZ");
	sp_hex(m_out, 16);
	sp_hex(mx_out, 4);
	case_end();
}

/* Word insertion and extraction with every immediate; byte masks; MOVD/MOVQ zero
   extension; MASKMOVQ masks. */
static u64 word_op(int kind, int imm, u64 a, u64 g) {
	u64 r = ~0ULL;
	m_in = a;
	g_in = g;
#define W(k, insn)                                                                             \
	case k:                                                                                \
		__asm__ volatile("movq m_in(%%rip), %%mm1\n\tmov g_in(%%rip), %%rax\n\t" insn   \
				 "\n\tmovq %%mm1, m_out(%%rip)\n\temms"                        \
				 : "+c"(r)                                                     \
				 :                                                             \
				 : "rax", "mm1", "memory");                                    \
		break;
#define W8(base, insn0, insn1, insn2, insn3, insn4, insn5, insn6, insn7)                       \
	W(base + 0, insn0) W(base + 1, insn1) W(base + 2, insn2) W(base + 3, insn3) W(base + 4, insn4) \
	W(base + 5, insn5) W(base + 6, insn6) W(base + 7, insn7)
	switch (kind * 8 + imm) {
		W8(0, "pextrw $0, %%mm1, %%ecx", "pextrw $1, %%mm1, %%ecx", "pextrw $2, %%mm1, %%ecx",
		   "pextrw $3, %%mm1, %%ecx", "pextrw $4, %%mm1, %%ecx", "pextrw $5, %%mm1, %%ecx",
		   "pextrw $6, %%mm1, %%ecx", "pextrw $0xff, %%mm1, %%ecx")
		W8(8, "pinsrw $0, %%eax, %%mm1", "pinsrw $1, %%eax, %%mm1", "pinsrw $2, %%eax, %%mm1",
		   "pinsrw $3, %%eax, %%mm1", "pinsrw $4, %%eax, %%mm1", "pinsrw $5, %%eax, %%mm1",
		   "pinsrw $6, %%eax, %%mm1", "pinsrw $0x83, %%eax, %%mm1")
		W8(16, "pinsrw $0, g_in(%%rip), %%mm1", "pinsrw $1, g_in+1(%%rip), %%mm1",
		   "pinsrw $2, g_in+2(%%rip), %%mm1", "pinsrw $3, g_in+3(%%rip), %%mm1",
		   "pinsrw $4, g_in+4(%%rip), %%mm1", "pinsrw $5, g_in+5(%%rip), %%mm1",
		   "pinsrw $6, g_in+6(%%rip), %%mm1", "pinsrw $7, g_in(%%rip), %%mm1")
		W8(24, "pmovmskb %%mm1, %%ecx", "movd %%mm1, %%ecx", "movq %%mm1, %%rcx",
		   "movd %%eax, %%mm1", "movq %%rax, %%mm1", "movd g_in+4(%%rip), %%mm1",
		   "movd %%mm1, g_out(%%rip)", "pmovmskb %%mm1, %%rcx")
	}
#undef W8
#undef W
	return r;
}

static void words(void) {
	static const char *names[] = {"pextrw", "pinsrw r32", "pinsrw m16", "misc"};
	static const char *misc[] = {"pmovmskb ecx", "movd ecx, mm", "movq rcx, mm", "movd mm, eax",
		"movq mm, rax", "movd mm, m32", "movd m32, mm", "pmovmskb rcx"};
	static const u64 as[] = {0x0123456789abcdefULL, 0x8000ff7f0080807fULL, 0xfedcba9876543210ULL};
	static const u64 gs[] = {0xaaaabbbbccccddddULL, 0x123456789abcdef0ULL, 0xffffffff00008001ULL};
	for (int kind = 0; kind < 4; kind++) {
		for (int imm = 0; imm < 8; imm++) {
			for (int v = 0; v < 3; v++) {
				g_out = 0x5555555555555555ULL;
				u64 r = word_op(kind, imm, as[v], gs[v]);
				case_begin(kind == 3 ? misc[imm] : names[kind]);
				if (kind < 3) sp_hex((u64)imm, 1);
				sp_hex(as[v], 16);
				sp_hex(gs[v], 16);
				out_s(" :");
				sp_hex(r, 16);
				sp_hex(m_out, 16);
				sp_hex(g_out, 16);
				case_end();
			}
		}
	}
}

static void masked_stores(void) {
	static const u64 masks[] = {0, ~0ULL, 0x8000000000000080ULL, 0x0080008000800080ULL, 0x7f7f7f7f7f7f7f7fULL,
		0x80ff7f0081fe0180ULL, 0x00000000ffffffffULL};
	for (u64 k = 0; k < sizeof masks / sizeof masks[0]; k++) {
		for (int off = 0; off < 16; off += 5) {
			for (int i = 0; i < 32; i++) buf[i] = (u8)(0xa0 + i);
			m_in = 0x0123456789abcdefULL;
			m_in2 = masks[k];
			u8 *dst = buf + off;
			__asm__ volatile("movq m_in(%%rip), %%mm3\n\tmovq m_in2(%%rip), %%mm5\n\t"
					 "maskmovq %%mm5, %%mm3\n\temms"
					 :
					 : "D"(dst)
					 : "mm3", "mm5", "memory");
			case_begin("maskmovq");
			sp_hex(masks[k], 16);
			sp_hex((u64)off, 2);
			out_s(" :");
			sp_hex(get64(buf), 16);
			sp_hex(get64(buf + 8), 16);
			sp_hex(get64(buf + 16), 16);
			case_end();
		}
	}
	for (int off = 0; off < 8; off += 3) {
		for (int i = 0; i < 32; i++) buf[i] = 0;
		m_in = 0x1122334455667788ULL;
		u8 *dst = buf + off;
		__asm__ volatile("movq m_in(%%rip), %%mm2\n\tmovntq %%mm2, (%0)\n\tsfence\n\temms"
				 :
				 : "r"(dst)
				 : "mm2", "memory");
		case_begin("movntq");
		sp_hex((u64)off, 2);
		out_s(" :");
		sp_hex(get64(buf), 16);
		sp_hex(get64(buf + 8), 16);
		case_end();
	}
}

int main(int argc, char **argv, char **envp) {
	(void)envp;
	parse_features(argc, argv);
	aliasing();
	conversions();
	words();
	masked_stores();
	finish();
	return 0;
}
