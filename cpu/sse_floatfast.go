package cpu

// The fast path of the software IEEE unit. Most operations of real programs have normal
// operands and a result far from overflow and underflow; for those, the host's float64
// arithmetic (always round to nearest) gives the nearest result, and an error-free
// transformation gives the exact error term, whose sign says on which side of that result
// the true value lies. That is all directed rounding and the inexact flag need. Anything
// else (zeros, denormals, infinities, NaNs, results near the ends of the range) takes the
// exact integer path in sse_float.go. The differential tests against the host CPU cover
// both paths in every rounding mode.
//
// Single precision goes through float64 too: the operands convert exactly, and rounding a
// float64 sum, product, quotient or square root of two floats to float32 gives the
// correctly rounded float32 result (53 >= 2*24 + 2: double rounding is innocuous).

import "math"

// fastOK reports whether x is normal with an exponent within [-900, 900] (single precision:
// any normal value).
func (f *fpFmt) fastOK(x uint64) bool {
	e := f.expOf(x)
	if f == fmt32 {
		return e != 0 && e != f.eAll
	}
	return e >= 1023-900 && e <= 1023+900
}

// fast computes op (fpAdd, fpSub, fpMul, fpDiv, fpSqrt on b) when operands and result allow;
// it reports false to send the operation down the exact path.
func (e *fpEnv) fast(f *fpFmt, op fpOp, a, b uint64) (uint64, bool) {
	if !f.fastOK(b) || op != fpSqrt && !f.fastOK(a) {
		return 0, false
	}
	var x, y float64
	if f == fmt64 {
		x, y = math.Float64frombits(a), math.Float64frombits(b)
	} else {
		x, y = float64(math.Float32frombits(uint32(a))), float64(math.Float32frombits(uint32(b)))
	}
	var r, d float64 // d has the sign of (true value - r), or is zero when r is exact
	switch op {
	case fpAdd, fpSub:
		if op == fpSub {
			y = -y
		}
		r = x + y
		bb := r - x
		d = (x - (r - bb)) + (y - bb) // TwoSum: the exact error
	case fpMul:
		r = x * y
		d = math.FMA(x, y, -r)
	case fpDiv:
		r = x / y
		d = math.FMA(-r, y, x) // the exact remainder x - r*y; true - r = remainder / y
		if y < 0 {
			d = -d
		}
	case fpSqrt:
		if y < 0 {
			return 0, false
		}
		r = math.Sqrt(y)
		d = math.FMA(-r, r, y) // the exact remainder y - r*r
	default:
		return 0, false
	}
	ar := math.Abs(r)
	if f == fmt64 {
		if !(ar >= 0x1p-900 && ar <= 0x1p1000) {
			return 0, false
		}
		return e.fastAdjust(math.Float64bits(r), r < 0, d), true
	}
	if !(ar >= 0x1p-100 && ar <= 0x1p120) {
		return 0, false
	}
	r32 := float32(r)
	if diff := r - float64(r32); diff != 0 {
		d = diff // r32 is further from r than the error of r
	}
	return e.fastAdjust(uint64(math.Float32bits(r32)), r32 < 0, d), true
}

// fastAdjust turns the nearest result bits into the result of the rounding mode, given the
// sign of (true value - result) in d, and reports inexactness. The result is well inside
// the normal range, so a step of one unit in the last place stays there.
func (e *fpEnv) fastAdjust(bits uint64, neg bool, d float64) uint64 {
	if d == 0 {
		return bits
	}
	e.flags |= mxPE
	above := d > 0 // the true value is above the nearest result
	switch e.rc {
	case rndZero:
		if above == neg {
			return bits - 1 // one step toward zero
		}
	case rndUp:
		if above {
			if neg {
				return bits - 1
			}
			return bits + 1
		}
	case rndDown:
		if !above {
			if neg {
				return bits + 1
			}
			return bits - 1
		}
	}
	return bits
}
