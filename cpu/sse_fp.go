package cpu

// Floating-point SSE instructions: packed and scalar single and double precision
// arithmetic, comparisons, conversions, rounding, horizontal and dot-product operations and
// the reciprocal approximations (SDM Vol. 2, each instruction's page). Every element
// operation goes through the software IEEE unit in sse_float.go under the instruction's
// fpEnv; fpCommit then reports the flags, or raises #XM before the destination is written.

import (
	"math"

	"golang.org/x/arch/x86/x86asm"
)

// lane32 returns single-precision element i of v.
func lane32(v vec, i int) uint64 { return v[i>>1] >> (32 * (i & 1)) & 0xffffffff }

// setLane32 sets single-precision element i of v.
func setLane32(v *vec, i int, x uint64) {
	sh := 32 * (i & 1)
	v[i>>1] = v[i>>1]&^(0xffffffff<<sh) | (x&0xffffffff)<<sh
}

// fpOp names an element operation of fpPacked and fpScalar. (A switch rather than a function
// value: handing the fpEnv's address to an unknown function would move it to the heap,
// one allocation per instruction.)
type fpOp uint8

const (
	fpAdd fpOp = iota
	fpSub
	fpMul
	fpDiv
	fpSqrt
	fpMin
	fpMax
	fpCmp   // CMPPS predicate imm8[2:0]
	fpRound // ROUNDPS mode imm8[3:0]
)

// lane computes a op b in format f (b alone for the one-operand operations).
func (e *fpEnv) lane(op fpOp, f *fpFmt, a, b uint64, imm uint8) uint64 {
	switch op {
	case fpAdd:
		return e.add(f, a, b, false)
	case fpSub:
		return e.add(f, a, b, true)
	case fpMul:
		return e.mul(f, a, b)
	case fpDiv:
		return e.div(f, a, b)
	case fpSqrt:
		return e.sqrt(f, b)
	case fpMin:
		return e.minMax(f, a, b, false)
	case fpMax:
		return e.minMax(f, a, b, true)
	case fpCmp:
		return cmpPredicate(e, f, a, b, imm)
	}
	return e.roundInt(f, b, roundMode(e, imm), imm&8 != 0)
}

// fpPacked applies op to every element pair (d[i], s[i]).
func fpPacked(f *fpFmt, op fpOp) sseAFn {
	return func(c *CPU, d, s vec, imm uint8) vec {
		e := c.fpEnv()
		var r vec
		if f == fmt32 {
			for i := 0; i < 4; i++ {
				setLane32(&r, i, e.lane(op, f, lane32(d, i), lane32(s, i), imm))
			}
		} else {
			r[0], r[1] = e.lane(op, f, d[0], s[0], imm), e.lane(op, f, d[1], s[1], imm)
		}
		c.fpCommit(&e)
		return r
	}
}

// fpScalar applies op to element 0 and keeps the other elements of d.
func fpScalar(f *fpFmt, op fpOp) sseAFn {
	return func(c *CPU, d, s vec, imm uint8) vec {
		e := c.fpEnv()
		r := d
		if f == fmt32 {
			setLane32(&r, 0, e.lane(op, f, lane32(d, 0), lane32(s, 0), imm))
		} else {
			r[0] = e.lane(op, f, d[0], s[0], imm)
		}
		c.fpCommit(&e)
		return r
	}
}

// fpFamily registers the PS, PD, SS and SD forms of an element operation.
func fpFamily(ps, pd, ss, sd x86asm.Op, op fpOp) {
	sseInsn(ps, 16, fpPacked(fmt32, op))
	sseInsn(pd, 16, fpPacked(fmt64, op))
	sseInsn(ss, 4, fpScalar(fmt32, op))
	sseInsn(sd, 8, fpScalar(fmt64, op))
}

// cmpPredicate evaluates CMPPS predicate imm8[2:0] (SDM Vol. 2, CMPPS, Table 3-1): EQ LT LE
// UNORD NEQ NLT NLE ORD. LT, LE, NLT and NLE signal on a QNaN; the others only on an SNaN.
func cmpPredicate(e *fpEnv, f *fpFmt, a, b uint64, imm uint8) uint64 {
	p := imm & 7
	r := e.compare(f, a, b, p == 1 || p == 2 || p == 5 || p == 6)
	var t bool
	switch p {
	case 0:
		t = r == cmpEqual
	case 1:
		t = r == cmpLess
	case 2:
		t = r == cmpLess || r == cmpEqual
	case 3:
		t = r == cmpUnordered
	case 4:
		t = r != cmpEqual
	case 5:
		t = r != cmpLess
	case 6:
		t = r != cmpLess && r != cmpEqual
	case 7:
		t = r != cmpUnordered
	}
	if !t {
		return 0
	}
	return f.signBit()<<1 - 1
}

// roundMode returns the rounding of ROUNDSS and friends: imm8[2] selects MXCSR.RC, else
// imm8[1:0].
func roundMode(e *fpEnv, imm uint8) uint8 {
	if imm&4 != 0 {
		return e.rc
	}
	return imm & 3
}

// rcp32 approximates 1/a (RCPSS, RCPPS). The SDM bounds the relative error by 1.5 * 2^-12
// and leaves the bits to the implementation; this one returns the correctly rounded
// reciprocal. Zeros and denormals give infinities, results below the normal range are
// flushed to zero, NaNs are quieted; no exception is ever reported and MXCSR is not read.
func rcp32(a uint64) uint64 {
	f := fmt32
	switch {
	case f.isNaN(a):
		return f.quiet(a)
	case f.expOf(a) == 0:
		return f.inf(f.neg(a))
	case f.expOf(a) == f.expAll():
		return f.zero(f.neg(a))
	}
	r := float32(1 / float64(math.Float32frombits(uint32(a))))
	if math.Abs(float64(r)) < 0x1p-126 {
		return f.zero(f.neg(a))
	}
	return uint64(math.Float32bits(r))
}

// rsqrt32 approximates 1/sqrt(a) (RSQRTSS, RSQRTPS), with the same conventions as rcp32;
// a negative operand gives the default NaN.
func rsqrt32(a uint64) uint64 {
	f := fmt32
	switch {
	case f.isNaN(a):
		return f.quiet(a)
	case f.expOf(a) == 0:
		return f.inf(f.neg(a))
	case f.neg(a):
		return f.defaultNaN()
	case f.expOf(a) == f.expAll():
		return 0
	}
	r := float32(1 / math.Sqrt(float64(math.Float32frombits(uint32(a)))))
	return uint64(math.Float32bits(r))
}

// dpps computes DPPS (SDM Vol. 2): the products selected by imm8[7:4] (others +0.0) are
// summed as (p0 + p1) + (p2 + p3), each step rounded, and the sum is written to the
// elements selected by imm8[3:0] (others +0.0).
func dpps(c *CPU, d, s vec, imm uint8) vec {
	e := c.fpEnv()
	f := fmt32
	var t [4]uint64
	for i := 0; i < 4; i++ {
		if imm>>(4+i)&1 != 0 {
			t[i] = e.mul(f, lane32(d, i), lane32(s, i))
		}
	}
	sum := e.add(f, e.add(f, t[0], t[1], false), e.add(f, t[2], t[3], false), false)
	var r vec
	for i := 0; i < 4; i++ {
		if imm>>i&1 != 0 {
			setLane32(&r, i, sum)
		}
	}
	c.fpCommit(&e)
	return r
}

// dppd computes DPPD, the double-precision two-element form of DPPS.
func dppd(c *CPU, d, s vec, imm uint8) vec {
	e := c.fpEnv()
	f := fmt64
	var t [2]uint64
	for i := 0; i < 2; i++ {
		if imm>>(4+i)&1 != 0 {
			t[i] = e.mul(f, d[i], s[i])
		}
	}
	sum := e.add(f, t[0], t[1], false)
	var r vec
	for i := 0; i < 2; i++ {
		if imm>>i&1 != 0 {
			r[i] = sum
		}
	}
	c.fpCommit(&e)
	return r
}

// comis compares element 0 of the destination and source into ZF, PF and CF (unordered
// 111, less 001, equal 100, greater 000) and clears OF, SF and AF (SDM Vol. 2, COMISS).
// COMISS signals invalid on any NaN, UCOMISS only on an SNaN.
func comis(f *fpFmt, signaling bool) sseXFn {
	return func(c *CPU, in *inst) {
		s := c.sseSrc(in)
		m := f.signBit()<<1 - 1
		e := c.fpEnv()
		r := e.compare(f, c.ext.XMM[in.dst&15][0]&m, s[0]&m, signaling)
		c.fpCommit(&e)
		var fl uint64
		switch r {
		case cmpUnordered:
			fl = FlagZF | FlagPF | FlagCF
		case cmpLess:
			fl = FlagCF
		case cmpEqual:
			fl = FlagZF
		}
		c.rflags = c.flags()&^ArithFlags | fl
	}
}

func init() {
	fpFamily(x86asm.ADDPS, x86asm.ADDPD, x86asm.ADDSS, x86asm.ADDSD, fpAdd)
	fpFamily(x86asm.SUBPS, x86asm.SUBPD, x86asm.SUBSS, x86asm.SUBSD, fpSub)
	fpFamily(x86asm.MULPS, x86asm.MULPD, x86asm.MULSS, x86asm.MULSD, fpMul)
	fpFamily(x86asm.DIVPS, x86asm.DIVPD, x86asm.DIVSS, x86asm.DIVSD, fpDiv)
	fpFamily(x86asm.SQRTPS, x86asm.SQRTPD, x86asm.SQRTSS, x86asm.SQRTSD, fpSqrt)
	fpFamily(x86asm.MINPS, x86asm.MINPD, x86asm.MINSS, x86asm.MINSD, fpMin)
	fpFamily(x86asm.MAXPS, x86asm.MAXPD, x86asm.MAXSS, x86asm.MAXSD, fpMax)
	fpFamily(x86asm.CMPPS, x86asm.CMPPD, x86asm.CMPSS, x86asm.CMPSD_XMM, fpCmp)
	fpFamily(x86asm.ROUNDPS, x86asm.ROUNDPD, x86asm.ROUNDSS, x86asm.ROUNDSD, fpRound)

	// Reciprocal approximations: no MXCSR involvement at all.
	sseInsn(x86asm.RCPPS, 16, func(_ *CPU, _, s vec, _ uint8) vec {
		var r vec
		for i := 0; i < 4; i++ {
			setLane32(&r, i, rcp32(lane32(s, i)))
		}
		return r
	})
	sseInsn(x86asm.RSQRTPS, 16, func(_ *CPU, _, s vec, _ uint8) vec {
		var r vec
		for i := 0; i < 4; i++ {
			setLane32(&r, i, rsqrt32(lane32(s, i)))
		}
		return r
	})
	sseInsn(x86asm.RCPSS, 4, func(_ *CPU, d, s vec, _ uint8) vec {
		setLane32(&d, 0, rcp32(lane32(s, 0)))
		return d
	})
	sseInsn(x86asm.RSQRTSS, 4, func(_ *CPU, d, s vec, _ uint8) vec {
		setLane32(&d, 0, rsqrt32(lane32(s, 0)))
		return d
	})

	// Horizontal and alternating operations (SSE3).
	sseInsn(x86asm.HADDPS, 16, horizontal32(false))
	sseInsn(x86asm.HSUBPS, 16, horizontal32(true))
	sseInsn(x86asm.HADDPD, 16, horizontal64(false))
	sseInsn(x86asm.HSUBPD, 16, horizontal64(true))
	sseInsn(x86asm.ADDSUBPS, 16, func(c *CPU, d, s vec, _ uint8) vec {
		e := c.fpEnv()
		var r vec
		for i := 0; i < 4; i++ {
			setLane32(&r, i, e.add(fmt32, lane32(d, i), lane32(s, i), i&1 == 0))
		}
		c.fpCommit(&e)
		return r
	})
	sseInsn(x86asm.ADDSUBPD, 16, func(c *CPU, d, s vec, _ uint8) vec {
		e := c.fpEnv()
		r := vec{e.add(fmt64, d[0], s[0], true), e.add(fmt64, d[1], s[1], false)}
		c.fpCommit(&e)
		return r
	})
	sseInsn(x86asm.DPPS, 16, dpps)
	sseInsn(x86asm.DPPD, 16, dppd)

	// Conversions between the two formats.
	sseInsn(x86asm.CVTPS2PD, 8, func(c *CPU, _, s vec, _ uint8) vec {
		e := c.fpEnv()
		r := vec{e.convert(fmt32, fmt64, lane32(s, 0)), e.convert(fmt32, fmt64, lane32(s, 1))}
		c.fpCommit(&e)
		return r
	})
	sseInsn(x86asm.CVTPD2PS, 16, func(c *CPU, _, s vec, _ uint8) vec {
		e := c.fpEnv()
		r := vec{e.convert(fmt64, fmt32, s[0]) | e.convert(fmt64, fmt32, s[1])<<32}
		c.fpCommit(&e)
		return r
	})
	sseInsn(x86asm.CVTSS2SD, 4, func(c *CPU, d, s vec, _ uint8) vec {
		e := c.fpEnv()
		d[0] = e.convert(fmt32, fmt64, lane32(s, 0))
		c.fpCommit(&e)
		return d
	})
	sseInsn(x86asm.CVTSD2SS, 8, func(c *CPU, d, s vec, _ uint8) vec {
		e := c.fpEnv()
		setLane32(&d, 0, e.convert(fmt64, fmt32, s[0]))
		c.fpCommit(&e)
		return d
	})

	// Conversions from integers.
	sseInsn(x86asm.CVTDQ2PS, 16, func(c *CPU, _, s vec, _ uint8) vec {
		e := c.fpEnv()
		var r vec
		for i := 0; i < 4; i++ {
			setLane32(&r, i, e.fromInt(fmt32, int64(int32(lane32(s, i)))))
		}
		c.fpCommit(&e)
		return r
	})
	sseInsn(x86asm.CVTDQ2PD, 8, func(c *CPU, _, s vec, _ uint8) vec {
		e := c.fpEnv()
		r := vec{e.fromInt(fmt64, int64(int32(s[0]))), e.fromInt(fmt64, int64(int32(s[0]>>32)))}
		c.fpCommit(&e)
		return r
	})
	for _, cv := range []struct {
		op x86asm.Op
		f  *fpFmt
	}{{x86asm.CVTSI2SS, fmt32}, {x86asm.CVTSI2SD, fmt64}} {
		f := cv.f
		from := func(wide bool) sseAFn {
			return func(c *CPU, d, s vec, _ uint8) vec {
				e := c.fpEnv()
				v := int64(s[0])
				if !wide {
					v = int64(int32(s[0]))
				}
				x := e.fromInt(f, v)
				c.fpCommit(&e)
				if f == fmt32 {
					setLane32(&d, 0, x)
				} else {
					d[0] = x
				}
				return d
			}
		}
		r32, r64 := sseA.add(from(false)), sseA.add(from(true))
		sseDecoder(cv.op, func(in *inst, x *x86asm.Inst) bool { return decodeAG(in, x, r32, r64, 0) })
	}

	// Conversions to integers: packed into XMM, scalar into a general-purpose register.
	toDQ := func(f *fpFmt, trunc bool) sseAFn {
		return func(c *CPU, _, s vec, _ uint8) vec {
			e := c.fpEnv()
			rc := e.rc
			if trunc {
				rc = rndZero
			}
			var r vec
			if f == fmt32 {
				for i := 0; i < 4; i++ {
					setLane32(&r, i, e.toInt(f, lane32(s, i), 32, rc))
				}
			} else {
				r[0] = e.toInt(f, s[0], 32, rc) | e.toInt(f, s[1], 32, rc)<<32
			}
			c.fpCommit(&e)
			return r
		}
	}
	sseInsn(x86asm.CVTPS2DQ, 16, toDQ(fmt32, false))
	sseInsn(x86asm.CVTTPS2DQ, 16, toDQ(fmt32, true))
	sseInsn(x86asm.CVTPD2DQ, 16, toDQ(fmt64, false))
	sseInsn(x86asm.CVTTPD2DQ, 16, toDQ(fmt64, true))
	for _, cv := range []struct {
		op    x86asm.Op
		f     *fpFmt
		trunc bool
	}{
		{x86asm.CVTSS2SI, fmt32, false}, {x86asm.CVTTSS2SI, fmt32, true},
		{x86asm.CVTSD2SI, fmt64, false}, {x86asm.CVTTSD2SI, fmt64, true},
	} {
		f, trunc := cv.f, cv.trunc
		to := func(width uint) sseGFn {
			return func(c *CPU, s vec, _ uint8) uint64 {
				e := c.fpEnv()
				rc := e.rc
				if trunc {
					rc = rndZero
				}
				m := f.signBit()<<1 - 1
				v := e.toInt(f, s[0]&m, width, rc)
				c.fpCommit(&e)
				return v
			}
		}
		r32, r64 := sseG.add(to(32)), sseG.add(to(64))
		mem := uint8(f.frac+f.ebits+1) / 8
		sseDecoder(cv.op, func(in *inst, x *x86asm.Inst) bool { return decodeG(in, x, r32, r64, mem) })
	}

	// Ordered and unordered compares into RFLAGS.
	for _, cm := range []struct {
		op        x86asm.Op
		f         *fpFmt
		signaling bool
	}{
		{x86asm.COMISS, fmt32, true}, {x86asm.UCOMISS, fmt32, false},
		{x86asm.COMISD, fmt64, true}, {x86asm.UCOMISD, fmt64, false},
	} {
		ref := sseX.add(comis(cm.f, cm.signaling))
		mem := uint8(cm.f.frac+cm.f.ebits+1) / 8
		sseDecoder(cm.op, func(in *inst, x *x86asm.Inst) bool { return decodeA(in, x, ref, ref, mem) })
	}
}

// horizontal32 computes HADDPS (or HSUBPS): pairs of adjacent elements of d, then of s.
func horizontal32(sub bool) sseAFn {
	return func(c *CPU, d, s vec, _ uint8) vec {
		e := c.fpEnv()
		var r vec
		for i := 0; i < 2; i++ {
			setLane32(&r, i, e.add(fmt32, lane32(d, 2*i), lane32(d, 2*i+1), sub))
			setLane32(&r, 2+i, e.add(fmt32, lane32(s, 2*i), lane32(s, 2*i+1), sub))
		}
		c.fpCommit(&e)
		return r
	}
}

// horizontal64 computes HADDPD (or HSUBPD).
func horizontal64(sub bool) sseAFn {
	return func(c *CPU, d, s vec, _ uint8) vec {
		e := c.fpEnv()
		r := vec{e.add(fmt64, d[0], d[1], sub), e.add(fmt64, s[0], s[1], sub)}
		c.fpCommit(&e)
		return r
	}
}
