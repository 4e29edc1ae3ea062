package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"vmemu/minikernel"
	"vmemu/tlb"
)

// printStats writes the human-readable statistics table.
func printStats(w io.Writer, s *minikernel.Stats) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, v uint64, note string) {
		fmt.Fprintf(tw, "%s\t%d\t %s\n", name, v, note)
	}
	fmt.Fprintln(w, "--- emu statistics ---")
	row("instructions retired", s.Instructions, "")
	var calls uint64
	for _, n := range s.Syscalls {
		calls += n
	}
	row("system calls", calls, "")
	for _, name := range s.SyscallNames() {
		row("  "+name, s.Syscalls[name], "")
	}
	row("page faults", s.TotalFaults(), "")
	for o := minikernel.FaultOutcome(0); o < minikernel.FaultOutcome(len(s.Faults)); o++ {
		if n := s.FaultCount(o); n > 0 {
			row("  "+o.String(), n, "")
		}
	}
	tlbRows := func(name string, t tlb.Stats) {
		row(name+" hits", t.Hits, fmt.Sprintf("hit rate %.2f%%", 100*t.HitRate()))
		row(name+" misses", t.Misses, "")
		row(name+" walks", t.Walks, "")
		row(name+" flushes", t.Flushes, "")
		row(name+" evictions", t.Evictions, "")
	}
	if s.Unified {
		tlbRows("TLB", s.DTLB)
	} else {
		tlbRows("ITLB", s.ITLB)
		tlbRows("DTLB", s.DTLB)
	}
	row("frames in use at exit", s.Frames.InUse, fmt.Sprintf("(%d KiB)", s.Frames.InUse*4))
	row("frames at peak", s.Frames.Peak, fmt.Sprintf("(%d KiB)", s.Frames.Peak*4))
	row("page-table pages at exit", s.Frames.Tables, "")
	tw.Flush()
}
