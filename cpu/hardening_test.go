package cpu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
)

// A near branch to a non-canonical address raises #GP(0) on the branch itself, which has
// no effect: RIP at the branch, nothing pushed or popped, RCX of LOOP unchanged (SDM Vol. 2A
// CALL, JMP, Jcc, LOOP; Vol. 2B RET). A canonical target that is not mapped is a #PF at the
// target, after the branch.
func TestBranchToNonCanonicalIsPrecise(t *testing.T) {
	const bad = 0x0000_8000_0000_0000
	for _, tc := range []struct {
		name string
		code []byte // RAX holds the non-canonical target
	}{
		{"call rax", []byte{0xff, 0xd0}},
		{"jmp rax", []byte{0xff, 0xe0}},
		{"call [rsp]", []byte{0x50, 0xff, 0x14, 0x24}}, // push rax; call [rsp]
		{"ret", []byte{0x50, 0xc3}},                    // push rax; ret
		{"ret 8", []byte{0x50, 0xc2, 0x08, 0x00}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := newTestMachine(t)
			r := regsWith(map[int]uint64{RAX: bad})
			trap := tm.run(tc.code, &r, nil, 10)
			require.Equal(t, TrapException, trap.Kind, trap.String())
			require.Equal(t, uint8(VecGP), trap.Vector, trap.String())
			branchAt := uint64(hostcpu.CodeAddr)
			sp := uint64(hostcpu.EntryRSP)
			if tc.code[0] == 0x50 { // the push retired first
				branchAt++
				sp -= 8
			}
			assert.Equal(t, branchAt, trap.RIP, "RIP at the branch")
			var s State
			tm.cpu.Save(&s)
			assert.Equal(t, sp, s.GPR[RSP], "nothing pushed or popped")
			assert.Equal(t, branchAt, s.RIP)
		})
	}
}

// A relative branch whose target wraps past the canonical boundary, LOOP included, faults
// on the branch with RCX unchanged. The code sits in the last page below the boundary.
func TestRelativeBranchPastTheLowerHalfFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		code []byte
	}{
		{"jmp rel32", []byte{0xe9, 0x00, 0x10, 0x00, 0x00}},
		{"call rel32", []byte{0xe8, 0x00, 0x10, 0x00, 0x00}},
		{"jz rel32 (taken)", []byte{0x31, 0xc0, 0x0f, 0x84, 0x00, 0x10, 0x00, 0x00}}, // xor eax,eax; jz
		{"loop rel8", []byte{0xe2, 0x7f}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := newTestMachine(t)
			const top = 0x0000_7fff_ffff_f000
			tm.mapPage(top, 0x2|0x4)
			code := append(make([]byte, 0xff0), tc.code...) // near the end of the page
			tm.writeVirt(top, code)
			var s State
			s.RFLAGS = InitialRFLAGS
			s.RIP = top + 0xff0
			s.GPR[RCX] = 5
			s.GPR[RSP] = hostcpu.EntryRSP
			tm.cpu.Load(&s)
			trap := tm.cpu.Run(10)
			require.Equal(t, uint8(VecGP), trap.Vector, trap.String())
			tm.cpu.Save(&s)
			branchAt := uint64(top + 0xff0)
			if tc.code[0] == 0x31 {
				branchAt += 2
			}
			assert.Equal(t, branchAt, trap.RIP)
			assert.Equal(t, uint64(5), s.GPR[RCX], "LOOP's count unchanged")
			assert.Equal(t, uint64(hostcpu.EntryRSP), s.GPR[RSP], "CALL pushed nothing")
		})
	}
}

// The hint-NOP space 0F 18 - 0F 1F (SDM Vol. 2B NOP, Vol. 2 Table A-3: group 16 and the
// reserved NOPs): every ModRM form decodes to a NOP of the right length, except the four
// prefetches of 0F 18 with a memory operand, which are prefetch hints (also no-ops here).
// The host runs a sample of them without effect.
func TestHintNOPSpace(t *testing.T) {
	for op := byte(0x18); op <= 0x1f; op++ {
		for modrm := 0; modrm < 256; modrm++ {
			code := []byte{0x0f, op, byte(modrm)}
			full := append(append([]byte{}, code...), make([]byte, 16)...)
			n := 2 + modrmLen(full[2:])
			in, ok := decodeOne(full)
			require.True(t, ok)
			if op == 0x18 && modrm>>6 != 3 && modrm>>3&7 < 4 {
				continue // PREFETCHh
			}
			require.Equal(t, opNop, in.op, "0f %02x %02x", op, modrm)
			require.Equal(t, n, int(in.len), "0f %02x %02x", op, modrm)
		}
	}
	for _, code := range [][]byte{{0x0f, 0x1f, 0xc8}, {0x0f, 0x1f, 0x38}, {0x0f, 0x18, 0xc0}, {0x0f, 0x18, 0xf8},
		{0x0f, 0x19, 0xc1}, {0x0f, 0x1c, 0x00}, {0x0f, 0x1d, 0x3f}, {0x0f, 0x1f, 0x7c, 0x24, 0x08}} {
		host := regsWith(map[int]uint64{RAX: 0x1234, RDI: 0x10})
		require.NoError(t, hostRun(t, append(append([]byte{}, code...), 0xc3), &host, make([]byte, 64)), "% x", code)
		emu := regsWith(map[int]uint64{RAX: 0x1234, RDI: 0x10})
		trap := newTestMachine(t).run(append(append([]byte{}, code...), 0xc3), &emu, nil, 10)
		require.True(t, returned(trap), "% x: %s", code, trap)
		assert.Equal(t, host.GPR, emu.GPR, "% x", code)
	}
}

// The code cache holds at most maxCachedInsts decoded instructions, whatever code runs:
// entering a page of NOPs at every byte offset decodes a block of up to 64 instructions at
// each, and the cache, once full, is dropped and filled again (issue 11 item 8: host
// memory bounded however the guest behaves).
func TestCodeCacheIsBounded(t *testing.T) {
	tm := newTestMachine(t)
	const pages = 3 // 12,000 blocks of 64 NOPs: more than the cache holds
	nops := make([]byte, pages*4096)
	for i := range nops {
		nops[i] = 0x90
	}
	tm.writeVirt(hostcpu.CodeAddr, nops)
	var s State
	s.RFLAGS = InitialRFLAGS
	s.GPR[RSP] = hostcpu.EntryRSP
	for off := uint64(0); off < pages*4096-64; off++ {
		s.RIP = hostcpu.CodeAddr + off
		tm.cpu.Load(&s)
		tm.cpu.fetchBlock()
		require.LessOrEqual(t, tm.cpu.code.insts, maxCachedInsts)
	}
	assert.NotZero(t, tm.cpu.Stats().CodeFlushes, "the cache filled and was dropped")
	n := 0
	for _, b := range tm.cpu.code.blocks {
		n += len(b.raw)
	}
	assert.Equal(t, n, tm.cpu.code.insts, "the count is the cached blocks' instructions")
	// And code still runs after a flush.
	r := regsWith(map[int]uint64{RAX: 7})
	trap := tm.run([]byte{0x48, 0xff, 0xc0, 0xc3}, &r, nil, 10) // inc rax; ret
	require.True(t, returned(trap), trap.String())
	assert.Equal(t, uint64(8), r.GPR[RAX])
}
