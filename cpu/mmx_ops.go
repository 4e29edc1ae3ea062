package cpu

// The MMX instructions: their functions and decoders. Most are the SSE unit's functions
// for the 128-bit forms, called on the 64-bit operands (mmxAdopt); the rest are moves,
// shifts and insertions that the SSE helpers' element functions (shiftWords, maskBits...)
// compute directly. Each follows the "Operation" section of its SDM Vol. 2 page for the
// 64-bit (MMX register) operands.

import (
	"golang.org/x/arch/x86/x86asm"
)

// mmxAdapter says how an MMX instruction computes its result with the SSE unit's function
// for the 128-bit form: which 128-bit operands to give it, and which part of the result
// to take. Exactly one of p (shape P) and q (shape Q) is set.
type mmxAdapter struct {
	mmx x86asm.Op // the MMX mnemonic it serves (usually the SSE one)
	mem uint8     // memory operand size (shape P; 0 for a register-only form)
	src int       // shape P source kind
	p   func(fn sseAFn) mmxFn
	q   func(fn sseAFn) mmxQFn
}

// Ways to call a 128-bit function for 64-bit operands.

// lanes: an element-wise function (each result element depends only on the elements at
// the same place in d and s): d and s in the low halves, the low half of the result.
func lanes(fn sseAFn) mmxFn {
	return func(c *CPU, d uint64, s vec, imm uint8) uint64 { return fn(c, vec{d}, vec{s[0]}, imm)[0] }
}

// pairs: the packing and horizontal functions, whose result's low half is computed from
// the destination alone, the lower elements from its low half and the upper from its high
// half: d:s as the destination, so the low half is the MMX result (d's elements, then s's).
func pairs(fn sseAFn) mmxFn {
	return func(c *CPU, d uint64, s vec, imm uint8) uint64 { return fn(c, vec{d, s[0]}, vec{}, imm)[0] }
}

// high: the high unpacks interleave the high halves of their operands; the high 32 bits
// of d and s, placed at bit 64, are interleaved into the low half of the result.
func high(fn sseAFn) mmxFn {
	return func(c *CPU, d uint64, s vec, imm uint8) uint64 {
		return fn(c, vec{0, d >> 32}, vec{0, s[0] >> 32}, imm)[0]
	}
}

// dup: PSHUFB selects bytes by index & 15 from 16; with d in both halves that is index & 7
// from d's 8, the MMX rule.
func dup(fn sseAFn) mmxFn {
	return func(c *CPU, d uint64, s vec, imm uint8) uint64 { return fn(c, vec{d, d}, vec{s[0]}, imm)[0] }
}

// concat: PALIGNR shifts the concatenation dest:src right by imm8 bytes; the 128-bit
// function with s:d as its source and zero as its destination shifts the 16 bytes d:s (d
// high) with zeros above, and for a count above 15 the MMX result is zero too.
func concat(fn sseAFn) mmxFn {
	return func(c *CPU, d uint64, s vec, imm uint8) uint64 { return fn(c, vec{}, vec{s[0], d}, imm)[0] }
}

// unary: a conversion of the two low elements of s (zero elements above convert without
// raising any floating-point exception).
func unary(fn sseAFn) mmxFn {
	return func(c *CPU, _ uint64, s vec, imm uint8) uint64 { return fn(c, vec{}, vec{s[0]}, imm)[0] }
}

// wide: a conversion of all 128 bits of s, whose result fits the low half.
func wide(fn sseAFn) mmxFn {
	return func(c *CPU, _ uint64, s vec, imm uint8) uint64 { return fn(c, vec{}, s, imm)[0] }
}

// lowMerge: a conversion into the low half of an XMM register, the high half kept.
func lowMerge(fn sseAFn) mmxQFn {
	return func(c *CPU, d vec, s uint64, imm uint8) vec { return vec{fn(c, vec{}, vec{s}, imm)[0], d[1]} }
}

// whole: a conversion into all of an XMM register.
func whole(fn sseAFn) mmxQFn {
	return func(c *CPU, _ vec, s uint64, imm uint8) vec { return fn(c, vec{}, vec{s}, imm) }
}

// mmxAdapters lists, by the SSE mnemonic whose function they call, the MMX instructions
// computed by the SSE unit. It is a package variable, not built in an init function, so
// that it is complete before any file's init runs: sseInsn consults it as the SSE unit
// registers its functions.
var mmxAdapters = func() map[x86asm.Op]mmxAdapter {
	m := map[x86asm.Op]mmxAdapter{}
	for _, op := range []x86asm.Op{
		// MMX.
		x86asm.PADDB, x86asm.PADDW, x86asm.PADDD, x86asm.PADDSB, x86asm.PADDSW, x86asm.PADDUSB,
		x86asm.PADDUSW, x86asm.PSUBB, x86asm.PSUBW, x86asm.PSUBD, x86asm.PSUBSB, x86asm.PSUBSW,
		x86asm.PSUBUSB, x86asm.PSUBUSW, x86asm.PMULLW, x86asm.PMULHW, x86asm.PMADDWD,
		x86asm.PCMPEQB, x86asm.PCMPEQW, x86asm.PCMPEQD, x86asm.PCMPGTB, x86asm.PCMPGTW,
		x86asm.PCMPGTD, x86asm.PAND, x86asm.PANDN, x86asm.POR, x86asm.PXOR,
		// SSE integer instructions on MMX registers, SSE2's quadword ones.
		x86asm.PAVGB, x86asm.PAVGW, x86asm.PMAXSW, x86asm.PMAXUB, x86asm.PMINSW, x86asm.PMINUB,
		x86asm.PMULHUW, x86asm.PSADBW, x86asm.PADDQ, x86asm.PSUBQ, x86asm.PMULUDQ,
		// SSSE3.
		x86asm.PMADDUBSW, x86asm.PMULHRSW, x86asm.PSIGNB, x86asm.PSIGNW, x86asm.PSIGND,
		x86asm.PABSB, x86asm.PABSW, x86asm.PABSD,
	} {
		m[op] = mmxAdapter{mmx: op, mem: 8, p: lanes}
	}
	for _, op := range []x86asm.Op{x86asm.PACKSSWB, x86asm.PACKSSDW, x86asm.PACKUSWB, x86asm.PHADDW,
		x86asm.PHADDD, x86asm.PHADDSW, x86asm.PHSUBW, x86asm.PHSUBD, x86asm.PHSUBSW} {
		m[op] = mmxAdapter{mmx: op, mem: 8, p: pairs}
	}
	// The low unpacks read only the low 32 bits of a memory operand: "mm, mm/m32".
	for _, op := range []x86asm.Op{x86asm.PUNPCKLBW, x86asm.PUNPCKLWD, x86asm.PUNPCKLDQ} {
		m[op] = mmxAdapter{mmx: op, mem: 4, p: lanes}
	}
	for _, op := range []x86asm.Op{x86asm.PUNPCKHBW, x86asm.PUNPCKHWD, x86asm.PUNPCKHDQ} {
		m[op] = mmxAdapter{mmx: op, mem: 8, p: high}
	}
	m[x86asm.PSHUFB] = mmxAdapter{mmx: x86asm.PSHUFB, mem: 8, p: dup}
	m[x86asm.PALIGNR] = mmxAdapter{mmx: x86asm.PALIGNR, mem: 8, p: concat}
	m[x86asm.PSHUFLW] = mmxAdapter{mmx: x86asm.PSHUFW, mem: 8, p: unary} // words 0-3 by imm8
	// Conversions between MMX and XMM registers (SSE and SSE2).
	m[x86asm.CVTPS2DQ] = mmxAdapter{mmx: x86asm.CVTPS2PI, mem: 8, src: srcXMM, p: unary}
	m[x86asm.CVTTPS2DQ] = mmxAdapter{mmx: x86asm.CVTTPS2PI, mem: 8, src: srcXMM, p: unary}
	m[x86asm.CVTPD2DQ] = mmxAdapter{mmx: x86asm.CVTPD2PI, mem: 16, src: srcXMM, p: wide}
	m[x86asm.CVTTPD2DQ] = mmxAdapter{mmx: x86asm.CVTTPD2PI, mem: 16, src: srcXMM, p: wide}
	m[x86asm.CVTDQ2PS] = mmxAdapter{mmx: x86asm.CVTPI2PS, q: lowMerge}
	m[x86asm.CVTDQ2PD] = mmxAdapter{mmx: x86asm.CVTPI2PD, q: whole}
	return m
}()

// mmxRefs are the registered functions of the adopted MMX instructions, by MMX mnemonic.
var mmxRefs = map[x86asm.Op]sseRef{}

// mmxAdopt is called by sseInsn with each function the SSE unit registers: if an MMX
// instruction computes with it (mmxAdapters), its adapted form joins the MMX tables.
// Called from init functions only.
func mmxAdopt(op x86asm.Op, fn sseAFn) {
	a, ok := mmxAdapters[op]
	if !ok {
		return
	}
	if a.p != nil {
		mmxRefs[a.mmx] = mmxP.add(a.p(fn))
	} else {
		mmxRefs[a.mmx] = mmxQ.add(a.q(fn))
	}
}

// adopted returns the decoder of an adopted MMX instruction. It looks the function up when
// it decodes, after every init function (the SSE unit's included) has run; an instruction
// whose SSE function was never registered stays undecodable (#UD).
func adopted(a mmxAdapter) coldDecoder {
	op := a.mmx
	return func(in *inst, x *x86asm.Inst) bool {
		ref, ok := mmxRefs[op]
		if !ok {
			return false
		}
		if a.q != nil {
			if !decodeQ(in, x, ref, true) {
				return false
			}
			if op == x86asm.CVTPI2PD && in.form&fSrcMem != 0 {
				in.ssize |= mmxNoState // SDM Vol. 2A, CVTPI2PD: "xmm, m64" is an SSE2 instruction
			}
			return true
		}
		return decodeP(in, x, ref, a.mem, a.src)
	}
}

// mmxOnlyOps are the mnemonics the SSE unit does not decode at all.
var mmxOnlyOps = map[x86asm.Op]bool{x86asm.PSHUFW: true, x86asm.CVTPS2PI: true,
	x86asm.CVTTPS2PI: true, x86asm.CVTPD2PI: true, x86asm.CVTTPD2PI: true, x86asm.CVTPI2PS: true,
	x86asm.CVTPI2PD: true, x86asm.EMMS: true, x86asm.MOVQ2DQ: true, x86asm.MOVDQ2Q: true,
	x86asm.MASKMOVQ: true, x86asm.MOVNTQ: true}

// mmxDecoder registers the decoder of an MMX instruction.
func mmxDecoder(op x86asm.Op, d coldDecoder) {
	if mmxOnlyOps[op] {
		mmxOnly(op, d)
		return
	}
	mmxDecoders[op] = d
}

func init() {
	for _, a := range mmxAdapters {
		mmxDecoder(a.mmx, adopted(a))
	}

	// Shifts (SDM Vol. 2B, PSLLW/PSLLD/PSLLQ, PSRLW/PSRLD/PSRLQ, PSRAW/PSRAD): by an MMX
	// register or m64 (all 64 bits are the count), or by imm8; a count above the element
	// width clears the element, or fills it with its sign.
	shift := func(op x86asm.Op, f func(v uint64, n uint64) uint64) {
		byReg := mmxP.add(func(_ *CPU, d uint64, s vec, _ uint8) uint64 { return f(d, s[0]) })
		byImm := mmxP.add(func(_ *CPU, d uint64, _ vec, imm uint8) uint64 { return f(d, uint64(imm)) })
		mmxDecoder(op, func(in *inst, x *x86asm.Inst) bool {
			if imm, ok := x.Args[1].(x86asm.Imm); ok {
				d, ok := mmxReg(x.Args[0])
				in.dst, in.imm = d, uint64(imm)&0xff
				in.op, in.sub = byImm.op, byImm.sub
				return ok && x.Args[2] == nil
			}
			return decodeP(in, x, byReg, 8, srcMM)
		})
	}
	shift(x86asm.PSLLW, func(v, n uint64) uint64 { return shiftWords(vec{v}, n, 0)[0] })
	shift(x86asm.PSRLW, func(v, n uint64) uint64 { return shiftWords(vec{v}, n, 1)[0] })
	shift(x86asm.PSRAW, func(v, n uint64) uint64 { return shiftWords(vec{v}, n, 2)[0] })
	shift(x86asm.PSLLD, func(v, n uint64) uint64 { return shiftDwords(vec{v}, n, 0)[0] })
	shift(x86asm.PSRLD, func(v, n uint64) uint64 { return shiftDwords(vec{v}, n, 1)[0] })
	shift(x86asm.PSRAD, func(v, n uint64) uint64 { return shiftDwords(vec{v}, n, 2)[0] })
	shift(x86asm.PSLLQ, func(v, n uint64) uint64 { return shiftQwords(vec{v}, n, true)[0] })
	shift(x86asm.PSRLQ, func(v, n uint64) uint64 { return shiftQwords(vec{v}, n, false)[0] })

	// Moves (SDM Vol. 2B, MOVD/MOVQ, MOVNTQ, MOVQ2DQ, MOVDQ2Q). Into an MMX register: from
	// an MMX register, m64, r64 (REX.W 0F 6E), or a zero-extended r32/m32 (MOVD).
	load := mmxP.add(func(_ *CPU, _ uint64, s vec, _ uint8) uint64 { return s[0] })
	store := mmxS.add(func(_ *CPU, s uint64, _ uint8) uint64 { return s })
	mmxDecoder(x86asm.MOVQ, func(in *inst, x *x86asm.Inst) bool {
		if _, ok := mmxReg(x.Args[0]); ok {
			if _, _, ok := gpReg(x.Args[1]); ok {
				return decodeP(in, x, load, 8, srcGPR) && in.size == 8
			}
			return decodeP(in, x, load, 8, srcMM)
		}
		return decodeMMXS(in, x, store, 8, true) && in.size == 8 // m64 or r64 <- mm
	})
	mmxDecoder(x86asm.MOVD, func(in *inst, x *x86asm.Inst) bool {
		if _, ok := mmxReg(x.Args[0]); ok {
			return decodeP(in, x, load, 4, srcGPR) && in.size == 4
		}
		return decodeMMXS(in, x, store, 4, true) && in.size == 4
	})
	mmxDecoder(x86asm.MOVNTQ, func(in *inst, x *x86asm.Inst) bool { return decodeMMXS(in, x, store, 8, false) })
	mmxDecoder(x86asm.MOVDQ2Q, func(in *inst, x *x86asm.Inst) bool {
		return decodeP(in, x, load, 0, srcXMM)
	})
	movq2dq := mmxQ.add(func(_ *CPU, _ vec, s uint64, _ uint8) vec { return vec{s} })
	mmxDecoder(x86asm.MOVQ2DQ, func(in *inst, x *x86asm.Inst) bool { return decodeQ(in, x, movq2dq, false) })

	// Word insertion and extraction, byte mask (SDM Vol. 2B, PINSRW, PEXTRW, PMOVMSKB): the
	// word index is imm8 & 3; PINSRW takes the low word of r32 or an m16.
	pinsrw := mmxP.add(func(_ *CPU, d uint64, s vec, imm uint8) uint64 {
		sh := 16 * uint(imm&3)
		return d&^(0xffff<<sh) | (s[0]&0xffff)<<sh
	})
	mmxDecoder(x86asm.PINSRW, func(in *inst, x *x86asm.Inst) bool { return decodeP(in, x, pinsrw, 2, srcGPR) })
	pextrw := mmxS.add(func(_ *CPU, s uint64, imm uint8) uint64 { return s >> (16 * uint(imm&3)) & 0xffff })
	pmovmskb := mmxS.add(func(_ *CPU, s uint64, _ uint8) uint64 { return maskBits(s) })
	for op, ref := range map[x86asm.Op]sseRef{x86asm.PEXTRW: pextrw, x86asm.PMOVMSKB: pmovmskb} {
		mmxDecoder(op, func(in *inst, x *x86asm.Inst) bool {
			if !decodeMMXS(in, x, ref, 0, true) {
				return false
			}
			in.size = 4 // the upper half of a 64-bit destination is zeroed
			return true
		})
	}

	// EMMS and MASKMOVQ.
	emmsRef := mmxX.add(emms)
	mmxDecoder(x86asm.EMMS, func(in *inst, x *x86asm.Inst) bool {
		in.op, in.sub = emmsRef.op, emmsRef.sub
		return x.Args[0] == nil
	})
	maskRef := mmxX.add(maskmovq)
	mmxDecoder(x86asm.MASKMOVQ, func(in *inst, x *x86asm.Inst) bool {
		d, ok := mmxReg(x.Args[0])
		s, ok2 := mmxReg(x.Args[1])
		in.op, in.sub, in.dst, in.src = maskRef.op, maskRef.sub, d, s
		if x.AddrSize == 32 {
			in.form |= fAddr32
		}
		return ok && ok2
	})
}
