package cpu

import (
	"encoding/binary"

	"golang.org/x/arch/x86/x86asm"

	"github.com/vmemu/vmemu/mmu"
)

// String instructions: MOVS, STOS, LODS, CMPS and SCAS at every element size, alone or with
// REP, REPE or REPNE, in either direction (SDM Vol. 2B, REP/REPE/REPZ/REPNE/REPNZ). RSI
// addresses the source (its segment may be overridden by FS or GS), RDI the destination, RCX
// counts; with a 67h prefix they are ESI, EDI and ECX.
//
// A REP instruction that faults part way leaves RCX, RSI and RDI describing the iterations
// that completed and RIP at the instruction, so the kernel can fix the fault and resume it,
// as on hardware. REP MOVS and REP STOS going upwards copy a page-bounded chunk per step
// instead of one element per step; a chunk translates its pages before touching memory, so
// the faults and the register values at a fault are those of the element-wise loop. The
// TLB sees one lookup per page a chunk touches, as with the fast-string operation of real
// processors. With RFLAGS.TF set each iteration is a single step, as on hardware.

var (
	opString    = registerCold(execString)    // one iteration, no REP
	opRepString = registerCold(execRepString) // REP: ends the block, sets RIP
)

// String operations (inst.sub).
const (
	strMovs = iota
	strStos
	strLods
	strCmps
	strScas
)

func init() {
	cpuidLeaf7EBX |= 1 << 9 // ERMS: REP MOVSB and REP STOSB are fast
	endsBlock[opRepString] = true
	for _, ops := range []struct {
		sub uint8
		ops [4]x86asm.Op
	}{
		{strMovs, [4]x86asm.Op{x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ}},
		{strStos, [4]x86asm.Op{x86asm.STOSB, x86asm.STOSW, x86asm.STOSD, x86asm.STOSQ}},
		{strLods, [4]x86asm.Op{x86asm.LODSB, x86asm.LODSW, x86asm.LODSD, x86asm.LODSQ}},
		{strCmps, [4]x86asm.Op{x86asm.CMPSB, x86asm.CMPSW, x86asm.CMPSD, x86asm.CMPSQ}},
		{strScas, [4]x86asm.Op{x86asm.SCASB, x86asm.SCASW, x86asm.SCASD, x86asm.SCASQ}},
	} {
		for i, op := range ops.ops {
			size := uint8(1) << i
			sub := ops.sub
			coldDecoders[op] = func(in *inst, x *x86asm.Inst) bool {
				return decodeString(in, x, sub, size)
			}
		}
	}
}

// decodeString fills in a string instruction: size is the element size; the source
// segment (FS, GS or flat) comes from the RSI operand x86asm reports.
func decodeString(in *inst, x *x86asm.Inst, sub, size uint8) bool {
	in.op, in.sub, in.size = opString, sub, size
	if in.form&(fRep|fRepNE) != 0 {
		in.op = opRepString
	}
	switch x.AddrSize {
	case 32:
		in.form |= fAddr32
	case 64:
	default:
		return false
	}
	for _, a := range x.Args {
		if m, ok := a.(x86asm.Mem); ok && (m.Base == x86asm.RSI || m.Base == x86asm.ESI) {
			switch m.Segment {
			case x86asm.FS:
				in.seg = segFS
			case x86asm.GS:
				in.seg = segGS
			}
		}
	}
	return true
}

// strRegs is the address-size view of RSI, RDI and RCX.
func (c *CPU) strReg(in *inst, r int) uint64 {
	if in.form&fAddr32 != 0 {
		return uint64(uint32(c.r[r]))
	}
	return c.r[r]
}

// setStrReg writes RSI, RDI or RCX at the address size (a 32-bit write zero-extends).
func (c *CPU) setStrReg(in *inst, r int, v uint64) {
	if in.form&fAddr32 != 0 {
		v = uint64(uint32(v))
	}
	c.r[r] = v
}

// srcAddr returns the linear address of the source element at offset si.
func (c *CPU) srcAddr(in *inst, si uint64) uint64 {
	switch in.seg {
	case segFS:
		return si + c.fsBase
	case segGS:
		return si + c.gsBase
	}
	return si
}

// strStep performs one iteration: its loads, then its store, then the pointer updates, so a
// fault leaves the registers as they were before it.
func (c *CPU) strStep(in *inst) {
	sz := in.size
	delta := uint64(sz)
	if c.rflags&FlagDF != 0 {
		delta = -delta
	}
	switch in.sub {
	case strMovs:
		si, di := c.strReg(in, RSI), c.strReg(in, RDI)
		c.write(di, sz, c.read(c.srcAddr(in, si), sz))
		c.setStrReg(in, RSI, si+delta)
		c.setStrReg(in, RDI, di+delta)
	case strStos:
		di := c.strReg(in, RDI)
		c.write(di, sz, c.r[RAX])
		c.setStrReg(in, RDI, di+delta)
	case strLods:
		si := c.strReg(in, RSI)
		v := c.read(c.srcAddr(in, si), sz)
		c.setReg(RAX, sz, v)
		c.setStrReg(in, RSI, si+delta)
	case strCmps: // flags of CMP [RSI], [RDI]
		si, di := c.strReg(in, RSI), c.strReg(in, RDI)
		a := c.read(c.srcAddr(in, si), sz)
		b := c.read(di, sz)
		c.setLazy(lzSub, sz, a, b, a-b)
		c.setStrReg(in, RSI, si+delta)
		c.setStrReg(in, RDI, di+delta)
	case strScas: // flags of CMP accumulator, [RDI]
		di := c.strReg(in, RDI)
		b := c.read(di, sz)
		a := c.getReg(RAX, sz)
		c.setLazy(lzSub, sz, a, b, a-b)
		c.setStrReg(in, RDI, di+delta)
	}
}

func execString(c *CPU, in *inst) { c.strStep(in) }

// execRepString runs a REP-prefixed string instruction to completion, or for one iteration
// when single-stepping; RIP stays at the instruction while iterations remain.
func execRepString(c *CPU, in *inst) {
	here := c.bva + uint64(in.off)
	c.rip = c.next(in)
	conditional := in.sub == strCmps || in.sub == strScas
	chunked := (in.sub == strMovs || in.sub == strStos) && c.rflags&FlagDF == 0 && !c.stepping && !c.watching
	for {
		cnt := c.strReg(in, RCX)
		if cnt == 0 {
			return
		}
		if chunked {
			if n := c.strChunk(in, cnt); n > 0 {
				c.setStrReg(in, RCX, cnt-n)
				continue
			}
		}
		c.strStep(in)
		cnt--
		c.setStrReg(in, RCX, cnt)
		if cnt == 0 {
			return
		}
		if conditional {
			zf := c.cond(ccE)
			if in.form&fRepNE != 0 && zf || in.form&fRepNE == 0 && !zf {
				return
			}
		}
		if c.stepping || c.dr6 != 0 {
			c.rip = here // a step or a watchpoint stops after this iteration
			return
		}
	}
}

// strChunk performs up to cnt iterations of an upward REP MOVS or REP STOS that stay within
// one page of the source and one of the destination, and returns how many it did (0 when the
// next element straddles a page or alignment checking is on: the caller then steps one
// element). The pages are translated before anything is written.
func (c *CPU) strChunk(in *inst, cnt uint64) uint64 {
	if c.alignChecking() {
		return 0
	}
	sz := uint64(in.size)
	di := c.strReg(in, RDI)
	room := 0x1000 - di&0xfff
	var si, sa uint64
	if in.sub == strMovs {
		si = c.strReg(in, RSI)
		sa = c.srcAddr(in, si)
		room = min(room, 0x1000-sa&0xfff)
	}
	n := min(cnt, room/sz)
	if n == 0 {
		return 0
	}
	nb := n * sz
	var spa uint64
	if in.sub == strMovs {
		spa = c.translate(sa, mmu.Read)
		c.physical(spa, nb)
	}
	dpa := c.translate(di, mmu.Write)
	c.physical(dpa, nb)
	dst := c.mem[dpa : dpa+nb]
	switch in.sub {
	case strMovs:
		src := c.mem[spa : spa+nb]
		if dpa > spa && dpa < spa+nb {
			// Overlapping upward copy: element by element, as the loop would (a short
			// distance replicates a pattern, which memmove would not).
			for i := uint64(0); i < nb; i += sz {
				copy(c.mem[dpa+i:dpa+i+sz], c.mem[spa+i:spa+i+sz])
			}
		} else {
			copy(dst, src)
		}
		c.setStrReg(in, RSI, si+nb)
	case strStos:
		var pat [8]byte
		binary.LittleEndian.PutUint64(pat[:], c.r[RAX])
		copy(dst, pat[:sz])
		for filled := sz; filled < nb; filled *= 2 {
			copy(dst[filled:], dst[:filled])
		}
	}
	c.setStrReg(in, RDI, di+nb)
	c.stored(dpa)
	return n
}
