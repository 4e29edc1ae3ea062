package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runXmmFP runs a decoded opXmmFP as execFast2 does.
func runXmmFP(c *CPU, in, raw *inst) {
	switch in.sub &^ 15 {
	case xfPS:
		c.xmmPS(in, raw)
	case xfPD:
		c.xmmPD(in, raw)
	case xfSD:
		c.xmmSD(in, raw)
	default:
		c.xmmSS(in, raw)
	}
}

// The written-out forms of opXmmFP (sse_fphot.go) leave the destination and MXCSR exactly
// as the instruction's exact function does, for every operation, width and packing, with
// the source in another register or in the destination itself, in the MXCSR states of the
// host path (PE set; DE, UE and PE set; every flag set) and in ones it must refuse
// (directed rounding, PE clear, FTZ, DAZ, unmasked exceptions).
func TestXmmFPWrittenOutMatchesExactUnit(t *testing.T) {
	tm := newTestMachine(t)
	c := tm.cpu
	r := rand.New(rand.NewPCG(13, 5))
	single := func() uint64 {
		switch r.IntN(4) {
		case 0:
			return r.Uint64() & 0xffffffff
		case 1:
			return uint64(math.Float32bits(0.5 + 3*r.Float32()))
		}
		return uint64(math.Float32bits(float32(math.Float64frombits(hotOperand64(r)))))
	}
	double := func() uint64 {
		if r.IntN(3) == 0 {
			return math.Float64bits(0.5 + 3*r.Float64())
		}
		return hotOperand64(r)
	}
	states := []uint32{0x1f80 | mxPE, 0x1f80 | mxDE | mxUE | mxPE, 0x1f80 | 0x3f, 0x1f80, 0x3f80 | mxPE,
		0x7f80 | 0x3f, 0x1f80 | mxPE | mxFZ, 0x1f80 | 0x3f | mxDAZ, 0x1e80 | mxPE, 0x1d80 | 0x3f}
	ops := []byte{0x58, 0x5c, 0x59, 0x5e, 0x51, 0x5d, 0x5f} // ADD SUB MUL DIV SQRT MIN MAX
	for _, pfx := range []byte{0, 0x66, 0xf3, 0xf2} {
		for _, opc := range ops {
			for _, modrm := range []byte{0xc1, 0xc0} { // xmm0 op xmm1; xmm0 op xmm0
				code := []byte{0x0f, opc, modrm}
				if pfx != 0 {
					code = append([]byte{pfx}, code...)
				}
				raw, ok := decodeOne(code)
				require.True(t, ok)
				in := raw
				specialize(&in)
				require.Equal(t, opXmmFP, in.op, "% x has its fast form", code)
				host := 0
				for i := 0; i < 3000; i++ {
					var d, s vec
					for k := 0; k < 2; k++ {
						if pfx == 0x66 || pfx == 0xf2 {
							d[k], s[k] = double(), double()
						} else {
							d[k], s[k] = single()|single()<<32, single()|single()<<32
						}
					}
					if modrm == 0xc0 {
						s = d
					}
					mx := states[r.IntN(len(states))]
					c.ext.MXCSR, c.ext.XMM[0], c.ext.XMM[1] = mx, d, s
					wantTrap := trapsXM(func() { c.ext.XMM[0] = sseATables[raw.op][raw.sub](c, d, s, 0) })
					want, wantMX := c.ext.XMM[0], c.ext.MXCSR
					c.ext.MXCSR, c.ext.XMM[0], c.ext.XMM[1] = mx, d, s
					require.Equal(t, wantTrap, trapsXM(func() { runXmmFP(c, &in, &raw) }), "% x MXCSR %#x: %#x op %#x", code, mx, d, s)
					require.Equal(t, want, c.ext.XMM[0], "% x MXCSR %#x: %#x op %#x", code, mx, d, s)
					require.Equal(t, wantMX, c.ext.MXCSR, "% x MXCSR %#x: %#x op %#x", code, mx, d, s)
					if wantMX == mx && fastMXCSR(mx) {
						host++
					}
				}
				assert.Greater(t, host, 100, "% x: cases the host path may take", code)
			}
		}
	}
}

// trapsXM runs f and reports whether it raised an exception (the exact unit's #XM).
func trapsXM(f func()) (trapped bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(faultSignal); !ok {
				panic(r)
			}
			trapped = true
		}
	}()
	f()
	return false
}
