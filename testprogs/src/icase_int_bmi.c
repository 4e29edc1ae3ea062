/* icase_int_bmi: the VEX-encoded BMI1 (ANDN, BEXTR, BLSI, BLSMSK, BLSR) and BMI2 (BZHI, PDEP,
   PEXT, SARX, SHLX, SHRX, RORX, MULX) instructions at 32 and 64 bits, with register and
   memory sources. PDEP, PEXT, the shifts, RORX and MULX change no flags, so all six are
   printed for them. */
#include "icase.h"

typedef u64 (*fn3)(u64 a, u64 b, u64 *f);

/* AT&T order: "ins b, a, d" is Intel "ins d, a, b". M1 puts b in memory, M2 puts a. */
#define T3(name, ins, T)                                                                  \
	static u64 name(u64 a, u64 b, u64 *f) {                                           \
		T x = (T)a, y = (T)b, d = 0;                                              \
		__asm__ volatile(FLAGS_AROUND(ins " %[y], %[x], %[d]")                    \
				 : [d] "=&r"(d), [f] "+r"(*f) : [x] "r"(x), [y] "r"(y) : "cc"); \
		return d;                                                                 \
	}
#define T3_M1(name, ins, T)                                                               \
	static u64 name(u64 a, u64 b, u64 *f) {                                           \
		T x = (T)a, m[1] = {(T)b}, d = 0;                                         \
		__asm__ volatile(FLAGS_AROUND(ins " (%[p]), %[x], %[d]")                  \
				 : [d] "=&r"(d), [f] "+r"(*f) : [x] "r"(x), [p] "r"(m) : "cc", "memory"); \
		return d;                                                                 \
	}
#define T3_M2(name, ins, T)                                                               \
	static u64 name(u64 a, u64 b, u64 *f) {                                           \
		T m[1] = {(T)a}, y = (T)b, d = 0;                                         \
		__asm__ volatile(FLAGS_AROUND(ins " %[y], (%[p]), %[d]")                  \
				 : [d] "=&r"(d), [f] "+r"(*f) : [y] "r"(y), [p] "r"(m) : "cc", "memory"); \
		return d;                                                                 \
	}
#define T2(name, ins, T)                                                                  \
	static u64 name(u64 a, u64 b, u64 *f) {                                           \
		T x = (T)a, d = 0;                                                        \
		(void)b;                                                                  \
		__asm__ volatile(FLAGS_AROUND(ins " %[x], %[d]")                          \
				 : [d] "=&r"(d), [f] "+r"(*f) : [x] "r"(x) : "cc");       \
		return d;                                                                 \
	}                                                                                 \
	static u64 name##_m(u64 a, u64 b, u64 *f) {                                       \
		T m[1] = {(T)a}, d = 0;                                                   \
		(void)b;                                                                  \
		__asm__ volatile(FLAGS_AROUND(ins " (%[p]), %[d]")                        \
				 : [d] "=&r"(d), [f] "+r"(*f) : [p] "r"(m) : "cc", "memory"); \
		return d;                                                                 \
	}
#define RORX(name, ins, imm, T)                                                           \
	static u64 name(u64 a, u64 b, u64 *f) {                                           \
		T x = (T)a, d = 0;                                                        \
		(void)b;                                                                  \
		__asm__ volatile(FLAGS_AROUND(ins " $" imm ", %[x], %[d]")                \
				 : [d] "=&r"(d), [f] "+r"(*f) : [x] "r"(x) : "cc");       \
		return d;                                                                 \
	}
/* MULX: EDX/RDX times the source; returns the high half, and the low half in *lo. */
#define MULX(name, ins, T)                                                                \
	static u64 name(u64 a, u64 b, u64 *f, u64 *lo, int mem) {                         \
		T x = (T)a, m[1] = {(T)b}, hi = 0, l = 0;                                 \
		if (mem)                                                                  \
			__asm__ volatile(FLAGS_AROUND(ins " (%[p]), %[l], %[hi]")         \
					 : [hi] "=&r"(hi), [l] "=&r"(l), [f] "+r"(*f) : "d"(x), [p] "r"(m) : "cc", "memory"); \
		else                                                                      \
			__asm__ volatile(FLAGS_AROUND(ins " %[y], %[l], %[hi]")           \
					 : [hi] "=&r"(hi), [l] "=&r"(l), [f] "+r"(*f) : "d"(x), [y] "r"(m[0]) : "cc"); \
		*lo = l;                                                                  \
		return hi;                                                                \
	}

#define SIZES3(op, form)                                                                  \
	form(op##_l, #op "l", u32) form(op##_q, #op "q", u64)
SIZES3(andn, T3)
SIZES3(bextr, T3)
SIZES3(bzhi, T3)
SIZES3(pdep, T3)
SIZES3(pext, T3)
SIZES3(sarx, T3)
SIZES3(shlx, T3)
SIZES3(shrx, T3)
T3_M1(andn_m_l, "andnl", u32)
T3_M1(andn_m_q, "andnq", u64)
T3_M1(pdep_m_l, "pdepl", u32)
T3_M1(pdep_m_q, "pdepq", u64)
T3_M1(pext_m_l, "pextl", u32)
T3_M1(pext_m_q, "pextq", u64)
T3_M2(bextr_m_l, "bextrl", u32)
T3_M2(bextr_m_q, "bextrq", u64)
T3_M2(bzhi_m_l, "bzhil", u32)
T3_M2(bzhi_m_q, "bzhiq", u64)
T3_M2(sarx_m_l, "sarxl", u32)
T3_M2(sarx_m_q, "sarxq", u64)
T3_M2(shlx_m_l, "shlxl", u32)
T3_M2(shlx_m_q, "shlxq", u64)
T3_M2(shrx_m_l, "shrxl", u32)
T3_M2(shrx_m_q, "shrxq", u64)
SIZES3(blsi, T2)
SIZES3(blsmsk, T2)
SIZES3(blsr, T2)
RORX(rorx_l_0, "rorxl", "0", u32)
RORX(rorx_l_7, "rorxl", "7", u32)
RORX(rorx_l_31, "rorxl", "31", u32)
RORX(rorx_q_1, "rorxq", "1", u64)
RORX(rorx_q_33, "rorxq", "33", u64)
RORX(rorx_q_63, "rorxq", "63", u64)
MULX(mulx_l, "mulxl", u32)
MULX(mulx_q, "mulxq", u64)

#define SZCO (SF | ZF | CF | OF)

/* bs are the second operands: edge values, or control words for BEXTR and BZHI. */
static void run(const char *name, fn3 fn, int size, u64 defined, int n, const u64 *bs, int nb) {
	u64 v[17], w[17];
	n = edges(size, v, n);
	if (!bs) {
		nb = edges(size, w, nb);
		bs = w;
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < nb; j++)
			for (int cin = 0; cin < 2; cin++) {
				u64 f = cin ? FLAGS1 : FLAGS0;
				u64 r = fn(v[i], bs[j], &f);
				begin(name);
				arg(v[i]);
				arg(bs[j]);
				out_s(cin ? " F1 ->" : " F0 ->");
				arg(r & size_mask(size));
				out_flags(f, defined);
				end();
			}
}

static const u64 ctrl[] = {0, 0x0800, 0x0804, 0x2000, 0x201f, 0x4000, 0x0140, 0xff03, 0x1046, 0x203f};
static const u64 index[] = {0, 1, 7, 31, 32, 33, 63, 64, 255, 0x1005};
static const u64 shift[] = {0, 1, 7, 31, 32, 63, 64, 0xffffffffffffff21};

#define N(a) (int)(sizeof a / sizeof a[0])

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	run("andnl r", andn_l, 4, SZCO, 6, 0, 6); run("andnq r", andn_q, 8, SZCO, 6, 0, 6);
	run("andnl m", andn_m_l, 4, SZCO, 3, 0, 3); run("andnq m", andn_m_q, 8, SZCO, 3, 0, 3);
	run("bextrl r", bextr_l, 4, ZF | CF | OF, 6, ctrl, N(ctrl)); run("bextrq r", bextr_q, 8, ZF | CF | OF, 6, ctrl, N(ctrl));
	run("bextrl m", bextr_m_l, 4, ZF | CF | OF, 3, ctrl, N(ctrl)); run("bextrq m", bextr_m_q, 8, ZF | CF | OF, 3, ctrl, N(ctrl));
	run("bzhil r", bzhi_l, 4, SZCO, 6, index, N(index)); run("bzhiq r", bzhi_q, 8, SZCO, 6, index, N(index));
	run("bzhil m", bzhi_m_l, 4, SZCO, 3, index, N(index)); run("bzhiq m", bzhi_m_q, 8, SZCO, 3, index, N(index));
	run("blsil r", blsi_l, 4, SZCO, 12, 0, 1); run("blsiq r", blsi_q, 8, SZCO, 12, 0, 1);
	run("blsil m", blsi_l_m, 4, SZCO, 6, 0, 1); run("blsiq m", blsi_q_m, 8, SZCO, 6, 0, 1);
	run("blsmskl r", blsmsk_l, 4, SZCO, 12, 0, 1); run("blsmskq r", blsmsk_q, 8, SZCO, 12, 0, 1);
	run("blsmskl m", blsmsk_l_m, 4, SZCO, 6, 0, 1); run("blsmskq m", blsmsk_q_m, 8, SZCO, 6, 0, 1);
	run("blsrl r", blsr_l, 4, SZCO, 12, 0, 1); run("blsrq r", blsr_q, 8, SZCO, 12, 0, 1);
	run("blsrl m", blsr_l_m, 4, SZCO, 6, 0, 1); run("blsrq m", blsr_q_m, 8, SZCO, 6, 0, 1);
	run("pdepl r", pdep_l, 4, ARITH, 6, 0, 6); run("pdepq r", pdep_q, 8, ARITH, 6, 0, 6);
	run("pdepl m", pdep_m_l, 4, ARITH, 3, 0, 3); run("pdepq m", pdep_m_q, 8, ARITH, 3, 0, 3);
	run("pextl r", pext_l, 4, ARITH, 6, 0, 6); run("pextq r", pext_q, 8, ARITH, 6, 0, 6);
	run("pextl m", pext_m_l, 4, ARITH, 3, 0, 3); run("pextq m", pext_m_q, 8, ARITH, 3, 0, 3);
	run("sarxl r", sarx_l, 4, ARITH, 5, shift, N(shift)); run("sarxq r", sarx_q, 8, ARITH, 5, shift, N(shift));
	run("shlxl r", shlx_l, 4, ARITH, 5, shift, N(shift)); run("shlxq r", shlx_q, 8, ARITH, 5, shift, N(shift));
	run("shrxl r", shrx_l, 4, ARITH, 5, shift, N(shift)); run("shrxq r", shrx_q, 8, ARITH, 5, shift, N(shift));
	run("sarxl m", sarx_m_l, 4, ARITH, 3, shift, N(shift)); run("sarxq m", sarx_m_q, 8, ARITH, 3, shift, N(shift));
	run("shlxl m", shlx_m_l, 4, ARITH, 3, shift, N(shift)); run("shlxq m", shlx_m_q, 8, ARITH, 3, shift, N(shift));
	run("shrxl m", shrx_m_l, 4, ARITH, 3, shift, N(shift)); run("shrxq m", shrx_m_q, 8, ARITH, 3, shift, N(shift));
	run("rorxl 0", rorx_l_0, 4, ARITH, 8, 0, 1); run("rorxl 7", rorx_l_7, 4, ARITH, 8, 0, 1);
	run("rorxl 31", rorx_l_31, 4, ARITH, 8, 0, 1); run("rorxq 1", rorx_q_1, 8, ARITH, 8, 0, 1);
	run("rorxq 33", rorx_q_33, 8, ARITH, 8, 0, 1); run("rorxq 63", rorx_q_63, 8, ARITH, 8, 0, 1);
	u64 v[17];
	int n = edges(8, v, 8);
	for (int mem = 0; mem < 2; mem++)
		for (int i = 0; i < n; i++)
			for (int j = 0; j < n; j++) {
				u64 f = FLAGS1, lo;
				u64 hi = mulx_l(v[i], v[j], &f, &lo, mem);
				begin(mem ? "mulxl m" : "mulxl r"); arg(v[i] & 0xffffffff); arg(v[j] & 0xffffffff); out_s(" ->");
				arg(hi); arg(lo); out_flags(f, ARITH); end();
				f = FLAGS0;
				hi = mulx_q(v[i], v[j], &f, &lo, mem);
				begin(mem ? "mulxq m" : "mulxq r"); arg(v[i]); arg(v[j]); out_s(" ->");
				arg(hi); arg(lo); out_flags(f, ARITH); end();
			}
	return finish();
}
