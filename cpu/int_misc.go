package cpu

import (
	"golang.org/x/arch/x86/x86asm"

	"github.com/vmemu/vmemu/mmu"
)

// The rest of the integer instruction set: double shifts (SHLD, SHRD), flag transfers
// (LAHF, SAHF, PUSHF, POPF), ENTER, the counted branches (LOOP, LOOPE, LOOPNE, JRCXZ,
// JECXZ), XLAT, MOVNTI, CLFLUSH, RDTSC and RDTSCP. CPUID is in cpuid.go.

var (
	opShiftD = registerCold(execShiftDouble)
	opLahf   = registerCold(func(c *CPU, _ *inst) { c.setReg(16, 1, c.flags()&0xd5|flagR1) })
	opSahf   = registerCold(execSahf)
	opPushf  = registerCold(execPushf)
	opPopf   = registerCold(execPopf) // ends the block: TF and AC take effect after it
	opEnter  = registerCold(execEnter)
	opLoop   = registerCold(execLoop) // ends the block
	opXlat   = registerCold(execXlat)
	opFlush  = registerCold(execClflush)
	opRdtsc  = registerCold(execRdtsc)
)

// TSCPerInstruction is how many time-stamp-counter ticks one retired instruction is worth:
// guest time comes from the instruction count, so RDTSC is deterministic.
const TSCPerInstruction = 1

// Counted-branch kinds (inst.sub).
const (
	lpLoop = iota
	lpLoope
	lpLoopne
	lpJrcxz
)

// FlagNT is RFLAGS.NT (nested task), which POPF may change at any privilege level.
const FlagNT = 1 << 14

func init() {
	cpuidLeaf1EDX |= 1<<4 | 1<<19 // TSC, CLFSH
	cpuidExt1ECX |= 1 << 0        // LAHF/SAHF in 64-bit mode
	cpuidExt1EDX |= 1 << 27       // RDTSCP
	endsBlock[opPopf] = true
	endsBlock[opLoop] = true

	noOperands := func(op uint16) coldDecoder {
		return func(in *inst, _ *x86asm.Inst) bool { in.op = op; return true }
	}
	coldDecoders[x86asm.LAHF] = noOperands(opLahf)
	coldDecoders[x86asm.SAHF] = noOperands(opSahf)
	coldDecoders[x86asm.RDTSC] = noOperands(opRdtsc)
	coldDecoders[x86asm.RDTSCP] = func(in *inst, _ *x86asm.Inst) bool { in.op, in.sub = opRdtsc, 1; return true }
	for _, op := range []x86asm.Op{x86asm.SHLD, x86asm.SHRD} {
		coldDecoders[op] = func(in *inst, x *x86asm.Inst) bool {
			in.op = opShiftD
			if x.Op == x86asm.SHRD {
				in.sub = 1
			}
			if !in.setDst(x.Args[0], x) || in.size < 2 {
				return false
			}
			r, ok := x.Args[1].(x86asm.Reg)
			n, _, ok2 := regInfo(r)
			if !ok || !ok2 {
				return false
			}
			in.src = n
			switch cnt := x.Args[2].(type) {
			case x86asm.Imm:
				in.imm = uint64(cnt)
			case x86asm.Reg:
				if cnt != x86asm.CL {
					return false
				}
				in.form |= fSrcCL
			default:
				return false
			}
			return true
		}
	}
	for _, op := range []x86asm.Op{x86asm.PUSHF, x86asm.PUSHFQ, x86asm.POPF, x86asm.POPFQ} {
		coldDecoders[op] = func(in *inst, x *x86asm.Inst) bool {
			in.op, in.size = opPushf, 8
			if x.Op == x86asm.POPF || x.Op == x86asm.POPFQ {
				in.op = opPopf
			}
			if x.DataSize == 16 {
				in.size = 2
			}
			return true
		}
	}
	coldDecoders[x86asm.ENTER] = func(in *inst, x *x86asm.Inst) bool {
		size, ok1 := x.Args[0].(x86asm.Imm)
		level, ok2 := x.Args[1].(x86asm.Imm)
		in.op, in.imm, in.sub = opEnter, uint64(size)&0xffff, uint8(level)&31
		return ok1 && ok2 && x.DataSize != 16
	}
	for op, sub := range map[x86asm.Op]uint8{x86asm.LOOP: lpLoop, x86asm.LOOPE: lpLoope,
		x86asm.LOOPNE: lpLoopne, x86asm.JRCXZ: lpJrcxz, x86asm.JECXZ: lpJrcxz} {
		coldDecoders[op] = func(in *inst, x *x86asm.Inst) bool {
			rel, ok := x.Args[0].(x86asm.Rel)
			in.op, in.sub, in.imm = opLoop, sub, uint64(int64(rel))
			if x.AddrSize == 32 {
				in.form |= fAddr32
			}
			return ok
		}
	}
	// MOVNTI (SSE2; its CPUID bit is the SSE unit's) is a plain store: the non-temporal hint
	// has no cache to bypass, so it runs as the hot MOV.
	coldDecoders[x86asm.MOVNTI] = func(in *inst, x *x86asm.Inst) bool {
		in.op = opMov
		return in.setDst(x.Args[0], x) && in.form&fDstMem != 0 && in.setSrc(x.Args[1], x)
	}
	coldDecoders[x86asm.XLATB] = func(in *inst, x *x86asm.Inst) bool {
		m, ok := x.Args[0].(x86asm.Mem)
		in.op, in.size = opXlat, 1
		return ok && in.setMem(m, x)
	}
	for _, op := range []x86asm.Op{x86asm.CLFLUSH} {
		coldDecoders[op] = func(in *inst, x *x86asm.Inst) bool {
			m, ok := x.Args[0].(x86asm.Mem)
			in.op = opFlush
			return ok && in.setMem(m, x)
		}
	}
}

// execShiftDouble is SHLD and SHRD (SDM Vol. 2B): shift the destination, filling the
// vacated bits from the source register. The count is masked to 5 bits (6 for 64-bit
// operands); a zero count changes nothing. CF is the last bit shifted out; OF (defined for a
// count of 1) says the sign changed; SF, ZF, PF follow the result; AF is undefined (set, as
// on the AMD host). A count larger than a 16-bit operand leaves result and flags undefined:
// this CPU then shifts the 48-bit pattern dest:src:src, as the AMD host does (Intel P6-family
// processors use dest:src:dest).
func execShiftDouble(c *CPU, in *inst) {
	n := in.imm
	if in.form&fSrcCL != 0 {
		n = c.r[RCX]
	}
	if in.size == 8 {
		n &= 63
	} else {
		n &= 31
	}
	a, ea := c.loadRMW(in)
	if n == 0 {
		if in.form&fDstMem == 0 && in.size == 4 {
			c.setReg(in.dst, 4, a) // the register is still written: it zero-extends
		}
		return
	}
	b := c.getReg(in.src, in.size)
	w := uint64(in.size) * 8
	var res, cf uint64
	if in.size == 2 {
		// Work on the pattern dest:src:src (SHLD) or src:src:dest (SHRD), which gives the
		// defined results for counts up to 16 too.
		if in.sub == 0 {
			p := a<<48 | b<<32 | b<<16
			res = p << n >> 48
			cf = p >> (64 - n) & 1
		} else {
			p := a | b<<16 | b<<32
			res = p >> n & 0xffff
			cf = p >> (n - 1) & 1
		}
	} else if in.sub == 0 {
		res = a<<n | b>>(w-n)
		cf = a >> (w - n) & 1
	} else {
		res = a>>n | b<<(w-n)
		cf = a >> (n - 1) & 1
	}
	res &= sizeMask[in.size]
	c.store(in, ea, res)
	// OF is defined for a count of 1 (the sign changed); for larger counts it follows the
	// same formulas the AMD host's results fit: MSB(res) XOR CF for SHLD, the two top bits
	// of the result for SHRD; a 16-bit SHLD by 16 or more differs (OF = CF, then 0), and a
	// 16-bit count beyond the operand clears CF.
	var of uint64
	if in.sub == 0 {
		of = signBit(res, in.size) ^ cf
	} else {
		of = signBit(res, in.size) ^ res>>(w-2)&1
	}
	if in.size == 2 && n > 16 {
		cf = 0
		if in.sub == 0 {
			of = 0
		}
	} else if in.size == 2 && n == 16 && in.sub == 0 {
		of = cf
	}
	c.setArith(ArithFlags, szf(res, in.size)|cf|of<<11|FlagAF)
}

// execSahf is SAHF: SF, ZF, AF, PF and CF from AH (SDM Vol. 2B).
func execSahf(c *CPU, _ *inst) {
	c.setArith(FlagSF|FlagZF|FlagAF|FlagPF|FlagCF, c.r[RAX]>>8)
}

// execPushf is PUSHF/PUSHFQ: the flags image with VM and RF clear (SDM Vol. 2B). The 16-bit
// form pushes the low word.
func execPushf(c *CPU, in *inst) {
	v := c.flags() &^ (1<<16 | 1<<17)
	sp := c.r[RSP] - uint64(in.size)
	c.write(sp, in.size, v)
	c.r[RSP] = sp
}

// execPopf is POPF/POPFQ at CPL 3 with IOPL 0, as Linux runs programs (SDM Vol. 2B, POPF,
// "protected mode, CPL > 0, CPL > IOPL"): the arithmetic flags, TF, DF, NT, AC and ID take
// the popped values; IF and IOPL keep theirs without a fault; VM, VIF and VIP are unchanged
// and RF is cleared. The 16-bit form changes only the low word's flags. TF and AC take
// effect from the next instruction, so the block ends here.
func execPopf(c *CPU, in *inst) {
	v := c.read(c.r[RSP], in.size)
	c.r[RSP] += uint64(in.size)
	mask := uint64(userFlags | FlagNT)
	if in.size == 2 {
		mask &= 0xffff
	}
	old := c.flags()
	c.rflags = old&^mask | v&mask
	if (old^c.rflags)&FlagAC != 0 {
		c.flushMicro() // alignment checking turns the fast path on or off
	}
	c.rip = c.next(in)
}

// execEnter is ENTER size, level (SDM Vol. 2A): push RBP, copy level-1 frame pointers from
// the enclosing frame, push the new frame pointer when level > 0, point RBP at the new frame
// and reserve size bytes. All reads and the whole store range are checked before anything
// changes, so a fault leaves no trace.
func execEnter(c *CPU, in *inst) {
	level := int(in.sub)
	sp, bp := c.r[RSP], c.r[RBP]
	var vals [33]uint64
	vals[0] = bp
	n := 1
	frame := sp - 8
	for i := 1; i < level; i++ {
		vals[n] = c.read(bp-uint64(i)*8, 8)
		n++
	}
	if level > 0 {
		vals[n] = frame
		n++
	}
	low := sp - uint64(n)*8
	c.probe(low, uint64(n)*8, mmu.Write)
	for i := 0; i < n; i++ {
		c.write(sp-uint64(i+1)*8, 8, vals[i])
	}
	c.r[RBP] = frame
	c.r[RSP] = low - in.imm
}

// execLoop is LOOP, LOOPE, LOOPNE (decrement the count register, branch while not zero and
// the ZF condition holds) and JRCXZ/JECXZ (branch if the count register is zero), with ECX
// as the count under a 67h prefix. LOOP does not change the flags.
func execLoop(c *CPU, in *inst) {
	cnt := c.r[RCX]
	if in.form&fAddr32 != 0 {
		cnt = uint64(uint32(cnt))
	}
	var taken bool
	if in.sub == lpJrcxz {
		taken = cnt == 0
	} else {
		cnt--
		if in.form&fAddr32 != 0 {
			cnt = uint64(uint32(cnt))
		}
		taken = cnt != 0
		switch in.sub {
		case lpLoope:
			taken = taken && c.cond(ccE)
		case lpLoopne:
			taken = taken && !c.cond(ccE)
		}
	}
	if taken && !canonical(c.target(in)) {
		c.raise(VecGP, 0, 0) // before the count changes: the fault leaves no effect
	}
	if in.sub != lpJrcxz {
		c.r[RCX] = cnt
	}
	if taken {
		c.rip = c.target(in)
	} else {
		c.rip = c.next(in)
	}
}

// execXlat is XLAT: AL <- [RBX + zero-extended AL] (SDM Vol. 2B), with EBX under a 67h prefix.
func execXlat(c *CPU, in *inst) {
	m := *in
	m.disp = int64(c.r[RAX] & 0xff)
	c.setReg(RAX, 1, c.read(c.ea(&m), 1))
}

// execClflush is CLFLUSH and CLFLUSHOPT: there is no cache to write back, but the address
// is checked like a one-byte load, so an unmapped line faults as on hardware (SDM Vol. 2A).
func execClflush(c *CPU, in *inst) {
	c.translate(c.ea(in), mmu.Read)
}

// execRdtsc is RDTSC and RDTSCP (sub 1): EDX:EAX <- the time-stamp counter, which counts
// TSCPerInstruction ticks per instruction retired before this one. RDTSCP also loads ECX with
// IA32_TSC_AUX, which Linux sets to the CPU number (smp.go: SetID, SetTSCOffset).
func execRdtsc(c *CPU, in *inst) {
	tsc := (c.icount+uint64(c.pos))*TSCPerInstruction + c.tscOffset
	c.r[RAX], c.r[RDX] = tsc&0xffffffff, tsc>>32
	if in.sub == 1 {
		c.r[RCX] = uint64(c.id)
	}
}
