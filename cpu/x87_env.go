package cpu

import (
	"encoding/binary"

	"github.com/vmemu/vmemu/cpu/internal/f80"
	"github.com/vmemu/vmemu/mmu"
)

// The x87 control instructions (SDM Vol. 1, 8.3.11 and 8.1.10): FLDCW, FNSTCW, FNSTSW,
// FNCLEX, FNINIT, FWAIT, and the environment and state images FNSTENV/FLDENV and
// FNSAVE/FRSTOR. Control instructions do not change FIP, FOP and FDP.
//
// The environment image in 64-bit mode with the default operand size is the 28-byte
// protected-mode 32-bit format (SDM Vol. 1, figure 8-9); REX.W does not change it. The
// host processors write the reserved upper halves of the control, status, tag and FDS
// words as 0xFFFF, the instruction pointer's low 32 bits, CS and FOP (bits 16-26), and
// the data pointer's low 32 bits and its segment. The 66 prefix selects the 14-byte
// 16-bit format, without FOP. FNSAVE/FRSTOR add the eight registers in stack order.

const (
	fcwInit = 0x037f
	// fcwReserved are the control-word bits that read as 1 whatever is loaded (bit 6).
	fcwReserved = 0x0040
	// fcwWritable are the control-word bits FLDCW keeps (masks, PC, RC, the infinity
	// control bit 12 which has no effect).
	fcwWritable = 0x1f3f
)

// x87Control executes the control instructions.
func (c *CPU) x87Control(in *inst) {
	x := &c.ext.X87
	switch in.sub {
	case xLdcw:
		v := uint16(c.read(c.ea(in), 2))
		x.FCW = v&fcwWritable | fcwReserved
		c.updateES()
	case xStcw:
		c.write(c.ea(in), 2, uint64(x.FCW))
	case xStsw:
		c.write(c.ea(in), 2, uint64(x.FSW))
	case xStswAX:
		c.setReg(RAX, 2, uint64(x.FSW))
	case xClex:
		x.FSW &^= f80.Exceptions | fswSF | fswES | fswB
	case xInit:
		c.fninit()
	case xWait:
		// fpuWait ran before.
	case xStenv:
		ea := c.ea(in)
		b, n := c.envImage(in.imm&xfData16 != 0)
		c.writeBytes(ea, b[:n])
		// FNSTENV then masks every exception (SDM Vol. 2A, FSTENV).
		x.FCW |= f80.Exceptions
		c.updateES()
	case xLdenv:
		n := 28
		if in.imm&xfData16 != 0 {
			n = 14
		}
		var b [28]byte
		c.readBytes(c.ea(in), b[:n], mmu.Read)
		c.loadEnv(b[:n])
	case xSave:
		ea := c.ea(in)
		env, n := c.envImage(in.imm&xfData16 != 0)
		var buf [108]byte
		copy(buf[:], env[:n])
		for i := 0; i < 8; i++ {
			r := f80Bytes(c.st(i))
			n += copy(buf[n:], r[:])
		}
		c.writeBytes(ea, buf[:n])
		c.fninit()
	case xRstor:
		n := 28
		if in.imm&xfData16 != 0 {
			n = 14
		}
		var buf [108]byte
		c.readBytes(c.ea(in), buf[:n+80], mmu.Read)
		c.loadEnv(buf[:n])
		for i := 0; i < 8; i++ {
			c.ext.X87.R[c.phys(i)] = fl80(f80FromBytes(buf[n+10*i:]))
		}
		c.retag()
		c.updateES()
	}
}

// fninit puts the FPU in its initial state (FNINIT): FCW 0x037F, FSW 0, all registers
// empty (their contents are kept), pointers and opcode zero.
func (c *CPU) fninit() {
	x := &c.ext.X87
	x.FCW, x.FSW, x.FTW = fcwInit, 0, 0xffff
	x.FIP, x.FDP, x.FOP, x.FCS, x.FDS = 0, 0, 0, 0, 0
}

// envImage returns the FNSTENV image and its length: 28 bytes, or 14 in the 16-bit format.
func (c *CPU) envImage(data16 bool) (b [28]byte, n int) {
	x := &c.ext.X87
	cs, ds := x.FCS, x.FDS
	ftw := c.tagImage() // tags from the registers' contents (mmx.go)
	if data16 {
		for i, v := range [...]uint16{x.FCW, x.FSW, ftw, uint16(x.FIP), cs, uint16(x.FDP), ds} {
			binary.LittleEndian.PutUint16(b[2*i:], v)
		}
		return b, 14
	}
	for i, v := range [...]uint32{
		0xffff0000 | uint32(x.FCW), 0xffff0000 | uint32(x.FSW), 0xffff0000 | uint32(ftw),
		uint32(x.FIP), uint32(cs) | uint32(x.FOP&0x7ff)<<16, uint32(x.FDP), 0xffff0000 | uint32(ds),
	} {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	return b, 28
}

// loadEnv loads an environment image (FLDENV, the first part of FRSTOR).
func (c *CPU) loadEnv(b []byte) {
	x := &c.ext.X87
	if len(b) == 14 {
		x.FCW = binary.LittleEndian.Uint16(b[0:])&fcwWritable | fcwReserved
		x.FSW = binary.LittleEndian.Uint16(b[2:])
		x.FTW = binary.LittleEndian.Uint16(b[4:])
		x.FIP = uint64(binary.LittleEndian.Uint16(b[6:]))
		x.FCS = binary.LittleEndian.Uint16(b[8:])
		x.FDP = uint64(binary.LittleEndian.Uint16(b[10:]))
		x.FDS = binary.LittleEndian.Uint16(b[12:])
		x.FOP = 0
	} else {
		x.FCW = binary.LittleEndian.Uint16(b[0:])&fcwWritable | fcwReserved
		x.FSW = binary.LittleEndian.Uint16(b[4:])
		x.FTW = binary.LittleEndian.Uint16(b[8:])
		x.FIP = uint64(binary.LittleEndian.Uint32(b[12:]))
		x.FCS = binary.LittleEndian.Uint16(b[16:])
		x.FOP = binary.LittleEndian.Uint16(b[18:]) & 0x7ff
		x.FDP = uint64(binary.LittleEndian.Uint32(b[20:]))
		x.FDS = binary.LittleEndian.Uint16(b[24:])
	}
	c.retag()
	c.updateES()
}
