package minikernel

import (
	"fmt"

	"github.com/vmemu/vmemu/tlb"
)

// The event stream. Everything that happens in the kernel is one typed Event, handed to every
// subscriber: tracing, statistics, the debugger and tests all watch the same stream. With no
// subscriber the cost is a length check.

// EventKind is what an event reports.
type EventKind uint8

// Event kinds.
const (
	EvPageFault  EventKind = iota // a #PF was handled: Addr, Code, Outcome, VMA, Frame
	EvSyscall                     // a system call returned: Sysno, Name, Args, Ret
	EvSignal                      // a signal was delivered or killed the process: Signal, Addr
	EvExec                        // execve replaced the process image: Path
	EvExit                        // a process exited: Status
	EvFrame                       // a frame was allocated, shared or freed: Frame, FrameOp, FrameKind, Ref
	EvTLB                         // a TLB filled, evicted, invalidated or flushed: TLB, TLBOp, TLBEntry
	EvFork                        // a process forked: Child
	EvSwitch                      // the scheduler switched from Prev to PID
	EvClone                       // a thread created a thread of its process: Child is its TID
	EvThreadExit                  // a thread of a process that goes on exited: TID, Status
	EvShootdown                   // a TLB shootdown: CPU interrupted Targets to drop Pages (or all) of Addr.., Text why
	EvReclaim                     // page reclaim (reclaim.go): Reclaim says what; Frame, Slot, PID and Addr, Mapped, Path and Index, Text
	EvIPI                         // another interrupt between CPUs: CPU interrupted Targets, Text why (membarrier)
)

var eventNames = [...]string{"fault", "syscall", "signal", "exec", "exit", "frame", "tlb", "fork", "switch",
	"clone", "thread-exit", "shootdown", "reclaim", "ipi"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return fmt.Sprintf("event%d", k)
}

// FaultOutcome is how the kernel resolved a page fault.
type FaultOutcome uint8

// Page-fault outcomes (DESIGN: "the flow of one fault").
const (
	FaultDemandZero  FaultOutcome = iota // a zeroed frame for anonymous memory, bss, heap or stack
	FaultFileRead                        // a frame filled from the mapped file
	FaultCOWCopy                         // a write to a shared frame: copied
	FaultCOWReuse                        // a write to a COW frame nobody else holds: made writable
	FaultStackGrowth                     // the stack VMA was extended down, then demand-zero
	FaultSpurious                        // the page tables already allowed the access (stale TLB)
	FaultSIGSEGV                         // no VMA, or an access the VMA forbids
	FaultSIGBUS                          // a file page beyond the end of the file
	FaultOOM                             // no frame left
	FaultEFAULT                          // a bad pointer handed to a system call
	FaultFileCached                      // a file page already in the page cache was mapped (a minor fault)
	FaultSwapIn                          // a swapped-out page was read back from swap (a major fault)
	FaultSwapCached                      // a swapped-out page still in the swap cache was mapped (a minor fault)
	FaultUserfault                       // handed to the process's userfaultfd: a thread of it resolves the page (userfaultfd.go)
	numFaultOutcomes
)

var outcomeNames = [...]string{"demand-zero", "file-read", "cow-copy", "cow-reuse", "stack-growth",
	"spurious", "SIGSEGV", "SIGBUS", "out-of-memory", "EFAULT", "file-cached", "swap-in", "swap-cached", "userfault"}

// Major reports whether a fault with this outcome had to read the page from a file or from
// swap (Linux's VM_FAULT_MAJOR, counted in ru_majflt); the others are minor.
func (o FaultOutcome) Major() bool { return o == FaultFileRead || o == FaultSwapIn }

func (o FaultOutcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome%d", o)
}

// Event is one thing that happened. Which fields mean something depends on Kind. Pointers
// (VMA) are valid only during the call.
type Event struct {
	Kind  EventKind
	PID   int    // the process
	TID   int    // the thread (equal to PID for a process's first thread)
	CPU   int    // the CPU it happened on
	Insns uint64 // instructions retired so far, by all CPUs (guest time)
	RIP   uint64

	// EvPageFault
	Addr    uint64
	Code    uint32 // the error code the MMU reported
	Outcome FaultOutcome
	VMA     *VMA   // the VMA found, or nil
	Frame   uint64 // the frame mapped (EvPageFault), allocated or freed (EvFrame)
	Kernel  bool   // the fault was taken by the kernel touching user memory for a syscall
	// SigCode is the si_code of the signal a fault raised (SEGV_MAPERR, SEGV_ACCERR,
	// BUS_ADRERR) for FaultSIGSEGV and FaultSIGBUS, and of a fault's EvSignal.
	SigCode int

	// EvSyscall
	Sysno uint64
	Name  string
	Args  [6]uint64
	Ret   int64

	// EvSignal, EvExit
	Signal int
	Status int // wait status as Linux encodes it (EvExit)

	// EvExec
	Path string

	// EvFork, EvClone: the new process's PID, or the new thread's TID
	Child int

	// EvSwitch: the process and thread that ran before on this CPU (0: none)
	Prev    int
	PrevTID int

	// EvShootdown: the CPUs interrupted (a bit per CPU), and how many pages each
	// invalidates from Addr on (-1: a flush of the whole address space)
	Targets uint64
	Pages   int

	// EvFrame (hardware events, hwevents.go): what happened to Frame, and its count after.
	FrameOp   FrameOp
	FrameKind FrameKind
	Ref       uint32

	// EvTLB (hardware events, hwevents.go): which TLB, what it did, and the entry (zero for
	// a flush). Insns is the count at the start of the block the CPU was executing.
	TLB      string
	TLBOp    tlb.EventKind
	TLBEntry tlb.Entry

	// EvReclaim: what happened, the swap slot (Slot), how many PTEs mapped the page
	// (Mapped), and for a file page its name (Path) and page index (Index). Frame, PID, Addr
	// and VMA name the frame and its first mapping; Pages counts frames (ReclaimScan: wanted,
	// ReclaimDone: freed).
	Reclaim ReclaimOp
	Slot    uint64
	Mapped  int
	Index   uint64

	// Free text: the reason for EvSignal, and the policy's reason for EvReclaim.
	Text string
}

// Observer receives events. e is valid only during the call, and an observer must not make
// the kernel act (it watches; it does not run system calls or touch memory through the MMU).
type Observer func(e *Event)

// Subscribe adds an observer; it sees every later event.
func (k *Kernel) Subscribe(o Observer) { k.observers = append(k.observers, o) }

// emit hands e to every observer. Observers get a copy held by the kernel, so e itself never
// escapes: callers build it on the stack, and with no subscriber an event costs nothing but
// the length check (no allocation).
func (k *Kernel) emit(e *Event) { k.emitOn(k.this, e) }

// emitOn is emit for an event that happened on CPU c (nil: this CPU).
func (k *Kernel) emitOn(c *PerCPU, e *Event) {
	if len(k.observers) == 0 {
		return
	}
	if c == nil {
		c = k.this
	}
	ev := &k.emitBuf
	*ev = *e
	ev.Insns = k.retiredElsewhere + k.cpu.Instructions()
	ev.CPU = c.id
	if ev.TID == 0 && ev.PID != 0 {
		ev.TID = ev.PID
		if t := k.cur; t != nil && t.proc.PID == ev.PID {
			ev.TID = t.TID
		}
	}
	for _, o := range k.observers {
		o(ev)
	}
	*ev = Event{} // drop the VMA pointer
}
