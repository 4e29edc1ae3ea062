package cpu

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeSeq decodes a straight-line sequence the way decodeBlock lays it out.
func decodeSeq(t *testing.T, code []byte) []inst {
	t.Helper()
	var out []inst
	for off := 0; off < len(code); {
		buf := make([]byte, maxInstLen)
		copy(buf, code[off:])
		in, ok := decodeOne(buf)
		require.True(t, ok)
		in.off = uint16(off)
		out = append(out, in)
		off += int(in.len)
	}
	return out
}

// The optimizer's decisions, one row per rule: which fast op an instruction gets, whether
// its flags are dropped as dead, and which compare-and-branch pairs fuse.
func TestBlockOptimizer(t *testing.T) {
	for _, tc := range []struct {
		name string
		code []byte
		ops  []uint16 // expected op of each instruction
		dead []bool   // expected hFlagsDead of each instruction
	}{
		{"flags overwritten by the next ALU op are dead",
			[]byte{0x48, 0x01, 0xd8, 0x48, 0x29, 0xd1}, // add rax, rbx ; sub rcx, rdx
			[]uint16{opAdd64RR, opSub64RR}, []bool{true, false}},
		{"flags at the block end are live",
			[]byte{0x48, 0x31, 0xc0}, // xor rax, rax
			[]uint16{opXor64RR}, []bool{false}},
		{"a reader keeps them live: adc reads CF",
			[]byte{0x48, 0x01, 0xd8, 0x48, 0x11, 0xd1, 0x48, 0x29, 0xd1}, // add ; adc rcx, rdx ; sub
			[]uint16{opAdd64RR, opALU, opSub64RR}, []bool{false, false, false}},
		{"an instruction that may fault keeps them live",
			[]byte{0x48, 0x01, 0xd8, 0x48, 0x8b, 0x06, 0x48, 0x29, 0xd1}, // add ; mov rax, [rsi] ; sub
			[]uint16{opAdd64RR, opLoad64, opSub64RR}, []bool{false, false, false}},
		{"inc keeps CF, so a live inc keeps the writer before it",
			[]byte{0x48, 0x01, 0xd8, 0x48, 0xff, 0xc1}, // add rax, rbx ; inc rcx
			[]uint16{opAdd64RR, opInc64}, []bool{false, false}},
		{"a dead inc needs no CF",
			[]byte{0x48, 0x01, 0xd8, 0x48, 0xff, 0xc1, 0x48, 0x29, 0xd1}, // add ; inc rcx ; sub
			[]uint16{opAdd64RR, opInc64, opSub64RR}, []bool{true, true, false}},
		{"cmp and jcc fuse, the jcc stays in place",
			[]byte{0x48, 0x39, 0xc8, 0x75, 0x00, 0x48, 0x83, 0xf8, 0x05, 0x74, 0x00}, // cmp ; jnz ; cmp rax, 5 ; jz
			[]uint16{opCmpJccRR, opJcc, opCmpJccRI, opJcc}, []bool{false, false, false, false}},
		{"32-bit forms and immediates",
			[]byte{0x89, 0xd8, 0x83, 0xc0, 0x07, 0xc1, 0xe0, 0x03, 0xb8, 0x2a, 0, 0, 0}, // mov eax, ebx ; add eax, 7 ; shl eax, 3 ; mov eax, 42
			// mov+add fuse (slot 0 does both, slot 1 is skipped); shl: live at the end
			[]uint16{opAdd32F, opAdd32RI, opShl32RI, opMovRI}, []bool{true, true, false, false}},
		{"a register MOV fuses with the ALU op that overwrites its destination",
			// mov rax, rdx ; shl rax, 13 ; mov rcx, rbx ; add rcx, rcx ; mov esi, edi ; xor rsi, rax
			[]byte{0x48, 0x89, 0xd0, 0x48, 0xc1, 0xe0, 0x0d, 0x48, 0x89, 0xd9, 0x48, 0x01, 0xc9,
				0x89, 0xfe, 0x48, 0x31, 0xc6},
			// a 32-bit MOV zero-extends: it does not fuse with a 64-bit op
			[]uint16{opShl64F, opShl64RI, opAdd64F, opAdd64RR, opMovRR32, opXor64RR},
			[]bool{true, true, true, true, false, false}},
		{"a shift by a zero count changes no flags and stays generic",
			[]byte{0x48, 0xc1, 0xe0, 0x00}, // shl rax, 0
			[]uint16{opShift}, []bool{false}},
		{"byte and 16-bit ALU get the narrow fast op, AH..BH stay generic",
			[]byte{0x00, 0xd8, 0x66, 0x01, 0xd8, 0x00, 0xdc, 0x40, 0x18, 0xf6, 0x0a, 0x06}, // add al, bl ; add ax, bx ; add ah, bl ; sbb sil, sil ; or al, [rsi]
			[]uint16{opAluRn, opAluRn, opALU, opAluRn, opAluRn}, []bool{false, false, false, false, false}},
		{"byte and 16-bit NEG and shifts by an immediate get narrow fast ops",
			[]byte{0x66, 0x41, 0xc1, 0xe9, 0x08, 0x66, 0xf7, 0xd9, 0xd0, 0xf8, 0xc0, 0xe0, 0x00, 0xf6, 0xdc}, // shr r9w, 8 ; neg cx ; sar al, 1 ; shl al, 0 ; neg ah
			[]uint16{opShiftRIn, opNegRn, opShiftRIn, opShift, opNeg}, []bool{false, false, false, false, false}},
		{"FS-relative and 32-bit addresses stay generic",
			[]byte{0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0, 0x67, 0x8b, 0x06}, // mov rax, fs:[0x28] ; mov eax, [esi]
			[]uint16{opMov, opMov}, []bool{false, false}},
		{"loads, stores, lea, push and pop",
			[]byte{0x48, 0x8b, 0x44, 0x8e, 0x10, 0x89, 0x07, 0x48, 0x8d, 0x04, 0x49, 0x53, 0x5b, 0x0f, 0xb6, 0x07},
			[]uint16{opLoad64, opStore32, opLea64, opPushR, opPopR, opLoadZx8}, []bool{false, false, false, false, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := optimize(decodeSeq(t, tc.code))
			require.Len(t, out, len(tc.ops))
			for i := range out {
				assert.Equal(t, tc.ops[i], out[i].op, "instruction %d (%s)", i, out[i].String())
				assert.Equal(t, tc.dead[i], out[i].hint&hFlagsDead != 0, "dead flags of instruction %d (%s)", i, out[i].String())
			}
		})
	}
}

// A RIP-relative operand gets a displacement relative to the block start in the fast form,
// and keeps the architectural one in the raw form.
func TestRIPRelativeFastForm(t *testing.T) {
	// nop ; mov rax, [rip+0x100]
	raw := decodeSeq(t, []byte{0x90, 0x48, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00})
	out := optimize(raw)
	assert.Equal(t, opLoad64, out[1].op)
	assert.Equal(t, int64(0x100), raw[1].disp)
	assert.Equal(t, int64(0x100+1+7), out[1].disp, "disp + offset + length")
}

func TestFusedMoveOperands(t *testing.T) {
	// mov rcx, rbx ; add rcx, rcx: the add's source is the MOV's destination, so the fused
	// op reads rbx for both operands.
	out := optimize(decodeSeq(t, []byte{0x48, 0x89, 0xd9, 0x48, 0x01, 0xc9}))
	assert.Equal(t, opAdd64F, out[0].op)
	assert.Equal(t, uint8(RBX), out[0].base)
	assert.Equal(t, uint8(RBX), out[0].src)
	assert.Equal(t, uint8(RCX), out[0].dst)
}

// TestFusedMoveMatchesRaw runs random straight-line sequences rich in MOV + ALU pairs two
// ways: whole (the optimized block, with its fused ops) and one instruction at a time (a
// budget of one runs the instructions as decoded), and stops the whole run at every budget
// in between. Every state must be the same: the registers, the flags and the instruction
// count, including a budget that ends between the two halves of a fused pair.
func TestFusedMoveMatchesRaw(t *testing.T) {
	regs := []byte{0, 1, 2, 3, 6, 7}            // rax rcx rdx rbx rsi rdi
	alu := []byte{0x01, 0x29, 0x21, 0x09, 0x31} // add sub and or xor r/m, r
	immOp := []byte{0, 5, 4, 1, 6}              // /0 add, /5 sub, /4 and, /1 or, /6 xor (83 /n ib)
	shOp := []byte{4, 5, 7, 0, 1}               // shl shr sar rol ror (C1 /n ib)
	r := rand.New(rand.NewPCG(13, 2))
	modrm := func(reg, rm byte) byte { return 0xc0 | reg<<3 | rm }
	tm := newTestMachine(t)
	for n := 0; n < 300; n++ {
		var code []byte
		for k := 0; k < 10; k++ {
			d, s, x := regs[r.IntN(len(regs))], regs[r.IntN(len(regs))], regs[r.IntN(len(regs))]
			w := []byte{0x48}
			if r.IntN(3) == 0 {
				w = nil // 32-bit
			}
			mw := []byte{0x48}
			if r.IntN(3) == 0 {
				mw = nil
			}
			code = append(code, mw...)
			code = append(code, 0x89, modrm(s, d)) // mov d, s
			code = append(code, w...)
			switch r.IntN(3) {
			case 0:
				code = append(code, alu[r.IntN(len(alu))], modrm(x, d))
			case 1:
				code = append(code, 0x83, modrm(immOp[r.IntN(len(immOp))], d), byte(r.IntN(256)))
			default:
				code = append(code, 0xc1, modrm(shOp[r.IntN(len(shOp))], d), byte(r.IntN(64)))
			}
		}
		code = append(code, 0xc3) // ret
		init := regsWith(map[int]uint64{RAX: r.Uint64(), RCX: r.Uint64(), RDX: r.Uint64(),
			RBX: r.Uint64(), RSI: r.Uint64() >> r.IntN(64), RDI: uint64(r.IntN(3))})
		// One instruction at a time.
		var steps []hostcpu.Regs
		s := init
		tm.writeVirt(hostcpu.CodeAddr, code)
		var st State
		st.GPR = s.GPR
		st.GPR[RSP] = hostcpu.EntryRSP
		st.RIP, st.RFLAGS = hostcpu.CodeAddr, s.RFLAGS
		var ret [8]byte
		binary.LittleEndian.PutUint64(ret[:], sentinel)
		tm.writeVirt(hostcpu.EntryRSP, ret[:])
		tm.cpu.Load(&st)
		for i := 0; i < 40; i++ {
			tr := tm.cpu.Run(1)
			var now State
			tm.cpu.Save(&now)
			if tr.Kind != TrapBudget {
				break // past the RET: a fetch at the sentinel
			}
			steps = append(steps, hostcpu.Regs{GPR: now.GPR, RFLAGS: now.RFLAGS})
		}
		for budget := 1; budget <= len(steps); budget++ {
			s := init
			before := tm.cpu.Instructions()
			tm.run(code, &s, nil, uint64(budget))
			require.Equal(t, uint64(budget), tm.cpu.Instructions()-before, "sequence %d budget %d: % x", n, budget, code)
			want := steps[budget-1]
			want.GPR[RSP] = s.GPR[RSP]
			require.Equal(t, want.GPR, s.GPR, "sequence %d budget %d: % x", n, budget, code)
			require.Equal(t, want.RFLAGS&ArithFlags, s.RFLAGS&ArithFlags, "sequence %d budget %d", n, budget)
		}
	}
}

// TestLoopInPlaceExact runs loops whose branch goes back to the first instruction of its own
// block (which then runs again without going back to the top of the run loop) two ways:
// as usual, and with an instruction breakpoint armed at an address never reached, which
// makes every block go through the top of the run loop and run as decoded. At every budget
// tried, and at the end, the registers, flags, instruction count and TLB statistics must
// be the same: looping in place keeps the budget exact and reports every ITLB lookup.
func TestLoopInPlaceExact(t *testing.T) {
	code := []byte{
		0xb9, 0xe8, 0x03, 0x00, 0x00, // mov ecx, 1000
		0x48, 0x01, 0xc8, // loop1: add rax, rcx
		0x48, 0x31, 0xc2, // xor rdx, rax
		0x88, 0x17, //       mov [rdi], dl
		0x48, 0xff, 0xc9, // dec rcx
		0x75, 0xf3, //       jnz loop1
		0xbe, 0x64, 0x00, 0x00, 0x00, // mov esi, 100
		0x48, 0x83, 0xee, 0x01, // loop2: sub rsi, 1
		0x74, 0x05, //             jz out
		0x48, 0x01, 0xf3, //       add rbx, rsi
		0xeb, 0xf5, //             jmp loop2
		0xc3, // out: ret
	}
	type result struct {
		regs       hostcpu.Regs
		icount     uint64
		itlb, dtlb tlb.Stats
		trap       TrapKind
	}
	run := func(budget uint64, armed bool) result {
		tm := newTestMachine(t)
		if armed {
			tm.cpu.SetBreakpoints([]Breakpoint{{Space: tm.space(), Addr: hostcpu.CodeAddr + 0x800}})
		}
		r := regsWith(map[int]uint64{RAX: 7, RDI: hostcpu.DataAddr})
		tr := tm.run(code, &r, nil, budget)
		return result{r, tm.cpu.Instructions(), tm.mmu.ITLB.Stats, tm.mmu.DTLB.Stats, tr.Kind}
	}
	budgets := []uint64{1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 100, 101, 4999, 5000, 5001, 5002,
		5003, 5006, 5007, 5100, 5400, 5499, 5500, 1 << 30}
	for _, budget := range budgets {
		want, got := run(budget, true), run(budget, false)
		require.Equal(t, want, got, "budget %d", budget)
	}
	end := run(1<<30, false)
	require.Equal(t, TrapException, end.trap, "the RET to the sentinel ends the run")
	// The blocks at the start, loop1 (999 entries), loop2 (99), out, and the fetch at the
	// sentinel the RET returns to.
	require.Equal(t, uint64(1+999+99+1+1), end.itlb.Hits+end.itlb.Misses, "one ITLB lookup per entry into a block")
}

// MOVS and STOS without REP run as fast ops; a store that faults leaves RSI and RDI as they
// were, with RIP at the instruction, as the exact path does.
func TestFastStringFaultLeavesPointers(t *testing.T) {
	tm := newTestMachine(t)
	ro := uint64(hostcpu.DataAddr + dataPages*4096 + 0x10_0000)
	tm.mapPage(ro, mmu.PTEUser) // present, read-only
	for _, tc := range []struct {
		name string
		code []byte
	}{
		{"movsb", []byte{0xa4, 0xc3}},
		{"movsq", []byte{0x48, 0xa5, 0xc3}},
		{"stosd", []byte{0xab, 0xc3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// First into writable memory: the element moves and both pointers advance.
			r := regsWith(map[int]uint64{RSI: hostcpu.DataAddr, RDI: hostcpu.DataAddr + 64, RAX: 0x1122334455667788})
			trap := tm.run(tc.code, &r, nil, 100)
			require.True(t, returned(trap), trap.String())
			require.Greater(t, r.GPR[RDI], uint64(hostcpu.DataAddr+64))
			// Then into the read-only page: #PF, nothing moved.
			r = regsWith(map[int]uint64{RSI: hostcpu.DataAddr, RDI: ro + 8, RAX: 1})
			trap = tm.run(tc.code, &r, nil, 100)
			require.Equal(t, TrapException, trap.Kind, trap.String())
			require.Equal(t, uint8(VecPF), trap.Vector)
			require.Equal(t, uint64(hostcpu.CodeAddr), trap.RIP)
			require.Equal(t, uint64(hostcpu.DataAddr), r.GPR[RSI])
			require.Equal(t, ro+8, r.GPR[RDI])
		})
	}
}

// A REP MOVS or REP STOS with a zero count (RCX, or ECX under a 32-bit address size) does
// nothing: no access even through wild pointers, no register written, and the block goes
// on (the fast op opRepMS); with a count it runs and faults as the instruction does.
func TestRepZeroCountDoesNothing(t *testing.T) {
	tm := newTestMachine(t)
	ro := uint64(hostcpu.DataAddr + dataPages*4096 + 0x10_0000)
	tm.mapPage(ro, mmu.PTEUser) // present, read-only
	// rep movsq ; rep stosb ; addr32 rep movsq ; add rax, 1 ; ret
	code := []byte{0xf3, 0x48, 0xa5, 0xf3, 0xaa, 0x67, 0xf3, 0x48, 0xa5, 0x48, 0x83, 0xc0, 0x01, 0xc3}
	for _, rcx := range []uint64{0, 1 << 32} {
		wild := uint64(0x10) // unmapped
		r := regsWith(map[int]uint64{RCX: rcx, RSI: wild, RDI: wild + 8, RAX: 41})
		before := tm.cpu.Instructions()
		trap := tm.run(code, &r, nil, 100)
		if rcx != 0 {
			// The first REP MOVSQ has a 64-bit count: it faults on the wild source.
			require.Equal(t, TrapException, trap.Kind, trap.String())
			require.Equal(t, uint8(VecPF), trap.Vector)
			require.Equal(t, uint64(hostcpu.CodeAddr), trap.RIP)
			require.Equal(t, rcx, r.GPR[RCX])
			continue
		}
		require.True(t, returned(trap), trap.String())
		require.Equal(t, uint64(42), r.GPR[RAX])
		require.Equal(t, []uint64{0, wild, wild + 8}, []uint64{r.GPR[RCX], r.GPR[RSI], r.GPR[RDI]})
		require.Equal(t, uint64(5), tm.cpu.Instructions()-before)
	}
	// A 32-bit address size counts with ECX alone.
	r0 := regsWith(map[int]uint64{RCX: 1 << 32, RSI: 0x10, RDI: 0x18, RAX: 41})
	require.True(t, returned(tm.run(code[5:], &r0, nil, 100)))
	require.Equal(t, []uint64{42, 1 << 32, 0x10, 0x18}, []uint64{r0.GPR[RAX], r0.GPR[RCX], r0.GPR[RSI], r0.GPR[RDI]})
	// With a count: the copy runs, then a store into the read-only page faults at it.
	r := regsWith(map[int]uint64{RCX: 2, RSI: hostcpu.DataAddr, RDI: ro, RAX: 0})
	trap := tm.run([]byte{0xf3, 0x48, 0xa5, 0xc3}, &r, nil, 100)
	require.Equal(t, TrapException, trap.Kind, trap.String())
	require.Equal(t, uint8(VecPF), trap.Vector)
	require.Equal(t, uint64(hostcpu.CodeAddr), trap.RIP)
	require.Equal(t, uint64(2), r.GPR[RCX])
}

// The fast forms with memory operands look up the TLB as often as the instructions as
// decoded do (a read-modify-write: the write check, the read, the write), so the TLB
// statistics are the same either way: the raw path is forced by an instruction breakpoint
// armed at an address never reached, as in TestLoopInPlaceExact.
func TestFastMemoryFormsCountTLBLookups(t *testing.T) {
	code := []byte{
		0x48, 0x01, 0x07, // add [rdi], rax
		0x48, 0x83, 0x6f, 0x08, 0x05, // sub qword [rdi+8], 5
		0x83, 0x47, 0x10, 0x01, // add dword [rdi+16], 1
		0x66, 0x83, 0x77, 0x18, 0x7f, // xor word [rdi+24], 0x7f
		0x80, 0x4f, 0x1a, 0x40, // or byte [rdi+26], 0x40
		0x0a, 0x07, // or al, [rdi]
		0x66, 0x2b, 0x4f, 0x08, // sub cx, [rdi+8]
		0xf6, 0x07, 0x01, // test byte [rdi], 1
		0x48, 0x0f, 0xbe, 0x57, 0x10, // movsx rdx, byte [rdi+16]
		0x48, 0x39, 0x47, 0x08, // cmp [rdi+8], rax
		0xc3, // ret
	}
	type result struct {
		regs       hostcpu.Regs
		mem        []byte
		itlb, dtlb tlb.Stats
	}
	run := func(armed bool) result {
		tm := newTestMachine(t)
		if armed {
			tm.cpu.SetBreakpoints([]Breakpoint{{Space: tm.space(), Addr: hostcpu.CodeAddr + 0x800}})
		}
		r := regsWith(map[int]uint64{RAX: 0x1234_5678_9abc_def1, RCX: 77, RDI: hostcpu.DataAddr + 0x100})
		mem := make([]byte, 0x200)
		for i := range mem {
			mem[i] = byte(i * 7)
		}
		trap := tm.run(code, &r, mem, 1000)
		require.True(t, returned(trap), trap.String())
		return result{r, mem, tm.mmu.ITLB.Stats, tm.mmu.DTLB.Stats}
	}
	want, got := run(true), run(false)
	require.Equal(t, want.regs, got.regs)
	require.Equal(t, want.mem, got.mem)
	require.Equal(t, want.dtlb, got.dtlb, "DTLB")
	require.Equal(t, want.itlb, got.itlb, "ITLB")
	require.Equal(t, opAluMR, optimize(decodeSeq(t, code[:3]))[0].op, "the first one is a fast form")
}

// A register MOV and the op that later overwrites its destination become one op when the
// op can move up over what lies between (hoistToMove); the instructions keep their slots.
func TestHoistToMove(t *testing.T) {
	for _, tc := range []struct {
		name string
		code []byte
		ops  []uint16
	}{
		{"over unrelated register work",
			// mov ebp, esi ; xor ecx, edi ; add ecx, r8d ; and ebp, eax ; sub edx, edx
			[]byte{0x89, 0xf5, 0x31, 0xf9, 0x44, 0x01, 0xc1, 0x21, 0xc5, 0x29, 0xd2},
			[]uint16{opAnd32F, opAnd32RR, opXor32RR, opAdd32RR, opSub32RR}},
		{"not over a reader of the MOV's destination",
			// mov ebp, esi ; add ecx, ebp ; and ebp, eax
			[]byte{0x89, 0xf5, 0x01, 0xe9, 0x21, 0xc5},
			[]uint16{opMovRR32, opAdd32RR, opAnd32RR}},
		{"not over a write of the op's source",
			// mov ebp, esi ; mov eax, ecx ; and ebp, eax (the MOVs are a pair: fusePairs)
			[]byte{0x89, 0xf5, 0x89, 0xc8, 0x21, 0xc5},
			[]uint16{opMov2, opMovRR32, opAnd32RR}},
		{"not over a load, which may fault",
			// mov ebp, esi ; mov eax, [rdi] ; and ebp, ecx
			[]byte{0x89, 0xf5, 0x8b, 0x07, 0x21, 0xcd},
			[]uint16{opMovRR32, opLoad32, opAnd32RR}},
		{"an op with live flags over a flag writer, which is dead then",
			// mov ebp, esi ; xor ecx, edi ; and ebp, eax (its flags live at the end)
			[]byte{0x89, 0xf5, 0x31, 0xf9, 0x21, 0xc5},
			[]uint16{opAnd32F, opAnd32RR, opXor32RR}},
		{"a MOV, a rotate and an ALU op taking the rotated register are one op",
			// mov r9d, eax ; rol r9d, 10 ; xor esi, r9d ; ror esi, 6 ; add r10d, esi
			[]byte{0x41, 0x89, 0xc1, 0x41, 0xc1, 0xc1, 0x0a, 0x44, 0x31, 0xce, 0xc1, 0xce, 0x06, 0x41, 0x01, 0xf2},
			[]uint16{opRolAlu, opRolRI, opXor32RR, opRorRI, opAdd32RR}},
		{"a rotate with live flags does not move",
			// mov ebp, esi ; xor ecx, edi ; rol ebp, 3 (its flags live at the end)
			[]byte{0x89, 0xf5, 0x31, 0xf9, 0xc1, 0xc5, 0x03},
			[]uint16{opMovRR32, opXor32RR, opRolRI}},
		{"an op with live flags over a LEA",
			// mov rbp, rsi ; lea rcx, [rdi+8] ; and rbp, rax
			[]byte{0x48, 0x89, 0xf5, 0x48, 0x8d, 0x4f, 0x08, 0x48, 0x21, 0xc5},
			[]uint16{opAnd64F, opAnd64RR, opLea64}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := optimize(decodeSeq(t, tc.code))
			require.Len(t, out, len(tc.ops))
			for i := range out {
				assert.Equal(t, tc.ops[i], out[i].op, "instruction %d (%s)", i, out[i].String())
			}
		})
	}
}

// TestHoistedMoveMatchesRaw runs random register-only sequences over six registers (so
// MOVs, the ops that overwrite their destinations and the work in between meet often) two
// ways: whole (optimized: hoisted, fused, flags dropped) and one instruction at a time as
// decoded. The registers and flags at the end must be the same.
func TestHoistedMoveMatchesRaw(t *testing.T) {
	regs := []byte{0, 1, 2, 3, 6, 7} // rax rcx rdx rbx rsi rdi (setcc on the last two: DH, BH)
	r := rand.New(rand.NewPCG(21, 5))
	modrm := func(reg, rm byte) byte { return 0xc0 | reg<<3 | rm }
	tm := newTestMachine(t)
	hoisted := 0
	for n := 0; n < 400; n++ {
		var code []byte
		for k := 0; k < 6+r.IntN(14); k++ {
			d, s := regs[r.IntN(len(regs))], regs[r.IntN(len(regs))]
			w := []byte{0x48}
			if r.IntN(3) == 0 {
				w = nil
			}
			code = append(code, w...)
			switch r.IntN(13) {
			case 12:
				// mov d, s ; rol/ror d, n ; op x, d: fuseRotAlu's shape (x may be d or s)
				x := regs[r.IntN(len(regs))]
				code = append(code, 0x89, modrm(s, d))
				code = append(code, w...)
				code = append(code, 0xc1, modrm(byte(r.IntN(2)), d), byte(1+r.IntN(70)))
				code = append(code, w...)
				code = append(code, []byte{0x01, 0x29, 0x21, 0x09, 0x31}[r.IntN(5)], modrm(d, x))
			case 0:
				// mov d, s ; work on other registers ; op d, x: the shape hoistToMove looks for
				// (x, and the work, may still meet d or s: then it must not move)
				code = append(code, 0x89, modrm(s, d))
				for m := r.IntN(4); m > 0; m-- {
					a, b := regs[r.IntN(len(regs))], regs[r.IntN(len(regs))]
					code = append(code, 0x48, []byte{0x01, 0x31, 0x89, 0x85}[r.IntN(4)], modrm(b, a))
				}
				code = append(code, w...)
				code = append(code, []byte{0x01, 0x29, 0x21, 0x09, 0x31}[r.IntN(5)], modrm(regs[r.IntN(len(regs))], d))
			case 1, 2:
				code = append(code, 0x89, modrm(s, d)) // mov d, s
			case 3, 4:
				code = append(code, []byte{0x01, 0x29, 0x21, 0x09, 0x31, 0x39, 0x85}[r.IntN(7)], modrm(s, d))
			case 5:
				code = append(code, 0x83, modrm([]byte{0, 5, 4, 1, 6, 7}[r.IntN(6)], d), byte(r.IntN(256)))
			case 6:
				code = append(code, 0xc1, modrm([]byte{4, 5, 7, 0, 1}[r.IntN(5)], d), byte(1+r.IntN(70)))
			case 7:
				code = append(code, 0x8d, 0x44|d<<3, s<<3|regs[r.IntN(len(regs))], byte(r.IntN(256))) // lea d, [b + s + disp8]
			case 8:
				code = append(code, 0x0f, 0xaf, modrm(d, s)) // imul d, s
			case 9:
				g := byte(r.IntN(4)) // ff /0 inc, ff /1 dec, f7 /2 not, f7 /3 neg
				code = append(code, []byte{0xff, 0xff, 0xf7, 0xf7}[g], modrm(g, d))
			case 10:
				code = append(code, 0x0f, 0x40|byte(r.IntN(16)), modrm(d, s)) // cmovcc d, s
			default:
				code = append(code[:len(code)-len(w)], 0x0f, 0x90|byte(r.IntN(16)), modrm(0, d)) // setcc d8
			}
		}
		code = append(code, 0xc3)
		raw := decodeSeq(t, code)
		out := optimize(raw)
		for i := range out {
			if out[i].off != raw[i].off {
				hoisted++
				break
			}
		}
		init := regsWith(map[int]uint64{RAX: r.Uint64(), RCX: r.Uint64() >> r.IntN(64), RDX: r.Uint64(), RBX: uint64(r.IntN(3))})
		init.RFLAGS = uint64(r.IntN(0x900)) & ArithFlags
		whole := init
		tm.run(code, &whole, nil, 1000)
		stepped := init
		tm.writeVirt(hostcpu.CodeAddr, code)
		var st State
		st.GPR = stepped.GPR
		st.GPR[RSP] = hostcpu.EntryRSP
		st.RIP, st.RFLAGS = hostcpu.CodeAddr, stepped.RFLAGS
		var ret [8]byte
		binary.LittleEndian.PutUint64(ret[:], sentinel)
		tm.writeVirt(hostcpu.EntryRSP, ret[:])
		tm.cpu.Load(&st)
		for i := 0; i < len(raw)-1; i++ {
			require.Equal(t, TrapBudget, tm.cpu.Run(1).Kind)
		}
		tm.cpu.Save(&st)
		require.Equal(t, st.GPR[:RSP], whole.GPR[:RSP], "sequence %d: % x", n, code)
		require.Equal(t, st.GPR[RSP+1:], whole.GPR[RSP+1:], "sequence %d: % x", n, code)
		require.Equal(t, st.RFLAGS&ArithFlags, whole.RFLAGS&ArithFlags, "sequence %d: % x", n, code)
	}
	require.Greater(t, hoisted, 20, "sequences with a hoisted op")
}

// Two PUSHes or two POPs in a row are one op (fusePushPop). Run whole and as decoded (an
// instruction breakpoint armed at an address never reached makes every block run as
// decoded), they must leave the same registers, stack, trap and TLB statistics: with RSP
// in the middle of the stack, and where the second access of a pair faults (the first must
// have happened, RIP at the second).
func TestPushPopPairsMatchRaw(t *testing.T) {
	code := []byte{
		0x50, 0x53, // push rax ; push rbx
		0x54, 0x41, 0x57, // push rsp ; push r15
		0x59, 0x5a, // pop rcx ; pop rdx
		0x5e, 0x5f, // pop rsi ; pop rdi
		0x41, 0x58, 0xc3, // pop r8 ; ret (r8 pops the return address the test put there)
	}
	out := optimize(decodeSeq(t, code))
	require.Equal(t, []uint16{opPush2, opPushR, opPush2, opPushR, opPop2, opPopR, opPop2, opPopR},
		[]uint16{out[0].op, out[1].op, out[2].op, out[3].op, out[4].op, out[5].op, out[6].op, out[7].op})
	bottom := uint64(hostcpu.StackTop - stackPages*4096)
	type result struct {
		trap       Trap
		st         State
		stack      []byte
		itlb, dtlb tlb.Stats
	}
	run := func(rsp uint64, armed bool) result {
		tm := newTestMachine(t)
		if armed {
			tm.cpu.SetBreakpoints([]Breakpoint{{Space: tm.space(), Addr: hostcpu.CodeAddr + 0x800}})
		}
		tm.writeVirt(hostcpu.CodeAddr, code)
		var ret [16]byte
		binary.LittleEndian.PutUint64(ret[:], sentinel) // popped by pop r8
		binary.LittleEndian.PutUint64(ret[8:], sentinel)
		if rsp+16 <= hostcpu.StackTop {
			tm.writeVirt(rsp, ret[:])
		}
		var st State
		for i := range st.GPR {
			st.GPR[i] = uint64(i+1) * 0x0101_0101_0101
		}
		st.GPR[RSP], st.RIP = rsp, hostcpu.CodeAddr
		tm.cpu.Load(&st)
		tr := tm.cpu.Run(1000)
		tm.cpu.Save(&st)
		stack := make([]byte, 64)
		tm.readVirt(max(rsp, bottom+64)-64, stack)
		return result{tr, st, stack, tm.mmu.ITLB.Stats, tm.mmu.DTLB.Stats}
	}
	for _, rsp := range []uint64{
		hostcpu.EntryRSP &^ 7, // in the middle: every pair in one page
		bottom + 4096 + 8,     // the second PUSH of a pair in the page below the first
		bottom + 8,            // the second PUSH of a pair faults (nothing mapped below)
		bottom + 16,           // the first PUSH of the second pair faults
		bottom + 4096 + 12,    // misaligned, across a page
	} {
		want, got := run(rsp, true), run(rsp, false)
		require.Equal(t, want, got, "RSP %#x", rsp)
	}
	// Pops from the top of the stack: the second POP of a pair reads past it and faults.
	code = []byte{0x59, 0x5a, 0xc3} // pop rcx ; pop rdx ; ret
	for _, rsp := range []uint64{hostcpu.StackTop - 8, hostcpu.StackTop - 16, hostcpu.StackTop - 4} {
		want, got := run(rsp, true), run(rsp, false)
		require.Equal(t, want, got, "RSP %#x", rsp)
		require.Equal(t, TrapException, got.trap.Kind)
	}
}
