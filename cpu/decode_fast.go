package cpu

import "encoding/binary"

// The fast decoder: the commonest instructions of compiled 64-bit code (MOV, the ALU
// operations, TEST, LEA, PUSH, POP, CALL, JMP, Jcc, RET, MOVZX, MOVSX, CMOVcc, SETcc,
// IMUL, the shifts and the F6/F7/FE/FF groups) with at most a REX prefix, decoded straight
// into the form translate gives them, without x86asm, which costs most of decoding a block
// (CPython's startup decodes about 180,000 instructions). Anything else (other prefixes,
// other opcodes, operand forms this code does not know) is left to x86asm.
// TestFastDecodeIsAsDecoded checks the result against x86asm and translate at every byte
// offset of real programs and on random bytes.

// fastDecode decodes the instruction at the start of code into in, if it is one it knows,
// and reports whether it did.
func fastDecode(code []byte, in *inst) bool {
	var f fastDec
	f.code = code
	if len(code) > 0 && code[0]&0xf0 == 0x40 {
		f.rex = code[0]
		f.i = 1
	}
	op, ok := f.byte()
	if !ok {
		return false
	}
	*in = inst{base: noReg, index: noReg}
	f.in = in
	size := uint8(4) // the operand size of the instructions that are not byte-sized
	if f.rex&8 != 0 {
		size = 8
	}
	switch {
	case op < 0x40 && op&7 <= 5: // ADD, OR, ADC, SBB, AND, SUB, XOR, CMP
		in.op, in.sub = opALU, op>>3
		switch op & 7 {
		case 0:
			ok = f.rmReg(1, true)
		case 1:
			ok = f.rmReg(size, true)
		case 2:
			ok = f.rmReg(1, false)
		case 3:
			ok = f.rmReg(size, false)
		case 4:
			in.dst, in.size = 0, 1
			ok = f.imm(1)
		case 5:
			in.dst, in.size = 0, size
			ok = f.imm(4)
		}
	case op >= 0x50 && op <= 0x57: // PUSH r64
		in.op, in.src, in.size = opPush, op&7|f.rex&1<<3, 8
	case op >= 0x58 && op <= 0x5f: // POP r64
		in.op, in.dst, in.size = opPop, op&7|f.rex&1<<3, 8
	case op == 0x63 && f.rex&8 != 0: // MOVSXD r64, r/m32
		in.op = opMovsx
		ok = f.extend(8, 4)
	case op == 0x69 || op == 0x6b: // IMUL r, r/m, imm
		in.op = opImul3
		ok = f.rmReg(size, false) && f.imm(4-3*int(op>>1&1))
		in.form &^= fSrcImm // translate keeps the immediate apart from the operands
	case op >= 0x70 && op <= 0x7f: // Jcc rel8
		in.op, in.sub = opJcc, op&15
		ok = f.imm(1)
	case op == 0x80 || op == 0x81 || op == 0x83: // group 1: ALU r/m, imm
		opSize, immSize := size, 1
		switch op {
		case 0x80:
			opSize = 1
		case 0x81:
			immSize = 4
		}
		var reg uint8
		reg, ok = f.modrm(opSize, true)
		in.op, in.sub = opALU, reg&7
		ok = ok && f.imm(immSize)
	case op == 0x84 || op == 0x85: // TEST r/m, r
		in.op = opTest
		ok = f.rmReg(byteIf(op&1 == 0, size), true)
	case op >= 0x88 && op <= 0x8b: // MOV
		in.op = opMov
		ok = f.rmReg(byteIf(op&1 == 0, size), op&2 == 0)
	case op == 0x8d: // LEA r, m
		in.op = opLea
		var reg uint8
		reg, ok = f.modrm(0, false)
		in.dst, in.size = reg, size
		ok = ok && in.form&fSrcMem != 0 // a memory operand
		in.form &^= fSrcMem
	case op == 0x90 && f.rex == 0:
		in.op = opNop
	case op == 0x98 || op == 0x99: // CWDE, CDQE; CDQ, CQO
		in.op, in.sub = opCvt, cvCwde+(op&1)*3
		if size == 8 {
			in.sub++
		}
	case op >= 0xb0 && op <= 0xbf: // MOV r, imm
		in.op = opMov
		r, sz, n := op&7|f.rex&1<<3, size, int(size)
		if op < 0xb8 {
			sz, n = 1, 1
		}
		in.dst, in.size = f.reg(r, sz), sz
		ok = f.imm(n)
	case op == 0xc0 || op == 0xc1 || op == 0xd0 || op == 0xd1 || op == 0xd3: // shifts
		sz := size
		if op&1 == 0 {
			sz = 1
		}
		var reg uint8
		reg, ok = f.modrm(sz, true)
		if reg&7 == 6 { // SAL: x86asm's name for it varies
			return false
		}
		in.op, in.sub = opShift, reg&7
		switch op {
		case 0xc0, 0xc1:
			ok = ok && f.imm(1)
			in.imm = uint64(uint8(in.imm))
			in.form &^= fSrcImm
		case 0xd0, 0xd1:
			in.imm = 1
		case 0xd3:
			in.form |= fSrcCL
		}
	case op == 0xc3:
		in.op = opRet
	case op == 0xc6 || op == 0xc7: // MOV r/m, imm
		sz, n := size, 4
		if op == 0xc6 {
			sz, n = 1, 1
		}
		var reg uint8
		reg, ok = f.modrm(sz, true)
		in.op = opMov
		ok = ok && reg&7 == 0 && f.imm(n)
	case op == 0xc9:
		in.op = opLeave
	case op == 0xe8 || op == 0xe9: // CALL, JMP rel32
		in.op = opCall
		if op == 0xe9 {
			in.op = opJmp
		}
		ok = f.imm(4)
	case op == 0xeb: // JMP rel8
		in.op = opJmp
		ok = f.imm(1)
	case op == 0xf6 || op == 0xf7: // group 3
		sz := size
		if op == 0xf6 {
			sz = 1
		}
		var reg uint8
		reg, ok = f.modrm(sz, true)
		switch reg & 7 {
		case 0:
			in.op = opTest
			ok = ok && f.imm(min(int(sz), 4))
		case 1:
			return false
		case 2:
			in.op = opNot
		case 3:
			in.op = opNeg
		default:
			in.op, in.sub = opMulDiv, reg&7-4
		}
	case op == 0xfe || op == 0xff: // groups 4 and 5
		sz := size
		if op == 0xfe {
			sz = 1
		}
		var reg uint8
		reg, ok = f.modrm(sz, true)
		switch r := reg & 7; {
		case r == 0:
			in.op = opInc
		case r == 1:
			in.op = opDec
		case op == 0xfe, r == 3, r == 5, r == 7:
			return false
		default: // CALL, JMP, PUSH r/m64
			in.op = [8]uint16{2: opCallInd, 4: opJmpInd, 6: opPush}[r]
			if in.form&fDstMem != 0 {
				in.form ^= fDstMem | fSrcMem
			} else {
				in.src = in.dst
				in.dst = 0
			}
			in.size = 8
		}
	case op == 0x0f:
		var op2 byte
		op2, ok = f.byte()
		switch {
		case !ok:
		case op2 == 0x05:
			in.op = opSyscall
		case op2 >= 0x40 && op2 <= 0x4f: // CMOVcc
			in.op, in.sub = opCmovcc, op2&15
			ok = f.rmReg(size, false)
		case op2 >= 0x80 && op2 <= 0x8f: // Jcc rel32
			in.op, in.sub = opJcc, op2&15
			ok = f.imm(4)
		case op2 >= 0x90 && op2 <= 0x9f: // SETcc
			in.op, in.sub = opSetcc, op2&15
			_, ok = f.modrm(1, true)
		case op2 == 0xaf: // IMUL r, r/m
			in.op = opImul2
			ok = f.rmReg(size, false)
		case op2 == 0xb6 || op2 == 0xb7 || op2 == 0xbe || op2 == 0xbf: // MOVZX, MOVSX
			in.op = opMovzx
			if op2 >= 0xbe {
				in.op = opMovsx
			}
			ok = f.extend(size, 1+op2&1)
		default:
			return false
		}
	default:
		return false
	}
	in.len = uint8(f.i)
	return ok
}

// byteIf returns 1 if b, else size.
func byteIf(b bool, size uint8) uint8 {
	if b {
		return 1
	}
	return size
}

// fastDec is fastDecode's state: the code, the position in it, the REX prefix (0 if none)
// and the instruction being filled in.
type fastDec struct {
	code []byte
	i    int
	rex  byte
	in   *inst
}

func (f *fastDec) byte() (byte, bool) {
	if f.i >= len(f.code) {
		return 0, false
	}
	f.i++
	return f.code[f.i-1], true
}

// reg returns the internal number of general register r (0-15) at size: for bytes without
// a REX prefix, 4-7 are AH, CH, DH and BH (16-19), as regInfo numbers them.
func (f *fastDec) reg(r, size uint8) uint8 {
	if size == 1 && f.rex == 0 && r >= 4 {
		return r + 12
	}
	return r
}

// imm reads an immediate (or a relative branch's displacement) of n bytes, sign-extended
// (zero-extended for a byte operation), into in.imm, and marks the source as immediate.
func (f *fastDec) imm(n int) bool {
	c := f.code[min(f.i, len(f.code)):]
	if len(c) < n {
		return false
	}
	var v int64
	switch n {
	case 1:
		v = int64(int8(c[0]))
	case 4:
		v = int64(int32(binary.LittleEndian.Uint32(c)))
	case 8:
		v = int64(binary.LittleEndian.Uint64(c))
	}
	f.i += n
	if f.in.size == 1 && f.in.op != opShift {
		v &= 0xff // x86asm's immediate of a byte operation is unsigned
	}
	f.in.imm = uint64(v)
	if f.in.op != opJcc && f.in.op != opCall && f.in.op != opJmp {
		f.in.form |= fSrcImm
	}
	return true
}

// rmReg decodes a ModRM byte whose operands are r/m and reg, both of size: the first
// operand is r/m when rmFirst, else reg.
func (f *fastDec) rmReg(size uint8, rmFirst bool) bool {
	in := f.in
	if rmFirst {
		reg, ok := f.modrm(size, true)
		in.src = f.reg(reg, size)
		return ok
	}
	reg, ok := f.modrm(size, false)
	in.dst = f.reg(reg, size)
	in.size = size
	return ok
}

// extend decodes MOVZX, MOVSX and MOVSXD: a register of size and a source r/m of ssize.
func (f *fastDec) extend(size, ssize uint8) bool {
	in := f.in
	reg, ok := f.modrm(ssize, false)
	in.dst, in.size, in.ssize = f.reg(reg, size), size, ssize
	return ok
}

// modrm decodes a ModRM byte (with its SIB byte and displacement) and returns its reg
// field (with REX.R). Its r/m operand, of size (0: an address only), is the first operand
// (dst, and it sets in.size) when first, else the source (src); a memory operand sets the
// memory fields and fDstMem or fSrcMem.
func (f *fastDec) modrm(size uint8, first bool) (uint8, bool) {
	in := f.in
	m, ok := f.byte()
	if !ok {
		return 0, false
	}
	reg := m>>3&7 | f.rex&4<<1
	mod, rm := m>>6, m&7
	if mod == 3 {
		r := f.reg(rm|f.rex&1<<3, size)
		if first {
			in.dst, in.size = r, size
		} else {
			in.src = r
		}
		return reg, true
	}
	if first {
		in.form |= fDstMem
		in.size = size
	} else {
		in.form |= fSrcMem
	}
	dispLen := 0
	switch mod {
	case 1:
		dispLen = 1
	case 2:
		dispLen = 4
	}
	switch {
	case rm == 4:
		sib, ok := f.byte()
		if !ok {
			return 0, false
		}
		if idx := sib>>3&7 | f.rex&2<<2; idx != 4 {
			in.index, in.scale = idx, sib>>6
		}
		if sib&7 == 5 && mod == 0 {
			dispLen = 4
		} else {
			in.base = sib&7 | f.rex&1<<3
		}
	case rm == 5 && mod == 0:
		in.base, dispLen = baseRIP, 4
	default:
		in.base = rm | f.rex&1<<3
	}
	c := f.code[min(f.i, len(f.code)):]
	if len(c) < dispLen {
		return 0, false
	}
	switch dispLen {
	case 1:
		in.disp = int64(int8(c[0]))
	case 4:
		in.disp = int64(int32(binary.LittleEndian.Uint32(c)))
	}
	f.i += dispLen
	return reg, true
}
