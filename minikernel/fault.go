package minikernel

import (
	"errors"
	"fmt"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/mmu"
)

// The page-fault handler: DESIGN's "flow of one fault", Linux's arch/x86/mm/fault.c
// (do_user_addr_fault, access_error) and mm/memory.c (handle_mm_fault, do_anonymous_page,
// do_read_fault, do_cow_fault, do_shared_fault, do_wp_page).
//
// The handler first classifies a fault without changing anything (classifyFault: which VMA,
// which outcome), then carries the decision out (resolveFault). The classification is what a
// debugger shows before the fault is handled.

const (
	stackLimit    = 8 << 20      // RLIMIT_STACK default: how far the stack may grow
	stackGuardGap = 256 << 12    // Linux's stack_guard_gap: keep this far from the VMA below
	userTop       = 1<<47 - 4096 // TASK_SIZE_MAX: the highest user address + 1
)

// Signal codes (include/uapi/asm-generic/siginfo.h) a fault reports in si_code.
const (
	SEGV_MAPERR = 1 // address not mapped to an object
	SEGV_ACCERR = 2 // invalid permissions for the mapped object
	BUS_ADRERR  = 2 // non-existent physical address (a file page past the end of the file)
)

// siCodeName spells a SIGSEGV or SIGBUS si_code.
func siCodeName(sig, code int) string {
	switch {
	case sig == SIGSEGV && code == SEGV_MAPERR:
		return "SEGV_MAPERR"
	case sig == SIGSEGV && code == SEGV_ACCERR:
		return "SEGV_ACCERR"
	case sig == SIGBUS && code == BUS_ADRERR:
		return "BUS_ADRERR"
	case sig == SIGBUS && code == BUS_ADRALN:
		return "BUS_ADRALN"
	case code == siKernel:
		return "SI_KERNEL"
	}
	return fmt.Sprintf("si_code %d", code)
}

// faultAccess turns a #PF error code into the access that faulted.
func faultAccess(code uint32) mmu.Access {
	return mmu.Access(code & (mmu.ErrWrite | mmu.ErrUser | mmu.ErrFetch))
}

// faultClass is what the handler decided about a fault.
type faultClass struct {
	out    FaultOutcome
	vma    *VMA
	siCode int     // SEGV_MAPERR, SEGV_ACCERR or BUS_ADRERR for a signal
	uffd   uint64  // FaultUserfault: the flags of the userfaultfd's message
	pte    mmu.PTE // the leaf entry as it was (zero when absent)
	grow   bool    // the stack VMA must grow down to the page first
}

// classifyFault decides what a fault at addr for acc in p's address space means, without
// changing anything: which VMA covers it and how the handler will resolve it (out of memory
// aside, which only allocation reveals).
func (k *Kernel) classifyFault(p *Process, addr uint64, acc mmu.Access) faultClass {
	mm := p.mm
	v := mm.Find(addr)
	grow := false
	if v == nil {
		if v = k.stackToGrow(p, addr); v == nil {
			return faultClass{out: FaultSIGSEGV, siCode: SEGV_MAPERR}
		}
		grow = true
	}
	if !v.allows(acc) {
		return faultClass{out: FaultSIGSEGV, vma: v, siCode: SEGV_ACCERR}
	}
	page := pageRoundDown(addr)
	pte, _ := k.lookupPTE(mm, page)
	c := faultClass{vma: v, pte: pte, grow: grow}
	if v.uffd != nil && !grow {
		if flags, ok := k.uffdReason(v, page, pte, acc); ok {
			c.out, c.uffd = FaultUserfault, flags // handed to the userfaultfd (userfaultfd.go)
			if v.uffd.features&uffdFeatureSigbus != 0 {
				c.out, c.siCode = FaultSIGBUS, BUS_ADRERR // it asked for SIGBUS instead
			}
			return c
		}
	}
	if pteMapped(pte) {
		switch {
		case pte&mmu.PTEPresent == 0:
			// The entry holds a frame left from a PROT_NONE area that the VMA now allows:
			// the handler restores the entry from the VMA.
			c.out = FaultSpurious
		case pteAllows(pte, acc):
			// The tables already allow it: the CPU used a stale TLB entry (which the fault
			// itself has dropped, SDM Vol. 3A 4.10.4.3), or another path fixed the page.
			c.out = FaultSpurious
		case acc&mmu.Write != 0 && pte&mmu.PTEWrite == 0 && v.shared():
			// A shared page the tables map read-only although its VMA allows writing: the
			// handler makes the entry writable (Linux's wp_page_shared()).
			c.out = FaultSpurious
		case acc&mmu.Write != 0 && pte&mmu.PTEWrite == 0:
			if k.exclusive(pte.Frame()) {
				c.out = FaultCOWReuse
			} else {
				c.out = FaultCOWCopy
			}
		default:
			c.out, c.siCode = FaultSIGSEGV, SEGV_ACCERR
		}
		return c
	}
	switch {
	case isGuardPTE(pte):
		c.out, c.siCode = FaultSIGSEGV, SEGV_MAPERR // a guard page (guard.go)
	case isSwapPTE(pte):
		c.out = FaultSwapIn
		if k.swap != nil {
			if _, ok := k.swap.cache[swapSlotOf(pte)]; ok {
				c.out = FaultSwapCached
			}
		}
	case grow:
		c.out = FaultStackGrowth
	case v.Obj == nil:
		c.out = FaultDemandZero
	default:
		c.out = k.classifyObjectFault(v, page, acc)
		if c.out == FaultSIGBUS {
			c.siCode = BUS_ADRERR
		}
	}
	return c
}

// classifyObjectFault decides a not-present fault on a page of an object's VMA.
func (k *Kernel) classifyObjectFault(v *VMA, page uint64, acc mmu.Access) FaultOutcome {
	f := v.file()
	idx := v.pgoff(page)
	_, cached := f.ino.pages[idx]
	switch {
	case f.kind == fileShm:
		if cached {
			return FaultFileCached
		}
		if _, swapped := f.ino.swapped[idx]; swapped {
			return FaultSwapIn
		}
		return FaultDemandZero
	case idx<<12 >= pageRoundUp(f.ino.size):
		return FaultSIGBUS
	case !v.shared() && acc&mmu.Write != 0:
		return FaultCOWCopy // a private copy of the file's page (do_cow_fault)
	case v.FileEnd != 0 && page+4096 > v.FileEnd:
		return FaultFileRead // a private copy with the tail past FileEnd cleared
	case cached:
		return FaultFileCached
	}
	return FaultFileRead
}

// exclusive reports whether a private frame belongs to one PTE only and may be written in
// place: an anonymous frame with reference count one (do_wp_page's reuse test). A page-cache
// frame is never exclusive: it belongs to the file.
func (k *Kernel) exclusive(pfn uint64) bool {
	return k.frames.Kind(pfn) == FrameUser && k.frames.Ref(pfn) == 1
}

// pteAllows reports whether a present leaf PTE permits the access acc.
func pteAllows(pte mmu.PTE, acc mmu.Access) bool {
	if acc&mmu.User != 0 && pte&mmu.PTEUser == 0 {
		return false
	}
	if acc&mmu.Write != 0 && pte&mmu.PTEWrite == 0 {
		return false
	}
	if acc&mmu.Fetch != 0 && pte&mmu.PTENoExec != 0 {
		return false
	}
	return true
}

// stackToGrow returns the grows-down VMA a fault at addr would extend, as Linux's
// expand_downwards() checks it: addr just below the area, the area's new size within the
// stack rlimit, and at least the guard gap above the accessible VMA below. nil otherwise.
func (k *Kernel) stackToGrow(p *Process, addr uint64) *VMA {
	mm := p.mm
	i := mm.index(addr)
	if i == len(mm.vmas) {
		return nil
	}
	v := mm.vmas[i]
	page := pageRoundDown(addr)
	if v.Flags&VMGrowsDown == 0 || addr >= v.Start || page < mmapMinAddr || v.End-page > p.rlimStack() {
		return nil
	}
	if i > 0 {
		if prev := mm.vmas[i-1]; prev.Prot != 0 && prev.Flags&VMGrowsDown == 0 && page-prev.End < stackGuardGap {
			return nil
		}
	}
	return v
}

// pageFault handles a #PF raised by user code at rip: it maps the page and lets the CPU
// retry the instruction, or sends the signal Linux would (SIGSEGV with SEGV_MAPERR or
// SEGV_ACCERR, SIGBUS with BUS_ADRERR past the end of a file; si_addr the address), with
// the frame's trapno 14, the error code (the user bit set, and the protection bit for a
// kernel address) and cr2, as arch/x86/mm/fault.c:set_signal_archinfo() records them.
func (k *Kernel) pageFault(p *Process, addr uint64, code uint32, rip uint64) {
	if addr >= vsyscallStart && k.vsyscall(p, addr, code, rip) {
		return // a call of the vsyscall page, emulated (vsyscall.go)
	}
	c, frame := k.resolveFault(p, addr, faultAccess(code))
	k.countFault(c.out) // getrusage (rusage.go)
	k.emit(&Event{Kind: EvPageFault, PID: p.PID, RIP: rip, Addr: addr, Code: code, Outcome: c.out,
		VMA: c.vma, Frame: frame, SigCode: c.siCode})
	k.accountFault(p, c, frame)
	sig, why := 0, ""
	switch c.out {
	case FaultSIGSEGV:
		why = "no VMA maps it"
		switch {
		case c.vma != nil && isGuardPTE(c.pte):
			why = fmt.Sprintf("a guard page of the VMA %s", c.vma)
		case c.vma != nil:
			why = fmt.Sprintf("the VMA %s forbids it", c.vma)
		}
		sig, why = SIGSEGV, fmt.Sprintf("%s at address %#x (%s), rip %#x", faultAccess(code), addr, why, rip)
	case FaultSIGBUS:
		sig, why = SIGBUS, fmt.Sprintf("access at address %#x beyond the end of the mapped file, rip %#x", addr, rip)
		if c.vma != nil && c.vma.uffd != nil {
			why = fmt.Sprintf("access at address %#x of an area whose userfaultfd asked for SIGBUS (UFFD_FEATURE_SIGBUS), rip %#x", addr, rip)
		}
	case FaultOOM:
		k.outOfMemory(p, addr, rip)
		return
	case FaultUserfault:
		k.handOver(p, c.vma, addr, c.uffd, -1) // asleep until the page is resolved, or back to take a pending signal
		return
	default:
		return
	}
	errCode := uint64(code | mmu.ErrUser)
	if addr >= userTop {
		errCode |= uint64(mmu.ErrPresent)
	}
	k.cur.sig.trapNr, k.cur.sig.trapErr, k.cur.sig.cr2 = cpu.VecPF, errCode, addr
	k.forceSignal(p, faultSigInfo(sig, c.siCode, addr, why))
}

// oomKill ends p with SIGKILL because no frame was left for its fault at addr. The kernel
// and every other process keep running.
func (k *Kernel) oomKill(p *Process, addr, rip uint64, note string) {
	why := fmt.Sprintf("out of memory: no physical frame for address %#x (RAM %s, %d frames in use%s)%s",
		addr, sizeText(k.ram.Size()), k.frames.Stats().InUse, k.swapText(), note)
	if k.startedOOM(p) {
		// The first program never ran: Spawn or Run reports a RAMTooSmallError instead of
		// a kill line.
		k.startOOM = true
		k.emit(&Event{Kind: EvSignal, PID: p.PID, RIP: rip, Signal: SIGKILL, Text: why})
		k.exit(p, SIGKILL)
		return
	}
	k.killSignal(p, SIGKILL, 0, rip, why)
}

// userFault resolves a fault the kernel took while touching user memory for a system call
// (copyin/copyout, MAP_POPULATE). It reports whether the access can be retried; false means
// EFAULT (or that the process was killed for want of memory).
func (k *Kernel) userFault(p *Process, addr uint64, acc mmu.Access) bool {
	c, frame := k.resolveFault(p, addr, acc)
	k.countFault(c.out)
	if c.out == FaultSIGSEGV || c.out == FaultSIGBUS {
		c.out = FaultEFAULT
	}
	if c.out == FaultUserfault {
		// The system call stops here with EFAULT and sleeps at its end until the page is
		// resolved, then runs again (userfaultfd.go); a userfaultfd for user-mode faults
		// only makes it plain EFAULT.
		t := k.cur
		uc := c.vma.uffd
		if t != nil && t.proc == p && t.sig.sysnr >= 0 && t.uffdPend == nil && !uc.userOnly {
			t.uffdPend = &uffdPending{addr: addr, flags: c.uffd}
		} else {
			c.out = FaultEFAULT
		}
	}
	code := uint32(acc) & (mmu.ErrWrite | mmu.ErrFetch)
	if c.pte&mmu.PTEPresent != 0 {
		code |= mmu.ErrPresent
	}
	k.emit(&Event{Kind: EvPageFault, PID: p.PID, RIP: k.cpu.RIP(), Addr: addr, Code: code, Outcome: c.out,
		VMA: c.vma, Frame: frame, Kernel: true})
	k.accountFault(p, c, frame)
	if c.out == FaultOOM {
		if p.exited {
			return false // an exiting process's last store (clear_child_tid) just fails: it is already gone
		}
		// Another process may die instead; then the copy is retried.
		return k.outOfMemory(p, addr, k.cpu.RIP()) && !p.exited
	}
	return c.out != FaultEFAULT && c.out != FaultUserfault
}

// resolveFault classifies a fault at addr for acc and carries the decision out: it maps a
// page, copies or reuses a copy-on-write frame, grows the stack, or leaves a signal to the
// caller. It returns the decision (FaultOOM when an allocation failed) and the frame mapped.
func (k *Kernel) resolveFault(p *Process, addr uint64, acc mmu.Access) (faultClass, uint64) {
	k.reclaimIfLow(true)
	if v := p.mm.Find(addr); v != nil && v.Obj != nil {
		k.refreshSize(v.file()) // the host may have grown or shrunk a mapped file
	}
	c := k.classifyFault(p, addr, acc)
	switch c.out {
	case FaultSIGSEGV, FaultSIGBUS, FaultUserfault:
		return c, 0
	}
	mm, v, page := p.mm, c.vma, pageRoundDown(addr)
	ea, err := k.walk(mm.pml4, page, true)
	if err != nil {
		c.out = FaultOOM
		return c, 0
	}
	var frame uint64
	switch {
	case pteMapped(c.pte):
		frame, err = k.fixPresent(mm, v, page, ea, c)
	case isSwapPTE(c.pte):
		frame, err = k.swapIn(p, v, page, ea, c.pte, acc)
	default:
		if c.grow {
			v.Start = page
		}
		frame, err = k.fillPage(v, page, ea, c.out)
	}
	if err != nil {
		if errors.Is(err, errBeyondEOF) || errors.Is(err, errSwapIO) {
			c.out, c.siCode = FaultSIGBUS, BUS_ADRERR
		} else {
			c.out = FaultOOM
		}
		return c, 0
	}
	return c, frame
}

// fixPresent resolves a fault on a present PTE: spurious (nothing to do, or a shared page
// made writable), COW reuse (the entry becomes writable in place) or COW copy (a new frame).
// mm/memory.c:do_wp_page().
func (k *Kernel) fixPresent(mm *MM, v *VMA, page, ea uint64, c faultClass) (uint64, error) {
	old := c.pte.Frame()
	switch c.out {
	case FaultSpurious:
		if n := k.protectPTE(v, c.pte); c.pte&mmu.PTEPresent == 0 || (v.shared() && n&mmu.PTEWrite != 0 && c.pte&mmu.PTEWrite == 0) {
			k.writePTE(ea, n)
		}
	case FaultCOWReuse:
		// Permissions only grow: no TLB entry can allow less than the new entry, so no
		// invalidation is needed (SDM Vol. 3A 4.10.4.3); the faulting access's own entry was
		// dropped by the fault.
		k.writePTE(ea, (c.pte|mmu.PTEWrite)&^pteCOW)
	case FaultCOWCopy:
		pfn, err := k.frames.Dup(old, FrameUser)
		if err != nil {
			return 0, err
		}
		k.writePTE(ea, mmu.PTE(pfn<<12)|leafFlags(v.Prot)|mmu.PTEAccessed|mmu.PTEDirty)
		k.frames.Put(old)
		// The frame changed: every TLB must forget the old translation (INVLPG here, a
		// shootdown for the other CPUs running the address space: ptep_clear_flush()).
		k.invalidate(mm, page, "cow")
		return pfn, nil
	}
	return old, nil
}

// fillPage maps a frame for a page whose PTE at ea is not present, as outcome out says:
// a zeroed frame, a page-cache frame (read-only and copy-on-write when private), or a
// private copy of one. P goes from 0 to 1, so no TLB entry can exist for the page and no
// invalidation is needed.
func (k *Kernel) fillPage(v *VMA, page, ea uint64, out FaultOutcome) (uint64, error) {
	if v.Obj == nil {
		pfn, err := k.frames.Alloc(FrameUser)
		if err != nil {
			return 0, err
		}
		k.writePTE(ea, mmu.PTE(pfn<<12)|leafFlags(v.Prot))
		return pfn, nil
	}
	f := v.file()
	cpfn, _, err := k.cachePage(f, v.pgoff(page))
	if err != nil {
		return 0, err
	}
	if v.shared() {
		if f.flags&oAccMode == oRdwr {
			k.shareHostPage(f, v.pgoff(page), cpfn) // the mapping may store to it
		}
		k.frames.Get(cpfn)
		k.writePTE(ea, mmu.PTE(cpfn<<12)|leafFlags(v.Prot))
		return cpfn, nil
	}
	if out == FaultCOWCopy || (v.FileEnd != 0 && page+4096 > v.FileEnd) {
		pfn, err := k.frames.Dup(cpfn, FrameUser)
		if err != nil {
			return 0, err
		}
		if v.FileEnd != 0 && page+4096 > v.FileEnd {
			fr, _ := k.ram.Frame(pfn)
			clear(fr[v.FileEnd-page:]) // Linux's padzero(): the bss part of the last file page
			k.ram.NoteWrite(pfn)
		}
		k.writePTE(ea, mmu.PTE(pfn<<12)|leafFlags(v.Prot))
		return pfn, nil
	}
	// A private page nobody wrote keeps mapping the page cache's frame, read-only; a write
	// will copy it (CS:APP figure 9.30).
	k.frames.Get(cpfn)
	e := mmu.PTE(cpfn<<12) | leafFlags(v.Prot)
	if e&mmu.PTEWrite != 0 {
		e = e&^mmu.PTEWrite | pteCOW
	}
	k.writePTE(ea, e)
	return cpfn, nil
}
