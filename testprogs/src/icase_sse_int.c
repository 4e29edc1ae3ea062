/* icase_sse_int: SSE integer, logic, shuffle, pack, blend, insert/extract and move
   instruction cases (SSE2, SSE3, SSSE3, SSE4.1, SSE4.2's PCMPGTQ and CRC32). Each operation
   runs on several pairs of edge vectors (saturation limits, sign bits, byte patterns) and
   prints the inputs and the result in hex. The instructions run in inline assembly so the
   compiler cannot fold them. */
#include "icase_sse.h"

static const u64 vals[][2] = {
	{0, 0},
	{~0ULL, ~0ULL},
	{0x8000000080000000ULL, 0x7fffffff7fffffffULL},
	{0x0123456789abcdefULL, 0xfedcba9876543210ULL},
	{0x8080808080808080ULL, 0x7f7f7f7f7f7f7f7fULL},
	{0x00ff00ff00ff00ffULL, 0xff00ff00ff0000ffULL},
	{0x0000000100000002ULL, 0xffffffff80000000ULL},
	{0x7fff80007fff8000ULL, 0x0001fffe00010002ULL},
	{0x1f1e1d1c1b1a1918ULL, 0x0706050403020100ULL},
	{0x8182838485868788ULL, 0x090a0b0c0d0e0f10ULL},
	{0x8000000000000000ULL, 0x7fffffffffffffffULL},
	{0xfffe0001fffd7ffeULL, 0x00407f80ff01807fULL},
};
#define NV (sizeof vals / sizeof vals[0])

/* Shift counts as the low quadword of an XMM source. */
static const u64 counts[] = {0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 0x100000001ULL};

typedef v2di (*op_fn)(v2di a, v2di b);

#define I2(fname, insn)                                                                        \
	static v2di fname(v2di a, v2di b) {                                                    \
		__asm__ volatile(insn " %1, %0" : "+x"(a) : "x"(b));                           \
		return a;                                                                      \
	}
#define I2M(fname, insn)                                                                       \
	static v2di fname(v2di a, v2di b) {                                                    \
		__asm__ volatile(insn " %1, %0" : "+x"(a) : "m"(b));                           \
		return a;                                                                      \
	}
#define I2I(fname, insn, imm)                                                                  \
	static v2di fname(v2di a, v2di b) {                                                    \
		__asm__ volatile(insn " $" #imm ", %1, %0" : "+x"(a) : "x"(b));                \
		return a;                                                                      \
	}
/* Shift of the destination by an immediate (b unused). */
#define SHI(fname, insn, imm)                                                                  \
	static v2di fname(v2di a, v2di b) {                                                    \
		(void)b;                                                                       \
		__asm__ volatile(insn " $" #imm ", %0" : "+x"(a));                             \
		return a;                                                                      \
	}
/* Blends by the sign bits of XMM0 (b supplies the mask, rotated, and the source). */
#define BV(fname, insn)                                                                        \
	static v2di fname(v2di a, v2di b) {                                                    \
		v2di m = {b[1], b[0]};                                                         \
		__asm__ volatile(insn " %%xmm0, %1, %0" : "+x"(a) : "x"(b), "Yz"(m));          \
		return a;                                                                      \
	}

I2(paddb, "paddb") I2(paddw, "paddw") I2(paddd, "paddd") I2(paddq, "paddq") I2M(paddq_m, "paddq")
I2(psubb, "psubb") I2(psubw, "psubw") I2(psubd, "psubd") I2(psubq, "psubq")
I2(paddsb, "paddsb") I2(paddsw, "paddsw") I2(paddusb, "paddusb") I2(paddusw, "paddusw")
I2(psubsb, "psubsb") I2(psubsw, "psubsw") I2(psubusb, "psubusb") I2(psubusw, "psubusw")
I2(pmullw, "pmullw") I2(pmulhw, "pmulhw") I2(pmulhuw, "pmulhuw") I2(pmuludq, "pmuludq")
I2(pmaddwd, "pmaddwd") I2(pavgb, "pavgb") I2(pavgw, "pavgw") I2(psadbw, "psadbw")
I2(pminub, "pminub") I2(pmaxub, "pmaxub") I2(pminsw, "pminsw") I2(pmaxsw, "pmaxsw")
I2(pcmpeqb, "pcmpeqb") I2(pcmpeqw, "pcmpeqw") I2(pcmpeqd, "pcmpeqd") I2(pcmpgtb, "pcmpgtb")
I2(pcmpgtw, "pcmpgtw") I2(pcmpgtd, "pcmpgtd") I2(pand, "pand") I2(pandn, "pandn") I2(por, "por")
I2M(pxor_m, "pxor") I2(andps, "andps") I2(andnps, "andnps") I2(orps, "orps") I2(xorps, "xorps")
I2(andpd, "andpd") I2(andnpd, "andnpd") I2(orpd, "orpd") I2(xorpd, "xorpd")
I2(punpcklbw, "punpcklbw") I2(punpckhbw, "punpckhbw") I2(punpcklwd, "punpcklwd") I2(punpckhwd, "punpckhwd")
I2(punpckldq, "punpckldq") I2(punpckhdq, "punpckhdq") I2(punpcklqdq, "punpcklqdq")
I2(punpckhqdq, "punpckhqdq") I2(unpcklps, "unpcklps") I2(unpckhps, "unpckhps")
I2(unpcklpd, "unpcklpd") I2(unpckhpd, "unpckhpd") I2(packsswb, "packsswb") I2(packssdw, "packssdw")
I2(packuswb, "packuswb") I2(movhlps, "movhlps") I2(movlhps, "movlhps") I2(movss, "movss")
I2(movsd, "movsd") I2(movq, "movq") I2M(movhps_m, "movhps") I2M(movlps_m, "movlps")
I2M(movhpd_m, "movhpd") I2M(movlpd_m, "movlpd") I2M(movss_m, "movss") I2M(movsd_m, "movsd")
I2M(movq_m, "movq") I2M(movd_m, "movd")
I2I(pshufd_1b, "pshufd", 0x1b) I2I(pshufd_00, "pshufd", 0x00) I2I(pshufd_72, "pshufd", 0x72)
I2I(pshuflw_1b, "pshuflw", 0x1b) I2I(pshuflw_e1, "pshuflw", 0xe1) I2I(pshufhw_1b, "pshufhw", 0x1b)
I2I(pshufhw_93, "pshufhw", 0x93) I2I(shufps_1b, "shufps", 0x1b) I2I(shufps_e4, "shufps", 0xe4)
I2I(shufps_4e, "shufps", 0x4e) I2I(shufpd_0, "shufpd", 0) I2I(shufpd_1, "shufpd", 1)
I2I(shufpd_2, "shufpd", 2) I2I(shufpd_3, "shufpd", 3)
/* SSE3 */
I2(movddup, "movddup") I2(movshdup, "movshdup") I2(movsldup, "movsldup") I2M(lddqu_m, "lddqu")
I2M(movddup_m, "movddup")
/* SSSE3 */
I2(pshufb, "pshufb") I2(phaddw, "phaddw") I2(phaddd, "phaddd") I2(phaddsw, "phaddsw")
I2(phsubw, "phsubw") I2(phsubd, "phsubd") I2(phsubsw, "phsubsw") I2(pmaddubsw, "pmaddubsw")
I2(pmulhrsw, "pmulhrsw") I2(psignb, "psignb") I2(psignw, "psignw") I2(psignd, "psignd")
I2(pabsb, "pabsb") I2(pabsw, "pabsw") I2(pabsd, "pabsd") I2I(palignr_0, "palignr", 0)
I2I(palignr_3, "palignr", 3) I2I(palignr_8, "palignr", 8) I2I(palignr_15, "palignr", 15)
I2I(palignr_16, "palignr", 16) I2I(palignr_21, "palignr", 21) I2I(palignr_32, "palignr", 32)
I2I(palignr_255, "palignr", 255)
/* SSE4.1 */
I2(pmulld, "pmulld") I2(pmuldq, "pmuldq") I2(pminsb, "pminsb") I2(pminsd, "pminsd")
I2(pminuw, "pminuw") I2(pminud, "pminud") I2(pmaxsb, "pmaxsb") I2(pmaxsd, "pmaxsd")
I2(pmaxuw, "pmaxuw") I2(pmaxud, "pmaxud") I2(pcmpeqq, "pcmpeqq") I2(packusdw, "packusdw")
I2(pmovsxbw, "pmovsxbw") I2(pmovsxbd, "pmovsxbd") I2(pmovsxbq, "pmovsxbq") I2(pmovsxwd, "pmovsxwd")
I2(pmovsxwq, "pmovsxwq") I2(pmovsxdq, "pmovsxdq") I2(pmovzxbw, "pmovzxbw") I2(pmovzxbd, "pmovzxbd")
I2(pmovzxbq, "pmovzxbq") I2(pmovzxwd, "pmovzxwd") I2(pmovzxwq, "pmovzxwq") I2(pmovzxdq, "pmovzxdq")
I2M(pmovsxbq_m, "pmovsxbq") I2M(pmovzxwd_m, "pmovzxwd") I2(phminposuw, "phminposuw")
I2I(pblendw_a5, "pblendw", 0xa5) I2I(pblendw_0f, "pblendw", 0x0f) I2I(blendps_5, "blendps", 5)
I2I(blendps_e, "blendps", 14) I2I(blendpd_1, "blendpd", 1) I2I(blendpd_2, "blendpd", 2)
BV(pblendvb, "pblendvb") BV(blendvps, "blendvps") BV(blendvpd, "blendvpd")
I2I(insertps_00, "insertps", 0x00) I2I(insertps_5a, "insertps", 0x5a) I2I(insertps_c3, "insertps", 0xc3)
I2I(insertps_ff, "insertps", 0xff) I2I(insertps_30, "insertps", 0x30) I2I(mpsadbw_0, "mpsadbw", 0)
I2I(mpsadbw_3, "mpsadbw", 3) I2I(mpsadbw_5, "mpsadbw", 5) I2I(mpsadbw_7, "mpsadbw", 7)
I2M(movntdqa_m, "movntdqa")
/* SSE4.2 */
I2(pcmpgtq, "pcmpgtq")

/* insertps with a memory source takes the dword at the address, whatever imm8[7:6] says. */
static v2di insertps_m(v2di a, v2di b) {
	__asm__ volatile("insertps $0xd6, %1, %0" : "+x"(a) : "m"(b[1]));
	return a;
}

SHI(psllw_1, "psllw", 1) SHI(psllw_15, "psllw", 15) SHI(psllw_16, "psllw", 16) SHI(pslld_7, "pslld", 7)
SHI(pslld_32, "pslld", 32) SHI(psllq_33, "psllq", 33) SHI(psllq_64, "psllq", 64) SHI(psrlw_3, "psrlw", 3)
SHI(psrlw_200, "psrlw", 200) SHI(psrld_31, "psrld", 31) SHI(psrlq_1, "psrlq", 1) SHI(psrlq_63, "psrlq", 63)
SHI(psraw_4, "psraw", 4) SHI(psraw_16, "psraw", 16) SHI(psrad_31, "psrad", 31) SHI(psrad_40, "psrad", 40)
SHI(pslldq_1, "pslldq", 1) SHI(pslldq_7, "pslldq", 7) SHI(pslldq_16, "pslldq", 16)
SHI(psrldq_3, "psrldq", 3) SHI(psrldq_15, "psrldq", 15) SHI(psrldq_100, "psrldq", 100)

struct op {
	const char *name;
	op_fn fn;
	unsigned feature;
};

static const struct op ops[] = {
	{"paddb", paddb, 0}, {"paddw", paddw, 0}, {"paddd", paddd, 0}, {"paddq", paddq, 0},
	{"paddq.m", paddq_m, 0}, {"psubb", psubb, 0}, {"psubw", psubw, 0}, {"psubd", psubd, 0},
	{"psubq", psubq, 0}, {"paddsb", paddsb, 0}, {"paddsw", paddsw, 0}, {"paddusb", paddusb, 0},
	{"paddusw", paddusw, 0}, {"psubsb", psubsb, 0}, {"psubsw", psubsw, 0}, {"psubusb", psubusb, 0},
	{"psubusw", psubusw, 0}, {"pmullw", pmullw, 0}, {"pmulhw", pmulhw, 0}, {"pmulhuw", pmulhuw, 0},
	{"pmuludq", pmuludq, 0}, {"pmaddwd", pmaddwd, 0}, {"pavgb", pavgb, 0}, {"pavgw", pavgw, 0},
	{"psadbw", psadbw, 0}, {"pminub", pminub, 0}, {"pmaxub", pmaxub, 0}, {"pminsw", pminsw, 0},
	{"pmaxsw", pmaxsw, 0}, {"pcmpeqb", pcmpeqb, 0}, {"pcmpeqw", pcmpeqw, 0}, {"pcmpeqd", pcmpeqd, 0},
	{"pcmpgtb", pcmpgtb, 0}, {"pcmpgtw", pcmpgtw, 0}, {"pcmpgtd", pcmpgtd, 0}, {"pand", pand, 0},
	{"pandn", pandn, 0}, {"por", por, 0}, {"pxor.m", pxor_m, 0}, {"andps", andps, 0},
	{"andnps", andnps, 0}, {"orps", orps, 0}, {"xorps", xorps, 0}, {"andpd", andpd, 0},
	{"andnpd", andnpd, 0}, {"orpd", orpd, 0}, {"xorpd", xorpd, 0}, {"punpcklbw", punpcklbw, 0},
	{"punpckhbw", punpckhbw, 0}, {"punpcklwd", punpcklwd, 0}, {"punpckhwd", punpckhwd, 0},
	{"punpckldq", punpckldq, 0}, {"punpckhdq", punpckhdq, 0}, {"punpcklqdq", punpcklqdq, 0},
	{"punpckhqdq", punpckhqdq, 0}, {"unpcklps", unpcklps, 0}, {"unpckhps", unpckhps, 0},
	{"unpcklpd", unpcklpd, 0}, {"unpckhpd", unpckhpd, 0}, {"packsswb", packsswb, 0},
	{"packssdw", packssdw, 0}, {"packuswb", packuswb, 0}, {"movhlps", movhlps, 0},
	{"movlhps", movlhps, 0}, {"movss", movss, 0}, {"movsd", movsd, 0}, {"movq", movq, 0},
	{"movhps.m", movhps_m, 0}, {"movlps.m", movlps_m, 0}, {"movhpd.m", movhpd_m, 0},
	{"movlpd.m", movlpd_m, 0}, {"movss.m", movss_m, 0}, {"movsd.m", movsd_m, 0},
	{"movq.m", movq_m, 0}, {"movd.m", movd_m, 0}, {"pshufd.1b", pshufd_1b, 0},
	{"pshufd.00", pshufd_00, 0}, {"pshufd.72", pshufd_72, 0}, {"pshuflw.1b", pshuflw_1b, 0},
	{"pshuflw.e1", pshuflw_e1, 0}, {"pshufhw.1b", pshufhw_1b, 0}, {"pshufhw.93", pshufhw_93, 0},
	{"shufps.1b", shufps_1b, 0}, {"shufps.e4", shufps_e4, 0}, {"shufps.4e", shufps_4e, 0},
	{"shufpd.0", shufpd_0, 0}, {"shufpd.1", shufpd_1, 0}, {"shufpd.2", shufpd_2, 0},
	{"shufpd.3", shufpd_3, 0}, {"psllw.1", psllw_1, 0}, {"psllw.15", psllw_15, 0},
	{"psllw.16", psllw_16, 0}, {"pslld.7", pslld_7, 0}, {"pslld.32", pslld_32, 0},
	{"psllq.33", psllq_33, 0}, {"psllq.64", psllq_64, 0}, {"psrlw.3", psrlw_3, 0},
	{"psrlw.200", psrlw_200, 0}, {"psrld.31", psrld_31, 0}, {"psrlq.1", psrlq_1, 0},
	{"psrlq.63", psrlq_63, 0}, {"psraw.4", psraw_4, 0}, {"psraw.16", psraw_16, 0},
	{"psrad.31", psrad_31, 0}, {"psrad.40", psrad_40, 0}, {"pslldq.1", pslldq_1, 0},
	{"pslldq.7", pslldq_7, 0}, {"pslldq.16", pslldq_16, 0}, {"psrldq.3", psrldq_3, 0},
	{"psrldq.15", psrldq_15, 0}, {"psrldq.100", psrldq_100, 0},
	{"movddup", movddup, F_SSE3}, {"movshdup", movshdup, F_SSE3}, {"movsldup", movsldup, F_SSE3},
	{"lddqu.m", lddqu_m, F_SSE3}, {"movddup.m", movddup_m, F_SSE3},
	{"pshufb", pshufb, F_SSSE3}, {"phaddw", phaddw, F_SSSE3}, {"phaddd", phaddd, F_SSSE3},
	{"phaddsw", phaddsw, F_SSSE3}, {"phsubw", phsubw, F_SSSE3}, {"phsubd", phsubd, F_SSSE3},
	{"phsubsw", phsubsw, F_SSSE3}, {"pmaddubsw", pmaddubsw, F_SSSE3}, {"pmulhrsw", pmulhrsw, F_SSSE3},
	{"psignb", psignb, F_SSSE3}, {"psignw", psignw, F_SSSE3}, {"psignd", psignd, F_SSSE3},
	{"pabsb", pabsb, F_SSSE3}, {"pabsw", pabsw, F_SSSE3}, {"pabsd", pabsd, F_SSSE3},
	{"palignr.0", palignr_0, F_SSSE3}, {"palignr.3", palignr_3, F_SSSE3}, {"palignr.8", palignr_8, F_SSSE3},
	{"palignr.15", palignr_15, F_SSSE3}, {"palignr.16", palignr_16, F_SSSE3},
	{"palignr.21", palignr_21, F_SSSE3}, {"palignr.32", palignr_32, F_SSSE3},
	{"palignr.255", palignr_255, F_SSSE3},
	{"pmulld", pmulld, F_SSE41}, {"pmuldq", pmuldq, F_SSE41}, {"pminsb", pminsb, F_SSE41},
	{"pminsd", pminsd, F_SSE41}, {"pminuw", pminuw, F_SSE41}, {"pminud", pminud, F_SSE41},
	{"pmaxsb", pmaxsb, F_SSE41}, {"pmaxsd", pmaxsd, F_SSE41}, {"pmaxuw", pmaxuw, F_SSE41},
	{"pmaxud", pmaxud, F_SSE41}, {"pcmpeqq", pcmpeqq, F_SSE41}, {"packusdw", packusdw, F_SSE41},
	{"pmovsxbw", pmovsxbw, F_SSE41}, {"pmovsxbd", pmovsxbd, F_SSE41}, {"pmovsxbq", pmovsxbq, F_SSE41},
	{"pmovsxwd", pmovsxwd, F_SSE41}, {"pmovsxwq", pmovsxwq, F_SSE41}, {"pmovsxdq", pmovsxdq, F_SSE41},
	{"pmovzxbw", pmovzxbw, F_SSE41}, {"pmovzxbd", pmovzxbd, F_SSE41}, {"pmovzxbq", pmovzxbq, F_SSE41},
	{"pmovzxwd", pmovzxwd, F_SSE41}, {"pmovzxwq", pmovzxwq, F_SSE41}, {"pmovzxdq", pmovzxdq, F_SSE41},
	{"pmovsxbq.m", pmovsxbq_m, F_SSE41}, {"pmovzxwd.m", pmovzxwd_m, F_SSE41},
	{"phminposuw", phminposuw, F_SSE41}, {"pblendw.a5", pblendw_a5, F_SSE41},
	{"pblendw.0f", pblendw_0f, F_SSE41}, {"blendps.5", blendps_5, F_SSE41}, {"blendps.e", blendps_e, F_SSE41},
	{"blendpd.1", blendpd_1, F_SSE41}, {"blendpd.2", blendpd_2, F_SSE41}, {"pblendvb", pblendvb, F_SSE41},
	{"blendvps", blendvps, F_SSE41}, {"blendvpd", blendvpd, F_SSE41}, {"insertps.00", insertps_00, F_SSE41},
	{"insertps.5a", insertps_5a, F_SSE41}, {"insertps.c3", insertps_c3, F_SSE41},
	{"insertps.ff", insertps_ff, F_SSE41}, {"insertps.30", insertps_30, F_SSE41},
	{"insertps.m", insertps_m, F_SSE41}, {"mpsadbw.0", mpsadbw_0, F_SSE41}, {"mpsadbw.3", mpsadbw_3, F_SSE41},
	{"mpsadbw.5", mpsadbw_5, F_SSE41}, {"mpsadbw.7", mpsadbw_7, F_SSE41},
	{"movntdqa.m", movntdqa_m, F_SSE41}, {"pcmpgtq", pcmpgtq, F_SSE42},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void vector_cases(void) {
	for (u64 k = 0; k < N(ops); k++) {
		if (!need(ops[k].feature)) continue;
		for (u64 i = 0; i < NV; i++) {
			u64 j = (i * 5 + 3 + k) % NV;
			v2di a = vec2(vals[i][0], vals[i][1]), b = vec2(vals[j][0], vals[j][1]);
			v2di r = ops[k].fn(a, b);
			case_begin(ops[k].name);
			out_c(' ');
			out_vec(a);
			out_c(' ');
			out_vec(b);
			out_s(" : ");
			out_vec(r);
			case_end();
		}
	}
}

/* Shifts by a count in an XMM register. */
I2(psllw, "psllw") I2(pslld, "pslld") I2(psllq, "psllq") I2(psrlw, "psrlw") I2(psrld, "psrld")
I2(psrlq, "psrlq") I2(psraw, "psraw") I2(psrad, "psrad") I2M(psrad_m, "psrad")

static void shift_cases(void) {
	static const struct op sh[] = {{"psllw", psllw, 0}, {"pslld", pslld, 0}, {"psllq", psllq, 0},
				       {"psrlw", psrlw, 0}, {"psrld", psrld, 0}, {"psrlq", psrlq, 0},
				       {"psraw", psraw, 0}, {"psrad", psrad, 0}, {"psrad.m", psrad_m, 0}};
	for (u64 k = 0; k < N(sh); k++)
		for (u64 c = 0; c < N(counts); c++) {
			u64 i = (c + k) % NV;
			v2di a = vec2(vals[i][0], vals[i][1]), b = vec2(counts[c], 0x1234);
			v2di r = sh[k].fn(a, b);
			case_begin(sh[k].name);
			out_c(' ');
			out_vec(a);
			sp_hex(counts[c], 16);
			out_s(" : ");
			out_vec(r);
			case_end();
		}
}

/* Extractions into general-purpose registers and memory, insertions from them. */
#define EXT(fname, insn, imm, type)                                                            \
	static u64 fname(v2di a) {                                                             \
		type r = (type)0x5555555555555555ULL;                                          \
		__asm__ volatile(insn " $" #imm ", %1, %0" : "+r"(r) : "x"(a));                \
		return (u64)r;                                                                 \
	}
#define EXTM(fname, insn, imm, type)                                                           \
	static u64 fname(v2di a) {                                                             \
		type r = (type)0x5555555555555555ULL;                                          \
		__asm__ volatile(insn " $" #imm ", %1, %0" : "+m"(r) : "x"(a));                \
		return (u64)r;                                                                 \
	}
#define GX(fname, insn, type)                                                                  \
	static u64 fname(v2di a) {                                                             \
		type r = (type)0x5555555555555555ULL;                                          \
		__asm__ volatile(insn " %1, %0" : "+r"(r) : "x"(a));                           \
		return (u64)r;                                                                 \
	}
#define GXM(fname, insn, type)                                                                 \
	static u64 fname(v2di a) {                                                             \
		type r = (type)0x5555555555555555ULL;                                          \
		__asm__ volatile(insn " %1, %0" : "+m"(r) : "x"(a));                           \
		return (u64)r;                                                                 \
	}
EXT(pextrw_5, "pextrw", 5, u32) EXT(pextrw_9, "pextrw", 9, u32) EXT(pextrb_0, "pextrb", 0, u32)
EXT(pextrb_13, "pextrb", 13, u32) EXT(pextrb_31, "pextrb", 31, u32) EXT(pextrd_1, "pextrd", 1, u32)
EXT(pextrd_7, "pextrd", 7, u32) EXT(pextrq_1, "pextrq", 1, u64) EXT(pextrq_2, "pextrq", 2, u64)
EXT(extractps_2, "extractps", 2, u32) EXTM(pextrb_m, "pextrb", 9, u8) EXTM(pextrw_m, "pextrw", 3, u16)
EXTM(pextrd_m, "pextrd", 2, u32) EXTM(pextrq_m, "pextrq", 0, u64) EXTM(extractps_m, "extractps", 3, u32)
GX(movmskps, "movmskps", u32) GX(movmskpd, "movmskpd", u32) GX(pmovmskb, "pmovmskb", u32)
GX(movd_r, "movd", u32) GX(movq_r, "movq", u64) GXM(movd_st, "movd", u32) GXM(movq_st, "movq", u64)
GXM(movss_st, "movss", u32) GXM(movsd_st, "movsd", u64) GXM(movhps_st, "movhps", u64)
GXM(movlpd_st, "movlpd", u64)

#define INS(fname, insn, imm, type, cons)                                                      \
	static v2di fname(v2di a, u64 v) {                                                     \
		type x = (type)v;                                                              \
		__asm__ volatile(insn " $" #imm ", %1, %0" : "+x"(a) : cons(x));               \
		return a;                                                                      \
	}
#define XG(fname, insn, type, cons)                                                            \
	static v2di fname(v2di a, u64 v) {                                                     \
		type x = (type)v;                                                              \
		__asm__ volatile(insn " %1, %0" : "+x"(a) : cons(x));                          \
		return a;                                                                      \
	}
INS(pinsrw_2, "pinsrw", 2, u32, "r") INS(pinsrw_m, "pinsrw", 7, u16, "m") INS(pinsrb_5, "pinsrb", 5, u32, "r")
INS(pinsrb_m, "pinsrb", 15, u8, "m") INS(pinsrd_3, "pinsrd", 3, u32, "r") INS(pinsrd_m, "pinsrd", 0, u32, "m")
INS(pinsrq_1, "pinsrq", 1, u64, "r") INS(pinsrq_m, "pinsrq", 0, u64, "m") INS(pinsrw_11, "pinsrw", 11, u32, "r")
XG(movd_x, "movd", u32, "r") XG(movq_x, "movq", u64, "r")

static void gpr_cases(void) {
	static const struct {
		const char *name;
		u64 (*fn)(v2di);
		unsigned feature;
	} ext[] = {
		{"pextrw.5", pextrw_5, 0}, {"pextrw.9", pextrw_9, 0}, {"pextrb.0", pextrb_0, F_SSE41},
		{"pextrb.13", pextrb_13, F_SSE41}, {"pextrb.31", pextrb_31, F_SSE41}, {"pextrd.1", pextrd_1, F_SSE41},
		{"pextrd.7", pextrd_7, F_SSE41}, {"pextrq.1", pextrq_1, F_SSE41}, {"pextrq.2", pextrq_2, F_SSE41},
		{"extractps.2", extractps_2, F_SSE41}, {"pextrb.m", pextrb_m, F_SSE41}, {"pextrw.m", pextrw_m, F_SSE41},
		{"pextrd.m", pextrd_m, F_SSE41}, {"pextrq.m", pextrq_m, F_SSE41}, {"extractps.m", extractps_m, F_SSE41},
		{"movmskps", movmskps, 0}, {"movmskpd", movmskpd, 0}, {"pmovmskb", pmovmskb, 0},
		{"movd.r", movd_r, 0}, {"movq.r", movq_r, 0}, {"movd.st", movd_st, 0}, {"movq.st", movq_st, 0},
		{"movss.st", movss_st, 0}, {"movsd.st", movsd_st, 0}, {"movhps.st", movhps_st, 0},
		{"movlpd.st", movlpd_st, 0},
	};
	for (u64 k = 0; k < N(ext); k++) {
		if (!need(ext[k].feature)) continue;
		for (u64 i = 0; i < NV; i += 2) {
			v2di a = vec2(vals[i][0], vals[i][1]);
			case_begin(ext[k].name);
			out_c(' ');
			out_vec(a);
			out_s(" :");
			sp_hex(ext[k].fn(a), 16);
			case_end();
		}
	}
	static const struct {
		const char *name;
		v2di (*fn)(v2di, u64);
		unsigned feature;
	} ins[] = {
		{"pinsrw.2", pinsrw_2, 0}, {"pinsrw.m", pinsrw_m, 0}, {"pinsrw.11", pinsrw_11, 0},
		{"pinsrb.5", pinsrb_5, F_SSE41}, {"pinsrb.m", pinsrb_m, F_SSE41}, {"pinsrd.3", pinsrd_3, F_SSE41},
		{"pinsrd.m", pinsrd_m, F_SSE41}, {"pinsrq.1", pinsrq_1, F_SSE41}, {"pinsrq.m", pinsrq_m, F_SSE41},
		{"movd.x", movd_x, 0}, {"movq.x", movq_x, 0},
	};
	for (u64 k = 0; k < N(ins); k++) {
		if (!need(ins[k].feature)) continue;
		for (u64 i = 0; i < NV; i += 2) {
			v2di a = vec2(vals[i][0], vals[i][1]);
			u64 v = vals[(i + 3) % NV][0] ^ vals[(i + 5) % NV][1];
			case_begin(ins[k].name);
			out_c(' ');
			out_vec(a);
			sp_hex(v, 16);
			out_s(" : ");
			out_vec(ins[k].fn(a, v));
			case_end();
		}
	}
}

/* PTEST into ZF and CF (AF OF PF SF cleared: checked through OF, PF and SF). */
static u32 ptest(v2di a, v2di b) {
	u8 cf, zf, of, pf, sf;
	__asm__ volatile("cmp %%eax, %%eax\n\tptest %6, %5\n\tsetc %0\n\tsetz %1\n\tseto %2\n\tsetp %3\n\tsets %4"
			 : "=q"(cf), "=q"(zf), "=q"(of), "=q"(pf), "=q"(sf)
			 : "x"(a), "x"(b)
			 : "cc");
	return (u32)cf | (u32)pf << 2 | (u32)zf << 6 | (u32)sf << 7 | (u32)of << 11;
}

/* CRC32 over 1, 2, 4 and 8 bytes, register and memory sources, 32- and 64-bit destinations. */
static u64 crc32b(u64 c, u64 v) {
	u32 x = (u32)c;
	__asm__("crc32b %1, %0" : "+r"(x) : "q"((u8)v));
	return x;
}
static u64 crc32w(u64 c, u64 v) {
	u32 x = (u32)c;
	__asm__("crc32w %1, %0" : "+r"(x) : "r"((u16)v));
	return x;
}
static u64 crc32l(u64 c, u64 v) {
	u32 x = (u32)c;
	__asm__("crc32l %1, %0" : "+r"(x) : "r"((u32)v));
	return x;
}
static u64 crc32q(u64 c, u64 v) {
	__asm__("crc32q %1, %0" : "+r"(c) : "r"(v));
	return c;
}
static u64 crc32bq(u64 c, u64 v) {
	__asm__("crc32b %1, %0" : "+r"(c) : "q"((u8)v));
	return c;
}
static u64 crc32lm(u64 c, u64 v) {
	u32 x = (u32)c, m = (u32)v;
	__asm__("crc32l %1, %0" : "+r"(x) : "m"(m));
	return x;
}
static u64 crc32qm(u64 c, u64 v) {
	__asm__("crc32q %1, %0" : "+r"(c) : "m"(v));
	return c;
}

static void misc_cases(void) {
	if (need(F_SSE41))
		for (u64 i = 0; i < NV; i++)
			for (u64 j = 0; j < NV; j += 3) {
				v2di a = vec2(vals[i][0], vals[i][1]), b = vec2(vals[j][0], vals[j][1]);
				case_begin("ptest");
				out_c(' ');
				out_vec(a);
				out_c(' ');
				out_vec(b);
				out_s(" : flags");
				sp_hex(ptest(a, b), 3);
				case_end();
			}
	if (need(F_SSE42)) {
		static const struct {
			const char *name;
			u64 (*fn)(u64, u64);
		} crc[] = {{"crc32b", crc32b}, {"crc32w", crc32w}, {"crc32l", crc32l}, {"crc32q", crc32q},
			   {"crc32bq", crc32bq}, {"crc32l.m", crc32lm}, {"crc32q.m", crc32qm}};
		for (u64 k = 0; k < N(crc); k++)
			for (u64 i = 0; i < NV; i++) {
				u64 c = vals[i][0] ^ 0xffffffff00000000ULL, v = vals[(i + 1) % NV][1];
				case_begin(crc[k].name);
				sp_hex(c, 16);
				sp_hex(v, 16);
				out_s(" :");
				sp_hex(crc[k].fn(c, v), 16);
				case_end();
			}
		/* A running checksum of a text, as a program would compute it. */
		const char *text = "The quick brown fox jumps over the lazy dog";
		u32 acc = 0xffffffff;
		for (const char *p = text; *p; p++) acc = (u32)crc32b(acc, (u8)*p);
		case_begin("crc32c(text)");
		sp_hex(~acc, 8);
		case_end();
	}
}

/* Full-register loads and stores, aligned, unaligned and non-temporal, at every offset the
   instruction allows; MOVNTI; MASKMOVDQU under several byte masks. */
static u8 mem[256] __attribute__((aligned(16)));

static void dump_mem(int from, int n) {
	out_c(' ');
	for (int i = from; i < from + n; i++) out_hex(mem[i], 2);
}

static void reset_mem(void) {
	for (int i = 0; i < 256; i++) mem[i] = (u8)(i * 37 + 11);
}

#define LOADST(fname, ld, st)                                                                  \
	static void fname(int lo, int so) {                                                    \
		v2di x;                                                                        \
		__asm__ volatile(ld " %1, %0" : "=x"(x) : "m"(*(v2di *)(mem + lo)));           \
		__asm__ volatile("paddq %1, %0" : "+x"(x) : "x"(vec2(1, 2)));                  \
		__asm__ volatile(st " %1, %0" : "=m"(*(v2di *)(mem + so)) : "x"(x));           \
	}
LOADST(ls_aps, "movaps", "movaps") LOADST(ls_ups, "movups", "movups") LOADST(ls_apd, "movapd", "movapd")
LOADST(ls_upd, "movupd", "movupd") LOADST(ls_dqa, "movdqa", "movdqa") LOADST(ls_dqu, "movdqu", "movdqu")
LOADST(ls_nt, "movdqa", "movntdq") LOADST(ls_ntps, "movaps", "movntps") LOADST(ls_ntpd, "movapd", "movntpd")
LOADST(ls_lddqu, "lddqu", "movdqu") LOADST(ls_ntdqa, "movntdqa", "movdqa")

static void maskmov(v2di data, v2di mask, int off) {
	__asm__ volatile("maskmovdqu %1, %0" ::"x"(data), "x"(mask), "D"(mem + off) : "memory");
}

static void memory_cases(void) {
	static const struct {
		const char *name;
		void (*fn)(int, int);
		int unaligned;
		unsigned feature;
	} ls[] = {{"movaps", ls_aps, 0, 0}, {"movups", ls_ups, 1, 0}, {"movapd", ls_apd, 0, 0},
		  {"movupd", ls_upd, 1, 0}, {"movdqa", ls_dqa, 0, 0}, {"movdqu", ls_dqu, 1, 0},
		  {"movntdq", ls_nt, 0, 0}, {"movntps", ls_ntps, 0, 0}, {"movntpd", ls_ntpd, 0, 0},
		  {"lddqu", ls_lddqu, 1, F_SSE3}, {"movntdqa", ls_ntdqa, 0, F_SSE41}};
	for (u64 k = 0; k < N(ls); k++) {
		if (!need(ls[k].feature)) continue;
		for (int lo = 0; lo < 48; lo += ls[k].unaligned ? 5 : 16) {
			int so = ls[k].unaligned ? 100 + lo / 3 : 128 + lo;
			reset_mem();
			ls[k].fn(lo, so);
			case_begin(ls[k].name);
			sp_hex((u64)lo, 2);
			sp_hex((u64)so, 2);
			out_s(" :");
			dump_mem(so - 4, 24);
			case_end();
		}
	}
	for (int i = 0; i < 6; i++) {
		u32 v32 = 0x89abcdefu * (u32)(i + 1);
		u64 v64 = 0x0123456789abcdefULL * (u64)(i + 3);
		reset_mem();
		__asm__ volatile("movnti %1, %0" : "=m"(*(u32 *)(mem + 8 + i)) : "r"(v32));
		__asm__ volatile("movnti %1, %0" : "=m"(*(u64 *)(mem + 40 + 3 * i)) : "r"(v64));
		case_begin("movnti");
		sp_hex((u64)i, 2);
		out_s(" :");
		dump_mem(4, 16);
		dump_mem(36 + 3 * i, 16);
		case_end();
	}
	for (u64 i = 0; i < NV; i++) {
		v2di data = vec2(0x1122334455667788ULL, 0x99aabbccddeeff00ULL);
		v2di mask = vec2(vals[i][0], vals[(i + 4) % NV][1]);
		reset_mem();
		maskmov(data, mask, (int)(i * 7) % 64);
		case_begin("maskmovdqu");
		out_c(' ');
		out_vec(mask);
		sp_hex(i * 7 % 64, 2);
		out_s(" :");
		dump_mem((int)(i * 7) % 64, 16);
		case_end();
	}
}

/* FXRSTOR then FXSAVE (64-bit form): the x87 control, status and tag words as loaded (FCW
   reserved bits, the FSW error-summary bits, abridged tags), the x87 registers, MXCSR and
   XMM0-15, and the reserved tail FXSAVE leaves alone. The instruction and data pointers and
   MXCSR_MASK are not printed: they differ between processor vendors (the mask's DAZ bit,
   which programs test, is). */
static u8 img[512] __attribute__((aligned(16)));
static u8 out[512] __attribute__((aligned(16)));
static u8 clean[512] __attribute__((aligned(16)));

static void fx_cases(void) {
	static const u16 fcw[] = {0x037f, 0x0000, 0xffff, 0x1f40, 0x0272, 0x2a3f};
	static const u16 fsw[] = {0x0000, 0x3800, 0x0001, 0x00ff, 0x4702, 0x8000};
	clean[0] = 0x7f, clean[1] = 0x03, clean[24] = 0x80, clean[25] = 0x1f;
	for (int c = 0; c < 6; c++) {
		for (int i = 0; i < 512; i++) img[i] = (u8)(i * 13 + c * 29), out[i] = 0xa5;
		img[0] = (u8)fcw[c], img[1] = (u8)(fcw[c] >> 8);
		img[2] = (u8)fsw[c], img[3] = (u8)(fsw[c] >> 8);
		img[4] = (u8)(0x5a ^ (c * 0x11));
		u32 mx = 0x1f80 | (u32)c << 13 | (u32)(c & 1) << 6 | (u32)c;
		img[24] = (u8)mx, img[25] = (u8)(mx >> 8), img[26] = img[27] = 0;
		__asm__ volatile("fxrstor64 %1\n\tpaddd %%xmm3, %%xmm3\n\tfxsave64 %0\n\tfxrstor64 %2"
				 : "+m"(out)
				 : "m"(img), "m"(clean)
				 : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
				   "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory");
		case_begin("fxsave");
		sp_hex((u64)c, 1);
		out_s(" :");
		sp_hex((u64)out[0] | (u64)out[1] << 8, 4);
		sp_hex((u64)out[2] | (u64)out[3] << 8, 4);
		sp_hex(out[4], 2);
		sp_hex(out[5], 2);
		sp_hex((u64)out[24] | (u64)out[25] << 8 | (u64)out[26] << 16 | (u64)out[27] << 24, 8);
		out_s(out[28] & 0x40 ? " daz" : " no-daz");
		case_end();
		for (int r = 0; r < 24; r++) {
			case_begin("fxsave");
			sp_hex((u64)c, 1);
			out_s(r < 8 ? " st" : " xmm");
			out_dec((u64)(r < 8 ? r : r - 8));
			out_s(" :");
			out_c(' ');
			for (int i = 15; i >= 0; i--) out_hex(out[32 + 16 * r + i], 2);
			case_end();
		}
		int untouched = 1;
		for (int i = 416; i < 512; i++) untouched &= out[i] == 0xa5;
		case_begin("fxsave");
		sp_hex((u64)c, 1);
		out_s(untouched ? " : bytes 416-511 untouched" : " : bytes 416-511 WRITTEN");
		case_end();
	}
}

int main(int argc, char **argv, char **envp) {
	(void)envp;
	parse_features(argc, argv);
	vector_cases();
	shift_cases();
	gpr_cases();
	misc_cases();
	memory_cases();
	fx_cases();
	finish();
	return 0;
}
