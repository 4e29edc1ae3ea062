package minikernel

import (
	"encoding/binary"
	"slices"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/mmu"
)

// fork and clone: a copy of the calling process whose memory is shared copy-on-write
// (CS:APP 9.8.2), or a thread of it, or anything between (clone's flags).
// Linux's kernel/fork.c (copy_process, dup_mmap) and mm/memory.c (copy_page_range down to
// copy_pte_range): the child gets a copy of every VMA and of the page tables, not of the
// pages. In private writable areas both the parent's and the child's PTEs become read-only
// and carry the software COW bit, and each frame's reference count goes up; shared areas stay
// shared and writable. The parent's TLB may still hold writable translations of the pages
// just write-protected, so its PCID is flushed.

// Clone flags (include/uapi/linux/sched.h).
const (
	cloneSignalMask    = 0x000000ff
	cloneVM            = 0x00000100
	cloneFS            = 0x00000200
	cloneFiles         = 0x00000400
	cloneSighand       = 0x00000800
	clonePidfd         = 0x00001000
	clonePtrace        = 0x00002000
	cloneVfork         = 0x00004000
	cloneParent        = 0x00008000
	cloneThread        = 0x00010000
	cloneNewNS         = 0x00020000
	cloneSysvsem       = 0x00040000
	cloneSettls        = 0x00080000
	cloneParentSettid  = 0x00100000
	cloneChildCleartid = 0x00200000
	cloneDetached      = 0x00400000
	cloneUntraced      = 0x00800000
	cloneChildSettid   = 0x01000000
	cloneIO            = 0x80000000
	// cloneNamespaces are the CLONE_NEW* flags: namespaces are not modelled.
	cloneNamespaces = 0x7e020080
)

// dupMM returns a copy of old for a child: the same VMAs (each taking a reference to its
// object) and page tables that share every frame, copy-on-write where the area is private.
// It write-protects old's PTEs and flushes old's TLB entries when old is loaded. On
// ErrNoMemory nothing is left allocated and old is unchanged apart from write-protection.
func (k *Kernel) dupMM(old *MM) (*MM, error) {
	mm, err := k.newMM()
	if err != nil {
		return nil, err
	}
	mm.brkStart, mm.brk, mm.stackTop, mm.mmapBase = old.brkStart, old.brk, old.stackTop, old.mmapBase
	mm.inheritMMFlags(old)
	mm.undumpable, mm.thpDisable, mm.auxv = old.undumpable, old.thpDisable, old.auxv
	mm.membarrier = old.membarrier
	mm.argStart, mm.argEnd = old.argStart, old.argEnd
	for _, f := range old.exec {
		k.denyWrite(mm, f)
	}
	protected := false
	for _, v := range old.vmas {
		if v.Flags&VMDontCopy != 0 {
			continue
		}
		c := *v
		c.Flags &^= VMLocked | VMLockOnFault // locks are not inherited (dup_mmap())
		c.Flags &^= vmUffd                   // nor userfaultfd registrations (no UFFD_FEATURE_EVENT_FORK)
		c.uffd = nil
		c.file().get()
		mm.vmas = append(mm.vmas, &c)
		if v.Flags&VMWipeOnFork != 0 {
			continue // MADV_WIPEONFORK: the child's copy starts empty (demand-zero)
		}
		p, err := k.copyLevel(old.pml4, mm.pml4, 4, v.Start, v.End, !v.shared())
		protected = protected || p
		if err != nil {
			k.releaseMM(mm)
			k.flushIfProtected(old, protected)
			return nil, err
		}
	}
	k.flushIfProtected(old, protected)
	return mm, nil
}

// flushIfProtected drops old's TLB entries, on every CPU that may hold them, when fork made
// some of its PTEs read-only (dup_mmap's flush_tlb_mm()).
func (k *Kernel) flushIfProtected(old *MM, protected bool) {
	if protected {
		k.flushTLB(&tlbGather{mm: old, all: true, why: "fork"})
	}
}

// copyLevel copies the entries of the parent's table src at level that map [start, end)
// into the child's table dst, allocating the child's lower tables as needed, and shares the
// frames. With cow, writable leaf entries become read-only and copy-on-write in both. It
// reports whether it write-protected any parent entry. Linux's copy_p4d_range() ..
// copy_pte_range() and copy_present_pte().
func (k *Kernel) copyLevel(src, dst uint64, level int, start, end uint64, cow bool) (bool, error) {
	mem := k.ram.Bytes()
	le := binary.LittleEndian
	shift := 12 + 9*uint(level-1)
	protected := false
	for va := start; va < end; {
		next := (va>>shift + 1) << shift
		off := (va >> shift & 511) * 8
		sea, dea := src<<12+off, dst<<12+off
		e := mmu.PTE(le.Uint64(mem[sea:]))
		if level == 1 {
			if pteMapped(e) {
				if cow && e&mmu.PTEWrite != 0 {
					e = e&^mmu.PTEWrite | pteCOW
					le.PutUint64(mem[sea:], uint64(e))
					protected = true
				}
				k.frames.Get(e.Frame())
				// The child has not used the page yet; in a shared area the parent's entry
				// keeps the dirty flag, so the page is written back once (copy_present_pte).
				ce := e &^ (mmu.PTEAccessed | pteUffdWP) // the child's area is not registered
				if !cow {
					ce &^= mmu.PTEDirty
				}
				le.PutUint64(mem[dea:], uint64(ce))
			} else if isMarkerPTE(e) {
				// A guard or write-protect marker (guard.go, copy_pte_marker()).
				le.PutUint64(mem[dea:], uint64(forkMarker(e)))
			} else if e != 0 {
				// A swapped-out page: the child's entry names the same slot
				// (copy_nonpresent_pte() with swap_duplicate()).
				k.swapDup(swapSlotOf(e))
				le.PutUint64(mem[dea:], uint64(e))
			}
		} else if e&mmu.PTEPresent != 0 {
			d := mmu.PTE(le.Uint64(mem[dea:]))
			if d&mmu.PTEPresent == 0 {
				pfn, err := k.frames.Alloc(FrameTable)
				if err != nil {
					return protected, err
				}
				d = mmu.PTE(pfn<<12) | tableFlags
				le.PutUint64(mem[dea:], uint64(d))
			}
			p, err := k.copyLevel(e.Frame(), d.Frame(), level-1, va, min(next, end), cow)
			protected = protected || p
			if err != nil {
				return protected, err
			}
		}
		va = next
	}
	return protected, nil
}

// cloneArgs are clone's and clone3's arguments (struct kernel_clone_args).
type cloneArgs struct {
	flags      uint64
	exitSignal int
	stack      uint64 // the new thread's stack pointer (0: the caller's)
	parentTID  uint64 // CLONE_PARENT_SETTID: where the parent gets the new TID
	childTID   uint64 // CLONE_CHILD_SETTID / CLONE_CHILD_CLEARTID
	tls        uint64 // CLONE_SETTLS: the FS base
	pidfd      uint64 // CLONE_PIDFD: where the parent gets the pidfd
}

// More clone flags: clone3's own (include/uapi/linux/sched.h).
const (
	cloneClearSighand = 0x100000000
	cloneIntoCgroup   = 0x200000000
)

// cloneCheck applies copy_process()'s checks on flag combinations: EINVAL for those that
// make no sense, EPERM for new namespaces (creating them needs privileges the guest does
// not have in this kernel, which models none).
func cloneCheck(p *Process, flags uint64) Errno {
	switch {
	case flags&(cloneNewNS|cloneFS) == cloneNewNS|cloneFS,
		flags&cloneThread != 0 && flags&cloneSighand == 0,
		flags&cloneSighand != 0 && flags&cloneVM == 0,
		flags&cloneClearSighand != 0 && flags&cloneSighand != 0,
		flags&clonePidfd != 0 && flags&(cloneDetached|cloneThread) != 0:
		return EINVAL
	case flags&cloneNamespaces != 0:
		return EPERM
	}
	return 0
}

// clone creates a task from the calling thread t, as Linux's copy_process() does: a thread
// of t's process (CLONE_THREAD), or a new process whose address space, descriptor table,
// filesystem state and signal handlers are shared with t's (CLONE_VM, CLONE_FILES,
// CLONE_FS, CLONE_SIGHAND) or copied (the address space copy-on-write). Its registers are
// t's with RAX = 0 (its return value), RSP = the given stack and FS base = tls when asked.
// It returns the new thread, or EAGAIN (too many tasks: Config.MaxProcs, RLIMIT_NPROC)
// or ENOMEM.
func (k *Kernel) clone(t *Thread, ca *cloneArgs) (*Thread, Errno) {
	p := t.proc
	flags := ca.flags
	if e := cloneCheck(p, flags); e != 0 {
		return nil, e
	}
	if k.tasksInUse() >= k.cfg.MaxProcs {
		return nil, EAGAIN
	}
	if nproc := p.rlimits[rlimitNproc].cur; uint64(k.userTasks(p.cred.ruid)) >= nproc &&
		p.cred.ruid != 0 && !p.cred.capable(capSysRes) && !p.cred.capable(capSysAdm) {
		return nil, EAGAIN // RLIMIT_NPROC counts the user's tasks, threads too (is_rlimit_overlimit)
	}
	if flags&cloneSettls != 0 && ca.tls >= userTop {
		return nil, EPERM
	}
	var mm *MM
	if flags&cloneVM != 0 {
		mm = p.mm
		mm.users++
	} else {
		var err error
		if mm, err = k.dupMM(p.mm); err != nil {
			return nil, ENOMEM
		}
	}
	var c *Thread
	if flags&cloneThread != 0 {
		c = k.newThread(p, 0)
		k.emit(&Event{Kind: EvClone, PID: p.PID, TID: t.TID, RIP: k.cpu.RIP(), Child: c.TID})
	} else {
		parent := p
		if flags&cloneParent != 0 && p.parent != nil {
			parent = p.parent
		}
		q := k.newProcess(parent, 0)
		q.PGID, q.SID, q.persona = p.PGID, p.SID, p.persona
		q.mm = mm
		q.exe = p.exe
		q.rlimits = p.rlimits
		q.oomScoreAdj, q.oomScoreAdjFloor = p.oomScoreAdj, p.oomScoreAdjFloor
		q.exitSignal = ca.exitSignal
		q.cred = p.cred
		q.cred.groups = slices.Clone(p.cred.groups)
		q.ctl = p.ctl.forkChild()
		if flags&cloneParent != 0 {
			q.exitSignal = p.exitSignal // CLONE_PARENT: the child reports as its sibling does
		}
		if flags&cloneFiles != 0 {
			q.fds = p.fds
			q.fds.users++
		} else {
			q.fds = p.fds.clone()
		}
		if flags&cloneFS != 0 {
			q.fs = p.fs
			q.fs.users++
		} else {
			fs := p.fs.clone()
			q.fs = &fs
		}
		switch {
		case flags&cloneSighand != 0:
			q.sig.sigHand = p.sig.sigHand
		case flags&cloneClearSighand != 0:
			h := &sigHand{}
			for i := range h.act {
				if p.sig.act[i].handler == sigIGN {
					h.act[i].handler = sigIGN
				}
			}
			q.sig.sigHand = h
		default:
			h := *p.sig.sigHand
			q.sig.sigHand = &h
		}
		c = k.newThread(q, q.PID)
		k.emit(&Event{Kind: EvFork, PID: p.PID, TID: t.TID, RIP: k.cpu.RIP(), Child: q.PID})
	}
	c.comm = t.comm
	c.affinity = t.affinity
	c.sched = t.sched.forkChild()
	c.sig = t.sig.cloneThread(flags&cloneVM != 0 && flags&cloneVfork == 0)
	k.cpu.Save(&c.regs)
	c.regs.GPR[cpu.RAX] = 0
	if ca.stack != 0 {
		c.regs.GPR[cpu.RSP] = ca.stack
	}
	if flags&cloneSettls != 0 {
		c.regs.FSBase = ca.tls
	}
	if flags&cloneChildSettid != 0 {
		c.setChildTID = ca.childTID
	}
	if flags&cloneChildCleartid != 0 {
		c.clearChildTID = ca.childTID
	}
	return c, 0
}

// userTasks counts the live tasks whose process has real user ID uid.
func (k *Kernel) userTasks(uid uint32) int {
	n := 0
	for _, t := range k.tasks {
		if t.proc.cred.ruid == uid {
			n++
		}
	}
	return n
}

// sysCloneCommon finishes clone and clone3 in the parent: the pidfd and the parent's TID
// word are written, and with CLONE_VFORK the caller sleeps until the child execs or
// exits. It returns the child's TID.
func (k *Kernel) sysCloneCommon(p *Process, ca *cloneArgs) int64 {
	t := k.cur
	c, e := k.clone(t, ca)
	if e != 0 {
		return -int64(e)
	}
	if ca.flags&clonePidfd != 0 {
		fd, e := k.newPidfd(p, c.proc, oCloexec)
		if e != 0 {
			return -int64(e) // Linux fails before the child exists; this is the rare ENFILE case
		}
		var b [4]byte
		le.PutUint32(b[:], uint32(fd))
		k.copyOut(p, ca.pidfd, b[:])
	}
	if ca.flags&cloneParentSettid != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(c.TID))
		k.copyOut(p, ca.parentTID, b[:])
	}
	if ca.flags&cloneVfork != 0 {
		c.vforkParent = t
		t.vforkDone = false
		tid := int64(c.TID)
		// Linux waits for the child killably (wait_for_vfork_done): other signals stay
		// pending until the child lets the address space go.
		return k.block(p, &sleepCall{noSignals: true, retry: func() int64 {
			if t.vforkDone {
				return tid
			}
			return sysBlocks
		}})
	}
	return int64(c.TID)
}

// fork() is clone(SIGCHLD); vfork() is clone(CLONE_VM|CLONE_VFORK|SIGCHLD): the child
// borrows the parent's address space and the parent sleeps until the child execs or exits.
func sysFork(k *Kernel, p *Process, a *[6]uint64) int64 {
	return k.sysCloneCommon(p, &cloneArgs{exitSignal: SIGCHLD})
}

func sysVfork(k *Kernel, p *Process, a *[6]uint64) int64 {
	return k.sysCloneCommon(p, &cloneArgs{flags: cloneVM | cloneVfork, exitSignal: SIGCHLD})
}

// clone(flags, newsp, parent_tid, child_tid, tls): the low byte of flags is the exit
// signal (ignored for a thread); CLONE_PIDFD returns the pidfd through parent_tid, so it
// cannot be combined with CLONE_PARENT_SETTID. CLONE_DETACHED is ignored, as Linux ignores
// it here.
func sysClone(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := a[0] &^ cloneDetached
	ca := &cloneArgs{flags: flags &^ cloneSignalMask, exitSignal: int(flags & cloneSignalMask),
		stack: a[1], parentTID: a[2], childTID: a[3], tls: a[4], pidfd: a[2]}
	if flags&clonePidfd != 0 && flags&cloneParentSettid != 0 {
		return -int64(EINVAL)
	}
	if flags&cloneThread != 0 {
		ca.exitSignal = -1
	}
	return k.sysCloneCommon(p, ca)
}

// clone3(args, size): clone with a struct clone_args of size bytes (64, 80 or 88: the
// versions with set_tid and cgroup; a larger one must be zero beyond what is known, else
// E2BIG). The exit signal is a field, not in flags; stack and stack_size give the stack's
// lowest address and size (RSP starts at their sum). set_tid needs privileges (EPERM);
// CLONE_INTO_CGROUP is not supported (cgroups are not modelled: EINVAL... as a kernel
// without cgroup2 answers). Linux's copy_clone_args_from_user() and clone3_args_valid().
func sysClone3(k *Kernel, p *Process, a *[6]uint64) int64 {
	const ver0, maxSize = 64, 4096
	size := a[1]
	if size < ver0 {
		return -int64(EINVAL)
	}
	if size > maxSize {
		return -int64(E2BIG)
	}
	b := make([]byte, size)
	if _, ok := k.copyIn(p, a[0], b); !ok {
		return -int64(EFAULT)
	}
	for _, x := range b[min(size, 88):] {
		if x != 0 {
			return -int64(E2BIG)
		}
	}
	f := func(i int) uint64 {
		if uint64(i*8+8) > size {
			return 0
		}
		return le.Uint64(b[i*8:])
	}
	flags, exitSignal, stack, stackSize := f(0), f(4), f(5), f(6)
	setTIDSize := f(9)
	known := uint64(0xffffffff) | cloneClearSighand | cloneIntoCgroup
	switch {
	case flags&^known != 0, flags&(cloneSignalMask|cloneDetached) != 0:
		return -int64(EINVAL)
	case exitSignal&^cloneSignalMask != 0 || exitSignal > numSignals:
		return -int64(EINVAL)
	case (stack == 0) != (stackSize == 0):
		return -int64(EINVAL)
	case f(8) != 0 && setTIDSize == 0, setTIDSize > 32:
		return -int64(EINVAL)
	case setTIDSize != 0:
		return -int64(EPERM) // choosing the PID needs CAP_SYS_ADMIN
	case flags&cloneIntoCgroup != 0:
		return -int64(EINVAL)
	}
	ca := &cloneArgs{flags: flags, exitSignal: int(exitSignal), pidfd: f(1), childTID: f(2),
		parentTID: f(3), tls: f(7)}
	if stack != 0 {
		ca.stack = stack + stackSize
	}
	if flags&cloneThread != 0 {
		ca.exitSignal = -1
	}
	return k.sysCloneCommon(p, ca)
}
