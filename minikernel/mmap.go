package minikernel

import (
	"github.com/vmemu/vmemu/mmu"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// Creating, removing and changing areas: Linux's mm/mmap.c (do_mmap, mmap_region,
// get_unmapped_area, brk), mm/vma.c (do_vmi_munmap), mm/mprotect.c, mm/mremap.c,
// mm/madvise.c, mm/msync.c and mm/mincore.c. The system-call wrappers with their argument
// checks are in sys_mm.go.

const (
	mmapMinAddr    = 4096  // vm.mmap_min_addr: the Kconfig default (and this host's)
	maxMapCount    = 65530 // vm.max_map_count
	pmdSize        = 2 << 20
	legacyMmapBase = (userTop/3 + 0xfff) &^ 0xfff // TASK_UNMAPPED_BASE, for the bottom-up fallback
	map32Low       = 0x40000000                   // MAP_32BIT's window (arch/x86/kernel/sys_x86_64.c)
	map32High      = 0x80000000
)

// mmapBaseFor returns the top of the mmap area below the stack for a stack rlimit, as
// arch/x86/mm/mmap.c:mmap_base() computes it with randomization off: the gap between the
// stack top and mmap_base is the stack rlimit plus the guard gap, clamped to [128 MiB,
// 5/6 of the address space].
func mmapBaseFor(stackRlimit uint64) uint64 {
	gap := stackRlimit
	if pad := uint64(stackGuardGap); gap+pad > gap {
		gap += pad
	}
	gap = min(max(gap, 128<<20), userTop/6*5)
	return pageRoundUp(userTop - gap)
}

// startGap returns the lowest address a new area may end at below v: its start, less the
// guard gap for a stack. Linux's vm_start_gap().
func startGap(v *VMA) uint64 {
	if v.Flags&VMGrowsDown != 0 && v.Start > stackGuardGap {
		return v.Start - stackGuardGap
	}
	return v.Start
}

// topDown returns the highest address a with low <= a, a+length <= high and [a, a+length)
// clear of every area and stack guard gap. Linux's unmapped_area_topdown().
func (mm *MM) topDown(length, low, high uint64) (uint64, bool) {
	for i := len(mm.vmas); i >= 0; i-- {
		gapEnd := high
		if i < len(mm.vmas) {
			gapEnd = min(gapEnd, startGap(mm.vmas[i]))
		}
		gapStart := low
		if i > 0 {
			gapStart = max(gapStart, mm.vmas[i-1].End)
		}
		if gapEnd >= gapStart && gapEnd-gapStart >= length {
			return gapEnd - length, true
		}
	}
	return 0, false
}

// bottomUp returns the lowest such address. Linux's unmapped_area().
func (mm *MM) bottomUp(length, low, high uint64) (uint64, bool) {
	for i := 0; i <= len(mm.vmas); i++ {
		gapStart := low
		if i > 0 {
			gapStart = max(gapStart, mm.vmas[i-1].End)
		}
		gapEnd := high
		if i < len(mm.vmas) {
			gapEnd = min(gapEnd, startGap(mm.vmas[i]))
		}
		if gapEnd >= gapStart && gapEnd-gapStart >= length {
			return gapStart, true
		}
	}
	return 0, false
}

// placement says how getUnmappedArea chooses.
type placement struct {
	fixed bool // MAP_FIXED: addr is the answer
	map32 bool // MAP_32BIT: bottom-up in [1 GiB, 2 GiB)
	thpOK bool // private anonymous, no hint: a 2 MiB multiple is 2 MiB aligned
}

// getUnmappedArea chooses where a new area of length bytes goes: at addr for MAP_FIXED; at
// the hint addr when that range is free; else the highest free range below mmap_base
// (top-down), else the lowest above TASK_UNMAPPED_BASE. A private anonymous mapping whose
// length is a multiple of 2 MiB is placed on a 2 MiB boundary, as Linux 6.7+ does for
// transparent huge pages (__get_unmapped_area -> thp_get_unmapped_area_vmflags). Linux's
// __get_unmapped_area() and arch_get_unmapped_area_topdown().
func (mm *MM) getUnmappedArea(addr, length uint64, pl placement) (uint64, Errno) {
	if length > userTop {
		return 0, ENOMEM
	}
	var a uint64
	switch {
	case pl.fixed:
		a = addr
	case pl.map32:
		var ok bool
		if a, ok = mm.bottomUp(length, map32Low, map32High); !ok {
			return 0, ENOMEM
		}
	default:
		var ok bool
		if a, ok = mm.hintOrSearch(addr, length, pl.thpOK); !ok {
			return 0, ENOMEM
		}
	}
	switch {
	case a > userTop-length:
		return 0, ENOMEM
	case a&0xfff != 0:
		return 0, EINVAL
	case a < mmapMinAddr:
		return 0, EPERM // security_mmap_addr(): below vm.mmap_min_addr needs CAP_SYS_RAWIO
	}
	return a, 0
}

// hintOrSearch tries the hint, then a top-down search (padded and aligned for THP), then
// bottom-up from TASK_UNMAPPED_BASE.
func (mm *MM) hintOrSearch(addr, length uint64, thp bool) (uint64, bool) {
	if addr != 0 {
		addr = pageRoundDown(addr)
		if userTop-length >= addr {
			if i := mm.index(addr); i == len(mm.vmas) || addr+length <= startGap(mm.vmas[i]) {
				return addr, true
			}
		}
	}
	if thp && addr == 0 && length%pmdSize == 0 {
		// __thp_get_unmapped_area(): search for length + 2 MiB, then align inside it; the
		// top of the padded range when it is aligned already (top-down).
		if ret, ok := mm.topDown(length+pmdSize, 4096, mm.mmapBase); ok {
			if sub := -ret & (pmdSize - 1); sub == 0 {
				return ret + pmdSize, true
			} else {
				return ret + sub, true
			}
		}
	}
	if a, ok := mm.topDown(length, 4096, mm.mmapBase); ok {
		return a, true
	}
	return mm.bottomUp(length, legacyMmapBase, userTop)
}

// tlbGather collects the pages whose translations an operation removed or restricted, and
// invalidates them at the end, on every CPU that may cache them (flushTLB, smp.go): INVLPG
// for each of a few pages, one PCID flush for more (Linux's mmu_gather and
// tlb_single_page_flush_ceiling).
type tlbGather struct {
	mm          *MM
	pages       [tlbFlushCeiling]uint64
	n           int
	all         bool
	freedTables bool   // page-table pages were freed: lazy CPUs must hear of it too
	why         string // what changed the tables (munmap, mprotect, ...), for the trace
}

// tlbFlushCeiling is how many single-page invalidations are worth doing before a whole
// flush is cheaper (Linux's tlb_single_page_flush_ceiling).
const tlbFlushCeiling = 33

func (g *tlbGather) add(va uint64) {
	switch {
	case g.all:
	case g.n == len(g.pages):
		g.all = true
	default:
		g.pages[g.n] = va
		g.n++
	}
}

// finish performs the invalidations.
func (k *Kernel) finish(g *tlbGather) { k.flushTLB(g) }

// invalidate drops va's translation of mm from every TLB that may hold it.
func (k *Kernel) invalidate(mm *MM, va uint64, why string) {
	g := tlbGather{mm: mm, why: why}
	g.add(va)
	k.flushTLB(&g)
}

// zap clears the PTEs of [start, end) inside VMA v, releasing their frames and the swap
// slots of swap entries; in a shared file area a page the processor marked dirty is written
// back to the file first; a locked area's pages go back to page reclaim. Linux's
// zap_pte_range() (which moves the dirty bit to the page for writeback).
func (k *Kernel) zap(mm *MM, v *VMA, start, end uint64, g *tlbGather) {
	f := v.file()
	writeback := v.shared() && f != nil && f.kind == fileRegular
	locked := v.Flags&VMLocked != 0
	k.visitEntries(mm, start, end, func(va, ea uint64, e mmu.PTE) {
		if isSwapPTE(e) {
			k.writePTE(ea, 0) // not present: no TLB holds it
			k.swapFree(swapSlotOf(e))
			return
		}
		if locked {
			k.putbackFrame(e.Frame())
		}
		if writeback && e&(mmu.PTEDirty|mmu.PTEPresent) == mmu.PTEDirty|mmu.PTEPresent {
			k.writeBack(f, v.pgoff(va), e.Frame())
		}
		k.writePTE(ea, 0)
		k.frames.Put(e.Frame())
		g.add(va)
	})
}

// writeBack writes page idx of f's object, held in frame pfn, to the host file (the part
// below the end of the file). Linux's writepage, done at once.
func (k *Kernel) writeBack(f *File, idx, pfn uint64) {
	ino := f.ino
	if ino.pages[idx] != pfn || idx<<12 >= ino.size || k.hostBacked(pfn) {
		return // truncated away, or the host file's page itself: nothing to write
	}
	fr, _ := k.ram.Frame(pfn)
	n := min(4096, ino.size-idx<<12)
	if _, err := hostfs.Pwrite(f.hfd, fr[:n], int64(idx<<12)); err != 0 {
		k.logf("writing back page %d of %s: %v", idx, f.name, err)
	}
	k.writebacks++
}

// syncRange writes back the dirty pages of a shared file area in [start, end) and marks
// them clean again; the dirty flags it clears are invalidated in the TLB, or a later write
// through a cached translation would not set them again. Linux's msync -> vfs_fsync_range
// with the dirty-PTE walk of page_mkclean().
func (k *Kernel) syncRange(mm *MM, v *VMA, start, end uint64) {
	f := v.file()
	if !v.shared() || f == nil || f.kind != fileRegular {
		return
	}
	g := tlbGather{mm: mm, why: "writeback"}
	k.visitPTEs(mm, max(start, v.Start), min(end, v.End), func(va, ea uint64, e mmu.PTE) {
		if e&(mmu.PTEDirty|mmu.PTEPresent) == mmu.PTEDirty|mmu.PTEPresent {
			k.writeBack(f, v.pgoff(va), e.Frame())
			k.writePTE(ea, e&^mmu.PTEDirty)
			g.add(va)
		}
	})
	k.finish(&g)
}

// unmapRange removes [start, end) from mm: the VMAs are trimmed or split, the PTEs cleared
// (dirty shared pages written back), the frames released, empty page tables freed, and the
// TLB told. Linux's do_vmi_align_munmap().
func (k *Kernel) unmapRange(mm *MM, start, end uint64) {
	removed := mm.removeRange(start, end)
	if len(removed) == 0 {
		return
	}
	g := tlbGather{mm: mm, why: "munmap"}
	for _, v := range removed {
		k.zap(mm, v, v.Start, v.End, &g)
	}
	k.dropMarkers(mm, start, end) // guard.go
	g.freedTables = k.freeEmptyTables(mm, start, end)
	k.finish(&g)
	for _, v := range removed {
		v.file().put()
	}
}

// unmap is unmapRange under its old name.
func (k *Kernel) unmap(mm *MM, start, end uint64) { k.unmapRange(mm, start, end) }

// mmapRequest is a validated mmap: where, how big, what.
type mmapRequest struct {
	addr, length uint64
	prot         Prot
	flags        VMAFlags
	file         *File // nil: anonymous
	off          uint64
	fixed        bool
	noReplace    bool
	populate     bool
	map32        bool
	anonPrivate  bool   // MAP_PRIVATE|MAP_ANONYMOUS (placement may align it for huge pages)
	name         string // an anonymous area's name in /proc/PID/maps (a private /dev/zero mapping)
}

// enoughMemory applies Linux's heuristic overcommit (vm.overcommit_memory 0,
// __vm_enough_memory()): a private writable mapping, or growth of one, is refused only when
// it alone is larger than all of RAM and swap together; anything smaller is admitted, and
// page reclaim and, at worst, the OOM killer deal with what is actually touched.
func (k *Kernel) enoughMemory(pages uint64) bool {
	total := k.frames.Stats().Total - 1 // frame 0 is never used
	if k.swap != nil {
		total += k.swap.Slots()
	}
	return pages <= total
}

// mmapRegion places and creates the area r describes in p's address space and returns its
// address. check, when not nil, runs after the placement (where do_mmap makes its checks of
// the mapping type and the file) and may refuse or complete r. Linux's do_mmap() from the
// map-count check on, and mmap_region().
func (k *Kernel) mmapRegion(p *Process, r mmapRequest, check func(*mmapRequest) Errno) (uint64, Errno) {
	mm := p.mm
	if len(mm.vmas) >= k.maxMapCount() {
		return 0, ENOMEM
	}
	pl := placement{fixed: r.fixed, map32: r.map32,
		thpOK: r.file == nil && r.anonPrivate && !r.fixed}
	addr, e := mm.getUnmappedArea(r.addr, r.length, pl)
	if e != 0 {
		return 0, e
	}
	end := addr + r.length
	if r.noReplace && mm.intersects(addr, end) {
		return 0, EEXIST
	}
	if check != nil {
		if e := check(&r); e != 0 {
			return 0, e
		}
	}
	accountable := r.flags&VMNoReserve == 0 &&
		((r.flags&VMShared == 0 && r.prot&ProtWrite != 0) || (r.flags&VMShared != 0 && r.file == nil))
	if accountable && !k.enoughMemory(r.length>>12) {
		return 0, ENOMEM
	}
	if r.fixed {
		k.unmapRange(mm, addr, end)
	}
	v := &VMA{Start: addr, End: end, Prot: r.prot, Flags: r.flags, Off: r.off, Name: r.name}
	switch {
	case r.file != nil:
		r.file.get()
		v.Obj, v.Name = r.file, r.file.name
	case r.flags&VMShared != 0:
		v.Obj, v.Off = k.newShmFile(r.length), 0
	}
	mm.insert(v)
	mm.mergeRange(addr, end)
	if r.populate {
		k.populate(p, addr, end, false)
	}
	return addr, 0
}

// populate faults in every page of [start, end) as MAP_POPULATE and MADV_POPULATE_* do: for
// writing in a private writable area (breaking copy-on-write), for reading elsewhere. It
// stops at the first page it cannot map and reports whether it mapped them all. Linux's
// populate_vma_page_range().
func (k *Kernel) populate(p *Process, start, end uint64, write bool) bool {
	for va := start; va < end; va += 4096 {
		v := p.mm.Find(va)
		if v == nil || v.Prot == 0 {
			return false
		}
		acc := mmu.Access(0)
		if write || (v.Prot&ProtWrite != 0 && !v.shared()) {
			acc = mmu.Write
		}
		if pte, _ := k.lookupPTE(p.mm, va); pte&mmu.PTEPresent != 0 && pteAllows(pte, acc) {
			continue
		}
		if !k.userFault(p, va, acc) || p.exited {
			return false
		}
	}
	return true
}

// mprotect changes the protection of [start, end), which VMAs cover from start on, one area
// at a time; it stops with ENOMEM at a hole (earlier areas keep their new protection, as on
// Linux) and with EACCES when an area may not become writable. PTEs follow: restricted
// rights are invalidated in the TLB, added rights are not (a stale entry can only cause a
// spurious fault, SDM Vol. 3A 4.10.4.3). Linux's do_mprotect_pkey() and mprotect_fixup().
func (k *Kernel) mprotect(mm *MM, start, end uint64, prot Prot) Errno {
	i := mm.index(start)
	if i == len(mm.vmas) || mm.vmas[i].Start > start {
		return ENOMEM
	}
	g := tlbGather{mm: mm, why: "mprotect"}
	defer k.finish(&g)
	defer mm.mergeRange(start, end)
	for pos := start; pos < end; {
		v := mm.Find(pos)
		if v == nil {
			return ENOMEM
		}
		if prot&ProtWrite != 0 && v.Flags&VMDenyWrite != 0 {
			return EACCES
		}
		if prot&ProtWrite != 0 && v.Prot&ProtWrite == 0 && !v.shared() && v.Flags&VMNoReserve == 0 &&
			!k.enoughMemory((min(end, v.End)-max(pos, v.Start))>>12) {
			return ENOMEM
		}
		hi := min(end, v.End)
		mm.splitAt(pos)
		mm.splitAt(hi)
		v = mm.Find(pos)
		v.Prot = prot
		k.visitPTEs(mm, v.Start, v.End, func(va, ea uint64, e mmu.PTE) {
			n := k.protectPTE(v, e)
			if n != e {
				k.writePTE(ea, n)
			}
			if restricts(e, n) {
				g.add(va)
			}
		})
		pos = v.End
	}
	return 0
}

// dontNeed drops the pages of [start, end) in every area there: the next access faults in
// a zero page (private anonymous memory) or the file's page again. MADV_DONTNEED;
// Linux's zap_page_range_single().
func (k *Kernel) dontNeed(mm *MM, start, end uint64) {
	g := tlbGather{mm: mm, why: "madvise"}
	for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
		v := mm.vmas[i]
		k.zap(mm, v, max(start, v.Start), min(end, v.End), &g)
	}
	k.finish(&g)
}

// movePTEs moves the entries mapping [from, from+length) to [to, to+length), frames and
// all, as mremap does (Linux's move_page_tables()). Page tables for the destination are
// allocated first, so a failure leaves everything as it was.
func (k *Kernel) movePTEs(mm *MM, from, to, length uint64) error {
	var need []uint64
	k.visitAll(mm, from, from+length, func(va, ea uint64, e mmu.PTE) {
		need = append(need, va) // guard and other markers move too
	})
	for _, va := range need {
		if _, err := k.walk(mm.pml4, to+(va-from), true); err != nil {
			k.freeEmptyTables(mm, to, to+length)
			return err
		}
	}
	g := tlbGather{mm: mm, why: "mremap"}
	for _, va := range need {
		e, ea := k.lookupPTE(mm, va)
		dea, _ := k.walk(mm.pml4, to+(va-from), false)
		k.writePTE(dea, e)
		k.writePTE(ea, 0)
		g.add(va)
	}
	g.freedTables = k.freeEmptyTables(mm, from, from+length)
	k.finish(&g)
	return nil
}

// brk moves the program break to want and returns the break afterwards (the old one when
// the request is refused). Linux's mm/mmap.c:SYSCALL_DEFINE1(brk).
func (k *Kernel) brk(mm *MM, want uint64) uint64 {
	if want < mm.brkStart {
		return mm.brk
	}
	oldEnd, newEnd := pageRoundUp(mm.brk), pageRoundUp(want)
	switch {
	case newEnd == oldEnd:
	case newEnd < oldEnd:
		k.unmapRange(mm, newEnd, oldEnd)
	default:
		// The new heap must leave a page and the guard gap below the next area.
		if newEnd > userTop {
			return mm.brk
		}
		if i := mm.index(oldEnd); i < len(mm.vmas) && newEnd+4096 > startGap(mm.vmas[i]) {
			return mm.brk
		}
		if len(mm.vmas) >= k.maxMapCount() || !k.enoughMemory((newEnd-oldEnd)>>12) {
			return mm.brk
		}
		if heap := mm.Find(oldEnd - 1); heap != nil && heap.Name == "[heap]" && heap.End == oldEnd &&
			heap.Flags == mm.defFlags {
			heap.End = newEnd
		} else {
			mm.insert(&VMA{Start: oldEnd, End: newEnd, Prot: ProtRead | ProtWrite, Name: "[heap]", Flags: mm.defFlags})
		}
		if mm.defFlags&VMLocked != 0 && mm.defFlags&VMLockOnFault == 0 && k.cur != nil && k.cur.proc.mm == mm {
			k.populate(k.cur.proc, oldEnd, newEnd, false) // mlockall(MCL_FUTURE)
		}
	}
	mm.brk = want
	return want
}
