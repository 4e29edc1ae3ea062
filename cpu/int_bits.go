package cpu

import (
	"math/bits"

	"golang.org/x/arch/x86/x86asm"
)

// Bit instructions: bit test and modify (BT, BTS, BTR, BTC), bit scans (BSF, BSR), counts
// (POPCNT, LZCNT, TZCNT), byte order (BSWAP, MOVBE), and the VEX-encoded BMI1 and BMI2
// groups (ANDN, BEXTR, BLSI, BLSMSK, BLSR, BZHI, PDEP, PEXT, SARX, SHLX, SHRX, RORX, MULX).
// Rarely hot, so they are cold ops. CRC32 is with the SSE4.2 instructions (sse_string.go).
//
// Flags the SDM leaves undefined are set as the AMD Zen host this was checked on sets
// them, where that is a simple rule; the differential tests mask them either way.

var (
	opBitTest = registerCold(execBitTest)
	opBitScan = registerCold(execBitScan)
	opCount   = registerCold(execCount)
	opBswap   = registerCold(execBswap)
	opMovbe   = registerCold(execMovbe)
	opBMI     = registerCold(execBMI)
)

// Sub-operations.
const (
	btTest  = iota // BT
	btSet          // BTS
	btReset        // BTR
	btComp         // BTC

	scanForward = 0 // BSF
	scanReverse = 1 // BSR

	cntPop = 0 // POPCNT
	cntLz  = 1 // LZCNT
	cntTz  = 2 // TZCNT
)

// BMI operations; the VEX.vvvv register is kept in inst.ssize.
const (
	bmiAndn = iota
	bmiBextr
	bmiBlsi
	bmiBlsmsk
	bmiBlsr
	bmiBzhi
	bmiPdep
	bmiPext
	bmiSarx
	bmiShlx
	bmiShrx
	bmiRorx
	bmiMulx
)

func init() {
	cpuidLeaf1ECX |= 1<<22 | 1<<23 // MOVBE, POPCNT
	cpuidExt1ECX |= 1 << 5         // ABM (LZCNT)
	cpuidLeaf7EBX |= 1<<3 | 1<<8   // BMI1 (ANDN, BEXTR, BLS*, TZCNT), BMI2

	for op, sub := range map[x86asm.Op]uint8{x86asm.BT: btTest, x86asm.BTS: btSet,
		x86asm.BTR: btReset, x86asm.BTC: btComp} {
		coldDecoders[op] = func(in *inst, x *x86asm.Inst) bool {
			in.op, in.sub = opBitTest, sub
			if !in.setDst(x.Args[0], x) || !in.setSrc(x.Args[1], x) || in.form&fSrcMem != 0 {
				return false
			}
			return in.size >= 2
		}
	}
	twoOp := func(op uint16, sub uint8) coldDecoder {
		return func(in *inst, x *x86asm.Inst) bool {
			in.op, in.sub = op, sub
			return in.setDst(x.Args[0], x) && in.form&fDstMem == 0 && in.setSrc(x.Args[1], x) &&
				in.form&fSrcImm == 0 && in.size >= 2
		}
	}
	coldDecoders[x86asm.BSF] = twoOp(opBitScan, scanForward)
	coldDecoders[x86asm.BSR] = twoOp(opBitScan, scanReverse)
	coldDecoders[x86asm.POPCNT] = twoOp(opCount, cntPop)
	coldDecoders[x86asm.LZCNT] = twoOp(opCount, cntLz)
	coldDecoders[x86asm.TZCNT] = twoOp(opCount, cntTz)
	coldDecoders[x86asm.BSWAP] = func(in *inst, x *x86asm.Inst) bool {
		in.op = opBswap
		return in.setDst(x.Args[0], x) && in.form&fDstMem == 0
	}
	coldDecoders[x86asm.MOVBE] = func(in *inst, x *x86asm.Inst) bool {
		in.op = opMovbe
		return in.setDst(x.Args[0], x) && in.setSrc(x.Args[1], x) && in.form&(fDstMem|fSrcMem) != 0
	}
	// BMI operands, as x86asm orders them: [dst, vvvv, rm] for ANDN, PDEP, PEXT, MULX;
	// [dst, rm, vvvv] for BEXTR, BZHI, SARX, SHLX, SHRX; [vvvv, rm] for BLSI, BLSMSK, BLSR;
	// [dst, rm, imm8] for RORX.
	for op, sub := range map[x86asm.Op]uint8{x86asm.ANDN: bmiAndn, x86asm.BEXTR: bmiBextr,
		x86asm.BLSI: bmiBlsi, x86asm.BLSMSK: bmiBlsmsk, x86asm.BLSR: bmiBlsr, x86asm.BZHI: bmiBzhi,
		x86asm.PDEP: bmiPdep, x86asm.PEXT: bmiPext, x86asm.SARX: bmiSarx, x86asm.SHLX: bmiShlx,
		x86asm.SHRX: bmiShrx, x86asm.RORX: bmiRorx, x86asm.MULX: bmiMulx} {
		coldDecoders[op] = func(in *inst, x *x86asm.Inst) bool {
			in.op, in.sub = opBMI, sub
			a := x.Args
			var rm, v x86asm.Arg
			switch sub {
			case bmiAndn, bmiPdep, bmiPext, bmiMulx:
				rm, v = a[2], a[1]
			case bmiBlsi, bmiBlsmsk, bmiBlsr:
				rm = a[1]
			case bmiRorx:
				rm = a[1]
				imm, ok := a[2].(x86asm.Imm)
				if !ok {
					return false
				}
				in.imm = uint64(imm)
			default:
				rm, v = a[1], a[2]
			}
			if !in.setDst(a[0], x) || in.form&fDstMem != 0 || (in.size != 4 && in.size != 8) {
				return false
			}
			if v != nil {
				r, ok := v.(x86asm.Reg)
				n, sz, ok2 := regInfo(r)
				if !ok || !ok2 || sz != in.size {
					return false
				}
				in.ssize = n
			}
			return in.setSrc(rm, x) && in.form&fSrcImm == 0
		}
	}
}

// setArith replaces the arithmetic flags selected by mask with f.
func (c *CPU) setArith(mask, f uint64) {
	c.rflags = c.flags()&^mask | f&mask
}

// szf returns ZF, SF and PF for res at size.
func szf(res uint64, size uint8) uint64 {
	f := signBit(res, size)<<7 | parity(res)
	if res&sizeMask[size] == 0 {
		f |= FlagZF
	}
	return f
}

// execBitTest is BT, BTS, BTR and BTC (SDM Vol. 2A, BT): CF receives the selected bit, which
// BTS, BTR and BTC then set, clear or complement. With a register bit offset and a memory
// operand, the offset is a signed bit index into a bit string starting at the operand, so
// the access moves by operand-size units; with an immediate it is taken modulo the size.
// ZF is unaffected; OF, SF, AF and PF are undefined (the host leaves them unchanged).
func execBitTest(c *CPU, in *inst) {
	width := uint64(in.size) * 8
	var off uint64
	if in.form&fSrcImm != 0 {
		off = in.imm
	} else {
		off = c.getReg(in.src, in.size)
	}
	bit := off & (width - 1)
	var a, ea uint64
	if in.form&fDstMem != 0 {
		if in.form&fSrcImm == 0 {
			m := *in
			m.disp += (int64(signExtend(off, in.size)) >> bits.TrailingZeros64(width)) * int64(in.size)
			ea = c.ea(&m)
		} else {
			ea = c.ea(in)
		}
		if in.sub != btTest {
			c.checkWrite(ea, in.size)
		}
		a = c.read(ea, in.size)
	} else {
		a = c.getReg(in.dst, in.size)
	}
	cf := a >> bit & 1
	res := a
	switch in.sub {
	case btSet:
		res |= 1 << bit
	case btReset:
		res &^= 1 << bit
	case btComp:
		res ^= 1 << bit
	}
	if in.sub != btTest {
		if in.form&fDstMem != 0 {
			c.write(ea, in.size, res)
		} else {
			c.setReg(in.dst, in.size, res)
		}
	}
	c.setArith(FlagCF, cf)
}

// execBitScan is BSF and BSR (SDM Vol. 2A): the index of the lowest or highest set bit.
// A zero source sets ZF and leaves the destination unchanged (what Intel and AMD processors
// do; the SDM calls the destination undefined). CF, OF, SF, AF and PF are undefined.
func execBitScan(c *CPU, in *inst) {
	v := c.src(in)
	if v == 0 {
		c.setArith(ArithFlags, c.bitScanUndefined()|FlagZF)
		return
	}
	var idx uint64
	if in.sub == scanForward {
		idx = uint64(bits.TrailingZeros64(v))
	} else {
		idx = uint64(63 - bits.LeadingZeros64(v))
	}
	c.setReg(in.dst, in.size, idx)
	c.setArith(ArithFlags, c.bitScanUndefined())
}

// bitScanUndefined returns the flags BSF and BSR leave besides ZF: the host keeps CF, OF,
// SF, AF and PF as they were.
func (c *CPU) bitScanUndefined() uint64 { return c.flags() &^ FlagZF }

// execCount is POPCNT, LZCNT and TZCNT (SDM Vol. 2B). POPCNT clears every flag but ZF,
// which says the source was zero. LZCNT and TZCNT set CF when the source is zero (the result
// is then the operand width) and ZF when the result is zero; OF, SF, AF and PF are undefined
// (the AMD host clears SF, AF and PF and keeps OF).
func execCount(c *CPU, in *inst) {
	v := c.src(in)
	width := uint64(in.size) * 8
	var res uint64
	switch in.sub {
	case cntPop:
		res = uint64(bits.OnesCount64(v))
		var f uint64
		if v == 0 {
			f = FlagZF
		}
		c.setArith(ArithFlags, f)
		c.setReg(in.dst, in.size, res)
		return
	case cntLz:
		res = uint64(bits.LeadingZeros64(v)) - (64 - width)
	case cntTz:
		res = min(uint64(bits.TrailingZeros64(v)), width)
	}
	var f uint64
	if v == 0 {
		f |= FlagCF
	}
	if res == 0 {
		f |= FlagZF
	}
	c.setReg(in.dst, in.size, res)
	c.setArith(FlagCF|FlagZF|FlagSF|FlagAF|FlagPF, f) // SF, AF, PF clear as on the AMD host
}

// execBswap is BSWAP (SDM Vol. 2A). With a 16-bit operand the SDM leaves the result
// undefined; Intel and AMD processors clear the register's low word, and so does this CPU.
func execBswap(c *CPU, in *inst) {
	v := c.getReg(in.dst, in.size)
	switch in.size {
	case 8:
		v = bits.ReverseBytes64(v)
	case 4:
		v = uint64(bits.ReverseBytes32(uint32(v)))
	default:
		v = 0
	}
	c.setReg(in.dst, in.size, v)
}

// swapBytes reverses the low size bytes of v.
func swapBytes(v uint64, size uint8) uint64 {
	return bits.ReverseBytes64(v) >> (64 - uint(size)*8)
}

// execMovbe is MOVBE (SDM Vol. 2B): a load or store with the bytes reversed.
func execMovbe(c *CPU, in *inst) {
	if in.form&fDstMem != 0 {
		c.write(c.ea(in), in.size, swapBytes(c.getReg(in.src, in.size), in.size))
		return
	}
	c.setReg(in.dst, in.size, swapBytes(c.src(in), in.size))
}

// execBMI is the BMI1 and BMI2 instructions (SDM Vol. 2A/2B, each by name). The VEX.vvvv
// operand is register in.ssize; the r/m operand is the source.
func execBMI(c *CPU, in *inst) {
	sz := in.size
	m := sizeMask[sz]
	width := uint64(sz) * 8
	src := c.src(in) & m
	var vreg uint64
	if in.sub != bmiBlsi && in.sub != bmiBlsmsk && in.sub != bmiBlsr && in.sub != bmiRorx {
		vreg = c.getReg(in.ssize, sz)
	}
	var res uint64
	switch in.sub {
	case bmiAndn: // SF, ZF by result; CF = OF = 0; AF, PF undefined
		res = ^vreg & src & m
		c.setLazy(lzLogic, sz, res, res, res)
	case bmiBextr: // ZF by result; CF = OF = 0; AF, SF, PF undefined (AF set, SF clear)
		start, n := vreg&0xff, vreg>>8&0xff
		if start < width {
			res = src >> start
			if n < width {
				res &= 1<<n - 1
			}
		}
		c.setArith(ArithFlags, szf(res, sz)&^FlagSF|FlagAF)
	case bmiBlsi: // ZF, SF by result; CF = source != 0; OF = 0
		res = -src & src & m
		c.blsFlags(res, sz, src != 0)
	case bmiBlsmsk: // SF by result; ZF = 0; CF = source == 0; OF = 0
		res = (src - 1) ^ src&m
		c.blsFlags(res&m, sz, src == 0)
	case bmiBlsr: // ZF, SF by result; CF = source == 0; OF = 0
		res = (src - 1) & src
		c.blsFlags(res, sz, src == 0)
	case bmiBzhi: // ZF, SF by result; CF = index beyond the operand; OF = 0
		n := vreg & 0xff
		res = src
		if n < width {
			res &= 1<<n - 1
		}
		c.blsFlags(res, sz, n > width-1)
	case bmiPdep:
		res = pdep(vreg, src)
	case bmiPext:
		res = pext(vreg, src)
	case bmiSarx:
		res = uint64(int64(signExtend(src, sz)) >> (vreg & (width - 1)))
	case bmiShlx:
		res = src << (vreg & (width - 1))
	case bmiShrx:
		res = src >> (vreg & (width - 1))
	case bmiRorx:
		r := in.imm & (width - 1)
		res = src>>r | src<<((width-r)&(width-1))
	case bmiMulx:
		// DEST1 (ModRM.reg) receives the high half and DEST2 (VEX.vvvv) the low half;
		// DEST1 is written last, so it wins when they are the same register.
		a := c.getReg(RDX, sz)
		var hi, lo uint64
		if sz == 8 {
			hi, lo = bits.Mul64(a, src)
		} else {
			p := a * src
			hi, lo = p>>32, p&m
		}
		c.setReg(in.ssize, sz, lo)
		c.setReg(in.dst, sz, hi)
		return
	}
	c.setReg(in.dst, sz, res)
}

// blsFlags sets the flags of BLSI, BLSMSK, BLSR and BZHI: ZF and SF from res, CF as given,
// OF clear. AF and PF are undefined: the host clears AF and computes PF from res.
func (c *CPU) blsFlags(res uint64, size uint8, cf bool) {
	f := szf(res, size)
	if cf {
		f |= FlagCF
	}
	c.setArith(ArithFlags, f)
}

// pdep deposits the low bits of src into the bit positions set in mask (PDEP).
func pdep(src, mask uint64) uint64 {
	var res uint64
	for k := uint(0); mask != 0; mask &= mask - 1 {
		if src>>k&1 != 0 {
			res |= mask & -mask
		}
		k++
	}
	return res
}

// pext gathers the bits of src selected by mask into the low bits of the result (PEXT).
func pext(src, mask uint64) uint64 {
	var res uint64
	for k := uint(0); mask != 0; mask &= mask - 1 {
		if src&(mask&-mask) != 0 {
			res |= 1 << k
		}
		k++
	}
	return res
}
