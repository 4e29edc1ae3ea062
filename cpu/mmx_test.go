package cpu

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/f80"
	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
)

// The MMX unit on the emulator alone, against the SDM: the aliasing of the MMX registers
// onto the x87 registers (Vol. 3A, 12.2 and Table 12-1), the exceptions (#MF for a pending
// x87 exception, #UD for LOCK, precise #PF/#GP/#XM), memory operand sizes, and the x87
// unit's view of MMX state. What the host can show is compared with it in mmx_diff_test.go.

// mmxStart is the x87 state the tests below start from: TOP = 5, R0-R7 holding distinct
// values with sign and exponent 3FFFH (normal numbers), R6 and R7 empty.
func mmxStart() X87State {
	x := InitialExtState().X87
	x.FSW = 5 << 11
	x.FTW = 0xf000
	for i := range x.R {
		x.R[i] = Float80{Mant: 0x8000_0000_0000_0000 | uint64(i)*0x0101_0101_0101_0101, SE: 0x3fff}
	}
	return x
}

// mmxRun runs code (then RET) on the emulator from x87 state x, with RBX = DataAddr, the
// given XMM registers and general-purpose registers, and data mem at DataAddr.
func mmxRun(t *testing.T, tm *testMachine, code []byte, x X87State, mem []byte, setup func(*State)) (Trap, State) {
	t.Helper()
	tm.writeVirt(hostcpu.CodeAddr, append(append([]byte{}, code...), 0xc3))
	tm.writeVirt(hostcpu.EntryRSP, le(sentinel, 8))
	if mem != nil {
		tm.writeVirt(hostcpu.DataAddr, mem)
	}
	var s State
	s.Ext = InitialExtState()
	s.Ext.X87 = x
	s.GPR[RBX] = hostcpu.DataAddr
	s.GPR[RSP] = hostcpu.EntryRSP
	s.RIP = hostcpu.CodeAddr
	s.RFLAGS = InitialRFLAGS
	if setup != nil {
		setup(&s)
	}
	tm.cpu.Load(&s)
	trap := tm.cpu.Run(100)
	tm.cpu.Save(&s)
	return trap, s
}

// Encodings used below.
var (
	iPaddb     = []byte{0x0f, 0xfc, 0xc1}             // paddb mm0, mm1
	iMovdEaxM1 = []byte{0x0f, 0x7e, 0xc8}             // movd eax, mm1
	iMovqLoad  = []byte{0x0f, 0x6f, 0x03}             // movq mm0, [rbx]
	iMovqStore = []byte{0x0f, 0x7f, 0x13}             // movq [rbx], mm2
	iEmms      = []byte{0x0f, 0x77}                   // emms
	iMaskmovq  = []byte{0x0f, 0xf7, 0xc1}             // maskmovq mm0, mm1 (to [rdi])
	iCvtps2pi  = []byte{0x0f, 0x2d, 0xc1}             // cvtps2pi mm0, xmm1
	iCvtpi2psR = []byte{0x0f, 0x2a, 0xc1}             // cvtpi2ps xmm0, mm1
	iCvtpi2psM = []byte{0x0f, 0x2a, 0x03}             // cvtpi2ps xmm0, [rbx]
	iCvtpi2pdR = []byte{0x66, 0x0f, 0x2a, 0xc1}       // cvtpi2pd xmm0, mm1
	iCvtpi2pdM = []byte{0x66, 0x0f, 0x2a, 0x03}       // cvtpi2pd xmm0, [rbx]
	iCvtpd2piM = []byte{0x66, 0x0f, 0x2d, 0x43, 0x08} // cvtpd2pi mm0, [rbx+8]
	iMovq2dq   = []byte{0xf3, 0x0f, 0xd6, 0xc1}       // movq2dq xmm0, mm1
	iMovdq2q   = []byte{0xf2, 0x0f, 0xd6, 0xc1}       // movdq2q mm0, xmm1
	iPextrw    = []byte{0x0f, 0xc5, 0xc1, 0x02}       // pextrw eax, mm1, 2
	iPmovmskb  = []byte{0x0f, 0xd7, 0xc1}             // pmovmskb eax, mm1
	iPshufb    = []byte{0x0f, 0x38, 0x00, 0xc1}       // pshufb mm0, mm1
	iPsllwImm  = []byte{0x0f, 0x71, 0xf0, 0x03}       // psllw mm0, 3
	iPinsrw    = []byte{0x0f, 0xc4, 0xc0, 0x01}       // pinsrw mm0, eax, 1
)

// Table 12-1 (SDM Vol. 3A), "Effects of MMX Instructions on x87 FPU State": a read of MMi
// sets TOP to 0 and every tag to valid and leaves the registers alone; a write also sets
// the sign and exponent of Ri to all ones; EMMS sets TOP to 0 and every tag to empty.
// CVTPI2PD with a memory source is an SSE2 instruction and changes no x87 state.
func TestMMXStateTransitionsTable121(t *testing.T) {
	tm := newTestMachine(t)
	mem := le(0x0000_0002_0000_0001, 8)
	start := mmxStart()
	for _, row := range []struct {
		name    string
		code    []byte
		top     int
		ftw     uint16
		written int // the register whose sign and exponent become all ones (-1: none)
	}{
		{"read MM1: movd eax, mm1", iMovdEaxM1, 0, 0x0000, -1},
		{"read MM2: movq m64, mm2", iMovqStore, 0, 0x0000, -1},
		{"read MM1: pmovmskb eax, mm1", iPmovmskb, 0, 0x0000, -1},
		{"read MM1: movq2dq xmm0, mm1", iMovq2dq, 0, 0x0000, -1},
		{"read MM1: cvtpi2ps xmm0, mm1", iCvtpi2psR, 0, 0x0000, -1},
		{"read m64: cvtpi2ps xmm0, m64 (transition with either source)", iCvtpi2psM, 0, 0x0000, -1},
		{"read MM1: cvtpi2pd xmm0, mm1", iCvtpi2pdR, 0, 0x0000, -1},
		{"cvtpi2pd xmm0, m64: an SSE2 instruction, no transition", iCvtpi2pdM, 5, 0xf000, -1},
		{"write MM0: paddb mm0, mm1", iPaddb, 0, 0x0000, 0},
		{"write MM0: movq mm0, m64", iMovqLoad, 0, 0x0000, 0},
		{"write MM0: movdq2q mm0, xmm1", iMovdq2q, 0, 0x0000, 0},
		{"write MM0: cvtps2pi mm0, xmm1", iCvtps2pi, 0, 0x0000, 0},
		{"write MM0: psllw mm0, 3", iPsllwImm, 0, 0x0000, 0},
		{"EMMS", iEmms, 0, 0xffff, -1},
	} {
		t.Run(row.name, func(t *testing.T) {
			trap, s := mmxRun(t, tm, row.code, start, mem, nil)
			require.True(t, returned(trap), "%v", trap)
			x := s.Ext.X87
			assert.Equal(t, row.top, int(x.FSW>>11&7), "TOP")
			assert.Equal(t, row.ftw, x.FTW, "tag word")
			assert.Equal(t, start.FSW&^fswTOP, x.FSW&^fswTOP, "the rest of the status word")
			assert.Equal(t, start.FCW, x.FCW, "control word")
			for i := range x.R {
				if i == row.written {
					assert.Equal(t, uint16(0xffff), x.R[i].SE, "R%d sign and exponent", i)
					continue
				}
				assert.Equal(t, start.R[i], x.R[i], "R%d unchanged", i)
			}
		})
	}
}

// MMi is the significand of physical register Ri, not of ST(i): with TOP = 5, MM1 is R1
// (ST(4)); MOVD zero-extends its 32-bit destination.
func TestMMXRegistersArePhysicalSignificands(t *testing.T) {
	tm := newTestMachine(t)
	start := mmxStart()
	trap, s := mmxRun(t, tm, iMovdEaxM1, start, nil, func(s *State) { s.GPR[RAX] = ^uint64(0) })
	require.True(t, returned(trap), "%v", trap)
	assert.Equal(t, start.R[1].Mant&0xffffffff, s.GPR[RAX])
	assert.Equal(t, start.R[1].Mant, tm.cpu.MM(1))
}

// FNSTENV stores the tag each non-empty register's contents deserve (SDM Vol. 3A, 12.2.1):
// after MOVQ writes MM0 (exponent all ones: special, 10), R1 holding +0 is zero (01), R2
// holding 1.0 valid (00), R3 holding a denormal special (10); FXSAVE's abridged tags show
// all eight in use; after EMMS every tag is empty.
func TestMMXStoredTagWord(t *testing.T) {
	tm := newTestMachine(t)
	start := mmxStart()
	start.R[1] = Float80{}
	start.R[2] = Float80{Mant: 1 << 63, SE: 0x3fff}
	start.R[3] = Float80{Mant: 1, SE: 0}
	fnstenv := []byte{0xd9, 0x73, 0x40}            // fnstenv [rbx+0x40]
	fxsave := []byte{0x0f, 0xae, 0x83, 0, 1, 0, 0} // fxsave [rbx+0x100]
	mem := make([]byte, 0x300)
	code := cat(iMovqLoad, fnstenv, fxsave)
	trap, _ := mmxRun(t, tm, code, start, mem, nil)
	require.True(t, returned(trap), "%v", trap)
	tm.readVirt(hostcpu.DataAddr, mem)
	assert.Equal(t, uint16(0b00_00_00_00_10_00_01_10), binary.LittleEndian.Uint16(mem[0x48:]), "saved tag word")
	assert.Equal(t, byte(0xff), mem[0x104], "abridged tags")
	assert.Equal(t, uint16(0), tm.x87().FTW, "the tag word itself: all valid")

	trap, _ = mmxRun(t, tm, cat(iMovqLoad, iEmms, fnstenv), start, mem, nil)
	require.True(t, returned(trap), "%v", trap)
	tm.readVirt(hostcpu.DataAddr, mem)
	assert.Equal(t, uint16(0xffff), binary.LittleEndian.Uint16(mem[0x48:]), "saved tag word after EMMS")
}

// A pending unmasked x87 exception (FSW.ES) raises #MF before any MMX instruction, EMMS
// included, does anything: RIP at it, the x87 state, MMX and XMM registers and memory as
// they were (SDM Vol. 3A, 12.5.1; each instruction page: "#MF If there is a pending x87 FPU
// exception"). CVTPI2PD xmm, m64 "does not take x87 FPU exceptions" and runs.
func TestMMXPendingX87ExceptionRaisesMF(t *testing.T) {
	tm := newTestMachine(t)
	start := mmxStart()
	start.FCW = 0x037b                        // ZM clear
	start.FSW = 5<<11 | f80.ZE | fswES | fswB // a division by zero is pending
	mem := make([]byte, 64)
	copy(mem, le(0x0000_0002_0000_0001, 8))
	for _, row := range []struct {
		name string
		code []byte
		mf   bool
	}{
		{"paddb", iPaddb, true}, {"movd eax, mm1", iMovdEaxM1, true}, {"movq mm0, m64", iMovqLoad, true},
		{"movq m64, mm2", iMovqStore, true}, {"emms", iEmms, true}, {"maskmovq", iMaskmovq, true},
		{"cvtps2pi", iCvtps2pi, true}, {"cvtpi2ps xmm0, mm1", iCvtpi2psR, true},
		{"cvtpi2ps xmm0, m64", iCvtpi2psM, true}, {"cvtpi2pd xmm0, mm1", iCvtpi2pdR, true},
		{"cvtpd2pi mm0, m128", iCvtpd2piM, true}, {"movq2dq", iMovq2dq, true}, {"movdq2q", iMovdq2q, true},
		{"pextrw", iPextrw, true}, {"pshufb", iPshufb, true}, {"pinsrw", iPinsrw, true},
		{"cvtpi2pd xmm0, m64: an SSE2 instruction", iCvtpi2pdM, false},
	} {
		t.Run(row.name, func(t *testing.T) {
			trap, s := mmxRun(t, tm, row.code, start, mem, func(s *State) {
				s.GPR[RDI] = hostcpu.DataAddr + 32
				s.Ext.XMM[0] = vec{0x1111, 0x2222}
				s.Ext.XMM[1] = vec{0x3f800000_40000000, 0}
			})
			if !row.mf {
				require.True(t, returned(trap), "%v", trap)
				assert.Equal(t, vec{0x3ff0000000000000, 0x4000000000000000}, s.Ext.XMM[0])
				assert.Equal(t, start, s.Ext.X87, "no transition")
				return
			}
			require.Equal(t, TrapException, trap.Kind, "%v", trap)
			assert.Equal(t, uint8(VecMF), trap.Vector, "%v", trap)
			assert.Equal(t, uint64(hostcpu.CodeAddr), trap.RIP)
			assert.Equal(t, start, s.Ext.X87, "x87 state unchanged")
			assert.Equal(t, vec{0x1111, 0x2222}, s.Ext.XMM[0])
			got := make([]byte, 64)
			tm.readVirt(hostcpu.DataAddr, got)
			assert.Equal(t, mem, got, "memory unchanged")
		})
	}
}

// A LOCK prefix on an MMX instruction is #UD (SDM Vol. 2, "#UD If the LOCK prefix is
// used"), naming the instruction, and changes nothing.
func TestMMXLockIsUD(t *testing.T) {
	tm := newTestMachine(t)
	start := mmxStart()
	for _, code := range [][]byte{iPaddb, iMovqLoad, iMovqStore, iEmms, iMaskmovq, iCvtpi2psR, iPshufb, iPsllwImm} {
		trap, s := mmxRun(t, tm, append([]byte{0xf0}, code...), start, make([]byte, 16), nil)
		require.Equal(t, TrapException, trap.Kind, "% x: %v", code, trap)
		assert.Equal(t, uint8(VecUD), trap.Vector, "% x: %v", code, trap)
		assert.NotEmpty(t, trap.Mnemonic)
		assert.Equal(t, start, s.Ext.X87)
	}
}

// Faults are precise: a faulting MMX instruction leaves the MMX registers, the x87 state
// (TOP, tags, exponents) and memory as they were. #PF for loads, stores and MASKMOVQ,
// #GP(0) for a misaligned m128 of CVTPD2PI, #XM for an unmasked invalid conversion.
func TestMMXFaultsArePrecise(t *testing.T) {
	tm := newTestMachine(t)
	start := mmxStart()
	unmapped := uint64(hostcpu.DataAddr + dataPages*4096)
	for _, row := range []struct {
		name   string
		code   []byte
		vector uint8
		setup  func(*State)
	}{
		{"movq mm0, [unmapped]", iMovqLoad, VecPF, func(s *State) { s.GPR[RBX] = unmapped }},
		{"movq [unmapped], mm2", iMovqStore, VecPF, func(s *State) { s.GPR[RBX] = unmapped }},
		{"maskmovq to [unmapped]", iMaskmovq, VecPF, func(s *State) { s.GPR[RDI] = unmapped - 4 }},
		{"cvtpd2pi mm0, m128 at 8 mod 16", iCvtpd2piM, VecGP, nil},
		{"cvtps2pi of a NaN, IM clear", iCvtps2pi, VecXM, func(s *State) {
			s.Ext.MXCSR = 0x1f80 &^ (1 << 7)
			s.Ext.XMM[1] = vec{0x7fc00000}
		}},
	} {
		t.Run(row.name, func(t *testing.T) {
			x := start
			x.R[1].Mant = 0x8080808080808080 // MASKMOVQ: every byte selected
			trap, s := mmxRun(t, tm, row.code, x, make([]byte, 64), row.setup)
			require.Equal(t, TrapException, trap.Kind, "%v", trap)
			assert.Equal(t, row.vector, trap.Vector, "%v", trap)
			assert.Equal(t, x, s.Ext.X87, "x87 state and MMX registers unchanged")
		})
	}
}

// MASKMOVQ translates all eight bytes at RDI for writing whatever the mask says, as the
// host processors do (the SDM leaves it to the implementation): an all-zero mask, or a
// mask that selects only the bytes on a mapped page, still faults on the unmapped page,
// and nothing is stored.
func TestMMXMaskmovqChecksAllEightBytes(t *testing.T) {
	tm := newTestMachine(t)
	end := uint64(hostcpu.DataAddr + dataPages*4096)
	for _, row := range []struct {
		name string
		mask uint64
		rdi  uint64
	}{
		{"zero mask at an unmapped page", 0, end},
		{"the four low bytes selected, the high four unmapped", 0x80808080, end - 4},
	} {
		start := mmxStart()
		start.R[0].Mant = 0x1122334455667788
		start.R[1].Mant = row.mask
		trap, s := mmxRun(t, tm, iMaskmovq, start, nil, func(s *State) { s.GPR[RDI] = row.rdi })
		assert.Equal(t, uint8(VecPF), trap.Vector, "%s: %v", row.name, trap)
		assert.Equal(t, start, s.Ext.X87, row.name)
		got := make([]byte, 4)
		tm.readVirt(end-4, got)
		assert.Equal(t, make([]byte, 4), got, "%s: nothing stored", row.name)
	}
}

// The memory operand is as wide as the SDM's operand column says: PUNPCKLBW reads an m32,
// MOVD an m32, PINSRW an m16, so each runs at the last bytes of the last mapped page;
// PADDB and MOVQ read an m64 and fault there.
func TestMMXMemoryOperandSizes(t *testing.T) {
	tm := newTestMachine(t)
	end := uint64(hostcpu.DataAddr + dataPages*4096)
	for _, row := range []struct {
		name  string
		code  []byte
		size  uint64
		fault bool
	}{
		{"punpcklbw mm0, m32", []byte{0x0f, 0x60, 0x03}, 4, false},
		{"punpcklwd mm0, m32", []byte{0x0f, 0x61, 0x03}, 4, false},
		{"punpckldq mm0, m32", []byte{0x0f, 0x62, 0x03}, 4, false},
		{"movd mm0, m32", []byte{0x0f, 0x6e, 0x03}, 4, false},
		{"pinsrw mm0, m16, 0", []byte{0x0f, 0xc4, 0x03, 0x00}, 2, false},
		{"punpckhbw mm0, m64", []byte{0x0f, 0x68, 0x03}, 4, true},
		{"paddb mm0, m64", []byte{0x0f, 0xfc, 0x03}, 4, true},
		{"movq mm0, m64", iMovqLoad, 4, true},
	} {
		trap, _ := mmxRun(t, tm, row.code, mmxStart(), nil, func(s *State) { s.GPR[RBX] = end - row.size })
		if row.fault {
			assert.Equal(t, uint8(VecPF), trap.Vector, "%s: %v", row.name, trap)
			assert.Equal(t, end, trap.Addr, row.name)
		} else {
			assert.True(t, returned(trap), "%s: %v", row.name, trap)
		}
	}
}

// Without EMMS the x87 unit finds every register in use after MMX code: FLD1 overflows the
// stack (masked response: IE, SF and C1 set, the QNaN indefinite pushed); after EMMS it
// loads 1.0 (SDM Vol. 1, 9.6.3).
func TestMMXWithoutEMMSOverflowsTheX87Stack(t *testing.T) {
	tm := newTestMachine(t)
	fld1 := []byte{0xd9, 0xe8}
	trap, s := mmxRun(t, tm, cat(iPaddb, fld1), mmxStart(), nil, nil)
	require.True(t, returned(trap), "%v", trap)
	x := s.Ext.X87
	assert.Equal(t, uint16(f80.IE|f80.SF|fswC1), x.FSW&(f80.IE|f80.SF|fswC1))
	assert.Equal(t, 7, int(x.FSW>>11&7))
	assert.Equal(t, Float80(f80.Indefinite), x.R[7])

	trap, s = mmxRun(t, tm, cat(iPaddb, iEmms, fld1), mmxStart(), nil, nil)
	require.True(t, returned(trap), "%v", trap)
	x = s.Ext.X87
	assert.Zero(t, x.FSW&f80.Exceptions)
	assert.Equal(t, Float80{Mant: 1 << 63, SE: 0x3fff}, x.R[7])
	assert.Equal(t, uint16(0x3fff), x.FTW, "R7 valid, the rest empty")
}

// CPUID.01H:EDX.MMX[bit 23] is reported, and so in AT_HWCAP (glibc's x86-64 baseline
// check requires it).
func TestMMXCPUID(t *testing.T) {
	assert.NotZero(t, cpuidLeaf1EDX&cpuidMMX)
	assert.NotZero(t, HWCAP()&(1<<23))
}

// Every MMX template of the differential test decodes to an implemented instruction (not
// #UD) in its register and memory forms.
func TestMMXEveryTemplateDecodes(t *testing.T) {
	for _, tpl := range mmxTemplates {
		for _, mem := range []bool{false, true} {
			if mem && (tpl.mem == 0 || tpl.form == mfGP) || !mem && tpl.regs == 2 {
				continue
			}
			var code []byte
			switch tpl.form {
			case mfNone:
				code = append([]byte{0x0f}, tpl.op...)
			default:
				reg := 1
				if tpl.form == mfShift {
					reg = tpl.ext
				}
				var imm []byte
				if tpl.imm {
					imm = []byte{1}
				}
				code = mmxEncode(tpl, reg, 2, mem, hostcpu.DataAddr, imm)
			}
			in, ok := decodeOne(append(code, make([]byte, 16)...))
			require.True(t, ok, tpl.name)
			assert.Equal(t, len(code), int(in.len), "%s: length", tpl.name)
			assert.NotEqual(t, opUD, in.op, "%s mem=%v: % x decodes to #UD", tpl.name, mem, code)
		}
	}
}
