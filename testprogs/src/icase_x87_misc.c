/* icase_x87_misc: x87 data transfer, comparison, conditional move, stack, constant and
   control instruction cases. Each case prints its inputs, the status and tag words, the
   values it stored and ST(0)/ST(1) in hex, so identical output natively and emulated
   means identical behaviour bit for bit: FLD/FST/FSTP (m32, m64, m80, ST(i)), FILD,
   FIST, FISTP, FISTTP (m16, m32, m64), FBLD, FBSTP, FCOM/FCOMP/FCOMPP, FUCOM/FUCOMP/
   FUCOMPP, FICOM/FICOMP, FCOMI/FCOMIP/FUCOMI/FUCOMIP (with ZF PF CF OF SF), FTST, FXAM,
   the eight FCMOVcc, FXCH, FFREE, FFREEP, FINCSTP, FDECSTP, FNOP, the seven constants in
   every rounding mode, FLDCW/FNSTCW, FNSTSW (m16 and AX), FNCLEX, FNINIT, FNSTENV/FLDENV
   and FNSAVE/FRSTOR (32- and 16-bit formats), FWAIT, and stack overflow and underflow. */
#include "x87case.h"

static unsigned char save[108];
static unsigned char mem[112];
static unsigned char fl[5]; /* CF ZF PF OF SF after the instruction */
static u16 ax;

/* Two values, a in ST(1) and b in ST(0), then the instruction, then FNSAVE. */
#define RUN(fn, text)                                                                     \
	static void fn(const u80 *a, const u80 *b, u16 cw) {                                   \
		__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfldt %[b]\n\t" text         \
				 "\n\tsetc %[cf]\n\tsetz %[zf]\n\tsetp %[pf]\n\tseto %[of]\n\tsets %[sf]" \
				 "\n\tfnsave %[s]"                                                  \
				 : [s] "=m"(save), [cf] "=m"(fl[0]), [zf] "=m"(fl[1]), [pf] "=m"(fl[2]), \
				   [of] "=m"(fl[3]), [sf] "=m"(fl[4]), "=a"(ax)                      \
				 : [a] "m"(*a), [b] "m"(*b), [cw] "m"(cw), [m] "m"(mem)             \
				 : "memory", "cc");                                                 \
	}

RUN(fld_s, "flds %[m]")
RUN(fld_l, "fldl %[m]")
RUN(fld_t, "fldt %[m]")
RUN(fst_s, "fsts %[m]")
RUN(fst_l, "fstl %[m]")
RUN(fstp_s, "fstps %[m]")
RUN(fstp_l, "fstpl %[m]")
RUN(fstp_t, "fstpt %[m]")
RUN(fild_s, "filds %[m]")
RUN(fild_l, "fildl %[m]")
RUN(fild_q, "fildll %[m]")
RUN(fist_s, "fists %[m]")
RUN(fist_l, "fistl %[m]")
RUN(fistp_s, "fistps %[m]")
RUN(fistp_l, "fistpl %[m]")
RUN(fistp_q, "fistpll %[m]")
RUN(fisttp_s, "fisttps %[m]")
RUN(fisttp_l, "fisttpl %[m]")
RUN(fisttp_q, "fisttpll %[m]")
RUN(fbld_, "fbld %[m]")
RUN(fbstp_, "fbstp %[m]")
RUN(fld_st1, ".byte 0xd9,0xc1")
RUN(fld_st4, ".byte 0xd9,0xc4") /* empty */
RUN(fst_st1, ".byte 0xdd,0xd1")
RUN(fstp_st1, ".byte 0xdd,0xd9")
RUN(fstp_st3, ".byte 0xdd,0xdb")
RUN(fxch_st1, ".byte 0xd9,0xc9")
RUN(fxch_st3, ".byte 0xd9,0xcb") /* with an empty register */
RUN(ffree_st1, ".byte 0xdd,0xc1")
RUN(ffreep_st0, ".byte 0xdf,0xc0")
RUN(fincstp_, "fincstp")
RUN(fdecstp_, "fdecstp")
RUN(fnop_, "fnop")
RUN(fwait_, "fwait")
RUN(fcom_st1, ".byte 0xd8,0xd1")
RUN(fcomp_st1, ".byte 0xd8,0xd9")
RUN(fcompp_, ".byte 0xde,0xd9")
RUN(fucom_st1, ".byte 0xdd,0xe1")
RUN(fucomp_st1, ".byte 0xdd,0xe9")
RUN(fucompp_, ".byte 0xda,0xe9")
RUN(fcom_st2, ".byte 0xd8,0xd2") /* empty */
RUN(fcoms, "fcoms %[m]")
RUN(fcompl, "fcompl %[m]")
RUN(ficoms, "ficoms %[m]")
RUN(ficompl, "ficompl %[m]")
RUN(fcomi_st1, "mov $0xffff,%%eax\n\tsub $1,%%ax\n\t.byte 0xdb,0xf1") /* flags preset */
RUN(fcomip_st1, ".byte 0xdf,0xf1")
RUN(fucomi_st1, "mov $0x7f,%%eax\n\tadd $1,%%al\n\t.byte 0xdb,0xe9")
RUN(fucomip_st1, ".byte 0xdf,0xe9")
RUN(ftst_, "ftst")
RUN(fxam_, "fxam")
RUN(fxam_empty, ".byte 0xdf,0xc0\n\tfxam") /* FFREEP ST(0) first: FXAM of an empty register */
RUN(fnstsw_ax, "fnstsw %%ax")
RUN(fnclex_, "fnclex")
RUN(fstenv_, "fnstenv %[m]")
RUN(fldenv_, "fldenv %[m]")
RUN(fsave_, "fnsave %[m]\n\tfrstor %[m]")
RUN(fstenv16_, "data16 fnstenv %[m]")
RUN(fsave16_, "data16 fnsave %[m]\n\tdata16 frstor %[m]")
RUN(fldcw_, "fldcw %[m]\n\tfnstcw 2+%[m]")
RUN(fld1_, "fld1")
RUN(fldl2t_, "fldl2t")
RUN(fldl2e_, "fldl2e")
RUN(fldpi_, "fldpi")
RUN(fldlg2_, "fldlg2")
RUN(fldln2_, "fldln2")
RUN(fldz_, "fldz")
/* FCMOVcc after an 8-bit ADD that sets CF ZF PF as the case says (AL = x + y). */
#define CMOV(fn, op)                                                                      \
	static void fn(const u80 *a, const u80 *b, u16 x) {                                    \
		__asm__ volatile("fninit\n\tfldt %[a]\n\tfldt %[b]\n\tmov %[x],%%ax\n\taddb %%ah,%%al\n\t" op \
				 "\n\tfnsave %[s]"                                                  \
				 : [s] "=m"(save)                                                   \
				 : [a] "m"(*a), [b] "m"(*b), [x] "m"(x)                             \
				 : "memory", "cc", "ax");                                           \
	}
CMOV(fcmovb_, ".byte 0xda,0xc1")
CMOV(fcmove_, ".byte 0xda,0xc9")
CMOV(fcmovbe_, ".byte 0xda,0xd1")
CMOV(fcmovu_, ".byte 0xda,0xd9")
CMOV(fcmovnb_, ".byte 0xdb,0xc1")
CMOV(fcmovne_, ".byte 0xdb,0xc9")
CMOV(fcmovnbe_, ".byte 0xdb,0xd1")
CMOV(fcmovnu_, ".byte 0xdb,0xd9")

/* Eight values then FLD1: stack overflow; and eight values then FNSAVE. */
static void overflow(u16 cw) {
	__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfld1\n\tfldz\n\tfldpi\n\tfld1\n\tfldz\n\tfldpi\n\tfld1\n\tfldz\n\tfld1\n\tfnsave %[s]"
			 : [s] "=m"(save)
			 : [cw] "m"(cw)
			 : "memory");
}

typedef void (*runner)(const u80 *, const u80 *, u16);

static void outhexmem(const void *p, int n) {
	const unsigned char *b = p;
	for (int i = n - 1; i >= 0; i--) outhex(b[i], 2);
}

/* report prints the state after a case. */
static void report(const char *name, const u80 *a, const u80 *b, u16 cw, int nmem, int flags) {
	out(name);
	out(" ");
	out80(a);
	out(" ");
	out80(b);
	out(" cw=");
	outhex(cw, 4);
	out(" -> sw=");
	outhex(*(const u16 *)(save + 4), 4);
	out(" tw=");
	outhex(*(const u16 *)(save + 8), 4);
	out(" st0=");
	out80((const u80 *)(save + 28));
	out(" st1=");
	out80((const u80 *)(save + 38));
	if (nmem) {
		out(" m=");
		outhexmem(mem, nmem);
	}
	if (flags) {
		out(" cf,zf,pf,of,sf=");
		for (int i = 0; i < 5; i++) outhex(fl[i], 1);
		out(" ax=");
		outhex(ax, 4);
	}
	out("\n");
	ncases++;
}

static void run(const char *name, runner f, const u80 *a, const u80 *b, u16 cw, const void *m, int nin, int nout, int flags) {
	memset(mem, 0x5a, sizeof mem);
	if (nin) memcpy(mem, m, (u64)nin);
	f(a, b, cw);
	report(name, a, b, cw, nout, flags);
}

static const u32 m32s[] = {0x00000000, 0x80000000, 0x3f800000, 0x40490fdb, 0x00000001, 0x807fffff,
	0x7f800000, 0xff800000, 0x7fc00001, 0x7f800001, 0x7f7fffff, 0x3eaaaaab};
static const u64 m64s[] = {0, 0x8000000000000000ULL, 0x3ff0000000000000ULL, 0x400921fb54442d18ULL,
	0x0000000000000001ULL, 0x800fffffffffffffULL, 0x7ff0000000000000ULL, 0x7ff8000000000001ULL,
	0x7ff0000000000001ULL, 0x7fefffffffffffffULL, 0x3fd5555555555555ULL, 0xc0934a4584f4c6e7ULL};
static const u64 ints[] = {0, 1, 0xffffffffffffffffULL, 0x7fff, 0x8000, 0xffffffffffff8000ULL, 0x7fffffff,
	0xffffffff80000000ULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL, 1000000007, 0xfffffffffffffc19ULL};
static const unsigned char bcds[][10] = {
	{0}, {0x01}, {0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x00},
	{0x21, 0x43, 0x65, 0x87, 0, 0, 0, 0, 0, 0x80}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80},
	{0x90, 0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x00},
};
/* Values for the integer and BCD conversions: halves, ranges, NaNs. */
static const u80 convs[] = {
	V(0x3ffe, 0x8000000000000000ULL), /* 0.5 */
	V(0x3fff, 0xc000000000000000ULL), /* 1.5 */
	V(0x4000, 0xa000000000000000ULL), /* 2.5 */
	V(0xc000, 0xb000000000000000ULL), /* -2.75 */
	V(0x400d, 0xfffe000000000000ULL), /* 32767 */
	V(0x400e, 0x8000000000000000ULL), /* 32768 */
	V(0xc00e, 0x8001000000000000ULL), /* -32768.5 */
	V(0x401d, 0xffffffff00000000ULL), /* 2^31 - 0.5 */
	V(0xc01e, 0x8000000000000000ULL), /* -2^31 */
	V(0x403d, 0xffffffffffffffffULL), /* 2^63 - 0.5 */
	V(0xc03e, 0x8000000000000000ULL), /* -2^63 */
	V(0x403e, 0x8000000000000000ULL), /* 2^63 */
	V(0x403a, 0xde0b6b3a763fffffULL), /* just under 10^18 */
	V(0x403a, 0xde0b6b3a76400000ULL), /* 10^18 */
	V(0x3fbf, 0x8000000000000000ULL), /* tiny */
	V(0xbffd, 0x8000000000000000ULL), /* -0.25 */
};
#define NCONV (sizeof convs / sizeof convs[0])

static const u16 cflags[] = {0x0001, 0x0003, 0x02ff, 0x04ff, 0x01ff, 0x0000}; /* al, ah to add */

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	const u80 *one = &edge[2];
	u16 cw0 = 0x037f;
	/* Loads. */
	for (unsigned k = 0; k < sizeof m32s / sizeof m32s[0]; k++) run("flds", fld_s, one, one, cw0, &m32s[k], 4, 0, 0);
	for (unsigned k = 0; k < sizeof m64s / sizeof m64s[0]; k++) run("fldl", fld_l, one, one, cw0, &m64s[k], 8, 0, 0);
	for (unsigned i = 0; i < NEDGE; i++) run("fldt", fld_t, one, one, cw0, &edge[i], 10, 0, 0);
	for (unsigned k = 0; k < sizeof ints / sizeof ints[0]; k++) {
		run("filds", fild_s, one, one, cw0, &ints[k], 2, 0, 0);
		run("fildl", fild_l, one, one, cw0, &ints[k], 4, 0, 0);
		run("fildll", fild_q, one, one, cw0, &ints[k], 8, 0, 0);
	}
	for (unsigned k = 0; k < sizeof bcds / sizeof bcds[0]; k++) run("fbld", fbld_, one, one, cw0, bcds[k], 10, 0, 0);
	/* Stores in every rounding mode. */
	for (unsigned r = 0; r < 4; r++) {
		u16 cw = (u16)(0x037f | rcs[r]);
		for (unsigned i = 0; i < NEDGE; i++) {
			run("fsts", fst_s, one, &edge[i], cw, 0, 0, 4, 0);
			run("fstl", fst_l, one, &edge[i], cw, 0, 0, 8, 0);
			if (r == 0) {
				run("fstps", fstp_s, one, &edge[i], cw, 0, 0, 4, 0);
				run("fstpl", fstp_l, one, &edge[i], cw, 0, 0, 8, 0);
				run("fstpt", fstp_t, one, &edge[i], cw, 0, 0, 10, 0);
			}
		}
		for (unsigned i = 0; i < NFINITE; i++) {
			run("fsts", fst_s, one, &finite[i], cw, 0, 0, 4, 0);
			run("fstl", fst_l, one, &finite[i], cw, 0, 0, 8, 0);
		}
		for (unsigned i = 0; i < NCONV + NEDGE; i++) {
			const u80 *v = i < NCONV ? &convs[i] : &edge[i - NCONV];
			if (i >= NCONV && r != 0) continue;
			run("fists", fist_s, one, v, cw, 0, 0, 2, 0);
			run("fistl", fist_l, one, v, cw, 0, 0, 4, 0);
			run("fistpll", fistp_q, one, v, cw, 0, 0, 8, 0);
			run("fbstp", fbstp_, one, v, cw, 0, 0, 10, 0);
			if (r == 0) {
				run("fistps", fistp_s, one, v, cw, 0, 0, 2, 0);
				run("fistpl", fistp_l, one, v, cw, 0, 0, 4, 0);
				run("fisttps", fisttp_s, one, v, cw, 0, 0, 2, 0);
				run("fisttpl", fisttp_l, one, v, cw, 0, 0, 4, 0);
				run("fisttpll", fisttp_q, one, v, cw, 0, 0, 8, 0);
			}
		}
	}
	/* Stack and register moves. */
	static const struct {
		const char *name;
		runner f;
	} stackops[] = {{"fld st1", fld_st1}, {"fld st4(empty)", fld_st4}, {"fst st1", fst_st1},
		{"fstp st1", fstp_st1}, {"fstp st3(empty)", fstp_st3}, {"fxch st1", fxch_st1},
		{"fxch st3(empty)", fxch_st3}, {"ffree st1", ffree_st1}, {"ffreep st0", ffreep_st0},
		{"fincstp", fincstp_}, {"fdecstp", fdecstp_}, {"fnop", fnop_}, {"fwait", fwait_},
		{"fchs-free fnstsw ax", fnstsw_ax}, {"fnclex", fnclex_}};
	for (unsigned o = 0; o < sizeof stackops / sizeof stackops[0]; o++)
		for (unsigned i = 0; i < NEDGE; i += 4) run(stackops[o].name, stackops[o].f, &edge[i], &edge[(i * 7 + 3) % NEDGE], cw0, 0, 0, 0, 1);
	/* Comparisons. */
	static const struct {
		const char *name;
		runner f;
	} cmpops[] = {{"fcom st1", fcom_st1}, {"fcomp st1", fcomp_st1}, {"fcompp", fcompp_},
		{"fucom st1", fucom_st1}, {"fucomp st1", fucomp_st1}, {"fucompp", fucompp_},
		{"fcomi st1", fcomi_st1}, {"fcomip st1", fcomip_st1}, {"fucomi st1", fucomi_st1},
		{"fucomip st1", fucomip_st1}, {"fcom st2(empty)", fcom_st2}};
	for (unsigned o = 0; o < sizeof cmpops / sizeof cmpops[0]; o++)
		for (unsigned i = 0; i < NEDGE; i++)
			for (unsigned j = 0; j < NEDGE; j++)
				if ((i * 5 + j + o) % 6 == 0) run(cmpops[o].name, cmpops[o].f, &edge[i], &edge[j], cw0, 0, 0, 0, 1);
	for (unsigned i = 0; i < NEDGE; i++) {
		run("ftst", ftst_, one, &edge[i], cw0, 0, 0, 0, 1);
		run("fxam", fxam_, one, &edge[i], cw0, 0, 0, 0, 1);
		for (unsigned k = 0; k < sizeof m32s / sizeof m32s[0]; k += 2) run("fcoms", fcoms, one, &edge[i], cw0, &m32s[k], 4, 0, 1);
		for (unsigned k = 1; k < sizeof m64s / sizeof m64s[0]; k += 2) run("fcompl", fcompl, one, &edge[i], cw0, &m64s[k], 8, 0, 1);
		for (unsigned k = 0; k < sizeof ints / sizeof ints[0]; k += 3) {
			run("ficoms", ficoms, one, &edge[i], cw0, &ints[k], 2, 0, 1);
			run("ficompl", ficompl, one, &edge[i], cw0, &ints[k], 4, 0, 1);
		}
	}
	for (unsigned i = 0; i < NEDGE; i += 3) run("ffreep fxam", fxam_empty, &edge[i], &edge[(i + 5) % NEDGE], cw0, 0, 0, 0, 0);
	/* Conditional moves under each combination of CF ZF PF. */
	static const struct {
		const char *name;
		runner f;
	} cmovs[] = {{"fcmovb", fcmovb_}, {"fcmove", fcmove_}, {"fcmovbe", fcmovbe_}, {"fcmovu", fcmovu_},
		{"fcmovnb", fcmovnb_}, {"fcmovne", fcmovne_}, {"fcmovnbe", fcmovnbe_}, {"fcmovnu", fcmovnu_}};
	for (unsigned o = 0; o < 8; o++)
		for (unsigned k = 0; k < sizeof cflags / sizeof cflags[0]; k++) {
			cmovs[o].f(&edge[8], &edge[6], cflags[k]);
			report(cmovs[o].name, &edge[8], &edge[6], cflags[k], 0, 0);
		}
	/* Constants in every rounding mode. */
	static const struct {
		const char *name;
		runner f;
	} ks[] = {{"fld1", fld1_}, {"fldl2t", fldl2t_}, {"fldl2e", fldl2e_}, {"fldpi", fldpi_},
		{"fldlg2", fldlg2_}, {"fldln2", fldln2_}, {"fldz", fldz_}};
	for (unsigned o = 0; o < 7; o++)
		for (unsigned r = 0; r < 4; r++)
			for (unsigned p = 0; p < 3; p += 2) run(ks[o].name, ks[o].f, one, one, (u16)(0x7f | pcs[p] | rcs[r]), 0, 0, 0, 0);
	/* Control words, including the reserved and infinity-control bits. */
	static const u16 cws[] = {0x037f, 0x0000 | 0x3f, 0x1f7f, 0xffff, 0x0c3f, 0x027f, 0x017f, 0xe07f};
	for (unsigned k = 0; k < sizeof cws / sizeof cws[0]; k++) run("fldcw fnstcw", fldcw_, one, one, cw0, &cws[k], 2, 4, 0);
	/* Environment and state images (the operands are static: fixed addresses). */
	for (unsigned r = 0; r < 4; r++) {
		u16 cw = (u16)(0x037f | rcs[r]);
		run("fnstenv", fstenv_, &edge[14], &edge[7], cw, 0, 0, 28, 0);
		run("fnstenv16", fstenv16_, &edge[14], &edge[7], cw, 0, 0, 14, 0);
		run("fnsave frstor", fsave_, &edge[20], &edge[16], cw, 0, 0, 108, 0);
		run("fnsave16 frstor16", fsave16_, &edge[22], &edge[16], cw, 0, 0, 94, 0);
	}
	static const unsigned char env[28] = {0x7f, 0x0b, 0xff, 0xff, 0x05, 0x42, 0xff, 0xff, 0xff, 0x3f, 0xff, 0xff,
		0x78, 0x56, 0x34, 0x12, 0x33, 0x00, 0xd9, 0x05, 0x44, 0x33, 0x22, 0x11, 0x2b, 0x00, 0xff, 0xff};
	run("fldenv", fldenv_, one, &edge[3], cw0, env, 28, 0, 0);
	/* Stack overflow, masked, in two precisions. */
	overflow(0x037f);
	report("overflow", one, one, 0x037f, 0, 0);
	overflow(0x027f);
	report("overflow", one, one, 0x027f, 0, 0);
	return finish();
}
