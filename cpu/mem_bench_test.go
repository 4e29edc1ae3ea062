package cpu

import (
	"testing"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// sieveLoop stores a zero byte every 4160 bytes (a page and 64 bytes) over the 256 KiB of
// data, RCX passes, as a sieve's inner loop does for large primes: every store lands on
// another page.
//
//	outer: mov rsi, rdi ; lea rdx, [rdi+0x40000]
//	inner: mov byte [rsi], 0 ; add rsi, 0x1040 ; cmp rsi, rdx ; jb inner
//	       dec rcx ; jnz outer ; ret
var sieveLoop = []byte{
	0x48, 0x89, 0xfe, 0x48, 0x8d, 0x97, 0x00, 0x00, 0x04, 0x00,
	0xc6, 0x06, 0x00, 0x48, 0x81, 0xc6, 0x40, 0x10, 0x00, 0x00, 0x48, 0x39, 0xd6, 0x72, 0xf1,
	0x48, 0xff, 0xc9, 0x75, 0xe2, 0xc3,
}

// BenchmarkMemoryLoopTLBMiss runs sieveLoop with a 16-entry DTLB, so every store misses
// the TLB and walks from the cached PDE (the sieve's case); it reports the misses per guest
// instruction too.
func BenchmarkMemoryLoopTLBMiss(b *testing.B) {
	cfg := mmu.DefaultConfig()
	cfg.DTLB = tlb.Config{Name: "DTLB", Entries: 16, Ways: 4, LargeEntries: 32, Policy: tlb.LRU}
	tm := newTestMachineConfig(&testing.T{}, cfg)
	misses := tm.mmu.DTLB.Stats.Misses
	var insns uint64
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		r := regsWith(map[int]uint64{RCX: 1000})
		r.GPR[RDI] = hostcpu.DataAddr
		before := tm.cpu.Instructions()
		if trap := tm.run(sieveLoop, &r, nil, 1<<40); !returned(trap) {
			b.Fatalf("stopped with %v", trap)
		}
		insns += tm.cpu.Instructions() - before
	}
	b.ReportMetric(float64(insns)/(cpuTime()-cpu0).Seconds()/1e6, "cpu-MIPS")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(insns), "ns/insn")
	b.ReportMetric(float64(tm.mmu.DTLB.Stats.Misses-misses)/float64(insns), "misses/insn")
}
