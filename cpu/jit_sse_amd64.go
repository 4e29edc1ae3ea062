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
// point (opXmmFP and the cold ops) is not translated.

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
	default:
		return false
	}
	return true
}
