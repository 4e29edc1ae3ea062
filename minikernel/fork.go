package minikernel

import (
	"encoding/binary"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/mmu"
)

// fork: a copy of the calling process whose memory is shared copy-on-write (CS:APP 9.8.2).
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
	for _, f := range old.exec {
		k.denyWrite(mm, f)
	}
	protected := false
	for _, v := range old.vmas {
		if v.Flags&VMDontCopy != 0 {
			continue
		}
		c := *v
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

// flushIfProtected drops old's TLB entries when fork made some of its PTEs read-only.
func (k *Kernel) flushIfProtected(old *MM, protected bool) {
	if protected {
		k.flushMM(old)
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
				ce := e &^ mmu.PTEAccessed
				if !cow {
					ce &^= mmu.PTEDirty
				}
				le.PutUint64(mem[dea:], uint64(ce))
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

// fork creates a child of p: a copy of its address space (copy-on-write), of its
// descriptors, signal dispositions and mask, and of its registers with RAX = 0 (the child's
// return value). newSP, when not zero, is the child's stack pointer; tls, when settls, its FS
// base. It returns the child, or EAGAIN (too many processes) or ENOMEM.
func (k *Kernel) fork(p *Process, newSP uint64, settls bool, tls uint64, exitSignal int) (*Process, Errno) {
	if len(k.procs) >= k.cfg.MaxProcs {
		return nil, EAGAIN
	}
	mm, err := k.dupMM(p.mm)
	if err != nil {
		return nil, ENOMEM
	}
	c := k.newProcess(p)
	c.mm = mm
	c.exe = p.exe
	c.fds = p.fds.clone()
	c.fs = p.fs.clone()
	c.sig = p.sig.forkChild()
	c.exitSignal = exitSignal
	k.cpu.Save(&c.regs)
	c.regs.GPR[cpu.RAX] = 0
	if newSP != 0 {
		c.regs.GPR[cpu.RSP] = newSP
	}
	if settls {
		c.regs.FSBase = tls
	}
	c.insns = 0
	k.emit(&Event{Kind: EvFork, PID: p.PID, RIP: k.cpu.RIP(), Child: c.PID})
	return c, 0
}

// fork() and vfork(). vfork is done as fork: the parent is not suspended, which a program
// that follows vfork's rules (the child only calls execve or _exit) cannot tell.
func sysFork(k *Kernel, p *Process, a *[6]uint64) int64 {
	c, e := k.fork(p, 0, false, 0, SIGCHLD)
	if e != 0 {
		return -int64(e)
	}
	return int64(c.PID)
}

// clone(flags, newsp, parent_tid, child_tid, tls) for the flag sets that create a process:
// glibc's fork (CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD), musl's (SIGCHLD), and
// posix_spawn's CLONE_VM|CLONE_VFORK, done as fork with the new stack. A new thread
// (CLONE_VM without CLONE_VFORK, or CLONE_THREAD) is refused with ENOSYS: threads are not
// implemented, and ENOSYS says so rather than pretending the flags were wrong. Flag
// combinations Linux rejects give EINVAL as in kernel/fork.c:copy_process().
func sysClone(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := a[0]
	switch {
	case flags&cloneSighand != 0 && flags&cloneVM == 0,
		flags&cloneThread != 0 && flags&cloneSighand == 0,
		flags&cloneFS != 0 && flags&cloneNewNS != 0,
		flags&cloneParent != 0 && p == k.init:
		return -int64(EINVAL)
	case flags&cloneNamespaces != 0:
		return -int64(EPERM) // creating namespaces needs privileges the guest does not have
	case flags&cloneThread != 0, flags&cloneVM != 0 && flags&cloneVfork == 0:
		return -int64(ENOSYS)
	case flags&(cloneFiles|clonePidfd|clonePtrace) != 0:
		return -int64(ENOSYS) // sharing a descriptor table or pidfds between processes: not yet
	}
	if flags&cloneParentSettid != 0 {
		var b [4]byte
		if _, ok := k.copyIn(p, a[2], b[:]); !ok {
			return -int64(EFAULT)
		}
	}
	c, e := k.fork(p, a[1], flags&cloneSettls != 0, a[4], int(flags&cloneSignalMask))
	if e != 0 {
		return -int64(e)
	}
	if flags&cloneParent != 0 && p.parent != nil {
		// The child's parent is the caller's parent.
		p.children = p.children[:len(p.children)-1]
		c.parent, c.PPID = p.parent, p.parent.PID
		p.parent.children = append(p.parent.children, c)
	}
	if flags&cloneParentSettid != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(c.PID))
		k.copyOut(p, a[2], b[:])
	}
	if flags&cloneChildSettid != 0 {
		c.setChildTID = a[3]
	}
	if flags&cloneChildCleartid != 0 {
		c.clearChildTID = a[3]
	}
	return int64(c.PID)
}
