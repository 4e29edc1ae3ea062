package describe

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vmemu/vmemu/minikernel"
)

// KindSet is a set of event kinds.
type KindSet uint32

// Has reports whether k is in the set.
func (s KindSet) Has(k minikernel.EventKind) bool { return s&(1<<k) != 0 }

// KindsOf is the set of the given kinds.
func KindsOf(kinds ...minikernel.EventKind) KindSet {
	var s KindSet
	for _, k := range kinds {
		s |= 1 << k
	}
	return s
}

// TraceGroups are the names a user gives to --trace, and the event kinds each one selects.
var TraceGroups = map[string]KindSet{
	"faults":   KindsOf(minikernel.EvPageFault),
	"syscalls": KindsOf(minikernel.EvSyscall),
	"tlb":      KindsOf(minikernel.EvTLB, minikernel.EvShootdown),
	"ipi":      KindsOf(minikernel.EvShootdown, minikernel.EvIPI),
	"frames":   KindsOf(minikernel.EvFrame),
	"process":  KindsOf(minikernel.EvFork, minikernel.EvExit, minikernel.EvSwitch, minikernel.EvClone, minikernel.EvThreadExit),
	"exec":     KindsOf(minikernel.EvExec),
	"signals":  KindsOf(minikernel.EvSignal),
	"reclaim":  KindsOf(minikernel.EvReclaim),
}

var traceAliases = map[string]string{"fault": "faults", "syscall": "syscalls", "frame": "frames",
	"processes": "process", "proc": "process", "signal": "signals", "tlbs": "tlb", "swap": "reclaim"}

// TraceGroupNames lists the names ParseKinds accepts, for messages and help.
func TraceGroupNames() string {
	names := make([]string, 0, len(TraceGroups))
	for n := range TraceGroups {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ") + ", all"
}

// ParseKinds reads "faults,syscalls" or "all"; "none" and "off" select nothing.
func ParseKinds(s string) (KindSet, error) {
	var set KindSet
	for _, name := range strings.Split(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if a, ok := traceAliases[name]; ok {
			name = a
		}
		switch name {
		case "":
		case "all":
			for _, g := range TraceGroups {
				set |= g
			}
		case "none", "off":
		default:
			g, ok := TraceGroups[name]
			if !ok {
				return 0, fmt.Errorf("unknown trace kind %q (want %s)", name, TraceGroupNames())
			}
			set |= g
		}
	}
	return set, nil
}

// AppendEventText appends the text form of e: guest time (instructions retired by all
// CPUs), the pid, the kind, then what EventText says. With several CPUs (cpus) the CPU it
// happened on comes after the time; a thread other than its process's first is named after
// the pid ("pid 2.5": thread 5 of process 2).
func AppendEventText(b []byte, e *minikernel.Event, cpus bool) []byte {
	b = fmt.Appendf(b, "%10d  ", e.Insns)
	if cpus {
		b = fmt.Appendf(b, "cpu%-2d ", e.CPU)
	}
	if e.TID != 0 && e.TID != e.PID {
		return fmt.Appendf(b, "pid %-3s %-8s %s", fmt.Sprintf("%d.%d", e.PID, e.TID), e.Kind, EventText(e))
	}
	return fmt.Appendf(b, "pid %-3d %-8s %s", e.PID, e.Kind, EventText(e))
}
