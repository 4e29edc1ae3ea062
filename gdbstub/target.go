// Package gdbstub is a GDB remote stub: it speaks the Remote Serial Protocol (GDB manual,
// appendix E) over TCP or a Unix socket and lets gdb debug the emulated machine's guest
// programs at the source level: registers, memory, software and hardware breakpoints,
// watchpoints, stepping, signals, threads, fork and exec events, shared libraries, and the
// emulator's own views through `monitor`.
//
// The stub knows the protocol and the x86-64 Linux conventions gdb expects (the register
// layout, signal numbers, siginfo, the SVR4 link map); it talks to the machine only through
// the Target interface, which the emulator's command line implements. It knows nothing of
// the kernel's internals, and the kernel knows nothing of it.
package gdbstub

import (
	"io"
	"io/fs"

	"github.com/vmemu/vmemu/cpu"
)

// File is a file gdb reads through the stub (an *os.File, or contents the target makes up,
// such as /proc/PID/maps).
type File interface {
	io.ReaderAt
	io.Closer
	Stat() (fs.FileInfo, error)
}

// ThreadID names a thread as gdb's multiprocess extensions do: pPID.TID. A single-threaded
// process has TID == PID.
type ThreadID struct {
	PID, TID int
}

// Thread is one thread of a debugged process.
type Thread struct {
	ID   ThreadID
	Name string // the command name (comm), as /proc/PID/task/TID/comm shows it
	Core int    // the emulated CPU it runs on (or last ran on)
}

// Registers is a thread's register state as gdb sees it: the architectural state, and
// orig_rax, Linux's record of the system call a thread is in (-1 when it is in none), which
// gdb reads to restart an interrupted call correctly.
type Registers struct {
	cpu.State
	OrigRAX int64
}

// BreakKind is the kind of a Z packet: 0 software breakpoint, 1 hardware breakpoint, 2 write
// watchpoint, 3 read watchpoint, 4 access watchpoint.
type BreakKind uint8

// Breakpoint and watchpoint kinds, numbered as Z packets number them.
const (
	SoftwareBreak BreakKind = iota
	HardwareBreak
	WriteWatch
	ReadWatch
	AccessWatch
)

func (k BreakKind) String() string {
	switch k {
	case SoftwareBreak:
		return "breakpoint"
	case HardwareBreak:
		return "hardware breakpoint"
	case WriteWatch:
		return "write watchpoint"
	case ReadWatch:
		return "read watchpoint"
	case AccessWatch:
		return "access watchpoint"
	}
	return "unknown"
}

// Breakpoint is what a Z packet inserts. For a breakpoint Len is gdb's "kind" (the size of
// the breakpoint instruction it has in mind, 1 on x86); for a watchpoint it is the number of
// bytes watched from Addr.
type Breakpoint struct {
	Kind BreakKind
	Addr uint64
	Len  uint64
}

// Action is what a resume asks of one thread (vCont;ACTION:THREAD, or s, c, S, C).
type Action struct {
	Thread ThreadID // TID -1: every thread of the process; PID -1: every process
	Step   bool     // run one instruction and stop
	// Signal (a Linux signal number, 0 for none) is delivered to the thread as it resumes:
	// the signal it stopped with, passed on, or one gdb's `signal` command names.
	Signal int
}

// StopKind says why the target stopped.
type StopKind uint8

// The reasons a Resume ends.
const (
	// StopSignal: a thread stopped with Signal (SIGTRAP after a step, a breakpoint or a
	// watchpoint; SIGINT after an interrupt; the signal being delivered to it otherwise).
	StopSignal    StopKind = iota
	StopExited             // the process exited with Status (its exit code)
	StopKilled             // the process was killed by Signal
	StopFork               // the thread forked: Child is the new process's thread
	StopVFork              // the thread vforked: Child is the new process's thread
	StopVForkDone          // the vfork child released the parent's memory (exec or exit)
	StopExec               // the thread's process executed Path
	StopNoResumed          // nothing is left to run
)

// Stop describes why Resume returned.
type Stop struct {
	Kind   StopKind
	Thread ThreadID
	Signal int // Linux signal number
	Status int // exit code, for StopExited
	// The signal's siginfo, for StopSignal: si_code and si_addr (the faulting address of a
	// SIGSEGV or SIGBUS; the PID of the sender for a signal kill() sent).
	Code int
	Addr uint64
	// Why a SIGTRAP stop happened, for gdb: "swbreak" or "hwbreak" (a breakpoint at the
	// thread's RIP), "watch", "rwatch" or "awatch" (a watchpoint on WatchAddr), or "" (a
	// single step, or a stop of the emulator's own, which Note explains).
	Reason    string
	WatchAddr uint64
	Child     ThreadID // StopFork, StopVFork
	Path      string   // StopExec: the new program, as the guest named it
	// Note is shown on gdb's console before the stop (the emulator's explanation of a stop
	// gdb has no words for, such as a page fault caught before the kernel handles it).
	Note string
}

// Target is the machine as the stub needs it. Calls come from one goroutine, one at a time;
// only Resume's interrupted callback may be called while Resume runs.
type Target interface {
	// Threads lists the threads of the processes gdb is attached to, in a stable order.
	Threads() []Thread
	// Registers returns a thread's registers; SetRegisters replaces them.
	Registers(t ThreadID) (Registers, error)
	SetRegisters(t ThreadID, r Registers) error
	// ReadMemory copies the process's memory at addr into buf, through its page tables and
	// without side effects on them (no accessed or dirty bit set, no TLB fill, no page made
	// present), and returns how many bytes it could read before an address the process
	// cannot read. WriteMemory stores data there, as ptrace does: a read-only private page
	// (program text) gets a private copy first.
	ReadMemory(pid int, addr uint64, buf []byte) (int, error)
	WriteMemory(pid int, addr uint64, data []byte) (int, error)
	// InsertBreakpoint and RemoveBreakpoint manage breakpoints and watchpoints. A software
	// breakpoint does not change the process's memory.
	InsertBreakpoint(pid int, bp Breakpoint) error
	RemoveBreakpoint(pid int, bp Breakpoint) error
	// Resume runs the machine as the actions say until something stops a thread gdb
	// debugs, and says what. interrupted reports whether gdb has asked to stop (Ctrl-C):
	// Resume then stops with SIGINT soon after.
	Resume(actions []Action, interrupted func() bool) Stop
	// Kill ends a process (SIGKILL); Detach lets it run on without the debugger (its
	// breakpoints and watchpoints removed).
	Kill(pid int) error
	Detach(pid int) error
	// Auxv returns the process's auxiliary vector as it lies on its stack (the bytes of
	// /proc/PID/auxv); ExecFile the path of its program.
	Auxv(pid int) ([]byte, error)
	ExecFile(pid int) (string, error)
	// Monitor runs an emulator command (gdb's `monitor CMD`) and returns what it prints.
	Monitor(cmd string) (string, error)
	// OpenFile opens a file for reading as the process sees it (its path resolved inside
	// the emulator's --root), for gdb to read the program's and the libraries' symbols, and
	// its /proc files.
	OpenFile(pid int, path string) (File, error)
	// Readlink reads a symbolic link as the process sees it (gdb asks for /proc/PID/exe
	// and /proc/PID/cwd).
	Readlink(pid int, path string) (string, error)
	// ReportEvents says which events gdb wants as stops of their own (qSupported): fork,
	// vfork and exec. A process forked while fork events are off is not debugged; an
	// exec while exec events are off is reported as a SIGTRAP, as Linux reports it to a
	// tracer that did not ask for exec events.
	ReportEvents(fork, vfork, exec bool)
}
