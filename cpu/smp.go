package cpu

import (
	"errors"
	"math/bits"

	"github.com/vmemu/vmemu/mmu"
)

// Several processors over one RAM. Each CPU has its own registers, its own MMU (CR3, CR4,
// TLBs with their PCIDs) and its own decoded-code cache; a store by any of them, or by the
// kernel, into a frame holding decoded code drops that code from every CPU's cache, as
// snooping keeps real instruction caches coherent (SDM Vol. 3A 8.1.3: self- and
// cross-modifying code).
//
// Interrupts between processors (IPIs) are what a local APIC delivers: the sender posts a
// vector in the target's interrupt-request register, and the target takes it at an
// instruction boundary, before its next instruction, calling the handler its kernel
// installed. No instruction is ever split by an interrupt. The machine runs its CPUs one at
// a time in a fixed interleaving, so an instruction, LOCK-prefixed or not, is atomic with
// respect to the other CPUs by construction; a kernel that must wait for a target to act
// (a TLB shootdown) has it service its pending interrupts while it waits
// (ServiceInterrupts), the target being stopped at a boundary.

// VecCallFunction is the vector Linux uses for a function call on other CPUs
// (CALL_FUNCTION_VECTOR, arch/x86/include/asm/irq_vectors.h), which carries TLB shootdowns.
const VecCallFunction = 0xfb

// NewSMP builds one CPU over each MMU. The MMUs must share one RAM, whose code snoop is then
// wired to every CPU's decoded-code cache. CPU i gets number i (SetID).
func NewSMP(ms []*mmu.MMU) ([]*CPU, error) {
	if len(ms) == 0 {
		return nil, errors.New("cpu: no MMU for a CPU")
	}
	cpus := make([]*CPU, len(ms))
	for i, m := range ms {
		if m.RAM() != ms[0].RAM() {
			return nil, errors.New("cpu: the CPUs of one machine must share its RAM")
		}
		cpus[i] = New(m)
		cpus[i].SetID(uint32(i))
	}
	if len(cpus) > 1 {
		ms[0].RAM().SetCodeSnoop(func(pfn uint64) {
			for _, c := range cpus {
				c.invalidateFrame(pfn)
			}
		})
	}
	return cpus, nil
}

// SetID sets the CPU's number: its initial APIC ID (CPUID.01H:EBX[31:24]) and IA32_TSC_AUX,
// which RDTSCP loads into ECX (Linux stores the CPU number there, which is how sched_getcpu
// can read it in user mode).
func (c *CPU) SetID(id uint32) { c.id = id }

// ID returns the CPU's number.
func (c *CPU) ID() uint32 { return c.id }

// SetTSCOffset sets what the time-stamp counter adds to the instructions retired, in ticks
// (IA32_TSC_ADJUST): a kernel keeps the TSCs of its CPUs in step with its clock this way,
// counting the time a CPU sat idle.
func (c *CPU) SetTSCOffset(ticks uint64) { c.tscOffset = ticks }

// SetInterruptHandler installs the function that takes the CPU's interrupts (the kernel's
// interrupt descriptor table, as far as this machine needs one). It runs at an instruction
// boundary with the interrupted state in the CPU.
func (c *CPU) SetInterruptHandler(h func(vector uint8)) { c.intr = h }

// RaiseInterrupt posts vector in the CPU's interrupt-request register; the CPU takes it
// before its next instruction. Posting a vector already pending has no further effect.
func (c *CPU) RaiseInterrupt(vector uint8) {
	c.irr[vector>>6] |= 1 << (vector & 63)
	c.irrPending = true
}

// InterruptPending reports whether an interrupt is posted and not yet taken.
func (c *CPU) InterruptPending() bool { return c.irrPending }

// ServiceInterrupts takes the pending interrupts, highest vector first (the APIC's priority
// order), calling the handler for each. Run calls it before the first instruction; a kernel
// waiting for this CPU to act calls it while the CPU is stopped between instructions. It
// returns how many it took.
func (c *CPU) ServiceInterrupts() int {
	n := 0
	for c.irrPending {
		c.irrPending = false
		for w := len(c.irr) - 1; w >= 0; w-- {
			for c.irr[w] != 0 {
				b := 63 - bits.LeadingZeros64(c.irr[w])
				c.irr[w] &^= 1 << b
				n++
				c.stats.Interrupts++
				if c.intr != nil {
					c.intr(uint8(w*64 + b))
				}
			}
		}
	}
	return n
}
