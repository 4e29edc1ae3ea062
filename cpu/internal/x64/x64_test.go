package x64

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/arch/x86/x86asm"
)

// TestEncodings decodes what each emitter makes and compares the text (Intel syntax).
func TestEncodings(t *testing.T) {
	cases := []struct {
		emit func(a *Asm)
		want string
	}{
		{func(a *Asm) { a.Load(8, RAX, M(RBX, 8)) }, "mov rax, qword ptr [rbx+0x8]"},
		{func(a *Asm) { a.Load(8, R9, MI(R13, R12, 3, 0x1234)) }, "mov r9, qword ptr [r13+8*r12+0x1234]"},
		{func(a *Asm) { a.Load(4, RDX, M(RBP, 0)) }, "mov edx, dword ptr [rbp]"},
		{func(a *Asm) { a.Load(8, RDX, M(R13, 0)) }, "mov rdx, qword ptr [r13]"},
		{func(a *Asm) { a.Load(8, RDX, M(RSP, 16)) }, "mov rdx, qword ptr [rsp+0x10]"},
		{func(a *Asm) { a.Load(8, RDX, M(R12, -8)) }, "mov rdx, qword ptr [r12-0x8]"},
		{func(a *Asm) { a.Load(2, RSI, M(RAX, 0)) }, "mov si, word ptr [rax]"},
		{func(a *Asm) { a.Load(1, RSI, M(RAX, 0)) }, "mov sil, byte ptr [rax]"},
		{func(a *Asm) { a.Store(1, MI(RSI, RDX, 0, 0), RCX) }, "mov byte ptr [rsi+rdx], cl"},
		{func(a *Asm) { a.Store(1, MI(RSI, RDX, 0, 0), RDI) }, "mov byte ptr [rsi+rdx], dil"},
		{func(a *Asm) { a.Store(4, MI(RSI, RDX, 0, 0), R10) }, "mov dword ptr [rsi+rdx], r10d"},
		{func(a *Asm) { a.StoreImm(8, M(RBX, 0x100), -5) }, "mov qword ptr [rbx+0x100], -0x5"},
		{func(a *Asm) { a.StoreImm(1, M(RBX, 1), 0x7f) }, "mov byte ptr [rbx+0x1], 0x7f"},
		{func(a *Asm) { a.StoreImm(2, M(RBX, 1), 0x1234) }, "mov word ptr [rbx+0x1], 0x1234"},
		{func(a *Asm) { a.MovRR(8, R8, RAX) }, "mov r8, rax"},
		{func(a *Asm) { a.MovRR(4, RAX, R15) }, "mov eax, r15d"},
		{func(a *Asm) { a.MovImm(RAX, 0) }, "xor eax, eax"},
		{func(a *Asm) { a.MovImmKeepFlags(RAX, 0) }, "mov eax, 0x0"},
		{func(a *Asm) { a.MovImm(R11, 0x12345678) }, "mov r11d, 0x12345678"},
		{func(a *Asm) { a.MovImm(RCX, ^uint64(0)) }, "mov rcx, -0x1"},
		{func(a *Asm) { a.MovImm(RCX, 0x123456789a) }, "mov rcx, 0x123456789a"},
		{func(a *Asm) { a.Movzx(1, RAX, M(RSI, 3)) }, "movzx eax, byte ptr [rsi+0x3]"},
		{func(a *Asm) { a.Movzx(2, R9, M(RSI, 3)) }, "movzx r9d, word ptr [rsi+0x3]"},
		{func(a *Asm) { a.MovzxR(1, RAX, RSI) }, "movzx eax, sil"},
		{func(a *Asm) { a.MovzxR(1, RAX, RCX) }, "movzx eax, cl"},
		{func(a *Asm) { a.MovzxR(2, RAX, R8) }, "movzx eax, r8w"},
		{func(a *Asm) { a.Movsx(8, 4, RAX, M(RSI, 0)) }, "movsxd rax, dword ptr [rsi]"},
		{func(a *Asm) { a.Movsx(4, 1, RAX, M(RSI, 0)) }, "movsx eax, byte ptr [rsi]"},
		{func(a *Asm) { a.Movsx(8, 2, RAX, M(RSI, 0)) }, "movsx rax, word ptr [rsi]"},
		{func(a *Asm) { a.MovsxR(8, 1, RAX, RDI) }, "movsx rax, dil"},
		{func(a *Asm) { a.MovsxR(4, 1, RAX, RDI) }, "movsx eax, dil"},
		{func(a *Asm) { a.MovsxR(8, 4, RAX, RDX) }, "movsxd rax, edx"},
		{func(a *Asm) { a.MovsxR(4, 2, RAX, RDX) }, "movsx eax, dx"},
		{func(a *Asm) { a.Lea(8, RAX, MI(RCX, RDX, 2, -3)) }, "lea rax, ptr [rcx+4*rdx-0x3]"},
		{func(a *Asm) { a.Lea(4, RAX, MI(NoReg, RDX, 3, 0)) }, "lea eax, ptr [8*rdx]"},
		{func(a *Asm) { a.AluRR(8, Sub, RAX, R9) }, "sub rax, r9"},
		{func(a *Asm) { a.AluRR(4, Cmp, RDX, RCX) }, "cmp edx, ecx"},
		{func(a *Asm) { a.AluRR(1, Xor, RDX, RCX) }, "xor dl, cl"},
		{func(a *Asm) { a.AluRR(2, Add, RDX, RCX) }, "add dx, cx"},
		{func(a *Asm) { a.AluRM(8, Cmp, RAX, M(RBX, 0x80)) }, "cmp rax, qword ptr [rbx+0x80]"},
		{func(a *Asm) { a.AluMR(8, Add, M(RBX, 8), RAX) }, "add qword ptr [rbx+0x8], rax"},
		{func(a *Asm) { a.AluRI(8, And, RAX, 0xff) }, "and rax, 0xff"},
		{func(a *Asm) { a.AluRI(4, Sub, RAX, -1) }, "sub eax, -0x1"},
		{func(a *Asm) { a.AluRI(1, Cmp, RSI, 5) }, "cmp sil, 0x5"},
		{func(a *Asm) { a.AluRI(2, Cmp, RSI, 500) }, "cmp si, 0x1f4"},
		{func(a *Asm) { a.AluMI(8, Add, M(RBX, 8), 1) }, "add qword ptr [rbx+0x8], 0x1"},
		{func(a *Asm) { a.AluMI(4, Cmp, M(RBX, 8), 1000) }, "cmp dword ptr [rbx+0x8], 0x3e8"},
		{func(a *Asm) { a.TestRR(8, RAX, RCX) }, "test rax, rcx"},
		{func(a *Asm) { a.TestRR(1, RAX, RDI) }, "test al, dil"},
		{func(a *Asm) { a.TestRI(4, RDX, 0x100) }, "test edx, 0x100"},
		{func(a *Asm) { a.TestRI(1, RDX, 0x10) }, "test dl, 0x10"},
		{func(a *Asm) { a.ShiftRI(8, Shl, RAX, 3) }, "shl rax, 0x3"},
		{func(a *Asm) { a.ShiftRI(4, Sar, R10, 31) }, "sar r10d, 0x1f"},
		{func(a *Asm) { a.ShiftRI(8, Ror, RAX, 7) }, "ror rax, 0x7"},
		{func(a *Asm) { a.ShiftRCL(8, Shr, RDX) }, "shr rdx, cl"},
		{func(a *Asm) { a.Inc(8, RAX) }, "inc rax"},
		{func(a *Asm) { a.Dec(4, R12) }, "dec r12d"},
		{func(a *Asm) { a.Not(8, RAX) }, "not rax"},
		{func(a *Asm) { a.Neg(4, RAX) }, "neg eax"},
		{func(a *Asm) { a.IncM(8, M(RBX, 0x10)) }, "inc qword ptr [rbx+0x10]"},
		{func(a *Asm) { a.ImulRR(8, RAX, RCX) }, "imul rax, rcx"},
		{func(a *Asm) { a.ImulRRI(4, RAX, RCX, 100) }, "imul eax, ecx, 0x64"},
		{func(a *Asm) { a.Bswap(4, R9) }, "bswap r9d"},
		{func(a *Asm) { a.Bswap(8, RAX) }, "bswap rax"},
		{func(a *Asm) { a.Setcc(CondL, RAX) }, "setl al"},
		{func(a *Asm) { a.Setcc(CondE, RSI) }, "setz sil"},
		{func(a *Asm) { a.Cmov(8, CondB, RAX, RCX) }, "cmovb rax, rcx"},
		{func(a *Asm) { a.Ret() }, "ret"},
		{func(a *Asm) { a.MovdquLoad(X1, M(RBX, 0x200)) }, "movdqu xmm1, xmmword ptr [rbx+0x200]"},
		{func(a *Asm) { a.MovdquLoad(X0, MI(RSI, RDX, 0, 0)) }, "movdqu xmm0, xmmword ptr [rsi+rdx]"},
		{func(a *Asm) { a.MovdquLoad(X2, MI(R8, R9, 0, 0)) }, "movdqu xmm2, xmmword ptr [r8+r9]"},
		{func(a *Asm) { a.MovdquStore(M(RBX, 0x210), X0) }, "movdqu xmmword ptr [rbx+0x210], xmm0"},
		{func(a *Asm) { a.MovqLoad(X1, MI(RSI, RDX, 0, 0)) }, "movq xmm1, qword ptr [rsi+rdx]"},
		{func(a *Asm) { a.MovdLoad(X1, MI(RSI, RDX, 0, 0)) }, "movd xmm1, dword ptr [rsi+rdx]"},
		{func(a *Asm) { a.Packed(Pxor, X0, X1) }, "pxor xmm0, xmm1"},
		{func(a *Asm) { a.Packed(Punpckhbw, X0, X2) }, "punpckhbw xmm0, xmm2"},
		{func(a *Asm) { a.Packed(Punpcklqdq, X1, X0) }, "punpcklqdq xmm1, xmm0"},
		{func(a *Asm) { a.Packed(Pcmpeqd, X0, X1) }, "pcmpeqd xmm0, xmm1"},
		{func(a *Asm) { a.Packed(Pandn, X0, X1) }, "pandn xmm0, xmm1"},
		{func(a *Asm) { a.Packed(Paddb, X0, X1) }, "paddb xmm0, xmm1"},
		{func(a *Asm) { a.Pmovmskb(RAX, X1) }, "pmovmskb eax, xmm1"},
		{func(a *Asm) { a.Packed(Pcmpgtd, X3, X4) }, "pcmpgtd xmm3, xmm4"},
		{func(a *Asm) { a.SSE(0, AddF, X2, X1) }, "addps xmm2, xmm1"},
		{func(a *Asm) { a.SSE(PD, MulF, X2, X1) }, "mulpd xmm2, xmm1"},
		{func(a *Asm) { a.SSE(SS, SubF, X2, X1) }, "subss xmm2, xmm1"},
		{func(a *Asm) { a.SSE(SD, DivF, X2, X1) }, "divsd xmm2, xmm1"},
		{func(a *Asm) { a.SSE(SD, SqrtF, X2, X1) }, "sqrtsd xmm2, xmm1"},
		{func(a *Asm) { a.SSE(0, SqrtF, X2, X1) }, "sqrtps xmm2, xmm1"},
		{func(a *Asm) { a.SSE(PD, CvtPS2DQ, X2, X1) }, "cvtps2dq xmm2, xmm1"},
		{func(a *Asm) { a.SSE(SS, CvtPS2DQ, X2, X1) }, "cvttps2dq xmm2, xmm1"},
		{func(a *Asm) { a.Movaps(X2, X0) }, "movaps xmm2, xmm0"},
		{func(a *Asm) { a.Pmovmskb(R9, X0) }, "pmovmskb r9d, xmm0"},
	}
	for _, c := range cases {
		var a Asm
		c.emit(&a)
		in, err := x86asm.Decode(a.B, 64)
		require.NoError(t, err, "% x (want %s)", a.B, c.want)
		assert.Equal(t, len(a.B), in.Len, "% x: length", a.B)
		assert.Equal(t, c.want, x86asm.IntelSyntax(in, 0, nil), "% x", a.B)
	}
}

func TestLabels(t *testing.T) {
	var a Asm
	back := NewLabel()
	fwd := NewLabel()
	a.Bind(back)
	a.Jcc(CondNE, fwd)
	a.Jmp(back)
	a.Bind(fwd)
	a.Ret()
	require.NoError(t, a.Check(back, fwd))
	// jne +5 (over the jmp), jmp -11 (to the start), ret
	assert.Equal(t, []byte{0x0f, 0x85, 5, 0, 0, 0, 0xe9, 0xf5, 0xff, 0xff, 0xff, 0xc3}, a.B)
	u := NewLabel()
	a.Jmp(u)
	assert.Error(t, a.Check(u))
}
