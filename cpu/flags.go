package cpu

import "math/bits"

// Lazy flags. An arithmetic instruction records its operands and result instead of computing
// six flags that the next instruction usually overwrites; a reader (jcc, setcc, pushf, adc)
// derives the flags it needs from the record. The record describes the last flag-setting
// operation; lzNone means rflags already holds every flag.

// Kinds of flag-setting operation.
const (
	lzNone  uint8 = iota
	lzAdd         // res = a + b
	lzAdc         // res = a + b + cin
	lzSub         // res = a - b (also CMP, NEG with a = 0)
	lzSbb         // res = a - b - cin
	lzLogic       // AND, OR, XOR, TEST: CF = OF = 0, AF = 0
	lzInc         // res = a + 1, CF preserved in cin
	lzDec         // res = a - 1, CF preserved in cin
	lzShl         // res = a << b (b = masked count, 1..size*8-1 or more for 8/16-bit)
	lzShr         // res = a >> b
	lzSar         // res = a >> b, arithmetic
	lzMul         // CF = OF = cin (set when the high half is significant); res is the low half
)

type lazyFlags struct {
	kind uint8
	size uint8 // operand size in bytes
	cin  uint8 // carry in (adc, sbb), preserved CF (inc, dec), CF=OF (mul)
	a, b uint64
	res  uint64
}

var sizeMask = [16]uint64{1: 0xff, 2: 0xffff, 4: 0xffffffff, 8: ^uint64(0)}

// setLazy records a flag-setting operation. Operands and result are masked to size.
func (c *CPU) setLazy(kind, size uint8, a, b, res uint64) {
	m := sizeMask[size&15]
	l := &c.lz
	l.kind, l.size, l.cin = kind, size, 0
	l.a, l.b, l.res = a&m, b&m, res&m
}

func parity(v uint64) uint64 {
	if bits.OnesCount8(uint8(v))&1 == 0 {
		return FlagPF
	}
	return 0
}

// signBit returns the sign bit of v at size, as 0 or 1.
func signBit(v uint64, size uint8) uint64 { return v >> (size*8 - 1) & 1 }

// flags returns RFLAGS with the arithmetic flags computed from the lazy record.
func (c *CPU) flags() uint64 {
	if c.lz.kind == lzNone {
		return c.rflags
	}
	c.rflags = c.rflags&^ArithFlags | c.arith()
	c.lz.kind = lzNone
	return c.rflags
}

// arith computes CF PF AF ZF SF OF from the lazy record (which must not be lzNone).
func (c *CPU) arith() uint64 {
	l := &c.lz
	a, b, res, sz := l.a, l.b, l.res, l.size
	var f uint64
	if res == 0 {
		f |= FlagZF
	}
	f |= signBit(res, sz) << 7
	f |= parity(res)
	sh := uint64(sz*8 - 1)
	switch l.kind {
	case lzAdd:
		if res < a {
			f |= FlagCF
		}
		f |= ((a ^ res) & (b ^ res) >> sh & 1) << 11
		f |= (a ^ b ^ res) & FlagAF
	case lzAdc:
		if res < a || (l.cin != 0 && res == a) {
			f |= FlagCF
		}
		f |= ((a ^ res) & (b ^ res) >> sh & 1) << 11
		f |= (a ^ b ^ res) & FlagAF
	case lzSub:
		if a < b {
			f |= FlagCF
		}
		f |= ((a ^ b) & (a ^ res) >> sh & 1) << 11
		f |= (a ^ b ^ res) & FlagAF
	case lzSbb:
		if a < b || (l.cin != 0 && a == b) {
			f |= FlagCF
		}
		f |= ((a ^ b) & (a ^ res) >> sh & 1) << 11
		f |= (a ^ b ^ res) & FlagAF
	case lzLogic:
	case lzInc:
		f |= uint64(l.cin)
		if res == 1<<sh {
			f |= FlagOF
		}
		f |= (a ^ 1 ^ res) & FlagAF
	case lzDec:
		f |= uint64(l.cin)
		if res == 1<<sh-1 {
			f |= FlagOF
		}
		f |= (a ^ 1 ^ res) & FlagAF
	case lzShl:
		// CF is the last bit shifted out; OF (defined for count 1) is MSB(res) XOR CF. AF is
		// undefined: set, as the AMD host sets it after every shift.
		var cf uint64
		if b <= uint64(sz)*8 {
			cf = a >> (uint64(sz)*8 - b) & 1
		}
		f |= cf | FlagAF
		f |= (signBit(res, sz) ^ cf) << 11
	case lzShr:
		// OF is the MSB of the operand for a count of 1; for larger counts (undefined) it is
		// the MSB before the last step, 0, as on the AMD host.
		f |= a>>(b-1)&1 | FlagAF
		f |= signBit(a>>(b-1), sz) << 11
	case lzSar:
		f |= FlagAF
		if b > uint64(sz)*8 {
			f |= signBit(a, sz)
		} else {
			f |= uint64(int64(a<<(64-sh-1))>>(64-sh-1)) >> (b - 1) & 1
		}
	case lzMul:
		if l.cin != 0 {
			f |= FlagCF | FlagOF
		}
	}
	return f
}

// cf returns the carry flag as 0 or 1.
func (c *CPU) cf() uint64 {
	l := &c.lz
	switch l.kind {
	case lzNone:
		return c.rflags & FlagCF
	case lzAdd:
		if l.res < l.a {
			return 1
		}
		return 0
	case lzSub:
		if l.a < l.b {
			return 1
		}
		return 0
	case lzLogic:
		return 0
	case lzInc, lzDec:
		return uint64(l.cin)
	}
	return c.arith() & FlagCF
}

// Condition codes, in encoding order (the low nibble of jcc, setcc, cmovcc opcodes).
const (
	ccO = iota
	ccNO
	ccB
	ccAE
	ccE
	ccNE
	ccBE
	ccA
	ccS
	ccNS
	ccP
	ccNP
	ccL
	ccGE
	ccLE
	ccG
)

// cond evaluates condition code cc. After a SUB, CMP, or a logical operation it works on
// the recorded operands directly; after anything else, the conditions on ZF and SF alone
// (E, NE, S, NS) need only the result, and the others materialize the flags.
func (c *CPU) cond(cc uint8) bool {
	l := &c.lz
	switch l.kind {
	case lzNone:
		return condFlags(c.rflags, cc)
	case lzSub:
		return condSub(cc, l.a, l.b, l.size)
	case lzLogic:
		return condLogic(cc, l.res, l.size)
	}
	switch cc {
	case ccE:
		return l.res == 0
	case ccNE:
		return l.res != 0
	case ccS:
		return signBit(l.res, l.size) != 0
	case ccNS:
		return signBit(l.res, l.size) == 0
	}
	return condFlags(c.flags(), cc)
}

// condFlags evaluates cc against materialized flags.
func condFlags(f uint64, cc uint8) bool {
	var r bool
	switch cc >> 1 {
	case 0:
		r = f&FlagOF != 0
	case 1:
		r = f&FlagCF != 0
	case 2:
		r = f&FlagZF != 0
	case 3:
		r = f&(FlagCF|FlagZF) != 0
	case 4:
		r = f&FlagSF != 0
	case 5:
		r = f&FlagPF != 0
	case 6:
		r = (f&FlagSF != 0) != (f&FlagOF != 0)
	case 7:
		r = f&FlagZF != 0 || (f&FlagSF != 0) != (f&FlagOF != 0)
	}
	if cc&1 != 0 {
		return !r
	}
	return r
}
