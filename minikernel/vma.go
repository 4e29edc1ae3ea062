package minikernel

import (
	"fmt"
	"sort"

	"github.com/vmemu/vmemu/loader"
	"github.com/vmemu/vmemu/mmu"
)

// Virtual memory areas: CS:APP 9.7.2 and 9.8, Linux's struct vm_area_struct and the VMA tree
// of mm/mmap.c and mm/vma.c. An address space is a sorted set of non-overlapping areas; each
// area has one protection and one backing (anonymous memory, or an object at an offset).

// Prot is a VMA's protection: Linux's PROT_* bits, the same type the ELF loader plans
// segments with, so a segment's protection maps unchanged.
type Prot = loader.Prot

// Protection bits.
const (
	ProtRead  = loader.ProtRead
	ProtWrite = loader.ProtWrite
	ProtExec  = loader.ProtExec
)

// VMAFlags describe how a VMA behaves.
type VMAFlags uint16

// VMA flags.
const (
	VMShared    VMAFlags = 1 << iota // MAP_SHARED: stores reach the object and other mappings
	VMGrowsDown                      // the stack, or MAP_GROWSDOWN: faults just below it extend it
	// VMDenyWrite: mprotect may not add PROT_WRITE. Linux's absent VM_MAYWRITE: a shared
	// mapping of a file opened without write access.
	VMDenyWrite
	VMDontCopy   // MADV_DONTFORK: fork leaves this area out of the child (VM_DONTCOPY)
	VMWipeOnFork // MADV_WIPEONFORK: the child gets this area empty (VM_WIPEONFORK)
	VMNoReserve  // MAP_NORESERVE: not counted against free memory (VM_NORESERVE)
	// VMLocked: mlock, mlockall or MAP_LOCKED: the pages are faulted in and never
	// reclaimed; the area counts against RLIMIT_MEMLOCK (VM_LOCKED, mlock.go).
	VMLocked
	VMLockOnFault // mlock2(MLOCK_ONFAULT), mlockall(MCL_ONFAULT): locked as faulted in
	// VMDroppable: MAP_DROPPABLE: the pages may be dropped under memory pressure (they then
	// read as zeros), are never swapped, not copied by fork, never locked (VM_DROPPABLE).
	VMDroppable
	// VMUffdMissing, VMUffdWP, VMUffdMinor: the area is registered with a userfaultfd
	// (VMA.uffd) for missing pages, write-protected pages, minor faults (userfaultfd.go).
	VMUffdMissing
	VMUffdWP
	VMUffdMinor
)

// vmUffd is every userfaultfd registration flag.
const vmUffd = VMUffdMissing | VMUffdWP | VMUffdMinor

// Object is what a file-backed VMA maps: the bytes of a file or of a shared-memory object.
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
	Obj        Object // nil: private anonymous memory
	Off        uint64 // offset in Obj of the byte at Start (page-aligned)
	// FileEnd, when not zero, is the linear address where a private file mapping's bytes
	// end: bytes at and above it read as zero (the tail of an ELF segment's last file page,
	// which Linux's padzero() clears).
	FileEnd uint64
	Name    string // "[heap]", "[stack]", a path, or "" for anonymous memory
	// uffd is the userfaultfd the area is registered with (Flags say for what), or nil.
	uffd *userfaultCtx
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
// Linux's arch/x86/mm/fault.c:access_error().
func (v *VMA) allows(acc mmu.Access) bool {
	switch {
	case acc&mmu.Fetch != 0:
		return v.Prot&ProtExec != 0
	case acc&mmu.Write != 0:
		return v.Prot&ProtWrite != 0
	}
	return v.Prot != 0
}

// shared reports whether stores reach the object (MAP_SHARED).
func (v *VMA) shared() bool { return v.Flags&VMShared != 0 }

// file returns the open file the VMA maps, or nil for anonymous memory.
func (v *VMA) file() *File {
	f, _ := v.Obj.(*File)
	return f
}

// pgoff returns the object page index that va falls in.
func (v *VMA) pgoff(va uint64) uint64 { return (v.Off + (va - v.Start)) >> 12 }

// MM is one address space: its page tables (one PML4, one CR3, a PCID) and its VMAs, kept
// sorted by address and non-overlapping. Linux's struct mm_struct.
type MM struct {
	pml4     uint64 // frame of the PML4
	pcid     uint16
	vmas     []*VMA
	brkStart uint64 // first byte of the heap
	brk      uint64 // current program break
	stackTop uint64 // end of the stack VMA as execve made it
	mmapBase uint64 // top of the top-down mmap area (mm/util.c:mmap_base())

	// users counts the tasks using the address space (a process's threads, a vfork child):
	// it is torn down when the last one lets go (Linux's mm_users).
	users int
	// The TLB bookkeeping of several CPUs (smp.go): the generation of the page tables, the
	// generation each CPU's TLB is up to date with, and the CPUs whose CR3 holds them.
	tlbGen  uint64
	cpuGen  []uint64
	cpumask uint64
	// exec holds the executable and its interpreter while the address space runs them
	// (Linux's mm->exe_file and the interpreter's deny_write_access): their inodes refuse
	// writers with ETXTBSY (denyWrite).
	exec []*File

	// Switches prctl sets on the address space (prctl.go).
	defFlags         VMAFlags // flags every new area gets: VMLocked after mlockall(MCL_FUTURE)
	mdwe             uint8    // PR_SET_MDWE bits: memory-deny-write-execute
	undumpable       bool     // PR_SET_DUMPABLE 0
	thpDisable       bool     // PR_SET_THP_DISABLE
	membarrier       uint8    // membarrier registrations (membarrier.go)
	auxv             []byte   // the auxiliary vector execve gave the program (PR_GET_AUXV, /proc/PID/auxv)
	argStart, argEnd uint64   // where execve put the argument strings (/proc/PID/cmdline)
	envStart, envEnd uint64   // and the environment strings (/proc/PID/environ)
	hiwaterRSS       uint64   // the largest resident set seen, in pages (procgen.go)
	hiwaterVM        uint64   // the largest size seen, in pages
}

// VMAs returns the areas, in address order. The slice must not be modified.
func (mm *MM) VMAs() []*VMA { return mm.vmas }

// PML4 returns the frame number of the address space's top-level table.
func (mm *MM) PML4() uint64 { return mm.pml4 }

// PCID returns the address space's process-context identifier.
func (mm *MM) PCID() uint16 { return mm.pcid }

// Brk returns the current program break.
func (mm *MM) Brk() uint64 { return mm.brk }

// MmapBase returns the address below which mmap places new areas, top-down.
func (mm *MM) MmapBase() uint64 { return mm.mmapBase }

// index returns the position of the first VMA that ends above va (len(vmas) if none),
// in O(log n). Linux's find_vma().
func (mm *MM) index(va uint64) int {
	return sort.Search(len(mm.vmas), func(i int) bool { return mm.vmas[i].End > va })
}

// Find returns the VMA containing va, or nil. O(log n).
func (mm *MM) Find(va uint64) *VMA {
	i := mm.index(va)
	if i < len(mm.vmas) && mm.vmas[i].Start <= va {
		return mm.vmas[i]
	}
	return nil
}

// intersects reports whether any VMA overlaps [start, end).
func (mm *MM) intersects(start, end uint64) bool {
	i := mm.index(start)
	return i < len(mm.vmas) && mm.vmas[i].Start < end
}

// covered reports whether VMAs cover every byte of [start, end) with no hole.
func (mm *MM) covered(start, end uint64) bool {
	for i := mm.index(start); start < end; i++ {
		if i == len(mm.vmas) || mm.vmas[i].Start > start {
			return false
		}
		start = mm.vmas[i].End
	}
	return true
}

// insert adds v, which must not overlap any VMA, and returns its position.
func (mm *MM) insert(v *VMA) int {
	i := mm.index(v.Start)
	mm.vmas = append(mm.vmas, nil)
	copy(mm.vmas[i+1:], mm.vmas[i:])
	mm.vmas[i] = v
	return i
}

// splitAt makes sure no VMA straddles va: a VMA containing va strictly inside is cut in two,
// the upper half taking its own reference to the object. Linux's __split_vma().
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
		hi.file().get()
	}
	if v.FileEnd != 0 && v.FileEnd <= va {
		v.FileEnd = 0 // the lower half ends before the tail
	}
	if hi.FileEnd != 0 && hi.FileEnd >= hi.End {
		hi.FileEnd = 0
	}
	v.End = va
	mm.vmas = append(mm.vmas, nil)
	copy(mm.vmas[i+2:], mm.vmas[i+1:])
	mm.vmas[i+1] = &hi
}

// removeRange drops every part of every VMA inside [start, end) from the list and returns
// the removed pieces, each still holding its reference to its object.
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

// mergeable reports whether b can be folded into a, the area just below it: the same
// protection, flags, name and backing, and (for an object) contiguous offsets. Linux's
// is_mergeable_vma() and can_vma_merge_after().
func mergeable(a, b *VMA) bool {
	if a.End != b.Start || a.Prot != b.Prot || a.Flags != b.Flags || a.Obj != b.Obj ||
		a.Name != b.Name || a.uffd != b.uffd || a.FileEnd != 0 || b.FileEnd != 0 {
		return false
	}
	return a.Obj == nil || a.Off+(a.End-a.Start) == b.Off
}

// mergeRange folds compatible neighbours together across [start, end] (the VMA just below
// start included) after an operation changed the areas there, dropping the references the
// absorbed areas held. Linux's vma_merge_new_range() and vma_modify() merge the same way.
func (mm *MM) mergeRange(start, end uint64) {
	i := mm.index(start)
	if i > 0 {
		i--
	}
	for i+1 < len(mm.vmas) && mm.vmas[i+1].Start <= end {
		a, b := mm.vmas[i], mm.vmas[i+1]
		if !mergeable(a, b) {
			i++
			continue
		}
		a.End = b.End
		b.file().put()
		mm.vmas = append(mm.vmas[:i+1], mm.vmas[i+2:]...)
	}
}

// pageRoundUp rounds va up to a page boundary.
func pageRoundUp(va uint64) uint64 { return (va + 0xfff) &^ 0xfff }

// pageRoundDown rounds va down to a page boundary.
func pageRoundDown(va uint64) uint64 { return va &^ 0xfff }
