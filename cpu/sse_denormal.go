package cpu

import (
	"math"
	"math/bits"
)

// Binary64 division with a denormal operand, in integer arithmetic. The host's divider
// handles a denormal operand or result with a microcode assist that drains the pipeline:
// measured in SSEFloatLoop, whose DIVPD keeps dividing the smallest denormal by 1.5, one
// such DIVPD cost about 23 ns more than a normal one, most of the loop's time. One integer
// division (DIV r64) and a few shifts give the same correctly rounded quotient without it.
// Only the looseMXCSR state takes this path: round to nearest, every exception masked and
// DE, UE and PE set already, so the result bits are all there is to get right.

// denormal64 reports whether x is a binary64 denormal (exponent zero, fraction nonzero).
func denormal64(x uint64) bool {
	const den = 1<<53 - 1 // x<<1 - 1 below this: exponent 0 and a nonzero fraction
	return x<<1-1 < den
}

// divSoft64 is a/b on binary64, rounded to nearest even, for finite nonzero a and b (either
// may be denormal). It reports false for a zero, an infinity or a NaN operand and for a
// quotient that overflows, which the exact unit must see. A quotient that underflows is
// rounded to the denormal grid (or to a signed zero) as the hardware does with underflow
// masked and neither FTZ nor DAZ.
func divSoft64(a, b uint64) (uint64, bool) {
	const fracMask, sign = 1<<52 - 1, 1 << 63
	ea, eb := int(a>>52&0x7ff), int(b>>52&0x7ff)
	if ea == 0x7ff || eb == 0x7ff || a<<1 == 0 || b<<1 == 0 {
		return 0, false
	}
	ma, mb := a&fracMask|1<<52, b&fracMask|1<<52
	if ea == 0 { // normalize: a = ma * 2^(ea-1075) with ma in [2^52, 2^53)
		s := bits.LeadingZeros64(a&fracMask) - 11
		ma, ea = a&fracMask<<s, 1-s
	}
	if eb == 0 {
		s := bits.LeadingZeros64(b&fracMask) - 11
		mb, eb = b&fracMask<<s, 1-s
	}
	q, rem := bits.Div64(ma>>2, ma<<62, mb) // floor(ma * 2^62 / mb), in (2^61, 2^63)
	l := 63 - bits.LeadingZeros64(q)        // 61 or 62
	e := ea - eb + 1023 - 62 + l            // the biased exponent of the quotient
	if e >= 0x7ff {
		return 0, false
	}
	s, base := l-52, uint64(0) // keep 53 bits: the significand with its leading one
	if e >= 1 {
		base = uint64(e-1) << 52 // adding the leading one carries it into the exponent
	} else {
		s += 1 - e // denormal: fewer bits; 1<<52 after rounding is the smallest normal
	}
	var r uint64
	if s < 64 {
		r = q >> s
		rest, half := q&(1<<s-1), uint64(1)<<(s-1)
		if rest > half || rest == half && (rem != 0 || r&1 != 0) {
			r++
		}
	}
	return (a^b)&sign | (base + r), true
}

// divPDLoose is DIVPD's two lanes under looseMXCSR when an operand may be denormal: such
// a lane is divided in integers, any other on the host, as loose64 would. It reports false
// for what the exact unit must do.
func divPDLoose(a0, a1, b0, b1 uint64) (uint64, uint64, bool) {
	var r0, r1 uint64
	var ok0, ok1 bool
	if denormal64(a0) || denormal64(b0) {
		r0, ok0 = divSoft64(a0, b0)
	} else {
		r0 = math.Float64bits(math.Float64frombits(a0) / math.Float64frombits(b0))
		ok0 = quick64(true, a0, b0, r0) || laneOK64(fpDiv, a0, b0, r0, true)
	}
	if denormal64(a1) || denormal64(b1) {
		r1, ok1 = divSoft64(a1, b1)
	} else {
		r1 = math.Float64bits(math.Float64frombits(a1) / math.Float64frombits(b1))
		ok1 = quick64(true, a1, b1, r1) || laneOK64(fpDiv, a1, b1, r1, true)
	}
	return r0, r1, ok0 && ok1
}
