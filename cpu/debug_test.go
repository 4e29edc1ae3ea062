package cpu

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
	"github.com/vmemu/vmemu/mmu"
)

// The outside debugger's breakpoints and watchpoints (debug.go, mmu/watch.go), checked on
// small programs: where the run stops, what has happened by then, and that resuming works.

// debugProg stores rax to [data], loads [data+8] into rcx, increments rax and returns:
//
//	0x00 mov rbx, DataAddr; 0x0a mov rax, 5; 0x11 mov [rbx], rax; 0x14 mov rcx, [rbx+8];
//	0x18 inc rax; 0x1b ret
func debugProg() []byte {
	code := []byte{0x48, 0xbb}
	code = binary.LittleEndian.AppendUint64(code, hostcpu.DataAddr)
	return append(code, 0x48, 0xc7, 0xc0, 5, 0, 0, 0, 0x48, 0x89, 0x03, 0x48, 0x8b, 0x4b, 0x08, 0x48, 0xff, 0xc0, 0xc3)
}

// start loads code and the registers as tm.run does, without running.
func (tm *testMachine) start(code []byte) {
	tm.writeVirt(hostcpu.CodeAddr, code)
	tm.writeVirt(hostcpu.DataAddr, make([]byte, 64))
	var ret [8]byte
	binary.LittleEndian.PutUint64(ret[:], sentinel)
	tm.writeVirt(hostcpu.EntryRSP, ret[:])
	var s State
	s.GPR[RSP] = hostcpu.EntryRSP
	s.RIP = hostcpu.CodeAddr
	s.RFLAGS = InitialRFLAGS
	tm.cpu.Load(&s)
}

func (tm *testMachine) space() uint64 { return tm.pml4 << 12 }

// An instruction breakpoint stops before its instruction, with everything before it done; it
// stops there again until the run resumes with RF; one in another address space is ignored.
func TestInstructionBreakpoint(t *testing.T) {
	tm := newTestMachine(t)
	tm.start(debugProg())
	at := uint64(hostcpu.CodeAddr + 0x14)
	tm.cpu.SetBreakpoints([]Breakpoint{{Space: tm.space() + 0x1000, Addr: hostcpu.CodeAddr + 0x11}, {Space: tm.space(), Addr: at}})
	tr := tm.cpu.Run(1000)
	require.Equal(t, TrapException, tr.Kind)
	assert.Equal(t, uint8(VecDB), tr.Vector)
	assert.Equal(t, uint32(DR6Breakpoint), tr.Code)
	assert.Equal(t, at, tr.RIP)
	assert.Equal(t, at, tm.cpu.RIP())
	assert.Equal(t, uint64(3), tm.cpu.Instructions(), "three instructions ran, not the one at the breakpoint")
	var b [8]byte
	tm.readVirt(hostcpu.DataAddr, b[:])
	assert.Equal(t, uint64(5), binary.LittleEndian.Uint64(b[:]), "the store before it is done")

	tr = tm.cpu.Run(1000)
	assert.Equal(t, at, tr.RIP, "without RF it stops again at once")
	assert.Equal(t, uint64(3), tm.cpu.Instructions())

	tm.cpu.ResumeAtBreakpoint()
	tr = tm.cpu.Run(1000)
	assert.True(t, returned(tr), "resumed with RF it runs to the end: %v", tr)
	assert.Equal(t, uint64(6), tm.cpu.Reg(RAX))
}

// A write watchpoint stops after the instruction that wrote, with the value in memory and
// RIP at the next instruction; a read watchpoint after the load; a watchpoint that overlaps
// the access anywhere counts; a write does not trip a read-only watchpoint.
func TestDataWatchpoints(t *testing.T) {
	for _, tc := range []struct {
		name   string
		w      mmu.Watchpoint
		stopAt uint64 // 0: no stop
		access mmu.Access
	}{
		{"write", mmu.Watchpoint{Addr: hostcpu.DataAddr, Len: 8, Write: true}, 0x14, mmu.Write},
		{"write, one byte inside the store", mmu.Watchpoint{Addr: hostcpu.DataAddr + 7, Len: 1, Write: true}, 0x14, mmu.Write},
		{"read", mmu.Watchpoint{Addr: hostcpu.DataAddr + 8, Len: 8, Read: true}, 0x18, mmu.Read},
		{"access, read part", mmu.Watchpoint{Addr: hostcpu.DataAddr + 12, Len: 2, Read: true, Write: true}, 0x18, mmu.Read},
		{"read watch, written only", mmu.Watchpoint{Addr: hostcpu.DataAddr, Len: 8, Read: true}, 0, 0},
		{"next to the store", mmu.Watchpoint{Addr: hostcpu.DataAddr + 16, Len: 8, Read: true, Write: true}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := newTestMachine(t)
			// One run without watchpoints first: the data page is then remembered by the
			// fast path, which a watchpoint set later must not let the accesses bypass.
			tm.start(debugProg())
			require.True(t, returned(tm.cpu.Run(1000)))
			tm.start(debugProg())
			tc.w.Space = tm.space()
			tm.mmu.SetWatchpoints([]mmu.Watchpoint{tc.w})
			tr := tm.cpu.Run(1000)
			if tc.stopAt == 0 {
				assert.True(t, returned(tr), "%v", tr)
				return
			}
			require.Equal(t, uint8(VecDB), tr.Vector, "%v", tr)
			assert.Equal(t, uint32(DR6Watch), tr.Code)
			assert.Equal(t, hostcpu.CodeAddr+tc.stopAt, tr.RIP)
			hit, n := tm.mmu.LastWatchHit()
			assert.Equal(t, uint64(1), n)
			assert.Equal(t, tc.w, hit.Watchpoint)
			assert.Equal(t, tc.access, hit.Access&mmu.Write)
			if tc.access == mmu.Write {
				var b [8]byte
				tm.readVirt(hostcpu.DataAddr, b[:])
				assert.Equal(t, uint64(5), binary.LittleEndian.Uint64(b[:]), "the new value is there")
			}
			assert.True(t, returned(tm.cpu.Run(1000)), "and it resumes to the end")
		})
	}
}

// A watchpoint hit by one iteration of REP STOSB stops after that iteration, with RIP still
// at the instruction and RCX counting what is left (SDM Vol. 3B 17.3.1.2); resuming
// finishes the string.
func TestWatchpointInRepString(t *testing.T) {
	tm := newTestMachine(t)
	code := []byte{0x48, 0xbf}
	code = binary.LittleEndian.AppendUint64(code, hostcpu.DataAddr) // mov rdi, DataAddr
	code = append(code, 0x48, 0xc7, 0xc1, 16, 0, 0, 0, 0xb0, 0xaa)  // mov rcx, 16; mov al, 0xaa
	rep := hostcpu.CodeAddr + uint64(len(code))                     //
	code = append(code, 0xf3, 0xaa, 0xc3)                           // rep stosb; ret
	tm.start(code)
	tm.mmu.SetWatchpoints([]mmu.Watchpoint{{Space: tm.space(), Addr: hostcpu.DataAddr + 5, Len: 1, Write: true}})
	tr := tm.cpu.Run(1000)
	require.Equal(t, uint8(VecDB), tr.Vector, "%v", tr)
	assert.Equal(t, rep, tr.RIP)
	assert.Equal(t, uint64(10), tm.cpu.Reg(RCX))
	var b [16]byte
	tm.readVirt(hostcpu.DataAddr, b[:])
	assert.Equal(t, []byte{0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0, 0}, b[:8])
	assert.True(t, returned(tm.cpu.Run(1000)))
	tm.readVirt(hostcpu.DataAddr, b[:])
	assert.Equal(t, [16]byte{0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa}, b)
}

// benchArmed is benchLoop with a debugger's breakpoint or watchpoint armed somewhere the loop
// never goes: what arming costs a program (every block runs as decoded).
func benchArmed(b *testing.B, code []byte, iters uint64, rdi uint64, arm func(tm *testMachine)) {
	tm := newTestMachine(&testing.T{})
	arm(tm)
	var insns uint64
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		r := regsWith(map[int]uint64{RAX: 88172645463325252, RCX: iters, RDI: rdi})
		before := tm.cpu.Instructions()
		if trap := tm.run(code, &r, nil, 1<<40); !returned(trap) {
			b.Fatalf("stopped with %v", trap)
		}
		insns += tm.cpu.Instructions() - before
	}
	b.ReportMetric(float64(insns)/(cpuTime()-cpu0).Seconds()/1e6, "cpu-MIPS")
}

// BenchmarkIntegerLoopBreakpointArmed: the integer loop with an instruction breakpoint set
// elsewhere (compare BenchmarkIntegerLoop).
func BenchmarkIntegerLoopBreakpointArmed(b *testing.B) {
	benchArmed(b, xorshiftLoop, 1_000_000, 0, func(tm *testMachine) {
		tm.cpu.SetBreakpoints([]Breakpoint{{Space: tm.space(), Addr: hostcpu.CodeAddr + 0x800}})
	})
}

// BenchmarkMemoryLoopWatchArmed: the memory loop with a data watchpoint on a page it does not
// touch (compare BenchmarkMemoryLoop).
func BenchmarkMemoryLoopWatchArmed(b *testing.B) {
	benchArmed(b, memLoop, 8, hostcpu.DataAddr, func(tm *testMachine) {
		tm.mmu.SetWatchpoints([]mmu.Watchpoint{{Space: tm.space(), Addr: hostcpu.StackTop - 8*4096, Len: 8, Write: true}})
	})
}
