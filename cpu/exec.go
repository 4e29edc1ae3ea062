package cpu

import (
	"encoding/binary"
	"math"
	"math/bits"
	"unsafe"

	"github.com/vmemu/vmemu/tlb"
)

// getReg reads register r at size. Registers 16-19 are AH, CH, DH, BH.
func (c *CPU) getReg(r, size uint8) uint64 {
	if r >= 16 {
		return c.r[r&3] >> 8 & 0xff
	}
	return c.r[r&15] & sizeMask[size]
}

// setReg writes register r at size: a 32-bit write zero-extends to 64 bits, 8- and 16-bit
// writes leave the other bits alone.
func (c *CPU) setReg(r, size uint8, v uint64) {
	switch size {
	case 8:
		c.r[r&15] = v
	case 4:
		c.r[r&15] = uint64(uint32(v))
	case 2:
		c.r[r&15] = c.r[r&15]&^0xffff | v&0xffff
	default:
		if r >= 16 {
			c.r[r&3] = c.r[r&3]&^0xff00 | (v&0xff)<<8
		} else {
			c.r[r&15] = c.r[r&15]&^0xff | v&0xff
		}
	}
}

// ea computes the effective (linear) address of in's memory operand.
func (c *CPU) ea(in *inst) uint64 {
	a := uint64(in.disp)
	if in.base < 16 {
		a += c.r[in.base]
	} else if in.base == baseRIP {
		a += c.bva + uint64(in.off) + uint64(in.len)
	}
	if in.index < 16 {
		a += c.r[in.index] << in.scale
	}
	if in.form&fAddr32 != 0 {
		a = uint64(uint32(a))
	}
	switch in.seg {
	case segFS:
		a += c.fsBase
	case segGS:
		a += c.gsBase
	}
	return a
}

// src reads the second operand.
func (c *CPU) src(in *inst) uint64 {
	switch {
	case in.form&fSrcImm != 0:
		return in.imm & sizeMask[in.size]
	case in.form&fSrcMem != 0:
		return c.read(c.ea(in), in.size)
	}
	return c.getReg(in.src, in.size)
}

// loadRMW reads the first operand of a read-modify-write instruction. A memory operand is
// translated for writing first, so a read-only page faults before anything happens.
func (c *CPU) loadRMW(in *inst) (v, ea uint64) {
	if in.form&fDstMem != 0 {
		ea = c.ea(in)
		c.checkWrite(ea, in.size)
		return c.read(ea, in.size), ea
	}
	return c.getReg(in.dst, in.size), 0
}

// loadDst reads the first operand without intending to write it (CMP, TEST).
func (c *CPU) loadDst(in *inst) uint64 {
	if in.form&fDstMem != 0 {
		return c.read(c.ea(in), in.size)
	}
	return c.getReg(in.dst, in.size)
}

// store writes the first operand.
func (c *CPU) store(in *inst, ea, v uint64) {
	if in.form&fDstMem != 0 {
		c.write(ea, in.size, v)
	} else {
		c.setReg(in.dst, in.size, v)
	}
}

// next returns the linear address of the instruction after in.
func (c *CPU) next(in *inst) uint64 { return c.bva + uint64(in.off) + uint64(in.len) }

// target returns the destination of a relative branch.
func (c *CPU) target(in *inst) uint64 { return c.next(in) + in.imm }

// canonical reports whether va is a canonical address (bits 63:47 all equal): a branch to
// any other raises #GP(0).
func canonical(va uint64) bool { return uint64(int64(va<<16)>>16) == va }

func signExtend(v uint64, size uint8) uint64 {
	sh := 64 - uint(size)*8
	return uint64(int64(v<<sh) >> sh)
}

// run is the interpreter loop: fetch a block, execute its instructions, repeat. A block
// left through an exit whose link (block.links) still holds goes straight on to the linked
// block (the label chain), without the top's search: only the budget and a pending debug
// trap are checked, and the ITLB hit the search would have had is reported.
//
// A block normally runs its optimized instructions (int_fast.go). When the instruction
// budget would end the run inside the block, or RFLAGS.TF is set, it runs the instructions
// as decoded instead, so the state at the stop is exact whatever the optimizer dropped.
//
// Single-stepping (SDM Vol. 3B 17.3.1.4): when RFLAGS.TF is set at the start of an
// instruction, a #DB trap follows it once it retires, with RIP at the next instruction. A
// POPF that sets TF ends its block, so the instruction after it is the first one stepped;
// one that clears TF is itself followed by the trap.
//
// An instruction that may fault stores its index in c.pos first, so a fault can name it;
// register-only fast ops cannot fault and skip that. A store into the executing block's own
// code (self-modifying code) cuts the block short after the storing instruction by lowering
// b.end (see invalidateFrame).
func (c *CPU) run(limit uint64) Trap {
	var prev *block // the block that ran last, and the exit it took
	exit := 0
	for {
		if c.dr6 != 0 {
			return c.debugTrap() // a single step, a breakpoint or a watchpoint (debug.go)
		}
		if c.icount >= limit {
			break
		}
		var b *block
		var entry *tlb.Entry // the ITLB entry the block was entered through, if remembered
		if prev != nil && exit < len(prev.links) {
			if l := &prev.links[exit]; l.gen == c.codeGen && l.va == c.rip {
				b, entry = l.b, l.e
				c.itlb.Hit(l.e)
			}
		}
		if b == nil {
			// The remembered ITLB entry and the direct-mapped block table, written out
			// here (fetchBlock does the same and everything else).
			if u := &c.uitlb[c.rip>>12&(uitlbSize-1)]; u.tag == c.rip>>12 {
				pa := u.base | c.rip&0xfff
				if b = c.code.table[tableIndex(pa)]; b != nil && b.pa == pa && b.pa2 == 0 {
					c.itlb.Hit(u.e)
					entry = u.e
				} else {
					c.blk = nil // a fetch fault names no instruction of a block
					b, entry = c.fetchBlock()
				}
			} else {
				c.blk = nil
				b, entry = c.fetchBlock()
			}
			if prev != nil && entry != nil && exit < len(prev.links) {
				prev.links[exit] = link{va: c.rip, b: b, e: entry, gen: c.codeGen}
			}
		}
	enter:
		prev, exit = b, 0
		c.blk, c.bva = b, c.rip
		c.r[regBlock] = c.rip
		insts := b.insts
		n := len(insts)
		gen := c.codeGen
		start := 0 // the slot to interpret from: after the generated code's, if it has run
		if rem := limit - c.icount; uint64(n) > rem || c.rflags&c.rawMask != 0 {
			entry = nil // no looping in place (see loopsInPlace)
			insts = b.raw
			n = int(min(uint64(n), rem))
			if c.rflags&FlagTF != 0 {
				n, c.stepping = 1, true
				c.dr6 |= DR6Step
			}
			if len(c.activeBPs) > 0 {
				n = c.cutAtBreakpoint(b, n)
			}
		} else if b.jit != jitNo {
			// Generated code (jit.go), which may have gone on into other blocks.
			if b, entry, start = c.jitRun(b, limit, entry); start < 0 {
				prev, exit = b, c.jit.exit
				goto chain
			}
			prev, insts, n = b, b.insts, int(b.end) // (jitRun sets b.end)
		}
		b.end = uint16(n)
		for i := start; i < int(b.end); i++ {
			in := &insts[i]
			switch in.op {
			case opNop:

			// Register-only fast ops.
			case opMovRR64:
				c.r[in.dst&15] = c.r[in.src&15]
			case opMovRR32:
				c.r[in.dst&15] = uint64(uint32(c.r[in.src&15]))
			case opMovRI:
				c.r[in.dst&15] = in.imm
			case opLea64:
				c.r[in.dst&15] = uint64(in.disp) + c.r[in.base&31] + c.r[in.index&31]<<(in.scale&3)
			case opLea32:
				c.r[in.dst&15] = uint64(uint32(uint64(in.disp) + c.r[in.base&31] + c.r[in.index&31]<<(in.scale&3)))
			case opAdd64F:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opAdd64RR, opAdd64RI:
				d := in.dst & 15
				a, v := c.r[in.base&15], in.imm
				if in.form&fSrcImm == 0 {
					v = c.r[in.src&15]
				}
				r := a + v
				c.r[d] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzAdd, 8, a, v, r)
				}
			case opAdd32F:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opAdd32RR, opAdd32RI:
				d := in.dst & 15
				a, v := uint64(uint32(c.r[in.base&15])), in.imm
				if in.form&fSrcImm == 0 {
					v = uint64(uint32(c.r[in.src&15]))
				}
				r := uint64(uint32(a + v))
				c.r[d] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzAdd, 4, a, v, r)
				}
			case opSub64F:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opSub64RR, opSub64RI:
				d := in.dst & 15
				a, v := c.r[in.base&15], in.imm
				if in.form&fSrcImm == 0 {
					v = c.r[in.src&15]
				}
				r := a - v
				c.r[d] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzSub, 8, a, v, r)
				}
			case opSub32F:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opSub32RR, opSub32RI:
				d := in.dst & 15
				a, v := uint64(uint32(c.r[in.base&15])), in.imm
				if in.form&fSrcImm == 0 {
					v = uint64(uint32(c.r[in.src&15]))
				}
				r := uint64(uint32(a - v))
				c.r[d] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzSub, 4, a, v, r)
				}
			case opCmp64RR, opCmp64RI:
				a, v := c.r[in.dst&15], in.imm
				if in.op == opCmp64RR {
					v = c.r[in.src&15]
				}
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzSub, 8, a, v, a-v)
				}
			case opCmp32RR, opCmp32RI:
				a, v := uint64(uint32(c.r[in.dst&15])), in.imm
				if in.op == opCmp32RR {
					v = uint64(uint32(c.r[in.src&15]))
				}
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzSub, 4, a, v, uint64(uint32(a-v)))
				}
			case opAnd64F:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opAnd64RR, opAnd64RI:
				v := in.imm
				if in.form&fSrcImm == 0 {
					v = c.r[in.src&15]
				}
				r := c.r[in.base&15] & v
				c.r[in.dst&15] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzLogic, 8, r, r, r)
				}
			case opOr64F:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opOr64RR, opOr64RI:
				v := in.imm
				if in.form&fSrcImm == 0 {
					v = c.r[in.src&15]
				}
				r := c.r[in.base&15] | v
				c.r[in.dst&15] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzLogic, 8, r, r, r)
				}
			case opXor64F:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opXor64RR, opXor64RI:
				v := in.imm
				if in.form&fSrcImm == 0 {
					v = c.r[in.src&15]
				}
				r := c.r[in.base&15] ^ v
				c.r[in.dst&15] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzLogic, 8, r, r, r)
				}
			case opTest64RR, opTest64RI:
				v := in.imm
				if in.op == opTest64RR {
					v = c.r[in.src&15]
				}
				if in.hint&hFlagsDead == 0 {
					r := c.r[in.dst&15] & v
					c.lazy(lzLogic, 8, r, r, r)
				}
			case opAnd32F:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opAnd32RR, opAnd32RI:
				v := in.imm
				if in.form&fSrcImm == 0 {
					v = c.r[in.src&15]
				}
				r := uint64(uint32(c.r[in.base&15] & v))
				c.r[in.dst&15] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzLogic, 4, r, r, r)
				}
			case opOr32F:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opOr32RR, opOr32RI:
				v := in.imm
				if in.form&fSrcImm == 0 {
					v = c.r[in.src&15]
				}
				r := uint64(uint32(c.r[in.base&15] | v))
				c.r[in.dst&15] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzLogic, 4, r, r, r)
				}
			case opXor32F:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opXor32RR, opXor32RI:
				v := in.imm
				if in.form&fSrcImm == 0 {
					v = c.r[in.src&15]
				}
				r := uint64(uint32(c.r[in.base&15] ^ v))
				c.r[in.dst&15] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzLogic, 4, r, r, r)
				}
			case opTest32RR, opTest32RI:
				v := in.imm
				if in.op == opTest32RR {
					v = c.r[in.src&15]
				}
				if in.hint&hFlagsDead == 0 {
					r := uint64(uint32(c.r[in.dst&15] & v))
					c.lazy(lzLogic, 4, r, r, r)
				}
			case opShl64F:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opShl64RI:
				d := in.dst & 15
				a := c.r[in.base&15]
				r := a << (in.imm & 63)
				c.r[d] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzShl, 8, a, in.imm, r)
				}
			case opShr64F:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opShr64RI:
				d := in.dst & 15
				a := c.r[in.base&15]
				r := a >> (in.imm & 63)
				c.r[d] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzShr, 8, a, in.imm, r)
				}
			case opSar64F:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opSar64RI:
				d := in.dst & 15
				a := c.r[in.base&15]
				r := uint64(int64(a) >> (in.imm & 63))
				c.r[d] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzSar, 8, a, in.imm, r)
				}
			case opShl32F:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opShl32RI:
				d := in.dst & 15
				a := uint64(uint32(c.r[in.base&15]))
				r := uint64(uint32(a << (in.imm & 31)))
				c.r[d] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzShl, 4, a, in.imm, r)
				}
			case opShr32F:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opShr32RI:
				d := in.dst & 15
				a := uint64(uint32(c.r[in.base&15]))
				r := a >> (in.imm & 31)
				c.r[d] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzShr, 4, a, in.imm, r)
				}
			case opSar32F:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opSar32RI:
				d := in.dst & 15
				a := uint64(uint32(c.r[in.base&15]))
				r := uint64(uint32(int32(uint32(a)) >> (in.imm & 31)))
				c.r[d] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzSar, 4, a, in.imm, r)
				}
			case opRolF:
				i++ // the MOV fused in front (fuseMove) and this op
				fallthrough
			case opRolRI, opRorRI:
				if in.hint&hFlagsDead == 0 {
					c.rotLive(in) // CF and OF are read (never fused)
					break
				}
				// imm is a left count (int_fast.go: ROR's is turned around).
				if in.size == 8 {
					c.r[in.dst&15] = bits.RotateLeft64(c.r[in.base&15], int(in.imm))
				} else {
					c.r[in.dst&15] = uint64(bits.RotateLeft32(uint32(c.r[in.base&15]), int(in.imm)))
				}
			case opImulRR, opImulRRI:
				d := in.dst & 15
				a, v := c.r[d], c.r[in.src&15]
				if in.op == opImulRRI {
					a, v = v, in.imm
				}
				var r uint64
				var overflow bool
				if in.size == 8 {
					hi, lo := bits.Mul64(a, v)
					if int64(a) < 0 {
						hi -= v
					}
					if int64(v) < 0 {
						hi -= a
					}
					r, overflow = lo, hi != uint64(int64(lo)>>63)
				} else {
					p := int64(int32(uint32(a))) * int64(int32(uint32(v)))
					r = uint64(uint32(p))
					overflow = int64(int32(uint32(p))) != p
				}
				c.r[d] = r
				if in.hint&hFlagsDead == 0 {
					c.lazy(lzMul, in.size, 0, 0, r)
					if overflow {
						c.lz.cin = 1
					}
				}
			case opInc64, opDec64:
				d := in.dst & 15
				a := c.r[d]
				kind, r := uint8(lzInc), a+1
				if in.op == opDec64 {
					kind, r = lzDec, a-1
				}
				c.r[d] = r
				if in.hint&hFlagsDead == 0 {
					cf := c.cf()
					c.lazy(kind, 8, a, 1, r)
					c.lz.cin = uint8(cf)
				}
			case opInc32, opDec32:
				d := in.dst & 15
				a := uint64(uint32(c.r[d]))
				kind, r := uint8(lzInc), uint64(uint32(a+1))
				if in.op == opDec32 {
					kind, r = lzDec, uint64(uint32(a-1))
				}
				c.r[d] = r
				if in.hint&hFlagsDead == 0 {
					cf := c.cf()
					c.lazy(kind, 4, a, 1, r)
					c.lz.cin = uint8(cf)
				}

			// Memory fast ops: the TLB-hit path is written out here (see mem.go).
			case opLoad64:
				c.pos = i
				va := uint64(in.disp) + c.r[in.base&31] + c.r[in.index&31]<<(in.scale&3)
				u := &c.utlb[va>>12&(utlbSize-1)]
				if u.rtag == va>>12 && va&0xfff <= 0xff8 {
					c.dtlb.Hit(u.e)
					c.r[in.dst&15] = binary.LittleEndian.Uint64(u.frame[va&0xfff:])
				} else {
					c.r[in.dst&15] = c.readSlow(va, 8)
				}
			case opLoad32, opLoadZx8, opLoadZx16:
				c.pos = i
				va := uint64(in.disp) + c.r[in.base&31] + c.r[in.index&31]<<(in.scale&3)
				size := uint64(4)
				if in.op == opLoadZx8 {
					size = 1
				} else if in.op == opLoadZx16 {
					size = 2
				}
				u := &c.utlb[va>>12&(utlbSize-1)]
				if off := va & 0xfff; u.rtag == va>>12 && off <= 0x1000-size {
					c.dtlb.Hit(u.e)
					switch size {
					case 4:
						c.r[in.dst&15] = uint64(binary.LittleEndian.Uint32(u.frame[off:]))
					case 1:
						c.r[in.dst&15] = uint64(u.frame[off])
					default:
						c.r[in.dst&15] = uint64(binary.LittleEndian.Uint16(u.frame[off:]))
					}
				} else {
					c.r[in.dst&15] = c.readSlow(va, uint8(size))
				}
			case opLoadSx32:
				c.pos = i
				va := uint64(in.disp) + c.r[in.base&31] + c.r[in.index&31]<<(in.scale&3)
				c.r[in.dst&15] = uint64(int64(int32(uint32(c.read(va, 4)))))
			case opStore64, opStoreI64:
				c.pos = i
				va := uint64(in.disp) + c.r[in.base&31] + c.r[in.index&31]<<(in.scale&3)
				v := in.imm
				if in.op == opStore64 {
					v = c.r[in.src&15]
				}
				u := &c.utlb[va>>12&(utlbSize-1)]
				if u.wtag == va>>12 && va&0xfff <= 0xff8 {
					c.dtlb.Hit(u.e)
					binary.LittleEndian.PutUint64(u.frame[va&0xfff:], v)
				} else {
					c.writeSlow(va, 8, v)
				}
			case opStore32, opStoreI32:
				c.pos = i
				va := uint64(in.disp) + c.r[in.base&31] + c.r[in.index&31]<<(in.scale&3)
				v := in.imm
				if in.op == opStore32 {
					v = c.r[in.src&15]
				}
				u := &c.utlb[va>>12&(utlbSize-1)]
				if u.wtag == va>>12 && va&0xfff <= 0xffc {
					c.dtlb.Hit(u.e)
					binary.LittleEndian.PutUint32(u.frame[va&0xfff:], uint32(v))
				} else {
					c.writeSlow(va, 4, v)
				}
			case opStore8, opStoreI8:
				c.pos = i
				va := uint64(in.disp) + c.r[in.base&31] + c.r[in.index&31]<<(in.scale&3)
				v := in.imm
				if in.op == opStore8 {
					v = c.r[in.src&15]
				}
				u := &c.utlb[va>>12&(utlbSize-1)]
				if u.wtag == va>>12 {
					c.dtlb.Hit(u.e)
					u.frame[va&0xfff] = uint8(v)
				} else {
					c.writeSlow(va, 1, v)
				}
			case opAluRM:
				c.pos = i
				va := uint64(in.disp) + c.r[in.base&31] + c.r[in.index&31]<<(in.scale&3)
				u := &c.utlb[va>>12&(utlbSize-1)]
				var v uint64
				if u.rtag == va>>12 && va&0xfff <= 0x1000-uint64(in.size) {
					c.dtlb.Hit(u.e)
					if in.size == 8 {
						v = binary.LittleEndian.Uint64(u.frame[va&0xfff:])
					} else {
						v = uint64(binary.LittleEndian.Uint32(u.frame[va&0xfff:]))
					}
				} else {
					v = c.readSlow(va, in.size)
				}
				c.aluRM(in, v)
			case opCmpMI:
				c.pos = i
				va := uint64(in.disp) + c.r[in.base&31] + c.r[in.index&31]<<(in.scale&3)
				var a uint64
				u := &c.utlb[va>>12&(utlbSize-1)]
				if off := va & 0xfff; u.rtag == va>>12 && off <= 0x1000-uint64(in.size) {
					c.dtlb.Hit(u.e)
					switch in.size {
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
					a = c.readSlow(va, in.size)
				}
				c.lazy(lzSub, in.size, a, in.imm, (a-in.imm)&sizeMask[in.size&15])
			// The stack operations with write64/read64 written out: run is too big for
			// Go to inline them here (its budget for a caller this size is 20).
			case opPushR:
				c.pos = i
				sp := c.r[RSP] - 8
				v := c.r[in.src&15]
				if u := &c.utlb[sp>>12&(utlbSize-1)]; u.wtag == sp>>12 && sp&0xfff <= 0xff8 {
					c.dtlb.Hit(u.e)
					binary.LittleEndian.PutUint64(u.frame[sp&0xfff:], v)
				} else {
					c.writeSlow(sp, 8, v)
				}
				c.r[RSP] = sp
			case opPopR:
				c.pos = i
				sp := c.r[RSP]
				var v uint64
				if u := &c.utlb[sp>>12&(utlbSize-1)]; u.rtag == sp>>12 && sp&0xfff <= 0xff8 {
					c.dtlb.Hit(u.e)
					v = binary.LittleEndian.Uint64(u.frame[sp&0xfff:])
				} else {
					v = c.readSlow(sp, 8)
				}
				c.r[RSP] = sp + 8
				c.r[in.dst&15] = v

			case opTestRIn, opCmpRIn, opShiftCL, opNegR, opCmovRR, opLoadSx, opTestMI, opMovzxRR, opMovsxRR, opSetccR, opCmpMR, opAluMR, opXmmMov, opXmmMovLo, opXmmLoad, opXmmStore, opXmmInt, opXmmFP, opXmmA, opXmmMovmsk, opXmmComi, opXmmCvtPS2DQ, opMovsR, opStosR,
				opAluRn, opShiftRIn, opNegRn, opBswapR, opNotR:
				c.execFast2(b, i, in)

			case opX87Fast: // (x87_fast.go)
				c.pos = i
				execX87Hot(c, in)

			case opRepMS:
				// With a zero count a REP MOVS or STOS does nothing at all: no access, no
				// fault, no flags (SDM Vol. 2B, REP). musl's memcpy runs REP MOVSQ with RCX 0
				// for every copy under 8 bytes; it no longer ends the block. Otherwise the
				// instruction as decoded runs, as a cold op does.
				cnt := c.r[RCX]
				if in.form&fAddr32 != 0 {
					cnt = uint64(uint32(cnt))
				}
				if cnt != 0 {
					c.pos = i
					if c.execGeneric(&b.raw[i]) {
						c.icount += uint64(i + 1)
						goto chain
					}
				}

			// Control transfers end their block.
			case opCmpJccRR, opCmpJccRI, opTestJccRR, opTestJccRI:
				a, v := c.r[in.dst&15], in.imm
				if in.op == opCmpJccRR || in.op == opTestJccRR {
					v = c.r[in.src&15]
				}
				var taken bool
				if in.size != 8 {
					m := sizeMask[in.size&15]
					a, v = a&m, v&m
				}
				if in.op <= opCmpJccRI {
					c.lazy(lzSub, in.size, a, v, (a-v)&sizeMask[in.size&15])
					taken = condSub(in.sub, a, v, in.size)
				} else {
					r := a & v
					c.lazy(lzLogic, in.size, r, r, r)
					taken = condLogic(in.sub, r, in.size)
				}
				if taken {
					t := c.target(&insts[i+1])
					if !canonical(t) {
						c.icount += uint64(i + 1) // the compare retired
						c.pos = i + 1
						c.raise(VecGP, 0, 0)
					}
					c.icount += uint64(i + 2)
					if t == c.bva && entry != nil && c.loopsInPlace(b, gen, uint64(n), limit) {
						c.itlb.Hit(entry)
						i = -1
						continue
					}
					c.rip = t
					exit = int(insts[i+1].ssize)
					goto chain
				}
				i++ // the Jcc, not taken
			case opJcc:
				// Loops end in JNZ/JZ after DEC, SUB or ADD: ZF is the result being zero.
				var taken bool
				if l := &c.lz; in.sub&^1 == ccE && l.kind != lzNone {
					taken = (l.res == 0) == (in.sub == ccE)
				} else {
					taken = c.cond(in.sub)
				}
				if taken {
					t := c.target(in)
					if !canonical(t) {
						c.pos = i
						c.raise(VecGP, 0, 0)
					}
					c.icount += uint64(i + 1)
					if t == c.bva && entry != nil && c.loopsInPlace(b, gen, uint64(n), limit) {
						c.itlb.Hit(entry)
						i = -1
						continue
					}
					c.rip = t
					exit = int(in.ssize)
					goto chain
				}
			// A near branch to a non-canonical address raises #GP(0) on the branch, which
			// then has no effect: no push, RIP at the branch (SDM Vol. 2A CALL, JMP, Jcc;
			// Vol. 2B RET).
			case opJmp:
				t := c.target(in)
				if !canonical(t) {
					c.pos = i
					c.raise(VecGP, 0, 0)
				}
				c.icount += uint64(i + 1)
				if t == c.bva && entry != nil && c.loopsInPlace(b, gen, uint64(n), limit) {
					c.itlb.Hit(entry)
					i = -1
					continue
				}
				c.rip = t
				goto chain
			case opJmpInd:
				c.pos = i
				t := c.src(in)
				if !canonical(t) {
					c.raise(VecGP, 0, 0)
				}
				c.icount += uint64(i + 1)
				c.rip = t
				goto chain
			case opCall, opCallInd:
				c.pos = i
				var t uint64
				if in.op == opCall {
					t = c.target(in)
				} else {
					t = c.src(in)
				}
				if !canonical(t) {
					c.raise(VecGP, 0, 0)
				}
				sp := c.r[RSP] - 8 // push, written out as in opPushR
				if u := &c.utlb[sp>>12&(utlbSize-1)]; u.wtag == sp>>12 && sp&0xfff <= 0xff8 {
					c.dtlb.Hit(u.e)
					binary.LittleEndian.PutUint64(u.frame[sp&0xfff:], c.next(in))
				} else {
					c.writeSlow(sp, 8, c.next(in))
				}
				c.r[RSP] = sp
				c.icount += uint64(i + 1)
				c.rip = t
				goto chain
			case opRet:
				c.pos = i
				sp := c.r[RSP]
				var t uint64
				if u := &c.utlb[sp>>12&(utlbSize-1)]; u.rtag == sp>>12 && sp&0xfff <= 0xff8 {
					c.dtlb.Hit(u.e)
					t = binary.LittleEndian.Uint64(u.frame[sp&0xfff:])
				} else {
					t = c.readSlow(sp, 8)
				}
				if !canonical(t) {
					c.raise(VecGP, 0, 0)
				}
				c.r[RSP] += 8 + in.imm
				c.icount += uint64(i + 1)
				c.rip = t
				goto chain
			case opSyscall:
				c.stepping = false
				c.icount += uint64(i + 1)
				c.rip = c.next(in)
				c.r[RCX] = c.rip
				c.r[R11] = c.flags()
				return Trap{Kind: TrapSyscall, RIP: c.rip}
			case opInt3:
				// #BP (INT3) and #DB (INT1) are traps: delivered after the instruction,
				// with RIP past it.
				c.icount += uint64(i + 1)
				c.rip = c.next(in)
				c.stepping = false
				return Trap{Kind: TrapException, Vector: in.sub, RIP: c.rip}
			case opPriv:
				c.pos = i
				c.raise(VecGP, 0, 0)
			case opUD:
				c.pos = i
				c.raiseUD(b, in)
			default:
				c.pos = i
				if c.execGeneric(in) {
					c.icount += uint64(i + 1)
					goto chain
				}
			}
		}
		n = int(b.end)
		c.icount += uint64(n)
		if n < len(insts) {
			c.rip = c.bva + uint64(insts[n].off)
		} else {
			c.rip = c.bva + uint64(b.size)
		}
	chain:
		// The block is left for RIP through exit. When the block linked from that exit is
		// valid for RIP and nothing else at the top has to be done, enter it at once, as
		// the top would.
		if c.dr6 == 0 && c.icount < limit && exit < len(b.links) {
			if l := &b.links[exit]; l.gen == c.codeGen && l.va == c.rip {
				b, entry = l.b, l.e
				c.itlb.Hit(l.e)
				goto enter
			}
		}
	}
	c.blk = nil
	c.stepping = false
	return Trap{Kind: TrapBudget, RIP: c.rip}
}

// loopsInPlace reports whether a block whose branch, just taken, goes back to its own first
// instruction may run again at once, without returning to the top of run: nothing the top
// checks has changed since the block was entered (the code generation, which covers the
// ITLB, the MMU state and the code cache; no debug trap pending; the flags that force the
// exact path), and a whole run of its n instructions fits in the budget. The caller
// reports the ITLB hit the fetch would have had, so the TLB's counts stay exact.
//
// Each loop heats the block (jitRun): when it becomes hot enough to be translated, the loop
// leaves once through run's chain, where jitRun translates it.
func (c *CPU) loopsInPlace(b *block, gen, n, limit uint64) bool {
	if b.jit == 0 {
		if b.heat++; b.heat == jitHeat {
			return false
		}
	}
	return gen == c.codeGen && c.dr6 == 0 && c.rflags&c.rawMask == 0 && c.icount+n <= limit
}

// execFast2 executes the second group of fast ops (the narrower integer forms and the SSE
// ones), kept out of run so that its loop over the commonest ops stays compact.
func (c *CPU) execFast2(b *block, i int, in *inst) {
	switch in.op {
	case opTestRIn:
		if in.hint&hFlagsDead == 0 {
			r := c.r[in.dst&15] & in.imm & sizeMask[in.size&15]
			c.lazy(lzLogic, in.size, r, r, r)
		}
	case opCmpRIn:
		if in.hint&hFlagsDead == 0 {
			m := sizeMask[in.size&15]
			a := c.r[in.dst&15] & m
			c.lazy(lzSub, in.size, a, in.imm, (a-in.imm)&m)
		}
	case opShiftCL:
		d, sz := in.dst&15, in.size
		n, a := c.r[RCX]&63, c.r[d]
		if sz == 4 {
			n, a = n&31, uint64(uint32(a))
		}
		if n == 0 {
			c.r[d] = a // no flags change, but a 32-bit register is still written
			break
		}
		var r uint64
		kind := uint8(lzShl)
		switch in.sub {
		case shShr:
			r, kind = a>>n, lzShr
		case shSar:
			r, kind = uint64(int64(signExtend(a, sz))>>n), lzSar
		default:
			r = a << n
		}
		r &= sizeMask[sz&15]
		c.r[d] = r
		if in.hint&hFlagsDead == 0 {
			c.lazy(kind, sz, a, n, r)
		}
	case opNegR:
		d, m := in.dst&15, sizeMask[in.size&15]
		a := c.r[d] & m
		r := -a & m
		c.r[d] = r
		if in.hint&hFlagsDead == 0 {
			c.lazy(lzSub, in.size, 0, a, r)
		}
	case opCmovRR:
		d := in.dst & 15
		v := c.r[d]
		if c.cond(in.sub) {
			v = c.r[in.src&15]
		}
		if in.size == 4 {
			v = uint64(uint32(v)) // a 32-bit CMOV zero-extends even when it does not move
		}
		c.r[d] = v
	case opLoadSx:
		c.pos = i
		va := uint64(in.disp) + c.r[in.base&31] + c.r[in.index&31]<<(in.scale&3)
		v := signExtend(c.read(va, in.ssize), in.ssize)
		if in.size == 4 {
			v = uint64(uint32(v))
		}
		c.r[in.dst&15] = v
	case opTestMI:
		c.pos = i
		va := uint64(in.disp) + c.r[in.base&31] + c.r[in.index&31]<<(in.scale&3)
		r := c.read(va, in.size) & in.imm
		c.lazy(lzLogic, in.size, r, r, r)
	case opMovzxRR:
		c.r[in.dst&15] = c.r[in.src&15] & sizeMask[in.ssize&15]
	case opMovsxRR:
		v := signExtend(c.r[in.src&15]&sizeMask[in.ssize&15], in.ssize)
		if in.size == 4 {
			v = uint64(uint32(v))
		}
		c.r[in.dst&15] = v
	case opSetccR:
		d := in.dst & 15
		v := c.r[d] &^ 0xff
		if c.cond(in.sub) {
			v |= 1
		}
		c.r[d] = v
	case opCmpMR:
		c.pos = i
		va := uint64(in.disp) + c.r[in.base&31] + c.r[in.index&31]<<(in.scale&3)
		m := sizeMask[in.size&15]
		a, v := c.read(va, in.size), c.r[in.src&15]&m
		c.lazy(lzSub, in.size, a, v, (a-v)&m)
	case opAluMR:
		c.pos = i
		c.aluMR(in)
	case opMovsR, opStosR:
		// strStep's order: the load, the store, then the pointers, so a fault on
		// either access leaves them as they were.
		c.pos = i
		sz := in.size
		d := uint64(sz)
		if c.rflags&FlagDF != 0 {
			d = -d
		}
		v := c.r[RAX]
		if in.op == opMovsR {
			v = c.read(c.r[RSI], sz)
		}
		c.write(c.r[RDI], sz, v)
		if in.op == opMovsR {
			c.r[RSI] += d
		}
		c.r[RDI] += d

	// SSE fast ops (sse_hot.go).
	case opXmmMov:
		s, d := &c.ext.XMM[in.src&15], &c.ext.XMM[in.dst&15]
		d[0], d[1] = s[0], s[1] // a quadword at a time (see xmmSrc2)
	case opXmmMovLo:
		c.ext.XMM[in.dst&15][0] = c.ext.XMM[in.src&15][0]
	case opXmmLoad:
		c.pos = i
		c.xmmLoad(in)
	case opXmmStore:
		c.pos = i
		c.xmmStore(in)
	case opXmmInt:
		c.pos = i
		c.xmmInt(in)
	case opXmmFP:
		c.pos = i
		switch in.sub &^ 15 {
		case xfPS:
			// The register form under fastMXCSR written out (xmmPS's first part): one
			// call fewer for the commonest packed-single arithmetic.
			if m := c.ext.MXCSR; in.form&fSrcMem == 0 && fastMXCSR(m) && fpOp(in.sub&15) <= fpSqrt {
				sp, d := &c.ext.XMM[in.src&15], &c.ext.XMM[in.dst&15]
				x := (*[4]float32)(unsafe.Pointer(d))
				y := (*[4]float32)(unsafe.Pointer(sp))
				var r0, r1, r2, r3 float32
				op := fpOp(in.sub & 15)
				switch op {
				case fpAdd:
					r0, r1, r2, r3 = x[0]+y[0], x[1]+y[1], x[2]+y[2], x[3]+y[3]
				case fpSub:
					r0, r1, r2, r3 = x[0]-y[0], x[1]-y[1], x[2]-y[2], x[3]-y[3]
				case fpMul:
					r0, r1, r2, r3 = x[0]*y[0], x[1]*y[1], x[2]*y[2], x[3]*y[3]
				case fpDiv:
					r0, r1, r2, r3 = x[0]/y[0], x[1]/y[1], x[2]/y[2], x[3]/y[3]
				default: // fpSqrt (see fast32)
					r0, r1 = float32(math.Sqrt(float64(y[0]))), float32(math.Sqrt(float64(y[1])))
					r2, r3 = float32(math.Sqrt(float64(y[2]))), float32(math.Sqrt(float64(y[3])))
				}
				o0 := uint64(math.Float32bits(r0)) | uint64(math.Float32bits(r1))<<32
				o1 := uint64(math.Float32bits(r2)) | uint64(math.Float32bits(r3))<<32
				const e, top, one = 0x7f800000_7f800000, 0x80000000_80000000, 0x00800000_00800000
				if looseMXCSR(m) {
					if ((o0&e+one)|(o1&e+one))&top == 0 || looseLanes32(op, d[0], sp[0], o0) && looseLanes32(op, d[1], sp[1], o1) {
						d[0], d[1] = o0, o1
						return
					}
				} else if a0, a1, s0, s1 := d[0], d[1], sp[0], sp[1]; (a0&e+e)&(a1&e+e)&(s0&e+e)&(s1&e+e)&top == top &&
					(o0&e+0xfe*one)&(o1&e+0xfe*one)&top == top && ((o0&e+one)|(o1&e+one))&top == 0 {
					d[0], d[1] = o0, o1
					return
				}
			}
			c.xmmPS(in, &b.raw[i])
		case xfPD:
			// xmmPD's register form under fastMXCSR written out likewise.
			if m := c.ext.MXCSR; in.form&fSrcMem == 0 && fastMXCSR(m) && fpOp(in.sub&15) <= fpSqrt {
				sp, d := &c.ext.XMM[in.src&15], &c.ext.XMM[in.dst&15]
				a0, a1, s0, s1 := d[0], d[1], sp[0], sp[1]
				x0, x1 := math.Float64frombits(a0), math.Float64frombits(a1)
				y0, y1 := math.Float64frombits(s0), math.Float64frombits(s1)
				var r0, r1 float64
				switch op := fpOp(in.sub & 15); op {
				case fpAdd:
					r0, r1 = x0+y0, x1+y1
				case fpSub:
					r0, r1 = x0-y0, x1-y1
				case fpMul:
					r0, r1 = x0*y0, x1*y1
				case fpDiv:
					if denormal64(a0) || denormal64(a1) || denormal64(s0) || denormal64(s1) {
						// Not on the host's divider (see divSoft64).
						if looseMXCSR(m) { // divPDLoose written out
							o0, o1, ok0, ok1 := uint64(0), uint64(0), false, false
							if denormal64(a0) || denormal64(s0) {
								o0, ok0 = divSoft64(a0, s0)
							} else {
								o0 = math.Float64bits(x0 / y0)
								ok0 = quick64(true, a0, s0, o0)
							}
							if denormal64(a1) || denormal64(s1) {
								o1, ok1 = divSoft64(a1, s1)
							} else {
								o1 = math.Float64bits(x1 / y1)
								ok1 = quick64(true, a1, s1, o1)
							}
							if ok0 && ok1 {
								d[0], d[1] = o0, o1
								return
							}
						}
						c.xmmPD(in, &b.raw[i])
						return
					}
					r0, r1 = x0/y0, x1/y1
				default:
					r0, r1 = math.Sqrt(y0), math.Sqrt(y1)
				}
				o0, o1 := math.Float64bits(r0), math.Float64bits(r1)
				if loose := looseMXCSR(m); quick64(loose, a0, s0, o0) && quick64(loose, a1, s1, o1) {
					d[0], d[1] = o0, o1
					return
				}
			}
			c.xmmPD(in, &b.raw[i])
		case xfSD:
			c.xmmSD(in, &b.raw[i])
		default:
			c.xmmSS(in, &b.raw[i])
		}
	case opXmmA:
		c.pos = i
		c.xmmA(in, &b.raw[i])
	case opXmmMovmsk:
		s := &c.ext.XMM[in.src&15]
		c.r[in.dst&15] = maskBits(s[0]) | maskBits(s[1])<<8
	case opXmmComi:
		c.pos = i
		c.xmmComi(in)
	case opXmmCvtPS2DQ:
		c.pos = i
		// xmmCvtPS2DQ's register form with every lane converted on the host, written out.
		const pm, im = mxPE << mxMaskShift, mxIE << mxMaskShift
		if m := c.ext.MXCSR; in.form&fSrcMem == 0 && m&(pm|mxPE) == pm|mxPE && (in.sub == 1 || m&(3<<mxRCShift) == 0) {
			sp := &c.ext.XMM[in.src&15]
			s0, s1 := sp[0], sp[1]
			trunc, indef := in.sub == 1, m&(im|mxIE) == im|mxIE
			r0, ok0 := cvtLane(uint32(s0), trunc, indef)
			r1, ok1 := cvtLane(uint32(s0>>32), trunc, indef)
			r2, ok2 := cvtLane(uint32(s1), trunc, indef)
			r3, ok3 := cvtLane(uint32(s1>>32), trunc, indef)
			if ok0 && ok1 && ok2 && ok3 {
				d := &c.ext.XMM[in.dst&15]
				d[0], d[1] = uint64(r0)|uint64(r1)<<32, uint64(r2)|uint64(r3)<<32
				return
			}
		}
		c.xmmCvtPS2DQ(in, &b.raw[i])

	// Integer fast ops of int_ops.go.
	case opAluRn:
		c.aluNarrow(i, in)
	case opShiftRIn:
		c.shiftNarrow(in)
	case opNegRn:
		c.negNarrow(in)
	case opBswapR:
		c.bswapR(in)
	case opNotR:
		c.notR(in)
	}
}

// execGeneric executes an instruction that has no fast form, through the operand helpers.
// It returns true if the instruction set RIP itself (a cold op that ends its block).
func (c *CPU) execGeneric(in *inst) bool {
	switch in.op {
	case opMov:
		if in.form&fDstMem != 0 {
			c.write(c.ea(in), in.size, c.src(in))
		} else {
			c.setReg(in.dst, in.size, c.src(in))
		}
	case opALU:
		c.execALU(in)
	case opTest:
		v := c.src(in)
		a := c.loadDst(in)
		c.setLazy(lzLogic, in.size, a, v, a&v)
	case opLea:
		c.setReg(in.dst, in.size, c.ea(in))
	case opMovzx, opMovsx:
		var v uint64
		if in.form&fSrcMem != 0 {
			v = c.read(c.ea(in), in.ssize)
		} else {
			v = c.getReg(in.src, in.ssize)
		}
		if in.op == opMovsx {
			v = signExtend(v, in.ssize)
		}
		c.setReg(in.dst, in.size, v)
	case opInc, opDec:
		a, ea := c.loadRMW(in)
		kind, res := lzInc, a+1
		if in.op == opDec {
			kind, res = lzDec, a-1
		}
		cf := c.cf()
		c.store(in, ea, res)
		c.setLazy(kind, in.size, a, 1, res)
		c.lz.cin = uint8(cf)
	case opNeg:
		a, ea := c.loadRMW(in)
		c.store(in, ea, -a)
		c.setLazy(lzSub, in.size, 0, a, -a)
	case opNot:
		a, ea := c.loadRMW(in)
		c.store(in, ea, ^a)
	case opShift:
		c.execShift(in)
	case opImul2, opImul3:
		c.execImul(in)
	case opMulDiv:
		c.execMulDiv(in)
	case opPush:
		var v uint64
		if in.form&fSrcImm != 0 {
			v = in.imm
		} else {
			v = c.src(in)
		}
		sp := c.r[RSP] - uint64(in.size)
		c.write(sp, in.size, v)
		c.r[RSP] = sp
	case opPop:
		c.execPop(in)
	case opSetcc:
		var v uint64
		if c.cond(in.sub) {
			v = 1
		}
		if in.form&fDstMem != 0 {
			c.write(c.ea(in), 1, v)
		} else {
			c.setReg(in.dst, 1, v)
		}
	case opCmovcc:
		v := c.src(in)
		if c.cond(in.sub) {
			c.setReg(in.dst, in.size, v)
		} else {
			c.setReg(in.dst, in.size, c.getReg(in.dst, in.size)) // a 32-bit cmov zero-extends
		}
	case opXchg:
		c.execXchg(in)
	case opCvt:
		c.execCvt(in)
	case opLeave:
		v := c.read(c.r[RBP], 8)
		c.r[RSP] = c.r[RBP] + 8
		c.r[RBP] = v
	case opFlag:
		c.execFlag(in)
	default:
		coldOps[in.op](c, in)
		return endsBlock[in.op]
	}
	return false
}

// lazy records a flag-setting operation whose operands and result are already masked to
// size (the fast ops' setLazy).
func (c *CPU) lazy(kind, size uint8, a, b, res uint64) {
	l := &c.lz
	l.kind, l.size, l.cin = kind, size, 0
	l.a, l.b, l.res = a, b, res
}

// aluRM is ALU reg, [mem] with the memory operand v already loaded.
func (c *CPU) aluRM(in *inst, v uint64) {
	sz := in.size
	m := sizeMask[sz&15]
	a := c.r[in.dst&15] & m
	var res uint64
	kind := uint8(lzLogic)
	switch in.sub {
	case aluAdd:
		res, kind = a+v, lzAdd
	case aluSub, aluCmp:
		res, kind = a-v, lzSub
	case aluAnd:
		res = a & v
	case aluOr:
		res = a | v
	case aluXor:
		res = a ^ v
	}
	res &= m
	if in.sub != aluCmp {
		c.r[in.dst&15] = res
	}
	c.lazy(kind, sz, a, v, res)
}

// condSub evaluates condition cc on the flags of CMP a, b at size (a and b masked).
func condSub(cc uint8, a, b uint64, size uint8) bool {
	sh := 64 - uint(size)*8
	var r bool
	switch cc >> 1 {
	case 0: // O
		r = int64(((a^b)&(a^(a-b)))<<sh) < 0
	case 1: // B
		r = a < b
	case 2: // E
		r = a == b
	case 3: // BE
		r = a <= b
	case 4: // S
		r = int64((a-b)<<sh) < 0
	case 5: // P
		r = parity(a-b) != 0
	case 6: // L
		r = int64(a<<sh) < int64(b<<sh)
	case 7: // LE
		r = int64(a<<sh) <= int64(b<<sh)
	}
	return r != (cc&1 != 0)
}

// condLogic evaluates condition cc on the flags of TEST (or AND, OR, XOR) with result r at
// size: CF = OF = 0.
func condLogic(cc uint8, r uint64, size uint8) bool {
	s := int64(r<<(64-uint(size)*8)) < 0
	var t bool
	switch cc >> 1 {
	case 2, 3: // E, BE
		t = r == 0
	case 4, 6: // S, L
		t = s
	case 5: // P
		t = parity(r) != 0
	case 7: // LE
		t = r == 0 || s
	}
	return t != (cc&1 != 0)
}

// raiseUD raises #UD for an instruction the CPU cannot execute, naming its bytes and, when
// the decoder recognised it, its mnemonic.
func (c *CPU) raiseUD(b *block, in *inst) {
	pa := b.pa + uint64(in.off)
	end := min(pa|0xfff+1, pa+maxInstLen)
	if in.sub == udNamed {
		end = min(end, pa+uint64(in.len))
	}
	c.fault = Trap{Kind: TrapException, Vector: VecUD, Insn: append([]byte(nil), c.mem[pa:end]...)}
	if in.sub == udNamed {
		c.fault.Mnemonic = disasm(c.codeBytes(b, in))
	}
	panic(faultSignal{})
}

func (c *CPU) execALU(in *inst) {
	b := c.src(in)
	var a, ea uint64
	if in.sub == aluCmp {
		a = c.loadDst(in)
		c.setLazy(lzSub, in.size, a, b, a-b)
		return
	}
	a, ea = c.loadRMW(in)
	var res uint64
	var kind uint8
	var cin uint64
	switch in.sub {
	case aluAdd:
		res, kind = a+b, lzAdd
	case aluOr:
		res, kind = a|b, lzLogic
	case aluAdc:
		cin = c.cf()
		res, kind = a+b+cin, lzAdc
	case aluSbb:
		cin = c.cf()
		res, kind = a-b-cin, lzSbb
	case aluAnd:
		res, kind = a&b, lzLogic
	case aluSub:
		res, kind = a-b, lzSub
	case aluXor:
		res, kind = a^b, lzLogic
	}
	c.store(in, ea, res)
	c.setLazy(kind, in.size, a, b, res)
	c.lz.cin = uint8(cin)
}

// shiftCount returns the masked count of a shift or rotate: 6 bits for 64-bit operands,
// 5 bits otherwise.
func (c *CPU) shiftCount(in *inst) uint64 {
	n := in.imm
	if in.form&fSrcCL != 0 {
		n = c.r[RCX]
	}
	if in.size == 8 {
		return n & 63
	}
	return n & 31
}

func (c *CPU) execShift(in *inst) {
	n := c.shiftCount(in)
	a, ea := c.loadRMW(in)
	if n == 0 {
		// No change and flags unaffected, but a 32-bit register is still written, which
		// zero-extends it (as the host CPU shows).
		if in.form&fDstMem == 0 && in.size == 4 {
			c.setReg(in.dst, 4, a)
		}
		return
	}
	width := uint64(in.size) * 8
	m := sizeMask[in.size]
	var res uint64
	switch in.sub {
	case shShl, shSal:
		res = a << n
		c.store(in, ea, res)
		c.setLazy(lzShl, in.size, a, n, res)
		return
	case shShr:
		res = a >> n
		c.store(in, ea, res)
		c.setLazy(lzShr, in.size, a, n, res)
		return
	case shSar:
		if n >= width {
			res = uint64(int64(signExtend(a, in.size)) >> 63)
		} else {
			res = uint64(int64(signExtend(a, in.size)) >> n)
		}
		c.store(in, ea, res)
		c.setLazy(lzSar, in.size, a, n, res)
		return
	}
	// Rotates change only CF and OF.
	f := c.flags()
	cf := f & FlagCF
	var of uint64
	switch in.sub {
	case shRol:
		r := n % width
		res = (a<<r | a>>(width-r)) & m
		cf = res & 1
		of = signBit(res, in.size) ^ cf
	case shRor:
		r := n % width
		res = (a>>r | a<<(width-r)) & m
		cf = signBit(res, in.size)
		of = cf ^ (res >> (width - 2) & 1)
	case shRcl:
		res = a
		for r := n % (width + 1); r > 0; r-- {
			out := signBit(res, in.size)
			res = (res<<1 | cf) & m
			cf = out
		}
		of = signBit(res, in.size) ^ cf
	case shRcr:
		res = a
		for r := n % (width + 1); r > 0; r-- {
			out := res & 1
			res = res>>1 | cf<<(width-1)
			cf = out
		}
		// The two top bits of the result: MSB(dest) XOR CF for a count of 1, and what the
		// AMD host gives for the (undefined) larger counts.
		of = signBit(res, in.size) ^ res>>(width-2)&1
	}
	c.store(in, ea, res)
	c.rflags = f&^(FlagCF|FlagOF) | cf | of<<11
}

func (c *CPU) execImul(in *inst) {
	var a, b uint64
	if in.op == opImul3 {
		a, b = c.src(in), in.imm
	} else {
		b = c.src(in)
		a = c.getReg(in.dst, in.size)
	}
	sa, sb := int64(signExtend(a, in.size)), int64(signExtend(b, in.size))
	var res uint64
	var overflow bool
	if in.size == 8 {
		hi, lo := bits.Mul64(uint64(sa), uint64(sb))
		if sa < 0 {
			hi -= uint64(sb)
		}
		if sb < 0 {
			hi -= uint64(sa)
		}
		res = lo
		overflow = hi != uint64(int64(lo)>>63)
	} else {
		p := sa * sb
		res = uint64(p)
		overflow = int64(signExtend(res, in.size)) != p
	}
	c.setReg(in.dst, in.size, res)
	c.setMulFlags(in.size, res, overflow)
}

// setMulFlags records the flags of a multiply: CF = OF = overflow; SF, ZF, PF follow the low
// half (the SDM leaves them undefined).
func (c *CPU) setMulFlags(size uint8, low uint64, overflow bool) {
	c.setLazy(lzMul, size, 0, 0, low)
	if overflow {
		c.lz.cin = 1
	}
}

func (c *CPU) execMulDiv(in *inst) {
	v := c.loadDst(in)
	sz := in.size
	m := sizeMask[sz]
	width := uint(sz) * 8
	// The implicit operand: AL/AX/EAX/RAX and, for wider ones, DX/EDX/RDX as the high half.
	lo := c.r[RAX] & m
	var hi uint64
	if sz == 1 {
		hi = c.r[RAX] >> 8 & 0xff
	} else {
		hi = c.r[RDX] & m
	}
	switch in.sub {
	case mdMul:
		var ph, pl uint64
		if sz == 8 {
			ph, pl = bits.Mul64(lo, v)
		} else {
			p := lo * v
			ph, pl = p>>width, p&m
		}
		c.setMulDivResult(sz, pl, ph)
		c.setMulFlags(sz, pl, ph != 0)
	case mdImul:
		sa, sb := int64(signExtend(lo, sz)), int64(signExtend(v, sz))
		var ph, pl uint64
		if sz == 8 {
			ph, pl = bits.Mul64(uint64(sa), uint64(sb))
			if sa < 0 {
				ph -= uint64(sb)
			}
			if sb < 0 {
				ph -= uint64(sa)
			}
		} else {
			p := sa * sb
			ph, pl = uint64(p>>width)&m, uint64(p)&m
		}
		c.setMulDivResult(sz, pl, ph)
		c.setMulFlags(sz, pl, ph != (uint64(int64(signExtend(pl, sz))>>63)&m))
	case mdDiv:
		if v == 0 || hi >= v {
			c.raise(VecDE, 0, 0)
		}
		c.setDivFlags()
		var q, r uint64
		if sz == 8 {
			q, r = bits.Div64(hi, lo, v)
		} else {
			n := hi<<width | lo
			q, r = n/v, n%v
		}
		c.setMulDivResult(sz, q, r)
	case mdIdiv:
		c.execIdiv(sz, hi, lo, v)
	}
}

// setDivFlags sets the flags after DIV or IDIV, all of which the SDM leaves undefined, as
// the AMD host does: SF, ZF and PF clear, AF set, CF and OF unchanged.
func (c *CPU) setDivFlags() {
	c.setArith(FlagSF|FlagZF|FlagPF|FlagAF, FlagAF)
}

// setMulDivResult writes a one-operand multiply or divide result: AX = hi:lo for bytes,
// else DX:AX, EDX:EAX or RDX:RAX.
func (c *CPU) setMulDivResult(sz uint8, lo, hi uint64) {
	if sz == 1 {
		c.setReg(RAX, 2, hi<<8|lo&0xff)
		return
	}
	c.setReg(RAX, sz, lo)
	c.setReg(RDX, sz, hi)
}

func (c *CPU) execIdiv(sz uint8, hi, lo, v uint64) {
	if v == 0 {
		c.raise(VecDE, 0, 0)
	}
	width := uint(sz) * 8
	d := int64(signExtend(v, sz))
	var q, r int64
	if sz == 8 {
		// 128-by-64 signed division through magnitudes.
		neg := int64(hi) < 0
		nh, nl := hi, lo
		if neg {
			nl = -lo
			nh = ^hi
			if lo == 0 {
				nh++
			}
		}
		dm := uint64(d)
		if d < 0 {
			dm = -dm
		}
		if nh >= dm {
			c.raise(VecDE, 0, 0)
		}
		uq, ur := bits.Div64(nh, nl, dm)
		qneg := neg != (d < 0)
		if (qneg && uq > 1<<63) || (!qneg && uq > 1<<63-1) {
			c.raise(VecDE, 0, 0)
		}
		q, r = int64(uq), int64(ur)
		if qneg {
			q = -q
		}
		if neg {
			r = -r
		}
	} else {
		n := int64(signExtend(hi<<width|lo, sz*2))
		q, r = n/d, n%d
		if q != int64(signExtend(uint64(q), sz)) {
			c.raise(VecDE, 0, 0)
		}
	}
	c.setDivFlags()
	c.setMulDivResult(sz, uint64(q)&sizeMask[sz], uint64(r)&sizeMask[sz])
}

func (c *CPU) execPop(in *inst) {
	sp := c.r[RSP]
	v := c.read(sp, in.size)
	newSP := sp + uint64(in.size)
	if in.form&fDstMem != 0 {
		// The address is computed with RSP already incremented (SDM, POP).
		c.r[RSP] = newSP
		ea := c.ea(in)
		c.r[RSP] = sp
		c.write(ea, in.size, v)
		c.r[RSP] = newSP
		return
	}
	c.r[RSP] = newSP
	c.setReg(in.dst, in.size, v) // POP RSP loads the popped value
}

func (c *CPU) execXchg(in *inst) {
	if in.form&fDstMem != 0 {
		ea := c.ea(in)
		c.checkWrite(ea, in.size)
		old := c.read(ea, in.size)
		c.write(ea, in.size, c.getReg(in.src, in.size))
		c.setReg(in.src, in.size, old)
		return
	}
	a, b := c.getReg(in.dst, in.size), c.getReg(in.src, in.size)
	c.setReg(in.dst, in.size, b)
	c.setReg(in.src, in.size, a)
}

func (c *CPU) execCvt(in *inst) {
	a := c.r[RAX]
	switch in.sub {
	case cvCbw:
		c.setReg(RAX, 2, signExtend(a, 1))
	case cvCwde:
		c.setReg(RAX, 4, signExtend(a, 2))
	case cvCdqe:
		c.r[RAX] = signExtend(a, 4)
	case cvCwd:
		c.setReg(RDX, 2, signExtend(a, 2)>>16)
	case cvCdq:
		c.setReg(RDX, 4, signExtend(a, 4)>>32)
	case cvCqo:
		c.r[RDX] = uint64(int64(a) >> 63)
	}
}

func (c *CPU) execFlag(in *inst) {
	f := c.flags()
	switch in.sub {
	case flClc:
		f &^= FlagCF
	case flStc:
		f |= FlagCF
	case flCmc:
		f ^= FlagCF
	case flCld:
		f &^= FlagDF
	case flStd:
		f |= FlagDF
	}
	c.rflags = f
}
