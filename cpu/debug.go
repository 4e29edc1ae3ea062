package cpu

import "github.com/vmemu/vmemu/mmu"

// The processor's side of an outside debugger's breakpoints (the emulator's model of the
// debug registers, SDM Vol. 3B 17.2-17.3, set as ptrace sets a thread's; the guest never sees
// them): instruction breakpoints, which stop before the instruction at their address
// executes (a fault-like #DB), and the MMU's data watchpoints (mmu/watch.go), which stop
// after the instruction that accessed the watched bytes (a trap-like #DB). Either way Run
// returns a #DB trap whose Code is a DR6-style status saying what happened.
//
// The cost when nothing is set is nil: Run arms the checks once (a breakpoint or watchpoint
// changes only between runs), and while one is armed every block runs its instructions as
// decoded (as under single-stepping, so the state at a stop is exact), a block holding a
// breakpoint ends before it, and a watched page never takes the fast path.

// DR6-style bits of a #DB trap's Code.
const (
	DR6Breakpoint = 1 << 0  // an instruction breakpoint: RIP is at it, and it has not run
	DR6Watch      = 1 << 1  // a data watchpoint: the instruction that hit it has completed
	DR6Step       = 1 << 14 // BS: a single step (RFLAGS.TF) completed
)

// Breakpoint is an instruction breakpoint at linear address Addr of the address space
// whose PML4 is at physical address Space (CR3 without flags: one process).
type Breakpoint struct {
	Space, Addr uint64
}

// SetBreakpoints replaces the instruction breakpoints.
func (c *CPU) SetBreakpoints(bps []Breakpoint) {
	c.bps = append(c.bps[:0], bps...)
}

// Breakpoints returns the instruction breakpoints set.
func (c *CPU) Breakpoints() []Breakpoint { return c.bps }

// ResumeAtBreakpoint is RFLAGS.RF for the outside debugger: the instruction at RIP does not
// raise its breakpoint until an instruction has completed (SDM Vol. 3B 17.3.1.1), so a
// program stopped at a breakpoint can be resumed from it. A fault before the instruction
// completes keeps it in force, as the RF image a fault saves does.
func (c *CPU) ResumeAtBreakpoint() {
	c.rfRIP, c.rfCount, c.rfSet = c.rip, c.icount, true
}

// armDebug decides, at the start of a run, which breakpoints apply to the current address
// space and whether the watchpoint checks are on, and so whether blocks run as decoded.
func (c *CPU) armDebug() {
	c.dr6 = 0
	c.activeBPs = c.activeBPs[:0]
	c.watching = false
	c.rawMask = FlagTF
	if len(c.bps) == 0 && len(c.mmu.Watchpoints()) == 0 {
		return
	}
	space := c.mmu.CR3() & uint64(mmu.PTEAddrMask)
	for _, b := range c.bps {
		if b.Space == space {
			c.activeBPs = append(c.activeBPs, b.Addr)
		}
	}
	c.watching = c.mmu.Watching()
	if len(c.activeBPs) > 0 || c.watching {
		c.rawMask |= flagR1 // always set in RFLAGS: every block runs as decoded
	}
}

// cutAtBreakpoint returns how many of the block's first n decoded instructions may run
// before an instruction breakpoint, and notes the breakpoint (in dr6) when it cuts.
func (c *CPU) cutAtBreakpoint(b *block, n int) int {
	end := c.bva + uint64(b.size)
	for _, a := range c.activeBPs {
		if a < c.bva || a >= end {
			continue
		}
		for i := 0; i < n; i++ {
			if c.bva+uint64(b.raw[i].off) != a {
				continue
			}
			if i == 0 && c.rfSet && a == c.rfRIP && c.icount == c.rfCount {
				break // resuming from this breakpoint (RF)
			}
			n = i
			c.dr6 |= DR6Breakpoint
			break
		}
	}
	return n
}

// watchAccess checks a data access of n bytes at va against the watchpoints. On a hit the
// executing block ends after the current instruction, which then traps.
func (c *CPU) watchAccess(va, n uint64, acc mmu.Access) {
	if c.mmu.CheckWatch(va, n, acc) {
		c.dr6 |= DR6Watch
		if c.blk != nil && int(c.blk.end) > c.pos+1 {
			c.blk.end = uint16(c.pos + 1)
		}
	}
}

// debugTrap is the #DB that ends a run after a breakpoint, a watchpoint or a single step.
func (c *CPU) debugTrap() Trap {
	t := Trap{Kind: TrapException, Vector: VecDB, Code: uint32(c.dr6), RIP: c.rip}
	c.dr6 = 0
	c.stepping = false
	return t
}
