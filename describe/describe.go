// Package describe turns what the machine did and holds into the words the user reads:
// kernel events as one trace line, VMAs as /proc/PID/maps writes them, page-table entries and
// TLB entries as permission letters, #PF error codes bit by bit, system calls as strace writes
// them. The trace, the statistics, the stepping debugger, the gdb stub's monitor and the web
// view all speak through it, so the same state reads the same everywhere.
//
// It reads the kernel's and the hardware's types and never changes them; it knows nothing of
// terminals, protocols or flags.
package describe

import (
	"fmt"
	"strings"
	"sync"

	"github.com/vmemu/vmemu/internal/safetext"
	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// VMAName is what a VMA is called: "[heap]", "[stack]", the file path, or "[anon]".
func VMAName(v *minikernel.VMA) string {
	switch {
	case v == nil:
		return "-"
	case v.Name != "":
		return v.Name
	case v.Obj != nil:
		return v.Obj.Name()
	}
	return "[anon]"
}

// VMAProt is the VMA's protection as /proc/PID/maps shows it: "rw-p".
func VMAProt(v *minikernel.VMA) string {
	s := "p"
	if v.Flags&minikernel.VMShared != 0 {
		s = "s"
	}
	return v.Prot.String() + s
}

// VMADesc is "[heap] 0x405000-0x426000 rw-p", or "none" for no VMA.
func VMADesc(v *minikernel.VMA) string {
	if v == nil {
		return "none"
	}
	return fmt.Sprintf("%s %#x-%#x %s", safetext.Escape(VMAName(v)), v.Start, v.End, VMAProt(v))
}

// PTELetters spells a leaf entry's rights and status as seven letters, "-" for a clear bit:
// r (present, so readable), w (R/W), x (not XD), u (U/S), g (G), a (A), d (D).
func PTELetters(e mmu.PTE) string {
	if e&mmu.PTEPresent == 0 {
		return "-------"
	}
	b := []byte("r------")
	set := func(i int, on bool, c byte) {
		if on {
			b[i] = c
		}
	}
	set(1, e&mmu.PTEWrite != 0, 'w')
	set(2, e&mmu.PTENoExec == 0, 'x')
	set(3, e&mmu.PTEUser != 0, 'u')
	set(4, e&mmu.PTEGlobal != 0, 'g')
	set(5, e&mmu.PTEAccessed != 0, 'a')
	set(6, e&mmu.PTEDirty != 0, 'd')
	return string(b)
}

// TLBLetters spells a TLB entry's cached rights the same way. A valid entry was filled by a
// walk that set A, so r and a are always on.
func TLBLetters(p tlb.Perm) string {
	b := []byte("r----a-")
	if p&tlb.PermWrite != 0 {
		b[1] = 'w'
	}
	if p&tlb.PermNoExec == 0 {
		b[2] = 'x'
	}
	if p&tlb.PermUser != 0 {
		b[3] = 'u'
	}
	if p&tlb.PermGlobal != 0 {
		b[4] = 'g'
	}
	if p&tlb.PermDirty != 0 {
		b[6] = 'd'
	}
	return string(b)
}

// FaultAccess is the access a #PF error code reports: "user write", "supervisor read".
func FaultAccess(code uint32) string {
	return mmu.Access(code & (mmu.ErrWrite | mmu.ErrUser | mmu.ErrFetch)).String()
}

// ErrorCodeBits spells out each bit of a #PF error code (SDM Vol. 3A 4.7).
func ErrorCodeBits(code uint32) string {
	parts := []string{"P=0 page not present", "W=0 read", "U=0 supervisor mode", "", ""}
	if code&mmu.ErrPresent != 0 {
		parts[0] = "P=1 protection violation"
	}
	if code&mmu.ErrWrite != 0 {
		parts[1] = "W=1 write"
	}
	if code&mmu.ErrUser != 0 {
		parts[2] = "U=1 user mode"
	}
	if code&mmu.ErrReserved != 0 {
		parts[3] = "RSVD=1 reserved bit set"
	}
	if code&mmu.ErrFetch != 0 {
		parts[4] = "I=1 instruction fetch"
	}
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

// errnoNames are Linux's errno names (include/uapi/asm-generic/errno-base.h, errno.h).
//
// An array the linker lays out (as the other tables here, nothing is built when emu starts).
var errnoNames = [...]string{1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO",
	6: "ENXIO", 7: "E2BIG", 8: "ENOEXEC", 9: "EBADF", 10: "ECHILD", 11: "EAGAIN", 12: "ENOMEM",
	13: "EACCES", 14: "EFAULT", 16: "EBUSY", 17: "EEXIST", 18: "EXDEV", 19: "ENODEV", 20: "ENOTDIR",
	21: "EISDIR", 22: "EINVAL", 23: "ENFILE", 24: "EMFILE", 25: "ENOTTY", 26: "ETXTBSY", 27: "EFBIG",
	28: "ENOSPC", 29: "ESPIPE", 30: "EROFS", 31: "EMLINK", 32: "EPIPE", 33: "EDOM", 34: "ERANGE",
	35: "EDEADLK", 36: "ENAMETOOLONG", 38: "ENOSYS", 39: "ENOTEMPTY", 40: "ELOOP", 80: "ELIBBAD",
	95: "EOPNOTSUPP", 110: "ETIMEDOUT",
	// The kernel's restart codes (include/linux/errno.h): a system call a signal interrupted
	// returns one; the return to user mode turns it into EINTR or a restart.
	512: "ERESTARTSYS", 513: "ERESTARTNOINTR", 514: "ERESTARTNOHAND", 516: "ERESTART_RESTARTBLOCK"}

// ErrnoName returns "EFAULT" for a return value of -14, or "" when ret is not an error.
func ErrnoName(ret int64) string {
	if ret >= 0 || ret < -4095 {
		return ""
	}
	if -ret < int64(len(errnoNames)) && errnoNames[-ret] != "" {
		return errnoNames[-ret]
	}
	return fmt.Sprintf("errno%d", -ret)
}

// syscallArgc is how many arguments each system call takes, so a trace shows only those. It
// is built at first use: a run without a trace never needs it.
var syscallArgc = sync.OnceValue(func() map[string]int {
	return map[string]int{"read": 3, "write": 3, "open": 3, "close": 1, "stat": 2,
		"fstat": 2, "lstat": 2, "poll": 3, "lseek": 3, "mmap": 6, "mprotect": 3, "munmap": 2, "brk": 1,
		"rt_sigaction": 4, "rt_sigprocmask": 4, "rt_sigreturn": 0, "ioctl": 3, "pread64": 4,
		"pwrite64": 4, "readv": 3, "writev": 3, "access": 2, "pipe": 1, "sched_yield": 0, "mremap": 5,
		"madvise": 3, "dup": 1, "dup2": 2, "nanosleep": 2, "getpid": 0, "clone": 5, "fork": 0,
		"vfork": 0, "execve": 3, "exit": 1, "wait4": 4, "kill": 2, "uname": 1, "fcntl": 3, "getcwd": 2,
		"chdir": 1, "unlink": 1, "getuid": 0, "getgid": 0, "geteuid": 0, "getegid": 0, "getppid": 0,
		"arch_prctl": 2, "gettid": 0, "futex": 6, "set_tid_address": 1, "clock_gettime": 2,
		"exit_group": 1, "tgkill": 3, "openat": 4, "newfstatat": 4, "set_robust_list": 2, "pipe2": 2,
		"dup3": 3, "prlimit64": 4, "getrandom": 3, "rseq": 4, "statx": 5, "clock_nanosleep": 4,
		"pause": 0, "getitimer": 2, "alarm": 1, "setitimer": 3, "rt_sigpending": 2, "rt_sigtimedwait": 4,
		"rt_sigqueueinfo": 3, "rt_sigsuspend": 2, "sigaltstack": 2, "restart_syscall": 0, "tkill": 2}
})

// SyscallText is "write(0x1, 0x402000, 0xd) = 13" or "... = -14 EFAULT".
func SyscallText(e *minikernel.Event) string {
	n, ok := syscallArgc()[e.Name]
	if !ok {
		n = 6
	}
	args := make([]string, n)
	for i := range args {
		args[i] = fmt.Sprintf("%#x", e.Args[i])
	}
	s := fmt.Sprintf("%s(%s) = %d", e.Name, strings.Join(args, ", "), e.Ret)
	if en := ErrnoName(e.Ret); en != "" {
		s += " " + en
	}
	return s
}

// ExitText describes a wait status: "exit code 0" or "killed by SIGSEGV".
func ExitText(status int) string {
	if sig := status & 0x7f; sig != 0 {
		return "killed by " + minikernel.SignalName(sig)
	}
	return fmt.Sprintf("exit code %d", status>>8&0xff)
}

// EventText is the one-line text form of an event, without the common prefix.
func EventText(e *minikernel.Event) string {
	switch e.Kind {
	case minikernel.EvPageFault:
		s := fmt.Sprintf("%s at %#x  rip %#x  code %#x [%s]  vma %s  => %s", FaultAccess(e.Code), e.Addr, e.RIP,
			e.Code, mmu.DecodeErrorCode(e.Code), VMADesc(e.VMA), e.Outcome)
		if e.Frame != 0 && FaultMaps(e.Outcome) {
			s += fmt.Sprintf(", frame %#x", e.Frame)
		}
		if e.Kernel {
			s += "  (taken by the kernel copying for a system call)"
		}
		return s
	case minikernel.EvSyscall:
		return SyscallText(e)
	case minikernel.EvSignal:
		return fmt.Sprintf("%s at rip %#x: %s", minikernel.SignalName(e.Signal), e.RIP, safetext.Escape(e.Text))
	case minikernel.EvExec:
		return fmt.Sprintf("%s  entry %#x", safetext.Escape(e.Path), e.RIP)
	case minikernel.EvExit:
		return fmt.Sprintf("%s (wait status %#x)", ExitText(e.Status), e.Status)
	case minikernel.EvFork:
		return fmt.Sprintf("child pid %d", e.Child)
	case minikernel.EvSwitch:
		if e.Prev == 0 {
			return fmt.Sprintf("to %s", TaskName(e.PID, e.TID))
		}
		return fmt.Sprintf("from %s to %s", TaskName(e.Prev, e.PrevTID), TaskName(e.PID, e.TID))
	case minikernel.EvClone:
		return fmt.Sprintf("new thread tid %d", e.Child)
	case minikernel.EvThreadExit:
		return fmt.Sprintf("thread tid %d %s (its process goes on)", e.TID, ExitText(e.Status))
	case minikernel.EvShootdown:
		what := "flush of the address space"
		switch {
		case e.Pages == 1:
			what = fmt.Sprintf("invlpg %#x", e.Addr)
		case e.Pages > 1:
			what = fmt.Sprintf("invlpg %d pages from %#x", e.Pages, e.Addr)
		}
		return fmt.Sprintf("cpu%d -> %s: %s (%s)", e.CPU, minikernel.CPUMask(e.Targets), what, e.Text)
	case minikernel.EvIPI:
		return fmt.Sprintf("cpu%d -> %s: %s", e.CPU, minikernel.CPUMask(e.Targets), e.Text)
	case minikernel.EvFrame:
		return fmt.Sprintf("%-5s %#x %s, ref %d", e.FrameOp, e.Frame, e.FrameKind, e.Ref)
	case minikernel.EvReclaim:
		return ReclaimText(e)
	case minikernel.EvTLB:
		if e.TLBOp == tlb.EvFlush {
			return fmt.Sprintf("%s flush", e.TLB)
		}
		te := &e.TLBEntry
		return fmt.Sprintf("%s %-10s va %#x -> pa %#x  %s pcid %d %s", e.TLB, e.TLBOp, te.VPN<<12, te.PFN<<12,
			te.Size, te.PCID, TLBLetters(te.Perm))
	}
	return safetext.Escape(e.Text)
}

// ReclaimText is the text of a reclaim event: "swap-out frame 0x123 (pid 2 0x7f0000001000
// [anon], 1 PTE) -> slot 17: lru: inactive and not referenced".
func ReclaimText(e *minikernel.Event) string {
	switch e.Reclaim {
	case minikernel.ReclaimScan:
		return fmt.Sprintf("scan for %d frames: %s", e.Pages, safetext.Escape(e.Text))
	case minikernel.ReclaimDone:
		return fmt.Sprintf("done: %d frames reclaimed (%s)", e.Pages, e.Text)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s frame %#x", e.Reclaim, e.Frame)
	var where []string
	if e.Path != "" {
		where = append(where, fmt.Sprintf("%s page %d", safetext.Escape(e.Path), e.Index))
	}
	if e.PID != 0 {
		where = append(where, fmt.Sprintf("pid %d %#x %s", e.PID, e.Addr, VMAName(e.VMA)))
	}
	if e.Mapped > 1 {
		where = append(where, fmt.Sprintf("%d PTEs", e.Mapped))
	} else if e.Mapped == 1 {
		where = append(where, "1 PTE")
	}
	if len(where) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(where, ", "))
	}
	switch e.Reclaim {
	case minikernel.ReclaimSwapOut:
		fmt.Fprintf(&b, " -> slot %d", e.Slot)
	case minikernel.ReclaimSwapIn:
		fmt.Fprintf(&b, " <- slot %d", e.Slot)
	}
	if e.Text != "" {
		fmt.Fprintf(&b, ": %s", safetext.Escape(e.Text))
	}
	return b.String()
}

// FaultMaps reports whether a fault with this outcome left a frame mapped.
func FaultMaps(o minikernel.FaultOutcome) bool {
	switch o {
	case minikernel.FaultDemandZero, minikernel.FaultFileRead, minikernel.FaultFileCached, minikernel.FaultCOWCopy,
		minikernel.FaultCOWReuse, minikernel.FaultStackGrowth, minikernel.FaultSpurious, minikernel.FaultSwapIn,
		minikernel.FaultSwapCached:
		return true
	}
	return false
}

// TLBGeometry is one line of geometry: "DTLB 256 entries 4-way, 32 large, lru".
func TLBGeometry(c tlb.Config) string {
	assoc := fmt.Sprintf("%d-way", c.Ways)
	if c.Ways == c.Entries {
		assoc = "fully associative"
	}
	return fmt.Sprintf("%s %d entries %s, %d large, %s", c.Name, c.Entries, assoc, c.LargeEntries, c.Policy)
}

// TaskName is "pid 2", or "pid 2.5" for thread 5 of process 2.
func TaskName(pid, tid int) string {
	if tid != 0 && tid != pid {
		return fmt.Sprintf("pid %d.%d", pid, tid)
	}
	return fmt.Sprintf("pid %d", pid)
}
