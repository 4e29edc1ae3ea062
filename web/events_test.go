package web

import (
	"testing"

	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/tlb"
)

// TLB fills are kept apart (the last hotMax), so that many fills never push the other events
// out; Since and Newest merge both in one sequence, oldest first.
func TestRecorderKeepsFillsApart(t *testing.T) {
	r := NewRecorder(100)
	fill := &minikernel.Event{Kind: minikernel.EvTLB, TLB: "DTLB", TLBOp: tlb.EvFill, TLBEntry: tlb.Entry{VPN: 0x404, PFN: 0x12}}
	sys := &minikernel.Event{Kind: minikernel.EvSyscall, Name: "getpid"}
	r.Record(sys)                   // 1
	for i := 0; i < 2*hotMax; i++ { // 2 .. 2*hotMax+1
		fill.Insns = uint64(i)
		r.Record(fill)
	}
	r.Record(sys) // 2*hotMax+2
	last := uint64(2*hotMax + 2)

	all, got := r.Since(0, 1<<20)
	if got != last || len(all) != hotMax+2 {
		t.Fatalf("Since(0): %d events, last %d; want %d, %d", len(all), got, hotMax+2, last)
	}
	if all[0].Kind != "syscall" || all[len(all)-1].Kind != "syscall" || all[0].Seq != 1 || all[len(all)-1].Seq != last {
		t.Errorf("the system calls are kept at both ends: first %+v, last %+v", all[0], all[len(all)-1])
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("out of order at %d: %d after %d", i, all[i].Seq, all[i-1].Seq)
		}
	}
	f := all[1]
	if f.Kind != "tlb" || f.TLBOp != "fill" || f.TLB != "DTLB" || f.Addr != 0x404000 || f.Frame != 0x12 || f.Seq != hotMax+2 {
		t.Errorf("the oldest fill kept: %+v", f)
	}
	if f.Text == "" {
		t.Error("a fill's text is empty")
	}

	if evs, _ := r.Since(last-3, 2); len(evs) != 2 || evs[0].Seq != last-2 || evs[1].Seq != last-1 {
		t.Errorf("Since(last-3, 2): %+v", evs)
	}
	if evs, _ := r.Newest(0, 3); len(evs) != 3 || evs[0].Seq != last-2 || evs[2].Seq != last {
		t.Errorf("Newest(0, 3): %+v", evs)
	}
	if evs, _ := r.Newest(last-1, 10); len(evs) != 1 || evs[0].Seq != last {
		t.Errorf("Newest(last-1, 10): %+v", evs)
	}

	// Recording a fill allocates nothing: with a page open, the cost per TLB miss stays small.
	if n := testing.AllocsPerRun(1000, func() { r.Record(fill) }); n != 0 {
		t.Errorf("recording a fill allocates %v times", n)
	}
}

// BenchmarkTimeline measures a run of bss_sum with the timeline's recorder subscribed: with
// no page open (the TLBs' hooks off: a fill costs a nil check) and with one open (every TLB
// fill and eviction recorded), reporting guest MIPS: what an open page costs.
func BenchmarkTimeline(b *testing.B) {
	for _, open := range []bool{false, true} {
		name := "no-page"
		if open {
			name = "page-open"
		}
		b.Run(name, func(b *testing.B) {
			var insns uint64
			for i := 0; i < b.N; i++ {
				k, err := minikernel.New(minikernel.Config{RAM: 64 << 20})
				if err != nil {
					b.Fatal(err)
				}
				k.Subscribe(NewRecorder(50000).Record)
				k.WantHardware("web page", open, false)
				if _, err := k.Spawn("../testprogs/bin/bss_sum", []string{"bss_sum"}, nil); err != nil {
					b.Fatal(err)
				}
				if _, err := k.Run(); err != nil {
					b.Fatal(err)
				}
				insns += k.Instructions()
				k.Close()
			}
			b.ReportMetric(float64(insns)/b.Elapsed().Seconds()/1e6, "MIPS")
		})
	}
}
