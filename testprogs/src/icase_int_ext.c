/* icase_int_ext: the integer instructions of the POPCNT, ABM (LZCNT), BMI1 (TZCNT), MOVBE
   and SSE4.2 (CRC32) feature sets: POPCNT (every flag defined), LZCNT and TZCNT (CF and ZF
   defined), MOVBE loads and stores, and CRC32 over 8- to 64-bit sources. */
#include "icase.h"

typedef u64 (*cntfn)(u64 src, u64 *f);
#define CNT(name, ins, T)                                                                 \
	static u64 name(u64 src, u64 *f) {                                                \
		T s = (T)src, d = 0;                                                      \
		__asm__ volatile(FLAGS_AROUND(ins " %[s], %[d]")                          \
				 : [d] "=&r"(d), [f] "+r"(*f) : [s] "r"(s) : "cc");       \
		return d;                                                                 \
	}                                                                                 \
	static u64 name##_m(u64 src, u64 *f) {                                            \
		T m[1] = {(T)src}, d = 0;                                                 \
		__asm__ volatile(FLAGS_AROUND(ins " (%[p]), %[d]")                        \
				 : [d] "=&r"(d), [f] "+r"(*f) : [p] "r"(m) : "cc", "memory"); \
		return d;                                                                 \
	}
CNT(popcnt_w, "popcntw", u16)
CNT(popcnt_l, "popcntl", u32)
CNT(popcnt_q, "popcntq", u64)
CNT(lzcnt_w, "lzcntw", u16)
CNT(lzcnt_l, "lzcntl", u32)
CNT(lzcnt_q, "lzcntq", u64)
CNT(tzcnt_w, "tzcntw", u16)
CNT(tzcnt_l, "tzcntl", u32)
CNT(tzcnt_q, "tzcntq", u64)

static void run_cnt(const char *name, cntfn fn, int size, u64 defined) {
	static const u64 extra[] = {0x10, 0x1000, 0x40000000, 0x800000000000, 0x0100000000000000, 0x1234000, 0x8001};
	u64 v[17 + 7];
	int n = edges(size, v, 17);
	for (int i = 0; i < 7; i++) v[n++] = extra[i] & size_mask(size);
	for (int i = 0; i < n; i++)
		for (int cin = 0; cin < 2; cin++) {
			u64 f = cin ? FLAGS1 : FLAGS0;
			u64 r = fn(v[i], &f);
			begin(name);
			arg(v[i]);
			out_s(cin ? " F1 ->" : " F0 ->");
			arg(r & size_mask(size));
			out_flags(f, defined);
			end();
		}
}

#define MOVBE(s, T)                                                                       \
	static u64 movbe_load_##s(u64 a) {                                                \
		T m[1] = {(T)a}, d = 0;                                                   \
		__asm__ volatile("movbe" #s " (%[p]), %[d]" : [d] "=r"(d) : [p] "r"(m) : "memory"); \
		return d;                                                                 \
	}                                                                                 \
	static u64 movbe_store_##s(u64 a) {                                               \
		T m[1] = {0}, v = (T)a;                                                   \
		__asm__ volatile("movbe" #s " %[v], (%[p])" : : [v] "r"(v), [p] "r"(m) : "memory"); \
		return m[0];                                                              \
	}
MOVBE(w, u16)
MOVBE(l, u32)
MOVBE(q, u64)

/* MOVBE into a 16-bit register keeps the upper bits. */
static u64 movbe_load_w_keep(u64 a) {
	u16 m[1] = {(u16)a};
	u64 d = 0x1122334455667788;
	__asm__ volatile("movbew (%[p]), %w[d]" : [d] "+r"(d) : [p] "r"(m) : "memory");
	return d;
}

#define CRC(name, ins, T, D)                                                              \
	static u64 name(u64 crc, u64 v) {                                                 \
		D c = (D)crc;                                                             \
		T s = (T)v;                                                               \
		__asm__(ins " %[s], %[c]" : [c] "+r"(c) : [s] "r"(s));                   \
		return c;                                                                 \
	}                                                                                 \
	static u64 name##_m(u64 crc, u64 v) {                                             \
		D c = (D)crc;                                                             \
		T m[1] = {(T)v};                                                          \
		__asm__ volatile(ins " (%[p]), %[c]" : [c] "+r"(c) : [p] "r"(m) : "memory"); \
		return c;                                                                 \
	}
CRC(crc32_b, "crc32b", u8, u32)
CRC(crc32_w, "crc32w", u16, u32)
CRC(crc32_l, "crc32l", u32, u32)
CRC(crc32_q, "crc32q", u64, u64)
CRC(crc32_b64, "crc32b", u8, u64)

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	const u64 all = ARITH, cz = CF | ZF;
	run_cnt("popcntw r", popcnt_w, 2, all); run_cnt("popcntl r", popcnt_l, 4, all); run_cnt("popcntq r", popcnt_q, 8, all);
	run_cnt("popcntw m", popcnt_w_m, 2, all); run_cnt("popcntl m", popcnt_l_m, 4, all); run_cnt("popcntq m", popcnt_q_m, 8, all);
	run_cnt("lzcntw r", lzcnt_w, 2, cz); run_cnt("lzcntl r", lzcnt_l, 4, cz); run_cnt("lzcntq r", lzcnt_q, 8, cz);
	run_cnt("lzcntw m", lzcnt_w_m, 2, cz); run_cnt("lzcntl m", lzcnt_l_m, 4, cz); run_cnt("lzcntq m", lzcnt_q_m, 8, cz);
	run_cnt("tzcntw r", tzcnt_w, 2, cz); run_cnt("tzcntl r", tzcnt_l, 4, cz); run_cnt("tzcntq r", tzcnt_q, 8, cz);
	run_cnt("tzcntw m", tzcnt_w_m, 2, cz); run_cnt("tzcntl m", tzcnt_l_m, 4, cz); run_cnt("tzcntq m", tzcnt_q_m, 8, cz);
	u64 v[17];
	int n = edges(8, v, 17);
	for (int i = 0; i < n; i++) {
		begin("movbew load"); arg(v[i]); out_s(" ->"); arg(movbe_load_w(v[i])); end();
		begin("movbew load keeps upper bits"); arg(v[i]); out_s(" ->"); arg(movbe_load_w_keep(v[i])); end();
		begin("movbel load"); arg(v[i]); out_s(" ->"); arg(movbe_load_l(v[i])); end();
		begin("movbeq load"); arg(v[i]); out_s(" ->"); arg(movbe_load_q(v[i])); end();
		begin("movbew store"); arg(v[i]); out_s(" ->"); arg(movbe_store_w(v[i])); end();
		begin("movbel store"); arg(v[i]); out_s(" ->"); arg(movbe_store_l(v[i])); end();
		begin("movbeq store"); arg(v[i]); out_s(" ->"); arg(movbe_store_q(v[i])); end();
	}
	static const u64 seeds[] = {0, 0xffffffff, 0x12345678, 0xffffffff00000001};
	for (int s = 0; s < 4; s++)
		for (int i = 0; i < n; i++) {
			begin("crc32b r"); arg(seeds[s]); arg(v[i]); out_s(" ->"); arg(crc32_b(seeds[s], v[i])); end();
			begin("crc32w r"); arg(seeds[s]); arg(v[i]); out_s(" ->"); arg(crc32_w(seeds[s], v[i])); end();
			begin("crc32l r"); arg(seeds[s]); arg(v[i]); out_s(" ->"); arg(crc32_l(seeds[s], v[i])); end();
			begin("crc32q r"); arg(seeds[s]); arg(v[i]); out_s(" ->"); arg(crc32_q(seeds[s], v[i])); end();
			begin("crc32b r64"); arg(seeds[s]); arg(v[i]); out_s(" ->"); arg(crc32_b64(seeds[s], v[i])); end();
			begin("crc32b m"); arg(seeds[s]); arg(v[i]); out_s(" ->"); arg(crc32_b_m(seeds[s], v[i])); end();
			begin("crc32w m"); arg(seeds[s]); arg(v[i]); out_s(" ->"); arg(crc32_w_m(seeds[s], v[i])); end();
			begin("crc32l m"); arg(seeds[s]); arg(v[i]); out_s(" ->"); arg(crc32_l_m(seeds[s], v[i])); end();
			begin("crc32q m"); arg(seeds[s]); arg(v[i]); out_s(" ->"); arg(crc32_q_m(seeds[s], v[i])); end();
			begin("crc32b m r64"); arg(seeds[s]); arg(v[i]); out_s(" ->"); arg(crc32_b64_m(seeds[s], v[i])); end();
		}
	return finish();
}
