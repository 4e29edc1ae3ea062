package cpu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// straddleLoop is a loop whose head, ADD RAX, 1 (48 83 C0 01), straddles the end of the
// first code page: it runs RCX times and returns.
func straddleLoop() []byte {
	code := make([]byte, 4096+8)
	code[0] = 0xe9 // jmp rel32 to the loop head at 4094
	rel := uint32(4094 - 5)
	code[1], code[2], code[3], code[4] = byte(rel), byte(rel>>8), byte(rel>>16), byte(rel>>24)
	copy(code[4094:], []byte{
		0x48, 0x83, 0xc0, 0x01, // 4094: add rax, 1 (crosses into the second page)
		0x48, 0xff, 0xc9, // 4098: dec rcx
		0x75, 0xf7, // 4101: jnz 4094
		0xc3, // ret
	})
	return code
}

// An instruction that straddles a page end is decoded once and then runs from the cache,
// fetching through both pages each time (two ITLB lookups, as the hardware makes); a store
// into either page, or a new mapping of the second page, is seen at once.
func TestStraddlingInstructionIsCachedAndCoherent(t *testing.T) {
	tm := newTestMachine(t)
	r := regsWith(map[int]uint64{RCX: 1000})
	require.True(t, returned(tm.run(straddleLoop(), &r, nil, 1<<20)))
	assert.Equal(t, uint64(1000), r.GPR[RAX])
	s := tm.cpu.Stats()
	assert.Less(t, s.BlocksDecoded, uint64(10), "the straddling block is decoded once, not per iteration")
	itlb := tm.mmu.ITLB.Stats
	assert.GreaterOrEqual(t, itlb.Hits+itlb.Misses, uint64(3*1000), "each iteration fetches through both pages and the DEC/JNZ block")

	// A store into the second page changes the immediate: ADD RAX, 2.
	second := uint64(hostcpu.CodeAddr + 4096)
	w := tm.mmu.Inspect(second, mmu.Read)
	require.True(t, w.OK)
	require.NoError(t, tm.ram.Write(w.PA+1, []byte{0x02}))
	r = regsWith(map[int]uint64{RCX: 10})
	tm.cpu.SetRIP(hostcpu.CodeAddr)
	require.True(t, returned(tm.runLoaded(&r)))
	assert.Equal(t, uint64(20), r.GPR[RAX], "the store into the second page was seen")

	// Map the second page to a new frame holding ADD RAX, 3 and invalidate it.
	frame := tm.alloc()
	page := make([]byte, 4096)
	copy(page, []byte{0xc0, 0x03, 0x48, 0xff, 0xc9, 0x75, 0xf7, 0xc3})
	require.NoError(t, tm.ram.Write(frame<<12, page))
	tm.setPTE(second, frame<<12|uint64(mmu.PTEPresent|mmu.PTEWrite|mmu.PTEUser))
	tm.mmu.Invlpg(second)
	r = regsWith(map[int]uint64{RCX: 10})
	require.True(t, returned(tm.runLoaded(&r)))
	assert.Equal(t, uint64(30), r.GPR[RAX], "the new mapping of the second page was fetched")
}

// runLoaded runs from the start of the code area without rewriting it.
func (tm *testMachine) runLoaded(r *hostcpu.Regs) Trap {
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
	t := tm.cpu.Run(1 << 20)
	tm.cpu.Save(&s)
	r.GPR = s.GPR
	return t
}

// setPTE rewrites the leaf PTE of va (which must be mapped).
func (tm *testMachine) setPTE(va, pte uint64) {
	table := tm.pml4
	for level := 4; level > 1; level-- {
		e, err := tm.ram.Read64(table<<12 + (va>>(12+9*uint(level-1))&511)*8)
		require.NoError(tm.t, err)
		table = mmu.PTE(e).Frame()
	}
	require.NoError(tm.t, tm.ram.Write64(table<<12+(va>>12&511)*8, pte))
}

// Running the straddling loop through the remembered translations or through the TLB
// every time gives the same ITLB statistics and entries.
func TestStraddlingFetchIsInvisibleToTheTLB(t *testing.T) {
	var stats [2]tlb.Stats
	var entries [2][]tlb.Entry
	for mode := 0; mode < 2; mode++ {
		cfg := mmu.DefaultConfig()
		cfg.ITLB = tlb.Config{Name: "ITLB", Entries: 8, Ways: 2, LargeEntries: 4, Policy: tlb.LRU}
		tm := newTestMachineConfig(t, cfg)
		tm.cpu.noMicro = mode == 1
		r := regsWith(map[int]uint64{RCX: 300})
		require.True(t, returned(tm.run(straddleLoop(), &r, nil, 1<<20)))
		require.Equal(t, uint64(300), r.GPR[RAX])
		stats[mode], entries[mode] = tm.mmu.ITLB.Stats, tm.mmu.ITLB.Entries()
	}
	assert.Equal(t, stats[1], stats[0], "ITLB statistics")
	assert.Equal(t, entries[1], entries[0], "ITLB entries and ages")
}

// An unimplemented instruction straddling a page end is #UD named as x86asm names it: the
// name comes from decoding its bytes again, from both pages.
func TestStraddlingUndefinedInstructionIsNamed(t *testing.T) {
	tm := newTestMachine(t)
	code := make([]byte, 4096+8)
	code[0] = 0xe9 // jmp rel32 to 4094
	rel := uint32(4094 - 5)
	code[1], code[2], code[3], code[4] = byte(rel), byte(rel>>8), byte(rel>>16), byte(rel>>24)
	copy(code[4094:], []byte{0x66, 0x0f, 0x38, 0xdc, 0xc1, 0xc3}) // aesenc xmm0, xmm1; ret
	r := regsWith(nil)
	trap := tm.run(code, &r, nil, 100)
	require.Equal(t, TrapException, trap.Kind, trap.String())
	assert.Equal(t, uint8(VecUD), trap.Vector)
	assert.Equal(t, uint64(hostcpu.CodeAddr+4094), trap.RIP)
	assert.Equal(t, "aesenc xmm0, xmm1", trap.Mnemonic)
}
