package cpu

// MXCSR access (LDMXCSR, STMXCSR) and the FXSAVE/FXRSTOR image of the x87 and SSE state
// (SDM Vol. 2A, FXSAVE, Tables 3-53 and 3-56: the 64-bit-mode layouts with and without
// REX.W). The x87 registers themselves belong to the x87 unit (ExtState.X87); this file only
// moves them to and from memory.

import (
	"encoding/binary"

	"golang.org/x/arch/x86/x86asm"

	"vmemu/mmu"
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
	x := &c.ext.X87
	var b [fxsaveUsed]byte
	le := binary.LittleEndian
	le.PutUint16(b[0:], x.FCW)
	le.PutUint16(b[2:], x.FSW)
	b[4] = abridgedTag(x.FTW)
	le.PutUint16(b[6:], x.FOP&0x7ff)
	if rexW {
		le.PutUint64(b[8:], x.FIP)
		le.PutUint64(b[16:], x.FDP)
	} else {
		// FCS and FDS are not modelled: the processor reports them as zero (CPUID.(EAX=07H,
		// ECX=0):EBX[13], "FCS and FDS deprecated").
		le.PutUint32(b[8:], uint32(x.FIP))
		le.PutUint32(b[16:], uint32(x.FDP))
	}
	le.PutUint32(b[24:], c.ext.MXCSR)
	le.PutUint32(b[28:], mxcsrMask)
	top := int(x.FSW >> 11 & 7)
	for i := 0; i < 8; i++ {
		r := x.R[(top+i)&7]
		le.PutUint64(b[32+16*i:], r.Mant)
		le.PutUint16(b[40+16*i:], r.SE)
	}
	for i := 0; i < 16; i++ {
		le.PutUint64(b[160+16*i:], c.ext.XMM[i][0])
		le.PutUint64(b[168+16*i:], c.ext.XMM[i][1])
	}
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
	le := binary.LittleEndian
	mxcsr := le.Uint32(b[24:])
	if mxcsr&^mxcsrMask != 0 {
		c.raise(VecGP, 0, 0)
	}
	x := &c.ext.X87
	// FCW: bit 6 reads as 1, bits 7 and 15:13 as 0. FSW: the error summary (bit 7) and busy
	// (bit 15) bits follow the exception flags and masks. The pointers are linear addresses,
	// kept canonical (bits 63:48 copies of bit 47). The host CPU shows all three.
	x.FCW = le.Uint16(b[0:])&0x1f3f | 0x40
	x.FSW = le.Uint16(b[2:]) &^ 0x8080
	if x.FSW&^x.FCW&0x3f != 0 {
		x.FSW |= 0x8080
	}
	x.FOP = le.Uint16(b[6:]) & 0x7ff
	if rexW {
		x.FIP = uint64(int64(le.Uint64(b[8:])<<16) >> 16)
		x.FDP = uint64(int64(le.Uint64(b[16:])<<16) >> 16)
	} else {
		x.FIP = uint64(le.Uint32(b[8:]))
		x.FDP = uint64(le.Uint32(b[16:]))
	}
	top := int(x.FSW >> 11 & 7)
	for i := 0; i < 8; i++ {
		x.R[(top+i)&7] = Float80{Mant: le.Uint64(b[32+16*i:]), SE: le.Uint16(b[40+16*i:])}
	}
	tags := b[4]
	x.FTW = 0
	for i := 0; i < 8; i++ {
		t := uint16(3)
		if tags>>i&1 != 0 {
			t = fullTag(x.R[i])
		}
		x.FTW |= t << (2 * i)
	}
	c.ext.MXCSR = mxcsr
	for i := 0; i < 16; i++ {
		c.ext.XMM[i] = vec{le.Uint64(b[160+16*i:]), le.Uint64(b[168+16*i:])}
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
