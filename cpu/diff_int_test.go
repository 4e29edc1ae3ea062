package cpu

import (
	"bytes"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
	"github.com/vmemu/vmemu/internal/testcheck"
)

// The integer differential test: every family of integer instructions the CPU implements,
// with register and memory operands at every operand size, runs on the host CPU and on the
// emulator from the same registers, flags and data; registers, the flags the SDM defines and
// the data area must come out equal. Memory operands are [RBX+disp8] with RBX pointing into
// the middle of a data window at hostcpu.DataAddr, which both machines map. Operands that
// would fault natively (a division that overflows, a bit offset outside the window) are
// steered away from at generation time: a fault on the host kills the test process.

const (
	memBase    = RBX
	dataWindow = 1024
	baseOff    = 512 // RBX = DataAddr + baseOff for memory forms
)

// operand is the r/m operand of an instruction: a register, or [RBX+disp].
type operand struct {
	mem  bool
	reg  int
	disp int8
}

// asm encodes [pfx] [66] [REX] opcode modrm [disp8] [imm]. op8 is the opcode for byte
// operands, op for the others; force8 adds a REX prefix so byte registers 4-7 are
// SPL..DIL rather than AH..BH.
func asm(pfx []byte, size int, op8, op []byte, reg int, rm operand, imm []byte, force8 bool) []byte {
	b := append([]byte{}, pfx...)
	if size == 2 {
		b = append(b, 0x66)
	}
	rex := byte(0x40)
	if size == 8 {
		rex |= 8
	}
	if reg >= 8 {
		rex |= 4
	}
	if !rm.mem && rm.reg >= 8 {
		rex |= 1
	}
	if rex != 0x40 || (size == 1 && force8) {
		b = append(b, rex)
	}
	if size == 1 {
		b = append(b, op8...)
	} else {
		b = append(b, op...)
	}
	if rm.mem {
		b = append(b, 0x40|byte(reg&7)<<3|byte(memBase), byte(rm.disp))
	} else {
		b = append(b, 0xc0|byte(reg&7)<<3|byte(rm.reg&7))
	}
	return append(b, imm...)
}

// vex encodes a three-byte VEX instruction: map 2 (0F38) or 3 (0F3A), pp (0 none, 1 66,
// 2 F3, 3 F2), W, the vvvv register, and ModRM reg/rm as asm does (L = 0).
func vex(mapSel, pp byte, w bool, vvvv int, op byte, reg int, rm operand, imm []byte) []byte {
	b1 := mapSel
	if reg < 8 {
		b1 |= 0x80
	}
	b1 |= 0x40 // X: no index
	if rm.mem || rm.reg < 8 {
		b1 |= 0x20
	}
	b2 := pp | byte(^vvvv&15)<<3
	if w {
		b2 |= 0x80
	}
	b := []byte{0xc4, b1, b2, op}
	if rm.mem {
		b = append(b, 0x40|byte(reg&7)<<3|byte(memBase), byte(rm.disp))
	} else {
		b = append(b, 0xc0|byte(reg&7)<<3|byte(rm.reg&7))
	}
	return append(b, imm...)
}

// pick chooses the reg field and the r/m operand for an instruction of size bytes. With
// mem, the r/m operand is [RBX+disp8]. It returns force8 for byte forms that need a REX
// prefix, and never chooses RSP (the harness owns the stack) or a byte register that would
// be SPL.
func pick(r *rand.Rand, size int, mem bool) (reg int, rm operand, force8 bool) {
	for {
		reg = r.IntN(16)
		rm = operand{mem: mem, reg: r.IntN(16), disp: int8(r.IntN(256) - 128)}
		if mem {
			rm.disp = int8(r.IntN(192) - 96)
		}
		force8 = r.IntN(2) == 0
		if reg == RSP || (!mem && rm.reg == RSP) {
			continue
		}
		if keepBase && (reg == memBase || rm.reg == memBase ||
			size == 1 && !force8 && (reg == 7 || rm.reg == 7)) {
			continue // RBX (or BH) must keep pointing at the data for the whole sequence
		}
		if size == 1 && (reg >= 8 || (!mem && rm.reg >= 8)) {
			force8 = true
		}
		if size == 1 && force8 && (reg == 4 || (!mem && rm.reg == 4)) {
			continue // SPL
		}
		return
	}
}

// keepBase makes pick leave RBX (and BH) alone, while sequences are generated.
var keepBase bool

// sequenceFamilies are the families a generated sequence draws from: no special register
// setup, and no undefined flags on which the AMD host and this CPU differ (MUL and IMUL).
var sequenceFamilies = map[string]bool{"alu r/m,r and r,r/m": true, "alu acc,imm": true,
	"alu r/m,imm": true, "test": true, "inc dec not neg": true, "shift and rotate": true,
	"shld shrd": true, "mov movzx movsx movsxd movnti": true, "setcc cmovcc memory": true,
	"bt bts btr btc": true, "lea": true, "branches": true, "xchg xadd cmpxchg": true,
	"bswap": true, "xlat cbw flags": true, "push pop": true}

func init() {
	// Appended here: the generator draws from intFamilies itself.
	intFamilies = append(intFamilies, intFamily{"sequences", "", genSequence})
}

// genSequence concatenates two to eight cases of the sequence families, so the block
// optimizer's work (fast forms, dead flags, compare-and-branch fusion) meets the host: a
// flag computation it drops must be one nothing reads.
func genSequence(r *rand.Rand) intCase {
	keepBase = true
	defer func() { keepBase = false }()
	var seq intCase
	n := 2 + r.IntN(7)
	for len(seq.text) == 0 || n > 0 {
		fam := intFamilies[r.IntN(len(intFamilies))]
		if !sequenceFamilies[fam.name] {
			continue
		}
		c := fam.gen(r)
		if c.setup != nil || c.undefFn != nil {
			continue
		}
		seq.code = append(seq.code, c.code...)
		seq.undefined |= c.undefined
		seq.mem = seq.mem || c.mem
		seq.text += c.text + "; "
		n--
	}
	return seq
}

// intCase is one generated test: its code (without the final RET), the flags the SDM
// leaves undefined, and how to prepare the registers and data.
type intCase struct {
	code      []byte
	undefined uint64
	mem       bool                                               // uses the data window (RBX = base)
	setup     func(r *rand.Rand, regs *hostcpu.Regs, mem []byte) // after the random registers
	undefFn   func(in hostcpu.Regs) uint64
	text      string
}

// intFamily generates cases of one instruction family. feature names the /proc/cpuinfo
// flag the host needs to run it natively ("" for baseline x86-64).
type intFamily struct {
	name    string
	feature string
	gen     func(r *rand.Rand) intCase
}

func sizeOf(r *rand.Rand, minSize int) int {
	for {
		if s := sizes[r.IntN(4)]; s >= minSize {
			return s
		}
	}
}

func immOf(r *rand.Rand, n int) []byte { return le(edgeValue(r), n) }

// logicAF is AF for the logical ALU ops (OR, AND, XOR), which leave it undefined.
func aluUndefined(o byte) uint64 {
	if o == 1 || o == 4 || o == 6 {
		return FlagAF
	}
	return 0
}

func lockPfx(r *rand.Rand, mem bool) []byte {
	if mem && r.IntN(3) == 0 {
		return []byte{0xf0}
	}
	return nil
}

var intFamilies = []intFamily{
	{"alu r/m,r and r,r/m", "", func(r *rand.Rand) intCase {
		size, mem := sizeOf(r, 1), r.IntN(2) == 0
		reg, rm, f8 := pick(r, size, mem)
		o, d := byte(r.IntN(8)), byte(r.IntN(2))*2
		var pfx []byte
		if d == 0 && o != 7 {
			pfx = lockPfx(r, mem)
		}
		return intCase{code: asm(pfx, size, []byte{o*8 + d}, []byte{o*8 + d + 1}, reg, rm, nil, f8),
			undefined: aluUndefined(o), mem: mem, text: fmt.Sprintf("alu%d dir %d", o, d)}
	}},
	{"alu acc,imm", "", func(r *rand.Rand) intCase {
		size := sizeOf(r, 1)
		o := byte(r.IntN(8))
		var b []byte
		switch size {
		case 1:
			b = []byte{o*8 + 4, byte(r.Uint32())}
		case 2:
			b = append([]byte{0x66, o*8 + 5}, immOf(r, 2)...)
		case 4:
			b = append([]byte{o*8 + 5}, immOf(r, 4)...)
		default:
			b = append([]byte{0x48, o*8 + 5}, immOf(r, 4)...)
		}
		return intCase{code: b, undefined: aluUndefined(o), text: fmt.Sprintf("alu%d acc, imm", o)}
	}},
	{"alu r/m,imm", "", func(r *rand.Rand) intCase {
		size, mem := sizeOf(r, 1), r.IntN(2) == 0
		_, rm, f8 := pick(r, size, mem)
		o := byte(r.IntN(8))
		var pfx []byte
		if o != 7 {
			pfx = lockPfx(r, mem)
		}
		if size == 1 || r.IntN(2) == 0 { // 80 /o ib or 83 /o ib
			return intCase{code: asm(pfx, size, []byte{0x80}, []byte{0x83}, int(o), rm, immOf(r, 1), f8),
				undefined: aluUndefined(o), mem: mem, text: fmt.Sprintf("alu%d r/m, imm8", o)}
		}
		return intCase{code: asm(pfx, size, nil, []byte{0x81}, int(o), rm, immOf(r, min(size, 4)), f8),
			undefined: aluUndefined(o), mem: mem, text: fmt.Sprintf("alu%d r/m, imm", o)}
	}},
	{"test", "", func(r *rand.Rand) intCase {
		size, mem := sizeOf(r, 1), r.IntN(2) == 0
		reg, rm, f8 := pick(r, size, mem)
		switch r.IntN(3) {
		case 0:
			return intCase{code: asm(nil, size, []byte{0x84}, []byte{0x85}, reg, rm, nil, f8), undefined: FlagAF, mem: mem, text: "test r/m, r"}
		case 1:
			return intCase{code: asm(nil, size, []byte{0xf6}, []byte{0xf7}, 0, rm, immOf(r, min(size, 4)), f8), undefined: FlagAF, mem: mem, text: "test r/m, imm"}
		}
		b := []byte{0xa8, byte(r.Uint32())}
		if size > 1 {
			b = asm(nil, size, nil, []byte{0xa9}, 0, operand{}, nil, false)
			b = append(b[:len(b)-1], immOf(r, min(size, 4))...) // no ModRM
		}
		return intCase{code: b, undefined: FlagAF, text: "test acc, imm"}
	}},
	{"inc dec not neg", "", func(r *rand.Rand) intCase {
		size, mem := sizeOf(r, 1), r.IntN(2) == 0
		_, rm, f8 := pick(r, size, mem)
		forms := [][2]byte{{0xfe, 0}, {0xfe, 1}, {0xf6, 2}, {0xf6, 3}}
		f := forms[r.IntN(4)]
		return intCase{code: asm(lockPfx(r, mem), size, []byte{f[0]}, []byte{f[0] + 1}, int(f[1]), rm, nil, f8),
			mem: mem, text: fmt.Sprintf("unary %x/%d", f[0], f[1])}
	}},
	{"shift and rotate", "", func(r *rand.Rand) intCase {
		size, mem := sizeOf(r, 1), r.IntN(2) == 0
		_, rm, f8 := pick(r, size, mem)
		n := r.IntN(8)
		if n == 6 {
			n = 4
		}
		text := fmt.Sprintf("shift/%d size %d", n, size)
		switch r.IntN(3) {
		case 0:
			count := uint64(r.IntN(70))
			return intCase{code: asm(nil, size, []byte{0xc0}, []byte{0xc1}, n, rm, []byte{byte(count)}, f8),
				undefined: shiftUndefined(n, size, count), mem: mem, text: text + fmt.Sprintf(" by %d", count)}
		case 1:
			return intCase{code: asm(nil, size, []byte{0xd0}, []byte{0xd1}, n, rm, nil, f8),
				undefined: shiftUndefined(n, size, 1), mem: mem, text: text + " by 1"}
		}
		if !mem && rm.reg == RCX {
			rm.reg = RDX
		}
		return intCase{code: asm(nil, size, []byte{0xd2}, []byte{0xd3}, n, rm, nil, f8), mem: mem, text: text + " by cl",
			undefFn: func(in hostcpu.Regs) uint64 { return shiftUndefined(n, size, in.GPR[RCX]&0xff) }}
	}},
	{"shld shrd", "", func(r *rand.Rand) intCase {
		size, mem := sizeOf(r, 2), r.IntN(2) == 0
		reg, rm, _ := pick(r, size, mem)
		right := byte(r.IntN(2)) * 8
		und := func(count uint64) uint64 {
			if size == 8 {
				count &= 63
			} else {
				count &= 31
			}
			switch {
			case count == 0:
				return 0
			case size == 2 && count > 16:
				return ArithFlags // the result too, but the host's is matched
			case count == 1:
				return FlagAF
			}
			return FlagAF | FlagOF
		}
		if r.IntN(2) == 0 {
			count := uint64(r.IntN(70))
			return intCase{code: asm(nil, size, nil, []byte{0x0f, 0xa4 + right}, reg, rm, []byte{byte(count)}, false),
				undefined: und(count), mem: mem, text: fmt.Sprintf("shxd%d imm %d", right, count)}
		}
		if reg == RCX {
			reg = RDX
		}
		return intCase{code: asm(nil, size, nil, []byte{0x0f, 0xa5 + right}, reg, rm, nil, false), mem: mem,
			undefFn: func(in hostcpu.Regs) uint64 { return und(in.GPR[RCX] & 0xff) }, text: fmt.Sprintf("shxd%d cl", right)}
	}},
	{"mul imul div idiv", "", func(r *rand.Rand) intCase {
		size, mem := sizeOf(r, 1), r.IntN(2) == 0
		_, rm, f8 := pick(r, size, mem)
		if !mem && (rm.reg == RAX || rm.reg == RDX || size == 1 && !f8 && rm.reg == 4) {
			rm.reg = RSI // not an implicit operand (nor AH)
		}
		n := 4 + r.IntN(4)
		c := intCase{code: asm(nil, size, []byte{0xf6}, []byte{0xf7}, n, rm, nil, f8), mem: mem,
			text: fmt.Sprintf("f7/%d size %d", n, size), undefined: FlagSF | FlagZF | FlagAF | FlagPF}
		if n >= 6 {
			c.undefined = ArithFlags
			c.setup = func(r *rand.Rand, regs *hostcpu.Regs, m []byte) {
				fixDivision(r, regs, m, size, rm, n == 7, f8)
			}
		}
		return c
	}},
	{"imul 2 and 3 operands", "", func(r *rand.Rand) intCase {
		size, mem := sizeOf(r, 2), r.IntN(2) == 0
		reg, rm, _ := pick(r, size, mem)
		und := uint64(FlagSF | FlagZF | FlagAF | FlagPF)
		switch r.IntN(3) {
		case 0:
			return intCase{code: asm(nil, size, nil, []byte{0x0f, 0xaf}, reg, rm, nil, false), undefined: und, mem: mem, text: "imul r, r/m"}
		case 1:
			return intCase{code: asm(nil, size, nil, []byte{0x6b}, reg, rm, immOf(r, 1), false), undefined: und, mem: mem, text: "imul r, r/m, imm8"}
		}
		return intCase{code: asm(nil, size, nil, []byte{0x69}, reg, rm, immOf(r, min(size, 4)), false), undefined: und, mem: mem, text: "imul r, r/m, imm"}
	}},
	{"bt bts btr btc", "", func(r *rand.Rand) intCase {
		size, mem := sizeOf(r, 2), r.IntN(2) == 0
		reg, rm, _ := pick(r, size, mem)
		o := byte(r.IntN(4))
		und := uint64(FlagOF | FlagSF | FlagAF | FlagPF)
		var pfx []byte
		if o != 0 {
			pfx = lockPfx(r, mem)
		}
		if r.IntN(2) == 0 {
			return intCase{code: asm(pfx, size, nil, []byte{0x0f, 0xba}, 4+int(o), rm, []byte{byte(r.IntN(256))}, false),
				undefined: und, mem: mem, text: fmt.Sprintf("bt%d r/m, imm", o)}
		}
		c := intCase{code: asm(pfx, size, nil, []byte{0x0f, 0xa3 + o*8}, reg, rm, nil, false), undefined: und, mem: mem,
			text: fmt.Sprintf("bt%d r/m, r", o)}
		if mem {
			if reg == memBase {
				reg = RSI
				c.code = asm(pfx, size, nil, []byte{0x0f, 0xa3 + o*8}, reg, rm, nil, false)
			}
			c.setup = func(r *rand.Rand, regs *hostcpu.Regs, _ []byte) {
				// A signed bit offset that keeps the access inside the window.
				off := int64(r.IntN(6000) - 3000)
				regs.GPR[reg] = regs.GPR[reg]&^sizeMask[uint8(size)] | uint64(off)&sizeMask[uint8(size)]
			}
		}
		return c
	}},
	{"bsf bsr", "", func(r *rand.Rand) intCase {
		size, mem := sizeOf(r, 2), r.IntN(2) == 0
		reg, rm, _ := pick(r, size, mem)
		o := byte(r.IntN(2))
		return intCase{code: asm(nil, size, nil, []byte{0x0f, 0xbc + o}, reg, rm, nil, false),
			undefined: FlagCF | FlagOF | FlagSF | FlagAF | FlagPF, mem: mem, text: fmt.Sprintf("bs%d", o),
			setup: sometimesZero(rm, size)}
	}},
	{"popcnt", "popcnt", func(r *rand.Rand) intCase {
		size, mem := sizeOf(r, 2), r.IntN(2) == 0
		reg, rm, _ := pick(r, size, mem)
		return intCase{code: asm([]byte{0xf3}, size, nil, []byte{0x0f, 0xb8}, reg, rm, nil, false), mem: mem,
			text: "popcnt", setup: sometimesZero(rm, size)}
	}},
	{"lzcnt", "abm", func(r *rand.Rand) intCase {
		size, mem := sizeOf(r, 2), r.IntN(2) == 0
		reg, rm, _ := pick(r, size, mem)
		return intCase{code: asm([]byte{0xf3}, size, nil, []byte{0x0f, 0xbd}, reg, rm, nil, false), mem: mem,
			undefined: FlagOF | FlagSF | FlagAF | FlagPF, text: "lzcnt", setup: sometimesZero(rm, size)}
	}},
	{"tzcnt", "bmi1", func(r *rand.Rand) intCase {
		size, mem := sizeOf(r, 2), r.IntN(2) == 0
		reg, rm, _ := pick(r, size, mem)
		return intCase{code: asm([]byte{0xf3}, size, nil, []byte{0x0f, 0xbc}, reg, rm, nil, false), mem: mem,
			undefined: FlagOF | FlagSF | FlagAF | FlagPF, text: "tzcnt", setup: sometimesZero(rm, size)}
	}},
	{"bmi1", "bmi1", func(r *rand.Rand) intCase { return genBMI(r, false) }},
	{"bmi2", "bmi2", func(r *rand.Rand) intCase { return genBMI(r, true) }},
	{"setcc cmovcc memory", "", func(r *rand.Rand) intCase {
		cc := byte(r.IntN(16))
		if r.IntN(2) == 0 {
			_, rm, f8 := pick(r, 1, true)
			return intCase{code: asm(nil, 1, []byte{0x0f, 0x90 + cc}, nil, 0, rm, nil, f8), mem: true, text: "setcc m8"}
		}
		size := sizeOf(r, 2)
		reg, rm, _ := pick(r, size, true)
		return intCase{code: asm(nil, size, nil, []byte{0x0f, 0x40 + cc}, reg, rm, nil, false), mem: true, text: "cmovcc r, m"}
	}},
	{"mov movzx movsx movsxd movnti", "", func(r *rand.Rand) intCase {
		size, mem := sizeOf(r, 1), r.IntN(3) != 0
		reg, rm, f8 := pick(r, size, mem)
		switch r.IntN(7) {
		case 0:
			d := byte(r.IntN(2)) * 2
			return intCase{code: asm(nil, size, []byte{0x88 + d}, []byte{0x89 + d}, reg, rm, nil, f8), mem: mem, text: "mov"}
		case 1:
			return intCase{code: asm(nil, size, []byte{0xc6}, []byte{0xc7}, 0, rm, immOf(r, min(size, 4)), f8), mem: mem, text: "mov r/m, imm"}
		case 2:
			size = sizeOf(r, 2)
			reg, rm, _ = pick(r, size, mem)
			op := []byte{0x0f, []byte{0xb6, 0xb7, 0xbe, 0xbf}[r.IntN(4)]}
			return intCase{code: asm(nil, size, nil, op, reg, rm, nil, false), mem: mem, text: fmt.Sprintf("movzx/movsx % x", op)}
		case 3:
			size = sizeOf(r, 2)
			reg, rm, _ = pick(r, size, mem)
			return intCase{code: asm(nil, size, nil, []byte{0x63}, reg, rm, nil, false), mem: mem, text: "movsxd"}
		case 4: // MOV r, imm (B0+r, B8+r; imm64 with REX.W)
			reg, _, f8 = pick(r, size, false)
			b := asm(nil, size, []byte{0xb0 + byte(reg&7)}, []byte{0xb8 + byte(reg&7)}, 0, operand{reg: reg}, nil, f8)
			b = b[:len(b)-1] // no ModRM
			return intCase{code: append(b, immOf(r, size)...), text: "mov r, imm"}
		case 5: // MOV AL/AX/EAX/RAX <-> moffs64
			addr := uint64(hostcpu.DataAddr + baseOff + r.IntN(128) - 64)
			b := asm(nil, size, []byte{0xa0 + byte(r.IntN(2))*2}, []byte{0xa1 + byte(r.IntN(2))*2}, 0, operand{}, nil, false)
			return intCase{code: append(b[:len(b)-1], le(addr, 8)...), mem: true, text: "mov moffs"}
		}
		size = 4 + 4*r.IntN(2)
		reg, rm, _ = pick(r, size, true)
		return intCase{code: asm(nil, size, nil, []byte{0x0f, 0xc3}, reg, rm, nil, false), mem: true, text: "movnti"}
	}},
	{"xchg xadd cmpxchg", "", func(r *rand.Rand) intCase {
		size, mem := sizeOf(r, 1), r.IntN(2) == 0
		reg, rm, f8 := pick(r, size, mem)
		c := intCase{mem: mem}
		switch r.IntN(4) {
		case 0:
			c.code, c.text = asm(lockPfx(r, mem), size, []byte{0x86}, []byte{0x87}, reg, rm, nil, f8), "xchg"
		case 1:
			if size == 1 {
				size = 4
			}
			reg, _, _ = pick(r, size, false)
			b := asm(nil, size, nil, []byte{0x90 + byte(reg&7)}, 0, operand{reg: reg}, nil, false)
			c.code, c.text, c.mem = b[:len(b)-1], "xchg acc, r", false
		case 2:
			c.code, c.text = asm(lockPfx(r, mem), size, []byte{0x0f, 0xc0}, []byte{0x0f, 0xc1}, reg, rm, nil, f8), "xadd"
		default:
			c.code, c.text = asm(lockPfx(r, mem), size, []byte{0x0f, 0xb0}, []byte{0x0f, 0xb1}, reg, rm, nil, f8), "cmpxchg"
			c.setup = func(r *rand.Rand, regs *hostcpu.Regs, m []byte) {
				if r.IntN(2) == 0 { // make the comparison succeed
					var v uint64
					if mem {
						v = le64(m[baseOff+int(rm.disp):])
					} else if size == 1 && !f8 && rm.reg >= 4 && rm.reg < 8 {
						v = regs.GPR[rm.reg-4] >> 8
					} else {
						v = regs.GPR[rm.reg]
					}
					regs.GPR[RAX] = regs.GPR[RAX]&^sizeMask[uint8(size)] | v&sizeMask[uint8(size)]
				}
			}
		}
		return c
	}},
	{"cmpxchg8b cmpxchg16b", "cx16", func(r *rand.Rand) intCase {
		wide := r.IntN(2) == 0
		disp := int8(16 * (r.IntN(8) - 4))
		size := 4
		if wide {
			size = 8
		}
		c := intCase{code: asm(lockPfx(r, true), size, nil, []byte{0x0f, 0xc7}, 1, operand{mem: true, disp: disp}, nil, false),
			mem: true, text: fmt.Sprintf("cmpxchg%db", size*2)}
		c.setup = func(r *rand.Rand, regs *hostcpu.Regs, m []byte) {
			if r.IntN(2) == 0 {
				o := baseOff + int(disp)
				if wide {
					regs.GPR[RAX], regs.GPR[RDX] = le64(m[o:]), le64(m[o+8:])
				} else {
					v := le64(m[o:])
					regs.GPR[RAX] = regs.GPR[RAX]&^0xffffffff | v&0xffffffff
					regs.GPR[RDX] = regs.GPR[RDX]&^0xffffffff | v>>32
				}
			}
		}
		return c
	}},
	{"bswap", "", func(r *rand.Rand) intCase {
		size := sizeOf(r, 2)
		reg, _, _ := pick(r, size, false)
		b := asm(nil, size, nil, []byte{0x0f, 0xc8 + byte(reg&7)}, 0, operand{reg: reg}, nil, false)
		return intCase{code: b[:len(b)-1], text: fmt.Sprintf("bswap size %d", size)}
	}},
	{"movbe", "movbe", func(r *rand.Rand) intCase {
		size := sizeOf(r, 2)
		reg, rm, _ := pick(r, size, true)
		st := byte(r.IntN(2))
		return intCase{code: asm(nil, size, nil, []byte{0x0f, 0x38, 0xf0 + st}, reg, rm, nil, false), mem: true, text: "movbe"}
	}},
	{"crc32", "sse4_2", func(r *rand.Rand) intCase {
		size, mem := sizeOf(r, 1), r.IntN(2) == 0
		reg, rm, f8 := pick(r, size, mem)
		// The destination is r32 (r64 with REX.W for a 64-bit source); the 66 prefix sizes a
		// 16-bit source.
		return intCase{code: asm([]byte{0xf2}, size, []byte{0x0f, 0x38, 0xf0}, []byte{0x0f, 0x38, 0xf1}, reg, rm, nil, f8),
			mem: mem, text: fmt.Sprintf("crc32 size %d", size)}
	}},
	{"push pop", "", genPushPop},
	{"pushf popf lahf sahf", "", func(r *rand.Rand) intCase {
		switch r.IntN(4) {
		case 0:
			return intCase{code: []byte{0x9c, 0x58}, text: "pushfq; pop rax"}
		case 1:
			return intCase{code: []byte{0x66, 0x9c, 0x66, 0x58}, text: "pushf; pop ax"}
		case 2:
			// POPF with every bit a CPL-3 program could try to change, except TF and AC,
			// which the host harness cannot survive.
			w := byte(r.IntN(2))
			b := []byte{0x50, 0x9d, 0x9c, 0x58}
			if w == 1 {
				b = []byte{0x66, 0x50, 0x66, 0x9d, 0x66, 0x9c, 0x66, 0x58}
			}
			return intCase{code: b, text: "push rax; popf; pushf; pop rax", setup: func(r *rand.Rand, regs *hostcpu.Regs, _ []byte) {
				regs.GPR[RAX] = r.Uint64() &^ (FlagTF | FlagAC)
			}}
		}
		return intCase{code: [][]byte{{0x9f}, {0x9e}}[r.IntN(2)], text: "lahf/sahf"}
	}},
	{"enter leave call ret", "", genFrames},
	{"lea", "", genLea},
	{"string", "", genString},
	{"branches", "", genBranch},
	{"xlat cbw flags", "", func(r *rand.Rand) intCase {
		switch r.IntN(4) {
		case 0:
			b := []byte{0xd7}
			if r.IntN(2) == 0 {
				b = []byte{0x48, 0xd7}
			}
			return intCase{code: b, mem: true, text: "xlat", setup: func(r *rand.Rand, regs *hostcpu.Regs, _ []byte) {
				regs.GPR[RBX] = hostcpu.DataAddr + uint64(r.IntN(dataWindow-256))
			}}
		case 1:
			return intCase{code: [][]byte{{0xf8}, {0xf9}, {0xf5}, {0xfc}, {0xfd}}[r.IntN(5)], text: "flag op"}
		}
		op := []byte{0x98, 0x99}[r.IntN(2)]
		return intCase{code: [][]byte{{0x66, op}, {op}, {0x48, op}}[r.IntN(3)], text: "cbw..cqo"}
	}},
	{"nop hints fences", "", func(r *rand.Rand) intCase {
		forms := [][]byte{{0x90}, {0x66, 0x90}, {0x0f, 0x1f, 0x43, 0x10}, {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
			{0xf3, 0x90}, {0x0f, 0xae, 0xe8}, {0x0f, 0xae, 0xf0}, {0x0f, 0xae, 0xf8},
			{0x0f, 0x18, 0x43, 0x08}, {0x0f, 0x18, 0x4b, 0x08}, {0x0f, 0x18, 0x53, 0x08}, {0x0f, 0x18, 0x5b, 0x08},
			{0x0f, 0x0d, 0x4b, 0x08}, {0x0f, 0xae, 0x7b, 0x08}, {0xf3, 0x0f, 0x1e, 0xfa}}
		return intCase{code: forms[r.IntN(len(forms))], mem: true, text: "nop forms"}
	}},
}

// sometimesZero makes the r/m source zero in a third of the cases, for the instructions
// whose zero-source behaviour is special.
func sometimesZero(rm operand, size int) func(r *rand.Rand, regs *hostcpu.Regs, m []byte) {
	return func(r *rand.Rand, regs *hostcpu.Regs, m []byte) {
		if r.IntN(3) != 0 {
			return
		}
		if rm.mem {
			clear(m[baseOff+int(rm.disp):][:size])
		} else {
			regs.GPR[rm.reg] &^= sizeMask[uint8(size)]
		}
	}
}

// fixDivision makes DIV or IDIV of size by the r/m operand valid: a non-zero divisor and a
// quotient that fits, keeping the random values when they already are.
func fixDivision(r *rand.Rand, regs *hostcpu.Regs, m []byte, size int, rm operand, signed, f8 bool) {
	sz := uint8(size)
	msk := sizeMask[sz]
	getDiv := func() uint64 {
		if rm.mem {
			return le64(m[baseOff+int(rm.disp):]) & msk
		}
		if size == 1 && !f8 && rm.reg >= 4 && rm.reg < 8 {
			return regs.GPR[rm.reg-4] >> 8 & 0xff
		}
		return regs.GPR[rm.reg] & msk
	}
	setDiv := func(v uint64) {
		if rm.mem {
			copy(m[baseOff+int(rm.disp):], le(v, size))
		} else if size == 1 && !f8 && rm.reg >= 4 && rm.reg < 8 {
			regs.GPR[rm.reg-4] = regs.GPR[rm.reg-4]&^0xff00 | (v&0xff)<<8
		} else {
			regs.GPR[rm.reg] = regs.GPR[rm.reg]&^msk | v&msk
		}
	}
	if getDiv() == 0 {
		setDiv(1 + uint64(r.IntN(100))) // non-zero at every size
	}
	dividend := func() (*big.Int, uint64, uint64) {
		var hi, lo uint64
		if size == 1 {
			hi, lo = regs.GPR[RAX]>>8&0xff, regs.GPR[RAX]&0xff
		} else {
			hi, lo = regs.GPR[RDX]&msk, regs.GPR[RAX]&msk
		}
		n := new(big.Int).Lsh(new(big.Int).SetUint64(hi), uint(size)*8)
		n.Or(n, new(big.Int).SetUint64(lo))
		if signed && hi>>(size*8-1)&1 != 0 {
			n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(size)*16))
		}
		return n, hi, lo
	}
	fits := func() bool {
		n, _, _ := dividend()
		d := new(big.Int).SetUint64(getDiv())
		if signed {
			d = big.NewInt(int64(signExtend(getDiv(), sz)))
		}
		q := new(big.Int).Quo(n, d) // truncates toward zero, as IDIV does
		if signed {
			lim := new(big.Int).Lsh(big.NewInt(1), uint(size)*8-1)
			return q.Cmp(new(big.Int).Neg(lim)) >= 0 && q.Cmp(lim) < 0
		}
		return q.Cmp(new(big.Int).Lsh(big.NewInt(1), uint(size)*8)) < 0
	}
	if fits() {
		return
	}
	// Make the high half the sign (or zero) extension of the low half: the quotient then
	// fits unless it is MIN / -1, which a divisor of 2 avoids.
	_, _, lo := dividend()
	var hi uint64
	if signed && lo>>(size*8-1)&1 != 0 {
		hi = msk
	}
	if size == 1 {
		regs.GPR[RAX] = regs.GPR[RAX]&^0xffff | hi<<8 | lo
	} else {
		regs.GPR[RDX] = regs.GPR[RDX]&^msk | hi
	}
	if !fits() {
		setDiv(2)
	}
}

// genBMI generates the BMI1 (ANDN, BEXTR, BLSI, BLSMSK, BLSR) or BMI2 (BZHI, PDEP, PEXT,
// SARX, SHLX, SHRX, RORX, MULX) instructions.
func genBMI(r *rand.Rand, two bool) intCase {
	w := r.IntN(2) == 0
	size := 4
	if w {
		size = 8
	}
	mem := r.IntN(2) == 0
	reg, rm, _ := pick(r, size, mem)
	v := r.IntN(16)
	for v == RSP || mem && v == memBase { // BEXTR and BZHI rewrite v's low bits
		v = r.IntN(16)
	}
	type form struct {
		name      string
		mapSel    byte
		pp        byte
		op        byte
		reg       int // -1: use reg
		vvvv      int // -1: use v
		imm       bool
		undefined uint64
	}
	var forms []form
	if !two {
		forms = []form{
			{"andn", 2, 0, 0xf2, -1, -1, false, FlagAF | FlagPF},
			{"bextr", 2, 0, 0xf7, -1, -1, false, FlagAF | FlagSF | FlagPF},
			{"blsr", 2, 0, 0xf3, 1, -1, false, FlagAF | FlagPF},
			{"blsmsk", 2, 0, 0xf3, 2, -1, false, FlagAF | FlagPF},
			{"blsi", 2, 0, 0xf3, 3, -1, false, FlagAF | FlagPF},
		}
	} else {
		forms = []form{
			{"bzhi", 2, 0, 0xf5, -1, -1, false, FlagAF | FlagPF},
			{"pdep", 2, 3, 0xf5, -1, -1, false, 0},
			{"pext", 2, 2, 0xf5, -1, -1, false, 0},
			{"sarx", 2, 2, 0xf7, -1, -1, false, 0},
			{"shlx", 2, 1, 0xf7, -1, -1, false, 0},
			{"shrx", 2, 3, 0xf7, -1, -1, false, 0},
			{"rorx", 3, 3, 0xf0, -1, 0, true, 0},
			{"mulx", 2, 3, 0xf6, -1, -1, false, 0},
		}
	}
	f := forms[r.IntN(len(forms))]
	if f.reg >= 0 {
		reg = f.reg
	}
	if f.vvvv >= 0 {
		v = f.vvvv
	}
	var imm []byte
	if f.imm {
		imm = []byte{byte(r.IntN(256))}
	}
	c := intCase{code: vex(f.mapSel, f.pp, w, v, f.op, reg, rm, imm), undefined: f.undefined, mem: mem,
		text: fmt.Sprintf("%s size %d", f.name, size)}
	if f.name == "bextr" || f.name == "bzhi" {
		c.setup = func(r *rand.Rand, regs *hostcpu.Regs, _ []byte) {
			if r.IntN(3) != 0 { // small start and length fields, where the action is
				regs.GPR[v] = regs.GPR[v]&^0xffff | uint64(r.IntN(72)) | uint64(r.IntN(72))<<8
			}
		}
	}
	return c
}

// genPushPop generates balanced PUSH/POP pairs of every form and size.
func genPushPop(r *rand.Rand) intCase {
	wide := r.IntN(3) != 0 // 64-bit, else 16-bit
	var pfx []byte
	size := 8
	if !wide {
		pfx, size = []byte{0x66}, 2
	}
	src, _, _ := pick(r, 8, false)
	dst, _, _ := pick(r, 8, false)
	disp := int8(r.IntN(128) - 64)
	var push, pop []byte
	mem := false
	switch r.IntN(4) {
	case 0:
		push = append(append([]byte{}, pfx...), rex(false, 0, src, false)...)
		push = append(push, 0x50+byte(src&7))
	case 1:
		push = append(append([]byte{}, pfx...), 0x6a, byte(r.IntN(256)))
	case 2:
		push = append(append([]byte{}, pfx...), 0x68)
		push = append(push, immOf(r, min(size, 4))...)
	default:
		push = append(append([]byte{}, pfx...), 0xff, 0x73, byte(disp)) // push [rbx+disp]
		mem = true
	}
	if r.IntN(2) == 0 || dst == memBase {
		pop = append(append([]byte{}, pfx...), 0x8f, 0x43, byte(disp)) // pop [rbx+disp]
		mem = true
	} else {
		pop = append(append([]byte{}, pfx...), rex(false, 0, dst, false)...)
		pop = append(pop, 0x58+byte(dst&7))
	}
	return intCase{code: append(push, pop...), mem: mem, text: fmt.Sprintf("push/pop size %d", size)}
}

// genFrames generates ENTER (every nesting level) with LEAVE, and CALL with RET imm16.
func genFrames(r *rand.Rand) intCase {
	if r.IntN(3) == 0 {
		// push rax; push rcx; call f; jmp out; f: mov rdx, [rsp]; ret 16; out:
		return intCase{code: []byte{0x50, 0x51, 0xe8, 0x02, 0, 0, 0, 0xeb, 0x07,
			0x48, 0x8b, 0x14, 0x24, 0xc2, 0x10, 0x00}, text: "call; ret 16"}
	}
	size := uint16(r.IntN(300))
	level := byte(r.IntN(34))
	code := []byte{
		// The two words below the new frame pointer are read back after ENTER, which
		// writes them only for levels 1 and up: clear them first, so no stale stack
		// contents (different on the host and the emulator) show.
		0x48, 0xc7, 0x44, 0x24, 0xf0, 0, 0, 0, 0, // mov qword [rsp-0x10], 0
		0x48, 0xc7, 0x44, 0x24, 0xe8, 0, 0, 0, 0, // mov qword [rsp-0x18], 0
		0xc8, byte(size), byte(size >> 8), level,
		0x48, 0x89, 0xe8, // mov rax, rbp
		0x48, 0x89, 0xe2, // mov rdx, rsp
		0x4c, 0x8b, 0x45, 0xf8, // mov r8, [rbp-8]
		0x4c, 0x8b, 0x4d, 0xf0, // mov r9, [rbp-16]
		0x4c, 0x8b, 0x55, 0x00, // mov r10, [rbp]
		0xc9} // leave
	return intCase{code: code, mem: true, text: fmt.Sprintf("enter %d, %d; leave", size, level),
		setup: func(r *rand.Rand, regs *hostcpu.Regs, _ []byte) {
			regs.GPR[RBP] = hostcpu.DataAddr + baseOff + uint64(8*r.IntN(32))
		}}
}

// genLea generates LEA with every addressing form: base, index, scale, disp8/disp32,
// no base, RIP-relative, 32-bit address size and 16/32/64-bit operand size.
func genLea(r *rand.Rand) intCase {
	size := sizeOf(r, 2)
	reg, _, _ := pick(r, size, false)
	base, index := r.IntN(16), r.IntN(16)
	var b []byte
	if size == 2 {
		b = append(b, 0x66)
	}
	if r.IntN(4) == 0 {
		b = append(b, 0x67)
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
	b = append(b, rx, 0x8d)
	switch r.IntN(4) {
	case 0: // [base + disp] without SIB
		if base&7 == 4 {
			base = RAX
			b[len(b)-2] &^= 1
		}
		mod := byte(r.IntN(3))
		b = append(b, mod<<6|byte(reg&7)<<3|byte(base&7))
		if mod == 0 && base&7 == 5 {
			b[len(b)-1] |= 0x40 // [rbp] needs a displacement
			mod = 1
		}
		b = append(b, immOf(r, []int{0, 1, 4}[mod])...)
	case 1: // SIB
		mod := byte(r.IntN(3))
		b = append(b, mod<<6|byte(reg&7)<<3|4, byte(r.IntN(4))<<6|byte(index&7)<<3|byte(base&7))
		if mod == 0 && base&7 == 5 {
			b = append(b, immOf(r, 4)...) // no base, disp32
		}
		b = append(b, immOf(r, []int{0, 1, 4}[mod])...)
	case 2: // RIP-relative
		b = append(b, byte(reg&7)<<3|5)
		b = append(b, immOf(r, 4)...)
	default: // index only: SIB with base 101 and mod 00
		b = append(b, byte(reg&7)<<3|4, byte(r.IntN(4))<<6|byte(index&7)<<3|5)
		b = append(b, immOf(r, 4)...)
	}
	return intCase{code: b, text: "lea"}
}

// genString generates MOVS, STOS, LODS, CMPS and SCAS at each size, with no prefix, REP,
// REPE or REPNE, either direction, and 64- or 32-bit addressing (with junk in the upper
// halves of RSI, RDI and RCX).
func genString(r *rand.Rand) intCase {
	kind := r.IntN(5)
	size := sizes[r.IntN(4)]
	ops := [5]byte{0xa4, 0xaa, 0xac, 0xa6, 0xae}
	var b []byte
	switch r.IntN(3) {
	case 1:
		b = append(b, 0xf3)
	case 2:
		b = append(b, 0xf2)
	}
	a32 := r.IntN(4) == 0
	if a32 {
		b = append(b, 0x67)
	}
	if size == 2 {
		b = append(b, 0x66)
	}
	if size == 8 {
		b = append(b, 0x48)
	}
	op := ops[kind]
	if size > 1 {
		op++
	}
	b = append(b, op)
	std := r.IntN(3) == 0
	if std {
		b = append([]byte{0xfd}, b...) // std first: DF = 1
	}
	return intCase{code: b, mem: true, text: fmt.Sprintf("string % x", b),
		setup: func(r *rand.Rand, regs *hostcpu.Regs, m []byte) {
			regs.GPR[RSI] = hostcpu.DataAddr + 256 + uint64(r.IntN(512))
			regs.GPR[RDI] = hostcpu.DataAddr + 256 + uint64(r.IntN(512))
			if r.IntN(3) == 0 { // overlapping copies that replicate a pattern
				regs.GPR[RDI] = regs.GPR[RSI] + uint64(r.IntN(16))
			}
			regs.GPR[RCX] = uint64(r.IntN(17))
			if kind == 3 && r.IntN(2) == 0 { // equal runs, so REPE goes on
				copy(m[regs.GPR[RDI]-hostcpu.DataAddr:][:32], m[regs.GPR[RSI]-hostcpu.DataAddr:][:32])
			}
			if a32 {
				regs.GPR[RSI] |= r.Uint64() << 32
				regs.GPR[RDI] |= r.Uint64() << 32
				regs.GPR[RCX] |= r.Uint64() << 32
			}
		}}
}

// genBranch generates conditional and counted branches over a marker instruction
// (mov eax, 0x1234), so whether they were taken shows in RAX.
func genBranch(r *rand.Rand) intCase {
	marker := []byte{0xb8, 0x34, 0x12, 0, 0}
	switch r.IntN(4) {
	case 0:
		return intCase{code: append([]byte{0x70 + byte(r.IntN(16)), 5}, marker...), text: "jcc rel8"}
	case 1:
		return intCase{code: append([]byte{0x0f, 0x80 + byte(r.IntN(16)), 5, 0, 0, 0}, marker...), text: "jcc rel32"}
	}
	var b []byte
	if r.IntN(3) == 0 {
		b = append(b, 0x67) // ECX
	}
	b = append(b, 0xe0+byte(r.IntN(4)), 5) // loopne, loope, loop, jrcxz
	return intCase{code: append(b, marker...), text: fmt.Sprintf("loop/jrcxz % x", b),
		setup: func(r *rand.Rand, regs *hostcpu.Regs, _ []byte) {
			regs.GPR[RCX] = r.Uint64()<<32 | uint64(r.IntN(3))
			if r.IntN(2) == 0 {
				regs.GPR[RCX] &= 3
			}
		}}
}

// runIntCase runs one case on both CPUs and fails on the first difference.
func runIntCase(t *testing.T, tm *testMachine, r *rand.Rand, fam string, c intCase) {
	t.Helper()
	regs := randomRegs(r)
	mem := make([]byte, dataWindow)
	for i := range mem {
		mem[i] = byte(edgeValue(r))
	}
	if c.mem {
		regs.GPR[memBase] = hostcpu.DataAddr + baseOff
	}
	if c.setup != nil {
		c.setup(r, &regs, mem)
	}
	code := append(append([]byte{}, c.code...), 0xc3)
	host, emu := regs, regs
	hostMem, emuMem := bytes.Clone(mem), bytes.Clone(mem)
	require.NoError(t, hostRun(t, code, &host, hostMem))
	trap := tm.run(code, &emu, emuMem, 1000)
	require.True(t, returned(trap), "%s: %s (% x): emulator stopped with %v", fam, c.text, c.code, trap)
	mask := ^c.undefined
	if c.undefFn != nil {
		mask = ^c.undefFn(regs)
	}
	for i := 0; i < 16; i++ {
		if i == RSP {
			continue
		}
		if host.GPR[i] != emu.GPR[i] {
			t.Fatalf("%s: %s (% x): %s = %#x on the host, %#x emulated\ninput %#x flags %#x",
				fam, c.text, c.code, RegNames[i], host.GPR[i], emu.GPR[i], regs.GPR, regs.RFLAGS)
		}
	}
	const compared = ArithFlags | FlagDF | FlagNT | FlagID
	if hf, ef := host.RFLAGS&mask&compared, emu.RFLAGS&mask&compared; hf != ef {
		t.Fatalf("%s: %s (% x): flags %#x on the host, %#x emulated (%s)\ninput %#x flags %#x",
			fam, c.text, c.code, host.RFLAGS, emu.RFLAGS, flagNames(hf^ef), regs.GPR, regs.RFLAGS)
	}
	if !bytes.Equal(hostMem, emuMem) {
		for i := range hostMem {
			if hostMem[i] != emuMem[i] {
				t.Fatalf("%s: %s (% x): memory differs at DataAddr+%#x: %#x host, %#x emulated\ninput %#x",
					fam, c.text, c.code, i, hostMem[i], emuMem[i], regs.GPR)
			}
		}
	}
}

// flagNames names the bits of f ("CF ZF").
func flagNames(f uint64) string {
	var s []string
	for _, n := range []struct {
		bit  uint64
		name string
	}{{FlagCF, "CF"}, {FlagPF, "PF"}, {FlagAF, "AF"}, {FlagZF, "ZF"}, {FlagSF, "SF"},
		{FlagDF, "DF"}, {FlagOF, "OF"}, {FlagNT, "NT"}, {FlagID, "ID"}} {
		if f&n.bit != 0 {
			s = append(s, n.name)
		}
	}
	return strings.Join(s, " ")
}

// TestDifferentialIntegerFamilies runs seeded random cases of every integer family on the
// host and on the emulator. Families whose instructions the host CPU lacks are skipped, and
// the test says which.
func TestDifferentialIntegerFamilies(t *testing.T) {
	perFamily := 1500
	if testing.Short() {
		perFamily = 150
	}
	for i, fam := range intFamilies {
		t.Run(fam.name, func(t *testing.T) {
			if !hostHas(t, fam.feature) {
				testcheck.Skip(t, "the host CPU lacks %s: %s cannot run natively", fam.feature, fam.name)
			}
			tm := newTestMachine(t)
			r := rand.New(rand.NewPCG(uint64(i), 77))
			for j := 0; j < perFamily; j++ {
				runIntCase(t, tm, r, fam.name, fam.gen(r))
			}
		})
	}
}

// FuzzDifferentialInteger lets `go test -fuzz` search the integer families for a case where
// the host and the emulator disagree.
func FuzzDifferentialInteger(f *testing.F) {
	f.Add(uint64(1), uint64(2), uint8(0))
	f.Add(uint64(3), uint64(4), uint8(20))
	f.Fuzz(func(t *testing.T, s1, s2 uint64, which uint8) {
		fam := intFamilies[int(which)%len(intFamilies)]
		if !hostHas(t, fam.feature) {
			testcheck.Skip(t, "the host CPU lacks %s", fam.feature)
		}
		tm := newTestMachine(t)
		r := rand.New(rand.NewPCG(s1, s2))
		runIntCase(t, tm, r, fam.name, fam.gen(r))
	})
}
