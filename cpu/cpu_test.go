package cpu

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
	"github.com/vmemu/vmemu/mmu"
)

func regsWith(vals map[int]uint64) hostcpu.Regs {
	r := hostcpu.Regs{RFLAGS: InitialRFLAGS}
	for i, v := range vals {
		r.GPR[i] = v
	}
	return r
}

// SYSCALL leaves the CPU as a trap with RCX = the next instruction and R11 = RFLAGS.
func TestSyscallTrap(t *testing.T) {
	tm := newTestMachine(t)
	r := regsWith(map[int]uint64{RAX: 60})
	r.RFLAGS |= FlagCF
	trap := tm.run([]byte{0x0f, 0x05, 0xc3}, &r, nil, 100) // syscall; ret
	require.Equal(t, TrapSyscall, trap.Kind)
	assert.Equal(t, uint64(hostcpu.CodeAddr+2), trap.RIP)
	assert.Equal(t, uint64(hostcpu.CodeAddr+2), r.GPR[RCX])
	assert.Equal(t, r.RFLAGS, r.GPR[R11])
	assert.Equal(t, uint64(1), tm.cpu.Instructions())
}

// An instruction the CPU does not implement is #UD with RIP at it, naming its bytes and
// mnemonic; undecodable bytes are #UD too.
func TestUndefinedInstructionIsNamed(t *testing.T) {
	tm := newTestMachine(t)
	for _, tc := range []struct {
		name     string
		code     []byte
		mnemonic string
	}{
		{"ud2", []byte{0x0f, 0x0b}, "ud2"},
		{"unimplemented (aesenc)", []byte{0x66, 0x0f, 0x38, 0xdc, 0xc1}, "aesenc"},
		{"undecodable", []byte{0x0f, 0x04}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := regsWith(nil)
			code := append([]byte{0x90}, tc.code...) // nop first: RIP must point past it
			trap := tm.run(append(code, 0xc3), &r, nil, 100)
			require.Equal(t, TrapException, trap.Kind, trap.String())
			assert.Equal(t, uint8(VecUD), trap.Vector)
			assert.Equal(t, uint64(hostcpu.CodeAddr+1), trap.RIP)
			assert.Equal(t, tc.code, trap.Insn[:len(tc.code)])
			if tc.mnemonic != "" {
				assert.Contains(t, trap.Mnemonic, tc.mnemonic)
				assert.Contains(t, trap.String(), tc.mnemonic)
			}
		})
	}
}

// A faulting instruction has no effect: a PUSH to an unmapped stack leaves RSP alone, a
// store to an unmapped page leaves memory and registers alone, and RIP points at it.
func TestFaultsArePrecise(t *testing.T) {
	tm := newTestMachine(t)
	// mov rsp, 0x2000_0000 (unmapped); push rax
	code := []byte{0x48, 0xc7, 0xc4, 0x00, 0x00, 0x00, 0x20, 0x50, 0xc3}
	r := regsWith(map[int]uint64{RAX: 7})
	trap := tm.run(code, &r, nil, 100)
	require.Equal(t, uint8(VecPF), trap.Vector, trap.String())
	assert.Equal(t, uint64(0x2000_0000-8), trap.Addr)
	assert.Equal(t, mmu.ErrWrite|mmu.ErrUser, trap.Code)
	assert.Equal(t, uint64(hostcpu.CodeAddr+7), trap.RIP)
	assert.Equal(t, uint64(0x2000_0000), r.GPR[RSP], "RSP unchanged by the faulting push")
	assert.Equal(t, uint64(1), tm.cpu.Instructions(), "only the mov retired")

	// add [rdi], rax where [rdi] is a read-only... here: a fetch-only check of an
	// instruction straddling into an unmapped page faults on the second page's address.
	tm2 := newTestMachine(t)
	last := uint64(hostcpu.CodeAddr + codePages*4096)
	straddle := make([]byte, codePages*4096)
	for i := range straddle {
		straddle[i] = 0x90
	}
	copy(straddle[len(straddle)-2:], []byte{0x48, 0xb8}) // mov rax, imm64 crossing the end
	r2 := regsWith(nil)
	trap = tm2.run(straddle, &r2, nil, 1<<20)
	require.Equal(t, uint8(VecPF), trap.Vector, trap.String())
	assert.Equal(t, last, trap.Addr, "the fetch of the second page faults")
	assert.Equal(t, last-2, trap.RIP, "RIP at the straddling instruction")
	assert.Equal(t, mmu.ErrUser|mmu.ErrFetch, trap.Code)
}

// DIV by zero and a quotient overflow are #DE with nothing changed.
func TestDivideErrors(t *testing.T) {
	tm := newTestMachine(t)
	for _, tc := range []struct {
		name string
		regs map[int]uint64
	}{
		{"divide by zero", map[int]uint64{RAX: 5, RDX: 0, RCX: 0}},
		{"quotient too large", map[int]uint64{RAX: 0, RDX: 5, RCX: 5}},
	} {
		r := regsWith(tc.regs)
		trap := tm.run([]byte{0x48, 0xf7, 0xf1, 0xc3}, &r, nil, 10) // div rcx
		require.Equal(t, uint8(VecDE), trap.Vector, tc.name)
		assert.Equal(t, tc.regs[RAX], r.GPR[RAX], tc.name)
		assert.Equal(t, uint64(hostcpu.CodeAddr), trap.RIP)
	}
}

// The CET instructions x86asm misdecodes run as NOPs, as on a CPU with CET disabled.
func TestCETHintsAreNops(t *testing.T) {
	for _, tc := range []struct {
		name string
		code []byte
		// hostDiffers: a host CPU that implements CET raises #UD for INCSSP while shadow
		// stacks are off; a CPU without CET (what our CPUID reports) runs F3 0F AE /5 as
		// LFENCE with an ignored prefix, a NOP. So that one is not run natively.
		hostDiffers bool
	}{
		{"endbr64", []byte{0xf3, 0x0f, 0x1e, 0xfa}, false},
		{"endbr32", []byte{0xf3, 0x0f, 0x1e, 0xfb}, false},
		{"rdsspq rax", []byte{0xf3, 0x48, 0x0f, 0x1e, 0xc8}, false},
		{"rdsspd eax", []byte{0xf3, 0x0f, 0x1e, 0xc8}, false},
		{"incsspq rax", []byte{0xf3, 0x48, 0x0f, 0xae, 0xe8}, true},
		{"hint nop 0f 1e with memory operand", []byte{0x0f, 0x1e, 0x84, 0x00, 1, 2, 3, 4}, false},
		{"bndmov (0f 1b) as nop", []byte{0x66, 0x0f, 0x1b, 0x04, 0x24}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, ok := decodeOne(append(tc.code, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90))
			require.True(t, ok)
			assert.Equal(t, opNop, in.op)
			assert.Equal(t, len(tc.code), int(in.len))
			if tc.hostDiffers {
				return
			}
			// And on the host, the same bytes followed by ret change nothing.
			host := regsWith(map[int]uint64{RAX: 0x1234})
			require.NoError(t, hostRun(t, append(append([]byte{}, tc.code...), 0xc3), &host, make([]byte, 64)))
			assert.Equal(t, uint64(0x1234), host.GPR[RAX])
		})
	}
}

// A store into code that has been decoded drops the decoded copy: code that writes an
// instruction and then runs it runs the new instruction.
func TestSelfModifyingCode(t *testing.T) {
	tm := newTestMachine(t)
	// loop: mov eax, 1 ; (patched to mov eax, 2) ; mov byte [rip - 5 - 7], 2 ; dec ecx ; jnz loop ; ret
	//   0: b8 01 00 00 00         mov eax, 1
	//   5: c6 05 f5 ff ff ff 02   mov byte [rip-11], 2   (rip = 12, target = 1)
	//  12: ff c9                  dec ecx
	//  14: 75 f0                  jnz 0
	//  16: c3
	code := []byte{0xb8, 1, 0, 0, 0, 0xc6, 0x05, 0xf5, 0xff, 0xff, 0xff, 0x02, 0xff, 0xc9, 0x75, 0xf0, 0xc3}
	host := regsWith(map[int]uint64{RCX: 2})
	require.NoError(t, hostRun(t, code, &host, nil))
	emu := regsWith(map[int]uint64{RCX: 2})
	trap := tm.run(code, &emu, nil, 100)
	require.True(t, returned(trap), trap.String())
	assert.Equal(t, uint64(2), host.GPR[RAX])
	assert.Equal(t, host.GPR[RAX], emu.GPR[RAX])
	assert.NotZero(t, tm.cpu.Stats().CodeInvalid)
}

// Random bytes as code never crash the emulator: they run, or stop with #UD, #GP, #PF,
// #DE, #BP, a SYSCALL or the budget, and never with an internal error.
func TestRandomCodeNeverCrashes(t *testing.T) {
	tm := newTestMachine(t)
	rng := rand.New(rand.NewPCG(7, 11))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		code := make([]byte, 64)
		for j := range code {
			code[j] = byte(rng.Uint32())
		}
		r := randomRegs(rng)
		r.GPR[RSI] = hostcpu.DataAddr
		trap := tm.run(code, &r, nil, 200)
		require.NotEqual(t, TrapInternal, trap.Kind, "code % x: %v", code, trap.Err)
	}
}

// Run stops after exactly the budget, at an instruction boundary, and resumes there.
func TestBudgetIsExact(t *testing.T) {
	tm := newTestMachine(t)
	// inc rax x 10; ret
	code := []byte{}
	for i := 0; i < 10; i++ {
		code = append(code, 0x48, 0xff, 0xc0)
	}
	code = append(code, 0xc3)
	r := regsWith(nil)
	trap := tm.run(code, &r, nil, 4)
	assert.Equal(t, TrapBudget, trap.Kind)
	assert.Equal(t, uint64(4), r.GPR[RAX])
	assert.Equal(t, uint64(hostcpu.CodeAddr+12), tm.cpu.RIP())
	trap = tm.cpu.Run(100)
	assert.True(t, returned(trap))
	var s State
	tm.cpu.Save(&s)
	assert.Equal(t, uint64(10), s.GPR[RAX])
	assert.Equal(t, uint64(11), tm.cpu.Instructions())
}
