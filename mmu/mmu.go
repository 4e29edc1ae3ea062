// Package mmu models the x86-64 memory-management unit: the control-register state that
// governs paging (CR0, CR3, CR4, EFER), the four-level page walk of SDM Vol. 3A chapter 4
// (PML4 -> PDPT -> PD -> PT, with 4 KiB, 2 MiB and 1 GiB pages) over page tables that live in
// physical RAM in the exact Intel format, the permission and reserved-bit checks, the accessed
// and dirty flags written back into the entries, and the instruction and data TLBs it fills.
//
// A failed translation is a fault with the architectural vector, error code and CR2, exactly
// as the processor would deliver it. The MMU knows nothing about processes, VMAs, files or
// the kernel: software programs it only as a real kernel does, by writing entries into RAM,
// loading CR3 and CR4, and invalidating TLB entries (INVLPG, INVPCID).
//
// The paging-structure caches of SDM 4.10.3 (tlb.PSC) let a walk begin below a cached PML4E,
// PDPTE or PDE; with Config.PSC all zero every walk reads all levels from RAM, which the SDM
// permits. What is not modelled: protection keys, 5-level paging, PAT memory types, and the
// legacy 32-bit and PAE modes. CR0.PG = 0 means linear addresses are physical addresses.
package mmu

import (
	"encoding/binary"
	"fmt"

	"github.com/vmemu/vmemu/internal/phase"
	"github.com/vmemu/vmemu/ram"
	"github.com/vmemu/vmemu/tlb"
)

// Control-register and EFER bits the MMU honours.
const (
	CR0PE = 1 << 0  // protection enable
	CR0WP = 1 << 16 // write protect: supervisor writes honour R/W
	CR0AM = 1 << 18 // alignment mask: with RFLAGS.AC, misaligned CPL-3 accesses raise #AC
	CR0PG = 1 << 31 // paging

	CR4PAE   = 1 << 5  // physical address extension (required by 4-level paging)
	CR4PGE   = 1 << 7  // global pages
	CR4PCIDE = 1 << 17 // process-context identifiers
	CR4SMEP  = 1 << 20 // supervisor-mode execution prevention
	CR4SMAP  = 1 << 21 // supervisor-mode access prevention

	EFERLME = 1 << 8  // long mode enable
	EFERLMA = 1 << 10 // long mode active
	EFERNXE = 1 << 11 // execute-disable enable

	// CR3NoFlush is bit 63 of a value loaded into CR3: with CR4.PCIDE it keeps the TLB.
	CR3NoFlush = 1 << 63
)

// Exception vectors the MMU raises.
const (
	VectorGP = 13 // general protection: non-canonical address
	VectorPF = 14 // page fault
)

// Access describes one memory access. Its bits are placed where the page-fault error code
// reports them, so an error code is the access bits plus P and RSVD.
type Access uint32

// Access kinds. A read is the zero value.
const (
	Read  Access = 0
	Write        = Access(ErrWrite) // the access writes
	User         = Access(ErrUser)  // the access is made at CPL 3
	Fetch        = Access(ErrFetch) // the access fetches an instruction
	// AC carries RFLAGS.AC for a supervisor data access: with CR4.SMAP and AC set, supervisor
	// data accesses to user pages are allowed. It never appears in an error code.
	AC Access = 1 << 8
)

func (a Access) String() string {
	s := "read"
	if a&Fetch != 0 {
		s = "fetch"
	} else if a&Write != 0 {
		s = "write"
	}
	if a&User != 0 {
		return "user " + s
	}
	return "supervisor " + s
}

// Fault is an exception raised by a translation.
type Fault struct {
	Vector uint8  // VectorPF or VectorGP
	Code   uint32 // error code (for #GP from a non-canonical address: 0)
	Addr   uint64 // the linear address; for #PF this is what CR2 receives
	Access Access // the access that failed
}

func (f *Fault) Error() string {
	if f.Vector == VectorGP {
		return fmt.Sprintf("#GP(0): non-canonical address %#x", f.Addr)
	}
	return fmt.Sprintf("#PF at %#x: %s, error code %#x [%s]", f.Addr, f.Access, f.Code, DecodeErrorCode(f.Code))
}

// Config is the geometry of the MMU's TLBs and its physical address width.
type Config struct {
	ITLB, DTLB tlb.Config
	// Unified makes instruction fetches and data accesses share the DTLB.
	Unified bool
	// MaxPhysAddr is MAXPHYADDR, the physical address width in bits (36 to 52). Entry bits
	// from MaxPhysAddr to 51 are reserved.
	MaxPhysAddr uint
	// PSC sizes the paging-structure caches (SDM 4.10.3); all zero, there are none and
	// every TLB miss walks from CR3.
	PSC tlb.PSCConfig
}

// DefaultConfig is a split TLB like a recent Intel core's first level: a 64-entry 4-way
// instruction TLB and a 256-entry 4-way data TLB, each with 32 large-page entries, LRU; and
// paging-structure caches of 2 PML4E, 4 PDPTE and 32 PDE entries.
func DefaultConfig() Config {
	return Config{
		ITLB:        tlb.Config{Name: "ITLB", Entries: 64, Ways: 4, LargeEntries: 32, Policy: tlb.LRU},
		DTLB:        tlb.Config{Name: "DTLB", Entries: 256, Ways: 4, LargeEntries: 32, Policy: tlb.LRU},
		MaxPhysAddr: 46,
		PSC:         tlb.DefaultPSC,
	}
}

// MMU is the memory-management unit of one processor.
type MMU struct {
	ram        *ram.RAM
	ITLB, DTLB *tlb.TLB
	// PSC is the paging-structure caches, shared by fetches and data accesses (nil: none).
	PSC *tlb.PSC

	cr0, cr2, cr3, cr4, efer uint64

	pcid    uint16 // current PCID (0 unless CR4.PCIDE)
	maxPhys uint
	rsvd    uint64 // bits 51:MAXPHYADDR
	epoch   uint64 // bumped whenever cached translations may have been dropped
	fault   Fault  // the last fault, returned by pointer so faults do not allocate
	last    *tlb.Entry
	walked  WalkRecord // the most recent hardware walk (LastWalk), but see pte
	// pte is the most recent walk when it read only a PTE (nearly every TLB miss) and
	// pteLast is set: walked is then brought up to date from it when it is read (fewer
	// stores on every miss).
	pte     pteWalk
	pteLast bool
	result  walkResult // what the most recent hardware walk found besides its entries

	watches []Watchpoint // data watchpoints (watch.go)
	hit     WatchHit
	hits    uint64
}

// New builds an MMU over r with paging off. A kernel turns paging on by loading CR3, CR4,
// EFER and CR0 the way it would on hardware (see EnableLongMode).
func New(r *ram.RAM, cfg Config) (*MMU, error) {
	if cfg.MaxPhysAddr == 0 {
		cfg.MaxPhysAddr = 46
	}
	if cfg.MaxPhysAddr < 36 || cfg.MaxPhysAddr > 52 {
		return nil, fmt.Errorf("mmu: MAXPHYADDR %d is outside 36..52", cfg.MaxPhysAddr)
	}
	if r.Size() > 1<<cfg.MaxPhysAddr {
		return nil, fmt.Errorf("mmu: %d bytes of RAM do not fit in %d physical address bits", r.Size(), cfg.MaxPhysAddr)
	}
	m := &MMU{ram: r, maxPhys: cfg.MaxPhysAddr}
	m.rsvd = uint64(PTEAddrMask) &^ (1<<cfg.MaxPhysAddr - 1)
	var err error
	if m.DTLB, err = tlb.New(cfg.DTLB); err != nil {
		return nil, err
	}
	if cfg.PSC != (tlb.PSCConfig{}) {
		if m.PSC, err = tlb.NewPSC(cfg.PSC); err != nil {
			return nil, err
		}
	}
	m.ITLB = m.DTLB
	if !cfg.Unified {
		if m.ITLB, err = tlb.New(cfg.ITLB); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// RAM returns the physical memory the MMU walks.
func (m *MMU) RAM() *ram.RAM { return m.ram }

// MaxPhysAddr returns MAXPHYADDR.
func (m *MMU) MaxPhysAddr() uint { return m.maxPhys }

// CR0 returns the value of CR0.
func (m *MMU) CR0() uint64 { return m.cr0 }

// CR2 returns the linear address of the last page fault.
func (m *MMU) CR2() uint64 { return m.cr2 }

// CR3 returns the value of CR3 (bit 63 of the loaded value is not kept).
func (m *MMU) CR3() uint64 { return m.cr3 }

// CR4 returns the value of CR4.
func (m *MMU) CR4() uint64 { return m.cr4 }

// EFER returns the value of IA32_EFER.
func (m *MMU) EFER() uint64 { return m.efer }

// PCID returns the current process-context identifier (0 when CR4.PCIDE is clear).
func (m *MMU) PCID() uint16 { return m.pcid }

// Epoch returns a number that changes whenever cached translations may have been dropped
// (a flush, an invalidation, a control-register load, a page fault). A decoded-instruction
// cache that skips the instruction TLB between blocks uses it to know when to look again.
func (m *MMU) Epoch() uint64 { return m.epoch }

func (m *MMU) flushAll(keepGlobal bool) {
	m.epoch++
	if m.PSC != nil {
		m.PSC.FlushAll() // paging-structure-cache entries are never global
	}
	m.DTLB.FlushAll(keepGlobal)
	if m.ITLB != m.DTLB {
		m.ITLB.FlushAll(keepGlobal)
	}
}

func (m *MMU) flushPCID(pcid uint16, keepGlobal bool) {
	m.epoch++
	if m.PSC != nil {
		m.PSC.FlushPCID(pcid)
	}
	m.DTLB.FlushPCID(pcid, keepGlobal)
	if m.ITLB != m.DTLB {
		m.ITLB.FlushPCID(pcid, keepGlobal)
	}
}

// invalidatePage drops the TLB entries of va's page for pcid (and global ones if global),
// and the paging-structure-cache entries translating va would use (SDM 4.10.4.1: a page
// fault, INVPCID type 0).
func (m *MMU) invalidatePage(va uint64, pcid uint16, global bool) {
	m.epoch++
	if m.PSC != nil {
		m.PSC.InvalidateAddr(va, pcid)
	}
	m.DTLB.InvalidatePage(va, pcid, global)
	if m.ITLB != m.DTLB {
		m.ITLB.InvalidatePage(va, pcid, global)
	}
}

func (m *MMU) longMode() bool { return m.efer&EFERLMA != 0 }

// SetCR0 loads CR0. Turning paging on requires CR4.PAE and EFER.LME (it then sets EFER.LMA);
// CR0.PG without CR0.PE is #GP as on hardware. Clearing PG leaves long mode (LMA) and
// invalidates every TLB entry, global ones too. (Hardware refuses to clear PG from 64-bit
// code; this model, which has no compatibility mode, allows it so a kernel can reset.)
func (m *MMU) SetCR0(v uint64) error {
	if v&CR0PG != 0 && v&CR0PE == 0 {
		return fmt.Errorf("#GP(0): CR0.PG without CR0.PE")
	}
	if v>>32 != 0 {
		return fmt.Errorf("#GP(0): reserved bits in CR0 %#x", v)
	}
	wasPG := m.cr0&CR0PG != 0
	if v&CR0PG != 0 && !wasPG {
		if m.cr4&CR4PAE == 0 || m.efer&EFERLME == 0 {
			return fmt.Errorf("#GP(0): this MMU implements only 4-level paging (needs CR4.PAE and EFER.LME)")
		}
		m.efer |= EFERLMA
	}
	if v&CR0PG == 0 && wasPG {
		m.efer &^= EFERLMA
		m.flushAll(false)
	}
	m.cr0 = v
	return nil
}

// SetCR3 loads CR3 as MOV to CR3 does (SDM Vol. 3A 4.10.4.1). With CR4.PCIDE clear, every
// non-global entry is invalidated. With CR4.PCIDE set, bits 11:0 are the new PCID; its
// non-global entries are invalidated unless bit 63 of v is set. Global entries survive.
func (m *MMU) SetCR3(v uint64) error {
	noFlush := m.cr4&CR4PCIDE != 0 && v&CR3NoFlush != 0
	v &^= CR3NoFlush
	if v>>m.maxPhys != 0 {
		return fmt.Errorf("#GP(0): CR3 %#x sets bits above MAXPHYADDR", v)
	}
	m.cr3 = v
	if m.cr4&CR4PCIDE != 0 {
		m.pcid = uint16(v & 0xfff)
	} else {
		m.pcid = 0
	}
	if noFlush {
		m.epoch++ // a different address space: cached code chains no longer apply
		return nil
	}
	m.flushPCID(m.pcid, true)
	return nil
}

// SetCR4 loads CR4. Changing PGE, or clearing PCIDE, invalidates every entry including
// globals; changing PAE or setting SMEP invalidates the current PCID's entries. Setting
// PCIDE outside long mode or with CR3[11:0] not zero is #GP.
func (m *MMU) SetCR4(v uint64) error {
	old := m.cr4
	if v&CR4PCIDE != 0 && old&CR4PCIDE == 0 && (!m.longMode() || m.cr3&0xfff != 0) {
		return fmt.Errorf("#GP(0): CR4.PCIDE set outside long mode or with CR3[11:0] != 0")
	}
	if v&CR4PAE == 0 && m.longMode() {
		return fmt.Errorf("#GP(0): clearing CR4.PAE in long mode")
	}
	m.cr4 = v
	switch {
	case (old^v)&CR4PGE != 0 || (old&CR4PCIDE != 0 && v&CR4PCIDE == 0):
		m.pcid = 0
		if v&CR4PCIDE != 0 {
			m.pcid = uint16(m.cr3 & 0xfff)
		}
		m.flushAll(false)
	case (old^v)&CR4PAE != 0 || (old&CR4SMEP == 0 && v&CR4SMEP != 0):
		m.flushPCID(m.pcid, false)
	}
	return nil
}

// SetEFER loads IA32_EFER. LMA is read-only (CR0 sets it); changing LME while paging is on
// is #GP.
func (m *MMU) SetEFER(v uint64) error {
	if m.cr0&CR0PG != 0 && (v^m.efer)&EFERLME != 0 {
		return fmt.Errorf("#GP(0): changing EFER.LME with paging enabled")
	}
	m.efer = v&^EFERLMA | m.efer&EFERLMA
	return nil
}

// EnableLongMode turns on 4-level paging with the PML4 at cr3, the way a boot loader does:
// CR4.PAE (plus extraCR4), EFER.LME and EFER.NXE, CR3, then CR0.PG|PE|WP.
func (m *MMU) EnableLongMode(cr3, extraCR4 uint64) error {
	if err := m.SetCR4(m.cr4 | CR4PAE | extraCR4&^CR4PCIDE); err != nil {
		return err
	}
	if err := m.SetEFER(m.efer | EFERLME | EFERNXE); err != nil {
		return err
	}
	if err := m.SetCR3(cr3 &^ 0xfff); err != nil {
		return err
	}
	if err := m.SetCR0(m.cr0 | CR0PE | CR0PG | CR0WP); err != nil {
		return err
	}
	if extraCR4&CR4PCIDE != 0 {
		if err := m.SetCR4(m.cr4 | CR4PCIDE); err != nil {
			return err
		}
		return m.SetCR3(cr3)
	}
	return nil
}

// Invlpg invalidates the translations of the page containing va for the current PCID, and
// global translations of it, in both TLBs, and every paging-structure-cache entry of the
// current PCID whatever address it maps (SDM Vol. 3A 4.10.4.1). A non-canonical va makes it
// a no-op, as on hardware.
func (m *MMU) Invlpg(va uint64) {
	if !Canonical(va) {
		return
	}
	m.invalidatePage(va, m.pcid, true)
	if m.PSC != nil {
		m.PSC.FlushPCID(m.pcid)
	}
}

// INVPCID types (SDM Vol. 2A, INVPCID).
const (
	InvpcidAddress    = 0 // one linear address for one PCID (globals kept)
	InvpcidSingle     = 1 // every non-global entry of one PCID
	InvpcidAll        = 2 // every entry, global ones too
	InvpcidAllNonGlob = 3 // every non-global entry of every PCID
)

// Invpcid performs INVPCID of the given type.
func (m *MMU) Invpcid(typ int, pcid uint16, va uint64) error {
	if pcid > 0xfff {
		return fmt.Errorf("#GP(0): PCID %#x is wider than 12 bits", pcid)
	}
	switch typ {
	case InvpcidAddress:
		if !Canonical(va) {
			return fmt.Errorf("#GP(0): INVPCID of non-canonical address %#x", va)
		}
		// Type 0 keeps global translations (SDM Vol. 2A: "other than global translations").
		m.invalidatePage(va, pcid, false)
	case InvpcidSingle:
		m.flushPCID(pcid, true)
	case InvpcidAll:
		m.flushAll(false)
	case InvpcidAllNonGlob:
		m.flushAll(true)
	default:
		return fmt.Errorf("#GP(0): INVPCID type %d", typ)
	}
	return nil
}

// Canonical reports whether va is a canonical 48-bit linear address (bits 63:47 all equal).
func Canonical(va uint64) bool {
	return uint64(int64(va<<16)>>16) == va
}

// Translate returns the physical address of linear address va for the access acc, going
// through the TLB and walking the page tables on a miss, as the processor does. On failure
// it returns a fault (valid until the next call) and has already set CR2 for a #PF.
//
// A TLB hit whose cached permissions forbid the access faults without walking, and the fault
// drops that page's TLB entries (SDM Vol. 3A 4.10.4.1); a write through an entry whose dirty
// flag is clear walks again to set D.
func (m *MMU) Translate(va uint64, acc Access) (uint64, *Fault) {
	m.last = nil
	if m.cr0&CR0PG == 0 {
		return va, nil
	}
	if !Canonical(va) {
		m.fault = Fault{Vector: VectorGP, Addr: va, Access: acc}
		return 0, &m.fault
	}
	t := m.DTLB
	if acc&Fetch != 0 {
		t = m.ITLB
	}
	if e := t.Lookup(va, m.pcid); e != nil {
		if !m.allowed(e.Perm, acc) {
			return 0, m.pageFault(va, acc, ErrPresent)
		}
		if acc&Write == 0 || e.Perm&tlb.PermDirty != 0 {
			m.last = e
			return e.PhysAddr(va), nil
		}
	}
	return m.walk(va, acc, t)
}

// allowed applies the access-rights rules of SDM Vol. 3A 4.6 to combined permissions.
func (m *MMU) allowed(p tlb.Perm, acc Access) bool {
	user := p&tlb.PermUser != 0
	if acc&User != 0 {
		if !user {
			return false
		}
		if acc&Write != 0 && p&tlb.PermWrite == 0 {
			return false
		}
	} else {
		if acc&Fetch != 0 {
			if user && m.cr4&CR4SMEP != 0 {
				return false
			}
		} else if user && m.cr4&CR4SMAP != 0 && acc&AC == 0 {
			return false
		}
		if acc&Write != 0 && p&tlb.PermWrite == 0 && m.cr0&CR0WP != 0 {
			return false
		}
	}
	if acc&Fetch != 0 && p&tlb.PermNoExec != 0 && m.efer&EFERNXE != 0 {
		return false
	}
	return true
}

// pageFault records a #PF for va: the error code is the access bits plus extra (P, RSVD),
// with I/D reported only when SMEP or NXE is on (SDM Vol. 3A 4.7). The fault invalidates the
// page's TLB entries.
func (m *MMU) pageFault(va uint64, acc Access, extra uint32) *Fault {
	m.cr2 = va
	m.invalidatePage(va, m.pcid, true)
	f := &m.fault // field by field (a Fault built whole is copied with 16-byte moves)
	f.Vector, f.Code, f.Addr, f.Access = VectorPF, m.errorCode(acc, extra), va, acc
	return f
}

// errorCode builds a #PF error code from the access and the P/RSVD bits in extra. I/D is
// reported only when CR4.SMEP or EFER.NXE is set (SDM Vol. 3A 4.7).
func (m *MMU) errorCode(acc Access, extra uint32) uint32 {
	code := uint32(acc)&(ErrWrite|ErrUser|ErrFetch) | extra
	if acc&Fetch != 0 && m.cr4&CR4SMEP == 0 && m.efer&EFERNXE == 0 {
		code &^= ErrFetch
	}
	return code
}

// Level names a paging-structure level, 4 (PML4) down to 1 (PT).
var levelNames = [5]string{"", "PTE", "PDE", "PDPTE", "PML4E"}

// Level is one entry the walk read.
type Level struct {
	Level     int    // 4 = PML4E, 3 = PDPTE, 2 = PDE, 1 = PTE
	Index     uint   // the 9-bit index taken from the linear address
	EntryAddr uint64 // physical address of the entry
	Entry     PTE    // its value when read
}

// Name returns "PML4E", "PDPTE", "PDE" or "PTE".
func (l Level) Name() string { return levelNames[l.Level] }

// walkResult is what resolving a linear address through the tables found, besides the
// entries read (which resolveFrom stores where its caller says: for a hardware walk, straight
// into the walk record).
type walkResult struct {
	perms  [4]tlb.Perm // the permissions combined down to each level read
	n      int         // how many levels were read
	pa     uint64
	size   tlb.PageSize
	perm   tlb.Perm
	code   uint32 // 0 on success; else ErrPresent/ErrReserved bits (not-present: notPresent)
	failed bool
}

// resolve reads the paging structures for va and applies the checks of SDM Vol. 3A 4.5 and
// 4.6 for acc, with no side effects. The entries read go to levels, the rest to r.
func (m *MMU) resolve(va uint64, acc Access, levels *[4]Level, r *walkResult) {
	m.resolveFrom(va, acc, 4, m.cr3&uint64(PTEAddrMask)&^m.rsvd, tlb.PermWrite|tlb.PermUser, levels, r)
}

// resolveFrom is resolve starting at level (4 down to 1) in the table at physical address
// table, with the permissions perm combined over the levels above: where a
// paging-structure-cache entry lets the walk begin.
//
// The result goes to *r, which the caller reads field by field: a walkResult built here and
// returned by value was copied out with 16-byte moves the host's store buffer cannot forward
// from the narrower stores that built it, a stall of tens of cycles on every TLB miss.
func (m *MMU) resolveFrom(va uint64, acc Access, start int, table uint64, perm tlb.Perm, levels *[4]Level, r *walkResult) {
	// Field by field (zeroed whole, it is stored in 16-byte pieces the narrower loads of
	// its fields below are not forwarded from on every host).
	r.perms, r.n, r.pa, r.size, r.perm, r.code, r.failed = [4]tlb.Perm{}, 0, 0, 0, 0, 0, false
	mem := m.ram.Bytes()
	for level := start; level >= 1; level-- {
		idx := uint(va>>(12+9*(level-1))) & 511
		ea := table + uint64(idx)*8
		raw := ^uint64(0) // no memory answers: the bus reads all ones
		if ea < uint64(len(mem)) && uint64(len(mem))-ea >= 8 {
			raw = binary.LittleEndian.Uint64(mem[ea:])
		}
		e := PTE(raw)
		levels[r.n&3] = Level{Level: level, Index: idx, EntryAddr: ea, Entry: e}
		r.n++
		if e&PTEPresent == 0 {
			r.failed = true
			return
		}
		leaf := level == 1 || (level <= 3 && e&PTEPageSize != 0)
		if m.reserved(e, level, leaf) {
			r.failed, r.code = true, ErrPresent|ErrReserved
			return
		}
		if e&PTEWrite == 0 {
			perm &^= tlb.PermWrite
		}
		if e&PTEUser == 0 {
			perm &^= tlb.PermUser
		}
		if e&PTENoExec != 0 {
			perm |= tlb.PermNoExec
		}
		r.perms[(r.n-1)&3] = perm
		if leaf {
			r.size = tlb.PageSize(level - 1)
			mask := r.size.Bytes() - 1
			r.pa = e.Addr()&^mask | va&mask
			if e&PTEDirty != 0 || acc&Write != 0 {
				perm |= tlb.PermDirty
			}
			if e&PTEGlobal != 0 && m.cr4&CR4PGE != 0 {
				perm |= tlb.PermGlobal
			}
			r.perm = perm
			if !m.allowed(perm, acc) {
				r.failed, r.code = true, ErrPresent
			}
			return
		}
		table = e.Addr()
	}
	panic("unreachable")
}

// reserved reports whether a present entry at level sets a bit the SDM reserves.
func (m *MMU) reserved(e PTE, level int, leaf bool) bool {
	if uint64(e)&m.rsvd != 0 {
		return true
	}
	if e&PTENoExec != 0 && m.efer&EFERNXE == 0 {
		return true
	}
	switch {
	case level == 4:
		return e&PTEPageSize != 0 // PS is reserved in a PML4E
	case level == 3 && leaf:
		return uint64(e)&0x3FFFE000 != 0 // bits 29:13 of a 1 GiB page entry
	case level == 2 && leaf:
		return uint64(e)&0x1FE000 != 0 // bits 20:13 of a 2 MiB page entry
	}
	return false
}

// walk is the hardware page walk: resolve, then set A in every entry used and D in the
// leaf on a write, and fill the TLB.
//
// The walk starts below the lowest paging-structure-cache entry for va, if any (SDM Vol. 3A
// 4.10.3.3), and caches the entries above the leaf it read once their accessed flags are set.
func (m *MMU) walk(va uint64, acc Access, t *tlb.TLB) (uint64, *Fault) {
	if phase.Sampling() {
		return m.walkSampled(va, acc, t)
	}
	// walkTables, written out (one call fewer on nearly every TLB miss).
	t.Stats.Walks++
	level, table, perm := m.pscLookup(va)
	if level == 2 {
		if pa, ok := m.walkPTE(va, acc, t, table, perm); ok {
			return pa, nil
		}
	}
	return m.walkFrom(va, acc, t, level, table, perm)
}

// pteWalk is a walk that read only the PTE e at ea.
type pteWalk struct {
	va, ea, cr3 uint64
	e           PTE
	acc         Access
}

// recordPTE records a walk that read only the PTE e at ea: in pte, for the walk record
// (syncWalk).
func (m *MMU) recordPTE(va uint64, acc Access, ea uint64, e PTE) {
	q := &m.pte
	q.va, q.ea, q.cr3, q.e, q.acc = va, ea, m.cr3, e, acc
	m.walked.Count++
	if !m.pteLast {
		m.pteLast = true
	}
}

// syncWalk brings the walk record up to date with pte, when the last walk is there.
func (m *MMU) syncWalk() {
	if !m.pteLast {
		return
	}
	m.pteLast = false
	w, q := &m.walked, &m.pte
	for i := 1; i < w.N; i++ {
		w.Levels[i] = Level{} // the record holds only what this walk read
	}
	w.Levels[0] = Level{Level: 1, Index: uint(q.va>>12) & 511, EntryAddr: q.ea, Entry: q.e}
	w.VA, w.Access, w.CR3, w.N, w.Failed, w.Code = q.va, q.acc, q.cr3, 1, false, 0
}

// walkSampled is walkTables in phase MMU, for a sampler (emu run --stats).
func (m *MMU) walkSampled(va uint64, acc Access, t *tlb.TLB) (uint64, *Fault) {
	prev := phase.Set(phase.MMU)
	pa, f := m.walkTables(va, acc, t)
	phase.Set(prev) // (a trap that panics through here is caught by the CPU, which resets it)
	return pa, f
}

// walkTables is walk. The entries it reads go straight into the walk record.
func (m *MMU) walkTables(va uint64, acc Access, t *tlb.TLB) (uint64, *Fault) {
	t.Stats.Walks++
	level, table, perm := m.pscLookup(va)
	if level == 2 {
		if pa, ok := m.walkPTE(va, acc, t, table, perm); ok {
			return pa, nil
		}
	}
	return m.walkFrom(va, acc, t, level, table, perm)
}

// walkFrom is the rest of walkTables, once the paging-structure caches have said where the
// walk begins (level 0: at CR3).
func (m *MMU) walkFrom(va uint64, acc Access, t *tlb.TLB, level int, table uint64, perm tlb.Perm) (uint64, *Fault) {
	m.syncWalk()
	w := &m.walked
	oldN := w.N
	r := &m.result
	if level != 0 {
		m.resolveFrom(va, acc, level-1, table, perm, &w.Levels, r)
	} else {
		m.resolve(va, acc, &w.Levels, r)
	}
	for i := r.n; i < oldN; i++ {
		w.Levels[i] = Level{} // the record holds only what this walk read
	}
	w.VA, w.Access, w.CR3, w.N, w.Failed, w.Code, w.Count = va, acc, m.cr3, r.n, r.failed, 0, w.Count+1
	if r.failed {
		f := m.pageFault(va, acc, r.code)
		w.Code = f.Code
		return 0, f
	}
	for i := 0; i < r.n; i++ {
		l := &w.Levels[i]
		want := l.Entry | PTEAccessed
		if i == r.n-1 && acc&Write != 0 {
			want |= PTEDirty
		}
		if want != l.Entry {
			_ = m.ram.Write64(l.EntryAddr, uint64(want)) // the entry was just read: in RAM
		}
		if i < r.n-1 && m.PSC != nil {
			m.PSC.Fill(l.Level, va, m.pcid, l.Entry.Addr(), r.perms[i])
		}
	}
	mask := r.size.Bytes() - 1
	m.last = t.FillPage((va&^mask)>>12, (r.pa&^mask)>>12, m.pcid, r.size, r.perm)
	return r.pa, nil
}

// walkPTE is walkTables for a walk that begins below a cached PDE and so reads one entry,
// the PTE: nearly every TLB miss. It is resolveFrom's last level and walkTables' bookkeeping
// written out for that case, with the same checks in the same order. When the walk does not
// simply succeed (the PTE is not present, sets a reserved bit or forbids the access, or is
// outside RAM) it returns false having changed nothing, and the general path takes over
// from the same PDE.
func (m *MMU) walkPTE(va uint64, acc Access, t *tlb.TLB, table uint64, perm tlb.Perm) (uint64, bool) {
	mem := m.ram.Bytes()
	idx := uint(va>>12) & 511
	ea := table + uint64(idx)*8
	if ea >= uint64(len(mem)) || uint64(len(mem))-ea < 8 {
		return 0, false
	}
	e := PTE(binary.LittleEndian.Uint64(mem[ea:]))
	if e&PTEPresent == 0 || uint64(e)&m.rsvd != 0 || e&PTENoExec != 0 && m.efer&EFERNXE == 0 {
		return 0, false
	}
	if e&PTEWrite == 0 {
		perm &^= tlb.PermWrite
	}
	if e&PTEUser == 0 {
		perm &^= tlb.PermUser
	}
	if e&PTENoExec != 0 {
		perm |= tlb.PermNoExec
	}
	if e&PTEDirty != 0 || acc&Write != 0 {
		perm |= tlb.PermDirty
	}
	if e&PTEGlobal != 0 && m.cr4&CR4PGE != 0 {
		perm |= tlb.PermGlobal
	}
	if acc&(User|Fetch) == User {
		// allowed's answer for a user data access, the common case, written out
		if perm&tlb.PermUser == 0 || acc&Write != 0 && perm&tlb.PermWrite == 0 {
			return 0, false
		}
	} else if !m.allowed(perm, acc) {
		return 0, false
	}
	m.recordPTE(va, acc, ea, e)
	want := e | PTEAccessed
	if acc&Write != 0 {
		want |= PTEDirty
	}
	if want != e {
		_ = m.ram.Write64(ea, uint64(want)) // the entry was just read: in RAM
	}
	m.last = t.FillPage(va>>12, e.Addr()>>12, m.pcid, tlb.Size4K, perm)
	return e.Addr() | va&0xfff, true
}

// WalkRecord is what the MMU remembers of its most recent page walk (a TLB miss, or a write
// through an entry whose dirty flag was clear): the address, the access, the tables it
// walked (CR3) and the entries it read, as they were before the walk set A and D. A walk
// that began below a paging-structure-cache entry read only the levels below it: Levels[0]
// is then a PDPTE, PDE or PTE. Debuggers and the web view draw it; the hardware never reads
// it back. A TLB hit records nothing, and neither does a fault the TLB raised without a walk
// (cached permissions that forbid the access, SDM Vol. 3A 4.10.4.1).
type WalkRecord struct {
	VA     uint64
	Access Access
	CR3    uint64   // CR3 during the walk: the PML4's address and the PCID
	Levels [4]Level // the entries read, highest level first; N of them
	N      int
	// Failed is set when the walk ended in a page fault, with error code Code: at the last
	// level read when its entry has P=0, else for a reserved bit (RSVD in Code) or an access
	// the entries forbid.
	Failed bool
	Code   uint32
	Count  uint64 // walks this MMU has done (0: none yet, the record is empty)
}

// Read returns the entries the walk read, highest level first.
func (w *WalkRecord) Read() []Level { return w.Levels[:w.N] }

// LastWalk returns the record of the MMU's most recent page walk (Count 0: none yet).
func (m *MMU) LastWalk() WalkRecord {
	m.syncWalk()
	return m.walked
}

// pscLookup returns the lowest cached paging-structure entry for va (level 0: none).
func (m *MMU) pscLookup(va uint64) (int, uint64, tlb.Perm) {
	if m.PSC == nil {
		return 0, 0, 0
	}
	return m.PSC.Lookup(va, m.pcid)
}

// LastEntry returns the TLB entry through which the last successful Translate found its
// answer (the entry hit, or the one the walk filled), or nil (paging off, a fault, or a TLB
// that caches no pages of that size). A processor's fast path may remember it, with the
// TLB's Gen and the MMU's Epoch, to skip the search next time; see tlb.TLB.Hit.
func (m *MMU) LastEntry() *tlb.Entry { return m.last }

// WalkInfo is the result of an inspection walk.
type WalkInfo struct {
	VA     uint64
	Levels []Level // every entry read, PML4E first
	OK     bool    // the access would succeed
	PA     uint64  // physical address, when OK
	Size   tlb.PageSize
	Perm   tlb.Perm // combined permissions, when a leaf was reached
	Fault  Fault    // the fault the access would raise, when not OK
}

// Inspect walks the page tables for va as the hardware would for acc, without touching the
// TLB, the A and D flags or CR2: a side-effect-free view for debuggers and kernel tools.
func (m *MMU) Inspect(va uint64, acc Access) WalkInfo {
	w := WalkInfo{VA: va}
	if m.cr0&CR0PG == 0 {
		w.OK, w.PA = true, va
		return w
	}
	if !Canonical(va) {
		w.Fault = Fault{Vector: VectorGP, Addr: va, Access: acc}
		return w
	}
	var levels [4]Level
	var r walkResult
	m.resolve(va, acc, &levels, &r)
	w.Levels = append(w.Levels, levels[:r.n]...)
	w.Size, w.Perm = r.size, r.perm
	if r.failed {
		w.Fault = Fault{Vector: VectorPF, Code: m.errorCode(acc, r.code), Addr: va, Access: acc}
		return w
	}
	w.OK, w.PA = true, r.pa
	return w
}
