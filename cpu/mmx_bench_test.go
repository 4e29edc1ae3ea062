package cpu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
)

// mmxDotLoop is MMX-era inner-loop work: a 16-bit dot product with a running checksum over
// 64 KiB at RDI, RCX times, then EMMS.
//
//	outer: mov rsi, rdi ; mov edx, 8192
//	inner: movq mm1, [rsi] ; pmaddwd mm1, mm2 ; paddd mm0, mm1 ; psrlq mm3, 1 ; pxor mm3, mm1
//	       add rsi, 8 ; dec edx ; jnz inner
//	       dec rcx ; jnz outer ; emms ; ret
var mmxDotLoop = []byte{
	0x48, 0x89, 0xfe, 0xba, 0x00, 0x20, 0x00, 0x00,
	0x0f, 0x6f, 0x0e, 0x0f, 0xf5, 0xca, 0x0f, 0xfe, 0xc1, 0x0f, 0x73, 0xd3, 0x01, 0x0f, 0xef, 0xd9,
	0x48, 0x83, 0xc6, 0x08, 0xff, 0xca, 0x75, 0xe8,
	0x48, 0xff, 0xc9, 0x75, 0xdb, 0x0f, 0x77, 0xc3,
}

// mmxDotMachine loads mmxDotLoop and returns a function that runs it iters times.
func mmxDotMachine(t testing.TB, iters uint64) (*testMachine, func() Trap) {
	tm := newTestMachine(&testing.T{})
	data := make([]byte, 64<<10)
	for i := range data {
		data[i] = byte(i*7 + 1)
	}
	tm.writeVirt(hostcpu.DataAddr, data)
	tm.writeVirt(hostcpu.CodeAddr, mmxDotLoop)
	tm.writeVirt(hostcpu.EntryRSP, le(sentinel, 8))
	var s State
	return tm, func() Trap {
		s = State{RIP: hostcpu.CodeAddr, RFLAGS: InitialRFLAGS, Ext: InitialExtState()}
		s.GPR[RSP], s.GPR[RCX], s.GPR[RDI] = hostcpu.EntryRSP, iters, hostcpu.DataAddr
		s.Ext.X87.R[2].Mant = 0x0003_0002_0001_7fff
		tm.cpu.Load(&s)
		return tm.cpu.Run(1 << 40)
	}
}

// BenchmarkMMXDotLoop reports guest instructions per second on MMX packed-integer work.
func BenchmarkMMXDotLoop(b *testing.B) {
	tm, run := mmxDotMachine(b, 4)
	var insns uint64
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		before := tm.cpu.Instructions()
		if trap := run(); !returned(trap) {
			b.Fatalf("stopped with %v", trap)
		}
		insns += tm.cpu.Instructions() - before
	}
	b.ReportMetric(float64(insns)/b.Elapsed().Seconds()/1e6, "MIPS")
	b.ReportMetric(float64(insns)/(cpuTime()-cpu0).Seconds()/1e6, "cpu-MIPS")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(insns), "ns/insn")
}

// TestMMXLoopAllocatesNothing: once decoded, MMX instructions run without allocating.
func TestMMXLoopAllocatesNothing(t *testing.T) {
	tm, run := mmxDotMachine(t, 1)
	require.True(t, returned(run()), "warm-up run")
	assert.Zero(t, testing.AllocsPerRun(5, func() { run() }))
	assert.Equal(t, uint16(0xffff), tm.cpu.ext.X87.FTW, "EMMS at the end")
}
