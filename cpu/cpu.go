// Package cpu models an x86-64 processor running at CPL 3: the architectural registers,
// RFLAGS, the FS and GS bases, instruction decoding (golang.org/x/arch/x86/x86asm behind a
// small pre-decoder for the encodings it gets wrong) and execution. Every memory access goes
// through the MMU, so every translation, TLB hit and page fault is the hardware's.
//
// The CPU does not know about processes, system calls or signals. It runs until something
// needs the operating system, then stops and returns a Trap: an exception with its vector,
// error code and faulting address, or a SYSCALL. Exceptions are precise: the faulting
// instruction leaves no architectural effect and RIP points at it.
//
// For speed, instructions are decoded once into a compact internal form and cached in blocks
// keyed by physical address; a store into a frame holding cached code (snooped through the
// RAM) drops that code, so self-modifying programs work. Arithmetic flags are computed
// lazily, from the last flag-setting operation, only when something reads them. A block
// optimizer (int_fast.go) gives common operand shapes fast ops, drops flag computations
// nothing reads and fuses compare-and-branch pairs; blocks chain to their successors; and
// loads and stores that hit the TLB take a path written into the interpreter loop through
// remembered TLB entries (mem.go). On linux/amd64 hosts, blocks that run often are
// translated to host machine code doing the same steps (jit.go). None of this is visible:
// every state a trap, the budget or single-stepping can show is exact, and the TLB sees
// every lookup it would otherwise.
//
// What the CPU does not model: segmentation beyond the FS and GS bases (no segment
// registers, so MOV to or from them, PUSH/POP FS/GS and far transfers are #UD), 16-bit
// RET, LEAVE and ENTER (#UD), IRET at CPL 3 (#GP), #SS (a non-canonical stack address is
// #GP), and the debug registers (only single-stepping raises #DB). Under single-step, SYSCALL
// returns its trap without a #DB. Per-instruction flag behaviour the SDM leaves undefined
// follows the AMD host it was checked on where that is a simple rule (see the handlers);
// MUL and IMUL set SF, ZF and PF from the low half of the result and clear AF.
package cpu

import (
	"fmt"

	"github.com/vmemu/vmemu/internal/phase"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/ram"
	"github.com/vmemu/vmemu/tlb"
)

// General-purpose register numbers, in encoding order.
const (
	RAX = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
)

// RegNames are the 64-bit register names in encoding order.
var RegNames = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

// RFLAGS bits.
const (
	FlagCF = 1 << 0
	flagR1 = 1 << 1 // reserved, always 1
	FlagPF = 1 << 2
	FlagAF = 1 << 4
	FlagZF = 1 << 6
	FlagSF = 1 << 7
	FlagTF = 1 << 8
	FlagIF = 1 << 9
	FlagDF = 1 << 10
	FlagOF = 1 << 11
	FlagAC = 1 << 18
	FlagID = 1 << 21

	// ArithFlags are the six status flags set by arithmetic.
	ArithFlags = FlagCF | FlagPF | FlagAF | FlagZF | FlagSF | FlagOF
	// userFlags are the RFLAGS bits a CPL-3 program may change with POPF.
	userFlags = ArithFlags | FlagTF | FlagDF | FlagAC | FlagID
)

// InitialRFLAGS is RFLAGS of a new user process (IF and the reserved bit 1 set).
const InitialRFLAGS = flagR1 | FlagIF

// Exception vectors.
const (
	VecDE = 0  // divide error
	VecDB = 1  // debug (single step)
	VecBP = 3  // breakpoint (int3)
	VecUD = 6  // invalid opcode
	VecNM = 7  // device not available
	VecGP = 13 // general protection
	VecPF = 14 // page fault
	VecMF = 16 // x87 floating-point error
	VecAC = 17 // alignment check
	VecMC = 18 // machine check: an access to a physical address with no memory
	VecXM = 19 // SIMD floating-point exception
)

// VectorName returns the mnemonic of an exception vector ("#PF").
func VectorName(v uint8) string {
	names := map[uint8]string{VecDE: "#DE", VecDB: "#DB", VecBP: "#BP", VecUD: "#UD", VecNM: "#NM",
		VecGP: "#GP", VecPF: "#PF", VecMF: "#MF", VecAC: "#AC", VecMC: "#MC", VecXM: "#XM"}
	if s, ok := names[v]; ok {
		return s
	}
	return fmt.Sprintf("vector %d", v)
}

// TrapKind says why Run returned.
type TrapKind uint8

// Trap kinds.
const (
	TrapBudget    TrapKind = iota // the instruction budget ran out; nothing happened
	TrapException                 // an exception: Vector, Code, Addr describe it
	TrapSyscall                   // a SYSCALL instruction retired; RCX and R11 are set
	TrapInternal                  // the emulator itself failed; Err says how
	// TrapHostFault: an access reached host memory that is gone (the host file page behind
	// a frame lies past the file's end since the host shrank it). Addr is the host address;
	// the instruction did not retire, RIP is at it.
	TrapHostFault
)

// Trap is what stops the CPU.
type Trap struct {
	Kind   TrapKind
	Vector uint8  // exception vector (TrapException)
	Code   uint32 // error code, for exceptions that push one
	Addr   uint64 // CR2 for #PF; the faulting address for #GP from memory, else 0
	RIP    uint64 // faulting instruction (faults), or the next one (traps, SYSCALL)
	// Insn holds the instruction bytes for #UD, and Mnemonic what the decoder made of them
	// ("" when undecodable), so an unimplemented instruction is named, never silent.
	Insn     []byte
	Mnemonic string
	Err      error // TrapInternal
}

func (t Trap) String() string {
	switch t.Kind {
	case TrapBudget:
		return "budget exhausted"
	case TrapSyscall:
		return fmt.Sprintf("syscall at %#x", t.RIP)
	case TrapInternal:
		return fmt.Sprintf("internal error at %#x: %v", t.RIP, t.Err)
	case TrapHostFault:
		return fmt.Sprintf("host memory fault at rip %#x, host address %#x", t.RIP, t.Addr)
	}
	s := fmt.Sprintf("%s at rip %#x", VectorName(t.Vector), t.RIP)
	switch t.Vector {
	case VecPF:
		s += fmt.Sprintf(", address %#x, error code %#x [%s]", t.Addr, t.Code, mmu.DecodeErrorCode(t.Code))
	case VecUD:
		s += fmt.Sprintf(", bytes % x", t.Insn)
		if t.Mnemonic != "" {
			s += " (" + t.Mnemonic + ", not implemented)"
		}
	case VecGP:
		if t.Addr != 0 {
			s += fmt.Sprintf(", address %#x", t.Addr)
		}
	}
	return s
}

// State is the architectural state of one thread of execution, as a kernel saves and
// restores it on a context switch.
type State struct {
	GPR    [16]uint64
	RIP    uint64
	RFLAGS uint64
	FSBase uint64
	GSBase uint64
	Ext    ExtState // SSE and x87 state
}

// ExtState is the extended (SSE and x87) register state; it is saved and restored whole.
type ExtState struct {
	XMM   [16][2]uint64 // XMM0-15, low quadword first
	MXCSR uint32
	X87   X87State
}

// Float80 is an x87 register in the 80-bit extended-precision format: a 64-bit significand
// with an explicit integer bit, and a 16-bit sign and biased exponent.
type Float80 struct {
	Mant uint64
	SE   uint16 // sign (bit 15) and exponent (bits 14:0)
}

// X87State is the x87 FPU's state, as FXSAVE lays it out in spirit: the eight physical
// registers R0-R7 (ST(i) is R[(TOP+i) mod 8]), the control, status and tag words, and the
// last instruction and operand pointers.
type X87State struct {
	R   [8]Float80
	FCW uint16 // control word (0x037F after FNINIT)
	FSW uint16 // status word; TOP is bits 13:11
	FTW uint16 // full tag word, two bits per register (11 = empty)
	FOP uint16
	FIP uint64
	FDP uint64
	FCS uint16 // selector of the last instruction (FNSTENV, FNSAVE, 32-bit FXSAVE store it)
	FDS uint16 // selector of the last memory operand's segment
}

// InitialExtState is the SSE and x87 state of a new process: MXCSR 0x1F80 (all exceptions
// masked, round to nearest), and the x87 as FNINIT leaves it (FCW 0x037F, all registers
// empty). Linux's execve starts programs this way.
func InitialExtState() ExtState {
	return ExtState{MXCSR: 0x1f80, X87: X87State{FCW: 0x037f, FTW: 0xffff}}
}

// Stats counts what the CPU did.
type Stats struct {
	Instructions  uint64 // retired
	BlocksDecoded uint64 // blocks translated from machine code
	InsnsDecoded  uint64 // instructions translated from machine code
	CodeInvalid   uint64 // frames whose cached code a store dropped
	CodeFlushes   uint64 // times the whole code cache was dropped for being full
	Interrupts    uint64 // interrupts taken (inter-processor interrupts)
}

// Register-file slots beyond the sixteen general-purpose registers, for the fast
// effective-address computation: an absent base or index reads regZero (its number, noReg,
// masked to 5 bits) and a RIP-relative base reads regBlock, the linear address of the
// executing block.
const (
	regBlock = baseRIP & 31
	regZero  = noReg & 31
)

// CPU is one processor.
type CPU struct {
	r      [32]uint64 // RAX..R15, then regBlock and regZero (see above)
	rip    uint64
	rflags uint64 // materialized bits; the arithmetic ones are stale while lz.kind != lzNone
	lz     lazyFlags
	fsBase uint64
	gsBase uint64
	ext    ExtState

	mmu *mmu.MMU
	ram *ram.RAM
	mem []byte

	// The remembered translations of the fast path (see mem.go).
	dtlb, itlb *tlb.TLB
	utlb       [utlbSize]utlbEntry
	uitlb      [uitlbSize]uitlbEntry
	micro      microState
	codeGen    uint64 // changes whenever block chains may be stale (see block.links)
	noMicro    bool   // tests: never remember translations, so every access searches the TLB

	icount uint64
	stats  Stats

	// Several CPUs (smp.go): the CPU's number, the TSC's offset, and the interrupt-request
	// register with the handler that takes what it holds.
	id         uint32
	tscOffset  uint64
	irr        [4]uint64
	irrPending bool
	intr       func(vector uint8)

	code codeCache
	// During Run: the executing block, its linear address and the index of the instruction
	// being executed, so a fault can name the instruction precisely.
	blk *block
	bva uint64
	pos int
	// stepping is set while an instruction runs with RFLAGS.TF set: a REP string
	// instruction then does one iteration at a time.
	stepping bool

	// The outside debugger's breakpoints and watchpoints (debug.go).
	bps       []Breakpoint
	activeBPs []uint64 // this run's: those of the current address space
	watching  bool     // this run checks data accesses against the MMU's watchpoints
	rawMask   uint64   // RFLAGS bits that make a block run as decoded: TF, or all when armed
	dr6       uint64   // what the #DB that ends the run will report (DR6-style bits)
	rfRIP     uint64   // ResumeAtBreakpoint: the breakpoint not raised...
	rfCount   uint64   // ...until an instruction completes
	rfSet     bool

	fault Trap // scratch for a pending fault (panics carry a pointer to it)

	jit jitState // generated code (jit.go)
}

// New builds a CPU over the MMU m (and its RAM). Its registers are zero; RFLAGS is
// InitialRFLAGS.
func New(m *mmu.MMU) *CPU {
	c := &CPU{mmu: m, ram: m.RAM(), mem: m.RAM().Bytes(), rflags: InitialRFLAGS,
		dtlb: m.DTLB, itlb: m.ITLB}
	c.ext = InitialExtState()
	c.flushMicro()
	c.code.init()
	c.ram.SetCodeSnoop(c.invalidateFrame)
	return c
}

// MMU returns the CPU's MMU.
func (c *CPU) MMU() *mmu.MMU { return c.mmu }

// Reg returns general-purpose register i (RAX..R15).
func (c *CPU) Reg(i int) uint64 { return c.r[i&15] }

// SetReg sets general-purpose register i.
func (c *CPU) SetReg(i int, v uint64) { c.r[i&15] = v }

// RIP returns the instruction pointer.
func (c *CPU) RIP() uint64 { return c.rip }

// SetRIP sets the instruction pointer.
func (c *CPU) SetRIP(v uint64) { c.rip = v }

// RFLAGS returns RFLAGS with every flag computed.
func (c *CPU) RFLAGS() uint64 { return c.flags() }

// SetRFLAGS sets RFLAGS (bit 1 is forced to 1).
func (c *CPU) SetRFLAGS(v uint64) {
	if (c.rflags^v)&FlagAC != 0 {
		c.flushMicro() // alignment checking turns the fast path on or off
	}
	c.rflags = v | flagR1
	c.lz.kind = lzNone
}

// FSBase returns the FS segment base.
func (c *CPU) FSBase() uint64 { return c.fsBase }

// SetFSBase sets the FS segment base (arch_prctl(ARCH_SET_FS)).
func (c *CPU) SetFSBase(v uint64) { c.fsBase = v }

// GSBase returns the GS segment base.
func (c *CPU) GSBase() uint64 { return c.gsBase }

// SetGSBase sets the GS segment base.
func (c *CPU) SetGSBase(v uint64) { c.gsBase = v }

// Instructions returns the number of instructions retired so far.
func (c *CPU) Instructions() uint64 { return c.icount }

// Stats returns the CPU's counters.
func (c *CPU) Stats() Stats {
	s := c.stats
	s.Instructions = c.icount
	return s
}

// Save stores the architectural state into s.
func (c *CPU) Save(s *State) {
	copy(s.GPR[:], c.r[:16])
	s.RIP = c.rip
	s.RFLAGS = c.flags()
	s.FSBase, s.GSBase = c.fsBase, c.gsBase
	s.Ext = c.ext
}

// Load replaces the architectural state with s.
func (c *CPU) Load(s *State) {
	copy(c.r[:16], s.GPR[:])
	c.rip = s.RIP
	c.SetRFLAGS(s.RFLAGS)
	c.fsBase, c.gsBase = s.FSBase, s.GSBase
	c.ext = s.Ext
}

// faultSignal is the value a fault panics with; the details are in CPU.fault.
type faultSignal struct{}

// raise stops the current instruction with an exception. It does not return.
func (c *CPU) raise(vector uint8, code uint32, addr uint64) {
	c.fault = Trap{Kind: TrapException, Vector: vector, Code: code, Addr: addr}
	panic(faultSignal{})
}

// raiseMMU turns an MMU fault into an exception.
func (c *CPU) raiseMMU(f *mmu.Fault) {
	if f.Vector == mmu.VectorGP {
		c.raise(VecGP, 0, 0)
	}
	c.raise(VecPF, f.Code, f.Addr)
}

// Run executes instructions until a trap, or until budget instructions have retired. It
// never panics: an emulator failure comes back as TrapInternal.
func (c *CPU) Run(budget uint64) (t Trap) {
	if c.irrPending {
		c.ServiceInterrupts() // at the boundary before the first instruction
	}
	start := c.icount
	prev := phase.Set(phase.CPU)
	c.syncMicroFull() // the kernel may have changed the TLB or the control registers
	c.armDebug()
	defer func() {
		if r := recover(); r != nil {
			t = c.recoverTrap(r, start)
		}
		c.blk = nil
		c.stepping = false
		phase.Set(prev)
	}()
	return c.run(start + budget)
}

// recoverTrap builds the trap for a panic that ended an instruction. The instruction did not
// retire; RIP is set to it.
func (c *CPU) recoverTrap(r any, start uint64) Trap {
	c.dr6 = 0 // the instruction did not complete: no watchpoint or step trap follows it
	if c.blk != nil {
		c.icount += uint64(c.pos)
		c.rip = c.bva + uint64(c.blk.raw[c.pos].off)
	}
	if _, ok := r.(faultSignal); ok {
		t := c.fault
		t.RIP = c.rip
		return t
	}
	err, ok := r.(error)
	if !ok {
		err = fmt.Errorf("%v", r)
	}
	if hf, ok := r.(interface{ Addr() uintptr }); ok {
		// A fault on host memory (the caller's goroutine has debug.SetPanicOnFault).
		return Trap{Kind: TrapHostFault, RIP: c.rip, Addr: uint64(hf.Addr()), Err: err}
	}
	return Trap{Kind: TrapInternal, RIP: c.rip, Err: err}
}
