package minikernel

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/mmu"
)

// Inspection and two-phase stepping, for the debugger and other tools. Nothing here changes
// what a program does: the accessors read the kernel's tables and the hardware's state
// without side effects (no accessed or dirty flags set, no TLB fill, no CR2), and RunToTrap
// followed by HandleTrap is exactly Step.

// PendingTrap is a trap the CPU raised that the kernel has not handled yet: a page fault
// before the fault handler has looked at it, or a system call before it has run.
type PendingTrap struct {
	cpu.Trap
	PID   int    // the process that raised it
	TID   int    // the thread that raised it
	CPU   int    // the CPU it ran on
	insns uint64 // instructions retired when it was raised: HandleTrap refuses a stale trap
	done  *bool  // set once handled: a system call must not run twice
	idle  bool   // nothing ran: every thread slept (HandleTrap has nothing to do)
}

// RunToTrap runs the current process for at most budget instructions or until its next trap
// (after letting the scheduler pick a process, as Step does), and returns the trap without
// handling it (Kind is cpu.TrapBudget when the budget or the time slice ran out).
// A debugger reads the machine's state in between, then calls HandleTrap.
//
// Preconditions: the previous trap RunToTrap returned has been given to HandleTrap (a system
// call not handled would be lost: SYSCALL has already retired).
func (k *Kernel) RunToTrap(budget uint64) (PendingTrap, error) {
	p, t, err := k.runUntilTrap(budget)
	if err != nil {
		return PendingTrap{}, err
	}
	if p == nil {
		if len(k.runq) == 0 {
			return PendingTrap{}, errors.New("minikernel: every process has exited")
		}
		// Every thread sleeps and a debugger interrupted the wait: nothing is pending.
		return PendingTrap{Trap: t, idle: true}, nil
	}
	return PendingTrap{Trap: t, PID: p.proc.PID, TID: p.TID, CPU: k.this.id, insns: k.cpu.Instructions(), done: new(bool)}, nil
}

// HandleTrap lets the kernel handle a trap RunToTrap returned: it runs the system call,
// resolves the page fault (or delivers the signal), as Step would have.
//
// Preconditions: t is the last trap RunToTrap returned, and nothing has run since.
func (k *Kernel) HandleTrap(t PendingTrap) error {
	if t.idle {
		return nil
	}
	if t.done == nil || *t.done || k.cur == nil || k.cur.TID != t.TID || k.this.id != t.CPU || k.cpu.Instructions() != t.insns {
		return errors.New("minikernel: HandleTrap of a trap that is not pending")
	}
	*t.done = true
	return k.handleTrap(k.cur, t.Trap)
}

// PredictFault says what the page-fault handler will decide for a pending #PF, and the VMA
// it will find, without doing any of it: the handler's own classification (classifyFault),
// which resolveFault then carries out. Out of memory only allocation reveals: it is never
// predicted.
//
// Preconditions: t is a pending #PF, not yet handled.
func (k *Kernel) PredictFault(t PendingTrap) (FaultOutcome, *VMA) {
	p := k.Process(t.PID)
	if p == nil || p.mm == nil {
		return FaultSIGSEGV, nil
	}
	c := k.classifyFault(p, t.Addr, faultAccess(t.Code))
	return c.out, c.vma
}

// Processes returns every process the kernel knows, exited ones included, by PID.
func (k *Kernel) Processes() []*Process {
	ps := make([]*Process, 0, len(k.procs))
	for _, p := range k.procs {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].PID < ps[j].PID })
	return ps
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool { return p.exited }

// WaitStatus returns the wait status of an exited process, as Linux encodes it.
func (p *Process) WaitStatus() int { return p.status }

// Regs returns the registers of p's thread that runs on the CPU the kernel acts on, or else
// of its main thread (see ThreadRegs).
func (k *Kernel) Regs(p *Process) cpu.State {
	if t := k.cur; t != nil && t.proc == p {
		return k.ThreadRegs(t)
	}
	if t := p.mainThread(); t != nil {
		return k.ThreadRegs(t)
	}
	return cpu.State{}
}

// ThreadRegs returns t's registers: its CPU's if it is running, else those saved when it
// last ran.
func (k *Kernel) ThreadRegs(t *Thread) cpu.State {
	var s cpu.State
	if t.on != nil {
		t.on.cpu.Save(&s)
		return s
	}
	return t.regs
}

// TableWalk reads the paging-structure entries that map va in mm's page tables, PML4E first,
// as the MMU would, stopping after a non-present entry or a leaf. It has no side effects and
// makes no permission check (for that, and for the current process, see mmu.Inspect).
func (k *Kernel) TableWalk(mm *MM, va uint64) []mmu.Level {
	var out []mmu.Level
	if mm == nil {
		return nil
	}
	table := mm.pml4 << 12
	for level := 4; level >= 1; level-- {
		idx := pteIndex(va, level)
		ea := table + idx*8
		e := k.readPTE(ea)
		out = append(out, mmu.Level{Level: level, Index: uint(idx), EntryAddr: ea, Entry: e})
		if e&mmu.PTEPresent == 0 || level == 1 || (level <= 3 && e&mmu.PTEPageSize != 0) {
			break
		}
		table = e.Addr()
	}
	return out
}

// Mapping is one reference to a physical frame: from a process's page tables, or from the
// page cache (Cache set, PID 0).
type Mapping struct {
	PID int
	// Cache, when set, is the object whose page Index the frame caches.
	Cache *Inode
	Index uint64
	// SwapSlot, when not zero, is the swap slot whose page the frame holds in the swap
	// cache (the swap cache's own reference).
	SwapSlot uint64
	// Table is true when the frame is a page-table page: Level is its level (4 = the PML4,
	// 1 = a page table) and VA the first linear address it covers. Otherwise the frame is a
	// page mapped at VA by the leaf Entry, at Level (1 for 4 KiB pages).
	Table bool
	Level int
	VA    uint64
	Entry mmu.PTE
	// Kernel, when set, says what the kernel itself uses the frame for (a pipe's buffer, or
	// memory charged for queued signals: kmem.go), PID 0.
	Kernel string
}

// FrameMap walks every live process's page tables and the page cache and returns who refers
// to each frame: the reverse of the page tables (Linux's rmap, computed on demand). Each
// reference a frame's count holds is one Mapping: the page cache's first, then the
// processes' in PID, then address order.
func (k *Kernel) FrameMap() map[uint64][]Mapping {
	m := map[uint64][]Mapping{}
	inodes := make([]*Inode, 0, len(k.cache.inodes))
	for _, ino := range k.cache.inodes {
		inodes = append(inodes, ino)
	}
	sort.Slice(inodes, func(i, j int) bool {
		a, b := inodes[i].id, inodes[j].id
		if a.dev != b.dev {
			return a.dev < b.dev
		}
		if a.ino != b.ino {
			return a.ino < b.ino
		}
		return a.shm < b.shm
	})
	for _, ino := range inodes {
		for _, idx := range ino.sortedPages() {
			pfn := ino.pages[idx]
			m[pfn] = append(m[pfn], Mapping{Cache: ino, Index: idx})
		}
	}
	for _, sl := range k.SwapSlots() {
		if sl.Frame != 0 {
			m[sl.Frame] = append(m[sl.Frame], Mapping{SwapSlot: sl.Slot})
		}
	}
	pipes := make([]*pipe, 0, len(k.pipes))
	for pp := range k.pipes {
		pipes = append(pipes, pp)
	}
	sort.Slice(pipes, func(i, j int) bool { return pipes[i].ino < pipes[j].ino })
	for _, pp := range pipes {
		for _, s := range pp.slots {
			if s.pfn != 0 {
				m[s.pfn] = append(m[s.pfn], Mapping{Kernel: fmt.Sprintf("buffer of pipe:[%d]", pp.ino)})
			}
		}
	}
	for _, pfn := range k.sigFrames {
		m[pfn] = append(m[pfn], Mapping{Kernel: "charged for queued signals"})
	}
	for _, p := range k.Processes() {
		if p.mm == nil {
			continue
		}
		m[p.mm.pml4] = append(m[p.mm.pml4], Mapping{PID: p.PID, Table: true, Level: 4})
		k.mapLevel(m, p.PID, p.mm.pml4, 4, 0)
	}
	return m
}

func (k *Kernel) mapLevel(m map[uint64][]Mapping, pid int, table uint64, level int, base uint64) {
	for i := uint64(0); i < 512; i++ {
		e := k.readPTE(table<<12 + i*8)
		va := canonicalVA(base | i<<(12+9*uint(level-1)))
		if level == 1 && pteMapped(e) {
			// Present, or PROT_NONE holding its frame: a reference either way.
			m[e.Frame()] = append(m[e.Frame()], Mapping{PID: pid, Level: level, VA: va, Entry: e})
			continue
		}
		if e&mmu.PTEPresent == 0 || level == 1 {
			continue
		}
		if e&mmu.PTEPageSize != 0 {
			m[e.Frame()] = append(m[e.Frame()], Mapping{PID: pid, Level: level, VA: va, Entry: e})
			continue
		}
		m[e.Frame()] = append(m[e.Frame()], Mapping{PID: pid, Table: true, Level: level - 1, VA: va})
		k.mapLevel(m, pid, e.Frame(), level-1, va)
	}
}

// canonicalVA sign-extends bit 47.
func canonicalVA(va uint64) uint64 { return uint64(int64(va<<16) >> 16) }

// PeekUser copies p's memory at va into buf through p's page tables, without faulting,
// demand-paging or setting accessed bits (a swapped-out page is read from swap and stays
// there). It returns how many bytes it copied before the
// first page that is not present.
func (k *Kernel) PeekUser(p *Process, va uint64, buf []byte) int {
	done := 0
	mem := k.ram.Bytes()
	for done < len(buf) {
		addr := va + uint64(done)
		if addr < va || !mmu.Canonical(addr) {
			return done
		}
		lv := k.TableWalk(p.MM(), addr)
		if len(lv) == 0 {
			return done
		}
		leaf := lv[len(lv)-1]
		if leaf.Entry&mmu.PTEPresent == 0 {
			chunk := min(uint64(len(buf)-done), 4096-addr&0xfff)
			if leaf.Level != 1 || !isSwapPTE(leaf.Entry) || !k.peekSwapped(leaf.Entry, addr&0xfff, buf[done:done+int(chunk)]) {
				return done
			}
			done += int(chunk) // a swapped-out page, read from swap where it is
			continue
		}
		size := uint64(1) << (12 + 9*uint(leaf.Level-1))
		pa := leaf.Entry.Addr()&^(size-1) | addr&(size-1)
		if pa >= uint64(len(mem)) {
			return done
		}
		chunk := min(uint64(len(buf)-done), size-addr&(size-1), uint64(len(mem))-pa)
		copy(buf[done:], mem[pa:pa+chunk])
		done += int(chunk)
	}
	return done
}

// ResidentPages counts the 4 KiB pages of [start, end) that mm's page tables map now.
func (k *Kernel) ResidentPages(mm *MM, start, end uint64) uint64 {
	var n uint64
	for va := start; va < end; {
		lv := k.TableWalk(mm, va)
		leaf := lv[len(lv)-1]
		span := uint64(1) << (12 + 9*uint(leaf.Level-1))
		next := (va &^ (span - 1)) + span
		if leaf.Entry&mmu.PTEPresent != 0 {
			n += (min(next, end) - va) >> 12
		}
		if next <= va {
			break
		}
		va = next
	}
	return n
}

// String describes the trap the way the debugger shows it.
func (t PendingTrap) String() string {
	who := fmt.Sprintf("pid %d", t.PID)
	if t.TID != t.PID && t.TID != 0 {
		who = fmt.Sprintf("pid %d tid %d", t.PID, t.TID)
	}
	if t.Kind == cpu.TrapSyscall {
		return fmt.Sprintf("%s: system call at rip %#x", who, t.RIP)
	}
	return fmt.Sprintf("%s: %v", who, t.Trap)
}

// SwapUsers walks every live process's page tables and returns the swap entries that name
// each slot: the PID and page of each, in PID, then address order.
func (k *Kernel) SwapUsers() map[uint64][]Mapping {
	out := map[uint64][]Mapping{}
	for _, p := range k.Processes() {
		if p.mm == nil || p.exited {
			continue
		}
		k.visitEntries(p.mm, 0, userTop, func(va, ea uint64, e mmu.PTE) {
			if isSwapPTE(e) {
				slot := swapSlotOf(e)
				out[slot] = append(out[slot], Mapping{PID: p.PID, Level: 1, VA: va, Entry: e})
			}
		})
	}
	return out
}

// FrameReclaimState says what page reclaim knows of a frame: "lru" (the replacement policy
// may take it), "locked" (mlock: taken off the policy's lists), "swap cache slot N",
// "referenced" (a page-cache page read or written since reclaim last looked); "-" for a
// frame reclaim never takes (a page table, or free).
func (k *Kernel) FrameReclaimState(pfn uint64) string {
	kind := k.frames.Kind(pfn)
	if kind != FrameUser && kind != FrameCache {
		return "-"
	}
	fl := k.frames.flags(pfn)
	var parts []string
	switch {
	case fl&flagLRU != 0:
		parts = append(parts, "lru")
	case fl&flagUnevictable != 0:
		parts = append(parts, "locked")
	}
	if fl&flagSwapCache != 0 && k.swap != nil {
		parts = append(parts, fmt.Sprintf("swap cache slot %d", k.swap.cacheSlot[pfn]))
	}
	if fl&flagReferenced != 0 {
		parts = append(parts, "referenced")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// Name returns the object's name: its path, or "[shm]"-style names for shared memory.
func (ino *Inode) Name() string { return ino.name }

// SoftBits names the notes the kernel keeps in a leaf entry: "cow" for a page read-only
// because its frame is shared copy-on-write (software bit 9), "uffd-wp" for a page a
// userfaultfd write-protected (bit 10), "prot-none" for a PROT_NONE page
// that still holds its frame (bit 8 of a not-present entry), "swap 0:17" for a swapped-out
// page (a not-present entry holding swap type 0, slot 17, in Linux's encoding), "guard" for a
// guard page's marker and "uffd-wp marker" for a write-protect marker (guard.go); "" when none.
func SoftBits(e mmu.PTE) string {
	if e&mmu.PTEPresent == 0 {
		switch {
		case e == 0:
			return ""
		case e&pteProtNone != 0:
			return "prot-none"
		case isGuardPTE(e):
			return "guard"
		case isMarkerPTE(e):
			return "uffd-wp marker"
		}
		typ, off := swapEntryOf(e)
		return fmt.Sprintf("swap %d:%d", typ, off)
	}
	var names []string
	if e.Soft()&softCOW != 0 {
		names = append(names, "cow")
	}
	if e.Soft()&softUffdWP != 0 {
		names = append(names, "uffd-wp")
	}
	if rest := e.Soft() &^ (softCOW | softUffdWP); rest != 0 {
		names = append(names, fmt.Sprintf("soft=%d", rest))
	}
	return strings.Join(names, ",")
}

// Live reports whether any thread has not exited yet.
func (k *Kernel) Live() bool { return len(k.runq) > 0 }
