package cpu

// IEEE 754 binary32 and binary64 arithmetic as the SSE unit performs it, in software, so that
// every rounding mode, flush-to-zero, denormals-are-zero, every exception flag and every NaN
// comes out bit for bit as on the processor (Go's own float arithmetic rounds to nearest
// only and reports no flags).
//
// A finite operand is unpacked into a sign, an exponent and a 64-bit significand with its
// leading one in bit 63; an operation computes its exact result in that form, with any
// bits it cannot keep ORed into bit 0 ("sticky"), and round packs it into the destination
// format. Square roots use the host's correctly rounded float64 square root with an exact
// remainder from a fused multiply-add to find which side of the true root it lies.
//
// The exception rules are those of SDM Vol. 1, 11.5 (SSE, SSE2 and SSE3 exceptions) and
// 4.9 (floating-point exception conditions): pre-computation conditions (invalid operand,
// divide by zero, denormal operand) in that priority, then post-computation ones (overflow,
// underflow, inexact), with tininess detected after rounding.

import (
	"math"
	"math/bits"
)

// MXCSR bits (SDM Vol. 1, 10.2.3).
const (
	mxIE  = 1 << 0 // invalid operation
	mxDE  = 1 << 1 // denormal operand
	mxZE  = 1 << 2 // divide by zero
	mxOE  = 1 << 3 // overflow
	mxUE  = 1 << 4 // underflow
	mxPE  = 1 << 5 // precision (inexact)
	mxDAZ = 1 << 6 // denormals are zeros
	mxFZ  = 1 << 15
	// mxMaskShift is where the exception masks (IM DM ZM OM UM PM) start.
	mxMaskShift = 7
	mxRCShift   = 13
	mxPre       = mxIE | mxDE | mxZE
	mxPost      = mxOE | mxUE | mxPE
	// mxcsrMask is the MXCSR_MASK this CPU reports in FXSAVE: every architectural bit,
	// DAZ included, may be set; bits 31:16 are reserved.
	mxcsrMask = 0xffff
)

// Rounding modes (MXCSR.RC, and imm8[1:0] of ROUNDSS and friends).
const (
	rndNearest = 0
	rndDown    = 1
	rndUp      = 2
	rndZero    = 3
)

// fpFmt is a binary floating-point format, with its derived constants precomputed.
type fpFmt struct {
	frac     uint   // explicit fraction bits (23, 52)
	ebits    uint   // exponent bits (8, 11)
	ebias    int    // exponent bias (127, 1023)
	eAll     uint64 // the all-ones exponent field
	sign     uint64 // the sign bit
	fmask    uint64 // the fraction field
	qbit     uint64 // the quiet bit of a NaN (the fraction's top bit)
	minDenom int    // exp of the unpacked smallest denormal's leading bit, less the lz term
}

func newFmt(frac, ebits uint) *fpFmt {
	f := &fpFmt{frac: frac, ebits: ebits, ebias: 1<<(ebits-1) - 1, eAll: 1<<ebits - 1,
		sign: 1 << (frac + ebits), fmask: 1<<frac - 1, qbit: 1 << (frac - 1)}
	f.minDenom = f.emin() - int(frac) + 63
	return f
}

var (
	fmt32 = newFmt(23, 8)
	fmt64 = newFmt(52, 11)
)

func (f *fpFmt) bias() int             { return f.ebias }
func (f *fpFmt) emin() int             { return 1 - f.ebias }
func (f *fpFmt) expAll() uint64        { return f.eAll }
func (f *fpFmt) signBit() uint64       { return f.sign }
func (f *fpFmt) fracMask() uint64      { return f.fmask }
func (f *fpFmt) quietBit() uint64      { return f.qbit }
func (f *fpFmt) expOf(x uint64) uint64 { return x >> f.frac & f.eAll }
func (f *fpFmt) neg(x uint64) bool     { return x&f.sign != 0 }
func (f *fpFmt) isNaN(x uint64) bool   { return x>>f.frac&f.eAll == f.eAll && x&f.fmask != 0 }
func (f *fpFmt) isSNaN(x uint64) bool {
	return f.isNaN(x) && x&f.qbit == 0
}
func (f *fpFmt) isDenormal(x uint64) bool { return f.expOf(x) == 0 && x&f.fmask != 0 }
func (f *fpFmt) quiet(x uint64) uint64    { return x | f.qbit }
func (f *fpFmt) inf(neg bool) uint64      { return f.signOf(neg) | f.eAll<<f.frac }
func (f *fpFmt) zero(neg bool) uint64     { return f.signOf(neg) }
func (f *fpFmt) signOf(neg bool) uint64 {
	if neg {
		return f.sign
	}
	return 0
}

// defaultNaN is the "QNaN floating-point indefinite": sign set, quiet bit only
// (0xFFC00000, 0xFFF8000000000000).
func (f *fpFmt) defaultNaN() uint64 { return f.signBit() | f.expAll()<<f.frac | f.quietBit() }

// maxFinite is the largest finite value of the sign.
func (f *fpFmt) maxFinite(neg bool) uint64 {
	return f.signOf(neg) | (f.expAll()-1)<<f.frac | f.fracMask()
}

// fpEnv is the floating-point environment of one instruction: the controls from MXCSR and
// the exception flags its element operations raised.
type fpEnv struct {
	rc    uint8
	daz   bool
	ftz   bool
	masks uint32 // MXCSR[12:7] shifted down: a set bit masks the exception
	flags uint32
}

func (c *CPU) fpEnv() fpEnv {
	m := c.ext.MXCSR
	return fpEnv{rc: uint8(m >> mxRCShift & 3), daz: m&mxDAZ != 0, ftz: m&mxFZ != 0,
		masks: m >> mxMaskShift & 0x3f}
}

// fpCommit ends a floating-point instruction (SDM Vol. 1, 11.5.3): if a pre-computation
// exception is unmasked, only the pre-computation flags are set and #XM is raised; else if
// a post-computation exception is unmasked, all flags are set and #XM is raised; else the
// flags are ORed into MXCSR and the caller writes its result. #XM leaves the destination
// unchanged because the caller writes only after fpCommit returns.
func (c *CPU) fpCommit(e *fpEnv) {
	pre, post := e.flags&mxPre, e.flags&mxPost
	if pre&^e.masks != 0 {
		c.ext.MXCSR |= pre
		c.raise(VecXM, 0, 0)
	}
	c.ext.MXCSR |= pre | post
	if post&^e.masks != 0 {
		c.raise(VecXM, 0, 0)
	}
}

// Classes of unpacked numbers.
const (
	fpZero = iota
	fpFinite
	fpInf
	fpNaN
)

// fpNum is an unpacked operand. For fpFinite the value is sig * 2^(exp-63), bit 63 of sig set.
type fpNum struct {
	cls  uint8
	neg  bool
	den  bool // a denormal operand (not flushed by DAZ)
	exp  int
	sig  uint64
	bits uint64 // the operand as given (after DAZ)
}

// unpack classifies x, flushing a denormal to zero under DAZ (SDM Vol. 1, 10.2.3.4).
func (e *fpEnv) unpack(f *fpFmt, x uint64) fpNum {
	n := fpNum{neg: f.neg(x), bits: x}
	ex, fr := f.expOf(x), x&f.fracMask()
	switch {
	case ex == f.expAll():
		n.cls = fpInf
		if fr != 0 {
			n.cls = fpNaN
		}
	case ex == 0:
		if fr == 0 || e.daz {
			n.cls, n.bits = fpZero, f.zero(n.neg)
			return n
		}
		lz := bits.LeadingZeros64(fr)
		n.cls, n.den = fpFinite, true
		n.sig = fr << lz
		n.exp = f.minDenom - lz
	default:
		n.cls = fpFinite
		n.sig = (fr | 1<<f.frac) << (63 - f.frac)
		n.exp = int(ex) - f.bias()
	}
	return n
}

// nan2 applies the SSE rule for two operands of which at least one is a NaN (SDM Vol. 1,
// Table 4-7): the first operand if it is a NaN, else the second, quieted; IE if either is
// an SNaN. It reports false if neither is a NaN.
func (e *fpEnv) nan2(f *fpFmt, a, b uint64) (uint64, bool) {
	an, bn := f.isNaN(a), f.isNaN(b)
	if !an && !bn {
		return 0, false
	}
	if f.isSNaN(a) || f.isSNaN(b) {
		e.flags |= mxIE
	}
	if an {
		return f.quiet(a), true
	}
	return f.quiet(b), true
}

// nan1 is nan2 for one operand.
func (e *fpEnv) nan1(f *fpFmt, a uint64) (uint64, bool) {
	if !f.isNaN(a) {
		return 0, false
	}
	if f.isSNaN(a) {
		e.flags |= mxIE
	}
	return f.quiet(a), true
}

// roundBits drops the low n bits (n >= 1) of sig, deciding by rc whether the kept part
// rounds away from zero.
func roundBits(sig uint64, n uint, rc uint8, neg bool) (kept uint64, inexact, up bool) {
	var rem, half uint64
	switch {
	case n < 64:
		kept, rem, half = sig>>n, sig&(1<<n-1), 1<<(n-1)
	case n == 64:
		rem, half = sig, 1<<63
	default: // below half a unit in the last place, but not zero
		if sig != 0 {
			rem = 1
		}
		half = 1 << 63
	}
	inexact = rem != 0
	switch rc {
	case rndNearest:
		up = rem > half || rem == half && kept&1 != 0
	case rndUp:
		up = inexact && !neg
	case rndDown:
		up = inexact && neg
	}
	return
}

// round rounds the exact nonzero value (-1)^neg * sig * 2^(exp-63) (sig normalized, sticky
// bits in bit 0) to format f, setting OE, UE and PE as the SSE unit does (SDM Vol. 1,
// 4.9.1.4 to 4.9.1.6 and 10.2.3.3): tininess is detected after rounding; a masked underflow
// is reported only when the result is also inexact, or flushed to a signed zero with UE and
// PE under FTZ; an unmasked one whenever the result is tiny.
func (e *fpEnv) round(f *fpFmt, neg bool, exp int, sig uint64) uint64 {
	p := f.frac + 1
	emin, emax := f.emin(), f.bias()
	// First with an unbounded exponent: that decides overflow and tininess.
	kept, inexact, up := roundBits(sig, 64-p, e.rc, neg)
	expU := exp
	if up {
		kept++
		if kept>>p != 0 {
			kept >>= 1
			expU++
		}
	}
	if expU > emax {
		if e.masks&mxOE == 0 {
			e.flags |= mxOE
			if inexact {
				e.flags |= mxPE
			}
			return 0 // not delivered: the instruction raises #XM
		}
		e.flags |= mxOE | mxPE
		switch {
		case e.rc == rndNearest, e.rc == rndUp && !neg, e.rc == rndDown && neg:
			return f.inf(neg)
		}
		return f.maxFinite(neg)
	}
	if exp >= emin {
		if inexact {
			e.flags |= mxPE
		}
		return f.signOf(neg) | uint64(expU+f.bias())<<f.frac | kept&f.fracMask()
	}
	tiny := expU < emin
	umasked := e.masks&mxUE != 0
	if tiny && umasked && e.ftz {
		e.flags |= mxUE | mxPE
		return f.zero(neg)
	}
	// Denormalize: fewer significand bits the further below emin.
	dkept, dinexact, dup := roundBits(sig, 64-p+uint(emin-exp), e.rc, neg)
	if dup {
		dkept++ // may carry into the exponent field: the smallest normal
	}
	if dinexact {
		e.flags |= mxPE
	}
	switch {
	case tiny && !umasked:
		e.flags |= mxUE
	case tiny && dinexact:
		e.flags |= mxUE
	}
	return f.signOf(neg) | dkept
}

// pack rounds an fpNum (zero or finite) into format f.
func (e *fpEnv) pack(f *fpFmt, n fpNum) uint64 {
	if n.cls == fpZero {
		return f.zero(n.neg)
	}
	return e.round(f, n.neg, n.exp, n.sig)
}

// shiftRightJam shifts x right by n, ORing any bit shifted out into bit 0.
func shiftRightJam(x uint64, n int) uint64 {
	switch {
	case n <= 0:
		return x
	case n >= 64:
		if x != 0 {
			return 1
		}
		return 0
	}
	r := x >> n
	if x<<(64-n) != 0 {
		r |= 1
	}
	return r
}

// add returns a + b, or a - b when sub is set (SDM Vol. 2, ADDSS/SUBSS).
func (e *fpEnv) add(f *fpFmt, a, b uint64, sub bool) uint64 {
	op := fpAdd
	if sub {
		op = fpSub
	}
	if r, ok := e.fast(f, op, a, b); ok {
		return r
	}
	if r, ok := e.nan2(f, a, b); ok {
		return r
	}
	x, y := e.unpack(f, a), e.unpack(f, b)
	if sub {
		y.neg = !y.neg
	}
	if x.cls == fpInf || y.cls == fpInf {
		if x.cls == fpInf && y.cls == fpInf && x.neg != y.neg {
			e.flags |= mxIE
			return f.defaultNaN()
		}
		if x.den || y.den {
			e.flags |= mxDE
		}
		if x.cls == fpInf {
			return f.inf(x.neg)
		}
		return f.inf(y.neg)
	}
	if x.den || y.den {
		e.flags |= mxDE
	}
	switch {
	case x.cls == fpZero && y.cls == fpZero:
		if x.neg == y.neg {
			return f.zero(x.neg)
		}
		return f.zero(e.rc == rndDown)
	case x.cls == fpZero:
		return e.pack(f, y)
	case y.cls == fpZero:
		return e.pack(f, x)
	}
	return e.addFinite(f, x, y)
}

// addFinite adds two finite nonzero numbers.
func (e *fpEnv) addFinite(f *fpFmt, x, y fpNum) uint64 {
	if x.exp < y.exp || x.exp == y.exp && x.sig < y.sig {
		x, y = y, x // now |x| >= |y|
	}
	a := x.sig >> 1 // leading one in bit 62, room for a carry
	b := shiftRightJam(y.sig>>1, x.exp-y.exp)
	if x.neg == y.neg {
		s := a + b
		if s>>63 != 0 {
			return e.round(f, x.neg, x.exp+1, s)
		}
		return e.round(f, x.neg, x.exp, s<<1)
	}
	d := a - b
	if d == 0 {
		return f.zero(e.rc == rndDown) // exact cancellation: +0, or -0 rounding down
	}
	lz := bits.LeadingZeros64(d)
	return e.round(f, x.neg, x.exp+1-lz, d<<lz)
}

// mul returns a * b.
func (e *fpEnv) mul(f *fpFmt, a, b uint64) uint64 {
	if r, ok := e.fast(f, fpMul, a, b); ok {
		return r
	}
	if r, ok := e.nan2(f, a, b); ok {
		return r
	}
	x, y := e.unpack(f, a), e.unpack(f, b)
	neg := x.neg != y.neg
	if x.cls == fpInf || y.cls == fpInf {
		if x.cls == fpZero || y.cls == fpZero {
			e.flags |= mxIE
			return f.defaultNaN()
		}
		if x.den || y.den {
			e.flags |= mxDE
		}
		return f.inf(neg)
	}
	if x.den || y.den {
		e.flags |= mxDE
	}
	if x.cls == fpZero || y.cls == fpZero {
		return f.zero(neg)
	}
	hi, lo := bits.Mul64(x.sig, y.sig)
	exp := x.exp + y.exp + 1
	if hi>>63 == 0 {
		hi, lo = hi<<1|lo>>63, lo<<1
		exp--
	}
	if lo != 0 {
		hi |= 1
	}
	return e.round(f, neg, exp, hi)
}

// div returns a / b.
func (e *fpEnv) div(f *fpFmt, a, b uint64) uint64 {
	if r, ok := e.fast(f, fpDiv, a, b); ok {
		return r
	}
	if r, ok := e.nan2(f, a, b); ok {
		return r
	}
	x, y := e.unpack(f, a), e.unpack(f, b)
	neg := x.neg != y.neg
	switch {
	case x.cls == fpInf && y.cls == fpInf, x.cls == fpZero && y.cls == fpZero:
		e.flags |= mxIE
		return f.defaultNaN()
	case y.cls == fpZero && x.cls == fpFinite:
		e.flags |= mxZE
		return f.inf(neg)
	}
	if x.den || y.den {
		e.flags |= mxDE
	}
	switch {
	case x.cls == fpInf, y.cls == fpZero: // inf / finite, inf / 0
		return f.inf(neg)
	case y.cls == fpInf, x.cls == fpZero:
		return f.zero(neg)
	}
	n, d := x.sig, y.sig
	exp := x.exp - y.exp - 1
	if n >= d {
		n >>= 1 // the significands' low bits are zero: nothing is lost
		exp++
	}
	q, r := bits.Div64(n, 0, d)
	if r != 0 {
		q |= 1
	}
	return e.round(f, neg, exp, q)
}

// sqrt returns the square root of a.
func (e *fpEnv) sqrt(f *fpFmt, a uint64) uint64 {
	if r, ok := e.fast(f, fpSqrt, 0, a); ok {
		return r
	}
	if r, ok := e.nan1(f, a); ok {
		return r
	}
	x := e.unpack(f, a)
	switch {
	case x.cls == fpZero:
		return f.zero(x.neg)
	case x.neg:
		e.flags |= mxIE
		return f.defaultNaN()
	case x.cls == fpInf:
		return a
	}
	if x.den {
		e.flags |= mxDE
	}
	// x = m * 2^(2k) with m in [1, 4): sqrt(m) in [1, 2) by the host's correctly rounded
	// square root; the FMA gives the exact remainder m - r*r, whose sign says on which side
	// of r the true root lies (SDM-independent: IEEE 754 guarantees both operations).
	odd := x.exp & 1
	m := math.Ldexp(float64(x.sig>>11), -52+odd)
	r := math.Sqrt(m)
	rem := math.FMA(-r, r, m)
	rb := math.Float64bits(r)
	sig := (rb&(1<<52-1) | 1<<52) << 11
	exp := int(rb>>52) - 1023 + (x.exp-odd)/2
	switch {
	case rem > 0:
		sig |= 1
	case rem < 0:
		if sig == 1<<63 {
			sig, exp = ^uint64(0), exp-1
		} else {
			sig--
		}
	}
	return e.round(f, false, exp, sig)
}

// convert converts a from format f to format g (CVTSS2SD, CVTSD2SS): a NaN keeps its sign
// and the top of its payload, quieted.
func (e *fpEnv) convert(f, g *fpFmt, a uint64) uint64 {
	if f.isNaN(a) {
		if f.isSNaN(a) {
			e.flags |= mxIE
		}
		p := a & f.fracMask()
		if g.frac > f.frac {
			p <<= g.frac - f.frac
		} else {
			p >>= f.frac - g.frac
		}
		return g.signOf(f.neg(a)) | g.expAll()<<g.frac | g.quietBit() | p
	}
	x := e.unpack(f, a)
	if x.den {
		e.flags |= mxDE
	}
	switch x.cls {
	case fpInf:
		return g.inf(x.neg)
	case fpZero:
		return g.zero(x.neg)
	}
	return e.round(g, x.neg, x.exp, x.sig)
}

// fromInt converts the signed integer v to format f (CVTSI2SS, CVTDQ2PS, ...).
func (e *fpEnv) fromInt(f *fpFmt, v int64) uint64 {
	if v == 0 {
		return 0
	}
	mag := uint64(v)
	if v < 0 {
		mag = -mag
	}
	lz := bits.LeadingZeros64(mag)
	return e.round(f, v < 0, 63-lz, mag<<lz)
}

// toInt converts a to a signed integer of width bits (32 or 64), rounding by rc (CVTSS2SI,
// CVTTSS2SI with rndZero). A NaN, an infinity or a value out of range gives the "integer
// indefinite" 1 << (width-1) and IE (SDM Vol. 1, 4.8.3.7); an inexact result sets PE.
// DAZ applies to the operand; these instructions report no denormal-operand exception.
func (e *fpEnv) toInt(f *fpFmt, a uint64, width uint, rc uint8) uint64 {
	indefinite := uint64(1) << (width - 1)
	if ex := f.expOf(a); ex != 0 && ex < uint64(f.bias()+62) {
		// Fast path: a normal value below 2^62 rounds exactly in float64.
		v := f.float64(a)
		var r float64
		switch rc {
		case rndNearest:
			r = math.RoundToEven(v)
		case rndDown:
			r = math.Floor(v)
		case rndUp:
			r = math.Ceil(v)
		default:
			r = math.Trunc(v)
		}
		i := int64(r)
		if width == 32 && (i < math.MinInt32 || i > math.MaxInt32) {
			e.flags |= mxIE
			return indefinite
		}
		if r != v {
			e.flags |= mxPE
		}
		return uint64(i) & (indefinite<<1 - 1)
	}
	x := e.unpack(f, a)
	switch x.cls {
	case fpNaN, fpInf:
		e.flags |= mxIE
		return indefinite
	case fpZero:
		return 0
	}
	var mag uint64
	var inexact bool
	switch {
	case x.exp >= 64:
		e.flags |= mxIE
		return indefinite
	case x.exp == 63:
		mag = x.sig
	default:
		var up bool
		mag, inexact, up = roundBits(x.sig, uint(63-x.exp), rc, x.neg)
		if up {
			mag++
		}
	}
	if mag > indefinite || mag == indefinite && !x.neg {
		e.flags |= mxIE
		return indefinite
	}
	if inexact {
		e.flags |= mxPE
	}
	if x.neg {
		mag = -mag
	}
	return mag & (indefinite<<1 - 1)
}

// roundInt rounds a to an integral value in its own format (ROUNDSS and friends, SDM
// Vol. 2); PE is reported for an inexact result unless suppressed by imm8[3].
func (e *fpEnv) roundInt(f *fpFmt, a uint64, rc uint8, suppressPE bool) uint64 {
	if r, ok := e.nan1(f, a); ok {
		return r
	}
	x := e.unpack(f, a)
	switch {
	case x.cls != fpFinite:
		return x.bits
	case x.exp >= int(f.frac):
		return a // already an integer
	}
	mag, inexact, up := roundBits(x.sig, uint(63-x.exp), rc, x.neg)
	if up {
		mag++
	}
	if inexact && !suppressPE {
		e.flags |= mxPE
	}
	if mag == 0 {
		return f.zero(x.neg)
	}
	lz := bits.LeadingZeros64(mag)
	return e.round(f, x.neg, 63-lz, mag<<lz) // exact
}

// Comparison results.
const (
	cmpLess = iota
	cmpEqual
	cmpGreater
	cmpUnordered
)

// compare orders a and b. A NaN makes them unordered; IE is set for an SNaN, or for any NaN
// when signaling (COMISS, and the LT LE NLT NLE predicates of CMPPS). DE is set for a
// denormal operand when no NaN is present.
func (e *fpEnv) compare(f *fpFmt, a, b uint64, signaling bool) int {
	if f.isNaN(a) || f.isNaN(b) {
		if signaling || f.isSNaN(a) || f.isSNaN(b) {
			e.flags |= mxIE
		}
		return cmpUnordered
	}
	var fa, fb float64
	if f.isDenormal(a) || f.isDenormal(b) {
		x, y := e.unpack(f, a), e.unpack(f, b)
		if x.den || y.den {
			e.flags |= mxDE
		}
		fa, fb = e.toFloat64(f, x), e.toFloat64(f, y)
	} else {
		fa, fb = f.float64(a), f.float64(b)
	}
	switch {
	case fa < fb:
		return cmpLess
	case fa > fb:
		return cmpGreater
	}
	return cmpEqual
}

// toFloat64 returns the value of a non-NaN operand (exact: both formats fit in float64;
// zeros lose their sign, which no comparison looks at).
func (e *fpEnv) toFloat64(f *fpFmt, x fpNum) float64 {
	var v float64
	switch x.cls {
	case fpZero:
		return 0
	case fpInf:
		v = math.Inf(1)
	default:
		v = math.Ldexp(float64(x.sig>>11), x.exp-52)
	}
	if x.neg {
		v = -v
	}
	return v
}

// float64 returns the value of a non-NaN operand.
func (f *fpFmt) float64(x uint64) float64 {
	if f == fmt64 {
		return math.Float64frombits(x)
	}
	return float64(math.Float32frombits(uint32(x)))
}

// minMax returns MINSS/MAXSS of a and b (SDM Vol. 2, MAXSS): the second operand when either
// is a NaN (with IE, QNaN or SNaN alike) or both are zeros; otherwise the smaller (larger).
// The operands are taken after DAZ, so a flushed denormal comes back as a zero (as the
// host CPU shows).
func (e *fpEnv) minMax(f *fpFmt, a, b uint64, isMax bool) uint64 {
	x, y := e.unpack(f, a), e.unpack(f, b)
	if x.cls == fpNaN || y.cls == fpNaN {
		e.flags |= mxIE
		return y.bits
	}
	if x.den || y.den {
		e.flags |= mxDE
	}
	fa, fb := e.toFloat64(f, x), e.toFloat64(f, y)
	if isMax && fa > fb || !isMax && fa < fb {
		return x.bits
	}
	return y.bits
}
