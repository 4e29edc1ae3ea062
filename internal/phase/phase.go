// Package phase says what the emulator is doing right now, for statistical sampling: the
// CPU running guest instructions (TLB searches included), the MMU walking page tables, or
// the kernel (everything outside the CPU's Run). The hardware
// packages set it at the few places where control moves between them (a plain atomic store,
// about a nanosecond); a sampler (emu run --stats) reads it a thousand times a second and
// reports the shares. It knows nothing of what the phases do.
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

var current atomic.Uint32

// Set records that the emulator is now in phase p and returns the phase it was in.
func Set(p Phase) Phase { return Phase(current.Swap(uint32(p))) }

// Current returns the phase the emulator is in.
func Current() Phase { return Phase(current.Load()) }
