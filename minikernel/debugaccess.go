package minikernel

import (
	"errors"
	"fmt"
	"os"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/mmu"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// What a debugger outside the machine may do to a process, as Linux lets a tracer do it
// with ptrace: read and write its memory (access_process_vm), see each signal before it is
// delivered and cancel or change it (ptrace_signal), and send it one. The gdb stub reaches
// the kernel only through these and the inspection accessors (inspect.go).

// ErrNoAccess is the error of a debugger access to an address the process cannot reach:
// no VMA covers it, or (for a write) the mapping cannot be written even by force.
var ErrNoAccess = errors.New("no memory at this address in the process")

// ReadMemory copies p's memory at va into buf as p would read it, and returns how many
// bytes it copied before the first address p has no memory at. It changes nothing: no
// accessed bit, no TLB fill, no page made present. A page the process has not touched yet
// reads as the fault handler would fill it: zeros for anonymous memory, the file's bytes
// (from the page cache, or the file) for a file mapping; a page wholly past the end of its
// file, where an access would raise SIGBUS, ends the read, as do PROT_NONE areas.
func (k *Kernel) ReadMemory(p *Process, va uint64, buf []byte) (int, error) {
	mem := k.ram.Bytes()
	return k.byPage(p, va, len(buf), func(page, off uint64, lo, hi int) error {
		dst := buf[lo:hi]
		pte, _ := k.lookupPTE(p.mm, page)
		if pteMapped(pte) {
			pa := pte.Frame()<<12 + off
			if pa+uint64(len(dst)) > uint64(len(mem)) {
				return ErrNoAccess
			}
			copy(dst, mem[pa:])
			return nil
		}
		if isGuardPTE(pte) {
			return ErrNoAccess // a guard page (guard.go): GUP fails on it
		}
		if isSwapPTE(pte) {
			if !k.peekSwapped(pte, off, dst) {
				return ErrNoAccess
			}
			return nil
		}
		v := p.mm.Find(page + off)
		switch {
		case v == nil || v.Prot == 0:
			return ErrNoAccess
		case v.Obj == nil:
			clear(dst)
		case !k.peekFilePage(v, page, off, dst):
			return ErrNoAccess
		}
		return nil
	})
}

// byPage calls fn for each piece of [va, va+n) that lies within one page, in order, with
// the page, the piece's offset in it and its bounds [lo, hi) in the caller's buffer. It
// stops at fn's first error, or at an address no user process can have, and returns how
// many bytes fn dealt with.
func (k *Kernel) byPage(p *Process, va uint64, n int, fn func(page, off uint64, lo, hi int) error) (int, error) {
	if p == nil || p.mm == nil {
		return 0, ErrNoAccess
	}
	done := 0
	for done < n {
		addr := va + uint64(done)
		if addr < va || addr >= userTop {
			return done, ErrNoAccess
		}
		page := pageRoundDown(addr)
		off := addr - page
		hi := done + int(min(uint64(n-done), 4096-off))
		if err := fn(page, off, done, hi); err != nil {
			return done, err
		}
		done = hi
	}
	return done, nil
}

// peekFilePage copies the bytes at offset off of the page at linear address page of a file
// mapping, as the fault handler would fill it, without filling the page cache. It reports
// false for a page past the end of the file.
func (k *Kernel) peekFilePage(v *VMA, page, off uint64, dst []byte) bool {
	f := v.file()
	if f == nil || f.ino == nil {
		return false
	}
	idx := v.pgoff(page)
	var b [4096]byte
	switch pfn, cached := f.ino.pages[idx]; {
	case cached:
		copy(b[:], k.ram.Bytes()[pfn<<12:])
	case f.kind == fileShm:
		k.shmPeekSwapped(f.ino, idx, b[:]) // zeros unless it is in swap
	case idx<<12 >= pageRoundUp(f.ino.size):
		return false
	case f.hfd >= 0:
		n := min(uint64(4096), f.ino.size-idx<<12)
		for got := uint64(0); got < n; {
			r, err := hostfs.Pread(f.hfd, b[got:n], int64(idx<<12+got))
			if err != 0 || r <= 0 {
				break
			}
			got += uint64(r)
		}
	}
	if v.FileEnd != 0 && page+4096 > v.FileEnd {
		clear(b[v.FileEnd-page:]) // the tail of an ELF segment's last file page
	}
	copy(dst, b[off:])
	return true
}

// WriteMemory stores data into p's memory at va as ptrace's POKEDATA does (a forced write,
// FOLL_FORCE): a page not present is filled first as a write fault would fill it; a page
// p may not write, in a private mapping, gets a private copy first (program text stays
// read-only to p, but the debugger's change is p's alone, not the file's); a shared mapping
// is written only where p could write it. It returns how many bytes it stored before the
// first address it could not write.
func (k *Kernel) WriteMemory(p *Process, va uint64, data []byte) (int, error) {
	mem := k.ram.Bytes()
	return k.byPage(p, va, len(data), func(page, off uint64, lo, hi int) error {
		pfn, err := k.writablePage(p, page)
		if err != nil {
			return err
		}
		copy(mem[pfn<<12+off:], data[lo:hi])
		k.ram.NoteWrite(pfn) // decoded instructions of the frame must be decoded again
		return nil
	})
}

// writablePage returns the frame a debugger's write to page goes to, making one as a forced
// write fault would (mm/memory.c with FOLL_FORCE: a copy-on-write break even where the VMA
// is not writable, leaving the entry as the VMA's protection says).
func (k *Kernel) writablePage(p *Process, page uint64) (uint64, error) {
	mm := p.mm
	v := mm.Find(page)
	if v == nil || v.Prot == 0 || (v.shared() && v.Prot&ProtWrite == 0) {
		return 0, ErrNoAccess
	}
	ea, err := k.walk(mm.pml4, page, true)
	if err != nil {
		return 0, fmt.Errorf("out of memory for a page table: %w", err)
	}
	pte := k.readPTE(ea)
	if isGuardPTE(pte) {
		return 0, ErrNoAccess // a guard page (guard.go)
	}
	if isSwapPTE(pte) {
		return k.swapIn(p, v, page, ea, pte, mmu.Write) // p's own copy, read back from swap
	}
	if !pteMapped(pte) {
		out := FaultDemandZero
		if v.Obj != nil {
			out = FaultCOWCopy // a private copy of the file's page (FaultFileRead when shared)
			if v.shared() {
				out = FaultFileRead
			}
		}
		pfn, err := k.fillPage(v, page, ea, out)
		if err != nil {
			return 0, err
		}
		return pfn, nil
	}
	old := pte.Frame()
	if v.shared() || (k.frames.Kind(old) == FrameUser && k.frames.Ref(old) == 1) {
		return old, nil // the page is p's own (or the file's, shared): write it in place
	}
	// A frame shared copy-on-write, or the page cache's: p gets its own copy, mapped with
	// the VMA's protection (read-only for program text) and no longer copy-on-write.
	pfn, err := k.frames.Dup(old, FrameUser)
	if err != nil {
		return 0, err
	}
	e := mmu.PTE(pfn<<12) | leafFlags(v.Prot) | pte&(mmu.PTEAccessed|mmu.PTEDirty)
	if pte&mmu.PTEPresent == 0 {
		e = pte&^mmu.PTE(mmu.PTEAddrMask) | mmu.PTE(pfn<<12) // a PROT_NONE entry stays one
	}
	k.writePTE(ea, e)
	k.frames.Put(old)
	k.invalidate(mm, page, "debugger write")
	return pfn, nil
}

// Auxv returns the auxiliary vector execve gave p, as /proc/PID/auxv shows it (pairs of
// little-endian words, ending with AT_NULL).
func (p *Process) Auxv() []byte {
	if p.mm == nil {
		return nil
	}
	return p.mm.auxv
}

// SignalTracer is a debugger's signal-delivery stop (Linux's ptrace_signal()): the kernel
// calls it with a thread of a traced process and its signal, as siginfo_t bytes, when it has
// dequeued the signal and is about to act on it, and delivers the signal the tracer returns
// instead (0 cancels it). The thread is current and its registers are where the signal finds
// it; the call may take as long as the debugger likes.
type SignalTracer func(t *Thread, info []byte) (sig int)

// SetTracer installs (or, with nil, removes) the debugger's signal-delivery stop.
func (k *Kernel) SetTracer(t SignalTracer) { k.tracer = t }

// SetTraced marks p as debugged (its threads' signals go to the tracer, and a fatal signal
// waits for delivery instead of ending the process at once, so the debugger sees it) or not.
func (p *Process) SetTraced(on bool) { p.traced = on }

// Traced reports whether p is debugged.
func (p *Process) Traced() bool { return p.traced }

// traceSignal gives info to the tracer and returns what to deliver, or false when the
// tracer cancelled it. A different signal replaces the siginfo with one from the tracer
// (SI_USER), and is queued again if p blocks it, as ptrace_signal() does.
func (k *Kernel) traceSignal(t *Thread, info sigInfo) (sigInfo, bool) {
	sig := k.tracer(t, info.bytes())
	switch {
	case sig <= 0 || sig > numSignals || t.exited || t.proc.exited:
		return sigInfo{}, false
	case sig == info.signo():
		return info, true
	}
	info = userSigInfo(sig, siUser, nil)
	if t.sig.mask&sigBit(sig) != 0 {
		k.queueSignal(t.proc, t, info)
		return sigInfo{}, false
	}
	return info, true
}

// SendSignal sends sig to p as a debugger does when it resumes p with a signal that p was
// not stopped for (si_code SI_USER).
func (k *Kernel) SendSignal(p *Process, sig int) {
	k.generate(p, userSigInfo(sig, siUser, nil), false)
}

// SendThreadSignal sends sig to thread t of its process, as tgkill() does (SI_TKILL).
func (k *Kernel) SendThreadSignal(t *Thread, sig int) {
	k.generateThread(t, userSigInfo(sig, siTkill, nil))
}

// SetThreadRegs replaces t's registers: its CPU's if it is running, else those saved for
// it. RFLAGS keeps the bits a program cannot change (as ptrace's SETREGS keeps them).
func (k *Kernel) SetThreadRegs(t *Thread, s cpu.State) {
	const settable = cpu.ArithFlags | cpu.FlagTF | cpu.FlagDF | cpu.FlagAC
	old := k.ThreadRegs(t)
	s.RFLAGS = old.RFLAGS&^settable | s.RFLAGS&settable
	if t.on != nil {
		t.on.cpu.Load(&s)
		return
	}
	t.regs = s
}

// OrigRAX is Linux's orig_rax for t: the number of the system call it is in (one a signal
// interrupted, to be restarted or to fail with EINTR), or -1.
func (t *Thread) OrigRAX() int64 { return t.sig.sysnr }

// SetOrigRAX changes it, as a debugger does (-1 keeps an interrupted system call from being
// restarted, when it makes the thread call a function).
func (t *Thread) SetOrigRAX(v int64) { t.sig.sysnr = v }

// OpenFile opens the file path names for p (relative to its working directory, inside the
// machine's root) for reading, as a debugger reads a program's files: gdb's symbols come
// from the files the guest itself uses.
func (k *Kernel) OpenFile(p *Process, name string) (*os.File, error) {
	cwd := int64(atFdcwd)
	abs, e := k.absPath(p, uint64(cwd), name)
	if e == 0 {
		if exe, ok := k.magicExe(p, abs); ok {
			abs = exe
		}
		var fd int
		if fd, e = k.hostOpen(abs, oRdonly, 0); e == 0 {
			return os.NewFile(uintptr(fd), name), nil
		}
	}
	return nil, &os.PathError{Op: "open", Path: name, Err: hostfs.Errno(e)}
}

// LastCPU returns the number of the CPU the thread runs on, or last ran on.
func (t *Thread) LastCPU() int {
	if t.on != nil {
		return t.on.id
	}
	return t.lastCPU
}

// Interrupt asks for the machine back on behalf of a debugger (gdb's Ctrl-C): a wait on the
// host the kernel is in (a read of the terminal) ends, and the system call is restarted when
// the program resumes, as after a signal the tracer discarded. It may be called from any
// goroutine.
func (k *Kernel) Interrupt() {
	k.hs.debugWake.Store(true)
	k.poke()
}

// Cmdline returns p's command line as /proc/PID/cmdline shows it: the argument strings
// execve laid out on its stack, each ending in a NUL, as they are now in its memory.
func (k *Kernel) Cmdline(p *Process) []byte {
	if p.mm == nil || p.mm.argEnd <= p.mm.argStart {
		return nil
	}
	b := make([]byte, p.mm.argEnd-p.mm.argStart)
	n, _ := k.ReadMemory(p, p.mm.argStart, b)
	return b[:n]
}

// Cwd returns p's working directory, as getcwd() tells p.
func (k *Kernel) Cwd(p *Process) string {
	if p.fs == nil || p.fs.cwd == nil {
		return ""
	}
	dir, _ := k.guestPathOf(p.fs.cwd.fd)
	return dir
}
