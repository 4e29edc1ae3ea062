package cpu

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/f80"
	"github.com/vmemu/vmemu/cpu/internal/hostcpu"

	"github.com/stretchr/testify/assert"
)

// Differential tests of the x87 FPU: one x87 instruction runs on the host CPU and on the
// emulated one from the same complete FPU state, and the complete FPU state afterwards
// must be identical bit for bit.
//
// hostcpu.Regs carries only the general registers and RFLAGS, so the FPU state travels
// through memory: the snippet is
//
//	frstor [rbx+x87In]     ; the whole state: FCW, FSW (TOP, flags, C0-C3), tags, R0-R7
//	<the instruction>      ; its memory operand, if any, is [rbx+x87Mem]
//	fnsave [rbx+x87Out]    ; the whole state again, then FNINIT
//	ret
//
// with RBX = hostcpu.DataAddr, and the whole data area, RAX (FNSTSW AX) and RFLAGS
// (FCOMI, FCMOVcc) are compared. FNSAVE is a no-wait instruction and leaves the FPU
// initialized, and every loaded control word masks all exceptions, so the native FPU is
// always left clean and no #MF can occur natively (unmasked exceptions are tested on the
// emulator alone, against the SDM, in x87_test.go).

const (
	x87In   = 0x000 // FRSTOR image (108 bytes)
	x87Mem  = 0x100 // memory operand (up to 108 bytes)
	x87Out  = 0x200 // FNSAVE image
	x87Data = 0x300 // bytes compared
)

// x87Case is one generated test: an instruction and the state it starts from.
type x87Case struct {
	insn  []byte // the instruction under test
	text  string
	mem   [x87Data]byte
	flags uint64 // input RFLAGS arithmetic bits
	trans bool   // a transcendental: the result may differ within the measured bound
}

// modrmMem encodes ModR/M + disp32 for [rbx+x87Mem] with the given reg field.
func modrmMem(reg int) []byte {
	return []byte{0x80 | byte(reg)<<3 | 3, x87Mem & 0xff, x87Mem >> 8, 0, 0}
}

// x87Snippet builds frstor; insn; fnsave; ret.
func x87Snippet(insn []byte) []byte {
	code := []byte{0xdd, 0xa3, x87In & 0xff, x87In >> 8, 0, 0} // frstor [rbx+x87In]
	code = append(code, insn...)
	code = append(code, 0xdd, 0xb3, x87Out&0xff, x87Out>>8, 0, 0) // fnsave [rbx+x87Out]
	return append(code, 0xc3)
}

// genF80 returns an extended-precision value biased toward the corner cases: zeros,
// denormals, pseudo-denormals, unnormals, infinities, NaNs with payloads, pseudo-NaNs,
// extreme exponents and significands that sit on rounding boundaries.
func genF80(r *rand.Rand) f80.F80 {
	sign := uint16(r.IntN(2)) << 15
	mant := genMant(r)
	switch r.IntN(20) {
	case 0:
		return f80.F80{SE: sign}
	case 1: // denormal
		return f80.F80{Mant: mant >> (1 + r.IntN(63)), SE: sign}
	case 2: // pseudo-denormal
		return f80.F80{Mant: mant | 1<<63, SE: sign}
	case 3: // unnormal
		return f80.F80{Mant: mant >> (1 + r.IntN(63)), SE: sign | uint16(1+r.IntN(0x7ffe))}
	case 4: // infinity, NaNs, pseudo-NaN/infinity
		switch r.IntN(5) {
		case 0:
			return f80.F80{Mant: 1 << 63, SE: sign | 0x7fff}
		case 1: // QNaN
			return f80.F80{Mant: mant | 3<<62, SE: sign | 0x7fff}
		case 2: // SNaN
			m := mant&^(1<<62) | 1<<63
			if m == 1<<63 {
				m |= 1
			}
			return f80.F80{Mant: m, SE: sign | 0x7fff}
		case 3:
			return f80.F80{Mant: mant &^ (1 << 63), SE: sign | 0x7fff}
		default:
			return f80.Indefinite
		}
	case 5: // extreme exponents
		e := []uint16{1, 2, 3, 0x7ffe, 0x7ffd, 0x7ffc, 0x3fff - 16382 + 1}[r.IntN(7)]
		return f80.F80{Mant: mant | 1<<63, SE: sign | e}
	case 6: // near the single and double ranges
		e := 0x3fff + []int{-126, -127, -149, -150, 127, 128, -1022, -1023, -1074, -1075, 1023, 1024, -125, -148, -1073}[r.IntN(15)]
		e += r.IntN(3) - 1
		return f80.F80{Mant: mant | 1<<63, SE: sign | uint16(e)}
	case 7: // small integers and halves
		v := float64(r.IntN(40)) / float64(1+r.IntN(2))
		b := f80.FromInt64(int64(v * 2))
		if b.SE&0x7fff != 0 {
			b.SE--
		}
		return f80.F80{Mant: b.Mant, SE: b.SE | sign}
	case 8: // large integers around 2^15, 2^31, 2^63, 10^18
		e := []int{14, 15, 16, 30, 31, 32, 62, 63, 64, 59}[r.IntN(10)]
		return f80.F80{Mant: mant | 1<<63, SE: sign | uint16(0x3fff+e)}
	}
	// A "typical" value: exponent near 0.
	return f80.F80{Mant: mant | 1<<63, SE: sign | uint16(0x3fff+r.IntN(80)-40)}
}

// genMant returns a significand with patterns around the 24-, 53- and 64-bit rounding
// points.
func genMant(r *rand.Rand) uint64 {
	m := r.Uint64()
	switch r.IntN(8) {
	case 0:
		return ^uint64(0)
	case 1: // exact at one of the precisions, maybe with a tie or a sticky bit
		p := []uint{24, 53, 64}[r.IntN(3)]
		if p < 64 {
			m &^= 1<<(64-p) - 1
			switch r.IntN(3) {
			case 0:
				m |= 1 << (63 - p) // exactly half
			case 1:
				m |= 1 << (63 - p)
				m |= 1
			}
		}
		return m
	case 2:
		return 1<<63 | uint64(r.IntN(16))
	case 3: // all ones below a precision point
		p := []uint{24, 53, 11, 40}[r.IntN(4)]
		return m | (1<<(64-p) - 1)
	}
	return m
}

// genF32 and genF64 return memory operands biased toward their own corner cases.
func genF32(r *rand.Rand) uint32 {
	s := uint32(r.IntN(2)) << 31
	switch r.IntN(8) {
	case 0:
		return s | r.Uint32()&0x7fffff // denormal or zero
	case 1:
		return s | 0x7f800000 | r.Uint32()&0x7fffff // inf / NaN
	case 2:
		return s | 0x7f800000
	case 3:
		return s | uint32(r.IntN(4))<<23 | r.Uint32()&0x7fffff
	}
	return s | uint32(127+r.IntN(60)-30)<<23 | r.Uint32()&0x7fffff
}

func genF64(r *rand.Rand) uint64 {
	s := uint64(r.IntN(2)) << 63
	switch r.IntN(8) {
	case 0:
		return s | r.Uint64()&(1<<52-1)
	case 1:
		return s | 0x7ff<<52 | r.Uint64()&(1<<52-1)
	case 2:
		return s | 0x7ff<<52
	case 3:
		return s | uint64(0x7fe-r.IntN(3))<<52 | r.Uint64()&(1<<52-1)
	}
	return s | uint64(1023+r.IntN(140)-70)<<52 | r.Uint64()&(1<<52-1)
}

func genInt(r *rand.Rand, size int) uint64 {
	switch r.IntN(4) {
	case 0:
		return uint64(int64(r.IntN(200) - 100))
	case 1:
		return uint64(1) << (size*8 - 1)
	case 2:
		return uint64(1)<<(size*8-1) - uint64(r.IntN(3))
	}
	return r.Uint64()
}

// genBCD returns an 18-digit packed BCD value (valid digits).
func genBCD(r *rand.Rand) [10]byte {
	var b [10]byte
	n := r.IntN(19)
	for i := 0; i < n; i++ {
		d := byte(r.IntN(10))
		if i&1 == 0 {
			b[i/2] |= d
		} else {
			b[i/2] |= d << 4
		}
	}
	if r.IntN(2) == 0 {
		b[9] = 0x80
	}
	return b
}

// genFCW returns a control word with every exception masked and random PC, RC and
// infinity-control bits.
func genFCW(r *rand.Rand) uint16 {
	return 0x7f | uint16(r.IntN(4))<<8 | uint16(r.IntN(4))<<10 | uint16(r.IntN(2))<<12
}

// genState writes a random FRSTOR image at b: random control word (all masked), random
// status word (sticky flags, C0-C3, TOP; ES = B = 0), random empty registers, random
// pointers and opcode, random register contents.
func genState(r *rand.Rand, b []byte, st0st1 func() (f80.F80, f80.F80)) {
	fcw := genFCW(r)
	fsw := uint16(r.Uint32()) & 0x477f // flags, SF, C0-C2, C3
	if r.IntN(2) == 0 {
		fsw &^= 0x7f
	}
	top := r.IntN(8)
	fsw |= uint16(top) << 11
	var ftw uint16
	for p := 0; p < 8; p++ {
		if r.IntN(4) == 0 {
			ftw |= 3 << (2 * p)
		}
	}
	// ST(0) and ST(1) are usually full, ST(7) usually empty, so most cases compute.
	full := func(i int, want bool) {
		p := (top + i) & 7
		if want {
			ftw &^= 3 << (2 * p)
		} else {
			ftw |= 3 << (2 * p)
		}
	}
	if r.IntN(12) != 0 {
		full(0, true)
		full(1, true)
	}
	if r.IntN(8) != 0 {
		full(7, false)
	}
	le := binary.LittleEndian
	le.PutUint32(b[0:], 0xffff0000|uint32(fcw))
	le.PutUint32(b[4:], 0xffff0000|uint32(fsw))
	le.PutUint32(b[8:], 0xffff0000|uint32(ftw))
	le.PutUint32(b[12:], r.Uint32())
	le.PutUint32(b[16:], r.Uint32()&0x07ffffff)
	le.PutUint32(b[20:], r.Uint32())
	le.PutUint32(b[24:], 0xffff0000|r.Uint32()&0xffff)
	for i := 0; i < 8; i++ {
		v := genF80(r)
		putF80(b[28+10*i:], v)
	}
	if st0st1 != nil {
		a, c := st0st1()
		putF80(b[28:], a)
		putF80(b[38:], c)
	}
}

func putF80(b []byte, v f80.F80) {
	binary.LittleEndian.PutUint64(b, v.Mant)
	binary.LittleEndian.PutUint16(b[8:], v.SE)
}

func getF80(b []byte) f80.F80 {
	return f80.F80{Mant: binary.LittleEndian.Uint64(b), SE: binary.LittleEndian.Uint16(b[8:])}
}

// x87MemForms lists the memory forms: escape, reg field, operand kind.
type x87MemForm struct {
	esc  byte
	reg  int
	kind byte // 'f' m32fp, 'd' m64fp, 't' m80fp, 'w' m16int, 'i' m32int, 'q' m64int, 'b' BCD, 'c' control word, 'e' env, 's' save, 'o' output only
	name string
}

var x87MemForms = []x87MemForm{
	{0xd8, 0, 'f', "fadd m32"}, {0xd8, 1, 'f', "fmul m32"}, {0xd8, 2, 'f', "fcom m32"}, {0xd8, 3, 'f', "fcomp m32"},
	{0xd8, 4, 'f', "fsub m32"}, {0xd8, 5, 'f', "fsubr m32"}, {0xd8, 6, 'f', "fdiv m32"}, {0xd8, 7, 'f', "fdivr m32"},
	{0xd9, 0, 'f', "fld m32"}, {0xd9, 2, 'o', "fst m32"}, {0xd9, 3, 'o', "fstp m32"}, {0xd9, 4, 'e', "fldenv"},
	{0xd9, 5, 'c', "fldcw"}, {0xd9, 6, 'o', "fnstenv"}, {0xd9, 7, 'o', "fnstcw"},
	{0xda, 0, 'i', "fiadd m32"}, {0xda, 1, 'i', "fimul m32"}, {0xda, 2, 'i', "ficom m32"}, {0xda, 3, 'i', "ficomp m32"},
	{0xda, 4, 'i', "fisub m32"}, {0xda, 5, 'i', "fisubr m32"}, {0xda, 6, 'i', "fidiv m32"}, {0xda, 7, 'i', "fidivr m32"},
	{0xdb, 0, 'i', "fild m32"}, {0xdb, 1, 'o', "fisttp m32"}, {0xdb, 2, 'o', "fist m32"}, {0xdb, 3, 'o', "fistp m32"},
	{0xdb, 5, 't', "fld m80"}, {0xdb, 7, 'o', "fstp m80"},
	{0xdc, 0, 'd', "fadd m64"}, {0xdc, 1, 'd', "fmul m64"}, {0xdc, 2, 'd', "fcom m64"}, {0xdc, 3, 'd', "fcomp m64"},
	{0xdc, 4, 'd', "fsub m64"}, {0xdc, 5, 'd', "fsubr m64"}, {0xdc, 6, 'd', "fdiv m64"}, {0xdc, 7, 'd', "fdivr m64"},
	{0xdd, 0, 'd', "fld m64"}, {0xdd, 1, 'o', "fisttp m64"}, {0xdd, 2, 'o', "fst m64"}, {0xdd, 3, 'o', "fstp m64"},
	{0xdd, 4, 's', "frstor"}, {0xdd, 6, 'o', "fnsave"}, {0xdd, 7, 'o', "fnstsw m16"},
	{0xde, 0, 'w', "fiadd m16"}, {0xde, 1, 'w', "fimul m16"}, {0xde, 2, 'w', "ficom m16"}, {0xde, 3, 'w', "ficomp m16"},
	{0xde, 4, 'w', "fisub m16"}, {0xde, 5, 'w', "fisubr m16"}, {0xde, 6, 'w', "fidiv m16"}, {0xde, 7, 'w', "fidivr m16"},
	{0xdf, 0, 'w', "fild m16"}, {0xdf, 1, 'o', "fisttp m16"}, {0xdf, 2, 'o', "fist m16"}, {0xdf, 3, 'o', "fistp m16"},
	{0xdf, 4, 'b', "fbld"}, {0xdf, 5, 'q', "fild m64"}, {0xdf, 6, 'o', "fbstp"}, {0xdf, 7, 'o', "fistp m64"},
}

// x87RegOps lists the register forms by (escape, ModR/M & 0xf8 or the whole byte).
type x87RegForm struct {
	esc, modrm byte
	all        bool // modrm is a group of eight (ST(i) in the low bits)
	name       string
	trans      bool
}

var x87RegForms = []x87RegForm{
	{0xd8, 0xc0, true, "fadd st0,sti", false}, {0xd8, 0xc8, true, "fmul st0,sti", false},
	{0xd8, 0xd0, true, "fcom sti", false}, {0xd8, 0xd8, true, "fcomp sti", false},
	{0xd8, 0xe0, true, "fsub st0,sti", false}, {0xd8, 0xe8, true, "fsubr st0,sti", false},
	{0xd8, 0xf0, true, "fdiv st0,sti", false}, {0xd8, 0xf8, true, "fdivr st0,sti", false},
	{0xd9, 0xc0, true, "fld sti", false}, {0xd9, 0xc8, true, "fxch sti", false}, {0xd9, 0xd0, false, "fnop", false},
	{0xd9, 0xe0, false, "fchs", false}, {0xd9, 0xe1, false, "fabs", false}, {0xd9, 0xe4, false, "ftst", false},
	{0xd9, 0xe5, false, "fxam", false}, {0xd9, 0xe8, false, "fld1", false}, {0xd9, 0xe9, false, "fldl2t", false},
	{0xd9, 0xea, false, "fldl2e", false}, {0xd9, 0xeb, false, "fldpi", false}, {0xd9, 0xec, false, "fldlg2", false},
	{0xd9, 0xed, false, "fldln2", false}, {0xd9, 0xee, false, "fldz", false},
	{0xd9, 0xf0, false, "f2xm1", true}, {0xd9, 0xf1, false, "fyl2x", true}, {0xd9, 0xf2, false, "fptan", true},
	{0xd9, 0xf3, false, "fpatan", true}, {0xd9, 0xf4, false, "fxtract", false}, {0xd9, 0xf5, false, "fprem1", false},
	{0xd9, 0xf6, false, "fdecstp", false}, {0xd9, 0xf7, false, "fincstp", false}, {0xd9, 0xf8, false, "fprem", false},
	{0xd9, 0xf9, false, "fyl2xp1", true}, {0xd9, 0xfa, false, "fsqrt", false}, {0xd9, 0xfb, false, "fsincos", true},
	{0xd9, 0xfc, false, "frndint", false}, {0xd9, 0xfd, false, "fscale", false}, {0xd9, 0xfe, false, "fsin", true},
	{0xd9, 0xff, false, "fcos", true},
	{0xda, 0xc0, true, "fcmovb", false}, {0xda, 0xc8, true, "fcmove", false}, {0xda, 0xd0, true, "fcmovbe", false},
	{0xda, 0xd8, true, "fcmovu", false}, {0xda, 0xe9, false, "fucompp", false},
	{0xdb, 0xc0, true, "fcmovnb", false}, {0xdb, 0xc8, true, "fcmovne", false}, {0xdb, 0xd0, true, "fcmovnbe", false},
	{0xdb, 0xd8, true, "fcmovnu", false}, {0xdb, 0xe2, false, "fnclex", false}, {0xdb, 0xe3, false, "fninit", false},
	{0xdb, 0xe8, true, "fucomi", false}, {0xdb, 0xf0, true, "fcomi", false},
	{0xdc, 0xc0, true, "fadd sti,st0", false}, {0xdc, 0xc8, true, "fmul sti,st0", false},
	{0xdc, 0xe0, true, "fsubr sti,st0", false}, {0xdc, 0xe8, true, "fsub sti,st0", false},
	{0xdc, 0xf0, true, "fdivr sti,st0", false}, {0xdc, 0xf8, true, "fdiv sti,st0", false},
	{0xdd, 0xc0, true, "ffree", false}, {0xdd, 0xd0, true, "fst sti", false}, {0xdd, 0xd8, true, "fstp sti", false},
	{0xdd, 0xe0, true, "fucom sti", false}, {0xdd, 0xe8, true, "fucomp sti", false},
	{0xde, 0xc0, true, "faddp", false}, {0xde, 0xc8, true, "fmulp", false}, {0xde, 0xd9, false, "fcompp", false},
	{0xde, 0xe0, true, "fsubrp", false}, {0xde, 0xe8, true, "fsubp", false}, {0xde, 0xf0, true, "fdivrp", false},
	{0xde, 0xf8, true, "fdivp", false},
	{0xdf, 0xc0, true, "ffreep", false}, {0xdf, 0xe0, false, "fnstsw ax", false}, {0xdf, 0xe8, true, "fucomip", false},
	{0xdf, 0xf0, true, "fcomip", false},
	{0x9b, 0x00, false, "fwait", false},
}

// genX87 generates one case.
func genX87(r *rand.Rand) x87Case {
	var c x87Case
	var st func() (f80.F80, f80.F80)
	if r.IntN(4) == 0 { // a related pair in ST(0), ST(1): exponent differences for FPREM, FSCALE...
		st = func() (f80.F80, f80.F80) {
			a, b := genF80(r), genF80(r)
			if b.SE&0x7fff != 0 && b.SE&0x7fff != 0x7fff {
				d := r.IntN(140) - 10
				e := int(a.SE&0x7fff) - d
				if e > 0 && e < 0x7fff {
					b.SE = b.SE&0x8000 | uint16(e)
				}
			}
			return a, b
		}
	}
	genState(r, c.mem[x87In:], st)
	c.flags = r.Uint64() & (FlagCF | FlagPF | FlagAF | FlagZF | FlagSF | FlagOF)
	if r.IntN(3) == 0 {
		f := x87MemForms[r.IntN(len(x87MemForms))]
		c.insn = append([]byte{f.esc}, modrmMem(f.reg)...)
		c.text = f.name
		if (f.kind == 'e' || f.kind == 's' || f.name == "fnstenv" || f.name == "fnsave") && r.IntN(3) == 0 {
			c.insn = append([]byte{0x66}, c.insn...) // the 16-bit formats
			c.text += "16"
		}
		m := c.mem[x87Mem:]
		for i := range m[:108] {
			m[i] = byte(r.Uint32())
		}
		switch f.kind {
		case 'f':
			binary.LittleEndian.PutUint32(m, genF32(r))
		case 'd':
			binary.LittleEndian.PutUint64(m, genF64(r))
		case 't':
			putF80(m, genF80(r))
		case 'w':
			binary.LittleEndian.PutUint16(m, uint16(genInt(r, 2)))
		case 'i':
			binary.LittleEndian.PutUint32(m, uint32(genInt(r, 4)))
		case 'q':
			binary.LittleEndian.PutUint64(m, genInt(r, 8))
		case 'b':
			b := genBCD(r)
			copy(m, b[:])
		case 'c':
			binary.LittleEndian.PutUint16(m, genFCW(r)|uint16(r.Uint32())&0xe0c0)
		case 'e', 's':
			var img [108]byte
			genState(r, img[:], nil)
			copy(m, img[:])
		}
		return c
	}
	f := x87RegForms[r.IntN(len(x87RegForms))]
	modrm := f.modrm
	if f.all {
		modrm |= byte(r.IntN(8))
	}
	if f.esc == 0x9b {
		c.insn = []byte{0x9b}
	} else {
		c.insn = []byte{f.esc, modrm}
	}
	c.text = fmt.Sprintf("%s (%x %x)", f.name, f.esc, modrm)
	c.trans = f.trans
	return c
}

// x87Results runs c on the host and on the emulator and returns both data areas and
// registers.
func x87Run(t testing.TB, tm *testMachine, c *x87Case) (host, emu [x87Data]byte, hr, er hostcpu.Regs, trap Trap) {
	code := x87Snippet(c.insn)
	var in hostcpu.Regs
	in.GPR[RBX] = hostcpu.DataAddr
	in.GPR[RAX] = 0x1111_2222_3333_4444
	in.RFLAGS = InitialRFLAGS | c.flags
	hr, er = in, in
	host, emu = c.mem, c.mem
	require.NoError(t, hostRun(t, code, &hr, host[:]))
	trap = tm.run(code, &er, emu[:], 100)
	return
}

// describeX87 renders an FNSAVE image for a failure message.
func describeX87(b []byte) string {
	le := binary.LittleEndian
	s := fmt.Sprintf("fcw=%04x fsw=%04x ftw=%04x fip=%08x fop=%03x fcs=%04x fdp=%08x fds=%04x\n",
		le.Uint16(b), le.Uint16(b[4:]), le.Uint16(b[8:]), le.Uint32(b[12:]), le.Uint16(b[18:]), le.Uint16(b[16:]),
		le.Uint32(b[20:]), le.Uint16(b[24:]))
	for i := 0; i < 8; i++ {
		v := getF80(b[28+10*i:])
		s += fmt.Sprintf("  st%d=%04x_%016x", i, v.SE, v.Mant)
		if i%4 == 3 {
			s += "\n"
		}
	}
	return s
}

// x87Check runs one case and reports the first difference (nil if identical). A host
// run can be disturbed by an interrupt in the middle of the snippet (the kernel's save
// and restore of the FPU state does not keep FDP on this host), so a difference is
// confirmed by running the host again.
func x87Check(t testing.TB, tm *testMachine, c *x87Case) error {
	var err error
	for try := 0; try < 3; try++ {
		if err = x87CheckOnce(t, tm, c); err == nil {
			return nil
		}
	}
	return err
}

// x87VendorMask blanks, in both FNSAVE images, what the host's vendor defines: with
// CPUID.(EAX=7,ECX=0):EBX[6] (FDP_EXCPTN_ONLY, Intel) the data pointer and its selector are
// updated only by an instruction that raises an unmasked exception, where this CPU, as the
// SDM's default, updates them with every instruction that has a memory operand.
func x87VendorMask(t testing.TB, host, emu []byte) {
	if profileFor(t).Has("fdp_excptn_only") && host[4]&0x80 == 0 {
		for i := 20; i < 26; i++ {
			host[i], emu[i] = 0, 0
		}
		noteMask(t, "FNSAVE FDP and FDS without an unmasked exception (CPUID.7.0:EBX[6] FDP_EXCPTN_ONLY)")
	}
}

func x87CheckOnce(t testing.TB, tm *testMachine, c *x87Case) error {
	host, emu, hr, er, trap := x87Run(t, tm, c)
	if !returned(trap) {
		return fmt.Errorf("%s (% x): emulator stopped with %v\ninput: %s", c.text, c.insn, trap, describeX87(c.mem[x87In:]))
	}
	x87VendorMask(t, host[x87Out:], emu[x87Out:])
	if host != emu || hr.GPR[RAX] != er.GPR[RAX] || hr.RFLAGS&0xcd5 != er.RFLAGS&0xcd5 {
		return fmt.Errorf("%s (% x) differs\ninput:    %s\nmem in:   % x\nhost out: %s\nemu out:  %s\nhost mem: % x\nemu mem:  % x\nrax host %#x emu %#x; rflags in %#x host %#x emu %#x",
			c.text, c.insn, describeX87(c.mem[x87In:]), c.mem[x87Mem:x87Mem+16], describeX87(host[x87Out:]), describeX87(emu[x87Out:]),
			host[x87Mem:x87Mem+28], emu[x87Mem:x87Mem+28], hr.GPR[RAX], er.GPR[RAX], c.flags, hr.RFLAGS, er.RFLAGS)
	}
	return nil
}

// TestX87DifferentialRandom runs seeded random x87 instructions from random complete FPU
// states on the host and on the emulator.
func TestX87DifferentialRandom(t *testing.T) {
	tm := newTestMachine(t)
	r := rand.New(rand.NewPCG(87, 1))
	n := 50000
	if testing.Short() {
		n = 5000
	}
	fails := map[string]int{}
	for i := 0; i < n; i++ {
		c := genX87(r)
		if c.trans {
			continue
		}
		if err := x87Check(t, tm, &c); err != nil {
			name := c.text
			if i := strings.Index(name, " ("); i > 0 {
				name = name[:i]
			}
			if fails[name] == 0 {
				t.Error(err)
			}
			fails[name]++
		}
	}
	if len(fails) > 0 {
		t.Errorf("failures by instruction: %v", fails)
	}
}

// ulpDiff returns how many representable values lie between two finite extended values of
// the same sign (1<<62 for anything else).
func ulpDiff(a, b f80.F80) uint64 {
	const far = 1 << 62
	if a == b {
		return 0
	}
	finite := func(c f80.Class) bool {
		return c == f80.Zero || c == f80.Denormal || c == f80.Normal || c == f80.PseudoDenormal
	}
	if !finite(a.Class()) || !finite(b.Class()) || a.Neg() != b.Neg() {
		return far
	}
	// Position among the values of one sign: exponent field * 2^63 + fraction (denormals
	// and pseudo-denormals count with exponent 1, as they are valued).
	pos := func(v f80.F80) (uint64, uint64) {
		e := uint64(v.SE & 0x7fff)
		if e == 0 {
			if v.Mant>>63 != 0 {
				return 1, v.Mant &^ (1 << 63)
			}
			return 0, v.Mant
		}
		return e, v.Mant &^ (1 << 63)
	}
	ea, ma := pos(a)
	eb, mb := pos(b)
	if ea > eb || (ea == eb && ma > mb) {
		ea, ma, eb, mb = eb, mb, ea, ma
	}
	switch eb - ea {
	case 0:
		return mb - ma
	case 1:
		return mb + (1 << 63) - ma
	}
	return far
}

// transStats counts, per instruction, how a transcendental agreed with the host.
type transStats struct {
	n        int // cases
	checked  int // computed cases checked against the exact reference
	hostSame int // of those, the host's result was the reference's too
}

// x87CheckTrans checks a transcendental case. Where the instruction computes an inexact
// result from finite operands, the result (and C1, its round-up bit) must be the exact
// reference's (x87_reference_test.go) bit for bit: the emulator claims correct rounding,
// which the host does not always deliver, so the host is no judge of the last bit.
// Everything else (the flags, the stack, C2, the other registers, special operands and
// exact results) must be the host's.
func x87CheckTrans(t testing.TB, tm *testMachine, c *x87Case, s *transStats) error {
	c.mem[x87In+4] &^= byte(f80.PE) // so that PE afterwards says the instruction computed
	var host, emu [x87Data]byte
	var trap Trap
	for try := 0; try < 3; try++ { // see x87Check
		host, emu, _, _, trap = x87Run(t, tm, c)
		if host == emu {
			break
		}
	}
	if !returned(trap) {
		return fmt.Errorf("%s: emulator stopped with %v", c.text, trap)
	}
	hs, es := host[x87Out:], emu[x87Out:]
	s.n++
	name := c.text[:strings.Index(c.text, " (")]
	computed := binary.LittleEndian.Uint16(hs[4:])&f80.PE != 0
	if outsideSDMDomain(name, c.mem[x87In:]) {
		return sameExceptResult(t, c, &host, &emu, [2]bool{true})
	}
	want, check, c1, ok, exact := x87ReferenceExact(name, c.mem[x87In:])
	if computed && exact {
		// An exact result (2^1 - 1): the hardware still reports PE and a C1 of its own
		// internal rounding; C1 is defined only for a rounded result.
		h2, e2 := host, emu
		h2[x87Out+5] &^= 2
		e2[x87Out+5] &^= 2
		noteMask(t, "C1 after a transcendental instruction whose result is exact")
		if h2 != e2 {
			return fmt.Errorf("%s differs from the host\ninput:    %s\nhost out: %s\nemu out:  %s", c.text,
				describeX87(c.mem[x87In:]), describeX87(hs), describeX87(es))
		}
		return nil
	}
	if !computed || !ok {
		if host != emu {
			return fmt.Errorf("%s differs from the host\ninput:    %s\nhost out: %s\nemu out:  %s", c.text,
				describeX87(c.mem[x87In:]), describeX87(hs), describeX87(es))
		}
		return nil
	}
	s.checked++
	h2, e2 := append([]byte{}, hs[:x87Data-x87Out]...), append([]byte{}, es[:x87Data-x87Out]...)
	h2[5] &^= 2 // C1
	e2[5] &^= 2
	same := true
	for reg, chk := range check {
		if !chk {
			continue
		}
		got, hostV := getF80(es[28+10*reg:]), getF80(hs[28+10*reg:])
		same = same && hostV == want[reg]
		if got != want[reg] {
			return fmt.Errorf("%s: ST(%d) = %04x_%016x, the exact value rounds to %04x_%016x (the host's: %04x_%016x)\ninput: %s",
				c.text, reg, got.SE, got.Mant, want[reg].SE, want[reg].Mant, hostV.SE, hostV.Mant, describeX87(c.mem[x87In:]))
		}
		clear(h2[28+10*reg : 38+10*reg])
		clear(e2[28+10*reg : 38+10*reg])
	}
	if gotC1 := es[5]&2 != 0; gotC1 != c1 {
		return fmt.Errorf("%s: C1 = %v, the rounding of the exact value says %v\ninput: %s", c.text, gotC1, c1, describeX87(c.mem[x87In:]))
	}
	same = same && hs[5]&2 == es[5]&2
	if string(h2) != string(e2) || string(host[:x87Out]) != string(emu[:x87Out]) {
		return fmt.Errorf("%s differs from the host beyond its result\ninput:    %s\nhost out: %s\nemu out:  %s", c.text,
			describeX87(c.mem[x87In:]), describeX87(hs), describeX87(es))
	}
	if same {
		s.hostSame++
	}
	return nil
}

// sameExceptResult compares host and emulator images but for the result registers (check)
// and C1, noting that they were not compared (the SDM leaves them undefined there).
func sameExceptResult(t testing.TB, c *x87Case, host, emu *[x87Data]byte, check [2]bool) error {
	h2, e2 := append([]byte{}, host[:]...), append([]byte{}, emu[:]...)
	h2[x87Out+5] &^= 2
	e2[x87Out+5] &^= 2
	for reg, chk := range check {
		if chk {
			clear(h2[x87Out+28+10*reg : x87Out+38+10*reg])
			clear(e2[x87Out+28+10*reg : x87Out+38+10*reg])
		}
	}
	noteMask(t, "the results of F2XM1 and FYL2XP1 outside the operand range the SDM defines them for")
	if string(h2) != string(e2) {
		return fmt.Errorf("%s differs from the host beyond its result\ninput:    %s\nhost out: %s\nemu out:  %s", c.text,
			describeX87(c.mem[x87In:]), describeX87(host[x87Out:]), describeX87(emu[x87Out:]))
	}
	return nil
}

// TestX87Transcendental runs random FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X and
// FYL2XP1 cases: computed results exactly as the independent reference rounds them,
// everything else (special operands, flags, stack effects, C2) as on the host.
func TestX87Transcendental(t *testing.T) {
	tm := newTestMachine(t)
	r := rand.New(rand.NewPCG(87, 2))
	n := 16000
	if testing.Short() {
		n = 2000
	}
	stats := map[string]*transStats{}
	for i := 0; i < n; {
		c := genX87(r)
		if !c.trans {
			continue
		}
		i++
		name := c.text[:strings.Index(c.text, " (")]
		s := stats[name]
		if s == nil {
			s = &transStats{}
			stats[name] = s
		}
		require.NoError(t, x87CheckTrans(t, tm, &c, s))
	}
	for name, s := range stats {
		t.Logf("%-8s cases %5d, checked against the exact reference %5d; the host agreed with it in %5d (%.1f%%)",
			name, s.n, s.checked, s.hostSame, 100*float64(s.hostSame)/float64(max(1, s.checked)))
		assert.Greater(t, s.checked, s.n/4, "%s: most cases compute a result the reference checks", name)
	}
}

// The data pointer's selector (FDS) is the operand's segment: SS for an RSP or RBP base,
// else DS (0 on Linux), as the host stores it.
func TestX87DataSelector(t *testing.T) {
	tm := newTestMachine(t)
	for _, tc := range []struct {
		name string
		load []byte
	}{
		{"rsp base", []byte{0xdd, 0x44, 0x24, 0xc0}},       // fld qword [rsp-64]
		{"rbx base", []byte{0xdd, 0x83, 0x00, 0x01, 0, 0}}, // fld qword [rbx+0x100]
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := []byte{0xdb, 0xe3, 0xd9, 0xee, 0xdd, 0x5c, 0x24, 0xc0} // fninit; fldz; fstp qword [rsp-64]
			code = append(code, tc.load...)
			code = append(code, 0xd9, 0xb3, 0x00, 0x02, 0, 0, 0xdb, 0xe3, 0xc3) // fnstenv [rbx+0x200]; fninit; ret
			var in hostcpu.Regs
			in.GPR[RBX] = hostcpu.DataAddr
			in.RFLAGS = InitialRFLAGS
			hr, er := in, in
			var host, emu [x87Data]byte
			require.NoError(t, hostRun(t, code, &hr, host[:]))
			require.True(t, returned(tm.run(code, &er, emu[:], 100)))
			require.Equal(t, host[x87Out:x87Out+28], emu[x87Out:x87Out+28])
		})
	}
}
