package mmu_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/ram"
	"github.com/vmemu/vmemu/tlb"
)

// testRAMSize is the physical memory of a test machine.
const testRAMSize = 64 << 20

// tableFlags are the flags of the paging-structure entries the helpers create on the way to
// a leaf: present, writable, user. They grant everything, so the leaf decides unless a test
// narrows a level on purpose.
const tableFlags = mmu.PTEPresent | mmu.PTEWrite | mmu.PTEUser

// Flag shorthands for table rows.
const (
	P  = mmu.PTEPresent
	W  = mmu.PTEWrite
	U  = mmu.PTEUser
	A  = mmu.PTEAccessed
	D  = mmu.PTEDirty
	PS = mmu.PTEPageSize
	G  = mmu.PTEGlobal
	XD = mmu.PTENoExec
)

// Error-code shorthands.
const (
	eP    = mmu.ErrPresent
	eW    = mmu.ErrWrite
	eU    = mmu.ErrUser
	eRSVD = mmu.ErrReserved
	eI    = mmu.ErrFetch
)

// machine is RAM, an MMU and a bump allocator of page-table frames: the least a test needs
// to build page tables the way a kernel does, by writing entries into RAM.
type machine struct {
	t    testing.TB
	ram  *ram.RAM
	mmu  *mmu.MMU
	next uint64 // physical address of the next free frame
}

// newMachine builds a machine with paging off.
func newMachine(t testing.TB, cfg mmu.Config) *machine {
	t.Helper()
	r, err := ram.New(testRAMSize)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	m, err := mmu.New(r, cfg)
	require.NoError(t, err)
	// Frames below 1 MiB stay free, so physical addresses there are recognisable data pages.
	return &machine{t: t, ram: r, mmu: m, next: 1 << 20}
}

// boot builds a machine with the default TLBs and 4-level paging on (CR0.WP=1, EFER.NXE=1,
// CR4.PAE plus extraCR4) over an empty PML4.
func boot(t testing.TB, extraCR4 uint64) *machine {
	t.Helper()
	return bootWith(t, mmu.DefaultConfig(), extraCR4)
}

// bootWith is boot with a chosen MMU configuration.
func bootWith(t testing.TB, cfg mmu.Config, extraCR4 uint64) *machine {
	t.Helper()
	m := newMachine(t, cfg)
	require.NoError(t, m.mmu.EnableLongMode(m.alloc(), extraCR4))
	return m
}

// alloc returns the physical address of a fresh zeroed frame.
func (m *machine) alloc() uint64 {
	pa := m.next
	require.Less(m.t, pa, uint64(testRAMSize), "test RAM exhausted")
	m.next += ram.FrameSize
	return pa
}

// root is the physical address of the current PML4.
func (m *machine) root() uint64 { return m.mmu.CR3() & uint64(mmu.PTEAddrMask) }

// entryAddr is the physical address of the entry for va at level in the table at table.
func entryAddr(table, va uint64, level int) uint64 {
	return table + (va>>(12+9*(level-1))&511)*8
}

// leafLevel is the level whose entry maps a page of size s: 1 for 4K, 2 for 2M, 3 for 1G.
func leafLevel(s tlb.PageSize) int { return int(s) + 1 }

// mapIn maps the page of size s containing va to physical address pa in the PML4 at root,
// with leaf flags leaf (PS is added for large pages). Missing tables are allocated with
// tableFlags.
func (m *machine) mapIn(root, va, pa uint64, s tlb.PageSize, leaf mmu.PTE) {
	m.t.Helper()
	table := root
	for level := 4; level > leafLevel(s); level-- {
		ea := entryAddr(table, va, level)
		e := m.read(ea)
		if e&mmu.PTEPresent == 0 {
			e = mmu.PTE(m.alloc()) | tableFlags
			m.write(ea, e)
		}
		table = e.Addr()
	}
	if s != tlb.Size4K {
		leaf |= mmu.PTEPageSize
	}
	m.write(entryAddr(table, va, leafLevel(s)), mmu.PTE(pa)|leaf)
}

// mapPage maps in the current address space.
func (m *machine) mapPage(va, pa uint64, s tlb.PageSize, leaf mmu.PTE) {
	m.t.Helper()
	m.mapIn(m.root(), va, pa, s, leaf)
}

// addr is the physical address of the entry at level that translates va in the current
// address space. The levels above must be present.
func (m *machine) addr(va uint64, level int) uint64 {
	m.t.Helper()
	table := m.root()
	for l := 4; l > level; l-- {
		e := m.read(entryAddr(table, va, l))
		require.NotZero(m.t, e&mmu.PTEPresent, "level %d of %#x is not present", l, va)
		table = e.Addr()
	}
	return entryAddr(table, va, level)
}

// pte reads the entry at level for va.
func (m *machine) pte(va uint64, level int) mmu.PTE {
	m.t.Helper()
	return m.read(m.addr(va, level))
}

// setPTE overwrites the entry at level for va, as a kernel's store would, with no
// invalidation.
func (m *machine) setPTE(va uint64, level int, v mmu.PTE) {
	m.t.Helper()
	m.write(m.addr(va, level), v)
}

// update applies f to the entry at level for va.
func (m *machine) update(va uint64, level int, f func(mmu.PTE) mmu.PTE) {
	m.t.Helper()
	ea := m.addr(va, level)
	m.write(ea, f(m.read(ea)))
}

func (m *machine) read(pa uint64) mmu.PTE {
	m.t.Helper()
	v, err := m.ram.Read64(pa)
	require.NoError(m.t, err)
	return mmu.PTE(v)
}

func (m *machine) write(pa uint64, v mmu.PTE) {
	m.t.Helper()
	require.NoError(m.t, m.ram.Write64(pa, uint64(v)))
}

// ok translates va for acc and requires success, returning the physical address.
func (m *machine) ok(va uint64, acc mmu.Access) uint64 {
	m.t.Helper()
	pa, f := m.mmu.Translate(va, acc)
	require.Nil(m.t, f, "translate %#x for %s", va, acc)
	return pa
}

// pf translates va for acc and requires a page fault, returning its error code. It checks
// that CR2 holds va.
func (m *machine) pf(va uint64, acc mmu.Access) uint32 {
	m.t.Helper()
	_, f := m.mmu.Translate(va, acc)
	require.NotNil(m.t, f, "translate %#x for %s succeeded", va, acc)
	require.Equal(m.t, uint8(mmu.VectorPF), f.Vector)
	require.Equal(m.t, va, f.Addr)
	require.Equal(m.t, acc, f.Access)
	require.Equal(m.t, va, m.mmu.CR2(), "CR2 receives the faulting address")
	return f.Code
}

// walks is the number of page walks both TLBs have counted.
func (m *machine) walks() uint64 {
	n := m.mmu.DTLB.Stats.Walks
	if m.mmu.ITLB != m.mmu.DTLB {
		n += m.mmu.ITLB.Stats.Walks
	}
	return n
}

// setCR0 and setCR4 change control-register bits, requiring success.
func (m *machine) setCR0(set, clear uint64) {
	m.t.Helper()
	require.NoError(m.t, m.mmu.SetCR0(m.mmu.CR0()&^clear|set))
}

func (m *machine) setCR4(set, clear uint64) {
	m.t.Helper()
	require.NoError(m.t, m.mmu.SetCR4(m.mmu.CR4()&^clear|set))
}

func (m *machine) setEFER(set, clear uint64) {
	m.t.Helper()
	require.NoError(m.t, m.mmu.SetEFER(m.mmu.EFER()&^clear|set))
}

func (m *machine) setCR3(v uint64) {
	m.t.Helper()
	require.NoError(m.t, m.mmu.SetCR3(v))
}
