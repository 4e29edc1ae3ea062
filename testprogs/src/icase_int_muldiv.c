/* icase_int_muldiv: MUL, IMUL (one, two and three operands), DIV and IDIV at every size, on
   registers and memory, over edge-value operands. MUL and IMUL define CF and OF only; DIV
   and IDIV define no flags. Dividends are built so every quotient fits; at the end a
   division by zero kills the program with SIGFPE, natively and on the emulator alike. */
#include "icase.h"

/* One-operand forms: hi:lo is the implicit operand (AX for bytes: hi unused), y the source. */
typedef void (*onefn)(u64 *lo, u64 *hi, u64 y, u64 *f);

#define ONE8(name, ins, mem)                                                              \
	static void name(u64 *lo, u64 *hi, u64 y, u64 *f) {                               \
		u16 ax = (u16)*lo;                                                        \
		u8 v[1] = {(u8)y};                                                        \
		(void)hi;                                                                 \
		if (mem)                                                                  \
			__asm__ volatile(FLAGS_AROUND(ins "b (%[p])")                     \
					 : "+a"(ax), [f] "+r"(*f) : [p] "r"(v) : "cc", "memory"); \
		else                                                                      \
			__asm__ volatile(FLAGS_AROUND(ins "b %[y]")                       \
					 : "+a"(ax), [f] "+r"(*f) : [y] "q"(v[0]) : "cc");    \
		*lo = ax;                                                                 \
	}
#define ONE(name, ins, s, T, mem)                                                         \
	static void name(u64 *lo, u64 *hi, u64 y, u64 *f) {                               \
		T a = (T)*lo, d = (T)*hi, v[1] = {(T)y};                                  \
		if (mem)                                                                  \
			__asm__ volatile(FLAGS_AROUND(ins #s " (%[p])")                   \
					 : "+a"(a), "+d"(d), [f] "+r"(*f) : [p] "r"(v) : "cc", "memory"); \
		else                                                                      \
			__asm__ volatile(FLAGS_AROUND(ins #s " %[y]")                     \
					 : "+a"(a), "+d"(d), [f] "+r"(*f) : [y] "r"(v[0]) : "cc"); \
		*lo = a, *hi = d;                                                         \
	}
#define ONE_ALL(op)                                                                       \
	ONE8(op##_r_b, #op, 0) ONE8(op##_m_b, #op, 1)                                     \
	ONE(op##_r_w, #op, w, u16, 0) ONE(op##_m_w, #op, w, u16, 1)                       \
	ONE(op##_r_l, #op, l, u32, 0) ONE(op##_m_l, #op, l, u32, 1)                       \
	ONE(op##_r_q, #op, q, u64, 0) ONE(op##_m_q, #op, q, u64, 1)
ONE_ALL(mul)
ONE_ALL(imul)
ONE_ALL(div)
ONE_ALL(idiv)

/* Two- and three-operand IMUL. */
typedef u64 (*twofn)(u64 a, u64 b, u64 *f);
#define IMUL2(s, T)                                                                       \
	static u64 imul_rr_##s(u64 a, u64 b, u64 *f) {                                    \
		T x = (T)a, y = (T)b;                                                     \
		__asm__ volatile(FLAGS_AROUND("imul" #s " %[y], %[x]")                    \
				 : [x] "+r"(x), [f] "+r"(*f) : [y] "r"(y) : "cc");        \
		return x;                                                                 \
	}                                                                                 \
	static u64 imul_rm_##s(u64 a, u64 b, u64 *f) {                                    \
		T x = (T)a, m[1] = {(T)b};                                                \
		__asm__ volatile(FLAGS_AROUND("imul" #s " (%[p]), %[x]")                  \
				 : [x] "+r"(x), [f] "+r"(*f) : [p] "r"(m) : "cc", "memory"); \
		return x;                                                                 \
	}                                                                                 \
	static u64 imul_ri8_##s(u64 a, u64 b, u64 *f) {                                   \
		T x = 0, y = (T)a;                                                        \
		(void)b;                                                                  \
		__asm__ volatile(FLAGS_AROUND("imul" #s " $-7, %[y], %[x]")               \
				 : [x] "=&r"(x), [f] "+r"(*f) : [y] "r"(y) : "cc");       \
		return x;                                                                 \
	}                                                                                 \
	static u64 imul_ri_##s(u64 a, u64 b, u64 *f) {                                    \
		T x = 0, y = (T)a;                                                        \
		(void)b;                                                                  \
		__asm__ volatile(FLAGS_AROUND("imul" #s " $0x4321, %[y], %[x]")           \
				 : [x] "=&r"(x), [f] "+r"(*f) : [y] "r"(y) : "cc");       \
		return x;                                                                 \
	}                                                                                 \
	static u64 imul_mi_##s(u64 a, u64 b, u64 *f) {                                    \
		T x = 0, m[1] = {(T)a};                                                   \
		(void)b;                                                                  \
		__asm__ volatile(FLAGS_AROUND("imul" #s " $0x71, (%[p]), %[x]")           \
				 : [x] "=&r"(x), [f] "+r"(*f) : [p] "r"(m) : "cc", "memory"); \
		return x;                                                                 \
	}
IMUL2(w, u16)
IMUL2(l, u32)
IMUL2(q, u64)

static void run_mul(const char *name, onefn fn, int size, int n) {
	u64 v[17];
	n = edges(size, v, n);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			for (int cin = 0; cin < 2; cin++) {
				u64 f = cin ? FLAGS1 : FLAGS0, lo = v[i], hi = 0x5555555555555555 & size_mask(size);
				fn(&lo, &hi, v[j], &f);
				begin(name);
				arg(v[i]);
				arg(v[j]);
				out_s(cin ? " F1 ->" : " F0 ->");
				arg(lo & size_mask(size == 1 ? 2 : size));
				if (size > 1) arg(hi & size_mask(size));
				out_flags(f, CF | OF);
				end();
			}
}

static u64 sext(u64 v, int size) {
	int sh = 64 - size * 8;
	return (u64)((i64)(v << sh) >> sh);
}

/* run_div divides by every non-zero edge value dividends that fit: unsigned ones with a
   high half below the divisor, signed ones whose high half is the low half's sign (and
   not MIN / -1), and the largest quotient each allows. */
static void run_div(const char *name, onefn fn, int size, int n, int sig) {
	u64 v[17], m = size_mask(size);
	n = edges(size, v, n);
	for (int i = 0; i < n; i++) {
		u64 d = v[i];
		if (d == 0) continue;
		for (int j = 0; j < n + 1; j++) {
			u64 lo, hi;
			if (j < n) {
				lo = v[j];
				hi = sig ? (u64)((i64)sext(lo, size) >> 63) & m : 0;
				if (sig && d == m && lo == (1UL << (size * 8 - 1))) continue; /* MIN / -1 */
			} else if (!sig) {
				lo = v[(i + 1) % n], hi = d - 1; /* the largest high half */
			} else {
				continue;
			}
			u64 f = FLAGS0, rl = lo, rh = hi;
			if (size == 1) rl = hi << 8 | lo;
			fn(&rl, &rh, d, &f);
			begin(name);
			arg(hi);
			arg(lo);
			arg(d);
			out_s(" ->");
			if (size == 1) {
				arg(rl & 0xff);
				arg(rl >> 8 & 0xff);
			} else {
				arg(rl & m);
				arg(rh & m);
			}
			end();
		}
	}
}

static void run_two(const char *name, twofn fn, int size, int n, int unary) {
	u64 v[17];
	n = edges(size, v, n);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < (unary ? 1 : n); j++)
			for (int cin = 0; cin < 2; cin++) {
				u64 f = cin ? FLAGS1 : FLAGS0;
				u64 r = fn(v[i], v[j], &f);
				begin(name);
				arg(v[i]);
				if (!unary) arg(v[j]);
				out_s(cin ? " F1 ->" : " F0 ->");
				arg(r & size_mask(size));
				out_flags(f, CF | OF);
				end();
			}
}

#define RUN_MUL(op)                                                                       \
	run_mul(#op "b r", op##_r_b, 1, 8); run_mul(#op "b m", op##_m_b, 1, 4);           \
	run_mul(#op "w r", op##_r_w, 2, 8); run_mul(#op "w m", op##_m_w, 2, 4);           \
	run_mul(#op "l r", op##_r_l, 4, 8); run_mul(#op "l m", op##_m_l, 4, 4);           \
	run_mul(#op "q r", op##_r_q, 8, 8); run_mul(#op "q m", op##_m_q, 8, 4);
#define RUN_DIV(op, sig)                                                                  \
	run_div(#op "b r", op##_r_b, 1, 8, sig); run_div(#op "b m", op##_m_b, 1, 4, sig); \
	run_div(#op "w r", op##_r_w, 2, 8, sig); run_div(#op "w m", op##_m_w, 2, 4, sig); \
	run_div(#op "l r", op##_r_l, 4, 8, sig); run_div(#op "l m", op##_m_l, 4, 4, sig); \
	run_div(#op "q r", op##_r_q, 8, 8, sig); run_div(#op "q m", op##_m_q, 8, 4, sig);
#define RUN_IMUL2(s, size)                                                                \
	run_two("imul" #s " r,r", imul_rr_##s, size, 7, 0);                               \
	run_two("imul" #s " r,m", imul_rm_##s, size, 4, 0);                               \
	run_two("imul" #s " r,r,-7", imul_ri8_##s, size, 8, 1);                           \
	run_two("imul" #s " r,r,0x4321", imul_ri_##s, size, 8, 1);                        \
	run_two("imul" #s " r,m,0x71", imul_mi_##s, size, 8, 1);

int main(int argc, char **argv, char **envp) {
	(void)argv, (void)envp;
	RUN_MUL(mul)
	RUN_MUL(imul)
	RUN_IMUL2(w, 2) RUN_IMUL2(l, 4) RUN_IMUL2(q, 8)
	RUN_DIV(div, 0)
	RUN_DIV(idiv, 1)
	finish();
	/* #DE: divide by zero (argc is 1, so the divisor is 0 but not known at compile time). */
	u64 lo = 1, hi = 0, f = FLAGS0;
	div_r_q(&lo, &hi, (u64)argc - 1, &f);
	return 0;
}
