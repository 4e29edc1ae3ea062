package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hotOperand64 returns a random binary64 biased to the edges of the fast path: normal
// numbers of every magnitude, the smallest normals, values whose products and quotients
// leave the range, zeros, denormals, infinities and NaNs.
func hotOperand64(r *rand.Rand) uint64 {
	sign := uint64(r.IntN(2)) << 63
	frac := r.Uint64() & (1<<52 - 1)
	var exp uint64
	switch r.IntN(8) {
	case 0:
		exp = uint64(r.IntN(4)) // zero, denormal, the smallest normals
		if r.IntN(4) == 0 {
			frac = 0
		}
	case 1:
		exp = 0x7ff - uint64(r.IntN(3)) // infinity, NaN, the largest normals
		if r.IntN(2) == 0 {
			frac = 0
		}
	case 2:
		exp = 1023 + uint64(r.IntN(60)) - 30
		frac &= 0xffff << 36 // short significands: exact results
	case 3:
		exp = uint64(1 + r.IntN(80)) // near the bottom: products and quotients underflow
	case 4:
		exp = uint64(0x7fe - r.IntN(80)) // near the top: they overflow
	default:
		exp = uint64(1 + r.IntN(0x7fe))
	}
	return sign | exp<<52 | frac
}

// The fast path agrees with the exact unit, bit for bit, wherever it answers, and it
// answers only where the exact unit raises no exception whose flag is not set already: for
// every operation, in both precisions, with only PE set and with every flag but IE set
// (the loose path, which takes denormals, overflow and underflow too).
func TestHotFPMatchesExactUnit(t *testing.T) {
	tm := newTestMachine(t)
	c := tm.cpu
	r := rand.New(rand.NewPCG(13, 1))
	for _, start := range []uint32{0x1f80 | mxPE, 0x1f80 | mxDE | mxUE | mxPE, 0x1f80 | 0x3f} {
		loose := looseMXCSR(start)
		hotFPAgainstExact(t, c, r, start, loose)
	}
}

func hotFPAgainstExact(t *testing.T, c *CPU, r *rand.Rand, start uint32, loose bool) {
	for _, op := range []fpOp{fpAdd, fpSub, fpMul, fpDiv, fpSqrt, fpMin, fpMax} {
		for _, f := range []*fpFmt{fmt64, fmt32} {
			exact := fpScalar(f, op)
			fast, n := 0, 20000
			for i := 0; i < n; i++ {
				a, b := hotOperand64(r), hotOperand64(r)
				if f == fmt32 {
					a, b = uint64(math.Float32bits(float32(math.Float64frombits(a)))), uint64(math.Float32bits(float32(math.Float64frombits(b))))
					if r.IntN(4) == 0 {
						a, b = r.Uint64()&0xffffffff, r.Uint64()&0xffffffff
					}
				}
				c.ext.MXCSR = start
				want := exact(c, vec{a}, vec{b}, 0)[0]
				flags := c.ext.MXCSR
				var got uint64
				var ok bool
				if f == fmt64 {
					got, ok = fast64(op, a, b, loose)
				} else {
					var g uint32
					g, ok = fast32(op, uint32(a), uint32(b), loose)
					got = uint64(g)
				}
				if !ok {
					continue
				}
				fast++
				require.Equal(t, want, got, "op %d fmt %d: %#x, %#x", op, f.frac, a, b)
				require.Equal(t, start, flags, "op %d fmt %d: %#x, %#x: the exact unit raised a flag not set already", op, f.frac, a, b)
			}
			assert.Greater(t, fast, n/8, "op %d fmt %d: the fast path answers for most normal operands", op, f.frac)
		}
	}
}

// The fast op is taken only in the MXCSR states where it is exact.
func TestFastMXCSR(t *testing.T) {
	for _, tc := range []struct {
		mxcsr uint32
		fast  bool
	}{
		{0x1f80, false},               // PE not yet set: the first inexact result must set it
		{0x1f80 | mxPE, true},         // round to nearest, all masked, PE set
		{0x1f80 | mxPE | mxIE, true},  // other sticky flags do not matter
		{0x1f80 | mxPE | mxFZ, true},  // FTZ and DAZ change nothing for normal values
		{0x1f80 | mxPE | mxDAZ, true}, //
		{0x3f80 | mxPE, false},        // round down
		{0x5f80 | mxPE, false},        // round up
		{0x7f80 | mxPE, false},        // round toward zero
		{0x0f80 | mxPE, false},        // precision exception unmasked
		{0x1e80 | mxPE, true},         // other exceptions unmasked: they cannot occur on this path
	} {
		assert.Equal(t, tc.fast, fastMXCSR(tc.mxcsr), "MXCSR %#x", tc.mxcsr)
	}
}

// The loose path needs every flag it could raise set already, and no FTZ or DAZ.
func TestLooseMXCSR(t *testing.T) {
	all := uint32(mxDE | mxUE | mxPE)
	assert.True(t, looseMXCSR(0x1f80|all))
	assert.True(t, looseMXCSR(0x1f80|all|mxIE))
	assert.False(t, looseMXCSR(0x1f80|mxPE), "underflow and the others not yet flagged")
	assert.False(t, looseMXCSR(0x1f80|all&^mxDE), "DE not yet flagged")
	assert.False(t, looseMXCSR(0x1f80|all|mxFZ), "FTZ flushes denormal results")
	assert.False(t, looseMXCSR(0x1f80|all|mxDAZ), "DAZ reads denormal operands as zero")
	assert.False(t, looseMXCSR(0x1e80|all), "invalid operation unmasked")
	assert.False(t, looseMXCSR(0x3f80|all), "round down")
}

// CVTPS2DQ and CVTTPS2DQ on the host agree with the exact unit, ties, NaNs, infinities and
// the int32 limits included, in every MXCSR state the fast path accepts or refuses.
func TestHotCvtPS2DQMatchesExactUnit(t *testing.T) {
	tm := newTestMachine(t)
	c := tm.cpu
	f := func(x float32) uint64 { return uint64(math.Float32bits(x)) }
	vals := []uint64{f(0.5), f(1.5), f(2.5), f(-0.5), f(-1.5), f(-2.5), f(0.49999997), f(3),
		f(-0x1p31), f(0x1p31), f(-0x1p31 - 256), f(float32(math.Inf(1))), f(float32(math.Inf(-1))),
		0x7fc00000, 0x7f800001, 0x00000001, 0x80000001, f(123456.75), f(-0.0), f(1e-30)}
	for _, code := range [][]byte{{0x66, 0x0f, 0x5b, 0xc1}, {0xf3, 0x0f, 0x5b, 0xc1}} {
		raw, ok := decodeOne(code)
		require.True(t, ok)
		in := raw
		specialize(&in)
		require.Equal(t, opXmmCvtPS2DQ, in.op, "% x has its fast form", code)
		for _, mx := range []uint32{0x1f80, 0x1f80 | mxPE, 0x1f80 | mxPE | mxIE, 0x3f80 | mxPE | mxIE, 0x7f80 | mxPE | mxIE, 0x1e80 | mxPE | mxIE} {
			for i := 0; i < len(vals); i += 2 {
				for j := 0; j < len(vals); j += 3 {
					s := vec{vals[i] | vals[j]<<32, vals[(i+1)%len(vals)] | vals[(j+1)%len(vals)]<<32}
					c.ext.MXCSR, c.ext.XMM[0], c.ext.XMM[1] = mx, vec{1, 2}, s
					want := sseATables[raw.op][raw.sub](c, vec{1, 2}, s, 0)
					wantMX := c.ext.MXCSR
					c.ext.MXCSR = mx
					c.xmmCvtPS2DQ(&in, &raw)
					require.Equal(t, want, c.ext.XMM[0], "% x MXCSR %#x source %#x", code, mx, s)
					require.Equal(t, wantMX, c.ext.MXCSR, "% x MXCSR %#x source %#x", code, mx, s)
				}
			}
		}
	}
}

// The packed fast paths (all lanes at once) agree with the exact unit lane by lane wherever
// they answer, and answer only where no lane raises a flag not set already: the rule of
// TestHotFPMatchesExactUnit for ADDPS .. SQRTPS and ADDPD .. SQRTPD.
func TestPackedFPMatchesExactUnit(t *testing.T) {
	tm := newTestMachine(t)
	c := tm.cpu
	r := rand.New(rand.NewPCG(13, 3))
	single := func() uint64 {
		if r.IntN(4) == 0 {
			return r.Uint64() & 0xffffffff
		}
		return uint64(math.Float32bits(float32(math.Float64frombits(hotOperand64(r)))))
	}
	for _, start := range []uint32{0x1f80 | mxPE, 0x1f80 | mxDE | mxUE | mxPE, 0x1f80 | 0x3f} {
		loose := looseMXCSR(start)
		for _, op := range []fpOp{fpAdd, fpSub, fpMul, fpDiv, fpSqrt} {
			for _, f := range []*fpFmt{fmt64, fmt32} {
				exact := fpScalar(f, op)
				fast, n := 0, 5000
				for i := 0; i < n; i++ {
					var d, s vec
					lanes := 2
					if f == fmt32 {
						lanes = 4
						for k := 0; k < 2; k++ {
							d[k], s[k] = single()|single()<<32, single()|single()<<32
						}
						if r.IntN(2) == 0 { // all lanes ordinary, so most vectors pass
							for k := 0; k < 2; k++ {
								d[k] = uint64(math.Float32bits(1+r.Float32())) * 0x100000001
								s[k] = uint64(math.Float32bits(0.5+r.Float32())) | uint64(math.Float32bits(3*r.Float32()+1))<<32
							}
						}
					} else {
						d, s = vec{hotOperand64(r), hotOperand64(r)}, vec{hotOperand64(r), hotOperand64(r)}
					}
					c.ext.MXCSR = start
					var want vec
					for k := 0; k < lanes; k++ {
						w := 64 / (lanes / 2) // lane width in bits
						sh := uint(k%(lanes/2)) * uint(w)
						m := uint64(1)<<w - 1
						if w == 64 {
							m = ^uint64(0)
						}
						a, b := d[k/(lanes/2)]>>sh&m, s[k/(lanes/2)]>>sh&m
						want[k/(lanes/2)] |= exact(c, vec{a}, vec{b}, 0)[0] & m << sh
					}
					flags := c.ext.MXCSR
					got := d
					var ok bool
					if f == fmt64 {
						ok = packedPD(op, &got, &s, loose)
					} else {
						ok = packedPS(op, &got, &s, loose)
					}
					if !ok {
						require.Equal(t, d, got, "a refused vector is left alone")
						continue
					}
					fast++
					require.Equal(t, want, got, "op %d fmt %d: %#x, %#x", op, f.frac, d, s)
					require.Equal(t, start, flags, "op %d fmt %d: %#x, %#x: the exact unit raised a flag not set already", op, f.frac, d, s)
				}
				assert.Greater(t, fast, n/10, "op %d fmt %d: the packed path answers for ordinary operands", op, f.frac)
			}
		}
	}
}
