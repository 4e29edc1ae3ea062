package cpu

import (
	"encoding/binary"
	"math"
	"math/big"
	"sync"

	"github.com/vmemu/vmemu/cpu/internal/f80"
)

// An independent reference for the x87 transcendental instructions: the exact value of
// each result at refPrec bits, computed here with methods of its own (pi by Gauss-Legendre;
// sin, cos and exp by Taylor series; atan and the logarithms by Newton's method on them,
// from a float64 start), then rounded once to the extended format in the control word's
// rounding mode. The emulator claims correctly rounded results (cpu/internal/f80), after
// the hardware's own argument reduction for FSIN, FCOS, FSINCOS and FPTAN (x - k*pi66/2,
// with pi rounded to 66 bits, SDM Vol. 1 8.3.10), which is part of what the instruction
// computes: so the reference reduces the same way and must agree bit for bit, C1 included.
// It shares no code with cpu/internal/f80.

const refPrec = 320

var refConsts = sync.OnceValues(func() (pi, pi66half *big.Float) {
	// Gauss-Legendre: a0 = 1, b0 = 1/sqrt2, t0 = 1/4, p0 = 1; pi = (a+b)^2 / 4t.
	p := uint(refPrec + 64)
	a := big.NewFloat(1).SetPrec(p)
	b := new(big.Float).SetPrec(p).Sqrt(big.NewFloat(0.5).SetPrec(p))
	t := big.NewFloat(0.25).SetPrec(p)
	pw := big.NewFloat(1).SetPrec(p)
	for i := 0; i < 12; i++ {
		an := new(big.Float).SetPrec(p).Add(a, b)
		an.Quo(an, big.NewFloat(2))
		bn := new(big.Float).SetPrec(p).Mul(a, b)
		bn.Sqrt(bn)
		d := new(big.Float).SetPrec(p).Sub(a, an)
		d.Mul(d, d)
		d.Mul(d, pw)
		t.Sub(t, d)
		pw.Mul(pw, big.NewFloat(2))
		a, b = an, bn
	}
	pi = new(big.Float).SetPrec(p).Add(a, b)
	pi.Mul(pi, pi)
	pi.Quo(pi, new(big.Float).SetPrec(p).Mul(t, big.NewFloat(4)))
	pi66 := new(big.Float).SetPrec(66).SetMode(big.ToNearestEven).Set(pi)
	pi66half = new(big.Float).SetPrec(p).Quo(pi66, big.NewFloat(2))
	return pi, pi66half
})

func newRef() *big.Float { return new(big.Float).SetPrec(refPrec) }

// refExpm1 is e^z - 1 for |z| <= 1 (Taylor, relative precision kept for tiny z).
func refExpm1(z *big.Float) *big.Float {
	sum, term := newRef(), newRef().Set(z)
	for k := int64(2); term.Sign() != 0; k++ {
		sum.Add(sum, term)
		term.Mul(term, z)
		term.Quo(term, big.NewFloat(float64(k)))
		if term.MantExp(nil) < sum.MantExp(nil)-refPrec-8 {
			break
		}
	}
	return sum
}

// refExp is e^z for any z: e^(z/2^n) squared n times.
func refExp(z *big.Float) *big.Float {
	n := max(0, z.MantExp(nil)+4)
	s := newRef().SetMantExp(z, -n)
	r := refExpm1(s)
	r.Add(r, big.NewFloat(1))
	for ; n > 0; n-- {
		r.Mul(r, r)
	}
	return r
}

// refSinCos returns sin r and cos r for |r| <= 1 by their Taylor series, at refPrec bits
// more than 2|log2 r|: cos of a tiny r is 1 - r^2/2, whose distance from 1 decides how a
// directed rounding goes.
func refSinCos(r *big.Float) (s, c *big.Float) {
	p := uint(refPrec + 2*max(0, -r.MantExp(nil)))
	s, c = new(big.Float).SetPrec(p), new(big.Float).SetPrec(p)
	r2 := new(big.Float).SetPrec(p).Mul(r, r)
	term := new(big.Float).SetPrec(p).Set(r) // r^(2k+1)/(2k+1)!
	for k := int64(0); term.Sign() != 0 && (s.Sign() == 0 || term.MantExp(nil) >= s.MantExp(nil)-int(p)-8); k++ {
		if k&1 == 0 {
			s.Add(s, term)
		} else {
			s.Sub(s, term)
		}
		term.Mul(term, r2)
		term.Quo(term, big.NewFloat(float64((2*k+2)*(2*k+3))))
	}
	term = big.NewFloat(1).SetPrec(p) // r^(2k)/(2k)!
	for k := int64(0); term.Sign() != 0 && term.MantExp(nil) >= -int(p)-8; k++ {
		if k&1 == 0 {
			c.Add(c, term)
		} else {
			c.Sub(c, term)
		}
		term.Mul(term, r2)
		term.Quo(term, big.NewFloat(float64((2*k+1)*(2*k+2))))
	}
	return s, c
}

// refTrig returns sin x and cos x as the FPU defines them: x = k*pi66/2 + r exactly (k
// nearest), then the quadrant k mod 4 applied to sin r and cos r.
func refTrig(x *big.Float) (sin, cos *big.Float) {
	_, half := refConsts()
	p := uint(4 * refPrec)
	q := new(big.Float).SetPrec(p).Quo(x, half)
	if q.Signbit() {
		q.Sub(q, big.NewFloat(0.5))
	} else {
		q.Add(q, big.NewFloat(0.5))
	}
	k, _ := q.Int(nil)
	r := new(big.Float).SetPrec(p).SetInt(k)
	r.Mul(r, half)
	r.Sub(new(big.Float).SetPrec(p).Set(x), r)
	s, c := refSinCos(r)
	switch new(big.Int).And(k, big.NewInt(3)).Int64() {
	case 1:
		s, c = c, s.Neg(s)
	case 2:
		s, c = s.Neg(s), c.Neg(c)
	case 3:
		s, c = c.Neg(c), s
	}
	return s, c
}

// refAtan is atan t by Newton's method on sin and cos (or its series when t is tiny or
// huge), in (-pi/2, pi/2).
func refAtan(t *big.Float) *big.Float {
	pi, _ := refConsts()
	neg := t.Signbit()
	a := newRef().Abs(t)
	inv := a.Cmp(big.NewFloat(1)) > 0
	if inv {
		a.Quo(big.NewFloat(1), a)
	}
	var th *big.Float
	if a.MantExp(nil) < -40 { // atan a = a - a^3/3 + a^5/5 - ...
		th = newRef()
		a2 := newRef().Mul(a, a)
		term := newRef().Set(a)
		for k := int64(0); term.Sign() != 0 && term.MantExp(nil) >= a.MantExp(nil)-refPrec-8; k++ {
			d := newRef().Quo(term, big.NewFloat(float64(2*k+1)))
			if k&1 == 0 {
				th.Add(th, d)
			} else {
				th.Sub(th, d)
			}
			term.Mul(term, a2)
		}
	} else {
		f, _ := a.Float64()
		th = newRef().SetFloat64(math.Atan(f))
		for i := 0; i < 4; i++ { // th -= (sin th - a cos th) / (cos th + a sin th)
			s, c := refSinCos(th)
			num := newRef().Mul(a, c)
			num.Sub(s, num)
			den := newRef().Mul(a, s)
			den.Add(c, den)
			th.Sub(th, num.Quo(num, den))
		}
	}
	if inv {
		th.Sub(newRef().Quo(pi, big.NewFloat(2)), th)
	}
	if neg {
		th.Neg(th)
	}
	return th
}

// refLog1p is ln(1+x) for x > -1, by Newton's method on expm1 (series for tiny x).
func refLog1p(x *big.Float) *big.Float {
	if x.MantExp(nil) < -40 {
		sum, term := newRef(), newRef().Set(x)
		for k := int64(1); term.Sign() != 0 && term.MantExp(nil) >= x.MantExp(nil)-refPrec-8; k++ {
			d := newRef().Quo(term, big.NewFloat(float64(k)))
			if k&1 == 1 {
				sum.Add(sum, d)
			} else {
				sum.Sub(sum, d)
			}
			term.Mul(term, x)
		}
		return sum
	}
	f, _ := x.Float64()
	y := newRef().SetFloat64(math.Log1p(f))
	for i := 0; i < 4; i++ { // y -= (expm1 y - x) / (expm1 y + 1)
		e := refExpm1OrExp(y)
		num := newRef().Sub(e, x)
		den := newRef().Add(e, big.NewFloat(1))
		y.Sub(y, num.Quo(num, den))
	}
	return y
}

// refExpm1OrExp is e^y - 1 for any y.
func refExpm1OrExp(y *big.Float) *big.Float {
	if y.MantExp(nil) <= 0 {
		return refExpm1(y)
	}
	e := refExp(y)
	return e.Sub(e, big.NewFloat(1))
}

var refLn2 = sync.OnceValue(func() *big.Float { return refLog1p(big.NewFloat(1).SetPrec(refPrec)) })

// refLog2 is log2 x for x > 0: x = m*2^e with m in [1, 2), e + ln(m)/ln 2.
func refLog2(x *big.Float) *big.Float {
	m := newRef()
	e := x.MantExp(m) - 1
	m.SetMantExp(m, 1)
	l := refLog1p(m.Sub(m, big.NewFloat(1)))
	l.Quo(l, refLn2())
	return l.Add(l, big.NewFloat(float64(e)))
}

// bigOfF80 is the exact value of a finite extended value (ok false for NaNs, infinities
// and the encodings the FPU does not take as numbers).
func bigOfF80(v f80.F80) (*big.Float, bool) {
	switch v.Class() {
	case f80.Zero, f80.Normal, f80.Denormal, f80.PseudoDenormal:
	default:
		return nil, false
	}
	exp := int(v.SE & 0x7fff)
	if exp == 0 {
		exp = 1
	}
	r := newRef().SetMantExp(new(big.Float).SetUint64(v.Mant), exp-16383-63)
	if v.SE&0x8000 != 0 {
		r.Neg(r)
	}
	return r, true
}

// roundF80 rounds x once to the extended format in rounding mode rc (the control word's
// bits 11:10), denormal results included, and reports C1: the result's magnitude was
// rounded up. ok is false for results that overflow, and for values too close to a 64-bit
// number for the working precision to say which way they round (left to the host).
func roundF80(x *big.Float, rc uint16) (v f80.F80, c1, ok bool) {
	if x.Sign() == 0 {
		return f80.F80{}, false, false
	}
	neg := x.Signbit()
	mode := [4]big.RoundingMode{big.ToNearestEven, big.ToNegativeInf, big.ToPositiveInf, big.ToZero}[rc&3]
	r := new(big.Float).SetPrec(64).SetMode(mode).Set(x)
	// A value that agrees with a 64-bit number to within what x's precision can tell may be
	// that number exactly (2^1 - 1): the rounding cannot be decided, so it is left to the host.
	if nearlyExact(x) {
		return f80.F80{}, false, false
	}
	mant := new(big.Float)
	e := r.MantExp(mant) - 1 // r = 1.f * 2^e
	if e > 16383 {
		return f80.F80{}, false, false
	}
	var m uint64
	var se uint16
	if e >= -16382 {
		m, _ = new(big.Float).SetMantExp(mant.Abs(mant), 64).Uint64()
		se = uint16(e + 16383)
	} else {
		// Denormal: an integer multiple of 2^-16445, rounded in the mode as the sign says.
		y := new(big.Float).SetPrec(x.Prec()).Abs(x)
		y.SetMantExp(y, 16445)
		n, _ := y.Int(nil)
		frac := new(big.Float).SetPrec(y.Prec()).Sub(y, new(big.Float).SetInt(n))
		up := false
		switch mode {
		case big.ToNearestEven:
			c := frac.Cmp(big.NewFloat(0.5))
			up = c > 0 || c == 0 && n.Bit(0) == 1
		case big.ToNegativeInf:
			up = neg && frac.Sign() != 0
		case big.ToPositiveInf:
			up = !neg && frac.Sign() != 0
		}
		if up {
			n.Add(n, big.NewInt(1))
		}
		m = n.Uint64() // at most 2^63: the smallest normal, whose integer bit says so
		if m>>63 != 0 {
			se = 1
		}
		r = new(big.Float).SetPrec(x.Prec()).SetMantExp(new(big.Float).SetInt(n), -16445)
		if neg {
			r.Neg(r)
		}
	}
	if neg {
		se |= 0x8000
	}
	return f80.F80{Mant: m, SE: se}, new(big.Float).Abs(r).Cmp(new(big.Float).Abs(x)) > 0, true
}

// nearlyExact reports a value that agrees with a 64-bit number to within what its
// precision can tell: it may be that number exactly (2^1 - 1).
func nearlyExact(x *big.Float) bool {
	near := new(big.Float).SetPrec(64).Set(x)
	d := new(big.Float).SetPrec(x.Prec()).Sub(x, near)
	return d.Sign() == 0 || d.MantExp(nil) < x.MantExp(nil)-int(x.Prec())+32
}

// x87Reference computes what a transcendental case must leave in ST(0) and ST(1) (want[i]
// for the registers that hold results, check[i] saying which) and C1, from the input FRSTOR
// image in. ok is false for the cases the reference leaves to the host: special operands
// and overflowing results.
func x87Reference(name string, in []byte) (want [2]f80.F80, check [2]bool, c1 bool, ok bool) {
	want, check, c1, ok, _ = x87ReferenceExact(name, in)
	return
}

// x87ReferenceExact is x87Reference that also reports a result the reference found exact
// (or too close to a 64-bit number to tell).
func x87ReferenceExact(name string, in []byte) (want [2]f80.F80, check [2]bool, c1 bool, ok, exact bool) {
	rc := binary.LittleEndian.Uint16(in) >> 10 & 3
	st0, ok0 := bigOfF80(getF80(in[28:]))
	st1, ok1 := bigOfF80(getF80(in[38:]))
	if !ok0 || st0.Sign() == 0 {
		return want, check, false, false, exact
	}
	one := func(x *big.Float, reg int) (ok bool) {
		if x.Sign() != 0 && nearlyExact(x) {
			exact = true
		}
		want[reg], c1, ok = roundF80(x, rc)
		check[reg] = ok
		return ok
	}
	switch name {
	case "fsin":
		if st0.MantExp(nil) > 63 {
			return want, check, false, false, exact
		}
		s, _ := refTrig(st0)
		ok = one(s, 0)
		return want, check, c1, ok, exact
	case "fcos":
		if st0.MantExp(nil) > 63 {
			return want, check, false, false, exact
		}
		_, c := refTrig(st0)
		ok = one(c, 0)
		return want, check, c1, ok, exact
	case "fsincos": // ST(0) = cos, ST(1) = sin; C1 is the sine's rounding, as the host shows
		if st0.MantExp(nil) > 63 {
			return want, check, false, false, exact
		}
		s, c := refTrig(st0)
		if !one(c, 0) {
			return want, check, false, false, exact
		}
		ok := one(s, 1)
		return want, check, c1, ok, exact
	case "fptan": // ST(0) = 1.0, ST(1) = tan
		if st0.MantExp(nil) > 63 {
			return want, check, false, false, exact
		}
		s, c := refTrig(st0)
		ok = one(s.Quo(s, c), 1)
		return want, check, c1, ok, exact
	case "f2xm1": // 2^x - 1; the SDM defines it for |x| <= 1, this CPU computes it for any x
		if st0.MantExp(nil) > 20 {
			return want, check, false, false, exact
		}
		ok = one(refExpm1OrExp(newRef().Mul(st0, refLn2())), 0)
		return want, check, c1, ok, exact
	case "fpatan": // ST(0) = atan(ST(1) / ST(0)), by quadrant
		if !ok1 || st1.Sign() == 0 {
			return want, check, false, false, exact
		}
		pi, _ := refConsts()
		a := refAtan(newRef().Quo(st1, st0))
		if st0.Sign() < 0 {
			if st1.Sign() > 0 {
				a.Add(a, pi)
			} else {
				a.Sub(a, pi)
			}
		}
		ok = one(a, 0)
		return want, check, c1, ok, exact
	case "fyl2x": // ST(0) = ST(1) * log2 ST(0)
		if !ok1 || st1.Sign() == 0 || st0.Sign() < 0 || st0.Cmp(big.NewFloat(1)) == 0 {
			return want, check, false, false, exact
		}
		ok = one(newRef().Mul(st1, refLog2(st0)), 0)
		return want, check, c1, ok, exact
	case "fyl2xp1": // ST(0) = ST(1) * log2(ST(0) + 1); the SDM defines it for |ST(0)| <
		// 1 - sqrt(2)/2, this CPU computes it for any ST(0) > -1
		if !ok1 || st1.Sign() == 0 || st0.Cmp(big.NewFloat(-1)) <= 0 {
			return want, check, false, false, exact
		}
		l := refLog1p(st0)
		l.Quo(l, refLn2())
		ok = one(l.Mul(l, st1), 0)
		return want, check, c1, ok, exact
	}
	return want, check, false, false, exact
}

// outsideSDMDomain reports an operand for which the SDM leaves the result undefined
// (F2XM1 beyond [-1, 1], FYL2XP1 beyond 1 - sqrt(2)/2): the host's result is then its own.
func outsideSDMDomain(name string, in []byte) bool {
	st0, ok := bigOfF80(getF80(in[28:]))
	if !ok {
		return false
	}
	a := newRef().Abs(st0)
	switch name {
	case "f2xm1":
		return a.Cmp(big.NewFloat(1)) > 0
	case "fyl2xp1":
		return a.Cmp(big.NewFloat(1-math.Sqrt2/2)) >= 0
	}
	return false
}
