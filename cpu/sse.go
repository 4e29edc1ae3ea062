package cpu

// SSE, SSE2, SSE3, SSSE3, SSE4.1 and SSE4.2: the XMM registers, MXCSR and the instructions
// that use them, as a user program sees them at CPL 3 with CR4.OSFXSR and CR4.OSXMMEXCPT set
// (as Linux sets them).
//
// The instructions are cold ops. Rather than one op per mnemonic, they share a few handlers,
// each of which reads its operands the same way and calls a function from a table (the
// instruction's in.sub selects it):
//
//   - shape A: XMM destination <- fn(old destination, source, imm8), where the source is an
//     XMM register, memory of in.size bytes (zero-extended to 128 bits) or a general-purpose
//     register. Moves into XMM registers, packed integer and floating-point arithmetic,
//     shuffles and conversions to XMM are shape A.
//   - shape S: memory of in.size bytes, or a general-purpose register, <- fn(XMM source,
//     imm8). Stores and extractions.
//   - shape G: general-purpose register <- fn(source, imm8), the source an XMM register or
//     memory: conversions to integers and mask extraction.
//   - shape X: anything else (flags results, implicit operands, FXSAVE), as a whole handler.
//
// Each handler does all its loads, and raises any exception (#GP for a misaligned operand,
// #PF, #XM for an unmasked SIMD floating-point exception), before it writes anything, so a
// faulting instruction leaves no architectural effect (SDM Vol. 1, 11.5.3.2: with an
// unmasked exception the destination is not updated).

import (
	"encoding/binary"

	"golang.org/x/arch/x86/x86asm"

	"github.com/vmemu/vmemu/mmu"
)

// vec is the value of an XMM register: the low quadword first (the element type of
// ExtState.XMM).
type vec = [2]uint64

// SSE decode flags, kept in inst.ssize by SSE instructions.
const (
	sseAligned = 1 << iota // a 16-byte memory operand must be 16-byte aligned, else #GP(0)
	sseGPR                 // shape A: the source is a general-purpose register of in.size bytes
	sseDst64               // shape G: the destination register is 64 bits (else 32)
)

// Function types of the shapes.
type (
	sseAFn func(c *CPU, d, s vec, imm uint8) vec
	sseSFn func(c *CPU, s vec, imm uint8) vec
	sseGFn func(c *CPU, s vec, imm uint8) uint64
	sseXFn func(c *CPU, in *inst)
)

// sseRef names a registered function: the cold op of its table and its index there.
type sseRef struct {
	op  uint16
	sub uint8
}

// sseTable is one cold op's function table; a full table starts a new cold op.
type sseTable[F any] struct {
	fns  *[256]F
	op   uint16
	n    int
	exec func(tbl *[256]F) coldHandler
}

func (t *sseTable[F]) add(fn F) sseRef {
	if t.fns == nil || t.n == 256 {
		t.fns = new([256]F)
		t.op = registerCold(t.exec(t.fns))
		t.n = 0
		if a, ok := any(t.fns).(*[256]sseAFn); ok {
			sseATables[t.op] = a
		}
	}
	t.fns[t.n] = fn
	t.n++
	return sseRef{t.op, uint8(t.n - 1)}
}

var (
	sseA = sseTable[sseAFn]{exec: func(tbl *[256]sseAFn) coldHandler {
		return func(c *CPU, in *inst) { execSSEA(c, in, tbl) }
	}}
	sseS = sseTable[sseSFn]{exec: func(tbl *[256]sseSFn) coldHandler {
		return func(c *CPU, in *inst) { execSSES(c, in, tbl) }
	}}
	sseG = sseTable[sseGFn]{exec: func(tbl *[256]sseGFn) coldHandler {
		return func(c *CPU, in *inst) { execSSEG(c, in, tbl) }
	}}
	sseX = sseTable[sseXFn]{exec: func(tbl *[256]sseXFn) coldHandler {
		return func(c *CPU, in *inst) { tbl[in.sub](c, in) }
	}}
)

// execSSEA runs a shape-A instruction: XMM[dst] <- fn(XMM[dst], source, imm8).
func execSSEA(c *CPU, in *inst, tbl *[256]sseAFn) {
	s := c.sseSrc(in)
	c.ext.XMM[in.dst&15] = tbl[in.sub](c, c.ext.XMM[in.dst&15], s, uint8(in.imm))
}

// execSSES runs a shape-S instruction: memory or a register <- fn(XMM[src], imm8).
func execSSES(c *CPU, in *inst, tbl *[256]sseSFn) {
	if in.form&fDstMem != 0 {
		ea := c.ea(in)
		c.sseCheckStore(ea, in.size, in.ssize&sseAligned != 0)
		v := tbl[in.sub](c, c.ext.XMM[in.src&15], uint8(in.imm))
		c.sseStore(ea, in.size, v)
		return
	}
	v := tbl[in.sub](c, c.ext.XMM[in.src&15], uint8(in.imm))
	c.setReg(in.dst, in.size, v[0])
}

// execSSEG runs a shape-G instruction: a general-purpose register <- fn(source, imm8).
func execSSEG(c *CPU, in *inst, tbl *[256]sseGFn) {
	v := tbl[in.sub](c, c.sseSrc(in), uint8(in.imm))
	if in.ssize&sseDst64 != 0 {
		c.r[in.dst&15] = v
	} else {
		c.r[in.dst&15] = uint64(uint32(v))
	}
}

// sseSrc reads the source operand of a shape-A or shape-G instruction.
func (c *CPU) sseSrc(in *inst) vec {
	switch {
	case in.form&fSrcMem != 0:
		return c.sseLoad(c.ea(in), in.size, in.ssize&sseAligned != 0)
	case in.ssize&sseGPR != 0:
		return vec{c.getReg(in.src, in.size)}
	}
	return c.ext.XMM[in.src&15]
}

// sseLoad reads size (1, 2, 4, 8 or 16) bytes at ea, zero-extended to 128 bits. A 16-byte
// operand that must be aligned and is not raises #GP(0) before any memory is touched
// (SDM Vol. 2, Table 2-21, exception type 4).
func (c *CPU) sseLoad(ea uint64, size uint8, aligned bool) vec {
	v0, v1 := c.sseLoad2(ea, size, aligned)
	return vec{v0, v1}
}

// sseLoad2 is sseLoad as two quadwords (see xmmSrc2).
func (c *CPU) sseLoad2(ea uint64, size uint8, aligned bool) (uint64, uint64) {
	// read's remembered-page path written out for the two quadwords of a 16-byte operand
	// and for an 8-byte one inside one page: the same TLB hits, one call fewer per read.
	if u := &c.utlb[ea>>12&(utlbSize-1)]; u.rtag == ea>>12 && ea&0xfff <= 0x1000-16 && size >= 8 {
		off := ea & 0xfff
		if size == 8 {
			c.dtlb.Hit(u.e)
			return binary.LittleEndian.Uint64(u.frame[off:]), 0
		}
		if !aligned || ea&15 == 0 {
			c.dtlb.Hit(u.e)
			c.dtlb.Hit(u.e)
			return binary.LittleEndian.Uint64(u.frame[off:]), binary.LittleEndian.Uint64(u.frame[off+8:])
		}
	}
	if size == 16 {
		if aligned && ea&15 != 0 {
			c.raise(VecGP, 0, ea)
		}
		return c.read(ea, 8), c.read(ea+8, 8)
	}
	return c.read(ea, size), 0
}

// sseCheckStore makes sure a store of size bytes at ea can complete: the alignment check,
// then the translation of every page for writing.
func (c *CPU) sseCheckStore(ea uint64, size uint8, aligned bool) {
	if aligned && size == 16 && ea&15 != 0 {
		c.raise(VecGP, 0, ea)
	}
	c.probe(ea, uint64(size), mmu.Write)
}

// sseStore writes the low size bytes of v at ea. Preconditions: sseCheckStore(ea, size) passed.
func (c *CPU) sseStore(ea uint64, size uint8, v vec) {
	if size == 16 {
		c.write(ea, 8, v[0])
		c.write(ea+8, 8, v[1])
		return
	}
	c.write(ea, size, v[0])
}

// XMM returns XMM register i (low quadword first).
func (c *CPU) XMM(i int) [2]uint64 { return c.ext.XMM[i&15] }

// SetXMM sets XMM register i.
func (c *CPU) SetXMM(i int, v [2]uint64) { c.ext.XMM[i&15] = v }

// MXCSR returns the SSE control and status register.
func (c *CPU) MXCSR() uint32 { return c.ext.MXCSR }

// Decoding.

// xmmReg returns the number of XMM register a, if it is one.
func xmmReg(a x86asm.Arg) (uint8, bool) {
	r, ok := a.(x86asm.Reg)
	if !ok || r < x86asm.X0 || r > x86asm.X15 {
		return 0, false
	}
	return uint8(r - x86asm.X0), true
}

// gpReg returns the number and size of general-purpose register a, if it is a 32- or 64-bit
// one (SSE instructions name no others).
func gpReg(a x86asm.Arg) (uint8, uint8, bool) {
	r, ok := a.(x86asm.Reg)
	if !ok {
		return 0, 0, false
	}
	n, sz, ok := regInfo(r)
	if !ok || sz < 4 {
		return 0, 0, false
	}
	return n, sz, true
}

// imm8 sets in.imm from an optional immediate argument.
func (in *inst) setImm8(a x86asm.Arg) bool {
	switch a := a.(type) {
	case nil:
		return true
	case x86asm.Imm:
		in.imm = uint64(a) & 0xff
		return true
	}
	return false
}

// unaligned lists the instructions whose 16-byte memory operand may be misaligned (SDM
// Vol. 2: MOVUPS, MOVUPD, MOVDQU, LDDQU, and the PCMPxSTRx instructions, which "do not
// cause #GP if the memory operand is not aligned to a 16-byte boundary").
var unaligned = map[x86asm.Op]bool{x86asm.MOVUPS: true, x86asm.MOVUPD: true, x86asm.MOVDQU: true,
	x86asm.LDDQU: true, x86asm.PCMPESTRI: true, x86asm.PCMPESTRM: true, x86asm.PCMPISTRI: true,
	x86asm.PCMPISTRM: true}

// sseMemOperand sets the memory-operand fields for a size-byte SSE memory operand.
func (in *inst) sseMem(m x86asm.Mem, x *x86asm.Inst, size uint8) bool {
	in.size = size
	if size == 16 && !unaligned[x.Op] {
		in.ssize |= sseAligned
	}
	return in.setMem(m, x)
}

// decodeA decodes a shape-A form "xmm, xmm/mN [, imm8]" (mem is N, 0 if only a register
// source is allowed; regFn is used for a register source, memFn for a memory one).
func decodeA(in *inst, x *x86asm.Inst, regFn, memFn sseRef, mem uint8) bool {
	d, ok := xmmReg(x.Args[0])
	if !ok || !in.setImm8(x.Args[2]) {
		return false
	}
	in.dst = d
	switch s := x.Args[1].(type) {
	case x86asm.Reg:
		n, ok := xmmReg(s)
		if !ok || regFn.op == 0 {
			return false
		}
		in.src = n
		in.op, in.sub = regFn.op, regFn.sub
		return true
	case x86asm.Mem:
		if mem == 0 || memFn.op == 0 {
			return false
		}
		in.form |= fSrcMem
		in.op, in.sub = memFn.op, memFn.sub
		return in.sseMem(s, x, mem)
	}
	return false
}

// sseInsn registers a shape-A instruction whose register and memory forms compute the same
// function; mem is the memory operand size (0: register only).
func sseInsn(op x86asm.Op, mem uint8, fn sseAFn) {
	ref := sseA.add(fn)
	mmxAdopt(op, fn) // the MMX form, if any, computes with fn too (mmx_ops.go)
	sseDecoder(op, func(in *inst, x *x86asm.Inst) bool { return decodeA(in, x, ref, ref, mem) })
}

// decodeG decodes a shape-G form "r32/r64, xmm/mN [, imm8]". fn32 and fn64 are the
// functions for a 32- and a 64-bit destination (either may be missing).
func decodeG(in *inst, x *x86asm.Inst, fn32, fn64 sseRef, mem uint8) bool {
	d, sz, ok := gpReg(x.Args[0])
	if !ok || !in.setImm8(x.Args[2]) {
		return false
	}
	in.dst = d
	ref := fn32
	if sz == 8 {
		ref = fn64
		in.ssize |= sseDst64
	}
	if ref.op == 0 {
		return false
	}
	in.op, in.sub = ref.op, ref.sub
	switch s := x.Args[1].(type) {
	case x86asm.Reg:
		n, ok := xmmReg(s)
		in.src = n
		return ok
	case x86asm.Mem:
		if mem == 0 {
			return false
		}
		in.form |= fSrcMem
		return in.sseMem(s, x, mem)
	}
	return false
}

// decodeS decodes a shape-S form "mN/r, xmm [, imm8]": a store of mem bytes, or (when gpr is
// set) a write of a 32- or 64-bit general-purpose register.
func decodeS(in *inst, x *x86asm.Inst, ref sseRef, mem uint8, gpr bool) bool {
	s, ok := xmmReg(x.Args[1])
	if !ok || !in.setImm8(x.Args[2]) {
		return false
	}
	in.src = s
	in.op, in.sub = ref.op, ref.sub
	switch d := x.Args[0].(type) {
	case x86asm.Mem:
		in.form |= fDstMem
		return mem != 0 && in.sseMem(d, x, mem)
	case x86asm.Reg:
		n, sz, ok := gpReg(d)
		if !ok || !gpr {
			return false
		}
		in.dst, in.size = n, sz
		return true
	}
	return false
}

// The CPUID feature bits of this family (SDM Vol. 2A, CPUID, Tables 3-10 and 3-11).
const (
	cpuidFXSR   = 1 << 24 // EDX
	cpuidSSE    = 1 << 25 // EDX
	cpuidSSE2   = 1 << 26 // EDX
	cpuidSSE3   = 1 << 0  // ECX
	cpuidSSSE3  = 1 << 9  // ECX
	cpuidSSE41  = 1 << 19 // ECX
	cpuidSSE42  = 1 << 20 // ECX
	cpuidPCLMUL = 1 << 1  // ECX (not implemented; not reported)
)

func init() {
	cpuidLeaf1EDX |= cpuidFXSR | cpuidSSE | cpuidSSE2
	cpuidLeaf1ECX |= cpuidSSE3 | cpuidSSSE3 | cpuidSSE41 | cpuidSSE42
}

// sseDecoder registers the decoder of an SSE op. A LOCK prefix makes any of them #UD (x86asm
// marks it PrefixInvalid). A form that names an MMX register is the MMX unit's (mmx.go).
func sseDecoder(op x86asm.Op, d coldDecoder) {
	coldDecoders[op] = func(in *inst, x *x86asm.Inst) bool {
		for _, p := range x.Prefix {
			if p == 0 {
				break
			}
			if p&x86asm.PrefixInvalid != 0 || p&0xff == 0xf0 {
				return false
			}
		}
		if usesMMX(x) {
			return decodeMMX(in, x)
		}
		return d(in, x)
	}
}
