package cpu

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
	"github.com/vmemu/vmemu/mmu"
)

// Behaviour the host cannot be asked about from inside a test process (traps, privileged
// instructions, CPUID of this CPU, single-stepping, alignment checks), checked against the
// SDM's rules directly.

// Privileged instructions at CPL 3 raise #GP(0) with RIP at the instruction and no effect.
func TestPrivilegedInstructionsGP(t *testing.T) {
	tm := newTestMachine(t)
	for _, tc := range []struct {
		name string
		code []byte
	}{
		{"hlt", []byte{0xf4}},
		{"cli", []byte{0xfa}},
		{"sti", []byte{0xfb}},
		{"mov cr0, rax", []byte{0x0f, 0x22, 0xc0}},
		{"mov rax, cr3", []byte{0x0f, 0x20, 0xd8}},
		{"mov dr7, rax", []byte{0x0f, 0x23, 0xf8}},
		{"in al, dx", []byte{0xec}},
		{"out 0x80, al", []byte{0xe6, 0x80}},
		{"insb", []byte{0x6c}},
		{"wrmsr", []byte{0x0f, 0x30}},
		{"rdmsr", []byte{0x0f, 0x32}},
		{"invlpg [rax]", []byte{0x0f, 0x01, 0x38}},
		{"lgdt [rax]", []byte{0x0f, 0x01, 0x10}},
		{"sgdt [rax] (UMIP)", []byte{0x0f, 0x01, 0x00}},
		{"swapgs", []byte{0x0f, 0x01, 0xf8}},
		{"wbinvd", []byte{0x0f, 0x09}},
		{"clts", []byte{0x0f, 0x06}},
		{"int 0x80", []byte{0xcd, 0x80}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := regsWith(map[int]uint64{RAX: hostcpu.DataAddr, RCX: 5})
			code := append([]byte{0x48, 0xff, 0xc1}, tc.code...) // inc rcx first
			trap := tm.run(append(code, 0xc3), &r, nil, 100)
			require.Equal(t, TrapException, trap.Kind, trap.String())
			assert.Equal(t, uint8(VecGP), trap.Vector, trap.String())
			assert.Equal(t, uint32(0), trap.Code)
			assert.Equal(t, uint64(hostcpu.CodeAddr+3), trap.RIP)
			assert.Equal(t, uint64(6), r.GPR[RCX], "the instruction before it retired")
		})
	}
}

// LOCK is #UD unless it precedes a read-modify-write instruction with a memory destination
// (SDM Vol. 2B, LOCK); the valid forms work.
func TestLockPrefix(t *testing.T) {
	tm := newTestMachine(t)
	for _, tc := range []struct {
		name string
		code []byte
		ud   bool
	}{
		{"lock add rax, rax", []byte{0xf0, 0x48, 0x01, 0xc0}, true},
		{"lock mov [rdi], rax", []byte{0xf0, 0x48, 0x89, 0x07}, true},
		{"lock nop", []byte{0xf0, 0x90}, true},
		{"lock cmp [rdi], rax", []byte{0xf0, 0x48, 0x39, 0x07}, true},
		{"lock bt [rdi], rax", []byte{0xf0, 0x48, 0x0f, 0xa3, 0x07}, true},
		{"lock add [rdi], rax", []byte{0xf0, 0x48, 0x01, 0x07}, false},
		{"lock xadd [rdi], rax", []byte{0xf0, 0x48, 0x0f, 0xc1, 0x07}, false},
		{"lock bts [rdi], rax", []byte{0xf0, 0x48, 0x0f, 0xab, 0x07}, false},
		{"lock cmpxchg16b [rdi]", []byte{0xf0, 0x48, 0x0f, 0xc7, 0x0f}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := regsWith(map[int]uint64{RAX: 1, RDI: hostcpu.DataAddr})
			trap := tm.run(append(append([]byte{}, tc.code...), 0xc3), &r, make([]byte, 64), 100)
			if tc.ud {
				require.Equal(t, uint8(VecUD), trap.Vector, trap.String())
				assert.Equal(t, uint64(hostcpu.CodeAddr), trap.RIP)
				return
			}
			assert.True(t, returned(trap), trap.String())
		})
	}
}

// CMPXCHG16B needs a 16-byte aligned operand: #GP(0) otherwise, with nothing changed.
func TestCmpxchg16bAlignment(t *testing.T) {
	tm := newTestMachine(t)
	mem := make([]byte, 64)
	r := regsWith(map[int]uint64{RDI: hostcpu.DataAddr + 8})
	trap := tm.run([]byte{0x48, 0x0f, 0xc7, 0x0f, 0xc3}, &r, mem, 10)
	require.Equal(t, uint8(VecGP), trap.Vector, trap.String())
	assert.Equal(t, uint64(hostcpu.CodeAddr), trap.RIP)

	// Aligned and equal: the store happens and ZF is set.
	r = regsWith(map[int]uint64{RDI: hostcpu.DataAddr + 16, RBX: 0x1111, RCX: 0x2222})
	trap = tm.run([]byte{0x48, 0x0f, 0xc7, 0x0f, 0xc3}, &r, mem, 10)
	require.True(t, returned(trap), trap.String())
	assert.Equal(t, uint64(0x1111), binary.LittleEndian.Uint64(mem[16:]))
	assert.Equal(t, uint64(0x2222), binary.LittleEndian.Uint64(mem[24:]))
	assert.NotZero(t, r.RFLAGS&FlagZF)
}

// INT3 is a #BP trap and INT1 (ICEBP) a #DB trap: RIP points after them.
func TestBreakpointTraps(t *testing.T) {
	tm := newTestMachine(t)
	for _, tc := range []struct {
		code []byte
		vec  uint8
	}{{[]byte{0x90, 0xcc}, VecBP}, {[]byte{0x90, 0xf1}, VecDB}, {[]byte{0x90, 0xcd, 0x03}, VecBP}} {
		r := regsWith(nil)
		trap := tm.run(append(append([]byte{}, tc.code...), 0xc3), &r, nil, 10)
		require.Equal(t, TrapException, trap.Kind)
		assert.Equal(t, tc.vec, trap.Vector)
		assert.Equal(t, uint64(hostcpu.CodeAddr+len(tc.code)), trap.RIP)
	}
}

// With RFLAGS.TF set, each instruction is followed by a #DB trap with RIP at the next one;
// the POPF that sets TF is not, the one that clears it is (SDM Vol. 3B 17.3.1.4).
func TestSingleStep(t *testing.T) {
	tm := newTestMachine(t)
	code := []byte{
		0x9c,                               // 0: pushfq
		0x48, 0x81, 0x0c, 0x24, 0, 1, 0, 0, // 1: or qword [rsp], 0x100 (TF)
		0x9d,             // 9: popfq: TF now set; no trap after it
		0x48, 0xff, 0xc0, // 10: inc rax: #DB after it, RIP 13
		0x48, 0xff, 0xc0, // 13: inc rax: #DB, RIP 16
		0x9c,                                           // 16: pushfq: #DB, RIP 17
		0x48, 0x81, 0x24, 0x24, 0xff, 0xfe, 0xff, 0xff, // 17: and qword [rsp], ~0x100: #DB, RIP 25
		0x9d,             // 25: popfq clears TF: #DB after it, RIP 26
		0x48, 0xff, 0xc0, // 26: inc rax: no trap
		0xc3,
	}
	r := regsWith(nil)
	trap := tm.run(code, &r, nil, 1000)
	var stops []uint64
	for trap.Kind == TrapException && trap.Vector == VecDB {
		stops = append(stops, trap.RIP-hostcpu.CodeAddr)
		trap = tm.cpu.Run(1000)
	}
	assert.True(t, returned(trap), trap.String())
	assert.Equal(t, []uint64{13, 16, 17, 25, 26}, stops)
	assert.Equal(t, uint64(3), tm.cpu.Reg(RAX))
	assert.Zero(t, tm.cpu.RFLAGS()&FlagTF)
}

// Under single-step, each iteration of a REP string instruction traps with RIP still at the
// instruction until the count runs out.
func TestSingleStepRepString(t *testing.T) {
	tm := newTestMachine(t)
	r := regsWith(map[int]uint64{RCX: 3, RDI: hostcpu.DataAddr, RAX: 0x41})
	r.RFLAGS |= FlagTF
	trap := tm.run([]byte{0xf3, 0xaa, 0xc3}, &r, make([]byte, 8), 100) // rep stosb
	var rips []uint64
	for trap.Kind == TrapException && trap.Vector == VecDB {
		rips = append(rips, trap.RIP-hostcpu.CodeAddr)
		trap = tm.cpu.Run(100)
	}
	// rep stosb x3 (RIP 0, 0, 2), then ret steps to the sentinel (a #DB there, then #PF).
	require.GreaterOrEqual(t, len(rips), 3)
	assert.Equal(t, []uint64{0, 0, 2}, rips[:3])
	assert.Zero(t, tm.cpu.Reg(RCX))
}

// With CR0.AM and RFLAGS.AC set, a misaligned data access raises #AC(0) at CPL 3 and has no
// effect; aligned accesses and byte accesses are fine; without AC there is no check.
func TestAlignmentCheck(t *testing.T) {
	tm := newTestMachine(t)
	require.NoError(t, tm.mmu.SetCR0(tm.mmu.CR0()|mmu.CR0AM))
	for _, tc := range []struct {
		name string
		code []byte
		ac   bool
		trap bool
	}{
		{"misaligned qword store", []byte{0x48, 0x89, 0x47, 0x01}, true, true},
		{"misaligned dword load", []byte{0x8b, 0x47, 0x02}, true, true},
		{"misaligned word rmw", []byte{0x66, 0x01, 0x47, 0x03}, true, true},
		{"aligned qword store", []byte{0x48, 0x89, 0x47, 0x08}, true, false},
		{"byte store anywhere", []byte{0x88, 0x47, 0x03}, true, false},
		{"misaligned store without AC", []byte{0x48, 0x89, 0x47, 0x01}, false, false},
		{"misaligned rep movsq", []byte{0x48, 0x8d, 0x77, 0x01, 0xf3, 0x48, 0xa5}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := regsWith(map[int]uint64{RDI: hostcpu.DataAddr + 64, RAX: 0x1122334455667788, RCX: 2})
			if tc.ac {
				r.RFLAGS |= FlagAC
			}
			mem := make([]byte, 256)
			trap := tm.run(append(append([]byte{}, tc.code...), 0xc3), &r, mem, 100)
			if !tc.trap {
				assert.True(t, returned(trap), trap.String())
				return
			}
			require.Equal(t, uint8(VecAC), trap.Vector, trap.String())
			assert.Equal(t, uint32(0), trap.Code)
			assert.Equal(t, make([]byte, 256), mem, "no effect")
		})
	}
}

// POPF at CPL 3 changes the arithmetic flags, TF, DF, NT, AC and ID, never IF or IOPL.
func TestPopfCPL3(t *testing.T) {
	tm := newTestMachine(t)
	r := regsWith(map[int]uint64{RAX: 0x3000 | FlagAC | FlagID | FlagCF})
	r.RFLAGS = InitialRFLAGS
	// push rax; popfq; pushfq; pop rbx; ret (IOPL bits 12-13 in RAX, IF clear)
	trap := tm.run([]byte{0x50, 0x9d, 0x9c, 0x5b, 0xc3}, &r, nil, 10)
	require.True(t, returned(trap), trap.String())
	got := r.GPR[RBX]
	assert.NotZero(t, got&FlagIF, "IF kept")
	assert.Zero(t, got&0x3000, "IOPL kept")
	assert.NotZero(t, got&FlagAC, "AC set")
	assert.NotZero(t, got&FlagID, "ID set")
	assert.NotZero(t, got&FlagCF)
}

// CPUID reports this CPU: vendor, leaves, feature bits of what is implemented, the brand
// string and the address sizes.
func TestCPUID(t *testing.T) {
	tm := newTestMachine(t)
	cpuid := func(leaf, sub uint64) [4]uint64 {
		r := regsWith(map[int]uint64{RAX: leaf | 0xffffffff00000000, RCX: sub, RBX: 0xdead, RDX: 0xbeef})
		trap := tm.run([]byte{0x0f, 0xa2, 0xc3}, &r, nil, 10)
		require.True(t, returned(trap), trap.String())
		return [4]uint64{r.GPR[RAX], r.GPR[RBX], r.GPR[RCX], r.GPR[RDX]}
	}
	l0 := cpuid(0, 0)
	vendor := make([]byte, 12)
	binary.LittleEndian.PutUint32(vendor[0:], uint32(l0[1]))
	binary.LittleEndian.PutUint32(vendor[4:], uint32(l0[3]))
	binary.LittleEndian.PutUint32(vendor[8:], uint32(l0[2]))
	assert.Equal(t, "GenuineIntel", string(vendor))
	assert.Equal(t, uint64(7), l0[0])

	l1 := cpuid(1, 0)
	for _, f := range []struct {
		name string
		reg  int
		bit  uint
	}{{"TSC", 3, 4}, {"CX8", 3, 8}, {"CMOV", 3, 15}, {"CLFSH", 3, 19}, {"CX16", 2, 13},
		{"MOVBE", 2, 22}, {"POPCNT", 2, 23}} {
		assert.NotZero(t, l1[f.reg]>>f.bit&1, f.name)
	}
	assert.Zero(t, l1[2]>>27&1, "no OSXSAVE: there is no XSAVE")
	assert.Equal(t, uint64(8), l1[1]>>8&0xff, "CLFLUSH line size 64")
	l7 := cpuid(7, 0)
	assert.NotZero(t, l7[1]>>3&1, "BMI1")
	assert.NotZero(t, l7[1]>>8&1, "BMI2")
	assert.Equal(t, [4]uint64{}, cpuid(7, 1), "sub-leaf 1 is empty")
	e0 := cpuid(0x80000000, 0)
	assert.Equal(t, uint64(0x80000008), e0[0])
	e1 := cpuid(0x80000001, 0)
	for _, f := range []struct {
		name string
		reg  int
		bit  uint
	}{{"LAHF", 2, 0}, {"ABM", 2, 5}, {"SYSCALL", 3, 11}, {"NX", 3, 20}, {"1GB", 3, 26},
		{"RDTSCP", 3, 27}, {"LM", 3, 29}} {
		assert.NotZero(t, e1[f.reg]>>f.bit&1, f.name)
	}
	var brand []byte
	for leaf := uint64(0x80000002); leaf <= 0x80000004; leaf++ {
		for _, v := range cpuid(leaf, 0) {
			brand = binary.LittleEndian.AppendUint32(brand, uint32(v))
		}
	}
	assert.True(t, strings.HasPrefix(string(brand), "vmemu"), "%q", brand)
	e8 := cpuid(0x80000008, 0)
	assert.Equal(t, uint64(46), e8[0]&0xff)
	assert.Equal(t, uint64(48), e8[0]>>8&0xff)
	assert.Equal(t, cpuid(7, 0), cpuid(0x40, 0), "a leaf above the maximum reports the highest basic leaf")
}

// RDTSC counts instructions: two reads three instructions apart differ by three ticks.
// RDTSCP also loads ECX with TSC_AUX (0).
func TestRdtscDeterministic(t *testing.T) {
	tm := newTestMachine(t)
	code := []byte{
		0x0f, 0x31, // rdtsc
		0x48, 0x89, 0xc6, // mov rsi, rax
		0x90,             // nop
		0x0f, 0x01, 0xf9, // rdtscp
		0xc3,
	}
	r := regsWith(map[int]uint64{RCX: 77})
	before := tm.cpu.Instructions()
	trap := tm.run(code, &r, nil, 10)
	require.True(t, returned(trap))
	assert.Equal(t, before*TSCPerInstruction, r.GPR[RSI])
	assert.Equal(t, uint64(3*TSCPerInstruction), r.GPR[RAX]-r.GPR[RSI])
	assert.Zero(t, r.GPR[RCX])
}

// A REP MOVSB whose destination runs into an unmapped page faults there with RCX, RSI and
// RDI describing the bytes copied and RIP at the instruction; once the page is mapped,
// resuming completes the copy (SDM Vol. 2B, REP: "interrupted ... can be resumed").
func TestRepMovsFaultResumes(t *testing.T) {
	tm := newTestMachine(t)
	end := uint64(hostcpu.DataAddr + dataPages*4096) // first unmapped page after the data
	src := make([]byte, 4096)
	for i := range src {
		src[i] = byte(i * 7)
	}
	tm.writeVirt(hostcpu.DataAddr, src)
	const n = 300
	dst := end - 100
	r := regsWith(map[int]uint64{RSI: hostcpu.DataAddr, RDI: dst, RCX: n})
	trap := tm.run([]byte{0xf3, 0xa4, 0xc3}, &r, nil, 100) // rep movsb
	require.Equal(t, uint8(VecPF), trap.Vector, trap.String())
	assert.Equal(t, end, trap.Addr)
	assert.Equal(t, uint64(hostcpu.CodeAddr), trap.RIP)
	var s State
	tm.cpu.Save(&s)
	assert.Equal(t, uint64(n-100), s.GPR[RCX], "100 bytes copied")
	assert.Equal(t, uint64(hostcpu.DataAddr+100), s.GPR[RSI])
	assert.Equal(t, end, s.GPR[RDI])
	got := make([]byte, 100)
	tm.readVirt(dst, got)
	assert.Equal(t, src[:100], got)

	tm.mapPage(end, mmu.PTEWrite|mmu.PTEUser|mmu.PTENoExec)
	trap = tm.cpu.Run(100)
	require.True(t, returned(trap), trap.String())
	got = make([]byte, n)
	tm.readVirt(dst, got)
	assert.Equal(t, src[:n], got)
	assert.Zero(t, tm.cpu.Reg(RCX))
}

// A long REP STOSQ and REP MOVSB across many pages give the same memory as the
// element-by-element definition, including an overlapping copy that replicates a pattern.
func TestRepStringLong(t *testing.T) {
	tm := newTestMachine(t)
	const size = 40000
	r := regsWith(map[int]uint64{RDI: hostcpu.DataAddr + 3, RCX: size / 8, RAX: 0x0102030405060708})
	trap := tm.run([]byte{0xf3, 0x48, 0xab, 0xc3}, &r, nil, 10) // rep stosq
	require.True(t, returned(trap), trap.String())
	got := make([]byte, size+16)
	tm.readVirt(hostcpu.DataAddr, got)
	for i := 0; i < size; i++ {
		require.Equal(t, byte(8-i%8), got[3+i], "byte %d", i)
	}
	assert.Zero(t, got[3+size])

	// Overlapping: dst = src + 3 replicates the first three bytes.
	r = regsWith(map[int]uint64{RSI: hostcpu.DataAddr + 3, RDI: hostcpu.DataAddr + 6, RCX: 20000})
	trap = tm.run([]byte{0xf3, 0xa4, 0xc3}, &r, nil, 10)
	require.True(t, returned(trap), trap.String())
	tm.readVirt(hostcpu.DataAddr, got)
	for i := 0; i < 20003; i++ {
		require.Equal(t, byte(8-i%3), got[3+i], "byte %d", i)
	}
}

// FS and GS overrides add the segment bases: to a memory operand, and to the source of a
// string instruction.
func TestSegmentOverrides(t *testing.T) {
	tm := newTestMachine(t)
	mem := make([]byte, 256)
	binary.LittleEndian.PutUint64(mem[0x10:], 0x1111)
	binary.LittleEndian.PutUint64(mem[0x28:], 0x2828)
	code := []byte{
		0x64, 0x48, 0x8b, 0x04, 0x25, 0x10, 0, 0, 0, // mov rax, fs:[0x10]
		0x65, 0x48, 0x8b, 0x1c, 0x25, 0x08, 0, 0, 0, // mov rbx, gs:[0x8]
		0x64, 0x48, 0xa5, // movsq qword [rdi], fs:[rsi]
		0xc3,
	}
	tm.writeVirt(hostcpu.DataAddr, mem)
	tm.writeVirt(hostcpu.CodeAddr, code)
	s := State{RIP: hostcpu.CodeAddr, RFLAGS: InitialRFLAGS, FSBase: hostcpu.DataAddr, GSBase: hostcpu.DataAddr + 0x20}
	s.GPR[RSI], s.GPR[RDI], s.GPR[RSP] = 0x28, hostcpu.DataAddr+0x80, hostcpu.EntryRSP
	tm.writeVirt(hostcpu.EntryRSP, binary.LittleEndian.AppendUint64(nil, sentinel))
	tm.cpu.Load(&s)
	trap := tm.cpu.Run(10)
	require.True(t, returned(trap), trap.String())
	var r State
	tm.cpu.Save(&r)
	assert.Equal(t, uint64(hostcpu.DataAddr), r.FSBase)
	assert.Equal(t, uint64(0x1111), r.GPR[RAX])
	assert.Equal(t, uint64(0x2828), r.GPR[RBX])
	assert.Equal(t, uint64(0x30), r.GPR[RSI])
	out := make([]byte, 8)
	tm.readVirt(hostcpu.DataAddr+0x80, out)
	assert.Equal(t, uint64(0x2828), binary.LittleEndian.Uint64(out))
}

// ENTER checks its whole frame before writing: a level that reads an unmapped enclosing
// frame faults with RSP, RBP and the stack unchanged.
func TestEnterIsPrecise(t *testing.T) {
	tm := newTestMachine(t)
	r := regsWith(map[int]uint64{RBP: 0x3000_0000})                         // unmapped
	trap := tm.run([]byte{0xc8, 0x10, 0x00, 0x03, 0xc9, 0xc3}, &r, nil, 10) // enter 16, 3
	require.Equal(t, uint8(VecPF), trap.Vector, trap.String())
	assert.Equal(t, uint64(0x3000_0000-8), trap.Addr)
	var s State
	tm.cpu.Save(&s)
	assert.Equal(t, uint64(hostcpu.EntryRSP), s.GPR[RSP])
	assert.Equal(t, uint64(0x3000_0000), s.GPR[RBP])
}

// The prefetch hints x86asm does not know (0F 0D /r, 0F 18 /4-/7) run as NOPs and never
// fault, even on an unmapped address; CLFLUSH on an unmapped address faults like a load.
func TestHintsAndClflush(t *testing.T) {
	tm := newTestMachine(t)
	for _, code := range [][]byte{{0x0f, 0x0d, 0x00}, {0x0f, 0x0d, 0x08}, {0x0f, 0x18, 0x20}, {0x0f, 0x18, 0x38}, {0x0f, 0x18, 0x00}} {
		r := regsWith(map[int]uint64{RAX: 0x3000_0000})
		trap := tm.run(append(append([]byte{}, code...), 0xc3), &r, nil, 10)
		assert.True(t, returned(trap), "% x: %v", code, trap)
	}
	r := regsWith(map[int]uint64{RAX: 0x3000_0000})
	trap := tm.run([]byte{0x0f, 0xae, 0x38, 0xc3}, &r, nil, 10) // clflush [rax]
	require.Equal(t, uint8(VecPF), trap.Vector, trap.String())
	assert.Equal(t, uint64(0x3000_0000), trap.Addr)
	assert.Equal(t, mmu.ErrUser, trap.Code)
}

// A store into the next instruction of the executing block takes effect at once, as the
// host's self-modifying-code detection makes it: the block ends after the store and the
// patched instruction is decoded anew.
func TestSelfModifyingNextInstruction(t *testing.T) {
	tm := newTestMachine(t)
	code := []byte{
		0xc6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x02, // mov byte [rip+1], 2: the imm of the next mov
		0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1 (becomes mov eax, 2)
		0x48, 0x83, 0xc0, 0x05, // add rax, 5
		0xc3,
	}
	host := regsWith(nil)
	require.NoError(t, hostRun(t, code, &host, nil))
	emu := regsWith(nil)
	before := tm.cpu.Instructions()
	trap := tm.run(code, &emu, nil, 100)
	require.True(t, returned(trap), trap.String())
	assert.Equal(t, uint64(7), host.GPR[RAX])
	assert.Equal(t, host.GPR[RAX], emu.GPR[RAX])
	assert.Equal(t, uint64(4), tm.cpu.Instructions()-before, "mov, mov, add and ret retired")
	assert.NotZero(t, tm.cpu.Stats().CodeInvalid)
}
