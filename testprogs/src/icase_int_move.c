/* icase_int_move: data movement and control: MOV (and how each size writes the full
   register), MOVSX, MOVZX, MOVSXD, CBW..CQO, XCHG, XADD, CMPXCHG, CMPXCHG8B, CMPXCHG16B,
   MOVNTI, SETcc, CMOVcc and Jcc under every flag combination, LAHF, SAHF, PUSHF, POPF, CLC,
   STC, CMC, CLD, STD, LEA in every addressing form (and 32-bit address size), PUSH and POP
   (16- and 64-bit, registers, immediates, memory), ENTER with nesting levels and LEAVE,
   CALL and RET imm16, LOOP, LOOPE, LOOPNE, JRCXZ, JECXZ, XLAT, the NOP, PAUSE, fence,
   prefetch and CLFLUSH hints, and what CPUID, RDTSC and RDTSCP report that every processor
   shares. Every 64-bit register result is printed whole. */
#include "icase.h"

static u64 v[17];
static int nv;

static void line3(const char *name, u64 a, u64 b, u64 r) {
	begin(name); arg(a); arg(b); out_s(" ->"); arg(r); end();
}

/* Moves and extensions: the destination starts as a pattern so untouched bits show. */
#define PAT 0x1122334455667788UL
#define EXT(name, ins, ST)                                                                \
	static u64 name(u64 a) {                                                          \
		u64 d = PAT;                                                              \
		ST s = (ST)a;                                                             \
		__asm__(ins : "+r"(d) : "r"(s));                                          \
		return d;                                                                 \
	}                                                                                 \
	static u64 name##_m(u64 a) {                                                      \
		u64 d = PAT;                                                              \
		ST m[1] = {(ST)a};                                                        \
		__asm__ volatile(ins : "+r"(d) : "m"(m[0]));                              \
		return d;                                                                 \
	}
EXT(movsbw, "movsbw %1, %w0", u8)
EXT(movsbl, "movsbl %1, %k0", u8)
EXT(movsbq, "movsbq %1, %q0", u8)
EXT(movswl, "movswl %1, %k0", u16)
EXT(movswq, "movswq %1, %q0", u16)
EXT(movslq, "movslq %1, %q0", u32)
EXT(movzbw, "movzbw %1, %w0", u8)
EXT(movzbl, "movzbl %1, %k0", u8)
EXT(movzbq, "movzbq %1, %q0", u8)
EXT(movzwl, "movzwl %1, %k0", u16)
EXT(movzwq, "movzwq %1, %q0", u16)
EXT(movb, "movb %1, %b0", u8)
EXT(movw, "movw %1, %w0", u16)
EXT(movl, "movl %1, %k0", u32)
EXT(movq, "movq %1, %q0", u64)
/* MOVSXD with a 32-bit destination is a plain 32-bit move (it zero-extends). */
static u64 movsxd32(u64 a) {
	u64 d = PAT;
	u32 s = (u32)a;
	__asm__(".byte 0x63, 0xc0 + 8 * 0 + 1" : "+a"(d) : "c"(s)); /* movsxd eax, ecx */
	return d;
}

static u64 movabs(void) {
	u64 d;
	__asm__("movabsq $0x8877665544332211, %0" : "=r"(d));
	return d;
}

typedef u64 (*extfn)(u64);
static void run_ext(const char *name, extfn fn) {
	for (int i = 0; i < nv; i++) {
		begin(name); arg(v[i]); out_s(" ->"); arg(fn(v[i])); end();
	}
}

static void conv(void) {
	for (int i = 0; i < nv; i++) {
		u64 a, d;
		a = v[i], d = PAT; __asm__("cbtw" : "+a"(a)); line3("cbw", v[i], PAT, a);
		a = v[i]; __asm__("cwtl" : "+a"(a)); line3("cwde", v[i], 0, a);
		a = v[i]; __asm__("cltq" : "+a"(a)); line3("cdqe", v[i], 0, a);
		a = v[i], d = PAT; __asm__("cwtd" : "+a"(a), "+d"(d)); line3("cwd", v[i], a, d);
		a = v[i], d = PAT; __asm__("cltd" : "+a"(a), "+d"(d)); line3("cdq", v[i], a, d);
		a = v[i], d = PAT; __asm__("cqto" : "+a"(a), "+d"(d)); line3("cqo", v[i], a, d);
	}
}

/* XCHG, XADD and CMPXCHG at every size, register and memory forms. */
#define XCH(s, T, k)                                                                         \
	static void xchg_##s(u64 a, u64 b) {                                              \
		u64 x = a, y = b;                                                         \
		__asm__("xchg" #s " %" #k "[y], %" #k "[x]" : [x] "+r"(x), [y] "+r"(y));  \
		begin("xchg" #s " r,r"); arg(a); arg(b); out_s(" ->"); arg(x); arg(y); end(); \
		T m[1] = {(T)a};                                                          \
		y = b;                                                                    \
		__asm__ volatile("xchg" #s " %" #k "[y], %[m]" : [m] "+m"(m[0]), [y] "+r"(y)); \
		begin("xchg" #s " m,r"); arg(a); arg(b); out_s(" ->"); arg(m[0]); arg(y); end(); \
	}                                                                                 \
	static void xadd_##s(u64 a, u64 b, u64 f) {                                       \
		u64 x = a, y = b, g = f;                                                  \
		__asm__(FLAGS_AROUND("xadd" #s " %" #k "[y], %" #k "[x]") : [x] "+r"(x), [y] "+r"(y), [f] "+r"(g) : : "cc"); \
		begin("xadd" #s " r,r"); arg(a); arg(b); out_s(" ->"); arg(x); arg(y); out_flags(g, ARITH); end(); \
		T m[1] = {(T)a};                                                          \
		y = b, g = f;                                                             \
		__asm__ volatile(FLAGS_AROUND("lock xadd" #s " %" #k "[y], %[m]") : [m] "+m"(m[0]), [y] "+r"(y), [f] "+r"(g) : : "cc"); \
		begin("lock xadd" #s " m,r"); arg(a); arg(b); out_s(" ->"); arg(m[0]); arg(y); out_flags(g, ARITH); end(); \
	}                                                                                 \
	static void cmpxchg_##s(u64 acc, u64 dst, u64 src, u64 f) {                       \
		u64 a = acc, x = dst, g = f;                                              \
		__asm__(FLAGS_AROUND("cmpxchg" #s " %" #k "[y], %" #k "[x]") : "+a"(a), [x] "+r"(x), [f] "+r"(g) : [y] "r"(src) : "cc"); \
		begin("cmpxchg" #s " r,r"); arg(acc); arg(dst); arg(src); out_s(" ->"); arg(a); arg(x); out_flags(g, ARITH); end(); \
		T m[1] = {(T)dst};                                                        \
		a = acc, g = f;                                                           \
		__asm__ volatile(FLAGS_AROUND("lock cmpxchg" #s " %" #k "[y], %[m]") : "+a"(a), [m] "+m"(m[0]), [f] "+r"(g) : [y] "r"(src) : "cc"); \
		begin("lock cmpxchg" #s " m,r"); arg(acc); arg(dst); arg(src); out_s(" ->"); arg(a); arg(m[0]); out_flags(g, ARITH); end(); \
	}
XCH(b, u8, b)
XCH(w, u16, w)
XCH(l, u32, k)
XCH(q, u64, q)

static void exchanges(void) {
	for (int i = 0; i < nv; i++)
		for (int j = 0; j < nv; j += 2) {
			xchg_b(v[i], v[j]); xchg_w(v[i], v[j]); xchg_l(v[i], v[j]); xchg_q(v[i], v[j]);
			for (int cin = 0; cin < 2; cin++) {
				u64 f = cin ? FLAGS1 : FLAGS0;
				xadd_b(v[i], v[j], f); xadd_w(v[i], v[j], f); xadd_l(v[i], v[j], f); xadd_q(v[i], v[j], f);
				/* CMPXCHG with the accumulator equal to the destination, and not. */
				cmpxchg_b(v[i], v[i] ^ (u64)(j & 2) << 7, v[j], f);
				cmpxchg_w(v[i], v[i] ^ (u64)(j & 2) << 7, v[j], f);
				cmpxchg_l(v[i], v[i] ^ (u64)(j & 2) << 7, v[j], f);
				cmpxchg_q(v[i], v[i] ^ (u64)(j & 2) << 7, v[j], f);
				cmpxchg_q(v[i], v[j], PAT, f);
			}
		}
	/* CMPXCHG8B and CMPXCHG16B (16-byte aligned), equal and not. */
	static u64 m16[2] __attribute__((aligned(16)));
	for (int i = 0; i < nv; i++)
		for (int eq = 0; eq < 2; eq++) {
			u64 a = v[i], d = v[(i + 5) % nv], b = PAT, c = ~PAT, f = FLAGS0 | (eq ? 0 : ZF);
			m16[0] = eq ? (a & 0xffffffff) | d << 32 : v[(i + 1) % nv];
			m16[1] = 0;
			__asm__ volatile(FLAGS_AROUND("lock cmpxchg8b (%[p])") : "+a"(a), "+d"(d), [f] "+r"(f) : "b"(b), "c"(c), [p] "r"(m16) : "cc", "memory");
			begin("cmpxchg8b"); arg(v[i]); arg(v[(i + 5) % nv]); out_s(" ->"); arg(a); arg(d); arg(m16[0]); out_flags(f, ARITH); end();
			a = v[i], d = v[(i + 5) % nv], f = FLAGS1 & ~(eq ? 0 : ZF);
			m16[0] = eq ? a : v[(i + 1) % nv];
			m16[1] = eq ? d : v[(i + 2) % nv];
			__asm__ volatile(FLAGS_AROUND("lock cmpxchg16b (%[p])") : "+a"(a), "+d"(d), [f] "+r"(f) : "b"(b), "c"(c), [p] "r"(m16) : "cc", "memory");
			begin("cmpxchg16b"); arg(v[i]); arg(v[(i + 5) % nv]); out_s(" ->"); arg(a); arg(d); arg(m16[0]); arg(m16[1]); out_flags(f, ARITH); end();
		}
	/* MOVNTI */
	for (int i = 0; i < nv; i++) {
		u64 m[1] = {0};
		u32 m4[1] = {0};
		__asm__ volatile("movnti %1, %0" : "=m"(m[0]) : "r"(v[i]));
		__asm__ volatile("movnti %k1, %0" : "=m"(m4[0]) : "r"(v[i]));
		line3("movnti", v[i], m4[0], m[0]);
	}
}

/* The 32 combinations of CF, PF, ZF, SF and OF (AF plays no part in conditions). */
static u64 flag_image(int k) {
	return FLAGS0 | (k & 1 ? CF : 0) | (k & 2 ? PF : 0) | (k & 4 ? ZF : 0) | (k & 8 ? SF : 0) | (k & 16 ? OF : 0);
}

#define CC_LIST(X) X(o) X(no) X(b) X(ae) X(e) X(ne) X(be) X(a) X(s) X(ns) X(p) X(np) X(l) X(ge) X(le) X(g)
#define CC_FNS(cc)                                                                        \
	static u64 set_##cc(u64 f) {                                                      \
		u64 r = 0x5555;                                                           \
		__asm__(FLAGS_AROUND("set" #cc " %b[r]") : [r] "+q"(r), [f] "+r"(f) : : "cc"); \
		return r;                                                                 \
	}                                                                                 \
	static u64 setm_##cc(u64 f) {                                                     \
		u8 m[1] = {0x77};                                                         \
		__asm__ volatile(FLAGS_AROUND("set" #cc " (%[p])") : [f] "+r"(f) : [p] "r"(m) : "cc", "memory"); \
		return m[0];                                                              \
	}                                                                                 \
	static u64 cmovq_##cc(u64 f) {                                                    \
		u64 r = PAT;                                                              \
		__asm__(FLAGS_AROUND("cmov" #cc "q %[s], %[r]") : [r] "+r"(r), [f] "+r"(f) : [s] "r"(0xabcdef0123456789UL) : "cc"); \
		return r;                                                                 \
	}                                                                                 \
	static u64 cmovl_##cc(u64 f) {                                                    \
		u64 r = PAT;                                                              \
		__asm__(FLAGS_AROUND("cmov" #cc "l %k[s], %k[r]") : [r] "+r"(r), [f] "+r"(f) : [s] "r"(0xabcdef0123456789UL) : "cc"); \
		return r;                                                                 \
	}                                                                                 \
	static u64 cmovw_##cc(u64 f) {                                                    \
		u64 r = PAT, m[1] = {0xabcdef0123456789UL};                               \
		__asm__ volatile(FLAGS_AROUND("cmov" #cc "w (%[p]), %w[r]") : [r] "+r"(r), [f] "+r"(f) : [p] "r"(m) : "cc", "memory"); \
		return r;                                                                 \
	}                                                                                 \
	static u64 j_##cc(u64 f) {                                                        \
		u64 r = 0;                                                                \
		__asm__(FLAGS_AROUND("j" #cc " 1f\n\tmov $1, %k[r]\n1:") : [r] "+r"(r), [f] "+r"(f) : : "cc"); \
		return r;                                                                 \
	}
CC_LIST(CC_FNS)

static void conditions(void) {
	for (int k = 0; k < 32; k++) {
		u64 f = flag_image(k);
#define CC_RUN(cc)                                                                        \
		begin("set" #cc); arg(f); out_s(" ->"); arg(set_##cc(f)); arg(setm_##cc(f)); end(); \
		begin("cmov" #cc); arg(f); out_s(" ->"); arg(cmovq_##cc(f)); arg(cmovl_##cc(f)); arg(cmovw_##cc(f)); end(); \
		begin("j" #cc); arg(f); out_s(" ->"); arg(j_##cc(f)); end();
		CC_LIST(CC_RUN)
	}
}

/* Flag transfer and flag instructions. */
static void flagops(void) {
	for (int k = 0; k < 64; k++) {
		u64 f = flag_image(k & 31) | (k & 32 ? AF : 0), r = 0x1234, g;
		g = f; __asm__(FLAGS_AROUND("lahf") : "+a"(r), [f] "+r"(g) : : "cc");
		begin("lahf"); arg(f); out_s(" ->"); arg(r); end();
		r = (u64)k * 0x1357 << 2 | 2, g = FLAGS0 | (k & 1 ? OF : 0);
		__asm__(FLAGS_AROUND("sahf") : [f] "+r"(g) : "a"(r) : "cc");
		begin("sahf"); arg(r); out_s(" ->"); out_flags(g, ARITH); end();
		g = f; __asm__(FLAGS_AROUND("clc") : [f] "+r"(g) : : "cc"); begin("clc"); arg(f); out_flags(g, ARITH | DF); end();
		g = f; __asm__(FLAGS_AROUND("stc") : [f] "+r"(g) : : "cc"); begin("stc"); arg(f); out_flags(g, ARITH | DF); end();
		g = f; __asm__(FLAGS_AROUND("cmc") : [f] "+r"(g) : : "cc"); begin("cmc"); arg(f); out_flags(g, ARITH | DF); end();
		g = f; __asm__(FLAGS_AROUND("std\n\tpushfq\n\tcld\n\tpop %[r]") : [r] "=r"(r), [f] "+r"(g) : : "cc");
		begin("std"); arg(f); out_flags(r, ARITH | DF); end();
		g = f | DF; __asm__(FLAGS_AROUND("cld") : [f] "+r"(g) : : "cc"); begin("cld"); arg(f); out_flags(g, ARITH | DF); end();
		/* POPF and PUSHF, 64- and 16-bit: arithmetic flags and DF round-trip. */
		r = (u64)k * 0x9d5 & (ARITH | DF);
		__asm__("lea -128(%%rsp), %%rsp\n\tpushfq\n\tpush %[r]\n\tpopfq\n\tpushfq\n\tpop %[r]\n\tpopfq\n\tlea 128(%%rsp), %%rsp"
			: [r] "+r"(r) : : "cc");
		begin("popfq/pushfq"); arg((u64)k * 0x9d5 & (ARITH | DF)); out_s(" ->"); arg(r & (ARITH | DF)); end();
		r = (u64)k * 0x9d5 & (ARITH | DF);
		__asm__("lea -128(%%rsp), %%rsp\n\tpushfq\n\tpushw %w[r]\n\tpopfw\n\tpushfw\n\tpopw %w[r]\n\tpopfq\n\tlea 128(%%rsp), %%rsp"
			: [r] "+r"(r) : : "cc");
		begin("popfw/pushfw"); arg((u64)k * 0x9d5 & (ARITH | DF)); out_s(" ->"); arg(r & (ARITH | DF)); end();
	}
}

/* LEA: every addressing form. */
static void leas(void) {
	for (int i = 0; i < nv; i++)
		for (int j = 0; j < nv; j += 3) {
			u64 b = v[i], x = v[j], r;
			__asm__("lea (%1), %0" : "=r"(r) : "r"(b)); line3("lea (b)", b, x, r);
			__asm__("lea 0x7f(%1), %0" : "=r"(r) : "r"(b)); line3("lea d8(b)", b, x, r);
			__asm__("lea -0x12345678(%1), %0" : "=r"(r) : "r"(b)); line3("lea d32(b)", b, x, r);
			__asm__("lea (%1,%2), %0" : "=r"(r) : "r"(b), "r"(x)); line3("lea (b,i)", b, x, r);
			__asm__("lea 8(%1,%2,2), %0" : "=r"(r) : "r"(b), "r"(x)); line3("lea 8(b,i,2)", b, x, r);
			__asm__("lea -3(%1,%2,4), %0" : "=r"(r) : "r"(b), "r"(x)); line3("lea -3(b,i,4)", b, x, r);
			__asm__("lea 0x1000(%1,%2,8), %0" : "=r"(r) : "r"(b), "r"(x)); line3("lea d32(b,i,8)", b, x, r);
			__asm__("lea 0x40(,%1,8), %0" : "=r"(r) : "r"(x)); line3("lea d(,i,8)", 0, x, r);
			__asm__("lea (%k1,%k2,2), %k0" : "=r"(r) : "r"(b), "r"(x)); line3("lea32 (b,i,2)", b, x, r);
			__asm__("lea -0x10(%k1,%k2,8), %0" : "=r"(r) : "r"(b), "r"(x)); line3("addr32 lea -0x10(b,i,8)", b, x, r);
			__asm__("lea 0x7ffffff0(%k1), %0" : "=r"(r) : "r"(b)); line3("addr32 lea d32(b) wraps", b, x, r);
			r = PAT; __asm__("lea 3(%1,%2), %w0" : "+r"(r) : "r"(b), "r"(x)); line3("lea16 3(b,i)", b, x, r);
			r = PAT; __asm__("lea 5(%k1,%k2,4), %w0" : "+r"(r) : "r"(b), "r"(x)); line3("addr32 lea16", b, x, r);
		}
	/* RIP-relative: the distance to a label is what the code layout makes it. */
	u64 r1, r2;
	__asm__("lea 0f(%%rip), %0\n0:\n\tlea 0b(%%rip), %1" : "=r"(r1), "=r"(r2));
	line3("lea rip", 0, 0, r2 - r1);
}

/* stack_rel prints a value that may be a stack address relative to the frame pointer
   (stack addresses differ from run to run), and any other value as it is. */
static void stack_rel(u64 x, u64 rbp) {
	if (x - rbp < 0x1000 || rbp - x < 0x1000) {
		out_s(" rbp");
		out_c(x < rbp ? '-' : '+');
		out_x(x < rbp ? rbp - x : x - rbp);
	} else {
		arg(x);
	}
}

/* PUSH and POP in 64- and 16-bit forms: the words pushed and what is popped. */
static void stack_ops(void) {
	for (int i = 0; i < nv; i++) {
		u64 a = v[i], r1 = PAT, r2 = PAT, r3 = PAT, m[2] = {v[(i + 1) % nv], v[(i + 2) % nv]};
		__asm__ volatile("lea -128(%%rsp), %%rsp\n\t"
				 "push %[a]\n\tpop %[r1]\n\t"
				 "pushw %w[a]\n\tpushw $0x1234\n\tpopw %w[r2]\n\tpopw %w[r3]\n\t"
				 "lea 128(%%rsp), %%rsp"
				 : [r1] "+r"(r1), [r2] "+r"(r2), [r3] "+r"(r3) : [a] "r"(a) : "memory");
		begin("push/pop"); arg(a); out_s(" ->"); arg(r1); arg(r2); arg(r3); end();
		__asm__ volatile("lea -128(%%rsp), %%rsp\n\t"
				 "pushq (%[m])\n\tpushw 8(%[m])\n\tpushq $-2\n\tpush $0x12345678\n\t"
				 "popq %[r1]\n\tpopq %[r2]\n\tpopw (%[m])\n\tpopq 8(%[m])\n\t"
				 "lea 128(%%rsp), %%rsp"
				 : [r1] "+r"(r1), [r2] "+r"(r2) : [m] "r"(m) : "memory");
		begin("push/pop mem imm"); arg(v[(i + 1) % nv]); arg(v[(i + 2) % nv]); out_s(" ->"); arg(r1); arg(r2); arg(m[0]); arg(m[1]); end();
	}
	/* ENTER at every nesting level up to 33 (masked to 5 bits), then LEAVE. */
	static u64 frames[64];
#define ENTER_CASE(L)                                                                     \
	{                                                                                 \
		for (int k = 0; k < 64; k++) frames[k] = 0x1000 + (u64)k;                 \
		u64 out[6];                                                               \
		__asm__ volatile("lea -128(%%rsp), %%rsp\n\tpush %%rbp\n\tmov %[fp], %%rbp\n\t" \
				 "mov %%rsp, %%rbx\n\t"                                   \
				 "enter $0x18, $" #L "\n\t"                               \
				 "mov %%rbx, %%rax\n\tsub %%rsp, %%rax\n\tmov %%rax, 0(%[o])\n\t" \
				 "mov %%rbx, %%rax\n\tsub %%rbp, %%rax\n\tmov %%rax, 8(%[o])\n\t" \
				 "mov -8(%%rbp), %%rax\n\tmov %%rax, 16(%[o])\n\t"        \
				 "mov -16(%%rbp), %%rax\n\tmov %%rax, 24(%[o])\n\t"       \
				 "mov %%rbp, 40(%[o])\n\t"                                  \
				 "leave\n\tmov %%rbp, %%rax\n\tpop %%rbp\n\tlea 128(%%rsp), %%rsp\n\t" \
				 "sub %[fp], %%rax\n\tmov %%rax, 32(%[o])"                \
				 : : [fp] "r"(&frames[48]), [o] "r"(out) : "rax", "rbx", "memory"); \
		begin("enter 0x18, " #L); out_s(" ->");                                   \
		arg(out[0]); arg(out[1]);                                                 \
		if ((L) % 32 >= 1) stack_rel(out[2], out[5]);                             \
		if ((L) % 32 >= 2) stack_rel(out[3], out[5]);                             \
		arg(out[4]);                                                              \
		end();                                                                    \
	}
	ENTER_CASE(0) ENTER_CASE(1) ENTER_CASE(2) ENTER_CASE(3) ENTER_CASE(4) ENTER_CASE(7)
	ENTER_CASE(8) ENTER_CASE(15) ENTER_CASE(16) ENTER_CASE(31) ENTER_CASE(32) ENTER_CASE(33)
	/* CALL and RET imm16: the return pops the pushed words too. */
	for (int i = 0; i < 4; i++) {
		u64 r = 0, sp0, sp1;
		__asm__ volatile("lea -128(%%rsp), %%rsp\n\tmov %%rsp, %[s0]\n\t"
				 "push %[a]\n\tpush %[a]\n\tcall 1f\n\tjmp 2f\n"
				 "1:\tmov 8(%%rsp), %[r]\n\tret $16\n"
				 "2:\tmov %%rsp, %[s1]\n\tlea 128(%%rsp), %%rsp"
				 : [r] "+r"(r), [s0] "=&r"(sp0), [s1] "=&r"(sp1) : [a] "r"(v[i]) : "memory");
		begin("call; ret 16"); arg(v[i]); out_s(" ->"); arg(r); arg(sp0 - sp1); end();
	}
}

/* LOOP, LOOPE, LOOPNE, JRCXZ, JECXZ: how many times the body ran, and RCX after. */
static void loops(void) {
	/* LOOP with RCX = 0 would run 2^64 times: counts start at 1. The upper halves matter
	   only to JRCXZ and are ignored by the 32-bit forms. */
	static const u64 counts[] = {1, 2, 5, 7, 0x100000003, 0xffffffff00000001};
	for (int i = 0; i < 6; i++)
		for (int z = 0; z < 2; z++) {
			u64 f = z ? FLAGS1 : FLAGS0, c = counts[i] & 0xffffffff, n = 0;
			u64 c0 = c;
			__asm__(FLAGS_AROUND("1:\n\tlea 1(%[n]), %[n]\n\tloop 1b") : "+c"(c), [n] "+r"(n), [f] "+r"(f) : : "cc");
			begin("loop"); arg(c0); out_s(" ->"); arg(n); arg(c); end();
			c = c0, n = 0, f = z ? FLAGS1 : FLAGS0;
			__asm__(FLAGS_AROUND("1:\n\tlea 1(%[n]), %[n]\n\tloope 1b") : "+c"(c), [n] "+r"(n), [f] "+r"(f) : : "cc");
			begin(z ? "loope ZF=1" : "loope ZF=0"); arg(c0); out_s(" ->"); arg(n); arg(c); end();
			c = c0, n = 0, f = z ? FLAGS1 : FLAGS0;
			__asm__(FLAGS_AROUND("1:\n\tlea 1(%[n]), %[n]\n\tloopne 1b") : "+c"(c), [n] "+r"(n), [f] "+r"(f) : : "cc");
			begin(z ? "loopne ZF=1" : "loopne ZF=0"); arg(c0); out_s(" ->"); arg(n); arg(c); end();
			c = counts[i], n = 0;
			__asm__("1:\n\tlea 1(%[n]), %[n]\n\taddr32 loop 1b" : "+c"(c), [n] "+r"(n));
			begin("addr32 loop (ECX)"); arg(counts[i]); out_s(" ->"); arg(n); arg(c); end();
			c = counts[i] & (z ? ~0UL : 0xffffffff00000000UL), n = 0;
			__asm__("jrcxz 1f\n\tmov $1, %k[n]\n1:" : [n] "+r"(n) : "c"(c));
			begin("jrcxz"); arg(c); out_s(" ->"); arg(n); end();
			n = 0;
			__asm__("jecxz 1f\n\tmov $1, %k[n]\n1:" : [n] "+r"(n) : "c"(c));
			begin("jecxz"); arg(c); out_s(" ->"); arg(n); end();
		}
}

/* XLAT, and the hints that must change nothing. */
static void misc(void) {
	static u8 table[256];
	for (int i = 0; i < 256; i++) table[i] = (u8)(i * 37 + 11);
	for (int i = 0; i < nv; i++) {
		u64 a = v[i];
		__asm__("xlat" : "+a"(a) : "b"(table));
		line3("xlat", v[i], 0, a);
	}
	u64 m[8] = {1, 2, 3, 4, 5, 6, 7, 8}, f = FLAGS1, g = FLAGS0, r = PAT;
	__asm__ volatile(FLAGS_AROUND("nop\n\tnopw 0(%%rax,%%rax)\n\tnopl 0x10(%[p])\n\tpause\n\t"
				      "lfence\n\tmfence\n\tsfence\n\tprefetcht0 (%[p])\n\tprefetcht1 8(%[p])\n\t"
				      "prefetcht2 16(%[p])\n\tprefetchnta 24(%[p])\n\tprefetchw 32(%[p])\n\t"
				      "clflush (%[p])\n\tendbr64\n\txchg %%eax, %%eax")
			 : [f] "+r"(f), "+a"(r) : [p] "r"(m) : "cc", "memory");
	begin("nop pause fences prefetch clflush endbr64"); out_s(" ->"); arg(r); out_flags(f, ARITH); end();
	__asm__ volatile(FLAGS_AROUND("nop") : [f] "+r"(g) : : "cc");
	begin("nop"); out_s(" ->"); out_flags(g, ARITH); end();
}

/* CPUID, RDTSC and RDTSCP report values that differ between processors (and the emulator
   is a processor of its own), so only what every x86-64 CPU with these features shares is
   printed: printable vendor and brand strings, the baseline feature bits, a time-stamp
   counter that does not go backwards. */
static void cpuid(u32 leaf, u32 sub, u32 *r) {
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static int printable(const u32 *w, int n) {
	for (int i = 0; i < n; i++)
		for (int k = 0; k < 4; k++) {
			unsigned char ch = (unsigned char)(w[i] >> (8 * k));
			if (ch != 0 && (ch < 0x20 || ch > 0x7e)) return 0;
		}
	return 1;
}

static void identification(void) {
	u32 r[4], e[4], b[12];
	cpuid(0, 0, r);
	begin("cpuid 0: max leaf >= 7, vendor printable"); out_s(" ->"); arg(r[0] >= 7); arg(printable(r + 1, 3)); end();
	cpuid(1, 0, r);
	/* EDX: TSC, CX8, CMOV; ECX: CX16 */
	begin("cpuid 1: TSC CX8 CMOV CX16"); out_s(" ->"); arg(r[3] >> 4 & 1); arg(r[3] >> 8 & 1); arg(r[3] >> 15 & 1); arg(r[2] >> 13 & 1); end();
	cpuid(0x80000000, 0, e);
	begin("cpuid 80000000: max extended leaf >= 80000008"); out_s(" ->"); arg(e[0] >= 0x80000008); end();
	cpuid(0x80000001, 0, r);
	begin("cpuid 80000001: SYSCALL NX LM LAHF"); out_s(" ->"); arg(r[3] >> 11 & 1); arg(r[3] >> 20 & 1); arg(r[3] >> 29 & 1); arg(r[2] & 1); end();
	cpuid(0x80000002, 0, b);
	cpuid(0x80000003, 0, b + 4);
	cpuid(0x80000004, 0, b + 8);
	begin("cpuid 80000002-4: brand printable"); out_s(" ->"); arg(printable(b, 12)); end();
	cpuid(0x80000008, 0, r);
	begin("cpuid 80000008: 48-bit linear addresses, 36+ physical"); out_s(" ->"); arg(r[0] >> 8 & 0xff); arg((r[0] & 0xff) >= 36); end();
	u64 lo, hi, t1, t2, t3;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	t1 = hi << 32 | lo;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	t2 = hi << 32 | lo;
	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi) : : "rcx");
	t3 = hi << 32 | lo;
	begin("rdtsc, rdtsc, rdtscp: counts up"); out_s(" ->"); arg(t2 > t1); arg(t3 > t2); end();
}

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	nv = edges(8, v, 17);
	run_ext("movsbw r", movsbw); run_ext("movsbl r", movsbl); run_ext("movsbq r", movsbq);
	run_ext("movswl r", movswl); run_ext("movswq r", movswq); run_ext("movslq r", movslq);
	run_ext("movzbw r", movzbw); run_ext("movzbl r", movzbl); run_ext("movzbq r", movzbq);
	run_ext("movzwl r", movzwl); run_ext("movzwq r", movzwq);
	run_ext("movsbw m", movsbw_m); run_ext("movsbl m", movsbl_m); run_ext("movsbq m", movsbq_m);
	run_ext("movswl m", movswl_m); run_ext("movswq m", movswq_m); run_ext("movslq m", movslq_m);
	run_ext("movzbw m", movzbw_m); run_ext("movzbl m", movzbl_m); run_ext("movzbq m", movzbq_m);
	run_ext("movzwl m", movzwl_m); run_ext("movzwq m", movzwq_m);
	run_ext("movb r", movb); run_ext("movw r", movw); run_ext("movl r", movl); run_ext("movq r", movq);
	run_ext("movb m", movb_m); run_ext("movw m", movw_m); run_ext("movl m", movl_m); run_ext("movq m", movq_m);
	run_ext("movsxd r32", movsxd32);
	begin("movabs"); out_s(" ->"); arg(movabs()); end();
	conv();
	exchanges();
	conditions();
	flagops();
	leas();
	stack_ops();
	loops();
	misc();
	identification();
	return finish();
}
