package cpu

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/f80"
	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
)

// Unmasked x87 exceptions, on the emulator alone (an unmasked exception on the host would
// deliver SIGFPE to the test process). The expected behaviour is the SDM's: Vol. 1, 8.5
// (the exceptions and their unmasked responses) and 8.6-8.7 (#MF is raised by the next
// waiting x87 instruction, not by the one that caused the exception).

// x87Emu runs code (RBX = DataAddr, data at DataAddr) on the emulator and returns the trap.
func x87Emu(t *testing.T, tm *testMachine, code []byte, mem []byte) Trap {
	t.Helper()
	var r hostcpu.Regs
	r.GPR[RBX] = hostcpu.DataAddr
	r.RFLAGS = InitialRFLAGS
	return tm.run(append(append([]byte{}, code...), 0xc3), &r, mem, 1000)
}

// Instruction bytes used below ([rbx+d8] operands).
var (
	iFninit = []byte{0xdb, 0xe3}
	iFwait  = []byte{0x9b}
	iFld1   = []byte{0xd9, 0xe8}
	iFldz   = []byte{0xd9, 0xee}
	iFdivp  = []byte{0xde, 0xf9} // fdivp st(1), st: ST(1) <- ST(1) / ST(0), pop
	iFmul   = []byte{0xd8, 0xc8} // fmul st, st(0)
	iFsqrt  = []byte{0xd9, 0xfa}
	iFchs   = []byte{0xd9, 0xe0}
	iFnclex = []byte{0xdb, 0xe2}
)

func fldcw(d byte) []byte   { return []byte{0xd9, 0x6b, d} } // fldcw [rbx+d]
func fnstcw(d byte) []byte  { return []byte{0xd9, 0x7b, d} }
func fnstswM(d byte) []byte { return []byte{0xdd, 0x7b, d} }
func fldt(d byte) []byte    { return []byte{0xdb, 0x6b, d} } // fld tbyte [rbx+d]
func fstpl(d byte) []byte   { return []byte{0xdd, 0x5b, d} } // fstp qword [rbx+d]
func flds(d byte) []byte    { return []byte{0xd9, 0x43, d} } // fld dword [rbx+d]
func fnstenv(d byte) []byte { return []byte{0xd9, 0x73, d} }
func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func memWithCW(cw uint16) []byte {
	m := make([]byte, 256)
	binary.LittleEndian.PutUint16(m, cw)
	return m
}

func (tm *testMachine) x87() *X87State { return &tm.cpu.ext.X87 }

// A division by zero with ZE unmasked sets ZE, ES and B, leaves the stack as it was, and
// does not trap; the next waiting instruction (FWAIT here) raises #MF with RIP at it.
func TestX87UnmaskedZeroDivideRaisesMFAtNextWait(t *testing.T) {
	tm := newTestMachine(t)
	code := cat(iFninit, fldcw(0), iFld1, iFldz, iFdivp)
	wait := len(code)
	code = cat(code, iFwait)
	trap := x87Emu(t, tm, code, memWithCW(0x037b)) // ZM clear
	require.Equal(t, TrapException, trap.Kind, trap.String())
	assert.Equal(t, uint8(VecMF), trap.Vector)
	assert.Equal(t, uint64(hostcpu.CodeAddr+wait), trap.RIP, "#MF names the waiting instruction")
	x := tm.x87()
	assert.Equal(t, uint16(f80.ZE|fswES|fswB), x.FSW&(f80.Exceptions|fswES|fswB))
	assert.Equal(t, 6, tm.cpu.fpuTop(), "no pop: the division did not complete")
	assert.Equal(t, f80.F80{}, tm.cpu.st(0), "ST(0) still +0")
	assert.Equal(t, f80.One, tm.cpu.st(1), "ST(1) still 1")
	assert.Equal(t, uint64(hostcpu.CodeAddr+wait-2), x.FIP, "FIP names the FDIVP")
	assert.Equal(t, uint16(0x6f9), x.FOP)
}

// Every x87 instruction except the no-wait control ones checks for a pending exception:
// FLD1 raises #MF; FNSTSW, FNSTCW, FNSTENV and FNCLEX do not, and after FNCLEX the FPU
// runs again.
func TestX87PendingExceptionWaitingAndNoWaitInstructions(t *testing.T) {
	tm := newTestMachine(t)
	setup := cat(iFninit, fldcw(0), iFld1, iFldz, iFdivp)
	trap := x87Emu(t, tm, cat(setup, iFld1), memWithCW(0x037b))
	require.Equal(t, uint8(VecMF), trap.Vector, trap.String())
	assert.Equal(t, uint64(hostcpu.CodeAddr+len(setup)), trap.RIP)

	noWait := cat(setup, fnstswM(8), fnstcw(10), fnstenv(32), iFnclex, iFld1)
	m := memWithCW(0x037b)
	trap = x87Emu(t, tm, noWait, m)
	require.True(t, returned(trap), trap.String())
	tm.readVirt(hostcpu.DataAddr, m)
	assert.Equal(t, uint16(fswB|6<<11|fswES|f80.ZE), binary.LittleEndian.Uint16(m[8:]), "stored status: B, TOP 6, ES, ZE")
	assert.Equal(t, uint16(0x037b), binary.LittleEndian.Uint16(m[10:]))
	// FNSTENV masked every exception afterwards.
	assert.Equal(t, uint16(0x037f), tm.x87().FCW)
	assert.Equal(t, 5, tm.cpu.fpuTop(), "FLD1 ran after FNCLEX")
}

// FLDCW that unmasks an exception whose flag is already set makes it pending: the next
// waiting instruction raises #MF (SDM Vol. 1, 8.7.3 ... the ES flag follows the masks).
func TestX87UnmaskingAPendingFlagRaisesMF(t *testing.T) {
	tm := newTestMachine(t)
	m := memWithCW(0x037f)
	binary.LittleEndian.PutUint16(m[2:], 0x037b)
	code := cat(iFninit, iFld1, iFldz, iFdivp, fldcw(2))
	trap := x87Emu(t, tm, cat(code, iFwait), m)
	require.Equal(t, uint8(VecMF), trap.Vector, trap.String())
	assert.Equal(t, uint64(hostcpu.CodeAddr+len(code)), trap.RIP)
	// FLDCW is itself a waiting instruction: masking again with it is too late.
	trap = x87Emu(t, tm, cat(code, fldcw(0)), m)
	require.Equal(t, uint8(VecMF), trap.Vector, trap.String())
	// FNCLEX clears the flags (and ES), and FWAIT then runs.
	trap = x87Emu(t, tm, cat(code, iFnclex, iFwait), m)
	assert.True(t, returned(trap), trap.String())
}

// An invalid operation with IM clear leaves the destination unchanged (FSQRT of -1).
func TestX87UnmaskedInvalidLeavesDestination(t *testing.T) {
	tm := newTestMachine(t)
	trap := x87Emu(t, tm, cat(iFninit, fldcw(0), iFld1, iFchs, iFsqrt), memWithCW(0x037e))
	require.True(t, returned(trap), trap.String())
	assert.Equal(t, f80.F80{Mant: 1 << 63, SE: 0xbfff}, tm.cpu.st(0), "ST(0) still -1")
	assert.Equal(t, uint16(f80.IE|fswES|fswB), tm.x87().FSW&(f80.Exceptions|fswES|fswB|fswSF))
}

// Stack overflow with IM clear: IE, SF and C1 set, nothing pushed; underflow: IE, SF,
// C1 clear, the destination unchanged.
func TestX87UnmaskedStackFaults(t *testing.T) {
	tm := newTestMachine(t)
	code := cat(iFninit, fldcw(0))
	for i := 0; i < 9; i++ {
		code = cat(code, iFld1)
	}
	trap := x87Emu(t, tm, code, memWithCW(0x037e))
	require.True(t, returned(trap), trap.String())
	x := tm.x87()
	assert.Equal(t, uint16(f80.IE|f80.SF|fswC1|fswES|fswB), x.FSW&(f80.Exceptions|f80.SF|fswC1|fswES|fswB))
	assert.Equal(t, 0, tm.cpu.fpuTop(), "the ninth push did not happen")

	trap = x87Emu(t, tm, cat(iFninit, fldcw(0), iFld1, []byte{0xd8, 0xc3}), memWithCW(0x037e)) // fadd st, st(3): empty
	require.True(t, returned(trap), trap.String())
	assert.Equal(t, uint16(f80.IE|f80.SF|fswES|fswB), x.FSW&(f80.Exceptions|f80.SF|fswC1|fswES|fswB))
	assert.Equal(t, f80.One, tm.cpu.st(0))
}

// Overflow with OM clear and a register destination: the result's exponent is divided by
// 2^24576 and it is stored (SDM Vol. 1, 8.5.4), OE and ES set; underflow with UM clear:
// multiplied by 2^24576 (8.5.5).
func TestX87UnmaskedOverflowUnderflowBiasAdjust(t *testing.T) {
	tm := newTestMachine(t)
	m := memWithCW(0x0377) // OM clear
	big := f80.F80{Mant: 0xc000_0000_0000_0000, SE: 0x7ff0}
	putF80(m[16:], big)
	trap := x87Emu(t, tm, cat(iFninit, fldcw(0), fldt(16), iFmul), m)
	require.True(t, returned(trap), trap.String())
	// 1.5 * 2^(0x7ff0-16383) squared = 2.25 * 2^(2*(0x7ff0-16383)) = 1.125 * 2^(...+1).
	wantExp := 2*(0x7ff0-16383) + 1 + 16383 - 24576
	assert.Equal(t, f80.F80{Mant: 0x9000_0000_0000_0000, SE: uint16(wantExp)}, tm.cpu.st(0))
	assert.Equal(t, uint16(f80.OE|fswES|fswB), tm.x87().FSW&(f80.Exceptions|fswES|fswB))

	m = memWithCW(0x036f) // UM clear
	tiny := f80.F80{Mant: 0xc000_0000_0000_0000, SE: 0x0010}
	putF80(m[16:], tiny)
	trap = x87Emu(t, tm, cat(iFninit, fldcw(0), fldt(16), iFmul), m)
	require.True(t, returned(trap), trap.String())
	wantExp = 2*(0x10-16383) + 1 + 16383 + 24576
	assert.Equal(t, f80.F80{Mant: 0x9000_0000_0000_0000, SE: uint16(wantExp)}, tm.cpu.st(0))
	assert.Equal(t, uint16(f80.UE|fswES|fswB), tm.x87().FSW&(f80.Exceptions|fswES|fswB),
		"UE even though exact: unmasked underflow is signaled on tininess alone")
}

// Overflow with OM clear and a memory destination: nothing is stored and the stack is
// not popped (SDM Vol. 2A, FST/FSTP).
func TestX87UnmaskedOverflowStoresNothing(t *testing.T) {
	tm := newTestMachine(t)
	m := memWithCW(0x0377)
	putF80(m[16:], f80.F80{Mant: 1 << 63, SE: 0x7000})
	for i := 32; i < 40; i++ {
		m[i] = 0xaa
	}
	trap := x87Emu(t, tm, cat(iFninit, fldcw(0), fldt(16), fstpl(32)), m)
	require.True(t, returned(trap), trap.String())
	tm.readVirt(hostcpu.DataAddr, m)
	assert.Equal(t, uint64(0xaaaa_aaaa_aaaa_aaaa), binary.LittleEndian.Uint64(m[32:]))
	assert.Equal(t, 7, tm.cpu.fpuTop(), "not popped")
	assert.Equal(t, uint16(f80.OE|f80.PE|fswES|fswB), tm.x87().FSW&(f80.Exceptions|fswES|fswB))
}

// A denormal operand with DM clear: no push (FLD m32 of a denormal).
func TestX87UnmaskedDenormalOperand(t *testing.T) {
	tm := newTestMachine(t)
	m := memWithCW(0x037d)
	binary.LittleEndian.PutUint32(m[16:], 1) // the smallest single denormal
	trap := x87Emu(t, tm, cat(iFninit, fldcw(0), flds(16)), m)
	require.True(t, returned(trap), trap.String())
	assert.Equal(t, 0, tm.cpu.fpuTop(), "nothing pushed")
	assert.Equal(t, uint16(f80.DE|fswES|fswB), tm.x87().FSW&(f80.Exceptions|fswES|fswB))
}

// An unmasked precision exception still delivers the result (SDM Vol. 1, 8.5.6).
func TestX87UnmaskedPrecisionDeliversResult(t *testing.T) {
	tm := newTestMachine(t)
	m := memWithCW(0x035f)
	trap := x87Emu(t, tm, cat(iFninit, fldcw(0), iFld1, []byte{0xd9, 0xe8, 0xd8, 0xc0}, iFldz,
		[]byte{0xd9, 0xeb}, []byte{0xde, 0xf9}), m) // 1, 2, 0, pi; fdivp: 0/pi exact... then
	require.True(t, returned(trap), trap.String())
	assert.Equal(t, uint16(0), tm.x87().FSW&fswES, "0/pi is exact: no exception yet")
	trap = x87Emu(t, tm, cat(iFninit, fldcw(0), iFld1, []byte{0xd9, 0xeb}, iFdivp), m) // 1/pi
	require.True(t, returned(trap), trap.String())
	assert.Equal(t, uint16(f80.PE|fswES|fswB), tm.x87().FSW&(f80.Exceptions|fswES|fswB))
	// 1 / 0xC90FDAA22168C235p-62 = 0xA2F9836E4E44152A (rounded to nearest) p-65.
	assert.Equal(t, f80.F80{Mant: 0xa2f9836e4e44152a, SE: 0x3ffd}, tm.cpu.st(0), "1/pi delivered")
}

// A page fault in an x87 store leaves the FPU untouched (precise exceptions).
func TestX87FaultingStoreIsPrecise(t *testing.T) {
	tm := newTestMachine(t)
	// fld1; mov rbx, 0x2000_0000 (unmapped); fstp qword [rbx]
	code := cat(iFninit, iFld1, []byte{0x48, 0xc7, 0xc3, 0, 0, 0, 0x20}, []byte{0xdd, 0x1b})
	trap := x87Emu(t, tm, code, nil)
	require.Equal(t, uint8(VecPF), trap.Vector, trap.String())
	assert.Equal(t, 7, tm.cpu.fpuTop(), "not popped")
	assert.Equal(t, f80.One, tm.cpu.st(0))
	assert.Equal(t, uint64(hostcpu.CodeAddr+2), tm.x87().FIP, "FIP still names FLD1")
}

// FuzzX87 lets `go test -fuzz` search for an x87 instruction and FPU state where the
// emulator and the host disagree (bit for bit, or beyond one ulp for a transcendental).
func FuzzX87(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(87), uint64(87))
	f.Fuzz(func(t *testing.T, s1, s2 uint64) {
		tm := newTestMachine(t)
		r := rand.New(rand.NewPCG(s1, s2))
		c := genX87(r)
		if c.trans {
			require.NoError(t, x87CheckTrans(t, tm, &c, &transStats{}))
			return
		}
		require.NoError(t, x87Check(t, tm, &c))
	})
}

// CPUID.01H:EDX.FPU (bit 0) says an x87 FPU is present, and so does AT_HWCAP.
func TestX87CPUIDBit(t *testing.T) {
	assert.Equal(t, uint32(1), cpuidLeaf1EDX&1)
	assert.Equal(t, uint64(1), HWCAP()&1)
}
