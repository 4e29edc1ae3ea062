package mmu_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// otherPA is a second frame that a changed PTE points to.
const otherPA = 0x0009_9000

// invalidation is one way software makes the TLB forget a page (SDM Vol. 3A 4.10.4).
type invalidation struct {
	name string
	do   func(m *machine, va uint64)
}

var invalidations = []invalidation{
	{"INVLPG", func(m *machine, va uint64) { m.mmu.Invlpg(va) }},
	{"MOV to CR3", func(m *machine, va uint64) { m.setCR3(m.mmu.CR3()) }},
	{"INVPCID single address", func(m *machine, va uint64) {
		require.NoError(m.t, m.mmu.Invpcid(mmu.InvpcidAddress, m.mmu.PCID(), va))
	}},
	{"INVPCID single context", func(m *machine, va uint64) {
		require.NoError(m.t, m.mmu.Invpcid(mmu.InvpcidSingle, m.mmu.PCID(), 0))
	}},
	{"INVPCID all contexts", func(m *machine, va uint64) {
		require.NoError(m.t, m.mmu.Invpcid(mmu.InvpcidAll, 0, 0))
	}},
	// Replacement: the TLBs of this machine hold one page each, so using another page
	// evicts the stale one.
	{"eviction", func(m *machine, va uint64) {
		m.mapPage(0x7000_0000, 0x7000, tlb.Size4K, P|W|U)
		m.ok(0x7000_0000, mmu.Read)
		m.ok(0x7000_0000, mmu.Fetch)
	}},
}

func tinyTLBs() mmu.Config {
	cfg := mmu.DefaultConfig()
	cfg.ITLB = tlb.Config{Name: "ITLB", Entries: 1, Ways: 1, LargeEntries: 1}
	cfg.DTLB = tlb.Config{Name: "DTLB", Entries: 1, Ways: 1, LargeEntries: 1}
	return cfg
}

// TestStaleTranslations checks that a PTE changed in RAM without invalidation keeps being
// used through the TLB, exactly as on silicon, until the invalidation the SDM asks for.
func TestStaleTranslations(t *testing.T) {
	tests := []struct {
		name   string
		leaf   mmu.PTE    // the page's flags at first
		acc    mmu.Access // the access made before and after the change
		change func(mmu.PTE) mmu.PTE
		fresh  uint32 // result after invalidation: allowed, or an error code
		pa     uint64 // physical address after invalidation, when allowed
	}{
		{"changed frame: the old physical address until invalidation", P | W | U, mmu.User,
			func(e mmu.PTE) mmu.PTE { return e&^mmu.PTEAddrMask | otherPA }, allowed, otherPA},
		{"cleared P: the page still translates until invalidation", P | W | U, mmu.User,
			func(e mmu.PTE) mmu.PTE { return e &^ P }, eU, 0},
		{"cleared R/W of a dirty page: writes go on until invalidation", P | W | U | D, mmu.User | mmu.Write,
			func(e mmu.PTE) mmu.PTE { return e &^ W }, eP | eW | eU, 0},
		{"cleared U/S: user reads go on until invalidation", P | W | U, mmu.User,
			func(e mmu.PTE) mmu.PTE { return e &^ U }, eP | eU, 0},
		{"set XD: fetches go on until invalidation", P | W | U, mmu.User | mmu.Fetch,
			func(e mmu.PTE) mmu.PTE { return e | XD }, eP | eU | eI, 0},
		{"set a reserved bit: the page still translates until invalidation", P | W | U, mmu.User,
			func(e mmu.PTE) mmu.PTE { return e | 1<<50 }, eP | eU | eRSVD, 0},
	}
	for _, tc := range tests {
		for _, inv := range invalidations {
			t.Run(tc.name+"/"+inv.name, func(t *testing.T) {
				m := bootWith(t, tinyTLBs(), 0)
				m.mapPage(testVA, testPA, tlb.Size4K, tc.leaf)
				assert.Equal(t, uint64(testPA), m.ok(testVA, tc.acc))
				m.update(testVA, 1, tc.change)
				walks := m.walks()
				assert.Equal(t, uint64(testPA|0x10), m.ok(testVA|0x10, tc.acc), "stale entry still used")
				assert.Equal(t, uint64(testPA|0x20), m.ok(testVA|0x20, tc.acc), "and again")
				assert.Equal(t, walks, m.walks(), "served by the TLB")
				inv.do(m, testVA)
				if tc.fresh == allowed {
					assert.Equal(t, tc.pa, m.ok(testVA, tc.acc))
				} else {
					assert.Equal(t, mmu.DecodeErrorCode(tc.fresh), mmu.DecodeErrorCode(m.pf(testVA, tc.acc)))
				}
			})
		}
	}
}

func TestStaleUpperLevelEntry(t *testing.T) {
	// Re-pointing a PDE at another page table changes every page under it; the TLB keeps the
	// old translations of each page until each is invalidated.
	m := boot(t, 0)
	m.mapPage(testVA, testPA, tlb.Size4K, P|W)
	m.mapPage(testVA+0x1000, testPA+0x1000, tlb.Size4K, P|W)
	m.ok(testVA, mmu.Read)
	m.ok(testVA+0x1000, mmu.Read)

	pt := m.alloc()
	m.write(entryAddr(pt, testVA, 1), P|W|otherPA)
	m.write(entryAddr(pt, testVA+0x1000, 1), P|W|(otherPA+0x1000))
	m.setPTE(testVA, 2, P|W|U|mmu.PTE(pt))

	assert.Equal(t, uint64(testPA), m.ok(testVA, mmu.Read))
	assert.Equal(t, uint64(testPA+0x1000), m.ok(testVA+0x1000, mmu.Read))
	m.mmu.Invlpg(testVA)
	assert.Equal(t, uint64(otherPA), m.ok(testVA, mmu.Read), "invalidated: the new table")
	assert.Equal(t, uint64(testPA+0x1000), m.ok(testVA+0x1000, mmu.Read), "the neighbour is still stale")
	m.mmu.Invlpg(testVA + 0x1000)
	assert.Equal(t, uint64(otherPA+0x1000), m.ok(testVA+0x1000, mmu.Read))
}

func TestAccessedFlagIsNotSetByATLBHit(t *testing.T) {
	m := boot(t, 0)
	m.mapPage(testVA, testPA, tlb.Size4K, P|W)
	m.ok(testVA, mmu.Read)
	require.NotZero(t, m.pte(testVA, 1)&A)
	m.update(testVA, 1, func(e mmu.PTE) mmu.PTE { return e &^ A }) // as a page-ageing kernel does
	m.ok(testVA, mmu.Read)
	assert.Zero(t, m.pte(testVA, 1)&A, "a hit does not walk, so A stays clear")
	m.mmu.Invlpg(testVA)
	m.ok(testVA, mmu.Read)
	assert.NotZero(t, m.pte(testVA, 1)&A, "after INVLPG the walk sets A again")
}

func TestSpuriousFaultFromStaleReadOnlyEntry(t *testing.T) {
	m := boot(t, 0)
	m.mapPage(testVA, testPA, tlb.Size4K, P|U)
	m.ok(testVA, mmu.User) // the TLB now caches R/W=0
	m.update(testVA, 1, func(e mmu.PTE) mmu.PTE { return e | W })

	walks := m.walks()
	assert.Equal(t, mmu.DecodeErrorCode(eP|eW|eU), mmu.DecodeErrorCode(m.pf(testVA, mmu.User|mmu.Write)),
		"the cached rights forbid the write: a spurious fault")
	assert.Equal(t, walks, m.walks(), "no walk: the fault came from the TLB entry")
	assert.Nil(t, m.mmu.DTLB.Probe(testVA, 0), "the fault dropped the entry")
	assert.Zero(t, m.pte(testVA, 1)&D)

	assert.Equal(t, uint64(testPA), m.ok(testVA, mmu.User|mmu.Write), "the retry walks and succeeds")
	assert.Equal(t, walks+1, m.walks())
	assert.NotZero(t, m.pte(testVA, 1)&D)
}

func TestDirtyFlagRewalk(t *testing.T) {
	tests := []struct {
		name   string
		size   tlb.PageSize
		change func(mmu.PTE) mmu.PTE // applied to the leaf, without invalidation, between the read and the write
		want   uint32                // result of the write
		pa     uint64
	}{
		{"write through a clean 4K entry walks and sets D", tlb.Size4K, nil, allowed, testPA},
		{"write through a clean 2M entry walks and sets D", tlb.Size2M, nil, allowed, 0x20_0000 | testVA&0x1f_ffff},
		{"write through a clean 1G entry walks and sets D", tlb.Size1G, nil, allowed, 0x4000_0000 | testVA&0x3fff_ffff},
		{"write where the PTE was made read-only faults on the re-walk", tlb.Size4K,
			func(e mmu.PTE) mmu.PTE { return e &^ W }, eP | eW, 0},
		{"write where the PTE was made not present faults on the re-walk", tlb.Size4K,
			func(e mmu.PTE) mmu.PTE { return e &^ P }, eW, 0},
		{"the re-walk reads the tables as they are now", tlb.Size4K,
			func(e mmu.PTE) mmu.PTE { return e&^mmu.PTEAddrMask | otherPA }, allowed, otherPA},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := boot(t, 0)
			base := map[tlb.PageSize]uint64{tlb.Size4K: testPA, tlb.Size2M: 0x20_0000, tlb.Size1G: 0x4000_0000}
			m.mapPage(testVA, base[tc.size], tc.size, P|W)
			leaf := leafLevel(tc.size)
			m.ok(testVA, mmu.Read)
			e := m.mmu.DTLB.Probe(testVA, 0)
			require.NotNil(t, e)
			require.Zero(t, e.Perm&tlb.PermDirty, "a read fills a clean entry")
			if tc.change != nil {
				m.update(testVA, leaf, tc.change)
			}

			walks := m.walks()
			if tc.want != allowed {
				assert.Equal(t, mmu.DecodeErrorCode(tc.want), mmu.DecodeErrorCode(m.pf(testVA, mmu.Write)))
				assert.Equal(t, walks+1, m.walks(), "the write walked")
				assert.Zero(t, m.pte(testVA, leaf)&D)
				assert.Nil(t, m.mmu.DTLB.Probe(testVA, 0), "the fault dropped the entry")
				return
			}
			assert.Equal(t, tc.pa, m.ok(testVA, mmu.Write))
			assert.Equal(t, walks+1, m.walks(), "the write walked to set D")
			assert.NotZero(t, m.pte(testVA, leaf)&D, "D is set in RAM")
			require.NotNil(t, m.mmu.DTLB.Probe(testVA, 0))
			assert.NotZero(t, m.mmu.DTLB.Probe(testVA, 0).Perm&tlb.PermDirty)
			assert.Len(t, m.mmu.DTLB.Entries(), 1, "the clean entry was replaced, not duplicated")

			assert.Equal(t, tc.pa, m.ok(testVA, mmu.Write))
			assert.Equal(t, walks+1, m.walks(), "the next write hits a dirty entry")
		})
	}
	t.Run("a read through a clean entry does not walk", func(t *testing.T) {
		m := boot(t, 0)
		m.mapPage(testVA, testPA, tlb.Size4K, P|W)
		m.ok(testVA, mmu.Read)
		walks := m.walks()
		m.ok(testVA, mmu.Read)
		assert.Equal(t, walks, m.walks())
		assert.Zero(t, m.pte(testVA, 1)&D)
	})
	t.Run("a write to a page whose PTE already has D does not walk again", func(t *testing.T) {
		m := boot(t, 0)
		m.mapPage(testVA, testPA, tlb.Size4K, P|W|D)
		m.ok(testVA, mmu.Read)
		walks := m.walks()
		m.ok(testVA, mmu.Write)
		assert.Equal(t, walks, m.walks())
	})
}

// twoSpaces boots with CR4.PCIDE (and extraCR4) and builds two address spaces, each with its
// own PML4, mapping testVA to testPA and otherPA. CR3 holds space A with PCID 1.
func twoSpaces(t *testing.T, extraCR4 uint64) (m *machine, a, b uint64) {
	m = boot(t, mmu.CR4PCIDE|extraCR4)
	a, b = m.alloc(), m.alloc()
	m.mapIn(a, testVA, testPA, tlb.Size4K, P|W|U)
	m.mapIn(b, testVA, otherPA, tlb.Size4K, P|W|U)
	m.setCR3(a | 1)
	return m, a, b
}

func TestPCIDIsolation(t *testing.T) {
	m, a, b := twoSpaces(t, 0)
	assert.Equal(t, uint16(1), m.mmu.PCID())
	assert.Equal(t, uint64(testPA), m.ok(testVA, mmu.User))

	m.setCR3(b | 2)
	assert.Equal(t, uint16(2), m.mmu.PCID())
	assert.Equal(t, uint64(otherPA), m.ok(testVA, mmu.User), "PCID 2 does not see PCID 1's entry")
	assert.NotNil(t, m.mmu.DTLB.Probe(testVA, 1), "PCID 1's entry is still cached")

	walks := m.walks()
	m.setCR3(a | 1 | mmu.CR3NoFlush)
	assert.Equal(t, uint64(testPA), m.ok(testVA, mmu.User))
	m.setCR3(b | 2 | mmu.CR3NoFlush)
	assert.Equal(t, uint64(otherPA), m.ok(testVA, mmu.User))
	assert.Equal(t, walks, m.walks(), "switching with CR3 bit 63 keeps both spaces' entries")

	// The tag is the PCID, not the table address: loading space B's tables under PCID 1
	// without a flush keeps translating through space A's entries.
	m.setCR3(b | 1 | mmu.CR3NoFlush)
	assert.Equal(t, uint64(testPA), m.ok(testVA, mmu.User), "PCID 1's stale entry")
	m.setCR3(b | 1)
	assert.Equal(t, uint64(otherPA), m.ok(testVA, mmu.User), "a flushing load drops PCID 1's entries")
	assert.NotNil(t, m.mmu.DTLB.Probe(testVA, 2), "PCID 2's entry survived")

	// INVLPG acts on the current PCID only.
	m.mmu.Invlpg(testVA)
	assert.Nil(t, m.mmu.DTLB.Probe(testVA, 1))
	assert.NotNil(t, m.mmu.DTLB.Probe(testVA, 2))
}

func TestCR3Loads(t *testing.T) {
	tests := []struct {
		name    string
		pcide   bool
		load    func(m *machine, root uint64) // load CR3 for the same tables
		kept    bool                          // the non-global entry survived
		wantCR3 func(root uint64) uint64
		pcid    uint16
	}{
		{"PCIDE=0: a CR3 load flushes non-global entries", false,
			func(m *machine, root uint64) { m.setCR3(root) }, false, func(r uint64) uint64 { return r }, 0},
		{"PCIDE=0: bit 63 is ignored and the load still flushes", false,
			func(m *machine, root uint64) { m.setCR3(root | mmu.CR3NoFlush) }, false, func(r uint64) uint64 { return r }, 0},
		{"PCIDE=0: PWT and PCD in CR3 are not a PCID", false,
			func(m *machine, root uint64) { m.setCR3(root | 0x18) }, false, func(r uint64) uint64 { return r | 0x18 }, 0},
		{"PCIDE=1: a CR3 load flushes the PCID's non-global entries", true,
			func(m *machine, root uint64) { m.setCR3(root) }, false, func(r uint64) uint64 { return r }, 0},
		{"PCIDE=1: a CR3 load with bit 63 keeps the entries", true,
			func(m *machine, root uint64) { m.setCR3(root | mmu.CR3NoFlush) }, true, func(r uint64) uint64 { return r }, 0},
		{"PCIDE=1: a CR3 load of another PCID keeps this PCID's entries", true,
			func(m *machine, root uint64) { m.setCR3(root | 5) }, true, func(r uint64) uint64 { return r | 5 }, 5},
		{"PCIDE=1: the PCID is all twelve bits 11:0 of CR3", true,
			func(m *machine, root uint64) { m.setCR3(root | 0xabc) }, true, func(r uint64) uint64 { return r | 0xabc }, 0xabc},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cr4 uint64
			if tc.pcide {
				cr4 = mmu.CR4PCIDE
			}
			m := boot(t, cr4)
			m.mapPage(testVA, testPA, tlb.Size4K, P|W)
			m.ok(testVA, mmu.Read)
			root := m.root()
			tc.load(m, root)
			assert.Equal(t, tc.wantCR3(root), m.mmu.CR3(), "CR3 never holds bit 63")
			assert.Equal(t, tc.pcid, m.mmu.PCID())
			assert.Equal(t, tc.kept, m.mmu.DTLB.Probe(testVA, 0) != nil)
		})
	}
}

func TestGlobalPages(t *testing.T) {
	const gVA, nVA = testVA, testVA + 0x1000 // a global and a non-global page
	tests := []struct {
		name    string
		cr4     uint64
		action  func(m *machine)
		global  bool // the global page's old translation survived
		private bool // the non-global page's old translation survived
	}{
		{"a global page survives a CR3 load", mmu.CR4PGE, func(m *machine) { m.setCR3(m.mmu.CR3()) }, true, false},
		{"a global page survives a CR3 load with PCIDs", mmu.CR4PGE | mmu.CR4PCIDE, func(m *machine) { m.setCR3(m.mmu.CR3()) }, true, false},
		{"a global page survives a switch to another PCID", mmu.CR4PGE | mmu.CR4PCIDE, func(m *machine) { m.setCR3(m.mmu.CR3() | 7) }, true, false},
		{"G without CR4.PGE is not global", 0, func(m *machine) { m.setCR3(m.mmu.CR3()) }, false, false},
		{"INVLPG drops a global page", mmu.CR4PGE, func(m *machine) { m.mmu.Invlpg(gVA) }, false, true},
		{"INVLPG drops a global page filled under another PCID", mmu.CR4PGE | mmu.CR4PCIDE, func(m *machine) {
			m.setCR3(m.mmu.CR3() | 3 | mmu.CR3NoFlush)
			m.mmu.Invlpg(gVA)
			m.setCR3(m.mmu.CR3()&^0xfff | mmu.CR3NoFlush)
		}, false, true},
		{"clearing CR4.PGE flushes everything", mmu.CR4PGE, func(m *machine) { m.setCR4(0, mmu.CR4PGE) }, false, false},
		{"setting CR4.PGE flushes everything", 0, func(m *machine) { m.setCR4(mmu.CR4PGE, 0) }, false, false},
		{"INVPCID type 3 keeps global pages", mmu.CR4PGE | mmu.CR4PCIDE, func(m *machine) {
			require.NoError(t, m.mmu.Invpcid(mmu.InvpcidAllNonGlob, 0, 0))
		}, true, false},
		{"INVPCID type 2 drops global pages", mmu.CR4PGE | mmu.CR4PCIDE, func(m *machine) {
			require.NoError(t, m.mmu.Invpcid(mmu.InvpcidAll, 0, 0))
		}, false, false},
		{"INVPCID type 1 keeps global pages", mmu.CR4PGE | mmu.CR4PCIDE, func(m *machine) {
			require.NoError(t, m.mmu.Invpcid(mmu.InvpcidSingle, 0, 0))
		}, true, false},
		{"INVPCID type 0 keeps a global page", mmu.CR4PGE | mmu.CR4PCIDE, func(m *machine) {
			require.NoError(t, m.mmu.Invpcid(mmu.InvpcidAddress, 0, gVA))
			require.NoError(t, m.mmu.Invpcid(mmu.InvpcidAddress, 0, nVA))
		}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := boot(t, tc.cr4)
			m.mapPage(gVA, testPA, tlb.Size4K, P|W|G)
			m.mapPage(nVA, testPA+0x1000, tlb.Size4K, P|W)
			m.ok(gVA, mmu.Read)
			m.ok(nVA, mmu.Read)
			// Move both pages without invalidating; the old frames show what the TLB kept.
			m.update(gVA, 1, func(e mmu.PTE) mmu.PTE { return e&^mmu.PTEAddrMask | otherPA })
			m.update(nVA, 1, func(e mmu.PTE) mmu.PTE { return e&^mmu.PTEAddrMask | (otherPA + 0x1000) })
			tc.action(m)
			assert.Equal(t, tc.global, m.ok(gVA, mmu.Read) == testPA, "global page kept")
			assert.Equal(t, tc.private, m.ok(nVA, mmu.Read) == testPA+0x1000, "non-global page kept")
		})
	}
}

func TestGlobalPageSharedAcrossPCIDs(t *testing.T) {
	// Kernel pages mapped global in every address space, as Linux does without PTI: a write
	// from the second space through the entry the first filled walks once to set D.
	m, a, b := twoSpaces(t, mmu.CR4PGE)
	const kva = 0xffff_ffff_8000_0000
	m.mapIn(a, kva, 0x30_0000, tlb.Size4K, P|W|G)
	// Space B shares space A's kernel PDPT, as kernels do.
	pml4e := m.read(entryAddr(a, kva, 4))
	m.write(entryAddr(b, kva, 4), pml4e)

	assert.Equal(t, uint64(0x30_0000), m.ok(kva, mmu.Read))
	m.setCR3(b | 2 | mmu.CR3NoFlush)
	walks := m.walks()
	assert.Equal(t, uint64(0x30_0000), m.ok(kva, mmu.Read), "PCID 2 uses the global entry")
	assert.Equal(t, walks, m.walks())

	assert.Equal(t, uint64(0x30_0000), m.ok(kva, mmu.Write))
	assert.Equal(t, walks+1, m.walks(), "the clean global entry needs a walk to set D")
	assert.NotZero(t, m.read(entryAddr(b, kva, 4))&A, "the walk went through space B's PML4E")
	for i := 0; i < 3; i++ {
		m.ok(kva, mmu.Write)
	}
	assert.Equal(t, walks+1, m.walks(), "later writes hit the dirty entry")
	m.setCR3(a | 1 | mmu.CR3NoFlush)
	m.ok(kva, mmu.Write)
	assert.Equal(t, walks+1, m.walks(), "and so do writes from PCID 1")
}

func TestInvlpg(t *testing.T) {
	t.Run("INVLPG drops the page from both TLBs", func(t *testing.T) {
		m := boot(t, 0)
		m.mapPage(testVA, testPA, tlb.Size4K, P|W)
		m.ok(testVA, mmu.Read)
		m.ok(testVA, mmu.Fetch)
		require.NotNil(t, m.mmu.ITLB.Probe(testVA, 0))
		require.NotNil(t, m.mmu.DTLB.Probe(testVA, 0))
		m.mmu.Invlpg(testVA + 0xfff)
		assert.Nil(t, m.mmu.ITLB.Probe(testVA, 0))
		assert.Nil(t, m.mmu.DTLB.Probe(testVA, 0))
	})
	t.Run("INVLPG drops only the page it names", func(t *testing.T) {
		m := boot(t, 0)
		m.mapPage(testVA, testPA, tlb.Size4K, P|W)
		m.mapPage(testVA+0x1000, testPA, tlb.Size4K, P|W)
		m.ok(testVA, mmu.Read)
		m.ok(testVA+0x1000, mmu.Read)
		m.mmu.Invlpg(testVA + 0x1000)
		assert.NotNil(t, m.mmu.DTLB.Probe(testVA, 0))
		assert.Nil(t, m.mmu.DTLB.Probe(testVA+0x1000, 0))
	})
	t.Run("INVLPG of any 4K piece drops a 2M page", func(t *testing.T) {
		m := boot(t, 0)
		m.mapPage(0x4000_0000, 0x20_0000, tlb.Size2M, P|W)
		m.ok(0x4000_0000, mmu.Read)
		m.mmu.Invlpg(0x401f_f000)
		assert.Empty(t, m.mmu.DTLB.Entries())
	})
	t.Run("INVLPG of a non-canonical address does nothing", func(t *testing.T) {
		m := boot(t, 0)
		m.mapPage(testVA, testPA, tlb.Size4K, P|W)
		m.ok(testVA, mmu.Read)
		epoch := m.mmu.Epoch()
		m.mmu.Invlpg(testVA | 0x8000_0000_0000_0000)
		assert.NotNil(t, m.mmu.DTLB.Probe(testVA, 0))
		assert.Equal(t, epoch, m.mmu.Epoch())
	})
}

func TestInvpcid(t *testing.T) {
	const gVA = testVA + 0x1000
	tests := []struct {
		name string
		typ  int
		pcid uint16
		va   uint64
		keep [3]bool // testVA in PCID 1, testVA in PCID 2, global page
	}{
		{"type 0 drops one address of one PCID", mmu.InvpcidAddress, 1, testVA, [3]bool{false, true, true}},
		{"type 0 of another address drops nothing", mmu.InvpcidAddress, 1, testVA + 0x2000, [3]bool{true, true, true}},
		{"type 0 keeps a global translation", mmu.InvpcidAddress, 1, gVA, [3]bool{true, true, true}},
		{"type 1 drops one PCID's non-global entries", mmu.InvpcidSingle, 1, 0, [3]bool{false, true, true}},
		{"type 1 of the current PCID", mmu.InvpcidSingle, 2, 0, [3]bool{true, false, true}},
		{"type 2 drops everything, globals too", mmu.InvpcidAll, 0, 0, [3]bool{false, false, false}},
		{"type 3 drops every non-global entry", mmu.InvpcidAllNonGlob, 0, 0, [3]bool{false, false, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, a, b := twoSpaces(t, mmu.CR4PGE)
			m.mapIn(a, gVA, 0x5000, tlb.Size4K, P|W|G)
			m.ok(testVA, mmu.Read)
			m.ok(gVA, mmu.Read)
			m.setCR3(b | 2 | mmu.CR3NoFlush)
			m.ok(testVA, mmu.Read)
			epoch := m.mmu.Epoch()
			require.NoError(t, m.mmu.Invpcid(tc.typ, tc.pcid, tc.va))
			assert.Greater(t, m.mmu.Epoch(), epoch)
			got := [3]bool{
				m.mmu.DTLB.Probe(testVA, 1) != nil && m.mmu.DTLB.Probe(testVA, 1).PCID == 1,
				m.mmu.DTLB.Probe(testVA, 2) != nil && m.mmu.DTLB.Probe(testVA, 2).PCID == 2,
				m.mmu.DTLB.Probe(gVA, 2) != nil,
			}
			assert.Equal(t, tc.keep, got)
		})
	}
	errs := []struct {
		name string
		typ  int
		pcid uint16
		va   uint64
	}{
		{"a PCID wider than 12 bits is #GP", mmu.InvpcidSingle, 0x1000, 0},
		{"type 0 of a non-canonical address is #GP", mmu.InvpcidAddress, 1, 0x0000_8000_0000_0000},
		{"type 4 is #GP", 4, 0, 0},
		{"a negative type is #GP", -1, 0, 0},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			m := boot(t, 0)
			err := m.mmu.Invpcid(tc.typ, tc.pcid, tc.va)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "#GP")
		})
	}
}

func TestCR4WritesAndTheTLB(t *testing.T) {
	tests := []struct {
		name  string
		cr4   uint64 // at boot, besides PAE
		set   uint64
		clear uint64
		kept  bool // the entries (one global, one not, both under the current PCID) survive
	}{
		{"setting SMEP flushes the current PCID", 0, mmu.CR4SMEP, 0, false},
		{"clearing SMEP keeps the TLB", mmu.CR4SMEP, 0, mmu.CR4SMEP, true},
		{"setting SMAP keeps the TLB", 0, mmu.CR4SMAP, 0, true},
		{"clearing SMAP keeps the TLB", mmu.CR4SMAP, 0, mmu.CR4SMAP, true},
		{"setting PCIDE keeps the TLB", 0, mmu.CR4PCIDE, 0, true},
		{"clearing PCIDE flushes every PCID", mmu.CR4PCIDE, 0, mmu.CR4PCIDE, false},
		{"clearing PGE flushes globals too", mmu.CR4PGE, 0, mmu.CR4PGE, false},
		{"writing the same value keeps the TLB", mmu.CR4PGE | mmu.CR4PCIDE, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := boot(t, tc.cr4)
			m.mapPage(testVA, testPA, tlb.Size4K, P|W|G)
			m.mapPage(testVA+0x1000, testPA, tlb.Size4K, P|W)
			m.ok(testVA, mmu.Read)
			m.ok(testVA+0x1000, mmu.Read)
			epoch := m.mmu.Epoch()
			m.setCR4(tc.set, tc.clear)
			assert.Equal(t, tc.kept, len(m.mmu.DTLB.Entries()) == 2, "entries: %v", m.mmu.DTLB.Entries())
			assert.Equal(t, tc.kept, len(m.mmu.DTLB.Entries()) != 0)
			assert.Equal(t, tc.kept, m.mmu.Epoch() == epoch, "the epoch moves when entries may have gone")
		})
	}
	t.Run("clearing PCIDE makes the PCID 0", func(t *testing.T) {
		m := boot(t, mmu.CR4PCIDE)
		m.setCR3(m.root() | 9)
		m.setCR4(0, mmu.CR4PCIDE)
		assert.Equal(t, uint16(0), m.mmu.PCID())
	})
}

func TestUnifiedAndSplitTLBs(t *testing.T) {
	t.Run("unified: instruction fetches and data share one TLB", func(t *testing.T) {
		cfg := mmu.DefaultConfig()
		cfg.Unified = true
		cfg.ITLB = tlb.Config{} // ignored
		m := bootWith(t, cfg, 0)
		require.Same(t, m.mmu.ITLB, m.mmu.DTLB)
		m.mapPage(testVA, testPA, tlb.Size4K, P|W)
		m.ok(testVA, mmu.Fetch)
		walks := m.walks()
		m.ok(testVA, mmu.Read)
		assert.Equal(t, walks, m.walks(), "the fetch's entry serves the read")
	})
	t.Run("split: each TLB fills on its own", func(t *testing.T) {
		m := boot(t, 0)
		require.NotSame(t, m.mmu.ITLB, m.mmu.DTLB)
		assert.Equal(t, "ITLB", m.mmu.ITLB.Name())
		assert.Equal(t, "DTLB", m.mmu.DTLB.Name())
		m.mapPage(testVA, testPA, tlb.Size4K, P|W)
		m.ok(testVA, mmu.Fetch)
		assert.NotNil(t, m.mmu.ITLB.Probe(testVA, 0))
		assert.Nil(t, m.mmu.DTLB.Probe(testVA, 0))
		m.ok(testVA, mmu.Read)
		assert.Equal(t, uint64(1), m.mmu.ITLB.Stats.Walks)
		assert.Equal(t, uint64(1), m.mmu.DTLB.Stats.Walks)
	})
}

func TestEpoch(t *testing.T) {
	tests := []struct {
		name  string
		do    func(m *machine)
		moves bool
	}{
		{"a TLB hit", func(m *machine) { m.ok(testVA, mmu.Read) }, false},
		{"a TLB miss that fills", func(m *machine) { m.ok(testVA+0x1000, mmu.Read) }, false},
		{"a CR0.WP change", func(m *machine) { m.setCR0(0, mmu.CR0WP) }, false},
		{"INVLPG", func(m *machine) { m.mmu.Invlpg(testVA) }, true},
		{"a CR3 load", func(m *machine) { m.setCR3(m.mmu.CR3()) }, true},
		{"a CR3 load with bit 63", func(m *machine) { m.setCR3(m.mmu.CR3() | mmu.CR3NoFlush) }, true},
		{"a page fault", func(m *machine) { m.pf(0x5000, mmu.Read) }, true},
		{"a fault from the TLB's cached rights", func(m *machine) { m.pf(testVA, mmu.User) }, true},
		{"INVPCID", func(m *machine) { require.NoError(m.t, m.mmu.Invpcid(mmu.InvpcidAll, 0, 0)) }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := boot(t, mmu.CR4PCIDE)
			m.mapPage(testVA, testPA, tlb.Size4K, P|W)
			m.mapPage(testVA+0x1000, testPA, tlb.Size4K, P|W)
			m.ok(testVA, mmu.Read)
			epoch := m.mmu.Epoch()
			tc.do(m)
			assert.Equal(t, tc.moves, m.mmu.Epoch() != epoch)
		})
	}
}
