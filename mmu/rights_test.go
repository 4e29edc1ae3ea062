package mmu_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// The page most tests map, and the frame behind it.
const (
	testVA = 0x0000_1234_5678_9000
	testPA = 0x0004_2000
)

// allowed is the "error code" of a row whose access succeeds.
const allowed = ^uint32(0)

// rightsCase is one row of the access-rights table of SDM Vol. 3A 4.6.
type rightsCase struct {
	name  string
	flags mmu.PTE // the entry's flags (P included); D is always added to leaves
	at    int     // level that carries flags (1 = PTE); the other levels are P|W|U
	wp    bool    // CR0.WP
	cr4   uint64  // CR4.SMEP / CR4.SMAP
	acc   mmu.Access
	want  uint32 // error code, or allowed
}

var rightsTable = []rightsCase{
	// Supervisor-mode data accesses.
	{"supervisor read of a supervisor page is allowed", P, 1, true, 0, mmu.Read, allowed},
	{"supervisor write to a writable supervisor page is allowed", P | W, 1, true, 0, mmu.Write, allowed},
	{"supervisor write to a read-only page faults with P|W when CR0.WP=1", P, 1, true, 0, mmu.Write, eP | eW},
	{"supervisor write to a read-only page is allowed when CR0.WP=0", P, 1, false, 0, mmu.Write, allowed},
	{"supervisor write to a read-only user page faults with P|W when CR0.WP=1", P | U, 1, true, 0, mmu.Write, eP | eW},
	{"supervisor write to a read-only user page is allowed when CR0.WP=0", P | U, 1, false, 0, mmu.Write, allowed},
	// User-mode data accesses.
	{"user read of a supervisor page faults with P|U", P | W, 1, true, 0, mmu.User, eP | eU},
	{"user write to a supervisor page faults with P|W|U", P | W, 1, true, 0, mmu.User | mmu.Write, eP | eW | eU},
	{"user read of a read-only user page is allowed", P | U, 1, true, 0, mmu.User, allowed},
	{"user write to a writable user page is allowed", P | W | U, 1, true, 0, mmu.User | mmu.Write, allowed},
	{"user write to a read-only user page faults with P|W|U", P | U, 1, true, 0, mmu.User | mmu.Write, eP | eW | eU},
	{"user write to a read-only user page faults with P|W|U even when CR0.WP=0", P | U, 1, false, 0, mmu.User | mmu.Write, eP | eW | eU},
	// Instruction fetches and XD (EFER.NXE=1).
	{"supervisor fetch from a supervisor page is allowed", P, 1, true, 0, mmu.Fetch, allowed},
	{"supervisor fetch from an XD page faults with P|I", P | XD, 1, true, 0, mmu.Fetch, eP | eI},
	{"user fetch from a user page is allowed", P | U, 1, true, 0, mmu.User | mmu.Fetch, allowed},
	{"user fetch from an XD user page faults with P|U|I", P | U | XD, 1, true, 0, mmu.User | mmu.Fetch, eP | eU | eI},
	{"user fetch from a supervisor page faults with P|U|I", P, 1, true, 0, mmu.User | mmu.Fetch, eP | eU | eI},
	{"user read of an XD page is allowed", P | U | XD, 1, true, 0, mmu.User, allowed},
	{"user write to a writable XD page is allowed", P | W | U | XD, 1, true, 0, mmu.User | mmu.Write, allowed},
	// SMEP.
	{"supervisor fetch from a user page is allowed without SMEP", P | U, 1, true, 0, mmu.Fetch, allowed},
	{"supervisor fetch from a user page faults with P|I under SMEP", P | U, 1, true, mmu.CR4SMEP, mmu.Fetch, eP | eI},
	{"supervisor fetch from a user page with AC still faults under SMEP", P | U, 1, true, mmu.CR4SMEP, mmu.Fetch | mmu.AC, eP | eI},
	{"supervisor fetch from a supervisor page is allowed under SMEP", P, 1, true, mmu.CR4SMEP, mmu.Fetch, allowed},
	{"user fetch from a user page is allowed under SMEP", P | U, 1, true, mmu.CR4SMEP, mmu.User | mmu.Fetch, allowed},
	{"supervisor read of a user page is allowed under SMEP alone", P | U, 1, true, mmu.CR4SMEP, mmu.Read, allowed},
	// SMAP.
	{"supervisor read of a user page is allowed without SMAP", P | U, 1, true, 0, mmu.Read, allowed},
	{"supervisor read of a user page faults with P under SMAP", P | U, 1, true, mmu.CR4SMAP, mmu.Read, eP},
	{"supervisor write to a writable user page faults with P|W under SMAP", P | W | U, 1, true, mmu.CR4SMAP, mmu.Write, eP | eW},
	{"supervisor write to a writable user page faults under SMAP even when CR0.WP=0", P | W | U, 1, false, mmu.CR4SMAP, mmu.Write, eP | eW},
	{"supervisor read of a user page with AC is allowed under SMAP", P | U, 1, true, mmu.CR4SMAP, mmu.Read | mmu.AC, allowed},
	{"supervisor write to a writable user page with AC is allowed under SMAP", P | W | U, 1, true, mmu.CR4SMAP, mmu.Write | mmu.AC, allowed},
	{"supervisor write with AC to a read-only user page faults with P|W under SMAP and CR0.WP=1", P | U, 1, true, mmu.CR4SMAP, mmu.Write | mmu.AC, eP | eW},
	{"supervisor write with AC to a read-only user page is allowed under SMAP and CR0.WP=0", P | U, 1, false, mmu.CR4SMAP, mmu.Write | mmu.AC, allowed},
	{"supervisor fetch from a user page is allowed under SMAP alone", P | U, 1, true, mmu.CR4SMAP, mmu.Fetch, allowed},
	{"supervisor read of a supervisor page is unaffected by SMAP", P, 1, true, mmu.CR4SMAP, mmu.Read, allowed},
	{"user read of a user page is unaffected by SMAP", P | U, 1, true, mmu.CR4SMAP, mmu.User, allowed},
	{"AC does not let a user access reach a supervisor page", P | W, 1, true, mmu.CR4SMAP, mmu.User | mmu.AC, eP | eU},
	// Rights are combined over all levels: R/W and U/S by AND, XD by OR.
	{"R/W=0 in the PML4E makes the page read-only", P | U, 4, true, 0, mmu.User | mmu.Write, eP | eW | eU},
	{"R/W=0 in the PDPTE makes the page read-only", P | U, 3, true, 0, mmu.User | mmu.Write, eP | eW | eU},
	{"R/W=0 in the PDE makes the page read-only", P | U, 2, true, 0, mmu.User | mmu.Write, eP | eW | eU},
	{"R/W=0 in the PDPTE also binds supervisor writes when CR0.WP=1", P | U, 3, true, 0, mmu.Write, eP | eW},
	{"U/S=0 in the PML4E makes the page supervisor", P | W, 4, true, 0, mmu.User, eP | eU},
	{"U/S=0 in the PDPTE makes the page supervisor", P | W, 3, true, 0, mmu.User, eP | eU},
	{"U/S=0 in the PDE makes the page supervisor", P | W, 2, true, 0, mmu.User, eP | eU},
	{"XD in the PML4E forbids fetches", P | W | U | XD, 4, true, 0, mmu.User | mmu.Fetch, eP | eU | eI},
	{"XD in the PDPTE forbids fetches", P | W | U | XD, 3, true, 0, mmu.User | mmu.Fetch, eP | eU | eI},
	{"XD in the PDE forbids fetches", P | W | U | XD, 2, true, 0, mmu.Fetch, eP | eI},
	{"U/S=0 above a user PTE makes a supervisor page: SMEP does not apply", P | W, 3, true, mmu.CR4SMEP, mmu.Fetch, allowed},
	{"U/S=0 above a user PTE makes a supervisor page: SMAP does not apply", P | W, 2, true, mmu.CR4SMAP, mmu.Read, allowed},
}

// applyRights sets up machine m for row tc: the page at testVA mapped with tc's flags at
// tc's level, CR0.WP and CR4 as the row says, and no TLB entry for the page.
func applyRights(m *machine, tc rightsCase) {
	m.t.Helper()
	m.mapPage(testVA, testPA, tlb.Size4K, P|W|U|D)
	for level := 1; level <= 4; level++ {
		flags := P | W | U
		if level == tc.at {
			flags = tc.flags
		}
		if level == 1 {
			flags |= D // a write that is allowed then needs no walk to set D
		}
		m.update(testVA, level, func(e mmu.PTE) mmu.PTE { return mmu.PTE(e.Addr()) | flags })
	}
	if tc.wp {
		m.setCR0(mmu.CR0WP, 0)
	} else {
		m.setCR0(0, mmu.CR0WP)
	}
	m.setCR4(tc.cr4, mmu.CR4SMEP|mmu.CR4SMAP)
	m.mmu.Invlpg(testVA)
}

func TestAccessRights(t *testing.T) {
	for _, tc := range rightsTable {
		t.Run(tc.name, func(t *testing.T) {
			check := func(m *machine) {
				t.Helper()
				if tc.want == allowed {
					assert.Equal(t, uint64(testPA|0x123), m.ok(testVA|0x123, tc.acc))
				} else {
					assert.Equal(t, fmt.Sprintf("%#x", tc.want), fmt.Sprintf("%#x", m.pf(testVA|0x123, tc.acc)))
				}
			}
			t.Run("page walk", func(t *testing.T) {
				m := boot(t, 0)
				applyRights(m, tc)
				check(m)
			})
			// The same rules applied to the permissions the TLB cached: fill the entry
			// with an access of the same kind that is allowed, then repeat the row's
			// access, which must be decided without walking the tables again. When no
			// fetch may fill the instruction TLB (an XD page), a unified TLB is used: a
			// data read fills the one entry, XD and all, and the fetch must fault from it.
			t.Run("TLB hit", func(t *testing.T) {
				m := boot(t, 0)
				applyRights(m, tc)
				fillers := []mmu.Access{mmu.Read | mmu.AC, mmu.User}
				if tc.acc&mmu.Fetch != 0 {
					fillers = []mmu.Access{mmu.Fetch, mmu.User | mmu.Fetch}
				}
				fill := func(m *machine, fillers []mmu.Access) bool {
					for _, f := range fillers {
						if _, fault := m.mmu.Translate(testVA, f); fault == nil {
							return true
						}
					}
					return false
				}
				filled := fill(m, fillers)
				if !filled && tc.acc&mmu.Fetch != 0 {
					cfg := mmu.DefaultConfig()
					cfg.Unified = true
					m = bootWith(t, cfg, 0)
					applyRights(m, tc)
					filled = fill(m, []mmu.Access{mmu.Read | mmu.AC, mmu.User})
				}
				require.True(t, filled, "some access must be able to fill the TLB for this page")
				walks := m.walks()
				check(m)
				assert.Equal(t, walks, m.walks(), "decided from the TLB entry")
			})
		})
	}
}

// TestAccessRightsMatrix checks every combination of U/S, R/W and XD (placed at each level
// in turn), CR0.WP, CR4.SMEP, CR4.SMAP, EFER.NXE and access kind against the reference
// model's transcription of SDM 4.6 and 4.7.
func TestAccessRightsMatrix(t *testing.T) {
	accesses := []mmu.Access{
		mmu.Read, mmu.Read | mmu.AC, mmu.Write, mmu.Write | mmu.AC, mmu.Fetch,
		mmu.User, mmu.User | mmu.Write, mmu.User | mmu.Fetch,
	}
	m := boot(t, 0)
	m.mapPage(testVA, testPA, tlb.Size4K, P|W|U)
	cases, faults := 0, 0
	for at := 1; at <= 4; at++ {
		for flags := mmu.PTE(0); flags < 8; flags++ {
			entry := P
			if flags&1 != 0 {
				entry |= U
			}
			if flags&2 != 0 {
				entry |= W
			}
			if flags&4 != 0 {
				entry |= XD
			}
			for cr := 0; cr < 16; cr++ {
				wp, smep, smap, nxe := cr&1 != 0, cr&2 != 0, cr&4 != 0, cr&8 != 0
				for _, acc := range accesses {
					for level := 1; level <= 4; level++ {
						e := P | W | U
						if level == at {
							e = entry
						}
						m.update(testVA, level, func(old mmu.PTE) mmu.PTE { return mmu.PTE(old.Addr()) | e })
					}
					setBit(m.setCR0, wp, mmu.CR0WP)
					setBit(m.setCR4, smep, mmu.CR4SMEP)
					setBit(m.setCR4, smap, mmu.CR4SMAP)
					setBit(m.setEFER, nxe, mmu.EFERNXE)
					m.mmu.Invlpg(testVA)

					name := fmt.Sprintf("%s at level %d, WP=%v SMEP=%v SMAP=%v NXE=%v, %s (AC=%v)",
						entry, at, wp, smep, smap, nxe, acc, acc&mmu.AC != 0)
					want := refTranslate(m.ram, stateOf(m.mmu), testVA, acc)
					pa, f := m.mmu.Translate(testVA, acc)
					cases++
					if want.ok {
						if assert.Nil(t, f, name) {
							assert.Equal(t, want.pa, pa, name)
						}
						continue
					}
					faults++
					if assert.NotNil(t, f, name) {
						assert.Equal(t, want.code, f.Code, "%s: got [%s], want [%s]", name,
							mmu.DecodeErrorCode(f.Code), mmu.DecodeErrorCode(want.code))
					}
				}
			}
		}
	}
	require.Equal(t, 4*8*16*8, cases)
	assert.Greater(t, faults, 0)
	assert.Less(t, faults, cases)
}

// setBit sets or clears bit through a set(set, clear) helper.
func setBit(set func(uint64, uint64), on bool, bit uint64) {
	if on {
		set(bit, 0)
	} else {
		set(0, bit)
	}
}

func TestPageFaultErrorCode(t *testing.T) {
	const (
		unmapped = iota // no translation: the PTE is not present
		superRO         // a present, read-only supervisor page
		reserved        // a page whose PTE sets bit 51
	)
	tests := []struct {
		name string
		page int
		nxe  bool
		smep bool
		acc  mmu.Access
		want uint32
	}{
		{"not-present read sets no bit", unmapped, true, false, mmu.Read, 0},
		{"not-present write sets W/R", unmapped, true, false, mmu.Write, eW},
		{"not-present user read sets U/S", unmapped, true, false, mmu.User, eU},
		{"not-present user write sets W/R and U/S", unmapped, true, false, mmu.User | mmu.Write, eW | eU},
		{"not-present fetch with NXE=1 sets I/D", unmapped, true, false, mmu.Fetch, eI},
		{"not-present fetch with NXE=0 and SMEP=0 leaves I/D clear", unmapped, false, false, mmu.Fetch, 0},
		{"not-present fetch with NXE=0 and SMEP=1 sets I/D", unmapped, false, true, mmu.Fetch, eI},
		{"not-present user fetch sets U/S and I/D", unmapped, true, false, mmu.User | mmu.Fetch, eU | eI},
		{"AC never appears in the error code", unmapped, true, false, mmu.Read | mmu.AC, 0},
		{"protection violation sets P", superRO, true, false, mmu.User, eP | eU},
		{"protection violation on a write sets P and W/R", superRO, true, false, mmu.Write, eP | eW},
		{"protection violation on a fetch with NXE=0 leaves I/D clear", superRO, false, false, mmu.User | mmu.Fetch, eP | eU},
		{"reserved bit sets P and RSVD", reserved, true, false, mmu.Read, eP | eRSVD},
		{"reserved bit on a user write sets P, W/R, U/S and RSVD", reserved, true, false, mmu.User | mmu.Write, eP | eW | eU | eRSVD},
		{"reserved bit on a fetch sets P, RSVD and I/D", reserved, true, false, mmu.Fetch, eP | eRSVD | eI},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := boot(t, 0)
			m.mapPage(testVA, testPA, tlb.Size4K, P)
			switch tc.page {
			case unmapped:
				m.setPTE(testVA, 1, 0)
			case reserved:
				m.update(testVA, 1, func(e mmu.PTE) mmu.PTE { return e | 1<<51 })
			}
			setBit(m.setEFER, tc.nxe, mmu.EFERNXE)
			setBit(m.setCR4, tc.smep, mmu.CR4SMEP)
			assert.Equal(t, mmu.DecodeErrorCode(tc.want), mmu.DecodeErrorCode(m.pf(testVA+8, tc.acc)))
		})
	}
}
