package tlb

import "fmt"

// PSC models the paging-structure caches of Intel SDM Vol. 3A 4.10.3: besides the TLB, a
// processor caches upper-level paging entries, so that a TLB miss usually reads only the
// last entry or two instead of walking all four levels:
//
//   - the PML4E cache, referenced by linear-address bits 47:39, holds the address of a
//     page-directory-pointer table and the R/W, U/S and XD flags of the PML4E;
//   - the PDPTE cache, referenced by bits 47:30, holds the address of a page directory and
//     the flags combined over the PML4E and the PDPTE (R/W and U/S ANDed, XD ORed);
//   - the PDE cache, referenced by bits 47:21, holds the address of a page table and the
//     flags combined over the three levels above it.
//
// Entries are tagged with the PCID current when they were created. Only entries that
// reference another table are cached (not those that map a 2 MiB or 1 GiB page), only when
// present with no reserved bit set, and only after their accessed flag is set. Like the TLB
// the caches are never coherent by magic: an entry stays, whatever software writes to the
// paging structure it came from, until it is invalidated (INVLPG: every entry of the
// current PCID; a page fault: the entries the faulting address would use; MOV to CR3 and
// INVPCID as in SDM 4.10.4.1) or evicted.
type PSC struct {
	cfg   PSCConfig
	level [3]pscArray // PDE (index 0), PDPTE (1), PML4E (2) caches
	clock uint64
	// Stats counts lookups by the level at which they found an entry.
	Stats PSCStats
}

// PSCConfig is the number of entries of each paging-structure cache (0 disables one). The
// PDE cache is 4-way set associative when it has more than 4 entries (then a multiple of
// 4, a power of two); the others are fully associative.
type PSCConfig struct {
	PML4E, PDPTE, PDE int
}

// DefaultPSC is a recent Intel core's: 2 PML4E, 4 PDPTE and 32 PDE entries.
var DefaultPSC = PSCConfig{PML4E: 2, PDPTE: 4, PDE: 32}

func (c PSCConfig) String() string {
	return fmt.Sprintf("pml4e=%d,pdpte=%d,pde=%d", c.PML4E, c.PDPTE, c.PDE)
}

// PSCStats counts paging-structure-cache lookups (one per TLB miss that walks) and what
// happened to the entries.
type PSCStats struct {
	PDEHits, PDPTEHits, PML4EHits uint64 // the walk started below that level's cached entry
	Misses                        uint64 // the walk started at CR3
	Fills                         uint64
	Invalidations                 uint64 // entries dropped by INVLPG, a page fault or a flush
}

// PSCEntry is one cached paging-structure entry.
type PSCEntry struct {
	Level int    // 4 (PML4E), 3 (PDPTE) or 2 (PDE)
	VA    uint64 // the first linear address it maps
	PCID  uint16
	Table uint64 // physical address of the table it references
	Perm  Perm   // Write, User, NoExec combined down to this level
	valid bool
	stamp uint64
}

func (e PSCEntry) String() string {
	return fmt.Sprintf("%s va=%#x table=%#x pcid=%d [%s]", pscNames[e.Level], e.VA, e.Table, e.PCID, e.Perm)
}

var pscNames = [5]string{2: "PDE", 3: "PDPTE", 4: "PML4E"}

type pscArray struct {
	e       []PSCEntry
	ways    int
	setMask int // sets - 1 (sets are a power of two)
}

// NewPSC returns empty paging-structure caches of the given sizes.
func NewPSC(cfg PSCConfig) (*PSC, error) {
	p := &PSC{cfg: cfg}
	for i, n := range []int{cfg.PDE, cfg.PDPTE, cfg.PML4E} {
		if n < 0 || n > 1024 {
			return nil, fmt.Errorf("paging-structure cache of %d entries", n)
		}
		ways := n
		if i == 0 && n > 4 {
			if n%4 != 0 || (n/4)&(n/4-1) != 0 {
				return nil, fmt.Errorf("PDE cache of %d entries: 4 ways and a power-of-two number of sets", n)
			}
			ways = 4
		}
		p.level[i] = pscArray{e: make([]PSCEntry, n), ways: ways}
		if ways > 0 {
			p.level[i].setMask = n/ways - 1
		}
	}
	return p, nil
}

// Config returns the sizes of the caches.
func (p *PSC) Config() PSCConfig { return p.cfg }

// shift is the number of low linear-address bits below the tag of a cache level (2..4).
func pscShift(level int) uint { return uint(12 + 9*(level-1)) }

// set returns the entries of the set where the tag of va at level lives.
func (p *PSC) set(level int, va uint64) []PSCEntry {
	a := &p.level[level-2]
	if a.ways == 0 {
		return nil
	}
	s := int(va>>pscShift(level)) & a.setMask
	return a.e[s*a.ways : (s+1)*a.ways]
}

// Lookup finds the lowest-level cached entry for va under pcid: the PDE cache first, then
// the PDPTE and PML4E caches (SDM 4.10.3.3). It returns the entry's level (2, 3, 4), the
// table it references and the combined flags; level 0 when nothing is cached, and the walk
// starts at CR3.
func (p *PSC) Lookup(va uint64, pcid uint16) (level int, table uint64, perm Perm) {
	va &= 1<<48 - 1
	// The PDE cache, written out: nearly every TLB miss ends here.
	if a := &p.level[0]; a.ways > 0 {
		tag := va >> pscShift(2)
		s := int(tag) & a.setMask
		for i, set := 0, a.e[s*a.ways:(s+1)*a.ways]; i < len(set); i++ {
			if e := &set[i]; e.valid && e.PCID == pcid && e.VA>>pscShift(2) == tag {
				p.clock++
				e.stamp = p.clock
				p.Stats.PDEHits++
				return 2, e.Table, e.Perm
			}
		}
	}
	for level = 3; level <= 4; level++ {
		tag := va >> pscShift(level)
		for i, s := 0, p.set(level, va); i < len(s); i++ {
			if e := &s[i]; e.valid && e.PCID == pcid && e.VA>>pscShift(level) == tag {
				p.clock++
				e.stamp = p.clock
				if level == 3 {
					p.Stats.PDPTEHits++
				} else {
					p.Stats.PML4EHits++
				}
				return level, e.Table, e.Perm
			}
		}
	}
	p.Stats.Misses++
	return 0, 0, 0
}

// Fill caches the entry at level (2, 3, 4) that the walk for va read, which references
// table, with the flags combined down to it, replacing the least recently used entry of its
// set.
func (p *PSC) Fill(level int, va uint64, pcid uint16, table uint64, perm Perm) {
	s := p.set(level, va)
	if len(s) == 0 {
		return
	}
	va &= (1<<48 - 1) &^ (1<<pscShift(level) - 1)
	victim := &s[0]
	for i := range s {
		e := &s[i]
		if e.valid && e.PCID == pcid && e.VA == va {
			victim = e
			break
		}
		if !e.valid {
			if victim.valid {
				victim = e
			}
			continue
		}
		if victim.valid && e.stamp < victim.stamp {
			victim = e
		}
	}
	p.clock++
	// Field by field: an entry built whole is copied with 16-byte moves, which the host
	// does not forward from the stores that built it nor to the next Lookup's loads.
	e := victim
	e.Level, e.VA, e.PCID, e.Table, e.Perm = level, va, pcid, table, perm&(PermWrite|PermUser|PermNoExec)
	e.valid, e.stamp = true, p.clock
	p.Stats.Fills++
}

// InvalidateAddr drops the entries of pcid that translating va would use (a page fault
// for va does this, SDM 4.10.4.1).
func (p *PSC) InvalidateAddr(va uint64, pcid uint16) {
	va &= 1<<48 - 1
	for level := 2; level <= 4; level++ {
		for i, s := 0, p.set(level, va); i < len(s); i++ {
			if e := &s[i]; e.valid && e.PCID == pcid && e.VA>>pscShift(level) == va>>pscShift(level) {
				e.valid = false
				p.Stats.Invalidations++
			}
		}
	}
}

// FlushPCID drops every entry of pcid (INVLPG, MOV to CR3, INVPCID types 0 and 1).
func (p *PSC) FlushPCID(pcid uint16) { p.flush(func(e *PSCEntry) bool { return e.PCID == pcid }) }

// FlushAll drops every entry (INVPCID types 2 and 3, a change of paging mode).
func (p *PSC) FlushAll() { p.flush(func(*PSCEntry) bool { return true }) }

func (p *PSC) flush(match func(*PSCEntry) bool) {
	for l := range p.level {
		for i := range p.level[l].e {
			if e := &p.level[l].e[i]; e.valid && match(e) {
				e.valid = false
				p.Stats.Invalidations++
			}
		}
	}
}

// Entries returns the valid entries of the cache of level (2, 3, 4), for inspection.
func (p *PSC) Entries(level int) []PSCEntry {
	var out []PSCEntry
	for _, e := range p.level[level-2].e {
		if e.valid {
			out = append(out, e)
		}
	}
	return out
}
