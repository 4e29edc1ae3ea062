package f80

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Rules of the SDM (Vol. 1, 4.8 and 8.2-8.5), one row per rule. The exhaustive check is
// the differential test against the host CPU in package cpu; these rows name the rules.

const masked = 0x037f // every exception masked, 64-bit precision, round to nearest (FNINIT)

func f(se uint16, m uint64) F80 { return F80{Mant: m, SE: se} }

func TestArithmeticRules(t *testing.T) {
	one, two, three := f(0x3fff, 1<<63), f(0x4000, 1<<63), f(0x4000, 3<<62)
	third64 := f(0x3ffd, 0xaaaaaaaaaaaaaaab)
	for _, tc := range []struct {
		name  string
		op    func(a, b F80, cw uint16) (F80, uint16)
		a, b  F80
		cw    uint16
		want  F80
		flags uint16
	}{
		{"1/3 rounds to nearest at 64 bits, up (C1)", Div, one, three, masked&^PCMask | PC64, third64, PE | C1},
		{"1/3 chopped at 64 bits", Div, one, three, masked&^PCMask | PC64 | RCChop, f(0x3ffd, 0xaaaaaaaaaaaaaaaa), PE},
		{"1/3 rounded to 24 bits (PC) keeps the extended exponent", Div, one, three, masked&^PCMask | PC24, f(0x3ffd, 0xaaaaab0000000000), PE | C1},
		{"1/3 rounded to 53 bits", Div, one, three, masked&^PCMask | PC53, f(0x3ffd, 0xaaaaaaaaaaaaa800), PE},
		{"-1/3 rounded down is larger in magnitude", Div, one.Chs(), three, masked&^PCMask | RCDown | PC64, third64.Chs(), PE | C1},
		{"tie to even at 24 bits: 1 + 2^-24 rounds to 1", Add, one, f(0x3fff-24, 1<<63), masked&^PCMask | PC24, one, PE},
		{"tie to even at 24 bits: 1 + 3*2^-24 rounds up", Add, one, f(0x3fff-23, 3<<62), masked&^PCMask | PC24, f(0x3fff, 1<<63|1<<41), PE | C1},
		{"x - x is +0 in round to nearest", Sub, two, two, masked, F80{}, 0},
		{"x - x is -0 in round down", Sub, two, two, masked | RCDown, NegZero, 0},
		{"inf - inf is invalid: real indefinite", Sub, PosInf, PosInf, masked, Indefinite, IE},
		{"0 * inf is invalid", Mul, F80{}, PosInf, masked, Indefinite, IE},
		{"x / 0 is a zero divide: infinity with the xor of the signs", Div, two.Chs(), F80{}, masked, NegInf, ZE},
		{"0 / 0 is invalid, not a zero divide", Div, F80{}, F80{}, masked, Indefinite, IE},
		{"masked overflow rounds to infinity to nearest", Mul, f(0x7ffe, 1<<63), two, masked, PosInf, OE | PE | C1},
		{"masked overflow chops to the largest value", Mul, f(0x7ffe, 1<<63), two, masked | RCChop, f(0x7ffe, ^uint64(0)), OE | PE},
		{"masked overflow at 24 bits: the largest 24-bit value", Mul, f(0x7ffe, 1<<63), two, masked&^PCMask | RCChop | PC24, f(0x7ffe, 0xffffff0000000000), OE | PE},
		{"unmasked overflow divides the exponent by 2^24576", Mul, f(0x7ffe, 1<<63), two, masked &^ OE, f(0x7fff-24576, 1<<63), OE},
		{"exact tiny result: denormal, no underflow when masked", Mul, f(0x0001, 1<<63), f(0x3ffe, 1<<63), masked, f(0, 1<<62), 0},
		{"inexact tiny result: underflow and precision", Div, f(0x0001, 1<<63|1), two, masked, f(0, 1<<62), UE | PE},
		{"unmasked underflow multiplies the exponent by 2^24576, even exact", Mul, f(0x0001, 1<<63), f(0x3ffe, 1<<63), masked &^ UE, f(24576, 1<<63), UE},
		{"denormal operand: DE, computed", Add, f(0, 1), f(0, 1), masked, f(0, 2), DE},
		{"pseudo-denormal operand is a denormal", Add, f(0, 1<<63), F80{}, masked, f(0x0001, 1<<63), DE},
		{"unnormal operand is invalid", Add, f(0x4000, 1<<62), one, masked, Indefinite, IE},
		{"pseudo-NaN operand is invalid", Add, f(0x7fff, 1<<62), one, masked, Indefinite, IE},
		{"SNaN is quieted and raises IE", Add, f(0x7fff, 1<<63|5), one, masked, f(0x7fff, 3<<62|5), IE},
		{"two QNaNs: the larger significand", Add, f(0x7fff, 3<<62|1), f(0xffff, 3<<62|2), masked, f(0xffff, 3<<62|2), 0},
		{"SNaN and QNaN: the QNaN", Add, f(0x7fff, 1<<63|9), f(0xffff, 3<<62|2), masked, f(0xffff, 3<<62|2), IE},
		{"a NaN wins over a zero divide", Div, f(0x7fff, 3<<62), F80{}, masked, f(0x7fff, 3<<62), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, fl := tc.op(tc.a, tc.b, tc.cw)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.flags, fl&(Exceptions|C1))
		})
	}
}

func TestSqrtRemRoundRules(t *testing.T) {
	two := f(0x4000, 1<<63)
	r, fl := Sqrt(f(0x4001, 1<<63), masked) // sqrt 4
	assert.Equal(t, two, r, "sqrt 4 = 2 exactly")
	assert.Zero(t, fl&Exceptions)
	r, fl = Sqrt(two, masked)
	assert.Equal(t, f(0x3fff, 0xb504f333f9de6484), r, "sqrt 2 rounded to nearest (down: the next bits are 0x59...)")
	assert.Equal(t, PE, fl&(Exceptions|C1))
	r, fl = Sqrt(NegZero, masked)
	assert.Equal(t, NegZero, r, "sqrt -0 = -0")
	_, fl = Sqrt(f(0xbfff, 1<<63), masked)
	assert.Equal(t, IE, fl&Exceptions, "sqrt of a negative number is invalid")

	// FPREM: 7 rem 2 = 1, quotient 3 (C3 = Q1, C1 = Q0); FPREM1: 7 rem 2 = -1, quotient 4 (C0).
	seven := FromInt64(7)
	r, fl, _ = Rem(seven, two, false, masked)
	assert.Equal(t, FromInt64(1), r)
	assert.Equal(t, C3|C1, fl&(C0|C1|C2|C3))
	r, fl, _ = Rem(seven, two, true, masked)
	assert.Equal(t, FromInt64(-1), r)
	assert.Equal(t, C0, fl&(C0|C1|C2|C3))
	// An exponent difference of 64 or more reduces only partly (C2).
	_, fl, _ = Rem(f(0x3fff+100, 0xc000000000000001), f(0x3fff, 0xa000000000000000), false, masked)
	assert.Equal(t, C2, fl&C2)

	for _, tc := range []struct {
		rc   uint16
		in   float64
		want int64
	}{
		{RCNearest, 2.5, 2}, {RCNearest, 3.5, 4}, {RCNearest, -2.5, -2}, {RCDown, -2.1, -3},
		{RCUp, 2.1, 3}, {RCChop, -2.9, -2}, {RCNearest, 0.5, 0}, {RCUp, 0.1, 1},
	} {
		x, _ := FromFloat64(math.Float64bits(tc.in))
		r, _ := RoundInt(x, masked|tc.rc)
		assert.Equal(t, FromInt64(tc.want), r, "frndint %v in mode %#x", tc.in, tc.rc)
		v, _ := ToInt(x, 4, masked|tc.rc, false)
		assert.Equal(t, uint64(uint32(tc.want)), v, "fist %v in mode %#x", tc.in, tc.rc)
	}
	v, fl := ToInt(FromInt64(40000), 2, masked, false)
	assert.Equal(t, uint64(0x8000), v, "out of range: the integer indefinite")
	assert.Equal(t, IE, fl&Exceptions)
	v, _ = ToInt(f(0x4000, 0xb000000000000000), 4, masked, true)
	assert.Equal(t, uint64(2), v, "fisttp truncates 2.75")
}

func TestConversionRules(t *testing.T) {
	x, fl := FromFloat32(1) // the smallest single denormal, normalized exactly
	assert.Equal(t, f(0x3fff-149, 1<<63), x)
	assert.Equal(t, DE, fl)
	x, fl = FromFloat64(0x7ff0000000000001) // an SNaN
	assert.Equal(t, f(0x7fff, 3<<62|1<<11), x, "quieted, payload kept")
	assert.Equal(t, IE, fl)
	s, fl := ToFloat32(f(0x3ffe, 0xffffff8000000000), masked) // 1 - 2^-25: rounds up to 1.0
	assert.Equal(t, uint32(0x3f800000), s)
	assert.Equal(t, PE|C1, fl&(Exceptions|C1))
	s, fl = ToFloat32(f(0x3fff+128, 1<<63), masked|RCChop)
	assert.Equal(t, uint32(0x7f7fffff), s, "single overflow chopped: the largest single")
	assert.Equal(t, OE|PE, fl&Exceptions)
	d, fl := ToFloat64(f(0x3fff-1074, 1<<63), masked)
	assert.Equal(t, uint64(1), d, "2^-1074 is the smallest double denormal, exact")
	assert.Zero(t, fl&Exceptions)
	d, fl = ToFloat64(f(0x3fff-1075, 1<<63), masked)
	assert.Equal(t, uint64(0), d, "2^-1075 is a tie: to even, zero")
	assert.Equal(t, UE|PE, fl&Exceptions)
	b, _ := ToBCD(FromInt64(-1234), masked)
	assert.Equal(t, [10]byte{0x34, 0x12, 9: 0x80}, b)
	assert.Equal(t, FromInt64(-1234), FromBCD(b))
	b, fl = ToBCD(FromInt64(1e18), masked)
	assert.Equal(t, BCDIndefinite, b)
	assert.Equal(t, IE, fl)
}

func TestCompareAndExamine(t *testing.T) {
	one := f(0x3fff, 1<<63)
	rel, fl := Compare(F80{}, NegZero, true)
	assert.Equal(t, Equal, rel, "+0 = -0")
	assert.Zero(t, fl)
	rel, fl = Compare(one, f(0x7fff, 3<<62), false)
	assert.Equal(t, Unordered, rel)
	assert.Zero(t, fl, "FUCOM: a QNaN is not invalid")
	_, fl = Compare(one, f(0x7fff, 3<<62), true)
	assert.Equal(t, IE, fl, "FCOM: a QNaN is invalid")
	rel, _ = Compare(NegInf, one, true)
	assert.Equal(t, Less, rel)
	assert.Equal(t, C2|C1, Examine(one.Chs()), "FXAM: negative normal")
	assert.Equal(t, C3|C2, Examine(f(0, 1)), "FXAM: denormal")
	assert.Equal(t, uint16(0), Examine(f(0x4000, 1)), "FXAM: unsupported")
}

func TestTranscendentalRules(t *testing.T) {
	pi := Const(3, masked)
	assert.Equal(t, f(0x4000, 0xc90fdaa22168c235), pi, "FLDPI rounded to nearest")
	assert.Equal(t, f(0x4000, 0xc90fdaa22168c234), Const(3, masked|RCDown), "FLDPI rounded down")
	assert.Equal(t, f(0x3ffd, 0x9a209a84fbcff799), Const(4, masked), "FLDLG2")
	// fsin(pi64) = -(pi64 - pi66) = -2^-64: the reduction uses the FPU's 66-bit pi.
	r, fl := Sin(pi, masked)
	assert.Equal(t, f(0xbfbf, 1<<63), r)
	assert.Equal(t, PE, fl&Exceptions)
	r, fl = Sin(f(0x3fff+63, 1<<63), masked)
	assert.Equal(t, C2, fl&C2, "|x| >= 2^63 is out of range: C2, operand unchanged")
	assert.Equal(t, f(0x3fff+63, 1<<63), r)
	r, _ = Cos(F80{}, masked)
	assert.Equal(t, f(0x3fff, 1<<63), r)
	r, fl = Atan2(F80{}, NegZero, masked)
	assert.Equal(t, pi, r, "fpatan(+0, -0) = +pi")
	r, fl = Yl2x(f(0x3fff, 1<<63), f(0x4002, 1<<63), masked) // 1 * log2 8
	assert.Equal(t, f(0x4000, 3<<62), r)
	r, fl = Yl2x(f(0x3fff, 1<<63), F80{}, masked)
	assert.Equal(t, NegInf, r, "log2 0 = -inf with a zero divide")
	assert.Equal(t, ZE, fl&Exceptions)
	r, _ = F2xm1(f(0xbfff, 1<<63), masked)
	assert.Equal(t, f(0xbffe, 1<<63), r, "2^-1 - 1 = -0.5")
	// sin x for a tiny x: the result is x, below it in magnitude when rounding toward zero.
	r, fl = Sin(f(0x3f00, 1<<63), masked|RCChop)
	assert.Equal(t, f(0x3eff, ^uint64(0)), r)
	assert.Equal(t, PE, fl&(Exceptions|C1))
}

// isqrt128 agrees with the bit-by-bit square root on random and boundary inputs.
func TestIsqrt128(t *testing.T) {
	slow := func(hi, lo uint64) uint64 {
		var root uint64
		for bit := 63; bit >= 0; bit-- {
			c := root | 1<<uint(bit)
			ph, pl := bits.Mul64(c, c)
			if ph < hi || (ph == hi && pl <= lo) {
				root = c
			}
		}
		return root
	}
	r := rand.New(rand.NewPCG(1, 2))
	cases := [][2]uint64{{1 << 62, 0}, {^uint64(0), ^uint64(0)}, {1 << 63, 0}, {(1 << 62) + 1, 5}}
	for _, m := range []uint64{1 << 63, ^uint64(0), 0xb504f333f9de6484, 0xb504f333f9de6485} {
		h, l := bits.Mul64(m, m)
		cases = append(cases, [2]uint64{h, l})
		l2, b := bits.Sub64(l, 1, 0)
		cases = append(cases, [2]uint64{h - b, l2})
	}
	for i := 0; i < 20000; i++ {
		cases = append(cases, [2]uint64{r.Uint64() | 1<<62, r.Uint64()})
	}
	for _, c := range cases {
		if c[0] < 1<<62 {
			continue
		}
		got, remHi, remLo := isqrt128(c[0], c[1])
		if want := slow(c[0], c[1]); got != want {
			t.Fatalf("isqrt128(%#x:%#x) = %#x, want %#x", c[0], c[1], got, want)
		}
		ph, pl := bits.Mul64(got, got)
		wl, b := bits.Sub64(c[1], pl, 0)
		wh, _ := bits.Sub64(c[0], ph, b)
		if remHi != wh || remLo != wl {
			t.Fatalf("isqrt128(%#x:%#x) remainder %#x:%#x, want %#x:%#x", c[0], c[1], remHi, remLo, wh, wl)
		}
	}
}

// BenchmarkSqrt reports the cost of an extended-precision square root (FSQRT's).
func BenchmarkSqrt(b *testing.B) {
	x := F80{Mant: 0xc90fdaa22168c235, SE: 0x4000} // pi
	for i := 0; i < b.N; i++ {
		r, _ := Sqrt(x, 0x37f)
		x.Mant ^= r.Mant & 0xff
	}
}

// BenchmarkTranscendental reports the cost of the big-float transcendentals.
func BenchmarkTranscendental(b *testing.B) {
	x := F80{Mant: 0xc90fdaa22168c235, SE: 0x3fff + 3} // about 12.6
	y := F80{Mant: 0xb504f333f9de6484, SE: 0x3ffe}
	cw := uint16(masked)
	b.Run("fsin", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Sin(x, cw)
		}
	})
	b.Run("fpatan", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Atan2(y, x, cw)
		}
	})
	b.Run("fyl2x", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Yl2x(y, x, cw)
		}
	})
	b.Run("f2xm1", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			F2xm1(y, cw)
		}
	})
}

// round's written-out path (64-bit precision, round to nearest) gives what roundTo gives,
// bit for bit and flag for flag: ties, carries out of the significand, and exponents at
// both ends of the range (where it must step aside) included.
func TestRoundFastPathMatchesRoundTo(t *testing.T) {
	r := rand.New(rand.NewPCG(80, 1))
	exps := []int32{-bias - 70, -bias - 1, -bias, -bias + 1, -bias + 2, -1, 0, 1, 100,
		maxExp - bias - 2, maxExp - bias - 1, maxExp - bias, maxExp - bias + 1}
	los := []uint64{0, 1, 1 << 63, 1<<63 | 1, 1<<63 - 1, ^uint64(0)}
	for i := 0; i < 200000; i++ {
		exp := exps[r.IntN(len(exps))]
		if r.IntN(2) == 0 {
			exp = int32(r.IntN(2*maxExp)) - maxExp
		}
		hi := r.Uint64() | intBit
		if r.IntN(4) == 0 {
			hi = ^uint64(0) - uint64(r.IntN(2)) // rounding up carries out
		}
		lo := r.Uint64()
		if r.IntN(2) == 0 {
			lo = los[r.IntN(len(los))]
		}
		cw := PC64 | RCNearest | uint16(r.IntN(64)) // any exception masks
		neg := r.IntN(2) == 0
		want, wf := roundTo(neg, exp, hi, lo, extFormat, cw).pack80()
		got, gf := round(neg, exp, hi, lo, cw)
		require.Equal(t, want, got, "neg %v exp %d hi %#x lo %#x cw %#x", neg, exp, hi, lo, cw)
		require.Equal(t, wf, gf, "flags: neg %v exp %d hi %#x lo %#x cw %#x", neg, exp, hi, lo, cw)
	}
}
