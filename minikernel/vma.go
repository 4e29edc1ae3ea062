package minikernel

import (
	"fmt"
	"sort"

	"vmemu/mmu"
)

// Prot is a VMA's protection, with the values of Linux's PROT_* constants.
type Prot uint8

// Protection bits.
const (
	ProtRead  Prot = 1
	ProtWrite Prot = 2
	ProtExec  Prot = 4
)

func (p Prot) String() string {
	b := []byte("---")
	if p&ProtRead != 0 {
		b[0] = 'r'
	}
	if p&ProtWrite != 0 {
		b[1] = 'w'
	}
	if p&ProtExec != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// VMAFlags describe how a VMA behaves.
type VMAFlags uint16

// VMA flags.
const (
	VMShared    VMAFlags = 1 << iota // MAP_SHARED: stores reach the object and other mappings
	VMGrowsDown                      // the stack: faults just below it extend it
)

// Object is what a file-backed VMA maps: the bytes of a file.
type Object interface {
	Name() string
	ReadAt(p []byte, off int64) (int, error)
}

// VMA is one area of virtual memory: a page-aligned range [Start, End) with one protection,
// associated with an object (a file) or anonymous (demand-zero). CS:APP 9.8; Linux's
// struct vm_area_struct.
type VMA struct {
	Start, End uint64
	Prot       Prot
	Flags      VMAFlags
	Obj        Object // nil: anonymous memory
	Off        uint64 // offset in Obj of the byte at Start
	// FileEnd, for a file-backed VMA, is the linear address where the object's contribution
	// ends: bytes at and above it read as zero (the tail of an ELF segment's last file page).
	FileEnd uint64
	Name    string // "[heap]", "[stack]", a path, or "" for anonymous memory
}

func (v *VMA) String() string {
	name := v.Name
	if name == "" && v.Obj != nil {
		name = v.Obj.Name()
	}
	shared := "p"
	if v.Flags&VMShared != 0 {
		shared = "s"
	}
	return fmt.Sprintf("%012x-%012x %s%s %08x %s", v.Start, v.End, v.Prot, shared, v.Off, name)
}

// allows reports whether the VMA permits an access of the given kind. On x86-64 every
// mapping that is not PROT_NONE is readable (there are no write-only or execute-only pages).
func (v *VMA) allows(acc mmu.Access) bool {
	switch {
	case acc&mmu.Fetch != 0:
		return v.Prot&ProtExec != 0
	case acc&mmu.Write != 0:
		return v.Prot&ProtWrite != 0
	}
	return v.Prot != 0
}

// MM is one address space: its page tables (one PML4, one CR3, a PCID) and its VMAs, kept
// sorted by address and non-overlapping. Linux's struct mm_struct.
type MM struct {
	pml4      uint64 // frame of the PML4
	pcid      uint16
	vmas      []*VMA
	brkStart  uint64 // first byte of the heap
	brk       uint64 // current program break
	stackTop  uint64 // end of the stack VMA as execve made it
	needFlush bool   // tables changed while another address space was loaded
}

// VMAs returns the areas, in address order. The slice must not be modified.
func (mm *MM) VMAs() []*VMA { return mm.vmas }

// PML4 returns the frame number of the address space's top-level table.
func (mm *MM) PML4() uint64 { return mm.pml4 }

// PCID returns the address space's process-context identifier.
func (mm *MM) PCID() uint16 { return mm.pcid }

// Brk returns the current program break.
func (mm *MM) Brk() uint64 { return mm.brk }

// index returns the position of the first VMA that ends above va (len(vmas) if none),
// in O(log n).
func (mm *MM) index(va uint64) int {
	return sort.Search(len(mm.vmas), func(i int) bool { return mm.vmas[i].End > va })
}

// Find returns the VMA containing va, or nil.
func (mm *MM) Find(va uint64) *VMA {
	i := mm.index(va)
	if i < len(mm.vmas) && mm.vmas[i].Start <= va {
		return mm.vmas[i]
	}
	return nil
}

// insert adds v, which must not overlap any VMA.
func (mm *MM) insert(v *VMA) {
	i := mm.index(v.Start)
	mm.vmas = append(mm.vmas, nil)
	copy(mm.vmas[i+1:], mm.vmas[i:])
	mm.vmas[i] = v
}

// splitAt makes sure no VMA straddles va: a VMA containing va strictly inside is cut in two.
func (mm *MM) splitAt(va uint64) {
	i := mm.index(va)
	if i == len(mm.vmas) || mm.vmas[i].Start >= va {
		return
	}
	v := mm.vmas[i]
	hi := *v
	hi.Start = va
	if hi.Obj != nil {
		hi.Off += va - v.Start
	}
	v.End = va
	mm.vmas = append(mm.vmas, nil)
	copy(mm.vmas[i+2:], mm.vmas[i+1:])
	mm.vmas[i+1] = &hi
}

// removeRange drops every part of every VMA inside [start, end) from the list and returns
// the removed pieces.
func (mm *MM) removeRange(start, end uint64) []*VMA {
	mm.splitAt(start)
	mm.splitAt(end)
	i := mm.index(start)
	j := i
	for j < len(mm.vmas) && mm.vmas[j].Start < end {
		j++
	}
	removed := append([]*VMA(nil), mm.vmas[i:j]...)
	mm.vmas = append(mm.vmas[:i], mm.vmas[j:]...)
	return removed
}

// pageRoundUp rounds va up to a page boundary.
func pageRoundUp(va uint64) uint64 { return (va + 0xfff) &^ 0xfff }

// pageRoundDown rounds va down to a page boundary.
func pageRoundDown(va uint64) uint64 { return va &^ 0xfff }
