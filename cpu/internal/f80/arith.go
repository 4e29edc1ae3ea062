package f80

import (
	"math"
	"math/bits"
)

// Basic arithmetic (SDM Vol. 2A: FADD, FSUB, FMUL, FDIV, FSQRT, FPREM, FPREM1, FRNDINT,
// FSCALE, FXTRACT). Every exact result is formed in at least 128 bits (with a sticky bit)
// and then rounded once, so results are correctly rounded to the selected precision.

// nanResult handles operands that are NaNs or unsupported encodings, following SDM Vol. 1,
// table 4-7 (Rules for Generating QNaNs) and 8.2.2 (unsupported formats): an unsupported
// operand gives the real indefinite; an SNaN raises IE and is quieted; with two NaNs the
// one with the larger significand wins (a QNaN over an SNaN). ok is false when neither
// operand is a NaN or unsupported.
func nanResult(a, b F80, ca, cb Class) (r F80, flags uint16, ok bool) {
	if ca == Unsupported || cb == Unsupported {
		return Indefinite, IE, true
	}
	aNaN, bNaN := ca == QNaN || ca == SNaN, cb == QNaN || cb == SNaN
	if !aNaN && !bNaN {
		return F80{}, 0, false
	}
	if ca == SNaN || cb == SNaN {
		flags = IE
	}
	switch {
	case aNaN && bNaN:
		return largerNaN(a, b, ca, cb), flags, true
	case aNaN:
		return quiet(a), flags, true
	}
	return quiet(b), flags, true
}

// largerNaN picks between two NaNs: the QNaN if only one is quiet, else the one with the
// larger significand, and with equal significands the positive one.
func largerNaN(a, b F80, ca, cb Class) F80 {
	if ca != cb {
		if ca == QNaN {
			return a
		}
		return b
	}
	qa, qb := quiet(a), quiet(b)
	switch {
	case qa.Mant > qb.Mant:
		return qa
	case qb.Mant > qa.Mant:
		return qb
	case !qa.Neg():
		return qa
	}
	return qb
}

// nanResult1 is nanResult for one operand.
func nanResult1(a F80, ca Class) (F80, uint16, bool) {
	switch ca {
	case Unsupported:
		return Indefinite, IE, true
	case SNaN:
		return quiet(a), IE, true
	case QNaN:
		return a, 0, true
	}
	return F80{}, 0, false
}

// denormalFlag returns DE if either class is a denormal operand.
func denormalFlag(ca, cb Class) uint16 {
	if isDenormal(ca) || isDenormal(cb) {
		return DE
	}
	return 0
}

// Add returns a + b rounded as cw says.
func Add(a, b F80, cw uint16) (F80, uint16) { return addSub(a, b, false, cw) }

// Sub returns a - b rounded as cw says.
func Sub(a, b F80, cw uint16) (F80, uint16) { return addSub(a, b, true, cw) }

func addSub(a, b F80, sub bool, cw uint16) (F80, uint16) {
	ca, cb := a.Class(), b.Class()
	if r, f, ok := nanResult(a, b, ca, cb); ok {
		return r, f
	}
	flags := denormalFlag(ca, cb)
	bneg := b.Neg() != sub
	if ca == Infinity || cb == Infinity {
		switch {
		case ca == Infinity && cb == Infinity && a.Neg() != bneg:
			return Indefinite, flags | IE
		case ca == Infinity:
			return a, flags
		}
		return inf(bneg), flags
	}
	x, y := unpack(a), unpack(b)
	y.neg = bneg
	r, f := addNums(x, y, cw)
	return r, f | flags
}

// addNums adds the finite x and y (a zero has mant 0) and rounds as cw says.
func addNums(x, y num, cw uint16) (F80, uint16) {
	switch {
	case x.mant == 0 && y.mant == 0:
		if x.neg == y.neg {
			return zero(x.neg), 0
		}
		return zero(cw&RCMask == RCDown), 0
	case x.mant == 0:
		return round(y.neg, y.exp, y.mant, 0, cw)
	case y.mant == 0:
		return round(x.neg, x.exp, x.mant, 0, cw)
	}
	if x.exp < y.exp || (x.exp == y.exp && x.mant < y.mant) {
		x, y = y, x
	}
	yh, yl := shiftRightSticky(y.mant, 0, uint(min(x.exp-y.exp, 200)))
	var hi, lo uint64
	exp := x.exp
	if x.neg == y.neg {
		var c uint64
		lo, c = bits.Add64(0, yl, 0)
		hi, c = bits.Add64(x.mant, yh, c)
		if c != 0 {
			hi, lo = shiftRightSticky(hi, lo, 1)
			hi |= intBit
			exp++
		}
	} else {
		var bw uint64
		lo, bw = bits.Sub64(0, yl, 0)
		hi, _ = bits.Sub64(x.mant, yh, bw)
		if hi|lo == 0 {
			return zero(cw&RCMask == RCDown), 0
		}
		var n int
		hi, lo, n = normalize128(hi, lo)
		exp -= int32(n)
	}
	return round(x.neg, exp, hi, lo, cw)
}

// normalize128 shifts hi:lo (nonzero) left until bit 127 is set and returns the count.
func normalize128(hi, lo uint64) (uint64, uint64, int) {
	if hi == 0 {
		n := 64 + bits.LeadingZeros64(lo)
		return lo << (n - 64), 0, n
	}
	n := bits.LeadingZeros64(hi)
	if n == 0 {
		return hi, lo, 0
	}
	return hi<<n | lo>>(64-n), lo << n, n
}

// Mul returns a * b rounded as cw says.
func Mul(a, b F80, cw uint16) (F80, uint16) {
	ca, cb := a.Class(), b.Class()
	if r, f, ok := nanResult(a, b, ca, cb); ok {
		return r, f
	}
	flags := denormalFlag(ca, cb)
	neg := a.Neg() != b.Neg()
	if ca == Infinity || cb == Infinity {
		if ca == Zero || cb == Zero {
			return Indefinite, flags | IE
		}
		return inf(neg), flags
	}
	if ca == Zero || cb == Zero {
		return zero(neg), flags
	}
	r, f := mulNums(neg, unpack(a), unpack(b), cw)
	return r, f | flags
}

// mulNums multiplies the finite nonzero x and y (signs aside: the result's is neg) and
// rounds as cw says.
func mulNums(neg bool, x, y num, cw uint16) (F80, uint16) {
	hi, lo := bits.Mul64(x.mant, y.mant)
	exp := x.exp + y.exp + 1
	if hi&intBit == 0 {
		hi, lo = hi<<1|lo>>63, lo<<1
		exp--
	}
	return round(neg, exp, hi, lo, cw)
}

// Div returns a / b rounded as cw says.
func Div(a, b F80, cw uint16) (F80, uint16) {
	ca, cb := a.Class(), b.Class()
	if r, f, ok := nanResult(a, b, ca, cb); ok {
		return r, f
	}
	neg := a.Neg() != b.Neg()
	switch {
	case ca == Infinity && cb == Infinity, ca == Zero && cb == Zero:
		return Indefinite, IE
	case ca == Infinity:
		return inf(neg), denormalFlag(cb, cb)
	case cb == Infinity:
		return zero(neg), denormalFlag(ca, ca)
	case cb == Zero:
		return inf(neg), ZE | denormalFlag(ca, ca)
	}
	flags := denormalFlag(ca, cb)
	if ca == Zero {
		return zero(neg), flags
	}
	r, f := divNums(neg, unpack(a), unpack(b), cw)
	return r, f | flags
}

// divNums divides the finite nonzero x by y (signs aside: the result's is neg) and rounds
// as cw says.
func divNums(neg bool, x, y num, cw uint16) (F80, uint16) {
	hi, lo, below, sticky := divMant(x.mant, y.mant)
	exp := x.exp - y.exp
	if below {
		exp--
	}
	if sticky {
		lo |= 1
	}
	return round(neg, exp, hi, lo, cw)
}

// divMant divides two normalized significands: it returns the quotient a/b as a 128-bit
// significand hi:lo, normalized (bit 127 set), whether it is below 1 (a < b: the caller
// lowers the exponent by one) and whether a remainder was left. Only what rounding reads
// is exact below the top 64 bits: bit 63 of lo (the half) and whether any lower bit is
// set (a sticky bit in bit 0 stands for them all), from one 128/64 division and its
// remainder.
func divMant(a, b uint64) (hi, lo uint64, below, sticky bool) {
	if a >= b {
		// 1.q: q holds the next 64 bits of the quotient, r what is left.
		q, r := bits.Div64(a-b, 0, b)
		return intBit | q>>1, q << 63, false, r != 0
	}
	q, r := bits.Div64(a, 0, b) // a < b: q has bit 63 set
	// The bits below q: a half when 2r >= b, more when 2r != b (or r != 0 below a half).
	// (Without a branch: which way it goes is a coin toss for the predictor.)
	var half uint64
	if r >= b-r {
		half = intBit
	}
	return q, half, true, r != 0 && r != b-r
}

// Sqrt returns the square root of a rounded as cw says.
func Sqrt(a F80, cw uint16) (F80, uint16) {
	ca := a.Class()
	if r, f, ok := nanResult1(a, ca); ok {
		return r, f
	}
	switch {
	case ca == Zero:
		return a, 0
	case a.Neg():
		return Indefinite, IE | denormalFlag(ca, ca)
	case ca == Infinity:
		return a, 0
	}
	r, f := sqrtNum(unpack(a), cw)
	return r, f | denormalFlag(ca, ca)
}

// sqrtNum is the square root of the finite positive nonzero x, rounded as cw says.
func sqrtNum(x num, cw uint16) (F80, uint16) {
	if root, lo, ok := sqrtFast(x.mant, x.exp&1 == 0); ok {
		return round(false, x.exp>>1, root, lo, cw)
	}
	return sqrtExact(x, cw)
}

// sqrtExact is sqrtNum from the exact integer root (isqrt128).
func sqrtExact(x num, cw uint16) (F80, uint16) {
	var nh, nl uint64
	if x.exp&1 == 0 {
		nh, nl = x.mant>>1, x.mant<<63
	} else {
		nh, nl = x.mant, 0
	}
	root, remHi, remLo := isqrt128(nh, nl)
	var lo uint64
	if remHi != 0 || remLo > root {
		lo = intBit // the root's fraction is above one half (never exactly a half)
	}
	if remHi|remLo != 0 {
		lo |= 1
	}
	return round(false, x.exp>>1, root, lo, cw)
}

// sqrtFast is sqrtNum's root and the bits below it (lo: bit 63 set for a fraction above
// one half, bit 0 for a nonzero one) for n = m*2^63 (even) or m*2^64, m >= 2^63, without
// integer products: the host's double-precision root s of the top 53 bits of n, one Newton
// step s + (n - s*s)/2s in floating point (n - s*s from a fused multiply-add), then the
// integer part and the fraction of the step. Its error is below 2^-38 (of a unit of the
// root), so a fraction further than 2^-32 from 0, one half and 1 says the root's floor,
// that it is inexact and on which side of the half it lies. Nearer those (an exact or
// nearly exact root: about one case in a billion), it reports false and isqrt128 decides.
func sqrtFast(m uint64, even bool) (root, lo uint64, ok bool) {
	scale := 0x1p64
	if even {
		scale = 0x1p63
	}
	xh := float64(int64(m>>11)) * (scale * 0x1p11) // n = xh + xl, both exact
	xl := float64(int64(m&0x7ff)) * scale
	s := math.Sqrt(xh) // within 2^10 of sqrt(xh), an integer in [2^63, 2^64]
	inv := 0.5 / s
	step := (math.FMA(-s, s, xh) + xl) * inv // below 2^13 in magnitude
	whole := math.Floor(step)
	frac := step - whole
	const eps = 0x1p-32
	if s >= 0x1p64 || !(frac > eps && frac < 1-eps) || frac > 0.5-eps && frac < 0.5+eps {
		return 0, 0, false
	}
	root = uint64(int64(s-0x1p63)) + 1<<63 + uint64(int64(whole))
	lo = 1
	if frac > 0.5 {
		lo |= intBit
	}
	return root, lo, true
}

// isqrt128 returns floor(sqrt(n)) for n = hi:lo >= 2^126, and the remainder n - root^2.
// A double-precision estimate, one Newton step taken in floating point (no 128/64
// division: its latency was most of FSQRT's), then an exact correction.
func isqrt128(hi, lo uint64) (root, remHi, remLo uint64) {
	// The estimate from hi alone, halved so it converts as a signed integer (one
	// instruction; lo and the bit lost change it by less than 2^-61). (A power-of-two
	// scale, not math.Ldexp: the product is exact and costs one multiply.) n >= 2^126, so
	// est >= 2^63 and converts as 2^63 plus a signed integer.
	est := math.Sqrt(float64(int64(hi>>1)) * 0x1p65)
	half := 0x1p31 / est // 2^32 / 2est (computed while the remainder below is)
	r := ^uint64(0)
	if est < 0x1p64 {
		r = uint64(int64(est-0x1p63)) + 1<<63
	}
	// Newton: r + (n - r*r) / 2r. The estimate is good to about 2^-52, so the remainder,
	// exact in 128 bits (signed: modulo 2^128), is below 2^78 in magnitude and the step
	// below 2^13; in double precision the step comes out within one of the exact one.
	ph, pl := bits.Mul64(r, r)
	dl, b := bits.Sub64(lo, pl, 0)
	dh, _ := bits.Sub64(hi, ph, b)
	// (The remainder's top 64 bits, converted as a signed integer: the 32 bits dropped
	// move the step by 2^-31 at most.)
	step := int64(float64(int64(dh<<32|dl>>32)) * half)
	switch nr := r + uint64(step); {
	case step > 0 && nr < r:
		r = ^uint64(0) // the root is 2^64 - 1 at most
	case nr < 1<<63:
		r = 1 << 63 // and 2^63 at least
	default:
		r = nr
	}
	// Correct to the exact floor, keeping the remainder n - r*r in 128 bits (neg while
	// r*r > n, the remainder then being held modulo 2^128): one product, then at most a
	// step or two, each adding or taking away 2r-1 or 2r+1.
	ph, pl = bits.Mul64(r, r)
	var neg uint64
	remLo, neg = bits.Sub64(lo, pl, 0)
	remHi, neg = bits.Sub64(hi, ph, neg)
	// The step leaves r one too big about half the time: that first correction is made
	// without a branch (the predictor would lose that coin toss); the loops finish.
	{
		m := -neg
		dl, b := bits.Sub64(r<<1, 1, 0) // 2r-1 in 128 bits
		dh := r>>63 - b
		var c uint64
		remLo, c = bits.Add64(remLo, dl&m, 0)
		remHi, c = bits.Add64(remHi, dh&m, c)
		r -= neg
		neg &^= c // the remainder crossed zero
	}
	for neg != 0 { // r*r > n: r-1, and the remainder grows by 2r-1
		dl, b := bits.Sub64(r<<1, 1, 0)
		dh := r>>63 - b
		var c uint64
		remLo, c = bits.Add64(remLo, dl, 0)
		remHi, c = bits.Add64(remHi, dh, c)
		r--
		if c != 0 {
			neg = 0 // the remainder crossed zero
		}
	}
	for r != ^uint64(0) { // (r+1)^2 <= n: r+1, and the remainder shrinks by 2r+1
		dl, dh := r<<1|1, r>>63
		if remHi < dh || remHi == dh && remLo < dl {
			break
		}
		var b uint64
		remLo, b = bits.Sub64(remLo, dl, 0)
		remHi, _ = bits.Sub64(remHi, dh, b)
		r++
	}
	return r, remHi, remLo
}

// Rem is FPREM (ieee false: the quotient is truncated toward zero) and FPREM1 (ieee true:
// the quotient is rounded to nearest even): it returns the partial remainder of a / b and
// the status bits: C2 set when the reduction is incomplete (the exponents differ by 64 or
// more; the result is then a - b*q*2^(D-N) with q truncated and N = 32 + D mod 32), and
// otherwise the three low quotient bits in C0 (Q2), C3 (Q1), C1 (Q0). The remainder is
// always exact. q is false when no quotient was formed (NaN or invalid operands, where
// the host leaves C0 and C3 alone).
func Rem(a, b F80, ieee bool, cw uint16) (r F80, flags uint16, q bool) {
	ca, cb := a.Class(), b.Class()
	if r, f, ok := nanResult(a, b, ca, cb); ok {
		return r, f, false
	}
	dflags := denormalFlag(ca, cb)
	switch {
	case ca == Infinity || cb == Zero:
		return Indefinite, IE | dflags, false
	case ca == Zero:
		return a, dflags, true
	case cb == Infinity:
		r, f := normalizeExact(a, cw)
		return r, f | dflags, true
	}
	x, y := unpack(a), unpack(b)
	d := x.exp - y.exp
	if d >= 64 {
		n := 32 + d%32
		hi, lo := shl128(x.mant, uint(n))
		_, rem := bits.Div64(hi, lo, y.mant)
		r, f := remResult(x.neg, rem, x.exp-n, cw)
		return r, f | dflags | C2, true
	}
	var quo, rem uint64
	neg := x.neg
	switch {
	case d < -1 || (d == -1 && !ieee):
		r, f := normalizeExact(a, cw)
		return r, f | dflags, true
	case d == -1:
		// |a| < |b|: the nearest quotient is 1 when |a| > |b|/2.
		if x.mant > y.mant {
			// The remainder is b - a = (2*y.mant - x.mant) * 2^(y.exp-64).
			r, f := remResult(!neg, y.mant-(x.mant-y.mant), y.exp-1, cw)
			return r, f | dflags | C1, true
		}
		r, f := normalizeExact(a, cw)
		return r, f | dflags, true
	default:
		hi, lo := shl128(x.mant, uint(d))
		quo, rem = bits.Div64(hi, lo, y.mant)
	}
	if ieee && (rem > y.mant-rem || (rem == y.mant-rem && quo&1 != 0)) {
		rem = y.mant - rem
		quo++
		neg = !neg
	}
	if rem == 0 {
		neg = x.neg
	}
	r, f := remResult(neg, rem, y.exp, cw)
	f |= dflags
	if quo&4 != 0 {
		f |= C0
	}
	if quo&2 != 0 {
		f |= C3
	}
	if quo&1 != 0 {
		f |= C1
	}
	return r, f, true
}

// shl128 returns m << n as 128 bits (n < 64).
func shl128(m uint64, n uint) (uint64, uint64) {
	if n == 0 {
		return 0, m
	}
	return m >> (64 - n), m << n
}

// remResult packs an exact remainder rem * 2^(exp-63) with sign neg.
func remResult(neg bool, rem uint64, exp int32, cw uint16) (F80, uint16) {
	if rem == 0 {
		return zero(neg), 0
	}
	lz := bits.LeadingZeros64(rem)
	r, f := roundExt(neg, exp-int32(lz), rem<<uint(lz), 0, cw)
	return r, f &^ C1
}

// normalizeExact returns the finite value a through the rounding path (so a denormal
// operand comes back denormal, and an unmasked underflow is reported).
func normalizeExact(a F80, cw uint16) (F80, uint16) {
	x := unpack(a)
	if x.mant == 0 {
		return a, 0
	}
	return roundExt(x.neg, x.exp, x.mant, 0, cw)
}

// RoundInt is FRNDINT: a rounded to an integer in the mode cw selects (precision control
// does not apply).
func RoundInt(a F80, cw uint16) (F80, uint16) {
	ca := a.Class()
	if r, f, ok := nanResult1(a, ca); ok {
		return r, f
	}
	if ca == Zero || ca == Infinity {
		return a, 0
	}
	flags := denormalFlag(ca, ca)
	x := unpack(a)
	if x.exp >= 63 {
		return a, flags
	}
	m, exp, inexact, up := roundToInt(x, cw&RCMask)
	if inexact {
		flags |= PE
	}
	if up {
		flags |= C1
	}
	if m == 0 {
		return zero(x.neg), flags
	}
	r, _ := roundExt(x.neg, exp, m, 0, cw)
	return r, flags
}

// roundToInt rounds the finite nonzero x (exp < 63) to an integer in mode rc; it returns
// the integer as a normalized significand and exponent (m = 0 for zero).
func roundToInt(x num, rc uint16) (m uint64, exp int32, inexact, up bool) {
	if x.exp < 0 {
		// |x| < 1: the candidates are 0 and 1.
		inexact = true
		switch rc {
		case RCNearest:
			up = x.exp == -1 && x.mant > intBit
		case RCDown:
			up = x.neg
		case RCUp:
			up = !x.neg
		}
		if up {
			return intBit, 0, true, true
		}
		return 0, 0, true, false
	}
	m, carry, inexact, up := roundBits(x.neg, x.mant, 0, uint(x.exp+1), rc)
	exp = x.exp
	if carry {
		exp++
	}
	return m, exp, inexact, up
}

// toIntValue rounds a (finite) to an integer and returns its magnitude, for FIST and
// FBSTP; ok is false if it does not fit in 64 bits.
func toIntValue(x num, rc uint16) (mag uint64, inexact, up, ok bool) {
	if x.mant == 0 {
		return 0, false, false, true
	}
	if x.exp >= 64 {
		return 0, false, false, false
	}
	if x.exp == 63 {
		return x.mant, false, false, true
	}
	m, exp, inexact, up := roundToInt(x, rc)
	if m == 0 {
		return 0, inexact, up, true
	}
	if exp >= 64 {
		return 0, inexact, up, false
	}
	return m >> uint(63-exp), inexact, up, true
}

// Scale is FSCALE: a * 2^trunc(b).
func Scale(a, b F80, cw uint16) (F80, uint16) {
	ca, cb := a.Class(), b.Class()
	if r, f, ok := nanResult(a, b, ca, cb); ok {
		return r, f
	}
	flags := denormalFlag(ca, cb)
	if cb == Infinity {
		switch {
		case !b.Neg() && ca == Zero, b.Neg() && ca == Infinity:
			return Indefinite, flags | IE
		case ca == Zero || ca == Infinity:
			return a, flags
		case b.Neg():
			return zero(a.Neg()), flags
		}
		return inf(a.Neg()), flags
	}
	if ca == Zero || ca == Infinity {
		return a, flags
	}
	y := unpack(b)
	var n int32
	switch {
	case y.mant == 0 || y.exp < 0:
		n = 0
	case y.exp >= 30:
		n = 1 << 30
	default:
		n = int32(y.mant >> uint(63-y.exp))
	}
	if y.neg {
		n = -n
	}
	x := unpack(a)
	r, f := roundExt(x.neg, x.exp+n, x.mant, 0, cw)
	return r, f | flags
}

// Xtract is FXTRACT: it splits a into its unbiased exponent (as a value) and its
// significand (a with exponent 0). A zero gives ZE, exponent -infinity and the zero.
func Xtract(a F80, cw uint16) (exp, sig F80, flags uint16) {
	ca := a.Class()
	if r, f, ok := nanResult1(a, ca); ok {
		return r, r, f
	}
	switch ca {
	case Zero:
		return NegInf, a, ZE
	case Infinity:
		return PosInf, a, 0
	}
	flags = denormalFlag(ca, ca)
	x := unpack(a)
	sig = withSign(F80{Mant: x.mant, SE: bias}, x.neg)
	return FromInt64(int64(x.exp)), sig, flags
}
