package main

import (
	"runtime"
	"syscall"
	"unsafe"
)

// dieOf ends emu by sig with the default action, as a process killed by it ends: the
// handler becomes SIG_DFL (Go's own would print a goroutine dump for SIGQUIT) and no core
// file is written (the guest's death is not emu's crash).
func dieOf(sig syscall.Signal) {
	runtime.LockOSThread() // the mask and the signal below are this thread's
	_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
	var sa struct {
		handler, flags, restorer, mask uint64
	} // struct sigaction as the x86-64 and arm64 kernels take it; handler 0 is SIG_DFL
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0)
	var set uint64 = 1 << (sig - 1)
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 1 /* SIG_UNBLOCK */, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
	_ = syscall.Tgkill(syscall.Getpid(), syscall.Gettid(), sig)
}
