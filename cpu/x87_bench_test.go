package cpu

import (
	"testing"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
)

// x87Loop is a long double loop: a multiply-add, a square root, a division and a store
// of the extended result, RCX iterations.
//
//	fninit ; fld1 ; fldpi
//	loop: fmul st, st(1) ; fadd st, st(1) ; fld st(0) ; fsqrt ; fdiv st, st(1)
//	      fstp tbyte [rdi+16] ; dec rcx ; jnz loop
//	      fninit ; ret
var x87Loop = []byte{
	0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xeb,
	0xd8, 0xc9, 0xd8, 0xc1, 0xd9, 0xc0, 0xd9, 0xfa, 0xd8, 0xf1,
	0xdb, 0x7f, 0x10, 0x48, 0xff, 0xc9, 0x75, 0xee,
	0xdb, 0xe3, 0xc3,
}

// BenchmarkX87Loop reports guest instructions per second on x87 arithmetic.
func BenchmarkX87Loop(b *testing.B) {
	b.ReportAllocs()
	benchLoop(b, x87Loop, 200_000, func(r *hostcpu.Regs) { r.GPR[RDI] = hostcpu.DataAddr })
}
