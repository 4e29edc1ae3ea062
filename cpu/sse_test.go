package cpu

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
	"github.com/vmemu/vmemu/mmu"
)

// Tests of the SSE unit against the SDM for what the host cannot show from inside a test
// process: unmasked SIMD floating-point exceptions (#XM), alignment and page faults,
// reserved MXCSR bits, FXRSTOR's tag reconstruction, and instructions that must be #UD.

// sseRun runs code (which should end in RET) with the given XMM registers, MXCSR and
// general-purpose registers, and returns the trap and the final state.
func sseRun(t *testing.T, tm *testMachine, code []byte, xmm map[int]vec, mxcsr uint32, gpr map[int]uint64) (Trap, State) {
	t.Helper()
	tm.writeVirt(hostcpu.CodeAddr, append(append([]byte{}, code...), 0xc3))
	tm.writeVirt(hostcpu.EntryRSP, le(sentinel, 8))
	var s State
	s.Ext = InitialExtState()
	s.Ext.MXCSR = mxcsr
	for i, v := range xmm {
		s.Ext.XMM[i] = v
	}
	for i, v := range gpr {
		s.GPR[i] = v
	}
	s.GPR[RSP] = hostcpu.EntryRSP
	s.RIP = hostcpu.CodeAddr
	s.RFLAGS = InitialRFLAGS
	tm.cpu.Load(&s)
	trap := tm.cpu.Run(100)
	tm.cpu.Save(&s)
	return trap, s
}

// Encodings used below (register operands xmm1 <- xmm2 unless noted).
var (
	addss    = []byte{0xf3, 0x0f, 0x58, 0xca}
	addps    = []byte{0x0f, 0x58, 0xca}
	mulss    = []byte{0xf3, 0x0f, 0x59, 0xca}
	divss    = []byte{0xf3, 0x0f, 0x5e, 0xca}
	sqrtss   = []byte{0xf3, 0x0f, 0x51, 0xca}
	cvtsd2ss = []byte{0xf2, 0x0f, 0x5a, 0xca}
	comiss   = []byte{0x0f, 0x2f, 0xca}
	ucomiss  = []byte{0x0f, 0x2e, 0xca}
	rcpss    = []byte{0xf3, 0x0f, 0x53, 0xca}
	cvttss2s = []byte{0xf3, 0x0f, 0x2c, 0xc2} // cvttss2si eax, xmm2
)

func f32s(lanes ...uint32) vec {
	var v vec
	for i, x := range lanes {
		setLane32(&v, i, uint64(x))
	}
	return v
}

// TestSSEUnmaskedExceptions checks SDM Vol. 1, 11.5.3.2: pre-computation exceptions (IE, DE,
// ZE) are detected first and, when one is unmasked, only they are flagged; otherwise the
// post-computation ones (OE, UE, PE) are; an unmasked one raises #XM with the destination
// unchanged, and a masked one delivers its default result. Where the SDM is silent (PE
// with an unmasked overflow or underflow: set only if the result is inexact) the rows
// follow what the host CPU's SIGFPE handler sees in MXCSR.
func TestSSEUnmaskedExceptions(t *testing.T) {
	const (
		one    = 0x3f800000
		three  = 0x40400000
		max32  = 0x7f7fffff
		snan   = 0x7f800001
		qnan   = 0x7fc00000
		den    = 0x00000001
		minNrm = 0x00800000
		half   = 0x3f000000
	)
	unmask := func(bits uint32) uint32 { return 0x1f80 &^ (bits << mxMaskShift) }
	old := f32s(0x11111111, 0x22222222, 0x33333333, 0x44444444)
	rows := []struct {
		name     string
		code     []byte
		mxcsr    uint32
		src      vec
		dst      vec
		xm       bool   // #XM expected
		mxcsrOut uint32 // MXCSR afterwards
		lane0    uint32 // with !xm: element 0 of the destination
	}{
		{"IE unmasked: SNaN operand faults", addss, unmask(mxIE), f32s(snan), f32s(one), true, unmask(mxIE) | mxIE, 0},
		{"IE masked: SNaN is quieted", addss, 0x1f80, f32s(snan), f32s(one), false, 0x1f80 | mxIE, 0x7fc00001},
		{"ZE unmasked: x/0 faults", divss, unmask(mxZE), f32s(0), f32s(one), true, unmask(mxZE) | mxZE, 0},
		{"ZE masked: x/0 is infinity", divss, 0x1f80, f32s(0), f32s(one), false, 0x1f80 | mxZE, 0x7f800000},
		{"0/0 is invalid, not divide by zero", divss, unmask(mxZE), f32s(0), f32s(0), false, unmask(mxZE) | mxIE, 0xffc00000},
		{"DE unmasked: denormal operand faults", addss, unmask(mxDE), f32s(den), f32s(one), true, unmask(mxDE) | mxDE, 0},
		{"DE with DAZ: no denormal operand", addss, unmask(mxDE) | mxDAZ, f32s(den), f32s(one), false, unmask(mxDE) | mxDAZ, one},
		{"OE unmasked: faults with OE and PE", mulss, unmask(mxOE), f32s(max32), f32s(max32), true, unmask(mxOE) | mxOE | mxPE, 0},
		{"OE masked, PE unmasked: faults with both", mulss, unmask(mxPE), f32s(max32), f32s(max32), true, unmask(mxPE) | mxOE | mxPE, 0},
		{"OE masked: infinity", mulss, 0x1f80, f32s(max32), f32s(max32), false, 0x1f80 | mxOE | mxPE, 0x7f800000},
		{"UE unmasked: an exact tiny result faults", mulss, unmask(mxUE), f32s(half), f32s(minNrm), true, unmask(mxUE) | mxUE, 0},
		{"UE masked: an exact tiny result sets nothing", mulss, 0x1f80, f32s(half), f32s(minNrm), false, 0x1f80, 0x00400000},
		{"UE unmasked ignores FTZ", mulss, unmask(mxUE) | mxFZ, f32s(half), f32s(minNrm), true, unmask(mxUE) | mxFZ | mxUE, 0},
		{"FTZ: a tiny result is zero with UE and PE", mulss, 0x1f80 | mxFZ, f32s(half), f32s(minNrm), false, 0x1f80 | mxFZ | mxUE | mxPE, 0},
		{"PE unmasked: 1/3 faults", divss, unmask(mxPE), f32s(three), f32s(one), true, unmask(mxPE) | mxPE, 0},
		{"PE unmasked, exact result: no fault", addss, unmask(mxPE), f32s(one), f32s(one), false, unmask(mxPE), 0x40000000},
		{"sticky unmasked flag alone does not fault", addss, unmask(mxIE) | mxIE, f32s(one), f32s(one), false, unmask(mxIE) | mxIE, 0x40000000},
		{"masked DE and unmasked PE: both flagged", addss, unmask(mxPE), f32s(den), f32s(one), true, unmask(mxPE) | mxDE | mxPE, 0},
		{"unmasked IE in one lane: no post-computation flags from another", addps, unmask(mxIE),
			f32s(snan, max32), f32s(one, max32), true, unmask(mxIE) | mxIE, 0},
		{"unmasked ZE, masked IE in another lane: both flagged", []byte{0x0f, 0x5e, 0xca}, unmask(mxZE),
			f32s(0, one), f32s(one, snan), true, unmask(mxZE) | mxZE | mxIE, 0},
		{"unmasked OE, masked UE in another lane: all post flags", []byte{0x0f, 0x59, 0xca}, unmask(mxOE),
			f32s(max32, 0x3f000001), f32s(max32, 0x00800001), true, unmask(mxOE) | mxOE | mxUE | mxPE, 0},
		{"FTZ flushes even an exact tiny sum", addss, 0x1f80 | mxFZ, f32s(0), f32s(5), false, 0x1f80 | mxFZ | mxDE | mxUE | mxPE, 0},
		{"QNaN operand: no exception", addss, unmask(0x3f), f32s(qnan), f32s(one), false, unmask(0x3f), qnan},
		{"sqrt of a negative number: IE", sqrtss, unmask(mxIE), f32s(0xbf800000), f32s(one), true, unmask(mxIE) | mxIE, 0},
		{"sqrt of -0 is -0", sqrtss, unmask(0x3f), f32s(0x80000000), f32s(one), false, unmask(0x3f), 0x80000000},
		{"cvtsd2ss exact overflow unmasked: OE alone", cvtsd2ss, unmask(mxOE), vec{0x47f0000000000000}, f32s(one), true, unmask(mxOE) | mxOE, 0},
		{"rcpss never faults", rcpss, 0, f32s(0), f32s(one), false, 0, 0x7f800000},
	}
	tm := newTestMachine(t)
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			dst := row.dst
			dst[1] = old[1]
			trap, s := sseRun(t, tm, row.code, map[int]vec{1: dst, 2: row.src}, row.mxcsr, nil)
			assert.Equal(t, fmt.Sprintf("%#x", row.mxcsrOut), fmt.Sprintf("%#x", s.Ext.MXCSR), "MXCSR")
			if row.xm {
				require.Equal(t, TrapException, trap.Kind, "trap %v", trap)
				assert.Equal(t, uint8(VecXM), trap.Vector, "trap %v", trap)
				assert.Equal(t, uint64(hostcpu.CodeAddr), trap.RIP, "RIP at the faulting instruction")
				assert.Equal(t, dst, s.Ext.XMM[1], "destination unchanged")
				return
			}
			require.True(t, returned(trap), "trap %v", trap)
			assert.Equal(t, fmt.Sprintf("%#x", row.lane0), fmt.Sprintf("%#x", lane32(s.Ext.XMM[1], 0)))
			assert.Equal(t, dst[1], s.Ext.XMM[1][1], "upper elements of a scalar destination unchanged")
		})
	}
}

// TestSSEExceptionsIntoRegisters: conversions and compares that fault leave their integer
// and flag destinations unchanged.
func TestSSEExceptionsIntoRegisters(t *testing.T) {
	tm := newTestMachine(t)
	unIM := uint32(0x1f80 &^ (mxIE << mxMaskShift))
	trap, s := sseRun(t, tm, cvttss2s, map[int]vec{2: f32s(0x7fc00000)}, unIM, map[int]uint64{RAX: 0x1234})
	assert.Equal(t, uint8(VecXM), trap.Vector, "cvttss2si of a NaN with IM clear: %v", trap)
	assert.Equal(t, uint64(0x1234), s.GPR[RAX], "RAX unchanged")
	trap, s = sseRun(t, tm, cvttss2s, map[int]vec{2: f32s(0x7fc00000)}, 0x1f80, map[int]uint64{RAX: 0x1234})
	require.True(t, returned(trap), "%v", trap)
	assert.Equal(t, uint64(0x80000000), s.GPR[RAX], "integer indefinite, zero-extended")

	// COMISS signals on a QNaN, UCOMISS only on an SNaN.
	trap, s = sseRun(t, tm, comiss, map[int]vec{1: f32s(0x7fc00000), 2: f32s(0)}, unIM, nil)
	assert.Equal(t, uint8(VecXM), trap.Vector, "comiss QNaN: %v", trap)
	assert.Equal(t, uint64(0), s.RFLAGS&ArithFlags, "flags unchanged")
	trap, s = sseRun(t, tm, ucomiss, map[int]vec{1: f32s(0x7fc00000), 2: f32s(0)}, unIM, nil)
	require.True(t, returned(trap), "ucomiss QNaN: %v", trap)
	assert.Equal(t, uint64(FlagZF|FlagPF|FlagCF), s.RFLAGS&ArithFlags, "unordered")
}

// TestSSEAlignment checks the 16-byte alignment rule of legacy SSE memory operands (SDM
// Vol. 2, Table 2-21, exception type 4): #GP(0) for a misaligned m128 except for the
// unaligned moves, LDDQU and the string compares; scalar forms are never checked.
func TestSSEAlignment(t *testing.T) {
	tm := newTestMachine(t)
	base := uint64(hostcpu.DataAddr + 0x100)
	rows := []struct {
		name string
		code []byte // memory operand [rax]
		gp   bool
	}{
		{"movaps load", []byte{0x0f, 0x28, 0x08}, true},
		{"movaps store", []byte{0x0f, 0x29, 0x08}, true},
		{"movdqa load", []byte{0x66, 0x0f, 0x6f, 0x08}, true},
		{"movntdq store", []byte{0x66, 0x0f, 0xe7, 0x08}, true},
		{"paddb m128", []byte{0x66, 0x0f, 0xfc, 0x08}, true},
		{"addps m128", []byte{0x0f, 0x58, 0x08}, true},
		{"pshufb m128", []byte{0x66, 0x0f, 0x38, 0x00, 0x08}, true},
		{"ptest m128", []byte{0x66, 0x0f, 0x38, 0x17, 0x08}, true},
		{"movups load", []byte{0x0f, 0x10, 0x08}, false},
		{"movdqu store", []byte{0xf3, 0x0f, 0x7f, 0x08}, false},
		{"lddqu", []byte{0xf2, 0x0f, 0xf0, 0x08}, false},
		{"pcmpistri m128", []byte{0x66, 0x0f, 0x3a, 0x63, 0x08, 0x0c}, false},
		{"addss m32", []byte{0xf3, 0x0f, 0x58, 0x08}, false},
		{"movsd m64", []byte{0xf2, 0x0f, 0x10, 0x08}, false},
		{"pmovzxbw m64", []byte{0x66, 0x0f, 0x38, 0x30, 0x08}, false},
		{"cvtps2pd m64", []byte{0x0f, 0x5a, 0x08}, false},
		{"fxsave", []byte{0x0f, 0xae, 0x00}, true},
		{"fxrstor", []byte{0x0f, 0xae, 0x08}, true},
	}
	for _, row := range rows {
		for _, off := range []uint64{0, 4, 8, 1} {
			t.Run(fmt.Sprintf("%s+%d", row.name, off), func(t *testing.T) {
				tm.writeVirt(base, make([]byte, 1024))
				img := make([]byte, 512)
				binary.LittleEndian.PutUint32(img[24:], 0x1f80)
				tm.writeVirt(base, img) // a valid FXRSTOR image when aligned
				trap, s := sseRun(t, tm, row.code, map[int]vec{1: {7, 8}}, 0x1f80, map[int]uint64{RAX: base + off})
				if row.gp && off != 0 {
					require.Equal(t, TrapException, trap.Kind, "%v", trap)
					assert.Equal(t, uint8(VecGP), trap.Vector, "%v", trap)
					assert.Equal(t, uint32(0), trap.Code)
					assert.Equal(t, vec{7, 8}, s.Ext.XMM[1])
					return
				}
				require.True(t, returned(trap), "%v", trap)
			})
		}
	}
}

// TestSSEPageFaultPrecise: a 16-byte store whose second half falls on an unmapped page
// faults there and writes nothing; a 16-byte load likewise leaves its destination alone.
func TestSSEPageFaultPrecise(t *testing.T) {
	tm := newTestMachine(t)
	last := uint64(hostcpu.DataAddr + dataPages*4096 - 8) // 8 bytes before the unmapped page
	tm.writeVirt(last, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	movdquStore := []byte{0xf3, 0x0f, 0x7f, 0x08}
	trap, _ := sseRun(t, tm, movdquStore, map[int]vec{1: {^uint64(0), ^uint64(0)}}, 0x1f80, map[int]uint64{RAX: last})
	require.Equal(t, uint8(VecPF), trap.Vector, "%v", trap)
	assert.Equal(t, last+8, trap.Addr, "CR2 is the first byte on the missing page")
	got := make([]byte, 8)
	tm.readVirt(last, got)
	assert.Equal(t, []byte{1, 2, 3, 4, 5, 6, 7, 8}, got, "the mapped half is untouched")

	movdquLoad := []byte{0xf3, 0x0f, 0x6f, 0x08}
	trap, s := sseRun(t, tm, movdquLoad, map[int]vec{1: {7, 8}}, 0x1f80, map[int]uint64{RAX: last})
	require.Equal(t, uint8(VecPF), trap.Vector, "%v", trap)
	assert.Equal(t, vec{7, 8}, s.Ext.XMM[1])

	// A read-only page: FXSAVE faults as a write before storing anything.
	ro := uint64(0x1300_0000)
	tm.mapPage(ro, mmu.PTEUser)
	trap, _ = sseRun(t, tm, []byte{0x0f, 0xae, 0x00}, nil, 0x1f80, map[int]uint64{RAX: ro})
	require.Equal(t, uint8(VecPF), trap.Vector, "%v", trap)
	assert.NotZero(t, trap.Code&mmu.ErrWrite, "a write fault")
}

// TestLdmxcsrReserved: LDMXCSR and FXRSTOR raise #GP(0) for an MXCSR with a reserved bit
// (31:16) set, and change nothing; DAZ (bit 6) is supported.
func TestLdmxcsrReserved(t *testing.T) {
	tm := newTestMachine(t)
	base := uint64(hostcpu.DataAddr)
	ldmxcsr := []byte{0x0f, 0xae, 0x10} // ldmxcsr [rax]
	for _, row := range []struct {
		v  uint32
		gp bool
	}{{0x1f80, false}, {0x1fc0, false}, {0xffff, false}, {0x10000, true}, {0x20000, true}, {0x80001f80, true}} {
		tm.writeVirt(base, le(uint64(row.v), 4))
		trap, s := sseRun(t, tm, ldmxcsr, nil, 0x1f80, map[int]uint64{RAX: base})
		if row.gp {
			assert.Equal(t, uint8(VecGP), trap.Vector, "ldmxcsr %#x: %v", row.v, trap)
			assert.Equal(t, uint32(0x1f80), s.Ext.MXCSR, "MXCSR unchanged")
		} else {
			require.True(t, returned(trap), "ldmxcsr %#x: %v", row.v, trap)
			assert.Equal(t, row.v, s.Ext.MXCSR)
		}
	}
	img := make([]byte, 512)
	binary.LittleEndian.PutUint32(img[24:], 0x11f80)
	binary.LittleEndian.PutUint64(img[160:], 0xabcdef)
	tm.writeVirt(base, img)
	trap, s := sseRun(t, tm, []byte{0x0f, 0xae, 0x08}, map[int]vec{0: {1, 2}}, 0x1f80, map[int]uint64{RAX: base})
	assert.Equal(t, uint8(VecGP), trap.Vector, "fxrstor of a reserved MXCSR bit: %v", trap)
	assert.Equal(t, vec{1, 2}, s.Ext.XMM[0], "XMM0 not loaded")
}

// TestFxrstorTags: FXRSTOR rebuilds the full tag word from the abridged one and the
// register contents (SDM Vol. 2A, FXRSTOR and Table 3-57): empty 11, zero 01, special
// (NaN, infinity, denormal, unnormal) 10, valid 00; ST(i) is physical register (TOP+i) mod 8.
func TestFxrstorTags(t *testing.T) {
	tm := newTestMachine(t)
	base := uint64(hostcpu.DataAddr)
	img := make([]byte, 512)
	le16 := binary.LittleEndian.PutUint16
	le16(img[0:], 0x037f)
	le16(img[2:], 5<<11) // TOP = 5
	img[4] = 0x7f        // ST(0)..ST(6) in use... as physical registers R0..R6
	binary.LittleEndian.PutUint32(img[24:], 0x1f80)
	regs := []Float80{
		{Mant: 0, SE: 0x8000},                  // ST0: -0: zero
		{Mant: 1 << 63, SE: 0x3fff},            // ST1: 1.0: valid
		{Mant: 1 << 63, SE: 0x7fff},            // ST2: infinity: special
		{Mant: 1 << 62, SE: 0x3fff},            // ST3: unnormal: special
		{Mant: 1, SE: 0},                       // ST4: denormal: special
		{Mant: 0xc000000000000000, SE: 0x7fff}, // ST5: NaN: special
		{Mant: 0x8000000000000001, SE: 0x4000}, // ST6: valid
		{Mant: 0x8000000000000000, SE: 0x3fff}, // ST7: 1.0 but tagged empty below
	}
	for i, r := range regs {
		binary.LittleEndian.PutUint64(img[32+16*i:], r.Mant)
		le16(img[40+16*i:], r.SE)
	}
	tm.writeVirt(base, img)
	trap, s := sseRun(t, tm, []byte{0x48, 0x0f, 0xae, 0x08}, nil, 0x1f80, map[int]uint64{RAX: base})
	require.True(t, returned(trap), "%v", trap)
	x := s.Ext.X87
	for i, r := range regs {
		assert.Equal(t, r, x.R[(5+i)&7], "ST(%d) is R%d", i, (5+i)&7)
	}
	// Physical register p's abridged bit is bit p; tags by contents of R[p].
	want := uint16(0)
	for p := 0; p < 8; p++ {
		st := (p - 5) & 7
		tag := uint16(3)
		if p != 7 {
			tag = []uint16{1, 0, 2, 2, 2, 2, 0, 0}[st]
		}
		want |= tag << (2 * p)
	}
	assert.Equal(t, fmt.Sprintf("%016b", want), fmt.Sprintf("%016b", x.FTW))
	assert.Equal(t, uint16(5<<11), x.FSW)
}

// TestSSEUndefined: LOCK-prefixed SSE instructions, and their MMX forms, are #UD, named in
// the trap.
func TestSSEUndefined(t *testing.T) {
	tm := newTestMachine(t)
	for _, row := range []struct {
		code     []byte
		mnemonic string
	}{
		{[]byte{0xf0, 0x0f, 0xfc, 0xca}, "paddb"}, // lock paddb mm1, mm2
		{[]byte{0xf0, 0x0f, 0x58, 0xca}, "addps"},
		{[]byte{0xf0, 0x0f, 0x6f, 0xca}, "movq"}, // lock movq mm1, mm2
	} {
		trap, _ := sseRun(t, tm, row.code, nil, 0x1f80, nil)
		assert.Equal(t, uint8(VecUD), trap.Vector, "% x: %v", row.code, trap)
		assert.Contains(t, trap.Mnemonic, row.mnemonic)
	}
}

// TestSSECPUID: the family reports FXSR, SSE, SSE2, SSE3, SSSE3, SSE4.1 and SSE4.2, and
// AT_HWCAP carries the EDX bits.
func TestSSECPUID(t *testing.T) {
	for name, bit := range map[string]uint32{"FXSR": cpuidFXSR, "SSE": cpuidSSE, "SSE2": cpuidSSE2} {
		assert.NotZero(t, cpuidLeaf1EDX&bit, name)
		assert.NotZero(t, HWCAP()&uint64(bit), name)
	}
	for name, bit := range map[string]uint32{"SSE3": cpuidSSE3, "SSSE3": cpuidSSSE3, "SSE4.1": cpuidSSE41, "SSE4.2": cpuidSSE42} {
		assert.NotZero(t, cpuidLeaf1ECX&bit, name)
	}
	assert.Zero(t, cpuidLeaf1ECX&cpuidPCLMUL, "PCLMULQDQ is not implemented")
}

// TestSSEStateSwitch: the XMM registers and MXCSR are part of State, so a kernel's context
// switch carries them.
func TestSSEStateSwitch(t *testing.T) {
	tm := newTestMachine(t)
	trap, s := sseRun(t, tm, addps, map[int]vec{1: f32s(0x3f800000), 2: f32s(0x3f800000)}, 0x3f80, nil)
	require.True(t, returned(trap), "%v", trap)
	assert.Equal(t, uint64(0x40000000), lane32(s.Ext.XMM[1], 0))
	var other State
	other.Ext = InitialExtState()
	tm.cpu.Load(&other)
	assert.Equal(t, uint32(0x1f80), tm.cpu.MXCSR())
	tm.cpu.Load(&s)
	assert.Equal(t, uint32(0x3f80), tm.cpu.MXCSR())
	assert.Equal(t, s.Ext.XMM[1], tm.cpu.XMM(1))
}

// TestSSERandomEncodingsNeverPanic: random byte strings shaped like SSE instructions
// (mandatory prefixes, REX, the 0F, 0F 38 and 0F 3A maps, any ModRM, SIB and immediate)
// execute as an instruction, a #UD, a #GP or a page fault, never as an emulator failure.
func TestSSERandomEncodingsNeverPanic(t *testing.T) {
	tm := newTestMachine(t)
	r := rand.New(rand.NewPCG(10, 11))
	for i := 0; i < 20000; i++ {
		var b []byte
		if p := []byte{0, 0x66, 0xf2, 0xf3, 0xf0}[r.IntN(5)]; p != 0 {
			b = append(b, p)
		}
		if r.IntN(2) == 0 {
			b = append(b, 0x40|byte(r.IntN(16)))
		}
		b = append(b, 0x0f)
		switch r.IntN(4) {
		case 0:
			b = append(b, 0x38)
		case 1:
			b = append(b, 0x3a)
		}
		for j := 0; j < 7; j++ {
			b = append(b, byte(r.Uint32()))
		}
		gpr := map[int]uint64{}
		for g := 0; g < 16; g++ {
			if g != RSP {
				gpr[g] = []uint64{0, hostcpu.DataAddr, hostcpu.DataAddr + 8, uint64(r.Uint32())}[r.IntN(4)]
			}
		}
		trap, _ := sseRun(t, tm, b, map[int]vec{0: {r.Uint64(), r.Uint64()}, 1: {r.Uint64(), r.Uint64()}},
			0x1f80|uint32(r.IntN(4))<<13, gpr)
		require.NotEqual(t, TrapInternal, trap.Kind, "% x: %v", b, trap)
	}
}
