// Package tlb models a translation lookaside buffer: a set-associative cache of
// linear-to-physical translations, as Intel SDM Vol. 3A section 4.10 describes it.
//
// An entry holds the translation of one page (4 KiB, 2 MiB or 1 GiB) together with the
// permissions combined over every paging level, the dirty flag of the leaf entry, the PCID it
// was filled under and whether it is global. Small pages live in a set-associative array and
// large pages in a separate array, as on Intel processors.
//
// The TLB knows nothing about page tables, RAM, processes or the kernel. It is filled and
// invalidated only by its owner (the MMU), and it is never coherent by magic: an entry stays
// until it is evicted, invalidated or flushed, whatever happens to the page tables meanwhile.
package tlb

import (
	"fmt"
	"strings"
	"unsafe"
)

// PageSize is the size of the page an entry translates.
type PageSize uint8

// Page sizes.
const (
	Size4K PageSize = iota
	Size2M
	Size1G
)

// Shift returns log2 of the page size in bytes.
func (s PageSize) Shift() uint {
	switch s {
	case Size2M:
		return 21
	case Size1G:
		return 30
	}
	return 12
}

// Bytes returns the page size in bytes.
func (s PageSize) Bytes() uint64 { return 1 << s.Shift() }

func (s PageSize) String() string {
	switch s {
	case Size2M:
		return "2M"
	case Size1G:
		return "1G"
	}
	return "4K"
}

// Perm is the set of permission and status bits an entry caches.
type Perm uint8

// Permission bits. Write and User are the AND of R/W and U/S over every level of the walk;
// NoExec is the OR of XD over every level (only when EFER.NXE was set); Dirty is the D flag
// of the leaf entry when the entry was filled; Global is the leaf's G flag when CR4.PGE was set.
const (
	PermWrite Perm = 1 << iota
	PermUser
	PermNoExec
	PermDirty
	PermGlobal
)

func (p Perm) String() string {
	var b strings.Builder
	for _, f := range []struct {
		bit  Perm
		name string
	}{{PermWrite, "W"}, {PermUser, "U"}, {PermNoExec, "NX"}, {PermDirty, "D"}, {PermGlobal, "G"}} {
		if p&f.bit != 0 {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(f.name)
		}
	}
	return b.String()
}

// Entry is one cached translation.
type Entry struct {
	VPN   uint64 // linear address >> 12 of the first byte of the page
	PFN   uint64 // physical address >> 12 of the first byte of the page
	stamp uint64 // LRU age
	PCID  uint16 // PCID current when the entry was filled
	Size  PageSize
	Perm  Perm
	valid bool
	way   uint8  // where it lives (large pages in the large-page array), for the
	set   uint16 // replacement state; 32 bytes in all, so a 4-way set is two cache lines
}

// tail is the entry's last eight bytes (PCID, Size, Perm, valid, way, set) as one word.
func (e *Entry) tail() *uint64 { return (*uint64)(unsafe.Pointer(&e.PCID)) }

// Offsets of fields inside tail.
const (
	sizeByte  = unsafe.Offsetof(Entry{}.Size) - unsafe.Offsetof(Entry{}.PCID)
	validByte = unsafe.Offsetof(Entry{}.valid) - unsafe.Offsetof(Entry{}.PCID)
)

// littleEndian reports whether the host stores a word's low byte first.
var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// tailByte returns the byte at offset k of a tail word read from memory.
func tailByte(tl uint64, k uintptr) uint8 {
	if littleEndian {
		return uint8(tl >> (8 * k))
	}
	return uint8(tl >> (56 - 8*k))
}

// Valid reports whether the entry holds a translation.
func (e *Entry) Valid() bool { return e.valid }

// Place reports where the entry sits: in the fully associative large-page array or the
// set-associative 4 KiB array, and its set and way there. For inspection (a debugger drawing
// the TLB by sets and ways).
func (e *Entry) Place() (large bool, set, way int) { return e.Size != Size4K, int(e.set), int(e.way) }

// PhysAddr returns the physical address that linear address va translates to through e.
func (e *Entry) PhysAddr(va uint64) uint64 {
	mask := e.Size.Bytes() - 1
	return e.PFN<<12 | va&mask
}

func (e Entry) String() string {
	return fmt.Sprintf("va=%#x pa=%#x %s pcid=%d [%s]", e.VPN<<12, e.PFN<<12, e.Size, e.PCID, e.Perm)
}

// Policy is a replacement policy.
type Policy uint8

// Replacement policies.
const (
	LRU  Policy = iota // least recently used, exact
	PLRU               // tree pseudo-LRU (ways must be a power of two)
)

func (p Policy) String() string {
	if p == PLRU {
		return "plru"
	}
	return "lru"
}

// Config is the geometry of a TLB.
type Config struct {
	Name         string // shown in statistics, e.g. "DTLB"
	Entries      int    // entries for 4 KiB pages
	Ways         int    // associativity of the 4 KiB array; Entries/Ways must be a power of two
	LargeEntries int    // entries for 2 MiB and 1 GiB pages, fully associative; 0 caches none
	Policy       Policy
}

// Stats counts what a TLB did.
type Stats struct {
	Hits          uint64 // lookups that found a translation
	Misses        uint64 // lookups that found none
	Walks         uint64 // page walks done on behalf of this TLB (counted by the MMU)
	Fills         uint64 // entries written
	Evictions     uint64 // valid entries displaced by a fill
	Invalidations uint64 // single-page invalidations (INVLPG, #PF)
	Flushes       uint64 // whole-TLB or whole-PCID flushes
}

// HitRate returns hits / (hits + misses), or 0 when there were no lookups.
func (s Stats) HitRate() float64 {
	if s.Hits+s.Misses == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.Hits+s.Misses)
}

// EventKind names what happened to an entry, for observers.
type EventKind uint8

// Event kinds reported to an Observer.
const (
	EvFill       EventKind = iota // an entry was written
	EvEvict                       // a valid entry was displaced by a fill
	EvInvalidate                  // an entry was dropped by a single-page invalidation
	EvFlush                       // a flush happened (entry is nil)
)

func (k EventKind) String() string {
	return [...]string{"fill", "evict", "invalidate", "flush"}[k]
}

// Observer is called for each event when installed. e is valid only during the call.
type Observer func(t *TLB, kind EventKind, e *Entry)

// array is one set-associative array of entries.
type array struct {
	entries []Entry
	ways    int
	setMask uint64
}

func newArray(entries, ways int) array {
	sets := entries / ways
	return array{entries: make([]Entry, entries), ways: ways, setMask: uint64(sets - 1)}
}

// TLB is one translation lookaside buffer.
type TLB struct {
	cfg   Config
	small array
	large array
	clock uint64 // counts uses (hits and fills): an entry's stamp is the clock at its last use
	gen   uint64 // bumped whenever an entry is written or dropped
	// largeValid counts the valid entries of the large-page array: a lookup that misses
	// the small pages skips the large ones when it is 0.
	largeValid int
	// The most recent Fill: the generation it produced, where it wrote, and what the slot
	// held before (valid false if nothing).
	fillGen  uint64
	filled   *Entry
	replaced Entry
	// The most recent Lookup that missed the 4 KiB array: its page, PCID, the generation
	// and use clock it saw, and the way a fill of that page would take (the first free way,
	// else the least recently used). A FillPage of that page while neither has moved takes
	// the way without searching the set again: nearly every fill follows such a miss.
	hint     hint
	Stats    Stats
	Observer Observer // nil by default
}

type hint struct {
	key  uint64 // vpn | pcid<<52 (a page number has at most 52 bits), or noHint
	when uint64 // gen + clock: both only grow, so the sum moves when either does
	way  int
}

const noHint = ^uint64(0)

// hintKey is the key of a hint for vpn under pcid.
func hintKey(vpn uint64, pcid uint16) uint64 { return vpn | uint64(pcid)<<52 }

// Gen returns a number that changes whenever the TLB's contents change: a fill (which may
// evict), an invalidation or a flush. While it is unchanged, Lookup of an address returns
// the entry it returned before, so a processor may remember that entry (as its fast path
// does) instead of searching again; it must still call Hit for every use.
func (t *TLB) Gen() uint64 { return t.gen }

// LastFill describes the most recent Fill: the generation it produced (compare with Gen to
// know whether anything else changed since), the entry it wrote, and the entry that slot held
// before (Valid false if it held none). A processor that remembers translations uses it to
// forget only what one fill can have changed: the pages of the new and the replaced entry.
func (t *TLB) LastFill() (gen uint64, written *Entry, replaced Entry) {
	return t.fillGen, t.filled, t.replaced
}

// LastFillPages is LastFill for a processor's fast path, which needs only the pages: the
// generation, the entry written, and the page number and size of the entry replaced (ok
// false if the slot held none). (It copies no Entry: a whole entry just stored in pieces
// and loaded back at once stalls the host's store forwarding.)
func (t *TLB) LastFillPages() (gen uint64, written *Entry, replacedVPN uint64, replacedSize PageSize, ok bool) {
	tl := *t.replaced.tail() // one load, as FillPage stores it
	return t.fillGen, t.filled, t.replaced.VPN, PageSize(tailByte(tl, sizeByte)), tailByte(tl, validByte) != 0
}

// Hit records a lookup that found e, exactly as Lookup does when it returns e: the hit is
// counted and the replacement state touched.
//
// Preconditions: e was returned by Lookup (or filled by Fill) and Gen has not changed since.
func (t *TLB) Hit(e *Entry) {
	t.Stats.Hits++
	t.clock++
	e.stamp = t.clock
}

// HitCounters returns the two counters Hit advances: the hit count and the use clock,
// whose new value Hit stores in the entry at byte offset StampOffset. A processor that does
// Hit's work in code it generates (the CPU's code generator) updates these, exactly as Hit.
func (t *TLB) HitCounters() (hits, clock *uint64) { return &t.Stats.Hits, &t.clock }

// StampOffset is the byte offset, inside an Entry, of the stamp Hit sets (see HitCounters).
const StampOffset = unsafe.Offsetof(Entry{}.stamp)

// New builds an empty TLB with the given geometry.
func New(cfg Config) (*TLB, error) {
	if cfg.Entries <= 0 || cfg.Ways <= 0 || cfg.Entries%cfg.Ways != 0 {
		return nil, fmt.Errorf("tlb %s: %d entries cannot be split into %d ways", cfg.Name, cfg.Entries, cfg.Ways)
	}
	sets := cfg.Entries / cfg.Ways
	if sets&(sets-1) != 0 {
		return nil, fmt.Errorf("tlb %s: %d sets is not a power of two", cfg.Name, sets)
	}
	if cfg.LargeEntries < 0 {
		return nil, fmt.Errorf("tlb %s: negative large-page entries", cfg.Name)
	}
	if cfg.Ways > 64 || cfg.LargeEntries > 64 {
		return nil, fmt.Errorf("tlb %s: at most 64 ways", cfg.Name)
	}
	if cfg.Policy == PLRU && (cfg.Ways&(cfg.Ways-1) != 0 || cfg.LargeEntries&(cfg.LargeEntries-1) != 0) {
		return nil, fmt.Errorf("tlb %s: pseudo-LRU needs power-of-two ways", cfg.Name)
	}
	if cfg.Policy != LRU && cfg.Policy != PLRU {
		return nil, fmt.Errorf("tlb %s: unknown replacement policy %d", cfg.Name, cfg.Policy)
	}
	t := &TLB{cfg: cfg, small: newArray(cfg.Entries, cfg.Ways), hint: hint{key: noHint}}
	if cfg.LargeEntries > 0 {
		t.large = newArray(cfg.LargeEntries, cfg.LargeEntries)
	}
	return t, nil
}

// Config returns the geometry the TLB was built with.
func (t *TLB) Config() Config { return t.cfg }

// Name returns the TLB's name.
func (t *TLB) Name() string { return t.cfg.Name }

func matches(e *Entry, vpn uint64, pcid uint16) bool {
	if !e.valid || (e.PCID != pcid && e.Perm&PermGlobal == 0) {
		return false
	}
	return e.VPN == vpn&^(e.Size.Bytes()>>12-1)
}

// Lookup returns the entry that translates linear address va under pcid, or nil. Global
// entries match every PCID. The entry pointer is valid until the next Fill or invalidation.
func (t *TLB) Lookup(va uint64, pcid uint16) *Entry {
	vpn := va >> 12
	a := &t.small
	set := int(vpn & a.setMask)
	ways := a.entries[set*a.ways : (set+1)*a.ways]
	for w := range ways {
		if e := &ways[w]; e.valid && e.VPN == vpn && (e.PCID == pcid || e.Perm&PermGlobal != 0) {
			t.Hit(e)
			return e
		}
	}
	if t.largeValid > 0 {
		for w := range t.large.entries {
			if e := &t.large.entries[w]; matches(e, vpn, pcid) {
				t.Hit(e)
				return e
			}
		}
	}
	t.Stats.Misses++
	if t.cfg.Policy == LRU {
		// The way a fill of the page would take (the hint), found in a second pass so that
		// hits pay nothing for it: the first free way, else the first with the smallest
		// stamp.
		way, age := 0, ^uint64(0)
		for w := range ways {
			e := &ways[w]
			if !e.valid {
				way = w
				break
			}
			if e.stamp < age {
				way, age = w, e.stamp
			}
		}
		h := &t.hint
		h.key, h.when, h.way = hintKey(vpn, pcid), t.gen+t.clock, way
	}
	return nil
}

// Probe is Lookup without side effects: no counters, no replacement state. For inspection.
func (t *TLB) Probe(va uint64, pcid uint16) *Entry {
	vpn := va >> 12
	for _, a := range []*array{&t.small, &t.large} {
		for i := range a.entries {
			if matches(&a.entries[i], vpn, pcid) {
				return &a.entries[i]
			}
		}
	}
	return nil
}

// victim picks the way of set to replace: the first invalid way, else by the policy.
//
// Both policies read the stamps, which every use writes, so a hit costs the same whatever
// the policy. Tree pseudo-LRU keeps a bit per node of a binary tree over the ways, pointing
// away from the half used last: each bit is the one the most recent use below its node
// set, so it is read off the stamps, the node pointing right when the left half holds the
// most recent use (a node below which nothing was ever used points left, its reset state).
func (t *TLB) victim(a *array, set int) int {
	ways := a.entries[set*a.ways : (set+1)*a.ways]
	for w := range ways {
		if !ways[w].valid {
			return w
		}
	}
	if t.cfg.Policy == LRU {
		return oldest(ways)
	}
	lo := 0
	for span := len(ways); span > 1; span /= 2 {
		half := span / 2
		if latest(ways[lo:lo+half]) > latest(ways[lo+half:lo+span]) {
			lo += half
		}
	}
	return lo
}

// oldest returns the way with the smallest stamp, the first of equals.
func oldest(ways []Entry) int {
	best := 0
	for w := 1; w < len(ways); w++ {
		if ways[w].stamp < ways[best].stamp {
			best = w
		}
	}
	return best
}

// latest returns the largest stamp among ways.
func latest(ways []Entry) uint64 {
	var m uint64
	for i := range ways {
		m = max(m, ways[i].stamp)
	}
	return m
}

// Fill caches a translation and returns the entry it wrote (nil if the TLB caches no pages
// of that size). e.VPN and e.PFN must be aligned to e.Size. An entry already holding the
// same page for the same PCID is replaced in place, and so is a global entry for the same
// page (lookups under e.PCID would find it first and never see the new entry).
func (t *TLB) Fill(e Entry) *Entry { return t.FillPage(e.VPN, e.PFN, e.PCID, e.Size, e.Perm) }

// FillPage is Fill of the entry with these fields. (The MMU calls it on every TLB miss:
// an Entry built field by field and passed by value is copied with wide moves the host
// cannot forward from the narrow stores that built it, a stall on every fill.)
func (t *TLB) FillPage(vpn, pfn uint64, pcid uint16, size PageSize, perm Perm) *Entry {
	if h := &t.hint; h.key == hintKey(vpn, pcid) && h.when == t.gen+t.clock && size == Size4K {
		// Lookup just searched this page's set and found no entry for it (a 4 KiB array
		// holds only 4 KiB pages): the way it chose is the one fill's search would.
		a := &t.small
		set := int(vpn & a.setMask)
		slot := &a.entries[set*a.ways+h.way]
		t.gen++
		if slot.valid {
			t.Stats.Evictions++
			if t.Observer != nil {
				t.Observer(t, EvEvict, slot)
			}
		}
		return t.write(a, set, h.way, vpn, pfn, pcid, size, perm)
	}
	return t.fill(vpn, pfn, pcid, size, perm)
}

// fill is FillPage when the way is not known: it searches the set.
func (t *TLB) fill(vpn, pfn uint64, pcid uint16, size PageSize, perm Perm) *Entry {
	a := &t.small
	set := int(vpn & a.setMask)
	if size != Size4K {
		if len(t.large.entries) == 0 {
			return nil
		}
		a, set = &t.large, 0
	}
	ways := a.entries[set*a.ways : (set+1)*a.ways]
	w := -1
	t.gen++
	// One pass over the set finds an entry for the same page, else the first free way,
	// else (LRU) the least recently used one: the first with the smallest stamp.
	free, lru, age := -1, 0, ^uint64(0)
	for i := range ways {
		o := &ways[i]
		if !o.valid {
			if free < 0 {
				free = i
			}
			continue
		}
		if o.VPN == vpn && o.Size == size && (o.PCID == pcid || o.Perm&PermGlobal != 0) {
			w = i
			break
		}
		if o.stamp < age {
			lru, age = i, o.stamp
		}
	}
	if w < 0 {
		switch {
		case free >= 0:
			w = free
		case t.cfg.Policy == PLRU:
			w = t.victim(a, set)
		default:
			w = lru
		}
		if old := &ways[w]; old.valid {
			t.Stats.Evictions++
			if t.Observer != nil {
				t.Observer(t, EvEvict, old)
			}
		}
	}
	return t.write(a, set, w, vpn, pfn, pcid, size, perm)
}

// write is the end of FillPage: the entry goes to way w of set in a.
func (t *TLB) write(a *array, set, w int, vpn, pfn uint64, pcid uint16, size PageSize, perm Perm) *Entry {
	slot := &a.entries[set*a.ways+w]
	// The new entry field by field, never as wide moves: its fields are read back one by
	// one (the CPU's remembered pages) soon after, and the host forwards a load only from a
	// store that covers it the same way (a whole-entry copy stalled every fill). The
	// replaced entry is copied as the words LastFillPages reads back.
	r := &t.replaced
	r.VPN, r.PFN, r.stamp = slot.VPN, slot.PFN, slot.stamp
	*r.tail() = *slot.tail()
	if a == &t.large && !slot.valid {
		t.largeValid++
	}
	slot.VPN, slot.PFN, slot.PCID, slot.Size, slot.Perm = vpn, pfn, pcid, size, perm
	slot.valid, slot.set, slot.way = true, uint16(set), uint8(w)
	t.fillGen, t.filled = t.gen, slot
	t.clock++
	slot.stamp = t.clock
	t.Stats.Fills++
	if t.Observer != nil {
		t.Observer(t, EvFill, slot)
	}
	return slot
}

// InvalidatePage drops every entry that translates va for pcid and, when global is true,
// every global entry that translates va, as INVLPG and a page fault do (SDM Vol. 3A
// 4.10.4.1). With global false it keeps global entries, as INVPCID type 0 does. It returns
// how many entries were dropped.
func (t *TLB) InvalidatePage(va uint64, pcid uint16, global bool) int {
	t.Stats.Invalidations++
	t.gen++
	vpn := va >> 12
	drop := func(e *Entry) int {
		if !matches(e, vpn, pcid) || !(global || e.PCID == pcid && e.Perm&PermGlobal == 0) {
			return 0
		}
		if t.Observer != nil {
			t.Observer(t, EvInvalidate, e)
		}
		e.valid = false
		return 1
	}
	// A 4 KiB translation of va can only live in the set va's page number selects.
	a := &t.small
	set := int(vpn&a.setMask) * a.ways
	n := 0
	for i := set; i < set+a.ways; i++ {
		n += drop(&a.entries[i])
	}
	if t.largeValid > 0 {
		for i := range t.large.entries {
			n += drop(&t.large.entries[i])
		}
		t.countLarge()
	}
	return n
}

// countLarge recounts the valid large-page entries.
func (t *TLB) countLarge() {
	t.largeValid = 0
	for i := range t.large.entries {
		if t.large.entries[i].valid {
			t.largeValid++
		}
	}
}

// FlushPCID drops every entry filled under pcid; global entries survive when keepGlobal.
func (t *TLB) FlushPCID(pcid uint16, keepGlobal bool) {
	t.flush(func(e *Entry) bool {
		return e.PCID == pcid && (!keepGlobal || e.Perm&PermGlobal == 0)
	})
}

// FlushAll drops every entry of every PCID; global entries survive when keepGlobal.
func (t *TLB) FlushAll(keepGlobal bool) {
	t.flush(func(e *Entry) bool { return !keepGlobal || e.Perm&PermGlobal == 0 })
}

// flush drops every valid entry for which drop returns true, and counts one flush.
func (t *TLB) flush(drop func(*Entry) bool) {
	t.Stats.Flushes++
	t.gen++
	for _, a := range []*array{&t.small, &t.large} {
		for i := range a.entries {
			if e := &a.entries[i]; e.valid && drop(e) {
				e.valid = false
			}
		}
	}
	t.countLarge()
	if t.Observer != nil {
		t.Observer(t, EvFlush, nil)
	}
}

// Entries returns a copy of every valid entry, small pages first, for inspection.
func (t *TLB) Entries() []Entry {
	var out []Entry
	for _, a := range []*array{&t.small, &t.large} {
		for _, e := range a.entries {
			if e.valid {
				out = append(out, e)
			}
		}
	}
	return out
}
