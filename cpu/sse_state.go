package cpu

// MXCSR access (LDMXCSR, STMXCSR) and the FXSAVE/FXRSTOR image of the x87 and SSE state
// (SDM Vol. 2A, FXSAVE, Tables 3-53 and 3-56: the 64-bit-mode layouts with and without
// REX.W). The x87 registers themselves belong to the x87 unit (ExtState.X87); this file only
// moves them to and from memory, in the byte layout of fxsave_export.go.

import (
	"golang.org/x/arch/x86/x86asm"

	"github.com/vmemu/vmemu/mmu"
)

// fxsaveSize is the size of the FXSAVE image; the bytes from fxsaveUsed on are reserved or
// available to software, and FXSAVE does not write them.
const (
	fxsaveSize = 512
	fxsaveUsed = 416
)

// abridgedTag compresses the x87 tag word to one bit per register: 1 unless empty (11).
func abridgedTag(ftw uint16) uint8 {
	var t uint8
	for i := 0; i < 8; i++ {
		if ftw>>(2*i)&3 != 3 {
			t |= 1 << i
		}
	}
	return t
}

// fullTag rebuilds the tag of a non-empty register from its contents, as FXRSTOR does:
// 01 zero, 10 special (NaN, infinity, denormal, unnormal), 00 valid.
func fullTag(r Float80) uint16 {
	exp := r.SE & 0x7fff
	switch {
	case exp == 0x7fff:
		return 2
	case exp == 0 && r.Mant == 0:
		return 1
	case exp == 0, r.Mant>>63 == 0:
		return 2
	}
	return 0
}

// fxsave stores the image at ea. rexW selects the 64-bit instruction and data pointers.
func (c *CPU) fxsave(ea uint64, rexW bool) {
	if ea&15 != 0 {
		c.raise(VecGP, 0, ea)
	}
	c.probe(ea, fxsaveUsed, mmu.Write)
	var b [fxsaveUsed]byte
	c.ext.encodeFX(&b, rexW)
	c.writeBytes(ea, b[:])
}

// fxrstor loads the image at ea. A reserved MXCSR bit in the image raises #GP(0) before
// anything is loaded.
func (c *CPU) fxrstor(ea uint64, rexW bool) {
	if ea&15 != 0 {
		c.raise(VecGP, 0, ea)
	}
	var b [fxsaveUsed]byte
	c.readBytes(ea, b[:], mmu.Read)
	if !c.ext.decodeFX(&b, rexW) {
		c.raise(VecGP, 0, 0)
	}
}

func init() {
	// LDMXCSR m32: a reserved bit set raises #GP(0) (SDM Vol. 2B, LDMXCSR). Setting an
	// exception flag whose mask is clear raises nothing now; the next SSE instruction that
	// detects that condition will.
	ldmxcsr := sseX.add(func(c *CPU, in *inst) {
		v := uint32(c.read(c.ea(in), 4))
		if v&^mxcsrMask != 0 {
			c.raise(VecGP, 0, 0)
		}
		c.ext.MXCSR = v
	})
	stmxcsr := sseX.add(func(c *CPU, in *inst) { c.write(c.ea(in), 4, uint64(c.ext.MXCSR)) })
	fxsave := sseX.add(func(c *CPU, in *inst) { c.fxsave(c.ea(in), in.ssize&sseDst64 != 0) })
	fxrstor := sseX.add(func(c *CPU, in *inst) { c.fxrstor(c.ea(in), in.ssize&sseDst64 != 0) })
	memOnly := func(ref sseRef, rexW bool) coldDecoder {
		return func(in *inst, x *x86asm.Inst) bool {
			m, ok := x.Args[0].(x86asm.Mem)
			if !ok || x.Args[1] != nil {
				return false
			}
			in.op, in.sub = ref.op, ref.sub
			in.form |= fSrcMem
			in.size = 4
			if rexW {
				in.ssize |= sseDst64
			}
			return in.setMem(m, x)
		}
	}
	sseDecoder(x86asm.LDMXCSR, memOnly(ldmxcsr, false))
	sseDecoder(x86asm.STMXCSR, memOnly(stmxcsr, false))
	sseDecoder(x86asm.FXSAVE, memOnly(fxsave, false))
	sseDecoder(x86asm.FXSAVE64, memOnly(fxsave, true))
	sseDecoder(x86asm.FXRSTOR, memOnly(fxrstor, false))
	sseDecoder(x86asm.FXRSTOR64, memOnly(fxrstor, true))
}
