/* icase_int_shift: shifts and rotates (SHL, SHR, SAR, ROL, ROR, RCL, RCR) by 1, by an
   immediate and by CL, on registers and memory at every size, and the double shifts SHLD and
   SHRD, over edge-value operands and counts around every masking boundary. Flags the SDM
   leaves undefined for a count (OF beyond 1, AF, CF of SHL/SHR by the width or more) are not
   printed; 16-bit double shifts by more than 16, whose result is undefined, are not run. */
#include "icase.h"

typedef u64 (*shfn)(u64 a, u64 b, u64 cnt, u64 *f);

#define SH_RC(name, ins, T)                                                               \
	static u64 name(u64 a, u64 b, u64 cnt, u64 *f) {                                  \
		T x = (T)a;                                                               \
		(void)b;                                                                  \
		__asm__ volatile(FLAGS_AROUND(ins " %%cl, %[x]")                          \
				 : [x] "+r"(x), [f] "+r"(*f) : "c"(cnt) : "cc");          \
		return x;                                                                 \
	}
#define SH_MC(name, ins, T)                                                               \
	static u64 name(u64 a, u64 b, u64 cnt, u64 *f) {                                  \
		T m[1] = {(T)a};                                                          \
		(void)b;                                                                  \
		__asm__ volatile(FLAGS_AROUND(ins " %%cl, (%[p])")                        \
				 : [f] "+r"(*f) : "c"(cnt), [p] "r"(m) : "cc", "memory"); \
		return m[0];                                                              \
	}
#define SH_RI(name, ins, imm, T)                                                          \
	static u64 name(u64 a, u64 b, u64 cnt, u64 *f) {                                  \
		T x = (T)a;                                                               \
		(void)b, (void)cnt;                                                       \
		__asm__ volatile(FLAGS_AROUND(ins " $" imm ", %[x]")                      \
				 : [x] "+r"(x), [f] "+r"(*f) : : "cc");                   \
		return x;                                                                 \
	}
#define SH_R1(name, ins, T)                                                               \
	static u64 name(u64 a, u64 b, u64 cnt, u64 *f) {                                  \
		T x = (T)a;                                                               \
		(void)b, (void)cnt;                                                       \
		__asm__ volatile(FLAGS_AROUND(ins " %[x]") : [x] "+r"(x), [f] "+r"(*f) : : "cc"); \
		return x;                                                                 \
	}
#define SH_M1(name, ins, T)                                                               \
	static u64 name(u64 a, u64 b, u64 cnt, u64 *f) {                                  \
		T m[1] = {(T)a};                                                          \
		(void)b, (void)cnt;                                                       \
		__asm__ volatile(FLAGS_AROUND(ins " (%[p])")                              \
				 : [f] "+r"(*f) : [p] "r"(m) : "cc", "memory");           \
		return m[0];                                                              \
	}
#define SHD_RC(name, ins, T)                                                              \
	static u64 name(u64 a, u64 b, u64 cnt, u64 *f) {                                  \
		T x = (T)a, y = (T)b;                                                     \
		__asm__ volatile(FLAGS_AROUND(ins " %%cl, %[y], %[x]")                    \
				 : [x] "+r"(x), [f] "+r"(*f) : [y] "r"(y), "c"(cnt) : "cc"); \
		return x;                                                                 \
	}
#define SHD_MC(name, ins, T)                                                              \
	static u64 name(u64 a, u64 b, u64 cnt, u64 *f) {                                  \
		T m[1] = {(T)a}, y = (T)b;                                                \
		__asm__ volatile(FLAGS_AROUND(ins " %%cl, %[y], (%[p])")                  \
				 : [f] "+r"(*f) : [y] "r"(y), "c"(cnt), [p] "r"(m) : "cc", "memory"); \
		return m[0];                                                              \
	}
#define SHD_RI(name, ins, imm, T)                                                         \
	static u64 name(u64 a, u64 b, u64 cnt, u64 *f) {                                  \
		T x = (T)a, y = (T)b;                                                     \
		(void)cnt;                                                                \
		__asm__ volatile(FLAGS_AROUND(ins " $" imm ", %[y], %[x]")                \
				 : [x] "+r"(x), [f] "+r"(*f) : [y] "r"(y) : "cc");        \
		return x;                                                                 \
	}

#define SH_FORMS(op, s, T)                                                                \
	SH_RC(op##_rc_##s, #op #s, T) SH_MC(op##_mc_##s, #op #s, T)                       \
	SH_R1(op##_r1_##s, #op #s, T) SH_M1(op##_m1_##s, #op #s, T)                       \
	SH_RI(op##_ri3_##s, #op #s, "3", T) SH_RI(op##_ri17_##s, #op #s, "17", T)
#define SH_SIZES(op) SH_FORMS(op, b, u8) SH_FORMS(op, w, u16) SH_FORMS(op, l, u32) SH_FORMS(op, q, u64)
SH_SIZES(shl)
SH_SIZES(shr)
SH_SIZES(sar)
SH_SIZES(rol)
SH_SIZES(ror)
SH_SIZES(rcl)
SH_SIZES(rcr)

#define SHD_FORMS(op, s, T)                                                               \
	SHD_RC(op##_rc_##s, #op #s, T) SHD_MC(op##_mc_##s, #op #s, T)                     \
	SHD_RI(op##_ri1_##s, #op #s, "1", T) SHD_RI(op##_ri5_##s, #op #s, "5", T)
SHD_FORMS(shld, w, u16)
SHD_FORMS(shld, l, u32)
SHD_FORMS(shld, q, u64)
SHD_FORMS(shrd, w, u16)
SHD_FORMS(shrd, l, u32)
SHD_FORMS(shrd, q, u64)

enum kind { SHIFT_LR, SHIFT_SAR, ROTATE, ROTATE_CARRY, DOUBLE };

/* defined returns the flags the SDM defines after kind by count on a size-byte operand. */
static u64 defined(enum kind k, int size, u64 count) {
	count &= size == 8 ? 63 : 31;
	if (count == 0) return ARITH; /* no flag changes */
	switch (k) {
	case ROTATE:
	case ROTATE_CARRY: /* CF; OF for 1-bit rotates; the others are unaffected */
		return (PF | AF | ZF | SF | CF) | (count == 1 ? OF : 0);
	case DOUBLE:
		return (CF | PF | ZF | SF) | (count == 1 ? OF : 0);
	case SHIFT_SAR:
		return (CF | PF | ZF | SF) | (count == 1 ? OF : 0);
	default:
		return (count < (u64)size * 8 ? CF : 0) | PF | ZF | SF | (count == 1 ? OF : 0);
	}
}

static const u64 counts[] = {0, 1, 2, 7, 8, 9, 16, 17, 31, 32, 33, 63, 64};

static void run(const char *name, shfn fn, enum kind k, int size, int nvals, int ncounts, u64 fixed) {
	u64 v[17];
	int n = edges(size, v, nvals);
	for (int i = 0; i < n; i++) {
		for (int c = 0; c < ncounts; c++) {
			u64 cnt = fixed ? fixed : counts[c];
			if (k == DOUBLE && size == 2 && (cnt & 31) > 16) continue; /* undefined */
			for (int cin = 0; cin < 2; cin++) {
				u64 f = cin ? FLAGS1 : FLAGS0;
				u64 b = v[(i + 3) % n];
				u64 r = fn(v[i], b, cnt, &f);
				begin(name);
				arg(v[i]);
				if (k == DOUBLE) arg(b);
				arg(cnt);
				out_s(cin ? " F1 ->" : " F0 ->");
				arg(r & size_mask(size));
				out_flags(f, defined(k, size, cnt));
				end();
			}
		}
	}
}

#define NC (int)(sizeof counts / sizeof counts[0])
#define RUN_SH_SIZE(op, s, size, k)                                                       \
	run(#op #s " r,cl", op##_rc_##s, k, size, 4, NC, 0);                              \
	run(#op #s " m,cl", op##_mc_##s, k, size, 2, 6, 0);                               \
	run(#op #s " r,1", op##_r1_##s, k, size, 6, 1, 1);                                \
	run(#op #s " m,1", op##_m1_##s, k, size, 3, 1, 1);                                \
	run(#op #s " r,3", op##_ri3_##s, k, size, 4, 1, 3);                               \
	run(#op #s " r,17", op##_ri17_##s, k, size, 4, 1, 17);
#define RUN_SH(op, k)                                                                     \
	RUN_SH_SIZE(op, b, 1, k) RUN_SH_SIZE(op, w, 2, k) RUN_SH_SIZE(op, l, 4, k) RUN_SH_SIZE(op, q, 8, k)
#define RUN_SHD_SIZE(op, s, size)                                                         \
	run(#op #s " r,r,cl", op##_rc_##s, DOUBLE, size, 5, NC, 0);                       \
	run(#op #s " m,r,cl", op##_mc_##s, DOUBLE, size, 3, 6, 0);                        \
	run(#op #s " r,r,1", op##_ri1_##s, DOUBLE, size, 5, 1, 1);                        \
	run(#op #s " r,r,5", op##_ri5_##s, DOUBLE, size, 5, 1, 5);

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	RUN_SH(shl, SHIFT_LR)
	RUN_SH(shr, SHIFT_LR)
	RUN_SH(sar, SHIFT_SAR)
	RUN_SH(rol, ROTATE)
	RUN_SH(ror, ROTATE)
	RUN_SH(rcl, ROTATE_CARRY)
	RUN_SH(rcr, ROTATE_CARRY)
	RUN_SHD_SIZE(shld, w, 2) RUN_SHD_SIZE(shld, l, 4) RUN_SHD_SIZE(shld, q, 8)
	RUN_SHD_SIZE(shrd, w, 2) RUN_SHD_SIZE(shrd, l, 4) RUN_SHD_SIZE(shrd, q, 8)
	return finish();
}
