package cpu

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
)

// sseScanLoop is the inner loop of an SSE2 strlen (as glibc's strlen-sse2 has it): compare
// 16 bytes at a time with zero and test the byte mask; RCX passes over 64 KiB at RDI.
//
//	      pxor xmm0, xmm0
//	outer: mov rsi, rdi ; mov edx, 4096
//	inner: movdqa xmm1, [rsi] ; pcmpeqb xmm1, xmm0 ; pmovmskb eax, xmm1 ; test eax, eax
//	       jnz done ; add rsi, 16 ; dec edx ; jnz inner
//	done:  dec rcx ; jnz outer ; ret
var sseScanLoop = []byte{
	0x66, 0x0f, 0xef, 0xc0,
	0x48, 0x89, 0xfe, 0xba, 0x00, 0x10, 0x00, 0x00,
	0x66, 0x0f, 0x6f, 0x0e, 0x66, 0x0f, 0x74, 0xc8, 0x66, 0x0f, 0xd7, 0xc1, 0x85, 0xc0,
	0x75, 0x0a, 0x48, 0x83, 0xc6, 0x10, 0xff, 0xca, 0x75, 0xe8, 0x90, 0x90,
	0x48, 0xff, 0xc9, 0x75, 0xd9, 0xc3,
}

// sseFloatLoop is packed floating-point work under MXCSR 1F80H: RCX iterations of
//
//	loop: mulps xmm0, xmm1 ; addps xmm0, xmm2 ; sqrtps xmm3, xmm0 ; divpd xmm4, xmm5
//	      cvtps2dq xmm6, xmm3 ; dec rcx ; jnz loop ; ret
var sseFloatLoop = []byte{
	0x0f, 0x59, 0xc1, 0x0f, 0x58, 0xc2, 0x0f, 0x51, 0xd8, 0x66, 0x0f, 0x5e, 0xe5,
	0x66, 0x0f, 0x5b, 0xf3, 0x48, 0xff, 0xc9, 0x75, 0xea, 0xc3,
}

func benchSSE(b *testing.B, code []byte, iters uint64, xmm map[int]vec, fill bool) {
	tm := newTestMachine(&testing.T{})
	if fill {
		data := make([]byte, 64<<10)
		for i := range data {
			data[i] = byte(i%255 + 1)
		}
		tm.writeVirt(hostcpu.DataAddr, data)
	}
	tm.writeVirt(hostcpu.CodeAddr, code)
	tm.writeVirt(hostcpu.EntryRSP, le(sentinel, 8))
	var s State
	var insns uint64
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		s = State{RIP: hostcpu.CodeAddr, RFLAGS: InitialRFLAGS, Ext: InitialExtState()}
		s.GPR[RSP], s.GPR[RCX], s.GPR[RDI] = hostcpu.EntryRSP, iters, hostcpu.DataAddr
		for r, v := range xmm {
			s.Ext.XMM[r] = v
		}
		tm.cpu.Load(&s)
		before := tm.cpu.Instructions()
		if trap := tm.cpu.Run(1 << 40); !returned(trap) {
			b.Fatalf("stopped with %v", trap)
		}
		insns += tm.cpu.Instructions() - before
	}
	b.ReportMetric(float64(insns)/b.Elapsed().Seconds()/1e6, "MIPS")
	b.ReportMetric(float64(insns)/(cpuTime()-cpu0).Seconds()/1e6, "cpu-MIPS")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(insns), "ns/insn")
}

// BenchmarkSSEScanLoop reports guest instructions per second on SSE2 string scanning.
func BenchmarkSSEScanLoop(b *testing.B) { benchSSE(b, sseScanLoop, 8, nil, true) }

// BenchmarkSSEFloatLoop reports guest instructions per second on packed floating point.
func BenchmarkSSEFloatLoop(b *testing.B) {
	f := func(x float32) uint64 { return uint64(binaryFloat32(x)) * 0x100000001 }
	benchSSE(b, sseFloatLoop, 100_000, map[int]vec{0: {f(1.5), f(2.5)}, 1: {f(0.999), f(1.001)},
		2: {f(0.25), f(0.5)}, 4: {0x4000000000000000, 0x4008000000000000}, 5: {0x3ff8000000000000, 0x3ff0000000000001}}, false)
}

func binaryFloat32(x float32) uint32 {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
	return binary.LittleEndian.Uint32(b[:])
}
