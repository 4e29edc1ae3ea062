package web

import (
	"fmt"
	"sync"

	"github.com/vmemu/vmemu/describe"
	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/mmu"
)

// Event is one entry of the timeline (GET /api/events): a kernel event along guest time.
// Which fields are set depends on Kind.
type Event struct {
	Seq   uint64 `json:"seq"`   // 1, 2, 3, ... in the order the events happened
	Insns uint64 `json:"insns"` // guest time: instructions retired
	Kind  string `json:"kind"`  // fault, syscall, signal, exec, exit, fork, clone, thread-exit, switch, shootdown, tlb
	PID   int    `json:"pid"`
	TID   int    `json:"tid"`
	CPU   int    `json:"cpu"`
	RIP   Hex    `json:"rip"`
	Text  string `json:"text"` // one line, as emu's trace writes it

	// fault
	Addr     Hex    `json:"addr,omitempty"`
	Code     uint32 `json:"error_code,omitempty"`
	CodeBits string `json:"error_bits,omitempty"`
	CodeText string `json:"error_text,omitempty"`
	Access   string `json:"access,omitempty"`
	Outcome  string `json:"outcome,omitempty"`
	VMA      *VMA   `json:"vma,omitempty"`
	Frame    uint64 `json:"frame,omitempty"`
	Kernel   bool   `json:"kernel,omitempty"` // taken by the kernel copying for a system call

	// syscall
	Syscall string `json:"syscall,omitempty"`
	Nr      uint64 `json:"nr,omitempty"`
	Args    []Hex  `json:"args,omitempty"`
	Ret     int64  `json:"ret,omitempty"`

	// signal, exec, exit, fork, switch
	Signal string `json:"signal,omitempty"`
	Path   string `json:"path,omitempty"`
	Status int    `json:"status,omitempty"`
	Child  int    `json:"child,omitempty"`
	Prev   int    `json:"prev,omitempty"`

	// shootdown: the CPUs interrupted ("cpu1,cpu3"), and the pages each drops from Addr on
	// (-1: the whole address space); the reason is in Text
	Targets string `json:"targets,omitempty"`
	Pages   int    `json:"pages,omitempty"`

	// tlb: a flush of a whole TLB (or of a PCID)
	TLB string `json:"tlb,omitempty"`
}

// Recorder keeps the most recent events of a kernel for the timeline. It is a kernel
// observer: Record runs on the emulator's goroutine; Since may be called from any goroutine.
type Recorder struct {
	mu    sync.Mutex
	ring  []Event
	max   int
	seq   uint64
	fault Focus // the last page fault, for the walk the page highlights
}

// NewRecorder returns a recorder that keeps the last max events. Subscribe its Record to
// the kernel (k.Subscribe(r.Record)).
func NewRecorder(max int) *Recorder { return &Recorder{max: max} }

// Record adds e to the timeline. TLB fills and frame changes (hardware events, off unless a
// trace asks for them) are too many to draw and are left out; TLB flushes are kept.
func (r *Recorder) Record(e *minikernel.Event) {
	if e.Kind == minikernel.EvFrame || (e.Kind == minikernel.EvTLB && e.TLBOp.String() != "flush") {
		return
	}
	ev := Event{Insns: e.Insns, Kind: e.Kind.String(), PID: e.PID, TID: e.TID, CPU: e.CPU, RIP: Hex(e.RIP),
		Text: describe.EventText(e)}
	switch e.Kind {
	case minikernel.EvPageFault:
		ev.Addr, ev.Code, ev.Outcome, ev.Frame, ev.Kernel = Hex(e.Addr), e.Code, e.Outcome.String(), e.Frame, e.Kernel
		ev.CodeBits, ev.CodeText, ev.Access = mmu.DecodeErrorCode(e.Code), describe.ErrorCodeBits(e.Code), describe.FaultAccess(e.Code)
		if v := e.VMA; v != nil {
			ev.VMA = &VMA{Start: Hex(v.Start), End: Hex(v.End), Pages: (v.End - v.Start) >> 12, Prot: protLetters(v.Prot),
				Shared: v.Flags&minikernel.VMShared != 0, Offset: Hex(v.Off), Name: describe.VMAName(v), Kind: vmaKind(v)}
		}
	case minikernel.EvSyscall:
		ev.Syscall, ev.Nr, ev.Ret = e.Name, e.Sysno, e.Ret
		ev.Args = make([]Hex, len(e.Args))
		for i, a := range e.Args {
			ev.Args[i] = Hex(a)
		}
	case minikernel.EvSignal:
		ev.Signal, ev.Addr = minikernel.SignalName(e.Signal), Hex(e.Addr)
	case minikernel.EvExec:
		ev.Path = e.Path
	case minikernel.EvExit:
		ev.Status = e.Status
	case minikernel.EvFork, minikernel.EvClone:
		ev.Child = e.Child
	case minikernel.EvShootdown:
		ev.Targets, ev.Pages, ev.Addr = minikernel.CPUMask(e.Targets), e.Pages, Hex(e.Addr)
	case minikernel.EvIPI:
		ev.Targets = minikernel.CPUMask(e.Targets)
	case minikernel.EvSwitch:
		ev.Prev = e.Prev
	case minikernel.EvTLB:
		ev.TLB = e.TLB
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	ev.Seq = r.seq
	if len(r.ring) >= r.max {
		// Drop the oldest half at once: appending stays amortised O(1).
		n := copy(r.ring, r.ring[len(r.ring)/2:])
		r.ring = r.ring[:n]
	}
	r.ring = append(r.ring, ev)
	if e.Kind == minikernel.EvPageFault && !e.Kernel {
		r.fault = Focus{PID: e.PID, VA: e.Addr, Why: fmt.Sprintf("the last page fault (%s)", e.Outcome), OK: true}
	}
}

// Since returns up to limit events with a sequence number above seq, oldest first, and the
// sequence number of the last event recorded. Events older than the recorder keeps are gone.
func (r *Recorder) Since(seq uint64, limit int) ([]Event, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []Event{}
	if len(r.ring) > 0 {
		i := 0 // sequence numbers in the ring are consecutive
		if first := r.ring[0].Seq; seq >= first {
			i = int(min(seq-first+1, uint64(len(r.ring))))
		}
		out = append(out, r.ring[i:min(len(r.ring), i+max(limit, 0))]...)
	}
	return out, r.seq
}

// Last returns the most recent event (nil before any) and its sequence number.
func (r *Recorder) Last() (*Event, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ring) == 0 {
		return nil, r.seq
	}
	e := r.ring[len(r.ring)-1]
	return &e, r.seq
}

// LastFault returns the address and process of the most recent page fault from user mode.
func (r *Recorder) LastFault() Focus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fault
}
