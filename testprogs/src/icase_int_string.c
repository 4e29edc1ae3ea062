/* icase_int_string: MOVS, STOS, LODS, CMPS and SCAS at every element size, without a
   prefix, with REP (REPE) and REPNE, upwards and downwards (DF), with 64- and 32-bit
   addressing (junk in the upper halves of RSI, RDI, RCX), counts around zero, overlapping
   copies that replicate a pattern, and long copies and fills across many pages. Each case
   prints RSI, RDI and RCX as they end (pointers relative to the buffers), RAX, the
   arithmetic flags and a hash of the buffers. */
#include "icase.h"

#define BUF 512
static u8 area[2 * BUF + 64] __attribute__((aligned(64)));
static u8 big[8 * 4096] __attribute__((aligned(4096)));

static void fill(void) {
	for (int i = 0; i < (int)sizeof area; i++) area[i] = (u8)(i * 7 + (i >> 3));
	/* Runs of equal bytes in both halves so REPE CMPS goes on for a while. */
	for (int i = 0; i < 40; i++) area[BUF + i] = area[i];
}

static u64 hash(const u8 *p, u64 n) {
	u64 h = 1469598103934665603UL;
	for (u64 i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211UL;
	return h;
}

struct regs { u64 si, di, cx, ax, f; };

/* One macro per prefix and element size; dir 1 runs it with DF set (and clears DF after). */
#define STR(name, text)                                                                   \
	static void name(struct regs *r, int dir) {                                       \
		u64 si = r->si, di = r->di, cx = r->cx, ax = r->ax, f = r->f;             \
		if (dir)                                                                  \
			__asm__ volatile(FLAGS_AROUND("std\n\t" text "\n\tcld")           \
					 : "+S"(si), "+D"(di), "+c"(cx), "+a"(ax), [f] "+r"(f) : : "cc", "memory"); \
		else                                                                      \
			__asm__ volatile(FLAGS_AROUND(text)                               \
					 : "+S"(si), "+D"(di), "+c"(cx), "+a"(ax), [f] "+r"(f) : : "cc", "memory"); \
		r->si = si, r->di = di, r->cx = cx, r->ax = ax, r->f = f & ~DF;           \
	}
#define STR_SIZES(op, pfx, tag)                                                           \
	STR(op##b_##tag, pfx #op "b") STR(op##w_##tag, pfx #op "w")                       \
	STR(op##l_##tag, pfx #op "l") STR(op##q_##tag, pfx #op "q")
#define STR_ALL(op)                                                                       \
	STR_SIZES(op, "", none) STR_SIZES(op, "rep ", rep) STR_SIZES(op, "repne ", repne) \
	STR_SIZES(op, "addr32 rep ", a32)
STR_ALL(movs)
STR_ALL(stos)
STR_ALL(lods)
STR_ALL(cmps)
STR_ALL(scas)

typedef void (*strfn)(struct regs *r, int dir);

static void report(const char *name, int dir, u64 cnt, int a32, const struct regs *r, int writes) {
	u64 base = (u64)area;
	begin(name);
	out_s(dir ? " down" : " up");
	arg(cnt);
	out_s(" -> si+");
	out_x((a32 ? r->si & 0xffffffff : r->si) - base);
	out_s(" di+");
	out_x((a32 ? r->di & 0xffffffff : r->di) - base);
	arg(r->cx);
	arg(r->ax);
	out_flags(r->f, ARITH);
	if (writes) arg(hash(area, sizeof area));
	end();
}

static void run(const char *name, strfn fn, int writes, int a32) {
	static const u64 counts[] = {0, 1, 3, 16, 33};
	static const int offs[][2] = {{0, BUF}, {8, BUF + 24}, {BUF, 0}, {40, 41}, {40, 43}, {40, 48}};
	for (unsigned c = 0; c < sizeof counts / sizeof counts[0]; c++)
		for (unsigned o = 0; o < sizeof offs / sizeof offs[0]; o++)
			for (int dir = 0; dir < 2; dir++) {
				fill();
				struct regs r;
				int s = offs[o][0], d = offs[o][1];
				if (dir) s += 300, d += 300; /* room below */
				if (s + 300 > (int)sizeof area || d + 300 > (int)sizeof area) { s %= 200, d %= 200; if (dir) s += 300, d += 300; }
				r.si = (u64)(area + s);
				r.di = (u64)(area + d);
				r.cx = counts[c];
				r.ax = 0x1122334455660000UL | area[d] | (u64)area[d + 1] << 8;
				if (o & 1) r.ax ^= 1; /* SCAS finds a match at once in some cases */
				r.f = (c + o) & 1 ? FLAGS1 : FLAGS0;
				if (a32) {
					r.si |= 0xdead000000000000UL;
					r.di |= 0xbeef000000000000UL;
					r.cx |= 0xf00d000000000000UL;
				}
				fn(&r, dir);
				report(name, dir, counts[c], a32, &r, writes);
			}
}

/* RUN_OP runs every prefix and size of op; w says whether it writes memory (MOVS, STOS). */
#define RUN_OP(op, w)                                                                     \
	run(#op "b", op##b_none, w, 0); run(#op "w", op##w_none, w, 0);                   \
	run(#op "l", op##l_none, w, 0); run(#op "q", op##q_none, w, 0);                   \
	run("rep " #op "b", op##b_rep, w, 0); run("rep " #op "w", op##w_rep, w, 0);       \
	run("rep " #op "l", op##l_rep, w, 0); run("rep " #op "q", op##q_rep, w, 0);       \
	run("repne " #op "b", op##b_repne, w, 0); run("repne " #op "w", op##w_repne, w, 0); \
	run("repne " #op "l", op##l_repne, w, 0); run("repne " #op "q", op##q_repne, w, 0); \
	run("addr32 rep " #op "b", op##b_a32, w, 1); run("addr32 rep " #op "w", op##w_a32, w, 1); \
	run("addr32 rep " #op "l", op##l_a32, w, 1); run("addr32 rep " #op "q", op##q_a32, w, 1);

/* Long runs across pages: copies (also overlapping forwards by a little, which replicates
   the first bytes) and fills. */
static void long_runs(void) {
	static const u64 sizes[] = {4095, 4096, 12289, 20000};
	static const int dists[] = {1, 3, 8, 4096, 9000, -5};
	for (unsigned z = 0; z < 4; z++)
		for (unsigned k = 0; k < 6; k++) {
			for (u64 i = 0; i < sizeof big; i++) big[i] = (u8)(i * 13 + (i >> 9));
			u64 n = sizes[z];
			u8 *src = big + 100, *dst = big + 100 + dists[k] + (dists[k] < 0 ? 10 : 0);
			if (dists[k] < 0) src += 10 - dists[k], dst = big + 100;
			u64 si = (u64)src, di = (u64)dst, cx = n;
			__asm__ volatile("rep movsb" : "+S"(si), "+D"(di), "+c"(cx) : : "memory");
			begin("long rep movsb"); arg(n); arg((u64)dists[k]); out_s(" ->"); arg(si - (u64)src); arg(di - (u64)dst); arg(cx);
			arg(hash(big, sizeof big)); end();
			si = (u64)src, di = (u64)dst, cx = n / 8;
			__asm__ volatile("rep movsq" : "+S"(si), "+D"(di), "+c"(cx) : : "memory");
			begin("long rep movsq"); arg(n / 8); arg((u64)dists[k]); out_s(" ->"); arg(si - (u64)src); arg(di - (u64)dst); arg(cx);
			arg(hash(big, sizeof big)); end();
			u64 ax = 0x0102030405060708UL;
			di = (u64)dst, cx = n / 4;
			__asm__ volatile("rep stosl" : "+D"(di), "+c"(cx) : "a"(ax) : "memory");
			begin("long rep stosl"); arg(n / 4); out_s(" ->"); arg(di - (u64)dst); arg(cx); arg(hash(big, sizeof big)); end();
			di = (u64)dst + 1, cx = n;
			__asm__ volatile("rep stosb" : "+D"(di), "+c"(cx) : "a"(ax) : "memory");
			begin("long rep stosb"); arg(n); out_s(" ->"); arg(di - (u64)dst); arg(cx); arg(hash(big, sizeof big)); end();
			/* REPNE SCASB over a long run: strlen-style. */
			big[100 + n] = 0x77;
			di = (u64)(big + 100), cx = ~0UL;
			__asm__ volatile("repne scasb" : "+D"(di), "+c"(cx) : "a"(0x77) : "memory", "cc");
			begin("long repne scasb"); arg(n); out_s(" ->"); arg(di - (u64)big); arg(cx); end();
		}
}

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	RUN_OP(movs, 1)
	RUN_OP(stos, 1)
	RUN_OP(lods, 0)
	RUN_OP(cmps, 0)
	RUN_OP(scas, 0)
	long_runs();
	return finish();
}
