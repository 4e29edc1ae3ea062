/* icase_x87_trans: x87 transcendental instruction cases: FSIN, FCOS, FSINCOS, FPTAN,
   FPATAN, F2XM1, FYL2X, FYL2XP1 over special operands (zeros, infinities, NaNs,
   denormals, out-of-range arguments) and sweeps of ordinary ones, in every rounding mode
   for some. Each case prints the status and tag words and ST(0), ST(1) in hex. The host's
   transcendentals are within one unit in the last place of the exact value but not always
   correctly rounded; the emulator's are, so testprogs/x87_test.go compares these lines
   allowing a last-place difference (and the C1 round-up bit that goes with it) in at most
   the measured fraction of the cases. */
#include "x87case.h"

static unsigned char save[108];

#define RUN(fn, text)                                                                      \
	static void fn(const u80 *a, const u80 *b, u16 cw) {                                    \
		__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfldt %[b]\n\t" text          \
				 "\n\tfnsave %[s]"                                                   \
				 : [s] "=m"(save)                                                    \
				 : [a] "m"(*a), [b] "m"(*b), [cw] "m"(cw)                            \
				 : "memory");                                                        \
	}

RUN(fsin_, "fsin")
RUN(fcos_, "fcos")
RUN(fsincos_, "fsincos")
RUN(fptan_, "fptan")
RUN(fpatan_, "fpatan")
RUN(f2xm1_, "f2xm1")
RUN(fyl2x_, "fyl2x")
RUN(fyl2xp1_, "fyl2xp1")

typedef void (*runner)(const u80 *, const u80 *, u16);

static void report(const char *name, const u80 *a, const u80 *b, u16 cw) {
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
	out("\n");
	ncases++;
}

static void one(const char *name, runner f, const u80 *a, const u80 *b, u16 cw) {
	f(a, b, cw);
	report(name, a, b, cw);
}

/* frac returns num / 2^sh (exactly, through the x87: FILD then FSCALE). */
static u80 frac(i64 num, int sh) {
	u80 r;
	int s = -sh;
	__asm__ volatile("fninit\n\tfildl %[s]\n\tfildll %[n]\n\tfscale\n\tfstpt %[r]\n\tfninit"
			 : [r] "=m"(r)
			 : [n] "m"(num), [s] "m"(s)
			 : "memory");
	return r;
}

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	static const struct {
		const char *name;
		runner f;
	} un[] = {{"fsin", fsin_}, {"fcos", fcos_}, {"fsincos", fsincos_}, {"fptan", fptan_}, {"f2xm1", f2xm1_}},
	  bin[] = {{"fpatan", fpatan_}, {"fyl2x", fyl2x_}, {"fyl2xp1", fyl2xp1_}};
	const u80 *one_ = &edge[2];
	u16 cw0 = 0x037f;
	/* Special operands. */
	for (unsigned o = 0; o < 5; o++)
		for (unsigned i = 0; i < NEDGE; i++) one(un[o].name, un[o].f, one_, &edge[i], cw0);
	for (unsigned o = 0; o < 3; o++)
		for (unsigned i = 0; i < NEDGE; i++)
			for (unsigned j = 0; j < NEDGE; j++)
				if ((i * 3 + j + o) % 5 == 0) one(bin[o].name, bin[o].f, &edge[j], &edge[i], cw0);
	/* Ordinary arguments: the trigonometric functions from -8 to 8 in steps of 1/16, and
	   large arguments up to and past 2^63; F2XM1 over [-1, 1]. */
	for (i64 k = -128; k <= 128; k += 3) {
		u80 x = frac(k * 11 + 5, 4 + 4);
		for (unsigned o = 0; o < 4; o++) one(un[o].name, un[o].f, one_, &x, (u16)(0x037f | rcs[(k + 128) % 4]));
	}
	for (int e = 2; e <= 64; e += 2) {
		u80 x = frac(0x6487ed5110b461ll ^ (i64)e, 54 - e); /* about pi * 2^(e-2) */
		for (unsigned o = 0; o < 4; o++) one(un[o].name, un[o].f, one_, &x, cw0);
	}
	for (i64 k = -64; k <= 64; k += 1) {
		u80 x = frac(k * 1000003 + 7, 26);
		one("f2xm1", f2xm1_, one_, &x, (u16)(0x037f | rcs[(k + 64) % 4]));
	}
	/* FPATAN, FYL2X, FYL2XP1 over ordinary operand pairs. */
	for (i64 i = -20; i <= 20; i += 3)
		for (i64 j = -20; j <= 20; j += 4) {
			u80 y = frac(i * 37 + 1, 5), x = frac(j * 53 + 3, 6);
			u80 px = frac((j + 21) * 997, 10);             /* positive */
			u80 sx = frac(j * 9001 + 11, 20 + (i & 7));    /* |x| < 0.29 */
			u16 cw = (u16)(0x037f | rcs[(i + j + 40) % 4]);
			one("fpatan", fpatan_, &y, &x, cw);
			one("fyl2x", fyl2x_, &y, &px, cw);
			one("fyl2xp1", fyl2xp1_, &y, &sx, cw);
		}
	return finish();
}
