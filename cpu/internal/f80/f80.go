// Package f80 is a software implementation of the x87 80-bit double extended-precision
// floating-point format and its arithmetic: a 64-bit significand with an explicit integer
// bit and a 15-bit biased exponent, rounded to the precision the x87 control word selects
// (24, 53 or 64 bits) in the rounding mode it selects, with the x87's exception rules
// (SDM Vol. 1, chapters 4 and 8): invalid operation, denormal operand, divide by zero,
// overflow, underflow and precision, their masked responses (default NaN, infinities,
// denormals) and unmasked responses (bias-adjusted results), and the C1 round-up bit.
//
// The package knows nothing of the x87 register stack, tags, memory or the CPU: every
// operation takes operand values and the control word and returns a value and the status
// bits it raised. The CPU decides, from the masks, whether the value is delivered.
package f80

import "math/bits"

// F80 is a value in the double extended-precision format: Mant is the significand with
// the integer bit in bit 63; SE holds the sign (bit 15) and the biased exponent (bits 14:0).
type F80 struct {
	Mant uint64
	SE   uint16
}

// Status bits an operation raises, in the positions they have in the x87 status word, so
// the CPU can OR them in. C1 is the round-up indication (or, with SF, stack overflow).
const (
	IE uint16 = 1 << 0 // invalid operation
	DE uint16 = 1 << 1 // denormal operand
	ZE uint16 = 1 << 2 // divide by zero
	OE uint16 = 1 << 3 // numeric overflow
	UE uint16 = 1 << 4 // numeric underflow
	PE uint16 = 1 << 5 // inexact result (precision)
	SF uint16 = 1 << 6 // stack fault (set by the CPU, never here)
	C0 uint16 = 1 << 8
	C1 uint16 = 1 << 9
	C2 uint16 = 1 << 10
	C3 uint16 = 1 << 14

	// Exceptions is the mask of the six exception flags (and of their mask bits in the
	// control word).
	Exceptions = IE | DE | ZE | OE | UE | PE
)

// Control-word fields (SDM Vol. 1, 8.1.5).
const (
	PCMask    uint16 = 3 << 8 // precision control
	PC24      uint16 = 0 << 8
	PCRes     uint16 = 1 << 8 // reserved encoding
	PC53      uint16 = 2 << 8
	PC64      uint16 = 3 << 8
	RCMask    uint16 = 3 << 10 // rounding control
	RCNearest uint16 = 0 << 10
	RCDown    uint16 = 1 << 10
	RCUp      uint16 = 2 << 10
	RCChop    uint16 = 3 << 10
)

const (
	bias     = 16383
	maxExp   = 0x7fff
	intBit   = uint64(1) << 63
	quietBit = uint64(1) << 62
	signBit  = uint16(0x8000)
	// biasAdjust is the exponent bias adjustment of an unmasked overflow or underflow
	// response (3 * 2^13, SDM Vol. 1, 8.5.4 and 8.5.5).
	biasAdjust = 24576
)

// Indefinite is the default QNaN ("real indefinite") that masked invalid operations return.
var Indefinite = F80{Mant: 0xc000_0000_0000_0000, SE: 0xffff}

// Useful constants.
var (
	PosZero = F80{}
	NegZero = F80{SE: signBit}
	One     = F80{Mant: intBit, SE: bias}
	PosInf  = F80{Mant: intBit, SE: maxExp}
	NegInf  = F80{Mant: intBit, SE: signBit | maxExp}
)

// Class is the kind of value an encoding holds (SDM Vol. 1, 8.2.2 and table 8-3).
type Class uint8

// Classes. PseudoDenormal (exponent 0 with the integer bit set) is a supported operand
// handled like a denormal; Unsupported covers pseudo-NaNs, pseudo-infinities and unnormals,
// which raise an invalid-operation exception when used.
const (
	Zero Class = iota
	Denormal
	PseudoDenormal
	Normal
	Infinity
	QNaN
	SNaN
	Unsupported
)

// Class classifies a.
func (a F80) Class() Class {
	e := a.SE & maxExp
	j := a.Mant&intBit != 0
	switch {
	case e == 0:
		switch {
		case j:
			return PseudoDenormal
		case a.Mant == 0:
			return Zero
		}
		return Denormal
	case e == maxExp:
		switch {
		case !j:
			return Unsupported
		case a.Mant<<1 == 0:
			return Infinity
		case a.Mant&quietBit != 0:
			return QNaN
		}
		return SNaN
	case !j:
		return Unsupported
	}
	return Normal
}

// Neg reports whether the sign bit is set.
func (a F80) Neg() bool { return a.SE&signBit != 0 }

// IsNaN reports whether a is a QNaN or an SNaN.
func (a F80) IsNaN() bool { c := a.Class(); return c == QNaN || c == SNaN }

// Exp returns the biased exponent field.
func (a F80) Exp() uint16 { return a.SE & maxExp }

// Abs returns a with the sign cleared (FABS: no exception, even for NaNs).
func (a F80) Abs() F80 { a.SE &^= signBit; return a }

// Chs returns a with the sign inverted (FCHS).
func (a F80) Chs() F80 { a.SE ^= signBit; return a }

// quiet returns the QNaN an SNaN becomes (the quiet bit set, payload kept).
func quiet(a F80) F80 { a.Mant |= quietBit; return a }

// isDenormal reports whether a is a denormal or pseudo-denormal (a denormal operand).
func isDenormal(c Class) bool { return c == Denormal || c == PseudoDenormal }

// num is a finite nonzero value unpacked for arithmetic: (-1)^neg * mant/2^63 * 2^exp
// with mant normalized (bit 63 set), exp unbiased and unbounded.
type num struct {
	neg  bool
	exp  int32
	mant uint64
}

// unpack returns the finite value a (Zero, Denormal, PseudoDenormal or Normal) unpacked;
// a zero has mant 0. Denormals use the minimum exponent 1 - bias, like pseudo-denormals.
func unpack(a F80) num {
	n := num{neg: a.Neg(), mant: a.Mant}
	e := int32(a.SE & maxExp)
	if e == 0 {
		e = 1
	}
	n.exp = e - bias
	if n.mant != 0 {
		lz := bits.LeadingZeros64(n.mant)
		n.mant <<= uint(lz)
		n.exp -= int32(lz)
	}
	return n
}

// withSign returns a with the sign neg.
func withSign(a F80, neg bool) F80 {
	a.SE &^= signBit
	if neg {
		a.SE |= signBit
	}
	return a
}

// precision returns the significand width the control word's PC field selects. The
// reserved encoding 01 behaves as 64 bits on the host processors we compare with.
func precision(cw uint16) uint {
	switch cw & PCMask {
	case PC24:
		return 24
	case PC53:
		return 53
	}
	return 64
}

// format describes a destination format for rounding: significand width and exponent
// range (biased: normal exponents are 1..maxBiased-1, maxBiased is infinity/NaN).
type format struct {
	prec      uint
	bias      int32
	maxBiased int32
}

var (
	extFormat    = format{64, bias, maxExp}
	singleFormat = format{24, 127, 255}
	doubleFormat = format{53, 1023, 2047}
)

// rounded is the result of rounding a value to a format: the biased exponent and the
// significand with the integer bit in bit 63 (the low 64-prec bits zero). A result of
// exponent 0 is denormal (or zero); maxBiased means infinity.
type rounded struct {
	neg   bool
	exp   int32
	mant  uint64
	flags uint16
}

// roundBits rounds the 128-bit significand hi:lo to its top prec bits in mode rc. It
// returns the rounded high word, whether it carried out of bit 63 (the value then is
// 2^64, returned as 1<<63), whether the value was inexact and whether it rounded up in
// magnitude.
func roundBits(neg bool, hi, lo uint64, prec uint, rc uint16) (m uint64, carry, inexact, up bool) {
	var half, rest bool
	if prec == 64 {
		half = lo>>63 != 0
		rest = lo<<1 != 0
	} else {
		sh := 64 - prec
		half = hi>>(sh-1)&1 != 0
		rest = hi&(1<<(sh-1)-1) != 0 || lo != 0
		hi &^= 1<<sh - 1
	}
	inexact = half || rest
	switch rc {
	case RCNearest:
		lsb := hi>>(64-prec)&1 != 0
		up = half && (rest || lsb)
	case RCDown:
		up = inexact && neg
	case RCUp:
		up = inexact && !neg
	}
	m = hi
	if up {
		m += 1 << (64 - prec)
		if m == 0 {
			return intBit, true, inexact, up
		}
	}
	return m, false, inexact, up
}

// shiftRightSticky shifts hi:lo right by n, ORing every bit shifted out into bit 0.
func shiftRightSticky(hi, lo uint64, n uint) (uint64, uint64) {
	switch {
	case n == 0:
		return hi, lo
	case n < 64:
		sticky := lo<<(64-n) != 0
		lo = lo>>n | hi<<(64-n)
		hi >>= n
		if sticky {
			lo |= 1
		}
		return hi, lo
	case n < 128:
		sticky := lo != 0 || hi<<(128-n) != 0
		if n == 64 {
			sticky = lo != 0
		}
		lo = hi >> (n - 64)
		hi = 0
		if sticky {
			lo |= 1
		}
		return hi, lo
	}
	if hi|lo != 0 {
		return 0, 1
	}
	return 0, 0
}

// roundTo rounds the exact nonzero value (-1)^neg * hi:lo/2^127 * 2^exp (hi bit 63 set;
// bit 0 of lo may be a sticky bit) to format f in mode rc, with the x87's masked and
// unmasked overflow and underflow responses from the masks in cw. A value that overflows
// with OE masked becomes infinity or the largest finite value as rc says; with OE unmasked
// (only for the extended format, whose results go to the register stack) its exponent is
// divided by 2^24576. Underflow likewise: masked, the result is denormalized (UE only when
// it is also inexact); unmasked, the exponent is multiplied by 2^24576 and UE is set.
// Tininess is detected after rounding, as on the host processors.
func roundTo(neg bool, exp int32, hi, lo uint64, f format, cw uint16) rounded {
	rc := cw & RCMask
	r := rounded{neg: neg}
	biased := exp + f.bias
	if biased <= 0 {
		// Tiny before rounding. Round with an unbounded exponent to see whether it stays
		// tiny after rounding.
		m, carry, inexact, up := roundBits(neg, hi, lo, f.prec, rc)
		tiny := !(carry && biased == 0)
		if cw&UE == 0 && tiny {
			// Unmasked underflow: deliver the bias-adjusted result.
			r.exp, r.mant = biased+biasAdjust, m
			if carry {
				r.exp++
			}
			r.flags = UE
			if inexact {
				r.flags |= PE
			}
			if up {
				r.flags |= C1
			}
			if r.exp <= 0 { // massive underflow: a signed zero
				r.exp, r.mant = 0, 0
			}
			return r
		}
		dh, dl := shiftRightSticky(hi, lo, uint(1-biased))
		m, carry, inexact, up = roundBits(neg, dh, dl, f.prec, rc)
		if carry { // cannot happen: dh < 2^63
			m = intBit
		}
		r.mant = m
		if m&intBit != 0 {
			r.exp = 1
		}
		if inexact {
			r.flags |= PE
			if tiny {
				r.flags |= UE
			}
		}
		if up {
			r.flags |= C1
		}
		return r
	}
	m, carry, inexact, up := roundBits(neg, hi, lo, f.prec, rc)
	if carry {
		biased++
	}
	if biased >= f.maxBiased {
		if cw&OE == 0 && f == extFormat {
			r.exp, r.mant = biased-biasAdjust, m
			r.flags = OE
			if inexact {
				r.flags |= PE
			}
			if up {
				r.flags |= C1
			}
			if r.exp >= f.maxBiased { // massive overflow: infinity
				r.exp, r.mant = f.maxBiased, intBit
			}
			return r
		}
		r.flags = OE | PE
		toInf := rc == RCNearest || (rc == RCDown && neg) || (rc == RCUp && !neg)
		if toInf {
			r.exp, r.mant = f.maxBiased, intBit
			r.flags |= C1
		} else {
			r.exp, r.mant = f.maxBiased-1, ^uint64(0)<<(64-f.prec)
		}
		return r
	}
	r.exp, r.mant = biased, m
	if inexact {
		r.flags |= PE
	}
	if up {
		r.flags |= C1
	}
	return r
}

// pack80 turns a rounded extended result into an F80.
func (r rounded) pack80() (F80, uint16) {
	se := uint16(r.exp)
	if r.neg {
		se |= signBit
	}
	return F80{Mant: r.mant, SE: se}, r.flags
}

// round rounds an exact result to the extended format with the precision cw selects.
func round(neg bool, exp int32, hi, lo uint64, cw uint16) (F80, uint16) {
	if cw&(PCMask|RCMask) == PC64|RCNearest && exp+bias >= 1 { // not tiny before rounding
		// The common case written out: 64-bit precision, round to nearest even, a result
		// that stays normal. roundTo does the same with everything else. Whether an
		// inexact result rounds up is a coin toss the host's branch predictor loses half
		// the time: up (0 or 1) is computed without a branch.
		var sticky uint64
		if lo<<1 != 0 {
			sticky = 1
		}
		up := lo >> 63 & (sticky | hi&1)
		m, carry := bits.Add64(hi, up, 0)
		biased := exp + bias
		if carry != 0 {
			m, biased = intBit, biased+1
		}
		if biased < maxExp {
			se := uint16(biased)
			if neg {
				se |= signBit
			}
			var flags uint16
			if lo != 0 {
				flags = PE
			}
			return F80{Mant: m, SE: se}, flags | uint16(up)*C1
		}
	}
	f := extFormat
	f.prec = precision(cw)
	return roundTo(neg, exp, hi, lo, f, cw).pack80()
}

// roundExt rounds an exact result to full extended precision whatever cw's PC says (for
// instructions that precision control does not affect).
func roundExt(neg bool, exp int32, hi, lo uint64, cw uint16) (F80, uint16) {
	return roundTo(neg, exp, hi, lo, extFormat, cw).pack80()
}

// zero returns a signed zero.
func zero(neg bool) F80 {
	if neg {
		return NegZero
	}
	return PosZero
}

// inf returns a signed infinity.
func inf(neg bool) F80 {
	if neg {
		return NegInf
	}
	return PosInf
}
