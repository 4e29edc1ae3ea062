/* icase_int_alu: the ALU instructions (ADD, ADC, SUB, SBB, AND, OR, XOR, CMP, TEST, INC, DEC,
   NEG, NOT) at 8, 16, 32 and 64 bits, in register, memory-destination, memory-source,
   immediate and accumulator-immediate forms, over edge-value operands, starting once with
   every arithmetic flag clear and once with every one set (so ADC and SBB see both carries
   and INC, DEC and NOT show the flags they leave alone). */
#include "icase.h"

typedef u64 (*binfn)(u64 a, u64 b, u64 *f);

#define BIN_RR(name, ins, T)                                                              \
	static u64 name(u64 a, u64 b, u64 *f) {                                           \
		T x = (T)a, y = (T)b;                                                     \
		__asm__ volatile(FLAGS_AROUND(ins " %[y], %[x]")                          \
				 : [x] "+r"(x), [f] "+r"(*f) : [y] "r"(y) : "cc");        \
		return x;                                                                 \
	}
#define BIN_MR(name, ins, T)                                                              \
	static u64 name(u64 a, u64 b, u64 *f) {                                           \
		T m[1] = {(T)a}, y = (T)b;                                                \
		__asm__ volatile(FLAGS_AROUND(ins " %[y], (%[p])")                        \
				 : [f] "+r"(*f) : [y] "r"(y), [p] "r"(m) : "cc", "memory"); \
		return m[0];                                                              \
	}
#define BIN_RM(name, ins, T)                                                              \
	static u64 name(u64 a, u64 b, u64 *f) {                                           \
		T x = (T)a, m[1] = {(T)b};                                                \
		__asm__ volatile(FLAGS_AROUND(ins " (%[p]), %[x]")                        \
				 : [x] "+r"(x), [f] "+r"(*f) : [p] "r"(m) : "cc", "memory"); \
		return x;                                                                 \
	}
#define BIN_RI(name, ins, imm, T)                                                         \
	static u64 name(u64 a, u64 b, u64 *f) {                                           \
		T x = (T)a;                                                               \
		(void)b;                                                                  \
		__asm__ volatile(FLAGS_AROUND(ins " $" imm ", %[x]")                      \
				 : [x] "+r"(x), [f] "+r"(*f) : : "cc");                   \
		return x;                                                                 \
	}
#define BIN_MI(name, ins, imm, T)                                                         \
	static u64 name(u64 a, u64 b, u64 *f) {                                           \
		T m[1] = {(T)a};                                                          \
		(void)b;                                                                  \
		__asm__ volatile(FLAGS_AROUND(ins " $" imm ", (%[p])")                    \
				 : [f] "+r"(*f) : [p] "r"(m) : "cc", "memory");           \
		return m[0];                                                              \
	}
/* The accumulator forms (04/05 and friends): the operand is pinned to AL/AX/EAX/RAX. */
#define BIN_AI(name, ins, imm, T)                                                         \
	static u64 name(u64 a, u64 b, u64 *f) {                                           \
		T x = (T)a;                                                               \
		(void)b;                                                                  \
		__asm__ volatile(FLAGS_AROUND(ins " $" imm ", %[x]")                      \
				 : [x] "+a"(x), [f] "+r"(*f) : : "cc");                   \
		return x;                                                                 \
	}
#define UN_R(name, ins, T)                                                                \
	static u64 name(u64 a, u64 b, u64 *f) {                                           \
		T x = (T)a;                                                               \
		(void)b;                                                                  \
		__asm__ volatile(FLAGS_AROUND(ins " %[x]") : [x] "+r"(x), [f] "+r"(*f) : : "cc"); \
		return x;                                                                 \
	}
#define UN_M(name, ins, T)                                                                \
	static u64 name(u64 a, u64 b, u64 *f) {                                           \
		T m[1] = {(T)a};                                                          \
		(void)b;                                                                  \
		__asm__ volatile(FLAGS_AROUND(ins " (%[p])")                              \
				 : [f] "+r"(*f) : [p] "r"(m) : "cc", "memory");           \
		return m[0];                                                              \
	}

/* Every form of one binary operation at one size. */
#define BIN_FORMS(op, s, T, big)                                                          \
	BIN_RR(op##_rr_##s, #op #s, T)                                                    \
	BIN_MR(op##_mr_##s, #op #s, T)                                                    \
	BIN_RM(op##_rm_##s, #op #s, T)                                                    \
	BIN_RI(op##_ri1_##s, #op #s, "1", T)                                              \
	BIN_RI(op##_rim_##s, #op #s, "-1", T)                                             \
	BIN_RI(op##_rib_##s, #op #s, big, T)                                              \
	BIN_MI(op##_mi_##s, #op #s, "-0x80", T)                                           \
	BIN_AI(op##_ai_##s, #op #s, big, T)
#define BIN_SIZES(op)                                                                     \
	BIN_FORMS(op, b, u8, "0x5b")                                                      \
	BIN_FORMS(op, w, u16, "0x1235")                                                   \
	BIN_FORMS(op, l, u32, "0x12345679")                                               \
	BIN_FORMS(op, q, u64, "-0x12345679")

BIN_SIZES(add)
BIN_SIZES(adc)
BIN_SIZES(sub)
BIN_SIZES(sbb)
BIN_SIZES(and)
BIN_SIZES(or)
BIN_SIZES(xor)
BIN_SIZES(cmp)

#define TEST_FORMS(s, T, big)                                                             \
	BIN_RR(test_rr_##s, "test" #s, T)                                                 \
	BIN_MR(test_mr_##s, "test" #s, T)                                                 \
	BIN_RI(test_ri_##s, "test" #s, big, T)                                            \
	BIN_MI(test_mi_##s, "test" #s, "-0x80", T)                                        \
	BIN_AI(test_ai_##s, "test" #s, big, T)
TEST_FORMS(b, u8, "0x5b")
TEST_FORMS(w, u16, "0x1235")
TEST_FORMS(l, u32, "0x12345679")
TEST_FORMS(q, u64, "-0x12345679")

#define UN_FORMS(op, s, T) UN_R(op##_r_##s, #op #s, T) UN_M(op##_m_##s, #op #s, T)
#define UN_SIZES(op) UN_FORMS(op, b, u8) UN_FORMS(op, w, u16) UN_FORMS(op, l, u32) UN_FORMS(op, q, u64)
UN_SIZES(inc)
UN_SIZES(dec)
UN_SIZES(neg)
UN_SIZES(not)

#define LOGIC (CF | PF | ZF | SF | OF) /* AF is undefined after AND, OR, XOR, TEST */

/* run calls fn over n edge values of each operand (just the first one when unary) and
   both starting flag images. */
static void run(const char *name, binfn fn, int size, u64 defined, int n, int unary) {
	u64 v[17];
	n = edges(size, v, n);
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < (unary ? 1 : n); j++) {
			for (int cin = 0; cin < 2; cin++) {
				u64 f = cin ? FLAGS1 : FLAGS0;
				u64 r = fn(v[i], v[j], &f);
				begin(name);
				arg(v[i]);
				if (!unary) arg(v[j]);
				out_s(cin ? " F1 ->" : " F0 ->");
				arg(r & size_mask(size));
				out_flags(f, defined);
				end();
			}
		}
	}
}

#define RUN_BIN_SIZE(op, s, size, def)                                                    \
	run(#op #s " r,r", op##_rr_##s, size, def, 6, 0);                                 \
	run(#op #s " m,r", op##_mr_##s, size, def, 3, 0);                                 \
	run(#op #s " r,m", op##_rm_##s, size, def, 3, 0);                                 \
	run(#op #s " r,1", op##_ri1_##s, size, def, 5, 1);                                \
	run(#op #s " r,-1", op##_rim_##s, size, def, 5, 1);                               \
	run(#op #s " r,imm", op##_rib_##s, size, def, 5, 1);                              \
	run(#op #s " m,-0x80", op##_mi_##s, size, def, 5, 1);                            \
	run(#op #s " acc,imm", op##_ai_##s, size, def, 5, 1);
#define RUN_BIN(op, def)                                                                  \
	RUN_BIN_SIZE(op, b, 1, def) RUN_BIN_SIZE(op, w, 2, def)                           \
	RUN_BIN_SIZE(op, l, 4, def) RUN_BIN_SIZE(op, q, 8, def)
#define RUN_TEST(s, size)                                                                 \
	run("test" #s " r,r", test_rr_##s, size, LOGIC, 6, 0);                            \
	run("test" #s " m,r", test_mr_##s, size, LOGIC, 3, 0);                            \
	run("test" #s " r,imm", test_ri_##s, size, LOGIC, 5, 1);                          \
	run("test" #s " m,-0x80", test_mi_##s, size, LOGIC, 5, 1);                        \
	run("test" #s " acc,imm", test_ai_##s, size, LOGIC, 5, 1);
#define RUN_UN(op, def)                                                                   \
	run(#op "b r", op##_r_b, 1, def, 8, 1); run(#op "b m", op##_m_b, 1, def, 4, 1);   \
	run(#op "w r", op##_r_w, 2, def, 8, 1); run(#op "w m", op##_m_w, 2, def, 4, 1);   \
	run(#op "l r", op##_r_l, 4, def, 8, 1); run(#op "l m", op##_m_l, 4, def, 4, 1);   \
	run(#op "q r", op##_r_q, 8, def, 8, 1); run(#op "q m", op##_m_q, 8, def, 4, 1);

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	RUN_BIN(add, ARITH)
	RUN_BIN(adc, ARITH)
	RUN_BIN(sub, ARITH)
	RUN_BIN(sbb, ARITH)
	RUN_BIN(cmp, ARITH)
	RUN_BIN(and, LOGIC)
	RUN_BIN(or, LOGIC)
	RUN_BIN(xor, LOGIC)
	RUN_TEST(b, 1) RUN_TEST(w, 2) RUN_TEST(l, 4) RUN_TEST(q, 8)
	RUN_UN(inc, ARITH) /* CF is left alone, which is defined */
	RUN_UN(dec, ARITH)
	RUN_UN(neg, ARITH)
	RUN_UN(not, ARITH) /* no flag changes */
	return finish();
}
