package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// divSoft64 gives the host's correctly rounded quotient (round to nearest even, no FTZ or
// DAZ) for finite nonzero operands, denormal or not, including quotients that underflow to
// denormals or zero, and refuses exactly zeros, infinities, NaNs and overflowing quotients.
func TestDivSoft64MatchesHostDivision(t *testing.T) {
	r := rand.New(rand.NewPCG(64, 13))
	operand := func() uint64 {
		switch r.IntN(4) {
		case 0: // denormal, often with few significant bits
			return uint64(r.IntN(2))<<63 | r.Uint64()&(1<<52-1)>>r.IntN(53)
		case 1:
			return uint64(r.IntN(2))<<63 | uint64(r.IntN(64))
		}
		return hotOperand64(r)
	}
	for i := 0; i < 2_000_000; i++ {
		a, b := operand(), operand()
		x, y := math.Float64frombits(a), math.Float64frombits(b)
		want := math.Float64bits(x / y)
		got, ok := divSoft64(a, b)
		finite := func(v float64) bool { return !math.IsInf(v, 0) && !math.IsNaN(v) && v != 0 }
		wantOK := finite(x) && finite(y) && !math.IsInf(x/y, 0)
		require.Equal(t, wantOK, ok, "%#x / %#x", a, b)
		if ok {
			require.Equal(t, want, got, "%#x / %#x", a, b)
		}
	}
	// The benchmark's case: the smallest denormal divided by 1.5 stays the smallest denormal.
	got, ok := divSoft64(1, math.Float64bits(1.5))
	require.True(t, ok)
	require.Equal(t, uint64(1), got)
}

// looseLanes32 tests both binary32 lanes at once exactly as looseOK32 tests each.
func TestLooseLanes32MatchesLooseOK32(t *testing.T) {
	r := rand.New(rand.NewPCG(32, 2))
	lane := func() uint64 {
		switch r.IntN(5) {
		case 0:
			return uint64(r.IntN(2))<<31 | 0x7f800000 // an infinity
		case 1:
			return uint64(r.IntN(2))<<31 | 0x7f800000 | uint64(r.IntN(4)) // an infinity or a NaN
		case 2:
			return uint64(r.IntN(2)) << 31 // a zero
		}
		return uint64(r.Uint32())
	}
	for i := 0; i < 1_000_000; i++ {
		a, b, res := lane()|lane()<<32, lane()|lane()<<32, lane()|lane()<<32
		for op := fpAdd; op <= fpSqrt; op++ {
			want := looseOK32(op, uint32(a), uint32(b), uint32(res)) && looseOK32(op, uint32(a>>32), uint32(b>>32), uint32(res>>32))
			require.Equal(t, want, looseLanes32(op, a, b, res), "op %d: %#x, %#x -> %#x", op, a, b, res)
		}
	}
}
