/* icase_x87_arith: x87 arithmetic instruction cases. Every case loads two values (a into
   ST(1), b into ST(0)) under a control word, runs one instruction, saves the whole FPU
   state with FNSAVE and prints the status word, the tag word and ST(0), ST(1) in hex:
   identical output natively and emulated means identical results, flags (C0-C3, the six
   exception flags, SF) and stack effects, bit for bit. Cases: the register, pop and
   memory forms of FADD FSUB FSUBR FMUL FDIV FDIVR (and FIADD...), FSQRT, FRNDINT, FSCALE,
   FPREM, FPREM1, FXTRACT, FCHS, FABS over edge values, and sweeps of every precision and
   rounding control. */
#include "x87case.h"

static unsigned char save[108];
static unsigned char mem[16];

#define RUN(fn, text)                                                                      \
	static void fn(const u80 *a, const u80 *b, u16 cw) {                                    \
		__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfldt %[b]\n\t" text          \
				 "\n\tfnsave %[s]"                                                   \
				 : [s] "=m"(save)                                                    \
				 : [a] "m"(*a), [b] "m"(*b), [cw] "m"(cw), [m] "m"(mem)              \
				 : "memory");                                                        \
	}

/* Register forms (raw encodings: the AT&T mnemonics of the ST(i) forms are ambiguous). */
RUN(fadd_st0_st1, ".byte 0xd8,0xc1")
RUN(fmul_st0_st1, ".byte 0xd8,0xc9")
RUN(fsub_st0_st1, ".byte 0xd8,0xe1")
RUN(fsubr_st0_st1, ".byte 0xd8,0xe9")
RUN(fdiv_st0_st1, ".byte 0xd8,0xf1")
RUN(fdivr_st0_st1, ".byte 0xd8,0xf9")
RUN(fadd_st1_st0, ".byte 0xdc,0xc1")
RUN(fsub_st1_st0, ".byte 0xdc,0xe9")
RUN(fsubr_st1_st0, ".byte 0xdc,0xe1")
RUN(fdiv_st1_st0, ".byte 0xdc,0xf9")
RUN(fdivr_st1_st0, ".byte 0xdc,0xf1")
RUN(faddp, ".byte 0xde,0xc1")
RUN(fmulp, ".byte 0xde,0xc9")
RUN(fsubp, ".byte 0xde,0xe9")
RUN(fsubrp, ".byte 0xde,0xe1")
RUN(fdivp, ".byte 0xde,0xf9")
RUN(fdivrp, ".byte 0xde,0xf1")
RUN(fadd_st0_st5, ".byte 0xd8,0xc5") /* ST(5) is empty: stack underflow */
/* Memory forms. */
RUN(fadds, "fadds %[m]")
RUN(fsubs, "fsubs %[m]")
RUN(fsubrs, "fsubrs %[m]")
RUN(fmuls, "fmuls %[m]")
RUN(fdivs, "fdivs %[m]")
RUN(fdivrs, "fdivrs %[m]")
RUN(faddl, "faddl %[m]")
RUN(fsubl, "fsubl %[m]")
RUN(fsubrl, "fsubrl %[m]")
RUN(fmull, "fmull %[m]")
RUN(fdivl, "fdivl %[m]")
RUN(fdivrl, "fdivrl %[m]")
RUN(fiadds, "fiadds %[m]")
RUN(fisubs, "fisubs %[m]")
RUN(fisubrs, "fisubrs %[m]")
RUN(fimuls, "fimuls %[m]")
RUN(fidivs, "fidivs %[m]")
RUN(fidivrs, "fidivrs %[m]")
RUN(fiaddl, "fiaddl %[m]")
RUN(fisubl, "fisubl %[m]")
RUN(fisubrl, "fisubrl %[m]")
RUN(fimull, "fimull %[m]")
RUN(fidivl, "fidivl %[m]")
RUN(fidivrl, "fidivrl %[m]")
/* One- and two-operand specials. */
RUN(fsqrt_, "fsqrt")
RUN(frndint_, "frndint")
RUN(fchs_, "fchs")
RUN(fabs_, "fabs")
RUN(fxtract_, "fxtract")
RUN(fscale_, "fscale")
RUN(fprem_, "fprem")
RUN(fprem1_, "fprem1")

typedef void (*runner)(const u80 *, const u80 *, u16);

static const u16 *tw_of(void) { return (const u16 *)(save + 8); }

/* report prints one case: name, inputs, control word, then the FPU state after it. */
static void report(const char *name, const u80 *a, const u80 *b, const char *m, u16 cw) {
	out(name);
	out(" ");
	out80(a);
	out(" ");
	out80(b);
	if (m) {
		out(" m=");
		out(m);
	}
	out(" cw=");
	outhex(cw, 4);
	out(" -> sw=");
	outhex(*(const u16 *)(save + 4), 4);
	out(" tw=");
	outhex(*tw_of(), 4);
	out(" st0=");
	out80((const u80 *)(save + 28)); /* reads 16 bytes; only 10 are printed */
	out(" st1=");
	out80((const u80 *)(save + 38));
	out("\n");
	ncases++;
}

static void one(const char *name, runner f, const u80 *a, const u80 *b, u16 cw) {
	f(a, b, cw);
	report(name, a, b, 0, cw);
}

struct op {
	const char *name;
	runner f;
};

static const struct op regops[] = {
	{"fadd st0,st1", fadd_st0_st1}, {"fmul st0,st1", fmul_st0_st1}, {"fsub st0,st1", fsub_st0_st1},
	{"fsubr st0,st1", fsubr_st0_st1}, {"fdiv st0,st1", fdiv_st0_st1}, {"fdivr st0,st1", fdivr_st0_st1},
};
static const struct op regops2[] = {
	{"fadd st1,st0", fadd_st1_st0}, {"fsub st1,st0", fsub_st1_st0}, {"fsubr st1,st0", fsubr_st1_st0},
	{"fdiv st1,st0", fdiv_st1_st0}, {"fdivr st1,st0", fdivr_st1_st0}, {"faddp", faddp},
	{"fmulp", fmulp}, {"fsubp", fsubp}, {"fsubrp", fsubrp}, {"fdivp", fdivp}, {"fdivrp", fdivrp},
	{"fadd st0,st5(empty)", fadd_st0_st5},
};
static const struct op unops[] = {
	{"fsqrt", fsqrt_}, {"frndint", frndint_}, {"fchs", fchs_}, {"fabs", fabs_}, {"fxtract", fxtract_},
};
static const struct op binops[] = {
	{"fscale", fscale_}, {"fprem", fprem_}, {"fprem1", fprem1_},
};

/* Memory operands: single, double, 16- and 32-bit integers. */
static const u32 m32s[] = {0x00000000, 0x80000000, 0x3f800000, 0x40490fdb, 0x00000001, 0x807fffff,
	0x7f800000, 0xff800000, 0x7fc00001, 0x7f800001, 0x7f7fffff, 0x3eaaaaab};
static const u64 m64s[] = {0, 0x8000000000000000ULL, 0x3ff0000000000000ULL, 0x400921fb54442d18ULL,
	0x0000000000000001ULL, 0x800fffffffffffffULL, 0x7ff0000000000000ULL, 0x7ff8000000000001ULL,
	0x7ff0000000000001ULL, 0x7fefffffffffffffULL, 0x3fd5555555555555ULL, 0xc0934a4584f4c6e7ULL};
static const u16 m16s[] = {0, 1, 0xffff, 0x7fff, 0x8000, 3, 1000};
static const u32 m32is[] = {0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 3, 123456789};

static void hexmem(char *buf, const void *p, int n) {
	const unsigned char *b = p;
	for (int i = n - 1, j = 0; i >= 0; i--, j += 2) {
		buf[j] = "0123456789abcdef"[b[i] >> 4];
		buf[j + 1] = "0123456789abcdef"[b[i] & 15];
	}
	buf[2 * n] = 0;
}

static void memcase(const char *name, runner f, const u80 *b, const void *m, int n, u16 cw) {
	char hx[40];
	memset(mem, 0, sizeof mem);
	memcpy(mem, m, (u64)n);
	hexmem(hx, m, n);
	f(&edge[0], b, cw);
	report(name, &edge[0], b, hx, cw);
}

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	u16 cw0 = 0x037f;
	/* Every edge pair through the register forms at the default control word. */
	for (unsigned o = 0; o < sizeof regops / sizeof regops[0]; o++)
		for (unsigned i = 0; i < NEDGE; i++)
			for (unsigned j = 0; j < NEDGE; j++)
				if ((i + j + o) % 3 == 0) one(regops[o].name, regops[o].f, &edge[i], &edge[j], cw0);
	for (unsigned o = 0; o < sizeof regops2 / sizeof regops2[0]; o++)
		for (unsigned i = 0; i < NEDGE; i += 3)
			for (unsigned j = 1; j < NEDGE; j += 5) one(regops2[o].name, regops2[o].f, &edge[i], &edge[j], cw0);
	/* Every precision and rounding control over finite values. */
	for (unsigned p = 0; p < 3; p++)
		for (unsigned r = 0; r < 4; r++) {
			u16 cw = (u16)(0x007f | pcs[p] | rcs[r]);
			for (unsigned o = 0; o < sizeof regops / sizeof regops[0]; o++)
				for (unsigned i = 0; i < NFINITE; i++)
					for (unsigned j = 0; j < NFINITE; j++)
						if ((i * 7 + j * 3 + o) % 8 == 0) one(regops[o].name, regops[o].f, &finite[i], &finite[j], cw);
			for (unsigned i = 0; i < NFINITE; i++) {
				one("fsqrt", fsqrt_, &finite[0], &finite[i], cw);
				one("frndint", frndint_, &finite[0], &finite[i], cw);
			}
		}
	/* Unary operations over every edge value, with two rounding modes. */
	for (unsigned o = 0; o < sizeof unops / sizeof unops[0]; o++)
		for (unsigned i = 0; i < NEDGE; i++) {
			one(unops[o].name, unops[o].f, &edge[2], &edge[i], cw0);
			one(unops[o].name, unops[o].f, &edge[2], &edge[i], 0x0f7f);
		}
	/* FSCALE, FPREM, FPREM1: edge pairs, and finite pairs with exponent gaps. */
	for (unsigned o = 0; o < sizeof binops / sizeof binops[0]; o++) {
		for (unsigned i = 0; i < NEDGE; i += 2)
			for (unsigned j = 0; j < NEDGE; j += 3) one(binops[o].name, binops[o].f, &edge[j], &edge[i], cw0);
		for (unsigned i = 0; i < NFINITE; i++)
			for (unsigned j = 0; j < NFINITE; j++) one(binops[o].name, binops[o].f, &finite[j], &finite[i], 0x077f);
	}
	/* Memory forms. */
	static const struct op m32ops[] = {{"fadds", fadds}, {"fsubs", fsubs}, {"fsubrs", fsubrs},
		{"fmuls", fmuls}, {"fdivs", fdivs}, {"fdivrs", fdivrs}};
	static const struct op m64ops[] = {{"faddl", faddl}, {"fsubl", fsubl}, {"fsubrl", fsubrl},
		{"fmull", fmull}, {"fdivl", fdivl}, {"fdivrl", fdivrl}};
	static const struct op i16ops[] = {{"fiadds", fiadds}, {"fisubs", fisubs}, {"fisubrs", fisubrs},
		{"fimuls", fimuls}, {"fidivs", fidivs}, {"fidivrs", fidivrs}};
	static const struct op i32ops[] = {{"fiaddl", fiaddl}, {"fisubl", fisubl}, {"fisubrl", fisubrl},
		{"fimull", fimull}, {"fidivl", fidivl}, {"fidivrl", fidivrl}};
	for (unsigned o = 0; o < 6; o++)
		for (unsigned i = 0; i < NEDGE; i += 5) {
			u16 cw = (u16)(0x007f | pcs[i % 3] | rcs[(i / 5) % 4]);
			for (unsigned k = 0; k < sizeof m32s / sizeof m32s[0]; k++)
				memcase(m32ops[o].name, m32ops[o].f, &edge[i], &m32s[k], 4, cw);
			for (unsigned k = 0; k < sizeof m64s / sizeof m64s[0]; k++)
				memcase(m64ops[o].name, m64ops[o].f, &edge[i], &m64s[k], 8, cw);
			for (unsigned k = 0; k < sizeof m16s / sizeof m16s[0]; k++)
				memcase(i16ops[o].name, i16ops[o].f, &edge[i], &m16s[k], 2, cw);
			for (unsigned k = 0; k < sizeof m32is / sizeof m32is[0]; k++)
				memcase(i32ops[o].name, i32ops[o].f, &edge[i], &m32is[k], 4, cw);
		}
	return finish();
}
