// Package reclaim holds page-replacement policies: the part of a kernel that decides which
// page to take away when free physical frames run short (CS:APP 9.3.4, OSTEP chapters 21-22).
//
// A policy is a small interface, Policy. The kernel (package minikernel) tells it when a
// frame begins to hold a page that may be reclaimed (Add), when a page fault maps one
// (Fault), and when a frame stops being a candidate (Remove); when the kernel needs frames it
// asks for a victim (Victim), handing the policy a Memory through which it reads what the
// hardware recorded: the accessed (A) and dirty (D) bits the MMU sets in the page-table
// entries that map each frame. Clearing an A bit goes through Memory too, because the kernel
// must then invalidate the TLB entries made from that PTE (the processor does not set A again
// while a TLB entry for the page lives).
//
// The built-in policies are fifo, clock, lru (Linux's active and inactive lists, aged by A
// bits) and random; Register adds one of your own, which --reclaim then selects.
//
// This package models no hardware and knows nothing of processes, areas or files: it sees
// frames only. It must not import the kernel.
package reclaim

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vmemu/vmemu/mmu"
)

// Frame is a physical frame number: the page at physical address Frame<<12.
type Frame uint64

func (f Frame) String() string { return fmt.Sprintf("%#x", uint64(f)) }

// Policy chooses which pages to reclaim. The kernel calls it from one goroutine at a time,
// in a deterministic order: a policy that depends only on its calls and on Memory (Rand
// included) makes every run with the same input the same.
type Policy interface {
	// Name is the name --reclaim selects the policy by.
	Name() string
	// Add says frame f now holds a page the kernel may reclaim: a page of a process's
	// memory (demand-zero, a copy-on-write copy, a page read back from swap) or of the page
	// cache (a file's page). Frames are added in the order they are filled.
	Add(f Frame)
	// Fault says a page fault has just mapped f into a process: major when the page had
	// to be read (from swap or from a file), minor when it was in memory already. A new
	// page is added before its fault is reported.
	Fault(f Frame, major bool)
	// Remove says f is no longer a candidate: it was reclaimed, freed (the process unmapped
	// it or exited) or locked in memory (mlock). The policy forgets it. Remove may name a
	// frame the policy does not hold; it then does nothing.
	Remove(f Frame)
	// Victim picks the next frame to reclaim among those added and not removed, and says
	// why in a few words (the trace shows it). It should pass over frames that
	// m.Reclaimable rejects. ok is false when it finds none. The kernel then reclaims the
	// frame and calls Remove; Victim must not remove it itself.
	Victim(m Memory) (f Frame, why string, ok bool)
}

// Memory is what a policy may learn about a frame from the kernel and the hardware. Each
// call that names a frame counts it as scanned in the statistics.
type Memory interface {
	// Referenced reports whether the processor used the page since its accessed bit was
	// last cleared: whether A is set in some page-table entry that maps f. A page only in
	// the page cache (mapped by no process) reports whether it was read or written since
	// it was last looked at (Linux's PG_referenced); its flag is not cleared by this call.
	Referenced(f Frame) bool
	// ClearReferenced is Referenced that also clears what it read: the A bit of every PTE
	// mapping f, and invalidates the TLB entries made from them on every CPU (a shootdown
	// when several hold them), so the next access sets A again. Linux's
	// folio_referenced() with ptep_clear_flush_young().
	ClearReferenced(f Frame) bool
	// Dirty reports whether the page must be written before its frame is reused: D set in
	// a PTE of a file page, or an anonymous page that swap does not hold a copy of.
	Dirty(f Frame) bool
	// PTEs appends the leaf page-table entries that map f now (the reverse map) to buf and
	// returns it. Read them with mmu.PTE's bits: pte&mmu.PTEAccessed, pte&mmu.PTEDirty.
	PTEs(f Frame, buf []mmu.PTE) []mmu.PTE
	// Reclaimable reports whether the kernel can take f now. It cannot take a page locked
	// in memory (mlock), a page the kernel is using this moment, or an anonymous page when
	// swap is absent or full.
	Reclaimable(f Frame) bool
	// Anonymous reports whether f holds anonymous memory (which goes to swap) rather than
	// a file's page (dropped, after being written back when dirty).
	Anonymous(f Frame) bool
	// Rand returns a pseudo-random number in [0, n): the same sequence in every run with
	// the same --seed.
	Rand(n int) int
}

// Default is the policy --reclaim selects when not given. Linux's lru (two lists aged by
// accessed bits) is the default because it is what the kernel students compare with does,
// and on the included programs it faults least of the built-in policies (README "Memory
// pressure").
const Default = "lru"

var registry = map[string]func() Policy{}

// Register makes a policy selectable by name (--reclaim NAME). newPolicy is called once per
// machine. Call it from an init function; registering a name twice panics.
func Register(name string, newPolicy func() Policy) {
	if _, dup := registry[name]; dup {
		panic("reclaim: policy " + name + " registered twice")
	}
	registry[name] = newPolicy
}

// New returns a fresh policy by name.
func New(name string) (Policy, error) {
	f, ok := registry[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return nil, fmt.Errorf("no replacement policy %q (want %s)", name, strings.Join(Names(), ", "))
	}
	return f(), nil
}

// Names lists the registered policies, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
