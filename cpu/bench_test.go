package cpu

import (
	"testing"
	"time"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"

	"github.com/vmemu/vmemu/internal/cputime"
)

// xorshiftLoop is a CPU-bound integer loop: 64-bit xorshift over RAX, RCX iterations.
//
//	loop: mov rdx, rax ; shl rdx, 13 ; xor rax, rdx
//	      mov rdx, rax ; shr rdx, 7  ; xor rax, rdx
//	      mov rdx, rax ; shl rdx, 17 ; xor rax, rdx
//	      add rbx, rax ; dec rcx ; jnz loop ; ret
var xorshiftLoop = []byte{
	0x48, 0x89, 0xc2, 0x48, 0xc1, 0xe2, 0x0d, 0x48, 0x31, 0xd0,
	0x48, 0x89, 0xc2, 0x48, 0xc1, 0xea, 0x07, 0x48, 0x31, 0xd0,
	0x48, 0x89, 0xc2, 0x48, 0xc1, 0xe2, 0x11, 0x48, 0x31, 0xd0,
	0x48, 0x01, 0xc3, 0x48, 0xff, 0xc9, 0x75, 0xda, 0xc3,
}

// memLoop sums a 256 KiB array of quadwords, RCX passes: load-heavy work through the DTLB.
//
//	outer: mov rsi, rdi ; mov edx, 32768
//	inner: add rax, [rsi] ; add rsi, 8 ; dec edx ; jnz inner
//	       dec rcx ; jnz outer ; ret
var memLoop = []byte{
	0x48, 0x89, 0xfe, 0xba, 0x00, 0x80, 0x00, 0x00,
	0x48, 0x03, 0x06, 0x48, 0x83, 0xc6, 0x08, 0xff, 0xca, 0x75, 0xf5,
	0x48, 0xff, 0xc9, 0x75, 0xe8, 0xc3,
}

// cpuTime returns the process's CPU time: guest instructions per CPU second (the
// "cpu-MIPS" metric) vary much less than per wall second on a shared machine.
func cpuTime() time.Duration { return cputime.Process() }

func benchLoop(b *testing.B, code []byte, iters uint64, setup func(r *hostcpu.Regs)) {
	tm := newTestMachine(&testing.T{})
	var insns uint64
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		r := regsWith(map[int]uint64{RAX: 88172645463325252, RCX: iters})
		if setup != nil {
			setup(&r)
		}
		before := tm.cpu.Instructions()
		trap := tm.run(code, &r, nil, 1<<40)
		if !returned(trap) {
			b.Fatalf("stopped with %v", trap)
		}
		insns += tm.cpu.Instructions() - before
	}
	b.ReportMetric(float64(insns)/b.Elapsed().Seconds()/1e6, "MIPS")
	b.ReportMetric(float64(insns)/(cpuTime()-cpu0).Seconds()/1e6, "cpu-MIPS")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(insns), "ns/insn")
}

// BenchmarkIntegerLoop reports guest instructions per second on integer code.
func BenchmarkIntegerLoop(b *testing.B) { benchLoop(b, xorshiftLoop, 1_000_000, nil) }

// BenchmarkMemoryLoop reports guest instructions per second on a load-heavy loop.
func BenchmarkMemoryLoop(b *testing.B) {
	benchLoop(b, memLoop, 8, func(r *hostcpu.Regs) { r.GPR[RDI] = hostcpu.DataAddr })
}
