package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
)

// Differential tests: the same instruction runs on the host CPU and on the emulated one,
// from the same registers and flags; every register and every flag the SDM defines for
// the instruction must come out equal.

// genInst is one generated instruction and the flags the SDM leaves undefined after it.
type genInst struct {
	code      []byte
	undefined uint64 // RFLAGS bits to ignore
	// undefFn, when set, computes the undefined flags from the input registers (shifts by CL).
	undefFn func(in hostcpu.Regs) uint64
	text    string
}

// shiftUndefined returns the flags the SDM leaves undefined after shift or rotate n
// (the /n of the C0 group) of a size-byte operand by count.
func shiftUndefined(n, size int, count uint64) uint64 {
	if size == 8 {
		count &= 63
	} else {
		count &= 31
	}
	if count == 0 {
		return 0 // flags unaffected: all defined
	}
	var u uint64
	if count != 1 {
		u |= FlagOF
	}
	if n >= 4 { // shifts
		u |= FlagAF
		if count > uint64(size)*8 {
			u |= FlagCF
		}
	}
	return u
}

// regOK reports whether register n may be an operand (not RSP: the harness owns the stack).
func regOK(n int) bool { return n != RSP }

// rex builds a REX prefix (0 if none is needed and force is false).
func rex(w bool, reg, rm int, force bool) []byte {
	b := byte(0x40)
	if w {
		b |= 8
	}
	if reg >= 8 {
		b |= 4
	}
	if rm >= 8 {
		b |= 1
	}
	if b == 0x40 && !force {
		return nil
	}
	return []byte{b}
}

// encode builds [66] [REX] opcode... modrm(reg, rm) [imm] for a register-register form.
// size is the operand size in bytes; op8 is the opcode for byte operands, op the other one.
func encode(size int, op8, op []byte, reg, rm int, imm []byte, force8 bool) []byte {
	var b []byte
	if size == 2 {
		b = append(b, 0x66)
	}
	b = append(b, rex(size == 8, reg, rm, size == 1 && force8)...)
	if size == 1 {
		b = append(b, op8...)
	} else {
		b = append(b, op...)
	}
	b = append(b, 0xc0|byte(reg&7)<<3|byte(rm&7))
	return append(b, imm...)
}

func le(v uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

var sizes = []int{1, 2, 4, 8}

// genRandom produces a random instruction of the integer subset.
func genRandom(r *rand.Rand) genInst {
	size := sizes[r.IntN(4)]
	reg, rm := r.IntN(16), r.IntN(16)
	for !regOK(reg) {
		reg = r.IntN(16)
	}
	for !regOK(rm) {
		rm = r.IntN(16)
	}
	force8 := r.IntN(2) == 0 // with REX, byte registers 4-7 are SPL..DIL, without, AH..BH
	if size == 1 && !force8 && (reg >= 8 || rm >= 8) {
		force8 = true
	}
	if size == 1 && !force8 && (reg == 4 || rm == 4) {
		force8 = true // would be AH: fine, but keep RSP's low byte out of it
	}
	if size == 1 && force8 && (reg == 4 || rm == 4) {
		return genRandom(r) // SPL
	}
	imm8 := []byte{byte(r.Uint32())}
	switch k := r.IntN(14); k {
	case 0, 1: // ALU reg, reg: op/8 is add or adc sbb and sub xor cmp
		o := byte(r.IntN(8))
		g := genInst{code: encode(size, []byte{o * 8}, []byte{o*8 + 1}, reg, rm, nil, force8)}
		if o == 1 || o == 4 || o == 6 {
			g.undefined = FlagAF
		}
		g.text = fmt.Sprintf("alu%d r%d, r%d size %d", o, rm, reg, size)
		return g
	case 2: // ALU reg, imm8 (83 /o ib) or 80 /o ib
		o := byte(r.IntN(8))
		g := genInst{code: encode(size, []byte{0x80}, []byte{0x83}, int(o), rm, imm8, force8)}
		if rm >= 8 {
			g.code = encode(size, []byte{0x80}, []byte{0x83}, int(o), rm, imm8, force8)
		}
		if o == 1 || o == 4 || o == 6 {
			g.undefined = FlagAF
		}
		g.text = fmt.Sprintf("alu%d r%d, imm8 size %d", o, rm, size)
		return g
	case 3: // TEST reg, reg
		return genInst{code: encode(size, []byte{0x84}, []byte{0x85}, reg, rm, nil, force8), undefined: FlagAF, text: "test"}
	case 4: // shifts and rotates by imm8 (C0/C1 /n ib), by 1 (D0/D1), by CL (D2/D3)
		n := r.IntN(8)
		if n == 6 {
			n = 4 // /6 is an undocumented alias of SHL
		}
		text := fmt.Sprintf("shift/%d r%d size %d", n, rm, size)
		switch r.IntN(3) {
		case 0:
			count := uint64(r.IntN(70))
			return genInst{code: encode(size, []byte{0xc0}, []byte{0xc1}, n, rm, []byte{byte(count)}, force8),
				undefined: shiftUndefined(n, size, count), text: text + fmt.Sprintf(" by %d", count)}
		case 1:
			return genInst{code: encode(size, []byte{0xd0}, []byte{0xd1}, n, rm, nil, force8),
				undefined: shiftUndefined(n, size, 1), text: text + " by 1"}
		}
		if rm == RCX {
			rm = RDX
		}
		return genInst{code: encode(size, []byte{0xd2}, []byte{0xd3}, n, rm, nil, force8), text: text + " by cl",
			undefFn: func(in hostcpu.Regs) uint64 { return shiftUndefined(n, size, in.GPR[RCX]&0xff) }}
	case 5: // INC, DEC (FE/FF /0 /1), NEG, NOT (F6/F7 /3 /2)
		forms := [][2]byte{{0xfe, 0}, {0xfe, 1}, {0xf6, 3}, {0xf6, 2}}
		f := forms[r.IntN(4)]
		return genInst{code: encode(size, []byte{f[0]}, []byte{f[0] + 1}, int(f[1]), rm, nil, force8), text: fmt.Sprintf("unary %x/%d", f[0], f[1])}
	case 6: // IMUL reg, reg (0F AF) and IMUL reg, reg, imm8 (6B)
		if size == 1 {
			size = 4
		}
		und := uint64(FlagSF | FlagZF | FlagAF | FlagPF)
		if r.IntN(2) == 0 {
			return genInst{code: encode(size, nil, []byte{0x0f, 0xaf}, reg, rm, nil, false), undefined: und, text: "imul2"}
		}
		return genInst{code: encode(size, nil, []byte{0x6b}, reg, rm, imm8, false), undefined: und, text: "imul3"}
	case 7: // MUL, IMUL one operand (F6/F7 /4 /5)
		return genInst{code: encode(size, []byte{0xf6}, []byte{0xf7}, 4+r.IntN(2), rm, nil, force8),
			undefined: FlagSF | FlagZF | FlagAF | FlagPF, text: "mul1"}
	case 8: // MOV reg, reg (88/89), MOVZX/MOVSX (0F B6/B7/BE/BF), MOVSXD (63)
		switch r.IntN(3) {
		case 0:
			return genInst{code: encode(size, []byte{0x88}, []byte{0x89}, reg, rm, nil, force8), text: "mov"}
		case 1:
			if size == 1 {
				size = 4
			}
			op := []byte{0x0f, []byte{0xb6, 0xb7, 0xbe, 0xbf}[r.IntN(4)]}
			b := encode(size, nil, op, reg, rm, nil, false)
			return genInst{code: b, text: "movzx/movsx"}
		default:
			return genInst{code: encode(8, nil, []byte{0x63}, reg, rm, nil, false), text: "movsxd"}
		}
	case 9: // SETcc, CMOVcc
		cc := byte(r.IntN(16))
		if r.IntN(2) == 0 {
			return genInst{code: encode(1, []byte{0x0f, 0x90 + cc}, nil, 0, rm, nil, force8), text: "setcc"}
		}
		if size == 1 {
			size = 8
		}
		return genInst{code: encode(size, nil, []byte{0x0f, 0x40 + cc}, reg, rm, nil, false), text: "cmovcc"}
	case 10: // XCHG reg, reg (86/87)
		return genInst{code: encode(size, []byte{0x86}, []byte{0x87}, reg, rm, nil, force8), text: "xchg"}
	case 11: // CBW/CWDE/CDQE, CWD/CDQ/CQO, CLC/STC/CMC
		op := []byte{0x98, 0x99}[r.IntN(2)]
		if r.IntN(3) == 0 {
			return genInst{code: []byte{[]byte{0xf8, 0xf9, 0xf5}[r.IntN(3)]}, text: "clc/stc/cmc"}
		}
		switch size {
		case 2:
			return genInst{code: []byte{0x66, op}, text: "cbw/cwd"}
		case 8:
			return genInst{code: []byte{0x48, op}, text: "cdqe/cqo"}
		}
		return genInst{code: []byte{op}, text: "cwde/cdq"}
	case 12: // LEA reg, [base + index*scale + disp8]
		if size == 1 {
			size = 8
		}
		base, index := r.IntN(16), r.IntN(16)
		if index == RSP {
			index = RBP
		}
		if base&7 == RBP&7 || base&7 == RSP&7 {
			base = RBX
		}
		b := []byte{}
		if size == 2 {
			b = append(b, 0x66)
		}
		rx := byte(0x40)
		if size == 8 {
			rx |= 8
		}
		if reg >= 8 {
			rx |= 4
		}
		if index >= 8 {
			rx |= 2
		}
		if base >= 8 {
			rx |= 1
		}
		b = append(b, rx, 0x8d, 0x44|byte(reg&7)<<3, byte(r.IntN(4))<<6|byte(index&7)<<3|byte(base&7), byte(r.Uint32()))
		return genInst{code: b, text: "lea"}
	default: // ALU reg, imm32 (81 /o id) and MOV reg, imm (C7, B8+r)
		o := byte(r.IntN(8))
		if size == 1 {
			return genInst{code: encode(1, []byte{0xc6}, nil, 0, rm, imm8, force8), text: "mov r8, imm8"}
		}
		imm := le(r.Uint64(), min(size, 4))
		if r.IntN(3) == 0 {
			return genInst{code: encode(size, nil, []byte{0xc7}, 0, rm, imm, false), text: "mov r, imm"}
		}
		g := genInst{code: encode(size, nil, []byte{0x81}, int(o), rm, imm, false), text: fmt.Sprintf("alu%d r, imm", o)}
		if o == 1 || o == 4 || o == 6 {
			g.undefined = FlagAF
		}
		return g
	}
}

// edgeValue returns register contents that hit the corner cases (0, all ones, sign
// boundaries at each size) more often than uniform random values would.
func edgeValue(r *rand.Rand) uint64 {
	edges := []uint64{0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
		0xffffffff, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff, 0x100000000}
	switch r.IntN(3) {
	case 0:
		v := edges[r.IntN(len(edges))]
		if r.IntN(2) == 0 {
			v ^= r.Uint64() << 32 // keep the low part, vary the rest
		}
		return v
	case 1:
		return uint64(r.IntN(300))
	}
	return r.Uint64()
}

func randomRegs(r *rand.Rand) hostcpu.Regs {
	var regs hostcpu.Regs
	for i := range regs.GPR {
		regs.GPR[i] = edgeValue(r)
	}
	regs.RFLAGS = uint64(InitialRFLAGS) | r.Uint64()&(FlagCF|FlagPF|FlagAF|FlagZF|FlagSF|FlagOF)
	return regs
}

// compare runs g on both CPUs from in and reports the first difference.
func compare(t *testing.T, tm *testMachine, g genInst, in hostcpu.Regs) {
	t.Helper()
	code := append(append([]byte{}, g.code...), 0xc3) // ret
	host, emu := in, in
	require.NoError(t, hostRun(t, code, &host, nil))
	trap := tm.run(code, &emu, nil, 100)
	require.True(t, returned(trap), "%s (% x): emulator stopped with %v", g.text, g.code, trap)
	mask := ^g.undefined
	if g.undefFn != nil {
		mask = ^g.undefFn(in)
	}
	for i := 0; i < 16; i++ {
		if i == RSP {
			continue
		}
		require.Equal(t, fmt.Sprintf("%#x", host.GPR[i]), fmt.Sprintf("%#x", emu.GPR[i]),
			"%s (% x): %s differs; input %#x", g.text, g.code, RegNames[i], in.GPR)
	}
	require.Equal(t, fmt.Sprintf("%#x", host.RFLAGS&mask&0xcd5), fmt.Sprintf("%#x", emu.RFLAGS&mask&0xcd5),
		"%s (% x): flags differ (host %#x emu %#x, in %#x); input %#x", g.text, g.code, host.RFLAGS, emu.RFLAGS, in.RFLAGS, in.GPR)
}

// TestDifferentialRandom runs seeded random instructions of the integer subset on the host
// and on the emulator.
func TestDifferentialRandom(t *testing.T) {
	tm := newTestMachine(t)
	r := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for i := 0; i < n; i++ {
		compare(t, tm, genRandom(r), randomRegs(r))
	}
}

// FuzzDifferential lets `go test -fuzz` search for an instruction and input where the
// emulator and the host disagree.
func FuzzDifferential(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(99), uint64(7))
	f.Fuzz(func(t *testing.T, s1, s2 uint64) {
		tm := newTestMachine(t)
		r := rand.New(rand.NewPCG(s1, s2))
		compare(t, tm, genRandom(r), randomRegs(r))
	})
}
