package minikernel

import (
	"fmt"
	"io"

	"vmemu/cpu"
	"vmemu/mmu"
)

// Errno is a Linux error number; a system call returns -errno.
type Errno int64

// Linux errno values (include/uapi/asm-generic/errno-base.h, errno.h).
const (
	EPERM        Errno = 1
	ENOENT       Errno = 2
	EINTR        Errno = 4
	EIO          Errno = 5
	EBADF        Errno = 9
	ECHILD       Errno = 10
	EAGAIN       Errno = 11
	ENOMEM       Errno = 12
	EACCES       Errno = 13
	EFAULT       Errno = 14
	EEXIST       Errno = 17
	ENOTDIR      Errno = 20
	EISDIR       Errno = 21
	EINVAL       Errno = 22
	EMFILE       Errno = 24
	ENOTTY       Errno = 25
	EFBIG        Errno = 27
	ESPIPE       Errno = 29
	EPIPE        Errno = 32
	ERANGE       Errno = 34
	ENAMETOOLONG Errno = 36
	ENOSYS       Errno = 38
)

// System-call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
const (
	sysRead      = 0
	sysWrite     = 1
	sysBrk       = 12
	sysExit      = 60
	sysArchPrctl = 158
	sysExitGroup = 231
)

// syscallFn implements one system call. It returns the value for RAX: a result, or -errno.
type syscallFn func(k *Kernel, p *Process, a *[6]uint64) int64

type syscallEntry struct {
	name string
	fn   syscallFn
}

var syscalls = map[uint64]syscallEntry{
	sysRead:      {"read", sysReadFn},
	sysWrite:     {"write", sysWriteFn},
	sysBrk:       {"brk", sysBrkFn},
	sysExit:      {"exit", sysExitFn},
	sysArchPrctl: {"arch_prctl", sysArchPrctlFn},
	sysExitGroup: {"exit_group", sysExitFn},
}

// SyscallName returns the name of system call nr ("" if the kernel does not know it).
func SyscallName(nr uint64) string { return syscalls[nr].name }

// syscall runs the system call the current process asked for. SYSCALL has already put the
// return address in RCX and RFLAGS in R11; the result goes to RAX, as on Linux.
func (k *Kernel) syscall(p *Process) {
	c := k.cpu
	nr := c.Reg(cpu.RAX)
	a := [6]uint64{c.Reg(cpu.RDI), c.Reg(cpu.RSI), c.Reg(cpu.RDX), c.Reg(cpu.R10), c.Reg(cpu.R8), c.Reg(cpu.R9)}
	e, ok := syscalls[nr]
	var ret int64
	if ok {
		ret = e.fn(k, p, &a)
	} else {
		ret = -int64(ENOSYS)
		e.name = fmt.Sprintf("syscall_%d", nr)
	}
	if !p.exited {
		c.SetReg(cpu.RAX, uint64(ret))
	}
	k.emit(&Event{Kind: EvSyscall, PID: p.PID, RIP: c.RIP(), Sysno: nr, Name: e.name, Args: a, Ret: ret})
}

func sysExitFn(k *Kernel, p *Process, a *[6]uint64) int64 {
	k.exitProcess(p, int(a[0]))
	return 0
}

// maxRW is the most a single read or write transfers (Linux's MAX_RW_COUNT).
const maxRW = 0x7ffff000

func (k *Kernel) fdWriter(fd uint64) io.Writer {
	switch fd {
	case 1:
		return k.stdout
	case 2:
		return k.stderr
	}
	return nil
}

// write(fd, buf, count): bytes the guest wrote go to the host descriptor. A bad buffer is
// EFAULT, or a short write of what could be read before it.
func sysWriteFn(k *Kernel, p *Process, a *[6]uint64) int64 {
	w := k.fdWriter(a[0])
	if w == nil {
		return -int64(EBADF)
	}
	count := min(a[2], maxRW)
	var buf [4096]byte
	var done uint64
	for done < count {
		n := min(count-done, uint64(len(buf)))
		got, ok := k.copyIn(p, a[1]+done, buf[:n])
		if got > 0 {
			if _, err := w.Write(buf[:got]); err != nil {
				break
			}
			done += uint64(got)
		}
		if !ok {
			if done == 0 {
				return -int64(EFAULT)
			}
			break
		}
	}
	return int64(done)
}

// read(fd, buf, count) from the guest's standard input.
func sysReadFn(k *Kernel, p *Process, a *[6]uint64) int64 {
	if a[0] != 0 {
		return -int64(EBADF)
	}
	if k.stdin == nil {
		return 0
	}
	count := min(a[2], maxRW, 1<<16)
	buf := make([]byte, count)
	n, err := k.stdin.Read(buf)
	if n == 0 && err != nil && err != io.EOF {
		return -int64(EIO)
	}
	if got, ok := k.copyOut(p, a[1], buf[:n]); !ok {
		if got == 0 {
			return -int64(EFAULT)
		}
		return int64(got)
	}
	return int64(n)
}

// brk(addr) moves the program break, as Linux's mm/mmap.c:brk does: the heap VMA grows or
// shrinks, and the call returns the new break, or the old one when the request is refused.
func sysBrkFn(k *Kernel, p *Process, a *[6]uint64) int64 {
	mm := p.mm
	want := a[0]
	if want < mm.brkStart {
		return int64(mm.brk)
	}
	oldEnd, newEnd := pageRoundUp(mm.brk), pageRoundUp(want)
	switch {
	case newEnd == oldEnd:
	case newEnd < oldEnd:
		k.unmap(mm, newEnd, oldEnd)
	default:
		// The new heap must not run into the next mapping (or its stack guard gap).
		i := mm.index(oldEnd)
		if newEnd > userTop || (i < len(mm.vmas) && mm.vmas[i].Start < newEnd+stackGuardGap &&
			mm.vmas[i].Flags&VMGrowsDown != 0) || (i < len(mm.vmas) && mm.vmas[i].Start < newEnd) {
			return int64(mm.brk)
		}
		if heap := mm.Find(oldEnd - 1); heap != nil && heap.Name == "[heap]" && heap.End == oldEnd {
			heap.End = newEnd
		} else {
			mm.insert(&VMA{Start: oldEnd, End: newEnd, Prot: ProtRead | ProtWrite, Name: "[heap]"})
		}
	}
	mm.brk = want
	return int64(want)
}

// arch_prctl(code, addr): set or get the FS and GS bases.
func sysArchPrctlFn(k *Kernel, p *Process, a *[6]uint64) int64 {
	const (
		archSetGS = 0x1001
		archSetFS = 0x1002
		archGetFS = 0x1003
		archGetGS = 0x1004
	)
	var buf [8]byte
	switch a[0] {
	case archSetFS:
		if a[1] >= userTop {
			return -int64(EPERM)
		}
		k.cpu.SetFSBase(a[1])
	case archSetGS:
		if a[1] >= userTop {
			return -int64(EPERM)
		}
		k.cpu.SetGSBase(a[1])
	case archGetFS, archGetGS:
		v := k.cpu.FSBase()
		if a[0] == archGetGS {
			v = k.cpu.GSBase()
		}
		for i := range buf {
			buf[i] = byte(v >> (8 * i))
		}
		if _, ok := k.copyOut(p, a[1], buf[:]); !ok {
			return -int64(EFAULT)
		}
	default:
		return -int64(EINVAL)
	}
	return 0
}

// unmap removes [start, end) from mm: the VMAs are trimmed or split, the PTEs cleared, the
// frames released, and the TLB told (INVLPG per page, or a PCID flush for a large range).
func (k *Kernel) unmap(mm *MM, start, end uint64) {
	mm.removeRange(start, end)
	flushed := 0
	for va := start; va < end; va += 4096 {
		pte, ea := k.lookupPTE(mm, va)
		if ea == 0 {
			va = va | 0x1fffff - 0xfff // no page table here: skip to the next 2 MiB
			continue
		}
		if pte&mmu.PTEPresent == 0 {
			continue
		}
		k.writePTE(ea, 0)
		k.frames.Put(pte.Frame())
		flushed++
		if flushed <= tlbFlushCeiling {
			k.invalidate(mm, va)
		}
	}
	if flushed > tlbFlushCeiling {
		k.flushMM(mm)
	}
}

// tlbFlushCeiling is how many single-page invalidations are worth doing before a whole
// flush is cheaper (Linux's tlb_single_page_flush_ceiling).
const tlbFlushCeiling = 33

// invalidate drops va's translation from the TLB if mm is loaded; otherwise it notes that
// mm's PCID must be flushed when it is next loaded.
func (k *Kernel) invalidate(mm *MM, va uint64) {
	if k.cur != nil && k.cur.mm == mm {
		k.mmu.Invlpg(va)
	} else {
		mm.needFlush = true
	}
}

// flushMM drops every translation of mm.
func (k *Kernel) flushMM(mm *MM) {
	if k.cur != nil && k.cur.mm == mm {
		_ = k.mmu.Invpcid(mmu.InvpcidSingle, mm.pcid, 0)
	} else {
		mm.needFlush = true
	}
}
