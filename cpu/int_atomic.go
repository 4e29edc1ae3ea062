package cpu

import (
	"golang.org/x/arch/x86/x86asm"

	"github.com/vmemu/vmemu/mmu"
)

// The exchange-and-compare family: XADD, CMPXCHG, CMPXCHG8B and CMPXCHG16B. One CPU runs
// at a time, so LOCK needs no more than accepting the prefix (translate checks that it
// precedes a lockable instruction with a memory destination).

var (
	opXadd     = registerCold(execXadd)
	opCmpxchg  = registerCold(execCmpxchg)
	opCmpxchgB = registerCold(execCmpxchgDouble)
)

func init() {
	cpuidLeaf1EDX |= 1 << 8  // CX8
	cpuidLeaf1ECX |= 1 << 13 // CX16
	coldDecoders[x86asm.XADD] = func(in *inst, x *x86asm.Inst) bool {
		in.op = opXadd
		_, isReg := x.Args[1].(x86asm.Reg)
		return isReg && in.setDst(x.Args[0], x) && in.setSrc(x.Args[1], x)
	}
	coldDecoders[x86asm.CMPXCHG] = func(in *inst, x *x86asm.Inst) bool {
		in.op = opCmpxchg
		_, isReg := x.Args[1].(x86asm.Reg)
		return isReg && in.setDst(x.Args[0], x) && in.setSrc(x.Args[1], x)
	}
	double := func(in *inst, x *x86asm.Inst) bool {
		in.op = opCmpxchgB
		m, ok := x.Args[0].(x86asm.Mem)
		in.form |= fDstMem
		in.size = uint8(x.MemBytes) // 8 or 16
		return ok && in.setMem(m, x) && (in.size == 8 || in.size == 16)
	}
	coldDecoders[x86asm.CMPXCHG8B] = double
	coldDecoders[x86asm.CMPXCHG16B] = double
}

// execXadd is XADD (SDM Vol. 2B): the destination receives the sum and the source register
// the old destination; the flags are those of the addition. With both operands the same
// register, the sum is what remains.
func execXadd(c *CPU, in *inst) {
	a, ea := c.loadRMW(in)
	b := c.getReg(in.src, in.size)
	sum := a + b
	c.setReg(in.src, in.size, a)
	c.store(in, ea, sum)
	c.setLazy(lzAdd, in.size, a, b, sum)
}

// execCmpxchg is CMPXCHG (SDM Vol. 2A): compare the accumulator with the destination; if
// equal, ZF = 1 and the destination receives the source, else ZF = 0 and the accumulator
// receives the destination. The flags are those of CMP accumulator, destination. A memory
// destination is written either way (with its own value when unequal), so a read-only page
// faults even when the comparison fails.
func execCmpxchg(c *CPU, in *inst) {
	a, ea := c.loadRMW(in)
	acc := c.getReg(RAX, in.size)
	c.setLazy(lzSub, in.size, acc, a, acc-a)
	if acc == a {
		c.store(in, ea, c.getReg(in.src, in.size))
		return
	}
	if in.form&fDstMem != 0 {
		c.write(ea, in.size, a)
	}
	c.setReg(RAX, in.size, a)
}

// execCmpxchgDouble is CMPXCHG8B and CMPXCHG16B (SDM Vol. 2A): compare EDX:EAX (RDX:RAX)
// with the memory operand; if equal, ZF = 1 and the memory receives ECX:EBX (RCX:RBX), else
// ZF = 0 and EDX:EAX (RDX:RAX) receives the memory operand. Other flags are unchanged. The
// memory is written either way. CMPXCHG16B needs a 16-byte aligned operand, else #GP(0).
func execCmpxchgDouble(c *CPU, in *inst) {
	ea := c.ea(in)
	if in.size == 16 {
		if ea&15 != 0 {
			c.raise(VecGP, 0, 0)
		}
		c.checkWrite(ea, 8)
		c.checkWrite(ea+8, 8)
		var buf [16]byte
		c.readBytes(ea, buf[:], mmu.Read)
		lo, hi := le64(buf[:8]), le64(buf[8:])
		if lo == c.r[RAX] && hi == c.r[RDX] {
			c.write(ea, 8, c.r[RBX])
			c.write(ea+8, 8, c.r[RCX])
			c.setArith(FlagZF, FlagZF)
			return
		}
		c.write(ea, 8, lo)
		c.write(ea+8, 8, hi)
		c.r[RAX], c.r[RDX] = lo, hi
		c.setArith(FlagZF, 0)
		return
	}
	c.checkWrite(ea, 8)
	v := c.read(ea, 8)
	if v == uint64(uint32(c.r[RAX]))|c.r[RDX]<<32 {
		c.write(ea, 8, uint64(uint32(c.r[RBX]))|c.r[RCX]<<32)
		c.setArith(FlagZF, FlagZF)
		return
	}
	c.write(ea, 8, v)
	c.r[RAX], c.r[RDX] = uint64(uint32(v)), v>>32
	c.setArith(FlagZF, 0)
}

// le64 decodes a little-endian quadword.
func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
