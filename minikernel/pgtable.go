package minikernel

import (
	"encoding/binary"

	"github.com/vmemu/vmemu/mmu"
)

// Page-table management. The tables live in RAM in the exact Intel format (mmu.PTE); the
// kernel reads and writes them as a real kernel does, and tells the MMU about changes only
// by invalidating TLB entries. Compare xv6's kernel/vm.c (walk, mappages, uvmunmap) and
// Linux's mm/memory.c.

// Intermediate entries allow everything; the leaf decides (effective rights are the AND of
// all levels, SDM Vol. 3A 4.6).
const tableFlags = mmu.PTEPresent | mmu.PTEWrite | mmu.PTEUser

// Software bits (9-11) the kernel keeps in present leaf PTEs, where the processor ignores
// them (SDM Vol. 3A table 4-20). The kernel's notes live in the entry itself, never in a side
// table that could drift from it.
const (
	// softCOW marks a PTE that is read-only only because its frame is shared copy-on-write
	// (after fork, or a private file page still in the page cache): a write fault on it
	// breaks the sharing.
	softCOW uint8 = 1 << 0
	// softUffdWP marks a page a userfaultfd write-protected (UFFDIO_WRITEPROTECT): read-only
	// whatever its area allows, a write is handed to the userfaultfd (userfaultfd.go). Bit
	// 10, Linux's _PAGE_UFFD_WP (_PAGE_SOFTW2).
	softUffdWP uint8 = 1 << 1
)

// pteCOW is the software bit softCOW in its place in the entry.
const pteCOW = mmu.PTE(softCOW) << mmu.PTESoftShift

// pteUffdWP is the software bit softUffdWP in its place in the entry.
const pteUffdWP = mmu.PTE(softUffdWP) << mmu.PTESoftShift

// pteProtNone marks a not-present entry that still holds its frame: a page of a PROT_NONE
// area. With P clear the processor ignores every other bit (SDM Vol. 3A 4.5), so any access
// faults and the frame survives mprotect. It is bit 8, where Linux keeps _PAGE_PROTNONE (the
// G bit's place, meaningless without P), so that bits 9 and up of a not-present entry are
// free for a swap entry (swap.go): a not-present entry is empty (zero), PROT_NONE (bit 8), or
// a swap entry (anything else), as Linux's pte_none(), pte_present() and is_swap_pte() tell.
const pteProtNone = mmu.PTEGlobal

// pteMapped reports whether a leaf entry holds a frame: present, or PROT_NONE.
func pteMapped(e mmu.PTE) bool { return e&mmu.PTEPresent != 0 || e&pteProtNone != 0 }

// protectPTE returns the leaf entry e, which holds a frame, with the rights VMA v gives its
// page now: not present for PROT_NONE, and for a private writable area writable only when the
// frame is exclusively this entry's (otherwise read-only and copy-on-write). Accessed and
// dirty flags are kept. Linux's change_pte_range() with can_change_pte_writable().
func (k *Kernel) protectPTE(v *VMA, e mmu.PTE) mmu.PTE {
	keep := e & (mmu.PTEAddrMask | mmu.PTEAccessed | mmu.PTEDirty | pteCOW | pteUffdWP)
	if v.Prot == 0 {
		return keep | pteProtNone
	}
	n := keep | leafFlags(v.Prot)
	if n&pteUffdWP != 0 {
		return n &^ mmu.PTEWrite // write-protected by a userfaultfd: a write goes to it
	}
	if n&mmu.PTEWrite != 0 && !v.shared() {
		if k.exclusive(e.Frame()) {
			n &^= pteCOW
		} else {
			n = n&^mmu.PTEWrite | pteCOW
		}
	}
	return n
}

// restricts reports whether going from entry old to entry new takes a right away (or
// changes the frame), so that TLB entries made from old must be invalidated.
func restricts(old, new mmu.PTE) bool {
	if old&mmu.PTEPresent == 0 {
		return false
	}
	return new&mmu.PTEPresent == 0 || old.Frame() != new.Frame() ||
		(old&mmu.PTEWrite != 0 && new&mmu.PTEWrite == 0) ||
		(old&mmu.PTENoExec == 0 && new&mmu.PTENoExec != 0)
}

func pteIndex(va uint64, level int) uint64 { return va >> (12 + 9*uint(level-1)) & 511 }

// walk returns the physical address of the level-1 PTE that maps va in the tables rooted at
// frame pml4. Missing tables are allocated when alloc is true; otherwise walk returns 0 when
// a level is not present. It returns ErrNoMemory if a table could not be allocated.
// Mirrors xv6's walk().
func (k *Kernel) walk(pml4, va uint64, alloc bool) (uint64, error) {
	table := pml4 << 12
	for level := 4; level > 1; level-- {
		ea := table + pteIndex(va, level)*8
		e := k.readPTE(ea)
		if e&mmu.PTEPresent == 0 {
			if !alloc {
				return 0, nil
			}
			pfn, err := k.frames.Alloc(FrameTable)
			if err != nil {
				return 0, err
			}
			e = mmu.PTE(pfn<<12) | tableFlags
			k.writePTE(ea, e)
		}
		table = e.Addr()
	}
	return table + pteIndex(va, 1)*8, nil
}

// readPTE loads the entry at physical address pa. The kernel built the tables, so pa is
// always inside RAM and 8-byte aligned.
func (k *Kernel) readPTE(pa uint64) mmu.PTE {
	return mmu.PTE(binary.LittleEndian.Uint64(k.ram.Bytes()[pa : pa+8]))
}

// writePTE stores the entry e at physical address pa.
func (k *Kernel) writePTE(pa uint64, e mmu.PTE) {
	binary.LittleEndian.PutUint64(k.ram.Bytes()[pa:pa+8], uint64(e))
}

// lookupPTE returns the leaf PTE for va and its physical address (0, 0 when no table
// holds one).
func (k *Kernel) lookupPTE(mm *MM, va uint64) (mmu.PTE, uint64) {
	ea, _ := k.walk(mm.pml4, va, false)
	if ea == 0 {
		return 0, 0
	}
	return k.readPTE(ea), ea
}

// leafFlags returns the PTE bits for a page of a VMA with protection prot. PROT_NONE pages
// are never mapped (the fault handler refuses every access first).
func leafFlags(prot Prot) mmu.PTE {
	f := mmu.PTEPresent | mmu.PTEUser
	if prot&ProtWrite != 0 {
		f |= mmu.PTEWrite
	}
	if prot&ProtExec == 0 {
		f |= mmu.PTENoExec
	}
	return f
}

// pteVisitor is called for each leaf PTE that holds a frame: va is the page it maps, ea the entry's
// physical address, e its value.
type pteVisitor func(va, ea uint64, e mmu.PTE)

// visitPTEs calls fn for every leaf PTE holding a frame (pteMapped) in [start, end), in address
// order, skipping whole tables that are absent. It allocates nothing. Linux's
// walk_page_range() shape: pgd, pud, pmd, pte loops.
func (k *Kernel) visitPTEs(mm *MM, start, end uint64, fn pteVisitor) {
	if start < end {
		k.visitLevel(mm.pml4, 4, start, end, visitMapped, fn)
	}
}

// visitEntries is visitPTEs that also visits swap entries (every non-empty leaf but PTE
// markers, guard.go).
func (k *Kernel) visitEntries(mm *MM, start, end uint64, fn pteVisitor) {
	if start < end {
		k.visitLevel(mm.pml4, 4, start, end, visitMapped|visitSwap, fn)
	}
}

// visitMarkers calls fn for every PTE marker in [start, end) (guard.go).
func (k *Kernel) visitMarkers(mm *MM, start, end uint64, fn pteVisitor) {
	if start < end {
		k.visitLevel(mm.pml4, 4, start, end, visitMarker, fn)
	}
}

// visitAll calls fn for every non-empty leaf entry in [start, end), markers included.
func (k *Kernel) visitAll(mm *MM, start, end uint64, fn pteVisitor) {
	if start < end {
		k.visitLevel(mm.pml4, 4, start, end, visitMapped|visitSwap|visitMarker, fn)
	}
}

// The kinds of leaf entries a walk visits.
const (
	visitMapped = 1 << iota // holding a frame (pteMapped)
	visitSwap               // swap entries
	visitMarker             // PTE markers
)

func (k *Kernel) visitLevel(table uint64, level int, start, end uint64, kinds uint8, fn pteVisitor) {
	shift := 12 + 9*uint(level-1)
	for va := start; va < end; {
		next := (va>>shift + 1) << shift
		ea := table<<12 + (va>>shift&511)*8
		e := k.readPTE(ea)
		switch {
		case level == 1 && e == 0:
		case level == 1 && pteMapped(e):
			if kinds&visitMapped != 0 {
				fn(va, ea, e)
			}
		case level == 1 && isMarkerPTE(e):
			if kinds&visitMarker != 0 {
				fn(va, ea, e)
			}
		case level == 1:
			if kinds&visitSwap != 0 {
				fn(va, ea, e)
			}
		case level > 1 && e&mmu.PTEPresent != 0:
			k.visitLevel(e.Frame(), level-1, va, min(next, end), kinds, fn)
		}
		va = next
	}
}

// freeEmptyTables releases the page-table pages below the PML4 that cover part of
// [start, end) and no longer map anything, as Linux's free_pgtables() does when areas are
// unmapped, and reports whether it freed any. The caller flushes the TLB (a real processor
// may cache paging-structure entries), on lazy CPUs too when tables were freed.
func (k *Kernel) freeEmptyTables(mm *MM, start, end uint64) bool {
	freed := false
	if start < end {
		k.pruneLevel(mm.pml4, 4, start, end, &freed)
	}
	return freed
}

// pruneLevel frees empty child tables of table (at level) in [start, end), setting *freed
// when it frees one, and reports whether table itself is now empty.
func (k *Kernel) pruneLevel(table uint64, level int, start, end uint64, freed *bool) bool {
	shift := 12 + 9*uint(level-1)
	for va := start; va < end && level > 1; {
		next := (va>>shift + 1) << shift
		ea := table<<12 + (va>>shift&511)*8
		if e := k.readPTE(ea); e&mmu.PTEPresent != 0 && k.pruneLevel(e.Frame(), level-1, va, min(next, end), freed) {
			k.writePTE(ea, 0)
			k.frames.Put(e.Frame())
			*freed = true
		}
		va = next
	}
	mem := k.ram.Bytes()[table<<12 : table<<12+4096]
	for i := 0; i < 4096; i += 8 {
		if binary.LittleEndian.Uint64(mem[i:]) != 0 {
			return false
		}
	}
	return true
}

// freeTables releases every page-table page of the tables rooted at pml4, every frame they
// map (dropping one reference each) and every swap slot their swap entries name. The caller
// flushes the TLB.
func (k *Kernel) freeTables(pml4 uint64) {
	k.freeLevel(pml4, 4)
}

func (k *Kernel) freeLevel(pfn uint64, level int) {
	for i := uint64(0); i < 512; i++ {
		e := k.readPTE(pfn<<12 + i*8)
		switch {
		case level == 1 && pteMapped(e):
			k.frames.Put(e.Frame())
		case level == 1 && isSwapPTE(e):
			k.swapFree(swapSlotOf(e))
		case level > 1 && e&mmu.PTEPresent != 0:
			k.freeLevel(e.Frame(), level-1)
		}
	}
	k.frames.Put(pfn)
}
