package mmu_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// The randomized test builds random page tables for two address spaces in RAM, makes random
// accesses through the MMU (and so its TLBs), and compares each with the reference walk of
// reference_test.go: success or failure, physical address, error code, CR2 and the A and D
// flags written back. Between accesses it changes random entries, each change followed by
// the invalidation SDM Vol. 3A 4.10.4.2 asks for, switches address spaces and toggles CR0.WP,
// CR4.SMEP and CR4.SMAP. As long as software invalidates as told, a TLB must be invisible.

// indexSets are the table indices the random tables populate, per level. Keeping them few
// makes linear addresses share entries, tables and TLB sets. PML4 slots 256 and 511 are the
// kernel half: they are the same in both address spaces and only they may hold global pages.
var indexSets = [5][]uint64{
	nil,
	{0, 2, 9},        // PT
	{0, 1, 7},        // PD
	{0, 1, 3},        // PDPT
	{0, 1, 256, 511}, // PML4
}

// maxTables bounds the page-table frames a run allocates.
const maxTables = 1500

type randomScenario struct {
	name  string
	seed  uint64
	steps int
	cfg   mmu.Config
	pcide bool // CR4.PCIDE, address-space switches keep the other PCID's entries
	pge   bool // CR4.PGE at boot (the run also toggles it)
	nxe   bool // EFER.NXE
}

func tlbGeometry(entries, ways, large int, p tlb.Policy) mmu.Config {
	cfg := mmu.DefaultConfig()
	cfg.ITLB = tlb.Config{Name: "ITLB", Entries: entries, Ways: ways, LargeEntries: large, Policy: p}
	cfg.DTLB = tlb.Config{Name: "DTLB", Entries: entries, Ways: ways, LargeEntries: large, Policy: p}
	return cfg
}

func randomScenarios() []randomScenario {
	unified := tlbGeometry(8, 2, 2, tlb.LRU)
	unified.Unified = true
	narrow := tlbGeometry(8, 1, 0, tlb.LRU)
	narrow.MaxPhysAddr = 40
	return []randomScenario{
		{"PCIDs and global pages, default TLBs", 1, 15000, mmu.DefaultConfig(), true, true, true},
		{"PCIDs and global pages, tiny PLRU TLBs", 2, 15000, tlbGeometry(8, 2, 2, tlb.PLRU), true, true, true},
		{"no PCIDs, global pages, unified TLB", 3, 15000, unified, false, true, true},
		{"no PCIDs, NXE off, no large-page entries, MAXPHYADDR 40", 4, 15000, narrow, false, false, false},
		{"PCIDs without global pages, direct-mapped TLBs", 5, 15000, tlbGeometry(4, 1, 1, tlb.LRU), true, false, true},
	}
}

// rtable is one page table of the random world.
type rtable struct {
	pa     uint64
	level  int  // 4 = PML4 ... 1 = PT
	kernel bool // below a kernel PML4 slot: may hold global leaves
}

// affected is a page whose translation in one address space used a changed entry.
type affected struct {
	space  int
	va     uint64
	global bool
}

type world struct {
	t      testing.TB
	m      *machine
	rng    *rand.Rand
	sc     randomScenario
	spaces [2]uint64 // PML4 of each address space
	cur    int       // current address space
	tables []rtable
	pages  []uint64 // sample pages: every combination of indexSets, canonical
	recent []uint64 // a working set of pages accessed often
	counts map[string]int
}

func newWorld(t testing.TB, sc randomScenario) *world {
	var cr4 uint64
	if sc.pcide {
		cr4 |= mmu.CR4PCIDE
	}
	if sc.pge {
		cr4 |= mmu.CR4PGE
	}
	w := &world{t: t, m: bootWith(t, sc.cfg, cr4), rng: rand.New(rand.NewPCG(sc.seed, 0x5eed)),
		sc: sc, counts: map[string]int{}, recent: make([]uint64, 0, 8)}
	if !sc.nxe {
		w.m.setEFER(0, mmu.EFERNXE)
	}
	for _, i4 := range indexSets[4] {
		for _, i3 := range indexSets[3] {
			for _, i2 := range indexSets[2] {
				for _, i1 := range indexSets[1] {
					va := i4<<39 | i3<<30 | i2<<21 | i1<<12
					w.pages = append(w.pages, uint64(int64(va<<16)>>16))
				}
			}
		}
	}
	for s := range w.spaces {
		w.spaces[s] = w.m.alloc()
		w.tables = append(w.tables, rtable{pa: w.spaces[s], level: 4})
	}
	for _, idx := range indexSets[4] {
		kernel := idx >= 256
		e := w.genEntry(4, kernel)
		for s := range w.spaces {
			w.m.write(w.spaces[s]+idx*8, e)
			if !kernel {
				e = w.genEntry(4, false)
			}
		}
	}
	w.load(0, false)
	return w
}

// pcid is the PCID of address space s (0 without PCIDs).
func (w *world) pcid(s int) uint64 {
	if w.sc.pcide {
		return uint64(s) + 1
	}
	return 0
}

// load makes address space s current.
func (w *world) load(s int, noFlush bool) {
	v := w.spaces[s] | w.pcid(s)
	if noFlush {
		v |= mmu.CR3NoFlush
	}
	w.m.setCR3(v)
	w.cur = s
}

// state is the reference state for address space s.
func (w *world) state(s int) refState {
	st := stateOf(w.m.mmu)
	st.cr3 = w.spaces[s]
	return st
}

func (w *world) chance(percent int) bool { return w.rng.IntN(100) < percent }

// frame returns a random physical address aligned to 1<<shift, below 16 GiB.
func (w *world) frame(shift uint) uint64 { return w.rng.Uint64N(1<<(34-shift)) << shift }

// reservedBit returns one bit that is reserved in an entry of this kind.
func (w *world) reservedBit(level int, leaf bool) mmu.PTE {
	var choices []uint
	for b := w.m.mmu.MaxPhysAddr(); b <= 51; b++ {
		choices = append(choices, b)
	}
	switch {
	case level == 4:
		choices = append(choices, 7)
	case level == 3 && leaf:
		for b := uint(13); b <= 29; b++ {
			choices = append(choices, b)
		}
	case level == 2 && leaf:
		for b := uint(13); b <= 20; b++ {
			choices = append(choices, b)
		}
	}
	if !w.sc.nxe {
		choices = append(choices, 63)
	}
	return 1 << choices[w.rng.IntN(len(choices))]
}

// genEntry returns a random entry for a table at level. Non-leaf entries point to tables of
// the next level with the same kernel tag (new or existing) or, rarely, past the end of RAM.
// Only kernel leaves may be global, so a global translation is the same in both spaces.
func (w *world) genEntry(level int, kernel bool) mmu.PTE {
	if w.chance(5) {
		if w.chance(50) {
			return 0
		}
		// Garbage the processor must ignore. Should a later change set P, its address
		// lies past the end of RAM and it is not global unless in the kernel half.
		e := mmu.PTE(w.rng.Uint64())&^(P|mmu.PTEAddrMask) | mmu.PTE(1<<30+w.frame(12)%(15<<30))
		if !kernel {
			e &^= G
		}
		return e
	}
	e := P | mmu.PTE(w.rng.IntN(8))<<mmu.PTESoftShift
	for _, f := range []struct {
		bit     mmu.PTE
		percent int
	}{{W, 85}, {U, 85}, {XD, 10}, {A, 30}, {mmu.PTEPWT, 20}, {mmu.PTEPCD, 20}} {
		if w.chance(f.percent) {
			e |= f.bit
		}
	}
	if !w.sc.nxe && w.chance(80) {
		e &^= XD // XD is a reserved bit without NXE: keep it rare
	}
	leaf := level == 1 || (level == 2 || level == 3) && w.chance(30)
	if leaf {
		if w.chance(30) {
			e |= D
		}
		if kernel && w.chance(50) {
			e |= G
		}
		shift := uint(12 + 9*(level-1))
		e |= mmu.PTE(w.frame(shift))
		if level > 1 {
			e |= PS
			if w.chance(25) {
				e |= 1 << 12 // PAT
			}
		}
	} else {
		if w.chance(25) {
			e |= G | D // ignored in entries that reference a table
		}
		e |= mmu.PTE(w.tableFor(level-1, kernel))
	}
	if w.chance(2) {
		e |= w.reservedBit(level, leaf)
	}
	return e
}

// tableFor returns the address of a table at level with the given tag: an existing one, a
// new one, or (rarely) an address past the end of RAM.
func (w *world) tableFor(level int, kernel bool) uint64 {
	if w.chance(1) {
		return testRAMSize + w.frame(12)%(1<<30)
	}
	if w.chance(30) || len(w.tables) >= maxTables {
		if pa, ok := w.existingTable(level, kernel); ok {
			return pa
		}
		if len(w.tables) >= maxTables {
			return testRAMSize // nothing to share and no room: point past RAM
		}
	}
	pa := w.m.alloc()
	w.tables = append(w.tables, rtable{pa: pa, level: level, kernel: kernel})
	for _, idx := range indexSets[level] {
		w.m.write(pa+idx*8, w.genEntry(level, kernel))
	}
	return pa
}

func (w *world) existingTable(level int, kernel bool) (uint64, bool) {
	var fit []uint64
	for _, tb := range w.tables {
		if tb.level == level && tb.kernel == kernel {
			fit = append(fit, tb.pa)
		}
	}
	if len(fit) == 0 {
		return 0, false
	}
	return fit[w.rng.IntN(len(fit))], true
}

// isLeaf reports whether a present entry at level maps a page.
func isLeaf(e mmu.PTE, level int) bool {
	return e&P != 0 && (level == 1 || (level == 2 || level == 3) && e&PS != 0)
}

// change rewrites one random entry (in both PML4s for a kernel slot) and invalidates what
// the SDM says must be invalidated.
func (w *world) change() {
	tb := w.tables[w.rng.IntN(len(w.tables))]
	idx := indexSets[tb.level][w.rng.IntN(len(indexSets[tb.level]))]
	kernel := tb.kernel || tb.level == 4 && idx >= 256
	old := w.m.read(tb.pa + idx*8) // tables are always inside RAM
	var nv mmu.PTE
	switch k := w.rng.IntN(100); {
	case k < 35:
		nv = w.genEntry(tb.level, kernel)
		w.counts["change: new entry"]++
	case k < 70:
		bits := []mmu.PTE{P, W, U, XD, A, D, mmu.PTEPCD}
		if kernel {
			bits = append(bits, G)
		}
		nv = old ^ bits[w.rng.IntN(len(bits))]
		w.counts["change: flip a bit"]++
	case k < 92:
		if isLeaf(old, tb.level) {
			shift := uint(12 + 9*(tb.level-1))
			nv = old&^bitsMaskPTE(51, shift) | mmu.PTE(w.frame(shift))
			w.counts["change: new frame"]++
		} else if old&P != 0 {
			nv = old&^mmu.PTEAddrMask | mmu.PTE(w.tableFor(tb.level-1, kernel))
			w.counts["change: new table"]++
		} else {
			nv = old ^ P ^ W
		}
	default:
		nv = 0
		w.counts["change: clear"]++
	}
	var addrs []uint64
	if tb.level == 4 && idx >= 256 {
		addrs = []uint64{w.spaces[0] + idx*8, w.spaces[1] + idx*8}
	} else {
		addrs = []uint64{tb.pa + idx*8}
	}
	hit := w.affectedBy(addrs)
	for _, ea := range addrs {
		w.m.write(ea, nv)
	}
	w.invalidate(hit)
	// A stale entry shows best right after the change: look at a page it touched.
	if len(hit) > 0 && w.chance(60) {
		w.access(hit[w.rng.IntN(len(hit))].va)
	}
}

// bitsMaskPTE is bits(hi, lo) as a PTE.
func bitsMaskPTE(hi, lo uint) mmu.PTE { return mmu.PTE(bits(hi, lo)) }

// affectedBy lists the sample pages, in each address space, whose walk reads an entry at one
// of addrs. Their TLB entries (if any) may now be stale.
func (w *world) affectedBy(addrs []uint64) []affected {
	var out []affected
	for s := range w.spaces {
		st := w.state(s)
		for _, va := range w.pages {
			r := refTranslate(w.m.ram, st, va, mmu.Read)
			for _, ea := range r.path {
				if slices.Contains(addrs, ea) {
					out = append(out, affected{space: s, va: va, global: r.global})
					break
				}
			}
		}
	}
	return out
}

// invalidate does one of the invalidations that SDM 4.10.4 says suffice after the entries
// behind hit changed.
func (w *world) invalidate(hit []affected) {
	needsOther, anyGlobal := false, false
	for _, a := range hit {
		needsOther = needsOther || a.space != w.cur && w.sc.pcide
		anyGlobal = anyGlobal || a.global
	}
	switch k := w.rng.IntN(20); {
	case k == 0:
		require.NoError(w.t, w.m.mmu.Invpcid(mmu.InvpcidAll, 0, 0))
		w.counts["invalidate: INVPCID all"]++
	case k == 1 && w.m.mmu.CR4()&mmu.CR4PGE != 0:
		w.m.setCR4(0, mmu.CR4PGE)
		w.m.setCR4(mmu.CR4PGE, 0)
		w.counts["invalidate: toggle CR4.PGE"]++
	case k <= 3 && !needsOther && !anyGlobal:
		w.m.setCR3(w.m.mmu.CR3())
		w.counts["invalidate: CR3 reload"]++
	default:
		// INVLPG for the current space (it drops global entries of every PCID too),
		// INVPCID type 0 for the other space's PCID. Without PCIDs the other space's
		// non-global entries went with the CR3 load that left it.
		for _, a := range hit {
			switch {
			case a.space == w.cur:
				w.m.mmu.Invlpg(a.va)
			case a.global:
				w.m.mmu.Invlpg(a.va) // the global translation, in every PCID
				if w.sc.pcide {
					// INVLPG drops the paging-structure caches of the current PCID only
					// (SDM 4.10.4.1): the other space's may still hold the entries the
					// change made stale (found by FuzzTranslateMatchesReference).
					require.NoError(w.t, w.m.mmu.Invpcid(mmu.InvpcidAddress, uint16(w.pcid(a.space)), a.va))
				}
			case w.sc.pcide:
				require.NoError(w.t, w.m.mmu.Invpcid(mmu.InvpcidAddress, uint16(w.pcid(a.space)), a.va))
			}
		}
		w.counts["invalidate: INVLPG/INVPCID per page"]++
	}
}

var randomAccesses = []mmu.Access{
	mmu.Read, mmu.Write, mmu.Fetch, mmu.Read | mmu.AC, mmu.Write | mmu.AC,
	mmu.User, mmu.User | mmu.Write, mmu.User | mmu.Fetch,
}

// randomPage picks the page of the next access. Programs have locality: most accesses go to
// a few pages that were used recently.
func (w *world) randomPage() uint64 {
	if len(w.recent) > 0 && w.chance(75) {
		return w.recent[w.rng.IntN(len(w.recent))]
	}
	return w.pages[w.rng.IntN(len(w.pages))]
}

// access makes one random access to page and compares it with the reference.
func (w *world) access(page uint64) {
	t := w.t
	va := page | w.rng.Uint64N(4096)
	if w.chance(2) {
		va ^= 1 << (47 + w.rng.IntN(17)) // break the sign extension
	}
	acc := randomAccesses[w.rng.IntN(len(randomAccesses))]
	want := refTranslate(w.m.ram, w.state(w.cur), va, acc)
	before := make([]mmu.PTE, len(want.path))
	for i, ea := range want.path {
		before[i] = mmu.PTE(refRead64(w.m.ram, ea)) // the path may end past the end of RAM
	}
	cr2, walks := w.m.mmu.CR2(), w.m.walks()

	pa, f := w.m.mmu.Translate(va, acc)
	what := fmt.Sprintf("%s of %#x in space %d (CR0=%#x CR4=%#x)", acc, va, w.cur, w.m.mmu.CR0(), w.m.mmu.CR4())
	switch {
	case want.gp:
		require.NotNil(t, f, what)
		require.Equal(t, uint8(mmu.VectorGP), f.Vector, what)
		require.Equal(t, cr2, w.m.mmu.CR2(), what)
		w.counts["#GP"]++
		return
	case want.ok:
		require.Nil(t, f, "%s: want %#x, got %v", what, want.pa, f)
		require.Equal(t, fmt.Sprintf("%#x", want.pa), fmt.Sprintf("%#x", pa), what)
		w.counts["translated"]++
		if len(w.recent) < cap(w.recent) {
			w.recent = append(w.recent, page)
		} else {
			w.recent[w.rng.IntN(len(w.recent))] = page
		}
	default:
		require.NotNil(t, f, "%s: want error code [%s], got %#x", what, mmu.DecodeErrorCode(want.code), pa)
		require.Equal(t, uint8(mmu.VectorPF), f.Vector, what)
		require.Equal(t, mmu.DecodeErrorCode(want.code), mmu.DecodeErrorCode(f.Code), what)
		require.Equal(t, va, w.m.mmu.CR2(), what)
		w.counts[fmt.Sprintf("#PF [%s]", mmu.DecodeErrorCode(f.Code))]++
	}

	walked := w.m.walks() != walks
	last := len(want.path) - 1
	for i, ea := range want.path {
		exp := before[i]
		if want.ok && walked {
			exp |= A // SDM 4.8: A in every entry the walk used, D in the leaf on a write
			if i == last && acc&mmu.Write != 0 {
				exp |= D
			}
		}
		got := mmu.PTE(refRead64(w.m.ram, ea))
		require.Equal(t, exp.String(), got.String(), "%s: %s", what, levelName[4-i])
	}
	if want.ok && !walked {
		// Served by the TLB: what a walk would have set was set when the entry was
		// filled. (A global entry may have been filled through the other space's PML4.)
		w.counts["TLB hit"]++
		if want.global {
			w.counts["TLB hit, global"]++
		}
		for i := range want.path {
			if i == 0 && want.global {
				continue
			}
			require.NotZero(t, before[i]&A, "%s: TLB hit but A clear in the %s", what, levelName[4-i])
		}
		if acc&mmu.Write != 0 {
			require.NotZero(t, before[last]&D, "%s: TLB hit for a write but D clear", what)
		}
	}
}

// step does one random thing.
func (w *world) step() {
	switch k := w.rng.IntN(1000); {
	case k < 800:
		w.access(w.randomPage())
	case k < 900:
		w.change()
	case k < 950:
		w.load(1-w.cur, w.sc.pcide && w.chance(80))
		w.counts["switch space"]++
	case k < 965:
		setBit(w.m.setCR0, w.chance(50), mmu.CR0WP)
	case k < 975:
		setBit(w.m.setCR4, w.chance(30), mmu.CR4SMEP)
	case k < 990:
		setBit(w.m.setCR4, w.chance(30), mmu.CR4SMAP)
	default:
		if w.sc.pge {
			setBit(w.m.setCR4, w.chance(70), mmu.CR4PGE)
		}
	}
}

func runRandom(t testing.TB, sc randomScenario) *world {
	w := newWorld(t, sc)
	for i := 0; i < sc.steps; i++ {
		w.step()
	}
	return w
}

func TestRandomTablesMatchReferenceWalk(t *testing.T) {
	for _, sc := range randomScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			w := runRandom(t, sc)
			// The run must have exercised what it claims to: translations from walks and
			// from the TLB, every kind of fault, and every kind of change.
			for _, k := range []string{"translated", "TLB hit", "#GP", "#PF [- - - - -]", "#PF [P - - - -]",
				"#PF [P - - RSVD -]", "change: new entry", "change: flip a bit", "change: new frame",
				"change: new table", "invalidate: INVLPG/INVPCID per page", "invalidate: INVPCID all",
				"switch space"} {
				assert.Positive(t, w.counts[k], "no %q in %d steps: %v", k, sc.steps, w.counts)
			}
			if sc.pge {
				assert.Positive(t, w.counts["invalidate: toggle CR4.PGE"])
			}
			d := w.m.mmu.DTLB.Stats
			assert.Positive(t, d.Evictions, "the TLB was under pressure")
			t.Logf("%v; DTLB %+v, hit rate %.2f", w.counts, d, d.HitRate())
		})
	}
}

// FuzzTranslateMatchesReference runs shorter random scenarios from a fuzzed seed and mode:
// go test -fuzz FuzzTranslateMatchesReference ./mmu/
func FuzzTranslateMatchesReference(f *testing.F) {
	for seed := uint64(0); seed < 4; seed++ {
		f.Add(seed, uint8(seed*37))
	}
	f.Fuzz(func(t *testing.T, seed uint64, mode uint8) {
		cfg := tlbGeometry(8<<(mode&3), 2, int(mode>>2&1)*4, tlb.Policy(mode>>3&1))
		cfg.Unified = mode&0x10 != 0
		sc := randomScenario{
			name: "fuzz", seed: seed, steps: 1500, cfg: cfg,
			pcide: mode&0x20 != 0, pge: mode&0x40 != 0, nxe: mode&0x80 == 0,
		}
		runRandom(t, sc)
	})
}
