package minikernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vmemu/vmemu/internal/hoststat"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/ram"
)

// Swap: an area of page-sized slots that anonymous pages go to when page reclaim
// (reclaim.go) takes their frames, and the entries in the page tables that remember where
// they went. Linux's mm/swapfile.c (swap_info_struct, swap_map, get_swap_pages,
// swap_duplicate, swap_free), mm/swap_state.c (the swap cache) and mm/memory.c
// (do_swap_page, in fault.go and reclaim.go here).
//
// A swapped-out page's PTE is a swap entry in Linux's x86-64 encoding
// (arch/x86/include/asm/pgtable_64.h): P clear, bit 8 clear (it is not PROT_NONE), the swap
// type in bits 59-63 and the slot's offset, inverted, in bits 9-58 (inverted so that the
// address bits of a not-present entry never name real memory: the L1TF mitigation). Slot 0
// holds the area's header, as mkswap writes it, so offsets start at 1.
//
// Each slot counts the swap entries that name it (swap_map). A page shared copy-on-write by
// several processes is written to one slot, whose count is the number of PTEs that mapped
// it. The first fault on one of them reads the page into a frame and keeps the frame in the
// swap cache (slot -> frame), so the other PTEs' faults map the same frame instead of reading
// the slot again; when no entry names the slot any more, the slot is freed and the frame
// leaves the swap cache (Linux frees it this eagerly only when swap is half full:
// vm_swap_full(); here always, so a page written again goes to a fresh slot).

// Swap-entry layout (pgtable_64.h: SWP_TYPE_BITS, SWP_OFFSET_FIRST_BIT, SWP_OFFSET_SHIFT).
const (
	swpTypeBits       = 5
	swpOffsetFirstBit = 9 // _PAGE_BIT_PROTNONE + 1
	swpOffsetShift    = swpOffsetFirstBit + swpTypeBits
	swpOffsetBits     = 64 - swpOffsetShift // 50
)

// swapPTE is the entry for slot off of swap area typ (__swp_entry_to_pte(__swp_entry())).
func swapPTE(typ uint8, off uint64) mmu.PTE {
	return mmu.PTE(^off<<swpOffsetShift>>swpTypeBits | uint64(typ)<<(64-swpTypeBits))
}

// isSwapPTE reports whether a leaf entry is a swap entry: not empty, not present, not
// PROT_NONE and not a PTE marker (guard.go). Linux's is_swap_pte() && !non_swap_entry().
func isSwapPTE(e mmu.PTE) bool { return e != 0 && !pteMapped(e) && !isMarkerPTE(e) }

// swapEntryOf returns the swap type and slot offset of a swap entry (__swp_type,
// __swp_offset).
func swapEntryOf(e mmu.PTE) (typ uint8, off uint64) {
	return uint8(uint64(e) >> (64 - swpTypeBits)), ^uint64(e) << swpTypeBits >> swpOffsetShift
}

// swapSlotOf returns the slot of a swap entry of this kernel's one swap area.
func swapSlotOf(e mmu.PTE) uint64 {
	_, off := swapEntryOf(e)
	return off
}

// swapArea is the machine's swap device (Linux's swap_info_struct): type 0, nslots slots of
// 4 KiB, slot 0 the header.
type swapArea struct {
	nslots uint64
	store  swapStore
	path   string // the host file, or "" for swap in host memory
	count  []*[swapChunk]uint32
	used   uint64   // slots in use (allocated, header excluded)
	next   uint64   // lowest never-used slot
	free   []uint64 // released slots, reused last-freed first
	peak   uint64
	// The swap cache: the frame holding a copy of a slot's page, and back.
	cache     map[uint64]uint64
	cacheSlot map[uint64]uint64
	// Reads and Writes count pages read from and written to the area.
	reads, writes uint64
}

const swapChunk = 1 << 16

// swapStore is where the slots' bytes live: host memory or a host file.
type swapStore interface {
	io.ReaderAt
	io.WriterAt
	Close() error
}

// memSwap keeps the slots in host memory reserved like RAM (ram.New): the host spends memory
// only on the slots written.
type memSwap struct{ r *ram.RAM }

func (m memSwap) ReadAt(p []byte, off int64) (int, error) {
	return len(p), m.r.Read(uint64(off), p)
}
func (m memSwap) WriteAt(p []byte, off int64) (int, error) {
	return len(p), m.r.Write(uint64(off), p)
}
func (m memSwap) Close() error { return m.r.Close() }

// SwapError is a --swap or --swap-file the host cannot provide.
type SwapError struct {
	Size uint64
	Path string
	Why  string
}

func (e *SwapError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("swap file %s (%s): %s", e.Path, sizeText(e.Size), e.Why)
	}
	return fmt.Sprintf("swap of %s: %s", sizeText(e.Size), e.Why)
}

// newSwapArea makes a swap area of size bytes (rounded down to whole pages), in host memory
// or, with path, in that host file (created or overwritten, and left behind with a Linux
// swap header, as mkswap would make it). It refuses sizes the host cannot hold.
func newSwapArea(size uint64, path string) (*swapArea, error) {
	if size == 0 && path != "" {
		st, err := os.Stat(path)
		if err != nil {
			return nil, &SwapError{Path: path, Why: "no size: give --swap SIZE to make it"}
		}
		size = uint64(st.Size())
	}
	size &^= 4095
	if size < 2*4096 {
		return nil, &SwapError{Size: size, Path: path, Why: "too small: at least two pages (8K), one for the header"}
	}
	if size>>12 > 1<<swpOffsetBits {
		return nil, &SwapError{Size: size, Path: path, Why: "larger than a swap entry can address"}
	}
	s := &swapArea{nslots: size >> 12, path: path, next: 1, cache: map[uint64]uint64{}, cacheSlot: map[uint64]uint64{}}
	s.count = make([]*[swapChunk]uint32, (s.nslots+swapChunk-1)/swapChunk)
	if path == "" {
		if host, ok := ram.HostMemory(); ok && size > host {
			return nil, &SwapError{Size: size, Why: fmt.Sprintf("larger than this host's memory (%s, RAM and swap) can hold; give a --swap-file on a disk with room",
				sizeText(host))}
		}
		r, err := ram.New(size)
		if err != nil {
			return nil, &SwapError{Size: size, Why: err.Error()}
		}
		s.store = memSwap{r}
	} else {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, &SwapError{Size: size, Path: path, Why: err.Error()}
		}
		st, err := f.Stat()
		if err == nil && !st.Mode().IsRegular() {
			err = errors.New("not a regular file")
		}
		if err == nil {
			if room, ok := hoststat.FreeSpace(filepath.Dir(path)); ok && size > room+uint64(st.Size()) {
				err = fmt.Errorf("the file system has only %s free", sizeText(room))
			}
		}
		if err == nil {
			err = f.Truncate(0) // a fresh area: nothing of an old one is read back
		}
		if err == nil {
			err = f.Truncate(int64(size))
		}
		if err != nil {
			f.Close()
			return nil, &SwapError{Size: size, Path: path, Why: err.Error()}
		}
		s.store = f
	}
	if _, err := s.store.WriteAt(s.header(), 0); err != nil {
		s.store.Close()
		return nil, &SwapError{Size: size, Path: path, Why: err.Error()}
	}
	return s, nil
}

// header is slot 0 as mkswap writes it (include/linux/swap.h: union swap_header): version 1,
// the last page, no bad pages, and the magic "SWAPSPACE2" at the end of the page.
func (s *swapArea) header() []byte {
	h := make([]byte, 4096)
	binary.LittleEndian.PutUint32(h[1024:], 1)                  // version
	binary.LittleEndian.PutUint32(h[1028:], uint32(s.nslots-1)) // last_page
	copy(h[4096-10:], "SWAPSPACE2")
	return h
}

// Slots returns how many page slots the area has for pages (the header's excluded).
func (s *swapArea) Slots() uint64 { return s.nslots - 1 }

func (s *swapArea) countOf(slot uint64) *uint32 {
	c := s.count[slot/swapChunk]
	if c == nil {
		c = new([swapChunk]uint32)
		s.count[slot/swapChunk] = c
	}
	return &c[slot%swapChunk]
}

// Count returns how many swap entries name slot.
func (s *swapArea) Count(slot uint64) uint32 {
	if slot >= s.nslots || s.count[slot/swapChunk] == nil {
		return 0
	}
	return s.count[slot/swapChunk][slot%swapChunk]
}

// alloc reserves a free slot with count zero (get_swap_page); ok is false when swap is full.
// Slots come lowest-first from never-used ones, then last-freed first, so runs repeat.
func (s *swapArea) alloc() (uint64, bool) {
	var slot uint64
	if n := len(s.free); n > 0 {
		slot = s.free[n-1]
		s.free = s.free[:n-1]
	} else if s.next < s.nslots {
		slot = s.next
		s.next++
	} else {
		return 0, false
	}
	s.used++
	s.peak = max(s.peak, s.used)
	return slot, true
}

// release returns a slot no entry names to the free slots.
func (s *swapArea) release(slot uint64) {
	*s.countOf(slot) = 0
	s.free = append(s.free, slot)
	s.used--
}

// full reports whether no slot is free.
func (s *swapArea) full() bool { return len(s.free) == 0 && s.next >= s.nslots }

// read copies slot's page into buf; write stores buf in slot.
func (s *swapArea) read(slot uint64, buf []byte) error {
	_, err := s.store.ReadAt(buf[:4096], int64(slot)<<12)
	if err == nil {
		s.reads++
	}
	return err
}

func (s *swapArea) write(slot uint64, buf []byte) error {
	_, err := s.store.WriteAt(buf[:4096], int64(slot)<<12)
	if err == nil {
		s.writes++
	}
	return err
}

// swapDup adds a reference to slot: fork copied a swap entry (swap_duplicate()).
func (k *Kernel) swapDup(slot uint64) { *k.swap.countOf(slot)++ }

// swapFree drops a reference to slot: a swap entry was zapped, or a fault read the page back
// (swap_free()). When none is left the slot is freed, and its page leaves the swap cache.
func (k *Kernel) swapFree(slot uint64) {
	s := k.swap
	c := s.countOf(slot)
	if *c == 0 {
		panic("minikernel: swapFree of a free slot")
	}
	*c--
	if *c > 0 {
		return
	}
	if _, ok := s.cache[slot]; ok {
		k.swapCacheDel(slot)
	}
	s.release(slot)
}

// swapCacheAdd puts frame pfn in the swap cache as slot's page; the cache holds a reference
// to the frame (add_to_swap_cache()).
func (k *Kernel) swapCacheAdd(slot, pfn uint64) {
	k.frames.Get(pfn)
	k.frames.setFlags(pfn, flagSwapCache, true)
	k.swap.cache[slot] = pfn
	k.swap.cacheSlot[pfn] = slot
}

// swapCacheDel takes slot's page out of the swap cache and drops the cache's reference to
// its frame (delete_from_swap_cache()).
func (k *Kernel) swapCacheDel(slot uint64) {
	s := k.swap
	pfn := s.cache[slot]
	delete(s.cache, slot)
	delete(s.cacheSlot, pfn)
	k.frames.setFlags(pfn, flagSwapCache, false)
	k.frames.Put(pfn)
}

// SwapInfo describes the swap area for statistics and the debugger.
type SwapInfo struct {
	Path              string // the host file, or "" for swap kept in host memory
	Slots, Used, Peak uint64 // page slots (the header's excluded), in use now, most at once
	Cached            uint64 // pages in the swap cache now
	PagesIn, PagesOut uint64 // pages read from and written to the area
}

// SwapSlot is one slot in use: how many swap entries name it, and the frame holding its
// page in the swap cache (0: none).
type SwapSlot struct {
	Slot  uint64
	Count uint32
	Frame uint64
}

// Swap describes the swap area; ok is false when the machine has none.
func (k *Kernel) Swap() (info SwapInfo, ok bool) {
	s := k.swap
	if s == nil {
		return SwapInfo{}, false
	}
	return SwapInfo{Path: s.path, Slots: s.Slots(), Used: s.used, Peak: s.peak, Cached: uint64(len(s.cache)),
		PagesIn: s.reads, PagesOut: s.writes}, true
}

// SwapSlots lists the slots in use, in slot order.
func (k *Kernel) SwapSlots() []SwapSlot {
	s := k.swap
	if s == nil {
		return nil
	}
	var out []SwapSlot
	for slot := uint64(1); slot < s.next; slot++ {
		if n, pfn := s.Count(slot), s.cache[slot]; n > 0 || pfn != 0 {
			out = append(out, SwapSlot{Slot: slot, Count: n, Frame: pfn})
		}
	}
	return out
}

// SwapEntry describes a swap entry e: its swap type and slot, and whether e is one.
func SwapEntry(e mmu.PTE) (typ uint8, slot uint64, ok bool) {
	if !isSwapPTE(e) {
		return 0, 0, false
	}
	typ, slot = swapEntryOf(e)
	return typ, slot, true
}

// Close releases the area's host memory or closes its file.
func (s *swapArea) Close() error { return s.store.Close() }

// errSwapIO reports a swap entry whose page cannot be read back: a slot the area does not
// have, or a failed read. The fault ends in SIGBUS, as Linux's VM_FAULT_SIGBUS.
var errSwapIO = errors.New("swap entry cannot be read")

// swapIn maps the page whose swap entry e sits at ea (the PTE of page in area v of p): from
// the swap cache when another fault brought it back already (a minor fault), else read from
// its slot into a new frame that joins the swap cache (major). The entry's reference to the
// slot is dropped; when it was the last, the slot is freed and the frame leaves the swap
// cache. The page maps writable only if no other PTE or swap entry shares it; a write to a
// shared one copies it at once. Linux's do_swap_page().
func (k *Kernel) swapIn(p *Process, v *VMA, page, ea uint64, e mmu.PTE, acc mmu.Access) (uint64, error) {
	s := k.swap
	typ, slot := swapEntryOf(e)
	if s == nil || typ != 0 || slot == 0 || slot >= s.nslots || s.Count(slot) == 0 {
		k.logf("pid %d: bad swap entry %#x at %#x", p.PID, uint64(e), page)
		return 0, errSwapIO
	}
	pfn, cached := s.cache[slot]
	if cached {
		k.frames.Get(pfn) // the PTE's reference
		k.rc.stats.SwapCacheHits++
	} else {
		var err error
		if pfn, err = k.frames.AllocDirty(FrameUser); err != nil { // the read fills it whole
			return 0, err
		}
		fr, _ := k.ram.Frame(pfn)
		if err := s.read(slot, fr[:]); err != nil {
			k.frames.Put(pfn)
			k.logf("pid %d: reading swap slot %d: %v", p.PID, slot, err)
			return 0, errSwapIO
		}
		k.ram.NoteWrite(pfn)
		k.swapCacheAdd(slot, pfn)
		k.rc.stats.SwapIns++
		if len(k.observers) > 0 {
			k.emit(&Event{Kind: EvReclaim, Reclaim: ReclaimSwapIn, PID: p.PID, Addr: page, VMA: v, Frame: pfn, Slot: slot,
				Text: "major fault"})
		}
	}
	k.swapFree(slot)
	n := k.protectPTE(v, mmu.PTE(pfn<<12)|mmu.PTEAccessed)
	if acc&mmu.Write != 0 {
		if n&mmu.PTEWrite == 0 {
			// Shared with another mapping or swap entry: the write gets its own copy
			// (do_swap_page() calling do_wp_page()).
			cp, err := k.frames.Dup(pfn, FrameUser)
			if err != nil {
				k.writePTE(ea, n) // mapped read-only: the retried write copies it
				return 0, err
			}
			k.frames.Put(pfn)
			pfn = cp
			n = mmu.PTE(pfn<<12) | leafFlags(v.Prot) | mmu.PTEAccessed
		}
		n |= mmu.PTEDirty
	}
	k.writePTE(ea, n)
	return pfn, nil
}

// --- shared memory ---
//
// A page of a shared-memory object (MAP_SHARED|MAP_ANONYMOUS, memfd) has no file to go back
// to, so reclaim writes it to swap too, as Linux's shmem does (shmem_writeout): the PTEs
// that mapped it are cleared, not made swap entries, and the object remembers the slot in
// place of the frame (Inode.swapped, Linux's swap entry in the mapping's xarray); the slot
// counts that one reference. The next fault, read or write of the page reads it back into the
// page cache (shmem_swapin_folio) and frees the slot.

// shmem reports whether ino is a shared-memory object (its pages go to swap).
func (ino *Inode) shmem() bool { return ino.id.shm != 0 || ino.memfd != nil }

// shmSwapOut writes page idx of shared-memory object ino, in frame pfn, to a free slot and
// makes the object remember the slot. The caller has unmapped the frame and drops the
// cache's reference. It reports false when swap is full or the write failed.
func (k *Kernel) shmSwapOut(ino *Inode, idx, pfn uint64) (uint64, bool) {
	s := k.swap
	slot, ok := s.alloc()
	if !ok {
		return 0, false
	}
	fr, _ := k.ram.Frame(pfn)
	if err := s.write(slot, fr[:]); err != nil {
		s.release(slot)
		k.logf("reclaim: writing %s page %d to swap slot %d: %v", ino.name, idx, slot, err)
		return 0, false
	}
	*s.countOf(slot) = 1
	if ino.swapped == nil {
		ino.swapped = map[uint64]uint64{}
	}
	ino.swapped[idx] = slot
	delete(ino.pages, idx)
	return slot, true
}

// shmSwapIn reads page idx of ino back from swap into a new page-cache frame, if it is
// there; it reports the frame (0: not swapped out).
func (k *Kernel) shmSwapIn(ino *Inode, idx uint64) (uint64, error) {
	slot, ok := ino.swapped[idx]
	if !ok {
		return 0, nil
	}
	pfn, err := k.frames.AllocDirty(FrameCache)
	if err != nil {
		return 0, err
	}
	fr, _ := k.ram.Frame(pfn)
	if err := k.swap.read(slot, fr[:]); err != nil {
		k.frames.Put(pfn)
		k.logf("reading %s page %d from swap slot %d: %v", ino.name, idx, slot, err)
		return 0, errSwapIO
	}
	k.ram.NoteWrite(pfn)
	delete(ino.swapped, idx)
	k.swapFree(slot)
	ino.pages[idx] = pfn
	k.rc.stats.SwapIns++
	if len(k.observers) > 0 {
		k.emit(&Event{Kind: EvReclaim, Reclaim: ReclaimSwapIn, Frame: pfn, Slot: slot, Path: ino.name, Index: idx,
			Text: "shared memory"})
	}
	return pfn, nil
}

// shmDropSwapped forgets the swapped-out pages of ino whose index is in [from, to) (page
// indexes), freeing their slots: truncation, a hole punched, the object's end.
func (k *Kernel) shmDropSwapped(ino *Inode, from, to uint64) {
	for idx, slot := range ino.swapped {
		if idx >= from && idx < to {
			delete(ino.swapped, idx)
			k.swapFree(slot)
		}
	}
}

// shmPeekSwapped reads a swapped-out page of ino into buf without bringing it back (the
// debugger's reads, which change nothing); it reports whether the page is in swap.
func (k *Kernel) shmPeekSwapped(ino *Inode, idx uint64, buf []byte) bool {
	slot, ok := ino.swapped[idx]
	if !ok {
		return false
	}
	if _, err := k.swap.store.ReadAt(buf[:4096], int64(slot)<<12); err != nil {
		clear(buf[:4096])
	}
	return true
}

// shmSwappedIn counts the pages of ino with index in [from, to) that are in swap.
func (k *Kernel) shmSwappedIn(ino *Inode, from, to uint64) uint64 {
	var n uint64
	for idx := range ino.swapped {
		if idx >= from && idx < to {
			n++
		}
	}
	return n
}

// peekSwapped copies the bytes at offset off of the page swap entry e names into dst,
// without bringing the page back (a debugger's read): from the swap cache's frame, or from
// the slot. It reports false for an entry naming no slot in use.
func (k *Kernel) peekSwapped(e mmu.PTE, off uint64, dst []byte) bool {
	s := k.swap
	typ, slot := swapEntryOf(e)
	if s == nil || typ != 0 || slot == 0 || slot >= s.nslots || s.Count(slot) == 0 {
		return false
	}
	if pfn, ok := s.cache[slot]; ok {
		copy(dst, k.ram.Bytes()[pfn<<12+off:])
		return true
	}
	var page [4096]byte
	if _, err := s.store.ReadAt(page[:], int64(slot)<<12); err != nil {
		return false
	}
	copy(dst, page[off:])
	return true
}
