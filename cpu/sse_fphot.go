package cpu

import (
	"math"
	"unsafe"
)

// The packed forms of opXmmFP written out whole (ADDPS .. SQRTPS, ADDPD .. SQRTPD): the
// source, the MXCSR test, the host arithmetic and the lane tests in one function with no
// call on the common path. Whatever they refuse goes to xmmFPFrom, with the operands
// already loaded (a memory source is read once: the TLB sees one lookup, as before).

// xmmPS executes a packed single opXmmFP.
func (c *CPU) xmmPS(in, raw *inst) {
	var sv vec
	sp := &c.ext.XMM[in.src&15]
	if in.form&fSrcMem != 0 {
		sv[0], sv[1] = c.sseLoad2(c.ea(in), in.size, in.ssize&sseAligned != 0)
		sp = &sv
	}
	d := &c.ext.XMM[in.dst&15]
	m := c.ext.MXCSR
	if op := fpOp(in.sub & 15); fastMXCSR(m) && op <= fpSqrt {
		x := (*[4]float32)(unsafe.Pointer(d))
		y := (*[4]float32)(unsafe.Pointer(sp))
		var r0, r1, r2, r3 float32
		switch op {
		case fpAdd:
			r0, r1, r2, r3 = x[0]+y[0], x[1]+y[1], x[2]+y[2], x[3]+y[3]
		case fpSub:
			r0, r1, r2, r3 = x[0]-y[0], x[1]-y[1], x[2]-y[2], x[3]-y[3]
		case fpMul:
			r0, r1, r2, r3 = x[0]*y[0], x[1]*y[1], x[2]*y[2], x[3]*y[3]
		case fpDiv:
			r0, r1, r2, r3 = x[0]/y[0], x[1]/y[1], x[2]/y[2], x[3]/y[3]
		default: // fpSqrt (see fast32)
			r0, r1 = float32(math.Sqrt(float64(y[0]))), float32(math.Sqrt(float64(y[1])))
			r2, r3 = float32(math.Sqrt(float64(y[2]))), float32(math.Sqrt(float64(y[3])))
		}
		o0 := uint64(math.Float32bits(r0)) | uint64(math.Float32bits(r1))<<32
		o1 := uint64(math.Float32bits(r2)) | uint64(math.Float32bits(r3))<<32
		const e, top, one = 0x7f800000_7f800000, 0x80000000_80000000, 0x00800000_00800000
		if looseMXCSR(m) {
			// No lane infinite or NaN; or every such lane an infinity from an infinite
			// operand (looseOK32).
			if ((o0&e+one)|(o1&e+one))&top == 0 || looseLanes32(op, d[0], sp[0], o0) && looseLanes32(op, d[1], sp[1], o1) {
				d[0], d[1] = o0, o1
				return
			}
		} else if a0, a1, s0, s1 := d[0], d[1], sp[0], sp[1]; (a0&e+e)&(a1&e+e)&(s0&e+e)&(s1&e+e)&top == top && // no operand zero or denormal
			(o0&e+0xfe*one)&(o1&e+0xfe*one)&top == top && ((o0&e+one)|(o1&e+one))&top == 0 { // results normal, exponents >= 2
			d[0], d[1] = o0, o1
			return
		}
	}
	s0, s1 := sp[0], sp[1]
	if op := fpOp(in.sub & 15); fastMXCSR(m) && op <= fpSqrt {
		t, s := vec{d[0], d[1]}, vec{s0, s1}
		if packedPS(op, &t, &s, looseMXCSR(m)) {
			d[0], d[1] = t[0], t[1]
			return
		}
	}
	c.xmmFPFrom(in, raw, d, s0, s1)
}

// xmmPD executes a packed double opXmmFP.
func (c *CPU) xmmPD(in, raw *inst) {
	var s0, s1 uint64
	if in.form&fSrcMem != 0 {
		s0, s1 = c.sseLoad2(c.ea(in), in.size, in.ssize&sseAligned != 0)
	} else {
		r := &c.ext.XMM[in.src&15]
		s0, s1 = r[0], r[1]
	}
	d := &c.ext.XMM[in.dst&15]
	m := c.ext.MXCSR
	if op := fpOp(in.sub & 15); fastMXCSR(m) && op <= fpSqrt {
		a0, a1 := d[0], d[1]
		x0, x1 := math.Float64frombits(a0), math.Float64frombits(a1)
		y0, y1 := math.Float64frombits(s0), math.Float64frombits(s1)
		var r0, r1 float64
		switch op {
		case fpAdd:
			r0, r1 = x0+y0, x1+y1
		case fpSub:
			r0, r1 = x0-y0, x1-y1
		case fpMul:
			r0, r1 = x0*y0, x1*y1
		case fpDiv:
			if (denormal64(a0) || denormal64(a1) || denormal64(s0) || denormal64(s1)) && looseMXCSR(m) {
				// Not on the host's divider (see divSoft64).
				if o0, o1, ok := divPDLoose(a0, a1, s0, s1); ok {
					d[0], d[1] = o0, o1
					return
				}
				c.xmmFPFrom(in, raw, d, s0, s1)
				return
			}
			r0, r1 = x0/y0, x1/y1
		default:
			r0, r1 = math.Sqrt(y0), math.Sqrt(y1)
		}
		o0, o1 := math.Float64bits(r0), math.Float64bits(r1)
		loose := looseMXCSR(m)
		if quick64(loose, a0, s0, o0) && quick64(loose, a1, s1, o1) ||
			laneOK64(op, a0, s0, o0, loose) && laneOK64(op, a1, s1, o1, loose) {
			d[0], d[1] = o0, o1
			return
		}
	}
	c.xmmFPFrom(in, raw, d, s0, s1)
}

// looseLanes32 is looseOK32 for the two binary32 lanes of a, b and their result r, both
// lanes at once (each lane's sums stay below 2^32: no carry crosses into the next).
func looseLanes32(op fpOp, a, b, r uint64) bool {
	const abs, inf, top = 0x7fffffff_7fffffff, 0x7f800000_7f800000, 0x80000000_80000000
	special := (r&inf + 0x00800000_00800000) & top // an infinite or NaN result
	nan := (r&abs + 0x007fffff_007fffff) & top     // a NaN result
	infA := ^(a&abs ^ inf + abs) & top             // an infinite a
	infB := ^(b&abs ^ inf + abs) & top             // an infinite b
	bad := nan | special&^(infA|infB)
	if op == fpDiv {
		bad |= special &^ (b&abs + abs) // a zero divisor
	}
	return bad == 0
}

// xmmSD executes a scalar double opXmmFP.
func (c *CPU) xmmSD(in, raw *inst) {
	var s0, s1 uint64
	if in.form&fSrcMem != 0 {
		s0, s1 = c.sseLoad2(c.ea(in), in.size, in.ssize&sseAligned != 0)
	} else {
		r := &c.ext.XMM[in.src&15]
		s0, s1 = r[0], r[1]
	}
	d := &c.ext.XMM[in.dst&15]
	m := c.ext.MXCSR
	if op := fpOp(in.sub & 15); fastMXCSR(m) && op <= fpSqrt {
		a := d[0]
		if op == fpDiv && (denormal64(a) || denormal64(s0)) && looseMXCSR(m) {
			if o, ok := divSoft64(a, s0); ok { // not on the host's divider (see divSoft64)
				d[0] = o
				return
			}
			c.xmmFPFrom(in, raw, d, s0, s1)
			return
		}
		o := math.Float64bits(hostArith64(op, math.Float64frombits(a), math.Float64frombits(s0)))
		loose := looseMXCSR(m)
		if quick64(loose, a, s0, o) || laneOK64(op, a, s0, o, loose) {
			d[0] = o
			return
		}
	}
	c.xmmFPFrom(in, raw, d, s0, s1)
}

// xmmSS executes a scalar single opXmmFP.
func (c *CPU) xmmSS(in, raw *inst) {
	var s0, s1 uint64
	if in.form&fSrcMem != 0 {
		s0, s1 = c.sseLoad2(c.ea(in), in.size, in.ssize&sseAligned != 0)
	} else {
		r := &c.ext.XMM[in.src&15]
		s0, s1 = r[0], r[1]
	}
	d := &c.ext.XMM[in.dst&15]
	m := c.ext.MXCSR
	if op := fpOp(in.sub & 15); fastMXCSR(m) && op <= fpSqrt {
		a, b := uint32(d[0]), uint32(s0)
		o := math.Float32bits(hostArith32(op, math.Float32frombits(a), math.Float32frombits(b)))
		loose := looseMXCSR(m)
		if quick32(loose, a, b, o) || laneOK32(op, a, b, o, loose) {
			d[0] = d[0]&^0xffffffff | uint64(o)
			return
		}
	}
	c.xmmFPFrom(in, raw, d, s0, s1)
}
