package web

import "testing"

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
