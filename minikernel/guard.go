package minikernel

import "github.com/vmemu/vmemu/mmu"

// PTE markers and guard regions. A marker is a not-present leaf entry that holds no page but
// tells the fault handler something about the page: Linux's pte_marker (include/linux/
// swapops.h), a swap entry of the reserved type SWP_PTE_MARKER (the last of the 32 swap
// types) whose offset holds the marker bits. isSwapPTE excludes markers, so swap code never
// takes one for a slot; visitEntries skips them; visitAll (movePTEs) includes them.
//
// A guard marker (MADV_GUARD_INSTALL, Linux 6.13, mm/madvise.c) makes its page fault with
// SIGSEGV (SEGV_MAPERR) whatever the area allows, and a system call reaching it EFAULT; the
// rest of the area works as before. Installing drops what the pages held; MADV_DONTNEED,
// mprotect and truncation keep the markers, fork copies them, mremap moves them, munmap and
// MADV_GUARD_REMOVE drop them. A userfaultfd write-protect marker (userfaultfd.go) keeps a
// write-protection on a page that has none mapped.

const (
	swpPTEMarker = 1<<swpTypeBits - 1 // SWP_PTE_MARKER

	pteMarkerUffdWP = 1 << 0 // PTE_MARKER_UFFD_WP
	pteMarkerGuard  = 1 << 2 // PTE_MARKER_GUARD

	madvGuardInstall = 102
	madvGuardRemove  = 103
)

// markerPTE is the marker entry with the given bits (make_pte_marker()).
func markerPTE(bits uint64) mmu.PTE { return swapPTE(swpPTEMarker, bits) }

// isMarkerPTE reports whether a leaf entry is a PTE marker.
func isMarkerPTE(e mmu.PTE) bool {
	return e != 0 && !pteMapped(e) && uint64(e)>>(64-swpTypeBits) == swpPTEMarker
}

// markerBits returns a marker entry's bits (0 for any other entry).
func markerBits(e mmu.PTE) uint64 {
	if !isMarkerPTE(e) {
		return 0
	}
	_, off := swapEntryOf(e)
	return off
}

// isGuardPTE reports whether a leaf entry is a guard marker.
func isGuardPTE(e mmu.PTE) bool { return markerBits(e)&pteMarkerGuard != 0 }

// forkMarker is the marker a fork child gets for the parent's marker e: the guard, not a
// write-protect marker, since the child's areas are not registered with the parent's
// userfaultfd (copy_pte_marker() without UFFD_FEATURE_EVENT_FORK); 0 for none.
func forkMarker(e mmu.PTE) mmu.PTE {
	if bits := markerBits(e) & pteMarkerGuard; bits != 0 {
		return markerPTE(bits)
	}
	return 0
}

// dropMarkers clears every marker of [start, end) in mm: the area is going away (munmap,
// exit; Linux's ZAP_FLAG_DROP_MARKER). Markers are not present, so no TLB holds them.
func (k *Kernel) dropMarkers(mm *MM, start, end uint64) {
	k.visitMarkers(mm, start, end, func(va, ea uint64, e mmu.PTE) { k.writePTE(ea, 0) })
}

// madviseGuard is MADV_GUARD_INSTALL and MADV_GUARD_REMOVE over [start, end), one area at a
// time in address order: an area that may not have guards (locked, for installing) stops the
// call with EINVAL, the areas before it keeping theirs. Installing zaps the pages mapped
// there (their contents are gone) and puts a guard marker in every entry; removing clears
// the guard markers and leaves everything else. Linux's madvise_guard_install() and
// madvise_guard_remove().
func (k *Kernel) madviseGuard(p *Process, start, end uint64, install bool) Errno {
	mm := p.mm
	for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
		v := mm.vmas[i]
		if install && v.Flags&VMLocked != 0 {
			return EINVAL // is_valid_guard_vma(): zapping a locked area is not allowed
		}
		lo, hi := max(start, v.Start), min(end, v.End)
		if !install {
			k.visitMarkers(mm, lo, hi, func(va, ea uint64, e mmu.PTE) {
				if n := markerBits(e) &^ pteMarkerGuard; n != 0 {
					k.writePTE(ea, markerPTE(n))
				} else {
					k.writePTE(ea, 0)
				}
			})
			continue
		}
		g := tlbGather{mm: mm, why: "madvise"}
		k.zap(mm, v, lo, hi, &g)
		k.finish(&g)
		for va := lo; va < hi; va += 4096 {
			ea, err := k.walk(mm.pml4, va, true)
			if err != nil {
				return ENOMEM
			}
			if e := k.readPTE(ea); e == 0 || isMarkerPTE(e) {
				k.writePTE(ea, markerPTE(markerBits(e)|pteMarkerGuard))
			}
		}
	}
	return 0
}
