package cpu

import (
	"encoding/binary"
	"math/bits"
)

// Fast forms of the integer instructions real programs run often enough to matter but that
// the run loop's own cases do not cover: byte and word ALU ops, NEG and shifts (CPython's
// dispatch runs SHR r16, NEG r16, SBB r8, r8 and OR r8, [mem] at every bytecode), rotates
// whose flags are read, read-modify-write ALU ops on memory (reference counts), BSWAP and
// NOT.
// They run from execFast2. Each does what the exact path (execGeneric) does, with the same
// flag record and the same TLB lookups, without decoding its operands again.

// aluNarrow executes opAluRn: dst op= src at size 1 or 2, src a register, an immediate or
// memory ([EA]), every ALU operation including ADC, SBB and CMP (execALU's arithmetic).
func (c *CPU) aluNarrow(i int, in *inst) {
	sz := in.size
	m := sizeMask[sz&15]
	var v uint64
	switch {
	case in.form&fSrcImm != 0:
		v = in.imm // masked by the optimizer
	case in.form&fSrcMem != 0:
		c.pos = i
		v = c.read(uint64(in.disp)+c.r[in.base&31]+c.r[in.index&31]<<(in.scale&3), sz)
	default:
		v = c.r[in.src&15] & m
	}
	d := in.dst & 15
	a := c.r[d] & m
	var res, cin uint64
	kind := uint8(lzLogic)
	switch in.sub {
	case aluAdd:
		res, kind = a+v, lzAdd
	case aluOr:
		res = a | v
	case aluAdc:
		cin = c.cf()
		res, kind = a+v+cin, lzAdc
	case aluSbb:
		cin = c.cf()
		res, kind = a-v-cin, lzSbb
	case aluAnd:
		res = a & v
	case aluSub, aluCmp:
		res, kind = a-v, lzSub
	default:
		res = a ^ v
	}
	res &= m
	if in.sub != aluCmp {
		c.r[d] = c.r[d]&^m | res
	}
	c.lazy(kind, sz, a, v, res)
	c.lz.cin = uint8(cin)
}

// shiftNarrow executes opShiftRIn: SHL, SHR or SAR of a byte or word register by an
// immediate count whose low five bits are not zero (execShift's arithmetic: the count may
// exceed the width).
func (c *CPU) shiftNarrow(in *inst) {
	sz := in.size
	m := sizeMask[sz&15]
	d := in.dst & 15
	a := c.r[d] & m
	n := in.imm & 31
	var res uint64
	kind := uint8(lzShl)
	switch in.sub {
	case shShr:
		res, kind = a>>n, lzShr
	case shSar:
		kind = lzSar
		if n >= uint64(sz)*8 {
			res = uint64(int64(signExtend(a, sz)) >> 63)
		} else {
			res = uint64(int64(signExtend(a, sz)) >> n)
		}
	default:
		res = a << n
	}
	res &= m
	c.r[d] = c.r[d]&^m | res
	c.lazy(kind, sz, a, n, res)
}

// negNarrow executes opNegRn: NEG of a byte or word register.
func (c *CPU) negNarrow(in *inst) {
	m := sizeMask[in.size&15]
	d := in.dst & 15
	a := c.r[d] & m
	r := -a & m
	c.r[d] = c.r[d]&^m | r
	c.lazy(lzSub, in.size, 0, a, r)
}

// rotLive executes a fast ROL or ROR of a 32- or 64-bit register (opRolRI, opRorRI; imm is
// the count to the left) whose flags are read: CF and OF as execShift sets them, the other
// flags kept.
func (c *CPU) rotLive(in *inst) {
	var res, cf, of uint64
	if in.size == 8 {
		res = bits.RotateLeft64(c.r[in.base&15], int(in.imm))
		c.r[in.dst&15] = res
	} else {
		res = uint64(bits.RotateLeft32(uint32(c.r[in.base&15]), int(in.imm)))
		c.r[in.dst&15] = res
	}
	w := uint64(in.size) * 8
	if in.sub == shRol {
		cf = res & 1
		of = res>>(w-1)&1 ^ cf
	} else {
		cf = res >> (w - 1) & 1
		of = cf ^ res>>(w-2)&1
	}
	f := c.flags()
	c.rflags = f&^(FlagCF|FlagOF) | cf | of<<11
}

// bswapR executes opBswapR: BSWAP of a 32- or 64-bit register.
func (c *CPU) bswapR(in *inst) {
	d := in.dst & 15
	if in.size == 8 {
		c.r[d] = bits.ReverseBytes64(c.r[d])
	} else {
		c.r[d] = uint64(bits.ReverseBytes32(uint32(c.r[d])))
	}
}

// aluMR executes opAluMR: [EA] op= src (a register, or the immediate), translating for
// writing first as loadRMW does, so a read-only page faults before anything happens. When
// the page is remembered for writing (mem.go), the three TLB lookups of the exact path
// (the write check, the read, the write) are three hits on its entry, counted as such, and
// the bytes are read and written in the frame directly.
func (c *CPU) aluMR(in *inst) {
	va := uint64(in.disp) + c.r[in.base&31] + c.r[in.index&31]<<(in.scale&3)
	sz := in.size
	m := sizeMask[sz&15]
	v := in.imm
	if in.form&fSrcImm == 0 {
		v = c.r[in.src&15] & m
	}
	u := &c.utlb[va>>12&(utlbSize-1)]
	off := va & 0xfff
	fast := u.wtag == va>>12 && off <= 0x1000-uint64(sz)
	var a uint64
	if fast {
		c.dtlb.Hit(u.e) // the write check
		c.dtlb.Hit(u.e) // the read
		c.dtlb.Hit(u.e) // the write
		switch sz {
		case 8:
			a = binary.LittleEndian.Uint64(u.frame[off:])
		case 4:
			a = uint64(binary.LittleEndian.Uint32(u.frame[off:]))
		case 2:
			a = uint64(binary.LittleEndian.Uint16(u.frame[off:]))
		default:
			a = uint64(u.frame[off])
		}
	} else {
		c.checkWrite(va, sz)
		a = c.read(va, sz)
	}
	var res uint64
	kind := uint8(lzLogic)
	switch in.sub {
	case aluAdd:
		res, kind = a+v, lzAdd
	case aluSub:
		res, kind = a-v, lzSub
	case aluAnd:
		res = a & v
	case aluOr:
		res = a | v
	default:
		res = a ^ v
	}
	res &= m
	if fast {
		switch sz {
		case 8:
			binary.LittleEndian.PutUint64(u.frame[off:], res)
		case 4:
			binary.LittleEndian.PutUint32(u.frame[off:], uint32(res))
		case 2:
			binary.LittleEndian.PutUint16(u.frame[off:], uint16(res))
		default:
			u.frame[off] = uint8(res)
		}
	} else {
		c.write(va, sz, res)
	}
	c.lazy(kind, sz, a, v, res)
}

// notR executes opNotR: NOT of a register (not AH..BH) at any size; no flags change.
func (c *CPU) notR(in *inst) {
	d := in.dst & 15
	switch in.size {
	case 8:
		c.r[d] = ^c.r[d]
	case 4:
		c.r[d] = uint64(^uint32(c.r[d]))
	default:
		c.r[d] ^= sizeMask[in.size&15]
	}
}

// push2Slow executes opPush2 (at index i of the executing block) when its two stores do not
// both go to a page remembered for writing: one PUSH after the other. It reports whether
// both ran: a first one that stored into the block's own code ends the block after it.
func (c *CPU) push2Slow(i int, in *inst) bool {
	c.pos = i
	sp := c.r[RSP] - 8
	c.write(sp, 8, c.r[in.src&15])
	c.r[RSP] = sp
	if int(c.blk.end) <= i+1 {
		return false
	}
	c.pos = i + 1
	sp -= 8
	c.write(sp, 8, c.r[in.base&15])
	c.r[RSP] = sp
	return true
}

// pop2Slow executes opPop2 (at index i) when its two loads are not both in a remembered
// page: one POP after the other.
func (c *CPU) pop2Slow(i int, in *inst) {
	c.pos = i
	sp := c.r[RSP]
	v := c.read(sp, 8)
	c.r[RSP] = sp + 8
	c.r[in.dst&15] = v
	c.pos = i + 1
	v = c.read(sp+8, 8)
	c.r[RSP] = sp + 16
	c.r[in.base&15] = v
}
