package cpu

// Packed-integer SSE instructions (SSE2, SSSE3, SSE4.1): arithmetic, comparisons, logic,
// shifts, shuffles, packing and unpacking, blends, insertion and extraction. None of them
// reads or changes MXCSR. Each function mirrors the "Operation" section of its SDM Vol. 2
// page, element by element.

import (
	"encoding/binary"

	"golang.org/x/arch/x86/x86asm"
)

// Element views of a 128-bit value, element 0 first.

func bytesOf(v vec) (r [16]uint8) {
	binary.LittleEndian.PutUint64(r[:8], v[0])
	binary.LittleEndian.PutUint64(r[8:], v[1])
	return
}

func fromBytes(r [16]uint8) vec {
	return vec{binary.LittleEndian.Uint64(r[:8]), binary.LittleEndian.Uint64(r[8:])}
}

func wordsOf(v vec) [8]uint16 {
	return [8]uint16{uint16(v[0]), uint16(v[0] >> 16), uint16(v[0] >> 32), uint16(v[0] >> 48),
		uint16(v[1]), uint16(v[1] >> 16), uint16(v[1] >> 32), uint16(v[1] >> 48)}
}

func fromWords(r [8]uint16) vec {
	return vec{uint64(r[0]) | uint64(r[1])<<16 | uint64(r[2])<<32 | uint64(r[3])<<48,
		uint64(r[4]) | uint64(r[5])<<16 | uint64(r[6])<<32 | uint64(r[7])<<48}
}

func dwordsOf(v vec) [4]uint32 {
	return [4]uint32{uint32(v[0]), uint32(v[0] >> 32), uint32(v[1]), uint32(v[1] >> 32)}
}

func fromDwords(r [4]uint32) vec {
	return vec{uint64(r[0]) | uint64(r[1])<<32, uint64(r[2]) | uint64(r[3])<<32}
}

// Saturation.

func satS8(x int32) uint8 { return uint8(int8(max(-128, min(127, x)))) }
func satU8(x int32) uint8 { return uint8(max(0, min(255, x))) }
func satS16(x int32) uint16 {
	return uint16(int16(max(-32768, min(32767, x))))
}
func satU16(x int32) uint16 { return uint16(max(0, min(65535, x))) }

// Element-wise combinators.

func mapBytes(d, s vec, f func(a, b uint8) uint8) vec {
	a, b := bytesOf(d), bytesOf(s)
	var r [16]uint8
	for i := range r {
		r[i] = f(a[i], b[i])
	}
	return fromBytes(r)
}

func mapWords(d, s vec, f func(a, b uint16) uint16) vec {
	a, b := wordsOf(d), wordsOf(s)
	var r [8]uint16
	for i := range r {
		r[i] = f(a[i], b[i])
	}
	return fromWords(r)
}

func mapDwords(d, s vec, f func(a, b uint32) uint32) vec {
	a, b := dwordsOf(d), dwordsOf(s)
	var r [4]uint32
	for i := range r {
		r[i] = f(a[i], b[i])
	}
	return fromDwords(r)
}

func mapQwords(d, s vec, f func(a, b uint64) uint64) vec {
	return vec{f(d[0], s[0]), f(d[1], s[1])}
}

// Lifts a two-operand element function to a shape-A function.
func bytewise(f func(a, b uint8) uint8) sseAFn {
	return func(_ *CPU, d, s vec, _ uint8) vec { return mapBytes(d, s, f) }
}
func wordwise(f func(a, b uint16) uint16) sseAFn {
	return func(_ *CPU, d, s vec, _ uint8) vec { return mapWords(d, s, f) }
}
func dwordwise(f func(a, b uint32) uint32) sseAFn {
	return func(_ *CPU, d, s vec, _ uint8) vec { return mapDwords(d, s, f) }
}
func qwordwise(f func(a, b uint64) uint64) sseAFn {
	return func(_ *CPU, d, s vec, _ uint8) vec { return mapQwords(d, s, f) }
}

func mask8(b bool) uint8 {
	if b {
		return 0xff
	}
	return 0
}
func mask16(b bool) uint16 {
	if b {
		return 0xffff
	}
	return 0
}
func mask32(b bool) uint32 {
	if b {
		return 0xffffffff
	}
	return 0
}
func mask64(b bool) uint64 {
	if b {
		return ^uint64(0)
	}
	return 0
}

// Shifts (SDM Vol. 2, PSLLW/PSLLD/PSLLQ, PSRLW..., PSRAW/PSRAD): a count above the element
// width clears the element (fills it with the sign for arithmetic shifts).

func shiftWords(v vec, n uint64, kind int) vec {
	w := wordsOf(v)
	for i := range w {
		switch kind {
		case 0:
			if n > 15 {
				w[i] = 0
			} else {
				w[i] <<= n
			}
		case 1:
			if n > 15 {
				w[i] = 0
			} else {
				w[i] >>= n
			}
		default:
			w[i] = uint16(int16(w[i]) >> min(n, 15))
		}
	}
	return fromWords(w)
}

func shiftDwords(v vec, n uint64, kind int) vec {
	d := dwordsOf(v)
	for i := range d {
		switch kind {
		case 0:
			if n > 31 {
				d[i] = 0
			} else {
				d[i] <<= n
			}
		case 1:
			if n > 31 {
				d[i] = 0
			} else {
				d[i] >>= n
			}
		default:
			d[i] = uint32(int32(d[i]) >> min(n, 31))
		}
	}
	return fromDwords(d)
}

func shiftQwords(v vec, n uint64, left bool) vec {
	if n > 63 {
		return vec{}
	}
	if left {
		return vec{v[0] << n, v[1] << n}
	}
	return vec{v[0] >> n, v[1] >> n}
}

// byteShift shifts the whole register by n bytes (PSLLDQ, PSRLDQ); n > 15 clears it.
func byteShift(v vec, n uint8, left bool) vec {
	b := bytesOf(v)
	var r [16]uint8
	for i := range r {
		j := i + int(n)
		if left {
			j = i - int(n)
		}
		if j >= 0 && j < 16 {
			r[i] = b[j]
		}
	}
	return fromBytes(r)
}

// Shuffles and permutations.

func pshufb(d, s vec) vec {
	a, m := bytesOf(d), bytesOf(s)
	var r [16]uint8
	for i := range r {
		if m[i]&0x80 == 0 {
			r[i] = a[m[i]&15]
		}
	}
	return fromBytes(r)
}

func pshufd(s vec, imm uint8) vec {
	e := dwordsOf(s)
	return fromDwords([4]uint32{e[imm&3], e[imm>>2&3], e[imm>>4&3], e[imm>>6&3]})
}

func pshuflw(s vec, imm uint8) vec {
	w := wordsOf(s)
	r := w
	for i := 0; i < 4; i++ {
		r[i] = w[imm>>(2*i)&3]
	}
	return fromWords(r)
}

func pshufhw(s vec, imm uint8) vec {
	w := wordsOf(s)
	r := w
	for i := 0; i < 4; i++ {
		r[4+i] = w[4+imm>>(2*i)&3]
	}
	return fromWords(r)
}

func shufps(d, s vec, imm uint8) vec {
	a, b := dwordsOf(d), dwordsOf(s)
	return fromDwords([4]uint32{a[imm&3], a[imm>>2&3], b[imm>>4&3], b[imm>>6&3]})
}

func shufpd(d, s vec, imm uint8) vec { return vec{d[imm&1], s[imm>>1&1]} }

// palignr concatenates d:s (d high), shifts right by imm bytes and keeps the low 16.
func palignr(d, s vec, imm uint8) vec {
	a, b := bytesOf(s), bytesOf(d)
	var r [16]uint8
	for i := range r {
		j := i + int(imm)
		switch {
		case j < 16:
			r[i] = a[j]
		case j < 32:
			r[i] = b[j-16]
		}
	}
	return fromBytes(r)
}

// Interleaves: unpackLow/High of element size sz bytes.
func unpack(d, s vec, sz int, high bool) vec {
	a, b := d[0], s[0]
	if high {
		a, b = d[1], s[1]
	}
	switch sz {
	case 1:
		return vec{spread8(uint32(a)) | spread8(uint32(b))<<8, spread8(uint32(a>>32)) | spread8(uint32(b>>32))<<8}
	case 2:
		return vec{spread16(uint32(a)) | spread16(uint32(b))<<16, spread16(uint32(a>>32)) | spread16(uint32(b>>32))<<16}
	case 4:
		return vec{a&0xffffffff | b<<32, a>>32 | b&^0xffffffff}
	}
	return vec{a, b}
}

// spread16 moves the two words of x into the low words of the two dwords of the result.
func spread16(x uint32) uint64 {
	v := uint64(x)
	return (v | v<<16) & 0x0000ffff0000ffff
}

// spread8 moves the four bytes of x into the low bytes of the four words of the result.
func spread8(x uint32) uint64 {
	v := spread16(x)
	return (v | v<<8) & 0x00ff00ff00ff00ff
}

// Packs.

func packsswb(d, s vec) vec {
	a, b := wordsOf(d), wordsOf(s)
	var r [16]uint8
	for i := 0; i < 8; i++ {
		r[i] = satS8(int32(int16(a[i])))
		r[8+i] = satS8(int32(int16(b[i])))
	}
	return fromBytes(r)
}

func packuswb(d, s vec) vec {
	a, b := wordsOf(d), wordsOf(s)
	var r [16]uint8
	for i := 0; i < 8; i++ {
		r[i] = satU8(int32(int16(a[i])))
		r[8+i] = satU8(int32(int16(b[i])))
	}
	return fromBytes(r)
}

func packDwords(d, s vec, sat func(int32) uint16) vec {
	a, b := dwordsOf(d), dwordsOf(s)
	var r [8]uint16
	for i := 0; i < 4; i++ {
		r[i] = sat(int32(a[i]))
		r[4+i] = sat(int32(b[i]))
	}
	return fromWords(r)
}

// pmovx widens the low elements of s from sz to dsz bytes, sign- or zero-extending.
func pmovx(s vec, sz, dsz int, signed bool) vec {
	b := bytesOf(s)
	var r vec
	n := 16 / dsz
	for i := 0; i < n; i++ {
		var x uint64
		for k := 0; k < sz; k++ {
			x |= uint64(b[i*sz+k]) << (8 * k)
		}
		if signed {
			x = signExtend(x, uint8(sz))
		}
		x &= sizeMask[dsz]
		bit := i * dsz * 8
		r[bit>>6] |= x << (bit & 63)
	}
	return r
}

// Horizontal operations (SSSE3 PHADDW..., SDM Vol. 2).

func phWords(d, s vec, f func(a, b uint16) uint16) vec {
	a, b := wordsOf(d), wordsOf(s)
	var r [8]uint16
	for i := 0; i < 4; i++ {
		r[i] = f(a[2*i], a[2*i+1])
		r[4+i] = f(b[2*i], b[2*i+1])
	}
	return fromWords(r)
}

func phDwords(d, s vec, f func(a, b uint32) uint32) vec {
	a, b := dwordsOf(d), dwordsOf(s)
	return fromDwords([4]uint32{f(a[0], a[1]), f(a[2], a[3]), f(b[0], b[1]), f(b[2], b[3])})
}

// Blends.

// blendBytes takes byte i from s where bit 7 of byte i of m is set, else from d.
func blendBytes(d, s, m vec) vec {
	var r vec
	for q := 0; q < 2; q++ {
		var sel uint64
		for i := 0; i < 8; i++ {
			if m[q]>>(8*i+7)&1 != 0 {
				sel |= 0xff << (8 * i)
			}
		}
		r[q] = d[q]&^sel | s[q]&sel
	}
	return r
}

// blendMask builds a selection mask from imm8 bits, one bit per element of sz bytes.
func blendMask(imm uint8, sz int) vec {
	var m vec
	for i := 0; i < 16/sz; i++ {
		if imm>>i&1 != 0 {
			bit := i * sz * 8
			m[bit>>6] |= sizeMask[sz] << (bit & 63)
		}
	}
	return m
}

func blendSel(d, s, m vec) vec { return vec{d[0]&^m[0] | s[0]&m[0], d[1]&^m[1] | s[1]&m[1]} }

// signMaskOf builds a mask of whole elements of sz bytes whose sign bit is set in m.
func signMaskOf(m vec, sz int) vec {
	var r vec
	for i := 0; i < 16/sz; i++ {
		bit := i*sz*8 + sz*8 - 1
		if m[bit>>6]>>(bit&63)&1 != 0 {
			lo := i * sz * 8
			r[lo>>6] |= sizeMask[sz] << (lo & 63)
		}
	}
	return r
}

// insertps (SDM Vol. 2, INSERTPS): element imm[7:6] of s (the loaded dword for a memory
// source) goes to element imm[5:4] of d; elements selected by imm[3:0] are zeroed.
func insertps(d uint32x4, src uint32, imm uint8) vec {
	d[imm>>4&3] = src
	for i := 0; i < 4; i++ {
		if imm>>i&1 != 0 {
			d[i] = 0
		}
	}
	return fromDwords(d)
}

type uint32x4 = [4]uint32

// mpsadbw (SDM Vol. 2, MPSADBW): eight sums of absolute differences of a 4-byte block of s
// (chosen by imm[1:0]) against sliding 4-byte windows of d (starting at imm[2]*4).
func mpsadbw(d, s vec, imm uint8) vec {
	a, b := bytesOf(d), bytesOf(s)
	ao := int(imm>>2&1) * 4
	bo := int(imm&3) * 4
	var r [8]uint16
	for i := range r {
		var sum uint16
		for k := 0; k < 4; k++ {
			x, y := int(a[ao+i+k]), int(b[bo+k])
			sum += uint16(max(x-y, y-x))
		}
		r[i] = sum
	}
	return fromWords(r)
}

func psadbw(d, s vec) vec {
	a, b := bytesOf(d), bytesOf(s)
	var r vec
	for q := 0; q < 2; q++ {
		var sum uint64
		for i := 0; i < 8; i++ {
			x, y := int(a[8*q+i]), int(b[8*q+i])
			sum += uint64(max(x-y, y-x))
		}
		r[q] = sum
	}
	return r
}

func phminposuw(s vec) vec {
	w := wordsOf(s)
	idx := 0
	for i := 1; i < 8; i++ {
		if w[i] < w[idx] {
			idx = i
		}
	}
	return vec{uint64(w[idx]) | uint64(idx)<<16, 0}
}

func abs8(x uint8) uint8 {
	if int8(x) < 0 {
		return -x
	}
	return x
}
func abs16(x uint16) uint16 {
	if int16(x) < 0 {
		return -x
	}
	return x
}
func abs32(x uint32) uint32 {
	if int32(x) < 0 {
		return -x
	}
	return x
}

func sign8(a, b uint8) uint8 {
	switch {
	case int8(b) < 0:
		return -a
	case b == 0:
		return 0
	}
	return a
}
func sign16(a, b uint16) uint16 {
	switch {
	case int16(b) < 0:
		return -a
	case b == 0:
		return 0
	}
	return a
}
func sign32(a, b uint32) uint32 {
	switch {
	case int32(b) < 0:
		return -a
	case b == 0:
		return 0
	}
	return a
}

// Word-parallel forms of the byte operations string routines run in their inner loops
// (glibc's strlen, strchr, memchr, strcmp: PCMPEQB, PMOVMSKB, PMINUB, PADDB, PSUBB), which
// would otherwise take sixteen calls each.

const (
	lo7 = 0x7f7f7f7f7f7f7f7f
	hi1 = 0x8080808080808080
)

// eqLanes returns all ones in each lane (of width w bits: 8, 16 or 32) where a and b are
// equal: a lane of x = a^b is zero exactly when adding its low w-1 bits to all-ones-but-top
// does not carry into, and x has no, top bit.
func eqLanes(a, b uint64, w uint) uint64 {
	low := uint64(lo7)
	switch w {
	case 16:
		low = 0x7fff7fff7fff7fff
	case 32:
		low = 0x7fffffff7fffffff
	}
	x := a ^ b
	z := ^((x&low + low) | x | low) // the top bit of each zero lane
	return z >> (w - 1) * (1<<w - 1)
}

// maskBits gathers bit 7 of each byte of v into an 8-bit mask (PMOVMSKB).
func maskBits(v uint64) uint64 { return (v & hi1) * 0x0002040810204081 >> 56 }

func addBytes(a, b uint64) uint64 { return (a&lo7 + b&lo7) ^ (a^b)&hi1 }
func subBytes(a, b uint64) uint64 { return (a | hi1 - b&lo7) ^ (a^^b)&hi1 }

func minMaxBytes(a, b uint64, isMax bool) uint64 {
	var r uint64
	for i := 0; i < 64; i += 8 {
		x, y := a>>i&0xff, b>>i&0xff
		if y < x != isMax {
			x = y
		}
		r |= x << i
	}
	return r
}

func init() {
	// Arithmetic (SSE2 unless noted).
	sseInsn(x86asm.PADDB, 16, qwordwise(addBytes))
	sseInsn(x86asm.PADDW, 16, wordwise(func(a, b uint16) uint16 { return a + b }))
	sseInsn(x86asm.PADDD, 16, dwordwise(func(a, b uint32) uint32 { return a + b }))
	sseInsn(x86asm.PADDQ, 16, qwordwise(func(a, b uint64) uint64 { return a + b }))
	sseInsn(x86asm.PSUBB, 16, qwordwise(subBytes))
	sseInsn(x86asm.PSUBW, 16, wordwise(func(a, b uint16) uint16 { return a - b }))
	sseInsn(x86asm.PSUBD, 16, dwordwise(func(a, b uint32) uint32 { return a - b }))
	sseInsn(x86asm.PSUBQ, 16, qwordwise(func(a, b uint64) uint64 { return a - b }))
	sseInsn(x86asm.PADDSB, 16, bytewise(func(a, b uint8) uint8 { return satS8(int32(int8(a)) + int32(int8(b))) }))
	sseInsn(x86asm.PADDSW, 16, wordwise(func(a, b uint16) uint16 { return satS16(int32(int16(a)) + int32(int16(b))) }))
	sseInsn(x86asm.PADDUSB, 16, bytewise(func(a, b uint8) uint8 { return satU8(int32(a) + int32(b)) }))
	sseInsn(x86asm.PADDUSW, 16, wordwise(func(a, b uint16) uint16 { return satU16(int32(a) + int32(b)) }))
	sseInsn(x86asm.PSUBSB, 16, bytewise(func(a, b uint8) uint8 { return satS8(int32(int8(a)) - int32(int8(b))) }))
	sseInsn(x86asm.PSUBSW, 16, wordwise(func(a, b uint16) uint16 { return satS16(int32(int16(a)) - int32(int16(b))) }))
	sseInsn(x86asm.PSUBUSB, 16, bytewise(func(a, b uint8) uint8 { return satU8(int32(a) - int32(b)) }))
	sseInsn(x86asm.PSUBUSW, 16, wordwise(func(a, b uint16) uint16 { return satU16(int32(a) - int32(b)) }))
	sseInsn(x86asm.PMULLW, 16, wordwise(func(a, b uint16) uint16 { return a * b }))
	sseInsn(x86asm.PMULHW, 16, wordwise(func(a, b uint16) uint16 { return uint16(int32(int16(a)) * int32(int16(b)) >> 16) }))
	sseInsn(x86asm.PMULHUW, 16, wordwise(func(a, b uint16) uint16 { return uint16(uint32(a) * uint32(b) >> 16) }))
	sseInsn(x86asm.PMULLD, 16, dwordwise(func(a, b uint32) uint32 { return a * b })) // SSE4.1
	sseInsn(x86asm.PMULUDQ, 16, qwordwise(func(a, b uint64) uint64 { return uint64(uint32(a)) * uint64(uint32(b)) }))
	sseInsn(x86asm.PMULDQ, 16, qwordwise(func(a, b uint64) uint64 { // SSE4.1
		return uint64(int64(int32(a)) * int64(int32(b)))
	}))
	sseInsn(x86asm.PMADDWD, 16, func(_ *CPU, d, s vec, _ uint8) vec {
		a, b := wordsOf(d), wordsOf(s)
		var r [4]uint32
		for i := range r {
			r[i] = uint32(int32(int16(a[2*i]))*int32(int16(b[2*i])) + int32(int16(a[2*i+1]))*int32(int16(b[2*i+1])))
		}
		return fromDwords(r)
	})
	sseInsn(x86asm.PMADDUBSW, 16, func(_ *CPU, d, s vec, _ uint8) vec { // SSSE3: d unsigned, s signed
		a, b := bytesOf(d), bytesOf(s)
		var r [8]uint16
		for i := range r {
			r[i] = satS16(int32(a[2*i])*int32(int8(b[2*i])) + int32(a[2*i+1])*int32(int8(b[2*i+1])))
		}
		return fromWords(r)
	})
	sseInsn(x86asm.PMULHRSW, 16, wordwise(func(a, b uint16) uint16 { // SSSE3
		return uint16((int32(int16(a))*int32(int16(b))>>14 + 1) >> 1)
	}))
	sseInsn(x86asm.PAVGB, 16, bytewise(func(a, b uint8) uint8 { return uint8((uint16(a) + uint16(b) + 1) >> 1) }))
	sseInsn(x86asm.PAVGW, 16, wordwise(func(a, b uint16) uint16 { return uint16((uint32(a) + uint32(b) + 1) >> 1) }))
	sseInsn(x86asm.PSADBW, 16, func(_ *CPU, d, s vec, _ uint8) vec { return psadbw(d, s) })
	sseInsn(x86asm.MPSADBW, 16, func(_ *CPU, d, s vec, imm uint8) vec { return mpsadbw(d, s, imm) })
	sseInsn(x86asm.PHMINPOSUW, 16, func(_ *CPU, _, s vec, _ uint8) vec { return phminposuw(s) })
	sseInsn(x86asm.PABSB, 16, bytewise(func(_, b uint8) uint8 { return abs8(b) }))
	sseInsn(x86asm.PABSW, 16, wordwise(func(_, b uint16) uint16 { return abs16(b) }))
	sseInsn(x86asm.PABSD, 16, dwordwise(func(_, b uint32) uint32 { return abs32(b) }))
	sseInsn(x86asm.PSIGNB, 16, bytewise(sign8))
	sseInsn(x86asm.PSIGNW, 16, wordwise(sign16))
	sseInsn(x86asm.PSIGND, 16, dwordwise(sign32))
	sseInsn(x86asm.PHADDW, 16, func(_ *CPU, d, s vec, _ uint8) vec {
		return phWords(d, s, func(a, b uint16) uint16 { return a + b })
	})
	sseInsn(x86asm.PHADDSW, 16, func(_ *CPU, d, s vec, _ uint8) vec {
		return phWords(d, s, func(a, b uint16) uint16 { return satS16(int32(int16(a)) + int32(int16(b))) })
	})
	sseInsn(x86asm.PHSUBW, 16, func(_ *CPU, d, s vec, _ uint8) vec {
		return phWords(d, s, func(a, b uint16) uint16 { return a - b })
	})
	sseInsn(x86asm.PHSUBSW, 16, func(_ *CPU, d, s vec, _ uint8) vec {
		return phWords(d, s, func(a, b uint16) uint16 { return satS16(int32(int16(a)) - int32(int16(b))) })
	})
	sseInsn(x86asm.PHADDD, 16, func(_ *CPU, d, s vec, _ uint8) vec {
		return phDwords(d, s, func(a, b uint32) uint32 { return a + b })
	})
	sseInsn(x86asm.PHSUBD, 16, func(_ *CPU, d, s vec, _ uint8) vec {
		return phDwords(d, s, func(a, b uint32) uint32 { return a - b })
	})

	// Minimum and maximum.
	sseInsn(x86asm.PMINUB, 16, func(_ *CPU, d, s vec, _ uint8) vec {
		return vec{minMaxBytes(d[0], s[0], false), minMaxBytes(d[1], s[1], false)}
	})
	sseInsn(x86asm.PMAXUB, 16, func(_ *CPU, d, s vec, _ uint8) vec {
		return vec{minMaxBytes(d[0], s[0], true), minMaxBytes(d[1], s[1], true)}
	})
	sseInsn(x86asm.PMINSB, 16, bytewise(func(a, b uint8) uint8 { return uint8(min(int8(a), int8(b))) }))
	sseInsn(x86asm.PMAXSB, 16, bytewise(func(a, b uint8) uint8 { return uint8(max(int8(a), int8(b))) }))
	sseInsn(x86asm.PMINUW, 16, wordwise(func(a, b uint16) uint16 { return min(a, b) }))
	sseInsn(x86asm.PMAXUW, 16, wordwise(func(a, b uint16) uint16 { return max(a, b) }))
	sseInsn(x86asm.PMINSW, 16, wordwise(func(a, b uint16) uint16 { return uint16(min(int16(a), int16(b))) }))
	sseInsn(x86asm.PMAXSW, 16, wordwise(func(a, b uint16) uint16 { return uint16(max(int16(a), int16(b))) }))
	sseInsn(x86asm.PMINUD, 16, dwordwise(func(a, b uint32) uint32 { return min(a, b) }))
	sseInsn(x86asm.PMAXUD, 16, dwordwise(func(a, b uint32) uint32 { return max(a, b) }))
	sseInsn(x86asm.PMINSD, 16, dwordwise(func(a, b uint32) uint32 { return uint32(min(int32(a), int32(b))) }))
	sseInsn(x86asm.PMAXSD, 16, dwordwise(func(a, b uint32) uint32 { return uint32(max(int32(a), int32(b))) }))

	// Comparisons.
	for _, c := range []struct {
		op x86asm.Op
		w  uint
	}{{x86asm.PCMPEQB, 8}, {x86asm.PCMPEQW, 16}, {x86asm.PCMPEQD, 32}} {
		w := c.w
		sseInsn(c.op, 16, func(_ *CPU, d, s vec, _ uint8) vec { return vec{eqLanes(d[0], s[0], w), eqLanes(d[1], s[1], w)} })
	}
	sseInsn(x86asm.PCMPEQQ, 16, qwordwise(func(a, b uint64) uint64 { return mask64(a == b) }))
	sseInsn(x86asm.PCMPGTB, 16, bytewise(func(a, b uint8) uint8 { return mask8(int8(a) > int8(b)) }))
	sseInsn(x86asm.PCMPGTW, 16, wordwise(func(a, b uint16) uint16 { return mask16(int16(a) > int16(b)) }))
	sseInsn(x86asm.PCMPGTD, 16, dwordwise(func(a, b uint32) uint32 { return mask32(int32(a) > int32(b)) }))
	sseInsn(x86asm.PCMPGTQ, 16, qwordwise(func(a, b uint64) uint64 { return mask64(int64(a) > int64(b)) }))

	// Bitwise logic: the integer forms and the floating-point ones (which raise no
	// floating-point exceptions: they only move bits).
	and := func(_ *CPU, d, s vec, _ uint8) vec { return vec{d[0] & s[0], d[1] & s[1]} }
	andn := func(_ *CPU, d, s vec, _ uint8) vec { return vec{^d[0] & s[0], ^d[1] & s[1]} }
	or := func(_ *CPU, d, s vec, _ uint8) vec { return vec{d[0] | s[0], d[1] | s[1]} }
	xor := func(_ *CPU, d, s vec, _ uint8) vec { return vec{d[0] ^ s[0], d[1] ^ s[1]} }
	for _, op := range []x86asm.Op{x86asm.PAND, x86asm.ANDPS, x86asm.ANDPD} {
		sseInsn(op, 16, and)
	}
	for _, op := range []x86asm.Op{x86asm.PANDN, x86asm.ANDNPS, x86asm.ANDNPD} {
		sseInsn(op, 16, andn)
	}
	for _, op := range []x86asm.Op{x86asm.POR, x86asm.ORPS, x86asm.ORPD} {
		sseInsn(op, 16, or)
	}
	for _, op := range []x86asm.Op{x86asm.PXOR, x86asm.XORPS, x86asm.XORPD} {
		sseInsn(op, 16, xor)
	}

	// Shifts: by an XMM register or m128 (the count is its low quadword), or by imm8.
	shift := func(op x86asm.Op, f func(v vec, n uint64) vec) {
		byReg := sseA.add(func(_ *CPU, d, s vec, _ uint8) vec { return f(d, s[0]) })
		byImm := sseA.add(func(_ *CPU, d, _ vec, imm uint8) vec { return f(d, uint64(imm)) })
		sseDecoder(op, func(in *inst, x *x86asm.Inst) bool {
			if imm, ok := x.Args[1].(x86asm.Imm); ok {
				d, ok := xmmReg(x.Args[0])
				in.dst, in.src, in.imm = d, d, uint64(imm)&0xff
				in.op, in.sub = byImm.op, byImm.sub
				return ok && x.Args[2] == nil
			}
			return decodeA(in, x, byReg, byReg, 16)
		})
	}
	shift(x86asm.PSLLW, func(v vec, n uint64) vec { return shiftWords(v, n, 0) })
	shift(x86asm.PSRLW, func(v vec, n uint64) vec { return shiftWords(v, n, 1) })
	shift(x86asm.PSRAW, func(v vec, n uint64) vec { return shiftWords(v, n, 2) })
	shift(x86asm.PSLLD, func(v vec, n uint64) vec { return shiftDwords(v, n, 0) })
	shift(x86asm.PSRLD, func(v vec, n uint64) vec { return shiftDwords(v, n, 1) })
	shift(x86asm.PSRAD, func(v vec, n uint64) vec { return shiftDwords(v, n, 2) })
	shift(x86asm.PSLLQ, func(v vec, n uint64) vec { return shiftQwords(v, n, true) })
	shift(x86asm.PSRLQ, func(v vec, n uint64) vec { return shiftQwords(v, n, false) })
	byteShiftImm := func(op x86asm.Op, left bool) {
		ref := sseA.add(func(_ *CPU, d, _ vec, imm uint8) vec { return byteShift(d, min(imm, 16), left) })
		sseDecoder(op, func(in *inst, x *x86asm.Inst) bool {
			imm, ok := x.Args[1].(x86asm.Imm)
			d, ok2 := xmmReg(x.Args[0])
			in.dst, in.src, in.imm = d, d, uint64(imm)&0xff
			in.op, in.sub = ref.op, ref.sub
			return ok && ok2 && x.Args[2] == nil
		})
	}
	byteShiftImm(x86asm.PSLLDQ, true)
	byteShiftImm(x86asm.PSRLDQ, false)

	// Shuffles.
	sseInsn(x86asm.PSHUFB, 16, func(_ *CPU, d, s vec, _ uint8) vec { return pshufb(d, s) })
	sseInsn(x86asm.PSHUFD, 16, func(_ *CPU, _, s vec, imm uint8) vec { return pshufd(s, imm) })
	sseInsn(x86asm.PSHUFLW, 16, func(_ *CPU, _, s vec, imm uint8) vec { return pshuflw(s, imm) })
	sseInsn(x86asm.PSHUFHW, 16, func(_ *CPU, _, s vec, imm uint8) vec { return pshufhw(s, imm) })
	sseInsn(x86asm.SHUFPS, 16, func(_ *CPU, d, s vec, imm uint8) vec { return shufps(d, s, imm) })
	sseInsn(x86asm.SHUFPD, 16, func(_ *CPU, d, s vec, imm uint8) vec { return shufpd(d, s, imm) })
	sseInsn(x86asm.PALIGNR, 16, func(_ *CPU, d, s vec, imm uint8) vec { return palignr(d, s, imm) })

	// Unpacks.
	for _, u := range []struct {
		op   x86asm.Op
		sz   int
		high bool
	}{
		{x86asm.PUNPCKLBW, 1, false}, {x86asm.PUNPCKHBW, 1, true},
		{x86asm.PUNPCKLWD, 2, false}, {x86asm.PUNPCKHWD, 2, true},
		{x86asm.PUNPCKLDQ, 4, false}, {x86asm.PUNPCKHDQ, 4, true},
		{x86asm.PUNPCKLQDQ, 8, false}, {x86asm.PUNPCKHQDQ, 8, true},
		{x86asm.UNPCKLPS, 4, false}, {x86asm.UNPCKHPS, 4, true},
		{x86asm.UNPCKLPD, 8, false}, {x86asm.UNPCKHPD, 8, true},
	} {
		sz, high := u.sz, u.high
		sseInsn(u.op, 16, func(_ *CPU, d, s vec, _ uint8) vec { return unpack(d, s, sz, high) })
	}

	// Packs.
	sseInsn(x86asm.PACKSSWB, 16, func(_ *CPU, d, s vec, _ uint8) vec { return packsswb(d, s) })
	sseInsn(x86asm.PACKUSWB, 16, func(_ *CPU, d, s vec, _ uint8) vec { return packuswb(d, s) })
	sseInsn(x86asm.PACKSSDW, 16, func(_ *CPU, d, s vec, _ uint8) vec { return packDwords(d, s, satS16) })
	sseInsn(x86asm.PACKUSDW, 16, func(_ *CPU, d, s vec, _ uint8) vec { return packDwords(d, s, satU16) })

	// Widening moves (SSE4.1 PMOVSX/PMOVZX): the memory operand is only as large as the
	// elements it supplies, and need not be aligned.
	for _, m := range []struct {
		sx, zx  x86asm.Op
		sz, dsz int
	}{
		{x86asm.PMOVSXBW, x86asm.PMOVZXBW, 1, 2}, {x86asm.PMOVSXBD, x86asm.PMOVZXBD, 1, 4},
		{x86asm.PMOVSXBQ, x86asm.PMOVZXBQ, 1, 8}, {x86asm.PMOVSXWD, x86asm.PMOVZXWD, 2, 4},
		{x86asm.PMOVSXWQ, x86asm.PMOVZXWQ, 2, 8}, {x86asm.PMOVSXDQ, x86asm.PMOVZXDQ, 4, 8},
	} {
		sz, dsz := m.sz, m.dsz
		mem := uint8(16 / dsz * sz)
		sseInsn(m.sx, mem, func(_ *CPU, _, s vec, _ uint8) vec { return pmovx(s, sz, dsz, true) })
		sseInsn(m.zx, mem, func(_ *CPU, _, s vec, _ uint8) vec { return pmovx(s, sz, dsz, false) })
	}

	// Blends (SSE4.1). The variable blends select by the sign bits of the implicit XMM0.
	sseInsn(x86asm.PBLENDW, 16, func(_ *CPU, d, s vec, imm uint8) vec { return blendSel(d, s, blendMask(imm, 2)) })
	sseInsn(x86asm.BLENDPS, 16, func(_ *CPU, d, s vec, imm uint8) vec { return blendSel(d, s, blendMask(imm&15, 4)) })
	sseInsn(x86asm.BLENDPD, 16, func(_ *CPU, d, s vec, imm uint8) vec { return blendSel(d, s, blendMask(imm&3, 8)) })
	for _, b := range []struct {
		op x86asm.Op
		sz int
	}{{x86asm.PBLENDVB, 1}, {x86asm.BLENDVPS, 4}, {x86asm.BLENDVPD, 8}} {
		sz := b.sz
		ref := sseA.add(func(c *CPU, d, s vec, _ uint8) vec {
			if sz == 1 {
				return blendBytes(d, s, c.ext.XMM[0])
			}
			return blendSel(d, s, signMaskOf(c.ext.XMM[0], sz))
		})
		sseDecoder(b.op, func(in *inst, x *x86asm.Inst) bool {
			// x86asm lists the implicit XMM0 as a third operand.
			if r, ok := x.Args[2].(x86asm.Reg); !ok || r != x86asm.X0 {
				return false
			}
			x2 := *x
			x2.Args[2] = nil
			return decodeA(in, &x2, ref, ref, 16)
		})
	}
	insReg := sseA.add(func(_ *CPU, d, s vec, imm uint8) vec { return insertps(dwordsOf(d), dwordsOf(s)[imm>>6], imm) })
	insMem := sseA.add(func(_ *CPU, d, s vec, imm uint8) vec { return insertps(dwordsOf(d), uint32(s[0]), imm) })
	sseDecoder(x86asm.INSERTPS, func(in *inst, x *x86asm.Inst) bool { return decodeA(in, x, insReg, insMem, 4) })

	// Insertion from a general-purpose register or memory (PINSRW is SSE2, the rest SSE4.1).
	pinsr := func(op x86asm.Op, sz int) {
		ref := sseA.add(func(_ *CPU, d, s vec, imm uint8) vec {
			n := 16 / sz
			bit := int(imm) % n * sz * 8
			m := sizeMask[sz] << (bit & 63)
			d[bit>>6] = d[bit>>6]&^m | (s[0]<<(bit&63))&m
			return d
		})
		sseDecoder(op, func(in *inst, x *x86asm.Inst) bool { return decodeAG(in, x, ref, ref, uint8(sz)) })
	}
	pinsr(x86asm.PINSRB, 1)
	pinsr(x86asm.PINSRW, 2)
	pinsr(x86asm.PINSRD, 4)
	pinsr(x86asm.PINSRQ, 8)

	// Extraction to a general-purpose register or memory.
	pextr := func(op x86asm.Op, sz int) {
		ref := sseS.add(func(_ *CPU, s vec, imm uint8) vec {
			n := 16 / sz
			bit := int(imm) % n * sz * 8
			return vec{s[bit>>6] >> (bit & 63) & sizeMask[sz]}
		})
		sseDecoder(op, func(in *inst, x *x86asm.Inst) bool { return decodeS(in, x, ref, uint8(sz), true) })
	}
	pextr(x86asm.PEXTRB, 1)
	pextr(x86asm.PEXTRW, 2)
	pextr(x86asm.PEXTRD, 4)
	pextr(x86asm.PEXTRQ, 8)
	extractps := sseS.add(func(_ *CPU, s vec, imm uint8) vec { return vec{uint64(dwordsOf(s)[imm&3])} })
	sseDecoder(x86asm.EXTRACTPS, func(in *inst, x *x86asm.Inst) bool {
		if !decodeS(in, x, extractps, 4, true) {
			return false
		}
		if in.form&fDstMem == 0 {
			in.size = 4 // a 64-bit destination is zero-extended
		}
		return true
	})

	// Byte masks.
	pmovmskb := sseS.add(func(_ *CPU, s vec, _ uint8) vec { return vec{maskBits(s[0]) | maskBits(s[1])<<8} })
	sseDecoder(x86asm.PMOVMSKB, func(in *inst, x *x86asm.Inst) bool {
		if !decodeS(in, x, pmovmskb, 0, true) || in.form&fDstMem != 0 {
			return false
		}
		in.size = 4
		return true
	})
}

// decodeAG decodes a shape-A form whose source is a general-purpose register or memory:
// "xmm, r32/r64/mN [, imm8]". fn32 serves a 32-bit register (or memory when mem <= 4),
// fn64 a 64-bit one (or memory when mem == 8); mem 0 takes the size from the instruction.
func decodeAG(in *inst, x *x86asm.Inst, fn32, fn64 sseRef, mem uint8) bool {
	d, ok := xmmReg(x.Args[0])
	if !ok || !in.setImm8(x.Args[2]) {
		return false
	}
	in.dst = d
	switch s := x.Args[1].(type) {
	case x86asm.Reg:
		n, sz, ok := gpReg(s)
		if !ok {
			return false
		}
		in.src, in.size = n, sz
		in.ssize |= sseGPR
		ref := fn32
		if sz == 8 {
			ref = fn64
		}
		in.op, in.sub = ref.op, ref.sub
		return ref.op != 0
	case x86asm.Mem:
		if mem == 0 {
			mem = uint8(x.MemBytes)
			if mem != 4 && mem != 8 {
				return false
			}
		}
		ref := fn32
		if mem == 8 {
			ref = fn64
		}
		in.form |= fSrcMem
		in.op, in.sub = ref.op, ref.sub
		return ref.op != 0 && in.sseMem(s, x, mem)
	}
	return false
}
