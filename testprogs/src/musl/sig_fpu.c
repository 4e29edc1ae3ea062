/* sig_fpu: the FPU and SSE state across signal handlers. The interrupted code's XMM0-15,
   x87 stack, MXCSR (round toward zero) and FCW (53-bit precision) survive a handler that
   computes with SSE and x87 and changes MXCSR and FCW; the handler starts with the initial
   state (MXCSR 0x1f80, FCW 0x37f, an empty x87 stack), its frame's fpstate is 64-byte
   aligned and carries Linux's FP_XSTATE_MAGIC1 in the software bytes, and a change the
   handler makes to the saved XMM5 in the frame is what the interrupted code gets back.
   Then unmasked floating-point exceptions: SSE divide by zero (#XM) and x87 divide by zero
   (#MF, raised by the next waiting instruction) are SIGFPE with FPE_FLTDIV, si_addr the
   faulting instruction, and the frame's MXCSR or status word showing the exception. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static uint64_t xin[32], xout[32];
static long double stout[3];
static uint32_t mxcsr_in = 0x7f80, mxcsr_out;
static uint16_t fcw_in = 0x27f, fcw_out;

/* Load the registers, send SIGUSR1 to this thread with tgkill, store the registers. */
static void signal_with_state(void) {
	__asm__ volatile(
		"ldmxcsr %[mx]\n fldcw %[cw]\n"
		"movdqu 0(%[in]), %%xmm0\n movdqu 16(%[in]), %%xmm1\n movdqu 32(%[in]), %%xmm2\n"
		"movdqu 48(%[in]), %%xmm3\n movdqu 64(%[in]), %%xmm4\n movdqu 80(%[in]), %%xmm5\n"
		"movdqu 96(%[in]), %%xmm6\n movdqu 112(%[in]), %%xmm7\n movdqu 128(%[in]), %%xmm8\n"
		"movdqu 144(%[in]), %%xmm9\n movdqu 160(%[in]), %%xmm10\n movdqu 176(%[in]), %%xmm11\n"
		"movdqu 192(%[in]), %%xmm12\n movdqu 208(%[in]), %%xmm13\n movdqu 224(%[in]), %%xmm14\n"
		"movdqu 240(%[in]), %%xmm15\n"
		"fld1\n fldpi\n fldl2e\n"
		"mov $39, %%eax\n syscall\n mov %%eax, %%edi\n mov %%eax, %%esi\n mov $10, %%edx\n"
		"mov $234, %%eax\n syscall\n"
		"movdqu %%xmm0, 0(%[out])\n movdqu %%xmm1, 16(%[out])\n movdqu %%xmm2, 32(%[out])\n"
		"movdqu %%xmm3, 48(%[out])\n movdqu %%xmm4, 64(%[out])\n movdqu %%xmm5, 80(%[out])\n"
		"movdqu %%xmm6, 96(%[out])\n movdqu %%xmm7, 112(%[out])\n movdqu %%xmm8, 128(%[out])\n"
		"movdqu %%xmm9, 144(%[out])\n movdqu %%xmm10, 160(%[out])\n movdqu %%xmm11, 176(%[out])\n"
		"movdqu %%xmm12, 192(%[out])\n movdqu %%xmm13, 208(%[out])\n movdqu %%xmm14, 224(%[out])\n"
		"movdqu %%xmm15, 240(%[out])\n"
		"fstpt 0(%[st])\n fstpt 16(%[st])\n fstpt 32(%[st])\n"
		"stmxcsr %[mxo]\n fnstcw %[cwo]\n"
		: [mxo] "=m"(mxcsr_out), [cwo] "=m"(fcw_out)
		: [mx] "m"(mxcsr_in), [cw] "m"(fcw_in), [in] "r"(xin), [out] "r"(xout), [st] "r"(stout)
		: "rax", "rcx", "rdx", "rsi", "rdi", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
		  "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	uint32_t mx = 0x1f80;
	uint16_t cw = 0x37f;
	__asm__ volatile("ldmxcsr %0\n fldcw %1" ::"m"(mx), "m"(cw));
}

static uint32_t entry_mxcsr;
static uint16_t entry_fcw, entry_ftw;
static int aligned, magic;
static char computed[64];

static void usr1(int sig, siginfo_t *si, void *ctx) {
	(void)si;
	uint16_t env[14];
	__asm__ volatile("stmxcsr %0\n fnstcw %1\n fnstenv %2" : "=m"(entry_mxcsr), "=m"(entry_fcw), "=m"(env));
	entry_ftw = env[4];
	/* Compute with SSE and x87 under other modes, and clobber the XMM registers. */
	uint32_t mx = 0x5f80;
	uint16_t cw = 0x7f;
	__asm__ volatile("ldmxcsr %0\n fldcw %1" ::"m"(mx), "m"(cw));
	volatile double d = sig;
	volatile long double ld = sig;
	snprintf(computed, sizeof computed, "%.6f %.6Lf", d / 3, ld / 7);
	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n movdqa %%xmm0, %%xmm5\n movdqa %%xmm0, %%xmm15" ::: "xmm0", "xmm5", "xmm15");
	ucontext_t *uc = ctx;
	aligned = (uintptr_t)uc->uc_mcontext.fpregs % 64 == 0;
	magic = *(uint32_t *)((char *)uc->uc_mcontext.fpregs + 464) == 0x46505853;
	uc->uc_mcontext.fpregs->_xmm[5].element[0] = 0x5a5a5a5a;
}

static sigjmp_buf env;
static volatile int fpe_code;
static volatile uintptr_t fpe_addr, fpe_trapno;
static volatile uint32_t frame_mxcsr;
static volatile uint16_t frame_cwd, frame_swd;

static void fpe(int sig, siginfo_t *si, void *ctx) {
	(void)sig;
	ucontext_t *uc = ctx;
	fpe_code = si->si_code;
	fpe_addr = (uintptr_t)si->si_addr;
	fpe_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	frame_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
	frame_cwd = uc->uc_mcontext.fpregs->cwd;
	frame_swd = uc->uc_mcontext.fpregs->swd;
	siglongjmp(env, 1); /* the handler's own FPU state (the initial one) stays */
}

__asm__(".text\n"
	".globl sse_div0\n sse_div0:\n sub $8, %rsp\n movl $0x1d80, (%rsp)\n ldmxcsr (%rsp)\n add $8, %rsp\n"
	" pxor %xmm1, %xmm1\n mov $1, %eax\n cvtsi2ss %eax, %xmm0\n .globl divss_insn\n divss_insn:\n"
	" divss %xmm1, %xmm0\n ret\n"
	".globl x87_div0\n x87_div0:\n sub $8, %rsp\n movw $0x37b, (%rsp)\n fninit\n fldcw (%rsp)\n add $8, %rsp\n"
	" fld1\n fldz\n fdivrp\n .globl fwait_insn\n fwait_insn:\n fwait\n ret\n");
void sse_div0(void), x87_div0(void);
extern char divss_insn[], fwait_insn[];

int main(void) {
	for (int i = 0; i < 32; i++)
		xin[i] = 0x0101010101010101ULL * (uint64_t)(i + 1) ^ 0x8000000000000000ULL;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = usr1;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, 0);
	signal_with_state();

	printf("handler entry: MXCSR %#x FCW %#x x87 tags %#x\n", entry_mxcsr, entry_fcw, entry_ftw);
	printf("handler computed: %s\n", computed);
	printf("fpstate 64-byte aligned: %d, FP_XSTATE_MAGIC1 in sw_reserved: %d\n", aligned, magic);
	int same = 1;
	for (int i = 0; i < 32; i++)
		if (i != 10 && xout[i] != xin[i])
			same = 0;
	printf("XMM0-15 preserved (but XMM5's low dword): %d\n", same);
	printf("XMM5 low dword as the handler set it in the frame: %#x, its other dword kept: %d\n",
	       (unsigned)xout[10], (uint32_t)(xout[10] >> 32) == (uint32_t)(xin[10] >> 32));
	long double l2e = 1.44269504088896340736L, pi = 3.14159265358979323846L;
	printf("x87 stack preserved: %d %d %d\n", stout[0] == l2e, stout[1] == pi, stout[2] == 1.0L);
	printf("MXCSR and FCW preserved: %#x %#x\n", mxcsr_out, fcw_out);

	sa.sa_sigaction = fpe;
	sigaction(SIGFPE, &sa, 0);
	if (!sigsetjmp(env, 1))
		sse_div0();
	printf("SSE divide by zero: si_code %d (FPE_FLTDIV %d), si_addr is the divss %d, trapno %lu, frame MXCSR %#x\n",
	       fpe_code, FPE_FLTDIV, fpe_addr == (uintptr_t)divss_insn, (unsigned long)fpe_trapno, frame_mxcsr);
	if (!sigsetjmp(env, 1))
		x87_div0();
	printf("x87 divide by zero: si_code %d, si_addr is the fwait %d, trapno %lu, frame FCW %#x FSW %#x\n",
	       fpe_code, fpe_addr == (uintptr_t)fwait_insn, (unsigned long)fpe_trapno, frame_cwd, frame_swd);
	uint32_t mx;
	__asm__ volatile("stmxcsr %0" : "=m"(mx));
	printf("after siglongjmp out of the handler MXCSR is the handler's: %#x\n", mx);
	return 0;
}
