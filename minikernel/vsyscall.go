package minikernel

import (
	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/mmu"
)

// The vsyscall page, in Linux's default vsyscall=xonly mode: the page at
// 0xffffffffff600000 that old binaries call for gettimeofday, time and getcpu. It is mapped
// nowhere: a call to one of its three entry points faults, and the page-fault handler runs
// the system call and returns to the caller, as arch/x86/entry/vsyscall's
// emulate_vsyscall() does. Any other access to the page (reading it, or jumping into it
// elsewhere) is SIGSEGV. /proc/PID/maps shows the page as [vsyscall] --xp.

const (
	vsyscallStart = 0xffffffffff600000
	vsyscallEnd   = vsyscallStart + 4096
)

// vsyscall handles a fault at addr: when it is a call of one of the page's entry points it
// runs the call and reports true; false means the fault is an ordinary one (a SIGSEGV for
// any other access to the page).
func (k *Kernel) vsyscall(p *Process, addr uint64, code uint32, rip uint64) bool {
	if addr < vsyscallStart || addr >= vsyscallEnd || rip != addr || code&mmu.ErrFetch == 0 {
		return false // not an instruction fetch at the faulting address
	}
	var fn syscallFn
	var name string
	switch addr - vsyscallStart {
	case 0x000:
		fn, name = sysGettimeofday, "gettimeofday"
	case 0x400:
		fn, name = sysTime, "time"
	case 0x800:
		fn, name = sysGetcpu, "getcpu"
	default:
		// A jump into the middle of the page: "misaligned vsyscall", SIGSEGV from the
		// kernel (si_code SI_KERNEL, no address), as emulate_vsyscall() sends it.
		k.forceSignal(p, faultSigInfo(SIGSEGV, siKernel, 0, "a jump into the vsyscall page that is not an entry point"))
		return true
	}
	c := k.cpu
	sp := c.Reg(cpu.RSP)
	var ret [8]byte
	if _, ok := k.copyIn(p, sp, ret[:]); !ok {
		k.forceSignal(p, faultSigInfo(SIGSEGV, siKernel, 0, "a vsyscall with a bad stack"))
		return true
	}
	a := [6]uint64{c.Reg(cpu.RDI), c.Reg(cpu.RSI), c.Reg(cpu.RDX)}
	r := fn(k, p, &a)
	if r == -int64(EFAULT) {
		// A bad pointer: SIGSEGV from the kernel, as emulate_vsyscall() sends it.
		k.forceSignal(p, faultSigInfo(SIGSEGV, siKernel, 0, "a vsyscall with a bad pointer"))
		return true
	}
	c.SetReg(cpu.RAX, uint64(r))
	c.SetReg(cpu.RSP, sp+8)
	c.SetRIP(le.Uint64(ret[:]))
	k.emit(&Event{Kind: EvSyscall, PID: p.PID, TID: k.cur.TID, RIP: rip, Sysno: vsyscallNr(name),
		Name: name + " (vsyscall)", Args: a, Ret: r})
	return true
}

// vsyscallNr is the system call a vsyscall entry stands for.
func vsyscallNr(name string) uint64 {
	switch name {
	case "gettimeofday":
		return 96
	case "time":
		return 201
	}
	return 309 // getcpu
}
