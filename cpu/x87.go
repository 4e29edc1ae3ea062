package cpu

import (
	"golang.org/x/arch/x86/x86asm"

	"github.com/vmemu/vmemu/cpu/internal/f80"
)

// The x87 FPU (SDM Vol. 1, chapter 8): a stack of eight 80-bit registers over the
// physical registers R0-R7, addressed relative to TOP (status word bits 13:11), a tag word
// (two bits per physical register: 00 valid, 01 zero, 10 special, 11 empty), the control
// word (exception masks, precision and rounding control) and the status word (exception
// flags, stack fault, the summary ES/B bits, condition codes C0-C3), plus the last
// instruction and data pointers and opcode. The arithmetic itself is in cpu/internal/f80.
//
// Exceptions follow the SDM: every exception condition sets its flag in the status word.
// A masked exception delivers the masked response (a default NaN, infinity, denormal...)
// and execution goes on. An unmasked one sets ES and B as well; invalid-operation,
// divide-by-zero and denormal-operand exceptions then suppress the result (registers,
// TOP and memory stay as they were), while overflow and underflow deliver the
// bias-adjusted result to a register (and store nothing to memory). As on the hardware,
// the #MF exception (vector 16) is not raised by the instruction that caused it but by the
// next "waiting" x87 instruction (every x87 instruction except FNINIT, FNCLEX, FNSTCW,
// FNSTSW, FNSTENV and FNSAVE, and FWAIT/WAIT itself), which does not execute: RIP points at
// it, and FIP/FOP/FDP still name the instruction that caused the exception.

// Status-word bits that are not exception flags (SDM Vol. 1, figure 8-4).
const (
	fswSF  = 1 << 6
	fswES  = 1 << 7
	fswC0  = 1 << 8
	fswC1  = 1 << 9
	fswC2  = 1 << 10
	fswTOP = 7 << 11
	fswC3  = 1 << 14
	fswB   = 1 << 15

	fswCC = fswC0 | fswC1 | fswC2 | fswC3
)

// Tag values.
const (
	tagValid   = 0
	tagZero    = 1
	tagSpecial = 2
	tagEmpty   = 3
)

// The segment selectors a 64-bit Linux process runs with: CS 0x33, SS 0x2b, and 0 in DS,
// ES, FS and GS. The CPU does not model segment registers; the FPU records these as the
// hardware records CS and the memory operand's segment (SS for an RSP or RBP base, else
// DS, or FS/GS with an override) in FCS and FDS.
const (
	x87UserCS = 0x33
	x87UserSS = 0x2b
)

// The host processors store FOP for every non-control instruction (not only on an
// unmasked exception); so does this FPU.

func f80of(v Float80) f80.F80 { return f80.F80(v) }
func fl80(v f80.F80) Float80  { return Float80(v) }

// fpuTop returns TOP.
func (c *CPU) fpuTop() int { return int(c.ext.X87.FSW>>11) & 7 }

func (c *CPU) setTop(t int) {
	x := &c.ext.X87
	x.FSW = x.FSW&^fswTOP | uint16(t&7)<<11
}

// phys returns the physical register number of ST(i).
func (c *CPU) phys(i int) int { return (c.fpuTop() + i) & 7 }

// empty reports whether ST(i) is empty.
func (c *CPU) empty(i int) bool {
	return c.ext.X87.FTW>>(2*c.phys(i))&3 == tagEmpty
}

// st returns ST(i) (whatever its tag).
func (c *CPU) st(i int) f80.F80 { return f80of(c.ext.X87.R[c.phys(i)]) }

// tagOf returns the tag a register holding v has.
func tagOf(v f80.F80) uint16 {
	switch v.Class() {
	case f80.Normal:
		return tagValid
	case f80.Zero:
		return tagZero
	}
	return tagSpecial
}

// setTag sets physical register p's tag.
func (c *CPU) setTag(p int, t uint16) {
	x := &c.ext.X87
	x.FTW = x.FTW&^(3<<(2*p)) | t<<(2*p)
}

// setST writes v to ST(i) and tags it.
func (c *CPU) setST(i int, v f80.F80) {
	p := c.phys(i)
	c.ext.X87.R[p] = fl80(v)
	c.setTag(p, tagOf(v))
}

// fpush decrements TOP and writes v to the new ST(0).
func (c *CPU) fpush(v f80.F80) {
	c.setTop(c.fpuTop() - 1)
	c.setST(0, v)
}

// fpop marks ST(0) empty and increments TOP.
func (c *CPU) fpop() {
	c.setTag(c.phys(0), tagEmpty)
	c.setTop(c.fpuTop() + 1)
}

// retag recomputes the tags of the non-empty registers from their contents, after a load
// of the tag word (FLDENV, FRSTOR): the hardware derives them from the values.
func (c *CPU) retag() {
	x := &c.ext.X87
	for p := 0; p < 8; p++ {
		if x.FTW>>(2*p)&3 != tagEmpty {
			c.setTag(p, tagOf(f80of(x.R[p])))
		}
	}
}

// updateES recomputes the exception summary (ES) and busy (B) bits: set while an unmasked
// exception flag is set.
func (c *CPU) updateES() {
	x := &c.ext.X87
	if x.FSW&^x.FCW&f80.Exceptions != 0 {
		x.FSW |= fswES | fswB
	} else {
		x.FSW &^= fswES | fswB
	}
}

// fpuExc records the status bits of an operation: the exception flags (and SF) are ORed
// into the status word, C1 is set from flags and ES/B are recomputed. It reports whether
// the result may be delivered: false when an invalid-operation, divide-by-zero or
// denormal-operand exception is unmasked (the instruction then changes nothing else).
// With an unmasked exception only the highest-priority condition is reported.
func (c *CPU) fpuExc(flags uint16) bool {
	x := &c.ext.X87
	if flags&(f80.IE|f80.ZE) != 0 {
		// An invalid operation or a division by zero ends the operation before the
		// lower-priority denormal-operand check (SDM Vol. 1, 4.9.2).
		flags &^= f80.DE
	}
	unmasked := flags &^ x.FCW & f80.Exceptions
	ok := true
	switch {
	case unmasked&f80.IE != 0:
		flags &= f80.IE | f80.SF | f80.C1
		ok = false
	case unmasked&f80.ZE != 0:
		flags &= f80.ZE | f80.C1
		ok = false
	case unmasked&f80.DE != 0:
		flags &= f80.DE | f80.C1
		ok = false
	}
	x.FSW = x.FSW&^fswC1 | flags&(f80.Exceptions|f80.SF|f80.C1)
	c.updateES()
	return ok
}

// fpuExcKeepC1 is fpuExc for the instructions that leave C1 alone unless a stack fault
// occurs (FCOMI, FCMOVcc on the host processors).
func (c *CPU) fpuExcKeepC1(flags uint16) bool {
	if flags&f80.SF == 0 {
		flags = flags&^f80.C1 | c.ext.X87.FSW&fswC1
	}
	return c.fpuExc(flags)
}

// stackUnderflow is the status of reading an empty register: IE and SF with C1 = 0.
const stackUnderflow = f80.IE | f80.SF

// stackOverflow is the status of pushing onto a full stack: IE and SF with C1 = 1.
const stackOverflow = f80.IE | f80.SF | f80.C1

// fpuWait is the check every waiting x87 instruction makes before it executes: a pending
// unmasked exception (ES set) raises #MF now.
func (c *CPU) fpuWait() {
	if c.ext.X87.FSW&fswES != 0 {
		c.raise(VecMF, 0, 0)
	}
}

// fpuPointers records in as the last non-control x87 instruction: FIP, FCS, FOP and, for
// a memory operand at ea, FDP and FDS.
func (c *CPU) fpuPointers(in *inst, ea uint64, mem bool) {
	x := &c.ext.X87
	x.FIP = c.bva + uint64(in.off)
	x.FCS = x87UserCS
	x.FOP = uint16(in.imm) & 0x7ff
	if mem {
		x.FDP = ea
		x.FDS = 0
		if in.seg == segNone && (in.base == RSP || in.base == RBP) {
			x.FDS = x87UserSS
		}
	}
}

// setCC sets the condition codes in mask to the bits of v (other status bits unchanged).
func (c *CPU) setCC(mask, v uint16) {
	x := &c.ext.X87
	x.FSW = x.FSW&^mask | v&mask
}

// x87 operations (inst.sub); inst.dst holds the arithmetic operation for the arithmetic
// forms, inst.src the register operand ST(i), inst.size the memory operand size, and
// inst.imm the FOP value (low 11 bits) and xf* flags.
const (
	xLoadF    = iota // FLD m32fp/m64fp/m80fp
	xLoadI           // FILD m16/m32/m64
	xLoadBCD         // FBLD m80bcd
	xLoadST          // FLD ST(i)
	xLoadK           // FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ (dst = constant)
	xStoreF          // FST/FSTP m32fp/m64fp, FSTP m80fp
	xStoreST         // FST/FSTP ST(i)
	xStoreI          // FIST/FISTP m16/m32/m64
	xStoreIT         // FISTTP m16/m32/m64
	xStoreBCD        // FBSTP m80bcd
	xArithM          // ST(0) <- ST(0) op m (dst = op; xfInt: integer operand)
	xArith0          // ST(0) <- ST(0) op ST(i)
	xArithI          // ST(i) <- ST(i) op ST(0) [pop]
	xCom             // FCOM/FCOMP/FCOMPP/FUCOM... ST(0) with ST(i) (xfUnordered; pops in ssize)
	xComI            // FCOMI/FCOMIP/FUCOMI/FUCOMIP
	xCmov            // FCMOVcc (dst = condition code)
	xXch             // FXCH ST(i)
	xFree            // FFREE ST(i), FFREEP (pops in ssize)
	xNop             // FNOP
	xChs
	xAbs
	xTst
	xXam
	xF2xm1
	xFyl2x
	xFptan
	xFpatan
	xFxtract
	xFprem1
	xFdecstp
	xFincstp
	xFprem
	xFyl2xp1
	xFsqrt
	xFsincos
	xFrndint
	xFscale
	xFsin
	xFcos
	xLdenv  // FLDENV
	xLdcw   // FLDCW
	xStenv  // FNSTENV
	xStcw   // FNSTCW
	xRstor  // FRSTOR
	xSave   // FNSAVE
	xStsw   // FNSTSW m16
	xStswAX // FNSTSW AX
	xClex   // FNCLEX
	xInit   // FNINIT
	xWait   // FWAIT
)

// Arithmetic operations in the order of the reg field of D8 /r.
const (
	arAdd = iota
	arMul
	arCom
	arComp
	arSub
	arSubr
	arDiv
	arDivr
)

// inst.imm flags above the FOP bits.
const (
	xfInt       = 1 << 16 // integer memory operand (FIADD...)
	xfUnordered = 1 << 17 // FUCOM family: QNaNs do not raise IE
	xfData16    = 1 << 18 // 66 prefix: FNSTENV/FLDENV/FNSAVE/FRSTOR in the 16-bit format
)

var opX87 uint16

func init() {
	opX87 = registerCold(execX87)
	for _, op := range []x86asm.Op{
		x86asm.F2XM1, x86asm.FABS, x86asm.FADD, x86asm.FADDP, x86asm.FBLD, x86asm.FBSTP,
		x86asm.FCHS, x86asm.FCMOVB, x86asm.FCMOVBE, x86asm.FCMOVE, x86asm.FCMOVNB,
		x86asm.FCMOVNBE, x86asm.FCMOVNE, x86asm.FCMOVNU, x86asm.FCMOVU, x86asm.FCOM,
		x86asm.FCOMI, x86asm.FCOMIP, x86asm.FCOMP, x86asm.FCOMPP, x86asm.FCOS, x86asm.FDECSTP,
		x86asm.FDIV, x86asm.FDIVP, x86asm.FDIVR, x86asm.FDIVRP, x86asm.FFREE, x86asm.FFREEP,
		x86asm.FIADD, x86asm.FICOM, x86asm.FICOMP, x86asm.FIDIV, x86asm.FIDIVR, x86asm.FILD,
		x86asm.FIMUL, x86asm.FINCSTP, x86asm.FIST, x86asm.FISTP, x86asm.FISTTP, x86asm.FISUB,
		x86asm.FISUBR, x86asm.FLD, x86asm.FLD1, x86asm.FLDCW, x86asm.FLDENV, x86asm.FLDL2E,
		x86asm.FLDL2T, x86asm.FLDLG2, x86asm.FLDLN2, x86asm.FLDPI, x86asm.FLDZ, x86asm.FMUL,
		x86asm.FMULP, x86asm.FNCLEX, x86asm.FNINIT, x86asm.FNOP, x86asm.FNSAVE, x86asm.FNSTCW,
		x86asm.FNSTENV, x86asm.FNSTSW, x86asm.FPATAN, x86asm.FPREM, x86asm.FPREM1, x86asm.FPTAN,
		x86asm.FRNDINT, x86asm.FRSTOR, x86asm.FSCALE, x86asm.FSIN, x86asm.FSINCOS, x86asm.FSQRT,
		x86asm.FST, x86asm.FSTP, x86asm.FSUB, x86asm.FSUBP, x86asm.FSUBR, x86asm.FSUBRP,
		x86asm.FTST, x86asm.FUCOM, x86asm.FUCOMI, x86asm.FUCOMIP, x86asm.FUCOMP, x86asm.FUCOMPP,
		x86asm.FWAIT, x86asm.FXAM, x86asm.FXCH, x86asm.FXTRACT, x86asm.FYL2X, x86asm.FYL2XP1,
	} {
		coldDecoders[op] = decodeX87
	}
	// CPUID.01H:EDX.FPU[bit 0]: an x87 FPU is on chip. (FCMOVcc and FCOMI need CMOV, bit 15,
	// which the integer core reports.)
	cpuidLeaf1EDX |= 1 << 0
}

// decodeX87 decodes an x87 instruction from its escape opcode (D8-DF) and ModR/M byte,
// which x86asm leaves in Opcode; only the memory operand is taken from x86asm's operands.
func decodeX87(in *inst, x *x86asm.Inst) bool {
	in.op = opX87
	if x.Op == x86asm.FWAIT {
		in.sub = xWait
		return true
	}
	esc := uint8(x.Opcode >> 24)
	modrm := uint8(x.Opcode >> 16)
	if esc < 0xd8 || esc > 0xdf {
		return false
	}
	e := esc & 7
	reg := modrm >> 3 & 7
	in.imm = uint64(e)<<8 | uint64(modrm)
	if modrm < 0xc0 {
		var m x86asm.Mem
		found := false
		for _, a := range x.Args {
			if mm, ok := a.(x86asm.Mem); ok {
				m, found = mm, true
				break
			}
		}
		if !found || !in.setMem(m, x) {
			return false
		}
		in.form |= fSrcMem
		if x.DataSize == 16 {
			in.imm |= xfData16
		}
		return decodeX87Mem(in, e, reg)
	}
	in.src = modrm & 7
	return decodeX87Reg(in, e, reg, modrm)
}

// decodeX87Mem decodes the memory forms (SDM Vol. 2, table A-7 and following).
func decodeX87Mem(in *inst, e, reg uint8) bool {
	switch e {
	case 0, 2, 4, 6: // arithmetic with m32fp, m32int, m64fp, m16int
		in.sub, in.dst = xArithM, reg
		in.size = [...]uint8{4, 4, 8, 2}[e/2]
		if e&2 != 0 {
			in.imm |= xfInt
		}
		if reg == arCom || reg == arComp {
			in.sub = xCom
			in.ssize = reg - arCom
		}
		return true
	}
	type form struct {
		sub, size, pop uint8
		ok             bool
	}
	var f form
	switch e<<3 | reg {
	case 1<<3 | 0:
		f = form{xLoadF, 4, 0, true}
	case 1<<3 | 2:
		f = form{xStoreF, 4, 0, true}
	case 1<<3 | 3:
		f = form{xStoreF, 4, 1, true}
	case 1<<3 | 4:
		f = form{xLdenv, 0, 0, true}
	case 1<<3 | 5:
		f = form{xLdcw, 2, 0, true}
	case 1<<3 | 6:
		f = form{xStenv, 0, 0, true}
	case 1<<3 | 7:
		f = form{xStcw, 2, 0, true}
	case 3<<3 | 0:
		f = form{xLoadI, 4, 0, true}
	case 3<<3 | 1:
		f = form{xStoreIT, 4, 1, true}
	case 3<<3 | 2:
		f = form{xStoreI, 4, 0, true}
	case 3<<3 | 3:
		f = form{xStoreI, 4, 1, true}
	case 3<<3 | 5:
		f = form{xLoadF, 10, 0, true}
	case 3<<3 | 7:
		f = form{xStoreF, 10, 1, true}
	case 5<<3 | 0:
		f = form{xLoadF, 8, 0, true}
	case 5<<3 | 1:
		f = form{xStoreIT, 8, 1, true}
	case 5<<3 | 2:
		f = form{xStoreF, 8, 0, true}
	case 5<<3 | 3:
		f = form{xStoreF, 8, 1, true}
	case 5<<3 | 4:
		f = form{xRstor, 0, 0, true}
	case 5<<3 | 6:
		f = form{xSave, 0, 0, true}
	case 5<<3 | 7:
		f = form{xStsw, 2, 0, true}
	case 7<<3 | 0:
		f = form{xLoadI, 2, 0, true}
	case 7<<3 | 1:
		f = form{xStoreIT, 2, 1, true}
	case 7<<3 | 2:
		f = form{xStoreI, 2, 0, true}
	case 7<<3 | 3:
		f = form{xStoreI, 2, 1, true}
	case 7<<3 | 4:
		f = form{xLoadBCD, 10, 0, true}
	case 7<<3 | 5:
		f = form{xLoadI, 8, 0, true}
	case 7<<3 | 6:
		f = form{xStoreBCD, 10, 1, true}
	case 7<<3 | 7:
		f = form{xStoreI, 8, 1, true}
	}
	in.sub, in.size, in.ssize = f.sub, f.size, f.pop
	return f.ok
}

// d9Ops are the D9 E0-FF operations without operands, by the low five bits of ModR/M.
var d9Ops = [32]int16{
	0x00: xChs, 0x01: xAbs, 0x02: -1, 0x03: -1, 0x04: xTst, 0x05: xXam, 0x06: -1, 0x07: -1,
	0x08: xLoadK, 0x09: xLoadK, 0x0a: xLoadK, 0x0b: xLoadK, 0x0c: xLoadK, 0x0d: xLoadK, 0x0e: xLoadK, 0x0f: -1,
	0x10: xF2xm1, 0x11: xFyl2x, 0x12: xFptan, 0x13: xFpatan, 0x14: xFxtract, 0x15: xFprem1, 0x16: xFdecstp, 0x17: xFincstp,
	0x18: xFprem, 0x19: xFyl2xp1, 0x1a: xFsqrt, 0x1b: xFsincos, 0x1c: xFrndint, 0x1d: xFscale, 0x1e: xFsin, 0x1f: xFcos,
}

// decodeX87Reg decodes the register forms (mod = 11).
func decodeX87Reg(in *inst, e, reg, modrm uint8) bool {
	switch e {
	case 0: // D8: ST(0) <- ST(0) op ST(i); FCOM/FCOMP ST(i)
		if reg == arCom || reg == arComp {
			in.sub, in.ssize = xCom, reg-arCom
			return true
		}
		in.sub, in.dst = xArith0, reg
		return true
	case 4, 6: // DC, DE: ST(i) <- ST(i) op ST(0) [pop]; the subtract and divide pairs swap
		if reg == arCom || reg == arComp {
			if e == 6 && modrm == 0xd9 {
				in.sub, in.ssize = xCom, 2 // FCOMPP
				return true
			}
			return false // FCOM2/FCOMP3/FCOMP5 aliases (x86asm does not decode them)
		}
		in.sub, in.dst = xArithI, reg^1
		if reg < arSub {
			in.dst = reg
		}
		if e == 6 {
			in.ssize = 1
		}
		return true
	case 1:
		switch reg {
		case 0:
			in.sub = xLoadST
			return true
		case 1:
			in.sub = xXch
			return true
		case 2:
			in.sub = xNop
			return modrm == 0xd0
		case 3:
			return false // FSTP1 alias
		}
		op := d9Ops[modrm&0x1f]
		if op < 0 {
			return false
		}
		in.sub = uint8(op)
		in.dst = modrm & 7
		return true
	case 2: // DA: FCMOVB, FCMOVE, FCMOVBE, FCMOVU; FUCOMPP
		if reg < 4 {
			in.sub, in.dst = xCmov, [4]uint8{ccB, ccE, ccBE, ccP}[reg]
			return true
		}
		if modrm == 0xe9 {
			in.sub, in.ssize = xCom, 2
			in.imm |= xfUnordered
			return true
		}
	case 3: // DB: FCMOVNB..., FNCLEX, FNINIT, FUCOMI, FCOMI
		switch {
		case reg < 4:
			in.sub, in.dst = xCmov, [4]uint8{ccAE, ccNE, ccA, ccNP}[reg]
			return true
		case modrm == 0xe2:
			in.sub = xClex
			return true
		case modrm == 0xe3:
			in.sub = xInit
			return true
		case reg == 5:
			in.sub = xComI
			in.imm |= xfUnordered
			return true
		case reg == 6:
			in.sub = xComI
			return true
		}
	case 5: // DD: FFREE, FST, FSTP, FUCOM, FUCOMP
		switch reg {
		case 0:
			in.sub = xFree
			return true
		case 2, 3:
			in.sub, in.ssize = xStoreST, reg-2
			return true
		case 4, 5:
			in.sub, in.ssize = xCom, reg-4
			in.imm |= xfUnordered
			return true
		}
	case 7: // DF: FFREEP, FNSTSW AX, FUCOMIP, FCOMIP
		switch {
		case reg == 0:
			in.sub, in.ssize = xFree, 1
			return true
		case modrm == 0xe0:
			in.sub = xStswAX
			return true
		case reg == 5:
			in.sub, in.ssize = xComI, 1
			in.imm |= xfUnordered
			return true
		case reg == 6:
			in.sub, in.ssize = xComI, 1
			return true
		}
	}
	return false
}
