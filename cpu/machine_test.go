package cpu

import (
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/ram"
)

// testMachine is a CPU over page tables that map hostcpu's code, data and stack areas at
// the same linear addresses as on the host, so a snippet sees identical addresses in both.
type testMachine struct {
	t    *testing.T
	ram  *ram.RAM
	mmu  *mmu.MMU
	cpu  *CPU
	pml4 uint64
	next uint64 // bump frame allocator
}

// sentinel is the return address of a snippet: unmapped, so RET to it ends the run with a
// fetch fault there.
const sentinel = 0xdead_0000

const (
	codePages  = 16
	dataPages  = 64
	stackPages = 16
)

func newTestMachine(t *testing.T) *testMachine {
	t.Helper()
	return newTestMachineConfig(t, mmu.DefaultConfig())
}

// newTestMachineConfig is newTestMachine with the given TLB geometry.
func newTestMachineConfig(t *testing.T, cfg mmu.Config) *testMachine {
	t.Helper()
	r, err := ram.New(64 << 20)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	m, err := mmu.New(r, cfg)
	require.NoError(t, err)
	tm := &testMachine{t: t, ram: r, mmu: m, next: 1}
	tm.pml4 = tm.alloc()
	for i := uint64(0); i < codePages; i++ {
		tm.mapPage(hostcpu.CodeAddr+i*4096, mmu.PTEWrite|mmu.PTEUser)
	}
	for i := uint64(0); i < dataPages; i++ {
		tm.mapPage(hostcpu.DataAddr+i*4096, mmu.PTEWrite|mmu.PTEUser|mmu.PTENoExec)
	}
	for i := uint64(1); i <= stackPages; i++ {
		tm.mapPage(hostcpu.StackTop-i*4096, mmu.PTEWrite|mmu.PTEUser|mmu.PTENoExec)
	}
	require.NoError(t, m.EnableLongMode(tm.pml4<<12, mmu.CR4PGE))
	tm.cpu = New(m)
	return tm
}

func (tm *testMachine) alloc() uint64 {
	f := tm.next
	tm.next++
	return f
}

// mapPage maps va to a fresh frame with the given leaf flags (P is added).
func (tm *testMachine) mapPage(va uint64, flags mmu.PTE) uint64 {
	table := tm.pml4
	for level := 4; level > 1; level-- {
		ea := table<<12 + (va>>(12+9*uint(level-1))&511)*8
		e, err := tm.ram.Read64(ea)
		require.NoError(tm.t, err)
		if e&1 == 0 {
			e = tm.alloc()<<12 | uint64(mmu.PTEPresent|mmu.PTEWrite|mmu.PTEUser)
			require.NoError(tm.t, tm.ram.Write64(ea, e))
		}
		table = mmu.PTE(e).Frame()
	}
	frame := tm.alloc()
	require.NoError(tm.t, tm.ram.Write64(table<<12+(va>>12&511)*8, frame<<12|uint64(flags|mmu.PTEPresent)))
	return frame
}

// writeVirt stores b at linear address va through the page tables (no TLB).
func (tm *testMachine) writeVirt(va uint64, b []byte) {
	for len(b) > 0 {
		w := tm.mmu.Inspect(va, mmu.Write)
		require.True(tm.t, w.OK, "writeVirt %#x", va)
		n := min(len(b), int(4096-va&0xfff))
		require.NoError(tm.t, tm.ram.Write(w.PA, b[:n]))
		b, va = b[n:], va+uint64(n)
	}
}

func (tm *testMachine) readVirt(va uint64, b []byte) {
	for len(b) > 0 {
		w := tm.mmu.Inspect(va, mmu.Read)
		require.True(tm.t, w.OK, "readVirt %#x", va)
		n := min(len(b), int(4096-va&0xfff))
		require.NoError(tm.t, tm.ram.Read(w.PA, b[:n]))
		b, va = b[n:], va+uint64(n)
	}
}

// run executes snippet (ending in RET) with registers r and data mem, as hostcpu.Run does,
// and returns the trap that ended it. On a clean return, r and mem hold the results.
func (tm *testMachine) run(snippet []byte, r *hostcpu.Regs, mem []byte, budget uint64) Trap {
	tm.writeVirt(hostcpu.CodeAddr, snippet)
	if len(mem) > 0 {
		tm.writeVirt(hostcpu.DataAddr, mem)
	}
	var ret [8]byte
	for i := range ret {
		ret[i] = byte(uint64(sentinel) >> (8 * i))
	}
	tm.writeVirt(hostcpu.EntryRSP, ret[:])
	var s State
	s.GPR = r.GPR
	s.GPR[RSP] = hostcpu.EntryRSP
	s.RIP = hostcpu.CodeAddr
	s.RFLAGS = r.RFLAGS
	tm.cpu.Load(&s)
	t := tm.cpu.Run(budget)
	tm.cpu.Save(&s)
	r.GPR = s.GPR
	r.RFLAGS = s.RFLAGS
	if len(mem) > 0 {
		tm.readVirt(hostcpu.DataAddr, mem)
	}
	return t
}

// returned reports whether t is the fetch fault at the sentinel that a final RET causes.
func returned(t Trap) bool {
	return t.Kind == TrapException && t.Vector == VecPF && t.Addr == sentinel
}

// searchSize returns how many cases per template a random differential test runs, and its
// seed: n (short in -short mode) and seed, unless the environment variables NAME_ITERS and
// NAME_SEED ask for a longer or different search, run by hand.
func searchSize(name string, n, short int, seed uint64) (int, uint64) {
	if testing.Short() {
		n = short
	}
	if v, err := strconv.Atoi(os.Getenv(name + "_ITERS")); err == nil {
		n = v
	}
	if v, err := strconv.ParseUint(os.Getenv(name+"_SEED"), 0, 64); err == nil {
		seed = v
	}
	return n, seed
}
