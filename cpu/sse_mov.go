package cpu

// SSE data movement: full-register loads and stores (aligned, unaligned and non-temporal;
// non-temporal hints are ordinary stores here, there being no caches to bypass), scalar and
// half-register moves, MOVD/MOVQ to and from general-purpose registers, duplicating moves,
// sign-mask extraction, MOVNTI and MASKMOVDQU (SDM Vol. 2, each instruction's page).

import (
	"golang.org/x/arch/x86/x86asm"

	"github.com/vmemu/vmemu/mmu"
)

func init() {
	ident := func(_ *CPU, _, s vec, _ uint8) vec { return s }
	full := sseA.add(ident)
	store16 := sseS.add(func(_ *CPU, s vec, _ uint8) vec { return s })
	// Full 128-bit moves: "xmm, xmm/m128" loads and "m128, xmm" stores. The alignment rule
	// comes from the op (MOVUPS, MOVUPD, MOVDQU and LDDQU accept any address).
	for _, op := range []x86asm.Op{x86asm.MOVAPS, x86asm.MOVUPS, x86asm.MOVAPD, x86asm.MOVUPD,
		x86asm.MOVDQA, x86asm.MOVDQU} {
		sseDecoder(op, func(in *inst, x *x86asm.Inst) bool {
			if _, ok := x.Args[0].(x86asm.Mem); ok {
				return decodeS(in, x, store16, 16, false)
			}
			return decodeA(in, x, full, full, 16)
		})
	}
	for _, op := range []x86asm.Op{x86asm.LDDQU, x86asm.MOVNTDQA} { // loads from memory only
		sseDecoder(op, func(in *inst, x *x86asm.Inst) bool { return decodeA(in, x, sseRef{}, full, 16) })
	}
	for _, op := range []x86asm.Op{x86asm.MOVNTDQ, x86asm.MOVNTPS, x86asm.MOVNTPD} { // stores only
		sseDecoder(op, func(in *inst, x *x86asm.Inst) bool { return decodeS(in, x, store16, 16, false) })
	}

	// MOVSS and MOVSD: a register source replaces only the low element; a memory source
	// zero-extends; a memory destination takes the low element.
	lo32 := sseS.add(func(_ *CPU, s vec, _ uint8) vec { return vec{uint64(uint32(s[0]))} })
	lo64 := sseS.add(func(_ *CPU, s vec, _ uint8) vec { return vec{s[0]} })
	hi64 := sseS.add(func(_ *CPU, s vec, _ uint8) vec { return vec{s[1]} })
	scalarMove := func(op x86asm.Op, size uint8, merge sseAFn, store sseRef) {
		r, m := sseA.add(merge), sseA.add(ident)
		sseDecoder(op, func(in *inst, x *x86asm.Inst) bool {
			if _, ok := x.Args[0].(x86asm.Mem); ok {
				return decodeS(in, x, store, size, false)
			}
			return decodeA(in, x, r, m, size)
		})
	}
	scalarMove(x86asm.MOVSS, 4, func(_ *CPU, d, s vec, _ uint8) vec {
		return vec{d[0]&^0xffffffff | s[0]&0xffffffff, d[1]}
	}, lo32)
	scalarMove(x86asm.MOVSD_XMM, 8, func(_ *CPU, d, s vec, _ uint8) vec { return vec{s[0], d[1]} }, lo64)

	// MOVQ and MOVD: the XMM destination is zero-extended from 64 (32) bits.
	zx64 := sseA.add(func(_ *CPU, _, s vec, _ uint8) vec { return vec{s[0]} })
	zx32 := sseA.add(func(_ *CPU, _, s vec, _ uint8) vec { return vec{uint64(uint32(s[0]))} })
	sseDecoder(x86asm.MOVQ, func(in *inst, x *x86asm.Inst) bool {
		switch a := x.Args[0].(type) {
		case x86asm.Mem:
			return decodeS(in, x, lo64, 8, false)
		case x86asm.Reg:
			if _, ok := xmmReg(a); !ok {
				return decodeS(in, x, lo64, 8, true) && in.size == 8 // movq r64, xmm
			}
		}
		if _, _, ok := gpReg(x.Args[1]); ok {
			return decodeAG(in, x, sseRef{}, zx64, 8) // movq xmm, r64
		}
		return decodeA(in, x, zx64, zx64, 8)
	})
	sseDecoder(x86asm.MOVD, func(in *inst, x *x86asm.Inst) bool {
		if _, ok := xmmReg(x.Args[0]); ok {
			return decodeAG(in, x, zx32, sseRef{}, 4)
		}
		return decodeS(in, x, lo32, 4, true) && in.size == 4
	})

	// Half-register moves.
	loadHigh := sseA.add(func(_ *CPU, d, s vec, _ uint8) vec { return vec{d[0], s[0]} })
	loadLow := sseA.add(func(_ *CPU, d, s vec, _ uint8) vec { return vec{s[0], d[1]} })
	for _, h := range []struct {
		op          x86asm.Op
		load, store sseRef
	}{
		{x86asm.MOVHPS, loadHigh, hi64}, {x86asm.MOVHPD, loadHigh, hi64},
		{x86asm.MOVLPS, loadLow, lo64}, {x86asm.MOVLPD, loadLow, lo64},
	} {
		h := h
		sseDecoder(h.op, func(in *inst, x *x86asm.Inst) bool {
			if _, ok := x.Args[0].(x86asm.Mem); ok {
				return decodeS(in, x, h.store, 8, false)
			}
			return decodeA(in, x, sseRef{}, h.load, 8)
		})
	}
	sseInsn(x86asm.MOVHLPS, 0, func(_ *CPU, d, s vec, _ uint8) vec { return vec{s[1], d[1]} })
	sseInsn(x86asm.MOVLHPS, 0, func(_ *CPU, d, s vec, _ uint8) vec { return vec{d[0], s[0]} })

	// Duplicating moves (SSE3).
	sseInsn(x86asm.MOVDDUP, 8, func(_ *CPU, _, s vec, _ uint8) vec { return vec{s[0], s[0]} })
	sseInsn(x86asm.MOVSHDUP, 16, func(_ *CPU, _, s vec, _ uint8) vec {
		e := dwordsOf(s)
		return fromDwords([4]uint32{e[1], e[1], e[3], e[3]})
	})
	sseInsn(x86asm.MOVSLDUP, 16, func(_ *CPU, _, s vec, _ uint8) vec {
		e := dwordsOf(s)
		return fromDwords([4]uint32{e[0], e[0], e[2], e[2]})
	})

	// Sign masks into a general-purpose register (zero-extended).
	mask := func(op x86asm.Op, fn sseSFn) {
		ref := sseS.add(fn)
		sseDecoder(op, func(in *inst, x *x86asm.Inst) bool {
			if !decodeS(in, x, ref, 0, true) {
				return false
			}
			in.size = 4
			return true
		})
	}
	mask(x86asm.MOVMSKPS, func(_ *CPU, s vec, _ uint8) vec {
		return vec{s[0]>>31&1 | s[0]>>62&2 | s[1]>>29&4 | s[1]>>60&8}
	})
	mask(x86asm.MOVMSKPD, func(_ *CPU, s vec, _ uint8) vec { return vec{s[0]>>63 | s[1]>>63<<1} })

	// MASKMOVDQU xmm1, xmm2: store the bytes of xmm1 whose byte in xmm2 has bit 7 set, at
	// DS:RDI (EDI with a 32-bit address size). The whole 16 bytes are translated for writing
	// first, so a fault leaves memory untouched.
	maskmov := sseX.add(func(c *CPU, in *inst) {
		sel := c.ext.XMM[in.src&15]
		m := maskBits(sel[0]) | maskBits(sel[1])<<8
		if m == 0 {
			return
		}
		ea := c.r[RDI]
		if in.form&fAddr32 != 0 {
			ea = uint64(uint32(ea))
		}
		c.probe(ea, 16, mmu.Write)
		b := bytesOf(c.ext.XMM[in.dst&15])
		for i := 0; i < 16; i++ {
			if m>>i&1 != 0 {
				c.write(ea+uint64(i), 1, uint64(b[i]))
			}
		}
	})
	sseDecoder(x86asm.MASKMOVDQU, func(in *inst, x *x86asm.Inst) bool {
		d, ok := xmmReg(x.Args[0])
		s, ok2 := xmmReg(x.Args[1])
		in.op, in.sub, in.dst, in.src = maskmov.op, maskmov.sub, d, s
		if x.AddrSize == 32 {
			in.form |= fAddr32
		}
		return ok && ok2
	})
}
