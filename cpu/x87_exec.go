package cpu

import (
	"encoding/binary"

	"github.com/vmemu/vmemu/cpu/internal/f80"
	"github.com/vmemu/vmemu/mmu"
)

// Execution of the x87 instructions (SDM Vol. 2A/2B, the F* pages). Each handler does its
// memory loads and translates its stores before it changes any FPU state, so a page fault
// leaves the FPU as it was.

// execX87 is the cold handler of every x87 instruction.
func execX87(c *CPU, in *inst) {
	switch in.sub {
	case xInit, xClex, xStcw, xStsw, xStswAX, xStenv, xSave:
		// The no-wait forms do not check for pending exceptions.
	default:
		c.fpuWait()
	}
	switch in.sub {
	case xLoadF, xLoadI, xLoadBCD:
		c.x87LoadMem(in)
	case xLoadST:
		c.fpuPointers(in, 0, false)
		if c.empty(int(in.src)) {
			// An empty source is a stack underflow even when the stack is also full.
			if c.fpuExc(stackUnderflow) {
				c.fpush(f80.Indefinite)
			}
			return
		}
		c.loadPush(c.st(int(in.src)), 0)
	case xLoadK:
		c.fpuPointers(in, 0, false)
		c.loadPush(f80.Const(int(in.dst), c.ext.X87.FCW), 0)
	case xStoreF:
		c.x87StoreF(in)
	case xStoreI, xStoreIT, xStoreBCD:
		c.x87StoreInt(in)
	case xStoreST:
		c.fpuPointers(in, 0, false)
		v, fl := c.st(0), uint16(0)
		if c.empty(0) {
			v, fl = f80.Indefinite, stackUnderflow
		}
		if c.fpuExc(fl) {
			c.setST(int(in.src), v)
			if in.ssize != 0 {
				c.fpop()
			}
		}
	case xArithM:
		a, fl := c.x87MemOperand(in)
		c.fpuPointers(in, c.ea(in), true)
		c.arithTo(0, in.dst, 0, a, fl, false)
	case xArith0:
		c.fpuPointers(in, 0, false)
		c.arithTo(0, in.dst, int(in.src), f80.F80{}, 0, true)
	case xArithI:
		c.fpuPointers(in, 0, false)
		if c.arithTo(int(in.src), in.dst, 0, f80.F80{}, 0, true) && in.ssize != 0 {
			c.fpop()
		}
	case xCom:
		c.x87Compare(in)
	case xComI:
		c.x87CompareFlags(in)
	case xCmov:
		c.fpuPointers(in, 0, false)
		if c.empty(0) || c.empty(int(in.src)) {
			if c.fpuExc(stackUnderflow) {
				c.setST(0, f80.Indefinite)
			}
			return
		}
		if c.cond(in.dst) {
			c.setST(0, c.st(int(in.src)))
		}
	case xXch:
		c.fpuPointers(in, 0, false)
		i := int(in.src)
		a, b := c.st(0), c.st(i)
		fl := uint16(0)
		if c.empty(0) || c.empty(i) {
			fl = stackUnderflow
			if c.empty(0) {
				a = f80.Indefinite
			}
			if c.empty(i) {
				b = f80.Indefinite
			}
		}
		if c.fpuExc(fl) {
			c.setST(0, b)
			c.setST(i, a)
		}
	case xFree:
		c.fpuPointers(in, 0, false)
		c.setCC(fswC1, 0)
		c.setTag(c.phys(int(in.src)), tagEmpty)
		if in.ssize != 0 {
			c.fpop()
		}
	case xNop:
		c.fpuPointers(in, 0, false)
	case xChs:
		c.unary(in, chs)
	case xAbs:
		c.unary(in, abs)
	case xTst:
		c.fpuPointers(in, 0, false)
		if c.empty(0) {
			c.compareResult(f80.Unordered, stackUnderflow)
			return
		}
		c.compareResult(f80.Compare(c.st(0), f80.PosZero, true))
	case xXam:
		c.fpuPointers(in, 0, false)
		v := c.st(0)
		cc := f80.Examine(v)
		if c.empty(0) {
			cc = f80.C3 | f80.C0 | cc&f80.C1
		}
		c.setCC(fswCC, cc)
	case xFdecstp, xFincstp:
		c.fpuPointers(in, 0, false)
		if in.sub == xFdecstp {
			c.setTop(c.fpuTop() - 1)
		} else {
			c.setTop(c.fpuTop() + 1)
		}
		c.setCC(fswC1, 0)
	case xFsqrt:
		c.unary(in, f80.Sqrt)
	case xFrndint:
		c.unary(in, f80.RoundInt)
	case xF2xm1:
		c.unary(in, f80.F2xm1)
	case xFsin:
		c.unaryTrig(in, f80.Sin)
	case xFcos:
		c.unaryTrig(in, f80.Cos)
	case xFscale:
		c.binary01(in, f80.Scale, false)
	case xFprem:
		c.x87Prem(in, false)
	case xFprem1:
		c.x87Prem(in, true)
	case xFpatan:
		c.binary01(in, func(st0, st1 f80.F80, cw uint16) (f80.F80, uint16) { return f80.Atan2(st1, st0, cw) }, true)
	case xFyl2x:
		c.binary01(in, func(st0, st1 f80.F80, cw uint16) (f80.F80, uint16) { return f80.Yl2x(st1, st0, cw) }, true)
	case xFyl2xp1:
		c.binary01(in, func(st0, st1 f80.F80, cw uint16) (f80.F80, uint16) { return f80.Yl2xp1(st1, st0, cw) }, true)
	case xFxtract:
		c.x87Xtract(in)
	case xFptan, xFsincos:
		c.x87PushingTrig(in)
	default:
		c.x87Control(in)
	}
}

// loadPush pushes v (with the status bits of producing it), or, when ST(7) is not empty,
// reports a stack overflow and (masked) pushes the indefinite.
func (c *CPU) loadPush(v f80.F80, flags uint16) {
	if !c.empty(7) {
		if c.fpuExc(stackOverflow) {
			c.fpush(f80.Indefinite)
		}
		return
	}
	if c.fpuExc(flags) {
		c.fpush(v)
	}
}

// read80 loads ten bytes.
func (c *CPU) read80(ea uint64) [10]byte {
	var b [10]byte
	c.readBytes(ea, b[:], mmu.Read)
	return b
}

func f80FromBytes(b []byte) f80.F80 {
	return f80.F80{Mant: binary.LittleEndian.Uint64(b), SE: binary.LittleEndian.Uint16(b[8:])}
}

func f80Bytes(v f80.F80) [10]byte {
	var b [10]byte
	binary.LittleEndian.PutUint64(b[:], v.Mant)
	binary.LittleEndian.PutUint16(b[8:], v.SE)
	return b
}

// x87LoadMem is FLD m32fp/m64fp/m80fp, FILD and FBLD.
func (c *CPU) x87LoadMem(in *inst) {
	ea := c.ea(in)
	var v f80.F80
	var fl uint16
	switch {
	case in.sub == xLoadI:
		v = f80.FromInt64(int64(signExtend(c.read(ea, in.size), in.size)))
	case in.sub == xLoadBCD:
		v = f80.FromBCD(c.read80(ea))
	case in.size == 4:
		v, fl = f80.FromFloat32(uint32(c.read(ea, 4)))
	case in.size == 8:
		v, fl = f80.FromFloat64(c.read(ea, 8))
	default:
		b := c.read80(ea)
		v = f80FromBytes(b[:])
	}
	c.fpuPointers(in, ea, true)
	c.loadPush(v, fl)
}

// x87MemOperand loads the memory operand of an arithmetic or compare instruction,
// converted exactly to the extended format (an SNaN stays signaling for the operation).
func (c *CPU) x87MemOperand(in *inst) (f80.F80, uint16) {
	ea := c.ea(in)
	v := c.read(ea, in.size)
	if in.imm&xfInt != 0 {
		return f80.FromInt64(int64(signExtend(v, in.size))), 0
	}
	if in.size == 4 {
		return f80.ExtendFloat32(uint32(v))
	}
	return f80.ExtendFloat64(v)
}

// arith computes a op b.
func arith(op uint8, a, b f80.F80, cw uint16) (f80.F80, uint16) {
	switch op {
	case arAdd:
		return f80.Add(a, b, cw)
	case arMul:
		return f80.Mul(a, b, cw)
	case arSub:
		return f80.Sub(a, b, cw)
	case arSubr:
		return f80.Sub(b, a, cw)
	case arDiv:
		return f80.Div(a, b, cw)
	}
	return f80.Div(b, a, cw)
}

// arithTo computes ST(d) <- ST(d) op src, where src is ST(s) when reg is true and the
// memory operand m (with the status bits of its conversion, mfl) otherwise. It reports
// whether the result was delivered.
func (c *CPU) arithTo(d int, op uint8, s int, m f80.F80, mfl uint16, reg bool) bool {
	if c.empty(d) || (reg && c.empty(s)) {
		if !c.fpuExc(stackUnderflow) {
			return false
		}
		c.setST(d, f80.Indefinite)
		return true
	}
	if reg {
		m = c.st(s)
	} else if isNaNOrUnsupported(c.st(d)) || isNaNOrUnsupported(m) {
		mfl &^= f80.DE // a NaN operand wins over a denormal memory operand
	}
	r, fl := arith(op, c.st(d), m, c.ext.X87.FCW)
	if !c.fpuExc(fl | mfl) {
		return false
	}
	c.setST(d, r)
	return true
}

// chs and abs are FCHS and FABS: they change only the sign, even of a NaN, and raise
// nothing (but a stack underflow).
func chs(a f80.F80, _ uint16) (f80.F80, uint16) { return a.Chs(), 0 }
func abs(a f80.F80, _ uint16) (f80.F80, uint16) { return a.Abs(), 0 }

func isNaNOrUnsupported(v f80.F80) bool {
	cl := v.Class()
	return cl == f80.QNaN || cl == f80.SNaN || cl == f80.Unsupported
}

// unary replaces ST(0) with f(ST(0)).
func (c *CPU) unary(in *inst, f func(f80.F80, uint16) (f80.F80, uint16)) {
	c.fpuPointers(in, 0, false)
	if c.empty(0) {
		if c.fpuExc(stackUnderflow) {
			c.setST(0, f80.Indefinite)
		}
		return
	}
	r, fl := f(c.st(0), c.ext.X87.FCW)
	if c.fpuExc(fl) {
		c.setST(0, r)
	}
}

// unaryTrig is FSIN and FCOS: an operand out of range (|x| >= 2^63) sets C2 and leaves
// ST(0) unchanged; otherwise C2 is cleared.
func (c *CPU) unaryTrig(in *inst, f func(f80.F80, uint16) (f80.F80, uint16)) {
	c.fpuPointers(in, 0, false)
	if c.empty(0) {
		if c.fpuExc(stackUnderflow) {
			c.setST(0, f80.Indefinite)
			c.setCC(fswC2, 0)
		}
		return
	}
	r, fl := f(c.st(0), c.ext.X87.FCW)
	if fl&f80.C2 != 0 {
		c.setCC(fswC1|fswC2, fswC2)
		return
	}
	if c.fpuExc(fl) {
		c.setST(0, r)
		c.setCC(fswC2, 0)
	}
}

// binary01 computes ST(1) <- f(ST(0), ST(1)) and pops (pop true: FPATAN, FYL2X, FYL2XP1),
// or ST(0) <- f(ST(0), ST(1)) (FSCALE).
func (c *CPU) binary01(in *inst, f func(st0, st1 f80.F80, cw uint16) (f80.F80, uint16), pop bool) {
	c.fpuPointers(in, 0, false)
	d := 0
	if pop {
		d = 1
	}
	if c.empty(0) || c.empty(1) {
		if c.fpuExc(stackUnderflow) {
			c.setST(d, f80.Indefinite)
			if pop {
				c.fpop()
			}
		}
		return
	}
	r, fl := f(c.st(0), c.st(1), c.ext.X87.FCW)
	if c.fpuExc(fl) {
		c.setST(d, r)
		if pop {
			c.fpop()
		}
	}
}

// x87Prem is FPREM and FPREM1: ST(0) <- partial remainder of ST(0) / ST(1), with C2
// (incomplete) and the quotient bits in C0, C3, C1.
func (c *CPU) x87Prem(in *inst, ieee bool) {
	c.fpuPointers(in, 0, false)
	if c.empty(0) || c.empty(1) {
		if c.fpuExc(stackUnderflow) {
			c.setST(0, f80.Indefinite)
			c.setCC(fswC2, 0)
		}
		return
	}
	r, fl, q := f80.Rem(c.st(0), c.st(1), ieee, c.ext.X87.FCW)
	if c.fpuExc(fl) {
		c.setST(0, r)
		if q {
			c.setCC(fswC0|fswC2|fswC3|fswC1, fl)
		} else {
			c.setCC(fswC2, 0)
		}
	}
}

// x87Xtract is FXTRACT: ST(0) <- exponent, then push the significand.
func (c *CPU) x87Xtract(in *inst) {
	c.fpuPointers(in, 0, false)
	switch {
	case c.empty(0):
		if c.fpuExc(stackUnderflow) {
			c.setST(0, f80.Indefinite)
			c.fpush(f80.Indefinite)
		}
		return
	case !c.empty(7):
		if c.fpuExc(stackOverflow) {
			c.setST(0, f80.Indefinite)
			c.fpush(f80.Indefinite)
		}
		return
	}
	e, s, fl := f80.Xtract(c.st(0), c.ext.X87.FCW)
	if c.fpuExc(fl) {
		c.setST(0, e)
		c.fpush(s)
	}
}

// x87PushingTrig is FPTAN (ST(0) <- tan, push 1.0) and FSINCOS (ST(0) <- sin, push cos).
func (c *CPU) x87PushingTrig(in *inst) {
	c.fpuPointers(in, 0, false)
	switch {
	case c.empty(0):
		if c.fpuExc(stackUnderflow) {
			c.setST(0, f80.Indefinite)
			c.fpush(f80.Indefinite)
			c.setCC(fswC2, 0)
		}
		return
	case !c.empty(7):
		if c.fpuExc(stackOverflow) {
			c.setST(0, f80.Indefinite)
			c.fpush(f80.Indefinite)
			c.setCC(fswC2, 0)
		}
		return
	}
	var a, b f80.F80
	var fl uint16
	if in.sub == xFptan {
		a, fl = f80.Tan(c.st(0), c.ext.X87.FCW)
		b = f80.One
		if a.IsNaN() {
			b = a
		}
	} else {
		a, b, fl = f80.SinCos(c.st(0), c.ext.X87.FCW)
	}
	if fl&f80.C2 != 0 {
		c.setCC(fswC1|fswC2, fswC2)
		return
	}
	if c.fpuExc(fl) {
		c.setST(0, a)
		c.fpush(b)
		c.setCC(fswC2, 0)
	}
}

// compareResult sets C3 C2 C0 from a comparison (C1 cleared), unless an unmasked
// invalid-operation exception suppresses it; it reports whether the result stood.
func (c *CPU) compareResult(rel f80.Relation, fl uint16) bool {
	if !c.fpuExc(fl &^ f80.C1) {
		return false
	}
	cc := [...]uint16{f80.Greater: 0, f80.Less: fswC0, f80.Equal: fswC3, f80.Unordered: fswC3 | fswC2 | fswC0}[rel]
	c.setCC(fswC0|fswC2|fswC3, cc)
	return true
}

// x87Compare is FCOM, FCOMP, FCOMPP, FUCOM, FUCOMP, FUCOMPP, FICOM and FICOMP.
func (c *CPU) x87Compare(in *inst) {
	var b f80.F80
	var bfl uint16
	bEmpty := false
	if in.form&fSrcMem != 0 {
		b, bfl = c.x87MemOperand(in)
		c.fpuPointers(in, c.ea(in), true)
	} else {
		c.fpuPointers(in, 0, false)
		i := int(in.src)
		if in.ssize == 2 {
			i = 1
		}
		b, bEmpty = c.st(i), c.empty(i)
	}
	var rel f80.Relation
	var fl uint16
	if c.empty(0) || bEmpty {
		rel, fl = f80.Unordered, stackUnderflow
	} else {
		rel, fl = f80.Compare(c.st(0), b, in.imm&xfUnordered == 0)
	}
	if c.compareResult(rel, fl|bfl) {
		for i := uint8(0); i < in.ssize; i++ {
			c.fpop()
		}
	}
}

// x87CompareFlags is FCOMI, FCOMIP, FUCOMI and FUCOMIP: the result goes to ZF, PF, CF
// (OF, SF, AF are cleared).
func (c *CPU) x87CompareFlags(in *inst) {
	c.fpuPointers(in, 0, false)
	i := int(in.src)
	var rel f80.Relation
	var fl uint16
	if c.empty(0) || c.empty(i) {
		rel, fl = f80.Unordered, stackUnderflow
	} else {
		rel, fl = f80.Compare(c.st(0), c.st(i), in.imm&xfUnordered == 0)
	}
	if !c.fpuExcKeepC1(fl) {
		return
	}
	f := c.flags() &^ (FlagZF | FlagPF | FlagCF | FlagOF | FlagSF | FlagAF)
	f |= [...]uint64{f80.Greater: 0, f80.Less: FlagCF, f80.Equal: FlagZF, f80.Unordered: FlagZF | FlagPF | FlagCF}[rel]
	c.rflags = f
	if in.ssize != 0 {
		c.fpop()
	}
}

// storeAllowed reports whether a store to memory with status bits fl goes ahead: not when
// an invalid-operation, overflow or underflow exception is unmasked.
func (c *CPU) storeAllowed(fl uint16) bool {
	return fl&^c.ext.X87.FCW&(f80.IE|f80.OE|f80.UE|f80.DE|f80.ZE) == 0
}

// x87StoreF is FST/FSTP m32fp/m64fp and FSTP m80fp.
func (c *CPU) x87StoreF(in *inst) {
	ea := c.ea(in)
	v, fl := c.st(0), uint16(0)
	if c.empty(0) {
		v, fl = f80.Indefinite, stackUnderflow
	}
	ok := c.storeAllowed(fl)
	switch in.size {
	case 4:
		bits, f := f80.ToFloat32(v, c.ext.X87.FCW)
		fl |= f
		if ok = c.storeAllowed(fl); ok {
			c.write(ea, 4, uint64(bits))
		}
	case 8:
		bits, f := f80.ToFloat64(v, c.ext.X87.FCW)
		fl |= f
		if ok = c.storeAllowed(fl); ok {
			c.write(ea, 8, bits)
		}
	default:
		if ok {
			c.write80(ea, v.Mant, v.SE)
		}
	}
	c.fpuPointers(in, ea, true)
	c.fpuExc(fl)
	if ok && in.ssize != 0 {
		c.fpop()
	}
}

// x87StoreInt is FIST, FISTP, FISTTP and FBSTP.
func (c *CPU) x87StoreInt(in *inst) {
	ea := c.ea(in)
	v, fl := c.st(0), uint16(0)
	if c.empty(0) {
		v, fl = f80.Indefinite, stackUnderflow
	}
	cw := c.ext.X87.FCW
	var ok bool
	if in.sub == xStoreBCD {
		b, f := f80.ToBCD(v, cw)
		fl |= f
		if ok = c.storeAllowed(fl &^ (f80.OE | f80.UE)); ok {
			c.writeBytes(ea, b[:])
		}
	} else {
		iv, f := f80.ToInt(v, int(in.size), cw, in.sub == xStoreIT)
		fl |= f
		if ok = c.storeAllowed(fl &^ (f80.OE | f80.UE)); ok {
			c.write(ea, in.size, iv)
		}
	}
	c.fpuPointers(in, ea, true)
	c.fpuExc(fl)
	if ok && in.ssize != 0 {
		c.fpop()
	}
}
