package cpu

// MMX technology (SDM Vol. 1, chapter 9; Vol. 3A, chapter 12): the eight 64-bit registers
// MM0-MM7 and the packed-integer instructions on them: MMX itself, the SSE and SSE2 integer
// instructions on MMX registers (PAVGB... PSHUFW, MASKMOVQ, MOVNTQ, PADDQ, PSUBQ, PMULUDQ),
// SSSE3's MMX forms, and the moves and conversions between MMX and XMM registers.
//
// The MMX registers are the x87 registers, exactly as the hardware aliases them (SDM
// Vol. 1, 9.5 and Vol. 3A, 12.2, Table 12-1):
//
//   - MMi is the low 64 bits, the significand, of physical register Ri, whatever TOP is.
//   - Every MMX instruction except EMMS sets TOP to 0 and every tag of the full tag word
//     (ExtState.X87.FTW) to valid (00); one that writes MMi also sets bits 79:64 of Ri, the
//     sign and exponent, to all ones. One that only reads MMX registers changes no register.
//   - EMMS sets TOP to 0 and every tag to empty (11).
//   - FNSTENV and FNSAVE store, for each non-empty register, the tag its contents deserve
//     (Vol. 3A, 12.2.1: they "determine the actual tag values"), so a register an MMX
//     instruction wrote, whose exponent is all ones, shows as special (10) in a saved image,
//     and FXSAVE's abridged tag byte shows all eight registers in use.
//   - MMX instructions leave the x87 control word, the status word's other bits, and the
//     last instruction and data pointers and opcode alone: they are not x87 instructions.
//
// Exceptions (SDM Vol. 3A, 12.5, and the instruction pages' tables "Exception Conditions
// for Legacy SIMD/MMX Instructions"): a LOCK prefix is #UD, found at decode; a pending
// unmasked x87 exception (FSW.ES set by an earlier x87 instruction) raises #MF before the
// instruction does anything, as a waiting x87 instruction does (fpuWait); then memory
// faults (#PF, and #GP for a misaligned m128 of CVTPD2PI); then, for the conversions, #XM.
// An instruction that faults changes nothing, the x87 state included. Linux runs with
// CR0.EM and CR0.TS clear as far as a program can tell, so the #UD of CR0.EM and #NM do not
// occur. CVTPI2PD with a memory source is an SSE2 instruction: no #MF, no transition (SDM
// Vol. 2A, CVTPI2PD); CVTPI2PS makes the transition with either source (Vol. 2A, CVTPI2PS).
//
// The instructions are cold ops grouped by shape, as the SSE unit's are (sse.go), each
// shape one handler that reads its operands the same way and calls a function from a
// table:
//
//   - shape P: MMX destination <- fn(old destination, source, imm8), the source an MMX
//     register, memory of in.size bytes (zero-extended), a general-purpose register or an
//     XMM register (all 128 bits). Arithmetic, logic, shifts, unpacks, loads and moves
//     into MMX registers, conversions to MMX registers.
//   - shape S: memory or a general-purpose register <- fn(MMX source, imm8): stores,
//     MOVD/MOVQ to a general-purpose register, PEXTRW, PMOVMSKB.
//   - shape Q: XMM destination <- fn(old destination, MMX or m64 source, imm8): MOVQ2DQ,
//     CVTPI2PS, CVTPI2PD.
//   - shape X: EMMS and MASKMOVQ, whole handlers.
//
// Where the SSE unit has a function for the 128-bit form of an instruction, the MMX form
// calls that function on its 64-bit operands placed in 128-bit ones (mmxAdopt), so no
// arithmetic is written twice.

import (
	"golang.org/x/arch/x86/x86asm"

	"github.com/vmemu/vmemu/mmu"
)

// MMX decode flags, kept in inst.ssize.
const (
	mmxAligned = 1 << iota // a 16-byte memory source must be 16-byte aligned (CVTPD2PI), else #GP(0)
	mmxSrcGPR              // shape P: the source is a general-purpose register of in.size bytes
	mmxSrcXMM              // shape P: the source is an XMM register
	mmxNoState             // shape Q: an SSE2 form (CVTPI2PD xmm, m64): no #MF check, no transition
)

// Function types of the shapes.
type (
	mmxFn  func(c *CPU, d uint64, s vec, imm uint8) uint64
	mmxSFn func(c *CPU, s uint64, imm uint8) uint64
	mmxQFn func(c *CPU, d vec, s uint64, imm uint8) vec
)

var (
	mmxP = sseTable[mmxFn]{exec: func(tbl *[256]mmxFn) coldHandler {
		return func(c *CPU, in *inst) { execMMXP(c, in, tbl) }
	}}
	mmxS = sseTable[mmxSFn]{exec: func(tbl *[256]mmxSFn) coldHandler {
		return func(c *CPU, in *inst) { execMMXS(c, in, tbl) }
	}}
	mmxQ = sseTable[mmxQFn]{exec: func(tbl *[256]mmxQFn) coldHandler {
		return func(c *CPU, in *inst) { execMMXQ(c, in, tbl) }
	}}
	mmxX = sseTable[sseXFn]{exec: func(tbl *[256]sseXFn) coldHandler {
		return func(c *CPU, in *inst) { tbl[in.sub](c, in) }
	}}
)

// The register file.

// mm returns MMi: the significand of physical register Ri.
func (c *CPU) mm(i uint8) uint64 { return c.ext.X87.R[i&7].Mant }

// mmxEnter is the transition to MMX state every MMX instruction but EMMS makes when it
// completes: TOP = 0 and all tags valid (SDM Vol. 3A, Table 12-1).
func (c *CPU) mmxEnter() {
	x := &c.ext.X87
	x.FSW &^= fswTOP
	x.FTW = 0
}

// setMM writes MMi: v becomes the significand of Ri and its sign and exponent all ones.
// Preconditions: the instruction has raised every exception it can (nothing may fault
// after the first register write).
func (c *CPU) setMM(i uint8, v uint64) { c.ext.X87.R[i&7] = Float80{Mant: v, SE: 0xffff} }

// MM returns MMX register i (the significand of x87 physical register Ri).
func (c *CPU) MM(i int) uint64 { return c.mm(uint8(i)) }

// tagImage returns the tag word FNSTENV and FNSAVE store: empty registers as empty, every
// other register tagged from its contents (SDM Vol. 3A, 12.2.1; the same rule FXRSTOR uses,
// fullTag), whatever the instruction that last wrote it set.
func (c *CPU) tagImage() uint16 {
	x := &c.ext.X87
	t := x.FTW
	for p := 0; p < 8; p++ {
		if t>>(2*p)&3 != tagEmpty {
			t = t&^(3<<(2*p)) | fullTag(x.R[p])<<(2*p)
		}
	}
	return t
}

// Handlers.

// execMMXP runs a shape-P instruction: MM[dst] <- fn(MM[dst], source, imm8).
func execMMXP(c *CPU, in *inst, tbl *[256]mmxFn) {
	c.fpuWait()
	var s vec
	switch {
	case in.form&fSrcMem != 0:
		s = c.sseLoad(c.ea(in), in.size, in.ssize&mmxAligned != 0)
	case in.ssize&mmxSrcGPR != 0:
		s = vec{c.getReg(in.src, in.size)}
	case in.ssize&mmxSrcXMM != 0:
		s = c.ext.XMM[in.src&15]
	default:
		s = vec{c.mm(in.src)}
	}
	r := tbl[in.sub](c, c.mm(in.dst), s, uint8(in.imm))
	c.mmxEnter()
	c.setMM(in.dst, r)
}

// execMMXS runs a shape-S instruction: memory or a general-purpose register <-
// fn(MM[src], imm8). A store is translated before the x87 state changes.
func execMMXS(c *CPU, in *inst, tbl *[256]mmxSFn) {
	c.fpuWait()
	v := tbl[in.sub](c, c.mm(in.src), uint8(in.imm))
	if in.form&fDstMem != 0 {
		ea := c.ea(in)
		c.probe(ea, uint64(in.size), mmu.Write)
		c.mmxEnter()
		c.write(ea, in.size, v)
		return
	}
	c.mmxEnter()
	c.setReg(in.dst, in.size, v)
}

// execMMXQ runs a shape-Q instruction: XMM[dst] <- fn(XMM[dst], MM[src] or m64, imm8).
func execMMXQ(c *CPU, in *inst, tbl *[256]mmxQFn) {
	mmx := in.ssize&mmxNoState == 0
	if mmx {
		c.fpuWait()
	}
	var s uint64
	if in.form&fSrcMem != 0 {
		s = c.read(c.ea(in), 8)
	} else {
		s = c.mm(in.src)
	}
	r := tbl[in.sub](c, c.ext.XMM[in.dst&15], s, uint8(in.imm))
	if mmx {
		c.mmxEnter()
	}
	c.ext.XMM[in.dst&15] = r
}

// emms is EMMS: TOP = 0 and every tag empty, so the x87 unit can use the registers again
// (SDM Vol. 2A, EMMS; Vol. 3A, Table 12-1).
func emms(c *CPU, _ *inst) {
	c.fpuWait()
	x := &c.ext.X87
	x.FSW &^= fswTOP
	x.FTW = 0xffff
}

// maskmovq is MASKMOVQ mm1, mm2: the bytes of mm1 whose byte in mm2 has bit 7 set are
// stored at DS:RDI (EDI with a 32-bit address size). All eight bytes are translated for
// writing first, whatever the mask, so a fault leaves memory untouched. The SDM leaves it to
// the implementation whether an all-zero mask, or bytes the mask leaves out, can fault
// (Vol. 2B, MASKMOVQ); the host processors fault on any of the eight bytes, and so does
// this CPU.
func maskmovq(c *CPU, in *inst) {
	c.fpuWait()
	m := maskBits(c.mm(in.src))
	v := c.mm(in.dst)
	ea := c.r[RDI]
	if in.form&fAddr32 != 0 {
		ea = uint64(uint32(ea))
	}
	c.probe(ea, 8, mmu.Write)
	c.mmxEnter()
	for i := 0; i < 8; i++ {
		if m>>i&1 != 0 {
			c.write(ea+uint64(i), 1, v>>(8*i)&0xff)
		}
	}
}

// Decoding.

// mmxReg returns the number of MMX register a, if it is one.
func mmxReg(a x86asm.Arg) (uint8, bool) {
	r, ok := a.(x86asm.Reg)
	if !ok || r < x86asm.M0 || r > x86asm.M7 {
		return 0, false
	}
	return uint8(r - x86asm.M0), true
}

// usesMMX reports whether x names an MMX register: the MMX form of an instruction whose
// mnemonic the SSE unit also decodes.
func usesMMX(x *x86asm.Inst) bool {
	for _, a := range x.Args {
		if _, ok := mmxReg(a); ok {
			return true
		}
	}
	return false
}

// mmxDecoders holds the decoders of the MMX forms of mnemonics the SSE unit also decodes;
// sseDecoder's wrapper sends an instruction that names an MMX register here (decodeMMX).
var mmxDecoders [opTableSize]coldDecoder

// decodeMMX decodes the MMX form of a mnemonic shared with the SSE unit.
func decodeMMX(in *inst, x *x86asm.Inst) bool {
	if int(x.Op) >= len(mmxDecoders) {
		return false
	}
	d := mmxDecoders[x.Op]
	return d != nil && d(in, x)
}

// mmxOnly registers the decoder of a mnemonic only the MMX unit decodes. Like sseDecoder,
// it refuses a LOCK prefix (and any prefix x86asm marks invalid): #UD.
func mmxOnly(op x86asm.Op, d coldDecoder) {
	coldDecoders[op] = func(in *inst, x *x86asm.Inst) bool {
		for _, p := range x.Prefix {
			if p == 0 {
				break
			}
			if p&x86asm.PrefixInvalid != 0 || p&0xff == 0xf0 {
				return false
			}
		}
		return d(in, x)
	}
}

// Source kinds of shape P.
const (
	srcMM = iota
	srcGPR
	srcXMM
)

// decodeP decodes a shape-P form "mm, src [, imm8]": src is an MMX register (kind srcMM),
// a 32- or 64-bit general-purpose register (srcGPR) or an XMM register (srcXMM), or memory
// of mem bytes (0: no memory form).
func decodeP(in *inst, x *x86asm.Inst, ref sseRef, mem uint8, kind int) bool {
	d, ok := mmxReg(x.Args[0])
	if !ok || ref.op == 0 || !in.setImm8(x.Args[2]) {
		return false
	}
	in.dst, in.op, in.sub = d, ref.op, ref.sub
	switch s := x.Args[1].(type) {
	case x86asm.Mem:
		if mem == 0 {
			return false
		}
		in.form |= fSrcMem
		in.size = mem
		if mem == 16 {
			in.ssize |= mmxAligned
		}
		return in.setMem(s, x)
	case x86asm.Reg:
		var ok bool
		switch kind {
		case srcMM:
			in.src, ok = mmxReg(s)
		case srcXMM:
			in.src, ok = xmmReg(s)
			in.ssize |= mmxSrcXMM
		case srcGPR:
			in.src, in.size, ok = gpReg(s)
			in.ssize |= mmxSrcGPR
		}
		return ok
	}
	return false
}

// decodeS decodes a shape-S form "dst, mm [, imm8]": dst is memory of mem bytes (0: no
// memory form) or, when gpr is set, a 32- or 64-bit general-purpose register.
func decodeMMXS(in *inst, x *x86asm.Inst, ref sseRef, mem uint8, gpr bool) bool {
	s, ok := mmxReg(x.Args[1])
	if !ok || !in.setImm8(x.Args[2]) {
		return false
	}
	in.src, in.op, in.sub = s, ref.op, ref.sub
	switch d := x.Args[0].(type) {
	case x86asm.Mem:
		in.form |= fDstMem
		in.size = mem
		return mem != 0 && in.setMem(d, x)
	case x86asm.Reg:
		n, sz, ok := gpReg(d)
		in.dst, in.size = n, sz
		return ok && gpr
	}
	return false
}

// decodeQ decodes a shape-Q form "xmm, mm/m64".
func decodeQ(in *inst, x *x86asm.Inst, ref sseRef, mem bool) bool {
	d, ok := xmmReg(x.Args[0])
	if !ok || ref.op == 0 || x.Args[2] != nil {
		return false
	}
	in.dst, in.op, in.sub = d, ref.op, ref.sub
	switch s := x.Args[1].(type) {
	case x86asm.Mem:
		in.form |= fSrcMem
		in.size = 8
		return mem && in.setMem(s, x)
	case x86asm.Reg:
		in.src, ok = mmxReg(s)
		return ok
	}
	return false
}

// CPUID.01H:EDX.MMX[bit 23] (SDM Vol. 2A, CPUID, Table 3-11).
const cpuidMMX = 1 << 23

func init() {
	cpuidLeaf1EDX |= cpuidMMX
}
