package f80

import "math/bits"

// The arithmetic of two normal operands, the common case, without the classification of
// the general entry points: a normal operand is no NaN, infinity, zero, denormal or
// unsupported encoding, so none of their rules apply and no operand raises anything. The
// results and status bits are those of Add, Sub, Mul, Div and Sqrt.

// IsNormal reports whether a is a normal number (Class Normal): a biased exponent of 1 to
// 7FFEH with the integer bit set.
func (a F80) IsNormal() bool { return a.SE&maxExp-1 < maxExp-1 && a.Mant&intBit != 0 }

// unpackNormal is unpack for a normal a (its significand is normalized already).
func unpackNormal(a F80) num {
	return num{neg: a.SE&signBit != 0, exp: int32(a.SE&maxExp) - bias, mant: a.Mant}
}

// AddNormal is Add for normal a and b. Preconditions: a.IsNormal() and b.IsNormal().
// Operands of one sign whose exponents differ by less than 64 are added here, addNums
// written out for them (the aligned sum is exact in 128 bits, plus a sticky bit after a
// carry), so the common case makes one call, to round.
func AddNormal(a, b F80, cw uint16) (F80, uint16) {
	if (a.SE^b.SE)&signBit == 0 {
		ea, eb, x, y := a.SE&maxExp, b.SE&maxExp, a.Mant, b.Mant
		if ea < eb {
			ea, eb, x, y = eb, ea, y, x
		}
		if d := ea - eb; d < 64 {
			hi, c := bits.Add64(x, y>>d, 0)
			lo := y << (64 - d) // (zero when d is 0)
			exp := int32(ea) - bias
			if c != 0 { // the carry: one place right, the bit shifted out kept as sticky
				hi, lo = hi>>1|intBit, lo>>1|hi<<63|lo&1
				exp++
			}
			return round(a.SE&signBit != 0, exp, hi, lo, cw)
		}
	}
	return addNums(unpackNormal(a), unpackNormal(b), cw)
}

// SubNormal is Sub for normal a and b. Preconditions: a.IsNormal() and b.IsNormal().
func SubNormal(a, b F80, cw uint16) (F80, uint16) {
	y := unpackNormal(b)
	y.neg = !y.neg
	return addNums(unpackNormal(a), y, cw)
}

// MulNormal is Mul for normal a and b (mulNums written out). Preconditions: a.IsNormal()
// and b.IsNormal().
func MulNormal(a, b F80, cw uint16) (F80, uint16) {
	hi, lo := bits.Mul64(a.Mant, b.Mant)
	exp := int32(a.SE&maxExp) + int32(b.SE&maxExp) - 2*bias + 1
	n := hi>>63 ^ 1 // a product below 2: normalize it (without a branch)
	hi, lo = hi<<n|lo>>63&n, lo<<n
	return round((a.SE^b.SE)&signBit != 0, exp-int32(n), hi, lo, cw)
}

// DivNormal is Div for normal a and b (divNums written out). Preconditions: a.IsNormal()
// and b.IsNormal().
func DivNormal(a, b F80, cw uint16) (F80, uint16) {
	hi, lo, below, sticky := divMant(a.Mant, b.Mant)
	exp := int32(a.SE&maxExp) - int32(b.SE&maxExp)
	if below {
		exp--
	}
	if sticky {
		lo |= 1
	}
	return round((a.SE^b.SE)&signBit != 0, exp, hi, lo, cw)
}

// SqrtNormal is Sqrt for a positive normal a. Preconditions: a.IsNormal() and !a.Neg().
func SqrtNormal(a F80, cw uint16) (F80, uint16) {
	exp := int32(a.SE&maxExp) - bias
	if root, lo, ok := sqrtFast(a.Mant, exp&1 == 0); ok {
		return round(false, exp>>1, root, lo, cw)
	}
	return sqrtExact(unpackNormal(a), cw)
}
