package cpu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
	"github.com/vmemu/vmemu/mmu"
)

// twoCPUs is a test machine with a second CPU over the same RAM and page tables.
func twoCPUs(t *testing.T) (*testMachine, []*CPU) {
	tm := newTestMachine(t)
	m2, err := mmu.New(tm.ram, mmu.DefaultConfig())
	require.NoError(t, err)
	require.NoError(t, m2.EnableLongMode(tm.pml4<<12, mmu.CR4PGE))
	cpus, err := NewSMP([]*mmu.MMU{tm.mmu, m2})
	require.NoError(t, err)
	return tm, cpus
}

// A store by one CPU into a frame whose code another CPU has decoded drops that CPU's
// decoded copy too (cross-modifying code, SDM Vol. 3A 8.1.3): it runs the new bytes.
func TestCrossModifyingCodeReachesEveryCPU(t *testing.T) {
	tm, cpus := twoCPUs(t)
	code := uint64(hostcpu.CodeAddr)
	tm.writeVirt(code, []byte{0xb8, 1, 0, 0, 0, 0x0f, 0x05}) // mov eax, 1; syscall
	// At code+0x800: mov byte [code+1], 2; syscall
	tm.writeVirt(code+0x800, []byte{0xc6, 0x04, 0x25, byte(code + 1), byte((code + 1) >> 8), byte((code + 1) >> 16),
		byte((code + 1) >> 24), 2, 0x0f, 0x05})

	c0, c1 := cpus[0], cpus[1]
	c0.SetRIP(code)
	require.Equal(t, TrapSyscall, c0.Run(100).Kind)
	require.Equal(t, uint64(1), c0.Reg(RAX), "CPU 0 decoded and ran the first bytes")

	c1.SetRIP(code + 0x800)
	require.Equal(t, TrapSyscall, c1.Run(100).Kind, "CPU 1 stores into CPU 0's code")

	c0.SetRIP(code)
	require.Equal(t, TrapSyscall, c0.Run(100).Kind)
	assert.Equal(t, uint64(2), c0.Reg(RAX), "CPU 0 runs the bytes CPU 1 wrote, not its stale decode")
	assert.NotZero(t, c0.Stats().CodeInvalid)
}

// An interrupt posted to a CPU is taken at the instruction boundary before its next
// instruction, highest vector first, each once; ServiceInterrupts takes them at once.
func TestInterruptsAreTakenAtABoundary(t *testing.T) {
	tm, cpus := twoCPUs(t)
	c := cpus[1]
	var got []uint8
	c.SetInterruptHandler(func(v uint8) { got = append(got, v) })
	c.RaiseInterrupt(0x30)
	c.RaiseInterrupt(VecCallFunction)
	c.RaiseInterrupt(VecCallFunction) // already pending: one interrupt
	assert.True(t, c.InterruptPending())
	tm.writeVirt(hostcpu.CodeAddr, []byte{0x0f, 0x05}) // syscall
	c.SetRIP(hostcpu.CodeAddr)
	require.Equal(t, TrapSyscall, c.Run(10).Kind)
	assert.Equal(t, []uint8{VecCallFunction, 0x30}, got, "taken before the first instruction, by priority")
	assert.False(t, c.InterruptPending())
	c.RaiseInterrupt(0x41)
	assert.Equal(t, 1, c.ServiceInterrupts())
	assert.Equal(t, uint8(0x41), got[2])
	assert.Equal(t, uint64(3), c.Stats().Interrupts)
}

// Each CPU knows its number: RDTSCP loads it from IA32_TSC_AUX into ECX, CPUID.01H:EBX[31:24]
// is its initial APIC ID; and its TSC counts the offset the kernel set (idle time).
func TestEachCPUKnowsItsNumber(t *testing.T) {
	tm, cpus := twoCPUs(t)
	c := cpus[1]
	tm.writeVirt(hostcpu.CodeAddr, []byte{0x0f, 0x01, 0xf9, 0x48, 0x89, 0xcb, 0x0f, 0x05}) // rdtscp; mov rbx, rcx; syscall
	c.SetTSCOffset(1000 * TSCPerInstruction)
	c.SetRIP(hostcpu.CodeAddr)
	require.Equal(t, TrapSyscall, c.Run(10).Kind)
	assert.Equal(t, uint64(1), c.Reg(RBX), "IA32_TSC_AUX: the CPU number")
	assert.Equal(t, uint64(1000*TSCPerInstruction), c.Reg(RAX)|c.Reg(RDX)<<32, "0 instructions before it, plus the offset")
	_, ebx, _, _ := c.cpuidLeaf(1, 0)
	assert.Equal(t, uint32(1), ebx>>24, "initial APIC ID")
	_, ebx, _, _ = cpus[0].cpuidLeaf(1, 0)
	assert.Equal(t, uint32(0), ebx>>24)
}
