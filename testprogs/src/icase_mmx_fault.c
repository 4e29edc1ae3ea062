/* icase_mmx_fault: one MMX exception case per run, chosen by argv[1]; argv[2] lists the
   host's extensions as in the icase_sse programs. The program prints what it is about to
   do, then does it:
   - an MMX instruction while an unmasked x87 exception is pending (#MF, so SIGFPE): the
     x87 division by zero before it only records the exception (ZE, ES), the MMX
     instruction raises it;
   - CVTPI2PD with a memory source in the same situation, which is not an MMX instruction
     for this purpose and runs;
   - a LOCK prefix on an MMX instruction (#UD, so SIGILL);
   - memory operands at the end of the last readable page, the next page inaccessible: an
     m32 or m16 operand fits, an m64 one faults (#PF, so SIGSEGV), and MASKMOVQ checks all
     eight bytes whatever its mask;
   - CVTPD2PI with a misaligned m128 (#GP, SIGSEGV);
   - unmasked SIMD floating-point exceptions of the conversions (#XM, SIGFPE).
   "icase_mmx_fault list" prints the number of cases.

   CVTPI2PS with a memory source and a pending x87 exception is left out: the SDM says it
   raises #MF (it makes the transition to MMX state), the AMD hosts do not; the emulator
   follows the SDM (cpu/mmx_test.go). */
#include "icase_sse.h"

static i64 syscall6(i64 n, i64 a, i64 b, i64 c, i64 d, i64 e, i64 f) {
	i64 ret;
	register i64 r10 __asm__("r10") = d;
	register i64 r8 __asm__("r8") = e;
	register i64 r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static u8 buf[64] __attribute__((aligned(16)));
static u64 out_val;

static void say(const char *s) {
	out_s(s);
	out_c('\n');
	flush();
}

static void done(void) {
	out_s("survived: ");
	out_hex(out_val, 16);
	out_c('\n');
	flush();
}

/* pend_zero_divide leaves a pending unmasked x87 division-by-zero exception. */
static void pend_zero_divide(void) {
	u16 cw = 0x037b, sw;
	__asm__ volatile("fninit\n\tfldcw %1\n\tfld1\n\tfldz\n\tfdivrp\n\tfnstsw %0" : "=m"(sw) : "m"(cw));
	out_s("status word with the exception pending: ");
	out_hex(sw, 4);
	out_c('\n');
	flush();
}

/* page_end returns the address n bytes before the end of a readable and writable page
   whose next page is inaccessible. */
static u8 *page_end(u64 n) {
	i64 p = syscall6(9, 0, 8192, 3, 0x22, -1, 0); /* mmap PROT_READ|WRITE, PRIVATE|ANONYMOUS */
	if (p < 0 || syscall3(10, p + 4096, 4096, 0) != 0) {
		say("mmap/mprotect failed");
		sys_exit(3);
	}
	u8 *q = (u8 *)p + 4096 - n;
	for (u64 i = 0; i < n; i++) q[i] = (u8)(0x11 * (i + 1));
	return q;
}

#define NCASES 24
#define UNMASK(bit) (0x1f80 & ~((bit) << 7))

static int run(int n) {
	u64 a = 0x0102030405060708ULL, mask;
	u32 mx;
	v2di x = vec2(0x7fc000003f800000ULL, 0);
	for (int i = 0; i < 64; i++) buf[i] = (u8)i;
	switch (n) {
	case 0:
		pend_zero_divide();
		say("paddb with an x87 exception pending: #MF");
		__asm__ volatile("paddb %%mm1, %%mm0" ::: "mm0");
		break;
	case 1:
		pend_zero_divide();
		say("emms with an x87 exception pending: #MF");
		__asm__ volatile("emms");
		break;
	case 2:
		pend_zero_divide();
		say("movd eax, mm0 with an x87 exception pending: #MF");
		__asm__ volatile("movd %%mm0, %%eax" ::: "rax");
		break;
	case 3:
		pend_zero_divide();
		say("movq m64, mm0 with an x87 exception pending: #MF");
		__asm__ volatile("movq %%mm0, %0" : "=m"(out_val));
		break;
	case 4:
		pend_zero_divide();
		say("cvtpi2ps xmm0, mm1 with an x87 exception pending: #MF");
		__asm__ volatile("cvtpi2ps %%mm1, %%xmm0" ::: "xmm0");
		break;
	case 5:
		pend_zero_divide();
		say("cvtpi2pd xmm0, mm1 with an x87 exception pending: #MF");
		__asm__ volatile("cvtpi2pd %%mm1, %%xmm0" ::: "xmm0");
		break;
	case 6:
		pend_zero_divide();
		say("cvttps2pi mm0, xmm1 with an x87 exception pending: #MF");
		__asm__ volatile("cvttps2pi %%xmm1, %%mm0" ::: "mm0");
		break;
	case 7:
		pend_zero_divide();
		say("movq2dq xmm0, mm1 with an x87 exception pending: #MF");
		__asm__ volatile("movq2dq %%mm1, %%xmm0" ::: "xmm0");
		break;
	case 8:
		pend_zero_divide();
		say("maskmovq with an x87 exception pending: #MF");
		__asm__ volatile("maskmovq %%mm1, %%mm0" ::"D"(buf) : "memory");
		break;
	case 9:
		if (!need(F_SSSE3)) {
			say("skipped: the host lacks ssse3");
			return 0;
		}
		pend_zero_divide();
		say("pshufb mm0, mm1 with an x87 exception pending: #MF");
		__asm__ volatile("pshufb %%mm1, %%mm0" ::: "mm0");
		break;
	case 10:
		pend_zero_divide();
		say("cvtpi2pd xmm0, m64 with an x87 exception pending: no fault");
		__asm__ volatile("cvtpi2pd %1, %%xmm0\n\tmovq %%xmm0, %0" : "=m"(out_val) : "m"(a) : "xmm0");
		__asm__ volatile("fnclex");
		break;
	case 11:
		say("lock paddb mm0, mm1: #UD");
		__asm__ volatile(".byte 0xf0, 0x0f, 0xfc, 0xc1" ::: "mm0");
		break;
	case 12:
		say("lock movq mm0, m64: #UD");
		__asm__ volatile(".byte 0xf0\n\tmovq %0, %%mm0" ::"m"(a) : "mm0");
		break;
	case 13:
		say("punpcklbw mm0, m32 in the last 4 bytes of a page: no fault");
		__asm__ volatile("pxor %%mm0, %%mm0\n\tpunpcklbw %1, %%mm0\n\tmovq %%mm0, %0\n\temms"
				 : "=m"(out_val)
				 : "m"(*(u32 *)page_end(4))
				 : "mm0");
		break;
	case 14:
		say("movd mm0, m32 and movd m32, mm0 in the last 4 bytes of a page: no fault");
		{
			u8 *p = page_end(4);
			__asm__ volatile("movd %1, %%mm0\n\tpsllq $8, %%mm0\n\tmovd %%mm0, %1\n\tmovq %%mm0, %0\n\temms"
					 : "=m"(out_val), "+m"(*(u32 *)p)
					 :
					 : "mm0");
		}
		break;
	case 15:
		say("pinsrw mm0, m16 in the last 2 bytes of a page: no fault");
		__asm__ volatile("pxor %%mm0, %%mm0\n\tpinsrw $3, %1, %%mm0\n\tmovq %%mm0, %0\n\temms"
				 : "=m"(out_val)
				 : "m"(*(u16 *)page_end(2))
				 : "mm0");
		break;
	case 16:
		say("punpckhbw mm0, m64 with 4 bytes left in the page: #PF");
		__asm__ volatile("punpckhbw %0, %%mm0" ::"m"(*(u64 *)page_end(4)) : "mm0");
		break;
	case 17:
		say("movq m64, mm0 with 4 bytes left in the page: #PF");
		__asm__ volatile("movq %%mm0, %0" : "=m"(*(u64 *)page_end(4)));
		break;
	case 18:
		say("maskmovq selecting the 4 bytes left in the page: #PF");
		{
			u8 *p = page_end(4);
			mask = 0x80808080;
			__asm__ volatile("movq %0, %%mm0\n\tmovq %1, %%mm1\n\tmaskmovq %%mm1, %%mm0"
					 :
					 : "m"(a), "m"(mask), "D"(p)
					 : "mm0", "mm1", "memory");
		}
		break;
	case 19:
		say("maskmovq with an all-zero mask at an inaccessible page: #PF");
		{
			u8 *p = page_end(0);
			__asm__ volatile("movq %0, %%mm0\n\tpxor %%mm1, %%mm1\n\tmaskmovq %%mm1, %%mm0"
					 :
					 : "m"(a), "D"(p)
					 : "mm0", "mm1", "memory");
		}
		break;
	case 20:
		say("maskmovq selecting the top byte, all eight bytes in the page: no fault");
		{
			u8 *p = page_end(8);
			mask = 0x8000000000000000ULL;
			__asm__ volatile("movq %0, %%mm0\n\tmovq %1, %%mm1\n\tmaskmovq %%mm1, %%mm0\n\temms"
					 :
					 : "m"(a), "m"(mask), "D"(p)
					 : "mm0", "mm1", "memory");
			out_val = *(u64 *)p;
		}
		break;
	case 21:
		say("cvtpd2pi mm0, m128 at buf+8: #GP");
		__asm__ volatile("cvtpd2pi %0, %%mm0" ::"m"(*(v2di *)(buf + 8)) : "mm0");
		break;
	case 22:
		say("cvtps2pi of a NaN, IM clear: #XM");
		mx = UNMASK(1);
		__asm__ volatile("ldmxcsr %1\n\tcvtps2pi %2, %%mm0\n\tmovq %%mm0, %0"
				 : "=m"(out_val)
				 : "m"(mx), "x"(x)
				 : "mm0");
		break;
	case 23:
		say("cvtpi2ps of 2^24+1, PM clear: #XM");
		mx = UNMASK(32);
		a = 0x0000000101000001ULL;
		__asm__ volatile("ldmxcsr %1\n\tmovq %2, %%mm1\n\tcvtpi2ps %%mm1, %%xmm0\n\tmovq %%xmm0, %0"
				 : "=m"(out_val)
				 : "m"(mx), "m"(a)
				 : "mm1", "xmm0");
		break;
	default:
		return -1;
	}
	__asm__ volatile("emms");
	done();
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
	for (const char *p = argv[1]; *p >= '0' && *p <= '9'; p++) n = n * 10 + (*p - '0');
	return run(n) < 0 ? 2 : 0;
}
