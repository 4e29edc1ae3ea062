package cpu

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
	"github.com/vmemu/vmemu/internal/testcheck"
)

// Differential tests of the MMX unit: one MMX instruction runs on the host CPU and on the
// emulated one from the same complete x87 state (whose register significands are the MMX
// registers), XMM registers, MXCSR, general-purpose registers and memory, and everything
// afterwards must be identical, bit for bit. The snippet is
//
//	fxrstor [mdFxIn]        ; XMM0-15 and MXCSR (and an x87 state frstor replaces)
//	frstor  [mdEnv]         ; the x87 state: control, status (TOP), tags, pointers, R0-R7
//	movq    mmN, [mdMMIn+8N] ; for some cases, a few MMX loads first
//	<the instruction>       ; its memory operand, if any, in [mdMem, mdMem+64)
//	fxsave  [mdFxOut]       ; XMM0-15, MXCSR, the abridged tags, TOP, R0-R7 in stack order
//	fnsave  [mdSave]        ; the x87 state with the full tag word, then FNINIT
//	movq    [mdMMOut+8N], mmN for N = 0-7 (MMX stores), then emms
//	ldmxcsr [mdDefMX]       ; MXCSR 1F80H again
//	ret
//
// so the saved images show what the instruction did to TOP, the tags and the sign and
// exponent of each register (the aliasing), and the MMX registers are read back both
// through the images and through MOVQ. The host is left with an empty x87 stack and the
// default MXCSR. Every loaded control word masks every x87 exception and the status word
// has no exception pending, so no #MF can occur natively (pending-exception cases run on
// the emulator alone, in mmx_test.go, and natively in testprogs/src/icase_mmx_fault.c).

// Layout of the data area.
const (
	mdFxIn   = 0x000 // FXRSTOR image (512 bytes)
	mdEnv    = 0x200 // FRSTOR image (108 bytes)
	mdMMIn   = 0x280 // values for the MOVQ loads
	mdMem    = 0x2c0 // memory operands (64 bytes)
	mdMemLen = 0x40
	mdFxOut  = 0x300 // FXSAVE image
	mdSave   = 0x500 // FNSAVE image
	mdMMOut  = 0x580 // MM0-7 stored by MOVQ
	mdDefMX  = 0x5c0 // 0x1F80
	mdSize   = 0x600
)

// Operand forms of the MMX templates (reg and rm are the ModRM fields).
const (
	mfPP    = iota // reg: MMX destination; rm: MMX or memory source
	mfPG           // reg: MMX destination; rm: general-purpose or memory source
	mfPX           // reg: MMX destination; rm: XMM or memory source
	mfXP           // reg: XMM destination; rm: MMX or memory source
	mfEP           // rm: general-purpose or memory destination; reg: MMX source
	mfGP           // reg: general-purpose destination; rm: MMX source
	mfMP           // rm: MMX or memory destination; reg: MMX source
	mfShift        // opcode /ext ib with the MMX operand in rm
	mfMask         // MASKMOVQ: reg data, rm mask, store at RDI
	mfNone         // EMMS
)

// mmxTemplate describes one instruction to generate.
type mmxTemplate struct {
	name  string
	pfx   byte
	op    []byte
	form  int
	mem   int // memory operand size (0: register only)
	regs  int // 1: register only; 2: memory only
	imm   bool
	w     bool // REX.W
	ext   int  // mfShift: the /n of the opcode
	lanes int  // XMM and memory contents (lanesInt, lanesF32, lanesF64)
	count bool // the source is a shift count: mostly small
	ssse3 bool
}

func mt(name string, op []byte, form, mem int) mmxTemplate {
	return mmxTemplate{name: name, op: op, form: form, mem: mem}
}

// mmxTemplates lists every instruction the MMX unit implements, in its encodings.
var mmxTemplates = func() []mmxTemplate {
	var ts []mmxTemplate
	add := func(t ...mmxTemplate) { ts = append(ts, t...) }
	for _, p := range []struct {
		name string
		opc  byte
	}{
		{"packsswb", 0x63}, {"pcmpgtb", 0x64}, {"pcmpgtw", 0x65}, {"pcmpgtd", 0x66}, {"packuswb", 0x67},
		{"punpckhbw", 0x68}, {"punpckhwd", 0x69}, {"punpckhdq", 0x6a}, {"packssdw", 0x6b},
		{"pcmpeqb", 0x74}, {"pcmpeqw", 0x75}, {"pcmpeqd", 0x76}, {"paddq", 0xd4}, {"pmullw", 0xd5},
		{"psubusb", 0xd8}, {"psubusw", 0xd9}, {"pminub", 0xda}, {"pand", 0xdb}, {"paddusb", 0xdc},
		{"paddusw", 0xdd}, {"pmaxub", 0xde}, {"pandn", 0xdf}, {"pavgb", 0xe0}, {"pavgw", 0xe3},
		{"pmulhuw", 0xe4}, {"pmulhw", 0xe5}, {"psubsb", 0xe8}, {"psubsw", 0xe9}, {"pminsw", 0xea},
		{"por", 0xeb}, {"paddsb", 0xec}, {"paddsw", 0xed}, {"pmaxsw", 0xee}, {"pxor", 0xef},
		{"pmuludq", 0xf4}, {"pmaddwd", 0xf5}, {"psadbw", 0xf6}, {"psubb", 0xf8}, {"psubw", 0xf9},
		{"psubd", 0xfa}, {"psubq", 0xfb}, {"paddb", 0xfc}, {"paddw", 0xfd}, {"paddd", 0xfe},
	} {
		add(mt(p.name, op1(p.opc), mfPP, 8))
	}
	for _, p := range []struct {
		name string
		opc  byte
	}{{"punpcklbw", 0x60}, {"punpcklwd", 0x61}, {"punpckldq", 0x62}} {
		add(mt(p.name, op1(p.opc), mfPP, 4)) // mm, mm/m32
	}
	for _, p := range []struct {
		name string
		opc  byte
	}{
		{"psrlw", 0xd1}, {"psrld", 0xd2}, {"psrlq", 0xd3}, {"psraw", 0xe1}, {"psrad", 0xe2},
		{"psllw", 0xf1}, {"pslld", 0xf2}, {"psllq", 0xf3},
	} {
		t := mt(p.name, op1(p.opc), mfPP, 8)
		t.count = true
		add(t)
	}
	for _, s := range []struct {
		name string
		opc  byte
		ext  int
	}{
		{"psrlw.i", 0x71, 2}, {"psraw.i", 0x71, 4}, {"psllw.i", 0x71, 6}, {"psrld.i", 0x72, 2},
		{"psrad.i", 0x72, 4}, {"pslld.i", 0x72, 6}, {"psrlq.i", 0x73, 2}, {"psllq.i", 0x73, 6},
	} {
		add(mmxTemplate{name: s.name, op: op1(s.opc), form: mfShift, ext: s.ext, imm: true})
	}
	pshufw := mt("pshufw", op1(0x70), mfPP, 8)
	pshufw.imm = true
	pinsrw := mt("pinsrw", op1(0xc4), mfPG, 2)
	pinsrw.imm = true
	pextrw := mt("pextrw", op1(0xc5), mfGP, 0)
	pextrw.imm = true
	movqW := func(name string, opc byte, form int) mmxTemplate {
		t := mt(name, op1(opc), form, 8)
		t.w = true
		return t
	}
	movntq := mt("movntq", op1(0xe7), mfMP, 8)
	movntq.regs = 2
	add(pshufw, pinsrw, pextrw, movntq,
		mt("movd.load", op1(0x6e), mfPG, 4), movqW("movq.load64", 0x6e, mfPG),
		mt("movd.store", op1(0x7e), mfEP, 4), movqW("movq.store64", 0x7e, mfEP),
		mt("movq.load", op1(0x6f), mfPP, 8), mt("movq.store", op1(0x7f), mfMP, 8),
		mt("pmovmskb", op1(0xd7), mfGP, 0),
		mmxTemplate{name: "maskmovq", op: op1(0xf7), form: mfMask},
		mmxTemplate{name: "maskmovq.a32", pfx: 0x67, op: op1(0xf7), form: mfMask}, // stores at EDI
		mmxTemplate{name: "emms", op: op1(0x77), form: mfNone},
		mmxTemplate{name: "movq2dq", pfx: 0xf3, op: op1(0xd6), form: mfXP, regs: 1},
		mmxTemplate{name: "movdq2q", pfx: 0xf2, op: op1(0xd6), form: mfPX, regs: 1},
		mmxTemplate{name: "cvtpi2ps", op: op1(0x2a), form: mfXP, mem: 8},
		mmxTemplate{name: "cvtpi2pd", pfx: 0x66, op: op1(0x2a), form: mfXP, mem: 8},
		mmxTemplate{name: "cvtps2pi", op: op1(0x2d), form: mfPX, mem: 8, lanes: lanesF32},
		mmxTemplate{name: "cvttps2pi", op: op1(0x2c), form: mfPX, mem: 8, lanes: lanesF32},
		mmxTemplate{name: "cvtpd2pi", pfx: 0x66, op: op1(0x2d), form: mfPX, mem: 16, lanes: lanesF64},
		mmxTemplate{name: "cvttpd2pi", pfx: 0x66, op: op1(0x2c), form: mfPX, mem: 16, lanes: lanesF64},
	)
	for _, p := range []struct {
		name string
		opc  byte
	}{
		{"pshufb", 0x00}, {"phaddw", 0x01}, {"phaddd", 0x02}, {"phaddsw", 0x03}, {"pmaddubsw", 0x04},
		{"phsubw", 0x05}, {"phsubd", 0x06}, {"phsubsw", 0x07}, {"psignb", 0x08}, {"psignw", 0x09},
		{"psignd", 0x0a}, {"pmulhrsw", 0x0b}, {"pabsb", 0x1c}, {"pabsw", 0x1d}, {"pabsd", 0x1e},
	} {
		t := mt(p.name, []byte{0x38, p.opc}, mfPP, 8)
		t.ssse3 = true
		add(t)
	}
	palignr := mt("palignr", []byte{0x3a, 0x0f}, mfPP, 8)
	palignr.imm, palignr.ssse3 = true, true
	add(palignr)
	return ts
}()

// mmxValue returns an MMX register or memory value: edge values in every element size,
// byte and word patterns, small values, or random bits.
func mmxValue(r *rand.Rand) uint64 {
	switch r.IntN(6) {
	case 0:
		return intEdges[r.IntN(len(intEdges))]
	case 1: // words at the saturation limits
		var v uint64
		for i := 0; i < 4; i++ {
			v |= uint64([]uint16{0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0x8001, 0xffff, 0xff80, 0xff7f}[r.IntN(12)]) << (16 * i)
		}
		return v
	case 2: // bytes at the limits
		var v uint64
		for i := 0; i < 8; i++ {
			v |= uint64([]uint8{0, 1, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x40}[r.IntN(8)]) << (8 * i)
		}
		return v
	case 3: // dwords at the limits
		d := []uint32{0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x8000, 0xffff8000, 0x7fff, 0x10000}
		return uint64(d[r.IntN(len(d))]) | uint64(d[r.IntN(len(d))])<<32
	case 4:
		return r.Uint64() & 0x00ff00ff00ff00ff
	}
	return r.Uint64()
}

// shiftCount returns a shift count: small ones (at and around the element widths) mostly.
func shiftCount(r *rand.Rand) uint64 {
	switch r.IntN(4) {
	case 0:
		return mmxValue(r)
	case 1:
		return uint64(r.IntN(70)) | uint64(r.IntN(2))<<32 // a count with high bits set clears
	}
	return []uint64{0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256}[r.IntN(15)]
}

// mmxCase is one generated test.
type mmxCase struct {
	text string
	code []byte
	regs hostcpu.Regs
	mem  []byte
	// amdNoTransition marks CVTPI2PS xmm, m64, which the SDM says makes the transition to
	// MMX state (Vol. 2A, CVTPI2PS: unlike CVTPI2PD, with either source) and an AMD host
	// does not make; this CPU follows the SDM.
	amdNoTransition bool
}

// mmxTransition applies to the host's saved images the transition to MMX state the host
// did not make: TOP = 0 (the registers, saved in stack order, move to their physical
// order), every register in use (FXSAVE's abridged tags all 1s; FNSAVE's tags from the
// contents).
func mmxTransition(b []byte) {
	le := binary.LittleEndian
	fx, sv := b[mdFxOut:], b[mdSave:]
	top := int(le.Uint16(sv[4:]) >> 11 & 7)
	var regs [8]Float80
	for i := 0; i < 8; i++ {
		regs[(top+i)&7] = Float80{Mant: le.Uint64(sv[28+10*i:]), SE: le.Uint16(sv[36+10*i:])}
	}
	le.PutUint16(fx[2:], le.Uint16(fx[2:])&^fswTOP)
	fx[4] = 0xff
	le.PutUint16(sv[4:], le.Uint16(sv[4:])&^fswTOP)
	var ftw uint16
	for p, r := range regs {
		ftw |= fullTag(r) << (2 * p)
		le.PutUint64(fx[32+16*p:], r.Mant)
		le.PutUint16(fx[40+16*p:], r.SE)
		le.PutUint64(sv[28+10*p:], r.Mant)
		le.PutUint16(sv[36+10*p:], r.SE)
	}
	le.PutUint16(sv[8:], ftw)
}

// mmxEncode builds [pfx] [REX] 0F op ModRM [imm8] for register operands reg and rm (any
// of 0-15: REX.R and REX.B extend GPR and XMM numbers and are ignored for MMX registers),
// or a [disp32] memory operand.
func mmxEncode(t mmxTemplate, reg, rm int, mem bool, addr uint32, imm []byte) []byte {
	return sseEncode(t.pfx, t.op, reg, rm, mem, addr, t.w, imm)
}

// genMMX builds a random case for template t.
func genMMX(r *rand.Rand, t mmxTemplate) mmxCase {
	mem := make([]byte, mdSize)
	le := binary.LittleEndian
	// XMM0-15 and MXCSR through FXRSTOR; the x87 part of that image is replaced by FRSTOR.
	for i := 0; i < 16; i++ {
		v := randVec(r, t.lanes)
		le.PutUint64(mem[mdFxIn+160+16*i:], v[0])
		le.PutUint64(mem[mdFxIn+168+16*i:], v[1])
	}
	le.PutUint16(mem[mdFxIn:], 0x037f)
	le.PutUint32(mem[mdFxIn+24:], randMXCSR(r))
	// The x87 state: random control (all masked), status, TOP and tags, random pointers,
	// registers whose significands are MMX values and whose exponents are anything.
	genState(r, mem[mdEnv:], nil)
	for i := 0; i < 8; i++ {
		if r.IntN(6) != 0 {
			le.PutUint64(mem[mdEnv+28+10*i:], mmxValue(r))
		}
	}
	for i := 0; i < 8; i++ {
		le.PutUint64(mem[mdMMIn+8*i:], mmxValue(r))
	}
	for i := 0; i < mdMemLen; i += 16 {
		v := randVec(r, t.lanes)
		if t.lanes == lanesInt {
			v = vec{mmxValue(r), mmxValue(r)}
		}
		le.PutUint64(mem[mdMem+i:], v[0])
		le.PutUint64(mem[mdMem+i+8:], v[1])
	}
	for i := mdFxOut; i < mdSize; i++ {
		mem[i] = 0xa5
	}
	le.PutUint32(mem[mdDefMX:], 0x1f80)

	var regs hostcpu.Regs
	for i := range regs.GPR {
		regs.GPR[i] = edgeValue(r)
	}
	regs.RFLAGS = uint64(InitialRFLAGS) | r.Uint64()&ArithFlags

	useMem := t.regs == 2 || t.regs == 0 && t.mem > 0 && r.IntN(3) == 0
	if t.form == mfGP || t.form == mfMask || t.form == mfNone {
		useMem = false
	}
	off := 0
	if useMem {
		if t.mem == 16 {
			off = 16 * r.IntN(mdMemLen/16)
		} else {
			off = r.IntN(mdMemLen - t.mem + 1)
		}
	}
	addr := uint32(hostcpu.DataAddr + mdMem + off)
	reg, rm := r.IntN(16), r.IntN(16)
	if r.IntN(2) == 0 { // usually no REX prefix
		reg, rm = reg&7, rm&7
	}
	gpr := func() int {
		for {
			if g := r.IntN(16); g != RSP {
				return g
			}
		}
	}
	var imm []byte
	if t.imm {
		imm = []byte{byte(r.Uint32())}
		if t.name == "palignr" && r.IntN(2) == 0 {
			imm[0] &= 0x0f
		}
	}
	switch t.form {
	case mfPG, mfEP:
		rm = gpr()
	case mfGP:
		reg = gpr()
	case mfShift:
		reg = t.ext
		if r.IntN(2) == 0 {
			imm[0] &= 0x3f
		}
	case mfMask:
		regs.GPR[RDI] = uint64(hostcpu.DataAddr + mdMem + r.IntN(mdMemLen-7))
		if t.pfx == 0x67 {
			regs.GPR[RDI] |= r.Uint64() << 32 // ignored with a 32-bit address size
		}
	}
	if t.count { // the count operand: the rm register (its significand) or memory
		c := shiftCount(r)
		if useMem {
			le.PutUint64(mem[mdMem+off:], c)
		} else {
			le.PutUint64(mem[mdEnv+28+10*((rm&7-int(le.Uint16(mem[mdEnv+4:])>>11&7))&7):], c)
			le.PutUint64(mem[mdMMIn+8*(rm&7):], c)
		}
	}
	var insn []byte
	if t.form == mfNone {
		insn = append([]byte{0x0f}, t.op...)
	} else {
		insn = mmxEncode(t, reg, rm, useMem, addr, imm)
	}

	var code []byte
	code = append(code, 0x0f, 0xae)
	code = append(code, absMem(1, hostcpu.DataAddr+mdFxIn)...) // fxrstor
	code = append(code, 0xdd)
	code = append(code, absMem(4, hostcpu.DataAddr+mdEnv)...) // frstor
	loads := ""
	if r.IntN(3) == 0 { // a few MMX loads first: the instruction then starts in MMX state
		for i := 0; i < 8; i++ {
			if r.IntN(3) == 0 {
				code = append(code, 0x0f, 0x6f)
				code = append(code, absMem(i, uint32(hostcpu.DataAddr+mdMMIn+8*i))...)
				loads += strconv.Itoa(i)
			}
		}
	}
	code = append(code, insn...)
	code = append(code, 0x0f, 0xae)
	code = append(code, absMem(0, hostcpu.DataAddr+mdFxOut)...) // fxsave
	code = append(code, 0xdd)
	code = append(code, absMem(6, hostcpu.DataAddr+mdSave)...) // fnsave
	for i := 0; i < 8; i++ {
		code = append(code, 0x0f, 0x7f)
		code = append(code, absMem(i, uint32(hostcpu.DataAddr+mdMMOut+8*i))...) // movq
	}
	code = append(code, 0x0f, 0x77) // emms
	code = append(code, 0x0f, 0xae)
	code = append(code, absMem(2, hostcpu.DataAddr+mdDefMX)...) // ldmxcsr
	code = append(code, 0xc3)
	text := fmt.Sprintf("%s (% x) reg=%d rm=%d mem=%v@%#x loads=%q", t.name, insn, reg, rm, useMem, off, loads)
	return mmxCase{text: text, code: code, regs: regs, mem: mem, amdNoTransition: t.name == "cvtpi2ps" && useMem}
}

// mmxCompare runs c on both CPUs and describes the first difference ("" if none). The
// FXSAVE image's fields where this CPU follows Intel and an AMD host differs are blanked
// (fxsaveVendorMask). A host run can be disturbed by an interrupt in the middle of the
// snippet (the host kernel's FPU save and restore does not keep every pointer), so a
// difference is confirmed by running the host again.
func mmxCompare(t testing.TB, tm *testMachine, c mmxCase) string {
	var diff string
	for try := 0; try < 3; try++ {
		host, emu := c.regs, c.regs
		hmem, emem := append([]byte(nil), c.mem...), append([]byte(nil), c.mem...)
		require.NoError(t, hostRun(t, c.code, &host, hmem))
		trap := tm.run(c.code, &emu, emem, 200)
		if !returned(trap) {
			return fmt.Sprintf("%s: emulator stopped with %v", c.text, trap)
		}
		fxsaveVendorMask(t, hmem[mdFxOut:], emem[mdFxOut:], false)
		if c.amdNoTransition && profileFor(t).Vendor == "AuthenticAMD" {
			mmxTransition(hmem)
		}
		diff = ""
		if !bytes.Equal(hmem, emem) {
			diff = describeMMXDiff(c.mem, hmem, emem)
		}
		for i := 0; i < 16; i++ {
			if i != RSP && host.GPR[i] != emu.GPR[i] {
				diff += fmt.Sprintf("%s: host %#x emu %#x (input %#x)\n", RegNames[i], host.GPR[i], emu.GPR[i], c.regs.GPR[i])
			}
		}
		if host.RFLAGS&ArithFlags != emu.RFLAGS&ArithFlags {
			diff += fmt.Sprintf("flags: host %#x emu %#x\n", host.RFLAGS&ArithFlags, emu.RFLAGS&ArithFlags)
		}
		if diff == "" {
			return ""
		}
	}
	return c.text + "\n" + diff
}

// describeMMXDiff renders the differing parts of the data area.
func describeMMXDiff(in, host, emu []byte) string {
	le := binary.LittleEndian
	var s strings.Builder
	fmt.Fprintf(&s, "input x87: %s\n", describeX87(in[mdEnv:]))
	fmt.Fprintf(&s, "host fnsave: %s\nemu  fnsave: %s\n", describeX87(host[mdSave:]), describeX87(emu[mdSave:]))
	for o := 0; o < mdSize; o += 16 {
		if !bytes.Equal(host[o:o+16], emu[o:o+16]) {
			fmt.Fprintf(&s, "offset %#x\n  in   % x\n  host % x\n  emu  % x\n", o, in[o:o+16], host[o:o+16], emu[o:o+16])
		}
	}
	fmt.Fprintf(&s, "mxcsr in %#x\n", le.Uint32(in[mdFxIn+24:]))
	return s.String()
}

// mmxHostHas reports whether the host can run template t.
func mmxHostHas(t testing.TB, tpl mmxTemplate) bool { return !tpl.ssse3 || hostHas(t, "ssse3") }

// TestMMXDifferentialRandom runs every MMX instruction many times from random states on
// the host and on the emulator.
func TestMMXDifferentialRandom(t *testing.T) {
	tm := newTestMachine(t)
	n, seed := searchSize("MMX", 500, 50, 23)
	fails := map[string]int{}
	for ti, tpl := range mmxTemplates {
		if !mmxHostHas(t, tpl) {
			testcheck.Note(t, "the host CPU lacks ssse3: %s not compared", tpl.name)
			continue
		}
		// One stream per template, so the -short cases are the first of the full run's.
		r := rand.New(rand.NewPCG(seed, 9+uint64(ti)<<8))
		for i := 0; i < n; i++ {
			if d := mmxCompare(t, tm, genMMX(r, tpl)); d != "" {
				if fails[tpl.name] == 0 {
					t.Error(d)
				}
				fails[tpl.name]++
			}
		}
	}
	if len(fails) > 0 {
		t.Errorf("failures by instruction: %v", fails)
	}
}

// FuzzMMXDifferential lets `go test -fuzz` search for an MMX instruction and state where
// the emulator and the host disagree.
func FuzzMMXDifferential(f *testing.F) {
	f.Add(uint64(1), uint64(2), uint16(0))
	f.Add(uint64(5), uint64(8), uint16(77))
	f.Fuzz(func(t *testing.T, s1, s2 uint64, which uint16) {
		tpl := mmxTemplates[int(which)%len(mmxTemplates)]
		if !mmxHostHas(t, tpl) {
			testcheck.Skip(t, "the host CPU lacks ssse3")
		}
		tm := newTestMachine(t)
		if d := mmxCompare(t, tm, genMMX(rand.New(rand.NewPCG(s1, s2)), tpl)); d != "" {
			t.Fatal(d)
		}
	})
}
