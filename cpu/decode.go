package cpu

import (
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// inst is one decoded instruction in the CPU's compact internal form. Decoding happens once
// per instruction per physical address; execution reads only these fields.
type inst struct {
	op    uint16 // handler (op* constants)
	sub   uint8  // sub-operation: ALU operation, shift kind, condition code, ...
	size  uint8  // operand size in bytes (1, 2, 4, 8)
	ssize uint8  // source operand size (movzx, movsx, movsxd)
	dst   uint8  // destination register (0-15; 16-19 are AH, CH, DH, BH)
	src   uint8  // source register
	form  uint8  // f* bits: where the operands are
	len   uint8  // instruction length in bytes
	base  uint8  // memory operand: base register, noReg or baseRIP
	index uint8  // memory operand: index register or noReg
	scale uint8  // memory operand: log2 of the scale
	seg   uint8  // memory operand: segNone, segFS, segGS
	off   uint16 // offset of the instruction from the start of its block
	hint  uint8  // h* bits: what the block optimizer learned
	// hot and hotSub are, for an SSE instruction with a fast form, that form's op and sub,
	// chosen at decode time (sse_hot.go sseHotForm) and given to the optimized copy by
	// hotSSE; hot is 0 otherwise.
	hot    uint16
	hotSub uint8
	disp   int64  // memory operand displacement
	imm    uint64 // immediate, sign-extended; for branches, the target's offset from the block start
}

// udNamed is opUD's sub for an instruction x86asm decoded but the CPU does not implement:
// the #UD names it, decoding its bytes again (raiseUD).
const udNamed = 1

// Operand forms.
const (
	fDstMem = 1 << iota // the first operand is memory (else a register)
	fSrcMem             // the second operand is memory
	fSrcImm             // the second operand is an immediate
	fSrcCL              // the count is CL (shifts)
	fAddr32             // 32-bit address size
	fLock               // LOCK prefix
	fRep                // REP/REPE prefix
	fRepNE              // REPNE prefix
)

const (
	noReg   = 0xff
	baseRIP = 0xfe

	segNone = 0
	segFS   = 1
	segGS   = 2
)

// Handlers. The hot ones are dispatched by the switch in exec.go; ops at or above opCold go
// through the coldOps table, so families of rarer instructions can live in files of their own.
const (
	opUD uint16 = iota // raise #UD (undecodable or unimplemented); sub udNamed: x86asm named it
	opNop
	opMov    // dst <- src (reg/mem <- reg/mem/imm)
	opMovzx  // dst <- zero-extend(src of ssize)
	opMovsx  // dst <- sign-extend(src of ssize)
	opLea    // dst <- effective address
	opALU    // sub = aluAdd..aluCmp: dst <- dst op src, flags
	opTest   // flags of dst & src
	opInc    // dst++
	opDec    // dst--
	opNeg    // dst = -dst
	opNot    // dst = ^dst
	opShift  // sub = shRol..shSar
	opImul2  // dst <- dst * src (signed, truncated)
	opImul3  // dst <- src * imm
	opMulDiv // sub = mdMul, mdImul, mdDiv, mdIdiv: one operand, RDX:RAX
	opPush   // push src (reg/mem/imm)
	opPop    // pop into dst (reg/mem)
	opCall   // call rel (imm = target offset)
	opCallInd
	opRet // ret, imm = bytes to pop
	opJmp
	opJmpInd
	opJcc // sub = condition
	opSetcc
	opCmovcc
	opXchg
	opCvt // sub = cvCbw..cvCqo
	opLeave
	opSyscall
	opInt3
	opPriv // a privileged instruction at CPL 3: #GP(0)
	opFlag // sub = flClc..flStd

	// Fast forms, which only the block optimizer (int_fast.go) produces, for the operand
	// shapes compiled code uses most: 32- and 64-bit registers, immediates, and memory
	// operands [base + index*scale + disp] (or RIP-relative) without segment override or
	// 32-bit addressing. Their disp already includes the RIP-relative adjustment.
	opMovRR64 // dst <- src
	opMovRR32 // dst <- zero-extend(src32)
	opMovRI   // dst <- imm (the full 64-bit register value)
	opLea64   // dst <- EA
	opLea32   // dst <- zero-extend(EA32)
	opLoad64  // dst <- [EA]
	opLoad32
	opLoadZx8  // dst(32/64) <- zero-extend(byte [EA])
	opLoadZx16 // dst(32/64) <- zero-extend(word [EA])
	opLoadSx32 // dst64 <- sign-extend(dword [EA])
	opStore64  // [EA] <- src
	opStore32
	opStoreI64 // [EA] <- imm
	opStoreI32
	opStore8  // [EA] <- low byte of src (not AH..BH)
	opStoreI8 // [EA] <- imm8
	opAdd64RR // dst op= src, with the flags unless hint says they are dead
	opAdd32RR
	opSub64RR
	opSub32RR
	opAnd64RR
	opAnd32RR
	opOr64RR
	opOr32RR
	opXor64RR
	opXor32RR
	opCmp64RR
	opCmp32RR
	opTest64RR
	opTest32RR
	opAdd64RI // dst op= imm
	opAdd32RI
	opSub64RI
	opSub32RI
	opAnd64RI
	opAnd32RI
	opOr64RI
	opOr32RI
	opXor64RI
	opXor32RI
	opCmp64RI
	opCmp32RI
	opTest64RI
	opTest32RI
	opShl64RI
	opShl32RI
	opShr64RI
	opShr32RI
	opSar64RI
	opSar32RI
	opInc64
	opInc32
	opDec64
	opDec32
	// The ALU ops and shifts above with a register MOV fused in front (int_fast.go fuseMove):
	// one op does both instructions and skips the next slot.
	opAdd64F
	opAdd32F
	opSub64F
	opSub32F
	opAnd64F
	opAnd32F
	opOr64F
	opOr32F
	opXor64F
	opXor32F
	opShl64F
	opShl32F
	opShr64F
	opShr32F
	opSar64F
	opSar32F
	opRolF     // ROL or ROR (a left count), its flags dead
	opImulRR   // dst <- dst * src (signed), size 4 or 8
	opImulRRI  // dst <- src * imm (signed), size 4 or 8
	opAluRM    // dst op= [EA], sub = ALU operation, size 4 or 8
	opCmpMI    // cmp [EA], imm (any size)
	opPushR    // push a 64-bit register
	opPopR     // pop a 64-bit register
	opCmpJccRR // cmp dst, src; jcc (the jcc follows; sub is its condition)
	opCmpJccRI
	opTestJccRR
	opTestJccRI
	opXmmMov      // XMM[dst] <- XMM[src] (sse_hot.go)
	opXmmMovLo    // low quadword of XMM[dst] <- that of XMM[src] (MOVSD xmm, xmm)
	opXmmLoad     // XMM[dst] <- memory (sub: xl*)
	opXmmStore    // memory <- XMM[src] (sub: xl*)
	opXmmInt      // XMM[dst] op= source, bitwise or 64-bit lanes (sub: xi*)
	opXmmFP       // floating-point arithmetic (sub: fpOp | xf* kind)
	opTestRIn     // test r8/r16, imm (not AH..BH)
	opCmpRIn      // cmp r8/r16, imm (not AH..BH)
	opRolRI       // rol r32/r64, imm (count not zero); flags only through the raw instruction
	opRorRI       // ror r32/r64, imm: imm is the equivalent left count
	opMovzxRR     // dst(32/64) <- zero-extend(src of ssize)
	opMovsxRR     // dst(32/64) <- sign-extend(src of ssize)
	opSetccR      // low byte of dst <- condition sub (not AH..BH)
	opCmpMR       // cmp [EA], src (any size; src not AH..BH)
	opAluMR       // [EA] op= src or imm (sub: add, sub, and, or, xor; any size)
	opXmmA        // any other shape-A SSE instruction: its table function, called directly
	opXmmMovmsk   // PMOVMSKB r32, xmm
	opXmmComi     // COMISD, UCOMISD, COMISS, UCOMISS (sub: xc* bits)
	opXmmCvtPS2DQ // CVTPS2DQ (sub 0) and CVTTPS2DQ (sub 1)
	opShiftCL     // shl/shr/sar r32/r64, cl (sub: the shift)
	opNegR        // neg r32/r64
	opCmovRR      // cmovcc r32/r64, r32/r64 (sub: the condition)
	opLoadSx      // dst(32/64) <- sign-extend(ssize bytes at [EA]), ssize 1 or 2
	opTestMI      // test [EA], imm (any size)
	opMovsR       // MOVS without REP, 64-bit addresses, no segment override
	opStosR       // STOS without REP, 64-bit addresses
	opRepMS       // REP MOVS or REP STOS: nothing when the count is zero, else the instruction as decoded
	opAluRn       // dst(r8/r16, not AH..BH) op= register, immediate or [EA] (sub: any ALU operation)
	opShiftRIn    // shl/shr/sar r8/r16, imm (count & 31 not zero; sub: the shift)
	opNegRn       // neg r8/r16 (not AH..BH)
	opBswapR      // bswap r32/r64
	opX87Fast     // an x87 instruction with a fast form (x87_fast.go; raw keeps the cold op)
	opNotR        // not r8/r16/r32/r64 (not AH..BH)

	opCold  // first cold op; ops >= opCold dispatch through coldOps
	opLimit = 512
)

// ALU operations, in the encoding order of the 00-3F opcodes.
const (
	aluAdd = iota
	aluOr
	aluAdc
	aluSbb
	aluAnd
	aluSub
	aluXor
	aluCmp
)

// Shift and rotate operations, in the encoding order of the C0/D0 group's reg field.
const (
	shRol = iota
	shRor
	shRcl
	shRcr
	shShl
	shShr
	shSal
	shSar
)

// One-operand multiply and divide.
const (
	mdMul = iota
	mdImul
	mdDiv
	mdIdiv
)

// Sign-extension instructions.
const (
	cvCbw  = iota // AX <- sign-extend(AL)
	cvCwde        // EAX <- sign-extend(AX)
	cvCdqe        // RAX <- sign-extend(EAX)
	cvCwd         // DX:AX <- sign-extend(AX)
	cvCdq         // EDX:EAX <- sign-extend(EAX)
	cvCqo         // RDX:RAX <- sign-extend(RAX)
)

// Flag instructions.
const (
	flClc = iota
	flStc
	flCmc
	flCld
	flStd
)

// coldHandler executes a rarely used instruction. It may raise exceptions.
type coldHandler func(c *CPU, in *inst)

// coldDecoder fills in for an x86asm instruction whose Op it registered; it returns false if
// the operand form is not one it implements.
type coldDecoder func(in *inst, x *x86asm.Inst) bool

var (
	coldOps      [opLimit]coldHandler
	coldDecoders [opTableSize]coldDecoder // by x86asm.Op; nil: not registered
	nextColdOp   = opCold
)

// opTableSize bounds the x86asm.Op values the decoder tables index (x86asm has fewer than
// 700). The tables are arrays, not maps, so that starting emu builds no hash tables; a
// registration with a constant op beyond the bound does not compile.
const opTableSize = 1024

// registerCold allocates a cold op number for h. Families of instructions call it from init.
func registerCold(h coldHandler) uint16 {
	if nextColdOp >= opLimit {
		panic("cpu: too many cold ops")
	}
	op := nextColdOp
	coldOps[op] = h
	nextColdOp++
	return op
}

// regInfo maps an x86asm register to (number, size in bytes). AH..BH are 16..19.
func regInfo(r x86asm.Reg) (uint8, uint8, bool) {
	switch {
	case r >= x86asm.AL && r <= x86asm.BL:
		return uint8(r - x86asm.AL), 1, true
	case r >= x86asm.AH && r <= x86asm.BH:
		return 16 + uint8(r-x86asm.AH), 1, true
	case r >= x86asm.SPB && r <= x86asm.R15B:
		return 4 + uint8(r-x86asm.SPB), 1, true
	case r >= x86asm.AX && r <= x86asm.R15W:
		return uint8(r - x86asm.AX), 2, true
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return uint8(r - x86asm.EAX), 4, true
	case r >= x86asm.RAX && r <= x86asm.R15:
		return uint8(r - x86asm.RAX), 8, true
	}
	return 0, 0, false
}

// setMem fills the memory-operand fields from m. It returns false for forms the CPU does
// not model (16-bit addressing, segment registers other than FS and GS as bases).
func (in *inst) setMem(m x86asm.Mem, x *x86asm.Inst) bool {
	in.base, in.index, in.scale, in.disp = noReg, noReg, 0, m.Disp
	switch m.Segment {
	case 0, x86asm.ES, x86asm.CS, x86asm.SS, x86asm.DS: // flat in 64-bit mode
	case x86asm.FS:
		in.seg = segFS
	case x86asm.GS:
		in.seg = segGS
	default:
		return false
	}
	switch x.AddrSize {
	case 32:
		in.form |= fAddr32
	case 64:
	case 0: // x86asm leaves it unset for VEX instructions
		for _, p := range x.Prefix {
			if p&0xff == x86asm.PrefixAddrSize {
				in.form |= fAddr32
			}
		}
	default:
		return false
	}
	switch m.Base {
	case 0:
	case x86asm.RIP, x86asm.EIP:
		in.base = baseRIP
	default:
		n, sz, ok := regInfo(m.Base)
		if !ok || sz < 4 {
			return false
		}
		in.base = n
	}
	if m.Index != 0 {
		n, sz, ok := regInfo(m.Index)
		if !ok || sz < 4 {
			return false
		}
		in.index = n
		switch m.Scale {
		case 1:
			in.scale = 0
		case 2:
			in.scale = 1
		case 4:
			in.scale = 2
		case 8:
			in.scale = 3
		default:
			return false
		}
	}
	return true
}

// setDst sets the first operand (register or memory) and the operand size.
func (in *inst) setDst(a x86asm.Arg, x *x86asm.Inst) bool {
	switch a := a.(type) {
	case x86asm.Reg:
		n, sz, ok := regInfo(a)
		if !ok {
			return false
		}
		in.dst, in.size = n, sz
		return true
	case x86asm.Mem:
		in.form |= fDstMem
		in.size = uint8(x.MemBytes)
		return in.setMem(a, x)
	}
	return false
}

// setSrc sets the second operand (register, memory or immediate). A memory source takes
// its size from the instruction unless a size was already set.
func (in *inst) setSrc(a x86asm.Arg, x *x86asm.Inst) bool {
	switch a := a.(type) {
	case x86asm.Reg:
		n, sz, ok := regInfo(a)
		if !ok {
			return false
		}
		in.src = n
		if in.size == 0 {
			in.size = sz
		}
		return true
	case x86asm.Mem:
		if in.form&fDstMem != 0 {
			return false
		}
		in.form |= fSrcMem
		if in.size == 0 {
			in.size = uint8(x.MemBytes)
		}
		return in.setMem(a, x)
	case x86asm.Imm:
		in.form |= fSrcImm
		in.imm = uint64(a)
		return true
	}
	return false
}

// Condition-code instructions, by condition (the low nibble of their opcodes).
var jccOps, setOps, cmovOps = map[x86asm.Op]uint8{}, map[x86asm.Op]uint8{}, map[x86asm.Op]uint8{}

func init() {
	for i, ops := range [16][3]x86asm.Op{
		{x86asm.JO, x86asm.SETO, x86asm.CMOVO}, {x86asm.JNO, x86asm.SETNO, x86asm.CMOVNO},
		{x86asm.JB, x86asm.SETB, x86asm.CMOVB}, {x86asm.JAE, x86asm.SETAE, x86asm.CMOVAE},
		{x86asm.JE, x86asm.SETE, x86asm.CMOVE}, {x86asm.JNE, x86asm.SETNE, x86asm.CMOVNE},
		{x86asm.JBE, x86asm.SETBE, x86asm.CMOVBE}, {x86asm.JA, x86asm.SETA, x86asm.CMOVA},
		{x86asm.JS, x86asm.SETS, x86asm.CMOVS}, {x86asm.JNS, x86asm.SETNS, x86asm.CMOVNS},
		{x86asm.JP, x86asm.SETP, x86asm.CMOVP}, {x86asm.JNP, x86asm.SETNP, x86asm.CMOVNP},
		{x86asm.JL, x86asm.SETL, x86asm.CMOVL}, {x86asm.JGE, x86asm.SETGE, x86asm.CMOVGE},
		{x86asm.JLE, x86asm.SETLE, x86asm.CMOVLE}, {x86asm.JG, x86asm.SETG, x86asm.CMOVG},
	} {
		jccOps[ops[0]], setOps[ops[1]], cmovOps[ops[2]] = uint8(i), uint8(i), uint8(i)
	}
}

var aluOps = map[x86asm.Op]uint8{x86asm.ADD: aluAdd, x86asm.OR: aluOr, x86asm.ADC: aluAdc,
	x86asm.SBB: aluSbb, x86asm.AND: aluAnd, x86asm.SUB: aluSub, x86asm.XOR: aluXor, x86asm.CMP: aluCmp}

var shiftOps = map[x86asm.Op]uint8{x86asm.ROL: shRol, x86asm.ROR: shRor, x86asm.RCL: shRcl,
	x86asm.RCR: shRcr, x86asm.SHL: shShl, x86asm.SHR: shShr, x86asm.SAR: shSar}

var cvtOps = map[x86asm.Op]uint8{x86asm.CBW: cvCbw, x86asm.CWDE: cvCwde, x86asm.CDQE: cvCdqe,
	x86asm.CWD: cvCwd, x86asm.CDQ: cvCdq, x86asm.CQO: cvCqo}

var flagOps = map[x86asm.Op]uint8{x86asm.CLC: flClc, x86asm.STC: flStc, x86asm.CMC: flCmc,
	x86asm.CLD: flCld, x86asm.STD: flStd}

// privOps are the instructions that raise #GP(0) at CPL 3: the system instructions of SDM
// Vol. 3A 5.9, I/O with IOPL 0 and no I/O bitmap, and the descriptor-table stores that
// CR4.UMIP (which Linux sets) reserves for the kernel. IRET is listed because this CPU does
// not model the segment descriptors it would pop (see the package notes).
var privOps = map[x86asm.Op]bool{x86asm.HLT: true, x86asm.CLI: true, x86asm.STI: true,
	x86asm.LGDT: true, x86asm.LIDT: true, x86asm.LLDT: true, x86asm.LTR: true, x86asm.INVLPG: true,
	x86asm.WBINVD: true, x86asm.INVD: true, x86asm.RDMSR: true, x86asm.WRMSR: true,
	x86asm.SYSRET: true, x86asm.IRETQ: true, x86asm.IRETD: true, x86asm.IRET: true,
	x86asm.LMSW: true, x86asm.CLTS: true, x86asm.SWAPGS: true, x86asm.SYSEXIT: true,
	x86asm.SYSENTER: true, x86asm.RDPMC: true, x86asm.INVPCID: true,
	x86asm.SGDT: true, x86asm.SIDT: true, x86asm.SLDT: true, x86asm.SMSW: true, x86asm.STR: true,
	x86asm.IN: true, x86asm.OUT: true, x86asm.INSB: true, x86asm.INSW: true, x86asm.INSD: true,
	x86asm.OUTSB: true, x86asm.OUTSW: true, x86asm.OUTSD: true}

// translate converts x86asm instruction x to the internal form, into *in. An instruction it
// does not implement becomes opUD, which raises #UD naming the instruction when executed,
// and so does a LOCK prefix on an instruction that cannot be locked (SDM Vol. 2B, LOCK).
//
// in and x are the decoder's own (see decoder): the cold decoders are called through
// function values, so whatever they are given must already live on the heap.
func translate(in *inst, x *x86asm.Inst) {
	*in = inst{len: uint8(x.Len), base: noReg, index: noReg}
	for _, p := range x.Prefix {
		if p == 0 {
			break
		}
		if p.IsVEX() || p.IsEVEX() {
			break // the bytes after a VEX prefix are its payload, not legacy prefixes
		}
		switch p &^ (x86asm.PrefixImplicit | x86asm.PrefixIgnored | x86asm.PrefixInvalid) {
		case x86asm.PrefixLOCK:
			in.form |= fLock
		case x86asm.PrefixREP:
			in.form |= fRep
		case x86asm.PrefixREPN:
			in.form |= fRepNE
		}
	}
	if !decodeInto(in, x) || (in.form&fLock != 0 && !(lockable[x.Op] && in.form&fDstMem != 0)) {
		*in = inst{op: opUD, sub: udNamed, len: uint8(x.Len), base: noReg, index: noReg}
		return
	}
	if in.op >= opCold && in.op != opX87 {
		in.hot, in.hotSub = sseHotForm(in, x)
	}
}

// opClass is what decodeInto learns from an x86asm.Op alone: the families of the maps
// above (kind oc*) and the operation within it (sub), in one table indexed by the Op, which
// is cheaper than the map lookups it replaces (decoding CPython's code at startup is a
// large share of its run).
type opClass struct{ kind, sub uint8 }

const (
	ocNone = iota
	ocJcc
	ocSet
	ocCmov
	ocALU
	ocShift
	ocCvt
	ocFlag
	ocPriv

	opClassSize = 2048 // above the x86asm.Ops of the maps (else init panics)
)

var opClasses [opClassSize]opClass

// init fills opClasses, after the init above has filled the condition-code maps.
func init() {
	for _, f := range []struct {
		kind uint8
		m    map[x86asm.Op]uint8
	}{{ocJcc, jccOps}, {ocSet, setOps}, {ocCmov, cmovOps}, {ocALU, aluOps},
		{ocShift, shiftOps}, {ocCvt, cvtOps}, {ocFlag, flagOps}} {
		for op, sub := range f.m {
			opClasses[op] = opClass{f.kind, sub}
		}
	}
	for op := range privOps {
		opClasses[op] = opClass{kind: ocPriv}
	}
}

// lockable lists the instructions a LOCK prefix may precede, when their destination is in
// memory (SDM Vol. 2B, LOCK); LOCK anywhere else is #UD.
var lockable = map[x86asm.Op]bool{x86asm.ADD: true, x86asm.ADC: true, x86asm.AND: true,
	x86asm.BTC: true, x86asm.BTR: true, x86asm.BTS: true, x86asm.CMPXCHG: true,
	x86asm.CMPXCHG8B: true, x86asm.CMPXCHG16B: true, x86asm.DEC: true, x86asm.INC: true,
	x86asm.NEG: true, x86asm.NOT: true, x86asm.OR: true, x86asm.SBB: true, x86asm.SUB: true,
	x86asm.XOR: true, x86asm.XADD: true, x86asm.XCHG: true}

// decodeInto fills in the handler and operands; false means not implemented.
func decodeInto(in *inst, x *x86asm.Inst) bool {
	a := x.Args
	var cl opClass
	if x.Op < opClassSize {
		cl = opClasses[x.Op]
	}
	switch cl.kind {
	case ocJcc:
		rel, ok := a[0].(x86asm.Rel)
		in.op, in.sub, in.imm = opJcc, cl.sub, uint64(int64(rel))
		return ok
	case ocSet:
		in.op, in.sub = opSetcc, cl.sub
		return in.setDst(a[0], x) && in.size == 1
	case ocCmov:
		in.op, in.sub = opCmovcc, cl.sub
		return in.setDst(a[0], x) && in.form&fDstMem == 0 && in.setSrc(a[1], x)
	case ocALU:
		in.op, in.sub = opALU, cl.sub
		return in.setDst(a[0], x) && in.setSrc(a[1], x)
	case ocShift:
		in.op, in.sub = opShift, cl.sub
		if !in.setDst(a[0], x) {
			return false
		}
		switch s := a[1].(type) {
		case x86asm.Imm:
			in.imm = uint64(s)
		case x86asm.Reg:
			if s != x86asm.CL {
				return false
			}
			in.form |= fSrcCL
		default:
			return false
		}
		return true
	case ocCvt:
		in.op, in.sub = opCvt, cl.sub
		return true
	case ocFlag:
		in.op, in.sub = opFlag, cl.sub
		return true
	case ocPriv:
		in.op = opPriv
		return true
	}
	switch x.Op {
	case x86asm.NOP, x86asm.PAUSE, x86asm.LFENCE, x86asm.MFENCE, x86asm.SFENCE,
		x86asm.PREFETCHNTA, x86asm.PREFETCHT0, x86asm.PREFETCHT1, x86asm.PREFETCHT2, x86asm.PREFETCHW:
		// Prefetches are hints: they never fault (SDM Vol. 2B, PREFETCHh).
		in.op = opNop
		return true
	case x86asm.MOV:
		for _, r := range a[:2] {
			if r, ok := r.(x86asm.Reg); ok && (r >= x86asm.CR0 && r <= x86asm.CR15 || r >= x86asm.DR0 && r <= x86asm.DR15) {
				in.op = opPriv // MOV to or from a control or debug register
				return true
			}
		}
		in.op = opMov
		return in.setDst(a[0], x) && in.setSrc(a[1], x)
	case x86asm.MOVZX, x86asm.MOVSX, x86asm.MOVSXD:
		in.op = opMovzx
		if x.Op != x86asm.MOVZX {
			in.op = opMovsx
		}
		if !in.setDst(a[0], x) {
			return false
		}
		switch s := a[1].(type) {
		case x86asm.Reg:
			n, sz, ok := regInfo(s)
			in.src, in.ssize = n, sz
			return ok
		case x86asm.Mem:
			in.form |= fSrcMem
			in.ssize = uint8(x.MemBytes)
			return in.setMem(s, x)
		}
		return false
	case x86asm.LEA:
		m, ok := a[1].(x86asm.Mem)
		in.op = opLea
		return ok && in.setDst(a[0], x) && in.setMem(m, x)
	case x86asm.TEST:
		in.op = opTest
		return in.setDst(a[0], x) && in.setSrc(a[1], x)
	case x86asm.INC, x86asm.DEC, x86asm.NEG, x86asm.NOT:
		switch x.Op {
		case x86asm.INC:
			in.op = opInc
		case x86asm.DEC:
			in.op = opDec
		case x86asm.NEG:
			in.op = opNeg
		default:
			in.op = opNot
		}
		return in.setDst(a[0], x)
	case x86asm.IMUL:
		switch {
		case a[1] == nil:
			in.op, in.sub = opMulDiv, mdImul
			return in.setDst(a[0], x)
		case a[2] == nil:
			in.op = opImul2
			return in.setDst(a[0], x) && in.setSrc(a[1], x)
		default:
			imm, ok := a[2].(x86asm.Imm)
			in.op = opImul3
			if !ok || !in.setDst(a[0], x) || !in.setSrc(a[1], x) {
				return false
			}
			in.imm = uint64(imm)
			return true
		}
	case x86asm.MUL, x86asm.DIV, x86asm.IDIV:
		in.op = opMulDiv
		switch x.Op {
		case x86asm.MUL:
			in.sub = mdMul
		case x86asm.DIV:
			in.sub = mdDiv
		default:
			in.sub = mdIdiv
		}
		return in.setDst(a[0], x)
	case x86asm.PUSH:
		in.op, in.size = opPush, 8
		if x.DataSize == 16 {
			in.size = 2
		}
		if r, ok := a[0].(x86asm.Reg); ok {
			n, sz, ok := regInfo(r)
			in.src, in.size = n, sz
			return ok && sz >= 2
		}
		return in.setSrc(a[0], x)
	case x86asm.POP:
		in.op = opPop
		return in.setDst(a[0], x) && in.size >= 2
	case x86asm.CALL, x86asm.JMP:
		if rel, ok := a[0].(x86asm.Rel); ok {
			in.op, in.imm = opCall, uint64(int64(rel))
			if x.Op == x86asm.JMP {
				in.op = opJmp
			}
			return true
		}
		in.op = opCallInd
		if x.Op == x86asm.JMP {
			in.op = opJmpInd
		}
		in.size = 8
		return in.setSrc(a[0], x) && in.size == 8
	case x86asm.RET:
		in.op = opRet
		if imm, ok := a[0].(x86asm.Imm); ok {
			in.imm = uint64(imm)
		}
		return x.DataSize != 16
	case x86asm.XCHG:
		in.op = opXchg
		if _, ok := a[0].(x86asm.Mem); !ok {
			a[0], a[1] = a[1], a[0]
		}
		// Now a[0] may be memory; a[1] is a register.
		return in.setDst(a[0], x) && in.setSrc(a[1], x)
	case x86asm.LEAVE:
		in.op = opLeave
		return x.DataSize != 16
	case x86asm.SYSCALL:
		in.op = opSyscall
		return true
	case x86asm.ICEBP:
		in.op, in.sub = opInt3, VecDB // INT1: a #DB trap
		return true
	case x86asm.INT:
		if imm, ok := a[0].(x86asm.Imm); ok && imm == 3 {
			in.op, in.sub = opInt3, VecBP
			return true
		}
		in.op = opPriv // INT n at CPL 3 with no IDT gate for it: #GP
		return true
	}
	if int(x.Op) < len(coldDecoders) {
		if d := coldDecoders[x.Op]; d != nil {
			return d(in, x)
		}
	}
	return false
}

// String names the instruction's handler, for tests. The instruction in Intel syntax is
// disasm of its bytes.
func (in *inst) String() string { return fmt.Sprintf("op%d", in.op) }

// disasm returns the instruction at the start of code in Intel syntax, as x86asm decodes
// it ("" if it does not). Decoded code keeps no x86asm form: a text that names an
// instruction decodes its bytes again, the same bytes decodeOne was given.
func disasm(code []byte) string {
	x, err := x86asm.Decode(code, 64)
	if err != nil || x.Op == 0 || x.Len > len(code) {
		return ""
	}
	return x86asm.IntelSyntax(x, 0, nil)
}
