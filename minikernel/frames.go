package minikernel

import (
	"errors"

	"github.com/vmemu/vmemu/ram"
)

// ErrNoMemory is returned when every physical frame is in use.
var ErrNoMemory = errors.New("out of physical memory")

// FrameKind says what a frame is used for, for statistics and the debugger.
type FrameKind uint8

// Frame kinds.
const (
	FrameFree  FrameKind = iota
	FrameUser            // a page of some process's memory
	FrameTable           // a page-table page (PML4, PDPT, PD or PT)
	FrameCache           // a page of the page cache
)

func (k FrameKind) String() string {
	return [...]string{"free", "user", "page-table", "page-cache"}[k]
}

// FrameStats counts physical frames.
type FrameStats struct {
	Total      uint64 // frames of RAM
	InUse      uint64 // allocated now
	Peak       uint64 // most ever allocated at once
	Tables     uint64 // page-table pages now
	Allocated  uint64 // allocations so far
	Freed      uint64 // releases so far
	Copied     uint64 // frames copied (copy-on-write)
	Shared     uint64 // frames with more than one reference now
	PeakShared uint64 // most frames shared at once
	// MultiMapped counts the frames more than one page-table entry maps now: what fork's
	// copy-on-write and the page cache share between processes (a page-cache frame's own
	// reference, which Shared counts, aside). PeakMultiMapped is the most at once.
	MultiMapped, PeakMultiMapped uint64
	PeakTables                   uint64 // most page-table pages at once
}

// Frames is the physical frame allocator. Each frame has a reference count: a frame mapped
// by two processes after fork, or held by the page cache and a mapping, has a count of two.
// A frame whose count drops to zero is free.
//
// Frames are handed out lowest-first from never-used RAM, then from the freed list (last freed
// first), so a run is deterministic. Never-used frames are already zero (the host gives
// zeroed memory) and are not cleared again; reused frames are.
type Frames struct {
	ram   *ram.RAM
	ref   []uint32
	kind  []FrameKind
	free  []uint64
	next  uint64 // lowest never-used frame
	limit uint64 // frames beyond limit are never used
	stats FrameStats
	// observe, when set, is told of every change to a frame (hwevents.go); ref is the count
	// after the change.
	observe func(pfn uint64, op FrameOp, kind FrameKind, ref uint32)
}

// NewFrames manages every frame of r except frame 0, which stays unused so that a physical
// address of zero is always a bug.
func NewFrames(r *ram.RAM) *Frames {
	n := r.Frames()
	return &Frames{ram: r, ref: make([]uint32, n), kind: make([]FrameKind, n), next: 1, limit: n,
		stats: FrameStats{Total: n}}
}

// Alloc returns a zeroed frame with reference count 1, or ErrNoMemory.
func (f *Frames) Alloc(kind FrameKind) (uint64, error) {
	var pfn uint64
	if n := len(f.free); n > 0 {
		pfn = f.free[n-1]
		f.free = f.free[:n-1]
		if err := f.ram.ZeroFrame(pfn); err != nil {
			return 0, err
		}
	} else if f.next < f.limit {
		pfn = f.next
		f.next++
	} else {
		return 0, ErrNoMemory
	}
	f.ref[pfn] = 1
	f.kind[pfn] = kind
	f.stats.InUse++
	f.stats.Allocated++
	if kind == FrameTable {
		f.stats.Tables++
		f.stats.PeakTables = max(f.stats.PeakTables, f.stats.Tables)
	}
	f.stats.Peak = max(f.stats.Peak, f.stats.InUse)
	if f.observe != nil {
		f.observe(pfn, FrameOpAlloc, kind, 1)
	}
	return pfn, nil
}

// Get adds a reference to an allocated frame.
func (f *Frames) Get(pfn uint64) {
	if f.ref[pfn] == 0 {
		panic("minikernel: Get of a free frame")
	}
	f.ref[pfn]++
	if f.ref[pfn] == 2 {
		f.stats.Shared++
		f.stats.PeakShared = max(f.stats.PeakShared, f.stats.Shared)
	}
	if k := f.kind[pfn]; multiMapped(k, f.ref[pfn]) && !multiMapped(k, f.ref[pfn]-1) {
		f.stats.MultiMapped++
		f.stats.PeakMultiMapped = max(f.stats.PeakMultiMapped, f.stats.MultiMapped)
	}
	if f.observe != nil {
		f.observe(pfn, FrameOpGet, f.kind[pfn], f.ref[pfn])
	}
}

// Put drops a reference; the frame is freed when none remain. It reports whether it was freed.
func (f *Frames) Put(pfn uint64) bool {
	switch f.ref[pfn] {
	case 0:
		panic("minikernel: Put of a free frame")
	case 1:
		f.ref[pfn] = 0
		kind := f.kind[pfn]
		if kind == FrameTable {
			f.stats.Tables--
		}
		f.kind[pfn] = FrameFree
		f.free = append(f.free, pfn)
		f.stats.InUse--
		f.stats.Freed++
		if f.observe != nil {
			f.observe(pfn, FrameOpFree, kind, 0)
		}
		return true
	}
	f.ref[pfn]--
	if f.ref[pfn] == 1 {
		f.stats.Shared--
	}
	if k := f.kind[pfn]; multiMapped(k, f.ref[pfn]+1) && !multiMapped(k, f.ref[pfn]) {
		f.stats.MultiMapped--
	}
	if f.observe != nil {
		f.observe(pfn, FrameOpPut, f.kind[pfn], f.ref[pfn])
	}
	return false
}

// multiMapped reports whether a frame of kind with reference count ref is mapped by more
// than one page-table entry: every reference is a PTE's, except the page cache's own one
// on its frames.
func multiMapped(kind FrameKind, ref uint32) bool {
	if kind == FrameCache {
		return ref > 2
	}
	return ref > 1
}

// Ref returns a frame's reference count (0 when free).
func (f *Frames) Ref(pfn uint64) uint32 {
	if pfn >= uint64(len(f.ref)) {
		return 0
	}
	return f.ref[pfn]
}

// Kind returns what a frame is used for.
func (f *Frames) Kind(pfn uint64) FrameKind {
	if pfn >= uint64(len(f.kind)) {
		return FrameFree
	}
	return f.kind[pfn]
}

// Stats returns the allocator's counters.
func (f *Frames) Stats() FrameStats { return f.stats }

// SetLimit stops the allocator from handing out frames at or above limit (for tests and for
// a user who wants to watch memory run out). It cannot take back frames already in use.
func (f *Frames) SetLimit(limit uint64) {
	f.limit = min(limit, uint64(len(f.ref)))
}

// Free returns how many frames can still be allocated.
func (f *Frames) Free() uint64 {
	n := uint64(len(f.free))
	if f.limit > f.next {
		n += f.limit - f.next
	}
	return n
}

// Dup allocates a frame of the given kind holding a copy of frame src: the copy half of
// copy-on-write (mm/memory.c:wp_page_copy()). It counts the copy in the statistics.
func (f *Frames) Dup(src uint64, kind FrameKind) (uint64, error) {
	pfn, err := f.Alloc(kind)
	if err != nil {
		return 0, err
	}
	if err := f.ram.CopyFrame(pfn, src); err != nil {
		f.Put(pfn)
		return 0, err
	}
	f.stats.Copied++
	return pfn, nil
}
