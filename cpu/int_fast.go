package cpu

// The block optimizer. A decoded block is kept twice: as decoded ("raw", which the exact
// execution paths use: a run cut short by the instruction budget, and single-stepping) and
// rewritten for speed, in three steps done once per block:
//
//  1. specialize: the common operand shapes get fast ops with no operand decoding at run
//     time (register-register and register-immediate ALU at 32 and 64 bits, loads and
//     stores with a plain [base + index*scale + disp] address, LEA, PUSH/POP of a register);
//  2. dead flags: an instruction whose flags are all overwritten before anything reads them
//     does not record them (the flags of a block are live at its end, and before any
//     instruction that can fault, so every state a trap can show is exact);
//  3. fusion: CMP or TEST followed by a Jcc become one op; a register MOV followed by a
//     register ALU op or shift that overwrites the MOV's destination becomes one
//     three-operand op (x86 being two-operand, compilers emit that pair for d = s op x).
//
// The rewritten instructions keep their position, length and offset, so RIP and the
// instruction count are the same as for the raw ones.

// Hints (inst.hint).
const (
	hFlagsDead = 1 << iota // do not record the flags: they are dead
)

// optimize returns the instructions of a block rewritten for speed.
func optimize(raw []inst) []inst {
	out := make([]inst, len(raw))
	optimizeInto(out, raw)
	return out
}

// optimizeInto writes the instructions of a block, raw, rewritten for speed into out, which
// has the same length.
func optimizeInto(out, raw []inst) {
	copy(out, raw)
	for i := range out {
		specialize(&out[i])
	}
	markDeadFlags(out)
	hoistToMove(out)
	fuseBranch(out)
	fuseMove(out)
}

// fastEA reports whether in's memory operand is [base + index*scale + disp] with no segment
// override and 64-bit addressing, which the fast ops compute without decoding.
func fastEA(in *inst) bool {
	return in.seg == segNone && in.form&fAddr32 == 0 &&
		(in.base < 16 || in.base == noReg || in.base == baseRIP) && (in.index < 16 || in.index == noReg)
}

// toFastMem gives in the fast memory op op. A RIP-relative displacement becomes relative to
// the block start, which the fast ops read from regBlock.
//
// Preconditions: fastEA(in).
func toFastMem(in *inst, op uint16) {
	in.op = op
	if in.base == baseRIP {
		in.disp += int64(in.off) + int64(in.len)
	}
}

// wideReg reports whether in works on 32- or 64-bit registers (not AH..BH).
func wideReg(in *inst) bool { return (in.size == 4 || in.size == 8) && in.dst < 16 }

// Fast ALU ops by operation, for size 8 (size 4 is the next op).
var aluRR = [8]uint16{aluAdd: opAdd64RR, aluSub: opSub64RR, aluAnd: opAnd64RR, aluOr: opOr64RR,
	aluXor: opXor64RR, aluCmp: opCmp64RR}
var aluRI = [8]uint16{aluAdd: opAdd64RI, aluSub: opSub64RI, aluAnd: opAnd64RI, aluOr: opOr64RI,
	aluXor: opXor64RI, aluCmp: opCmp64RI}

// specialize replaces in's op by a fast one when its operands have a common shape.
func specialize(in *inst) {
	narrow := uint16(0) // 1 selects the 32-bit variant of a 64/32 pair
	if in.size == 4 {
		narrow = 1
	}
	regSrc := in.form&(fSrcImm|fSrcMem|fSrcCL) == 0 && in.src < 16
	imm := in.form&fSrcImm != 0
	switch in.op {
	case opMov:
		switch {
		case in.form&fDstMem == 0 && wideReg(in):
			switch {
			case regSrc:
				in.op = opMovRR64 + narrow
			case imm:
				in.op, in.imm = opMovRI, in.imm&sizeMask[in.size]
			case in.form&fSrcMem != 0 && fastEA(in):
				toFastMem(in, opLoad64+narrow)
			}
		case in.form&fDstMem != 0 && (in.size == 4 || in.size == 8) && fastEA(in):
			if imm {
				toFastMem(in, opStoreI64+narrow)
			} else if in.src < 16 {
				toFastMem(in, opStore64+narrow)
			}
		case in.form&fDstMem != 0 && in.size == 1 && fastEA(in):
			if imm {
				toFastMem(in, opStoreI8)
			} else if in.src < 16 {
				toFastMem(in, opStore8)
			}
		}
	case opImul2:
		if wideReg(in) && regSrc {
			in.op = opImulRR
		}
	case opImul3:
		if wideReg(in) && in.form&fSrcMem == 0 && in.src < 16 {
			in.op, in.imm = opImulRRI, in.imm&sizeMask[in.size]
		}
	case opMovzx, opMovsx:
		if in.form&fSrcMem == 0 && wideReg(in) && in.src < 16 {
			if in.op == opMovsx {
				in.op = opMovsxRR
			} else {
				in.op = opMovzxRR
			}
			return
		}
		if in.form&fSrcMem == 0 || !wideReg(in) || !fastEA(in) {
			return
		}
		switch {
		case in.op == opMovzx && in.ssize == 1:
			toFastMem(in, opLoadZx8)
		case in.op == opMovzx && in.ssize == 2:
			toFastMem(in, opLoadZx16)
		case in.op == opMovsx && in.ssize == 4 && in.size == 8:
			toFastMem(in, opLoadSx32)
		case in.op == opMovsx && (in.ssize == 1 || in.ssize == 2):
			toFastMem(in, opLoadSx)
		}
	case opLea:
		if wideReg(in) && fastEA(in) {
			toFastMem(in, opLea64+narrow)
		}
	case opALU:
		if in.form&fDstMem != 0 && fastEA(in) && in.form&fLock == 0 && in.sub != aluAdc && in.sub != aluSbb {
			switch {
			case in.sub == aluCmp && imm:
				toFastMem(in, opCmpMI)
				in.imm &= sizeMask[in.size]
			case in.sub == aluCmp && regSrc:
				toFastMem(in, opCmpMR)
			case imm || regSrc:
				toFastMem(in, opAluMR)
				in.imm &= sizeMask[in.size]
			}
			return
		}
		if (in.size == 1 || in.size == 2) && in.dst < 16 && in.form&fDstMem == 0 && imm && in.sub == aluCmp {
			in.op, in.imm = opCmpRIn, in.imm&sizeMask[in.size]
			return
		}
		if (in.size == 1 || in.size == 2) && in.dst < 16 && in.form&fDstMem == 0 &&
			(regSrc || imm || in.form&fSrcMem != 0 && fastEA(in)) {
			toFastMem(in, opAluRn)
			in.imm &= sizeMask[in.size]
			return
		}
		if !wideReg(in) || in.form&fDstMem != 0 {
			return
		}
		if in.sub == aluAdc || in.sub == aluSbb {
			return
		}
		switch {
		case regSrc:
			in.op = aluRR[in.sub] + narrow
		case imm:
			in.op, in.imm = aluRI[in.sub]+narrow, in.imm&sizeMask[in.size]
		case in.form&fSrcMem != 0 && fastEA(in):
			toFastMem(in, opAluRM)
		}
	case opTest:
		if in.form&fDstMem != 0 && imm && fastEA(in) {
			toFastMem(in, opTestMI)
			in.imm &= sizeMask[in.size]
			return
		}
		if (in.size == 1 || in.size == 2) && in.dst < 16 && in.form&fDstMem == 0 && imm {
			in.op, in.imm = opTestRIn, in.imm&sizeMask[in.size]
			return
		}
		if !wideReg(in) || in.form&fDstMem != 0 {
			return
		}
		switch {
		case regSrc:
			in.op = opTest64RR + narrow
		case imm:
			in.op, in.imm = opTest64RI+narrow, in.imm&sizeMask[in.size]
		}
	case opShift:
		if (in.size == 1 || in.size == 2) && in.dst < 16 && in.form&(fDstMem|fSrcCL) == 0 && in.imm&31 != 0 &&
			(in.sub == shShl || in.sub == shSal || in.sub == shShr || in.sub == shSar) {
			in.op = opShiftRIn
			return
		}
		if wideReg(in) && in.form&fDstMem == 0 && in.form&fSrcCL != 0 &&
			(in.sub == shShl || in.sub == shSal || in.sub == shShr || in.sub == shSar) {
			in.op = opShiftCL
			return
		}
		if !wideReg(in) || in.form&(fDstMem|fSrcCL) != 0 {
			return
		}
		n := in.imm & 31
		if in.size == 8 {
			n = in.imm & 63
		}
		if n == 0 {
			return
		}
		switch in.sub {
		case shShl, shSal:
			in.op = opShl64RI + narrow
		case shShr:
			in.op = opShr64RI + narrow
		case shSar:
			in.op = opSar64RI + narrow
		case shRol:
			in.op = opRolRI
		case shRor:
			in.op = opRorRI
			n = uint64(in.size)*8 - n // the same rotation to the left (the raw instruction keeps its count)
		default:
			return
		}
		in.imm = n
	case opInc, opDec:
		if wideReg(in) && in.form&fDstMem == 0 {
			if in.op == opInc {
				in.op = opInc64 + narrow
			} else {
				in.op = opDec64 + narrow
			}
		}
	case opSetcc:
		if in.form&fDstMem == 0 && in.dst < 16 {
			in.op = opSetccR
		}
	case opNot:
		if in.dst < 16 && in.form&fDstMem == 0 {
			in.op = opNotR
		}
	case opNeg:
		if wideReg(in) && in.form&fDstMem == 0 {
			in.op = opNegR
		} else if in.dst < 16 && in.form&fDstMem == 0 {
			in.op = opNegRn
		}
	case opCmovcc:
		if wideReg(in) && regSrc {
			in.op = opCmovRR
		}
	case opPush:
		if in.size == 8 && regSrc {
			in.op = opPushR
		}
	case opPop:
		if in.size == 8 && in.form&fDstMem == 0 && in.dst < 16 {
			in.op = opPopR
		}
	case opString:
		if in.form&(fRep|fRepNE|fAddr32|fLock) == 0 && in.seg == segNone {
			switch in.sub {
			case strMovs:
				in.op = opMovsR
			case strStos:
				in.op = opStosR
			}
		} else if in.form&(fRep|fLock) == fRep && (in.sub == strMovs || in.sub == strStos) {
			in.op = opRepMS
		}
	default:
		if in.op == opBswap && wideReg(in) && in.form&fDstMem == 0 {
			in.op = opBswapR
		} else if in.op >= opCold {
			hotSSE(in)
		}
	}
}

// Flag effects of an instruction, for the liveness analysis.
const (
	flNone    = 0
	flWrite   = 1 << iota // changes arithmetic flags
	flPartial             // keeps some of them (its flag output depends on the flags before)
	flRead                // something other than its flag output depends on the flags
)

// flagEffect classifies in's use of the arithmetic flags. Anything it does not know reads
// and partially writes them.
func flagEffect(in *inst) int {
	switch in.op {
	case opNop, opMov, opMovzx, opMovsx, opLea, opNot, opPush, opPop, opXchg, opCvt, opLeave,
		opCall, opCallInd, opJmp, opJmpInd, opRet,
		opMovRR64, opMovRR32, opMovRI, opLea64, opLea32, opLoad64, opLoad32, opLoadZx8,
		opLoadZx16, opLoadSx32, opStore64, opStore32, opStoreI64, opStoreI32, opStore8, opStoreI8,
		opPushR, opPopR, opXmmMov, opXmmMovLo, opXmmLoad, opXmmStore, opXmmInt, opXmmFP,
		opMovzxRR, opMovsxRR, opXmmA, opXmmMovmsk, opXmmCvtPS2DQ, opMovsR, opStosR, opRepMS, opBswapR, opNotR:
		return flNone
	case opShiftRIn, opNegRn:
		return flWrite
	case opAluRn:
		if in.sub == aluAdc || in.sub == aluSbb {
			return flWrite | flRead
		}
		return flWrite
	case opXmmComi:
		return flWrite
	case opSetccR, opCmovRR:
		return flRead
	case opLoadSx:
		return flNone
	case opNegR, opTestMI:
		return flWrite
	case opShiftCL:
		return flWrite | flPartial
	case opTestRIn, opCmpRIn, opCmpMR, opAluMR:
		return flWrite
	case opRolRI, opRorRI:
		return flWrite | flPartial
	case opALU:
		if in.sub == aluAdc || in.sub == aluSbb {
			return flWrite | flRead
		}
		return flWrite
	case opTest, opNeg, opImul2, opImul3,
		opAdd64RR, opAdd32RR, opSub64RR, opSub32RR, opAnd64RR, opAnd32RR, opOr64RR, opOr32RR,
		opXor64RR, opXor32RR, opCmp64RR, opCmp32RR, opTest64RR, opTest32RR,
		opAdd64RI, opAdd32RI, opSub64RI, opSub32RI, opAnd64RI, opAnd32RI, opOr64RI, opOr32RI,
		opXor64RI, opXor32RI, opCmp64RI, opCmp32RI, opTest64RI, opTest32RI,
		opShl64RI, opShl32RI, opShr64RI, opShr32RI, opSar64RI, opSar32RI, opAluRM, opCmpMI,
		opImulRR, opImulRRI:
		return flWrite
	case opInc, opDec, opInc64, opInc32, opDec64, opDec32:
		return flWrite | flPartial
	case opShift:
		n := in.imm & 31
		if in.size == 8 {
			n = in.imm & 63
		}
		switch {
		case in.form&fSrcCL == 0 && n == 0:
			return flNone
		case in.sub == shRcl || in.sub == shRcr:
			return flWrite | flPartial | flRead
		case in.form&fSrcCL != 0 || in.sub == shRol || in.sub == shRor:
			return flWrite | flPartial
		}
		return flWrite
	case opMulDiv:
		if in.sub == mdMul || in.sub == mdImul {
			return flWrite
		}
		return flWrite | flPartial
	}
	return flWrite | flPartial | flRead
}

// mayFault reports whether in can raise an exception (or trap, or end the run), so the
// flags before it must be exact.
func mayFault(in *inst) bool {
	if in.form&(fDstMem|fSrcMem) != 0 {
		return true
	}
	switch in.op {
	case opPush, opPop, opCall, opCallInd, opRet, opLeave, opMulDiv, opUD, opPriv, opSyscall,
		opInt3, opPushR, opPopR, opXmmFP, opXmmA, opXmmComi, opXmmCvtPS2DQ, opMovsR, opStosR, opRepMS,
		opX87Fast:
		return true
	}
	return in.op >= opCold
}

// skippable lists the fast ops that honour hFlagsDead.
func skippable(op uint16) bool {
	return op >= opAdd64RR && op <= opDec32 || op == opImulRR || op == opImulRRI ||
		op == opTestRIn || op == opCmpRIn || op == opRolRI || op == opRorRI || op == opShiftCL || op == opNegR
}

// markDeadFlags sets hFlagsDead on the fast ops whose flags are overwritten, within the
// block, before anything reads them or anything can fault.
func markDeadFlags(insts []inst) {
	live := true // after the block, anything may read them
	for i := len(insts) - 1; i >= 0; i-- {
		in := &insts[i]
		eff := flagEffect(in)
		dead := eff&flWrite != 0 && !live && skippable(in.op)
		if dead {
			in.hint |= hFlagsDead
		}
		switch {
		case eff&flRead != 0 || mayFault(in):
			live = true
		case dead:
			live = false // it touches no flags now
		case eff&flWrite != 0 && eff&flPartial == 0:
			live = false
		}
	}
}

// fuseBranch fuses each CMP or TEST (register-register or register-immediate) with the
// Jcc that follows it: the fused op compares, records the flags and branches (or goes on
// after the Jcc).
func fuseBranch(insts []inst) {
	for j := 1; j < len(insts); j++ {
		if insts[j].op != opJcc {
			continue
		}
		in := &insts[j-1]
		cc := insts[j].sub
		switch in.op {
		case opCmp64RR, opCmp32RR:
			in.op, in.sub = opCmpJccRR, cc
		case opCmp64RI, opCmp32RI:
			in.op, in.sub = opCmpJccRI, cc
		case opTest64RR, opTest32RR:
			in.op, in.sub = opTestJccRR, cc
		case opTest64RI, opTest32RI, opTestRIn:
			in.op, in.sub = opTestJccRI, cc
		case opCmpRIn:
			in.op, in.sub = opCmpJccRI, cc
		}
	}
}

// fusedOp maps each fast register ALU op or shift that writes its destination and reads
// its first operand from inst.base (opAdd64RR .. opSar32RI, CMP and TEST aside) to its
// fused form; 0 for any other op.
var fusedOp = [opLimit]uint16{
	opAdd64RR: opAdd64F, opAdd64RI: opAdd64F, opAdd32RR: opAdd32F, opAdd32RI: opAdd32F,
	opSub64RR: opSub64F, opSub64RI: opSub64F, opSub32RR: opSub32F, opSub32RI: opSub32F,
	opAnd64RR: opAnd64F, opAnd64RI: opAnd64F, opAnd32RR: opAnd32F, opAnd32RI: opAnd32F,
	opOr64RR: opOr64F, opOr64RI: opOr64F, opOr32RR: opOr32F, opOr32RI: opOr32F,
	opXor64RR: opXor64F, opXor64RI: opXor64F, opXor32RR: opXor32F, opXor32RI: opXor32F,
	opShl64RI: opShl64F, opShl32RI: opShl32F, opShr64RI: opShr64F, opShr32RI: opShr32F,
	opSar64RI: opSar64F, opSar32RI: opSar32F, opRolRI: opRolF, opRorRI: opRolF,
}

func writesALU(op uint16) bool { return fusedOp[op&(opLimit-1)] != 0 }

// fuseMove fuses MOV d, s (register to register) with the ALU op or shift after it when that
// op's destination is d: the op, at the MOV's slot, reads its first operand from s
// (inst.base), and its fused form (fusedOp) skips its own slot. A 32-bit MOV zero-extends, so it fuses
// only with a 32-bit op, which reads the low half alone. Neither instruction can fault, so
// no trap can land between them; the budget and single-stepping run the raw instructions.
//
// The ALU ops read their first operand from base, which optimize sets to dst for the
// ones left alone.
func fuseMove(insts []inst) {
	for j := range insts {
		if writesALU(insts[j].op) {
			insts[j].base = insts[j].dst
		}
	}
	for j := 0; j+1 < len(insts); j++ {
		mv, op := &insts[j], &insts[j+1]
		if mv.op != opMovRR64 && mv.op != opMovRR32 || !writesALU(op.op) || op.dst != mv.dst ||
			mv.op == opMovRR32 && op.size != 4 ||
			(op.op == opRolRI || op.op == opRorRI) && op.hint&hFlagsDead == 0 {
			continue // (a rotate with live flags runs its raw instruction: it cannot fuse)
		}
		f := *op
		f.off, f.len = mv.off, mv.len
		f.base = mv.src & 15
		if f.form&fSrcImm == 0 && f.src == mv.dst {
			f.src = mv.src // the op's source is the register the MOV just wrote
		}
		f.op = fusedOp[op.op]
		*mv = f
		j++
	}
}

// regUse returns the general registers (a bit per register) the fast register op in reads
// and writes, and false for any op that may not be moved across (hoistToMove): one that can
// fault, branch, read the flags, or touch anything but registers and the flags.
func regUse(in *inst) (reads, writes uint32, ok bool) {
	bit := func(r uint8) uint32 {
		if r < 16 {
			return 1 << r
		}
		return 0 // noReg, baseRIP (the block start, which no instruction writes)
	}
	d, s := bit(in.dst), bit(in.src)
	switch in.op {
	case opMovRR64, opMovRR32, opMovzxRR, opMovsxRR:
		return s, d, true
	case opMovRI:
		return 0, d, true
	case opLea64, opLea32:
		return bit(in.base) | bit(in.index), d, true
	case opAdd64RR, opAdd32RR, opSub64RR, opSub32RR, opAnd64RR, opAnd32RR, opOr64RR, opOr32RR,
		opXor64RR, opXor32RR, opImulRR:
		return d | s, d, true
	case opCmp64RR, opCmp32RR, opTest64RR, opTest32RR:
		return d | s, 0, true
	case opAdd64RI, opAdd32RI, opSub64RI, opSub32RI, opAnd64RI, opAnd32RI, opOr64RI, opOr32RI,
		opXor64RI, opXor32RI, opShl64RI, opShl32RI, opShr64RI, opShr32RI, opSar64RI, opSar32RI,
		opRolRI, opRorRI, opInc64, opInc32, opDec64, opDec32, opNegR, opBswapR:
		return d, d, true
	case opNotR:
		if in.size < 4 {
			return 0, 0, false // (a byte or word NOT keeps the rest of the register: keep it simple)
		}
		return d, d, true
	case opCmp64RI, opCmp32RI, opTest64RI, opTest32RI:
		return d, 0, true
	case opImulRRI:
		return s, d, true
	}
	return 0, 0, false
}

// hoistWindow bounds how far hoistToMove looks past a MOV.
const hoistWindow = 16

// hoistToMove moves, for each register MOV d, s, the first later ALU op or shift that
// overwrites d (op d, x) up to just after it, where fuseMove makes the pair one op.
// Compilers often put other work between the two; the op may move over it when nothing
// there can fault, branch or read the flags (so no state in between can be shown: the
// budget and single-stepping run the instructions as decoded), nothing there reads or
// writes d or writes s or x, and either the op's flags are dead (it records none) or the
// instructions it passes record no flags (any flag writer there is dead, being followed by
// the op, which writes them all, with no reader or fault in between). The instructions keep their offsets, so a slot
// still stands for one instruction in the count.
func hoistToMove(insts []inst) {
	for j := 0; j+2 < len(insts); j++ {
		mv := &insts[j]
		if mv.op != opMovRR64 && mv.op != opMovRR32 || writesALU(insts[j+1].op) && insts[j+1].dst == mv.dst {
			continue // not a MOV, or one fuseMove fuses as it is
		}
		d, s := uint32(1)<<(mv.dst&15), uint32(1)<<(mv.src&15)
		flagsPassed := false
		for k := j + 1; k < len(insts) && k <= j+hoistWindow; k++ {
			op := &insts[k]
			r, w, ok := regUse(op)
			if !ok {
				break
			}
			if writesALU(op.op) && op.dst == mv.dst {
				if k == j+1 || mv.op == opMovRR32 && op.size != 4 ||
					op.hint&hFlagsDead == 0 && (flagsPassed || op.op == opRolRI || op.op == opRorRI) {
					break
				}
				var x uint32
				if op.form&fSrcImm == 0 {
					x = uint32(1) << (op.src & 15)
				}
				if !hoistable(insts[j+1:k], d, s|x) {
					break
				}
				h := *op
				copy(insts[j+2:k+1], insts[j+1:k])
				insts[j+1] = h
				j++ // the pair
				break
			}
			if (r|w)&d != 0 {
				break // the op after the MOV that uses d is not one that overwrites it
			}
			if flagEffect(op) != flNone && op.hint&hFlagsDead == 0 {
				flagsPassed = true // (not seen: what lies before a flag writer records none)
			}
		}
	}
}

// hoistable reports whether an op that writes d and reads the registers in rd may move
// up over insts: none of them reads or writes d, or writes any register of rd.
func hoistable(insts []inst, d, rd uint32) bool {
	for i := range insts {
		r, w, _ := regUse(&insts[i])
		if (r|w)&d != 0 || w&rd != 0 {
			return false
		}
	}
	return true
}
