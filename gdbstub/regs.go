package gdbstub

import (
	"encoding/binary"

	"github.com/vmemu/vmemu/cpu"
)

// The registers gdb sees, in the order of the target description below (which is the order
// of the g packet): the amd64 Linux layout gdbserver uses. Segment selectors are those of a
// 64-bit Linux user process (CS 0x33, SS 0x2b, the others 0); the x87 registers st0-st7 are
// in stack order (st0 is the top), and fiseg/fioff and foseg/fooff hold the high and low
// halves of the 64-bit instruction and operand pointers, as FXSAVE64 stores them and gdb's
// amd64 code reads them.

// regInfo is one register: its name and size in bytes.
type regInfo struct {
	name string
	size int
}

// gdbRegs lists the registers in target-description order. The general registers come in
// gdb's amd64 order (rax rbx rcx rdx rsi rdi rbp rsp), not in encoding order.
var gdbRegs = [numRegs]regInfo{
	{"rax", 8}, {"rbx", 8}, {"rcx", 8}, {"rdx", 8}, {"rsi", 8}, {"rdi", 8}, {"rbp", 8}, {"rsp", 8},
	{"r8", 8}, {"r9", 8}, {"r10", 8}, {"r11", 8}, {"r12", 8}, {"r13", 8}, {"r14", 8}, {"r15", 8},
	{"rip", 8}, {"eflags", 4},
	{"cs", 4}, {"ss", 4}, {"ds", 4}, {"es", 4}, {"fs", 4}, {"gs", 4},
	{"st0", 10}, {"st1", 10}, {"st2", 10}, {"st3", 10}, {"st4", 10}, {"st5", 10}, {"st6", 10},
	{"st7", 10},
	{"fctrl", 4}, {"fstat", 4}, {"ftag", 4}, {"fiseg", 4}, {"fioff", 4}, {"foseg", 4},
	{"fooff", 4}, {"fop", 4},
	{"xmm0", 16}, {"xmm1", 16}, {"xmm2", 16}, {"xmm3", 16}, {"xmm4", 16}, {"xmm5", 16},
	{"xmm6", 16}, {"xmm7", 16}, {"xmm8", 16}, {"xmm9", 16}, {"xmm10", 16}, {"xmm11", 16},
	{"xmm12", 16}, {"xmm13", 16}, {"xmm14", 16}, {"xmm15", 16},
	{"mxcsr", 4}, {"orig_rax", 8}, {"fs_base", 8}, {"gs_base", 8},
}

// Register numbers (positions in gdbRegs) the stub needs by name.
const (
	regRIP     = 16
	regEFLAGS  = 17
	regCS      = 18
	regST0     = 24
	regFCTRL   = 32
	regXMM0    = 40
	regMXCSR   = 56
	regOrigRAX = 57
	regFSBase  = 58
	regGSBase  = 59
	numRegs    = 60
)

// gprOrder maps gdb's general register numbers 0-15 to cpu's encoding numbers.
var gprOrder = [16]int{cpu.RAX, cpu.RBX, cpu.RCX, cpu.RDX, cpu.RSI, cpu.RDI, cpu.RBP, cpu.RSP,
	cpu.R8, cpu.R9, cpu.R10, cpu.R11, cpu.R12, cpu.R13, cpu.R14, cpu.R15}

// Linux's user selectors (arch/x86/include/asm/segment.h: __USER_CS, __USER_DS).
const (
	userCS = 0x33
	userSS = 0x2b
)

// regBytes returns register n's value in target byte order (little-endian).
func regBytes(r *Registers, n int) []byte {
	size := gdbRegs[n].size
	b := make([]byte, 16)
	x := &r.Ext.X87
	le := binary.LittleEndian
	switch {
	case n < 16:
		le.PutUint64(b, r.GPR[gprOrder[n]])
	case n == regRIP:
		le.PutUint64(b, r.RIP)
	case n == regEFLAGS:
		le.PutUint32(b, uint32(r.RFLAGS))
	case n == regCS:
		le.PutUint32(b, userCS)
	case n == regCS+1:
		le.PutUint32(b, userSS)
	case n < regST0: // ds es fs gs
	case n < regFCTRL:
		top := int(x.FSW>>11) & 7
		f := x.R[(top+n-regST0)&7]
		le.PutUint64(b, f.Mant)
		le.PutUint16(b[8:], f.SE)
	case n < regXMM0:
		var v uint32
		switch n - regFCTRL {
		case 0:
			v = uint32(x.FCW)
		case 1:
			v = uint32(x.FSW)
		case 2:
			v = uint32(x.FTW)
		case 3:
			v = uint32(x.FIP >> 32)
		case 4:
			v = uint32(x.FIP)
		case 5:
			v = uint32(x.FDP >> 32)
		case 6:
			v = uint32(x.FDP)
		case 7:
			v = uint32(x.FOP)
		}
		le.PutUint32(b, v)
	case n < regMXCSR:
		le.PutUint64(b, r.Ext.XMM[n-regXMM0][0])
		le.PutUint64(b[8:], r.Ext.XMM[n-regXMM0][1])
	case n == regMXCSR:
		le.PutUint32(b, r.Ext.MXCSR)
	case n == regOrigRAX:
		le.PutUint64(b, uint64(r.OrigRAX))
	case n == regFSBase:
		le.PutUint64(b, r.FSBase)
	case n == regGSBase:
		le.PutUint64(b, r.GSBase)
	}
	return b[:size]
}

// setRegBytes stores register n from v (exactly its size). Writes to the segment selectors
// are ignored, as a 64-bit Linux process cannot change them either.
func setRegBytes(r *Registers, n int, v []byte) {
	x := &r.Ext.X87
	le := binary.LittleEndian
	switch {
	case n < 16:
		r.GPR[gprOrder[n]] = le.Uint64(v)
	case n == regRIP:
		r.RIP = le.Uint64(v)
	case n == regEFLAGS:
		r.RFLAGS = r.RFLAGS&^0xffffffff | uint64(le.Uint32(v))
	case n < regST0:
	case n < regFCTRL:
		top := int(x.FSW>>11) & 7
		f := &x.R[(top+n-regST0)&7]
		f.Mant, f.SE = le.Uint64(v), le.Uint16(v[8:])
	case n < regXMM0:
		w := le.Uint32(v)
		switch n - regFCTRL {
		case 0:
			x.FCW = uint16(w)
		case 1:
			x.FSW = uint16(w)
		case 2:
			x.FTW = uint16(w)
		case 3:
			x.FIP = x.FIP&0xffffffff | uint64(w)<<32
		case 4:
			x.FIP = x.FIP&^0xffffffff | uint64(w)
		case 5:
			x.FDP = x.FDP&0xffffffff | uint64(w)<<32
		case 6:
			x.FDP = x.FDP&^0xffffffff | uint64(w)
		case 7:
			x.FOP = uint16(w) & 0x7ff
		}
	case n < regMXCSR:
		r.Ext.XMM[n-regXMM0] = [2]uint64{le.Uint64(v), le.Uint64(v[8:])}
	case n == regMXCSR:
		r.Ext.MXCSR = le.Uint32(v)
	case n == regOrigRAX:
		r.OrigRAX = int64(le.Uint64(v))
	case n == regFSBase:
		r.FSBase = le.Uint64(v)
	case n == regGSBase:
		r.GSBase = le.Uint64(v)
	}
}

// gPacketSize is the number of bytes of all registers together.
var gPacketSize = func() int {
	n := 0
	for _, r := range gdbRegs {
		n += r.size
	}
	return n
}()

// targetXML is the target description (GDB manual, "Target Descriptions"): the features
// gdb's amd64 GNU/Linux support looks for, with every register of gdbRegs in that order. It is
// a constant, written out, so that starting emu builds nothing (TestTargetXMLMatchesRegs
// checks it against gdbRegs).
const targetXML = `<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
  <architecture>i386:x86-64</architecture>
  <osabi>GNU/Linux</osabi>
  <feature name="org.gnu.gdb.i386.core">
    <flags id="i386_eflags" size="4">
      <field name="CF" start="0" end="0"/>
      <field name="" start="1" end="1"/>
      <field name="PF" start="2" end="2"/>
      <field name="AF" start="4" end="4"/>
      <field name="ZF" start="6" end="6"/>
      <field name="SF" start="7" end="7"/>
      <field name="TF" start="8" end="8"/>
      <field name="IF" start="9" end="9"/>
      <field name="DF" start="10" end="10"/>
      <field name="OF" start="11" end="11"/>
      <field name="NT" start="14" end="14"/>
      <field name="RF" start="16" end="16"/>
      <field name="VM" start="17" end="17"/>
      <field name="AC" start="18" end="18"/>
      <field name="VIF" start="19" end="19"/>
      <field name="VIP" start="20" end="20"/>
      <field name="ID" start="21" end="21"/>
    </flags>
    <reg name="rax" bitsize="64" type="int64"/>
    <reg name="rbx" bitsize="64" type="int64"/>
    <reg name="rcx" bitsize="64" type="int64"/>
    <reg name="rdx" bitsize="64" type="int64"/>
    <reg name="rsi" bitsize="64" type="int64"/>
    <reg name="rdi" bitsize="64" type="int64"/>
    <reg name="rbp" bitsize="64" type="data_ptr"/>
    <reg name="rsp" bitsize="64" type="data_ptr"/>
    <reg name="r8" bitsize="64" type="int64"/>
    <reg name="r9" bitsize="64" type="int64"/>
    <reg name="r10" bitsize="64" type="int64"/>
    <reg name="r11" bitsize="64" type="int64"/>
    <reg name="r12" bitsize="64" type="int64"/>
    <reg name="r13" bitsize="64" type="int64"/>
    <reg name="r14" bitsize="64" type="int64"/>
    <reg name="r15" bitsize="64" type="int64"/>
    <reg name="rip" bitsize="64" type="code_ptr"/>
    <reg name="eflags" bitsize="32" type="i386_eflags"/>
    <reg name="cs" bitsize="32" type="int32"/>
    <reg name="ss" bitsize="32" type="int32"/>
    <reg name="ds" bitsize="32" type="int32"/>
    <reg name="es" bitsize="32" type="int32"/>
    <reg name="fs" bitsize="32" type="int32"/>
    <reg name="gs" bitsize="32" type="int32"/>
    <reg name="st0" bitsize="80" type="i387_ext"/>
    <reg name="st1" bitsize="80" type="i387_ext"/>
    <reg name="st2" bitsize="80" type="i387_ext"/>
    <reg name="st3" bitsize="80" type="i387_ext"/>
    <reg name="st4" bitsize="80" type="i387_ext"/>
    <reg name="st5" bitsize="80" type="i387_ext"/>
    <reg name="st6" bitsize="80" type="i387_ext"/>
    <reg name="st7" bitsize="80" type="i387_ext"/>
    <reg name="fctrl" bitsize="32" type="int" group="float"/>
    <reg name="fstat" bitsize="32" type="int" group="float"/>
    <reg name="ftag" bitsize="32" type="int" group="float"/>
    <reg name="fiseg" bitsize="32" type="int" group="float"/>
    <reg name="fioff" bitsize="32" type="int" group="float"/>
    <reg name="foseg" bitsize="32" type="int" group="float"/>
    <reg name="fooff" bitsize="32" type="int" group="float"/>
    <reg name="fop" bitsize="32" type="int" group="float"/>
  </feature>
  <feature name="org.gnu.gdb.i386.sse">
    <vector id="v4f" type="ieee_single" count="4"/>
    <vector id="v2d" type="ieee_double" count="2"/>
    <vector id="v16i8" type="int8" count="16"/>
    <vector id="v8i16" type="int16" count="8"/>
    <vector id="v4i32" type="int32" count="4"/>
    <vector id="v2i64" type="int64" count="2"/>
    <union id="vec128">
      <field name="v4_float" type="v4f"/>
      <field name="v2_double" type="v2d"/>
      <field name="v16_int8" type="v16i8"/>
      <field name="v8_int16" type="v8i16"/>
      <field name="v4_int32" type="v4i32"/>
      <field name="v2_int64" type="v2i64"/>
      <field name="uint128" type="uint128"/>
    </union>
    <flags id="i386_mxcsr" size="4">
      <field name="IE" start="0" end="0"/>
      <field name="DE" start="1" end="1"/>
      <field name="ZE" start="2" end="2"/>
      <field name="OE" start="3" end="3"/>
      <field name="UE" start="4" end="4"/>
      <field name="PE" start="5" end="5"/>
      <field name="DAZ" start="6" end="6"/>
      <field name="IM" start="7" end="7"/>
      <field name="DM" start="8" end="8"/>
      <field name="ZM" start="9" end="9"/>
      <field name="OM" start="10" end="10"/>
      <field name="UM" start="11" end="11"/>
      <field name="PM" start="12" end="12"/>
      <field name="FZ" start="15" end="15"/>
    </flags>
    <reg name="xmm0" bitsize="128" type="vec128"/>
    <reg name="xmm1" bitsize="128" type="vec128"/>
    <reg name="xmm2" bitsize="128" type="vec128"/>
    <reg name="xmm3" bitsize="128" type="vec128"/>
    <reg name="xmm4" bitsize="128" type="vec128"/>
    <reg name="xmm5" bitsize="128" type="vec128"/>
    <reg name="xmm6" bitsize="128" type="vec128"/>
    <reg name="xmm7" bitsize="128" type="vec128"/>
    <reg name="xmm8" bitsize="128" type="vec128"/>
    <reg name="xmm9" bitsize="128" type="vec128"/>
    <reg name="xmm10" bitsize="128" type="vec128"/>
    <reg name="xmm11" bitsize="128" type="vec128"/>
    <reg name="xmm12" bitsize="128" type="vec128"/>
    <reg name="xmm13" bitsize="128" type="vec128"/>
    <reg name="xmm14" bitsize="128" type="vec128"/>
    <reg name="xmm15" bitsize="128" type="vec128"/>
    <reg name="mxcsr" bitsize="32" type="i386_mxcsr" group="vector"/>
  </feature>
  <feature name="org.gnu.gdb.i386.linux">
    <reg name="orig_rax" bitsize="64" type="int" group="system"/>
  </feature>
  <feature name="org.gnu.gdb.i386.segments">
    <reg name="fs_base" bitsize="64" type="int"/>
    <reg name="gs_base" bitsize="64" type="int"/>
  </feature>
</target>
`
