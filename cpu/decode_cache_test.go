package cpu

import (
	"debug/elf"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/arch/x86/x86asm"
)

// elfText returns up to n bytes of the .text section of the ELF file name, from its start.
func elfText(t testing.TB, name string, n int) []byte {
	f, err := elf.Open(name)
	require.NoError(t, err)
	defer f.Close()
	s := f.Section(".text")
	require.NotNil(t, s, "no .text in %s", name)
	n = min(n, int(s.Size))
	text := make([]byte, n)
	_, err = s.ReadAt(text, 0)
	require.NoError(t, err)
	return text
}

// A block that begins inside a cached block takes that block's instructions from the
// branch target on instead of decoding them again: the result is the same raw and
// optimized instructions a fresh decode gives, at every instruction boundary of a static
// glibc program's code (its SSE and AVX string functions included).
func TestBlockFromInsideACachedBlockIsAsDecoded(t *testing.T) {
	text := elfText(t, "../testprogs/bin/glibc_rp_uffd", 256<<10)
	fresh := &CPU{mem: text}
	c := &CPU{mem: text}
	c.code.init()
	checked := 0
	for pa := uint64(0); pa < uint64(len(text)); {
		if pa&0xfff > 4096-maxInstLen {
			pa = pa | 0xfff + 1
			continue
		}
		b := c.decodeBlock(pa, pa)
		c.code.byFrame[pa>>12] = append(c.code.byFrame[pa>>12], b)
		for _, in := range b.raw[1:] {
			at := pa + uint64(in.off)
			got, want := c.decodeBlock(at, at), fresh.decodeBlock(at, at)
			require.Equal(t, want.raw, got.raw, "raw instructions of the block at %#x", at)
			require.Equal(t, want.insts, got.insts, "optimized instructions of the block at %#x", at)
			require.Equal(t, want.size, got.size)
			require.Equal(t, len(want.links), len(got.links))
			checked++
		}
		pa += uint64(b.size)
	}
	require.Less(t, c.stats.InsnsDecoded, fresh.stats.InsnsDecoded/4, "the suffixes were reused")
	t.Logf("%d blocks checked", checked)
}

// The fast decoder gives what x86asm and translate give, at every byte offset of a static
// glibc program's code (instructions in and out of step, and bytes that are no
// instruction) and for random bytes; and it knows most instructions of real code.
func TestFastDecodeIsAsDecoded(t *testing.T) {
	text := elfText(t, fastDecodeCorpus, 1<<30)
	fast, checked := 0, 0
	check := func(code []byte) {
		t.Helper()
		var got inst
		if hintNOP(code) > 0 || !fastDecode(code, &got) {
			return // decode does not ask the fast decoder
		}
		fast++
		var x86 decoder
		x, err := x86asm.Decode(code, 64)
		require.NoError(t, err, "% x: the fast decoder took bytes x86asm does not", code)
		require.NotZero(t, x.Op, "% x", code)
		require.LessOrEqual(t, x.Len, len(code))
		x86.x = x
		translate(&x86.in, &x86.x)
		require.Equal(t, x86.in, got, "% x (%v)", code, x)
	}
	for i := range text {
		check(text[i:min(i+maxInstLen, len(text))])
		checked++
	}
	require.Greater(t, fast, checked/3, "the fast decoder knew most of it")
	t.Logf("%d of %d offsets decoded fast", fast, checked)
	rng := uint64(0x9e3779b97f4a7c15)
	buf := make([]byte, maxInstLen)
	for i := 0; i < 100_000; i++ {
		for j := range buf {
			rng ^= rng << 13
			rng ^= rng >> 7
			rng ^= rng << 17
			buf[j] = byte(rng >> 32)
			if j < 3 && rng&3 == 0 { // REX, 0F and the opcodes it knows, often
				buf[j] = []byte{0x48, 0x41, 0x0f, 0x40, 0x4c, 0x8b, 0x89, 0xff}[rng>>8&7]
			}
		}
		check(buf[:1+rng>>40%maxInstLen])
	}
}

var fastDecodeCorpus = "../testprogs/bin/glibc_rp_uffd"

// Blocks' instructions come from chunks once a program has decoded smallCode of them: each
// block gets its own zeroed memory, never shared with another block.
func TestInstructionMemoryIsNotShared(t *testing.T) {
	var cc codeCache
	var all [][]inst
	for n := 1; cc.carved < smallCode+3*chunkBytes/40; n = n%128 + 1 {
		s := cc.allocInsts(n)
		require.Len(t, s, n)
		require.Equal(t, n, cap(s))
		for i := range s {
			require.Zero(t, s[i])
			s[i].imm = uint64(len(all))
		}
		all = append(all, s)
	}
	for k, s := range all {
		for i := range s {
			require.Equal(t, uint64(k), s[i].imm, "block %d's instructions were overwritten", k)
		}
	}
}
