package minikernel

import (
	"vmemu/mmu"
)

// Page-table management. The tables live in RAM in the exact Intel format (mmu.PTE); the
// kernel reads and writes them as a real kernel does, and tells the MMU about changes only
// by invalidating TLB entries. Compare xv6's kernel/vm.c (walk, mappages, uvmunmap) and
// Linux's mm/memory.c.

// Intermediate entries allow everything; the leaf decides (effective rights are the AND of
// all levels, SDM Vol. 3A 4.6).
const tableFlags = mmu.PTEPresent | mmu.PTEWrite | mmu.PTEUser

// Software bits (9-11) the kernel keeps in leaf PTEs.
const (
	// softCOW marks a PTE made read-only by fork: a write fault on it breaks the sharing.
	softCOW uint8 = 1 << 0
)

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

func (k *Kernel) readPTE(pa uint64) mmu.PTE {
	v, err := k.ram.Read64(pa)
	if err != nil {
		panic(err) // the kernel built these tables: an address outside RAM is a kernel bug
	}
	return mmu.PTE(v)
}

func (k *Kernel) writePTE(pa uint64, e mmu.PTE) {
	if err := k.ram.Write64(pa, uint64(e)); err != nil {
		panic(err)
	}
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

// leafFlags returns the PTE bits for a page of a VMA with protection prot.
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

// freeTables releases every page-table page of the tables rooted at pml4 and every frame
// they map (dropping one reference each). The caller flushes the TLB.
func (k *Kernel) freeTables(pml4 uint64) {
	k.freeLevel(pml4, 4)
}

func (k *Kernel) freeLevel(pfn uint64, level int) {
	for i := uint64(0); i < 512; i++ {
		e := k.readPTE(pfn<<12 + i*8)
		if e&mmu.PTEPresent == 0 {
			continue
		}
		if level == 1 {
			k.frames.Put(e.Frame())
		} else {
			k.freeLevel(e.Frame(), level-1)
		}
	}
	k.frames.Put(pfn)
}
