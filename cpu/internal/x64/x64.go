// Package x64 assembles the few x86-64 host instructions the emulator's code generator
// (cpu/jit_amd64.go) emits, and runs the code it makes: executable memory and a call into
// it, on linux/amd64 hosts. It models nothing of the guest: it knows machine-code bytes,
// host registers and host memory, not CPUs, TLBs or blocks.
//
// Encodings follow the Intel SDM Vol. 2 (2.1-2.2: REX, ModR/M, SIB). The tests check every
// emitter against golang.org/x/arch's decoder.
package x64

import "fmt"

// Reg is a host general-purpose register, numbered as in ModR/M.
type Reg uint8

// The host registers.
const (
	RAX Reg = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
	NoReg Reg = 0xff
)

// Mem is a memory operand [Base + Index<<Scale + Disp].
type Mem struct {
	Base  Reg // NoReg: none (absolute disp32)
	Index Reg // NoReg: none; RSP cannot be an index
	Scale uint8
	Disp  int32
}

// M is [base + disp].
func M(base Reg, disp int32) Mem { return Mem{Base: base, Index: NoReg, Disp: disp} }

// MI is [base + index<<scale + disp].
func MI(base, index Reg, scale uint8, disp int32) Mem {
	return Mem{Base: base, Index: index, Scale: scale, Disp: disp}
}

// Cond is an x86 condition code (the low nibble of Jcc, SETcc, CMOVcc).
type Cond uint8

// Asm accumulates machine code.
type Asm struct {
	B []byte
}

// Len is the number of bytes emitted so far.
func (a *Asm) Len() int { return len(a.B) }

func (a *Asm) byte1(b ...byte) { a.B = append(a.B, b...) }

func (a *Asm) imm32(v int32) {
	a.B = append(a.B, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

// prefix emits the operand-size prefix and REX for an instruction of size bytes whose
// ModR/M reg field is reg and whose r/m operand involves index and base. byteReg is a
// register used as an 8-bit operand: SPL, BPL, SIL and DIL need a REX (else AH..BH).
func (a *Asm) prefix(size int, reg, index, base, byteReg Reg) {
	if size == 2 {
		a.byte1(0x66)
	}
	rex := byte(0)
	if size == 8 {
		rex |= 8
	}
	if reg != NoReg && reg&8 != 0 {
		rex |= 4
	}
	if index != NoReg && index&8 != 0 {
		rex |= 2
	}
	if base != NoReg && base&8 != 0 {
		rex |= 1
	}
	if rex != 0 || byteReg >= RSP && byteReg <= RDI {
		a.byte1(0x40 | rex)
	}
}

// modrmMem emits ModR/M (and SIB, displacement) for reg field r and memory operand m.
func (a *Asm) modrmMem(r byte, m Mem) {
	r = (r & 7) << 3
	if m.Base == NoReg {
		// [index<<scale + disp32] or [disp32] (SIB form without base, not RIP-relative)
		a.byte1(0x04|r, m.Scale<<6|idx(m.Index)<<3|5)
		a.imm32(m.Disp)
		return
	}
	mod := byte(0x80)
	switch {
	case m.Disp == 0 && m.Base&7 != 5:
		mod = 0
	case m.Disp >= -128 && m.Disp <= 127:
		mod = 0x40
	}
	if m.Index != NoReg || m.Base&7 == 4 {
		a.byte1(mod|r|4, m.Scale<<6|idx(m.Index)<<3|byte(m.Base&7))
	} else {
		a.byte1(mod | r | byte(m.Base&7))
	}
	switch mod {
	case 0x40:
		a.byte1(byte(int8(m.Disp)))
	case 0x80:
		a.imm32(m.Disp)
	}
}

func idx(r Reg) byte {
	if r == NoReg {
		return 4 // no index
	}
	if r == RSP {
		panic("x64: RSP cannot be an index register")
	}
	return byte(r & 7)
}

// OpM emits opcode with ModR/M reg field r (a register or an opcode extension) and memory
// operand m, at operand size size.
func (a *Asm) OpM(size int, op []byte, r Reg, m Mem) {
	br := NoReg
	if size == 1 {
		br = r
	}
	a.prefix(size, r, m.Index, m.Base, br)
	a.byte1(op...)
	a.modrmMem(byte(r), m)
}

// OpR emits opcode with ModR/M reg field r and register operand rm, at size.
func (a *Asm) OpR(size int, op []byte, r, rm Reg) {
	br := NoReg
	if size == 1 {
		br = r
		if rm >= RSP && rm <= RDI {
			br = rm
		}
	}
	a.prefix(size, r, NoReg, rm, br)
	a.byte1(op...)
	a.byte1(0xc0 | byte(r&7)<<3 | byte(rm&7))
}

// ALU operations, numbered as the /digit of opcodes 80/81/83 (and the row of 00-3D).
const (
	Add = 0
	Or  = 1
	Adc = 2
	Sbb = 3
	And = 4
	Sub = 5
	Xor = 6
	Cmp = 7
)

// Shift operations, the /digit of C0/C1/D3.
const (
	Rol = 0
	Ror = 1
	Shl = 4
	Shr = 5
	Sar = 7
)

// The condition codes.
const (
	CondO  Cond = 0
	CondNO Cond = 1
	CondB  Cond = 2
	CondAE Cond = 3
	CondE  Cond = 4
	CondNE Cond = 5
	CondBE Cond = 6
	CondA  Cond = 7
	CondS  Cond = 8
	CondNS Cond = 9
	CondP  Cond = 10
	CondNP Cond = 11
	CondL  Cond = 12
	CondGE Cond = 13
	CondLE Cond = 14
	CondG  Cond = 15
)

func opSized(size int, op8, op byte) []byte {
	if size == 1 {
		return []byte{op8}
	}
	return []byte{op}
}

// Load is mov dst, [m] at size 1, 2, 4 or 8 (sizes 1 and 2 leave the register's other bits).
func (a *Asm) Load(size int, dst Reg, m Mem) { a.OpM(size, opSized(size, 0x8a, 0x8b), dst, m) }

// Store is mov [m], src at size.
func (a *Asm) Store(size int, m Mem, src Reg) { a.OpM(size, opSized(size, 0x88, 0x89), src, m) }

// StoreImm is mov [m], imm at size (imm sign-extended from 32 bits at size 8).
func (a *Asm) StoreImm(size int, m Mem, imm int32) {
	a.OpM(size, opSized(size, 0xc6, 0xc7), 0, m)
	a.immSized(size, imm)
}

// immSized emits an immediate of the operand size (4 bytes for size 8, sign-extended).
func (a *Asm) immSized(size int, imm int32) {
	switch size {
	case 1:
		a.byte1(byte(imm))
	case 2:
		a.byte1(byte(imm), byte(imm>>8))
	default:
		a.imm32(imm)
	}
}

// MovRR is mov dst, src at size 4 or 8.
func (a *Asm) MovRR(size int, dst, src Reg) { a.OpR(size, []byte{0x8b}, dst, src) }

// MovImm loads a 64-bit constant into dst, in the shortest form.
func (a *Asm) MovImm(dst Reg, v uint64) {
	switch {
	case v == 0:
		a.OpR(4, []byte{0x33}, dst, dst) // xor r32, r32 (changes the flags)
	case v <= 0xffffffff:
		a.prefix(4, NoReg, NoReg, dst, NoReg)
		a.byte1(0xb8 + byte(dst&7))
		a.imm32(int32(uint32(v)))
	case int64(v) == int64(int32(v)):
		a.OpR(8, []byte{0xc7}, 0, dst)
		a.imm32(int32(v))
	default:
		a.prefix(8, NoReg, NoReg, dst, NoReg)
		a.byte1(0xb8 + byte(dst&7))
		a.imm32(int32(uint32(v)))
		a.imm32(int32(uint32(v >> 32)))
	}
}

// MovImmKeepFlags is MovImm without the XOR form, so the flags are left alone.
func (a *Asm) MovImmKeepFlags(dst Reg, v uint64) {
	if v == 0 {
		a.prefix(4, NoReg, NoReg, dst, NoReg)
		a.byte1(0xb8 + byte(dst&7))
		a.imm32(0)
		return
	}
	a.MovImm(dst, v)
}

// Movzx is movzx dst32, byte/word [m] (from = 1 or 2), which zero-extends to 64 bits.
func (a *Asm) Movzx(from int, dst Reg, m Mem) {
	op := byte(0xb6)
	if from == 2 {
		op = 0xb7
	}
	a.OpM(4, []byte{0x0f, op}, dst, m)
}

// MovzxR is movzx dst32, src8/src16 (from = 1 or 2).
func (a *Asm) MovzxR(from int, dst, src Reg) {
	op := byte(0xb6)
	if from == 2 {
		op = 0xb7
	}
	br := NoReg
	if from == 1 {
		br = src
	}
	a.prefix(4, dst, NoReg, src, br)
	a.byte1(0x0f, op, 0xc0|byte(dst&7)<<3|byte(src&7))
}

// Movsx is movsx dst, byte/word/dword [m] (from = 1, 2 or 4) at size 4 or 8.
func (a *Asm) Movsx(size, from int, dst Reg, m Mem) {
	switch from {
	case 1:
		a.OpM(size, []byte{0x0f, 0xbe}, dst, m)
	case 2:
		a.OpM(size, []byte{0x0f, 0xbf}, dst, m)
	default:
		a.OpM(8, []byte{0x63}, dst, m)
	}
}

// MovsxR is movsx dst, src (from = 1, 2 or 4) at size 4 or 8.
func (a *Asm) MovsxR(size, from int, dst, src Reg) {
	switch from {
	case 1:
		a.prefix(size, dst, NoReg, src, src)
		a.byte1(0x0f, 0xbe, 0xc0|byte(dst&7)<<3|byte(src&7))
	case 2:
		a.OpR(size, []byte{0x0f, 0xbf}, dst, src)
	default:
		a.OpR(8, []byte{0x63}, dst, src)
	}
}

// Lea is lea dst, [m] at size 4 or 8.
func (a *Asm) Lea(size int, dst Reg, m Mem) { a.OpM(size, []byte{0x8d}, dst, m) }

// AluRR is op dst, src (ALU operation op: Add..Cmp) at size.
func (a *Asm) AluRR(size int, op int, dst, src Reg) {
	a.OpR(size, opSized(size, byte(op<<3|2), byte(op<<3|3)), dst, src)
}

// AluRM is op dst, [m] at size.
func (a *Asm) AluRM(size int, op int, dst Reg, m Mem) {
	a.OpM(size, opSized(size, byte(op<<3|2), byte(op<<3|3)), dst, m)
}

// AluMR is op [m], src at size.
func (a *Asm) AluMR(size int, op int, m Mem, src Reg) {
	a.OpM(size, opSized(size, byte(op<<3), byte(op<<3|1)), src, m)
}

// AluRI is op dst, imm at size (imm sign-extended to the operand size).
func (a *Asm) AluRI(size int, op int, dst Reg, imm int32) {
	a.OpR(size, aluImmOp(size, imm), Reg(op), dst)
	a.aluImm(size, imm)
}

// AluMI is op [m], imm at size.
func (a *Asm) AluMI(size int, op int, m Mem, imm int32) {
	a.OpM(size, aluImmOp(size, imm), Reg(op), m)
	a.aluImm(size, imm)
}

// aluImmOp is the opcode of an ALU operation with an immediate: 80 for bytes, 83 for an
// immediate that fits a sign-extended byte, else 81.
func aluImmOp(size int, imm int32) []byte {
	switch {
	case size == 1:
		return []byte{0x80}
	case imm >= -128 && imm <= 127:
		return []byte{0x83}
	}
	return []byte{0x81}
}

// aluImm emits the immediate aluImmOp chose room for.
func (a *Asm) aluImm(size int, imm int32) {
	switch {
	case imm >= -128 && imm <= 127:
		a.byte1(byte(imm))
	default:
		a.immSized(size, imm)
	}
}

// TestRR is test dst, src at size.
func (a *Asm) TestRR(size int, dst, src Reg) {
	a.OpR(size, opSized(size, 0x84, 0x85), src, dst)
}

// TestRI is test dst, imm at size.
func (a *Asm) TestRI(size int, dst Reg, imm int32) {
	a.OpR(size, opSized(size, 0xf6, 0xf7), 0, dst)
	a.immSized(size, imm)
}

// ShiftRI is a shift or rotate (Rol..Sar) of dst by the constant n at size.
func (a *Asm) ShiftRI(size int, op int, dst Reg, n uint8) {
	a.OpR(size, opSized(size, 0xc0, 0xc1), Reg(op), dst)
	a.byte1(n)
}

// ShiftRCL is a shift or rotate of dst by CL at size.
func (a *Asm) ShiftRCL(size int, op int, dst Reg) {
	a.OpR(size, opSized(size, 0xd2, 0xd3), Reg(op), dst)
}

// Unary is inc (0), dec (1) of dst at size (opcode FE/FF), or with f7: not (2), neg (3).
func (a *Asm) Inc(size int, dst Reg) { a.OpR(size, opSized(size, 0xfe, 0xff), 0, dst) }

// Dec is dec dst at size.
func (a *Asm) Dec(size int, dst Reg) { a.OpR(size, opSized(size, 0xfe, 0xff), 1, dst) }

// Not is not dst at size.
func (a *Asm) Not(size int, dst Reg) { a.OpR(size, opSized(size, 0xf6, 0xf7), 2, dst) }

// Neg is neg dst at size.
func (a *Asm) Neg(size int, dst Reg) { a.OpR(size, opSized(size, 0xf6, 0xf7), 3, dst) }

// IncM is inc qword [m] (size 8) or at size.
func (a *Asm) IncM(size int, m Mem) { a.OpM(size, opSized(size, 0xfe, 0xff), 0, m) }

// ImulRR is imul dst, src at size 4 or 8.
func (a *Asm) ImulRR(size int, dst, src Reg) { a.OpR(size, []byte{0x0f, 0xaf}, dst, src) }

// ImulRRI is imul dst, src, imm32 at size 4 or 8.
func (a *Asm) ImulRRI(size int, dst, src Reg, imm int32) {
	a.OpR(size, []byte{0x69}, dst, src)
	a.imm32(imm)
}

// Bswap is bswap dst at size 4 or 8.
func (a *Asm) Bswap(size int, dst Reg) {
	a.prefix(size, NoReg, NoReg, dst, NoReg)
	a.byte1(0x0f, 0xc8+byte(dst&7))
}

// Setcc is setcc dst8.
func (a *Asm) Setcc(cc Cond, dst Reg) { a.OpR(1, []byte{0x0f, 0x90 + byte(cc)}, 0, dst) }

// Cmov is cmovcc dst, src at size 4 or 8.
func (a *Asm) Cmov(size int, cc Cond, dst, src Reg) {
	a.OpR(size, []byte{0x0f, 0x40 + byte(cc)}, dst, src)
}

// Xmm is a host XMM register, numbered as in ModR/M.
type Xmm uint8

// The XMM registers the generator uses.
const (
	X0 Xmm = iota
	X1
	X2
	X3
	X4
	X5
	X6
	X7
)

// SSE2 integer operations on packed lanes: the opcode after 66 0F (SDM Vol. 2, Table A-3).
const (
	Punpcklbw  = 0x60
	Punpcklwd  = 0x61
	Punpckldq  = 0x62
	Punpckhbw  = 0x68
	Punpckhwd  = 0x69
	Punpckhdq  = 0x6a
	Punpcklqdq = 0x6c
	Punpckhqdq = 0x6d
	Pcmpeqb    = 0x74
	Pcmpeqw    = 0x75
	Pcmpeqd    = 0x76
	Pcmpgtd    = 0x66
	Paddq      = 0xd4
	Pand       = 0xdb
	Pandn      = 0xdf
	Por        = 0xeb
	Pxor       = 0xef
	Psubb      = 0xf8
	Psubd      = 0xfa
	Psubq      = 0xfb
	Paddb      = 0xfc
	Paddd      = 0xfe
)

// sseM emits an SSE instruction with mandatory prefix pfx (0: none), opcode 0F op, ModR/M
// reg field r and memory operand m.
func (a *Asm) sseM(pfx, op byte, r Reg, m Mem) {
	if pfx != 0 {
		a.byte1(pfx)
	}
	a.prefix(4, r, m.Index, m.Base, NoReg)
	a.byte1(0x0f, op)
	a.modrmMem(byte(r), m)
}

// sseR is sseM with register operand rm.
func (a *Asm) sseR(pfx, op byte, r, rm Reg) {
	if pfx != 0 {
		a.byte1(pfx)
	}
	a.prefix(4, r, NoReg, rm, NoReg)
	a.byte1(0x0f, op, 0xc0|byte(r&7)<<3|byte(rm&7))
}

// MovdquLoad is movdqu dst, [m] (16 bytes, any alignment).
func (a *Asm) MovdquLoad(dst Xmm, m Mem) { a.sseM(0xf3, 0x6f, Reg(dst), m) }

// MovdquStore is movdqu [m], src.
func (a *Asm) MovdquStore(m Mem, src Xmm) { a.sseM(0xf3, 0x7f, Reg(src), m) }

// MovqLoad is movq dst, qword [m]: the high quadword cleared.
func (a *Asm) MovqLoad(dst Xmm, m Mem) { a.sseM(0xf3, 0x7e, Reg(dst), m) }

// MovdLoad is movd dst, dword [m]: the bits above cleared.
func (a *Asm) MovdLoad(dst Xmm, m Mem) { a.sseM(0x66, 0x6e, Reg(dst), m) }

// Packed is an SSE2 integer operation (Pxor, Paddq, ...) dst op= src.
func (a *Asm) Packed(op byte, dst, src Xmm) { a.sseR(0x66, op, Reg(dst), Reg(src)) }

// SSE arithmetic and conversion: the opcode after 0F, and the mandatory prefix that picks
// packed single (none), packed double (66), scalar single (F3) or scalar double (F2).
const (
	SqrtF    = 0x51
	AddF     = 0x58
	MulF     = 0x59
	CvtPS2DQ = 0x5b // with 66: cvtps2dq (MXCSR rounding); with F3: cvttps2dq (truncating)
	SubF     = 0x5c
	DivF     = 0x5e
	PD       = 0x66
	SS       = 0xf3
	SD       = 0xf2
)

// SSE is the register form of an SSE instruction: prefix pfx (0: none), 0F op, dst, src.
func (a *Asm) SSE(pfx, op byte, dst, src Xmm) { a.sseR(pfx, op, Reg(dst), Reg(src)) }

// Movaps is movaps dst, src (a whole-register copy).
func (a *Asm) Movaps(dst, src Xmm) { a.sseR(0, 0x28, Reg(dst), Reg(src)) }

// Pmovmskb is pmovmskb dst32, src: the bytes' top bits, zero-extended.
func (a *Asm) Pmovmskb(dst Reg, src Xmm) { a.sseR(0x66, 0xd7, dst, Reg(src)) }

// Ret is ret.
func (a *Asm) Ret() { a.byte1(0xc3) }

// Label is a position in the code that jumps can be bound to before or after they are
// emitted.
type Label struct {
	pos   int   // bound position, or -1
	fixup []int // positions of rel32 fields that jump here
}

// NewLabel returns an unbound label.
func NewLabel() *Label { return &Label{pos: -1} }

// Bind binds l to the current position and patches the jumps already emitted to it.
func (a *Asm) Bind(l *Label) {
	if l.pos >= 0 {
		panic("x64: label bound twice")
	}
	l.pos = len(a.B)
	for _, f := range l.fixup {
		a.patch(f, l.pos)
	}
	l.fixup = nil
}

func (a *Asm) patch(field, target int) {
	rel := int32(target - (field + 4))
	a.B[field], a.B[field+1], a.B[field+2], a.B[field+3] = byte(rel), byte(rel>>8), byte(rel>>16), byte(rel>>24)
}

func (a *Asm) rel(l *Label) {
	field := len(a.B)
	a.imm32(0)
	if l.pos >= 0 {
		a.patch(field, l.pos)
	} else {
		l.fixup = append(l.fixup, field)
	}
}

// Jcc is jcc l (rel32).
func (a *Asm) Jcc(cc Cond, l *Label) {
	a.byte1(0x0f, 0x80+byte(cc))
	a.rel(l)
}

// Jmp is jmp l (rel32).
func (a *Asm) Jmp(l *Label) {
	a.byte1(0xe9)
	a.rel(l)
}

// Bound reports whether l is bound.
func (l *Label) Bound() bool { return l.pos >= 0 }

// Check reports an error if some label used by a jump was never bound.
func (a *Asm) Check(labels ...*Label) error {
	for _, l := range labels {
		if len(l.fixup) > 0 {
			return fmt.Errorf("x64: label with %d unresolved jumps", len(l.fixup))
		}
	}
	return nil
}
