package web

import (
	"testing"

	"github.com/vmemu/vmemu/minikernel"
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
	snap := &Snapshot{K: k, Status: "stopped", Focus: rec.LastFault()}
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
