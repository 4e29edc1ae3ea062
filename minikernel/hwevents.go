package minikernel

import (
	"fmt"

	"github.com/vmemu/vmemu/tlb"
)

// Hardware events: the TLBs and the frame allocator report what they do through hooks of
// their own (tlb.TLB.Observer, Frames.observe), because the hardware packages cannot import
// the kernel. ObserveHardware wires those hooks into the kernel's one event stream as EvTLB
// and EvFrame events. The hooks are off by default: a TLB fill then costs a nil check, and so
// does a frame allocation.

// FrameOp is what happened to a physical frame.
type FrameOp uint8

// Frame operations.
const (
	FrameOpAlloc FrameOp = iota // allocated with one reference
	FrameOpGet                  // gained a reference (shared, e.g. by fork)
	FrameOpPut                  // dropped a reference and is still in use
	FrameOpFree                 // dropped its last reference and is free again
)

var frameOpNames = [...]string{"alloc", "get", "put", "free"}

func (o FrameOp) String() string {
	if int(o) < len(frameOpNames) {
		return frameOpNames[o]
	}
	return fmt.Sprintf("frameop%d", o)
}

// hwWire turns hardware hook calls into events: one per CPU for its TLBs, one for the
// frame allocator. It reuses an Event per source, so a hook call does not allocate.
type hwWire struct {
	k        *Kernel
	c        *PerCPU // the CPU whose TLBs report (nil: the frame allocator's wire)
	tev, fev Event
}

// ObserveHardware turns EvTLB events (every fill, eviction, invalidation and flush of every
// TLB of every CPU) and EvFrame events (every allocation, reference change and release of a
// frame) on or off. Subscribers see them like any other event. It is WantHardware for the
// party named "": a tracer.
func (k *Kernel) ObserveHardware(tlbEvents, frameEvents bool) {
	k.WantHardware("", tlbEvents, frameEvents)
}

// WantHardware records which hardware events the party who wants (a tracer, the debugger's
// trace command, an open web page) and turns each hook on while anyone wants it, off when
// no one does: one party turning its events off leaves another's on. Call it while the
// machine is stopped (between Run calls, or from an observer).
func (k *Kernel) WantHardware(who string, tlbEvents, frameEvents bool) {
	if k.hwWants == nil {
		k.hwWants = map[string][2]bool{}
	}
	k.hwWants[who] = [2]bool{tlbEvents, frameEvents}
	var t, f bool
	for _, w := range k.hwWants {
		t, f = t || w[0], f || w[1]
	}
	k.setHardwareHooks(t, f)
}

// HardwareObserved reports whether the TLBs' and the frame allocator's hooks are on.
func (k *Kernel) HardwareObserved() (tlbEvents, frameEvents bool) {
	return k.cpus[0].mmu.DTLB.Observer != nil, k.frames.observe != nil
}

func (k *Kernel) setHardwareHooks(tlbEvents, frameEvents bool) {
	for _, c := range k.cpus {
		w := &hwWire{k: k, c: c}
		var to tlb.Observer
		if tlbEvents {
			to = w.tlbEvent
		}
		c.mmu.DTLB.Observer = to
		c.mmu.ITLB.Observer = to
	}
	k.frames.observe = nil
	if frameEvents {
		w := &hwWire{k: k}
		k.frames.observe = w.frameEvent
	}
}

// thread returns the thread on whose behalf the hardware acted: the current one for this
// CPU (the kernel may be touching user memory for it), else the one the CPU runs.
func (w *hwWire) thread() *Thread {
	if w.c == nil || w.c == w.k.this {
		return w.k.cur
	}
	return w.c.cur
}

func (w *hwWire) tlbEvent(t *tlb.TLB, op tlb.EventKind, e *tlb.Entry) {
	if len(w.k.observers) == 0 {
		return
	}
	w.tev = Event{Kind: EvTLB, TLB: t.Name(), TLBOp: op}
	if th := w.thread(); th != nil {
		w.tev.PID, w.tev.TID = th.proc.PID, th.TID
	}
	if e != nil {
		w.tev.TLBEntry = *e
	}
	w.k.emitOn(w.c, &w.tev)
}

func (w *hwWire) frameEvent(pfn uint64, op FrameOp, kind FrameKind, ref uint32) {
	if len(w.k.observers) == 0 {
		return
	}
	w.fev = Event{Kind: EvFrame, Frame: pfn, FrameOp: op, FrameKind: kind, Ref: ref}
	if th := w.thread(); th != nil {
		w.fev.PID, w.fev.TID = th.proc.PID, th.TID
	}
	w.k.emit(&w.fev)
}
