package cpu

import (
	"unsafe"

	"github.com/vmemu/vmemu/cpu/internal/x64"
	"github.com/vmemu/vmemu/tlb"
)

// Generated code (jit_amd64.go). On linux/amd64 hosts a block that has run jitHeat times
// through its optimized instructions is translated into host machine code, which run then
// calls instead of interpreting the block. The code does exactly what the interpreter's
// fast ops do, in the same order:
//
//   - guest registers stay in CPU.r, so the state is exact whenever the code returns;
//   - every memory access goes through the remembered page (utlb) and counts its TLB hit
//     as tlb.Hit does; anything else (a miss, a page end, an op the generator does not
//     know) returns to run before the instruction, which the interpreter then executes
//     from that slot on, faults and all;
//   - flags are recorded in the lazy record as the fast ops record them; conditions are
//     evaluated by the host's own flags from the same operation at the same size, only
//     for the conditions whose flags the SDM defines for it;
//   - a branch back to the block's start loops in place under the same conditions as
//     loopsInPlace (the budget, the ITLB hit reported), and any other exit returns to run
//     with RIP set, the instructions counted and the exit taken, so chaining, the budget
//     and debug traps are handled there as before.
//
// Blocks run as decoded (single-stepping, breakpoints, the budget ending inside a block)
// never use generated code. Other hosts, and CPUs with SetCodegen(false), interpret.

// jitState is what generated code reads besides the registers; the generator addresses its
// fields by offset from the CPU.
type jitState struct {
	limit  uint64  // run's instruction budget: a loop in place must fit in it
	entry  uintptr // the ITLB entry the block was entered through (0: no looping in place)
	dHits  uintptr // the DTLB's hit counter and clock (tlb.HitCounters)
	dClock uintptr
	iHits  uintptr // the ITLB's
	iClock uintptr
	exit   int // the exit the block left through (block.links)
	// The block whose code the code went on into last (chaining), as its index in blocks;
	// -1 when it did not leave the block it was called for.
	cur int32

	// Shared code in the arena that blocks call or jump to (jit_amd64.go): the remembered
	// page lookups, by size and kind, and the exit that follows a block link.
	helpers     [jitHelpers]uintptr
	chain       uintptr
	materialize uintptr
	enter       uintptr // loads the TLB counters into host registers
	leave       uintptr // stores them and returns to Go
	// Constants the SSE floating-point code tests lanes with (jitFPConsts).
	fpk [6][2]uint64

	arena  *x64.Arena
	blocks []*block // blocks with code in the arena
	off    bool     // interpret only
	broken bool     // the arena could not be made: interpret only

	// Counters for --stats and tests.
	Compiled uint64 // blocks translated
	Bytes    uint64 // bytes of code made
	Drops    uint64 // times the arena was full and all code dropped
}

// jitArenaSize is the executable memory each CPU gets for code (host memory is spent only
// on the pages code is written to). When it is full, every block's code is dropped and the
// arena starts again, as a full code cache is dropped. (A variable for the tests.)
var jitArenaSize = 32 << 20

// jitSideHook, when set (a build with the jitdebug tag), sees every side exit: the block
// and the slot the interpreter goes on from.
var jitSideHook func(c *CPU, b *block, slot int)

// jitEndHook, when set (jitdebug), sees every return of generated code to run at a block's
// end (the chain could not go on).
var jitEndHook func(c *CPU)

// jitCodeHook, when set (jitdebug), sees the code made for each block.
var jitCodeHook func(c *CPU, b *block, code []byte, addr uintptr)

const (
	jitHelpers = 23 // remembered-page lookups of 1, 2, 4, 8 bytes (reads, writes, read-modify-writes, and peeks) and of 16 (reads, writes, read peeks)
	jitHeat    = 16 // entries of a block through its optimized instructions before it is translated
	jitNo      = 1  // block.jit: translation failed or is off; do not try again
	// jitValueExit marks a side exit taken because a test of the operands' values failed
	// (an SSE lane the host's arithmetic cannot stand in for), in the slot the code returns.
	jitValueExit = 1 << 30
	// jitGiveUp: after this many value exits from a block in a row, each within jitGiveUp
	// runs of the block (in instructions) of the one before, its code is dropped and the
	// interpreter, looping in place, runs it.
	jitGiveUp = 64
)

// SetCodegen turns code generation on (the default where the host supports it) or off.
// Turning it off makes every block interpret from then on; both give the same results.
func (c *CPU) SetCodegen(on bool) {
	c.jit.off = !on
	if !on {
		c.jitDrop()
	}
}

// CodegenStats returns the number of blocks translated to host code and the bytes made.
func (c *CPU) CodegenStats() (blocks, bytes uint64) { return c.jit.Compiled, c.jit.Bytes }

// jitDrop forgets every block's code; the arena is reused.
func (c *CPU) jitDrop() {
	for _, b := range c.jit.blocks {
		b.jit, b.heat, b.jitIndex = 0, 0, 0
	}
	c.jit.blocks = c.jit.blocks[:0]
	c.jit.chain = 0 // (the shared code goes too)
	c.jit.Drops++
	if c.jit.arena != nil {
		c.jit.arena.Reset()
	}
}

// jitRun runs block b's generated code, translating it first once it is hot. The code may
// go on into the code of the blocks b is linked to (chaining, as run's label chain does).
// jitRun returns the block the code was in when it returned (b when it has no code), the
// ITLB entry it was entered through, and the slot the interpreter goes on from (0 when the
// block has no code), or -1 when the code left the block: RIP, the instruction count and
// c.jit.exit are then set.
func (c *CPU) jitRun(b *block, limit uint64, entry *tlb.Entry) (*block, *tlb.Entry, int) {
	b.end = uint16(len(b.insts)) // (a store into the block's own code lowers it: invalidateFrame)
	if b.jit == 0 {
		if c.jit.off || c.jit.broken || !x64.Supported {
			b.jit = jitNo
			return b, entry, 0
		}
		if b.heat++; b.heat < jitHeat {
			return b, entry, 0
		}
		c.jitCompile(b)
		if b.jit == jitNo {
			return b, entry, 0
		}
	}
	if b.jitFlags {
		c.flags()
	}
	c.jit.limit = limit
	c.jit.entry = uintptr(unsafe.Pointer(entry))
	addr := b.jit
	for {
		c.jit.cur = -1
		r := x64.Call(addr, uintptr(unsafe.Pointer(c)))
		if c.jit.cur >= 0 {
			b = c.jit.blocks[c.jit.cur]
			c.blk = b
			b.end = uint16(len(b.insts))
		}
		if r>>32 != 0 {
			c.jit.exit = int(r >> 16 & 0xffff)
			if jitEndHook != nil {
				jitEndHook(c)
			}
			return b, entry, -1
		}
		k := int(r & 0xffff)
		if jitSideHook != nil {
			jitSideHook(c, b, k)
		}
		if r&jitValueExit != 0 {
			// After translation heat counts value exits that come soon after the block's
			// previous one (within jitGiveUp runs' worth of instructions).
			if c.icount-b.jitExitAt > uint64(jitGiveUp*len(b.insts)) {
				b.heat = jitHeat
			}
			b.jitExitAt = c.icount
			if b.heat++; b.heat >= jitHeat+jitGiveUp {
				b.jit = jitNo
			}
			return b, nil, k
		}
		// A load or store whose page was not remembered: executed here as the interpreter
		// would (the TLB, a walk, a fault), and the code goes on after it.
		if r&(1<<31) == 0 && k+1 < len(b.jitResume) && b.jitResume[k+1] != 0 {
			c.pos = k
			gen := c.codeGen
			c.jitSlow(&b.insts[k])
			if c.codeGen != gen {
				// The store changed code (maybe this block's: b.end is then lowered) or
				// the MMU state: the interpreter goes on after it.
				return b, nil, k + 1
			}
			addr = b.jit + uintptr(b.jitResume[k+1])
			continue
		}
		// The interpreter finishes the block, but does not loop in place in it: a branch
		// back to its start returns to its code (through run's chain).
		return b, nil, k
	}
}

// jitSlow executes a fast load or store (jitResumable) through the TLB, as run's cases
// do when the page is not remembered.
func (c *CPU) jitSlow(in *inst) {
	switch in.op {
	case opXmmLoad:
		c.xmmLoad(in)
		return
	case opXmmStore:
		c.xmmStore(in)
		return
	case opXmmInt:
		c.xmmInt(in)
		return
	}
	va := uint64(in.disp) + c.r[in.base&31] + c.r[in.index&31]<<(in.scale&3)
	switch in.op {
	case opLoad64:
		c.r[in.dst&15] = c.read(va, 8)
	case opLoad32:
		c.r[in.dst&15] = c.read(va, 4)
	case opLoadZx8:
		c.r[in.dst&15] = c.read(va, 1)
	case opLoadZx16:
		c.r[in.dst&15] = c.read(va, 2)
	case opLoadSx32:
		c.r[in.dst&15] = uint64(int64(int32(uint32(c.read(va, 4)))))
	case opStore64:
		c.write(va, 8, c.r[in.src&15])
	case opStore32:
		c.write(va, 4, c.r[in.src&15])
	case opStore8:
		c.write(va, 1, c.r[in.src&15])
	case opStoreI64:
		c.write(va, 8, in.imm)
	case opStoreI32:
		c.write(va, 4, in.imm)
	case opStoreI8:
		c.write(va, 1, in.imm)
	}
}
