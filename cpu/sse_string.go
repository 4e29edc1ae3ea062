package cpu

// SSE4.2 string and text instructions (PCMPESTRI, PCMPESTRM, PCMPISTRI, PCMPISTRM), CRC32,
// and SSE4.1 PTEST: the instructions that report through RFLAGS or implicit registers.

import (
	"hash/crc32"

	"golang.org/x/arch/x86/x86asm"
)

// Kinds of PCMPxSTRx.
const (
	strExplicit = 1 << iota // lengths in EAX/RAX and EDX/RDX (else terminated by a null element)
	strMask                 // result mask in XMM0 (else an index in ECX)
)

// pcmpstr implements the four string compares (SDM Vol. 2, 4.1 "Imm8 Control Byte
// Operation for PCMPESTRI / PCMPESTRM / PCMPISTRI / PCMPISTRM"). xmm1 is the first operand
// (the set, ranges, or the needle), xmm2/m128 the second (the string searched).
func pcmpstr(kind int) sseXFn {
	return func(c *CPU, in *inst) {
		b := c.sseSrc(in)
		a := c.ext.XMM[in.dst&15]
		imm := uint8(in.imm)
		words := imm&1 != 0
		signed := imm&2 != 0
		n := 16
		if words {
			n = 8
		}
		ea, eb := elements(a, words, signed), elements(b, words, signed)
		var la, lb int
		if kind&strExplicit != 0 {
			wide := in.ssize&sseDst64 != 0 // REX.W: RAX and RDX
			la, lb = explicitLen(c.r[RAX], wide, n), explicitLen(c.r[RDX], wide, n)
		} else {
			la, lb = implicitLen(ea, n), implicitLen(eb, n)
		}
		res1 := aggregate(ea, eb, la, lb, n, imm>>2&3)
		// Polarity (imm8[5:4]).
		all := uint32(1)<<n - 1
		res2 := res1
		switch imm >> 4 & 3 {
		case 1:
			res2 = ^res1 & all
		case 3:
			res2 = res1 ^ (uint32(1)<<lb - 1) // negate only the valid elements of xmm2
		}
		if kind&strMask != 0 {
			var m vec
			if imm&0x40 == 0 {
				m[0] = uint64(res2)
			} else {
				sz := 1
				if words {
					sz = 2
				}
				for i := 0; i < n; i++ {
					if res2>>i&1 != 0 {
						bit := i * sz * 8
						m[bit>>6] |= sizeMask[sz] << (bit & 63)
					}
				}
			}
			c.ext.XMM[0] = m
		} else {
			idx := n
			if res2 != 0 {
				if imm&0x40 == 0 {
					idx = lowestBit(res2)
				} else {
					idx = highestBit(res2)
				}
			}
			c.r[RCX] = uint64(idx)
		}
		var fl uint64
		if res2 != 0 {
			fl |= FlagCF
		}
		if lb < n {
			fl |= FlagZF
		}
		if la < n {
			fl |= FlagSF
		}
		if res2&1 != 0 {
			fl |= FlagOF
		}
		c.rflags = c.flags()&^ArithFlags | fl
	}
}

func lowestBit(x uint32) int {
	for i := 0; ; i++ {
		if x>>i&1 != 0 {
			return i
		}
	}
}

func highestBit(x uint32) int {
	for i := 31; ; i-- {
		if x>>i&1 != 0 {
			return i
		}
	}
}

// elements returns the 16 bytes or 8 words of v as integers, sign-extended when signed.
func elements(v vec, words, signed bool) [16]int32 {
	var r [16]int32
	if words {
		for i, w := range wordsOf(v) {
			if signed {
				r[i] = int32(int16(w))
			} else {
				r[i] = int32(w)
			}
		}
		return r
	}
	for i, x := range bytesOf(v) {
		if signed {
			r[i] = int32(int8(x))
		} else {
			r[i] = int32(x)
		}
	}
	return r
}

// explicitLen is the absolute value of the length register, saturated to n.
func explicitLen(r uint64, wide bool, n int) int {
	v := int64(r)
	if !wide {
		v = int64(int32(r))
	}
	if v < 0 {
		if v < -int64(n) {
			return n
		}
		v = -v
	}
	return int(min(v, int64(n)))
}

// implicitLen is the index of the first null element, or n.
func implicitLen(e [16]int32, n int) int {
	for i := 0; i < n; i++ {
		if e[i] == 0 {
			return i
		}
	}
	return n
}

// aggregate computes IntRes1 (SDM Vol. 2, 4.1.4): bit j describes element j of the second
// operand (for equal each, element pair j). Element pairs involving invalid elements (at
// or past a length) are forced as the SDM's Table 4-7 says.
func aggregate(a, b [16]int32, la, lb, n int, op uint8) uint32 {
	var res uint32
	switch op {
	case 0: // equal any: b[j] is one of the valid a[i]
		for j := 0; j < lb; j++ {
			for i := 0; i < la; i++ {
				if a[i] == b[j] {
					res |= 1 << j
					break
				}
			}
		}
	case 1: // ranges: a[i] <= b[j] <= a[i+1] for an even i, both bounds valid
		for j := 0; j < lb; j++ {
			for i := 0; i+1 < la; i += 2 {
				if a[i] <= b[j] && b[j] <= a[i+1] {
					res |= 1 << j
					break
				}
			}
		}
	case 2: // equal each: a[j] == b[j]; two invalid elements compare equal
		for j := 0; j < n; j++ {
			va, vb := j < la, j < lb
			if va && vb && a[j] == b[j] || !va && !vb {
				res |= 1 << j
			}
		}
	case 3: // equal ordered: a (the needle) matches b starting at j; an invalid a[i] matches
		for j := 0; j < n; j++ {
			match := true
			for i := 0; j+i < n && match; i++ {
				switch {
				case i >= la:
				case j+i >= lb:
					match = false
				default:
					match = a[i] == b[j+i]
				}
			}
			if match {
				res |= 1 << j
			}
		}
	}
	return res
}

// crc32cSSETable is the CRC-32C (Castagnoli, polynomial 11EDC6F41H) table of the CRC32
// instruction (SDM Vol. 2, CRC32), which works on bit-reflected data without the initial
// and final inversion of the usual checksum.
var crc32cSSETable = crc32.MakeTable(crc32.Castagnoli)

// crc32Step accumulates the size low bytes of v into crc, least significant byte first.
func crc32Step(crc uint32, v uint64, size uint8) uint32 {
	for i := uint8(0); i < size; i++ {
		crc = crc32cSSETable[byte(crc)^byte(v)] ^ crc>>8
		v >>= 8
	}
	return crc
}

func init() {
	for _, s := range []struct {
		op   x86asm.Op
		kind int
	}{
		{x86asm.PCMPESTRI, strExplicit}, {x86asm.PCMPESTRM, strExplicit | strMask},
		{x86asm.PCMPISTRI, 0}, {x86asm.PCMPISTRM, strMask},
	} {
		ref := sseX.add(pcmpstr(s.kind))
		sseDecoder(s.op, func(in *inst, x *x86asm.Inst) bool {
			if !decodeA(in, x, ref, ref, 16) {
				return false
			}
			if x.DataSize == 64 { // REX.W: the lengths are RAX and RDX
				in.ssize |= sseDst64
			}
			return true
		})
	}

	// CRC32 r32/r64, r/m8/16/32/64: the destination holds the running CRC; a 64-bit
	// destination is written zero-extended (SDM Vol. 2, CRC32).
	crc := sseX.add(func(c *CPU, in *inst) {
		v := c.src(in)
		c.r[in.dst&15] = uint64(crc32Step(uint32(c.r[in.dst&15]), v, in.size))
	})
	sseDecoder(x86asm.CRC32, func(in *inst, x *x86asm.Inst) bool {
		d, _, ok := gpReg(x.Args[0])
		if !ok {
			return false
		}
		in.dst = d
		in.op, in.sub = crc.op, crc.sub
		switch s := x.Args[1].(type) {
		case x86asm.Reg:
			n, sz, ok := regInfo(s)
			in.src, in.size = n, sz
			return ok
		case x86asm.Mem:
			in.form |= fSrcMem
			in.size = uint8(x.MemBytes)
			return in.size&(in.size-1) == 0 && in.size >= 1 && in.size <= 8 && in.setMem(s, x)
		}
		return false
	})

	// PTEST: ZF = (d AND s) == 0, CF = (NOT d AND s) == 0; AF, OF, PF, SF cleared.
	ptest := sseX.add(func(c *CPU, in *inst) {
		s := c.sseSrc(in)
		d := c.ext.XMM[in.dst&15]
		var fl uint64
		if d[0]&s[0]|d[1]&s[1] == 0 {
			fl |= FlagZF
		}
		if ^d[0]&s[0]|^d[1]&s[1] == 0 {
			fl |= FlagCF
		}
		c.rflags = c.flags()&^ArithFlags | fl
	})
	sseDecoder(x86asm.PTEST, func(in *inst, x *x86asm.Inst) bool { return decodeA(in, x, ptest, ptest, 16) })
}
