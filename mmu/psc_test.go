package mmu_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// The paging-structure caches, SDM Vol. 3A 4.10.3 and their invalidation, 4.10.4.1. Pages
// A, B, C and D share one page table; far is in another PML4 slot.
const (
	pscA   = 0x40_0000
	pscB   = 0x40_1000
	pscC   = 0x40_2000
	pscD   = 0x40_3000
	pscFar = 0x80_0000_0000
)

func pscMachine(t *testing.T, extraCR4 uint64) *machine {
	m := boot(t, extraCR4)
	leaf := mmu.PTEPresent | mmu.PTEWrite | mmu.PTEUser
	for i, va := range []uint64{pscA, pscB, pscC, pscD, pscFar} {
		m.mapPage(va, uint64(i+1)<<12, tlb.Size4K, leaf)
	}
	require.NotNil(t, m.mmu.PSC)
	return m
}

// clearPML4E makes the PML4E of pscA not present in memory, with no invalidation: only a
// cached entry below it can still translate that region.
func (m *machine) clearPML4E() {
	m.update(pscA, 4, func(e mmu.PTE) mmu.PTE { return e &^ mmu.PTEPresent })
}

func TestPagingStructureCaches(t *testing.T) {
	for _, tc := range []struct {
		name string
		// between runs after pscA has been translated (filling the caches) and the
		// PML4E cleared in memory; then pscB is translated.
		between  func(m *machine, pteC uint64)
		stale    bool // pscB still translates, through the cached PDE
		pdeHits  uint64
		misses   uint64
		pcidMode bool
	}{
		{"a miss under a cached PDE reads only the PTE (the stale PML4E is not read)",
			func(m *machine, pteC uint64) {}, true, 1, 1, false},
		{"INVLPG of any address drops every entry of the current PCID",
			func(m *machine, pteC uint64) { m.mmu.Invlpg(0x7000_0000) }, false, 0, 2, false},
		{"a page fault drops the entries the faulting address would use",
			func(m *machine, pteC uint64) {
				m.write(pteC, m.read(pteC)&^mmu.PTEPresent)
				m.pf(pscC, mmu.Read|mmu.User) // through the cached PDE: the PTE is not present
			}, false, 1, 2, false},
		{"a page fault elsewhere keeps them (but drops the PML4E entry it shares)",
			func(m *machine, pteC uint64) { m.pf(0x9000_0000, mmu.Read|mmu.User) }, true, 1, 1, false},
		{"MOV to CR3 drops them",
			func(m *machine, pteC uint64) { m.setCR3(m.mmu.CR3()) }, false, 0, 2, false},
		{"MOV to CR3 with PCIDE and bit 63 keeps them",
			func(m *machine, pteC uint64) { m.setCR3(m.mmu.CR3() | mmu.CR3NoFlush) }, true, 1, 1, true},
		{"INVPCID type 0 for another address keeps them",
			func(m *machine, pteC uint64) { require.NoError(t, m.mmu.Invpcid(mmu.InvpcidAddress, 0, pscFar)) }, true, 1, 1, true},
		{"INVPCID type 0 for an address in the region drops them",
			func(m *machine, pteC uint64) { require.NoError(t, m.mmu.Invpcid(mmu.InvpcidAddress, 0, pscD)) }, false, 0, 2, true},
		{"INVPCID type 1 for another PCID keeps them",
			func(m *machine, pteC uint64) { require.NoError(t, m.mmu.Invpcid(mmu.InvpcidSingle, 7, 0)) }, true, 1, 1, true},
		{"INVPCID type 3 drops them",
			func(m *machine, pteC uint64) { require.NoError(t, m.mmu.Invpcid(mmu.InvpcidAllNonGlob, 0, 0)) }, false, 0, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cr4 uint64
			if tc.pcidMode {
				cr4 = mmu.CR4PCIDE
			}
			m := pscMachine(t, cr4)
			m.ok(pscA, mmu.Read|mmu.User)
			assert.Len(t, m.mmu.PSC.Entries(4), 1, "the PML4E is cached")
			assert.Len(t, m.mmu.PSC.Entries(3), 1, "the PDPTE is cached")
			assert.Len(t, m.mmu.PSC.Entries(2), 1, "the PDE is cached")
			pteC := m.addr(pscC, 1)
			m.clearPML4E()
			tc.between(m, pteC)
			if tc.stale {
				assert.Equal(t, uint64(2<<12), m.ok(pscB, mmu.Read|mmu.User))
			} else {
				m.pf(pscB, mmu.Read|mmu.User)
			}
			s := m.mmu.PSC.Stats
			assert.Equal(t, tc.pdeHits, s.PDEHits, "PDE-cache hits")
			assert.Equal(t, tc.misses, s.Misses, "walks from CR3")
		})
	}
}

// Only entries that reference another table are cached: a PDE mapping a 2 MiB page is not,
// nor is anything when the walk faults; the accessed flag is set before an entry is cached.
func TestPagingStructureCachesHoldOnlyTableReferences(t *testing.T) {
	m := boot(t, 0)
	m.mapPage(0x20_0000, 0x60_0000, tlb.Size2M, mmu.PTEPresent|mmu.PTEWrite|mmu.PTEUser)
	m.ok(0x20_0000, mmu.Write|mmu.User)
	assert.Empty(t, m.mmu.PSC.Entries(2), "a PDE that maps a 2 MiB page is a leaf")
	require.Len(t, m.mmu.PSC.Entries(3), 1)
	e := m.mmu.PSC.Entries(3)[0]
	assert.Equal(t, uint64(0), e.VA)
	assert.Equal(t, tlb.PermWrite|tlb.PermUser, e.Perm)
	assert.NotZero(t, m.pte(0x20_0000, 3)&mmu.PTEAccessed, "A set in the cached PDPTE")

	m2 := boot(t, 0)
	m2.mapPage(pscA, 0x1000, tlb.Size4K, mmu.PTEPresent|mmu.PTEUser) // read-only
	m2.pf(pscA, mmu.Write|mmu.User)
	assert.Empty(t, m2.mmu.PSC.Entries(4), "a walk that faults caches nothing")
}

// The cached flags are combined down the levels: a read-only PDPTE makes every page under
// it read-only, even when reached through the PDE cache.
func TestPagingStructureCacheCombinesFlags(t *testing.T) {
	m := pscMachine(t, 0)
	m.update(pscA, 3, func(e mmu.PTE) mmu.PTE { return e &^ mmu.PTEWrite })
	m.ok(pscA, mmu.Read|mmu.User)
	assert.Equal(t, tlb.PermUser, m.mmu.PSC.Entries(2)[0].Perm)
	m.pf(pscB, mmu.Write|mmu.User)
}

// With no caches configured every miss walks from CR3.
func TestNoPagingStructureCaches(t *testing.T) {
	cfg := mmu.DefaultConfig()
	cfg.PSC = tlb.PSCConfig{}
	m := bootWith(t, cfg, 0)
	m.mapPage(pscA, 0x1000, tlb.Size4K, mmu.PTEPresent|mmu.PTEUser)
	m.ok(pscA, mmu.Read|mmu.User)
	assert.Nil(t, m.mmu.PSC)
}
