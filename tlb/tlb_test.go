package tlb

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mustNew builds a TLB or stops the test.
func mustNew(t testing.TB, cfg Config) *TLB {
	t.Helper()
	tl, err := New(cfg)
	require.NoError(t, err)
	return tl
}

// oneSet is a 4-entry, 4-way TLB: a single set, so every fill competes with every other.
func oneSet(p Policy) Config {
	return Config{Name: "T", Entries: 4, Ways: 4, LargeEntries: 2, Policy: p}
}

// small returns a 4 KiB entry translating page vpn to frame pfn.
func small(vpn, pfn uint64, pcid uint16, perm Perm) Entry {
	return Entry{VPN: vpn, PFN: pfn, PCID: pcid, Size: Size4K, Perm: perm}
}

// large returns an entry for a page of size s at linear address va and physical address pa.
func large(va, pa uint64, s PageSize, pcid uint16, perm Perm) Entry {
	return Entry{VPN: va >> 12, PFN: pa >> 12, PCID: pcid, Size: s, Perm: perm}
}

func TestNewValidatesGeometry(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" means the geometry is accepted
	}{
		{"64 entries in 4 ways is 16 sets", Config{Entries: 64, Ways: 4, LargeEntries: 32}, ""},
		{"fully associative (1 set)", Config{Entries: 8, Ways: 8}, ""},
		{"direct mapped (1 way)", Config{Entries: 8, Ways: 1}, ""},
		{"no large-page entries is allowed", Config{Entries: 4, Ways: 4, LargeEntries: 0}, ""},
		{"PLRU with power-of-two ways", Config{Entries: 16, Ways: 8, LargeEntries: 4, Policy: PLRU}, ""},
		{"LRU with odd ways is allowed", Config{Entries: 6, Ways: 3, LargeEntries: 3}, ""},
		{"64 ways is the limit", Config{Entries: 64, Ways: 64, LargeEntries: 64}, ""},
		{"zero entries", Config{Entries: 0, Ways: 1}, "cannot be split"},
		{"negative entries", Config{Entries: -4, Ways: 4}, "cannot be split"},
		{"zero ways", Config{Entries: 4, Ways: 0}, "cannot be split"},
		{"entries not a multiple of ways", Config{Entries: 6, Ways: 4}, "cannot be split"},
		{"sets not a power of two", Config{Entries: 12, Ways: 4}, "not a power of two"},
		{"negative large entries", Config{Entries: 4, Ways: 4, LargeEntries: -1}, "negative"},
		{"more than 64 ways", Config{Entries: 128, Ways: 128}, "at most 64"},
		{"more than 64 large entries", Config{Entries: 4, Ways: 4, LargeEntries: 65}, "at most 64"},
		{"PLRU with 3 ways", Config{Entries: 6, Ways: 3, Policy: PLRU}, "power-of-two ways"},
		{"PLRU with 6 large entries", Config{Entries: 4, Ways: 4, LargeEntries: 6, Policy: PLRU}, "power-of-two ways"},
		{"unknown policy", Config{Entries: 4, Ways: 4, Policy: 7}, "unknown replacement policy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Name = "XTLB"
			tl, err := New(tc.cfg)
			if tc.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.cfg, tl.Config())
				assert.Equal(t, "XTLB", tl.Name())
				assert.Empty(t, tl.Entries())
				return
			}
			require.Error(t, err)
			assert.Nil(t, tl)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Contains(t, err.Error(), "XTLB", "the error names the TLB")
		})
	}
}

func TestPageSize(t *testing.T) {
	tests := []struct {
		size  PageSize
		shift uint
		bytes uint64
		name  string
	}{
		{Size4K, 12, 4 << 10, "4K"},
		{Size2M, 21, 2 << 20, "2M"},
		{Size1G, 30, 1 << 30, "1G"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.shift, tc.size.Shift())
			assert.Equal(t, tc.bytes, tc.size.Bytes())
			assert.Equal(t, tc.name, tc.size.String())
		})
	}
}

func TestLookupTranslatesEveryByteOfThePage(t *testing.T) {
	tests := []struct {
		name  string
		entry Entry
		va    uint64
		hit   bool
		pa    uint64
	}{
		{"4K page, first byte", small(0x12345, 0x777, 0, 0), 0x12345000, true, 0x777000},
		{"4K page, last byte", small(0x12345, 0x777, 0, 0), 0x12345fff, true, 0x777fff},
		{"4K page, byte after the page misses", small(0x12345, 0x777, 0, 0), 0x12346000, false, 0},
		{"4K page, byte before the page misses", small(0x12345, 0x777, 0, 0), 0x12344fff, false, 0},
		{"2M page, offset inside", large(0x40200000, 0x800000, Size2M, 0, 0), 0x40212345, true, 0x812345},
		{"2M page, last byte", large(0x40200000, 0x800000, Size2M, 0, 0), 0x403fffff, true, 0x9fffff},
		{"2M page, next 2M page misses", large(0x40200000, 0x800000, Size2M, 0, 0), 0x40400000, false, 0},
		{"1G page, offset inside", large(0x80000000, 0x40000000, Size1G, 0, 0), 0xab123456, true, 0x6b123456},
		{"1G page, last byte", large(0x80000000, 0x40000000, Size1G, 0, 0), 0xbfffffff, true, 0x7fffffff},
		{"1G page, next 1G page misses", large(0x80000000, 0x40000000, Size1G, 0, 0), 0xc0000000, false, 0},
		{"high-half 4K page", small(0xffffffff80000, 0x1, 0, 0), 0xffff_ffff_8000_0123, true, 0x1123},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl := mustNew(t, Config{Entries: 16, Ways: 4, LargeEntries: 4})
			tl.Fill(tc.entry)
			e := tl.Lookup(tc.va, 0)
			if !tc.hit {
				assert.Nil(t, e)
				assert.Equal(t, Stats{Misses: 1, Fills: 1}, tl.Stats)
				return
			}
			require.NotNil(t, e)
			assert.True(t, e.Valid())
			assert.Equal(t, tc.entry.Size, e.Size)
			assert.Equal(t, tc.pa, e.PhysAddr(tc.va))
			assert.Equal(t, Stats{Hits: 1, Fills: 1}, tl.Stats)
		})
	}
}

func TestLargePagesUseTheirOwnArray(t *testing.T) {
	t.Run("large entries do not take small-page ways", func(t *testing.T) {
		tl := mustNew(t, Config{Entries: 1, Ways: 1, LargeEntries: 2})
		tl.Fill(small(5, 50, 0, 0))
		tl.Fill(large(0x200000, 0x400000, Size2M, 0, 0))
		tl.Fill(large(0x40000000, 0x40000000, Size1G, 0, 0))
		assert.Zero(t, tl.Stats.Evictions)
		assert.NotNil(t, tl.Lookup(5<<12, 0))
		assert.NotNil(t, tl.Lookup(0x200000, 0))
		assert.NotNil(t, tl.Lookup(0x40000000, 0))
		es := tl.Entries()
		require.Len(t, es, 3)
		assert.Equal(t, Size4K, es[0].Size, "small pages are listed first")
	})
	t.Run("the large array is fully associative", func(t *testing.T) {
		tl := mustNew(t, Config{Entries: 4, Ways: 1, LargeEntries: 4})
		// Four 2M pages whose VPNs agree in every low bit a set index would use.
		for i := uint64(0); i < 4; i++ {
			tl.Fill(large(i<<30, i<<21, Size2M, 0, 0))
		}
		assert.Zero(t, tl.Stats.Evictions)
		assert.Len(t, tl.Entries(), 4)
	})
	t.Run("a fifth large page evicts the least recently used", func(t *testing.T) {
		tl := mustNew(t, Config{Entries: 4, Ways: 1, LargeEntries: 4})
		for i := uint64(0); i < 4; i++ {
			tl.Fill(large(i<<21, i<<21, Size2M, 0, 0))
		}
		tl.Lookup(0, 0) // page 0 becomes the most recent; page 1 is now the oldest
		tl.Fill(large(9<<21, 9<<21, Size2M, 0, 0))
		assert.Equal(t, uint64(1), tl.Stats.Evictions)
		assert.NotNil(t, tl.Probe(0, 0))
		assert.Nil(t, tl.Probe(1<<21, 0))
	})
	t.Run("LargeEntries=0 caches no large page", func(t *testing.T) {
		tl := mustNew(t, Config{Entries: 4, Ways: 4, LargeEntries: 0})
		tl.Fill(large(0x200000, 0x200000, Size2M, 0, 0))
		tl.Fill(large(0x40000000, 0, Size1G, 0, 0))
		assert.Nil(t, tl.Lookup(0x200000, 0))
		assert.Nil(t, tl.Lookup(0x40000000, 0))
		assert.Empty(t, tl.Entries())
		assert.Zero(t, tl.Stats.Fills, "nothing was written")
	})
}

func TestPCIDTagging(t *testing.T) {
	t.Run("a non-global entry matches only its own PCID", func(t *testing.T) {
		tl := mustNew(t, oneSet(LRU))
		tl.Fill(small(7, 70, 1, PermWrite))
		assert.NotNil(t, tl.Lookup(7<<12, 1))
		assert.Nil(t, tl.Lookup(7<<12, 2))
		assert.Nil(t, tl.Lookup(7<<12, 0))
	})
	t.Run("a global entry matches every PCID", func(t *testing.T) {
		tl := mustNew(t, oneSet(LRU))
		tl.Fill(small(7, 70, 1, PermGlobal))
		tl.Fill(large(0x200000, 0x600000, Size2M, 1, PermGlobal))
		for _, pcid := range []uint16{0, 1, 2, 0xfff} {
			e := tl.Lookup(7<<12, pcid)
			require.NotNil(t, e, "pcid %d", pcid)
			assert.Equal(t, uint64(70), e.PFN)
			assert.NotNil(t, tl.Lookup(0x200000, pcid), "large global, pcid %d", pcid)
		}
	})
	t.Run("the same page under two PCIDs is two entries", func(t *testing.T) {
		tl := mustNew(t, oneSet(LRU))
		tl.Fill(small(7, 70, 1, 0))
		tl.Fill(small(7, 80, 2, 0))
		assert.Zero(t, tl.Stats.Evictions)
		assert.Equal(t, uint64(70), tl.Lookup(7<<12, 1).PFN)
		assert.Equal(t, uint64(80), tl.Lookup(7<<12, 2).PFN)
		assert.Nil(t, tl.Lookup(7<<12, 3))
	})
}

func TestFillReplacesTheSamePage(t *testing.T) {
	tests := []struct {
		name    string
		first   Entry
		second  Entry
		lookup  uint16 // PCID to look up with afterwards
		wantPFN uint64
		entries int
	}{
		{"same page, same PCID: replaced in place", small(3, 30, 1, 0), small(3, 31, 1, PermDirty), 1, 31, 1},
		{"same 2M page, same PCID: replaced in place",
			large(0x200000, 0x200000, Size2M, 1, 0), large(0x200000, 0x400000, Size2M, 1, PermDirty), 1, 0x400000 >> 12, 1},
		{"same page, other PCID: both kept", small(3, 30, 1, 0), small(3, 31, 2, 0), 1, 30, 2},
		// A global entry answers lookups under every PCID, so a fill of the same page under
		// another PCID (the MMU's walk to set D after a hit on that global entry) must
		// replace it; otherwise later lookups keep finding the stale copy first.
		{"global page refilled under another PCID: replaced in place",
			small(3, 30, 1, PermGlobal), small(3, 30, 2, PermGlobal|PermDirty), 2, 30, 1},
		{"global 2M page refilled under another PCID: replaced in place",
			large(0x200000, 0x200000, Size2M, 1, PermGlobal), large(0x200000, 0x200000, Size2M, 2, PermGlobal|PermDirty), 2, 0x200, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl := mustNew(t, oneSet(LRU))
			tl.Fill(tc.first)
			tl.Fill(tc.second)
			assert.Zero(t, tl.Stats.Evictions)
			assert.Equal(t, uint64(2), tl.Stats.Fills)
			assert.Len(t, tl.Entries(), tc.entries)
			e := tl.Lookup(tc.first.VPN<<12, tc.lookup)
			require.NotNil(t, e)
			assert.Equal(t, tc.wantPFN, e.PFN)
			if tc.entries == 1 {
				assert.Equal(t, tc.second.Perm, e.Perm)
			}
		})
	}
}

// fourEntries fills a TLB with the entries the invalidation and flush tables act on.
var fourEntries = []Entry{
	small(0x10, 0x100, 1, 0),                         // page A for PCID 1
	small(0x10, 0x200, 2, 0),                         // page A for PCID 2
	small(0x20, 0x300, 1, PermGlobal),                // global page B, filled under PCID 1
	large(0x200000, 0x400000, Size2M, 2, PermGlobal), // global 2M page C, filled under PCID 2
}

// survivors lists which of fourEntries are still cached, by probing each with its own PCID.
func survivors(tl *TLB) []bool {
	out := make([]bool, len(fourEntries))
	for i, e := range fourEntries {
		p := tl.Probe(e.VPN<<12, e.PCID)
		out[i] = p != nil && p.PFN == e.PFN
	}
	return out
}

func TestInvalidatePage(t *testing.T) {
	tests := []struct {
		name    string
		va      uint64
		pcid    uint16
		global  bool
		dropped int
		keep    []bool // A/1, A/2, B global, C global 2M
	}{
		{"INVLPG drops the page for the current PCID only", 0x10000, 1, true, 1, []bool{false, true, true, true}},
		{"INVLPG under the other PCID drops that PCID's copy", 0x10abc, 2, true, 1, []bool{true, false, true, true}},
		{"INVLPG drops a global page whatever PCID filled it", 0x20000, 2, true, 1, []bool{true, true, false, true}},
		{"INVLPG of any byte of a global 2M page drops it", 0x3fffff, 0, true, 1, []bool{true, true, true, false}},
		{"INVPCID type 0 keeps a global page", 0x20000, 1, false, 0, []bool{true, true, true, true}},
		{"INVPCID type 0 keeps a global 2M page", 0x200000, 2, false, 0, []bool{true, true, true, true}},
		{"INVPCID type 0 drops the PCID's non-global page", 0x10000, 2, false, 1, []bool{true, false, true, true}},
		{"another page is untouched", 0x30000, 1, true, 0, []bool{true, true, true, true}},
		{"a PCID with no entries drops nothing but globals", 0x10000, 3, true, 0, []bool{true, true, true, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl := mustNew(t, oneSet(LRU))
			for _, e := range fourEntries {
				tl.Fill(e)
			}
			var seen []Entry
			tl.Observer = func(_ *TLB, k EventKind, e *Entry) {
				require.Equal(t, EvInvalidate, k)
				seen = append(seen, *e)
			}
			assert.Equal(t, tc.dropped, tl.InvalidatePage(tc.va, tc.pcid, tc.global))
			assert.Equal(t, tc.keep, survivors(tl))
			assert.Len(t, seen, tc.dropped, "one observer call per dropped entry")
			assert.Equal(t, uint64(1), tl.Stats.Invalidations)
		})
	}
}

func TestFlush(t *testing.T) {
	tests := []struct {
		name  string
		flush func(*TLB)
		keep  []bool // A/1, A/2, B global (PCID 1), C global 2M (PCID 2)
	}{
		{"flush PCID 1 keeping globals (MOV to CR3, INVPCID type 1)",
			func(tl *TLB) { tl.FlushPCID(1, true) }, []bool{false, true, true, true}},
		{"flush PCID 1 with its globals (CR4.SMEP set)",
			func(tl *TLB) { tl.FlushPCID(1, false) }, []bool{false, true, false, true}},
		{"flush PCID 3 drops nothing", func(tl *TLB) { tl.FlushPCID(3, false) }, []bool{true, true, true, true}},
		{"flush everything but globals (INVPCID type 3)",
			func(tl *TLB) { tl.FlushAll(true) }, []bool{false, false, true, true}},
		{"flush everything (INVPCID type 2, CR4.PGE change)",
			func(tl *TLB) { tl.FlushAll(false) }, []bool{false, false, false, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl := mustNew(t, oneSet(LRU))
			for _, e := range fourEntries {
				tl.Fill(e)
			}
			var kinds []EventKind
			tl.Observer = func(_ *TLB, k EventKind, e *Entry) {
				assert.Nil(t, e)
				kinds = append(kinds, k)
			}
			tc.flush(tl)
			assert.Equal(t, tc.keep, survivors(tl))
			assert.Equal(t, uint64(1), tl.Stats.Flushes)
			assert.Equal(t, []EventKind{EvFlush}, kinds)
		})
	}
}

// replay runs a script of fills ("f<page>") and lookups ("l<page>") of 4 KiB pages on tl and
// returns the pages evicted, in order.
func replay(t *testing.T, tl *TLB, script []string) []uint64 {
	t.Helper()
	var evicted []uint64
	tl.Observer = func(_ *TLB, k EventKind, e *Entry) {
		if k == EvEvict {
			evicted = append(evicted, e.VPN)
		}
	}
	for _, op := range script {
		var page uint64
		_, err := fmt.Sscanf(op[1:], "%d", &page)
		require.NoError(t, err)
		switch op[0] {
		case 'f':
			tl.Fill(small(page, page+100, 0, 0))
		case 'l':
			require.NotNil(t, tl.Lookup(page<<12, 0), "lookup of page %d", page)
		case 'i':
			tl.InvalidatePage(page<<12, 0, true)
		}
	}
	return evicted
}

func TestReplacementPolicy(t *testing.T) {
	fill4 := []string{"f0", "f1", "f2", "f3"}
	tests := []struct {
		name    string
		policy  Policy
		script  []string
		evicted []uint64
	}{
		{"LRU: four fills fit in four ways", LRU, fill4, nil},
		{"LRU: fifth fill evicts the first", LRU, append(fill4, "f4"), []uint64{0}},
		{"LRU: a hit protects the page", LRU, append(fill4, "l0", "f4"), []uint64{1}},
		{"LRU: victims follow recency", LRU, append(fill4, "l0", "l2", "l1", "f4", "f5", "f6"), []uint64{3, 0, 2}},
		{"LRU: refilling a cached page is a use, not a new way", LRU, append(fill4, "f0", "f4"), []uint64{1}},
		{"LRU: an invalid way is used before any victim", LRU, append(fill4, "i2", "f4", "f5"), []uint64{0}},
		{"PLRU: fifth fill evicts the first", PLRU, append(fill4, "f4"), []uint64{0}},
		// Tree PLRU after uses 0,1,2,3,0: the root points right (away from 0) and the right
		// node points at 2 (away from 3), so 2 goes, where exact LRU would evict 1.
		{"PLRU: after 0,1,2,3,0 the tree points at 2", PLRU, append(fill4, "l0", "f4"), []uint64{2}},
		{"PLRU: after 0,1,2,3,2 the tree points at 0", PLRU, append(fill4, "l2", "f4"), []uint64{0}},
		{"PLRU: after 0,1,2,3,0,3 the tree points at 1", PLRU, append(fill4, "l0", "l3", "f4"), []uint64{1}},
		// Page 4 takes the freed way 1; that use points the root right, at the pair 2,3, whose
		// node still points away from 3.
		{"PLRU: an invalid way is used before any victim", PLRU, append(fill4, "i1", "f4", "f5"), []uint64{2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl := mustNew(t, oneSet(tc.policy))
			assert.Equal(t, tc.evicted, replay(t, tl, tc.script))
			assert.Equal(t, uint64(len(tc.evicted)), tl.Stats.Evictions)
			assert.Len(t, tl.Entries(), 4, "every way ends up holding a page")
		})
	}
}

func TestPLRUWithEightWays(t *testing.T) {
	// Fill 0..7, then use 0 and 4: the root points left (away from 4), the node for ways 0-3
	// points right (away from 0), and the node for ways 2-3 still points away from 3.
	tl := mustNew(t, Config{Entries: 8, Ways: 8, Policy: PLRU})
	script := []string{"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "l0", "l4", "f8"}
	assert.Equal(t, []uint64{2}, replay(t, tl, script))
}

func TestSetIndexing(t *testing.T) {
	// 8 entries in 2 ways: 4 sets, indexed by the low two bits of the page number.
	tl := mustNew(t, Config{Entries: 8, Ways: 2})
	evicted := replay(t, tl, []string{"f0", "f4", "f1", "f5", "f8"})
	assert.Equal(t, []uint64{0}, evicted, "pages 0, 4 and 8 share set 0; set 1 is untouched")
	for _, page := range []uint64{4, 8, 1, 5} {
		assert.NotNil(t, tl.Probe(page<<12, 0), "page %d", page)
	}
	// Filling the two empty sets costs nothing.
	assert.Empty(t, replay(t, tl, []string{"f2", "f6", "f3", "f7"}))
	assert.Len(t, tl.Entries(), 8)
}

func TestObserverSeesFillsAndEvictions(t *testing.T) {
	tl := mustNew(t, Config{Entries: 1, Ways: 1})
	type ev struct {
		kind EventKind
		vpn  uint64
	}
	var got []ev
	tl.Observer = func(owner *TLB, k EventKind, e *Entry) {
		require.Same(t, tl, owner)
		got = append(got, ev{k, e.VPN})
	}
	tl.Fill(small(1, 10, 0, 0))
	tl.Fill(small(2, 20, 0, 0))
	assert.Equal(t, []ev{{EvFill, 1}, {EvEvict, 1}, {EvFill, 2}}, got)
	assert.Equal(t, Stats{Fills: 2, Evictions: 1}, tl.Stats)
}

func TestProbeHasNoSideEffects(t *testing.T) {
	tl := mustNew(t, oneSet(LRU))
	for _, op := range []string{"f0", "f1", "f2", "f3"} {
		replay(t, tl, []string{op})
	}
	before := tl.Stats
	require.NotNil(t, tl.Probe(0, 0)) // a Lookup here would make page 1 the victim
	assert.Nil(t, tl.Probe(9<<12, 0))
	assert.Equal(t, before, tl.Stats, "no counters move")
	assert.Equal(t, []uint64{0}, replay(t, tl, []string{"f4"}), "replacement state unchanged")
}

func TestStatsHitRate(t *testing.T) {
	tests := []struct {
		name string
		s    Stats
		want float64
	}{
		{"no lookups", Stats{}, 0},
		{"all hits", Stats{Hits: 5}, 1},
		{"three in four", Stats{Hits: 3, Misses: 1}, 0.75},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { assert.InDelta(t, tc.want, tc.s.HitRate(), 1e-12) })
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{Perm(0).String(), ""},
		{(PermWrite | PermUser | PermNoExec | PermDirty | PermGlobal).String(), "W U NX D G"},
		{(PermUser | PermDirty).String(), "U D"},
		{LRU.String(), "lru"},
		{PLRU.String(), "plru"},
		{EvFill.String(), "fill"},
		{EvEvict.String(), "evict"},
		{EvInvalidate.String(), "invalidate"},
		{EvFlush.String(), "flush"},
		{small(0x12345, 0x678, 3, PermWrite|PermDirty).String(), "va=0x12345000 pa=0x678000 4K pcid=3 [W D]"},
		{large(0x40000000, 0x80000000, Size1G, 0, 0).String(), "va=0x40000000 pa=0x80000000 1G pcid=0 []"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) { assert.Equal(t, tc.want, tc.got) })
	}
}

func TestLookupHitAllocatesNothing(t *testing.T) {
	tl := mustNew(t, Config{Entries: 64, Ways: 4, LargeEntries: 8})
	tl.Fill(small(0x42, 0x99, 1, PermWrite))
	tl.Fill(large(0x200000, 0x400000, Size2M, 1, 0))
	allocs := testing.AllocsPerRun(1000, func() {
		if tl.Lookup(0x42123, 1) == nil || tl.Lookup(0x201000, 1) == nil {
			panic("miss")
		}
	})
	assert.Zero(t, allocs)
}

func BenchmarkLookupHit(b *testing.B) {
	tl := mustNew(b, Config{Entries: 256, Ways: 4, LargeEntries: 32})
	for i := uint64(0); i < 256; i++ {
		tl.Fill(small(i, i+1000, 0, PermWrite|PermDirty))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if tl.Lookup(uint64(i&255)<<12, 0) == nil {
			b.Fatal("miss")
		}
	}
}

// BenchmarkLookupMissFill is a TLB miss as the MMU sees it on a streaming workload (a
// sieve): a Lookup that misses and the Fill that evicts the least recently used way.
func BenchmarkLookupMissFill(b *testing.B) {
	tl := mustNew(b, Config{Entries: 256, Ways: 4, LargeEntries: 32})
	b.ReportAllocs()
	b.ResetTimer()
	for i := uint64(0); b.Loop(); i++ {
		vpn := i * 7 & (1<<20 - 1) // 7 pages apart: every set in turn, never a hit
		if tl.Lookup(vpn<<12, 0) != nil {
			b.Fatal("hit")
		}
		tl.FillPage(vpn, vpn+1000, 0, Size4K, PermWrite|PermDirty)
	}
}

// An entry is 32 bytes, so that a 4-way set of the DTLB spans two cache lines of the host.
func TestEntryIs32Bytes(t *testing.T) { assert.Equal(t, uintptr(32), unsafe.Sizeof(Entry{})) }

// plruModel is tree pseudo-LRU as the hardware keeps it: per set, one bit per tree node,
// each pointing away from the half last used.
type plruModel struct {
	ways int
	bits []uint64
}

func (m *plruModel) touch(set, w int) {
	node := 1
	for span := m.ways; span > 1; span /= 2 {
		if w%span < span/2 {
			m.bits[set] |= 1 << node // point right, away from w
			node = 2 * node
		} else {
			m.bits[set] &^= 1 << node
			node = 2*node + 1
		}
	}
}

func (m *plruModel) victim(set int) int {
	node, w := 1, 0
	for span := m.ways; span > 1; span /= 2 {
		if m.bits[set]&(1<<node) != 0 {
			w += span / 2
			node = 2*node + 1
		} else {
			node = 2 * node
		}
	}
	return w
}

// The TLB's pseudo-LRU victims are those of the tree bits the hardware keeps, over a long
// random mix of fills, lookups, hits, invalidations and flushes, in the 4 KiB array and the
// large-page array.
func TestPLRUMatchesTreeBits(t *testing.T) {
	for _, cfg := range []Config{
		{Entries: 16, Ways: 4, LargeEntries: 8, Policy: PLRU},
		{Entries: 16, Ways: 8, LargeEntries: 2, Policy: PLRU},
		{Entries: 8, Ways: 2, LargeEntries: 1, Policy: PLRU},
	} {
		tl := mustNew(t, cfg)
		small := &plruModel{ways: cfg.Ways, bits: make([]uint64, cfg.Entries/cfg.Ways)}
		large := &plruModel{ways: cfg.LargeEntries, bits: make([]uint64, 1)}
		model := func(e *Entry) (*plruModel, int) {
			if e.Size != Size4K {
				return large, 0
			}
			return small, int(e.set)
		}
		rng := uint64(12345)
		next := func(n uint64) uint64 {
			rng ^= rng << 13
			rng ^= rng >> 7
			rng ^= rng << 17
			return rng % n
		}
		victims := 0
		for i := 0; i < 200000; i++ {
			size := Size4K
			vpn := next(64)
			if next(4) == 0 {
				size, vpn = Size2M, next(8)<<9
			}
			pcid := uint16(next(2))
			switch op := next(20); {
			case op < 8: // fill
				var m *plruModel
				var set int
				a := &tl.small
				if size == Size4K {
					m, set = small, int(vpn&tl.small.setMask)
				} else {
					m, set, a = large, 0, &tl.large
				}
				want, free, same := m.victim(set), -1, -1
				for w := 0; w < a.ways; w++ {
					o := &a.entries[set*a.ways+w]
					if !o.valid && free < 0 {
						free = w
					}
					if o.valid && o.VPN == vpn && o.Size == size && (o.PCID == pcid || o.Perm&PermGlobal != 0) && same < 0 {
						same = w
					}
				}
				e := tl.FillPage(vpn, vpn+1000, pcid, size, PermWrite)
				switch {
				case same >= 0:
					require.Equal(t, same, int(e.way), "refill in place")
				case free >= 0:
					require.Equal(t, free, int(e.way), "first free way")
				default:
					require.Equal(t, want, int(e.way), "tree PLRU victim, step %d", i)
					victims++
				}
				mm, s := model(e)
				mm.touch(s, int(e.way))
			case op < 15: // lookup
				if e := tl.Lookup(vpn<<12, pcid); e != nil {
					mm, s := model(e)
					mm.touch(s, int(e.way))
				}
			case op < 18: // a processor's remembered hit
				if e := tl.Probe(vpn<<12, pcid); e != nil {
					tl.Hit(e)
					mm, s := model(e)
					mm.touch(s, int(e.way))
				}
			case op < 19:
				tl.InvalidatePage(vpn<<12, pcid, true)
			default:
				if next(50) == 0 {
					tl.FlushPCID(pcid, false)
				}
			}
		}
		assert.Greater(t, victims, 1000, "%v: the mix evicts", cfg)
	}
}

// TestFillAfterMissMatchesSearch checks the shortcut FillPage takes after a Lookup that
// missed (the way the Lookup chose) against FillPage's own search of the set: random
// lookups, fills, hits and invalidations give the same entries, statistics and events.
func TestFillAfterMissMatchesSearch(t *testing.T) {
	for _, pol := range []Policy{LRU, PLRU} {
		cfg := Config{Entries: 16, Ways: 4, LargeEntries: 4, Policy: pol}
		a, b := mustNew(t, cfg), mustNew(t, cfg)
		var evA, evB []string
		a.Observer = func(_ *TLB, k EventKind, e *Entry) { evA = append(evA, fmt.Sprint(k, e)) }
		b.Observer = func(_ *TLB, k EventKind, e *Entry) { evB = append(evB, fmt.Sprint(k, e)) }
		seed := uint64(1)
		rnd := func(n uint64) uint64 {
			seed = seed*6364136223846793005 + 1442695040888963407
			return (seed >> 33) % n
		}
		for i := 0; i < 20000; i++ {
			vpn, pcid := rnd(48), uint16(rnd(2))
			size, perm := Size4K, Perm(rnd(32))
			if rnd(16) == 0 {
				size, vpn = Size2M, vpn&^511
			}
			switch rnd(8) {
			case 0:
				g := rnd(2) == 0
				a.InvalidatePage(vpn<<12, pcid, g)
				b.InvalidatePage(vpn<<12, pcid, g)
			case 1:
				a.FillPage(vpn, vpn+100, pcid, size, perm)
				b.FillPage(vpn, vpn+100, pcid, size, perm)
			default:
				ea, eb := a.Lookup(vpn<<12, pcid), b.Lookup(vpn<<12, pcid)
				require.Equal(t, ea == nil, eb == nil)
				if ea == nil && rnd(4) != 0 {
					if rnd(8) == 0 { // something between the miss and the fill
						o := rnd(48) << 12
						a.Lookup(o, pcid)
						b.Lookup(o, pcid)
					}
					b.hint.key = noHint // b searches
					wa := a.FillPage(vpn, vpn+200, pcid, size, perm)
					wb := b.FillPage(vpn, vpn+200, pcid, size, perm)
					require.Equal(t, *wb, *wa, "step %d", i)
				}
			}
			require.Equal(t, b.Stats, a.Stats, "step %d", i)
		}
		assert.Equal(t, b.Entries(), a.Entries())
		assert.Equal(t, evB, evA)
	}
}
