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
	// The last link the code followed from one block's code into another's (chaining):
	// the index in blocks of the block it left, and the exit; from is -1 when none was.
	from, fromExit int32

	// Shared code in the arena that blocks call or jump to (jit_amd64.go): the remembered
	// page lookups, by size and kind, and the exit that follows a block link.
	helpers [jitHelpers]uintptr
	chain   uintptr

	arena  *x64.Arena
	blocks []*block // blocks with code in the arena
	off    bool     // interpret only
	broken bool     // the arena could not be made: interpret only

	// Counters for --stats and tests.
	Compiled uint64 // blocks translated
	Bytes    uint64 // bytes of code made
}

// jitSideHook, when set (a build with the jitdebug tag), sees every side exit: the block
// and the slot the interpreter goes on from.
var jitSideHook func(c *CPU, b *block, slot int)

const (
	jitHelpers = 12 // remembered-page lookups: reads, writes and read-modify-writes of 1, 2, 4, 8 bytes
	jitHeat    = 16 // entries of a block through its optimized instructions before it is translated
	jitNo      = 1  // block.jit: translation failed or is off; do not try again
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
	c.jit.from = -1
	r := x64.Call(b.jit, uintptr(unsafe.Pointer(c)))
	if c.jit.from >= 0 {
		l := &c.jit.blocks[c.jit.from].links[c.jit.fromExit]
		b, entry = l.b, l.e
		c.blk = b
	}
	if r>>32 != 0 {
		c.jit.exit = int(r >> 16 & 0xffff)
		return b, entry, -1
	}
	if jitSideHook != nil {
		jitSideHook(c, b, int(r&0xffff))
	}
	// The interpreter finishes the block, but does not loop in place in it: a branch back
	// to its start returns to its code (through run's chain).
	return b, nil, int(r & 0xffff)
}
