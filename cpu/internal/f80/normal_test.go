package f80

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The Normal entry points agree with the general ones, value and status bits, for normal
// operands of every magnitude (results that overflow and underflow included) under every
// precision, rounding mode and mask setting.
func TestNormalMatchesGeneral(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 80))
	normal := func() F80 {
		var e uint16
		switch r.IntN(4) {
		case 0:
			e = uint16(1 + r.IntN(200)) // near the bottom
		case 1:
			e = uint16(maxExp - 1 - r.IntN(200)) // near the top
		case 2:
			e = uint16(bias - 70 + r.IntN(140))
		default:
			e = uint16(1 + r.IntN(maxExp-1))
		}
		m := intBit | r.Uint64()
		if r.IntN(4) == 0 {
			m &^= 1<<r.IntN(64) - 1 // short significands: exact results, ties
		}
		return F80{Mant: m, SE: e | uint16(r.IntN(2))<<15}
	}
	type pair struct {
		name          string
		general, fast func(a, b F80, cw uint16) (F80, uint16)
	}
	sqrt := func(_, b F80, cw uint16) (F80, uint16) { return Sqrt(b.Abs(), cw) }
	sqrtN := func(_, b F80, cw uint16) (F80, uint16) { return SqrtNormal(b.Abs(), cw) }
	for _, p := range []pair{{"add", Add, AddNormal}, {"sub", Sub, SubNormal}, {"mul", Mul, MulNormal},
		{"div", Div, DivNormal}, {"sqrt", sqrt, sqrtN}} {
		for i := 0; i < 50000; i++ {
			a, b := normal(), normal()
			if r.IntN(8) == 0 {
				b = a // x - x, x / x
			}
			require.True(t, a.IsNormal() && b.IsNormal())
			cw := uint16(r.IntN(0x1000)) & 0x0f3f
			wv, wf := p.general(a, b, cw)
			gv, gf := p.fast(a, b, cw)
			require.Equal(t, wv, gv, "%s %#v %#v cw %#x", p.name, a, b, cw)
			require.Equal(t, wf, gf, "%s %#v %#v cw %#x", p.name, a, b, cw)
		}
	}
	for _, v := range []F80{{}, {SE: signBit}, {Mant: 1}, {Mant: intBit}, PosInf, Indefinite, {Mant: 1 << 62, SE: bias}, {Mant: intBit, SE: maxExp - 1}} {
		require.Equal(t, v.Class() == Normal, v.IsNormal(), "%#v", v)
	}
}
