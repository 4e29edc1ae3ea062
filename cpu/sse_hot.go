package cpu

// Fast forms of the SSE instructions compiled floating-point and vectorized code uses most,
// which the block optimizer (int_fast.go) substitutes for the table-driven cold ops of
// sse.go: full-register moves, loads and stores, bitwise logic and 64-bit lane arithmetic,
// and the scalar and packed add, subtract, multiply, divide, square root, minimum and
// maximum. They read and write exactly what the cold ops do, through the same memory
// helpers, so faults, TLB lookups and results are the same.
//
// Arithmetic runs on the host's IEEE operations when that provably gives the exact unit's
// result and flags: MXCSR rounds to nearest with the precision exception masked and its
// flag already set (so an inexact result changes nothing); no operand is a NaN or a
// denormal, and no divisor is zero (no denormal or divide-by-zero exception, no NaN to
// propagate); and the result is a normal number away from the bottom of the range, or a
// zero or infinity that is exact because an operand was zero or infinite or a sum cancelled
// (no invalid operation, no overflow, no underflow, however tininess is detected). Go's float64 and float32 + - * / and sqrt round
// to nearest, ties to even, as SSE does, and each is a single operation here, so nothing
// can be fused. Anything else is computed by the exact unit (sse_float.go) from the same
// loaded operands.

import (
	"encoding/binary"
	"math"

	"golang.org/x/arch/x86/x86asm"
)

// Sub-operations of opXmmInt.
const (
	xiXor = iota
	xiAnd
	xiOr
	xiAndn
	xiAddQ
	xiSubQ
	xiAddD
	xiSubD
	xiUnpckLQ // low quadwords interleaved: {d[0], s[0]}
	xiUnpckHQ // high quadwords: {d[1], s[1]}
	xiUnpckLBW
	xiUnpckHBW
	xiUnpckLWD
	xiUnpckHWD
	xiUnpckLDQ
	xiUnpckHDQ
	xiCmpEqB
	xiCmpEqW
	xiCmpEqD
	xiAddB
	xiSubB
)

// opXmmComi's sub.
const (
	xcSingle    = 1 << iota // COMISS, UCOMISS (else the double forms)
	xcSignaling             // COMISS, COMISD: any NaN is invalid (else only SNaNs)
)

// Sub-operations of opXmmLoad and opXmmStore.
const (
	xlZero = iota // load: zero-extend in.size bytes; store: the low in.size bytes
	xlLow         // load: replace the low quadword
	xlHigh        // load: replace the high quadword; store: the high quadword
)

// opXmmFP's sub: the fpOp in bits 3:0, the kind in bits 5:4.
const (
	xfSD = iota << 4
	xfPD
	xfSS
	xfPS
)

// sseATables maps a shape-A cold op to its function table, so a fast op can fall back to
// the exact function of the instruction it replaced.
var sseATables [opLimit]*[256]sseAFn

// hotSSE gives a cold instruction its fast form, if it has one: an x87 one's is decided
// here, an SSE one's was at decode time (sseHotForm).
func hotSSE(in *inst) {
	if in.op == opX87 {
		if x87HasHot(in) {
			in.op = opX87Fast // (x87_fast.go)
		}
		return
	}
	if in.hot != 0 {
		in.op, in.sub = in.hot, in.hotSub
	}
}

// sseHotForm returns the op and sub of the fast form of a cold instruction in, decoded from
// x, or 0 when it has none. Preconditions: in is as decodeInto left it; an SSE instruction
// was decoded by the SSE decoders (its operands are XMM registers or memory).
func sseHotForm(in *inst, x *x86asm.Inst) (uint16, uint8) {
	h := *in
	h.setHotSSE(x)
	if h.op == in.op && h.sub == in.sub {
		return 0, 0
	}
	return h.op, h.sub
}

// setHotSSE gives in, an SSE instruction decoded from x, its fast form, if it has one.
func (in *inst) setHotSSE(x *x86asm.Inst) {
	if in.form&fLock != 0 {
		return
	}
	if x.Op.String() == "PMOVMSKB" {
		if _, ok := xmmReg(x.Args[1]); ok && in.dst < 16 {
			in.op = opXmmMovmsk
		}
		return
	}
	if in.form&fDstMem != 0 {
		if _, ok := xmmReg(x.Args[1]); !ok {
			return
		}
	} else if _, ok := xmmReg(x.Args[0]); !ok {
		return // a general-purpose or MMX destination
	} else if _, ok := xmmReg(x.Args[1]); !ok && in.form&fSrcMem == 0 {
		return // MOVQ xmm, r64 and friends
	}
	mem := in.form&fSrcMem != 0
	name := x.Op.String()
	switch name {
	case "MOVAPS", "MOVUPS", "MOVAPD", "MOVUPD", "MOVDQA", "MOVDQU":
		switch {
		case in.form&fDstMem != 0:
			in.op, in.sub = opXmmStore, xlZero
		case mem:
			in.op, in.sub = opXmmLoad, xlZero
		default:
			in.op = opXmmMov
		}
	case "MOVSD_XMM", "MOVSS", "MOVQ":
		switch {
		case in.form&fDstMem != 0:
			in.op, in.sub = opXmmStore, xlZero
		case mem:
			in.op, in.sub = opXmmLoad, xlZero
		case name == "MOVSD_XMM":
			in.op = opXmmMovLo
		}
	case "MOVLPD", "MOVLPS", "MOVHPD", "MOVHPS":
		high := name[3] == 'H'
		switch {
		case in.form&fDstMem != 0 && high:
			in.op, in.sub = opXmmStore, xlHigh
		case in.form&fDstMem != 0:
			in.op, in.sub = opXmmStore, xlZero
		case mem && high:
			in.op, in.sub = opXmmLoad, xlHigh
		case mem:
			in.op, in.sub = opXmmLoad, xlLow
		}
	case "PXOR", "XORPS", "XORPD":
		in.op, in.sub = opXmmInt, xiXor
	case "PAND", "ANDPS", "ANDPD":
		in.op, in.sub = opXmmInt, xiAnd
	case "POR", "ORPS", "ORPD":
		in.op, in.sub = opXmmInt, xiOr
	case "PANDN", "ANDNPS", "ANDNPD":
		in.op, in.sub = opXmmInt, xiAndn
	case "PADDQ":
		in.op, in.sub = opXmmInt, xiAddQ
	case "PSUBQ":
		in.op, in.sub = opXmmInt, xiSubQ
	case "PADDD":
		in.op, in.sub = opXmmInt, xiAddD
	case "PSUBD":
		in.op, in.sub = opXmmInt, xiSubD
	case "UNPCKLPD", "PUNPCKLQDQ":
		in.op, in.sub = opXmmInt, xiUnpckLQ
	case "UNPCKHPD", "PUNPCKHQDQ":
		in.op, in.sub = opXmmInt, xiUnpckHQ
	case "PUNPCKLBW":
		in.op, in.sub = opXmmInt, xiUnpckLBW
	case "PUNPCKHBW":
		in.op, in.sub = opXmmInt, xiUnpckHBW
	case "PUNPCKLWD":
		in.op, in.sub = opXmmInt, xiUnpckLWD
	case "PUNPCKHWD":
		in.op, in.sub = opXmmInt, xiUnpckHWD
	case "PUNPCKLDQ", "UNPCKLPS":
		in.op, in.sub = opXmmInt, xiUnpckLDQ
	case "PUNPCKHDQ", "UNPCKHPS":
		in.op, in.sub = opXmmInt, xiUnpckHDQ
	case "PCMPEQB":
		in.op, in.sub = opXmmInt, xiCmpEqB
	case "PCMPEQW":
		in.op, in.sub = opXmmInt, xiCmpEqW
	case "PCMPEQD":
		in.op, in.sub = opXmmInt, xiCmpEqD
	case "PADDB":
		in.op, in.sub = opXmmInt, xiAddB
	case "PSUBB":
		in.op, in.sub = opXmmInt, xiSubB
	case "CVTPS2DQ", "CVTTPS2DQ":
		in.op, in.sub = opXmmCvtPS2DQ, 0
		if name[3] == 'T' {
			in.sub = 1
		}
	case "COMISD", "UCOMISD", "COMISS", "UCOMISS":
		in.op, in.sub = opXmmComi, 0
		if name[len(name)-1] == 'S' {
			in.sub |= xcSingle
		}
		if name[0] == 'C' {
			in.sub |= xcSignaling
		}
	default:
		if op, ok := hotFP[name]; ok {
			in.op, in.sub = opXmmFP, op
		} else if sseATables[in.op] != nil && in.ssize&sseGPR == 0 && in.form&fDstMem == 0 {
			in.op = opXmmA // the same function, without the cold-op dispatch
		}
	}
}

// hotFP lists the arithmetic with a fast form, by mnemonic.
var hotFP = func() map[string]uint8 {
	m := map[string]uint8{}
	for _, f := range []struct {
		name string
		op   fpOp
	}{{"ADD", fpAdd}, {"SUB", fpSub}, {"MUL", fpMul}, {"DIV", fpDiv}, {"SQRT", fpSqrt},
		{"MIN", fpMin}, {"MAX", fpMax}} {
		m[f.name+"SD"] = uint8(f.op) | xfSD
		m[f.name+"PD"] = uint8(f.op) | xfPD
		m[f.name+"SS"] = uint8(f.op) | xfSS
		m[f.name+"PS"] = uint8(f.op) | xfPS
	}
	return m
}()

// xmmSrc is the source operand of a fast shape-A op: an XMM register, or memory of in.size
// bytes zero-extended.
func (c *CPU) xmmSrc(in *inst) vec {
	var s0, s1 uint64 // xmmSrc2, the register case written out
	if in.form&fSrcMem != 0 {
		s0, s1 = c.xmmSrcMem(in)
	} else {
		r := &c.ext.XMM[in.src&15]
		s0, s1 = r[0], r[1]
	}
	return vec{s0, s1}
}

// xmmSrc2 is xmmSrc as its two quadwords, the form the hot ops use.
//
// The hot ops read and write XMM registers a quadword at a time and never copy a whole
// vec from a register just written: a 16-byte load of what two 8-byte stores wrote cannot
// be forwarded from the store buffer and stalls until the stores retire (tens of cycles
// on the hosts measured; SSEFloatLoop and the sieve's SSE2 count loop lost most of their
// time there).
func (c *CPU) xmmSrc2(in *inst) (uint64, uint64) {
	if in.form&fSrcMem != 0 {
		return c.xmmSrcMem(in)
	}
	r := &c.ext.XMM[in.src&15]
	return r[0], r[1]
}

// xmmSrcMem is xmmSrc2's memory operand.
func (c *CPU) xmmSrcMem(in *inst) (uint64, uint64) {
	return c.sseLoad2(c.ea(in), in.size, in.ssize&sseAligned != 0)
}

// xmmLoad executes opXmmLoad.
func (c *CPU) xmmLoad(in *inst) {
	v0, v1 := c.sseLoad2(c.ea(in), in.size, in.ssize&sseAligned != 0)
	d := &c.ext.XMM[in.dst&15]
	switch in.sub {
	case xlZero:
		d[0], d[1] = v0, v1
	case xlLow:
		d[0] = v0
	default:
		d[1] = v0
	}
}

// xmmStore executes opXmmStore.
func (c *CPU) xmmStore(in *inst) {
	ea := c.ea(in)
	r := &c.ext.XMM[in.src&15]
	v0, v1 := r[0], r[1]
	if in.sub == xlHigh {
		v0 = v1
	}
	// A 16-byte store inside a page remembered for writing: sseCheckStore's translation
	// and write's two, written out (the same three TLB hits).
	if u := &c.utlb[ea>>12&(utlbSize-1)]; u.wtag == ea>>12 && ea&0xfff <= 0x1000-16 && in.size == 16 &&
		(in.ssize&sseAligned == 0 || ea&15 == 0) {
		c.dtlb.Hit(u.e)
		c.dtlb.Hit(u.e)
		c.dtlb.Hit(u.e)
		binary.LittleEndian.PutUint64(u.frame[ea&0xfff:], v0)
		binary.LittleEndian.PutUint64(u.frame[ea&0xfff+8:], v1)
		return
	}
	c.sseCheckStore(ea, in.size, in.ssize&sseAligned != 0)
	if in.size == 16 {
		c.write(ea, 8, v0)
		c.write(ea+8, 8, v1)
		return
	}
	c.write(ea, in.size, v0)
}

// xmmInt executes opXmmInt.
func (c *CPU) xmmInt(in *inst) {
	var s0, s1 uint64 // xmmSrc2, the register case written out
	if in.form&fSrcMem != 0 {
		s0, s1 = c.xmmSrcMem(in)
	} else {
		r := &c.ext.XMM[in.src&15]
		s0, s1 = r[0], r[1]
	}
	d := &c.ext.XMM[in.dst&15]
	d0, d1 := d[0], d[1]
	switch in.sub {
	case xiXor:
		d0, d1 = d0^s0, d1^s1
	case xiAnd:
		d0, d1 = d0&s0, d1&s1
	case xiOr:
		d0, d1 = d0|s0, d1|s1
	case xiAndn:
		d0, d1 = ^d0&s0, ^d1&s1
	case xiAddQ:
		d0, d1 = d0+s0, d1+s1
	case xiSubQ:
		d0, d1 = d0-s0, d1-s1
	case xiAddD:
		d0, d1 = addD(d0, s0), addD(d1, s1)
	case xiSubD:
		d0, d1 = subD(d0, s0), subD(d1, s1)
	case xiUnpckLQ:
		d1 = s0
	case xiUnpckHQ:
		d0, d1 = d1, s1
	case xiUnpckLBW, xiUnpckHBW, xiUnpckLWD, xiUnpckHWD, xiUnpckLDQ, xiUnpckHDQ:
		k := in.sub - xiUnpckLBW
		a, b := d0, s0
		if k&1 != 0 {
			a, b = d1, s1
		}
		switch k / 2 {
		case 0:
			d0, d1 = spread8(uint32(a))|spread8(uint32(b))<<8, spread8(uint32(a>>32))|spread8(uint32(b>>32))<<8
		case 1:
			d0, d1 = spread16(uint32(a))|spread16(uint32(b))<<16, spread16(uint32(a>>32))|spread16(uint32(b>>32))<<16
		default:
			d0, d1 = a&0xffffffff|b<<32, a>>32|b&^0xffffffff
		}
	case xiCmpEqB:
		d0, d1 = eqLanes(d0, s0, 8), eqLanes(d1, s1, 8)
	case xiCmpEqW:
		d0, d1 = eqLanes(d0, s0, 16), eqLanes(d1, s1, 16)
	case xiCmpEqD:
		d0, d1 = eqLanes(d0, s0, 32), eqLanes(d1, s1, 32)
	case xiAddB:
		d0, d1 = addBytes(d0, s0), addBytes(d1, s1)
	case xiSubB:
		d0, d1 = subBytes(d0, s0), subBytes(d1, s1)
	default:
		return
	}
	d[0], d[1] = d0, d1
}

// xmmCvtPS2DQ executes opXmmCvtPS2DQ: four floats to int32, rounded to nearest
// (CVTPS2DQ, under fastMXCSR) or truncated (CVTTPS2DQ). A NaN or out-of-range lane gives
// the integer indefinite 80000000H and raises invalid, an inexact one precision: the host
// converts when those flags are set already and masked, else the exact unit does.
func (c *CPU) xmmCvtPS2DQ(in, raw *inst) {
	var s0, s1 uint64 // xmmSrc2, the register case written out
	if in.form&fSrcMem != 0 {
		s0, s1 = c.xmmSrcMem(in)
	} else {
		r := &c.ext.XMM[in.src&15]
		s0, s1 = r[0], r[1]
	}
	d := &c.ext.XMM[in.dst&15]
	m := c.ext.MXCSR
	const pm, im = mxPE << mxMaskShift, mxIE << mxMaskShift
	ok := m&(pm|mxPE) == pm|mxPE && (in.sub == 1 || m&(3<<mxRCShift) == 0)
	if !ok {
		c.xmmExact(d, s0, s1, raw, uint8(raw.imm))
		return
	}
	trunc, indef := in.sub == 1, m&(im|mxIE) == im|mxIE // NaN or out of range: flagged already
	r0, ok0 := cvtLane(uint32(s0), trunc, indef)
	r1, ok1 := cvtLane(uint32(s0>>32), trunc, indef)
	r2, ok2 := cvtLane(uint32(s1), trunc, indef)
	r3, ok3 := cvtLane(uint32(s1>>32), trunc, indef)
	if !(ok0 && ok1 && ok2 && ok3) {
		c.xmmExact(d, s0, s1, raw, uint8(raw.imm))
		return
	}
	d[0], d[1] = uint64(r0)|uint64(r1)<<32, uint64(r2)|uint64(r3)<<32
}

// cvtLane converts one float lane to int32 for xmmCvtPS2DQ: truncated, or rounded to
// nearest even. Truncation is the conversion's own; a float32 of magnitude 2^23 or more is
// an integer, and below that adding and taking away 1.5*2^52 rounds to nearest even (the
// host rounds to nearest). A float32 in [-2^31, 2^31) stays in range either way. Out of
// range or NaN gives the integer indefinite when indef allows (invalid flagged already),
// else false.
func cvtLane(bits uint32, trunc, indef bool) (uint32, bool) {
	x := float64(math.Float32frombits(bits))
	if !trunc && x > -0x1p23 && x < 0x1p23 {
		x = x + 0x1.8p52 - 0x1.8p52
	}
	if x >= -0x1p31 && x < 0x1p31 {
		return uint32(int32(x)), true
	}
	return 0x80000000, indef
}

// xmmA executes opXmmA: the instruction's own table function (raw names it), called
// directly.
func (c *CPU) xmmA(in, raw *inst) {
	var s0, s1 uint64 // xmmSrc2, the register case written out
	if in.form&fSrcMem != 0 {
		s0, s1 = c.xmmSrcMem(in)
	} else {
		r := &c.ext.XMM[in.src&15]
		s0, s1 = r[0], r[1]
	}
	c.xmmExact(&c.ext.XMM[in.dst&15], s0, s1, raw, uint8(in.imm))
}

// xmmExact runs raw's table function on d and the source s0:s1 and writes d, reading and
// writing d a quadword at a time (see xmmSrc2).
func (c *CPU) xmmExact(d *vec, s0, s1 uint64, raw *inst, imm uint8) {
	r := sseATables[raw.op][raw.sub](c, vec{d[0], d[1]}, vec{s0, s1}, imm)
	d[0], d[1] = r[0], r[1]
}

// xmmComi executes opXmmComi: ZF, PF and CF from an ordered or unordered comparison, OF, SF
// and AF cleared (SDM Vol. 2A, COMISD). Operands that are neither NaN nor denormal raise
// nothing and compare on the host; others go through the exact unit.
func (c *CPU) xmmComi(in *inst) {
	var s uint64 // xmmSrc2's low quadword, the register case written out
	if in.form&fSrcMem != 0 {
		s, _ = c.xmmSrcMem(in)
	} else {
		s = c.ext.XMM[in.src&15][0]
	}
	d := c.ext.XMM[in.dst&15][0]
	var r int
	if in.sub&xcSingle != 0 {
		a, b := uint32(d), uint32(s)
		if comiPlain32(a) && comiPlain32(b) {
			r = cmpOf(float64(math.Float32frombits(a)), float64(math.Float32frombits(b)))
		} else {
			r = c.comiExact(fmt32, uint64(a), uint64(b), in.sub&xcSignaling != 0)
		}
	} else {
		if comiPlain64(d) && comiPlain64(s) {
			r = cmpOf(math.Float64frombits(d), math.Float64frombits(s))
		} else {
			r = c.comiExact(fmt64, d, s, in.sub&xcSignaling != 0)
		}
	}
	var fl uint64
	switch r {
	case cmpUnordered:
		fl = FlagZF | FlagPF | FlagCF
	case cmpLess:
		fl = FlagCF
	case cmpEqual:
		fl = FlagZF
	}
	c.rflags = c.rflags&^ArithFlags | fl // every arithmetic flag is written: the lazy record is dropped
	c.lz.kind = lzNone
}

// comiPlain64 reports whether x is a zero, a normal number or an infinity: an operand that
// compares without raising anything.
func comiPlain64(x uint64) bool {
	e := x >> 52 & 0x7ff
	return e != 0 && e != 0x7ff || x<<12 == 0
}

func comiPlain32(x uint32) bool {
	e := x >> 23 & 0xff
	return e != 0 && e != 0xff || x<<9 == 0
}

func cmpOf(a, b float64) int {
	switch {
	case a < b:
		return cmpLess
	case a > b:
		return cmpGreater
	}
	return cmpEqual
}

// comiExact compares through the exact unit, which sets IE and DE in MXCSR (and raises #XM
// when they are unmasked) before anything else changes.
func (c *CPU) comiExact(f *fpFmt, a, b uint64, signaling bool) int {
	m := f.signBit()<<1 - 1
	e := c.fpEnv()
	r := e.compare(f, a&m, b&m, signaling)
	c.fpCommit(&e)
	return r
}

// addD adds the two dword lanes of a and b.
func addD(a, b uint64) uint64 {
	return uint64(uint32(a)+uint32(b)) | uint64(uint32(a>>32)+uint32(b>>32))<<32
}

// subD subtracts the two dword lanes of b from those of a.
func subD(a, b uint64) uint64 {
	return uint64(uint32(a)-uint32(b)) | uint64(uint32(a>>32)-uint32(b>>32))<<32
}

// fastMXCSR reports whether MXCSR lets the host's arithmetic stand in for the exact unit:
// round to nearest, precision exception masked, its flag set already.
func fastMXCSR(m uint32) bool {
	const rc, pm = 3 << mxRCShift, mxPE << mxMaskShift
	return m&(rc|pm|mxPE) == pm|mxPE
}

// looseMXCSR reports whether MXCSR makes the host's IEEE result exact for denormal operands
// and results too: round to nearest, no FTZ or DAZ, every exception masked, and the
// denormal, underflow and precision flags set already, so raising them changes nothing.
// (loose64 still leaves to the exact unit what could raise invalid, divide-by-zero or
// overflow: a NaN, a zero divisor, an infinity from finite operands. Which NaN a result is
// follows x86 rules the host need not share.)
func looseMXCSR(m uint32) bool {
	const want = 0x3f<<mxMaskShift | mxDE | mxUE | mxPE
	return m&(3<<mxRCShift|mxFZ|mxDAZ|0x3f<<mxMaskShift|mxDE|mxUE|mxPE) == want
}

// hostArith64 is op (fpAdd to fpSqrt; sqrt takes y) on the host's binary64, which rounds to
// nearest as SSE does under the MXCSR states its callers accept. Small enough to be inlined
// into the hot paths.
func hostArith64(op fpOp, x, y float64) float64 {
	switch op {
	case fpAdd:
		return x + y
	case fpSub:
		return x - y
	case fpMul:
		return x * y
	case fpDiv:
		return x / y
	}
	return math.Sqrt(y)
}

// hostArith32 is hostArith64 for binary32. The square root goes through binary64, whose
// result rounded once more to binary32 is the correctly rounded root (see fast32).
func hostArith32(op fpOp, x, y float32) float32 {
	switch op {
	case fpAdd:
		return x + y
	case fpSub:
		return x - y
	case fpMul:
		return x * y
	case fpDiv:
		return x / y
	}
	return float32(math.Sqrt(float64(y)))
}

// loose64 computes op on the host under looseMXCSR: any operands and result but NaNs, a
// zero divisor, and an infinity from finite operands.
func loose64(op fpOp, a, b uint64) (uint64, bool) {
	x, y := math.Float64frombits(a), math.Float64frombits(b)
	var r float64
	switch op {
	case fpAdd, fpSub, fpMul, fpDiv, fpSqrt:
		r = hostArith64(op, x, y)
	case fpMin, fpMax:
		if x != x || y != y {
			return 0, false
		}
		if op == fpMin && x < y || op == fpMax && x > y {
			return a, true
		}
		return b, true
	default:
		return 0, false
	}
	if r != r || x != x || y != y || op == fpDiv && y == 0 ||
		math.IsInf(r, 0) && !math.IsInf(x, 0) && !math.IsInf(y, 0) {
		return 0, false
	}
	return math.Float64bits(float64(r)), true
}

// loose32 is loose64 for binary32.
func loose32(op fpOp, a, b uint32) (uint32, bool) {
	x, y := math.Float32frombits(a), math.Float32frombits(b)
	var r float32
	switch op {
	case fpAdd, fpSub, fpMul, fpDiv, fpSqrt:
		r = hostArith32(op, x, y)
	case fpMin, fpMax:
		if x != x || y != y {
			return 0, false
		}
		if op == fpMin && x < y || op == fpMax && x > y {
			return a, true
		}
		return b, true
	default:
		return 0, false
	}
	if r != r || x != x || y != y || op == fpDiv && y == 0 ||
		isInf32(r) && !isInf32(x) && !isInf32(y) {
		return 0, false
	}
	return math.Float32bits(float32(r)), true
}

// xmmFP executes opXmmFP; raw is the instruction as decoded, whose exact function computes
// whatever the host's arithmetic may not.
//
// The register source is read here rather than through xmmSrc2, and the packed forms call
// packedPD and packedPS directly: this is the hottest SSE op, and each call it saves is a
// tenth of its cost.
func (c *CPU) xmmFP(in, raw *inst) {
	var s0, s1 uint64
	if in.form&fSrcMem != 0 {
		s0, s1 = c.sseLoad2(c.ea(in), in.size, in.ssize&sseAligned != 0)
	} else {
		r := &c.ext.XMM[in.src&15]
		s0, s1 = r[0], r[1]
	}
	c.xmmFPFrom(in, raw, &c.ext.XMM[in.dst&15], s0, s1)
}

// xmmFPFrom is xmmFP once the source s0:s1 is loaded and d names the destination.
func (c *CPU) xmmFPFrom(in, raw *inst, d *vec, s0, s1 uint64) {
	s := vec{s0, s1} // (written a quadword at a time, and read so: see xmmSrc2)
	if m := c.ext.MXCSR; fastMXCSR(m) {
		loose := looseMXCSR(m)
		op := fpOp(in.sub & 15)
		switch in.sub &^ 15 {
		case xfSD:
			if r, ok := fast64(op, d[0], s[0], loose); ok {
				d[0] = r
				return
			}
		case xfPD:
			if op <= fpSqrt {
				if packedPD(op, d, &s, loose) {
					return
				}
				break
			}
			r0, ok0 := fast64(op, d[0], s[0], loose)
			r1, ok1 := fast64(op, d[1], s[1], loose)
			if ok0 && ok1 {
				d[0], d[1] = r0, r1
				return
			}
		case xfSS:
			if r, ok := fast32(op, uint32(d[0]), uint32(s[0]), loose); ok {
				d[0] = d[0]&^0xffffffff | uint64(r)
				return
			}
		case xfPS:
			if op <= fpSqrt {
				if packedPS(op, d, &s, loose) {
					return
				}
				break
			}
			r0, ok0 := fast32(op, uint32(d[0]), uint32(s[0]), loose)
			r1, ok1 := fast32(op, uint32(d[0]>>32), uint32(s[0]>>32), loose)
			r2, ok2 := fast32(op, uint32(d[1]), uint32(s[1]), loose)
			r3, ok3 := fast32(op, uint32(d[1]>>32), uint32(s[1]>>32), loose)
			if ok0 && ok1 && ok2 && ok3 {
				d[0], d[1] = uint64(r0)|uint64(r1)<<32, uint64(r2)|uint64(r3)<<32
				return
			}
		}
	}
	c.xmmExact(d, s0, s1, raw, uint8(raw.imm))
}

// fast64 computes op on binary64 a and b with the host's arithmetic, when the operands and
// the result are such that only the (already flagged) precision exception can occur: the
// operands are normal, zero or infinite (a zero divisor aside); and the result is a normal
// number clear of the bottom of the range, or a zero or infinity that is exact (an operand
// was zero or infinite, or a sum cancelled).
func fast64(op fpOp, a, b uint64, loose bool) (uint64, bool) {
	const expMask, fracMask = 0x7ff << 52, 1<<52 - 1
	if loose {
		return loose64(op, a, b)
	}
	ea, eb := a&expMask, b&expMask
	if eb == 0 && b&fracMask != 0 || eb == expMask && b&fracMask != 0 || op == fpDiv && b<<1 == 0 ||
		op != fpSqrt && (ea == 0 && a&fracMask != 0 || ea == expMask && a&fracMask != 0) {
		return 0, false // a denormal or a NaN; or a division by zero
	}
	x, y := math.Float64frombits(a), math.Float64frombits(b)
	var r float64
	switch op {
	case fpAdd:
		r = x + y
	case fpSub:
		r = x - y
	case fpMul:
		r = x * y
	case fpDiv:
		r = x / y
	case fpSqrt:
		if y < 0 {
			return 0, false
		}
		r = math.Sqrt(y)
		a = b // for the special-operand test below
	case fpMin:
		if x < y {
			return a, true
		}
		return b, true
	case fpMax:
		if x > y {
			return a, true
		}
		return b, true
	default:
		return 0, false
	}
	bits := math.Float64bits(float64(r))
	if e := bits & expMask; e-2<<52 < expMask-2<<52 {
		return bits, true // normal, and not near the bottom of the range
	}
	// A zero, an infinity, a NaN or a result near the bottom of the range: exact only when an
	// operand was zero or infinite (or a sum cancelled), never for a NaN.
	special := a&expMask == 0 || a&expMask == expMask || b&expMask == 0 || b&expMask == expMask
	if r != r || !(special || bits<<1 == 0 && op <= fpSub) || bits&expMask != 0 && bits&expMask != expMask {
		return 0, false
	}
	return bits, true
}

// fast32 is fast64 for binary32.
func fast32(op fpOp, a, b uint32, loose bool) (uint32, bool) {
	const expMask, fracMask = 0xff << 23, 1<<23 - 1
	if loose {
		return loose32(op, a, b)
	}
	ea, eb := a&expMask, b&expMask
	if eb == 0 && b&fracMask != 0 || eb == expMask && b&fracMask != 0 || op == fpDiv && b<<1 == 0 ||
		op != fpSqrt && (ea == 0 && a&fracMask != 0 || ea == expMask && a&fracMask != 0) {
		return 0, false
	}
	x, y := math.Float32frombits(a), math.Float32frombits(b)
	var r float32
	switch op {
	case fpAdd:
		r = x + y
	case fpSub:
		r = x - y
	case fpMul:
		r = x * y
	case fpDiv:
		r = x / y
	case fpSqrt:
		if y < 0 {
			return 0, false
		}
		// The double square root of a float, rounded to float, is the correctly rounded
		// float square root (53 >= 2*24 + 2: double rounding is innocuous).
		r = float32(math.Sqrt(float64(y)))
		a = b
	case fpMin:
		if x < y {
			return a, true
		}
		return b, true
	case fpMax:
		if x > y {
			return a, true
		}
		return b, true
	default:
		return 0, false
	}
	bits := math.Float32bits(float32(r))
	if e := bits & expMask; e-2<<23 < expMask-2<<23 {
		return bits, true
	}
	special := a&expMask == 0 || a&expMask == expMask || b&expMask == 0 || b&expMask == expMask
	if r != r || !(special || bits<<1 == 0 && op <= fpSub) || bits&expMask != 0 && bits&expMask != expMask {
		return 0, false
	}
	return bits, true
}

func isInf32(x float32) bool { return math.Float32bits(x)&0x7fffffff == 0x7f800000 }

// packedPS is fast32 for the four lanes of a packed single ADD, SUB, MUL, DIV or SQRT at
// once: one dispatch on the operation, the four host results, then each lane checked as
// fast32 (or loose32) checks it. It writes d and returns true only when every lane passes;
// otherwise d is left alone for the exact unit. (Written out lane by lane: loops over
// arrays cost Go twice as much here.)
func packedPS(op fpOp, d, s *vec, loose bool) bool {
	a0, a1, a2, a3 := uint32(d[0]), uint32(d[0]>>32), uint32(d[1]), uint32(d[1]>>32)
	b0, b1, b2, b3 := uint32(s[0]), uint32(s[0]>>32), uint32(s[1]), uint32(s[1]>>32)
	x0, x1, x2, x3 := math.Float32frombits(a0), math.Float32frombits(a1), math.Float32frombits(a2), math.Float32frombits(a3)
	y0, y1, y2, y3 := math.Float32frombits(b0), math.Float32frombits(b1), math.Float32frombits(b2), math.Float32frombits(b3)
	var r0, r1, r2, r3 float32
	switch op {
	case fpAdd:
		r0, r1, r2, r3 = x0+y0, x1+y1, x2+y2, x3+y3
	case fpSub:
		r0, r1, r2, r3 = x0-y0, x1-y1, x2-y2, x3-y3
	case fpMul:
		r0, r1, r2, r3 = x0*y0, x1*y1, x2*y2, x3*y3
	case fpDiv:
		r0, r1, r2, r3 = x0/y0, x1/y1, x2/y2, x3/y3
	case fpSqrt: // see fast32
		r0, r1 = float32(math.Sqrt(float64(y0))), float32(math.Sqrt(float64(y1)))
		r2, r3 = float32(math.Sqrt(float64(y2))), float32(math.Sqrt(float64(y3)))
	default:
		return false
	}
	o0, o1, o2, o3 := math.Float32bits(r0), math.Float32bits(r1), math.Float32bits(r2), math.Float32bits(r3)
	if quick32(loose, a0, b0, o0) && quick32(loose, a1, b1, o1) && quick32(loose, a2, b2, o2) && quick32(loose, a3, b3, o3) {
		d[0], d[1] = uint64(o0)|uint64(o1)<<32, uint64(o2)|uint64(o3)<<32
		return true
	}
	if loose {
		if !looseOK32(op, a0, b0, o0) || !looseOK32(op, a1, b1, o1) || !looseOK32(op, a2, b2, o2) || !looseOK32(op, a3, b3, o3) {
			return false
		}
	} else if !laneOK32(op, a0, b0, o0, false) || !laneOK32(op, a1, b1, o1, false) ||
		!laneOK32(op, a2, b2, o2, false) || !laneOK32(op, a3, b3, o3, false) {
		return false
	}
	d[0], d[1] = uint64(o0)|uint64(o1)<<32, uint64(o2)|uint64(o3)<<32
	return true
}

// looseOK32 is laneOK32's test under looseMXCSR: no NaN (a NaN operand gives a NaN result),
// no zero divisor, no infinity from finite operands (for SQRT, a is not read: its test
// passes whatever it is, the result being infinite only for an infinite b).
func looseOK32(op fpOp, a, b, bits uint32) bool {
	const inf, abs = 0xff << 23, 1<<31 - 1
	return bits&abs < inf || bits&abs == inf && (a&abs == inf || b&abs == inf) && !(op == fpDiv && b&abs == 0)
}

// laneOK32 says whether the host's result bits of op on binary32 a and b are what the exact
// unit gives, with nothing to raise but what fast32 (loose false) or loose32 (loose true)
// allow: the same tests as theirs, made after the arithmetic.
func laneOK32(op fpOp, a, b, bits uint32, loose bool) bool {
	const expMask, fracMask = 0xff << 23, 1<<23 - 1
	if op == fpSqrt {
		a = b // the first operand is not read
	}
	if loose {
		return looseOK32(op, a, b, bits)
	}
	ea, eb := a&expMask, b&expMask
	if eb == 0 && b&fracMask != 0 || eb == expMask && b&fracMask != 0 || op == fpDiv && b<<1 == 0 ||
		ea == 0 && a&fracMask != 0 || ea == expMask && a&fracMask != 0 ||
		op == fpSqrt && b&0x80000000 != 0 && b<<1 != 0 {
		return false
	}
	if e := bits & expMask; e-2<<23 < expMask-2<<23 {
		return true
	}
	special := ea == 0 || ea == expMask || eb == 0 || eb == expMask
	return bits&0x7fffffff <= expMask && (special || bits<<1 == 0 && op <= fpSub) &&
		(bits&expMask == 0 || bits&expMask == expMask)
}

// packedPD is packedPS for the two lanes of a packed double.
func packedPD(op fpOp, d, s *vec, loose bool) bool {
	x0, x1 := math.Float64frombits(d[0]), math.Float64frombits(d[1])
	y0, y1 := math.Float64frombits(s[0]), math.Float64frombits(s[1])
	var r0, r1 float64
	switch op {
	case fpAdd:
		r0, r1 = x0+y0, x1+y1
	case fpSub:
		r0, r1 = x0-y0, x1-y1
	case fpMul:
		r0, r1 = x0*y0, x1*y1
	case fpDiv:
		r0, r1 = x0/y0, x1/y1
	case fpSqrt:
		r0, r1 = math.Sqrt(y0), math.Sqrt(y1)
	default:
		return false
	}
	b0, b1 := math.Float64bits(r0), math.Float64bits(r1)
	if quick64(loose, d[0], s[0], b0) && quick64(loose, d[1], s[1], b1) {
		d[0], d[1] = b0, b1
		return true
	}
	if !laneOK64(op, d[0], s[0], b0, loose) || !laneOK64(op, d[1], s[1], b1, loose) {
		return false
	}
	d[0], d[1] = b0, b1
	return true
}

// laneOK64 is laneOK32 for binary64 (fast64's and loose64's tests).
func laneOK64(op fpOp, a, b, bits uint64, loose bool) bool {
	const expMask, fracMask = 0x7ff << 52, 1<<52 - 1
	const abs = 1<<63 - 1
	if op == fpSqrt {
		a = b
	}
	if loose {
		return bits&abs <= expMask && !(op == fpDiv && b<<1 == 0) &&
			(bits&abs != expMask || a&abs == expMask || b&abs == expMask)
	}
	ea, eb := a&expMask, b&expMask
	if eb == 0 && b&fracMask != 0 || eb == expMask && b&fracMask != 0 || op == fpDiv && b<<1 == 0 ||
		ea == 0 && a&fracMask != 0 || ea == expMask && a&fracMask != 0 ||
		op == fpSqrt && b>>63 != 0 && b<<1 != 0 {
		return false
	}
	if e := bits & expMask; e-2<<52 < expMask-2<<52 {
		return true
	}
	special := ea == 0 || ea == expMask || eb == 0 || eb == expMask
	return bits&abs <= expMask && (special || bits<<1 == 0 && op <= fpSub) &&
		(bits&expMask == 0 || bits&expMask == expMask)
}

// quick64 is the common case of laneOK64, tested first: under looseMXCSR a finite result
// (no NaN operand, no zero divisor, no overflow, no invalid operation could give one);
// otherwise operands that are not denormals (a zero or an infinity is fine: what it gives
// is tested in the result) and a normal result clear of the bottom of the range (a NaN
// operand, a zero divisor or an invalid operation gives none). It may refuse what laneOK64
// accepts (for SQRT it tests the unread first operand too), never the other way round.
func quick64(loose bool, a, b, bits uint64) bool {
	const expMask = 0x7ff << 52
	if loose {
		return bits&expMask != expMask
	}
	const den = 1<<53 - 1 // x<<1 - 1 below this: exponent 0 and a nonzero fraction
	return a<<1-1 >= den && b<<1-1 >= den && (bits&expMask)-2<<52 < expMask-2<<52
}

// quick32 is quick64 for binary32 lanes.
func quick32(loose bool, a, b, bits uint32) bool {
	const expMask = 0xff << 23
	if loose {
		return bits&expMask != expMask
	}
	const den = 1<<24 - 1
	return a<<1-1 >= den && b<<1-1 >= den && (bits&expMask)-2<<23 < expMask-2<<23
}
