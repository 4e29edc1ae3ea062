package f80

import (
	"math/big"
	"sync"
)

// Transcendental instructions (SDM Vol. 2A: FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1,
// FYL2X, FYL2XP1) and the constants (FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ).
//
// The values are computed in big.Float arithmetic with workPrec bits and rounded once to
// the extended format in the mode RC selects (precision control does not apply to these
// instructions), so they are correctly rounded except in the astronomically rare cases
// where the exact value lies within 2^-workPrec of a rounding boundary.
//
// Like the hardware (SDM Vol. 1, 8.3.10), FSIN, FCOS, FSINCOS and FPTAN reduce their
// argument with a 66-bit approximation of pi, not with pi itself: the reduction
// r = x - k*pi66/2 is exact, and the function is then evaluated at r. So fsin(fldpi)
// returns -2^-64 (pi64 - pi66) and not -5.0165e-20 (pi64 - pi), as the host shows.

const workPrec = 160

var (
	consts     sync.Once
	bigPi      *big.Float // pi to 2*workPrec bits
	bigPi66    *big.Float // pi rounded to 66 bits, as the FPU holds it
	bigHalfP66 *big.Float // pi66 / 2
	bigLn2     *big.Float
	bigLn10    *big.Float
	kvals      [7]*big.Float // the FLD constants at 2*workPrec bits
)

func initConsts() {
	const p = 2 * workPrec
	// Machin: pi = 16 atan(1/5) - 4 atan(1/239).
	a := atanInv(5, p)
	b := atanInv(239, p)
	bigPi = new(big.Float).SetPrec(p).Mul(a, big.NewFloat(16))
	bigPi.Sub(bigPi, new(big.Float).SetPrec(p).Mul(b, big.NewFloat(4)))
	bigPi66 = new(big.Float).SetPrec(66).Set(bigPi)
	bigHalfP66 = new(big.Float).SetPrec(p).SetMantExp(bigPi66, -1)
	// ln 2 = 2 atanh(1/3); ln 10 = 3 ln 2 + ln 1.25 = 3 ln 2 + 2 atanh(1/9).
	bigLn2 = atanhInv(3, p)
	bigLn2.SetMantExp(bigLn2, 1)
	l := atanhInv(9, p)
	l.SetMantExp(l, 1)
	bigLn10 = new(big.Float).SetPrec(p).Mul(bigLn2, big.NewFloat(3))
	bigLn10.Add(bigLn10, l)
	q := func(x, y *big.Float) *big.Float { return new(big.Float).SetPrec(p).Quo(x, y) }
	one := new(big.Float).SetPrec(p).SetInt64(1)
	kvals = [7]*big.Float{
		one,
		q(bigLn10, bigLn2), // log2(10)
		q(one, bigLn2),     // log2(e)
		bigPi,
		q(bigLn2, bigLn10), // log10(2)
		bigLn2,
		new(big.Float).SetPrec(p),
	}
}

// atanInv returns atan(1/n) = sum (-1)^k / ((2k+1) n^(2k+1)) to p bits.
func atanInv(n int64, p uint) *big.Float {
	sum := new(big.Float).SetPrec(p)
	pow := new(big.Float).SetPrec(p).Quo(big.NewFloat(1), new(big.Float).SetInt64(n))
	n2 := new(big.Float).SetPrec(p).SetInt64(n * n)
	t := new(big.Float).SetPrec(p)
	for k := int64(0); ; k++ {
		t.Quo(pow, new(big.Float).SetInt64(2*k+1))
		if t.Sign() == 0 || (sum.Sign() != 0 && t.MantExp(nil) < sum.MantExp(nil)-int(p)-8) {
			break
		}
		if k&1 == 0 {
			sum.Add(sum, t)
		} else {
			sum.Sub(sum, t)
		}
		pow.Quo(pow, n2)
	}
	return sum
}

// atanhInv returns atanh(1/n) = sum 1/((2k+1) n^(2k+1)) to p bits.
func atanhInv(n int64, p uint) *big.Float {
	sum := new(big.Float).SetPrec(p)
	pow := new(big.Float).SetPrec(p).Quo(big.NewFloat(1), new(big.Float).SetInt64(n))
	n2 := new(big.Float).SetPrec(p).SetInt64(n * n)
	t := new(big.Float).SetPrec(p)
	for k := int64(0); ; k++ {
		t.Quo(pow, new(big.Float).SetInt64(2*k+1))
		if t.Sign() == 0 || (sum.Sign() != 0 && t.MantExp(nil) < sum.MantExp(nil)-int(p)-8) {
			break
		}
		sum.Add(sum, t)
		pow.Quo(pow, n2)
	}
	return sum
}

// Const returns FPU constant k (the order of D9 E8-EE: 1, log2 10, log2 e, pi, log10 2,
// ln 2, 0), rounded to 64 bits in the mode RC selects (SDM Vol. 1, 8.3.8). The SDM says
// the FPU holds them with 66 bits; the host rounds log10 2, whose bits 65-66 are 10 and
// whose later bits are not all zero, up in round-to-nearest, which is the correct rounding
// of the exact value (a 66-bit value would be a tie rounding to even, down).
func Const(k int, cw uint16) F80 {
	consts.Do(initConsts)
	r, _ := fromBig(kvals[k], cw&RCMask|Exceptions)
	return r
}

// bigOf converts the finite value a exactly.
func bigOf(a F80) *big.Float {
	x := unpack(a)
	f := new(big.Float).SetPrec(workPrec).SetUint64(x.mant)
	f.SetMantExp(f, int(x.exp)-63)
	if x.neg {
		f.Neg(f)
	}
	return f
}

// fromBig rounds v to the extended format (64-bit precision) in cw's rounding mode with
// cw's masks; the value is taken as exact.
func fromBig(v *big.Float, cw uint16) (F80, uint16) {
	if v.Sign() == 0 {
		return zero(v.Signbit()), 0
	}
	neg := v.Signbit()
	a := new(big.Float).Abs(v)
	e := a.MantExp(nil)
	s := new(big.Float).SetMantExp(a, 128-e)
	z, acc := s.Int(nil)
	w := z.Bits()
	var hi, lo uint64
	if len(w) == 2 {
		lo, hi = uint64(w[0]), uint64(w[1])
	}
	if acc != big.Exact {
		lo |= 1
	}
	return roundExt(neg, int32(e-1), hi, lo, cw)
}

// approx is an approximation v of an inexact result, computed with workPrec bits, and the
// direction of its error: the exact value is v plus a tiny quantity of sign dir (the sign
// of the first term a series left out). The direction matters only when v happens to be
// representable (a tiny argument: sin x = x - x^3/6...); it decides the rounding then.
type approx struct {
	v   *big.Float
	dir int
}

// round rounds an inexact result; PE is always raised.
func (a approx) round(cw uint16) (F80, uint16) {
	v := a.v
	if v.Sign() != 0 {
		e := v.MantExp(nil)
		d := a.dir
		if d == 0 {
			d = v.Sign() // unknown: just above in magnitude, the value is not exact
		}
		n := new(big.Float).SetMantExp(big.NewFloat(float64(d)), e-3*workPrec)
		v = new(big.Float).SetPrec(4*workPrec).Add(v, n)
	}
	r, f := fromBig(v, cw)
	return r, f | PE
}

// exactAsInexact rounds an exact result of FYL2X or FYL2XP1 as the host treats it: as
// inexact (PE), so that a tiny result also signals underflow.
func exactAsInexact(v *big.Float, cw uint16) (F80, uint16) {
	r, f := fromBig(v, cw)
	if r.SE&maxExp == 0 && r.Mant != 0 && cw&UE != 0 {
		f |= UE
	}
	return r, f | PE
}

// neg negates an approximation.
func (a approx) neg() approx { return approx{new(big.Float).Neg(a.v), -a.dir} }

func sign(x *big.Float) int { return x.Sign() }

// sinSeries returns sin(r) for |r| <= 1 by its Taylor series.
func sinSeries(r *big.Float) approx {
	r2 := new(big.Float).SetPrec(workPrec).Mul(r, r)
	term := new(big.Float).SetPrec(workPrec).Set(r)
	sum := new(big.Float).SetPrec(workPrec).Set(r)
	lim := r.MantExp(nil) - workPrec - 8
	d := new(big.Float).SetPrec(workPrec)
	for k := int64(1); ; k++ {
		term.Mul(term, r2)
		term.Quo(term, d.SetInt64(2*k*(2*k+1)))
		term.Neg(term)
		if term.MantExp(nil) < lim {
			return approx{sum, sign(term)}
		}
		sum.Add(sum, term)
	}
}

// cosSeries returns cos(r) for |r| <= 1 by its Taylor series.
func cosSeries(r *big.Float) approx {
	r2 := new(big.Float).SetPrec(workPrec).Mul(r, r)
	term := new(big.Float).SetPrec(workPrec).SetInt64(1)
	sum := new(big.Float).SetPrec(workPrec).SetInt64(1)
	d := new(big.Float).SetPrec(workPrec)
	for k := int64(1); ; k++ {
		term.Mul(term, r2)
		term.Quo(term, d.SetInt64((2*k-1)*(2*k)))
		term.Neg(term)
		if term.Sign() == 0 || term.MantExp(nil) < -workPrec-8 {
			return approx{sum, sign(term)}
		}
		sum.Add(sum, term)
	}
}

// reduce returns k mod 4 and r with x = k*(pi66/2) + r, |r| <= pi66/4 (about), r exact.
func reduce(x *big.Float) (int64, *big.Float) {
	consts.Do(initConsts)
	const p = 4 * workPrec
	q := new(big.Float).SetPrec(p).Quo(x, bigHalfP66)
	// Round q to the nearest integer.
	half := new(big.Float).SetFloat64(0.5)
	if q.Signbit() {
		q.Sub(q, half)
	} else {
		q.Add(q, half)
	}
	ki, _ := q.Int(nil)
	kf := new(big.Float).SetPrec(p).SetInt(ki)
	r := new(big.Float).SetPrec(p).Mul(kf, bigHalfP66)
	r.Sub(new(big.Float).SetPrec(p).Set(x), r)
	k := new(big.Int).And(ki, big.NewInt(3)).Int64() // k mod 4 (two's complement for negatives)
	return k, r
}

// trigPrologue handles the special operands of FSIN, FCOS, FSINCOS and FPTAN: NaNs,
// infinities (invalid) and operands out of range (|x| >= 2^63: C2, operand unchanged).
// ok is false when the caller has to compute.
func trigPrologue(a F80) (r F80, flags uint16, done bool) {
	ca := a.Class()
	if r, f, ok := nanResult1(a, ca); ok {
		return r, f, true
	}
	switch {
	case ca == Infinity:
		return Indefinite, IE, true
	case ca == Normal && a.Exp() >= bias+63:
		return a, C2, true
	}
	return F80{}, denormalFlag(ca, ca), false
}

// Sin is FSIN. An out-of-range operand comes back unchanged with C2 in the flags.
func Sin(a F80, cw uint16) (F80, uint16) {
	r, fl, done := trigPrologue(a)
	if done {
		return r, fl
	}
	if a.Class() == Zero {
		return a, 0
	}
	s, _, _ := sinCosBig(a)
	v, f := s.round(cw)
	return v, f | fl
}

// Cos is FCOS.
func Cos(a F80, cw uint16) (F80, uint16) {
	r, fl, done := trigPrologue(a)
	if done {
		return r, fl
	}
	if a.Class() == Zero {
		return One, 0
	}
	_, c, _ := sinCosBig(a)
	v, f := c.round(cw)
	return v, f | fl
}

// SinCos is FSINCOS: it returns sin and cos (the CPU puts sin in ST(0) and pushes cos).
func SinCos(a F80, cw uint16) (sin, cos F80, flags uint16) {
	r, fl, done := trigPrologue(a)
	if done {
		return r, r, fl
	}
	if a.Class() == Zero {
		return a, One, 0
	}
	s, c, _ := sinCosBig(a)
	sv, f1 := s.round(cw)
	cv, f2 := c.round(cw)
	return sv, cv, (f1|f2)&^C1 | sinCosC1(f1, f2) | fl
}

// Tan is FPTAN (the CPU pushes 1.0 after it).
func Tan(a F80, cw uint16) (F80, uint16) {
	r, fl, done := trigPrologue(a)
	if done {
		return r, fl
	}
	if a.Class() == Zero {
		return a, 0
	}
	s, c, rs := sinCosBig(a)
	// tan r = r + r^3/3 + ..., -cot r = -1/r + r/3 + ...: the error has the sign of r.
	t := approx{new(big.Float).SetPrec(workPrec).Quo(s.v, c.v), rs}
	v, f := t.round(cw)
	return v, f | fl
}

// sinCosBig returns sin and cos of the finite nonzero a, reduced with pi66, and the sign
// of the reduced argument.
func sinCosBig(a F80) (approx, approx, int) {
	k, r := reduce(bigOf(a))
	s, c := sinSeries(r), cosSeries(r)
	switch k {
	case 1:
		s, c = c, s.neg()
	case 2:
		s, c = s.neg(), c.neg()
	case 3:
		s, c = c.neg(), s
	}
	return s, c, r.Sign()
}

// sinCosC1 is FSINCOS's C1: the round-up indication of the sine (the host's choice).
func sinCosC1(fsin, fcos uint16) uint16 { return fsin & C1 }

// atanBig returns atan(t) for t >= 0.
func atanBig(t *big.Float) approx {
	consts.Do(initConsts)
	x := new(big.Float).SetPrec(workPrec).Set(t)
	one := new(big.Float).SetPrec(workPrec).SetInt64(1)
	inv := false
	if x.Cmp(one) > 0 {
		x.Quo(one, x)
		inv = true
	}
	// Halve the angle until the series converges fast: atan(x) = 2 atan(x / (1 + sqrt(1 + x^2))).
	doublings := 0
	tmp := new(big.Float).SetPrec(workPrec)
	for x.MantExp(nil) > -6 {
		tmp.Mul(x, x)
		tmp.Add(tmp, one)
		tmp.Sqrt(tmp)
		tmp.Add(tmp, one)
		x.Quo(x, tmp)
		doublings++
	}
	x2 := new(big.Float).SetPrec(workPrec).Mul(x, x)
	pow := new(big.Float).SetPrec(workPrec).Set(x)
	sum := new(big.Float).SetPrec(workPrec).Set(x)
	lim := x.MantExp(nil) - workPrec - 8
	dir := 0
	for k := int64(1); ; k++ {
		pow.Mul(pow, x2)
		pow.Neg(pow)
		tmp.Quo(pow, tmp.SetInt64(2*k+1))
		if tmp.MantExp(nil) < lim {
			dir = tmp.Sign()
			break
		}
		sum.Add(sum, tmp)
	}
	sum.SetMantExp(sum, doublings)
	if inv {
		h := new(big.Float).SetPrec(workPrec).SetMantExp(bigPi, -1)
		sum.Sub(h, sum)
		dir = -dir
	}
	return approx{sum, dir}
}

// Atan2 is FPATAN: the angle of the point (x, y), atan(y/x) in the right quadrant, with
// the SDM's table of results for zeros and infinities.
func Atan2(y, x F80, cw uint16) (F80, uint16) {
	consts.Do(initConsts)
	cy, cx := y.Class(), x.Class()
	if r, f, ok := nanResult(y, x, cy, cx); ok {
		return r, f
	}
	flags := denormalFlag(cy, cx)
	yneg, xneg := y.Neg(), x.Neg()
	// Angles as multiples of pi/4: the special cases give 0, pi/4, pi/2, 3pi/4, pi.
	var quarters int64 = -1
	switch {
	case cy == Zero:
		if xneg {
			quarters = 4
		} else {
			quarters = 0
		}
	case cy == Infinity && cx == Infinity:
		if xneg {
			quarters = 3
		} else {
			quarters = 1
		}
	case cy == Infinity || cx == Zero:
		quarters = 2
	case cx == Infinity:
		if xneg {
			quarters = 4
		} else {
			quarters = 0
		}
	}
	if quarters >= 0 {
		if quarters == 0 {
			return zero(yneg), flags
		}
		v := new(big.Float).SetPrec(workPrec).Mul(bigPi, new(big.Float).SetInt64(quarters))
		v.SetMantExp(v, -2)
		a := approx{v, 0}
		if yneg {
			a = a.neg()
		}
		r, f := a.round(cw)
		return r, f | flags
	}
	by, bx := bigOf(y), bigOf(x)
	by.Abs(by)
	bx.Abs(bx)
	t := new(big.Float).SetPrec(workPrec).Quo(by, bx)
	a := atanBig(t)
	if xneg {
		a = approx{a.v.Sub(new(big.Float).SetPrec(workPrec).Set(bigPi), a.v), -a.dir}
	}
	if yneg {
		a = a.neg()
	}
	r, f := a.round(cw)
	return r, f | flags
}

// log2Big returns log2(x) for x > 0, and whether it is exact (x a power of two).
func log2Big(x *big.Float) (*big.Float, bool) {
	consts.Do(initConsts)
	m := new(big.Float).SetPrec(workPrec)
	e := x.MantExp(m) // x = m * 2^e, m in [0.5, 1)
	if m.Cmp(big.NewFloat(0.5)) == 0 {
		return new(big.Float).SetPrec(workPrec).SetInt64(int64(e - 1)), true
	}
	// Bring m into [1/sqrt2, sqrt2).
	if m.Cmp(big.NewFloat(0.70710678118654752)) < 0 {
		m.SetMantExp(m, 1)
		e--
	}
	one := new(big.Float).SetPrec(workPrec).SetInt64(1)
	num := new(big.Float).SetPrec(workPrec).Sub(m, one)
	den := new(big.Float).SetPrec(workPrec).Add(m, one)
	z := num.Quo(num, den)
	l := atanhSeries(z) // ln(m) / 2
	l.SetMantExp(l, 1)
	l.Quo(l, bigLn2)
	return l.Add(l, new(big.Float).SetPrec(workPrec).SetInt64(int64(e))), false
}

// atanhSeries returns atanh(z) for |z| < 0.2.
func atanhSeries(z *big.Float) *big.Float {
	if z.Sign() == 0 {
		return new(big.Float).SetPrec(workPrec)
	}
	z2 := new(big.Float).SetPrec(workPrec).Mul(z, z)
	pow := new(big.Float).SetPrec(workPrec).Set(z)
	sum := new(big.Float).SetPrec(workPrec).Set(z)
	tmp := new(big.Float).SetPrec(workPrec)
	lim := z.MantExp(nil) - workPrec - 8
	for k := int64(1); ; k++ {
		pow.Mul(pow, z2)
		tmp.Quo(pow, tmp.SetInt64(2*k+1))
		if tmp.Sign() == 0 || tmp.MantExp(nil) < lim {
			return sum
		}
		sum.Add(sum, tmp)
	}
}

// Yl2x is FYL2X: y * log2(x).
func Yl2x(y, x F80, cw uint16) (F80, uint16) {
	cy, cx := y.Class(), x.Class()
	if r, f, ok := nanResult(y, x, cy, cx); ok {
		return r, f
	}
	flags := denormalFlag(cy, cx)
	switch {
	case x.Neg() && cx != Zero:
		return Indefinite, IE | flags
	case cx == Zero:
		if cy == Zero {
			return Indefinite, IE | flags
		}
		if cy == Infinity {
			return inf(!y.Neg()), flags
		}
		return inf(!y.Neg()), ZE | flags
	case cx == Infinity:
		if cy == Zero {
			return Indefinite, IE | flags
		}
		return inf(y.Neg()), flags
	}
	l, exact := log2Big(bigOf(x))
	lsign := l.Sign()
	switch {
	case cy == Infinity:
		if lsign == 0 {
			return Indefinite, IE | flags
		}
		return inf(y.Neg() != (lsign < 0)), flags
	case cy == Zero || lsign == 0:
		return zero(y.Neg() != (lsign < 0 || (lsign == 0 && l.Signbit()))), flags
	}
	v := l.Mul(l, bigOf(y))
	var r F80
	var f uint16
	if exact {
		// x is a power of two: the logarithm is exact; the host raises PE all the same.
		r, f = exactAsInexact(v, cw)
	} else {
		r, f = approx{v, 0}.round(cw)
	}
	return r, f | flags
}

// Yl2xp1 is FYL2XP1: y * log2(x + 1). The SDM defines it for |x| < 1 - sqrt(2)/2; the
// host computes it for every x > -1 and returns x itself (with PE) for x <= -1.
func Yl2xp1(y, x F80, cw uint16) (F80, uint16) {
	consts.Do(initConsts)
	cy, cx := y.Class(), x.Class()
	if r, f, ok := nanResult(y, x, cy, cx); ok {
		return r, f
	}
	flags := denormalFlag(cy, cx)
	switch {
	case cx == Infinity && x.Neg():
		return Indefinite, IE | flags
	case cx == Infinity:
		if cy == Zero {
			return Indefinite, IE | flags
		}
		return inf(y.Neg()), flags
	case cy == Infinity:
		if cx == Zero {
			return Indefinite, IE | flags
		}
		return inf(y.Neg() != x.Neg()), flags
	case cx == Zero || cy == Zero:
		return zero(y.Neg() != x.Neg()), flags
	}
	bx := bigOf(x)
	one := new(big.Float).SetPrec(workPrec).SetInt64(1)
	if x.Neg() && bx.Cmp(new(big.Float).Neg(one)) <= 0 {
		return x, PE | flags
	}
	var l *big.Float
	exact := false
	if bx.MantExp(nil) <= -2 { // |x| < 0.25: log2(1+x) = 2 atanh(x / (2 + x)) / ln 2
		den := new(big.Float).SetPrec(workPrec).Add(bx, one)
		den.Add(den, one)
		z := new(big.Float).SetPrec(workPrec).Quo(bx, den)
		l = atanhSeries(z)
		l.SetMantExp(l, 1)
		l.Quo(l, bigLn2)
	} else {
		s := new(big.Float).SetPrec(4*workPrec).Add(bx, one)
		l, exact = log2Big(s)
	}
	v := l.Mul(l, bigOf(y))
	var r F80
	var f uint16
	if exact {
		r, f = exactAsInexact(v, cw)
	} else {
		r, f = approx{v, 0}.round(cw)
	}
	return r, f | flags
}

// F2xm1 is F2XM1: 2^x - 1. The SDM defines it for -1 <= x <= 1; the host returns x itself
// (with PE) for |x| > 1, and raises PE even for the exact results at x = 1 and x = -1.
func F2xm1(a F80, cw uint16) (F80, uint16) {
	consts.Do(initConsts)
	ca := a.Class()
	if r, f, ok := nanResult1(a, ca); ok {
		return r, f
	}
	switch ca {
	case Zero:
		return a, 0
	case Infinity:
		if a.Neg() {
			return withSign(One, true), 0
		}
		return a, 0
	}
	flags := denormalFlag(ca, ca)
	x := unpack(a)
	if x.exp > 0 || (x.exp == 0 && x.mant != intBit) {
		return a, PE | flags
	}
	if x.exp == 0 { // 2^1 - 1 = 1, 2^-1 - 1 = -0.5, exactly
		if x.neg {
			return F80{Mant: intBit, SE: signBit | (bias - 1)}, PE | flags
		}
		return One, PE | flags
	}
	t := new(big.Float).SetPrec(workPrec).Mul(bigOf(a), bigLn2)
	r, f := approx{expm1Big(t), 0}.round(cw)
	return r, f | flags
}

// expm1Big returns e^t - 1.
func expm1Big(t *big.Float) *big.Float {
	// Halve t until it is small, sum the series, then double back with
	// expm1(2u) = expm1(u) * (expm1(u) + 2).
	u := new(big.Float).SetPrec(workPrec).Set(t)
	n := 0
	for u.MantExp(nil) > -8 {
		u.SetMantExp(u, -1)
		n++
	}
	term := new(big.Float).SetPrec(workPrec).Set(u)
	sum := new(big.Float).SetPrec(workPrec).Set(u)
	d := new(big.Float).SetPrec(workPrec)
	lim := u.MantExp(nil) - workPrec - 8
	for k := int64(2); ; k++ {
		term.Mul(term, u)
		term.Quo(term, d.SetInt64(k))
		if term.Sign() == 0 || term.MantExp(nil) < lim {
			break
		}
		sum.Add(sum, term)
	}
	two := new(big.Float).SetPrec(workPrec).SetInt64(2)
	for ; n > 0; n-- {
		d.Add(sum, two)
		sum.Mul(sum, d)
	}
	return sum
}
