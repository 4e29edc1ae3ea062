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
	FrameFree   FrameKind = iota
	FrameUser             // a page of some process's memory
	FrameTable            // a page-table page (PML4, PDPT, PD or PT)
	FrameCache            // a page of the page cache
	FrameKernel           // the kernel's own memory: a pipe's buffer, or memory charged for kernel objects (kmem.go)
)

func (k FrameKind) String() string {
	return [...]string{"free", "user", "page-table", "page-cache", "kernel"}[k]
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
	meta  []*frameChunk // per frame: reference count and kind, in chunks made on first use
	n     uint64        // frames of RAM
	free  []uint64
	next  uint64 // lowest never-used frame
	limit uint64 // frames beyond limit are never used
	stats FrameStats
	// observe, when set, is told of every change to a frame (hwevents.go); ref is the count
	// after the change.
	observe func(pfn uint64, op FrameOp, kind FrameKind, ref uint32)
	// lru, when set, hears of frames that begin to hold a page reclaim may take (a user or
	// page-cache frame, as it is allocated) and of frames freed (reclaim.go).
	lru frameLRU
	// release, when set, is called as a page-cache frame is freed and says whether it may
	// be used again (the kernel gives a frame a host file backed its memory back first).
	release func(pfn uint64) bool
	// noReuse parks freed frames instead of reusing them: under --tlb noshootdown another
	// CPU may still write a freed frame through a stale TLB entry, and the kernel must not
	// give that frame to anyone (least of all as a page table) while it can.
	noReuse bool
}

// frameLRU is what the frame allocator tells page reclaim (reclaim.go).
type frameLRU interface {
	added(pfn uint64)
	freed(pfn uint64, flags frameFlags)
}

// frameFlags are per-frame notes of page reclaim (Linux's page flags PG_lru, PG_unevictable,
// PG_swapcache, PG_referenced). They are cleared when the frame is freed.
type frameFlags uint8

const (
	flagLRU         frameFlags = 1 << iota // the replacement policy holds the frame
	flagUnevictable                        // locked in memory (mlock): taken from the policy
	flagSwapCache                          // an anonymous page with a copy in a swap slot (swap.go)
	flagReferenced                         // a page-cache page read or written by a system call
)

// The frame table (Linux's struct page array, mem_map) is made in chunks as frames are first
// allocated, so its host memory follows the frames in use, not the size of RAM: a 64 TiB
// machine costs a 2 MiB directory, and 384 KiB per 256 MiB of RAM the guest has touched.
const (
	chunkShift = 16 // frames per chunk: 65,536 (256 MiB of RAM)
	chunkMask  = 1<<chunkShift - 1
)

type frameChunk struct {
	ref   [1 << chunkShift]uint32
	kind  [1 << chunkShift]FrameKind
	flags [1 << chunkShift]frameFlags
}

// NewFrames manages every frame of r except frame 0, which stays unused so that a physical
// address of zero is always a bug.
func NewFrames(r *ram.RAM) *Frames {
	n := r.Frames()
	return &Frames{ram: r, meta: make([]*frameChunk, (n+chunkMask)>>chunkShift), n: n, next: 1,
		limit: n, stats: FrameStats{Total: n}}
}

// entry returns the chunk holding pfn's metadata, making it if need be.
func (f *Frames) entry(pfn uint64) *frameChunk {
	c := f.meta[pfn>>chunkShift]
	if c == nil {
		c = new(frameChunk)
		f.meta[pfn>>chunkShift] = c
	}
	return c
}

// chunk returns the chunk holding pfn's metadata, or nil when no frame of it was ever used
// (or pfn is beyond RAM).
func (f *Frames) chunk(pfn uint64) *frameChunk {
	if pfn >= f.n {
		return nil
	}
	return f.meta[pfn>>chunkShift]
}

// Alloc returns a zeroed frame with reference count 1, or ErrNoMemory.
func (f *Frames) Alloc(kind FrameKind) (uint64, error) { return f.alloc(kind, true) }

// AllocDirty is Alloc for a caller that overwrites the whole frame at once (a page read
// from a file, or a host file page mapped over it): a reused frame keeps its old bytes
// until then, which saves zeroing it (and, for the host, committing memory for it).
func (f *Frames) AllocDirty(kind FrameKind) (uint64, error) { return f.alloc(kind, false) }

func (f *Frames) alloc(kind FrameKind, zero bool) (uint64, error) {
	var pfn uint64
	if n := len(f.free); n > 0 {
		pfn = f.free[n-1]
		f.free = f.free[:n-1]
		if zero {
			if err := f.ram.ZeroFrame(pfn); err != nil {
				return 0, err
			}
		}
	} else if f.next < f.limit {
		pfn = f.next
		f.next++
	} else {
		return 0, ErrNoMemory
	}
	c := f.entry(pfn)
	c.ref[pfn&chunkMask] = 1
	c.kind[pfn&chunkMask] = kind
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
	if f.lru != nil && (kind == FrameUser || kind == FrameCache) {
		f.lru.added(pfn)
	}
	return pfn, nil
}

// Get adds a reference to an allocated frame.
func (f *Frames) Get(pfn uint64) {
	c := f.chunk(pfn)
	if c == nil || c.ref[pfn&chunkMask] == 0 {
		panic("minikernel: Get of a free frame")
	}
	ref, k := &c.ref[pfn&chunkMask], c.kind[pfn&chunkMask]
	*ref++
	if *ref == 2 {
		f.stats.Shared++
		f.stats.PeakShared = max(f.stats.PeakShared, f.stats.Shared)
	}
	if multiMapped(k, *ref) && !multiMapped(k, *ref-1) {
		f.stats.MultiMapped++
		f.stats.PeakMultiMapped = max(f.stats.PeakMultiMapped, f.stats.MultiMapped)
	}
	if f.observe != nil {
		f.observe(pfn, FrameOpGet, k, *ref)
	}
}

// Put drops a reference; the frame is freed when none remain. It reports whether it was freed.
func (f *Frames) Put(pfn uint64) bool {
	c := f.chunk(pfn)
	if c == nil {
		panic("minikernel: Put of a free frame")
	}
	ref, kp := &c.ref[pfn&chunkMask], &c.kind[pfn&chunkMask]
	switch *ref {
	case 0:
		panic("minikernel: Put of a free frame")
	case 1:
		*ref = 0
		kind := *kp
		if kind == FrameTable {
			f.stats.Tables--
		}
		*kp = FrameFree
		flags := c.flags[pfn&chunkMask]
		c.flags[pfn&chunkMask] = 0
		if (kind != FrameCache || f.release == nil || f.release(pfn)) && !f.noReuse {
			f.free = append(f.free, pfn)
		} // else the frame is lost to the machine rather than reused still backed by a file
		f.stats.InUse--
		f.stats.Freed++
		if f.observe != nil {
			f.observe(pfn, FrameOpFree, kind, 0)
		}
		if f.lru != nil && (kind == FrameUser || kind == FrameCache) {
			f.lru.freed(pfn, flags)
		}
		return true
	}
	*ref--
	if *ref == 1 {
		f.stats.Shared--
	}
	if k := *kp; multiMapped(k, *ref+1) && !multiMapped(k, *ref) {
		f.stats.MultiMapped--
	}
	if f.observe != nil {
		f.observe(pfn, FrameOpPut, *kp, *ref)
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
	if c := f.chunk(pfn); c != nil {
		return c.ref[pfn&chunkMask]
	}
	return 0
}

// Kind returns what a frame is used for.
func (f *Frames) Kind(pfn uint64) FrameKind {
	if c := f.chunk(pfn); c != nil {
		return c.kind[pfn&chunkMask]
	}
	return FrameFree
}

// flags returns a frame's reclaim flags.
func (f *Frames) flags(pfn uint64) frameFlags {
	if c := f.chunk(pfn); c != nil {
		return c.flags[pfn&chunkMask]
	}
	return 0
}

// setFlags sets (on) or clears the given flags of an allocated frame.
func (f *Frames) setFlags(pfn uint64, fl frameFlags, on bool) {
	c := f.chunk(pfn)
	if c == nil {
		return
	}
	if on {
		c.flags[pfn&chunkMask] |= fl
	} else {
		c.flags[pfn&chunkMask] &^= fl
	}
}

// Stats returns the allocator's counters.
func (f *Frames) Stats() FrameStats { return f.stats }

// SetLimit stops the allocator from handing out frames at or above limit (for tests and for
// a user who wants to watch memory run out). It cannot take back frames already in use.
func (f *Frames) SetLimit(limit uint64) {
	f.limit = min(limit, f.n)
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
