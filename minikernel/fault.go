package minikernel

import (
	"errors"
	"fmt"
	"io"

	"vmemu/mmu"
)

// The page-fault handler: DESIGN's "flow of one fault", Linux's arch/x86/mm/fault.c
// (do_user_addr_fault) and mm/memory.c (handle_mm_fault, do_anonymous_page, do_fault).

const (
	stackLimit    = 8 << 20      // RLIMIT_STACK default: how far the stack may grow
	stackGuardGap = 256 << 12    // Linux's stack_guard_gap: keep this far from the VMA below
	userTop       = 1<<47 - 4096 // TASK_SIZE_MAX: the highest user address + 1
)

// faultAccess turns a #PF error code into the access that faulted.
func faultAccess(code uint32) mmu.Access {
	return mmu.Access(code & (mmu.ErrWrite | mmu.ErrUser | mmu.ErrFetch))
}

// pageFault handles a #PF raised by user code at rip: it maps the page and lets the CPU
// retry the instruction, or delivers the signal Linux would.
func (k *Kernel) pageFault(p *Process, addr uint64, code uint32, rip uint64) {
	out, v, frame := k.resolveFault(p.mm, addr, faultAccess(code))
	k.emit(&Event{Kind: EvPageFault, PID: p.PID, RIP: rip, Addr: addr, Code: code, Outcome: out,
		VMA: v, Frame: frame})
	switch out {
	case FaultSIGSEGV:
		why := "no VMA maps it"
		if v != nil {
			why = fmt.Sprintf("the VMA %s forbids it", v)
		}
		k.killSignal(p, SIGSEGV, rip, fmt.Sprintf("%s at address %#x (%s), rip %#x",
			faultAccess(code), addr, why, rip))
	case FaultSIGBUS:
		k.killSignal(p, SIGBUS, rip, fmt.Sprintf("access at address %#x beyond the end of the mapped file, rip %#x", addr, rip))
	case FaultOOM:
		k.killSignal(p, SIGKILL, rip, fmt.Sprintf("out of memory: no physical frame for address %#x (RAM %d MiB)",
			addr, k.ram.Size()>>20))
	}
}

// userFault resolves a fault the kernel took while touching user memory for a system call
// (copyin/copyout). It reports whether the access can be retried; false means EFAULT.
func (k *Kernel) userFault(p *Process, addr uint64, acc mmu.Access) bool {
	out, v, frame := k.resolveFault(p.mm, addr, acc)
	if out == FaultSIGSEGV || out == FaultSIGBUS {
		out = FaultEFAULT
	}
	code := uint32(acc) & (mmu.ErrWrite | mmu.ErrFetch)
	if pte, _ := k.lookupPTE(p.mm, addr); pte&mmu.PTEPresent != 0 {
		code |= mmu.ErrPresent
	}
	k.emit(&Event{Kind: EvPageFault, PID: p.PID, RIP: k.cpu.RIP(), Addr: addr, Code: code, Outcome: out,
		VMA: v, Frame: frame, Kernel: true})
	if out == FaultOOM {
		k.killSignal(p, SIGKILL, k.cpu.RIP(), fmt.Sprintf("out of memory: no physical frame for address %#x", addr))
		return false
	}
	return out != FaultEFAULT
}

// resolveFault decides what a fault at addr for acc means and, when it can, fixes it by
// mapping a page. It returns the outcome, the VMA involved and the frame mapped.
func (k *Kernel) resolveFault(mm *MM, addr uint64, acc mmu.Access) (FaultOutcome, *VMA, uint64) {
	v := mm.Find(addr)
	grew := false
	if v == nil {
		if v = k.growStack(mm, addr); v == nil {
			return FaultSIGSEGV, nil, 0
		}
		grew = true
	}
	if !v.allows(acc) {
		return FaultSIGSEGV, v, 0
	}
	page := pageRoundDown(addr)
	ea, err := k.walk(mm.pml4, page, true)
	if err != nil {
		return FaultOOM, v, 0
	}
	pte := k.readPTE(ea)
	if pte&mmu.PTEPresent != 0 {
		if pteAllows(pte, acc) {
			// The tables already allow it: the CPU used a stale TLB entry, which the
			// fault itself has invalidated. Retrying is enough.
			return FaultSpurious, v, pte.Frame()
		}
		return FaultSIGSEGV, v, pte.Frame()
	}
	frame, out, err := k.populate(v, page)
	switch {
	case errors.Is(err, ErrNoMemory):
		return FaultOOM, v, 0
	case errors.Is(err, errBeyondEOF):
		return FaultSIGBUS, v, 0
	case err != nil:
		return FaultSIGBUS, v, 0
	}
	// P goes from 0 to 1: no TLB entry can exist for it, so no invalidation is needed
	// (SDM Vol. 3A 4.10.4.3).
	k.writePTE(ea, mmu.PTE(frame<<12)|leafFlags(v.Prot))
	if grew {
		out = FaultStackGrowth
	}
	return out, v, frame
}

// pteAllows reports whether a present leaf PTE permits a user access acc.
func pteAllows(pte mmu.PTE, acc mmu.Access) bool {
	if pte&mmu.PTEUser == 0 {
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

var errBeyondEOF = errors.New("page beyond the end of the file")

// populate returns a new frame holding the contents of page in VMA v: the file's bytes
// for a file-backed page (zeros past FileEnd), zeros otherwise.
func (k *Kernel) populate(v *VMA, page uint64) (uint64, FaultOutcome, error) {
	frame, err := k.frames.Alloc(FrameUser)
	if err != nil {
		return 0, 0, err
	}
	if v.Obj == nil || page >= v.FileEnd {
		return frame, FaultDemandZero, nil
	}
	f, err := k.ram.Frame(frame)
	if err != nil {
		k.frames.Put(frame)
		return 0, 0, err
	}
	n := min(4096, v.FileEnd-page)
	off := int64(v.Off + (page - v.Start))
	got, err := v.Obj.ReadAt(f[:n], off)
	if err != nil && !(errors.Is(err, io.EOF) && got > 0) {
		clear(f[:])
		k.frames.Put(frame)
		if errors.Is(err, io.EOF) {
			return 0, 0, errBeyondEOF
		}
		return 0, 0, err
	}
	clear(f[got:n])
	k.ram.NoteWrite(frame)
	return frame, FaultFileRead, nil
}

// growStack extends a grows-down VMA (the stack) down to cover addr, as Linux's
// expand_stack does: within the stack rlimit, and not closer than the guard gap to the
// VMA below. It returns the VMA, or nil when addr is not a stack access.
func (k *Kernel) growStack(mm *MM, addr uint64) *VMA {
	i := mm.index(addr)
	if i == len(mm.vmas) {
		return nil
	}
	v := mm.vmas[i]
	if v.Flags&VMGrowsDown == 0 || addr >= v.Start {
		return nil
	}
	page := pageRoundDown(addr)
	if v.End-page > stackLimit {
		return nil
	}
	if i > 0 && mm.vmas[i-1].End+stackGuardGap > page {
		return nil
	}
	v.Start = page
	return v
}
