package main

import (
	"bufio"
	"io"

	"github.com/vmemu/vmemu/describe"
	"github.com/vmemu/vmemu/minikernel"
)

// Tracing: a subscriber of the kernel's event stream that writes one line per event, as
// text or as JSON (eventjson.go). A trace holds no wall-clock time: the same program and
// flags give the same bytes.

// tracer writes the events of the selected kinds to w.
type tracer struct {
	kinds describe.KindSet
	json  bool
	w     *bufio.Writer
	line  []byte
	cpus  bool // several CPUs: the text lines name the CPU
}

func newTracer(w io.Writer, kinds describe.KindSet, json bool) *tracer {
	return &tracer{kinds: kinds, json: json, w: bufio.NewWriterSize(w, 64<<10)}
}

// attach subscribes the tracer to k and turns on the hardware events it needs.
func (t *tracer) attach(k *minikernel.Kernel) {
	t.cpus = len(k.CPUs()) > 1
	k.Subscribe(t.observe)
	k.ObserveHardware(t.kinds.Has(minikernel.EvTLB), t.kinds.Has(minikernel.EvFrame))
}

func (t *tracer) observe(e *minikernel.Event) {
	if !t.kinds.Has(e.Kind) {
		return
	}
	if t.json {
		t.line = appendEventJSON(t.line[:0], e)
	} else {
		t.line = describe.AppendEventText(t.line[:0], e, t.cpus)
	}
	t.line = append(t.line, '\n')
	t.w.Write(t.line)
}

// Flush writes out what the tracer has buffered.
func (t *tracer) Flush() error { return t.w.Flush() }

// flushingWriter flushes a tracer before each write of the guest, so a trace on the same
// terminal as the guest's output interleaves in the order things happened.
type flushingWriter struct {
	w io.Writer
	t *tracer
}

func (f flushingWriter) Write(p []byte) (int, error) {
	f.t.Flush()
	return f.w.Write(p)
}
