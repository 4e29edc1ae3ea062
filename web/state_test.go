package web

import (
	"strings"
	"testing"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/mmu"
)

// prune keeps page tables up to the budget and the one the walk goes through, and counts the
// entries it leaves out.
func TestPruneKeepsTheBudgetAndTheWalk(t *testing.T) {
	pt := func(va uint64, n int) *Table {
		return &Table{Level: 1, VA: Hex(va), Entries: make([]Entry, n)}
	}
	a, b, c := pt(0, 300), pt(1<<21, 300), pt(2<<21, 300)
	pd := &Table{Level: 2, Entries: []Entry{{Table: a}, {Table: b}, {Table: c}}}
	prune(pd, 500, 2<<21+0x1000)
	if len(a.Entries) != 300 || a.Omitted != 0 {
		t.Errorf("first table: %d entries, %d omitted; want all kept", len(a.Entries), a.Omitted)
	}
	if len(b.Entries) != 0 || b.Omitted != 300 {
		t.Errorf("second table: %d entries, %d omitted; want it left out", len(b.Entries), b.Omitted)
	}
	if len(c.Entries) != 300 {
		t.Errorf("the walk's table: %d entries; want it kept", len(c.Entries))
	}
}

// On a machine of two CPUs, the state describes each CPU with its own TLBs, every process,
// and a page-table tree whose leaves are the pages the VMAs' runs count.
func TestBuildOnTwoCPUs(t *testing.T) {
	k, err := minikernel.New(minikernel.Config{RAM: 64 << 20, CPUs: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	rec := NewRecorder(1000)
	k.Subscribe(rec.Record)
	if _, err := k.Spawn("../testprogs/bin/dbg_cow", []string{"dbg_cow"}, nil); err != nil {
		t.Fatal(err)
	}
	for len(k.Processes()) < 3 && k.Live() { // init (if any), parent and child
		if err := k.Step(10); err != nil {
			t.Fatal(err)
		}
	}
	snap := &Snapshot{K: k, Status: "stopped"}
	st, err := snap.Build(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.CPUs) != 2 {
		t.Fatalf("%d CPUs described, want 2", len(st.CPUs))
	}
	for _, c := range st.CPUs {
		if len(c.TLBs) == 0 {
			t.Errorf("CPU %d: no TLBs", c.ID)
		}
	}
	if len(st.Procs) < 2 || st.Process == nil {
		t.Fatalf("processes: %+v", st.Procs)
	}
	var resident uint64
	for _, v := range st.Process.VMAs {
		for _, r := range v.Runs {
			resident += r.Pages
		}
	}
	if resident != st.Process.Resident {
		t.Errorf("the VMAs' runs count %d pages, the process %d resident", resident, st.Process.Resident)
	}
	if _, err := snap.Build(12345); err == nil {
		t.Error("a state of a process that does not exist")
	}
	if _, err := Frame(k, 1<<40); err == nil {
		t.Error("a frame beyond RAM")
	}
}

// The walk the tree highlights is the MMU's own record: at each page fault dbg_cow stops at,
// the walk that raised it (stopping at the entry with P=0, or faulting at a present one), or,
// for the fault its TLB raised from a cached read-only entry, the entries in memory, marked
// as such; between faults, the CPU's last walk, with the levels a paging-structure cache
// supplied marked cached.
func TestWalkIsTheMMUsLastWalk(t *testing.T) {
	k, err := minikernel.New(minikernel.Config{RAM: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if _, err := k.Spawn("../testprogs/bin/dbg_cow", []string{"dbg_cow"}, nil); err != nil {
		t.Fatal(err)
	}
	sources := map[string]int{}
	stops, cached := 0, 0
	for i := 0; i < 100000 && k.Live(); i++ {
		pt, err := k.RunToTrap(1 << 20)
		if err != nil {
			break
		}
		if pt.Kind == cpu.TrapException && pt.Vector == cpu.VecPF {
			st, err := (&Snapshot{K: k, Pending: &pt}).Build(pt.PID)
			if err != nil {
				t.Fatal(err)
			}
			w := st.Process.Walk
			if w == nil || uint64(w.VA) != pt.Addr {
				t.Fatalf("fault at %#x: walk %+v", pt.Addr, w)
			}
			sources[w.Source]++
			rec := k.CPUs()[pt.CPU].MMU().LastWalk()
			switch w.Source {
			case "mmu":
				if !w.Fault || w.Code != pt.Code || rec.VA != pt.Addr {
					t.Errorf("fault at %#x: the MMU's walk %+v, the trap's code %#x", pt.Addr, w, pt.Code)
				}
			case "tables":
				if (rec.VA == pt.Addr && rec.Failed) || w.CPU != -1 || !w.Fault || !strings.Contains(w.Why, "without a walk") {
					t.Errorf("fault at %#x from the TLB: walk %+v; the MMU's last walk was of %#x", pt.Addr, w, rec.VA)
				}
			}
			last := w.Levels[len(w.Levels)-1]
			if pt.Code&mmu.ErrPresent == 0 {
				stops++
				if last.Present || w.StopLevel != last.Level || !strings.Contains(w.Result, "P=0") {
					t.Errorf("not-present fault at %#x: the walk should stop at P=0: %+v", pt.Addr, w)
				}
			} else if !last.Present || w.StopLevel != 0 {
				t.Errorf("protection fault at %#x: the walk reaches a present entry: %+v", pt.Addr, w)
			}
		}
		if err := k.HandleTrap(pt); err != nil {
			break
		}
		if p := k.Current(); p != nil && p.MM() != nil && i%7 == 0 {
			st, err := (&Snapshot{K: k}).Build(p.PID)
			if err != nil {
				t.Fatal(err)
			}
			rec := k.ThisCPU().MMU().LastWalk()
			w := st.Process.Walk
			if rec.Count == 0 || (rec.CR3&uint64(mmu.PTEAddrMask))>>12 != p.MM().PML4() {
				continue
			}
			if w == nil || w.Source != "mmu" || uint64(w.VA) != rec.VA || w.Why != "the last page walk" {
				t.Fatalf("between traps: walk %+v, the MMU's last walk of %#x", w, rec.VA)
			}
			for j, l := range w.Levels {
				if l.Level != 4-j || l.Index != int(rec.VA>>(12+9*uint(l.Level-1))&511) {
					t.Errorf("walk of %#x: level %d is %+v", rec.VA, j, l)
				}
				if l.Cached {
					cached++
				}
			}
			if n := len(w.Levels) - rec.N; n < 0 || (n > 0) != w.Levels[0].Cached {
				t.Errorf("walk of %#x: %d levels read, %d described", rec.VA, rec.N, len(w.Levels))
			}
		}
	}
	if sources["mmu"] == 0 || sources["tables"] == 0 || stops == 0 || cached == 0 {
		t.Errorf("walks by source %v, %d stopping at P=0, %d cached levels: want every case", sources, stops, cached)
	}
}
