package web

import (
	"sort"
	"sync"

	"github.com/vmemu/vmemu/describe"
	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// Event is one entry of the timeline (GET /api/events): a kernel event along guest time.
// Which fields are set depends on Kind.
type Event struct {
	Seq   uint64 `json:"seq"`   // 1, 2, 3, ... in the order the events happened
	Insns uint64 `json:"insns"` // guest time: instructions retired
	Kind  string `json:"kind"`  // fault, syscall, signal, exec, exit, fork, clone, thread-exit, switch, shootdown, ipi, tlb
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

	// tlb: which TLB and what happened (fill, evict, invalidate, flush); for an entry
	// (not a flush), Addr is its linear address, Frame its frame and PCID its PCID
	TLB   string `json:"tlb,omitempty"`
	TLBOp string `json:"op,omitempty"`
	PCID  uint16 `json:"pcid,omitempty"`
}

// Recorder keeps the most recent events of a kernel for the timeline. It is a kernel
// observer: Record runs on the emulator's goroutine; Since may be called from any goroutine.
//
// TLB fills and evictions (one per TLB miss: far more than everything else) are kept apart,
// only the last hotMax of them, compactly and without allocating, so that a long run's
// fills never push its faults and system calls out of the timeline. Both share one sequence.
type Recorder struct {
	mu   sync.Mutex
	ring []Event
	max  int
	seq  uint64
	hot  []tlbEvent // fills and evictions, a ring of hotMax
	next int        // where the next one goes in hot once it is full
}

// tlbEvent is a TLB fill or eviction as the recorder keeps it.
type tlbEvent struct {
	seq, insns    uint64
	pid, tid, cpu int
	tlb           string
	op            tlb.EventKind
	entry         tlb.Entry
}

// hotMax is how many TLB fills and evictions a recorder keeps.
const hotMax = 4096

// NewRecorder returns a recorder that keeps the last max events (and the last hotMax TLB
// fills and evictions). Subscribe its Record to the kernel (k.Subscribe(r.Record)).
func NewRecorder(max int) *Recorder { return &Recorder{max: max} }

// Record adds e to the timeline. Frame changes (hardware events, on only while a trace asks
// for them) are too many to draw and are left out. TLB events come while a page is open
// (the server turns them on) or a trace asks for them.
func (r *Recorder) Record(e *minikernel.Event) {
	if e.Kind == minikernel.EvFrame {
		return
	}
	if e.Kind == minikernel.EvTLB && (e.TLBOp == tlb.EvFill || e.TLBOp == tlb.EvEvict) {
		r.mu.Lock()
		r.seq++
		te := tlbEvent{seq: r.seq, insns: e.Insns, pid: e.PID, tid: e.TID, cpu: e.CPU, tlb: e.TLB, op: e.TLBOp, entry: e.TLBEntry}
		if len(r.hot) < hotMax {
			r.hot = append(r.hot, te)
		} else {
			r.hot[r.next] = te
			r.next = (r.next + 1) % hotMax
		}
		r.mu.Unlock()
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
		tlbFields(&ev, e.TLB, e.TLBOp, &e.TLBEntry)
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
}

// tlbFields sets a TLB event's fields.
func tlbFields(ev *Event, name string, op tlb.EventKind, te *tlb.Entry) {
	ev.TLB, ev.TLBOp = name, op.String()
	if op != tlb.EvFlush {
		ev.Addr, ev.Frame, ev.PCID = Hex(te.VPN<<12), te.PFN, te.PCID
	}
}

// event turns a kept fill or eviction into a timeline event.
func (te *tlbEvent) event() Event {
	e := minikernel.Event{Kind: minikernel.EvTLB, Insns: te.insns, PID: te.pid, TID: te.tid, CPU: te.cpu,
		TLB: te.tlb, TLBOp: te.op, TLBEntry: te.entry}
	ev := Event{Seq: te.seq, Insns: te.insns, Kind: "tlb", PID: te.pid, TID: te.tid, CPU: te.cpu, Text: describe.EventText(&e)}
	tlbFields(&ev, te.tlb, te.op, &te.entry)
	return ev
}

// Since returns up to limit events with a sequence number above seq, oldest first, and the
// sequence number of the last event recorded. Events older than the recorder keeps are gone.
func (r *Recorder) Since(seq uint64, limit int) ([]Event, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.since(seq, limit, r.hotOrdered()), r.seq
}

// Newest is Since for a page that has fallen far behind: the newest limit events after seq.
func (r *Recorder) Newest(seq uint64, limit int) ([]Event, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	hot := r.hotOrdered()
	i, j := len(r.ring), len(hot) // step back over limit events, newest first
	for n := 0; n < limit; n++ {
		if i > 0 && (j == 0 || r.ring[i-1].Seq > hot[j-1].seq) {
			i--
		} else if j > 0 {
			j--
		}
	}
	if i > 0 {
		seq = max(seq, r.ring[i-1].Seq)
	}
	if j > 0 {
		seq = max(seq, hot[j-1].seq)
	}
	return r.since(seq, limit, hot), r.seq
}

// hotOrdered returns the kept fills and evictions, oldest first.
func (r *Recorder) hotOrdered() []tlbEvent {
	if r.next == 0 {
		return r.hot
	}
	return append(r.hot[r.next:len(r.hot):len(r.hot)], r.hot[:r.next]...)
}

// since merges the events of both rings after seq, oldest first, up to limit.
func (r *Recorder) since(seq uint64, limit int, hot []tlbEvent) []Event {
	out := []Event{}
	i := sort.Search(len(r.ring), func(i int) bool { return r.ring[i].Seq > seq })
	j := sort.Search(len(hot), func(j int) bool { return hot[j].seq > seq })
	for len(out) < limit && (i < len(r.ring) || j < len(hot)) {
		if j == len(hot) || (i < len(r.ring) && r.ring[i].Seq < hot[j].seq) {
			out = append(out, r.ring[i])
			i++
		} else {
			out = append(out, hot[j].event())
			j++
		}
	}
	return out
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
