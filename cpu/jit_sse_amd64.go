//go:build linux && amd64

package cpu

import (
	"unsafe"

	x "github.com/vmemu/vmemu/cpu/internal/x64"
)

// The SSE fast ops the generator translates: whole-register and low-quadword moves, loads
// and 16-byte stores, the integer and bitwise lane operations of opXmmInt, and PMOVMSKB.
// Each is the host's own SSE2 instruction on the guest's XMM registers in CPU.ext (loaded,
// operated on, stored back): these operations are defined bit for bit by the SDM, depend on
// no MXCSR state and raise nothing, so any host gives the interpreter's result. Floating
// point arithmetic (sseFP) and conversion (sseCvt) run on the host only where the result
// and the flags provably are the exact unit's; the rest is interpreted.

var offXMM = int32(unsafe.Offsetof(CPU{}.ext)) + int32(unsafe.Offsetof(ExtState{}.XMM))

// xmm is guest XMM register r's low quadword (the whole register for a 16-byte access).
func xmm(r uint8) x.Mem { return x.M(x.RBX, offXMM+16*int32(r&15)) }

// xmmHi is guest XMM register r's high quadword.
func xmmHi(r uint8) x.Mem { return x.M(x.RBX, offXMM+16*int32(r&15)+8) }

// packedOps maps an opXmmInt sub to the host instruction with the same lane semantics (the
// PS and PD forms mapped to these subs move the same bits).
var packedOps = [...]byte{
	xiXor: x.Pxor, xiAnd: x.Pand, xiOr: x.Por, xiAndn: x.Pandn,
	xiAddQ: x.Paddq, xiSubQ: x.Psubq, xiAddD: x.Paddd, xiSubD: x.Psubd,
	xiUnpckLQ: x.Punpcklqdq, xiUnpckHQ: x.Punpckhqdq,
	xiUnpckLBW: x.Punpcklbw, xiUnpckHBW: x.Punpckhbw, xiUnpckLWD: x.Punpcklwd,
	xiUnpckHWD: x.Punpckhwd, xiUnpckLDQ: x.Punpckldq, xiUnpckHDQ: x.Punpckhdq,
	xiCmpEqB: x.Pcmpeqb, xiCmpEqW: x.Pcmpeqw, xiCmpEqD: x.Pcmpeqd,
	xiAddB: x.Paddb, xiSubB: x.Psubb,
}

// sseMem computes an SSE instruction's address and looks up its page for an access of size
// bytes (16, 8 or 4), counting the hits the interpreter counts: sseLoad2's two for a 16-byte
// read, xmmStore's three for a 16-byte write, read's one otherwise. A 16-byte operand that
// must be aligned and is not leaves for the interpreter, which raises #GP. On a hit RSI+RDX
// is the operand (frameAt).
func (g *jitGen) sseMem(i int, in *inst, size int, write bool) bool {
	if !g.eaRaw(in) {
		return false
	}
	hits := int32(1)
	if size == 16 {
		if in.ssize&sseAligned != 0 {
			g.a.TestRI(1, x.RAX, 15)
			g.a.Jcc(x.CondNE, g.side(i))
		}
		hits = 2
		if write {
			hits = 3
		}
	}
	g.access(i, size, write, hits)
	return true
}

// sse translates an SSE fast op; ok is false for a form it does not know.
func (g *jitGen) sse(i int, in *inst) bool {
	a := &g.a
	switch in.op {
	case opXmmMov:
		a.MovdquLoad(x.X0, xmm(in.src))
		a.MovdquStore(xmm(in.dst), x.X0)
	case opXmmMovLo:
		a.Load(8, x.RAX, xmm(in.src))
		a.Store(8, xmm(in.dst), x.RAX)
	case opXmmMovmsk:
		a.MovdquLoad(x.X0, xmm(in.src))
		a.Pmovmskb(x.RAX, x.X0)
		g.storeReg(in.dst, x.RAX)
	case opXmmLoad:
		size := int(in.size)
		switch {
		case size == 16 && in.sub == xlZero:
			if !g.sseMem(i, in, 16, false) {
				return false
			}
			a.MovdquLoad(x.X0, frameAt)
			a.MovdquStore(xmm(in.dst), x.X0)
		case size == 8 || size == 4:
			if !g.sseMem(i, in, size, false) {
				return false
			}
			a.Load(size, x.RCX, frameAt) // (a 4-byte load clears the bits above)
			switch in.sub {
			case xlZero:
				a.Store(8, xmm(in.dst), x.RCX)
				a.StoreImm(8, xmmHi(in.dst), 0)
			case xlLow:
				a.Store(8, xmm(in.dst), x.RCX)
			default:
				a.Store(8, xmmHi(in.dst), x.RCX)
			}
		default:
			return false
		}
	case opXmmStore:
		if in.size != 16 || in.sub != xlZero || !g.sseMem(i, in, 16, true) {
			return false
		}
		a.MovdquLoad(x.X0, xmm(in.src))
		a.MovdquStore(frameAt, x.X0)
	case opXmmInt:
		if int(in.sub) >= len(packedOps) || packedOps[in.sub] == 0 {
			return false
		}
		if in.form&fSrcMem != 0 {
			if in.size != 16 || !g.sseMem(i, in, 16, false) {
				return false
			}
			a.MovdquLoad(x.X1, frameAt)
		} else {
			a.MovdquLoad(x.X1, xmm(in.src))
		}
		a.MovdquLoad(x.X0, xmm(in.dst))
		a.Packed(packedOps[in.sub], x.X0, x.X1)
		a.MovdquStore(xmm(in.dst), x.X0)
	case opXmmFP:
		return g.sseFP(i, in)
	case opXmmCvtPS2DQ:
		return g.sseCvt(i, in)
	default:
		return false
	}
	return true
}

var (
	offMXCSR = int32(unsafe.Offsetof(CPU{}.ext)) + int32(unsafe.Offsetof(ExtState{}.MXCSR))
	offFpk   = offJit + int32(unsafe.Offsetof(jitState{}.fpk))
)

// jitFPConsts are the lane masks of the floating-point tests: the exponent field and the
// exponent 1 of binary32 lanes, the same in the high dword of binary64 lanes, and the
// integer indefinite of CVTPS2DQ; the magnitude of a binary32 lane (or a high dword).
var jitFPConsts = [6][2]uint64{
	{0x7f800000_7f800000, 0x7f800000_7f800000},
	{0x00800000_00800000, 0x00800000_00800000},
	{0x7ff00000_00000000, 0x7ff00000_00000000},
	{0x00100000_00000000, 0x00100000_00000000},
	{0x80000000_80000000, 0x80000000_80000000},
	{0x7fffffff_7fffffff, 0x7fffffff_7fffffff},
}

func fpk(k int) x.Mem { return x.M(x.RBX, offFpk+16*int32(k)) }

// sseFP translates opXmmFP's add, subtract, multiply, divide and square root (packed or
// scalar, single or double) as the host's own instruction, where that provably is the
// exact unit's result with no flag to raise (the interpreter's strict fast path): MXCSR
// rounds to nearest with the precision exception masked and its flag already set; no
// operand lane is zero or denormal (so no divide-by-zero, no denormal operand; a NaN or
// infinity operand makes a NaN or infinite result); and every result lane is finite with an
// exponent of at least 2 (no invalid, overflow or underflow, however tininess is detected).
// Under looseMXCSR (every exception masked, the denormal, underflow and precision flags set
// already, no FTZ or DAZ) the host's IEEE result is exact for denormal operands and
// results too, and only a NaN or infinite result lane is refused. Anything else leaves for
// the interpreter before the instruction: a memory source is peeked at and its hits
// counted only once every test has passed.
func (g *jitGen) sseFP(i int, in *inst) bool {
	a := &g.a
	op := fpOp(in.sub & 15)
	if op > fpSqrt {
		return false
	}
	hostOp := [...]byte{fpAdd: x.AddF, fpSub: x.SubF, fpMul: x.MulF, fpDiv: x.DivF, fpSqrt: x.SqrtF}[op]
	var pfx byte
	mask, k, size := int32(0xffff), 0, 16
	switch in.sub &^ 15 {
	case xfPD:
		pfx, mask, k = x.PD, 0xf0f0, 2
	case xfSS:
		pfx, mask, size = x.SS, 0x000f, 4
	case xfSD:
		pfx, mask, k, size = x.SD, 0x00f0, 2, 8
	}
	const rc, pm = 3 << mxRCShift, mxPE << mxMaskShift
	a.Load(4, x.RAX, x.M(x.RBX, offMXCSR))
	a.AluRI(4, x.And, x.RAX, rc|pm|mxPE)
	a.AluRI(4, x.Cmp, x.RAX, pm|mxPE)
	a.Jcc(x.CondNE, g.valueSide(i)) // (an MXCSR that stays so drops the block's code too)
	hits := int32(0)
	if in.form&fSrcMem != 0 {
		if int(in.size) != size || !g.eaRaw(in) {
			return false
		}
		if size == 16 && in.ssize&sseAligned != 0 {
			a.TestRI(1, x.RAX, 15)
			a.Jcc(x.CondNE, g.side(i))
		}
		g.access(i, size, false, 0) // a peek: RCX keeps the entry for the count below
		switch size {
		case 16:
			a.MovdquLoad(x.X1, frameAt)
			hits = 2
		case 8:
			a.MovqLoad(x.X1, frameAt)
			hits = 1
		default:
			a.MovdLoad(x.X1, frameAt)
			hits = 1
		}
	} else {
		a.MovdquLoad(x.X1, xmm(in.src))
	}
	a.MovdquLoad(x.X0, xmm(in.dst))
	a.Movaps(x.X2, x.X0)
	a.SSE(pfx, hostOp, x.X2, x.X1)
	a.MovdquLoad(x.X4, fpk(k))
	// Under looseMXCSR only a NaN or infinite result lane (an invalid operation, a zero
	// divisor, an overflow, or an infinite operand) needs the interpreter.
	strict, done := x.NewLabel(), x.NewLabel()
	const looseMask = rc | mxFZ | mxDAZ | 0x3f<<mxMaskShift | mxDE | mxUE | mxPE
	a.Load(4, x.RAX, x.M(x.RBX, offMXCSR))
	a.AluRI(4, x.And, x.RAX, looseMask)
	a.AluRI(4, x.Cmp, x.RAX, 0x3f<<mxMaskShift|mxDE|mxUE|mxPE)
	a.Jcc(x.CondNE, strict)
	a.Movaps(x.X3, x.X2)
	a.Packed(x.Pand, x.X3, x.X4)
	a.Packed(x.Pcmpeqd, x.X3, x.X4) // special result lanes
	a.Pmovmskb(x.RAX, x.X3)
	a.TestRI(4, x.RAX, mask)
	a.Jcc(x.CondE, done)
	// Some lane is infinite or NaN: as looseLanes32 and laneOK64 allow, an infinite
	// result from an infinite operand is exact and raises nothing. (For binary64 lanes the
	// tests look at the high dwords only: a NaN result is quiet, so its high dword is never
	// an infinity's, and an operand taken for infinite by its high dword alone is a NaN,
	// which makes the result a NaN.)
	a.MovdquLoad(x.X5, fpk(5))   // the magnitude of a binary32 lane, or of a high dword
	g.laneTest(x.X6, x.X2, x.X4) // an infinite result
	g.laneTest(x.X7, x.X1, x.X4) // an infinite source
	if op != fpSqrt {
		g.laneTest(x.X0, x.X0, x.X4) // an infinite destination
		a.Packed(x.Por, x.X7, x.X0)
	}
	a.Packed(x.Pand, x.X6, x.X7)
	a.Packed(x.Pandn, x.X6, x.X3) // special and not allowed
	a.Pmovmskb(x.RAX, x.X6)
	a.TestRI(4, x.RAX, mask)
	a.Jcc(x.CondNE, g.valueSide(i))
	a.Jmp(done)
	a.Bind(strict)
	// The operands: no lane with a zero exponent field (the destination's lanes do not
	// count for a square root).
	a.Packed(x.Pxor, x.X5, x.X5)
	a.Movaps(x.X3, x.X1)
	a.Packed(x.Pand, x.X3, x.X4)
	a.Packed(x.Pcmpeqd, x.X3, x.X5)
	a.Pmovmskb(x.RAX, x.X3)
	if op != fpSqrt {
		a.Movaps(x.X3, x.X0)
		a.Packed(x.Pand, x.X3, x.X4)
		a.Packed(x.Pcmpeqd, x.X3, x.X5)
		a.Pmovmskb(x.RDX, x.X3)
		a.AluRR(4, x.Or, x.RAX, x.RDX)
	}
	a.TestRI(4, x.RAX, mask)
	a.Jcc(x.CondNE, g.valueSide(i))
	// The results: exponent field above 1 and below all ones in every lane.
	a.Movaps(x.X3, x.X2)
	a.Packed(x.Pand, x.X3, x.X4)    // t
	a.Packed(x.Pcmpgtd, x.X4, x.X3) // all ones > t
	a.MovdquLoad(x.X5, fpk(k+1))
	a.Packed(x.Pcmpgtd, x.X3, x.X5) // t > 1
	a.Packed(x.Pand, x.X3, x.X4)
	a.Pmovmskb(x.RAX, x.X3)
	a.AluRI(4, x.And, x.RAX, mask)
	a.AluRI(4, x.Cmp, x.RAX, mask)
	a.Jcc(x.CondNE, g.valueSide(i))
	a.Bind(done)
	if hits > 0 {
		g.countHits(x.RCX, hits)
	}
	a.MovdquStore(xmm(in.dst), x.X2)
	g.host = false
	return true
}

// laneTest sets dst's dwords to all ones where src's dword, masked by X5, equals want's,
// else to zero.
func (g *jitGen) laneTest(dst, src, want x.Xmm) {
	a := &g.a
	if dst != src {
		a.Movaps(dst, src)
	}
	a.Packed(x.Pand, dst, x.X5)
	a.Packed(x.Pcmpeqd, dst, want)
}

// sseCvt translates CVTPS2DQ and CVTTPS2DQ between registers as the host's instruction,
// where the interpreter's fast path would: the precision exception masked and its flag
// set, rounding to nearest (CVTPS2DQ), and no lane converting to the integer indefinite
// 80000000H unless the invalid exception is masked and its flag set (cvtLane).
func (g *jitGen) sseCvt(i int, in *inst) bool {
	if in.form&fSrcMem != 0 {
		return false
	}
	a := &g.a
	const rc, pm = 3 << mxRCShift, mxPE << mxMaskShift
	want, pfx := int32(rc|pm|mxPE), byte(x.PD)
	if in.sub == 1 {
		want, pfx = pm|mxPE, x.SS
	}
	a.Load(4, x.RAX, x.M(x.RBX, offMXCSR))
	a.AluRI(4, x.And, x.RAX, want)
	a.AluRI(4, x.Cmp, x.RAX, pm|mxPE)
	a.Jcc(x.CondNE, g.valueSide(i)) // (an MXCSR that stays so drops the block's code too)
	a.MovdquLoad(x.X1, xmm(in.src))
	a.SSE(pfx, x.CvtPS2DQ, x.X2, x.X1)
	// With the invalid exception masked and its flag set, the indefinite is the answer
	// for a NaN or out-of-range lane, as the host gives it; else such a lane (or -2^31)
	// is left to the interpreter.
	const im = mxIE << mxMaskShift
	done := x.NewLabel()
	a.Load(4, x.RAX, x.M(x.RBX, offMXCSR))
	a.AluRI(4, x.And, x.RAX, im|mxIE)
	a.AluRI(4, x.Cmp, x.RAX, im|mxIE)
	a.Jcc(x.CondE, done)
	a.MovdquLoad(x.X3, fpk(4))
	a.Packed(x.Pcmpeqd, x.X3, x.X2)
	a.Pmovmskb(x.RAX, x.X3)
	a.TestRR(4, x.RAX, x.RAX)
	a.Jcc(x.CondNE, g.valueSide(i))
	a.Bind(done)
	a.MovdquStore(xmm(in.dst), x.X2)
	g.host = false
	return true
}
