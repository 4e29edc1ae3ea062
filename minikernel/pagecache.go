package minikernel

import (
	"errors"
	"fmt"
	"slices"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// The page cache: one set of frames per object, keyed by (object identity, page index), that
// every user of the object shares. read() and write() copy through it; a shared mapping maps
// its frames writable; a private mapping maps them read-only until written, then copies
// (CS:APP 9.8.1, figures 9.29 and 9.30). Linux's mm/filemap.c (filemap_get_folio,
// filemap_fault) with the address_space of an inode.
//
// The cache holds one reference to each of its frames; each PTE that maps one holds another.
// An object's pages leave the cache when page reclaim takes them (reclaim.go), or when its
// last open description goes away, so a machine with no process left has no page-cache
// frame in use.

// fileID identifies an object: a host file by device and inode number, or a shared-memory
// object (MAP_SHARED|MAP_ANONYMOUS) by a serial number.
type fileID struct {
	dev, ino uint64
	shm      uint64
}

// Inode is the kernel's record of one object: its size as the guest sees it and its cached
// pages. Linux's struct inode with its address_space.
type Inode struct {
	id    fileID
	name  string
	size  uint64            // bytes; authoritative for the guest (write() and truncation update it)
	pages map[uint64]uint64 // page index -> frame
	refs  int               // open descriptions (File) referring to the inode
	// swapped holds the pages of a shared-memory object that page reclaim wrote to swap:
	// page index -> slot (swap.go). nil while none is.
	swapped map[uint64]uint64
	// execs counts the address spaces executing the file (as program or interpreter) and
	// writers the open descriptions that may write it: Linux's i_writecount, negative while
	// executed, positive while open for writing. One excludes the other (ETXTBSY).
	execs, writers int
	stat           hostfs.Stat // the host's answer when the inode was first opened
	memfd          *memfdInfo  // a memfd's seals (memfd.go); nil for other objects
	sysv           *shmSeg     // the System V segment the object is (sysvshm.go)
}

// Size returns the object's size in bytes.
func (ino *Inode) Size() uint64 { return ino.size }

// CachedPages returns how many of the object's pages are in the page cache.
func (ino *Inode) CachedPages() int { return len(ino.pages) }

// sortedPages returns the indexes of the cached pages in ascending order, so that frames
// are released in the same order every run (the allocator reuses them in that order).
func (ino *Inode) sortedPages() []uint64 {
	idx := make([]uint64, 0, len(ino.pages))
	for i := range ino.pages {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	return idx
}

// PageCache indexes every object with cached pages.
type PageCache struct {
	inodes map[fileID]*Inode
	shm    uint64 // last shared-memory serial
	// Hits and Misses count lookups that found a page and lookups that had to fill one.
	Hits, Misses uint64
}

func newPageCache() *PageCache { return &PageCache{inodes: map[fileID]*Inode{}} }

// Pages returns how many frames the page cache holds.
func (pc *PageCache) Pages() int {
	n := 0
	for _, ino := range pc.inodes {
		n += len(ino.pages)
	}
	return n
}

// inode returns the inode for id, creating it with the given name, size and stat.
func (pc *PageCache) inode(id fileID, name string, st *hostfs.Stat) *Inode {
	if ino, ok := pc.inodes[id]; ok {
		return ino
	}
	ino := &Inode{id: id, name: name, pages: map[uint64]uint64{}}
	if st != nil {
		ino.stat = *st
		ino.size = uint64(st.Size)
	}
	pc.inodes[id] = ino
	return ino
}

// newShm creates an anonymous shared-memory object of size bytes (Linux's shmem_zero_setup:
// the "/dev/zero (deleted)" of /proc/PID/maps).
func (pc *PageCache) newShm(size uint64) *Inode {
	pc.shm++
	ino := pc.inode(fileID{shm: pc.shm}, "/dev/zero (deleted)", nil)
	ino.size = size
	ino.stat.Mode = hostfs.S_IFREG | 0o600
	return ino
}

// errBeyondEOF reports a page of a mapping that lies wholly past the end of its file.
var errBeyondEOF = errors.New("page beyond the end of the file")

// cachePage returns the frame holding page idx of f's object, filling it when absent: from
// the host file for a file (zeros past its end), zero for shared memory. hit says whether the
// page was already cached. The cache keeps its reference; a caller that maps the frame takes
// one of its own.
//
// Preconditions: f is a regular file or a shared-memory object.
func (k *Kernel) cachePage(f *File, idx uint64) (frame uint64, hit bool, err error) {
	ino := f.ino
	if pfn, ok := ino.pages[idx]; ok {
		k.cache.Hits++
		k.frames.setFlags(pfn, flagReferenced, true) // mark_page_accessed()
		return pfn, true, nil
	}
	k.refreshSize(f) // the host may have grown or shrunk the file
	if idx<<12 >= pageRoundUp(ino.size) {
		return 0, false, errBeyondEOF
	}
	// Direct reclaim may run here: every caller holds no frame it has not counted a
	// reference to (a read() pins the page it copies from while the copy may fault).
	k.reclaimIfLow(false)
	if pfn, err := k.shmSwapIn(ino, idx); pfn != 0 || err != nil {
		return pfn, false, err
	}
	var pfn uint64
	if f.hfd >= 0 {
		pfn, err = k.frames.AllocDirty(FrameCache) // mapped over, or read in and cleared below
	} else {
		pfn, err = k.frames.Alloc(FrameCache)
	}
	if err != nil {
		return 0, false, err
	}
	if k.fillFromHost(f, idx, pfn) {
		// The frame is the host's page (hostpages.go): nothing to read.
	} else if f.hfd >= 0 {
		fr, _ := k.ram.Frame(pfn)
		n := int(min(4096, ino.size-idx<<12))
		got := 0
		for got < n {
			r, rerr := hostfs.Pread(f.hfd, fr[got:n], int64(idx<<12)+int64(got))
			if rerr != 0 {
				k.frames.Put(pfn)
				return 0, false, fmt.Errorf("reading %s: %w", ino.name, rerr)
			}
			if r == 0 {
				break
			}
			got += r
		}
		clear(fr[got:]) // a host file shorter than the guest believes reads as zeros
		k.ram.NoteWrite(pfn)
	}
	k.cache.Misses++
	ino.pages[idx] = pfn
	return pfn, false, nil
}

// truncatePages drops the cached pages of ino wholly at or past size and zeroes the tail of
// a partial last page, as Linux's truncate_inode_pages_range() does. Frames still mapped
// somewhere stay allocated until unmapped (their PTEs hold references); later faults past
// the new end are SIGBUS.
func (k *Kernel) truncatePages(ino *Inode, size uint64) {
	k.shmDropSwapped(ino, pageRoundUp(size)>>12, ^uint64(0))
	if size&0xfff != 0 {
		_, _ = k.shmSwapIn(ino, size>>12) // its tail is cleared below
	}
	for _, idx := range ino.sortedPages() {
		if idx<<12 >= pageRoundUp(size) {
			k.frames.Put(ino.pages[idx])
			delete(ino.pages, idx)
		}
	}
	if off := size & 0xfff; off != 0 {
		if pfn, ok := ino.pages[size>>12]; ok && !k.hostBacked(pfn) { // the host clears its own
			fr, _ := k.ram.Frame(pfn)
			clear(fr[off:])
			k.ram.NoteWrite(pfn)
		}
	}
	ino.size = size
}

// dropInode releases every cached page of ino and forgets it. Dirty data has been written
// back already: every shared PTE that could hold it was unmapped first.
func (k *Kernel) dropInode(ino *Inode) {
	k.shmDropSwapped(ino, 0, ^uint64(0))
	for _, idx := range ino.sortedPages() {
		k.frames.Put(ino.pages[idx])
		delete(ino.pages, idx)
	}
	delete(k.cache.inodes, ino.id)
}
