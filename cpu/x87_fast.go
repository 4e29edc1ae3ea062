package cpu

import (
	"encoding/binary"

	"github.com/vmemu/vmemu/cpu/internal/f80"
)

// Fast forms of the x87 instructions compiled long-double code runs most: the register
// arithmetic (FADD, FSUB[R], FMUL, FDIV[R] with ST(0) and ST(i), and their popping forms),
// FLD ST(i), FSQRT and FST/FSTP to memory. Each takes the common case only (no exception
// pending, the registers it reads full and the one it pushes onto empty, normal operands)
// and leaves the FPU exactly as execX87 does: the same result, status and condition bits,
// tags, TOP and last-instruction pointers. Anything else, and everything before it
// changes state, goes to execX87.

// x87HasHot reports whether a decoded x87 instruction (opX87) has a fast form: the block
// optimizer (hotSSE) makes it opX87Fast, which run executes with execX87Hot; the raw
// instruction (single steps, the end of a budget) stays opX87.
func x87HasHot(in *inst) bool {
	switch in.sub {
	case xArith0, xArithI, xLoadST, xFsqrt:
		return true
	case xStoreF:
		return true
	}
	return false
}

// execX87Hot executes opX87Fast: an x87 instruction x87HasHot names. The register forms
// are written out here rather than in helpers (one call fewer per instruction: X87Loop
// makes six of them per iteration); the arithmetic itself is f80's.
func execX87Hot(c *CPU, in *inst) {
	x := &c.ext.X87
	if x.FSW&fswES != 0 { // #MF: execX87 raises it
		execX87(c, in)
		return
	}
	top := int(x.FSW>>11) & 7
	var r f80.F80
	var fl uint16
	p := top // the register written
	switch in.sub {
	case xArith0, xArithI: // arithTo with two registers, full and holding normal numbers
		pd, ps := top, (top+int(in.src))&7 // ST(0) <- ST(0) op ST(i)
		if in.sub == xArithI {
			pd, ps = ps, pd // ST(i) <- ST(i) op ST(0)
		}
		a, b := f80of(x.R[pd]), f80of(x.R[ps])
		if x.FTW>>(2*pd)&3 == tagEmpty || x.FTW>>(2*ps)&3 == tagEmpty || !a.IsNormal() || !b.IsNormal() {
			execX87(c, in)
			return
		}
		cw := x.FCW
		switch in.dst {
		case arAdd:
			r, fl = f80.AddNormal(a, b, cw)
		case arMul:
			r, fl = f80.MulNormal(a, b, cw)
		case arSub:
			r, fl = f80.SubNormal(a, b, cw)
		case arSubr:
			r, fl = f80.SubNormal(b, a, cw)
		case arDiv:
			r, fl = f80.DivNormal(a, b, cw)
		case arDivr:
			r, fl = f80.DivNormal(b, a, cw)
		default:
			execX87(c, in)
			return
		}
		p = pd
	case xFsqrt: // of a positive normal ST(0)
		a := f80of(x.R[top])
		if x.FTW>>(2*top)&3 == tagEmpty || !a.IsNormal() || a.Neg() {
			execX87(c, in)
			return
		}
		r, fl = f80.SqrtNormal(a, x.FCW)
	case xLoadST: // FLD ST(i) from a full register onto an empty ST(7)
		ps, pn := (top+int(in.src))&7, (top+7)&7
		if x.FTW>>(2*ps)&3 == tagEmpty || x.FTW>>(2*pn)&3 != tagEmpty {
			execX87(c, in)
			return
		}
		c.x87Pointers(in)
		c.x87Status(0)
		x.FSW = x.FSW&^fswTOP | uint16(pn)<<11
		c.x87Put(pn, f80of(x.R[ps]))
		return
	case xStoreF:
		if x.FTW>>(2*top)&3 != tagEmpty {
			c.x87StoreHot(in, top)
			return
		}
		execX87(c, in)
		return
	default:
		execX87(c, in)
		return
	}
	c.x87Pointers(in)
	c.x87Status(fl)
	c.x87Put(p, r)
	if in.sub == xArithI && in.ssize != 0 { // the popping forms: ST(0) is the source
		x.FTW |= tagEmpty << (2 * top)
		x.FSW = x.FSW&^fswTOP | uint16((top+1)&7)<<11
	}
}

// x87Pointers is fpuPointers for an instruction without a memory operand.
func (c *CPU) x87Pointers(in *inst) {
	x := &c.ext.X87
	x.FIP = c.bva + uint64(in.off)
	x.FCS = x87UserCS
	x.FOP = uint16(in.imm) & 0x7ff
}

// x87Status is fpuExc for the status bits of an operation on valid operands that raised
// no invalid-operation, divide-by-zero or denormal-operand exception (so the result is
// delivered): the flags and C1 go into the status word, then ES and B are recomputed.
func (c *CPU) x87Status(flags uint16) {
	x := &c.ext.X87
	fsw := x.FSW&^fswC1 | flags&(f80.Exceptions|f80.C1)
	if fsw&^x.FCW&f80.Exceptions != 0 {
		fsw |= fswES | fswB
	} else {
		fsw &^= fswES | fswB
	}
	x.FSW = fsw
}

// x87Put writes v to physical register p and tags it.
func (c *CPU) x87Put(p int, v f80.F80) {
	x := &c.ext.X87
	x.R[p] = fl80(v)
	t := uint16(tagValid)
	if !v.IsNormal() { // tagOf, written out so that x87Put is inlined
		t = tagSpecial
		if v.SE&0x7fff == 0 && v.Mant == 0 {
			t = tagZero
		}
	}
	x.FTW = x.FTW&^(3<<(2*p)) | t<<(2*p)
}

// x87StoreHot is x87StoreF with a full ST(0) (TOP top).
func (c *CPU) x87StoreHot(in *inst, top int) {
	x := &c.ext.X87
	ea := c.ea(in)
	v := f80of(x.R[top])
	var fl uint16
	ok := true
	switch in.size {
	case 4:
		bits, f := f80.ToFloat32(v, x.FCW)
		fl = f
		if ok = c.storeAllowed(fl); ok {
			c.write(ea, 4, uint64(bits))
		}
	case 8:
		bits, f := f80.ToFloat64(v, x.FCW)
		fl = f
		if ok = c.storeAllowed(fl); ok {
			c.write(ea, 8, bits)
		}
	default:
		// write80 written out for a page remembered for writing (so neither code nor
		// watched): the same two TLB hits, its probe's and its translation's.
		if u := &c.utlb[ea>>12&(utlbSize-1)]; u.wtag == ea>>12 && ea&0xfff <= 0x1000-10 && !c.watching {
			c.dtlb.Hit(u.e)
			c.dtlb.Hit(u.e)
			binary.LittleEndian.PutUint64(u.frame[ea&0xfff:], v.Mant)
			binary.LittleEndian.PutUint16(u.frame[ea&0xfff+8:], v.SE)
		} else {
			c.write80(ea, v.Mant, v.SE)
		}
	}
	c.fpuPointers(in, ea, true)
	c.fpuExc(fl)
	if ok && in.ssize != 0 {
		x.FTW |= tagEmpty << (2 * top)
		x.FSW = x.FSW&^fswTOP | uint16((top+1)&7)<<11
	}
}
