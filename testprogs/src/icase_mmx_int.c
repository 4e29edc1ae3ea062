/* icase_mmx_int: MMX packed-integer instruction cases: MMX arithmetic, saturation,
   multiplies, comparisons, logic, packs and unpacks, shifts by register, memory and
   immediate, the SSE integer instructions on MMX registers (PAVGB... PSHUFW), SSE2's
   PADDQ, PSUBQ and PMULUDQ, and SSSE3's MMX forms. Each operation runs on pairs of edge
   values (saturation limits, sign bits, byte patterns) and prints the inputs and result in
   hex. Every case loads its MMX registers, runs one instruction and stores the result,
   then EMMS, all in one asm statement, so the compiler can neither fold nor reorder it.
   The first argument lists the host's extensions as in the icase_sse programs (ssse3). */
#include "icase_sse.h"

static const u64 vals[] = {
	0,
	~0ULL,
	0x8000000080000000ULL,
	0x7fffffff7fffffffULL,
	0x0123456789abcdefULL,
	0x8080808080808080ULL,
	0x7f7f7f7f7f7f7f7fULL,
	0x00ff00ff00ff00ffULL,
	0x7fff80007fff8000ULL,
	0x0001fffe00010002ULL,
	0x8182838485868788ULL,
	0xfffe0001fffd7ffeULL,
	0x0706050403020100ULL,
	0x00407f80ff01807fULL,
};
#define NV (sizeof vals / sizeof vals[0])

/* Shift counts for the register and memory forms (all 64 bits count). */
static const u64 counts[] = {0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 0x100000001ULL};
#define NC (sizeof counts / sizeof counts[0])

typedef u64 (*op_fn)(u64 a, u64 b);

/* mm0 <- mm0 op mm1 */
#define P2(fname, insn)                                                                        \
	static u64 fname(u64 a, u64 b) {                                                       \
		u64 r;                                                                         \
		__asm__ volatile("movq %1, %%mm0\n\tmovq %2, %%mm1\n\t" insn " %%mm1, %%mm0\n\t" \
				 "movq %%mm0, %0\n\temms"                                      \
				 : "=m"(r)                                                     \
				 : "m"(a), "m"(b)                                              \
				 : "mm0", "mm1");                                              \
		return r;                                                                      \
	}
/* mm0 <- mm0 op m64 (or m32) */
#define P2M(fname, insn)                                                                       \
	static u64 fname(u64 a, u64 b) {                                                       \
		u64 r;                                                                         \
		__asm__ volatile("movq %1, %%mm0\n\t" insn " %2, %%mm0\n\tmovq %%mm0, %0\n\temms" \
				 : "=m"(r)                                                     \
				 : "m"(a), "m"(b)                                              \
				 : "mm0");                                                     \
		return r;                                                                      \
	}
/* mm3 <- mm3 op mm6, imm8 (other register numbers) */
#define P2I(fname, insn, imm)                                                                  \
	static u64 fname(u64 a, u64 b) {                                                       \
		u64 r;                                                                         \
		__asm__ volatile("movq %1, %%mm3\n\tmovq %2, %%mm6\n\t" insn " $" #imm          \
				 ", %%mm6, %%mm3\n\tmovq %%mm3, %0\n\temms"                    \
				 : "=m"(r)                                                     \
				 : "m"(a), "m"(b)                                              \
				 : "mm3", "mm6");                                              \
		return r;                                                                      \
	}
/* Shift of mm7 by an immediate (b unused). */
#define SHI(fname, insn, imm)                                                                  \
	static u64 fname(u64 a, u64 b) {                                                       \
		u64 r;                                                                         \
		(void)b;                                                                       \
		__asm__ volatile("movq %1, %%mm7\n\t" insn " $" #imm ", %%mm7\n\tmovq %%mm7, %0\n\temms" \
				 : "=m"(r)                                                     \
				 : "m"(a)                                                      \
				 : "mm7");                                                     \
		return r;                                                                      \
	}

P2(paddb, "paddb") P2(paddw, "paddw") P2(paddd, "paddd") P2(paddq, "paddq")
P2(psubb, "psubb") P2(psubw, "psubw") P2(psubd, "psubd") P2(psubq, "psubq")
P2(paddsb, "paddsb") P2(paddsw, "paddsw") P2(paddusb, "paddusb") P2(paddusw, "paddusw")
P2(psubsb, "psubsb") P2(psubsw, "psubsw") P2(psubusb, "psubusb") P2(psubusw, "psubusw")
P2(pmullw, "pmullw") P2(pmulhw, "pmulhw") P2(pmulhuw, "pmulhuw") P2(pmuludq, "pmuludq")
P2(pmaddwd, "pmaddwd") P2(pavgb, "pavgb") P2(pavgw, "pavgw") P2(psadbw, "psadbw")
P2(pminub, "pminub") P2(pmaxub, "pmaxub") P2(pminsw, "pminsw") P2(pmaxsw, "pmaxsw")
P2(pcmpeqb, "pcmpeqb") P2(pcmpeqw, "pcmpeqw") P2(pcmpeqd, "pcmpeqd") P2(pcmpgtb, "pcmpgtb")
P2(pcmpgtw, "pcmpgtw") P2(pcmpgtd, "pcmpgtd") P2(pand, "pand") P2(pandn, "pandn") P2(por, "por")
P2(pxor, "pxor") P2(punpcklbw, "punpcklbw") P2(punpcklwd, "punpcklwd") P2(punpckldq, "punpckldq")
P2(punpckhbw, "punpckhbw") P2(punpckhwd, "punpckhwd") P2(punpckhdq, "punpckhdq")
P2(packsswb, "packsswb") P2(packssdw, "packssdw") P2(packuswb, "packuswb") P2(movq_rr, "movq")
P2(pshufb, "pshufb") P2(phaddw, "phaddw") P2(phaddd, "phaddd") P2(phaddsw, "phaddsw")
P2(phsubw, "phsubw") P2(phsubd, "phsubd") P2(phsubsw, "phsubsw") P2(pmaddubsw, "pmaddubsw")
P2(pmulhrsw, "pmulhrsw") P2(psignb, "psignb") P2(psignw, "psignw") P2(psignd, "psignd")
P2(pabsb, "pabsb") P2(pabsw, "pabsw") P2(pabsd, "pabsd")
P2M(paddsw_m, "paddsw") P2M(pmaddwd_m, "pmaddwd") P2M(pcmpgtb_m, "pcmpgtb") P2M(pandn_m, "pandn")
P2M(punpcklbw_m, "punpcklbw") P2M(punpckhwd_m, "punpckhwd") P2M(packuswb_m, "packuswb")
P2M(psadbw_m, "psadbw") P2M(pmuludq_m, "pmuludq") P2M(pshufb_m, "pshufb") P2M(phaddsw_m, "phaddsw")
P2M(movq_m, "movq") P2M(movd_m, "movd")

struct op {
	const char *name;
	op_fn fn;
	int ssse3;
};

static const struct op ops[] = {
	{"paddb", paddb, 0}, {"paddw", paddw, 0}, {"paddd", paddd, 0}, {"paddq", paddq, 0},
	{"psubb", psubb, 0}, {"psubw", psubw, 0}, {"psubd", psubd, 0}, {"psubq", psubq, 0},
	{"paddsb", paddsb, 0}, {"paddsw", paddsw, 0}, {"paddusb", paddusb, 0}, {"paddusw", paddusw, 0},
	{"psubsb", psubsb, 0}, {"psubsw", psubsw, 0}, {"psubusb", psubusb, 0}, {"psubusw", psubusw, 0},
	{"pmullw", pmullw, 0}, {"pmulhw", pmulhw, 0}, {"pmulhuw", pmulhuw, 0}, {"pmuludq", pmuludq, 0},
	{"pmaddwd", pmaddwd, 0}, {"pavgb", pavgb, 0}, {"pavgw", pavgw, 0}, {"psadbw", psadbw, 0},
	{"pminub", pminub, 0}, {"pmaxub", pmaxub, 0}, {"pminsw", pminsw, 0}, {"pmaxsw", pmaxsw, 0},
	{"pcmpeqb", pcmpeqb, 0}, {"pcmpeqw", pcmpeqw, 0}, {"pcmpeqd", pcmpeqd, 0},
	{"pcmpgtb", pcmpgtb, 0}, {"pcmpgtw", pcmpgtw, 0}, {"pcmpgtd", pcmpgtd, 0},
	{"pand", pand, 0}, {"pandn", pandn, 0}, {"por", por, 0}, {"pxor", pxor, 0},
	{"punpcklbw", punpcklbw, 0}, {"punpcklwd", punpcklwd, 0}, {"punpckldq", punpckldq, 0},
	{"punpckhbw", punpckhbw, 0}, {"punpckhwd", punpckhwd, 0}, {"punpckhdq", punpckhdq, 0},
	{"packsswb", packsswb, 0}, {"packssdw", packssdw, 0}, {"packuswb", packuswb, 0},
	{"movq mm,mm", movq_rr, 0},
	{"paddsw m64", paddsw_m, 0}, {"pmaddwd m64", pmaddwd_m, 0}, {"pcmpgtb m64", pcmpgtb_m, 0},
	{"pandn m64", pandn_m, 0}, {"punpcklbw m32", punpcklbw_m, 0}, {"punpckhwd m64", punpckhwd_m, 0},
	{"packuswb m64", packuswb_m, 0}, {"psadbw m64", psadbw_m, 0}, {"pmuludq m64", pmuludq_m, 0},
	{"movq mm,m64", movq_m, 0}, {"movd mm,m32", movd_m, 0},
	{"pshufb", pshufb, 1}, {"phaddw", phaddw, 1}, {"phaddd", phaddd, 1}, {"phaddsw", phaddsw, 1},
	{"phsubw", phsubw, 1}, {"phsubd", phsubd, 1}, {"phsubsw", phsubsw, 1},
	{"pmaddubsw", pmaddubsw, 1}, {"pmulhrsw", pmulhrsw, 1}, {"psignb", psignb, 1},
	{"psignw", psignw, 1}, {"psignd", psignd, 1}, {"pabsb", pabsb, 1}, {"pabsw", pabsw, 1},
	{"pabsd", pabsd, 1}, {"pshufb m64", pshufb_m, 1}, {"phaddsw m64", phaddsw_m, 1},
};

/* Shifts by a count in an MMX register and in memory. */
P2(psllw, "psllw") P2(pslld, "pslld") P2(psllq, "psllq") P2(psrlw, "psrlw") P2(psrld, "psrld")
P2(psrlq, "psrlq") P2(psraw, "psraw") P2(psrad, "psrad") P2M(psraw_m, "psraw") P2M(psrlq_m, "psrlq")

static const struct op shifts[] = {
	{"psllw", psllw, 0}, {"pslld", pslld, 0}, {"psllq", psllq, 0}, {"psrlw", psrlw, 0},
	{"psrld", psrld, 0}, {"psrlq", psrlq, 0}, {"psraw", psraw, 0}, {"psrad", psrad, 0},
	{"psraw m64", psraw_m, 0}, {"psrlq m64", psrlq_m, 0},
};

/* Shifts by an immediate. */
SHI(psllw_1, "psllw", 1) SHI(psllw_15, "psllw", 15) SHI(psllw_16, "psllw", 16)
SHI(pslld_4, "pslld", 4) SHI(pslld_31, "pslld", 31) SHI(pslld_32, "pslld", 32)
SHI(psllq_1, "psllq", 1) SHI(psllq_63, "psllq", 63) SHI(psllq_64, "psllq", 64)
SHI(psrlw_1, "psrlw", 1) SHI(psrlw_15, "psrlw", 15) SHI(psrlw_255, "psrlw", 255)
SHI(psrld_7, "psrld", 7) SHI(psrld_32, "psrld", 32) SHI(psrlq_12, "psrlq", 12)
SHI(psrlq_64, "psrlq", 64) SHI(psraw_3, "psraw", 3) SHI(psraw_15, "psraw", 15)
SHI(psraw_16, "psraw", 16) SHI(psrad_1, "psrad", 1) SHI(psrad_31, "psrad", 31)
SHI(psrad_200, "psrad", 200)

static const struct op shift_imms[] = {
	{"psllw $1", psllw_1, 0}, {"psllw $15", psllw_15, 0}, {"psllw $16", psllw_16, 0},
	{"pslld $4", pslld_4, 0}, {"pslld $31", pslld_31, 0}, {"pslld $32", pslld_32, 0},
	{"psllq $1", psllq_1, 0}, {"psllq $63", psllq_63, 0}, {"psllq $64", psllq_64, 0},
	{"psrlw $1", psrlw_1, 0}, {"psrlw $15", psrlw_15, 0}, {"psrlw $255", psrlw_255, 0},
	{"psrld $7", psrld_7, 0}, {"psrld $32", psrld_32, 0}, {"psrlq $12", psrlq_12, 0},
	{"psrlq $64", psrlq_64, 0}, {"psraw $3", psraw_3, 0}, {"psraw $15", psraw_15, 0},
	{"psraw $16", psraw_16, 0}, {"psrad $1", psrad_1, 0}, {"psrad $31", psrad_31, 0},
	{"psrad $200", psrad_200, 0},
};

/* Shuffles and alignment by an immediate. */
P2I(pshufw_1b, "pshufw", 0x1b) P2I(pshufw_00, "pshufw", 0x00) P2I(pshufw_e4, "pshufw", 0xe4)
P2I(pshufw_72, "pshufw", 0x72) P2I(palignr_0, "palignr", 0) P2I(palignr_1, "palignr", 1)
P2I(palignr_3, "palignr", 3) P2I(palignr_7, "palignr", 7) P2I(palignr_8, "palignr", 8)
P2I(palignr_9, "palignr", 9) P2I(palignr_15, "palignr", 15) P2I(palignr_16, "palignr", 16)
P2I(palignr_200, "palignr", 200)

static const struct op imms[] = {
	{"pshufw $0x1b", pshufw_1b, 0}, {"pshufw $0x00", pshufw_00, 0}, {"pshufw $0xe4", pshufw_e4, 0},
	{"pshufw $0x72", pshufw_72, 0}, {"palignr $0", palignr_0, 1}, {"palignr $1", palignr_1, 1},
	{"palignr $3", palignr_3, 1}, {"palignr $7", palignr_7, 1}, {"palignr $8", palignr_8, 1},
	{"palignr $9", palignr_9, 1}, {"palignr $15", palignr_15, 1}, {"palignr $16", palignr_16, 1},
	{"palignr $200", palignr_200, 1},
};

static void run(const struct op *o, u64 a, u64 b) {
	case_begin(o->name);
	sp_hex(a, 16);
	sp_hex(b, 16);
	out_s(" :");
	sp_hex(o->fn(a, b), 16);
	case_end();
}

int main(int argc, char **argv, char **envp) {
	(void)envp;
	parse_features(argc, argv);
	/* Binary operations: every value against a spread of partners. */
	for (u64 k = 0; k < sizeof ops / sizeof ops[0]; k++) {
		if (ops[k].ssse3 && !need(F_SSSE3)) continue;
		for (u64 i = 0; i < NV; i++) run(&ops[k], vals[i], vals[(i * 5 + 3) % NV]);
	}
	for (u64 k = 0; k < sizeof shifts / sizeof shifts[0]; k++)
		for (u64 i = 0; i < NC; i++) run(&shifts[k], vals[(i * 3 + k) % NV], counts[i]);
	for (u64 k = 0; k < sizeof shift_imms / sizeof shift_imms[0]; k++)
		for (u64 i = 0; i < NV; i += 3) run(&shift_imms[k], vals[i], 0);
	for (u64 k = 0; k < sizeof imms / sizeof imms[0]; k++) {
		if (imms[k].ssse3 && !need(F_SSSE3)) continue;
		for (u64 i = 0; i < NV; i += 2) run(&imms[k], vals[i], vals[(i + 7) % NV]);
	}
	finish();
	return 0;
}
