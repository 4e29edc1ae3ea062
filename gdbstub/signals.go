package gdbstub

import "encoding/binary"

// The remote protocol numbers signals gdb's own way (gdb/signals.def, target-independent
// numbers from the BSD tradition), not Linux's. These tables convert; a Linux signal gdb has
// no name for is sent as gdb's "unknown signal".

// Linux x86-64 signal numbers the stub uses (asm/signal.h).
const (
	SIGINT  = 2
	SIGTRAP = 5
	SIGKILL = 9
	SIGSEGV = 11
)

const gdbSignalUnknown = 143

// linuxToGDB maps Linux signals 1-31 to gdb's numbers (0 where gdb has none).
var linuxToGDB = [32]int{
	1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, // HUP INT QUIT ILL TRAP ABRT
	7: 10, 8: 8, 9: 9, 10: 30, 11: 11, 12: 31, // BUS FPE KILL USR1 SEGV USR2
	13: 13, 14: 14, 15: 15, 16: 0, 17: 20, 18: 19, // PIPE ALRM TERM STKFLT CHLD CONT
	19: 17, 20: 18, 21: 21, 22: 22, 23: 16, 24: 24, // STOP TSTP TTIN TTOU URG XCPU
	25: 25, 26: 26, 27: 27, 28: 28, 29: 23, 30: 32, 31: 12, // XFSZ VTALRM PROF WINCH IO PWR SYS
}

// gdb's real-time signals: SIG32 is 77, SIG33-SIG63 are 45-75, SIG64 is 78.
const (
	gdbRealtime32 = 77
	gdbRealtime33 = 45
	gdbRealtime64 = 78
)

// toGDBSignal converts a Linux signal number to gdb's.
func toGDBSignal(sig int) int {
	switch {
	case sig == 0:
		return 0
	case sig > 0 && sig < 32:
		if g := linuxToGDB[sig]; g != 0 {
			return g
		}
	case sig == 32:
		return gdbRealtime32
	case sig >= 33 && sig <= 63:
		return gdbRealtime33 + sig - 33
	case sig == 64:
		return gdbRealtime64
	}
	return gdbSignalUnknown
}

// fromGDBSignal converts gdb's signal number to Linux's (0 if Linux has no such signal).
func fromGDBSignal(g int) int {
	switch {
	case g == 0:
		return 0
	case g == gdbRealtime32:
		return 32
	case g >= gdbRealtime33 && g <= gdbRealtime33+30:
		return g - gdbRealtime33 + 33
	case g == gdbRealtime64:
		return 64
	}
	for sig, x := range linuxToGDB {
		if x == g && sig != 0 {
			return sig
		}
	}
	return 0
}

// Linux's si_code values the stub's siginfo uses (asm-generic/siginfo.h).
const (
	siUser     = 0    // SI_USER: kill()
	siKernel   = 0x80 // SI_KERNEL
	siTkill    = -6   // SI_TKILL: tkill(), tgkill()
	trapBrkpt  = 1    // TRAP_BRKPT
	trapTrace  = 2    // TRAP_TRACE
	trapHWBkpt = 4    // TRAP_HWBKPT
)

// faultSignal reports whether sig is one whose siginfo carries si_addr (the faulting
// address): SIGILL, SIGFPE, SIGSEGV, SIGBUS, and SIGTRAP.
func faultSignal(sig int) bool {
	switch sig {
	case 4, 8, 11, 7, 5:
		return true
	}
	return false
}

// sigInfoBytes builds the 128-byte siginfo_t of x86-64 Linux for a stop: si_signo, si_errno
// and si_code at 0, 4 and 8; from 16 the union, whose first field is si_addr for a fault and
// si_pid (with si_uid at 20) for a signal a process sent.
func sigInfoBytes(s *Stop) []byte {
	b := make([]byte, 128)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(s.Signal))
	le.PutUint32(b[8:], uint32(int32(s.Code)))
	if faultSignal(s.Signal) && s.Code > 0 {
		le.PutUint64(b[16:], s.Addr)
	} else {
		le.PutUint32(b[16:], uint32(s.Addr)) // si_pid of the sender
	}
	return b
}
