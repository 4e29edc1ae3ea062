package cpu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeSeq decodes a straight-line sequence the way decodeBlock lays it out.
func decodeSeq(t *testing.T, code []byte) []inst {
	t.Helper()
	var out []inst
	for off := 0; off < len(code); {
		buf := make([]byte, maxInstLen)
		copy(buf, code[off:])
		in, ok := decodeOne(buf)
		require.True(t, ok)
		in.off = uint16(off)
		out = append(out, in)
		off += int(in.len)
	}
	return out
}

// The optimizer's decisions, one row per rule: which fast op an instruction gets, whether
// its flags are dropped as dead, and which compare-and-branch pairs fuse.
func TestBlockOptimizer(t *testing.T) {
	for _, tc := range []struct {
		name string
		code []byte
		ops  []uint16 // expected op of each instruction
		dead []bool   // expected hFlagsDead of each instruction
	}{
		{"flags overwritten by the next ALU op are dead",
			[]byte{0x48, 0x01, 0xd8, 0x48, 0x29, 0xd1}, // add rax, rbx ; sub rcx, rdx
			[]uint16{opAdd64RR, opSub64RR}, []bool{true, false}},
		{"flags at the block end are live",
			[]byte{0x48, 0x31, 0xc0}, // xor rax, rax
			[]uint16{opXor64RR}, []bool{false}},
		{"a reader keeps them live: adc reads CF",
			[]byte{0x48, 0x01, 0xd8, 0x48, 0x11, 0xd1, 0x48, 0x29, 0xd1}, // add ; adc rcx, rdx ; sub
			[]uint16{opAdd64RR, opALU, opSub64RR}, []bool{false, false, false}},
		{"an instruction that may fault keeps them live",
			[]byte{0x48, 0x01, 0xd8, 0x48, 0x8b, 0x06, 0x48, 0x29, 0xd1}, // add ; mov rax, [rsi] ; sub
			[]uint16{opAdd64RR, opLoad64, opSub64RR}, []bool{false, false, false}},
		{"inc keeps CF, so a live inc keeps the writer before it",
			[]byte{0x48, 0x01, 0xd8, 0x48, 0xff, 0xc1}, // add rax, rbx ; inc rcx
			[]uint16{opAdd64RR, opInc64}, []bool{false, false}},
		{"a dead inc needs no CF",
			[]byte{0x48, 0x01, 0xd8, 0x48, 0xff, 0xc1, 0x48, 0x29, 0xd1}, // add ; inc rcx ; sub
			[]uint16{opAdd64RR, opInc64, opSub64RR}, []bool{true, true, false}},
		{"cmp and jcc fuse, the jcc stays in place",
			[]byte{0x48, 0x39, 0xc8, 0x75, 0x00, 0x48, 0x83, 0xf8, 0x05, 0x74, 0x00}, // cmp ; jnz ; cmp rax, 5 ; jz
			[]uint16{opCmpJccRR, opJcc, opCmpJccRI, opJcc}, []bool{false, false, false, false}},
		{"32-bit forms and immediates",
			[]byte{0x89, 0xd8, 0x83, 0xc0, 0x07, 0xc1, 0xe0, 0x03, 0xb8, 0x2a, 0, 0, 0},            // mov eax, ebx ; add eax, 7 ; shl eax, 3 ; mov eax, 42
			[]uint16{opMovRR32, opAdd32RI, opShl32RI, opMovRI}, []bool{false, true, false, false}}, // shl: live at the end
		{"a shift by a zero count changes no flags and stays generic",
			[]byte{0x48, 0xc1, 0xe0, 0x00}, // shl rax, 0
			[]uint16{opShift}, []bool{false}},
		{"byte and 16-bit ALU stay generic",
			[]byte{0x00, 0xd8, 0x66, 0x01, 0xd8}, // add al, bl ; add ax, bx
			[]uint16{opALU, opALU}, []bool{false, false}},
		{"FS-relative and 32-bit addresses stay generic",
			[]byte{0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0, 0x67, 0x8b, 0x06}, // mov rax, fs:[0x28] ; mov eax, [esi]
			[]uint16{opMov, opMov}, []bool{false, false}},
		{"loads, stores, lea, push and pop",
			[]byte{0x48, 0x8b, 0x44, 0x8e, 0x10, 0x89, 0x07, 0x48, 0x8d, 0x04, 0x49, 0x53, 0x5b, 0x0f, 0xb6, 0x07},
			[]uint16{opLoad64, opStore32, opLea64, opPushR, opPopR, opLoadZx8}, []bool{false, false, false, false, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := optimize(decodeSeq(t, tc.code))
			require.Len(t, out, len(tc.ops))
			for i := range out {
				assert.Equal(t, tc.ops[i], out[i].op, "instruction %d (%s)", i, out[i].String())
				assert.Equal(t, tc.dead[i], out[i].hint&hFlagsDead != 0, "dead flags of instruction %d (%s)", i, out[i].String())
			}
		})
	}
}

// A RIP-relative operand gets a displacement relative to the block start in the fast form,
// and keeps the architectural one in the raw form.
func TestRIPRelativeFastForm(t *testing.T) {
	// nop ; mov rax, [rip+0x100]
	raw := decodeSeq(t, []byte{0x90, 0x48, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00})
	out := optimize(raw)
	assert.Equal(t, opLoad64, out[1].op)
	assert.Equal(t, int64(0x100), raw[1].disp)
	assert.Equal(t, int64(0x100+1+7), out[1].disp, "disp + offset + length")
}
