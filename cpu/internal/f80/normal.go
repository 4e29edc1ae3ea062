package f80

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
func AddNormal(a, b F80, cw uint16) (F80, uint16) {
	return addNums(unpackNormal(a), unpackNormal(b), cw)
}

// SubNormal is Sub for normal a and b. Preconditions: a.IsNormal() and b.IsNormal().
func SubNormal(a, b F80, cw uint16) (F80, uint16) {
	y := unpackNormal(b)
	y.neg = !y.neg
	return addNums(unpackNormal(a), y, cw)
}

// MulNormal is Mul for normal a and b. Preconditions: a.IsNormal() and b.IsNormal().
func MulNormal(a, b F80, cw uint16) (F80, uint16) {
	return mulNums((a.SE^b.SE)&signBit != 0, unpackNormal(a), unpackNormal(b), cw)
}

// DivNormal is Div for normal a and b. Preconditions: a.IsNormal() and b.IsNormal().
func DivNormal(a, b F80, cw uint16) (F80, uint16) {
	return divNums((a.SE^b.SE)&signBit != 0, unpackNormal(a), unpackNormal(b), cw)
}

// SqrtNormal is Sqrt for a positive normal a. Preconditions: a.IsNormal() and !a.Neg().
func SqrtNormal(a F80, cw uint16) (F80, uint16) { return sqrtNum(unpackNormal(a), cw) }
