package cpu

// SSE4.2 string and text instructions (PCMPESTRI, PCMPESTRM, PCMPISTRI, PCMPISTRM), CRC32,
// and SSE4.1 PTEST: the instructions that report through RFLAGS or implicit registers.

import (
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
// and final inversion of the usual checksum. It is written out (TestCRC32CTable checks it
// against hash/crc32) so that starting emu computes nothing.
var crc32cSSETable = [256]uint32{
	0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c, 0x26a1e7e8, 0xd4ca64eb,
	0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b, 0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24,
	0x105ec76f, 0xe235446c, 0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
	0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54, 0x5d1d08bf, 0xaf768bbc, 0xbc267848, 0x4e4dfb4b,
	0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a, 0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35,
	0xaa64d611, 0x580f5512, 0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
	0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad, 0x1642ae59, 0xe4292d5a,
	0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a, 0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595,
	0x417b1dbc, 0xb3109ebf, 0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
	0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f, 0xed03a29b, 0x1f682198,
	0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927, 0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38,
	0xdbfc821c, 0x2997011f, 0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
	0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e, 0x4767748a, 0xb50cf789,
	0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859, 0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46,
	0x7198540d, 0x83f3d70e, 0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
	0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de, 0xdde0eb2a, 0x2f8b6829,
	0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c, 0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93,
	0x082f63b7, 0xfa44e0b4, 0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
	0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b, 0xb4091bff, 0x466298fc,
	0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c, 0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033,
	0xa24bb5a6, 0x502036a5, 0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
	0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975, 0x0e330a81, 0xfc588982,
	0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d, 0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622,
	0x38cc2a06, 0xcaa7a905, 0xd9f75af1, 0x2b9cd9f2, 0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
	0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8, 0xe52cc12c, 0x1747422f,
	0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff, 0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0,
	0xd3d3e1ab, 0x21b862a8, 0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
	0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78, 0x7fab5e8c, 0x8dc0dd8f,
	0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee, 0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1,
	0x69e9f0d5, 0x9b8273d6, 0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
	0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a, 0xc69f7b69, 0xd5cf889d, 0x27a40b9e,
	0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e, 0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
}

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
