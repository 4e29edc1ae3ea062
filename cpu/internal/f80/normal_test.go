package f80

import (
	"math/bits"
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

// divMantTwoDivisions is divMant as it was written first: the quotient to 128 bits from
// two 128/64 divisions.
func divMantTwoDivisions(a, b uint64) (hi, lo uint64, below, sticky bool) {
	var q1 uint64
	r := a
	if a >= b {
		q1, r = 1, a-b
	}
	q2, r := bits.Div64(r, 0, b)
	q3, r := bits.Div64(r, 0, b)
	if q1 == 1 {
		sticky = q3&1 != 0 || r != 0
		return intBit | q2>>1, q2<<63 | q3>>1, false, sticky
	}
	return q2, q3, true, r != 0
}

// divMant's one division gives what rounding reads of the 128-bit quotient: the top 64
// bits, the half below them and whether anything lies below the half.
func TestDivMantOneDivision(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 81))
	for i := 0; i < 200000; i++ {
		a, b := intBit|r.Uint64(), intBit|r.Uint64()
		switch r.IntN(6) {
		case 0:
			b = a
		case 1:
			a &^= 1<<r.IntN(64) - 1
			b &^= 1<<r.IntN(64) - 1
		case 2:
			b = intBit | 1<<r.IntN(63) // quotients with few bits: exact halves
		}
		wh, wl, wb, ws := divMantTwoDivisions(a, b)
		gh, gl, gb, gs := divMant(a, b)
		if ws {
			wl |= 1
		}
		if gs {
			gl |= 1
		}
		require.Equal(t, wh, gh, "%#x / %#x", a, b)
		require.Equal(t, wb, gb, "%#x / %#x", a, b)
		require.Equal(t, wl>>63, gl>>63, "half: %#x / %#x", a, b)
		require.Equal(t, wl<<1 != 0, gl<<1 != 0, "below the half: %#x / %#x", a, b)
	}
}

// isqrt128 without a division agrees with floor(sqrt(n)) and its remainder, checked by
// the definition (r*r + rem = n, rem <= 2r) on perfect squares, their neighbours and
// the ends of the range.
func TestIsqrt128ByDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 82))
	check := func(hi, lo uint64) {
		root, rh, rl := isqrt128(hi, lo)
		ph, pl := bits.Mul64(root, root)
		sl, c := bits.Add64(pl, rl, 0)
		sh, c2 := bits.Add64(ph, rh, c)
		require.Zero(t, c2, "%#x:%#x", hi, lo)
		require.Equal(t, [2]uint64{hi, lo}, [2]uint64{sh, sl}, "root^2 + rem = n: %#x:%#x", hi, lo)
		// rem <= 2*root: else root+1 would fit.
		dh, dl := root>>63, root<<1
		require.True(t, rh < dh || rh == dh && rl <= dl, "rem <= 2 root: %#x:%#x", hi, lo)
	}
	for _, n := range [][2]uint64{{1 << 62, 0}, {^uint64(0), ^uint64(0)}, {1 << 63, 0}, {^uint64(0), 0}, {1<<62 | 1, 0}} {
		check(n[0], n[1])
	}
	for i := 0; i < 500000; i++ {
		hi, lo := r.Uint64()|1<<62, r.Uint64()
		switch r.IntN(4) {
		case 0: // perfect squares and their neighbours
			x := r.Uint64() | 1<<63
			hi, lo = bits.Mul64(x, x)
			d := uint64(r.IntN(5))
			if r.IntN(2) == 0 {
				var b uint64
				lo, b = bits.Sub64(lo, d, 0)
				hi -= b
			} else {
				var c uint64
				lo, c = bits.Add64(lo, d, 0)
				hi += c
			}
		case 1:
			hi |= ^uint64(0) << r.IntN(64)
		}
		if hi < 1<<62 {
			continue
		}
		check(hi, lo)
	}
}

// sqrtFast, when it answers, gives what isqrt128 does (the root's floor, whether its
// fraction is above one half, whether it is nonzero), on random significands, short ones
// (small integers and their roots), perfect squares and their neighbours; and it answers
// nearly always on random significands.
func TestSqrtFastMatchesIsqrt128(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 64))
	refused := 0
	for i := 0; i < 2_000_000; i++ {
		m := r.Uint64() | 1<<63
		switch r.IntN(4) {
		case 0: // a perfect square (for one parity or the other) and its neighbours
			k := r.Uint64()>>32 | 1<<31
			m = k*k + uint64(r.IntN(7)) - 3
			if m < 1<<63 {
				m = k*k<<1 + uint64(r.IntN(7)) - 3
			}
		case 1: // a short significand
			m &= ^uint64(0) << (1 + r.IntN(63))
		}
		even := r.IntN(2) == 0
		nh, nl := m, uint64(0)
		if even {
			nh, nl = m>>1, m<<63
		}
		root, rh, rl := isqrt128(nh, nl)
		var lo uint64
		if rh != 0 || rl > root {
			lo = intBit
		}
		if rh|rl != 0 {
			lo |= 1
		}
		gotRoot, gotLo, ok := sqrtFast(m, even)
		if !ok {
			refused++
			continue
		}
		require.Equal(t, root, gotRoot, "m %#x even %v", m, even)
		require.Equal(t, lo, gotLo, "m %#x even %v", m, even)
	}
	t.Logf("refused %d of 2000000", refused)
	require.Less(t, refused, 2_000_000/2*3/4, "refused more than the exact cases")
	// Random significands: refused about once in 2^31.
	for i := 0; i < 1_000_000; i++ {
		_, _, ok := sqrtFast(r.Uint64()|1<<63, r.IntN(2) == 0)
		require.True(t, ok)
	}
}
