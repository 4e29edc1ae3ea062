package main

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/vmemu/vmemu/minikernel"
)

// Tracing: a subscriber of the kernel's event stream that writes one line per event, as
// text or as JSON (eventjson.go). A trace holds no wall-clock time: the same program and
// flags give the same bytes.

// kindSet is a set of event kinds.
type kindSet uint32

func (s kindSet) has(k minikernel.EventKind) bool { return s&(1<<k) != 0 }

func setOf(kinds ...minikernel.EventKind) kindSet {
	var s kindSet
	for _, k := range kinds {
		s |= 1 << k
	}
	return s
}

// traceGroups are the names a user gives to --trace, and the event kinds each one selects.
var traceGroups = map[string]kindSet{
	"faults":   setOf(minikernel.EvPageFault),
	"syscalls": setOf(minikernel.EvSyscall),
	"tlb":      setOf(minikernel.EvTLB, minikernel.EvShootdown),
	"frames":   setOf(minikernel.EvFrame),
	"process":  setOf(minikernel.EvFork, minikernel.EvExit, minikernel.EvSwitch, minikernel.EvClone, minikernel.EvThreadExit),
	"exec":     setOf(minikernel.EvExec),
	"signals":  setOf(minikernel.EvSignal),
}

var traceAliases = map[string]string{"fault": "faults", "syscall": "syscalls", "frame": "frames",
	"processes": "process", "proc": "process", "signal": "signals", "tlbs": "tlb"}

func traceGroupNames() string {
	names := make([]string, 0, len(traceGroups))
	for n := range traceGroups {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ") + ", all"
}

// parseTraceKinds reads "faults,syscalls" or "all"; "none" and "off" select nothing.
func parseTraceKinds(s string) (kindSet, error) {
	var set kindSet
	for _, name := range strings.Split(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if a, ok := traceAliases[name]; ok {
			name = a
		}
		switch name {
		case "":
		case "all":
			for _, g := range traceGroups {
				set |= g
			}
		case "none", "off":
		default:
			g, ok := traceGroups[name]
			if !ok {
				return 0, fmt.Errorf("unknown trace kind %q (want %s)", name, traceGroupNames())
			}
			set |= g
		}
	}
	return set, nil
}

// tracer writes the events of the selected kinds to w.
type tracer struct {
	kinds kindSet
	json  bool
	cpus  bool // several CPUs: the text lines name the CPU
	w     *bufio.Writer
	line  []byte
}

func newTracer(w io.Writer, kinds kindSet, json bool) *tracer {
	return &tracer{kinds: kinds, json: json, w: bufio.NewWriterSize(w, 64<<10)}
}

// attach subscribes the tracer to k and turns on the hardware events it needs.
func (t *tracer) attach(k *minikernel.Kernel) {
	t.cpus = len(k.CPUs()) > 1
	k.Subscribe(t.observe)
	k.ObserveHardware(t.kinds.has(minikernel.EvTLB), t.kinds.has(minikernel.EvFrame))
}

func (t *tracer) observe(e *minikernel.Event) {
	if !t.kinds.has(e.Kind) {
		return
	}
	if t.json {
		t.line = appendEventJSON(t.line[:0], e)
	} else {
		t.line = appendEventText(t.line[:0], e, t.cpus)
	}
	t.line = append(t.line, '\n')
	t.w.Write(t.line)
}

// Flush writes out what the tracer has buffered.
func (t *tracer) Flush() error { return t.w.Flush() }

// appendEventText appends the text form of e: guest time (instructions retired), the pid,
// the kind, then what eventText says.
//
// With several CPUs (cpus) the CPU it happened on comes after the time; a thread other than
// its process's first is named after the pid ("pid 2.5": thread 5 of process 2).
func appendEventText(b []byte, e *minikernel.Event, cpus bool) []byte {
	b = fmt.Appendf(b, "%10d  ", e.Insns)
	if cpus {
		b = fmt.Appendf(b, "cpu%-2d ", e.CPU)
	}
	if e.TID != 0 && e.TID != e.PID {
		return fmt.Appendf(b, "pid %-3s %-8s %s", fmt.Sprintf("%d.%d", e.PID, e.TID), e.Kind, eventText(e))
	}
	return fmt.Appendf(b, "pid %-3d %-8s %s", e.PID, e.Kind, eventText(e))
}

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
