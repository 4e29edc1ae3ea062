package cpu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// strideLoop reads and writes quadwords (and a byte) in every second page of the data area,
// 24 pages per pass, RCX passes: more pages than a small TLB holds, so entries are evicted.
// It uses each kind of fast memory op.
//
//	outer: mov rdi, rsi ; mov edx, 24
//	inner: add rax, [rdi] ; mov r8, [rdi+16] ; add rax, r8 ; mov [rdi+8], rax
//	       movzx r9d, byte [rdi+3] ; add rax, r9 ; add rdi, 0x2000 ; dec edx ; jnz inner
//	       dec rcx ; jnz outer ; ret
var strideLoop = []byte{
	0x48, 0x89, 0xf7, 0xba, 0x18, 0x00, 0x00, 0x00,
	0x48, 0x03, 0x07, 0x4c, 0x8b, 0x47, 0x10, 0x4c, 0x01, 0xc0, 0x48, 0x89, 0x47, 0x08,
	0x44, 0x0f, 0xb6, 0x4f, 0x03, 0x4c, 0x01, 0xc8, 0x48, 0x81, 0xc7, 0x00, 0x20, 0x00, 0x00,
	0xff, 0xca, 0x75, 0xdf, 0x48, 0xff, 0xc9, 0x75, 0xd2, 0xc3,
}

// tlbSnapshot is everything the TLB model shows.
type tlbSnapshot struct {
	DStats, IStats     tlb.Stats
	DEntries, IEntries []tlb.Entry
	Regs               [16]uint64
	Data               []byte
}

// The fast path's remembered translations are invisible to the TLB model: running with and
// without them gives the same hit and miss counts, the same entries with the same ages, and
// the same results, also when a PTE changes without an INVLPG (the stale entry is used in
// both, until the INVLPG).
func TestFastPathIsInvisibleToTheTLB(t *testing.T) {
	for _, policy := range []tlb.Policy{tlb.LRU, tlb.PLRU} {
		t.Run(policy.String(), func(t *testing.T) {
			var snaps [2]tlbSnapshot
			for mode := 0; mode < 2; mode++ {
				cfg := mmu.DefaultConfig()
				cfg.DTLB = tlb.Config{Name: "DTLB", Entries: 16, Ways: 2, LargeEntries: 4, Policy: policy}
				cfg.ITLB = tlb.Config{Name: "ITLB", Entries: 8, Ways: 2, LargeEntries: 4, Policy: policy}
				tm := newTestMachineConfig(t, cfg)
				tm.cpu.noMicro = mode == 1
				mem := make([]byte, dataPages*4096)
				for i := range mem {
					mem[i] = byte(i * 7)
				}
				r := regsWith(map[int]uint64{RSI: hostcpu.DataAddr, RCX: 5})
				require.True(t, returned(tm.run(strideLoop, &r, mem, 1<<20)))

				// Remap the first data page to a fresh frame without an INVLPG: the
				// loop still reads through the stale entry if it survived, and sees the
				// new frame (zeros) once it is evicted or invalidated.
				tm.mapPage(hostcpu.DataAddr, mmu.PTEWrite|mmu.PTEUser|mmu.PTENoExec)
				r2 := regsWith(map[int]uint64{RSI: hostcpu.DataAddr, RCX: 3})
				require.True(t, returned(tm.run(strideLoop, &r2, nil, 1<<20)))
				tm.mmu.Invlpg(hostcpu.DataAddr)
				r3 := regsWith(map[int]uint64{RSI: hostcpu.DataAddr, RCX: 2, RAX: r2.GPR[RAX]})
				require.True(t, returned(tm.run(strideLoop, &r3, nil, 1<<20)))

				s := &snaps[mode]
				s.DStats, s.IStats = tm.mmu.DTLB.Stats, tm.mmu.ITLB.Stats
				s.DEntries, s.IEntries = tm.mmu.DTLB.Entries(), tm.mmu.ITLB.Entries()
				s.Regs = r3.GPR
				s.Data = make([]byte, 48*4096)
				tm.readVirt(hostcpu.DataAddr, s.Data)
			}
			assert.NotZero(t, snaps[0].DStats.Evictions, "the workload evicts")
			assert.Greater(t, snaps[0].DStats.Hits, uint64(100))
			assert.Equal(t, snaps[1].DStats, snaps[0].DStats, "DTLB statistics")
			assert.Equal(t, snaps[1].IStats, snaps[0].IStats, "ITLB statistics")
			assert.Equal(t, snaps[1].DEntries, snaps[0].DEntries, "DTLB entries and ages")
			assert.Equal(t, snaps[1].IEntries, snaps[0].IEntries, "ITLB entries and ages")
			assert.Equal(t, snaps[1].Regs, snaps[0].Regs)
			assert.Equal(t, snaps[1].Data, snaps[0].Data)
		})
	}
}

// A stale TLB entry is used by the fast path exactly as the TLB model says: after a PTE
// is changed to read-only without INVLPG, stores through the cached writable entry still
// succeed; after INVLPG they fault.
func TestFastPathHonoursStaleEntries(t *testing.T) {
	tm := newTestMachine(t)
	store := []byte{0x48, 0x89, 0x07, 0xc3} // mov [rdi], rax
	r := regsWith(map[int]uint64{RDI: hostcpu.DataAddr, RAX: 1})
	require.True(t, returned(tm.run(store, &r, nil, 10)))

	// Clear R/W in the leaf PTE, as a kernel would, but forget the INVLPG.
	w := tm.mmu.Inspect(hostcpu.DataAddr, mmu.Read)
	leaf := w.Levels[len(w.Levels)-1]
	require.NoError(t, tm.ram.Write64(leaf.EntryAddr, uint64(leaf.Entry&^mmu.PTEWrite)))
	r = regsWith(map[int]uint64{RDI: hostcpu.DataAddr, RAX: 2})
	assert.True(t, returned(tm.run(store, &r, nil, 10)), "the stale writable entry still works")

	tm.mmu.Invlpg(hostcpu.DataAddr)
	r = regsWith(map[int]uint64{RDI: hostcpu.DataAddr, RAX: 3})
	trap := tm.run(store, &r, nil, 10)
	require.Equal(t, uint8(VecPF), trap.Vector, trap.String())
	assert.Equal(t, mmu.ErrPresent|mmu.ErrWrite|mmu.ErrUser, trap.Code)
}

// Steady-state execution allocates nothing: not per instruction, not per TLB-hit load or
// store, not per block.
func TestSteadyStateAllocatesNothing(t *testing.T) {
	tm := newTestMachine(t)
	// loop: add rax, [rsi] ; mov [rsi+8], rax ; xor rax, rdx ; shl rdx, 1 ; add rsi, 16 ;
	//       and rsi, rbx ; or rsi, rdi ; jmp loop   (RSI cycles within 4 KiB of data)
	loop := []byte{0x48, 0x03, 0x06, 0x48, 0x89, 0x46, 0x08, 0x48, 0x31, 0xd0, 0x48, 0xd1, 0xe2,
		0x48, 0x83, 0xc6, 0x10, 0x48, 0x21, 0xde, 0x48, 0x09, 0xfe, 0xeb, 0xe7}
	r := regsWith(map[int]uint64{RSI: hostcpu.DataAddr, RDI: hostcpu.DataAddr, RBX: 0xff0, RDX: 3})
	trap := tm.run(loop, &r, nil, 10_000) // warm up: decode, fill the TLB
	require.Equal(t, TrapBudget, trap.Kind, trap.String())
	before := tm.cpu.Instructions()
	allocs := testing.AllocsPerRun(20, func() { tm.cpu.Run(100_000) })
	insns := tm.cpu.Instructions() - before
	assert.Greater(t, insns, uint64(2_000_000))
	assert.Zero(t, allocs, "allocations per 100,000 instructions")
}

// A run the budget stops inside a block shows the exact state at that instruction, though
// the optimized block drops flag computations nobody later in the block reads: every
// prefix of a block of flag-writing instructions ends with the host's flags and registers.
func TestBudgetStopShowsExactFlags(t *testing.T) {
	tm := newTestMachine(t)
	// add rax, rbx ; sub rcx, rdx ; xor r8, r9 ; shl r10, 3 ; inc r11 ; and r12, r13 ;
	// cmp rax, rcx ; test r8, r8 ; ret
	insts := [][]byte{{0x48, 0x01, 0xd8}, {0x48, 0x29, 0xd1}, {0x4d, 0x31, 0xc8}, {0x49, 0xc1, 0xe2, 0x03},
		{0x49, 0xff, 0xc3}, {0x4d, 0x21, 0xec}, {0x48, 0x39, 0xc8}, {0x4d, 0x85, 0xc0}}
	var code []byte
	for _, in := range insts {
		code = append(code, in...)
	}
	code = append(code, 0xc3)
	in := regsWith(map[int]uint64{RAX: 0xffffffffffffffff, RBX: 1, RCX: 5, RDX: 7, R8: 0x80,
		R9: 0x80, R10: 0x3000000000000001, R11: 0x7fffffffffffffff, R12: 0xf0, R13: 0x0f})
	for k := 1; k <= len(insts); k++ {
		var prefix []byte
		for _, in := range insts[:k] {
			prefix = append(prefix, in...)
		}
		host := in
		require.NoError(t, hostRun(t, append(prefix, 0xc3), &host, nil))
		emu := in
		trap := tm.run(code, &emu, nil, uint64(k))
		require.Equal(t, TrapBudget, trap.Kind)
		const defined = FlagCF | FlagPF | FlagZF | FlagSF | FlagOF // AF is undefined after shl/and/test
		assert.Equal(t, host.RFLAGS&defined, emu.RFLAGS&defined, "flags after %d instructions", k)
		assert.Equal(t, host.GPR[RAX], emu.GPR[RAX])
		assert.Equal(t, host.GPR[R11], emu.GPR[R11])
	}
}
