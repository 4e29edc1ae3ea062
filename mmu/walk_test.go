package mmu_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// levelName names level 4..1 the way the SDM does.
var levelName = [5]string{"", "PTE", "PDE", "PDPTE", "PML4E"}

func TestAccessedAndDirtyFlags(t *testing.T) {
	tests := []struct {
		name  string
		size  tlb.PageSize
		leaf  mmu.PTE // leaf flags; tables are P|W|U with A and D clear
		acc   mmu.Access
		fault bool
	}{
		{"4K read sets A in the PML4E, PDPTE, PDE and PTE", tlb.Size4K, P | W, mmu.Read, false},
		{"4K write sets A everywhere and D in the PTE only", tlb.Size4K, P | W, mmu.Write, false},
		{"4K fetch sets A and not D", tlb.Size4K, P | W, mmu.Fetch, false},
		{"4K user write sets D in the PTE", tlb.Size4K, P | W | U, mmu.User | mmu.Write, false},
		{"2M read sets A in the PML4E, PDPTE and the PDE that maps the page", tlb.Size2M, P | W, mmu.Read, false},
		{"2M write sets D in the PDE that maps the page", tlb.Size2M, P | W, mmu.Write, false},
		{"1G read sets A in the PML4E and the PDPTE that maps the page", tlb.Size1G, P | W, mmu.Read, false},
		{"1G write sets D in the PDPTE that maps the page", tlb.Size1G, P | W, mmu.Write, false},
		{"other bits of the entries are kept", tlb.Size4K, P | W | G | mmu.PTEPWT | mmu.PTEPCD | 5<<mmu.PTESoftShift, mmu.Write, false},
		// The model's documented choice: a walk that faults writes nothing back.
		{"faulting write to a read-only page sets no A or D", tlb.Size4K, P, mmu.Write, true},
		{"faulting user read of a supervisor 2M page sets no A", tlb.Size2M, P, mmu.User, true},
		{"reserved bit in the PTE: no A in the levels above", tlb.Size4K, P | W | 1<<50, mmu.Read, true},
		{"not-present PTE: no A in the levels above", tlb.Size4K, W, mmu.Read, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := boot(t, 0)
			m.mapPage(testVA, 0x40000000, tc.size, tc.leaf)
			leafAt := leafLevel(tc.size)
			before := map[int]mmu.PTE{}
			for level := 4; level >= leafAt; level-- {
				before[level] = m.pte(testVA, level)
				require.Zero(t, before[level]&(A|D), "%s starts clean", levelName[level])
			}
			_, f := m.mmu.Translate(testVA, tc.acc)
			require.Equal(t, tc.fault, f != nil, "fault: %v", f)
			for level := 4; level >= leafAt; level-- {
				want := before[level]
				if !tc.fault {
					want |= A
					if level == leafAt && tc.acc&mmu.Write != 0 {
						want |= D
					}
				}
				assert.Equal(t, want.String(), m.pte(testVA, level).String(), levelName[level])
			}
		})
	}
}

func TestLargePages(t *testing.T) {
	tests := []struct {
		name string
		size tlb.PageSize
		page uint64  // linear address of the page
		pa   uint64  // physical address of the page
		leaf mmu.PTE // extra leaf bits
		va   uint64  // address translated
		want uint64
	}{
		{"2M page: bits 20:0 of the address are the offset", tlb.Size2M, 0x4020_0000, 0x60_0000, 0, 0x4021_2345, 0x61_2345},
		{"2M page: last byte", tlb.Size2M, 0x4020_0000, 0x60_0000, 0, 0x403f_ffff, 0x7f_ffff},
		{"2M page: PAT (bit 12) is not an address bit", tlb.Size2M, 0x4020_0000, 0x60_0000, 1 << 12, 0x4020_0010, 0x60_0010},
		{"2M page above 4 GiB of physical memory", tlb.Size2M, 0x20_0000, 0x3_0020_0000, 0, 0x2f_fff8, 0x3_002f_fff8},
		{"1G page: bits 29:0 of the address are the offset", tlb.Size1G, 0x7f_c000_0000, 0x1_4000_0000, 0, 0x7f_d234_5678, 0x1_5234_5678},
		{"1G page: PAT (bit 12) is not an address bit", tlb.Size1G, 0x4000_0000, 0x8000_0000, 1 << 12, 0x7fff_ffff, 0xbfff_ffff},
		{"high-half 2M page", tlb.Size2M, 0xffff_ffff_8020_0000, 0x20_0000, 0, 0xffff_ffff_8030_1234, 0x30_1234},
		{"high-half 1G page", tlb.Size1G, 0xffff_8000_0000_0000, 0, 0, 0xffff_8000_0123_4567, 0x0123_4567},
		{"4K page: bit 7 of a PTE is PAT, not a page size", tlb.Size4K, testVA, testPA, PS, testVA | 0xabc, testPA | 0xabc},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := boot(t, 0)
			m.mapPage(tc.page, tc.pa, tc.size, P|W|tc.leaf)
			assert.Equal(t, tc.want, m.ok(tc.va, mmu.Read))
			e := m.mmu.DTLB.Probe(tc.va, 0)
			require.NotNil(t, e)
			assert.Equal(t, tc.size, e.Size, "the TLB caches the page at its size")
			// Every other 4K piece of the page is served by the same TLB entry.
			walks := m.walks()
			last := tc.page + tc.size.Bytes() - 1
			assert.Equal(t, tc.want-tc.va+last, m.ok(last, mmu.Read))
			assert.Equal(t, tc.want-tc.va+tc.page, m.ok(tc.page, mmu.Read))
			assert.Equal(t, walks, m.walks())
		})
	}
}

func TestReservedBits(t *testing.T) {
	tests := []struct {
		name       string
		size       tlb.PageSize // page mapped
		level      int          // entry that gets the bits
		bits       mmu.PTE
		nxe        bool
		maxPhys    uint // 0: the default, 46
		notPresent bool // clear P in the entry as well
		acc        mmu.Access
		want       uint32 // error code, or allowed
		pa         uint64 // physical address of page|0x238, when allowed
	}{
		{"bit 51 of a PML4E", tlb.Size4K, 4, 1 << 51, true, 0, false, mmu.Read, eP | eRSVD, 0},
		{"bit 46 (MAXPHYADDR) of a PDPTE", tlb.Size4K, 3, 1 << 46, true, 0, false, mmu.Read, eP | eRSVD, 0},
		{"bit 50 of a PDE", tlb.Size4K, 2, 1 << 50, true, 0, false, mmu.Read, eP | eRSVD, 0},
		{"bit 46 of a PTE", tlb.Size4K, 1, 1 << 46, true, 0, false, mmu.Read, eP | eRSVD, 0},
		{"bit 48 of a 2 MiB PDE", tlb.Size2M, 2, 1 << 48, true, 0, false, mmu.Read, eP | eRSVD, 0},
		{"bit 51 of a 1 GiB PDPTE", tlb.Size1G, 3, 1 << 51, true, 0, false, mmu.Read, eP | eRSVD, 0},
		{"bit 45 of a PTE is an address bit with MAXPHYADDR 46", tlb.Size4K, 1, 1 << 45, true, 0, false, mmu.Read, allowed, 1<<45 | 0x4000_0238},
		{"PS in a PML4E", tlb.Size4K, 4, PS, true, 0, false, mmu.Read, eP | eRSVD, 0},
		{"bit 13 of a 1 GiB PDPTE", tlb.Size1G, 3, 1 << 13, true, 0, false, mmu.Read, eP | eRSVD, 0},
		{"bit 29 of a 1 GiB PDPTE", tlb.Size1G, 3, 1 << 29, true, 0, false, mmu.Read, eP | eRSVD, 0},
		{"bit 31 of a 1 GiB PDPTE is an address bit", tlb.Size1G, 3, 1 << 31, true, 0, false, mmu.Read, allowed, 0xc000_0238},
		{"bit 12 (PAT) of a 1 GiB PDPTE is not reserved", tlb.Size1G, 3, 1 << 12, true, 0, false, mmu.Read, allowed, 0x4000_0238},
		{"bit 13 of a 2 MiB PDE", tlb.Size2M, 2, 1 << 13, true, 0, false, mmu.Read, eP | eRSVD, 0},
		{"bit 20 of a 2 MiB PDE", tlb.Size2M, 2, 1 << 20, true, 0, false, mmu.Read, eP | eRSVD, 0},
		{"bit 21 of a 2 MiB PDE is an address bit", tlb.Size2M, 2, 1 << 21, true, 0, false, mmu.Read, allowed, 0x4020_0238},
		{"bit 12 (PAT) of a 2 MiB PDE is not reserved", tlb.Size2M, 2, 1 << 12, true, 0, false, mmu.Read, allowed, 0x4000_0238},
		{"bit 7 (PAT) of a PTE is not reserved", tlb.Size4K, 1, 1 << 7, true, 0, false, mmu.Read, allowed, 0x4000_0238},
		{"ignored bits 52-58 of a PTE are not reserved", tlb.Size4K, 1, 0x7f << 52, true, 0, false, mmu.Read, allowed, 0x4000_0238},
		{"XD in a PML4E with NXE=0", tlb.Size4K, 4, XD, false, 0, false, mmu.Read, eP | eRSVD, 0},
		{"XD in a PDPTE with NXE=0", tlb.Size4K, 3, XD, false, 0, false, mmu.Read, eP | eRSVD, 0},
		{"XD in a 2 MiB PDE with NXE=0", tlb.Size2M, 2, XD, false, 0, false, mmu.Read, eP | eRSVD, 0},
		{"XD in a PTE with NXE=0", tlb.Size4K, 1, XD, false, 0, false, mmu.Read, eP | eRSVD, 0},
		{"XD in a PTE with NXE=1 is not reserved", tlb.Size4K, 1, XD, true, 0, false, mmu.Read, allowed, 0x4000_0238},
		{"bit 51 of a PTE is an address bit with MAXPHYADDR 52", tlb.Size4K, 1, 1 << 51, true, 52, false, mmu.Read, allowed, 1<<51 | 0x4000_0238},
		{"bit 36 of a PTE is reserved with MAXPHYADDR 36", tlb.Size4K, 1, 1 << 36, true, 36, false, mmu.Read, eP | eRSVD, 0},
		{"bit 35 of a PTE is an address bit with MAXPHYADDR 36", tlb.Size4K, 1, 1 << 35, true, 36, false, mmu.Read, allowed, 1<<35 | 0x4000_0238},
		{"bit 39 of a PDE is reserved with MAXPHYADDR 39", tlb.Size4K, 2, 1 << 39, true, 39, false, mmu.Read, eP | eRSVD, 0},
		{"reserved bits of a not-present entry are ignored", tlb.Size4K, 1, 1 << 51, true, 0, true, mmu.Read, 0, 0},
		{"PS in a not-present PML4E is ignored", tlb.Size4K, 4, PS, true, 0, true, mmu.Write, eW, 0},
		{"a reserved bit is reported along with a user access to a supervisor page", tlb.Size4K, 1, 1 << 47, true, 0, false, mmu.User, eP | eU | eRSVD, 0},
		{"a reserved bit in the PML4E is reported for a write to a read-only page", tlb.Size4K, 4, 1 << 47, true, 0, false, mmu.Write, eP | eW | eRSVD, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mmu.DefaultConfig()
			if tc.maxPhys != 0 {
				cfg.MaxPhysAddr = tc.maxPhys
			}
			m := bootWith(t, cfg, 0)
			page := uint64(0x7f_c000_0000) // aligned for every page size
			m.mapPage(page, 0x4000_0000, tc.size, P)
			ea := m.addr(page, tc.level)
			e := m.read(ea) | tc.bits
			if tc.notPresent {
				e &^= P
			}
			m.write(ea, e)
			setBit(m.setEFER, tc.nxe, mmu.EFERNXE)
			va := page | 0x238
			if tc.want == allowed {
				assert.Equal(t, tc.pa, m.ok(va, tc.acc), "translated through the entry's address bits")
				return
			}
			assert.Equal(t, mmu.DecodeErrorCode(tc.want), mmu.DecodeErrorCode(m.pf(va, tc.acc)))
			assert.Equal(t, e, m.read(ea), "a faulting walk leaves the entry alone")
		})
	}
}

func TestNonCanonicalAddressIsGeneralProtection(t *testing.T) {
	tests := []struct {
		name string
		va   uint64
		gp   bool
	}{
		{"bit 47 set without sign extension", 0x0000_8000_0000_0000, true},
		{"bit 48 set in a low-half address", 0x0001_0000_0000_1000, true},
		{"bit 63 alone", 0x8000_0000_0000_0000, true},
		{"last address below the high half", 0xffff_7fff_ffff_ffff, true},
		{"all ones above bit 47 but bit 47 clear", 0xfffe_0000_0000_0000, true},
		{"highest canonical low-half address: #PF, not #GP", 0x0000_7fff_ffff_ffff, false},
		{"lowest canonical high-half address: #PF, not #GP", 0xffff_8000_0000_0000, false},
		{"address 0: #PF, not #GP", 0, false},
		{"address -1: #PF, not #GP", 0xffff_ffff_ffff_ffff, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := boot(t, 0)
			assert.Equal(t, !tc.gp, mmu.Canonical(tc.va))
			for _, acc := range []mmu.Access{mmu.Read, mmu.User | mmu.Write, mmu.Fetch} {
				m.pf(0x5000, mmu.Read) // CR2 = 0x5000
				walks := m.walks()
				_, f := m.mmu.Translate(tc.va, acc)
				require.NotNil(t, f)
				if !tc.gp {
					assert.Equal(t, uint8(mmu.VectorPF), f.Vector)
					assert.Equal(t, tc.va, m.mmu.CR2())
					continue
				}
				assert.Equal(t, uint8(mmu.VectorGP), f.Vector)
				assert.Zero(t, f.Code)
				assert.Equal(t, tc.va, f.Addr)
				assert.Equal(t, acc, f.Access)
				assert.Equal(t, uint64(0x5000), m.mmu.CR2(), "#GP leaves CR2 alone")
				assert.Equal(t, walks, m.walks(), "no walk for a non-canonical address")
				assert.Contains(t, f.Error(), "non-canonical")
			}
		})
	}
}

func TestEntryBeyondRAMReadsAllOnes(t *testing.T) {
	const beyond = 1 << 30 // RAM is 64 MiB
	tests := []struct {
		name  string
		setup func(m *machine)
		level int // level whose entry comes back as all ones
	}{
		{"CR3 points past the end of RAM", func(m *machine) { m.setCR3(beyond) }, 4},
		{"PML4E points past the end of RAM", func(m *machine) { m.setPTE(testVA, 4, P|W|U|beyond) }, 3},
		{"PDPTE points past the end of RAM", func(m *machine) { m.setPTE(testVA, 3, P|W|U|beyond) }, 2},
		{"PDE points past the end of RAM", func(m *machine) { m.setPTE(testVA, 2, P|W|U|beyond) }, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := boot(t, 0)
			m.mapPage(testVA, testPA, tlb.Size4K, P|W)
			tc.setup(m)
			info := m.mmu.Inspect(testVA, mmu.Read)
			require.Len(t, info.Levels, 5-tc.level)
			assert.Equal(t, mmu.PTE(^uint64(0)), info.Levels[4-tc.level].Entry, "the bus reads all ones")
			assert.Equal(t, mmu.DecodeErrorCode(eP|eRSVD), mmu.DecodeErrorCode(m.pf(testVA, mmu.Read)),
				"all ones looks present with reserved bits set")
		})
	}
}

func TestPagingDisabled(t *testing.T) {
	t.Run("with CR0.PG=0 linear addresses are physical addresses", func(t *testing.T) {
		m := newMachine(t, mmu.DefaultConfig())
		for _, va := range []uint64{0, 0x1234, testVA, 0x8000_0000_0000_0000, ^uint64(0)} {
			for _, acc := range []mmu.Access{mmu.Read, mmu.User | mmu.Write, mmu.Fetch} {
				pa, f := m.mmu.Translate(va, acc)
				assert.Nil(t, f)
				assert.Equal(t, va, pa)
			}
		}
		assert.Equal(t, tlb.Stats{}, m.mmu.DTLB.Stats, "the TLB is not consulted")
		info := m.mmu.Inspect(testVA, mmu.Write)
		assert.True(t, info.OK)
		assert.Equal(t, uint64(testVA), info.PA)
		assert.Empty(t, info.Levels)
	})
	t.Run("clearing CR0.PG leaves long mode and flushes global entries", func(t *testing.T) {
		m := boot(t, mmu.CR4PGE)
		m.mapPage(testVA, testPA, tlb.Size4K, P|W|G)
		m.ok(testVA, mmu.Read)
		require.NotNil(t, m.mmu.DTLB.Probe(testVA, 0))
		m.setCR0(0, mmu.CR0PG)
		assert.Zero(t, m.mmu.EFER()&mmu.EFERLMA, "EFER.LMA follows CR0.PG")
		assert.Empty(t, m.mmu.DTLB.Entries())
		assert.Equal(t, uint64(testVA), m.ok(testVA, mmu.Read))
		// And back on: the tables are walked again.
		m.setCR0(mmu.CR0PG, 0)
		assert.NotZero(t, m.mmu.EFER()&mmu.EFERLMA)
		assert.Equal(t, uint64(testPA), m.ok(testVA, mmu.Read))
	})
}

func TestInspectHasNoSideEffects(t *testing.T) {
	m := boot(t, mmu.CR4PGE)
	m.mapPage(testVA, testPA, tlb.Size4K, P|W|U|G)
	m.pf(0x5000, mmu.Read)
	statsBefore, epoch := m.mmu.DTLB.Stats, m.mmu.Epoch()
	var entries [5]mmu.PTE
	for l := 1; l <= 4; l++ {
		entries[l] = m.pte(testVA, l)
	}

	info := m.mmu.Inspect(testVA|0x42, mmu.User)
	require.True(t, info.OK)
	assert.Equal(t, uint64(testVA|0x42), info.VA)
	assert.Equal(t, uint64(testPA|0x42), info.PA)
	assert.Equal(t, tlb.Size4K, info.Size)
	assert.Equal(t, tlb.PermWrite|tlb.PermUser|tlb.PermGlobal, info.Perm)
	require.Len(t, info.Levels, 4)
	for i, l := range info.Levels {
		level := 4 - i
		assert.Equal(t, level, l.Level)
		assert.Equal(t, levelName[level], l.Name())
		assert.Equal(t, uint(testVA>>(12+9*(level-1))&511), l.Index)
		assert.Equal(t, m.addr(testVA, level), l.EntryAddr)
		assert.Equal(t, entries[level], l.Entry)
	}

	bad := m.mmu.Inspect(0x5000, mmu.User|mmu.Fetch)
	assert.False(t, bad.OK)
	assert.Equal(t, mmu.Fault{Vector: mmu.VectorPF, Code: eU | eI, Addr: 0x5000, Access: mmu.User | mmu.Fetch}, bad.Fault)
	require.Len(t, bad.Levels, 1, "the walk stopped at the not-present PML4E")
	assert.Equal(t, mmu.PTE(0), bad.Levels[0].Entry)

	prot := m.mmu.Inspect(testVA, mmu.Write|mmu.User)
	assert.True(t, prot.OK, "the walk would succeed, and would set D")
	assert.Equal(t, tlb.PermWrite|tlb.PermUser|tlb.PermGlobal|tlb.PermDirty, prot.Perm)

	gp := m.mmu.Inspect(0x8000_0000_0000_0000, mmu.Read)
	assert.False(t, gp.OK)
	assert.Equal(t, uint8(mmu.VectorGP), gp.Fault.Vector)

	for l := 1; l <= 4; l++ {
		assert.Equal(t, entries[l], m.pte(testVA, l), "no A or D written")
	}
	assert.Equal(t, statsBefore, m.mmu.DTLB.Stats, "the TLB is untouched")
	assert.Empty(t, m.mmu.DTLB.Entries())
	assert.Equal(t, uint64(0x5000), m.mmu.CR2())
	assert.Equal(t, epoch, m.mmu.Epoch())
}
