/* icase_sse_fault: one SSE exception case per run, chosen by argv[1]; argv[2] lists the
   host's extensions as in the other icase_sse programs. The program prints what it is
   about to do, then does it: a misaligned 16-byte operand (#GP, so SIGSEGV), an unmasked
   SIMD floating-point exception (#XM, so SIGFPE), a reserved MXCSR bit (#GP), or an
   operation that must not fault, after which it prints the result and exits 0.
   "icase_sse_fault list" prints the number of cases. */
#include "icase_sse.h"

static u8 buf[1024] __attribute__((aligned(16)));

static void say(const char *s) {
	out_s(s);
	out_c('\n');
	flush();
}

static void set_mxcsr(u32 v) {
	__asm__ volatile("ldmxcsr %0" ::"m"(v));
}

static u32 get_mxcsr(void) {
	u32 v;
	__asm__ volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static void done(v2di r) {
	out_s("survived: ");
	out_vec(r);
	sp_hex(get_mxcsr(), 4);
	out_c('\n');
	flush();
}

#define NCASES 24
#define UNMASK(bit) (0x1f80 & ~((bit) << 7))

static int run(int n) {
	v2di x = vec4(0x3f800000, 0x40000000, 0x40400000, 0x40800000);
	v2di y = vec4(0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000);
	for (int i = 0; i < 64; i++) buf[i] = (u8)i;
	switch (n) {
	case 0:
		say("movaps load from buf+8: #GP");
		__asm__ volatile("movaps %1, %0" : "=x"(x) : "m"(*(v2di *)(buf + 8)));
		break;
	case 1:
		say("movaps store to buf+4: #GP");
		__asm__ volatile("movaps %1, %0" : "=m"(*(v2di *)(buf + 4)) : "x"(x));
		break;
	case 2:
		say("paddb m128 at buf+1: #GP");
		__asm__ volatile("paddb %1, %0" : "+x"(x) : "m"(*(v2di *)(buf + 1)));
		break;
	case 3:
		say("addps m128 at buf+12: #GP");
		__asm__ volatile("addps %1, %0" : "+x"(x) : "m"(*(v2di *)(buf + 12)));
		break;
	case 4:
		say("movdqu load and store at buf+3: no fault");
		__asm__ volatile("movdqu %1, %0" : "=x"(x) : "m"(*(v2di *)(buf + 3)));
		__asm__ volatile("movdqu %1, %0" : "=m"(*(v2di *)(buf + 33)) : "x"(x));
		__asm__ volatile("movdqu %1, %0" : "=x"(x) : "m"(*(v2di *)(buf + 30)));
		break;
	case 5:
		say("addss m32 at buf+3: no fault");
		__asm__ volatile("addss %1, %0" : "+x"(x) : "m"(*(u32 *)(buf + 3)));
		break;
	case 6:
		if (!need(F_SSE42)) {
			say("skipped: the host lacks sse4_2");
			return 0;
		}
		say("pcmpistri m128 at buf+5: no fault");
		{
			u64 idx;
			__asm__ volatile("pcmpistri $0, %1, %2" : "=c"(idx) : "m"(*(v2di *)(buf + 5)), "x"(x) : "cc");
			x = vec2(idx, 0);
		}
		break;
	case 7:
		say("ldmxcsr with bit 16 set: #GP");
		set_mxcsr(0x11f80);
		break;
	case 8:
		say("fxsave to buf+8: #GP");
		__asm__ volatile("fxsave %0" : "=m"(*(u8(*)[512])(buf + 8)));
		break;
	case 9:
		say("addss with an SNaN, IM clear: #XM");
		set_mxcsr(UNMASK(1));
		x = vec4(0x7f800001, 0, 0, 0);
		__asm__ volatile("addss %1, %0" : "+x"(x) : "x"(y));
		break;
	case 10:
		say("divss by zero, ZM clear: #XM");
		set_mxcsr(UNMASK(4));
		y = vec4(0, 0, 0, 0);
		__asm__ volatile("divss %1, %0" : "+x"(x) : "x"(y));
		break;
	case 11:
		say("addss with a denormal, DM clear: #XM");
		set_mxcsr(UNMASK(2));
		y = vec4(1, 0, 0, 0);
		__asm__ volatile("addss %1, %0" : "+x"(x) : "x"(y));
		break;
	case 12:
		say("addss with a denormal, DM clear, DAZ: no fault");
		set_mxcsr(UNMASK(2) | 0x40);
		y = vec4(1, 0, 0, 0);
		__asm__ volatile("addss %1, %0" : "+x"(x) : "x"(y));
		break;
	case 13:
		say("mulss overflow, OM clear: #XM");
		set_mxcsr(UNMASK(8));
		x = y = vec4(0x7f7fffff, 0, 0, 0);
		__asm__ volatile("mulss %1, %0" : "+x"(x) : "x"(y));
		break;
	case 14:
		say("mulss exact tiny result, UM clear: #XM");
		set_mxcsr(UNMASK(16));
		x = vec4(0x00800000, 0, 0, 0);
		y = vec4(0x3f000000, 0, 0, 0);
		__asm__ volatile("mulss %1, %0" : "+x"(x) : "x"(y));
		break;
	case 15:
		say("divss 1/3, PM clear: #XM");
		set_mxcsr(UNMASK(32));
		y = vec4(0x40400000, 0, 0, 0);
		__asm__ volatile("divss %1, %0" : "+x"(x) : "x"(y));
		break;
	case 16:
		say("addss exact, PM clear: no fault");
		set_mxcsr(UNMASK(32));
		__asm__ volatile("addss %1, %0" : "+x"(x) : "x"(y));
		break;
	case 17:
		say("IE flag already set with IM clear, exact add: no fault");
		set_mxcsr(UNMASK(1) | 1);
		__asm__ volatile("addps %1, %0" : "+x"(x) : "x"(y));
		break;
	case 18:
		say("cvttss2si of a NaN, IM clear: #XM");
		set_mxcsr(UNMASK(1));
		x = vec4(0x7fc00000, 0, 0, 0);
		{
			u32 r;
			__asm__ volatile("cvttss2si %1, %0" : "=r"(r) : "x"(x));
			x = vec2(r, 0);
		}
		break;
	case 19:
		say("comiss with a QNaN, IM clear: #XM");
		set_mxcsr(UNMASK(1));
		x = vec4(0x7fc00000, 0, 0, 0);
		__asm__ volatile("comiss %1, %0" ::"x"(x), "x"(y) : "cc");
		break;
	case 20:
		say("ucomiss with a QNaN, IM clear: no fault");
		set_mxcsr(UNMASK(1));
		x = vec4(0x7fc00000, 0, 0, 0);
		__asm__ volatile("ucomiss %1, %0" ::"x"(x), "x"(y) : "cc");
		break;
	case 21:
		say("sqrtpd of -1 in one lane, IM clear: #XM");
		set_mxcsr(UNMASK(1));
		x = vec2(0x3ff0000000000000ULL, 0xbff0000000000000ULL);
		__asm__ volatile("sqrtpd %0, %0" : "+x"(x));
		break;
	case 22:
		say("rcpps of zero, all exceptions unmasked: no fault");
		set_mxcsr(0);
		y = vec4(0, 0x80000000, 1, 0x7f800000);
		__asm__ volatile("rcpps %1, %0" : "=x"(x) : "x"(y));
		break;
	case 23:
		say("ldmxcsr with DAZ and FTZ: no fault");
		set_mxcsr(0xffc0);
		break;
	default:
		return -1;
	}
	set_mxcsr(get_mxcsr() & 0xffff);
	done(x);
	return 0;
}

int main(int argc, char **argv, char **envp) {
	(void)envp;
	if (argc > 2) {
		char *fake[2] = {argv[0], argv[2]};
		parse_features(2, fake);
	}
	if (argc < 2 || argv[1][0] == 'l') {
		out_s("cases: ");
		out_dec(NCASES);
		out_c('\n');
		flush();
		return 0;
	}
	int n = 0;
	for (char *p = argv[1]; *p >= '0' && *p <= '9'; p++) n = n * 10 + (*p - '0');
	if (run(n) < 0) {
		say("no such case");
		return 1;
	}
	return 0;
}
