// Package phase says what the emulator is doing right now, for statistical sampling: the
// CPU running guest instructions (TLB searches included), the MMU walking page tables, or
// the kernel (everything outside the CPU's Run). The hardware packages set it at the few
// places where control moves between them; a sampler (emu run --stats) reads it a thousand
// times a second and reports the shares. It knows nothing of what the phases do.
//
// Recording a phase is an atomic exchange, a full memory barrier that costs tens of
// nanoseconds on some hosts, and the MMU does it twice per page walk. So it is done only
// while a sampler runs (StartSampling to StopSampling); otherwise Set is a plain load and
// a predictable branch. A sampler must start before the phases it is to see are entered
// (emu starts it before the guest runs): until the next Set, it reads the phase recorded
// last.
package phase

import "sync/atomic"

// Phase is one of the activities sampled.
type Phase uint32

// The phases.
const (
	Kernel Phase = iota // outside the CPU: the kernel, and emu itself
	CPU                 // the CPU executing instructions, TLB searches included
	MMU                 // the MMU walking page tables (paging-structure caches included)
	NumPhases
)

var (
	current  atomic.Uint32
	samplers atomic.Int32 // samplers running: phases are recorded only when > 0
)

// StartSampling makes Set record phases, for a sampler that is about to read them; each
// call is matched by one StopSampling.
func StartSampling() {
	if samplers.Add(1) == 1 {
		current.Store(uint32(Kernel))
	}
}

// StopSampling ends what StartSampling began.
func StopSampling() { samplers.Add(-1) }

// Sampling reports whether a sampler runs (a plain load): callers on a hot path test it
// before doing anything to record a phase.
func Sampling() bool { return samplers.Load() > 0 }

// Set records that the emulator is now in phase p and returns the phase it was in, for the
// caller to restore. While no sampler runs it records nothing.
func Set(p Phase) Phase {
	if samplers.Load() <= 0 {
		return Phase(current.Load())
	}
	return Phase(current.Swap(uint32(p)))
}

// Current returns the phase the emulator is in (the last one recorded while sampling).
func Current() Phase { return Phase(current.Load()) }
