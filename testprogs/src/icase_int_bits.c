/* icase_int_bits: BT, BTS, BTR, BTC with immediate and register bit offsets, on registers
   and on memory (where a register offset addresses a bit string, reaching below and above
   the operand), BSF and BSR (ZF, and the index when the source is not zero) and BSWAP at 32
   and 64 bits. Only CF is defined after the bit tests (ZF is unaffected). */
#include "icase.h"

typedef u64 (*btfn)(u64 a, u64 off, u64 *f);

#define BT_R(name, ins, T)                                                                \
	static u64 name(u64 a, u64 off, u64 *f) {                                         \
		T x = (T)a, o = (T)off;                                                   \
		__asm__ volatile(FLAGS_AROUND(ins " %[o], %[x]")                          \
				 : [x] "+r"(x), [f] "+r"(*f) : [o] "r"(o) : "cc");        \
		return x;                                                                 \
	}
#define BT_RI(name, ins, imm, T)                                                          \
	static u64 name(u64 a, u64 off, u64 *f) {                                         \
		T x = (T)a;                                                               \
		(void)off;                                                                \
		__asm__ volatile(FLAGS_AROUND(ins " $" imm ", %[x]")                      \
				 : [x] "+r"(x), [f] "+r"(*f) : : "cc");                   \
		return x;                                                                 \
	}
#define BT_MI(name, ins, imm, T)                                                          \
	static u64 name(u64 a, u64 off, u64 *f) {                                         \
		T m[1] = {(T)a};                                                          \
		(void)off;                                                                \
		__asm__ volatile(FLAGS_AROUND(ins " $" imm ", (%[p])")                    \
				 : [f] "+r"(*f) : [p] "r"(m) : "cc", "memory");           \
		return m[0];                                                              \
	}

/* The bit string: 8 quadwords; the operand is the fourth, so register offsets from -192 to
   +319 bits stay inside it. bt_m returns the quadword the offset selects, after the op. */
static u64 bits_area[8];
#define BT_M(name, ins, T)                                                                \
	static u64 name(u64 a, u64 off, u64 *f) {                                         \
		T o = (T)off;                                                             \
		for (int i = 0; i < 8; i++) bits_area[i] = a ^ (u64)i * 0x0101010101010101; \
		__asm__ volatile(FLAGS_AROUND(ins " %[o], (%[p])")                        \
				 : [f] "+r"(*f) : [o] "r"(o), [p] "r"(&bits_area[3]) : "cc", "memory"); \
		u64 h = 0;                                                                \
		for (int i = 0; i < 8; i++) h = h * 31 + bits_area[i];                    \
		return h;                                                                 \
	}

#define BT_FORMS(op, s, T)                                                                \
	BT_R(op##_r_##s, #op #s, T) BT_RI(op##_i_##s, #op #s, "13", T)                    \
	BT_RI(op##_i2_##s, #op #s, "77", T) BT_MI(op##_mi_##s, #op #s, "5", T)            \
	BT_M(op##_m_##s, #op #s, T)
#define BT_SIZES(op) BT_FORMS(op, w, u16) BT_FORMS(op, l, u32) BT_FORMS(op, q, u64)
BT_SIZES(bt)
BT_SIZES(bts)
BT_SIZES(btr)
BT_SIZES(btc)

static const i64 reg_offsets[] = {0, 1, 15, 16, 31, 32, 63, 64, 100, -1, -17, -64, -100, 255};
static const i64 mem_offsets[] = {0, 3, 15, 16, 31, 33, 63, 64, 130, -1, -9, -16, -33, -64, -130, -192, 200, 319};

static void run_bt(const char *name, btfn fn, int size, int n, const i64 *offs, int noffs, int mem) {
	u64 v[17];
	n = edges(size, v, n);
	for (int i = 0; i < n; i++)
		for (int o = 0; o < noffs; o++)
			for (int cin = 0; cin < 2; cin++) {
				u64 f = cin ? FLAGS1 : FLAGS0;
				u64 off = (u64)offs[o];
				if (mem && size == 2 && (offs[o] > 16 * 12 || offs[o] < -16 * 12)) continue;
				u64 r = fn(v[i], off, &f);
				begin(name);
				arg(v[i]);
				arg(off & size_mask(size));
				out_s(cin ? " F1 ->" : " F0 ->");
				arg(mem ? r : r & size_mask(size));
				out_flags(f, CF | ZF);
				end();
			}
}

typedef u64 (*scanfn)(u64 src, u64 dst, u64 *f);
#define SCAN(name, ins, T)                                                                \
	static u64 name(u64 src, u64 dst, u64 *f) {                                       \
		T s = (T)src, d = (T)dst;                                                 \
		__asm__ volatile(FLAGS_AROUND(ins " %[s], %[d]")                          \
				 : [d] "+r"(d), [f] "+r"(*f) : [s] "r"(s) : "cc");        \
		return d;                                                                 \
	}                                                                                 \
	static u64 name##_m(u64 src, u64 dst, u64 *f) {                                   \
		T m[1] = {(T)src}, d = (T)dst;                                            \
		__asm__ volatile(FLAGS_AROUND(ins " (%[p]), %[d]")                        \
				 : [d] "+r"(d), [f] "+r"(*f) : [p] "r"(m) : "cc", "memory"); \
		return d;                                                                 \
	}
SCAN(bsf_w, "bsfw", u16)
SCAN(bsf_l, "bsfl", u32)
SCAN(bsf_q, "bsfq", u64)
SCAN(bsr_w, "bsrw", u16)
SCAN(bsr_l, "bsrl", u32)
SCAN(bsr_q, "bsrq", u64)

static void run_scan(const char *name, scanfn fn, int size) {
	static const u64 extra[] = {0x10, 0x1000, 0x40000000, 0x800000000000, 0x0100000000000000, 0x1234000};
	u64 v[17 + 6];
	int n = edges(size, v, 17);
	for (int i = 0; i < 6; i++) v[n++] = extra[i] & size_mask(size);
	for (int i = 0; i < n; i++)
		for (int cin = 0; cin < 2; cin++) {
			u64 f = cin ? FLAGS1 : FLAGS0;
			u64 r = fn(v[i], 0x3c3c3c3c3c3c3c3c, &f);
			begin(name);
			arg(v[i]);
			out_s(cin ? " F1 ->" : " F0 ->");
			if (v[i] != 0) arg(r & size_mask(size)); /* with a zero source, undefined */
			out_flags(f, ZF);
			end();
		}
}

static u64 bswap_l(u64 a) {
	u32 x = (u32)a;
	__asm__("bswapl %0" : "+r"(x));
	return x;
}
static u64 bswap_q(u64 a) {
	__asm__("bswapq %0" : "+r"(a));
	return a;
}
/* BSWAP r32 zero-extends into the 64-bit register. */
static u64 bswap_l64(u64 a) {
	__asm__("bswapl %k0" : "+r"(a));
	return a;
}

#define NREG (int)(sizeof reg_offsets / sizeof reg_offsets[0])
#define NMEM (int)(sizeof mem_offsets / sizeof mem_offsets[0])
#define RUN_BT(op)                                                                        \
	run_bt(#op "w r,r", op##_r_w, 2, 4, reg_offsets, NREG, 0);                        \
	run_bt(#op "l r,r", op##_r_l, 4, 4, reg_offsets, NREG, 0);                        \
	run_bt(#op "q r,r", op##_r_q, 8, 4, reg_offsets, NREG, 0);                        \
	run_bt(#op "w r,13", op##_i_w, 2, 6, reg_offsets, 1, 0);                          \
	run_bt(#op "l r,13", op##_i_l, 4, 6, reg_offsets, 1, 0);                          \
	run_bt(#op "q r,13", op##_i_q, 8, 6, reg_offsets, 1, 0);                          \
	run_bt(#op "w r,77", op##_i2_w, 2, 6, reg_offsets, 1, 0);                         \
	run_bt(#op "l r,77", op##_i2_l, 4, 6, reg_offsets, 1, 0);                         \
	run_bt(#op "q r,77", op##_i2_q, 8, 6, reg_offsets, 1, 0);                         \
	run_bt(#op "w m,5", op##_mi_w, 2, 6, reg_offsets, 1, 0);                          \
	run_bt(#op "l m,5", op##_mi_l, 4, 6, reg_offsets, 1, 0);                          \
	run_bt(#op "q m,5", op##_mi_q, 8, 6, reg_offsets, 1, 0);                          \
	run_bt(#op "w m,r", op##_m_w, 2, 3, mem_offsets, NMEM, 1);                        \
	run_bt(#op "l m,r", op##_m_l, 4, 3, mem_offsets, NMEM, 1);                        \
	run_bt(#op "q m,r", op##_m_q, 8, 3, mem_offsets, NMEM, 1);

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	RUN_BT(bt)
	RUN_BT(bts)
	RUN_BT(btr)
	RUN_BT(btc)
	run_scan("bsfw r", bsf_w, 2); run_scan("bsfl r", bsf_l, 4); run_scan("bsfq r", bsf_q, 8);
	run_scan("bsrw r", bsr_w, 2); run_scan("bsrl r", bsr_l, 4); run_scan("bsrq r", bsr_q, 8);
	run_scan("bsfw m", bsf_w_m, 2); run_scan("bsfl m", bsf_l_m, 4); run_scan("bsfq m", bsf_q_m, 8);
	run_scan("bsrw m", bsr_w_m, 2); run_scan("bsrl m", bsr_l_m, 4); run_scan("bsrq m", bsr_q_m, 8);
	u64 v[17];
	int n = edges(8, v, 17);
	for (int i = 0; i < n; i++) {
		begin("bswapl"); arg(v[i]); out_s(" ->"); arg(bswap_l(v[i])); end();
		begin("bswapl r64"); arg(v[i]); out_s(" ->"); arg(bswap_l64(v[i])); end();
		begin("bswapq"); arg(v[i]); out_s(" ->"); arg(bswap_q(v[i])); end();
	}
	return finish();
}
