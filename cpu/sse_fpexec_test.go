package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// execFast2 has the register forms of packed opXmmFP and of opXmmCvtPS2DQ written out
// (exec.go): run through it, they leave the destination and MXCSR exactly as the
// instruction's exact function does, in the MXCSR states of the host paths and in ones
// they must refuse, for operands of every class (denormals included: DIVPD's lanes with a
// denormal operand are divided in integers).
func TestExecFast2XmmFPMatchesExactUnit(t *testing.T) {
	tm := newTestMachine(t)
	c := tm.cpu
	r := rand.New(rand.NewPCG(13, 6))
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
		switch r.IntN(4) {
		case 0:
			return math.Float64bits(0.5 + 3*r.Float64())
		case 1: // a denormal
			return uint64(r.IntN(2))<<63 | r.Uint64()&(1<<52-1)>>r.IntN(52)
		}
		return hotOperand64(r)
	}
	states := []uint32{0x1f80 | mxPE, 0x1f80 | mxDE | mxUE | mxPE, 0x1f80 | 0x3f, 0x1f80 | mxPE | mxIE, 0x1f80,
		0x3f80 | mxPE, 0x7f80 | 0x3f, 0x1f80 | mxPE | mxFZ, 0x1f80 | 0x3f | mxDAZ, 0x1e80 | mxPE, 0x1d80 | 0x3f, 0x1f00 | 0x3f}
	var codes [][]byte
	for _, pfx := range []byte{0, 0x66} {
		for _, opc := range []byte{0x58, 0x5c, 0x59, 0x5e, 0x51} { // ADD SUB MUL DIV SQRT
			for _, modrm := range []byte{0xc1, 0xc0} { // xmm0 op xmm1; xmm0 op xmm0
				code := []byte{0x0f, opc, modrm}
				if pfx != 0 {
					code = append([]byte{pfx}, code...)
				}
				codes = append(codes, code)
			}
		}
	}
	codes = append(codes, []byte{0x66, 0x0f, 0x5b, 0xc1}, []byte{0xf3, 0x0f, 0x5b, 0xc1}) // CVTPS2DQ, CVTTPS2DQ
	for _, code := range codes {
		raw, ok := decodeOne(code)
		require.True(t, ok)
		in := raw
		specialize(&in)
		require.Contains(t, []uint16{opXmmFP, opXmmCvtPS2DQ}, in.op, "% x has its fast form", code)
		b := &block{raw: []inst{raw}, insts: []inst{in}}
		for i := 0; i < 4000; i++ {
			var d, s vec
			for k := 0; k < 2; k++ {
				if code[0] == 0x66 && code[2] != 0x5b {
					d[k], s[k] = double(), double()
				} else {
					d[k], s[k] = single()|single()<<32, single()|single()<<32
				}
			}
			if code[len(code)-1] == 0xc0 {
				s = d
			}
			mx := states[r.IntN(len(states))]
			c.ext.MXCSR, c.ext.XMM[0], c.ext.XMM[1] = mx, d, s
			wantTrap := trapsXM(func() { c.ext.XMM[0] = sseATables[raw.op][raw.sub](c, d, s, 0) })
			want, wantMX := c.ext.XMM[0], c.ext.MXCSR
			c.ext.MXCSR, c.ext.XMM[0], c.ext.XMM[1] = mx, d, s
			require.Equal(t, wantTrap, trapsXM(func() { c.execFast2(b, 0, &b.insts[0]) }), "% x MXCSR %#x: %#x op %#x", code, mx, d, s)
			require.Equal(t, want, c.ext.XMM[0], "% x MXCSR %#x: %#x op %#x", code, mx, d, s)
			require.Equal(t, wantMX, c.ext.MXCSR, "% x MXCSR %#x: %#x op %#x", code, mx, d, s)
		}
	}
}
