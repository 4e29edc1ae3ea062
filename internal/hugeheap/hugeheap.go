// Package hugeheap asks the host kernel to back the start of Go's heap with huge pages, as
// early in the program's start as a package can run: importing it is enough.
//
// Why: on some hosts (virtual machines especially) a page fault costs 10-30 µs, and a
// command's start touches its first few MiB of heap one 4 KiB page at a time: a few hundred
// faults, most of a short run's CPU time. Linux set to transparent huge pages "madvise"
// (the common default) gives a 2 MiB page at one fault only to memory marked
// MADV_HUGEPAGE, and Go's runtime does not mark its heap. This package's init marks the
// heap arena (64 MiB, aligned) its own allocation lands in, and collapses the 2 MiB
// pieces the runtime has started to use into huge pages (MADV_COLLAPSE, Linux 6.1), so the
// rest of the heap mapped so far costs no more faults. Heap the runtime maps later
// (it grows in 4 MiB chunks, each a fresh mapping) keeps the kernel's default until
// Advise is called again (a command calls it once its big start-up allocations are done).
//
// It imports nothing, so Go initialises it before the standard library's packages that
// import others (packages are initialised in import-path order as soon as their imports
// are). The system calls are made directly (no package syscall), and any error (an older
// kernel, huge pages disabled) is ignored: it is only advice.
package hugeheap

const (
	arena   = 64 << 20 // the runtime's heap arena (heapArenaBytes on linux/amd64), aligned
	huge    = 2 << 20  // an x86-64 huge page
	adviseH = 14       // MADV_HUGEPAGE
	adviseC = 25       // MADV_COLLAPSE
	window  = 8 << 20  // how far above the probe Advise looks (half as far below)
)

// probe is a heap allocation: where it lands is in the heap's current arena, near the
// heap's growing end.
var probe *[64]byte

func init() { Advise() }

// Advise marks the heap arena for huge pages and collapses into huge pages the 2 MiB
// pieces around the heap's growing end that are partly resident. It is a few system calls,
// and a few tenths of a millisecond for each collapse.
func Advise() {
	if !enabled {
		return
	}
	probe = new([64]byte)
	p := addrOf(probe)
	probe = nil
	base := p &^ (arena - 1)
	madvise(base, arena, adviseH)
	// The heap at start is a few MiB, growing upwards: look around the probe.
	lo, hi := max(p&^(huge-1)-window/2, base), min(p&^(huge-1)+window, base+arena)
	var resident [huge >> 12]byte
	for h := lo; h < hi; h += huge {
		if mincore(h, huge, &resident) != 0 {
			continue
		}
		n := 0
		for _, r := range resident {
			n += int(r & 1)
		}
		if n > 0 && n < len(resident) {
			madvise(h, huge, adviseC)
		}
	}
}
