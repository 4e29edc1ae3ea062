package minikernel

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/mmu"
)

// Several CPUs: what the kernel keeps per CPU, address-space switches, and the TLB
// shootdown. Linux's arch/x86/mm/tlb.c (switch_mm_irqs_off, flush_tlb_mm_range,
// flush_tlb_func, the lazy TLB mode) is the model.
//
// Each address space (MM) counts its TLB generation: every change to its page tables that a
// TLB may still hold (a PTE removed, write-protected or pointed elsewhere) advances it, and
// each CPU records the generation its TLB is up to date with for that address space. The
// set of CPUs whose CR3 holds an address space is its cpumask (Linux's mm_cpumask). A CPU
// whose thread blocks or exits while no other thread is ready keeps the address space
// loaded but enters lazy TLB mode: no user code runs on it, so a shootdown skips it and it
// catches up (flushing) when it next runs a thread of that address space, unless page-table
// pages were freed, which lazy CPUs must hear about too (their walks could still reach
// them). A CPU that loads an address space whose generation moved since it last held it
// flushes that PCID as it loads CR3.
//
// The shootdown: the initiator advances the generation, invalidates its own TLB (INVLPG per
// page, or one INVPCID single-context flush past tlbFlushCeiling pages), posts an
// inter-processor interrupt to every other CPU in the cpumask that is not lazy, and waits
// until each has run the flush in its interrupt handler (flushTLBFunc). With
// Config.NoShootdown the kernel forgets that last step, and the other CPUs keep what they
// cached, as on silicon.

// maxCPUs bounds Config.CPUs: a cpumask is one word.
const maxCPUs = 64

// PerCPU is one CPU of the machine as the kernel sees it: the hardware (the cpu.CPU and
// its MMU) and the kernel's per-CPU state (Linux's per-CPU runqueue and cpu_tlbstate).
type PerCPU struct {
	id     int
	cpu    *cpu.CPU
	mmu    *mmu.MMU
	cur    *Thread // the thread it runs; nil when idle
	slice  uint64  // instructions cur has run in its time slice
	loaded *MM     // the address space whose tables CR3 holds (nil: the boot tables)
	lazy   bool    // idle with loaded still in CR3 (lazy TLB mode)
	idleNS uint64  // time it sat idle while other CPUs ran: its clock counts it
	ran    bool    // it retired an instruction in the current round
	ipis   []flushRequest
	calls  []func(*PerCPU) // functions other CPUs asked it to run (callOtherCPUs)
	stats  CPUStats
}

// CPUStats counts one CPU's part in TLB shootdowns.
type CPUStats struct {
	ShootdownsSent      uint64 // shootdowns it initiated that interrupted another CPU
	ShootdownIPIs       uint64 // shootdown interrupts it took
	ShootdownPages      uint64 // pages it invalidated (INVLPG) for another CPU's shootdown
	ShootdownFlushes    uint64 // whole-PCID flushes it did for another CPU's shootdown
	ShootdownsSkipped   uint64 // shootdowns it would have sent but --tlb noshootdown skipped
	CallsSent           uint64 // other interrupts it sent to run a function elsewhere (membarrier)
	CallIPIs            uint64 // such interrupts it took
	LazyLeaves          uint64 // lazy address spaces it left because a shootdown freed tables
	IdleNS              uint64 // time idle while other CPUs ran
	ContextSwitches     uint64
	InstructionsRetired uint64
}

// flushRequest is what a shootdown asks a CPU to do: bring its TLB for mm up to generation
// gen, invalidating pages[:n], or everything of mm when all.
type flushRequest struct {
	mm          *MM
	gen         uint64
	pages       [tlbFlushCeiling]uint64
	n           int
	all         bool
	freedTables bool
	from        int
}

// ID returns the CPU's number.
func (c *PerCPU) ID() int { return c.id }

// CPU returns the processor.
func (c *PerCPU) CPU() *cpu.CPU { return c.cpu }

// MMU returns the processor's MMU (its CR3 and TLBs).
func (c *PerCPU) MMU() *mmu.MMU { return c.mmu }

// Thread returns the thread the CPU runs, or nil when it is idle.
func (c *PerCPU) Thread() *Thread { return c.cur }

// LoadedMM returns the address space CR3 holds (nil: the kernel's boot tables), and whether
// the CPU holds it lazily (idle, not running a thread of it).
func (c *PerCPU) LoadedMM() (*MM, bool) { return c.loaded, c.lazy }

// Stats returns the CPU's counters.
func (c *PerCPU) Stats() CPUStats {
	s := c.stats
	s.IdleNS = c.idleNS
	s.InstructionsRetired = c.cpu.Instructions()
	return s
}

// CPUs returns the machine's CPUs, by number.
func (k *Kernel) CPUs() []*PerCPU { return k.cpus }

// ThisCPU returns the CPU the kernel is acting on: the one that ran last, whose trap it
// handles (Linux's smp_processor_id()).
func (k *Kernel) ThisCPU() *PerCPU { return k.this }

// multi reports whether the machine has several CPUs.
func (k *Kernel) multi() bool { return len(k.cpus) > 1 }

// allCPUs is the mask of every CPU.
func (k *Kernel) allCPUs() uint64 {
	if len(k.cpus) >= 64 {
		return ^uint64(0)
	}
	return 1<<len(k.cpus) - 1
}

// now returns the CPU's clock: the instructions it retired plus the time it sat idle plus
// the time the whole machine jumped while every thread slept.
func (k *Kernel) clockOf(c *PerCPU) uint64 { return c.cpu.Instructions() + c.idleNS + k.clockNS }

// enter makes c the CPU the kernel acts on.
func (k *Kernel) enter(c *PerCPU) {
	if k.this == c {
		return
	}
	k.this = c
	k.cpu, k.mmu, k.cur = c.cpu, c.mmu, c.cur
	k.retiredElsewhere = 0
	for _, o := range k.cpus {
		if o != c {
			k.retiredElsewhere += o.cpu.Instructions()
		}
	}
}

// setCurrent records t as the thread this CPU runs (nil: idle).
func (k *Kernel) setCurrent(t *Thread) {
	k.this.cur, k.cur = t, t
}

// loadMM makes this CPU's CR3 hold mm's tables (nil: the boot tables), as Linux's
// switch_mm_irqs_off(): the CPU joins mm's cpumask and leaves the old one's; it keeps the
// TLB entries tagged with mm's PCID when it is up to date with mm's generation, and
// flushes them as it loads CR3 otherwise. Loading the address space it holds lazily just
// leaves lazy mode (flushing if a shootdown passed it by).
func (k *Kernel) loadMM(mm *MM) {
	c := k.this
	if c.loaded == mm {
		if mm != nil && c.lazy && mm.cpuGen[c.id] != mm.tlbGen {
			_ = c.mmu.Invpcid(mmu.InvpcidSingle, mm.pcid, 0)
			mm.cpuGen[c.id] = mm.tlbGen
		}
		c.lazy = false
		return
	}
	if old := c.loaded; old != nil {
		old.cpumask &^= 1 << c.id
	}
	c.loaded, c.lazy = mm, false
	if mm == nil {
		_ = c.mmu.SetCR3(k.bootPML4 << 12)
		return
	}
	mm.cpumask |= 1 << c.id
	cr3 := mm.pml4<<12 | uint64(mm.pcid)
	if mm.cpuGen[c.id] == mm.tlbGen && mm.pcid != 0 {
		cr3 |= mmu.CR3NoFlush
	}
	mm.cpuGen[c.id] = mm.tlbGen
	if err := c.mmu.SetCR3(cr3); err != nil {
		panic(err) // the kernel built this value
	}
}

// flushTLB finishes a change to g.mm's page tables that TLBs may still cache: the TLB
// generation advances, this CPU invalidates what it holds, and every other CPU that may use
// the stale translations is interrupted to do the same, while this one waits (the TLB
// shootdown). Linux's flush_tlb_mm_range() and native_flush_tlb_multi().
func (k *Kernel) flushTLB(g *tlbGather) {
	mm := g.mm
	if mm == nil || (g.n == 0 && !g.all) {
		return
	}
	mm.tlbGen++
	c := k.this
	if c.loaded == mm {
		if g.all {
			_ = c.mmu.Invpcid(mmu.InvpcidSingle, mm.pcid, 0)
		} else {
			for _, va := range g.pages[:g.n] {
				c.mmu.Invlpg(va)
			}
		}
		mm.cpuGen[c.id] = mm.tlbGen
	}
	var targets uint64
	for m := mm.cpumask &^ (1 << c.id); m != 0; m &= m - 1 {
		t := k.cpus[bits.TrailingZeros64(m)]
		if t.lazy && !g.freedTables {
			continue // it catches up when it runs a thread of mm again
		}
		targets |= 1 << t.id
	}
	if targets == 0 {
		return
	}
	k.emitShootdown(g, targets)
	if k.cfg.NoShootdown {
		c.stats.ShootdownsSkipped++
		return
	}
	c.stats.ShootdownsSent++
	req := flushRequest{mm: mm, gen: mm.tlbGen, pages: g.pages, n: g.n, all: g.all,
		freedTables: g.freedTables, from: c.id}
	for m := targets; m != 0; m &= m - 1 {
		t := k.cpus[bits.TrailingZeros64(m)]
		t.ipis = append(t.ipis, req)
		t.cpu.RaiseInterrupt(cpu.VecCallFunction)
	}
	// Wait for every target: each is stopped between two instructions, where it takes the
	// interrupt now.
	for m := targets; m != 0; m &= m - 1 {
		k.cpus[bits.TrailingZeros64(m)].cpu.ServiceInterrupts()
	}
}

// interrupt is CPU c's interrupt handler.
func (k *Kernel) interrupt(c *PerCPU, vector uint8) {
	if vector != cpu.VecCallFunction {
		return
	}
	for i := range c.ipis {
		k.flushTLBFunc(c, &c.ipis[i])
	}
	c.ipis = c.ipis[:0]
	for _, fn := range c.calls {
		c.stats.CallIPIs++
		if fn != nil {
			fn(c)
		}
	}
	c.calls = c.calls[:0]
}

// flushTLBFunc is a shootdown's work on target CPU c (Linux's flush_tlb_func()): nothing if
// c no longer holds the address space; leave it if c holds it lazily (a shootdown reaches a
// lazy CPU only when tables were freed); else bring c's TLB up to date, page by page when
// it missed only this change, or with one flush of the PCID.
func (k *Kernel) flushTLBFunc(c *PerCPU, r *flushRequest) {
	mm := r.mm
	c.stats.ShootdownIPIs++
	if c.loaded != mm {
		return
	}
	if c.lazy {
		mm.cpumask &^= 1 << c.id
		c.loaded, c.lazy = nil, false
		_ = c.mmu.SetCR3(k.bootPML4 << 12)
		c.stats.LazyLeaves++
		return
	}
	local := mm.cpuGen[c.id]
	if local >= r.gen {
		return
	}
	if !r.all && r.gen == local+1 {
		for _, va := range r.pages[:r.n] {
			c.mmu.Invlpg(va)
		}
		c.stats.ShootdownPages += uint64(r.n)
		mm.cpuGen[c.id] = r.gen
		return
	}
	_ = c.mmu.Invpcid(mmu.InvpcidSingle, mm.pcid, 0)
	c.stats.ShootdownFlushes++
	mm.cpuGen[c.id] = mm.tlbGen
}

// emitShootdown reports a shootdown: the initiator (the event's CPU), the targets, the
// pages or the flush, and why.
func (k *Kernel) emitShootdown(g *tlbGather, targets uint64) {
	if len(k.observers) == 0 {
		return
	}
	e := Event{Kind: EvShootdown, Targets: targets, Pages: g.n, Text: g.why}
	if c := k.cur; c != nil {
		e.PID, e.TID = c.proc.PID, c.TID
	}
	if g.all {
		e.Pages = -1
	} else if g.n > 0 {
		e.Addr = g.pages[0]
	}
	if k.cfg.NoShootdown {
		e.Text += " (skipped: --tlb noshootdown)"
	}
	k.emit(&e)
}

// CPUMask formats a set of CPUs: "cpu1,cpu3".
func CPUMask(m uint64) string {
	var s []string
	for ; m != 0; m &= m - 1 {
		s = append(s, fmt.Sprintf("cpu%d", bits.TrailingZeros64(m)))
	}
	return strings.Join(s, ",")
}

// ShootdownStats sums the CPUs' shootdown counters.
func (k *Kernel) ShootdownStats() CPUStats {
	var s CPUStats
	for _, c := range k.cpus {
		x := c.Stats()
		s.ShootdownsSent += x.ShootdownsSent
		s.ShootdownIPIs += x.ShootdownIPIs
		s.ShootdownPages += x.ShootdownPages
		s.ShootdownFlushes += x.ShootdownFlushes
		s.ShootdownsSkipped += x.ShootdownsSkipped
		s.CallsSent += x.CallsSent
		s.CallIPIs += x.CallIPIs
		s.LazyLeaves += x.LazyLeaves
		s.IdleNS += x.IdleNS
		s.ContextSwitches += x.ContextSwitches
		s.InstructionsRetired += x.InstructionsRetired
	}
	return s
}

// sched_setaffinity(tid, len, mask): the CPUs thread tid (0: the caller) may run on. A mask
// with none of the machine's CPUs is EINVAL; a thread running elsewhere moves at once.
func sysSchedSetaffinity(k *Kernel, p *Process, a *[6]uint64) int64 {
	t, e := k.affinityTarget(a[0])
	if e != 0 {
		return -int64(e)
	}
	var b [8]byte
	n := min(a[1], 8)
	if _, ok := k.copyIn(p, a[2], b[:n]); !ok {
		return -int64(EFAULT)
	}
	mask := le.Uint64(b[:]) & k.allCPUs()
	if mask == 0 {
		return -int64(EINVAL)
	}
	t.affinity = mask
	return 0
}

// sched_getaffinity(tid, len, mask): the CPUs thread tid may run on, as a cpumask of 8
// bytes (the result); len must be a multiple of 8 that covers every CPU.
func sysSchedGetaffinity(k *Kernel, p *Process, a *[6]uint64) int64 {
	if a[1]*8 < uint64(len(k.cpus)) || a[1]&7 != 0 {
		return -int64(EINVAL)
	}
	t, e := k.affinityTarget(a[0])
	if e != 0 {
		return -int64(e)
	}
	if !k.writeU64(p, a[2], t.affinity) {
		return -int64(EFAULT)
	}
	return 8
}

// affinityTarget is the thread an affinity call names: tid, or the caller for 0.
func (k *Kernel) affinityTarget(tid uint64) (*Thread, Errno) {
	if int32(tid) == 0 {
		return k.cur, 0
	}
	if int32(tid) < 0 {
		return nil, ESRCH
	}
	t := k.tasks[int(int32(tid))]
	if t == nil {
		return nil, ESRCH
	}
	return t, 0
}

// getcpu(cpu, node, tcache): the CPU the caller runs on, and NUMA node 0.
func sysGetcpu(k *Kernel, p *Process, a *[6]uint64) int64 {
	var b [4]byte
	if a[0] != 0 {
		le.PutUint32(b[:], uint32(k.this.id))
		if _, ok := k.copyOut(p, a[0], b[:]); !ok {
			return -int64(EFAULT)
		}
	}
	if a[1] != 0 {
		le.PutUint32(b[:], 0)
		if _, ok := k.copyOut(p, a[1], b[:]); !ok {
			return -int64(EFAULT)
		}
	}
	return 0
}
