package cpu

// The FXSAVE image of the x87 and SSE state, as bytes (SDM Vol. 2A, FXSAVE, Tables 3-53 and
// 3-56). FXSAVE/FXRSTOR (sse_state.go) move it between the registers and memory; a kernel
// moves it between a saved ExtState and a signal frame on the user stack, as Linux's
// fxsave_to_user_sigframe() and fxrstor_from_user_sigframe() do with FXSAVE64/FXRSTOR64.
// Both use the one layout below.

import "encoding/binary"

// FXSaveSize is the size of the FXSAVE image; FXSaveUsed is how much of it the processor
// writes. Bytes 416-463 are reserved and bytes 464-511 are available to software (Linux
// keeps its struct _fpx_sw_bytes there): FXSAVE leaves both alone.
const (
	FXSaveSize = fxsaveSize
	FXSaveUsed = fxsaveUsed
)

// FXSave64 stores s into image as FXSAVE64 (the REX.W form, with 64-bit instruction and
// data pointers) lays it out. Only the first FXSaveUsed bytes are written.
func (s *ExtState) FXSave64(image *[FXSaveSize]byte) {
	s.encodeFX((*[fxsaveUsed]byte)(image[:fxsaveUsed]), true)
}

// FXRstor64 loads s from image as FXRSTOR64 does. When the image's MXCSR sets a reserved
// bit, where FXRSTOR raises #GP(0), it reports false and leaves s unchanged.
func (s *ExtState) FXRstor64(image *[FXSaveSize]byte) bool {
	return s.decodeFX((*[fxsaveUsed]byte)(image[:fxsaveUsed]), true)
}

// encodeFX lays the x87 and SSE state out as FXSAVE does. rexW selects the 64-bit
// instruction and data pointers.
func (s *ExtState) encodeFX(b *[fxsaveUsed]byte, rexW bool) {
	x := &s.X87
	le := binary.LittleEndian
	le.PutUint16(b[0:], x.FCW)
	le.PutUint16(b[2:], x.FSW)
	b[4] = abridgedTag(x.FTW)
	b[5] = 0
	le.PutUint16(b[6:], x.FOP&0x7ff)
	if rexW {
		le.PutUint64(b[8:], x.FIP)
		le.PutUint64(b[16:], x.FDP)
	} else {
		// FCS and FDS are not modelled: the processor reports them as zero (CPUID.(EAX=07H,
		// ECX=0):EBX[13], "FCS and FDS deprecated").
		le.PutUint64(b[8:], uint64(uint32(x.FIP)))
		le.PutUint64(b[16:], uint64(uint32(x.FDP)))
	}
	le.PutUint32(b[24:], s.MXCSR)
	le.PutUint32(b[28:], mxcsrMask)
	top := int(x.FSW >> 11 & 7)
	for i := 0; i < 8; i++ {
		r := x.R[(top+i)&7]
		le.PutUint64(b[32+16*i:], r.Mant)
		le.PutUint16(b[40+16*i:], r.SE)
		clear(b[42+16*i : 48+16*i])
	}
	for i := 0; i < 16; i++ {
		le.PutUint64(b[160+16*i:], s.XMM[i][0])
		le.PutUint64(b[168+16*i:], s.XMM[i][1])
	}
}

// decodeFX loads the state from an FXSAVE image as FXRSTOR does. A reserved MXCSR bit makes
// it report false before anything is loaded.
func (s *ExtState) decodeFX(b *[fxsaveUsed]byte, rexW bool) bool {
	le := binary.LittleEndian
	mxcsr := le.Uint32(b[24:])
	if mxcsr&^mxcsrMask != 0 {
		return false
	}
	x := &s.X87
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
	s.MXCSR = mxcsr
	for i := 0; i < 16; i++ {
		s.XMM[i] = vec{le.Uint64(b[160+16*i:]), le.Uint64(b[168+16*i:])}
	}
	return true
}
