package cpu

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
	"github.com/vmemu/vmemu/cpu/internal/x64"
)

// jitProgram makes a random loop for TestCodegenMatchesInterpreter: a body of integer,
// SSE, memory, stack and branch instructions over RAX..RDI and XMM0..XMM3 (R8 points at the data, EBP counts
// the iterations, R9 is scratch for indexes), a call to a small function, DEC EBP; JNZ.
// With sse, half the body is SSE instructions. The code is for linear address base.
func jitProgram(r *rand.Rand, sse bool, base uint64) []byte {
	regs := []byte{0, 1, 2, 3, 6, 7}
	reg := func() byte { return regs[r.IntN(len(regs))] }
	modrm := func(reg, rm byte) byte { return 0xc0 | reg<<3 | rm }
	disp := func(size int) []byte {
		d := uint32(r.IntN(4096/size)) * uint32(size)
		switch r.IntN(8) {
		case 0:
			d = uint32(4096 - size/2) // straddles the page end: the slow path
		case 1:
			d = uint32(r.IntN(4096-8)) + 4096 // the second page
		case 2:
			// a page whose remembered slot is the stack's: the next push, pop, call or
			// return misses it
			alias := (hostcpu.EntryRSP>>12 - hostcpu.DataAddr>>12) & (utlbSize - 1)
			d = uint32(alias<<12) + uint32(r.IntN(4096/size)*size)
		}
		return binary.LittleEndian.AppendUint32(nil, d)
	}
	memOp := func(op []byte, rg byte, size int) []byte {
		// [r8 + disp32]: REX.B, mod 10, rm 000
		b := append([]byte(nil), op...)
		b = append(b, 0x80|rg<<3)
		return append(b, disp(size)...)
	}
	var body [][]byte
	callAt := -1
	for k := 0; k < 4+r.IntN(16); k++ {
		d, s := reg(), reg()
		w := byte(0x48)
		if r.IntN(3) == 0 {
			w = 0x40
		}
		var in []byte
		pick := r.IntN(56)
		if sse && r.IntN(2) == 0 {
			pick = 53 + r.IntN(3) // half the body SSE
		}
		switch pick {
		case 53:
			// SSE between registers (XMM0-3): integer and bitwise lane ops, moves, PMOVMSKB
			xd, xs := byte(r.IntN(4)), byte(r.IntN(4))
			switch r.IntN(10) {
			case 6, 7:
				// floating point: add, mul, sub, div, sqrt, min, max as PS, PD, SS, SD
				in = []byte{0x0f, []byte{0x58, 0x59, 0x5c, 0x5e, 0x51, 0x5d, 0x5f}[r.IntN(7)], modrm(xd, xs)}
				if p := r.IntN(4); p > 0 {
					in = append([]byte{[]byte{0x66, 0xf3, 0xf2}[p-1]}, in...)
				}
			case 8:
				in = []byte{[]byte{0x66, 0xf3}[r.IntN(2)], 0x0f, 0x5b, modrm(xd, xs)} // cvtps2dq, cvttps2dq
			case 9:
				// ldmxcsr: some exception flags clear again (the next iteration's code must
				// set them), now and then another rounding mode, a mask, DAZ or FTZ
				m := uint32(0x1f80 | r.IntN(64))
				if r.IntN(3) == 0 {
					m ^= uint32(1) << (6 + r.IntN(10))
				}
				in = append([]byte{0x41, 0xc7, 0x80, 0xf0, 0x07, 0, 0}, binary.LittleEndian.AppendUint32(nil, m)...)
				in = append(in, 0x41, 0x0f, 0xae, 0x90, 0xf0, 0x07, 0, 0) // ldmxcsr [r8+0x7f0]
			case 0:
				in = []byte{0x66, 0x0f, []byte{0x6f, 0x6f, 0x28}[r.IntN(3)], modrm(xd, xs)} // movdqa, movapd
			case 1:
				in = []byte{0xf2, 0x0f, 0x10, modrm(xd, xs)} // movsd
			case 2:
				in = []byte{0x66, 0x0f, 0xd7, modrm(d, xs)} // pmovmskb
			default:
				in = []byte{0x66, 0x0f, sseIntOps[r.IntN(len(sseIntOps))], modrm(xd, xs)}
			}
		case 54:
			// SSE loads, and lane ops with a memory source: aligned 16-byte forms at a
			// 16-byte boundary but now and then not (#GP)
			xd := byte(r.IntN(4))
			aligned := func() []byte {
				b := disp(16)
				if r.IntN(16) != 0 {
					b[0] &^= 15
				}
				return b
			}
			switch r.IntN(8) {
			case 7:
				// floating point with a memory source
				op := []byte{0x58, 0x59, 0x5c, 0x5e, 0x51}[r.IntN(5)]
				switch r.IntN(4) {
				case 0:
					in = append([]byte{0x41, 0x0f, op, 0x80 | xd<<3}, aligned()...) // PS
				case 1:
					in = append([]byte{0x66, 0x41, 0x0f, op, 0x80 | xd<<3}, aligned()...) // PD
				case 2:
					in = memOp([]byte{0xf3, 0x41, 0x0f, op}, xd, 4) // SS
				default:
					in = memOp([]byte{0xf2, 0x41, 0x0f, op}, xd, 8) // SD
				}
			case 6:
				in = append(sseMisalignedLast(), 0x66, 0x43, 0x0f, []byte{0x6f, 0x74, 0xef}[r.IntN(3)], 0x84|xd<<3, 0x08, 0, 2, 0, 0) // movdqa, pcmpeqb, pxor
			case 0:
				in = memOp([]byte{0xf3, 0x41, 0x0f, 0x6f}, xd, 16) // movdqu
			case 1:
				in = append([]byte{0x66, 0x41, 0x0f, 0x6f, 0x80 | xd<<3}, aligned()...) // movdqa
			case 2:
				in = append([]byte{0x66, 0x41, 0x0f, sseIntOps[r.IntN(len(sseIntOps))], 0x80 | xd<<3}, aligned()...)
			case 3:
				in = memOp([]byte{0xf3, 0x41, 0x0f, []byte{0x7e, 0x10}[r.IntN(2)]}, xd, []int{8, 4}[r.IntN(2)]) // movq, movss
			case 4:
				in = memOp([]byte{0x66, 0x41, 0x0f, []byte{0x12, 0x16, 0x6e}[r.IntN(3)]}, xd, 8) // movlpd, movhpd, movd
			default:
				in = memOp([]byte{0xf2, 0x41, 0x0f, 0x10}, xd, 8) // movsd
			}
		case 55:
			// SSE stores
			xs := byte(r.IntN(4))
			switch r.IntN(5) {
			case 4:
				in = append(sseMisalignedLast(), 0x66, 0x43, 0x0f, 0x7f, 0x84|xs<<3, 0x08, 0, 2, 0, 0) // movdqa
			case 0:
				in = memOp([]byte{0xf3, 0x41, 0x0f, 0x7f}, xs, 16) // movdqu
			case 1:
				b := disp(16)
				if r.IntN(16) != 0 {
					b[0] &^= 15
				}
				in = append([]byte{0x66, 0x41, 0x0f, []byte{0x7f, 0x29}[r.IntN(2)], 0x80 | xs<<3}, b...) // movdqa, movapd
			case 2:
				in = memOp([]byte{0x66, 0x41, 0x0f, []byte{0xd6, 0x17}[r.IntN(2)]}, xs, 8) // movq, movhpd
			default:
				in = memOp([]byte{0xf2, 0x41, 0x0f, 0x11}, xs, 8) // movsd
			}
		case 52:
			// bsf, bsr of a register, often zero, or of memory
			if r.IntN(3) == 0 {
				in = memOp([]byte{w | 1, 0x0f, []byte{0xbc, 0xbd}[r.IntN(2)]}, d, 8)
			} else {
				in = []byte{w, 0x0f, []byte{0xbc, 0xbd}[r.IntN(2)], modrm(d, s)}
				if r.IntN(2) == 0 {
					in = append([]byte{0x31, modrm(s, s)}, in...) // xor s, s: a zero source
				}
			}
		case 50:
			// movs/stos of 1, 2, 4 or 8 bytes between data addresses (in RSI and RDI), with
			// DF clear or set
			in = []byte{0x4c, 0x89, 0xc6, 0x48, 0x81, 0xc6, 0, 0, 0, 0, 0x4c, 0x89, 0xc7, 0x48, 0x81, 0xc7, 0, 0, 0, 0}
			binary.LittleEndian.PutUint32(in[6:], uint32(r.IntN(8192)))
			binary.LittleEndian.PutUint32(in[16:], uint32(r.IntN(8192)))
			if r.IntN(3) == 0 {
				in = append(in, 0xfd) // std
			}
			op := []byte{0xa4, 0xa5, 0xaa, 0xab}[r.IntN(4)]
			switch r.IntN(3) {
			case 0:
				in = append(in, op)
			case 1:
				in = append(in, 0x48, op)
			default:
				in = append(in, 0x66, op)
			}
			in = append(in, 0xfc) // cld
		case 51:
			// rep movsq, rep stosb or repe cmpsb with a count of 0 or 1
			in = []byte{0x4c, 0x89, 0xc6, 0x4c, 0x89, 0xc7, 0x48, 0x81, 0xc7, 0, 4, 0, 0, 0xb9, byte(r.IntN(2)), 0, 0, 0}
			in = append(in, [][]byte{{0xf3, 0x48, 0xa5}, {0xf3, 0xaa}, {0xf3, 0xa6}, {0xf2, 0xae}}[r.IntN(4)]...)
		case 47:
			in = []byte{0x31, 0xd2, w, 0xf7, modrm(6, []byte{1, 3, 6, 7}[r.IntN(4)])} // xor edx, edx; div r
			if r.IntN(4) == 0 {
				in = in[2:] // RDX as it is: may overflow (#DE)
			}
		case 48:
			in = memOp([]byte{w | 1, 0x0f, 0xaf}, d, 8) // imul d, [m]
		case 49:
			in = []byte{0x40, []byte{0x10, 0x18}[r.IntN(2)], modrm(s, d)} // adc, sbb r8
		case 42:
			in = []byte{[]byte{0x98, 0x99}[r.IntN(2)]} // cwde, cdq; with REX.W cdqe, cqo; with 66 cbw, cwd
			if p := r.IntN(3); p > 0 {
				in = append([]byte{[]byte{0x48, 0x66}[p-1]}, in...)
			}
		case 43:
			// byte and word ALU with memory, both ways
			alu := []byte{0x00, 0x28, 0x20, 0x08, 0x30, 0x38, 0x84}[r.IntN(7)]
			switch r.IntN(4) {
			case 0:
				in = memOp([]byte{0x41, alu}, s, 1)
			case 1:
				in = memOp([]byte{0x66, 0x41, alu | 1}, s, 2)
			case 2:
				if alu != 0x84 {
					in = memOp([]byte{0x41, alu | 2}, d, 1)
				}
			default:
				in = append(memOp([]byte{0x66, 0x41, 0x83}, []byte{7, 0, 5, 4, 1, 6}[r.IntN(6)], 2), byte(r.IntN(256)))
			}
		case 44:
			// word moves with memory; an FS-relative load and subtract (FS base 0 here)
			switch r.IntN(4) {
			case 0:
				in = memOp([]byte{0x66, 0x41, 0x89}, s, 2)
			case 1:
				in = memOp([]byte{0x66, 0x41, 0x8b}, d, 2)
			case 2:
				in = memOp([]byte{0x64, 0x49, 0x8b}, d, 8)
			default:
				in = memOp([]byte{0x64, 0x49, 0x2b}, d, 8)
			}
		case 45:
			if callAt < 0 {
				// mov qword [r8+0x800], f; call [r8+0x800]
				callAt = len(body)
				in = []byte{0x49, 0xc7, 0x80, 0, 8, 0, 0, 0, 0, 0, 0, 0x41, 0xff, 0x90, 0, 8, 0, 0}
			}
		case 46:
			in = []byte{0x40, 0xc0, modrm([]byte{4, 5, 7}[r.IntN(3)], d), byte(r.IntN(40))} // byte shift
			if r.IntN(2) == 0 {
				in = []byte{0x66, 0xc1, modrm([]byte{4, 5, 7}[r.IntN(3)], d), byte(r.IntN(40))} // word shift
			}
		case 37:
			in = []byte{0x40, []byte{0x84, 0x00, 0x28, 0x20, 0x08, 0x30, 0x38}[r.IntN(7)], modrm(s, d)} // 8-bit ALU
		case 38:
			in = []byte{0x40, 0x80, modrm([]byte{7, 0, 5, 4, 1, 6}[r.IntN(6)], d), byte(r.IntN(256))}
		case 39:
			in = []byte{0xa8, byte(1 << r.IntN(8)), 0x70 | byte(r.IntN(16)), 3, w, 0x01, modrm(s, d)} // test al, imm8; jcc
		case 40:
			in = []byte{0x66, 0x83, modrm([]byte{7, 0, 5, 4, 1, 6}[r.IntN(6)], d), byte(r.IntN(256))}
		case 41:
			if r.IntN(2) == 0 {
				in = []byte{0xb0 + []byte{0, 1, 2, 3}[r.IntN(4)], byte(r.IntN(256))} // mov r8, imm8
			} else {
				in = []byte{0x66, 0x89, modrm(s, d)} // mov r16, r16
			}
		case 36:
			if r.IntN(4) == 0 {
				in = bytes.Repeat([]byte{0x90}, 70) // NOPs: past the longest block
			}
		case 30:
			// a compare or test and a branch over the next instruction (fused)
			switch r.IntN(3) {
			case 0:
				in = []byte{w, 0x39, modrm(s, d)}
			case 1:
				in = []byte{w, 0x83, modrm(7, d), byte(r.IntN(256))}
			default:
				in = []byte{w, 0x85, modrm(s, d)}
			}
			in = append(in, 0x70|byte(r.IntN(16)), 3, w, 0x29, modrm(s, d))
		case 31:
			in = []byte{0xeb, 3, w, 0x31, modrm(s, d)} // jmp over the next instruction
		case 32:
			in = memOp([]byte{0x41, 0x0f, 0xbe}, d, 1) // movsx r32, byte [m]
		case 33:
			in = []byte{0x66, 0x01, modrm(s, d)} // 16-bit: left to the interpreter
		case 34:
			if callAt < 0 {
				callAt = len(body)
				in = []byte{0x49, 0xb9, 0, 0, 0, 0, 0, 0, 0, 0, 0x41, 0xff, 0xd1} // mov r9, f; call r9
			}
		case 35:
			in = []byte{w, 0xc1, modrm([]byte{0, 1}[r.IntN(2)], d), byte(1 + r.IntN(31)), w, 0x01, modrm(d, s)} // rotate; add
		case 0, 1:
			in = []byte{w, []byte{0x01, 0x29, 0x21, 0x09, 0x31, 0x39, 0x85, 0x11, 0x19}[r.IntN(9)], modrm(s, d)}
		case 2:
			in = []byte{w, 0x83, modrm([]byte{0, 5, 4, 1, 6, 7, 2}[r.IntN(7)], d), byte(r.IntN(256))}
		case 3:
			in = []byte{w, 0x81, modrm([]byte{0, 5, 4, 1, 6, 7}[r.IntN(6)], d)}
			in = binary.LittleEndian.AppendUint32(in, r.Uint32())
		case 4:
			in = []byte{w, 0x89, modrm(s, d)}
		case 5:
			in = []byte{0xb8 + d}
			in = binary.LittleEndian.AppendUint32(in, r.Uint32())
		case 6:
			in = []byte{0x48, 0xb8 + d}
			in = binary.LittleEndian.AppendUint64(in, r.Uint64()>>r.IntN(64))
		case 7:
			in = []byte{w, 0x8d, 0x44 | d<<3, s<<3 | reg(), byte(r.IntN(256))}
		case 8:
			in = []byte{w, 0xc1, modrm([]byte{4, 5, 7, 0, 1}[r.IntN(5)], d), byte(r.IntN(70))}
		case 9:
			in = []byte{w, 0xd3, modrm([]byte{4, 5, 7}[r.IntN(3)], d)}
		case 10:
			in = []byte{w, 0x0f, 0xaf, modrm(d, s)}
		case 11:
			in = []byte{w, 0x69, modrm(d, s)}
			in = binary.LittleEndian.AppendUint32(in, r.Uint32())
		case 12:
			g := byte(r.IntN(4))
			in = []byte{w, []byte{0xff, 0xff, 0xf7, 0xf7}[g], modrm(g, d)}
		case 13:
			in = []byte{w, 0x0f, 0x40 | byte(r.IntN(16)), modrm(d, s)}
		case 14:
			in = []byte{0x0f, 0x90 | byte(r.IntN(16)), modrm(0, []byte{0, 1, 2, 3}[r.IntN(4)])}
		case 15:
			in = []byte{w, 0x0f, []byte{0xb6, 0xb7, 0xbe, 0xbf}[r.IntN(4)], modrm(d, s)}
		case 16:
			in = []byte{0x48, 0x63, modrm(d, s)}
		case 17:
			in = []byte{w, 0x0f, 0xc8 + d}
		case 18, 19:
			// loads: mov r64/r32, movzx, movsx, movsxd
			switch r.IntN(5) {
			case 0:
				in = memOp([]byte{0x49, 0x8b}, d, 8)
			case 1:
				in = memOp([]byte{0x41, 0x8b}, d, 4)
			case 2:
				in = memOp([]byte{0x41, 0x0f, 0xb6}, d, 1)
			case 3:
				in = memOp([]byte{0x49, 0x0f, 0xbf}, d, 2)
			default:
				in = memOp([]byte{0x49, 0x63}, d, 4)
			}
		case 20, 21:
			switch r.IntN(5) {
			case 0:
				in = memOp([]byte{0x49, 0x89}, s, 8)
			case 1:
				in = memOp([]byte{0x41, 0x89}, s, 4)
			case 2:
				in = memOp([]byte{0x41, 0x88}, s, 1)
			case 3:
				in = append(memOp([]byte{0x49, 0xc7}, 0, 8), byte(r.IntN(256)), 0, 0, 0x80)
			default:
				in = append(memOp([]byte{0x41, 0xc6}, 0, 1), byte(r.IntN(256)))
			}
		case 22:
			// ALU with memory: add/sub/and/or/xor/cmp r, [m]; op [m], r; op [m], imm8
			alu := []byte{0x03, 0x2b, 0x23, 0x0b, 0x33, 0x3b}[r.IntN(6)]
			switch r.IntN(4) {
			case 0:
				in = memOp([]byte{0x49, alu}, d, 8)
			case 1:
				in = memOp([]byte{0x41, alu}, d, 4)
			case 2:
				in = memOp([]byte{0x49, alu - 2}, s, 8)
			default:
				in = append(memOp([]byte{0x41, 0x83}, []byte{0, 5, 4, 1, 6, 7}[r.IntN(6)], 4), byte(r.IntN(256)))
			}
		case 23:
			switch r.IntN(3) {
			case 0:
				in = append(memOp([]byte{0x41, 0x80}, 7, 1), byte(r.IntN(256))) // cmp byte [m], imm8
			case 1:
				in = memOp([]byte{0x49, 0x39}, s, 8) // cmp [m], r
			default:
				in = append(memOp([]byte{0x41, 0xf7}, 0, 4), 0xff, 0, 0, 0) // test dword [m], imm32
			}
		case 24:
			// an indexed load: mov r9d, esi; and r9d, 0xff8; mov d, [r8 + r9]
			in = []byte{0x41, 0x89, 0xf1, 0x41, 0x81, 0xe1, 0xf8, 0x0f, 0, 0, 0x4b, 0x8b, 0x04 | d<<3, 0x08}
		case 25:
			in = []byte{0x50 + s, 0x58 + d} // push s; pop d
		case 26:
			// a forward branch over the next instruction
			in = []byte{0x70 | byte(r.IntN(16)), 3, w, 0x01, modrm(s, d)}
		case 27:
			if callAt < 0 {
				callAt = len(body)
				in = []byte{0xe8, 0, 0, 0, 0}
			}
		case 28:
			in = []byte{w, 0xf7, modrm(0, d)} // test d, imm32
			in = binary.LittleEndian.AppendUint32(in, r.Uint32()>>r.IntN(32))
		default:
			in = []byte{w, 0xc1, modrm([]byte{0, 1}[r.IntN(2)], d), byte(1 + r.IntN(31))} // rol/ror
		}
		body = append(body, in)
	}
	var code []byte
	callEnd := 0
	for k, in := range body {
		code = append(code, in...)
		if k == callAt {
			callEnd = len(code)
		}
	}
	call2 := 0
	if r.IntN(2) == 0 {
		code = append(code, 0xe8, 0, 0, 0, 0) // a second call site: RET's link alternates
		call2 = len(code)
	}
	if r.IntN(2) == 0 {
		code = append(code, 0xff, 0xcd) // dec ebp
	} else {
		code = append(code, 0xff, 0xcd, 0x83, 0xfd, 0x00) // dec ebp; cmp ebp, 0 (fused with the jnz)
	}
	code = append(code, 0x0f, 0x85) // jnz loop
	code = binary.LittleEndian.AppendUint32(code, uint32(-(len(code) + 4)))
	code = append(code, 0xc3) // ret
	f := len(code)            // f: add rax, rcx; xor rdx, rax; ret
	code = append(code, 0x48, 0x01, 0xc8, 0x48, 0x31, 0xc2, 0xc3)
	if call2 > 0 {
		binary.LittleEndian.PutUint32(code[call2-4:], uint32(f-call2))
	}
	if callAt >= 0 {
		if code[callEnd-1] == 0xd1 { // mov r9, f; call r9
			binary.LittleEndian.PutUint64(code[callEnd-11:], base+uint64(f))
		} else if code[callEnd-5] == 0x90 { // mov qword [r8+0x800], f; call [r8+0x800]
			binary.LittleEndian.PutUint32(code[callEnd-11:], uint32(base)+uint32(f))
		} else {
			binary.LittleEndian.PutUint32(code[callEnd-4:], uint32(f-callEnd))
		}
	}
	return code
}

// jitXMMValue is a random XMM register for the SSE tests: random bits, or lanes of floats
// near 1 (single or double) with now and then a zero, denormal, infinity or NaN lane.
func jitXMMValue(r *rand.Rand) [2]uint64 {
	special32 := []uint32{0, 0x80000000, 0x00000001, 0x807fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0x00800000, 0x7f7fffff,
		0x00ffffff, 0x817fffff, 0x3f7fffff, 0x3f800001, 0x4f000000, 0xcf000000, 0x4effffff}
	special64 := []uint64{0, 1 << 63, 1, 0x000fffffffffffff, 0x7ff0000000000000, 0x7ff8000000000000, 0x7ff0000000000001, 0x0010000000000000, 0x7fefffffffffffff,
		0x001fffffffffffff, 0x802fffffffffffff, 0x3fefffffffffffff, 0x3ff0000000000001}
	var v [2]uint64
	switch r.IntN(3) {
	case 0:
		v = [2]uint64{r.Uint64(), r.Uint64() &^ (0xff << (8 * r.IntN(8)))}
	case 1:
		for l := 0; l < 4; l++ {
			f := uint32(r.IntN(2))<<31 | uint32(127-20+r.IntN(40))<<23 | uint32(r.IntN(1<<23))
			if r.IntN(12) == 0 {
				f = special32[r.IntN(len(special32))]
			}
			v[l/2] |= uint64(f) << (32 * (l % 2))
		}
	default:
		for l := 0; l < 2; l++ {
			v[l] = uint64(r.IntN(2))<<63 | uint64(1023-30+r.IntN(60))<<52 | r.Uint64()>>12
			if r.IntN(12) == 0 {
				v[l] = special64[r.IntN(len(special64))]
			}
		}
	}
	return v
}

// sseMisalignedLast sets R9 to 8 in the loop's last iteration (EBP 1) and to 0 before: an
// aligned SSE access at [R8 + R9 + 0x200] then raises #GP there, after its block has
// become host code.
func sseMisalignedLast() []byte {
	// mov r9d, ebp; sub r9d, 2; shr r9d, 28; and r9d, 8
	return []byte{0x41, 0x89, 0xe9, 0x41, 0x83, 0xe9, 0x02, 0x41, 0xc1, 0xe9, 0x1c, 0x41, 0x83, 0xe1, 0x08}
}

// sseIntOps are the second opcode bytes (after 66 0F) of the SSE2 lane operations with a
// fast form (opXmmInt), and UNPCKLPD/UNPCKHPD.
var sseIntOps = []byte{0xef, 0xdb, 0xeb, 0xdf, 0xd4, 0xfb, 0xfe, 0xfa, 0x6c, 0x6d, 0x60, 0x68,
	0x61, 0x69, 0x62, 0x6a, 0x74, 0x75, 0x76, 0xfc, 0xf8, 0x14, 0x15}

// Generated code does what the interpreter does: random loops of the instructions the
// generator translates (and some it leaves to the interpreter, and accesses that miss or
// straddle a page) run on two machines, one with code generation and one without, in
// slices of random budgets; after every slice the registers, flags, instruction counts,
// TLB statistics and data are the same.
func TestCodegenMatchesInterpreter(t *testing.T) {
	testCodegenMatchesInterpreter(t, 300, 77, false)
}

// The same with SSE-heavy loops (XMM registers compared too).
func TestCodegenSSEMatchesInterpreter(t *testing.T) {
	testCodegenMatchesInterpreter(t, 20000, 79, true)
}

// With an arena that holds only a few blocks' code, it is dropped and started again all the
// time (jitDrop), with the same results.
func TestCodegenArenaFull(t *testing.T) {
	defer func(n int) { jitArenaSize = n }(jitArenaSize)
	jitArenaSize = 8192
	jit := testCodegenMatchesInterpreter(t, 100, 78, true)
	require.Greater(t, jit.cpu.jit.Drops, uint64(10), "arena drops")
}

func testCodegenMatchesInterpreter(t *testing.T, iters int, seed0 uint64, sse bool) *testMachine {
	if !x64.Supported {
		t.Skip("this host runs no generated code")
		return nil
	}
	n, seed := searchSize("CODEGEN", iters, iters/5, seed0)
	r := rand.New(rand.NewPCG(seed, 3))
	jit, interp := newTestMachine(t), newTestMachine(t)
	interp.cpu.SetCodegen(false)
	compiled := uint64(0)
	for k := 0; k < n; k++ {
		// Now and then the loop starts just before a page end, behind a jump, so that an
		// instruction straddles it (a block of its own, fetched through both pages).
		base := uint64(hostcpu.CodeAddr)
		if r.IntN(4) == 0 {
			base += 4096 - 1 - uint64(r.IntN(24))
		}
		code := jitProgram(r, sse, base)
		if base != hostcpu.CodeAddr {
			jmp := binary.LittleEndian.AppendUint32([]byte{0xe9}, uint32(base-hostcpu.CodeAddr-5))
			code = append(append(jmp, make([]byte, base-hostcpu.CodeAddr-5)...), code...)
		}
		data := make([]byte, 8192)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		regs := regsWith(map[int]uint64{RAX: r.Uint64(), RCX: r.Uint64() >> r.IntN(64), RDX: r.Uint64(),
			RBX: uint64(r.IntN(5)), RSI: r.Uint64(), RDI: r.Uint64() >> 60, RBP: uint64(20 + r.IntN(40)),
			R8: hostcpu.DataAddr})
		regs.RFLAGS = InitialRFLAGS | uint64(r.IntN(0x900))&ArithFlags
		var xmms [16][2]uint64
		for i := range xmms {
			xmms[i] = jitXMMValue(r)
		}
		mxcsr := uint32(0x1fa0) // precision flag set: the host's arithmetic may stand in
		switch r.IntN(6) {
		case 0:
			mxcsr = 0x1f80
		case 1:
			mxcsr |= uint32(r.IntN(64)) // other flags
		case 2:
			mxcsr ^= uint32(1) << (6 + r.IntN(10)) // DAZ, a mask, the rounding mode, FTZ
		}
		tms := []*testMachine{jit, interp}
		for _, tm := range tms {
			tm.writeVirt(hostcpu.CodeAddr, code)
			tm.writeVirt(hostcpu.DataAddr, data)
			var ret [8]byte
			binary.LittleEndian.PutUint64(ret[:], sentinel)
			tm.writeVirt(hostcpu.EntryRSP, ret[:])
			var s State
			s.GPR = regs.GPR
			s.GPR[RSP] = hostcpu.EntryRSP
			s.RIP, s.RFLAGS = hostcpu.CodeAddr, regs.RFLAGS
			s.Ext = InitialExtState()
			s.Ext.XMM = xmms
			s.Ext.MXCSR = mxcsr
			tm.cpu.Load(&s)
		}
		for slice := 0; ; slice++ {
			budget := uint64(1 + r.IntN(400))
			if r.IntN(4) == 0 {
				budget = 1 << 20
			}
			var traps [2]Trap
			var st [2]State
			for m, tm := range tms {
				traps[m] = tm.cpu.Run(budget)
				tm.cpu.Save(&st[m])
			}
			where := func() string { return "program " + itoa(k) + " slice " + itoa(slice) + ": " + hexBytes(code) }
			require.Equal(t, traps[1], traps[0], where())
			require.Equal(t, st[1].GPR, st[0].GPR, where())
			require.Equal(t, st[1].RIP, st[0].RIP, where())
			require.Equal(t, st[1].RFLAGS, st[0].RFLAGS, where())
			require.Equal(t, st[1].Ext, st[0].Ext, where())
			require.Equal(t, interp.cpu.Instructions(), jit.cpu.Instructions(), where())
			require.Equal(t, interp.mmu.DTLB.Stats, jit.mmu.DTLB.Stats, where())
			require.Equal(t, interp.mmu.ITLB.Stats, jit.mmu.ITLB.Stats, where())
			if traps[0].Kind != TrapBudget {
				break
			}
		}
		var got, want [8192]byte
		jit.readVirt(hostcpu.DataAddr, got[:])
		interp.readVirt(hostcpu.DataAddr, want[:])
		require.True(t, bytes.Equal(got[:], want[:]), "program %d: data", k)
	}
	compiled, _ = jit.cpu.CodegenStats()
	require.Greater(t, compiled, uint64(n/2), "blocks translated")
	return jit
}

func itoa(v int) string { return fmtInt(v) }

func fmtInt(v int) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}

func hexBytes(b []byte) string {
	const hx = "0123456789abcdef"
	out := make([]byte, 0, 3*len(b))
	for _, c := range b {
		out = append(out, hx[c>>4], hx[c&15], ' ')
	}
	return string(out)
}

// A store from generated code's slow path into the executing block's own code (here after
// the block has become host code) ends the block after the store and the patched
// instruction runs, as when interpreting (and as the host's self-modifying-code detection
// makes it: TestSelfModifyingCode compares that with the host).
func TestCodegenSelfModifyingCode(t *testing.T) {
	//  0: 48 83 c0 01     add rax, 1   (its imm8, at 3, is patched to 2 at rcx = 50)
	//  4: 48 89 d7        mov rdi, rdx (the data page)
	//  7: 83 f9 32        cmp ecx, 50
	// 10: 48 0f 44 fe     cmove rdi, rsi (the address of the imm8)
	// 14: c6 07 02        mov byte [rdi], 2
	// 17: ff c9           dec ecx
	// 19: 75 eb           jnz 0
	// 21: c3              ret
	code := []byte{0x48, 0x83, 0xc0, 0x01, 0x48, 0x89, 0xd7, 0x83, 0xf9, 0x32, 0x48, 0x0f, 0x44, 0xfe,
		0xc6, 0x07, 0x02, 0xff, 0xc9, 0x75, 0xeb, 0xc3}
	regs := map[int]uint64{RCX: 100, RDX: hostcpu.DataAddr, RSI: hostcpu.CodeAddr + 3}
	// 51 iterations add 1 (the patch comes after the add at rcx = 50), 49 add 2.
	for _, on := range []bool{true, false} {
		tm := newTestMachine(t)
		tm.cpu.SetCodegen(on)
		emu := regsWith(regs)
		trap := tm.run(code, &emu, make([]byte, 64), 10_000)
		require.True(t, returned(trap), trap.String())
		require.Equal(t, uint64(149), emu.GPR[RAX], "codegen %v", on)
		if on && x64.Supported {
			blocks, _ := tm.cpu.CodegenStats()
			require.NotZero(t, blocks)
		}
	}
}

// A block whose SSE arithmetic keeps failing the value tests of generated code (here a zero
// operand under an MXCSR without the loose flags) has its code dropped after jitGiveUp
// such exits in a row and is interpreted, with the same results.
func TestCodegenGivesUpOnValueExits(t *testing.T) {
	if !x64.Supported {
		t.Skip("this host runs no generated code")
	}
	// loop: mulsd xmm0, xmm1 ; add rax, 1 ; dec ecx ; jnz loop ; ret
	code := []byte{0xf2, 0x0f, 0x59, 0xc1, 0x48, 0x83, 0xc0, 0x01, 0xff, 0xc9, 0x75, 0xf4, 0xc3}
	var st [2]State
	for m, on := range []bool{true, false} {
		tm := newTestMachine(t)
		tm.cpu.SetCodegen(on)
		tm.writeVirt(hostcpu.CodeAddr, code)
		tm.writeVirt(hostcpu.EntryRSP, le(sentinel, 8))
		s := State{RIP: hostcpu.CodeAddr, RFLAGS: InitialRFLAGS, Ext: InitialExtState()}
		s.GPR[RSP], s.GPR[RCX] = hostcpu.EntryRSP, 1000
		s.Ext.MXCSR = 0x1fa0
		s.Ext.XMM[0] = [2]uint64{0x3ff8000000000000, 7} // 1.5; XMM1 is 0
		tm.cpu.Load(&s)
		trap := tm.cpu.Run(1 << 20)
		require.True(t, returned(trap), trap.String())
		tm.cpu.Save(&st[m])
		if on {
			blocks, _ := tm.cpu.CodegenStats()
			require.NotZero(t, blocks)
			require.Equal(t, uintptr(jitNo), tm.cpu.jit.blocks[0].jit, "the loop's code was dropped")
		}
	}
	require.Equal(t, st[1], st[0])
	require.Equal(t, uint64(1000), st[0].GPR[RAX])
}
