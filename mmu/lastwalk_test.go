package mmu_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// The MMU's record of its last walk: the entries it read (before it set A and D), where it
// stopped, and nothing for a TLB hit or a fault the TLB raised from cached permissions.
func TestLastWalkRecord(t *testing.T) {
	type want struct {
		va     uint64
		levels []int // the levels read, highest first
		failed bool
		count  uint64
	}
	for _, tc := range []struct {
		name  string
		psc   bool
		steps func(m *machine)
		want  want
	}{
		{"no walk yet: an empty record", false, func(m *machine) {}, want{}},
		{"a TLB miss reads the PML4E, PDPTE, PDE and PTE", false, func(m *machine) {
			m.ok(pscA, mmu.Read|mmu.User)
		}, want{pscA, []int{4, 3, 2, 1}, false, 1}},
		{"a TLB hit records nothing", false, func(m *machine) {
			m.ok(pscA, mmu.Read|mmu.User)
			m.ok(pscA+8, mmu.Read|mmu.User)
		}, want{pscA, []int{4, 3, 2, 1}, false, 1}},
		{"a write through a clean entry walks again to set D", false, func(m *machine) {
			m.ok(pscA, mmu.Read|mmu.User)
			m.ok(pscA, mmu.Write|mmu.User)
		}, want{pscA, []int{4, 3, 2, 1}, false, 2}},
		{"a walk stops at the first entry with P=0", false, func(m *machine) {
			m.ok(pscA, mmu.Read|mmu.User)
			m.pf(pscA+0x20_0000, mmu.Read|mmu.User) // the next PD slot: PDE not present
		}, want{pscA + 0x20_0000, []int{4, 3, 2}, true, 2}},
		{"a fault from the TLB's cached permissions does not walk", false, func(m *machine) {
			m.update(pscA, 1, func(e mmu.PTE) mmu.PTE { return e &^ mmu.PTEWrite })
			m.ok(pscA, mmu.Read|mmu.User)
			m.pf(pscA, mmu.Write|mmu.User)
		}, want{pscA, []int{4, 3, 2, 1}, false, 1}},
		{"a walk below a cached PDE reads only the PTE", true, func(m *machine) {
			m.ok(pscA, mmu.Read|mmu.User)
			m.ok(pscB, mmu.Read|mmu.User)
		}, want{pscB, []int{1}, false, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mmu.DefaultConfig()
			if !tc.psc {
				cfg.PSC = tlb.PSCConfig{}
			}
			m := bootWith(t, cfg, 0)
			for i, va := range []uint64{pscA, pscB} {
				m.mapPage(va, uint64(i+1)<<12, tlb.Size4K, mmu.PTEPresent|mmu.PTEWrite|mmu.PTEUser)
			}
			tc.steps(m)
			w := m.mmu.LastWalk()
			assert.Equal(t, tc.want.count, w.Count, "walks")
			if tc.want.count == 0 {
				assert.Empty(t, w.Read())
				return
			}
			assert.Equal(t, tc.want.va, w.VA)
			assert.Equal(t, m.mmu.CR3(), w.CR3)
			assert.Equal(t, tc.want.failed, w.Failed)
			var levels []int
			for _, l := range w.Read() {
				levels = append(levels, l.Level)
				assert.Equal(t, m.addr(w.VA, l.Level), l.EntryAddr, l.Name())
				// The value as the walk read it: before it set the accessed flag.
				now := m.read(l.EntryAddr)
				assert.Equal(t, (now &^ (mmu.PTEAccessed | mmu.PTEDirty)).String(), (l.Entry &^ (mmu.PTEAccessed | mmu.PTEDirty)).String(), l.Name())
			}
			require.Equal(t, tc.want.levels, levels)
			last := w.Read()[len(levels)-1]
			assert.Equal(t, tc.want.failed, last.Entry&mmu.PTEPresent == 0, "the walk ends at P=0 exactly when it failed here")
			if tc.want.count == 1 && !tc.want.failed {
				assert.Zero(t, last.Entry&mmu.PTEAccessed, "recorded as read, before A was set")
				assert.NotZero(t, m.read(last.EntryAddr)&mmu.PTEAccessed, "A set in memory")
			}
		})
	}
}
